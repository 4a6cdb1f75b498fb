import { describe, expect, it } from 'vitest';
import type { Dir, FrontendAction } from '../src/actions.js';
import { frontendStep, type FrontendLocal } from '../src/frontend-step.js';
import { VIF_LIMITS, XENBUS_STATES as S } from '../src/protocol.js';

const published: Dir = {
  state: '1', backend: '/local/domain/0/backend/vpio-vif/1/0', 'backend-id': '0', handle: '0',
  'feature-netmap': '1',
  'feature-netmap-tx-desc': '256', 'tx-ring-refs': '1', 'tx-ring-ref0': '8',
  'feature-netmap-rx-desc': '1024', 'rx-ring-refs': '2', 'rx-ring-ref0': '9', 'rx-ring-ref1': '10',
};
const backend = (state: number | string, extra: Dir = {}): Dir => ({ state: String(state), mac: '02:00:00:00:00:01', mtu: '1500', ...extra });
const fresh: FrontendLocal = { mapped: false };
const ready: FrontendLocal = { mapped: true, channels: { tx: 3, rx: 4 } };

function only(actions: FrontendAction[]): FrontendAction {
  expect(actions).toHaveLength(1);
  return actions[0]!;
}
function errorText(actions: FrontendAction[]): string {
  const a = only(actions);
  expect(a.kind).toBe('error');
  return a.kind === 'error' ? a.text : '';
}

describe('frontendStep: waiting for the backend', () => {
  it('waits while the backend directory has no state', () => {
    expect(only(frontendStep({ own: published, backend: {}, local: fresh })).kind).toBe('wait');
  });
  for (const st of [S.Unknown, S.Initialising, S.Initialised, S.Reconfiguring, S.Reconfigured]) {
    it(`waits while the backend is in state ${st}, even with everything published`, () => {
      expect(only(frontendStep({ own: published, backend: backend(st), local: fresh }))).toEqual({ kind: 'wait', until: 'backend InitWait' });
    });
  }
});

describe('frontendStep: InitWait, step 2 in order', () => {
  it('maps the rings the backend published in its own directory', () => {
    expect(only(frontendStep({ own: published, backend: backend(S.InitWait), local: fresh }))).toEqual({
      kind: 'map', tx: { numSlots: 256, refs: [8] }, rx: { numSlots: 1024, refs: [9, 10] },
    });
  });
  it('allocates the channels once mapped', () => {
    expect(only(frontendStep({ own: published, backend: backend(S.InitWait), local: { mapped: true } }))).toEqual({ kind: 'alloc-channels' });
  });
  it('writes event-channel-tx, event-channel-rx and state=Connected in one transaction, state last', () => {
    expect(only(frontendStep({ own: published, backend: backend(S.InitWait), local: ready }))).toEqual({
      kind: 'transaction',
      writes: [
        { dir: 'frontend', key: 'event-channel-tx', value: '3' },
        { dir: 'frontend', key: 'event-channel-rx', value: '4' },
        { dir: 'frontend', key: 'state', value: '4' },
      ],
    });
  });
  it('removes its own earlier error node in that transaction', () => {
    const a = only(frontendStep({ own: { ...published, error: 'old' }, backend: backend(S.InitWait), local: ready }));
    expect(a.kind === 'transaction' && a.writes.map((w) => [w.key, w.value])).toEqual([
      ['event-channel-tx', '3'], ['event-channel-rx', '4'], ['error', null], ['state', '4'],
    ]);
  });
  it('waits for backend Connected after writing Connected', () => {
    expect(only(frontendStep({ own: { ...published, state: '4' }, backend: backend(S.InitWait), local: ready }))).toEqual({ kind: 'wait', until: 'backend Connected' });
  });
  it("keeps waiting while the backend's error node is the one from an earlier attempt", () => {
    expect(only(frontendStep({ own: { ...published, state: '4' }, backend: backend(S.InitWait, { error: 'old' }), local: { ...ready, backendErrorBefore: 'old' } })).kind).toBe('wait');
  });
  it("gives up when the backend wrote an error node after the frontend's Connected", () => {
    expect(errorText(frontendStep({ own: { ...published, state: '4' }, backend: backend(S.InitWait, { error: 'event-channel-tx: bad' }), local: ready })))
      .toMatch(/^backend refused the connection: event-channel-tx: bad/);
  });
});

