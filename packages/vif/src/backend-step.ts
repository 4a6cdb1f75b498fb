/**
 * The backend's handshake decisions (DESIGN.md "The handshake", steps 1
 * and 3, plus teardown and reconnect), as a pure function of xenstore
 * contents and the backend's own record. The record (what the backend
 * granted) is the only source of ring refs and sizes: nothing is read back
 * from the guest-writable frontend directory except the frontend's state
 * and event channels, and whatever the guest wrote there is validated.
 */
import type { BackendAction, Dir, KeyWrite, QueueGrant, QueuePorts, RingGrant } from './actions.js';
import { parsePort, parseQueueCount, parseState } from './parse.js';
import { VIF_KEYS, VIF_LIMITS, XENBUS_STATES as S, queueKey, ringRefKey } from './protocol.js';

export interface BackendRecord {
  /** The TX and RX rings the backend set up and granted (queue 0). */
  readonly tx: RingGrant;
  readonly rx: RingGrant;
  /**
   * The rings of queues 1..N-1 of a vif with N > 1 queues (each its own
   * TX ring, RX ring and pool); absent or empty: one queue, published
   * exactly as without queues. N is at most VIF_LIMITS.maxQueues.
   */
  readonly extraQueues?: readonly QueueGrant[];
  /** The backend offers buffer chains + the offload word (`feature-netmap-offload` = 1). Default false. */
  readonly offload?: boolean;
}

/** Every queue's rings, queue 0 first. */
export function recordQueues(record: BackendRecord): QueueGrant[] {
  return [{ tx: record.tx, rx: record.rx }, ...(record.extraQueues ?? [])];
}

export interface BackendView {
  /** The backend's own directory (`/local/domain/0/backend/vpio-vif/<domid>/<n>`). */
  readonly own: Dir;
  /** The frontend's directory (guest-writable: hostile). */
  readonly frontend: Dir;
  readonly record: BackendRecord;
  readonly local: {
    /** The port is attached to the switch and its channels bound. */
    readonly attached: boolean;
  };
}

/** A ring's refs: `<tx|rx>-ring-refs` and `<tx|rx>-ring-ref<i>`, flat or under queue-<q>/. */
function refWrites(dir: 'tx' | 'rx', g: RingGrant, q: number, flat: boolean): KeyWrite[] {
  return [
    { dir: 'frontend', key: queueKey(q, dir === 'tx' ? VIF_KEYS.txRingRefs : VIF_KEYS.rxRingRefs, flat), value: String(g.refs.length) },
    ...g.refs.map((r, i): KeyWrite => ({ dir: 'frontend', key: queueKey(q, ringRefKey(dir, i), flat), value: String(r) })),
  ];
}

function ringWrites(dir: 'tx' | 'rx', g: RingGrant): KeyWrite[] {
  return [{ dir: 'frontend', key: dir === 'tx' ? VIF_KEYS.txDesc : VIF_KEYS.rxDesc, value: String(g.numSlots) }, ...refWrites(dir, g, 0, true)];
}

/**
 * Step 1: one transaction, feature-netmap, sizes and refs in the frontend's
 * directory, backend state InitWait last. Queue 0's refs are flat (as
 * without queues); a vif with N > 1 queues adds multi-queue-max-queues=N
 * and every queue's refs under queue-<i>/ (queue-0/ too).
 */
export function publishTransaction(record: BackendRecord, own: Dir): BackendAction {
  const queues = recordQueues(record);
  return {
    kind: 'transaction',
    writes: [
      { dir: 'frontend', key: VIF_KEYS.featureNetmap, value: '1' },
      ...(record.offload === true ? [{ dir: 'frontend' as const, key: VIF_KEYS.featureNetmapOffload, value: '1' }] : []),
      ...ringWrites('tx', record.tx),
      ...ringWrites('rx', record.rx),
      ...(queues.length > 1
        ? [
          { dir: 'frontend' as const, key: VIF_KEYS.multiQueueMaxQueues, value: String(queues.length) },
          ...queues.flatMap((g, q) => [...refWrites('tx', g.tx, q, false), ...refWrites('rx', g.rx, q, false)]),
        ]
        : []),
      ...(own[VIF_KEYS.error] !== undefined ? [{ dir: 'backend' as const, key: VIF_KEYS.error, value: null }] : []),
      { dir: 'backend', key: VIF_KEYS.state, value: String(S.InitWait) },
    ],
  };
}

