// The recorded request/reply streams (test/streams/*.json) replayed over a
// real socket against our daemon, with the same replayer the xen-mode lab
// points at Xen's C xenstored. All streams share one daemon, in file order,
// as the lab runs them: each works under its own prefix and cleans up.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonFixture } from './helpers.js';
import { decodePieces, encodePieces, loadStream, replayStream, validateStream, type XsStream } from '../src/replay.js';
import { runReplayCli } from '../src/replay-cli.js';
import { MESSAGE_TYPES } from '../src/protocol.js';

const dir = fileURLToPath(new URL('./streams/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

let fx: DaemonFixture;
beforeAll(async () => { fx = await startDaemon(); });
afterAll(async () => fx?.close());

describe('recorded streams against vpio-xenstored', () => {
  it('there are at least 10, and together they send every request type of Xen 4.17', async () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
    const sent = new Set<string>();
    for (const f of files) for (const s of (await loadStream(join(dir, f))).steps) sent.add(typeof s.type === 'number' ? String(s.type) : s.type);
    const requests = MESSAGE_TYPES.filter((t) => t !== 'RESTRICT');
    expect(requests.filter((t) => !sent.has(t))).toEqual([]);
  });

  for (const f of files) {
    it(`${f} replays with no difference`, async () => {
      const r = await replayStream(await loadStream(join(dir, f)), { socketPath: fx.path });
      expect(r.failures).toEqual([]);
      expect(r.status).toBe('ok');
    });
  }

  it('leaves the store as it found it (every stream cleans up its prefix)', async () => {
    const c = await fx.client();
    expect(await c.directory('/')).toEqual(['tool', 'local']);
  });
});

describe('the replayer', () => {
  const tiny = (steps: unknown[], connections = 1): XsStream => validateStream({ name: 'probe', description: '', connections, steps });

  it('reports a reply that differs, naming the step, what was expected and what came', async () => {
    const r = await replayStream(tiny([{ type: 'READ', payload: ['/nope', ''], expect: { payload: ['x'] } }]), { socketPath: fx.path });
    expect(r.status).toBe('fail');
    expect(r.failures[0]).toMatch(/step 1 .*expected \["x"\], got error \["ENOENT",""\]|expected .*ENOENT/);
  });

  it('reports a watch event nobody expected at the step that caused it, without timing', async () => {
    const r = await replayStream(tiny([{ type: 'WATCH', payload: ['/probe', 't', ''], expect: { payload: ['OK', ''] } }]), { socketPath: fx.path });
    expect(r.failures).toEqual(['step 1 (conn 0 WATCH ["/probe","t",""]): unexpected watch event on conn 0: /probe t']);
  });

  it('reports an expected event that does not come before the next round trip', async () => {
    const r = await replayStream(
      tiny([{ type: 'WRITE', payload: ['/probe2', 'v'], expect: { payload: ['OK', ''] }, events: [{ conn: 0, path: '/probe2', token: 'x' }] }]),
      { socketPath: fx.path, timeoutMs: 100 },
    );
    expect(r.failures[0]).toMatch(/step 1 .*expected event \/probe2 x on conn 0, none came/);
  });

  it('reports an event that came to another connection than expected', async () => {
    const r = await replayStream(
      tiny(
        [
          { conn: 1, type: 'WATCH', payload: ['/probe3', 'w', ''], expect: { payload: ['OK', ''] }, events: [{ conn: 1, path: '/probe3', token: 'w' }] },
          { conn: 0, type: 'WRITE', payload: ['/probe3', 'v'], expect: { payload: ['OK', ''] }, events: [{ conn: 0, path: '/probe3', token: 'w' }] },
          { conn: 0, type: 'RM', payload: ['/probe3', ''], expect: { payload: ['OK', ''] } },
        ],
        2,
      ),
      { socketPath: fx.path },
    );
    expect(r.failures).toEqual([
      'step 2 (conn 0 WRITE ["/probe3","v"]): expected event /probe3 w on conn 0, none came',
      'step 2 (conn 0 WRITE ["/probe3","v"]): unexpected watch event on conn 1: /probe3 w',
    ]);
  });

  it('skips a stream that requires a capability the daemon lacks', async () => {
    const s = validateStream({ name: 'p', description: '', connections: 1, requires: ['vpio-demote'], steps: [{ type: 'READ', payload: ['/', ''], expect: {} }] });
    expect(await replayStream(s, { socketPath: fx.path, skip: ['vpio-demote'] })).toMatchObject({ status: 'skip', reason: 'requires vpio-demote' });
  });

  it('rejects a malformed stream, naming the field', () => {
    expect(() => tiny([{ type: 'READ', payload: '/x', expect: {} }])).toThrow(/steps\[0\]\.payload/);
    expect(() => tiny([{ type: 'NOPE', payload: [], expect: {} }])).toThrow(/steps\[0\]\.type/);
    expect(() => tiny([{ type: 'READ', conn: 3, payload: [], expect: {} }])).toThrow(/steps\[0\]\.conn/);
    expect(() => tiny([{ type: 'READ', payload: [], expect: { error: 'EWHAT' } }])).toThrow(/expect\.error/);
  });

  it('encodes payload pieces joined by NUL and back', () => {
    expect(encodePieces(['/a', '']).toString('latin1')).toBe('/a\0');
    expect(encodePieces(['/a', 'v']).toString('latin1')).toBe('/a\0v');
    expect(decodePieces(Buffer.from('a\0b\0', 'latin1'))).toEqual(['a', 'b', '']);
    expect(decodePieces(Buffer.alloc(0))).toEqual([]);
  });

  it('vpio-xs-replay prints TAP and exits 0 when every stream passes', async () => {
    let out = '';
    const code = await runReplayCli(['--socket', fx.path, '--skip', 'vpio-demote', ...files.map((f) => join(dir, f))], (s) => (out += s));
    expect(out).toMatch(/^ok 1 - read-write/m);
    expect(out).toMatch(/# SKIP requires vpio-demote/);
    expect(out).toContain(`1..${files.length}`);
    expect(code).toBe(0);
  });

  it('vpio-xs-replay exits 2 on usage errors and 1 when a stream fails', async () => {
    const sink = () => undefined;
    expect(await runReplayCli([], sink)).toBe(2);
    expect(await runReplayCli(['--bogus'], sink)).toBe(2);
    expect(await runReplayCli(['--socket', fx.path, '/nonexistent.json'], sink)).toBe(1);
  });
});
