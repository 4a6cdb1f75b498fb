/**
 * The frontend's handshake decisions (DESIGN.md "The handshake", step 2,
 * and teardown), as a pure function of xenstore contents and the
 * frontend's own progress. netfront's C core (packages/netfront) follows
 * the same order; the tests use this as the oracle.
 */
import type { Dir, FrontendAction, KeyWrite, QueueGrant, RingGrant } from './actions.js';
import { parseGrantRef, parseMac, parseMtu, parseQueueCount, parseRefCount, parseSlots, parseState, type Parsed } from './parse.js';
import { VIF_KEYS, VIF_LIMITS, XENBUS_STATES as S, queueKey, ringRefKey } from './protocol.js';

export interface FrontendLocal {
  /** Rings and pool are mapped. */
  readonly mapped: boolean;
  /** The two event channels (queue 0's), once allocated. */
  readonly channels?: { readonly tx: number; readonly rx: number };
  /** Queues wanted (default 1); k = min(this, the backend's multi-queue-max-queues) are used. */
  readonly requestQueues?: number;
  /** The channels of queues 1..k-1 (allocated with queue 0's when k > 1). */
  readonly extraChannels?: readonly { readonly tx: number; readonly rx: number }[];
  /**
   * The backend's `error` node as it was just before the frontend wrote
   * Connected (an earlier attempt's): it stays until the backend accepts
   * this attempt, so only a different text means this attempt was refused.
   */
  readonly backendErrorBefore?: string;
  /** The guest asked to disconnect. */
  readonly closeRequested?: boolean;
  /** Ask for buffer chains + the offload word (written only when the backend offers `feature-netmap-offload`). */
  readonly requestOffload?: boolean;
}

export interface FrontendView {
  /** The frontend's own directory (`/local/domain/<domid>/device/vpio-vif/<n>`). */
  readonly own: Dir;
  /** The backend's directory, as the frontend can read it. */
  readonly backend: Dir;
  readonly local: FrontendLocal;
}

/**
 * The queues a frontend wanting `want` queues uses: 1 when it wants one
 * (multi-queue-max-queues is then not read: a frontend that knows nothing
 * of queues behaves so), else min(want, multi-queue-max-queues), the key
 * absent meaning 1. Or the problem with the backend's value.
 */
export function queueCount(own: Dir, want = 1): Parsed<number> {
  if (want <= 1) return { ok: true, value: 1 };
  const max = own[VIF_KEYS.multiQueueMaxQueues];
  if (max === undefined) return { ok: true, value: 1 };
  const n = parseQueueCount(VIF_KEYS.multiQueueMaxQueues, max, VIF_LIMITS.maxQueues);
  return n.ok ? { ok: true, value: Math.min(want, n.value) } : n;
}

/**
 * The rings as the backend published them in the frontend's directory, or
 * the first problem: queue 0 from the flat keys when `queues` is 1 (the
 * default), else queues 0..queues-1 from queue-<i>/ (`extraQueues` holds
 * 1..queues-1). Every queue has the sizes of the -desc keys.
 */
export function readRingGrants(own: Dir, queues = 1): Parsed<{ tx: RingGrant; rx: RingGrant; extraQueues: QueueGrant[] }> {
  if (own[VIF_KEYS.featureNetmap] !== '1') {
    return { ok: false, problem: `${VIF_KEYS.featureNetmap}: expected "1", got ${own[VIF_KEYS.featureNetmap] === undefined ? 'nothing' : JSON.stringify(own[VIF_KEYS.featureNetmap]?.slice(0, 32))}` };
  }
  const flat = queues === 1;
  const ring = (dir: 'tx' | 'rx', q: number): Parsed<RingGrant> => {
    const descKey = dir === 'tx' ? VIF_KEYS.txDesc : VIF_KEYS.rxDesc;
    const countKey = queueKey(q, dir === 'tx' ? VIF_KEYS.txRingRefs : VIF_KEYS.rxRingRefs, flat);
    const slots = parseSlots(descKey, own[descKey]);
    if (!slots.ok) return slots;
    const count = parseRefCount(countKey, own[countKey]);
    if (!count.ok) return count;
    const refs: number[] = [];
    for (let i = 0; i < count.value; i++) {
      const key = queueKey(q, ringRefKey(dir, i), flat);
      const r = parseGrantRef(key, own[key]);
      if (!r.ok) return r;
      refs.push(r.value);
    }
    return { ok: true, value: { numSlots: slots.value, refs } };
  };
  const all: QueueGrant[] = [];
  for (let q = 0; q < queues; q++) {
    const tx = ring('tx', q);
    if (!tx.ok) return tx;
    const rx = ring('rx', q);
    if (!rx.ok) return rx;
    all.push({ tx: tx.value, rx: rx.value });
  }
  return { ok: true, value: { tx: all[0]!.tx, rx: all[0]!.rx, extraQueues: all.slice(1) } };
}

/**
 * The channel keys of the Connected transaction: flat for one queue (and a
 * multi-queue-num-queues left by an earlier connect removed: it would name
 * queues this one does not use), else multi-queue-num-queues and queue-<i>/.
 */
