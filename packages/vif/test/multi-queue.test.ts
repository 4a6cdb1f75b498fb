/**
 * Multi-queue vifs (Xen netfront's multi-queue keys, vpio's ClickOS-style
 * layout where the backend publishes the ring refs): a vif with N > 1
 * queues publishes multi-queue-max-queues=N and every queue's refs under
 * queue-<i>/ (queue 0's flat too); a frontend using k > 1 queues writes
 * multi-queue-num-queues=k and queue-<i>/event-channel-{tx,rx}; one queue
 * stays exactly the layout without queues.
 */
import { describe, expect, it } from 'vitest';
import type { BackendAction, Dir, FrontendAction, KeyWrite, QueueGrant } from '../src/actions.js';
import { backendStep, publishTransaction, recordQueues, type BackendRecord, type BackendView } from '../src/backend-step.js';
import { frontendStep, queueCount, readRingGrants, type FrontendLocal } from '../src/frontend-step.js';
import { VIF_KEYS, VIF_LIMITS, XENBUS_STATES as S, queueDir, queueKey } from '../src/protocol.js';

const q = (base: number): QueueGrant => ({ tx: { numSlots: 256, refs: [base] }, rx: { numSlots: 512, refs: [base + 1, base + 2] } });
const one: BackendRecord = { tx: q(8).tx, rx: q(8).rx };
const four: BackendRecord = { ...one, extraQueues: [q(20), q(30), q(40)] };
const beDir = (state: number, extra: Dir = {}): Dir => ({ state: String(state), mac: '02:00:00:00:00:01', mtu: '1500', ...extra });
const view = (record: BackendRecord, frontend: Dir, own: Dir = beDir(S.InitWait)): BackendView => ({ own, frontend, record, local: { attached: false } });
const kinds = (a: readonly { kind: string }[]): string[] => a.map((x) => x.kind);
const writesOf = (a: BackendAction | FrontendAction | undefined): KeyWrite[] => (a?.kind === 'transaction' ? [...a.writes] : []);
const asDir = (writes: readonly KeyWrite[], dir: 'frontend' | 'backend'): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const w of writes) if (w.dir === dir && w.value !== null) out[w.key] = w.value;
  return out;
};
/** A frontend directory with k queues' channels: queue q's are 100 + 2q (tx) and 101 + 2q (rx). */
const feQueues = (k: number, extra: Dir = {}): Dir => {
  const d: Record<string, string> = { state: String(S.Connected), [VIF_KEYS.multiQueueNumQueues]: String(k) };
  for (let i = 0; i < k; i++) {
    d[queueKey(i, VIF_KEYS.eventChannelTx)] = String(100 + 2 * i);
    d[queueKey(i, VIF_KEYS.eventChannelRx)] = String(101 + 2 * i);
  }
  return { ...d, ...extra };
};

describe('publishing: one queue is the layout without queues', () => {
  it('N = 1 writes no multi-queue key and no queue-<i>/ key', () => {
    const keys = writesOf(publishTransaction(one, beDir(S.Initialising))).map((w) => w.key);
    expect(keys).toEqual([
      'feature-netmap', 'feature-netmap-tx-desc', 'tx-ring-refs', 'tx-ring-ref0',
      'feature-netmap-rx-desc', 'rx-ring-refs', 'rx-ring-ref0', 'rx-ring-ref1', 'state',
    ]);
    expect(writesOf(publishTransaction({ ...one, extraQueues: [] }, beDir(S.Initialising))).map((w) => w.key)).toEqual(keys);
  });
});

