/**
 * The event-channel broker inside vpiod (host mode). Control types
 * 0x0201-0x0203 (ALLOC_UNBOUND, BIND_INTERDOMAIN, CLOSE; layouts in
 * control-protocol.ts and @vpio/guest include/vpio/domain_ctrl.h).
 *
 * vpiod only creates channels and hands ends out: no file description is
 * ever shared between a tenant and vpiod.
 *
 *   ALLOC_UNBOUND(remote)   creates the channel's two links now
 *                           (@vpio/evtchn createChannelPair, both ends
 *                           pending once); the caller gets its own end at
 *                           once, vpiod holds the other end for `remote`
 *   BIND_INTERDOMAIN(r, p)  checks p was offered by r to the caller, hands
 *                           the held end to the caller and closes vpiod's
 *                           copies right after the reply
 *   CLOSE(port)             forgets the port (an unbound port's held end is
 *                           closed); the guest closes its own ends, so the
 *                           peer sees EPIPE/hang-up from the kernel
 *
 * dom0 (vpiod itself, e.g. the netback) takes part through the same
 * bookkeeping with allocUnbound()/bindInterdomain() below; its ends stay in
 * this process. A tenant's ends never do: whatever a tenant does to its
 * descriptors (O_NONBLOCK cleared, filled, drained) cannot block vpiod,
 * which only notifies/drains its own dom0 ends, never blocking.
 *
 * Death of a domain: its ports are forgotten and the held ends of its
 * unbound ports closed; its bound ends die with its processes, so peers
 * see the close. Limits: `limits.eventChannels` ports per domain (ENOSPC).
 *
 * Threading: the vpiod's JS thread; every handler is synchronous.
 */
import { ArgumentError, VpioError, expectInteger } from '@vpio/errors';
import { createChannelPair, type ChannelEnd, type NotifyResult } from '@vpio/evtchn';
import { CTRL_BROKER, DOMID_SELF, readU32s, u32s, type ControlMessage } from './control-protocol.js';
import type { Domain } from './domain.js';
import { DOMID_MAX } from './domid-allocator.js';
import { errnoReply, ERRNO, type BrokerHost, type ControlReply } from './broker-host.js';

type Port =
  | { readonly kind: 'unbound'; readonly remote: number; readonly held: ChannelEnd }
  | { readonly kind: 'bound'; readonly remote: number; readonly remotePort: number };

interface DomainPorts {
  readonly ports: Map<number, Port>;
  readonly limit: number;
}

export class EvtchnBroker {
  readonly #host: BrokerHost;
  readonly #domains = new Map<number, DomainPorts>();
  /** dom0's own ends, by dom0 port. */
  readonly #dom0Ends = new Map<number, ChannelEnd>();
  readonly #dom0Limit: number;

  /** @internal created by Vpiod */
  constructor(host: BrokerHost, dom0Limit: number) {
    this.#host = host;
    this.#dom0Limit = dom0Limit;
  }

