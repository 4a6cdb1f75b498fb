/**
 * RingView against the C side: it reads what vring_be_init() wrote, its own
 * init() writes the same bytes, and what a guest writes through it is judged
 * by the real burst helpers (RingHarness) exactly as ring.h says: a hostile
 * guest's heads, curs and slots are dropped and counted by reason while the
 * good packets still go through. Also: the clear errors of a view over the
 * wrong memory, and the harness's own argument checks.
 */
import { ArgumentError } from '@vpio/errors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GSO,
  HEADER_LAYOUT,
  OFFLOAD_FLAGS,
  RING_ABI_VERSION,
  RING_FEATURES,
  RING_KINDS,
  RING_MAGIC,
  SLOT_FLAGS,
} from '../src/layout.js';
import { loadNative } from '../src/native.js';
import { RingError } from '../src/ring-error.js';
import { RingHarness, initRing } from '../src/ring-harness.js';
import { type RingGeometry, RingView } from '../src/ring-view.js';
import { type Verdict, VERDICTS, verdictValue } from '../src/verdict.js';

const BUF = 256;
const EPROTO = 71;
const EPROTONOSUPPORT = 93;
const EINVAL = 22;
const ERANGE = 34;

function packet(seq: number, len = 60): Buffer {
  const b = Buffer.alloc(len, seq & 0xff);
  b.writeUInt32LE(seq, 0);
  return b;
}

/** A raw u32 write into the header, as a hostile guest does (RingView refuses indices >= num_slots). */
function poke32(ring: Buffer, offset: number, value: number): void {
  ring.writeUInt32LE(value >>> 0, offset);
}

interface Port {
  ring: Buffer;
  pool: Buffer;
  h: RingHarness;
  view: RingView;
}

function port(kind: 'tx' | 'rx', numSlots = 64, features = 0, nrBufs = numSlots): Port {
  const ring = Buffer.alloc(RingView.bytes(numSlots));
  const pool = Buffer.alloc(nrBufs * BUF);
  const h = new RingHarness(ring, pool);
  expect(h.beInit({ kind: RING_KINDS[kind], numSlots, bufSize: BUF, nrBufs, features })).toBe(0);
  expect(h.feAttach(RING_KINDS[kind])).toBe(0);
  return { ring, pool, h, view: new RingView(ring, 0, { kind }) };
}

/** drops[] of a burst as {verdict: count}, zero counts left out. */
function dropsByName(drops: readonly number[]): Partial<Record<Verdict, number>> {
  const out: Partial<Record<Verdict, number>> = {};
  drops.forEach((n, v) => {
    const name = VERDICTS[v];
    if (n > 0 && name !== undefined) out[name] = n;
  });
  return out;
}

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

// -- reading and writing the header ----------------------------------------

