/**
 * The event-channel driver interface: a domain's handle on its ports, Xen's
 * xenevtchn API. The host driver's EventChannels (host-broker.ts, one per
 * domain of an in-process HostEvtchnBroker) and the xen driver's
 * XenEventChannels (xen-ports.ts, this domain's ports on real Xen)
 * implement it, so code above (the netback) never branches on the mode.
 *
 * Every bound port has a ChannelEnd (end(port)); its `mode` says how a data
 * plane drives it (README: "What the switch needs from a channel end").
 */
import type { ChannelEnd, EvtchnMode, NotifyResult } from './channel-end.js';

export interface EvtchnPorts {
  readonly mode: EvtchnMode;
  /** Offers a new port to `remoteDomid`; returns the local port. */
  allocUnbound(remoteDomid: number): number;
  /** Binds the port `remotePort` that `remoteDomid` offered to this domain; returns the local port (pending once). */
  bindInterdomain(remoteDomid: number, remotePort: number): number;
  /** Signals the peer of `port` without blocking. */
  notify(port: number): NotifyResult;
  /** Waits without blocking the event loop; resolves the count consumed, 0 on timeout. */
  wait(port: number, timeoutMs: number): Promise<number>;
  /** Consumes what is pending on `port` (host: drains; xen: pending + unmask); returns how many. */
  pending(port: number): number;
  /** Re-enables delivery on `port` (host: nothing to do; xen: pending() already unmasks, this is harmless). */
  unmask(port: number): void;
  /** The pollable descriptor of `port` (POLLIN when something is pending). */
  fd(port: number): number;
  /** The port's end (notify, drain, wait; its descriptors for your own loop). */
  end(port: number): ChannelEnd;
  /** Closes a port; the peer's side is told (host: EVTCHN_CLOSED; xen: its port becomes unbound). */
  close(port: number): void;
  /** Closes every port. */
  closeAll(): void;
  /** Ports currently open, ascending. */
  readonly ports: number[];
}