  /** The control handlers, by type. */
  handlers(): Array<[number, (domain: Domain, message: ControlMessage, fds: number[]) => ControlReply]> {
    const noFds = (fds: number[], body: () => ControlReply): ControlReply => {
      for (const fd of fds) this.#host.closeFd(fd);
      return fds.length > 0 ? errnoReply(ERRNO.EBADF) : body();
    };
    return [
      [CTRL_BROKER.EVTCHN_ALLOC_UNBOUND, (d, m, fds) => noFds(fds, () => this.#allocMsg(d, m))],
      [CTRL_BROKER.EVTCHN_BIND_INTERDOMAIN, (d, m, fds) => noFds(fds, () => this.#bindMsg(d, m))],
      [CTRL_BROKER.EVTCHN_CLOSE, (d, m, fds) => noFds(fds, () => this.#closeMsg(d, m))],
    ];
  }

  /** Ports `domid` holds (unbound and bound), ascending. */
  ports(domid: number): number[] {
    return [...(this.#domains.get(domid)?.ports.keys() ?? [])].sort((a, b) => a - b);
  }

  /** dom0 offers a port to a live domain; returns the dom0 port. Throws DOMAIN_NOT_FOUND, EVTCHN_LIMIT_PORTS. */
  allocUnbound(remoteDomid: number): number {
    const remote = expectInteger('remoteDomid', remoteDomid, 1, DOMID_MAX);
    const r = this.#alloc(0, remote);
    if (typeof r === 'number') throw this.#error(r, `allocUnbound(${remote})`);
    this.#dom0Ends.set(r.port, r.mine);
    return r.port;
  }

  /** dom0 binds a port `remoteDomid` offered to it; returns the dom0 port. Throws DOMAIN_NOT_FOUND, EVTCHN_NO_SUCH_PORT, EVTCHN_PERM, EVTCHN_LIMIT_PORTS. */
  bindInterdomain(remoteDomid: number, remotePort: number): number {
    const remote = expectInteger('remoteDomid', remoteDomid, 1, DOMID_MAX);
    const rport = expectInteger('remotePort', remotePort, 1, 0xffffffff);
    const r = this.#bind(0, remote, rport);
    if (typeof r === 'number') throw this.#error(r, `bindInterdomain(${remote}, ${rport})`);
    this.#dom0Ends.set(r.port, r.end);
    return r.port;
  }

  /** dom0's end of a port (notify, wait, drain; its rxFd for your own loop). Throws EVTCHN_NO_SUCH_PORT. */
  end(port: number): ChannelEnd {
    const e = this.#dom0Ends.get(port);
    if (!e) throw new VpioError('EVTCHN_NO_SUCH_PORT', `dom0 has no port ${String(port)} with an end (unknown or closed)`);
    return e;
  }

  /** Notifies the peer of a dom0 port; never blocks ('coalesced' when the peer has not drained). */
  notify(port: number): NotifyResult {
    return this.end(port).notify();
  }

  /** Closes a dom0 port. Throws EVTCHN_NO_SUCH_PORT. */
  close(port: number): void {
    const rc = this.#close(0, expectInteger('port', port, 1, 0xffffffff));
    if (rc !== 0) throw this.#error(rc, `close(${port})`);
  }

  /** Everything `domid` held goes (it is dead). Called by vpiod before @releaseDomain. */
  releaseDomain(domid: number): void {
    const d = this.#domains.get(domid);
    if (!d) return;
    for (const p of d.ports.values()) if (p.kind === 'unbound') p.held.close();
    this.#domains.delete(domid);
  }

  /** Closes every port, dom0's included. */
  closeAll(): void {
    for (const id of [...this.#domains.keys()]) this.releaseDomain(id);
    for (const e of this.#dom0Ends.values()) e.close();
    this.#dom0Ends.clear();
  }

  #state(domid: number, limit: number): DomainPorts {
    let d = this.#domains.get(domid);
    if (!d) {
      d = { ports: new Map(), limit };
      this.#domains.set(domid, d);
    }
    return d;
  }

  #limitOf(domain: Domain | 0): number {
    return domain === 0 ? this.#dom0Limit : domain.limits.eventChannels;
  }

  static #newPort(d: DomainPorts): number {
    let port = 1;
    while (d.ports.has(port)) port++;
    return port;
  }

  #isPeer(domid: number): boolean {
    return domid === 0 || (domid <= DOMID_MAX && this.#host.isLive(domid));
  }

  #alloc(caller: number, remote: number, limit = caller === 0 ? this.#dom0Limit : 0): { port: number; mine: ChannelEnd } | number {
    if (!this.#isPeer(remote)) return ERRNO.ESRCH;
    const d = this.#state(caller, limit);
    if (d.ports.size >= d.limit) return ERRNO.ENOSPC;
    let mine: ChannelEnd;
    let held: ChannelEnd;
    try {
      [mine, held] = createChannelPair();
    } catch {
      return ERRNO.ENOSPC; // EMFILE/ENFILE: out of descriptors is out of space
    }
    const port = EvtchnBroker.#newPort(d);
    d.ports.set(port, { kind: 'unbound', remote, held });
    return { port, mine };
  }

  #bind(caller: number, remote: number, rport: number, limit = caller === 0 ? this.#dom0Limit : 0): { port: number; end: ChannelEnd } | number {
    if (!this.#isPeer(remote)) return ERRNO.ESRCH;
    const r = this.#domains.get(remote);
    const offered = r?.ports.get(rport);
    if (!r || !offered) return ERRNO.ENOENT;
    if (offered.kind !== 'unbound' || offered.remote !== caller) return ERRNO.EPERM;
    const d = this.#state(caller, limit);
    if (d.ports.size >= d.limit) return ERRNO.ENOSPC;
    const port = EvtchnBroker.#newPort(d);
    d.ports.set(port, { kind: 'bound', remote, remotePort: rport });
    r.ports.set(rport, { kind: 'bound', remote: caller, remotePort: port });
    return { port, end: offered.held };
  }

  #close(caller: number, port: number): number {
    const d = this.#domains.get(caller);
    const p = d?.ports.get(port);
    if (!d || !p) return ERRNO.ENOENT;
    if (p.kind === 'unbound') p.held.close();
    d.ports.delete(port);
    if (caller === 0) {
      this.#dom0Ends.get(port)?.close();
      this.#dom0Ends.delete(port);
    }
    return 0;
  }

  /** The caller's end goes out in the reply; vpiod's copies close right after it. */
  static #handOver(port: number, end: ChannelEnd): ControlReply {
    return { payload: u32s(port), fds: [end.rxFd, end.txFd], keepFds: true, after: () => end.close() };
  }

  #allocMsg(domain: Domain, m: ControlMessage): ControlReply {
    const f = readU32s(m.payload, 2);
    if (!f) return errnoReply(ERRNO.EINVAL);
    const [dom, remote] = f as [number, number];
    if (dom !== DOMID_SELF && dom !== domain.domid) return errnoReply(ERRNO.EPERM);
    const r = this.#alloc(domain.domid, remote, this.#limitOf(domain));
    return typeof r === 'number' ? errnoReply(r) : EvtchnBroker.#handOver(r.port, r.mine);
  }

  #bindMsg(domain: Domain, m: ControlMessage): ControlReply {
    const f = readU32s(m.payload, 2);
    if (!f) return errnoReply(ERRNO.EINVAL);
    const [remote, rport] = f as [number, number];
    const r = this.#bind(domain.domid, remote === DOMID_SELF ? domain.domid : remote, rport, this.#limitOf(domain));
    return typeof r === 'number' ? errnoReply(r) : EvtchnBroker.#handOver(r.port, r.end);
  }

  #closeMsg(domain: Domain, m: ControlMessage): ControlReply {
    const f = readU32s(m.payload, 1);
    if (!f) return errnoReply(ERRNO.EINVAL);
    const rc = this.#close(domain.domid, f[0]!);
    return rc === 0 ? { payload: Buffer.alloc(0) } : errnoReply(rc);
  }

  #error(errno: number, what: string): VpioError {
    switch (errno) {
      case ERRNO.ESRCH:
        return new VpioError('DOMAIN_NOT_FOUND', `${what}: no live domain`);
      case ERRNO.ENOENT:
        return new VpioError('EVTCHN_NO_SUCH_PORT', `${what}: no such port`);
      case ERRNO.EPERM:
        return new VpioError('EVTCHN_PERM', `${what}: the port is not offered to dom0 (offered to another domain, or bound)`);
      case ERRNO.ENOSPC:
        return new VpioError('EVTCHN_LIMIT_PORTS', `${what}: dom0 holds its maximum of ${this.#dom0Limit} ports (or descriptors ran out)`);
      default:
        return new ArgumentError('port', 'a port', what);
    }
  }
}
