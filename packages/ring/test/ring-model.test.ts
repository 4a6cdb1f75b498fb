/**
 * The real C burst helpers of both sides (vpio/ring_be.h, vpio/ring_fe.h,
 * driven through RingHarness) against a plain model: a FIFO of capacity
 * num_slots - 1 plus the two kick words. Random operation sequences on
 * small rings wrap many times; after every operation the counts, the FIFO
 * order and content (each packet carries its sequence number in its bytes),
 * the indices on both sides and the kick flags must match the model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RING_KINDS } from '../src/layout.js';
import { RingHarness } from '../src/ring-harness.js';
import { RingView } from '../src/ring-view.js';

const BUF_SIZE = 256;

/** Packet `seq` of `len` bytes: the sequence number, then bytes derived from it. */
function packet(seq: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 4; i < len; i++) b[i] = (seq * 31 + i) & 0xff;
  b.writeUInt32LE(seq, 0);
  return b;
}

type Op =
  | { readonly kind: 'produce'; readonly count: number; readonly lenSeed: number }
  | { readonly kind: 'consume'; readonly max: number }
  | { readonly kind: 'feSleep' }
  | { readonly kind: 'beSleep' }
  | { readonly kind: 'feWoken' }
  | { readonly kind: 'beWoken' };

function opsArb(numSlots: number, minLength: number, maxLength: number): fc.Arbitrary<Op[]> {
  // burst sizes biased to the edges: 0, 1, a full ring, one more than fits
  const count = fc.oneof(
    fc.constantFrom(0, 1, numSlots - 2, numSlots - 1, numSlots, numSlots + 1),
    fc.integer({ min: 0, max: numSlots + 1 }),
  );
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(count, fc.nat()).map(([n, lenSeed]): Op => ({ kind: 'produce', count: n, lenSeed })) },
    { weight: 6, arbitrary: count.map((max): Op => ({ kind: 'consume', max })) },
    { weight: 1, arbitrary: fc.constant<Op>({ kind: 'feSleep' }) },
    { weight: 1, arbitrary: fc.constant<Op>({ kind: 'beSleep' }) },
    { weight: 1, arbitrary: fc.constant<Op>({ kind: 'feWoken' }) },
    { weight: 1, arbitrary: fc.constant<Op>({ kind: 'beWoken' }) },
  );
  return fc.array(op, { minLength, maxLength });
}

/** Length of the i-th packet of a burst: 14..96 bytes, from the op's seed. */
function burstLen(lenSeed: number, i: number): number {
  return 14 + ((lenSeed + i * 37) % 83);
}

/** expect() costs microseconds; per-packet checks use this and fail the property the same way. */
function eq(actual: unknown, expected: unknown, what: string): void {
  if (actual !== expected) throw new Error(`${what}: got ${String(actual)}, model says ${String(expected)}`);
}

/** The model: what must be in flight, and who asked to be kicked. */
class Model {
  readonly fifo: { seq: number; len: number }[] = [];
  produced = 0;
  consumed = 0;
  feArmed = false;
  beArmed = false;
  maxInFlight = 0;

  constructor(readonly numSlots: number) {}

  get capacity(): number {
    return this.numSlots - 1;
  }

  get size(): number {
    return this.fifo.length;
  }
}

function newPort(kind: 'tx' | 'rx', numSlots: number): { h: RingHarness; view: RingView } {
  const ring = Buffer.alloc(RingView.bytes(numSlots));
  const nrBufs = numSlots;
  const pool = Buffer.alloc(nrBufs * BUF_SIZE);
  const h = new RingHarness(ring, pool);
  expect(h.beInit({ kind: RING_KINDS[kind], numSlots, bufSize: BUF_SIZE, nrBufs })).toBe(0);
  expect(h.feAttach(RING_KINDS[kind])).toBe(0);
  return { h, view: new RingView(ring, 0, { kind }) };
}

