// Hostile peers: malformed frames, floods, a client that never reads, and a
// structure-aware fuzz run. The daemon answers with Xen's errors or closes
// that one connection, and keeps serving everyone else.
import { createConnection, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonFixture } from './helpers.js';
import { encodeMessage, FrameDecoder, type XsMessage } from '../src/wire.js';
import { MESSAGE_TYPES, XS } from '../src/protocol.js';
import { XenstoreEngine, type XenstoreLogEntry } from '../src/engine.js';

let fx: DaemonFixture;
beforeAll(async () => { fx = await startDaemon({ maxQueuedBytes: 64 * 1024 }); });
afterAll(async () => fx?.close());

function raw(): Promise<{ sock: Socket; next(): Promise<XsMessage>; closed: Promise<void> }> {
  return new Promise((resolve) => {
    const sock = createConnection(fx.path);
    const d = new FrameDecoder();
    const q: XsMessage[] = [];
    const waiters: Array<(m: XsMessage) => void> = [];
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    // A hostile peer keeps writing after the daemon dropped it: EPIPE/ECONNRESET
    // on this side is the expected outcome, not a test failure.
    sock.on('error', () => undefined);
    sock.on('data', (c) => { for (const m of d.push(c)) { const w = waiters.shift(); if (w) w(m); else q.push(m); } });
    sock.on('connect', () => resolve({ sock, closed, next: () => new Promise((r) => { const m = q.shift(); if (m) r(m); else waiters.push(r); }) }));
  });
}
const send = (s: Socket, type: number, payload: string | Buffer, txId = 0) =>
  s.write(encodeMessage({ type, reqId: 9, txId, payload: typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload }));
const text = (m: XsMessage) => m.payload.toString('latin1');

async function stillServes() {
  const c = await fx.client();
  await c.write('/alive', 'yes');
  expect(await c.readString('/alive')).toBe('yes');
}

describe('hostile input', () => {
  it('answers Xen errors for unknown types, missing NULs, bad perms and bad paths', async () => {
    const { sock, next } = await raw();
    const cases: Array<[number, string, string]> = [
      [200, 'x\0', 'ENOSYS'], [XS.WATCH_EVENT, 'a\0b\0', 'ENOSYS'], [XS.READ, '/a', 'EINVAL'],
      [XS.READ, '', 'EINVAL'], [XS.SET_PERMS, '/\0q1\0', 'EINVAL'], [XS.SET_PERMS, '/\0r\0', 'EINVAL'],
      [XS.WRITE, '/a b\0v', 'EINVAL'], [XS.WRITE, `/${'z'.repeat(3000)}\0v`, 'EINVAL'], [XS.WATCH, '/a\0', 'EINVAL'],
      [XS.TRANSACTION_END, 'Q\0', 'EINVAL'], [XS.TRANSACTION_END, 'T\0', 'ENOENT'],
    ];
    for (const [type, payload, err] of cases) {
      send(sock, type, payload);
      const m = await next();
      expect([m.type, text(m)]).toEqual([XS.ERROR, `${err}\0`]);
      expect(m.reqId).toBe(9);
    }
    sock.destroy();
    await stillServes();
  });

  it('drops a connection whose header announces more than 4096 bytes', async () => {
    const { sock, closed } = await raw();
    const h = Buffer.alloc(16);
    h.writeUInt32LE(XS.WRITE, 0);
    h.writeUInt32LE(5000, 12);
    sock.write(h);
    await closed;
    await stillServes();
  });

  it('keeps serving others while a truncated header waits', async () => {
    const { sock } = await raw();
    sock.write(Buffer.alloc(7));
    await stillServes();
    sock.destroy();
  });

  it('disconnects a client that never reads once its queue passes the bound', async () => {
    const { sock, closed } = await raw();
    sock.pause();
    const big = Buffer.concat([Buffer.from('/flood\0', 'latin1'), Buffer.alloc(4000, 97)]);
    send(sock, XS.WRITE, big);
    const read = encodeMessage({ type: XS.READ, reqId: 1, txId: 0, payload: Buffer.from('/flood\0') });
    for (let i = 0; i < 2000 && !sock.destroyed; i++) sock.write(read);
    await closed;
    await stillServes();
  });

  it('delays, never refuses or drops, a guest that pipelines 2000 reads without reading replies (quota-outstanding)', async () => {
    const log: XenstoreLogEntry[] = [];
    const own = await startDaemon({ maxQueuedBytes: 64 * 1024, log: (e) => log.push(e) });
    try {
      const setup = await own.client();
      await setup.write('/big', 'x'.repeat(4000));
      await setup.setPerms('/big', [{ access: 'r', domid: 0 }]);
      const sock = createConnection(own.path);
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.on('error', () => undefined);
      send(sock, XS.CONTROL, 'vpio-demote\0' + '7\0');
      const read = encodeMessage({ type: XS.READ, reqId: 1, txId: 0, payload: Buffer.from('/big\0') });
      sock.pause();
      for (let i = 0; i < 2000; i++) sock.write(read);
      await new Promise((r) => setTimeout(r, 300));
      // Stalled well before 2000: the kernel holds the rest; the daemon holds ~20 replies.
      expect(own.daemon.engine.stats.requests).toBeLessThan(1500);
      expect(own.daemon.engine.outstandingOf(7)).toBeLessThanOrEqual(20);
      expect(own.daemon.connectionCount).toBe(2);
      expect(log.some((e) => e.quota?.name === 'requestsOutstanding' && e.quota.action === 'delayed' && e.domid === 7)).toBe(true);
      const d = new FrameDecoder();
      const replies: XsMessage[] = [];
      await new Promise<void>((resolve) => {
        sock.on('data', (c) => {
          replies.push(...d.push(c));
          if (replies.length === 2001) resolve();
        });
        sock.resume();
      });
      expect(replies[0]?.type).toBe(XS.CONTROL);
      expect(replies.slice(1).every((m) => m.type === XS.READ && m.payload.length === 4000)).toBe(true);
      sock.destroy();
    } finally {
      await own.close();
    }
  });

  it('survives a watch flood and a transaction flood from one connection', async () => {
    const c = await fx.client();
    await Promise.all(Array.from({ length: 500 }, (_, i) => c.watch(`/wf/${i}`)));
    const ids = await Promise.all(Array.from({ length: 500 }, () => c.request('TRANSACTION_START', Buffer.from('\0'))));
    expect(new Set(ids.map((b) => b.toString())).size).toBe(500);
    await c.close();
    await stillServes();
  });
});