describe('frontendStep: malformed values the backend published', () => {
  const bad: Array<[string, string | undefined]> = [];
  for (const key of ['feature-netmap-tx-desc', 'feature-netmap-rx-desc']) {
    for (const v of [undefined, '', 'abc', '-64', '+64', ' 64', '64 ', '0x40', '064', '0', '32', '63', '65', '100', '8192', '4294967296', '99999999999', '64\n', '\u0000']) bad.push([key, v]);
  }
  for (const key of ['tx-ring-refs', 'rx-ring-refs']) {
    for (const v of [undefined, '0', '18', 'two', '-1', '1.0']) bad.push([key, v]);
  }
  for (const key of ['tx-ring-ref0', 'rx-ring-ref0', 'rx-ring-ref1']) {
    for (const v of [undefined, '0', '7', 'x', '-8', '4294967296', '8 ', '1e3']) bad.push([key, v]);
  }
  for (const v of [undefined, '0', '2', 'yes', '']) bad.push(['feature-netmap', v]);
  for (const [key, value] of bad) {
    it(`writes an error naming ${key} when it is ${value === undefined ? 'missing' : JSON.stringify(value)}`, () => {
      const own: Record<string, string> = { ...published };
      if (value === undefined) delete own[key];
      else own[key] = value;
      const text = errorText(frontendStep({ own, backend: backend(S.InitWait), local: fresh }));
      expect(text.startsWith(`${key}: expected`)).toBe(true);
      expect(text.length).toBeLessThanOrEqual(VIF_LIMITS.maxErrorBytes);
      expect(text).toMatch(/^[\x20-\x7e]*$/);
    });
  }
  it('accepts every power of two from 64 to 4096 and nothing between', () => {
    for (let n = 1; n <= 8192; n++) {
      const a = only(frontendStep({ own: { ...published, 'feature-netmap-tx-desc': String(n) }, backend: backend(S.InitWait), local: fresh }));
      expect(a.kind).toBe(n >= 64 && n <= 4096 && (n & (n - 1)) === 0 ? 'map' : 'error');
    }
  });
  it('shows garbage cut and printable only', () => {
    const text = errorText(frontendStep({ own: { ...published, 'tx-ring-ref0': `\u0001${'z'.repeat(5000)}` }, backend: backend(S.InitWait), local: fresh }));
    expect(text).toBe(`tx-ring-ref0: expected a grant ref in [8, 4294967295], got "?${'z'.repeat(31)}..."`);
  });
});

describe('frontendStep: Connected', () => {
  const own = { ...published, state: '4' };
  it('reports the MAC (lower case) and MTU from the backend directory', () => {
    expect(only(frontendStep({ own, backend: backend(S.Connected, { mac: '02:AB:00:00:00:01', mtu: '9000' }), local: ready })))
      .toEqual({ kind: 'connected', mac: '02:ab:00:00:00:01', mtu: 9000 });
  });
  it('defaults the MTU to 1500', () => {
    const b: Record<string, string> = { ...backend(S.Connected) };
    delete b.mtu;
    expect(only(frontendStep({ own, backend: b, local: ready }))).toEqual({ kind: 'connected', mac: '02:00:00:00:00:01', mtu: 1500 });
  });
  for (const mac of [undefined, '', '02:00:00:00:00', '02:00:00:00:00:01:02', '03:00:00:00:00:01', 'zz:00:00:00:00:01', '02-00-00-00-00-01', ' 02:00:00:00:00:01']) {
    it(`refuses the backend MAC ${JSON.stringify(mac)}`, () => {
      const b: Record<string, string> = { ...backend(S.Connected) };
      if (mac === undefined) delete b.mac;
      else b.mac = mac;
      expect(errorText(frontendStep({ own, backend: b, local: ready }))).toMatch(/^backend mac: expected a unicast MAC/);
    });
  }
  for (const mtu of ['0', '67', '65536', 'big', '1500.5']) {
    it(`refuses the backend MTU ${JSON.stringify(mtu)}`, () => {
      expect(errorText(frontendStep({ own, backend: backend(S.Connected, { mtu }), local: ready }))).toMatch(/^backend mtu: expected an MTU/);
    });
  }
  it('refuses a backend that is Connected before the frontend is', () => {
    expect(errorText(frontendStep({ own: published, backend: backend(S.Connected), local: fresh }))).toMatch(/Connected before this frontend connected/);
  });
});

