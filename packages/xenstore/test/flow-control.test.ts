// Flow control and memory as C xenstored 4.17 does them (xenstored_core.c
// send_reply/send_event, xenstored_domain.c domain_can_read): outstanding
// requests delay reading a guest, identical queued events are dropped, the
// memory quota answers ENOMEM and drops events, and every hit is logged.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultLogger, XenstoreEngine, type XenstoreLogEntry } from '../src/engine.js';
import { XS, type XenstoreQuotas, type XsMessageType } from '../src/protocol.js';
import type { XsMessage } from '../src/wire.js';

function setup(quotas: Partial<XenstoreQuotas> = {}) {
  const log: XenstoreLogEntry[] = [];
  const engine = new XenstoreEngine({ quotas, log: (e) => log.push(e) });
  /** A connection whose transport takes output only while `ready` is set. */
  const open = (domid = 0, ready = true) => {
    const got: XsMessage[] = [];
    const state = { ready, resumed: 0 };
    const conn = engine.connect({ send: (m) => got.push(m), close() {}, ready: () => state.ready, resume: () => void state.resumed++ }, domid);
    const send = (type: XsMessageType, payload: string | Buffer, txId = 0) =>
      engine.handle(conn, { type: XS[type], reqId: 1, txId, payload: typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload });
    const take = () => {
      state.ready = true;
      engine.pump(conn);
      return got.splice(0);
    };
    return { conn, got, state, send, take };
  };
  return { engine, open, log };
}

const text = (m: XsMessage) => m.payload.toString('latin1');

describe('outstanding requests (quota-outstanding, 20)', () => {
  it('delays reading a guest with 20 outstanding requests, never answers an error, resumes once output is taken', () => {
    const { engine, open, log } = setup();
    const g = open(5, false);
    for (let i = 0; i < 19; i++) g.send('GET_DOMAIN_PATH', '5\0');
    expect(engine.canRead(g.conn)).toBe(true);
    g.send('GET_DOMAIN_PATH', '5\0');
    expect(engine.outstandingOf(5)).toBe(20);
    expect(engine.canRead(g.conn)).toBe(false);
    const hit = log.filter((e) => e.event === 'quota');
    expect(hit).toHaveLength(1);
    expect(hit[0]?.quota).toEqual({ name: 'requestsOutstanding', value: 20, limit: 20, action: 'delayed' });
    const replies = g.take();
    expect(replies).toHaveLength(20);
    expect(replies.every((m) => m.type === XS.GET_DOMAIN_PATH)).toBe(true);
    expect(engine.outstandingOf(5)).toBe(0);
    expect(g.state.resumed).toBe(1);
    expect(engine.canRead(g.conn)).toBe(true);
  });

  it('never delays a privileged connection', () => {
    const { engine, open } = setup();
    const d0 = open(0, false);
    for (let i = 0; i < 100; i++) d0.send('GET_DOMAIN_PATH', '0\0');
    expect(engine.canRead(d0.conn)).toBe(true);
  });

  it('keeps a request outstanding until the watch events it caused are taken', () => {
    const { engine, open } = setup();
    const d0 = open();
    const g = open(5);
    d0.send('WRITE', '/local/domain/5/x\0');
    d0.send('SET_PERMS', '/local/domain/5\0n5\0');
    const watcher = open(0, false);
    watcher.send('WATCH', '/local/domain/5\0t\0');
    g.send('WRITE', 'y\0v');
    expect(g.got.map(text)).toEqual(['OK\0']);
    expect(engine.outstandingOf(5)).toBe(1);
    watcher.take();
    expect(engine.outstandingOf(5)).toBe(0);
  });

  it('counts output discarded with a closed connection as delivered', () => {
    const { engine, open } = setup();
    const g = open(5, false);
    for (let i = 0; i < 5; i++) g.send('GET_DOMAIN_PATH', '5\0');
    expect(engine.outstandingOf(5)).toBe(5);
    engine.disconnect(g.conn);
    expect(engine.outstandingOf(5)).toBe(0);
  });
});

