import { describe, expect, it } from 'vitest';
import { createChannelPair } from '../src/index.js';
import { openFdCount } from './fds.js';

describe('createChannelPair', () => {
  it('gives each side four distinct descriptors and leaves each side pending once', () => {
    const [a, b] = createChannelPair();
    try {
      expect(new Set([a.rxFd, a.txFd, b.rxFd, b.txFd]).size).toBe(4);
      expect(a.drain()).toBe(1);
      expect(b.drain()).toBe(1);
      expect(a.drain()).toBe(0);
    } finally {
      a.close();
      b.close();
    }
  });

  it('notify on one side is drained on the other, per direction', () => {
    const [a, b] = createChannelPair();
    try {
      a.drain();
      b.drain();
      expect(a.notify()).toBe('sent');
      expect(a.notify()).toBe('sent');
      expect(b.drain()).toBe(2);
      expect(a.drain()).toBe(0);
      expect(a.stats).toEqual({ sent: 2, coalesced: 0, received: 1 });
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('ChannelEnd.wait', () => {
  it('resolves at once for a fresh channel (pending once: a spurious wake-up callers must tolerate)', async () => {
    const [a, b] = createChannelPair();
    try {
      expect(await b.wait(1000)).toBe(1);
      expect(await b.wait(0)).toBe(0);
    } finally {
      a.close();
      b.close();
    }
  });

  it('waits without blocking the event loop and wakes on notify', async () => {
    const [a, b] = createChannelPair();
    try {
      b.drain();
      let ticks = 0;
      const interval = setInterval(() => ticks++, 1);
      const woken = b.wait(10_000);
      await new Promise((r) => setTimeout(r, 30));
      a.notify();
      expect(await woken).toBe(1);
      clearInterval(interval);
      expect(ticks).toBeGreaterThan(3);
    } finally {
      a.close();
      b.close();
    }
  });

  it('resolves 0 after the timeout when nothing arrives', async () => {
    const [a, b] = createChannelPair();
    try {
      b.drain();
      const t0 = Date.now();
      expect(await b.wait(40)).toBe(0);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(35);
    } finally {
      a.close();
      b.close();
    }
  });

  it('rejects EVTCHN_CLOSED when the peer closes while we wait', async () => {
    const [a, b] = createChannelPair();
    b.drain();
    const waiting = b.wait(10_000);
    setTimeout(() => a.close(), 10);
    await expect(waiting).rejects.toMatchObject({ code: 'EVTCHN_CLOSED' });
    b.close();
  });

  it('rejects EVTCHN_END_CLOSED when this end is closed while waiting', async () => {
    const [a, b] = createChannelPair();
    b.drain();
    const waiting = b.wait(10_000);
    b.close();
    await expect(waiting).rejects.toMatchObject({ code: 'EVTCHN_END_CLOSED' });
    expect(() => b.notify()).toThrow(expect.objectContaining({ code: 'EVTCHN_END_CLOSED' }));
    a.close();
  });

  it('ping-pongs 2000 notifications through the event loop with no lost wake-up', async () => {
    const [a, b] = createChannelPair();
    try {
      a.drain();
      b.drain();
      let count = 0;
      const ponger = (async () => {
        for (let i = 0; i < 2000; i++) {
          expect(await b.wait(5000)).toBeGreaterThan(0);
          b.notify();
        }
      })();
      for (let i = 0; i < 2000; i++) {
        a.notify();
        expect(await a.wait(5000)).toBeGreaterThan(0);
        count++;
      }
      await ponger;
      expect(count).toBe(2000);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('isolation of the sides', () => {
  it('a side that never drains cannot block the notifier: notify coalesces', () => {
    const [dom0, tenant] = createChannelPair();
    try {
      const results = Array.from({ length: 10_000 }, () => dom0.notify());
      expect(results.filter((r) => r === 'coalesced').length).toBeGreaterThan(9_000);
      expect(dom0.stats.sent + dom0.stats.coalesced).toBe(10_000);
      expect(tenant.drain()).toBe(dom0.stats.sent + 1);
    } finally {
      dom0.close();
      tenant.close();
    }
  });

  it('closing one side is seen by the other as EVTCHN_CLOSED on notify and drain', () => {
    const [a, b] = createChannelPair();
    b.close();
    expect(a.drain()).toBe(1); // what was pending comes first
    expect(() => a.drain()).toThrow(expect.objectContaining({ code: 'EVTCHN_CLOSED' }));
    expect(() => a.notify()).toThrow(expect.objectContaining({ code: 'EVTCHN_CLOSED' }));
    a.close();
  });

  it('leaks no descriptor over 200 pairs with waits, notifies and closes', async () => {
    const before = openFdCount();
    for (let i = 0; i < 200; i++) {
      const [a, b] = createChannelPair();
      b.drain();
      const w = b.wait(1000);
      a.notify();
      await w;
      a.close();
      b.close();
    }
    expect(openFdCount()).toBe(before);
  });
});