describe('frontendStep: state values', () => {
  for (const st of ['', 'x', '9', '-1', '04', '4 ', '1e0']) {
    it(`writes an error for its own state ${JSON.stringify(st)}`, () => {
      expect(errorText(frontendStep({ own: { ...published, state: st }, backend: backend(S.InitWait), local: fresh }))).toMatch(/^state: expected a xenbus state/);
    });
    it(`writes an error for a backend state ${JSON.stringify(st)}`, () => {
      expect(errorText(frontendStep({ own: published, backend: backend(st), local: fresh }))).toMatch(/^backend state: expected a xenbus state/);
    });
  }
});

describe('frontendStep: teardown (frontend 5 -> backend 5 -> frontend 6)', () => {
  const own = { ...published, state: '4' };
  it('writes Closing when asked to disconnect', () => {
    expect(only(frontendStep({ own, backend: backend(S.Connected), local: { ...ready, closeRequested: true } })))
      .toEqual({ kind: 'transaction', writes: [{ dir: 'frontend', key: 'state', value: '5' }] });
  });
  it('waits for the backend to follow', () => {
    expect(only(frontendStep({ own: { ...own, state: '5' }, backend: backend(S.Connected), local: { ...ready, closeRequested: true } })).kind).toBe('wait');
  });
  it('unmaps, then writes Closed, once the backend is Closing', () => {
    expect(frontendStep({ own: { ...own, state: '5' }, backend: backend(S.Closing), local: { ...ready, closeRequested: true } })).toEqual([
      { kind: 'unmap' }, { kind: 'transaction', writes: [{ dir: 'frontend', key: 'state', value: '6' }] },
    ]);
  });
  it('is closed once Closed and unmapped', () => {
    expect(only(frontendStep({ own: { ...own, state: '6' }, backend: backend(S.Closing), local: { mapped: false, closeRequested: true } }))).toEqual({ kind: 'closed' });
  });
  for (const be of [S.Closing, S.Closed]) {
    it(`tears down when the backend goes to ${be} on its own`, () => {
      expect(frontendStep({ own, backend: backend(be), local: ready }).map((a) => a.kind)).toEqual(['unmap', 'transaction']);
    });
  }
});

describe('frontendStep: every state pair', () => {
  const values = ['0', '1', '2', '3', '4', '5', '6', '7', '8', 'garbage', undefined];
  const locals: FrontendLocal[] = [fresh, { mapped: true }, ready, { ...ready, closeRequested: true }, { mapped: false, closeRequested: true }];
  it('decides something valid for each (own state, backend state, local progress) without throwing', () => {
    let n = 0;
    for (const mine of values) for (const theirs of values) for (const local of locals) {
      const own: Record<string, string> = { ...published };
      if (mine === undefined) delete own.state;
      else own.state = mine;
      const actions = frontendStep({ own, backend: theirs === undefined ? {} : backend(theirs), local });
      expect(actions.length).toBeGreaterThan(0);
      for (const a of actions) {
        expect(['wait', 'transaction', 'error', 'map', 'alloc-channels', 'connected', 'unmap', 'closed']).toContain(a.kind);
        if (a.kind === 'error') expect(a.text.length).toBeLessThanOrEqual(VIF_LIMITS.maxErrorBytes);
        if (a.kind === 'transaction') for (const w of a.writes) expect(w.dir).toBe('frontend');
      }
      n++;
    }
    expect(n).toBe(values.length * values.length * locals.length);
  });
});
