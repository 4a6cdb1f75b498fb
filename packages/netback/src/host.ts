/**
 * What netback needs from its surroundings, injected (netback never imports
 * @vpio/domain: vpiod imports netback). vpiod's parts fit as they are:
 * its dom0 XenstoreClient, `vpiod.grants` (a GrantBroker), `vpiod.evtchn`
 * (an EvtchnBroker) and the switch; tests pass a GrantTable, a static
 * channel table and a Switch driven by pollOnce().
 */
import type { Grant, GrantAccess } from '@vpio/grant';
import type { PortOptions } from '@vpio/switch';
import type { XenstoreOps, XenstoreWatch } from '@vpio/xenstore';

/** A privileged (dom0) xenstore connection: XenstoreClient. */
export interface NetbackXenstore {
  /** Runs `fn` in one transaction, retried on EAGAIN. */
  transaction<T>(fn: (tx: XenstoreOps) => Promise<T>): Promise<T>;
  watch(path: string): Promise<XenstoreWatch>;
  isDomainIntroduced(domid: number): Promise<boolean>;
}

/** dom0's grant table: GrantTable or vpiod.grants. Each region goes to exactly one grantee. */
export interface NetbackGrants {
  grantRegion(options: { readonly bytes: number; readonly grantee: number; readonly access: GrantAccess }): Grant;
}

/**
 * dom0's end of one channel as the switch needs it (@vpio/evtchn ChannelEnd
 * fits): its descriptors, and in xen mode (`mode: 'xen'`) the local Xen
 * port the switch notifies (`rxFd === txFd`, the end's own
 * /dev/xen/evtchn descriptor). Absent mode: a host end.
 */
export interface ChannelEndInfo {
  readonly rxFd: number;
  readonly txFd: number;
  readonly mode?: 'host' | 'xen';
  readonly port?: number;
}

/**
 * The switch's channel kind for a port whose TX channel end is `tx` and RX
 * channel end is `rx` (both of one mode: one driver binds them).
 */
export function channelKind(tx: ChannelEndInfo, rx: ChannelEndInfo): { channelKind?: 'xen'; txPort?: number; rxPort?: number } {
  if (tx.mode !== 'xen' && rx.mode !== 'xen') return {};
  if (tx.mode !== 'xen' || rx.mode !== 'xen' || tx.port === undefined || rx.port === undefined) {
    throw new Error('a vif\'s channel ends must both be xen ends with their local ports');
  }
  return { channelKind: 'xen', txPort: tx.port, rxPort: rx.port };
}

/** dom0's event channels: vpiod.evtchn (EvtchnBroker), or @vpio/evtchn's XenEventChannels in xen mode. */
export interface NetbackChannels {
  /** Binds the channel `remoteDomid` offered at `remotePort`; returns dom0's local port. Throws when it was not offered to dom0. */
  bindInterdomain(remoteDomid: number, remotePort: number): number;
  /** dom0's end of a bound port: the descriptors the switch waits on and notifies through. */
  end(port: number): ChannelEndInfo;
  /** Closes dom0's end. */
  close(port: number): void;
}

/**
 * The data plane: @vpio/switch's Switch. `group`: the new port joins the
 * group of port `group` (learning, flooding, hairpin and MAC limits per
 * group; RX to the group steered by a flow hash), how a vif's queues
 * become one switch port.
 */
export interface NetbackSwitch {
  addPort(options: PortOptions & { readonly group?: number }): number;
  /** Returns once no worker touches the port's memory. */
  removePort(id: number): void;
}

export interface NetbackHost {
  readonly xenstore: NetbackXenstore;
  readonly grants: NetbackGrants;
  readonly channels: NetbackChannels;
  readonly switch: NetbackSwitch;
}