describe('publishing: N = 4', () => {
  it('adds multi-queue-max-queues=4 and every queue\'s refs under queue-<i>/, queue 0 also flat, state last, one transaction', () => {
    const a = backendStep(view(four, { state: '1' }, beDir(S.Initialising)));
    expect(kinds(a)).toEqual(['transaction']);
    const w = writesOf(a[0]);
    expect(w.at(-1)).toEqual({ dir: 'backend', key: 'state', value: '2' });
    expect(asDir(w, 'frontend')).toEqual({
      'feature-netmap': '1',
      'feature-netmap-tx-desc': '256', 'tx-ring-refs': '1', 'tx-ring-ref0': '8',
      'feature-netmap-rx-desc': '512', 'rx-ring-refs': '2', 'rx-ring-ref0': '9', 'rx-ring-ref1': '10',
      'multi-queue-max-queues': '4',
      'queue-0/tx-ring-refs': '1', 'queue-0/tx-ring-ref0': '8', 'queue-0/rx-ring-refs': '2', 'queue-0/rx-ring-ref0': '9', 'queue-0/rx-ring-ref1': '10',
      'queue-1/tx-ring-refs': '1', 'queue-1/tx-ring-ref0': '20', 'queue-1/rx-ring-refs': '2', 'queue-1/rx-ring-ref0': '21', 'queue-1/rx-ring-ref1': '22',
      'queue-2/tx-ring-refs': '1', 'queue-2/tx-ring-ref0': '30', 'queue-2/rx-ring-refs': '2', 'queue-2/rx-ring-ref0': '31', 'queue-2/rx-ring-ref1': '32',
      'queue-3/tx-ring-refs': '1', 'queue-3/tx-ring-ref0': '40', 'queue-3/rx-ring-refs': '2', 'queue-3/rx-ring-ref0': '41', 'queue-3/rx-ring-ref1': '42',
    });
    expect(w.filter((x) => x.dir === 'frontend').every((x) => !x.key.includes('event-channel'))).toBe(true);
  });
  it('the frontend reads back exactly what was published, for k = 1 (flat) and k = 4 (queue-<i>/)', () => {
    const own = asDir(writesOf(publishTransaction(four, {})), 'frontend');
    expect(readRingGrants(own)).toEqual({ ok: true, value: { tx: four.tx, rx: four.rx, extraQueues: [] } });
    expect(readRingGrants(own, 4)).toEqual({ ok: true, value: { tx: four.tx, rx: four.rx, extraQueues: four.extraQueues } });
    expect(recordQueues(four)).toHaveLength(4);
  });
  it('refuses its own record with more than 8 queues or queues of other sizes than queue 0', () => {
    const nine: BackendRecord = { ...one, extraQueues: Array.from({ length: VIF_LIMITS.maxQueues }, (_, i) => q(20 + 4 * i)) };
    expect(backendStep(view(nine, { state: '1' }, beDir(S.Initialising)))).toEqual([{ kind: 'error', text: 'backend record: 9 queues (at most 8)' }]);
    const odd: BackendRecord = { ...one, extraQueues: [{ tx: { numSlots: 1024, refs: [20] }, rx: q(20).rx }] };
    expect(backendStep(view(odd, { state: '1' }, beDir(S.Initialising)))).toEqual([{ kind: 'error', text: "backend record: queue 1: ring sizes differ from queue 0's" }]);
    const bad: BackendRecord = { ...one, extraQueues: [{ tx: q(20).tx, rx: { numSlots: 512, refs: [3] } }] };
    expect(backendStep(view(bad, { state: '1' }, beDir(S.Initialising)))).toEqual([{ kind: 'error', text: 'backend record: queue 1 rx ring: bad grant ref' }]);
  });
});

