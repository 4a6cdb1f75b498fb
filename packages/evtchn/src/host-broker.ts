/**
 * Xen's event-channel API over the host driver, for domains living in this
 * process (tests, tools, and the model vpiod's broker follows: vpiod will
 * keep this port bookkeeping and pass each domain its ChannelEnd
 * descriptors over the domain's control socket instead).
 *
 *   const broker = new HostEvtchnBroker();
 *   const dom1 = broker.domain(1), dom2 = broker.domain(2);
 *   const p1 = dom1.allocUnbound(2);          // dom1 offers a port to dom2
 *   const p2 = dom2.bindInterdomain(1, p1);   // dom2 binds it
 *   dom1.notify(p1); await dom2.wait(p2, 1000);
 *
 * Semantics kept simple:
 * - ports are per domain, small integers from 1 (0 is never a valid port);
 * - a port offered by allocUnbound() can be bound only by the domain it was
 *   offered to (else EVTCHN_PERM, Xen's EPERM), and only once;
 * - binding creates the links and leaves both ports pending once;
 * - pending(port) drains and says how many notifications were pending;
 *   there is no separate mask bit: unmask(port) exists for API parity and
 *   does nothing (a host port is always unmasked: notifications arriving
 *   while nobody waits stay pending, coalesced);
 * - close(port) closes this side's descriptors; the peer sees EVTCHN_CLOSED.
 */
import { expectInteger } from '@vpio/errors';
import { ChannelEnd, createChannelPair, type NotifyResult } from './channel-end.js';
import { EvtchnError } from './evtchn-error.js';
import type { EvtchnPorts } from './ports.js';

/** Highest domid (Xen's DOMID_FIRST_RESERVED - 1). */
export const MAX_DOMID = 32751;

export const DEFAULT_MAX_PORTS = 1024;

type PortState =
  | { readonly kind: 'unbound'; readonly remoteDomid: number }
  | { readonly kind: 'bound'; readonly remoteDomid: number; readonly remotePort: number; readonly end: ChannelEnd };

/** Xen-like per-domain handle (xenevtchn_handle): the host driver's EvtchnPorts. */
export class EventChannels implements EvtchnPorts {
  readonly mode = 'host' as const;
  readonly #ports = new Map<number, PortState>();

  /** @internal created by HostEvtchnBroker.domain() */
  constructor(
    private readonly broker: HostEvtchnBroker,
    readonly domid: number,
    readonly maxPorts: number,
  ) {}

  /** Offers a new port to `remoteDomid`; returns the local port. Throws EVTCHN_LIMIT_PORTS. */
  allocUnbound(remoteDomid: number): number {
    this.broker._checkOpen();
    const remote = expectInteger('remoteDomid', remoteDomid, 0, MAX_DOMID);
    const port = this.#newPort();
    this.#ports.set(port, { kind: 'unbound', remoteDomid: remote });
    return port;
  }

  /**
   * Binds the port `remotePort` that `remoteDomid` offered to this domain;
   * returns the local port. Throws EVTCHN_NO_SUCH_PORT, EVTCHN_PERM (offered
   * to someone else, or already bound), EVTCHN_LIMIT_PORTS, EVTCHN_SYSCALL.
   */
  bindInterdomain(remoteDomid: number, remotePort: number): number {
    this.broker._checkOpen();
    const remote = this.broker._existing(expectInteger('remoteDomid', remoteDomid, 0, MAX_DOMID));
    const rport = expectInteger('remotePort', remotePort, 1, 0x7fffffff);
    const offered = remote === undefined ? undefined : remote.#ports.get(rport);
    if (remote === undefined || offered === undefined) {
      throw new EvtchnError('EVTCHN_NO_SUCH_PORT', `domain ${remoteDomid} has no port ${rport}`);
    }
    if (offered.kind !== 'unbound' || offered.remoteDomid !== this.domid) {
      throw new EvtchnError(
        'EVTCHN_PERM',
        `port ${rport} of domain ${remoteDomid} is ${offered.kind === 'unbound' ? `offered to domain ${offered.remoteDomid}` : 'already bound'}, not to domain ${this.domid}`,
      );
    }
    const port = this.#newPort();
    const [theirs, ours] = createChannelPair();
    remote.#ports.set(rport, { kind: 'bound', remoteDomid: this.domid, remotePort: port, end: theirs });
    this.#ports.set(port, { kind: 'bound', remoteDomid: remote.domid, remotePort: rport, end: ours });
    return port;
  }