function recordProblem(record: BackendRecord): string | undefined {
  const queues = recordQueues(record);
  if (queues.length > VIF_LIMITS.maxQueues) return `${queues.length} queues (at most ${VIF_LIMITS.maxQueues})`;
  for (const [q, queue] of queues.entries()) {
    const at = q === 0 ? '' : `queue ${q} `;
    for (const [name, g] of [['tx', queue.tx], ['rx', queue.rx]] as const) {
      const n = g.numSlots;
      if (!Number.isInteger(n) || n < VIF_LIMITS.minSlots || n > VIF_LIMITS.maxSlots || (n & (n - 1)) !== 0) return `${at}${name} ring: bad slot count ${n}`;
      if (g.refs.length < 1 || g.refs.length > VIF_LIMITS.maxRingRefs) return `${at}${name} ring: ${g.refs.length} refs`;
      if (g.refs.some((r) => !Number.isInteger(r) || r < 8 || r > 0xffffffff)) return `${at}${name} ring: bad grant ref`;
    }
    // one pair of -desc keys tells every queue's sizes
    if (queue.tx.numSlots !== record.tx.numSlots || queue.rx.numSlots !== record.rx.numSlots) return `queue ${q}: ring sizes differ from queue 0's`;
  }
  return undefined;
}

function setState(state: number): BackendAction {
  return { kind: 'transaction', writes: [{ dir: 'backend', key: VIF_KEYS.state, value: String(state) }] };
}

/** An error action, unless the same text is already the error node (nothing to do then). */
function fail(own: Dir, text: string): BackendAction[] {
  return own[VIF_KEYS.error] === text ? [{ kind: 'wait', until: 'the frontend to correct its directory' }] : [{ kind: 'error', text }];
}

/**
 * The queues the frontend uses and their channels: multi-queue-num-queues
 * (absent: 1) in [1, N]; one queue reads the flat event-channel-tx/-rx, k > 1
 * queues read queue-<i>/event-channel-tx/-rx for i < k (flat ones are then
 * ignored). Every channel a valid port, all 2k distinct. A problem text, or
 * the ports.
 */
function frontendQueues(view: BackendView): { ok: true; queues: QueuePorts[] } | { ok: false; problem: string } {
  const { frontend, record } = view;
  const max = recordQueues(record).length;
  const numText = frontend[VIF_KEYS.multiQueueNumQueues];
  let k = 1;
  if (numText !== undefined) {
    const n = parseQueueCount(VIF_KEYS.multiQueueNumQueues, numText, max);
    if (!n.ok) return n;
    k = n.value;
  }
  const flat = k === 1;
  const seen = new Map<number, string>();
  const queues: QueuePorts[] = [];
  for (let q = 0; q < k; q++) {
    const ports: number[] = [];
    for (const key of [queueKey(q, VIF_KEYS.eventChannelTx, flat), queueKey(q, VIF_KEYS.eventChannelRx, flat)]) {
      const p = parsePort(key, frontend[key]);
      if (!p.ok) return p;
      const other = seen.get(p.value);
      if (other !== undefined) return { ok: false, problem: `${key}: expected a port other than ${other}'s, got "${p.value}"` };
      seen.set(p.value, key);
      ports.push(p.value);
    }
    queues.push({ txPort: ports[0]!, rxPort: ports[1]! });
  }
  return { ok: true, queues };
}

