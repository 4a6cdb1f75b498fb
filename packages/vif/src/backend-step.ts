/**
 * The backend's handshake decisions (DESIGN.md "The handshake", steps 1
 * and 3, plus teardown and reconnect), as a pure function of xenstore
 * contents and the backend's own record. The record (what the backend
 * granted) is the only source of ring refs and sizes: nothing is read back
 * from the guest-writable frontend directory except the frontend's state
 * and event channels, and whatever the guest wrote there is validated.
 */
import type { BackendAction, Dir, KeyWrite, RingGrant } from './actions.js';
import { parsePort, parseState } from './parse.js';
import { VIF_KEYS, VIF_LIMITS, XENBUS_STATES as S, ringRefKey } from './protocol.js';

export interface BackendRecord {
  /** The TX and RX rings the backend set up and granted. */
  readonly tx: RingGrant;
  readonly rx: RingGrant;
  /** The backend offers buffer chains + the offload word (`feature-netmap-offload` = 1). Default false. */
  readonly offload?: boolean;
}

export interface BackendView {
  /** The backend's own directory (`/local/domain/0/backend/vif/<domid>/<n>`). */
  readonly own: Dir;
  /** The frontend's directory (guest-writable: hostile). */
  readonly frontend: Dir;
  readonly record: BackendRecord;
  readonly local: {
    /** The port is attached to the switch and its channels bound. */
    readonly attached: boolean;
  };
}

function ringWrites(dir: 'tx' | 'rx', g: RingGrant): KeyWrite[] {
  return [
    { dir: 'frontend', key: dir === 'tx' ? VIF_KEYS.txDesc : VIF_KEYS.rxDesc, value: String(g.numSlots) },
    { dir: 'frontend', key: dir === 'tx' ? VIF_KEYS.txRingRefs : VIF_KEYS.rxRingRefs, value: String(g.refs.length) },
    ...g.refs.map((r, i): KeyWrite => ({ dir: 'frontend', key: ringRefKey(dir, i), value: String(r) })),
  ];
}

/** Step 1: one transaction, feature-netmap, sizes and refs in the frontend's directory, backend state InitWait last. */
export function publishTransaction(record: BackendRecord, own: Dir): BackendAction {
  return {
    kind: 'transaction',
    writes: [
      { dir: 'frontend', key: VIF_KEYS.featureNetmap, value: '1' },
      ...(record.offload === true ? [{ dir: 'frontend' as const, key: VIF_KEYS.featureNetmapOffload, value: '1' }] : []),
      ...ringWrites('tx', record.tx),
      ...ringWrites('rx', record.rx),
      ...(own[VIF_KEYS.error] !== undefined ? [{ dir: 'backend' as const, key: VIF_KEYS.error, value: null }] : []),
      { dir: 'backend', key: VIF_KEYS.state, value: String(S.InitWait) },
    ],
  };
}

function recordProblem(record: BackendRecord): string | undefined {
  for (const [name, g] of [['tx', record.tx], ['rx', record.rx]] as const) {
    const n = g.numSlots;
    if (!Number.isInteger(n) || n < VIF_LIMITS.minSlots || n > VIF_LIMITS.maxSlots || (n & (n - 1)) !== 0) return `${name} ring: bad slot count ${n}`;
    if (g.refs.length < 1 || g.refs.length > VIF_LIMITS.maxRingRefs) return `${name} ring: ${g.refs.length} refs`;
    if (g.refs.some((r) => !Number.isInteger(r) || r < 8 || r > 0xffffffff)) return `${name} ring: bad grant ref`;
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

/** Step 3: the frontend says Connected: its channels must be two distinct valid ports. */
function connect(view: BackendView): BackendAction[] {
  const { own, frontend } = view;
  const tx = parsePort(VIF_KEYS.eventChannelTx, frontend[VIF_KEYS.eventChannelTx]);
  if (!tx.ok) return fail(own, tx.problem);
  const rx = parsePort(VIF_KEYS.eventChannelRx, frontend[VIF_KEYS.eventChannelRx]);
  if (!rx.ok) return fail(own, rx.problem);
  if (tx.value === rx.value) return fail(own, `${VIF_KEYS.eventChannelRx}: expected a port other than ${VIF_KEYS.eventChannelTx}'s, got "${rx.value}"`);
  // request-netmap-offload: absent or "0" = no, "1" = yes (honoured only when this backend offered it)
  const req = frontend[VIF_KEYS.requestNetmapOffload];
  if (req !== undefined && req !== '0' && req !== '1') return fail(own, `${VIF_KEYS.requestNetmapOffload}: expected "0" or "1", got ${JSON.stringify(req.slice(0, 32))}`);
  const offload = req === '1' && view.record.offload === true;
  const writes: KeyWrite[] = [
    ...(own[VIF_KEYS.error] !== undefined ? [{ dir: 'backend' as const, key: VIF_KEYS.error, value: null }] : []),
    { dir: 'backend', key: VIF_KEYS.state, value: String(S.Connected) },
  ];
  return [{ kind: 'connect', txPort: tx.value, rxPort: rx.value, offload }, { kind: 'transaction', writes }];
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