/**
 * One run. TX: the guest produces (feTxBurst) and the backend consumes
 * (beTxBurst). RX: the backend produces (beRxBurst), the guest consumes
 * (feRxBurst). Returns the packets moved and the most ever in flight.
 */
function runOps(kind: 'tx' | 'rx', numSlots: number, ops: readonly Op[]): { moved: number; maxInFlight: number } {
  const { h, view } = newPort(kind, numSlots);
  const m = new Model(numSlots);
  const mask = numSlots - 1;
  let beSeenConsumed = 0; // RX: the guest head the backend last accepted

  for (const op of ops) {
    switch (op.kind) {
      case 'produce': {
        const pkts = Array.from({ length: op.count }, (_, i) => packet(m.produced + i, burstLen(op.lenSeed, i)));
        const want = Math.min(pkts.length, m.capacity - m.size);
        let n: number;
        let kick: number;
        if (kind === 'tx') {
          ({ n, kick } = h.feTxBurst(pkts));
          eq(kick, n > 0 && m.beArmed ? 1 : 0, 'feTxBurst kick');
        } else {
          const r = h.beRxBurst(pkts);
          ({ n, kick } = r);
          eq(r.drops.every((d) => d === 0), true, 'no drops');
          eq(kick, n > 0 && m.feArmed ? 1 : 0, 'beRxBurst kick');
          beSeenConsumed = m.consumed;
        }
        eq(n, want, 'packets enqueued');
        for (let i = 0; i < n; i++) m.fifo.push({ seq: m.produced + i, len: burstLen(op.lenSeed, i) });
        m.produced += n;
        break;
      }
      case 'consume': {
        const want = Math.min(op.max, m.size);
        let packets: Buffer[];
        let kick: number;
        if (kind === 'tx') {
          const r = h.beTxBurst(op.max);
          ({ packets, kick } = r);
          eq(r.drops.every((d) => d === 0), true, 'no drops');
          eq(kick, packets.length > 0 && m.feArmed ? 1 : 0, 'beTxBurst kick');
        } else {
          ({ packets, kick } = h.feRxBurst(op.max));
          eq(kick, packets.length > 0 && m.beArmed ? 1 : 0, 'feRxBurst kick');
        }
        eq(packets.length, want, 'packets dequeued');
        for (const p of packets) {
          const expected = m.fifo.shift();
          if (expected === undefined) throw new Error('model underflow');
          // FIFO order and content: nothing lost, duplicated, reordered or corrupted
          eq(p.length, expected.len, `length of packet ${expected.seq}`);
          eq(p.readUInt32LE(0), expected.seq, 'sequence number');
          eq(p.equals(packet(expected.seq, expected.len)), true, `content of packet ${expected.seq}`);
        }
        m.consumed += packets.length;
        break;
      }
      case 'feSleep': {
        // TX: the guest waits for free slots; RX: for packets.
        const canSleep = kind === 'tx' ? m.size === m.capacity : m.size === 0;
        const r = h.fePrepareSleep();
        eq(r, canSleep ? 1 : 0, 'fePrepareSleep');
        m.feArmed = r === 1;
        eq(view.feNeedKick, m.feArmed ? 1 : 0, 'fe_need_kick');
        break;
      }
      case 'beSleep': {
        // TX: the backend waits for packets; RX (lossless): for space.
        const canSleep = kind === 'tx' ? m.size === 0 : m.size === m.capacity;
        const r = h.bePrepareSleep();
        eq(r, canSleep ? 1 : 0, 'bePrepareSleep');
        m.beArmed = r === 1;
        eq(view.beNeedKick, m.beArmed ? 1 : 0, 'be_need_kick');
        break;
      }
      case 'feWoken':
        h.feWoken();
        m.feArmed = false;
        eq(view.feNeedKick, 0, 'fe_need_kick');
        break;
      case 'beWoken':
        h.beWoken();
        m.beArmed = false;
        eq(view.beNeedKick, 0, 'be_need_kick');
        break;
    }

    // never more than num_slots - 1 in flight: one slot always stays empty
    if (m.size > m.capacity) throw new Error(`${m.size} packets in flight on ${numSlots} slots`);
    m.maxInFlight = Math.max(m.maxInFlight, m.size);
    // both sides' indices agree with the model and with each other
    if (kind === 'tx') {
      eq(h.feHead, m.produced & mask, 'guest head');
      eq(view.head, m.produced & mask, 'hdr.head');
      eq(view.cur, m.produced & mask, 'hdr.cur');
      eq(h.hwcur, m.consumed & mask, 'hwcur');
      eq(h.hwtail, (m.consumed - 1) & mask, 'hwtail');
      eq(view.tail, h.hwtail, 'hdr.tail');
    } else {
      eq(h.feHead, m.consumed & mask, 'guest head');
      eq(view.head, m.consumed & mask, 'hdr.head');
      eq(h.hwtail, m.produced & mask, 'hwtail');
      eq(view.tail, m.produced & mask, 'hdr.tail');
      eq(h.hwcur, beSeenConsumed & mask, 'hwcur');
    }
    // the guest's view of the same state: empty and full exactly when the model is
    eq(view.used(), m.size, 'used()');
    eq(view.free(), m.capacity - m.size, 'free()');
  }
  return { moved: m.consumed, maxInFlight: m.maxInFlight };
}