describe('connecting: the queues the frontend chose', () => {
  it('k = 4 of 4: one connect with every queue\'s ports in order', () => {
    expect(backendStep(view(four, feQueues(4)))[0]).toEqual({
      kind: 'connect', offload: false,
      queues: [{ txPort: 100, rxPort: 101 }, { txPort: 102, rxPort: 103 }, { txPort: 104, rxPort: 105 }, { txPort: 106, rxPort: 107 }],
    });
  });
  it('k = 2 < N = 4: two queues; queue-2/ keys left over from an earlier connect are not read', () => {
    const fe = feQueues(2, { 'queue-2/event-channel-tx': 'garbage', 'queue-3/event-channel-rx': '100' });
    expect(backendStep(view(four, fe))[0]).toEqual({ kind: 'connect', offload: false, queues: [{ txPort: 100, rxPort: 101 }, { txPort: 102, rxPort: 103 }] });
  });
  it('a frontend that writes no multi-queue-num-queues (knows nothing of queues) gets queue 0 on the flat keys', () => {
    const fe: Dir = { state: '4', 'event-channel-tx': '3', 'event-channel-rx': '4' };
    expect(backendStep(view(four, fe))[0]).toEqual({ kind: 'connect', offload: false, queues: [{ txPort: 3, rxPort: 4 }] });
  });
  it('multi-queue-num-queues=1 is one queue on the flat keys (as Xen netfront writes it)', () => {
    const fe: Dir = { state: '4', 'multi-queue-num-queues': '1', 'event-channel-tx': '3', 'event-channel-rx': '4', 'queue-0/event-channel-tx': '9' };
    expect(backendStep(view(four, fe))[0]).toEqual({ kind: 'connect', offload: false, queues: [{ txPort: 3, rxPort: 4 }] });
    expect(backendStep(view(one, fe))[0]).toEqual({ kind: 'connect', offload: false, queues: [{ txPort: 3, rxPort: 4 }] });
  });
  it('with k > 1 the flat channel keys are ignored (queue 0 is queue-0/)', () => {
    const fe = feQueues(2, { 'event-channel-tx': 'garbage', 'event-channel-rx': '100' });
    expect(kinds(backendStep(view(four, fe)))).toEqual(['connect', 'transaction']);
  });
  it('offload applies to every queue\'s port alike', () => {
    const a = backendStep(view({ ...four, offload: true }, feQueues(3, { 'request-netmap-offload': '1' })));
    expect(a[0]).toMatchObject({ kind: 'connect', offload: true });
    expect(a[0]?.kind === 'connect' && a[0].queues).toHaveLength(3);
  });
});

describe('connecting: every malformed frontend write is an error node, and no port', () => {
  const cases: Array<[string, BackendRecord, Dir, string]> = [];
  for (const v of ['0', '5', '9', '', 'abc', ' 2', '02', '2 ', '-1', '0x2', '4294967296', '2.0']) {
    cases.push([`multi-queue-num-queues = ${JSON.stringify(v)} of 4`, four, feQueues(2, { 'multi-queue-num-queues': v }), `multi-queue-num-queues: expected a queue count in [1, 4], got "${v}"`]);
  }
  cases.push(['multi-queue-num-queues = 2 to a one-queue vif', one, feQueues(2), 'multi-queue-num-queues: expected a queue count in [1, 1], got "2"']);
  for (const key of ['queue-0/event-channel-tx', 'queue-0/event-channel-rx', 'queue-1/event-channel-tx', 'queue-1/event-channel-rx']) {
    const missing: Record<string, string> = { ...feQueues(2) };
    delete missing[key];
    cases.push([`${key} missing`, four, missing, `${key}: expected a port in [1, 131071], got nothing`]);
    for (const v of ['0', 'x', '131072', '07']) cases.push([`${key} = ${JSON.stringify(v)}`, four, feQueues(2, { [key]: v }), `${key}: expected a port in [1, 131071], got "${v}"`]);
  }
  cases.push(['only flat channels with k = 2', four, { state: '4', 'multi-queue-num-queues': '2', 'event-channel-tx': '3', 'event-channel-rx': '4' }, 'queue-0/event-channel-tx: expected a port in [1, 131071], got nothing']);
  cases.push(['queue 1 short of its channels with k = 3', four, { ...feQueues(2), 'multi-queue-num-queues': '3' }, 'queue-2/event-channel-tx: expected a port in [1, 131071], got nothing']);
  cases.push(['the same port for a queue\'s TX and RX', four, feQueues(2, { 'queue-1/event-channel-rx': '102' }), `queue-1/event-channel-rx: expected a port other than queue-1/event-channel-tx's, got "102"`]);
  cases.push(['a port of queue 0 again in queue 1', four, feQueues(2, { 'queue-1/event-channel-tx': '101' }), `queue-1/event-channel-tx: expected a port other than queue-0/event-channel-rx's, got "101"`]);
  cases.push(['a port of queue 0 again in queue 3', four, feQueues(4, { 'queue-3/event-channel-rx': '100' }), `queue-3/event-channel-rx: expected a port other than queue-0/event-channel-tx's, got "100"`]);
  for (const [what, record, fe, text] of cases) {
    it(`${what}: error "${text.slice(0, 60)}...", written once, no connect`, () => {
      const a = backendStep(view(record, fe));
      expect(a).toEqual([{ kind: 'error', text }]);
      expect(backendStep(view(record, fe, beDir(S.InitWait, { error: text })))).toEqual([{ kind: 'wait', until: 'the frontend to correct its directory' }]);
    });
  }
  it('a corrected frontend connects (and its accepted Connected removes the error node)', () => {
    const a = backendStep(view(four, feQueues(2), beDir(S.InitWait, { error: 'multi-queue-num-queues: expected ...' })));
    expect(kinds(a)).toEqual(['connect', 'transaction']);
    expect(writesOf(a[1])).toEqual([{ dir: 'backend', key: 'error', value: null }, { dir: 'backend', key: 'state', value: '4' }]);
  });
});