describe('watch event queue', () => {
  it('drops an event identical to one still queued, but never an @ event', () => {
    const { engine, open } = setup();
    const d0 = open();
    const w = open(0, false);
    w.send('WATCH', '/a\0t\0');
    w.send('WATCH', '@introduceDomain\0s\0');
    d0.send('WRITE', '/a/b\0' + '1');
    d0.send('WRITE', '/a/b\0' + '2');
    d0.send('WRITE', '/a/c\0' + '3');
    d0.send('INTRODUCE', '3\0' + '1\0' + '1\0');
    d0.send('INTRODUCE', '4\0' + '1\0' + '1\0');
    const events = w.take().filter((m) => m.type === XS.WATCH_EVENT).map(text);
    expect(events).toEqual(['/a\0t\0', '@introduceDomain\0s\0', '/a/b\0t\0', '/a/c\0t\0', '@introduceDomain\0s\0', '@introduceDomain\0s\0']);
    expect(engine.stats.eventsDeduplicated).toBe(1);
    // Once taken, the same event is queued again.
    d0.send('WRITE', '/a/b\0' + '4');
    expect(w.got.map(text)).toEqual(['/a/b\0t\0']);
  });

  it("drops events beyond a guest's hard memory quota, logs it once, and keeps the connection", () => {
    const { engine, open, log } = setup({ memoryPerDomainBytes: 8192, memoryPerDomainSoftBytes: 0 });
    const d0 = open();
    d0.send('MKDIR', '/shared\0');
    d0.send('SET_PERMS', '/shared\0r0\0');
    const g = open(5, false);
    g.send('WATCH', '/shared\0t\0');
    for (let i = 0; i < 400; i++) d0.send('WRITE', `/shared/n${i}\0`);
    expect(engine.stats.eventsDropped).toBeGreaterThan(0);
    expect(engine.memoryOf(5)).toBeLessThan(8192);
    const drops = log.filter((e) => e.quota?.action === 'event-dropped');
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatchObject({ event: 'quota', level: 'warn', domid: 5, quota: { name: 'memoryPerDomainBytes', limit: 8192 } });
    expect(g.conn.closed).toBe(false);
  });
});

describe('memory per domain (2.5 MiB hard, 2 MiB soft)', () => {
  function guest(quotas: Partial<XenstoreQuotas>) {
    const s = setup(quotas);
    const d0 = s.open();
    const g = s.open(5);
    d0.send('MKDIR', '/local/domain/5\0');
    d0.send('SET_PERMS', '/local/domain/5\0n5\0');
    const call = (type: XsMessageType, payload: string) => {
      g.send(type, payload);
      const m = g.got.splice(0).find((r) => r.type !== XS.WATCH_EVENT) as XsMessage;
      return text(m).replace(/\0$/, '');
    };
    return { ...s, g, call };
  }

  it('defaults to Xen 4.17 figures', () => {
    const { engine } = setup();
    expect(engine.quotas.memoryPerDomainBytes).toBe(2.5 * 1024 * 1024);
    expect(engine.quotas.memoryPerDomainSoftBytes).toBe(2 * 1024 * 1024);
    expect(engine.quotas.requestsOutstanding).toBe(20);
  });

  it('answers ENOMEM when a write would reach the hard quota (>=, as domain_chk_quota) and logs the hit', () => {
    const { engine, call, log } = guest({ memoryPerDomainBytes: 20_000, memoryPerDomainSoftBytes: 0, nodeSizeBytes: 0 });
    expect(call('WRITE', 'v\0')).toBe('OK');
    const room = 20_000 - engine.store.usageOf(5).bytes;
    expect(call('WRITE', `v\0${'x'.repeat(room)}`)).toBe('ENOMEM');
    expect(call('WRITE', `v\0${'x'.repeat(room - 1)}`)).toBe('OK');
    const hits = log.filter((e) => e.quota?.name === 'memoryPerDomainBytes');
    expect(hits).toHaveLength(1);
    expect(hits[0]?.quota?.action).toBe('ENOMEM');
  });

  it('logs the soft quota once per crossing, not on every write', () => {
    const { call, log } = guest({ memoryPerDomainBytes: 0, memoryPerDomainSoftBytes: 4000, nodeSizeBytes: 0 });
    for (let i = 0; i < 10; i++) expect(call('WRITE', `n${i}\0${'x'.repeat(1000)}`)).toBe('OK');
    for (let i = 0; i < 10; i++) call('RM', `n${i}\0`);
    call('WRITE', `again\0${'x'.repeat(5000)}`);
    const soft = log.filter((e) => e.quota?.name === 'memoryPerDomainSoftBytes');
    expect(soft.map((e) => e.quota?.action)).toEqual(['logged', 'logged']);
  });

  it('delays reading a guest at its hard quota', () => {
    const { engine, g, call } = guest({ memoryPerDomainBytes: 6000, memoryPerDomainSoftBytes: 0, nodeSizeBytes: 0 });
    expect(call('WRITE', `a\0${'x'.repeat(3000)}`)).toBe('OK');
    g.state.ready = false;
    g.send('READ', 'a\0');
    expect(engine.canRead(g.conn)).toBe(false);
    g.state.ready = true;
    engine.pump(g.conn);
    expect(engine.canRead(g.conn)).toBe(true);
  });
});

describe('logging', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('is quiet by default and writes one structured line per entry under DEBUG=vpio:*', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      vi.stubEnv('DEBUG', '');
      defaultLogger()({ level: 'warn', event: 'quota', message: 'x', domid: 5 });
      expect(write).not.toHaveBeenCalled();
      vi.stubEnv('DEBUG', 'vpio:*');
      defaultLogger()({ level: 'warn', event: 'quota', message: 'x', domid: 5, quota: { name: 'requestsOutstanding', value: 20, limit: 20, action: 'delayed' } });
      expect(write).toHaveBeenCalledTimes(1);
      expect(String(write.mock.calls[0]?.[0])).toMatch(/^vpio:xenstore warn quota dom5 requestsOutstanding=20\/20 delayed: x\n$/);
    } finally {
      write.mockRestore();
    }
  });
});
