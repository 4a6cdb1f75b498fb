// The replayer's recording mode (what the differential test against Xen's
// C xenstored compares): normalised replies and per-step events, replaying
// past differences, and the diff of two records, through a real daemon.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonFixture } from './helpers.js';
import { loadStream, replayStream, validateStream, type XsStream } from '../src/replay.js';
import { diffRuns, formatDifference, RECORD_FORMAT, ReplyNormaliser, type RunRecord, type StreamRecord } from '../src/replay-record.js';
import { runReplayCli } from '../src/replay-cli.js';
import { XS } from '../src/protocol.js';
import type { XsMessage } from '../src/wire.js';

const streams = fileURLToPath(new URL('./streams/', import.meta.url));

let fx: DaemonFixture;
beforeAll(async () => { fx = await startDaemon(); });
afterAll(async () => fx?.close());

const tiny = (steps: unknown[], connections = 1): XsStream => validateStream({ name: 'rec', description: '', connections, steps });
const msg = (type: number, payload: string, txId = 0, reqId = 1): XsMessage => ({ type, reqId, txId, payload: Buffer.from(payload, 'latin1') });
const run = (label: string, ...s: StreamRecord[]): RunRecord => ({ format: RECORD_FORMAT, label, streams: s });

describe('recording replies', () => {
  it('names transaction ids after the step that saved them and keeps every other payload', async () => {
    const r = await replayStream(await loadStream(join(streams, '05-transactions.json')), { socketPath: fx.path, record: true });
    expect(r.status).toBe('ok');
    const steps = r.record?.steps ?? [];
    expect(steps).toHaveLength(31);
    expect(steps[1]).toEqual({ step: 2, conn: 0, request: 'TRANSACTION_START ["",""]', reply: { type: 'TRANSACTION_START', payload: ['<tx:t1>', ''] } });
    expect(steps[2]).toEqual({ step: 3, conn: 0, request: 'WRITE tx=t1 ["/rs/tx/k","inside"]', reply: { type: 'WRITE', payload: ['OK', ''] } });
    expect(steps[6]?.reply).toEqual({ type: 'ERROR', payload: ['ENOENT', ''] });
  });

  it('records the events each connection got after the step that caused them', async () => {
    const r = await replayStream(await loadStream(join(streams, '07-watches.json')), { socketPath: fx.path, record: true });
    expect(r.status).toBe('ok');
    const steps = r.record?.steps ?? [];
    expect(steps[0]?.events).toEqual({ 1: [['/rs/w', 't1', '']] });
    expect(steps[2]?.events).toEqual({ 1: [['/rs/w/k', 't1', '']], 2: [['/rs/w/k', 't2', '']] });
    expect(steps[3]?.events).toBeUndefined();
  });

  it('notes how many of the requesting connection\'s events came before its reply', async () => {
    const r = await replayStream(
      tiny([
        { type: 'WATCH', payload: ['/rec-w', 't', ''], expect: { payload: ['OK', ''] }, events: [{ conn: 0, path: '/rec-w', token: 't' }] },
        { type: 'WRITE', payload: ['/rec-w', 'v'], expect: { payload: ['OK', ''] }, events: [{ conn: 0, path: '/rec-w', token: 't' }] },
        { type: 'UNWATCH', payload: ['/rec-w', 't', ''], expect: { payload: ['OK', ''] } },
        { type: 'RM', payload: ['/rec-w', ''], expect: { payload: ['OK', ''] } },
      ]),
      { socketPath: fx.path, record: true },
    );
    expect(r.status).toBe('ok');
    expect(r.record?.steps[0]?.eventsBeforeReply).toBeUndefined();
    expect(r.record?.steps[1]?.eventsBeforeReply).toBe(1);
  });

  it('replays past a step that differs from its expectation, and counts only matching steps', async () => {
    const r = await replayStream(
      tiny([
        { type: 'READ', payload: ['/rec-none', ''], expect: { payload: ['x'] } },
        { type: 'WRITE', payload: ['/rec-a', 'v'], expect: { payload: ['OK', ''] } },
        { type: 'RM', payload: ['/rec-a', ''], expect: { payload: ['OK', ''] } },
      ]),
      { socketPath: fx.path, record: true },
    );
    expect(r.status).toBe('fail');
    expect(r.failures).toHaveLength(1);
    expect(r.steps).toBe(2);
    expect(r.record?.steps.map((s) => s.reply)).toEqual([
      { type: 'ERROR', payload: ['ENOENT', ''] },
      { type: 'WRITE', payload: ['OK', ''] },
      { type: 'RM', payload: ['OK', ''] },
    ]);
  });

  it('records a skipped stream with the reason', async () => {
    const s = validateStream({ name: 'p', description: '', connections: 1, requires: ['vpio-demote'], steps: [{ type: 'READ', payload: ['/', ''], expect: {} }] });
    const r = await replayStream(s, { socketPath: fx.path, skip: ['vpio-demote'], record: true, file: 'p.json' });
    expect(r.record).toEqual({ name: 'p', file: 'p.json', status: 'skip', failures: [], skipped: 'requires vpio-demote', steps: [] });
  });
});