function channelWrites(own: Dir, local: FrontendLocal, k: number): KeyWrite[] {
  const chans = [local.channels!, ...(local.extraChannels ?? [])].slice(0, k);
  const flat = k === 1;
  return [
    ...(flat
      ? own[VIF_KEYS.multiQueueNumQueues] === undefined ? [] : [{ dir: 'frontend' as const, key: VIF_KEYS.multiQueueNumQueues, value: null }]
      : [{ dir: 'frontend' as const, key: VIF_KEYS.multiQueueNumQueues, value: String(k) }]),
    ...chans.flatMap((c, q): KeyWrite[] => [
      { dir: 'frontend', key: queueKey(q, VIF_KEYS.eventChannelTx, flat), value: String(c.tx) },
      { dir: 'frontend', key: queueKey(q, VIF_KEYS.eventChannelRx, flat), value: String(c.rx) },
    ]),
  ];
}

function setState(state: number): FrontendAction {
  return { kind: 'transaction', writes: [{ dir: 'frontend', key: VIF_KEYS.state, value: String(state) }] };
}

/** What the frontend does next. */
export function frontendStep(view: FrontendView): FrontendAction[] {
  const { own, backend, local } = view;
  const ownState = parseState(VIF_KEYS.state, own[VIF_KEYS.state] ?? String(S.Initialising));
  if (!ownState.ok) return [{ kind: 'error', text: ownState.problem }];
  if (backend[VIF_KEYS.state] === undefined) return [{ kind: 'wait', until: 'the backend directory' }];
  const beState = parseState(`backend ${VIF_KEYS.state}`, backend[VIF_KEYS.state]);
  if (!beState.ok) return [{ kind: 'error', text: beState.problem }];
  const me = ownState.value;
  const be = beState.value;

  // Teardown: asked for, or the backend is going away. frontend 5 -> backend 5 -> frontend 6.
  const beClosing = be === S.Closing || be === S.Closed;
  if (local.closeRequested || beClosing) {
    if (me === S.Closed && !local.mapped) return [{ kind: 'closed' }];
    if (local.closeRequested && !beClosing && me !== S.Closing) return [setState(S.Closing)];
    if (!beClosing) return [{ kind: 'wait', until: 'backend Closing' }];
    const out: FrontendAction[] = [];
    if (local.mapped || local.channels) out.push({ kind: 'unmap' });
    out.push(setState(S.Closed));
    return out;
  }

  switch (be) {
    case S.Unknown:
    case S.Initialising:
    case S.Initialised:
    case S.Reconfiguring:
    case S.Reconfigured:
      return [{ kind: 'wait', until: 'backend InitWait' }];
    case S.InitWait: {
      if (me === S.Connected && local.channels) {
        const err = backend[VIF_KEYS.error];
        if (err !== undefined && err !== local.backendErrorBefore) return [{ kind: 'error', text: `backend refused the connection: ${err.slice(0, 128)}` }];
        return [{ kind: 'wait', until: 'backend Connected' }];
      }
      const k = queueCount(own, local.requestQueues);
      if (!k.ok) return [{ kind: 'error', text: k.problem }];
      if (!local.mapped) {
        const grants = readRingGrants(own, k.value);
        if (!grants.ok) return [{ kind: 'error', text: grants.problem }];
        const { tx, rx, extraQueues } = grants.value;
        return [k.value > 1 ? { kind: 'map', tx, rx, extraQueues } : { kind: 'map', tx, rx }];
      }
      if (!local.channels || (local.extraChannels?.length ?? 0) < k.value - 1) {
        return [k.value > 1 ? { kind: 'alloc-channels', queues: k.value } : { kind: 'alloc-channels' }];
      }
      return [{
        kind: 'transaction',
        writes: [
          ...channelWrites(own, local, k.value),
          ...(local.requestOffload === true && own[VIF_KEYS.featureNetmapOffload] === '1'
            ? [{ dir: 'frontend' as const, key: VIF_KEYS.requestNetmapOffload, value: '1' }]
            : []),
          ...(own[VIF_KEYS.error] !== undefined ? [{ dir: 'frontend' as const, key: VIF_KEYS.error, value: null }] : []),
          { dir: 'frontend', key: VIF_KEYS.state, value: String(S.Connected) },
        ],
      }];
    }
    case S.Connected: {
      if (me !== S.Connected || !local.mapped || !local.channels) {
        return [{ kind: 'error', text: `backend state: Connected before this frontend connected (frontend state ${me})` }];
      }
      const mac = parseMac(`backend ${VIF_KEYS.mac}`, backend[VIF_KEYS.mac]);
      if (!mac.ok) return [{ kind: 'error', text: mac.problem }];
      const mtu = parseMtu(`backend ${VIF_KEYS.mtu}`, backend[VIF_KEYS.mtu] ?? '1500');
      if (!mtu.ok) return [{ kind: 'error', text: mtu.problem }];
      return [{ kind: 'connected', mac: mac.value, mtu: mtu.value }];
    }
    default:
      return [{ kind: 'error', text: `backend state: unexpected ${be}` }];
  }
}
