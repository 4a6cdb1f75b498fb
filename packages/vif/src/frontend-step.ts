/**
 * The frontend's handshake decisions (DESIGN.md "The handshake", step 2,
 * and teardown), as a pure function of xenstore contents and the
 * frontend's own progress. netfront's C core (packages/netfront) follows
 * the same order; the tests use this as the oracle.
 */
import type { Dir, FrontendAction, RingGrant } from './actions.js';
import { parseGrantRef, parseMac, parseMtu, parseRefCount, parseSlots, parseState, type Parsed } from './parse.js';
import { VIF_KEYS, XENBUS_STATES as S, ringRefKey } from './protocol.js';

export interface FrontendLocal {
  /** Rings and pool are mapped. */
  readonly mapped: boolean;
  /** The two event channels, once allocated. */
  readonly channels?: { readonly tx: number; readonly rx: number };
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
  /** The frontend's own directory (`/local/domain/<domid>/device/vif/<n>`). */
  readonly own: Dir;
  /** The backend's directory, as the frontend can read it. */
  readonly backend: Dir;
  readonly local: FrontendLocal;
}

/** The rings as the backend published them in the frontend's directory, or the first problem. */
export function readRingGrants(own: Dir): Parsed<{ tx: RingGrant; rx: RingGrant }> {
  if (own[VIF_KEYS.featureNetmap] !== '1') {
    return { ok: false, problem: `${VIF_KEYS.featureNetmap}: expected "1", got ${own[VIF_KEYS.featureNetmap] === undefined ? 'nothing' : JSON.stringify(own[VIF_KEYS.featureNetmap]?.slice(0, 32))}` };
  }
  const ring = (dir: 'tx' | 'rx'): Parsed<RingGrant> => {
    const descKey = dir === 'tx' ? VIF_KEYS.txDesc : VIF_KEYS.rxDesc;
    const countKey = dir === 'tx' ? VIF_KEYS.txRingRefs : VIF_KEYS.rxRingRefs;
    const slots = parseSlots(descKey, own[descKey]);
    if (!slots.ok) return slots;
    const count = parseRefCount(countKey, own[countKey]);
    if (!count.ok) return count;
    const refs: number[] = [];
    for (let i = 0; i < count.value; i++) {
      const r = parseGrantRef(ringRefKey(dir, i), own[ringRefKey(dir, i)]);
      if (!r.ok) return r;
      refs.push(r.value);
    }
    return { ok: true, value: { numSlots: slots.value, refs } };
  };
  const tx = ring('tx');
  if (!tx.ok) return tx;
  const rx = ring('rx');
  if (!rx.ok) return rx;
  return { ok: true, value: { tx: tx.value, rx: rx.value } };
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
      if (!local.mapped) {
        const grants = readRingGrants(own);
        if (!grants.ok) return [{ kind: 'error', text: grants.problem }];
        return [{ kind: 'map', tx: grants.value.tx, rx: grants.value.rx }];
      }
      if (!local.channels) return [{ kind: 'alloc-channels' }];
      return [{
        kind: 'transaction',
        writes: [
          { dir: 'frontend', key: VIF_KEYS.eventChannelTx, value: String(local.channels.tx) },
          { dir: 'frontend', key: VIF_KEYS.eventChannelRx, value: String(local.channels.rx) },
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
