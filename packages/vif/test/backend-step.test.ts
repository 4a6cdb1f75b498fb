import { describe, expect, it } from 'vitest';
import type { BackendAction, Dir, KeyWrite } from '../src/actions.js';
import { backendStep, type BackendRecord, type BackendView } from '../src/backend-step.js';
import { frontendStep, type FrontendLocal } from '../src/frontend-step.js';
import { XENBUS_STATES as S } from '../src/protocol.js';

const record: BackendRecord = { tx: { numSlots: 256, refs: [8] }, rx: { numSlots: 512, refs: [9, 10] } };
const beDir = (state: number | string, extra: Dir = {}): Dir => ({ state: String(state), frontend: '/local/domain/1/device/vpio-vif/0', 'frontend-id': '1', mac: '02:00:00:00:00:01', mtu: '1500', ...extra });
const feDir = (state: number | string, extra: Dir = {}): Dir => ({ state: String(state), 'event-channel-tx': '3', 'event-channel-rx': '4', ...extra });
const view = (own: Dir, frontend: Dir, attached = false): BackendView => ({ own, frontend, record, local: { attached } });
const kinds = (a: BackendAction[]): string[] => a.map((x) => x.kind);
const stateWrite = (s: number): BackendAction => ({ kind: 'transaction', writes: [{ dir: 'backend', key: 'state', value: String(s) }] });

describe('backendStep: step 1, publishing', () => {
  it('writes feature-netmap, sizes and refs into the frontend directory, then its own state InitWait last, in one transaction', () => {
    expect(backendStep(view(beDir(S.Initialising), feDir(S.Initialising)))).toEqual([{
      kind: 'transaction',
      writes: [
        { dir: 'frontend', key: 'feature-netmap', value: '1' },
        { dir: 'frontend', key: 'feature-netmap-tx-desc', value: '256' },
        { dir: 'frontend', key: 'tx-ring-refs', value: '1' },
        { dir: 'frontend', key: 'tx-ring-ref0', value: '8' },
        { dir: 'frontend', key: 'feature-netmap-rx-desc', value: '512' },
        { dir: 'frontend', key: 'rx-ring-refs', value: '2' },
        { dir: 'frontend', key: 'rx-ring-ref0', value: '9' },
        { dir: 'frontend', key: 'rx-ring-ref1', value: '10' },
        { dir: 'backend', key: 'state', value: '2' },
      ],
    }]);
  });
  it('publishes from a missing own state too (toolstack wrote nothing yet)', () => {
    const own: Record<string, string> = { ...beDir(0) };
    delete own.state;
    expect(kinds(backendStep(view(own, feDir(S.Initialising))))).toEqual(['transaction']);
  });
  for (const bad of [
    { tx: { numSlots: 100, refs: [8] }, rx: record.rx },
    { tx: record.tx, rx: { numSlots: 8192, refs: [9] } },
    { tx: { numSlots: 64, refs: [] }, rx: record.rx },
    { tx: { numSlots: 64, refs: [7] }, rx: record.rx },
    { tx: { numSlots: 64, refs: Array.from({ length: 18 }, (_, i) => 8 + i) }, rx: record.rx },
  ]) {
    it(`refuses its own broken record ${JSON.stringify(bad.tx.numSlots)}/${JSON.stringify(bad.rx.numSlots)}`, () => {
      const a = backendStep({ ...view(beDir(1), feDir(1)), record: bad });
      expect(kinds(a)).toEqual(['error']);
      expect(a[0]?.kind === 'error' && a[0].text).toMatch(/^backend record: /);
    });
  }
});