/** Step 3: the frontend says Connected: its channels must be distinct valid ports, its queue count one the backend offered. */
function connect(view: BackendView): BackendAction[] {
  const { own, frontend } = view;
  const q = frontendQueues(view);
  if (!q.ok) return fail(own, q.problem);
  // request-netmap-offload: absent or "0" = no, "1" = yes (honoured only when this backend offered it)
  const req = frontend[VIF_KEYS.requestNetmapOffload];
  if (req !== undefined && req !== '0' && req !== '1') return fail(own, `${VIF_KEYS.requestNetmapOffload}: expected "0" or "1", got ${JSON.stringify(req.slice(0, 32))}`);
  const offload = req === '1' && view.record.offload === true;
  const writes: KeyWrite[] = [
    ...(own[VIF_KEYS.error] !== undefined ? [{ dir: 'backend' as const, key: VIF_KEYS.error, value: null }] : []),
    { dir: 'backend', key: VIF_KEYS.state, value: String(S.Connected) },
  ];
  return [{ kind: 'connect', queues: q.queues, offload }, { kind: 'transaction', writes }];
}

/** What the backend does next. */
export function backendStep(view: BackendView): BackendAction[] {
  const { own, frontend, record, local } = view;
  const problem = recordProblem(record);
  if (problem !== undefined) return fail(own, `backend record: ${problem}`);
  const ownState = parseState(VIF_KEYS.state, own[VIF_KEYS.state] ?? String(S.Initialising));
  if (!ownState.ok) return fail(own, ownState.problem);
  const me = ownState.value;
  const detach: BackendAction[] = local.attached ? [{ kind: 'disconnect' }] : [];

  // The frontend directory is gone (the toolstack removed it): close.
  if (frontend[VIF_KEYS.state] === undefined) {
    if (me === S.Unknown || me === S.Initialising) return [publishTransaction(record, own)];
    return me === S.Closed && !local.attached ? [{ kind: 'wait', until: 'the frontend directory' }] : [...detach, setState(S.Closed)];
  }
  const feState = parseState(`frontend ${VIF_KEYS.state}`, frontend[VIF_KEYS.state]);
  if (!feState.ok) return fail(own, feState.problem);
  const fe = feState.value;

  switch (me) {
    case S.Unknown:
    case S.Initialising:
      return [publishTransaction(record, own)];
    case S.InitWait:
      switch (fe) {
        case S.Connected:
          return connect(view);
        case S.Closing:
          return [...detach, setState(S.Closing)];
        case S.Closed:
          return [...detach, setState(S.Closed)];
        default:
          return [{ kind: 'wait', until: 'frontend Connected' }];
      }
    case S.Connected:
      switch (fe) {
        case S.Connected:
          return [{ kind: 'wait', until: 'frontend Closing' }];
        case S.Closing:
          return [...detach, setState(S.Closing)];
        case S.Closed:
          return [...detach, setState(S.Closed)];
        case S.Unknown:
        case S.Initialising:
          // The frontend restarted: detach, publish the same (never recycled) regions again.
          return [...detach, publishTransaction(record, own)];
        default:
          return fail(own, `frontend ${VIF_KEYS.state}: expected Connected, Closing or Closed while connected, got "${fe}"`);
      }
    case S.Closing:
      switch (fe) {
        case S.Closed:
          return [...detach, setState(S.Closed)];
        case S.Unknown:
        case S.Initialising:
          return [...detach, publishTransaction(record, own)];
        default:
          return [...detach, { kind: 'wait', until: 'frontend Closed' }];
      }
    case S.Closed:
      if (fe === S.Initialising || fe === S.Unknown) return [...detach, publishTransaction(record, own)];
      return [...detach, { kind: 'wait', until: 'frontend Initialising (reconnect) or removal' }];
    default:
      return fail(own, `${VIF_KEYS.state}: unexpected own state ${me}`);
  }
}