describe('normalisation (only what may differ between daemons)', () => {
  it('numbers DIRECTORY_PART generations by first appearance, so equal stays equal', () => {
    const n = new ReplyNormaliser();
    const part = (gen: string) => n.reply(XS.DIRECTORY_PART, msg(XS.DIRECTORY_PART, `${gen}\0a\0\0`), 0, 1);
    expect(part('812')).toEqual({ type: 'DIRECTORY_PART', payload: ['<gen#1>', 'a', '', ''] });
    expect(part('812')).toEqual({ type: 'DIRECTORY_PART', payload: ['<gen#1>', 'a', '', ''] });
    expect(part('99')).toEqual({ type: 'DIRECTORY_PART', payload: ['<gen#2>', 'a', '', ''] });
  });

  it('hides CONTROL output but keeps the OK ack, errors and whether the output ends in NUL', () => {
    const n = new ReplyNormaliser();
    expect(n.reply(XS.CONTROL, msg(XS.CONTROL, 'check\t\nhelp\t\n\0'), 0, 1)).toEqual({ type: 'CONTROL', payload: ['<control output>', ''] });
    expect(n.reply(XS.CONTROL, msg(XS.CONTROL, 'check\t\n'), 0, 1)).toEqual({ type: 'CONTROL', payload: ['<control output>'] });
    expect(n.reply(XS.CONTROL, msg(XS.CONTROL, 'OK\0'), 0, 1)).toEqual({ type: 'CONTROL', payload: ['OK', ''] });
    expect(n.reply(XS.CONTROL, msg(XS.ERROR, 'EINVAL\0'), 0, 1)).toEqual({ type: 'ERROR', payload: ['EINVAL', ''] });
  });

  it('numbers unsaved transaction ids and names a reply tx_id that does not echo the request', () => {
    const n = new ReplyNormaliser();
    expect(n.reply(XS.TRANSACTION_START, msg(XS.TRANSACTION_START, '7\0'), 0, 1)).toEqual({ type: 'TRANSACTION_START', payload: ['<tx:#1>', ''] });
    expect(n.reply(XS.TRANSACTION_START, msg(XS.TRANSACTION_START, '9\0'), 0, 1, 'mine')).toEqual({ type: 'TRANSACTION_START', payload: ['<tx:mine>', ''] });
    expect(n.reply(XS.READ, msg(XS.READ, 'v', 9), 7, 1)).toEqual({ type: 'READ', payload: ['v'], txId: 'mine' });
    expect(n.reply(XS.READ, msg(XS.READ, 'v', 7, 5), 7, 4)).toEqual({ type: 'READ', payload: ['v'], reqId: 5 });
  });

  it('leaves values that merely look like ids or generations alone', () => {
    const n = new ReplyNormaliser();
    expect(n.reply(XS.READ, msg(XS.READ, '42\0'), 0, 1)).toEqual({ type: 'READ', payload: ['42', ''] });
    expect(n.reply(XS.TRANSACTION_START, msg(XS.ERROR, 'EBUSY\0'), 0, 1)).toEqual({ type: 'ERROR', payload: ['EBUSY', ''] });
  });
});