describe('backendStep: step 3, connecting', () => {
  for (const fe of [S.Unknown, S.Initialising, S.InitWait, S.Initialised, S.Reconfiguring, S.Reconfigured]) {
    it(`waits while the frontend is in state ${fe}`, () => {
      expect(kinds(backendStep(view(beDir(S.InitWait), feDir(fe))))).toEqual(['wait']);
    });
  }
  it('binds the channels, attaches, and writes Connected', () => {
    expect(backendStep(view(beDir(S.InitWait), feDir(S.Connected)))).toEqual([{ kind: 'connect', queues: [{ txPort: 3, rxPort: 4 }], offload: false }, stateWrite(S.Connected)]);
  });
  describe('offload negotiation (feature-netmap-offload / request-netmap-offload)', () => {
    const offering: BackendRecord = { ...record, offload: true };
    const vo = (frontend: Dir): BackendView => ({ own: beDir(S.InitWait), frontend, record: offering, local: { attached: false } });
    it('an offering backend writes feature-netmap-offload=1 next to feature-netmap', () => {
      const a = backendStep({ ...view(beDir(S.Initialising), feDir(S.Initialising)), record: offering });
      expect(a[0]?.kind === 'transaction' && a[0].writes.slice(0, 2)).toEqual([
        { dir: 'frontend', key: 'feature-netmap', value: '1' },
        { dir: 'frontend', key: 'feature-netmap-offload', value: '1' },
      ]);
    });
    it('offered and requested: the port gets offload', () => {
      expect(backendStep(vo(feDir(S.Connected, { 'request-netmap-offload': '1' })))[0]).toEqual({ kind: 'connect', queues: [{ txPort: 3, rxPort: 4 }], offload: true });
    });
    it('offered, not requested (absent or "0", e.g. minios): today\'s port', () => {
      expect(backendStep(vo(feDir(S.Connected)))[0]).toEqual({ kind: 'connect', queues: [{ txPort: 3, rxPort: 4 }], offload: false });
      expect(backendStep(vo(feDir(S.Connected, { 'request-netmap-offload': '0' })))[0]).toEqual({ kind: 'connect', queues: [{ txPort: 3, rxPort: 4 }], offload: false });
    });
    it('requested but not offered: ignored', () => {
      expect(backendStep(view(beDir(S.InitWait), feDir(S.Connected, { 'request-netmap-offload': '1' })))[0]).toEqual({ kind: 'connect', queues: [{ txPort: 3, rxPort: 4 }], offload: false });
    });
    for (const bad of ['', '2', 'yes', ' 1', '01']) {
      it(`request-netmap-offload = ${JSON.stringify(bad)} is an error (retryable)`, () => {
        const a = backendStep(vo(feDir(S.Connected, { 'request-netmap-offload': bad })));
        expect(kinds(a)).toEqual(['error']);
        expect(a[0]?.kind === 'error' && a[0].text).toMatch(/^request-netmap-offload: expected "0" or "1"/);
      });
    }
    it('the frontend oracle requests only when asked and offered', () => {
      const local: FrontendLocal = { mapped: true, channels: { tx: 3, rx: 4 }, requestOffload: true };
      const fe = (own: Dir, l: FrontendLocal) => {
        const a = frontendStep({ own, backend: beDir(S.InitWait), local: l });
        return a[0]?.kind === 'transaction' ? a[0].writes.map((w: KeyWrite) => w.key) : [];
      };
      const own = { ...feDir(S.Initialising), 'feature-netmap': '1' };
      expect(fe({ ...own, 'feature-netmap-offload': '1' }, local)).toContain('request-netmap-offload');
      expect(fe(own, local)).not.toContain('request-netmap-offload');
      expect(fe({ ...own, 'feature-netmap-offload': '1' }, { ...local, requestOffload: false })).not.toContain('request-netmap-offload');
    });
  });
  it('clears its error node when a corrected frontend connects', () => {
    const a = backendStep(view(beDir(S.InitWait, { error: 'old' }), feDir(S.Connected)));
    expect(a[1]).toEqual({ kind: 'transaction', writes: [{ dir: 'backend', key: 'error', value: null }, { dir: 'backend', key: 'state', value: '4' }] });
  });
  const garbage: Array<[string, string | undefined]> = [];
  for (const key of ['event-channel-tx', 'event-channel-rx']) {
    for (const v of [undefined, '', 'garbage', '0', '-1', '131072', '4294967296', '3.0', ' 3', '03', '0x3', 'A'.repeat(3000)]) garbage.push([key, v]);
  }
  for (const [key, value] of garbage) {
    it(`writes an error naming ${key} = ${value === undefined ? 'missing' : JSON.stringify(value.slice(0, 20))} and stays InitWait (retryable)`, () => {
      const fe: Record<string, string> = { ...feDir(S.Connected) };
      if (value === undefined) delete fe[key];
      else fe[key] = value;
      const a = backendStep(view(beDir(S.InitWait), fe));
      expect(kinds(a)).toEqual(['error']);
      const text = a[0]?.kind === 'error' ? a[0].text : '';
      expect(text.startsWith(`${key}: expected a port`)).toBe(true);
      expect(text.length).toBeLessThan(120);
      // written once: the same error already in place means nothing to do
      expect(kinds(backendStep(view(beDir(S.InitWait, { error: text }), fe)))).toEqual(['wait']);
    });
  }
  it('refuses the same port for TX and RX', () => {
    const a = backendStep(view(beDir(S.InitWait), feDir(S.Connected, { 'event-channel-rx': '3' })));
    expect(a[0]?.kind === 'error' && a[0].text).toMatch(/^event-channel-rx: expected a port other than/);
  });
  it('never reads ring refs back from the frontend directory', () => {
    const fe = feDir(S.Connected, { 'tx-ring-ref0': 'garbage', 'tx-ring-refs': '999', 'feature-netmap-tx-desc': 'x', 'feature-netmap': 'no' });
    expect(kinds(backendStep(view(beDir(S.InitWait), fe)))).toEqual(['connect', 'transaction']);
    expect(kinds(backendStep(view(beDir(S.Initialising), fe)))).toEqual(['transaction']);
  });
  for (const st of ['', 'garbage', '9', '-4', '4x']) {
    it(`writes an error for a frontend state ${JSON.stringify(st)} in every backend state`, () => {
      for (const own of [S.InitWait, S.Connected, S.Closing, S.Closed]) {
        const a = backendStep(view(beDir(own), feDir(st), own === S.Connected));
        expect(kinds(a)).toEqual(['error']);
        expect(a[0]?.kind === 'error' && a[0].text).toMatch(/^frontend state: expected a xenbus state/);
      }
    });
  }
});