describe('the frontend oracle', () => {
  const published = (record: BackendRecord): Dir => ({ state: '1', ...asDir(writesOf(publishTransaction(record, {})), 'frontend') });
  const step = (own: Dir, local: FrontendLocal): FrontendAction[] => frontendStep({ own, backend: beDir(S.InitWait), local });
  it('k = min(wanted, multi-queue-max-queues); absent = 1; one wanted never reads the key', () => {
    expect(queueCount(published(four), 2)).toEqual({ ok: true, value: 2 });
    expect(queueCount(published(four), 8)).toEqual({ ok: true, value: 4 });
    expect(queueCount(published(one), 8)).toEqual({ ok: true, value: 1 });
    expect(queueCount({ 'multi-queue-max-queues': 'junk' }, 1)).toEqual({ ok: true, value: 1 });
    expect(queueCount({ 'multi-queue-max-queues': '9' }, 2)).toEqual({ ok: false, problem: 'multi-queue-max-queues: expected a queue count in [1, 8], got "9"' });
  });
  it('maps k queues, allocates channels for k, writes multi-queue-num-queues and queue-<i>/ channels, state last', () => {
    const own = published(four);
    expect(step(own, { mapped: false, requestQueues: 3 })).toEqual([{ kind: 'map', tx: four.tx, rx: four.rx, extraQueues: four.extraQueues!.slice(0, 2) }]);
    expect(step(own, { mapped: true, requestQueues: 3 })).toEqual([{ kind: 'alloc-channels', queues: 3 }]);
    const w = writesOf(step(own, { mapped: true, requestQueues: 3, channels: { tx: 5, rx: 6 }, extraChannels: [{ tx: 7, rx: 8 }, { tx: 9, rx: 10 }] })[0]);
    expect(w.map((x) => [x.key, x.value])).toEqual([
      ['multi-queue-num-queues', '3'],
      ['queue-0/event-channel-tx', '5'], ['queue-0/event-channel-rx', '6'],
      ['queue-1/event-channel-tx', '7'], ['queue-1/event-channel-rx', '8'],
      ['queue-2/event-channel-tx', '9'], ['queue-2/event-channel-rx', '10'],
      ['state', '4'],
    ]);
  });
  it('one queue wanted (the default) is exactly the frontend without queues, and removes a stale multi-queue-num-queues', () => {
    const own = { ...published(four), 'multi-queue-num-queues': '4' };
    expect(step(own, { mapped: false })).toEqual([{ kind: 'map', tx: four.tx, rx: four.rx }]);
    expect(step(own, { mapped: true })).toEqual([{ kind: 'alloc-channels' }]);
    expect(writesOf(step(own, { mapped: true, channels: { tx: 5, rx: 6 } })[0]).map((x) => [x.key, x.value])).toEqual([
      ['multi-queue-num-queues', null], ['event-channel-tx', '5'], ['event-channel-rx', '6'], ['state', '4'],
    ]);
  });
  it('a garbage multi-queue-max-queues or queue-<i>/ ref from the backend is the frontend\'s error', () => {
    expect(step({ ...published(four), 'multi-queue-max-queues': '0' }, { mapped: false, requestQueues: 2 })).toEqual([{ kind: 'error', text: 'multi-queue-max-queues: expected a queue count in [1, 8], got "0"' }]);
    expect(step({ ...published(four), 'queue-1/rx-ring-ref1': '7' }, { mapped: false, requestQueues: 2 })).toEqual([{ kind: 'error', text: 'queue-1/rx-ring-ref1: expected a grant ref in [8, 4294967295], got "7"' }]);
    expect(step({ ...published(four), [`${queueDir(3)}/tx-ring-refs`]: '18' }, { mapped: false, requestQueues: 4 })).toEqual([{ kind: 'error', text: 'queue-3/tx-ring-refs: expected a ref count in [1, 17], got "18"' }]);
  });
});

