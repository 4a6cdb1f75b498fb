/**
 * What a handshake step decides. The step functions are pure: they read a
 * view of xenstore (plus the caller's own record) and return actions; the
 * caller does the I/O in order and calls the step again when xenstore or
 * its local state changes.
 */

/**
 * One xenstore directory level: key -> value; an absent key is absent. The
 * keys of a queue subdirectory (`queue-<i>/`, i below VIF_LIMITS.maxQueues)
 * appear as `queue-<i>/<key>` (queueKey()).
 */
export type Dir = Readonly<Record<string, string>>;

/** A write (value) or removal (null) of `key` in the frontend's or the backend's directory. */
export interface KeyWrite {
  readonly dir: 'frontend' | 'backend';
  readonly key: string;
  readonly value: string | null;
}

/** The grants of one ring as published: its slot count and its page refs in order. */
export interface RingGrant {
  readonly numSlots: number;
  readonly refs: readonly number[];
}

/** The rings of one queue. */
export interface QueueGrant {
  readonly tx: RingGrant;
  readonly rx: RingGrant;
}

/** The two event channels of one queue, as the frontend offered them (its ports). */
export interface QueuePorts {
  readonly txPort: number;
  readonly rxPort: number;
}

/** Nothing to do until xenstore (or local state) changes; `until` says what is awaited. */
export interface WaitAction {
  readonly kind: 'wait';
  readonly until: string;
}

/** Write these keys in one transaction (retried on EAGAIN), in this order. */
export interface TransactionAction {
  readonly kind: 'transaction';
  readonly writes: readonly KeyWrite[];
}

/**
 * The handshake failed on something the other end wrote: write `text` as
 * the `error` node of the acting end's own directory. The acting end keeps
 * its state, so a corrected peer can retry.
 */
export interface ErrorAction {
  readonly kind: 'error';
  readonly text: string;
}

export type FrontendAction =
  | WaitAction
  | TransactionAction
  | ErrorAction
  /**
   * Map both rings (and then the pool their slots' grefs name) of queue 0
   * and, when k > 1 queues will be used, of queues 1..k-1 (`extraQueues`).
   */
  | { readonly kind: 'map'; readonly tx: RingGrant; readonly rx: RingGrant; readonly extraQueues?: readonly QueueGrant[] }
  /** Allocate one TX and one RX event channel to the backend domain, per queue (`queues`, absent: 1). */
  | { readonly kind: 'alloc-channels'; readonly queues?: number }
  /** Both ends are Connected: traffic may flow. */
  | { readonly kind: 'connected'; readonly mac: string; readonly mtu: number }
  /** Unmap the rings and pool, close the channels. */
  | { readonly kind: 'unmap' }
  /** The vif is Closed on this side: nothing more to do. */
  | { readonly kind: 'closed' };

export type BackendAction =
  | WaitAction
  | TransactionAction
  | ErrorAction
  /**
   * Bind the frontend's channels and attach the vif to the switch: one port
   * per queue in use (`queues`: k entries, queue 0 first, each with the
   * rings of the same index in the record). offload: the frontend requested
   * chains + the offload word and this backend offered them (addPort's
   * `offload`).
   */
  | { readonly kind: 'connect'; readonly queues: readonly QueuePorts[]; readonly offload: boolean }
  /** Detach the vif's ports from the switch and unbind the channels. */
  | { readonly kind: 'disconnect' };