describe('diffing two records', () => {
  const step = (payload: string[], events?: Record<string, string[][]>) => ({ step: 1, conn: 0, request: 'READ ["/a",""]', reply: { type: 'READ', payload }, ...(events ? { events } : {}) });
  const stream = (name: string, steps: ReturnType<typeof step>[], skipped?: string): StreamRecord => ({ name, status: 'ok', failures: [], steps, ...(skipped ? { skipped } : {}) });

  it('finds no difference between identical runs', () => {
    expect(diffRuns(run('a', stream('s', [step(['v'])])), run('b', stream('s', [step(['v'])])))).toEqual([{ name: 's', status: 'same', differences: [], steps: 1 }]);
  });

  it('reports a differing reply or event list with both sides', () => {
    const [d] = diffRuns(run('xen-c', stream('s', [step(['v'], { 1: [['/a', 't', '']] })])), run('vpio', stream('s', [step(['v'])])));
    expect(d?.status).toBe('differ');
    expect(formatDifference(d!.differences[0]!, 'xen-c', 'vpio')).toEqual([
      'step 1 (conn 0 READ ["/a",""])',
      '  xen-c  READ ["v"]',
      '         events: conn 1: ["/a","t",""]',
      '  vpio   READ ["v"]',
      '         events: none',
    ]);
  });

  it('reports a step only one side reached', () => {
    const [d] = diffRuns(run('a', stream('s', [step(['v']), { ...step(['w']), step: 2 }])), run('b', stream('s', [step(['v'])])));
    expect(d?.differences).toHaveLength(1);
    expect(formatDifference(d!.differences[0]!, 'a', 'b')[3]).toBe('  b  (step not reached)');
  });

  it('does not compare a stream skipped on either side, and flags one missing from a record', () => {
    const diffs = diffRuns(run('xen-c', stream('s', [], 'requires vpio-demote'), stream('t', [])), run('vpio', stream('s', [step(['v'])])));
    expect(diffs).toEqual([
      { name: 's', status: 'skip', reason: 'skipped on xen-c (requires vpio-demote)', differences: [], steps: 0 },
      { name: 't', status: 'missing', reason: "not in vpio's record", differences: [], steps: 0 },
    ]);
  });
});

describe('vpio-xs-replay --record and --diff', () => {
  it('writes a record, finds two runs of the same daemon alike, and prints a difference with both replies', async () => {
    const files = ['01-read-write.json', '02-directory.json', '12-unprivileged.json'].map((f) => join(streams, f));
    const a = join(fx.dir, 'a.json');
    const b = join(fx.dir, 'b.json');
    let out = '';
    expect(await runReplayCli(['--socket', fx.path, '--record', a, '--label', 'one', '--skip', 'vpio-demote', ...files], (s) => (out += s))).toBe(0);
    expect(out).toMatch(/# SKIP requires vpio-demote/);
    expect(await runReplayCli(['--socket', fx.path, '--record', b, '--label', 'two', ...files], () => undefined)).toBe(0);
    const recA = JSON.parse(await readFile(a, 'utf8')) as RunRecord;
    expect(recA.format).toBe(RECORD_FORMAT);
    expect(recA.label).toBe('one');
    expect(recA.streams.map((s) => s.name)).toEqual(['read-write', 'directory', 'unprivileged']);
    const part = recA.streams[1]?.steps.find((s) => s.request.startsWith('DIRECTORY_PART'));
    expect(part?.reply).toEqual({ type: 'DIRECTORY_PART', payload: ['<gen#1>', 'x', 'a', 'b', '', ''] });

    out = '';
    expect(await runReplayCli(['--diff', a, b], (s) => (out += s))).toBe(0);
    expect(out).toBe('ok 1 - read-write (15 steps alike)\nok 2 - directory (13 steps alike)\nok 3 - unprivileged # SKIP skipped on one (requires vpio-demote)\n1..3\n');

    const changed: RunRecord = { ...recA, streams: recA.streams.map((s, i) => (i === 0 ? { ...s, steps: s.steps.map((st, j) => (j === 1 ? { ...st, reply: { type: 'ERROR', payload: ['ENOENT', ''] } } : st)) } : s)) };
    const c = join(fx.dir, 'c.json');
    await writeFile(c, JSON.stringify(changed));
    out = '';
    expect(await runReplayCli(['--diff', c, b], (s) => (out += s))).toBe(1);
    expect(out).toContain('not ok 1 - read-write (1 of 15 steps differ)\n# step 2 (conn 0 READ ["/rs/rw/a",""])\n#   one  ERROR ["ENOENT",""]\n');
    expect(out).toContain('#   two  READ ["hello"]\n');
  });

  it('refuses --diff without two record files', async () => {
    let out = '';
    expect(await runReplayCli(['--diff', join(streams, '01-read-write.json')], (s) => (out += s))).toBe(2);
    expect(await runReplayCli(['--diff', join(streams, '01-read-write.json'), join(streams, '02-directory.json')], (s) => (out += s))).toBe(2);
    expect(out).toMatch(/is not a vpio-xs-record\/1 record/);
  });
});