describe.each(['tx', 'rx'] as const)('%s ring: C helpers against the FIFO model', (kind) => {
  it.each([64, 128])('keeps order, counts and kicks over long sequences that wrap (%i slots)', (numSlots) => {
    fc.assert(
      fc.property(opsArb(numSlots, 600, 900), (ops) => {
        const { moved, maxInFlight } = runOps(kind, numSlots, ops);
        // long runs wrap the ring many times, and fill it to the last usable slot
        expect(moved).toBeGreaterThanOrEqual(20 * numSlots);
        expect(maxInFlight).toBe(numSlots - 1);
      }),
      { numRuns: 4 },
    );
  });

  it('matches the model on many short sequences (64 slots)', () => {
    fc.assert(
      fc.property(opsArb(64, 1, 60), (ops) => {
        runOps(kind, 64, ops);
      }),
      { numRuns: 150 },
    );
  });

  it('fills exactly num_slots - 1 slots, then refuses, then drains empty', () => {
    const numSlots = 64;
    const fill: Op = { kind: 'produce', count: numSlots + 5, lenSeed: 46 };
    const r = runOps(kind, numSlots, [fill, fill, { kind: 'consume', max: 1000 }, { kind: 'consume', max: 1 }, fill]);
    expect(r).toEqual({ moved: numSlots - 1, maxInFlight: numSlots - 1 });
  });
});

describe('kick flags', () => {
  it('a guest sleeping on an empty RX ring is kicked by the next burst, not after it woke', () => {
    const { h, view } = newPort('rx', 64);
    expect(h.fePrepareSleep()).toBe(1);
    expect(view.feNeedKick).toBe(1);
    expect(h.beRxBurst([packet(0, 60)]).kick).toBe(1);
    h.feWoken();
    expect(view.feNeedKick).toBe(0);
    expect(h.beRxBurst([packet(1, 60)]).kick).toBe(0);
    // packets waiting: the guest must not sleep, and its word is left clear
    expect(h.fePrepareSleep()).toBe(0);
    expect(h.beRxBurst([packet(2, 60)]).kick).toBe(0);
  });

  it('a backend sleeping on an empty TX ring is kicked by the guest, not after it woke', () => {
    const { h } = newPort('tx', 64);
    expect(h.bePrepareSleep()).toBe(1);
    expect(h.feTxBurst([packet(0, 60)]).kick).toBe(1);
    h.beWoken();
    expect(h.feTxBurst([packet(1, 60)]).kick).toBe(0);
    expect(h.bePrepareSleep()).toBe(0);
  });
});
