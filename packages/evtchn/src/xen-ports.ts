/**
 * The xen event-channel driver: this domain's ports on real Xen, through
 * libxenevtchn in the separate addon vpio_evtchn_xen.node (loaded only
 * here, so host mode never needs a Xen library).
 *
 *   const evtchn = openXenEventChannels();          // XEN_UNAVAILABLE without /dev/xen/evtchn
 *   const p = evtchn.bindInterdomain(domid, port);  // dom0: the port a frontend offered
 *   evtchn.notify(p); await evtchn.wait(p, 1000);
 *   evtchn.end(p).rxFd                              // its own pollable descriptor
 *   evtchn.close(p);
 *
 * Each port is its own xenevtchn handle (its own descriptor with one port
 * bound), so every end is pollable on its own, as a host end is. Its
 * ChannelEnd has mode 'xen', rxFd === txFd, and `port`. Differences from
 * the host driver, all Xen's:
 * - a port from allocUnbound() has its end at once (Xen does not tell when
 *   the peer binds: notifications before that are dropped by Xen);
 * - notify() never says 'coalesced', and cannot see a closed peer (Xen
 *   drops notifications on a port whose peer unbound): learn a peer's death
 *   from xenstore (@releaseDomain, the vif's state);
 * - pending() consumes = reads the fired port and unmasks it; a port that is
 *   never consumed stays masked (further notifications coalesce into one).
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { loadAddon } from '@vpio/addon';
import { ErrnoError, expectInteger } from '@vpio/errors';
import { ChannelEnd, type EndOps, type NotifyResult } from './channel-end.js';
import { EvtchnError } from './evtchn-error.js';
import { DEFAULT_MAX_PORTS, MAX_DOMID } from './host-broker.js';
import type { EvtchnPorts } from './ports.js';

/** The device every xen port opens. */
export const XEN_EVTCHN_DEVICE = '/dev/xen/evtchn';

const EINVAL = 22;
const ENOENT = 2;
const ENOSPC = 28;
const ESRCH = 3;

/** The raw port object of binding/evtchn_xen_addon.cc; every call returns 0/count or -errno. */
interface NativeXenPort {
  readonly fd: number;
  readonly port: number;
  readonly remoteDomid: number;
  notify(): number;
  consume(): number;
  close(): number;
}

interface NativeEvtchnXenAddon {
  allocUnbound(remoteDomid: number): NativeXenPort | number;
  bindInterdomain(remoteDomid: number, remotePort: number): NativeXenPort | number;
}

let addon: NativeEvtchnXenAddon | undefined;

function loadXenNative(): NativeEvtchnXenAddon {
  addon ??= loadAddon<NativeEvtchnXenAddon>({
    packageName: '@vpio/evtchn',
    addonName: 'vpio_evtchn_xen',
    fromUrl: import.meta.url,
    code: 'EVTCHN_XEN_ADDON_MISSING',
  });
  return addon;
}

/**
 * Throws XEN_UNAVAILABLE unless /dev/xen/evtchn exists and is readable and
 * writable by this process; the message says why it is not.
 */
export function checkXenEvtchnDevice(): void {
  try {
    accessSync(XEN_EVTCHN_DEVICE, constants.R_OK | constants.W_OK);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    let xen = '';
    try {
      xen = readFileSync('/sys/hypervisor/type', 'utf8').trim();
    } catch {
      // no /sys/hypervisor: not under a hypervisor that says so
    }
    const why =
      code === 'ENOENT'
        ? xen === 'xen'
          ? `this is a Xen domain, but ${XEN_EVTCHN_DEVICE} is missing: load the module (modprobe xen-evtchn)`
          : `${XEN_EVTCHN_DEVICE} is missing: this is not a Xen domain (no Xen hypervisor: /sys/hypervisor/type is not "xen")`
        : `${XEN_EVTCHN_DEVICE} is not usable (${code ?? 'error'}): the xen driver needs read-write access (root)`;
    throw new EvtchnError('XEN_UNAVAILABLE', `the xen event-channel driver is unavailable: ${why}`, { cause });
  }
}

function xenOps(p: NativeXenPort): EndOps {
  return {
    mode: 'xen',
    port: p.port,
    notify: () => p.notify(),
    drain: () => p.consume(),
    close: () => {
      p.close(); // unbind + close; the descriptor is gone either way
    },
  };
}

export interface XenEventChannelsOptions {
  /** Ports this handle may hold at once (each is a descriptor); default 1024. */
  readonly maxPorts?: number;
}

/** This domain's event channels on Xen (the xen driver's EvtchnPorts). */
export class XenEventChannels implements EvtchnPorts {
  readonly mode = 'xen' as const;
  readonly maxPorts: number;
  readonly #native: NativeEvtchnXenAddon;
  readonly #ends = new Map<number, ChannelEnd>();

  /** @internal use openXenEventChannels() */
  constructor(native: NativeEvtchnXenAddon, maxPorts: number) {
    this.#native = native;
    this.maxPorts = maxPorts;
  }