describe('backendStep: teardown and reconnect', () => {
  it('detaches and follows the frontend to Closing, then Closed', () => {
    expect(backendStep(view(beDir(S.Connected), feDir(S.Closing), true))).toEqual([{ kind: 'disconnect' }, stateWrite(S.Closing)]);
    expect(backendStep(view(beDir(S.Closing), feDir(S.Closed), false))).toEqual([stateWrite(S.Closed)]);
  });
  it('closes when the frontend directory disappears', () => {
    expect(backendStep(view(beDir(S.Connected), {}, true))).toEqual([{ kind: 'disconnect' }, stateWrite(S.Closed)]);
    expect(kinds(backendStep(view(beDir(S.Closed), {}, false)))).toEqual(['wait']);
  });
  it('publishes the same regions again for a frontend that restarts', () => {
    for (const own of [S.Connected, S.Closing, S.Closed]) {
      const a = backendStep(view(beDir(own), feDir(S.Initialising), own === S.Connected));
      expect(kinds(a)).toEqual(own === S.Connected ? ['disconnect', 'transaction'] : ['transaction']);
      const t = a[a.length - 1];
      expect(t?.kind === 'transaction' && t.writes[t.writes.length - 1]).toEqual({ dir: 'backend', key: 'state', value: '2' });
    }
  });
  it('refuses a frontend that goes back to InitWait while connected', () => {
    expect(kinds(backendStep(view(beDir(S.Connected), feDir(S.InitWait), true)))).toEqual(['error']);
  });
});

/** Both pure steps against one in-memory store, applying actions as the I/O layer would. */
describe('frontendStep and backendStep together', () => {
  it('reach Connected on both ends, then Closed on both, in the order of DESIGN.md', () => {
    const fe: Record<string, string> = { state: '1' };
    const be: Record<string, string> = { state: '1', mac: '02:00:00:00:00:07', mtu: '1500' };
    const log: string[] = [];
    let local: FrontendLocal = { mapped: false };
    let attached = false;
    let connected: unknown;
    const apply = (w: KeyWrite): void => {
      const d = w.dir === 'frontend' ? fe : be;
      if (w.value === null) delete d[w.key];
      else d[w.key] = w.value;
      if (w.key === 'state') log.push(`${w.dir} ${w.value}`);
    };
    for (let round = 0; round < 20; round++) {
      for (const a of backendStep({ own: be, frontend: fe, record, local: { attached } })) {
        if (a.kind === 'transaction') a.writes.forEach(apply);
        if (a.kind === 'connect') attached = true;
        if (a.kind === 'disconnect') attached = false;
        expect(a.kind).not.toBe('error');
      }
      for (const a of frontendStep({ own: fe, backend: be, local })) {
        if (a.kind === 'transaction') a.writes.forEach(apply);
        if (a.kind === 'map') local = { ...local, mapped: true };
        if (a.kind === 'alloc-channels') local = { ...local, channels: { tx: 1, rx: 2 } };
        if (a.kind === 'connected') {
          connected = a;
          local = { ...local, closeRequested: true };
        }
        if (a.kind === 'unmap') local = { mapped: false, closeRequested: true };
        expect(a.kind).not.toBe('error');
      }
    }
    expect(connected).toEqual({ kind: 'connected', mac: '02:00:00:00:00:07', mtu: 1500 });
    expect(log).toEqual(['backend 2', 'frontend 4', 'backend 4', 'frontend 5', 'backend 5', 'frontend 6', 'backend 6']);
    expect(attached).toBe(false);
  });
});