describe('both steps together with N = 4', () => {
  for (const want of [1, 2, 4, 8]) {
    it(`a frontend wanting ${want} queue(s) connects with min(${want}, 4), then closes, in DESIGN.md's order`, () => {
      const fe: Record<string, string> = { state: '1' };
      const be: Record<string, string> = { state: '1', mac: '02:00:00:00:00:07', mtu: '1500' };
      const log: string[] = [];
      let local: FrontendLocal = { mapped: false, requestQueues: want };
      let attached: readonly unknown[] = [];
      let mapped: FrontendAction | undefined;
      const apply = (w: KeyWrite): void => {
        const d = w.dir === 'frontend' ? fe : be;
        if (w.value === null) delete d[w.key];
        else d[w.key] = w.value;
        if (w.key === 'state') log.push(`${w.dir} ${w.value}`);
      };
      for (let round = 0; round < 20; round++) {
        for (const a of backendStep({ own: be, frontend: fe, record: four, local: { attached: attached.length > 0 } })) {
          if (a.kind === 'transaction') a.writes.forEach(apply);
          if (a.kind === 'connect') attached = a.queues;
          if (a.kind === 'disconnect') attached = [];
          expect(a.kind).not.toBe('error');
        }
        for (const a of frontendStep({ own: fe, backend: be, local })) {
          if (a.kind === 'transaction') a.writes.forEach(apply);
          if (a.kind === 'map') {
            mapped = a;
            local = { ...local, mapped: true };
          }
          if (a.kind === 'alloc-channels') {
            const n = a.queues ?? 1;
            local = { ...local, channels: { tx: 11, rx: 12 }, extraChannels: Array.from({ length: n - 1 }, (_, i) => ({ tx: 13 + 2 * i, rx: 14 + 2 * i })) };
          }
          if (a.kind === 'connected') {
            const k = Math.min(want, 4);
            expect(attached).toEqual(Array.from({ length: k }, (_, i) => ({ txPort: 11 + 2 * i, rxPort: 12 + 2 * i })));
            expect(mapped?.kind === 'map' && (mapped.extraQueues ?? []).length).toBe(k - 1);
            local = { ...local, closeRequested: true };
          }
          if (a.kind === 'unmap') local = { mapped: false, closeRequested: true };
          expect(a.kind).not.toBe('error');
        }
      }
      expect(log).toEqual(['backend 2', 'frontend 4', 'backend 4', 'frontend 5', 'backend 5', 'frontend 6', 'backend 6']);
      expect(attached).toEqual([]);
    });
  }
});