  /**
   * Offers a new port to `remoteDomid` (a frontend's side); returns the
   * local port, whose end exists at once. Throws EVTCHN_LIMIT_PORTS,
   * EVTCHN_NO_SUCH_PORT (no such domain), XEN_UNAVAILABLE, EVTCHN_SYSCALL.
   */
  allocUnbound(remoteDomid: number): number {
    const remote = expectInteger('remoteDomid', remoteDomid, 0, MAX_DOMID);
    this.#checkRoom();
    const r = this.#native.allocUnbound(remote);
    if (typeof r === 'number') throw portError(r, `allocUnbound(${remote})`, remote, undefined);
    return this.#adopt(r);
  }

  /**
   * Binds the port `remotePort` that `remoteDomid` offered to this domain
   * (a backend's side); returns the local port, pending once (spurious:
   * re-check your ring). Throws EVTCHN_PERM (not offered to us, already
   * bound, or no such port: Xen says EINVAL for all three),
   * EVTCHN_NO_SUCH_PORT (no such domain), EVTCHN_LIMIT_PORTS,
   * XEN_UNAVAILABLE, EVTCHN_SYSCALL.
   */
  bindInterdomain(remoteDomid: number, remotePort: number): number {
    const remote = expectInteger('remoteDomid', remoteDomid, 0, MAX_DOMID);
    const rport = expectInteger('remotePort', remotePort, 1, 0xffffffff);
    this.#checkRoom();
    const r = this.#native.bindInterdomain(remote, rport);
    if (typeof r === 'number') throw portError(r, `bindInterdomain(${remote}, ${rport})`, remote, rport);
    return this.#adopt(r);
  }

  notify(port: number): NotifyResult {
    return this.end(port).notify();
  }

  wait(port: number, timeoutMs: number): Promise<number> {
    return this.end(port).wait(expectInteger('timeoutMs', timeoutMs, 0, 2 ** 31 - 1));
  }

  pending(port: number): number {
    return this.end(port).drain();
  }

  unmask(port: number): void {
    this.end(port);
  }

  fd(port: number): number {
    return this.end(port).rxFd;
  }

  /** The port's end. Throws EVTCHN_NO_SUCH_PORT. */
  end(port: number): ChannelEnd {
    const e = this.#ends.get(port);
    if (e === undefined) throw new EvtchnError('EVTCHN_NO_SUCH_PORT', `this domain has no open xen port ${String(port)}`);
    return e;
  }

  /** Unbinds and closes the port's handle; the peer's port becomes unbound. Throws EVTCHN_NO_SUCH_PORT. */
  close(port: number): void {
    this.end(port).close();
    this.#ends.delete(port);
  }

  closeAll(): void {
    for (const port of [...this.#ends.keys()]) this.close(port);
  }

  [Symbol.dispose](): void {
    this.closeAll();
  }

  get ports(): number[] {
    return [...this.#ends.keys()].sort((a, b) => a - b);
  }

  #checkRoom(): void {
    if (this.#ends.size >= this.maxPorts) {
      throw new EvtchnError('EVTCHN_LIMIT_PORTS', `this handle holds ${this.#ends.size} xen ports, the limit is ${this.maxPorts}`);
    }
  }

  #adopt(p: NativeXenPort): number {
    const end = new ChannelEnd({ rxFd: p.fd, txFd: p.fd }, xenOps(p));
    this.#ends.set(p.port, end);
    return p.port;
  }
}

function portError(rc: number, what: string, remote: number, rport: number | undefined): Error {
  switch (-rc) {
    case ENOENT:
      return new EvtchnError('XEN_UNAVAILABLE', `${what}: ${XEN_EVTCHN_DEVICE} disappeared (the module was unloaded?)`);
    case ENOSPC:
      return new EvtchnError('EVTCHN_LIMIT_PORTS', `${what}: this domain has no free event channel (Xen's max_event_channels)`);
    case ESRCH:
      return new EvtchnError('EVTCHN_NO_SUCH_PORT', `${what}: Xen has no domain ${remote}`);
    case EINVAL:
      if (rport !== undefined) {
        return new EvtchnError(
          'EVTCHN_PERM',
          `${what}: port ${rport} of domain ${remote} is not an unbound port offered to this domain (no such port, offered to another domain, or already bound; Xen: EINVAL)`,
        );
      }
      return new ErrnoError('EVTCHN_SYSCALL', rc, what);
    default:
      return new ErrnoError('EVTCHN_SYSCALL', rc, what);
  }
}

/**
 * This domain's event channels on Xen. Throws XEN_UNAVAILABLE when
 * /dev/xen/evtchn is missing (not a Xen domain, module not loaded),
 * EVTCHN_XEN_ADDON_MISSING when vpio_evtchn_xen.node was not built.
 */
export function openXenEventChannels(options: XenEventChannelsOptions = {}): XenEventChannels {
  const maxPorts = expectInteger('options.maxPorts', options.maxPorts ?? DEFAULT_MAX_PORTS, 1, 1 << 20);
  checkXenEvtchnDevice();
  return new XenEventChannels(loadXenNative(), maxPorts);
}