  /** Signals the peer of `port` without blocking. Throws EVTCHN_NOT_BOUND, EVTCHN_CLOSED. */
  notify(port: number): NotifyResult {
    return this.#end(port).notify();
  }

  /** Waits for `port` (see ChannelEnd.wait): the count drained, 0 on timeout. */
  wait(port: number, timeoutMs: number): Promise<number> {
    return this.#end(port).wait(expectInteger('timeoutMs', timeoutMs, 0, 2 ** 31 - 1));
  }

  /** Drains `port`: how many notifications were pending (0: none). */
  pending(port: number): number {
    return this.#end(port).drain();
  }

  /** API parity with Xen; host ports are never masked (see the module comment). */
  unmask(port: number): void {
    this.#state(port);
  }

  /** A bound port's end (notify, drain, wait, its descriptors). Throws EVTCHN_NO_SUCH_PORT, EVTCHN_NOT_BOUND. */
  end(port: number): ChannelEnd {
    return this.#end(port);
  }

  /** The pollable descriptor of a bound port (for epoll in C or your own loop). */
  fd(port: number): number {
    return this.#end(port).rxFd;
  }

  /** Closes a port (this side's descriptors); the peer's port then reports EVTCHN_CLOSED. */
  close(port: number): void {
    const s = this.#state(port);
    if (s.kind === 'bound') s.end.close();
    this.#ports.delete(port);
  }

  /** Closes every port of this domain. */
  closeAll(): void {
    for (const port of [...this.#ports.keys()]) this.close(port);
  }

  /** Ports currently allocated (unbound or bound). */
  get ports(): number[] {
    return [...this.#ports.keys()].sort((a, b) => a - b);
  }

  #newPort(): number {
    if (this.#ports.size >= this.maxPorts) {
      throw new EvtchnError('EVTCHN_LIMIT_PORTS', `domain ${this.domid} holds ${this.#ports.size} ports, the limit is ${this.maxPorts}`);
    }
    let port = 1;
    while (this.#ports.has(port)) port++;
    return port;
  }

  #state(port: number): PortState {
    const s = this.#ports.get(port);
    if (s === undefined) throw new EvtchnError('EVTCHN_NO_SUCH_PORT', `domain ${this.domid} has no port ${String(port)}`);
    return s;
  }

  #end(port: number): ChannelEnd {
    const s = this.#state(port);
    if (s.kind !== 'bound') throw new EvtchnError('EVTCHN_NOT_BOUND', `port ${port} of domain ${this.domid} is not bound yet`);
    return s.end;
  }
}

/** The in-process broker: one EventChannels per domid. */
export class HostEvtchnBroker {
  readonly #domains = new Map<number, EventChannels>();
  readonly maxPortsPerDomain: number;
  #closed = false;

  constructor(options: { readonly maxPortsPerDomain?: number } = {}) {
    this.maxPortsPerDomain = expectInteger('options.maxPortsPerDomain', options.maxPortsPerDomain ?? DEFAULT_MAX_PORTS, 1, 1 << 20);
  }

  /** The handle of `domid` (created on first use). */
  domain(domid: number): EventChannels {
    this._checkOpen();
    const id = expectInteger('domid', domid, 0, MAX_DOMID);
    let d = this.#domains.get(id);
    if (d === undefined) {
      d = new EventChannels(this, id, this.maxPortsPerDomain);
      this.#domains.set(id, d);
    }
    return d;
  }

  /** Closes every port of `domid` (it is gone) and forgets it. */
  releaseDomain(domid: number): void {
    this.#domains.get(domid)?.closeAll();
    this.#domains.delete(domid);
  }

  /** Closes every port of every domain. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const id of [...this.#domains.keys()]) this.releaseDomain(id);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal */
  _existing(domid: number): EventChannels | undefined {
    return this.#domains.get(domid);
  }

  /** @internal */
  _checkOpen(): void {
    if (this.#closed) throw new EvtchnError('EVTCHN_BROKER_CLOSED', 'the event-channel broker is closed');
  }
}