describe('structure-aware fuzz', () => {
  it('runs 10,000 generated requests through the engine and reaches every type and error', () => {
    let seed = 12345;
    // mulberry32: a small PRNG whose low bits are usable (an LCG's are not).
    const rnd = (n: number) => {
      seed = (seed + 0x6d2b79f5) >>> 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;
    const engine = new XenstoreEngine({ log: () => undefined });
    const replies: XsMessage[] = [];
    const conns = [0, 0, 3, 5].map((d) => engine.connect({ send: (m) => replies.push(m), close() {} }, d));
    const paths = ['/', '/a', '/a/b', '/a/b/c', 'rel', '/local/domain/3', '/local/domain/3/x', '@introduceDomain', '/a//b', '/a/', '', `/${'p'.repeat(2049)}`, '/bad char', '/tool/xenstored'];
    const perms = ['n0', 'r3', 'w5', 'b0', 'x1', 'r', 'n0x3', 'b-1', 'r99999'];
    const nums = ['0', '1', '3', '5', '-1', '32752', 'abc', '4294967295'];
    const reached = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const type = rnd(20) === 0 ? pick([23, 24, 100, 0xffff]) : rnd(MESSAGE_TYPES.length);
      // Structure first: a path (mostly valid) or a type-shaped first argument, then typed extras.
      const first = type === XS.CONTROL ? pick(['help', 'check', 'vpio-demote', 'log', 'nope']) : type === XS.TRANSACTION_END ? pick(['T', 'F', 'X']) : [XS.INTRODUCE, XS.RELEASE, XS.GET_DOMAIN_PATH, XS.IS_DOMAIN_INTRODUCED, XS.RESUME, XS.SET_TARGET].includes(type) ? pick(nums) : pick(paths);
      const extra = type === XS.SET_PERMS ? [pick(perms), pick(perms)] : type === XS.WATCH || type === XS.UNWATCH ? [pick(['tok', 't2'])] : type === XS.DIRECTORY_PART ? [pick(nums)] : [pick(nums), pick(nums), pick(perms)];
      const strs = [first, ...extra.slice(0, [XS.WATCH, XS.UNWATCH, XS.SET_PERMS, XS.DIRECTORY_PART, XS.INTRODUCE, XS.SET_TARGET, XS.CONTROL].includes(type) || rnd(6) === 0 ? 3 : 0)];
      let payload = Buffer.from(strs.map((s) => `${s}\0`).join(''), 'latin1');
      if (rnd(8) === 0) payload = payload.subarray(0, Math.max(0, payload.length - 1)); // drop the final NUL
      if (rnd(50) === 0) payload = Buffer.alloc(4096, 47);
      const slot = rnd(conns.length);
      // RELEASE closes the released domain's connections: reconnect like a guest would.
      if (conns[slot]!.closed) conns[slot] = engine.connect({ send: (m) => replies.push(m), close() {} }, conns[slot]!.domid);
      const conn = conns[slot]!;
      const txId = rnd(4) === 0 ? rnd(4) : 0;
      replies.length = 0;
      engine.handle(conn, { type, reqId: i, txId, payload });
      const reply = replies.find((m) => m.type !== XS.WATCH_EVENT);
      expect(reply, `request ${i} got no reply`).toBeDefined();
      expect(reply!.reqId).toBe(i);
      expect(reply!.payload.length).toBeLessThanOrEqual(4096);
      const key = reply!.type === XS.ERROR ? `${MESSAGE_TYPES[type] ?? type}:${reply!.payload.toString('latin1').replace('\0', '')}` : `${MESSAGE_TYPES[type]}:ok`;
      reached.set(key, (reached.get(key) ?? 0) + 1);
    }
    const okTypes = new Set([...reached.keys()].filter((k) => k.endsWith(':ok')).map((k) => k.split(':')[0]));
    const errors = new Set([...reached.keys()].filter((k) => !k.endsWith(':ok')).map((k) => k.split(':')[1]));
    if (process.env.FUZZ_DEBUG) console.log([...reached]);
    console.log(`fuzz reached ${reached.size} (type, outcome) pairs; ok types: ${[...okTypes].sort().join(' ')}; errors: ${[...errors].sort().join(' ')}`);
    for (const t of ['READ', 'WRITE', 'MKDIR', 'RM', 'DIRECTORY', 'GET_PERMS', 'SET_PERMS', 'WATCH', 'UNWATCH', 'TRANSACTION_START', 'TRANSACTION_END', 'GET_DOMAIN_PATH', 'RESET_WATCHES', 'DIRECTORY_PART']) {
      expect(okTypes, t).toContain(t);
    }
    for (const e of ['EINVAL', 'EACCES', 'ENOENT', 'ENOSYS', 'EEXIST']) expect(errors, e).toContain(e);
  });
});