describe('RingView reads what the C side wrote', () => {
  it('sees every header field and slot of a ring set up by vring_be_init()', () => {
    const mem = Buffer.alloc(64 + RingView.bytes(128));
    const geometry = { kind: RING_KINDS.tx, numSlots: 128, bufSize: 2048, nrBufs: 300, firstBuf: 100, features: RING_FEATURES.chain };
    expect(initRing(mem, 64, geometry)).toBe(0);
    const v = new RingView(mem, 64);
    expect(v.magic).toBe(RING_MAGIC);
    expect(v.abiVersion).toBe(RING_ABI_VERSION);
    expect(v.kind).toBe('tx');
    expect(v.numSlots).toBe(128);
    expect(v.bufSizeBytes).toBe(2048);
    expect(v.nrBufs).toBe(300);
    expect(v.features).toBe(RING_FEATURES.chain);
    expect(v.ringBytes).toBe(RingView.bytes(128));
    expect([v.head, v.cur, v.tail, v.feNeedKick, v.beNeedKick]).toEqual([0, 0, 127, 0, 0]);
    expect(v.used()).toBe(0);
    expect(v.free()).toBe(127);
    for (const i of [0, 1, 127]) {
      expect(v.slot(i)).toEqual({
        bufIdx: 100 + i,
        len: 0,
        flags: 0,
        gref: 0n,
        offload: { csumStart: 0, csumOffset: 0, gsoSize: 0, gsoType: 0, oflags: 0 },
      });
    }
  });

  it('opens the same ring through a Buffer, its ArrayBuffer and a SharedArrayBuffer', () => {
    const sab = new SharedArrayBuffer(128 + RingView.bytes(64));
    const asBuffer = Buffer.from(sab, 64); // a view starting at 64
    expect(initRing(asBuffer, 64, { kind: RING_KINDS.rx, numSlots: 64, bufSize: 512, nrBufs: 64 })).toBe(0);
    const a = new RingView(sab, 128);
    const b = new RingView(asBuffer, 64);
    const c = new RingView(new Uint8Array(sab), 128, { kind: 'rx' });
    for (const v of [a, b, c]) expect([v.kind, v.numSlots, v.bufSizeBytes, v.tail]).toEqual(['rx', 64, 512, 0]);
    a.publishHead(0);
    b.writeSlot(5, { len: 77 });
    expect(c.slot(5).len).toBe(77);
  });

  it('writes exactly the bytes vring_be_init() writes (RingView.init)', () => {
    const geometry = fc.record({
      kind: fc.constantFrom<'tx' | 'rx'>('tx', 'rx'),
      numSlots: fc.constantFrom(64, 128, 256, 1024, 4096),
      bufSizeBytes: fc.constantFrom(64, 2048, 65535),
      spare: fc.nat({ max: 100 }),
      firstBuf: fc.nat({ max: 50 }),
      features: fc.integer({ min: 0, max: RING_FEATURES.known }),
      offset: fc.constantFrom(0, 64, 4096),
      fill: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(geometry, (g) => {
        const bytes = g.offset + RingView.bytes(g.numSlots) + 32;
        // the same non-zero garbage in both: padding must be left alone by both
        const c = Buffer.alloc(bytes, g.fill);
        const ts = Buffer.alloc(bytes, g.fill);
        const nrBufs = g.firstBuf + g.numSlots + g.spare;
        const rc = initRing(c, g.offset, {
          kind: RING_KINDS[g.kind],
          numSlots: g.numSlots,
          bufSize: g.bufSizeBytes,
          nrBufs,
          firstBuf: g.firstBuf,
          features: g.features,
        });
        expect(rc).toBe(0);
        const view = RingView.init(ts, g.offset, { ...g, nrBufs });
        expect(ts.equals(c)).toBe(true);
        expect(view.kind).toBe(g.kind);
      }),
      { numRuns: 40 },
    );
  });

  it('refuses the geometries vring_be_init() refuses, touching nothing', () => {
    const cases: [RingGeometry, number, string][] = [
      [{ kind: 'tx', numSlots: 96, bufSizeBytes: 2048, nrBufs: 96 }, -EINVAL, 'RING_BAD_GEOMETRY'],
      [{ kind: 'tx', numSlots: 8192, bufSizeBytes: 2048, nrBufs: 8192 }, -EINVAL, 'RING_BAD_GEOMETRY'],
      [{ kind: 'tx', numSlots: 64, bufSizeBytes: 63, nrBufs: 64 }, -EINVAL, 'RING_BAD_GEOMETRY'],
      [{ kind: 'tx', numSlots: 64, bufSizeBytes: 65536, nrBufs: 64 }, -EINVAL, 'RING_BAD_GEOMETRY'],
      [{ kind: 'rx', numSlots: 64, bufSizeBytes: 2048, nrBufs: 0 }, -EINVAL, 'RING_BAD_GEOMETRY'],
      [{ kind: 'rx', numSlots: 64, bufSizeBytes: 2048, nrBufs: 64, features: 4 }, -EINVAL, 'RING_BAD_GEOMETRY'],
      [{ kind: 'rx', numSlots: 64, bufSizeBytes: 2048, nrBufs: 63 }, -ERANGE, 'RING_BAD_GEOMETRY'],
      [{ kind: 'rx', numSlots: 64, bufSizeBytes: 2048, nrBufs: 100, firstBuf: 37 }, -ERANGE, 'RING_BAD_GEOMETRY'],
      [{ kind: 'rx', numSlots: 128, bufSizeBytes: 2048, nrBufs: 128 }, -ERANGE, 'RING_OUT_OF_BOUNDS'],
    ];
    for (const [g, rc, code] of cases) {
      const c = Buffer.alloc(RingView.bytes(64), 0xee);
      const ts = Buffer.alloc(RingView.bytes(64), 0xee);
      const native = { kind: RING_KINDS[g.kind], numSlots: g.numSlots, bufSize: g.bufSizeBytes, nrBufs: g.nrBufs, firstBuf: g.firstBuf ?? 0, features: g.features ?? 0 };
      expect(initRing(c, 0, native)).toBe(rc);
      expect(errorCode(() => RingView.init(ts, 0, g))).toBe(code);
      expect(c.every((x) => x === 0xee) && ts.every((x) => x === 0xee)).toBe(true);
    }
    expect(() => RingView.init(Buffer.alloc(4096), 0, { kind: 'both' as never, numSlots: 64, bufSizeBytes: 64, nrBufs: 64 })).toThrow(
      ArgumentError,
    );
  });

  it('lets C read what TS wrote: slots, pool bytes and the published head', () => {
    const { h, view, pool } = port('tx');
    for (let i = 0; i < 3; i++) {
      const p = packet(100 + i, 40 + i);
      const bufIdx = view.slot(i).bufIdx;
      p.copy(pool, bufIdx * BUF);
      view.writeSlot(i, { len: p.length, flags: 0 });
    }
    expect(view.publishHead(3)).toBe(false);
    const r = h.beTxBurst(64);
    expect(r.packets.map((p) => [p.readUInt32LE(0), p.length])).toEqual([
      [100, 40],
      [101, 41],
      [102, 42],
    ]);
    expect(view.tail).toBe(2); // slots given back: tail = hwcur - 1
    expect(view.used()).toBe(0);
  });

  it('publishHead() writes cur and head, and reports a sleeping backend', () => {
    const { h, view } = port('tx');
    expect(h.bePrepareSleep()).toBe(1);
    view.writeSlot(0, { len: 60 });
    expect(view.publishHead(1)).toBe(true);
    expect([view.head, view.cur]).toEqual([1, 1]);
    expect(view.used()).toBe(1);
    expect(view.free()).toBe(62);
    h.beWoken();
    expect(view.publishHead(1)).toBe(false);
    expect(() => view.publishHead(64)).toThrow(ArgumentError);
    expect(() => view.publishHead(1, -1)).toThrow(/cur/);
  });

  it('publishTail() reports a sleeping guest', () => {
    const { h, view } = port('rx');
    expect(h.fePrepareSleep()).toBe(1);
    view.writeSlot(0, { len: 60 });
    expect(view.publishTail(1)).toBe(true);
    expect(view.used()).toBe(1);
    expect(h.feRxBurst(8).packets.length).toBe(1);
  });

  it('writeSlot() checks every field against its C type and writes nothing on error', () => {
    const { view } = port('tx', 64, RING_FEATURES.offload);
    const before = view.slot(3);
    expect(() => view.writeSlot(3, { len: 60, flags: 0x10000 })).toThrow(/fields.flags/);
    expect(() => view.writeSlot(3, { len: 60, gref: 1n, offload: { csumStart: 0, csumOffset: 0, gsoSize: 0, gsoType: 0, oflags: 0 } })).toThrow(
      ArgumentError,
    );
    expect(() => view.writeSlot(3, { gref: -1n })).toThrow(/gref/);
    expect(() => view.writeSlot(64, { len: 1 })).toThrow(ArgumentError);
    expect(view.slot(3)).toEqual(before);
    view.writeSlot(3, { gref: 0xfedcba9876543210n });
    expect(view.slot(3).gref).toBe(0xfedcba9876543210n);
    const offload = { csumStart: 14, csumOffset: 16, gsoSize: 1448, gsoType: GSO.tcpv4, oflags: OFFLOAD_FLAGS.needsCsum };
    view.writeSlot(3, { offload });
    expect(view.slot(3).offload).toEqual(offload);
    expect(view.slot(3).bufIdx).toBe(before.bufIdx);
  });
});

// -- a hostile guest against the real C helpers ------------------------------

describe('a hostile guest on a TX ring', () => {
  /** 10 good packets queued by the honest helper, none consumed yet. */
  function queued(features = 0): Port & { sent: Buffer[] } {
    const p = port('tx', 64, features);
    const sent = Array.from({ length: 10 }, (_, i) => packet(i));
    expect(p.h.feTxBurst(sent).n).toBe(10);
    return { ...p, sent };
  }

  it.each([
    ['num_slots', 64],
    ['num_slots + 1', 65],
    ['num_slots + head (folds onto head under the mask)', 64 + 10],
    ['2^31', 0x80000000],
    ['2^32 - 1', 0xffffffff],
  ])('drops a head of %s, counts it and leaves the ring as it was', (_name, head) => {
    const { h, view, ring, sent } = queued();
    const state = [h.hwcur, h.hwtail, view.tail, view.cur];
    poke32(ring, HEADER_LAYOUT.head.offset, head);
    const r = h.beTxBurst(64);
    expect(r.packets).toEqual([]);
    expect(dropsByName(r.drops)).toEqual({ head: 1 });
    expect(r.kick).toBe(0);
    expect([h.hwcur, h.hwtail, view.tail, view.cur]).toEqual(state);
    // the guest repairs its head: every good packet still arrives
    view.publishHead(10);
    expect(h.beTxBurst(64).packets).toEqual(sent);
  });

  it.each([
    ['before head', 9],
    ['of hwtail + 1 (slot 0, before head)', 0],
    ['of num_slots', 64],
    ['of 2^32 - 1', 0xffffffff],
  ])('drops a cur %s, counts it and consumes nothing', (_name, cur) => {
    const { h, view, ring, sent } = queued();
    poke32(ring, HEADER_LAYOUT.cur.offset, cur);
    const r = h.beTxBurst(64);
    expect(r.packets).toEqual([]);
    expect(dropsByName(r.drops)).toEqual({ cur: 1 });
    expect(h.hwcur).toBe(0);
    view.publishHead(10);
    expect(h.beTxBurst(64).packets).toEqual(sent);
  });

  it('drops bad slots by reason and delivers the good ones in order', () => {
    const { h, view, sent } = queued();
    const bad: [number, Parameters<RingView['writeSlot']>[1], Verdict][] = [
      [1, { len: 0 }, 'len_zero'],
      [2, { len: 13 }, 'len_short'],
      [3, { len: BUF + 1 }, 'len_long'],
      [4, { bufIdx: 64 }, 'buf_idx'], // == nr_bufs
      [5, { flags: 0x0100 }, 'flags'], // unknown flag
      [6, { flags: SLOT_FLAGS.more }, 'flags'], // MORE without CHAIN
      [7, { flags: SLOT_FLAGS.offload }, 'flags'], // OFFLOAD without the feature
      [8, { bufIdx: 0xffffffff }, 'buf_idx'],
    ];
    for (const [i, fields] of bad) view.writeSlot(i, fields);
    const r = h.beTxBurst(64);
    const want: Partial<Record<Verdict, number>> = {};
    for (const [, , v] of bad) want[v] = (want[v] ?? 0) + 1;
    expect(dropsByName(r.drops)).toEqual(want);
    expect(r.packets).toEqual([sent[0], sent[9]]);
    // every slot was consumed and given back, bad or not
    expect(h.hwcur).toBe(10);
    expect(view.used()).toBe(0);
    expect(r.drops[verdictValue('len_short')]).toBe(1);
  });

  it('checks the offload word once the feature is negotiated', () => {
    const { h, view, sent } = queued(RING_FEATURES.offload | RING_FEATURES.chain);
    const csum = OFFLOAD_FLAGS.needsCsum;
    const words = [
      { csumStart: 50, csumOffset: 10, gsoSize: 0, gsoType: 0, oflags: csum }, // 62 > len 60
      { csumStart: 1, csumOffset: 0, gsoSize: 0, gsoType: 0, oflags: 0 }, // csum fields without the flag
      { csumStart: 0, csumOffset: 0, gsoSize: 0, gsoType: 0, oflags: 0x80 }, // unknown oflag
      { csumStart: 14, csumOffset: 16, gsoSize: 1448, gsoType: GSO.maxType + 1, oflags: csum },
      { csumStart: 14, csumOffset: 16, gsoSize: GSO.sizeMin - 1, gsoType: GSO.tcpv4, oflags: csum },
      { csumStart: 14, csumOffset: 16, gsoSize: 1448, gsoType: GSO.tcpv4, oflags: 0 }, // gso without csum... and csum fields
    ];
    words.forEach((offload, i) => view.writeSlot(1 + i, { flags: SLOT_FLAGS.offload, offload }));
    // a valid word goes through
    view.writeSlot(8, { flags: SLOT_FLAGS.offload, offload: { csumStart: 14, csumOffset: 16, gsoSize: 0, gsoType: 0, oflags: csum } });
    // with the chain feature, an empty first fragment is still too short to be a frame
    view.writeSlot(9, { len: 0, flags: SLOT_FLAGS.more });
    const r = h.beTxBurst(64);
    expect(dropsByName(r.drops)).toEqual({ offload: words.length, len_short: 1 });
    expect(r.packets).toEqual([sent[0], sent[7], sent[8]]);
  });
});

describe('a hostile guest on an RX ring', () => {
  /** 12 packets delivered, 4 consumed: the backend's window is [4, 12]. */
  function window(): Port {
    const p = port('rx');
    expect(p.h.beRxBurst(Array.from({ length: 12 }, (_, i) => packet(i))).n).toBe(12);
    expect(p.h.feRxBurst(4).packets.length).toBe(4);
    expect(p.h.beRxBurst([]).n).toBe(0); // the backend reads head 4
    expect([p.h.hwcur, p.h.hwtail]).toEqual([4, 12]);
    return p;
  }

  it.each([
    ['hwtail + 1 (returns a slot it never had)', 13],
    ['hwcur - 1 (takes back a slot it returned)', 3],
    ['num_slots', 64],
    ['2^32 - 1', 0xffffffff],
  ])('counts a head of %s and goes on from the last valid head', (_name, head) => {
    const { h, ring } = window();
    poke32(ring, HEADER_LAYOUT.head.offset, head);
    poke32(ring, HEADER_LAYOUT.cur.offset, head);
    const r = h.beRxBurst([packet(100)]);
    expect(dropsByName(r.drops)).toEqual({ head: 1 });
    expect(r.n).toBe(1);
    expect([h.hwcur, h.hwtail]).toEqual([4, 13]);
  });

  it('stops at a foreign buffer index without leaving a gap', () => {
    const { h, view } = port('rx');
    view.writeSlot(3, { bufIdx: 64 });
    const r = h.beRxBurst(Array.from({ length: 8 }, (_, i) => packet(i)));
    expect(r.n).toBe(3);
    expect(dropsByName(r.drops)).toEqual({ buf_idx: 1 });
    expect(view.used()).toBe(3);
    expect(h.feRxBurst(64).packets.map((p) => p.readUInt32LE(0))).toEqual([0, 1, 2]);
  });
});

// -- opening the wrong memory -------------------------------------------------

describe('RingView refuses memory that is not a ring it can use', () => {
  function fresh(kind: 'tx' | 'rx' = 'tx'): Buffer {
    const b = Buffer.alloc(RingView.bytes(64));
    RingView.init(b, 0, { kind, numSlots: 64, bufSizeBytes: 2048, nrBufs: 64 });
    return b;
  }

  it('says when the magic is wrong (or the ring is not set up yet)', () => {
    expect(() => new RingView(Buffer.alloc(RingView.bytes(64)))).toThrow(
      expect.objectContaining({ code: 'RING_BAD_MAGIC', name: 'RingError' }),
    );
  });

  it('says which ABI version it found and which it speaks', () => {
    const b = fresh();
    b.writeUInt16LE(RING_ABI_VERSION + 1, HEADER_LAYOUT.abiVersion.offset);
    let err: unknown;
    try {
      new RingView(b);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RingError);
    expect(err).toMatchObject({
      code: 'RING_ABI_MISMATCH',
      message: `ring ABI version ${RING_ABI_VERSION + 1} is not supported: this build speaks version ${RING_ABI_VERSION}`,
    });
  });

  it('gives a wrong-version ring -EPROTONOSUPPORT at vring_fe_attach()', () => {
    const ring = fresh('rx');
    const h = new RingHarness(ring, Buffer.alloc(64 * 2048));
    ring.writeUInt16LE(2, HEADER_LAYOUT.abiVersion.offset);
    expect(h.feAttach(RING_KINDS.rx)).toBe(-EPROTONOSUPPORT);
    ring.writeUInt16LE(RING_ABI_VERSION, HEADER_LAYOUT.abiVersion.offset);
    expect(h.feAttach(RING_KINDS.tx)).toBe(-EINVAL);
    ring.writeUInt32LE(0, HEADER_LAYOUT.magic.offset);
    expect(h.feAttach(RING_KINDS.rx)).toBe(-EPROTO);
    ring.writeUInt32LE(RING_MAGIC, HEADER_LAYOUT.magic.offset);
    expect(h.feAttach(RING_KINDS.rx)).toBe(0);
    const small = new RingHarness(ring, Buffer.alloc(64 * 2048 - 1));
    expect(small.feAttach(RING_KINDS.rx)).toBe(-ERANGE);
  });

  it('says when the memory is too small for the header or the slots', () => {
    expect(errorCode(() => new RingView(Buffer.alloc(100)))).toBe('RING_OUT_OF_BOUNDS');
    expect(errorCode(() => new RingView(fresh(), RingView.bytes(64) + 8))).toBe('RING_OUT_OF_BOUNDS');
    const b = fresh();
    expect(errorCode(() => new RingView(b.subarray(0, RingView.bytes(64) - 16)))).toBe('RING_OUT_OF_BOUNDS');
    expect(() => new RingView(b.subarray(0, 400))).toThrow(/a ring of 64 slots needs 1344 bytes; only 400 are there/);
    expect(errorCode(() => new RingView(b, 0, { poolBytes: 64 * 2048 - 1 }))).toBe('RING_OUT_OF_BOUNDS');
    expect(new RingView(b, 0, { poolBytes: 64 * 2048 }).nrBufs).toBe(64);
  });

  it('says when the geometry, the kind or the alignment is wrong', () => {
    const b = fresh();
    b.writeUInt32LE(100, HEADER_LAYOUT.numSlots.offset);
    expect(errorCode(() => new RingView(b))).toBe('RING_BAD_GEOMETRY');
    const k = fresh();
    expect(errorCode(() => new RingView(k, 0, { kind: 'rx' }))).toBe('RING_BAD_KIND');
    k.writeUInt16LE(3, HEADER_LAYOUT.kind.offset);
    expect(errorCode(() => new RingView(k))).toBe('RING_BAD_KIND');
    const big = Buffer.alloc(RingView.bytes(64) + 8);
    expect(errorCode(() => RingView.init(big, 4, { kind: 'tx', numSlots: 64, bufSizeBytes: 2048, nrBufs: 64 }))).toBe('RING_MISALIGNED');
    expect(() => new RingView('ring' as never)).toThrow(ArgumentError);
    expect(() => new RingView(big, -8)).toThrow(ArgumentError);
    expect(() => RingView.bytes(100)).toThrow(ArgumentError);
    expect(RingView.bytes(4096)).toBe(320 + 4096 * 16);
  });
});

// -- the harness's own checks ------------------------------------------------

describe('RingHarness and initRing check their arguments instead of crashing', () => {
  it('refuse ill-typed values at the TS boundary', () => {
    expect(() => new RingHarness('x' as never, Buffer.alloc(10))).toThrow(ArgumentError);
    const { h } = port('tx');
    expect(() => h.feTxBurst([Buffer.alloc(60), 'x' as never])).toThrow(/packets\[1\]/);
    expect(() => h.feTxBurst([Buffer.alloc(0x10000)])).toThrow(ArgumentError);
    expect(() => h.beTxBurst(-1)).toThrow(ArgumentError);
    expect(() => h.feAttach(1.5)).toThrow(ArgumentError);
    expect(() => initRing(Buffer.alloc(2000), 2001, { kind: 1, numSlots: 64, bufSize: 64, nrBufs: 64 })).toThrow(ArgumentError);
  });

  it('refuse what only the addon can judge, with a code', () => {
    const N = loadNative().RingHarness;
    const ring = Buffer.alloc(RingView.bytes(64) + 16);
    expect(errorCode(() => new N(ring.subarray(4), Buffer.alloc(64)))).toBe('ERR_ARGUMENT'); // misaligned
    const h = new N(ring, Buffer.alloc(64 * 64));
    expect(errorCode(() => h.beTxBurst(1))).toBe('ERR_STATE'); // before beInit
    expect(errorCode(() => h.feRxBurst(1))).toBe('ERR_STATE'); // before feAttach
    expect(errorCode(() => h.beInit({ kind: 1, numSlots: 64, bufSize: 2048, nrBufs: 64 }))).toBe('ERR_ARGUMENT'); // pool too small
    expect(h.beInit({ kind: 2, numSlots: 64, bufSize: 64, nrBufs: 64 })).toBe(0);
    expect(errorCode(() => h.beRxBurst([Buffer.alloc(65)]))).toBe('ERR_ARGUMENT'); // longer than buf_size
    expect(errorCode(() => h.beRxBurst('x' as never))).toBe('ERR_ARGUMENT');
    expect(errorCode(() => h.beInit(null as never))).toBe('ERR_ARGUMENT');
    expect(errorCode(() => loadNative().initRing(ring, 1e300, { kind: 1, numSlots: 64, bufSize: 64, nrBufs: 64 }))).toBe('ERR_ARGUMENT');
    expect(initRing(ring, 32, { kind: 1, numSlots: 64, bufSize: 64, nrBufs: 64 })).toBe(-ERANGE); // does not fit
    expect(errorCode(() => initRing(ring, 8, { kind: 1, numSlots: 64, bufSize: 64, nrBufs: 64 }))).toBe('ERR_ARGUMENT'); // misaligned
  });

  it('re-checks packet lengths after element getters ran JS that re-initialised the ring', () => {
    const N = loadNative().RingHarness;
    const h = new N(Buffer.alloc(RingView.bytes(64)), Buffer.alloc(64 * 256));
    expect(h.beInit({ kind: RING_KINDS.rx, numSlots: 64, bufSize: 256, nrBufs: 64 })).toBe(0);
    const packets: Buffer[] = [Buffer.alloc(256)];
    Object.defineProperty(packets, 1, {
      enumerable: true,
      get: () => {
        h.beInit({ kind: RING_KINDS.rx, numSlots: 64, bufSize: 64, nrBufs: 64 }); // buffers shrink to 64 bytes
        return Buffer.alloc(60);
      },
    });
    expect(errorCode(() => h.beRxBurst(packets))).toBe('ERR_ARGUMENT');
    expect(h.hwtail).toBe(0);
  });

  it('notices memory that was detached under it', () => {
    const ab = new ArrayBuffer(RingView.bytes(64));
    const ring = new Uint8Array(ab);
    const h = new RingHarness(ring, Buffer.alloc(64 * 64));
    expect(h.beInit({ kind: 1, numSlots: 64, bufSize: 64, nrBufs: 64 })).toBe(0);
    structuredClone(ab, { transfer: [ab] }); // detaches `ab`
    expect(errorCode(() => h.beTxBurst(1))).toBe('ERR_BUFFER_DETACHED');
    expect(errorCode(() => h.hwcur)).toBe('ERR_BUFFER_DETACHED');
  });
});
