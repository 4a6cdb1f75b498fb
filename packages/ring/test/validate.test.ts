/**
 * The TS validators (src/validate.ts) against the C validators of ring.h
 * (through the addon) and against oracles written here: a slot-walking one
 * for the index windows (no mask arithmetic), a rule table for slots and
 * offload words. Inputs are biased to the boundaries the rules draw.
 */
import { ArgumentError } from '@vpio/errors';
import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ETH_HLEN_BYTES, GSO, OFFLOAD_FLAGS, RING_FEATURES, SLOT_FLAGS } from '../src/layout.js';
import { loadNative } from '../src/native.js';
import {
  type OffloadFields,
  type SlotFields,
  type SlotLimits,
  checkCur,
  checkHead,
  checkOffload,
  checkSlot,
} from '../src/validate.js';
import { type Verdict, verdictName } from '../src/verdict.js';

const native = loadNative();
const RUNS = 4000;
const U32_MAX = 0xffffffff;

const POW2 = [64, 128, 256, 512, 1024, 2048, 4096];
const NON_POW2 = [0, 1, 63, 65, 96, 100, 1000, 4095, 4097, 8192, 0x80000000, U32_MAX];

/** A size a real ring can have (the oracle walks it slot by slot). */
const isRingSize = (n: number): boolean => POW2.includes(n);
const u32 = (x: number): number => x >>> 0;

/** Is x reached walking forward from `from` to `to` (inclusive) on a ring of n slots? */
function walkReaches(x: number, from: number, to: number, n: number): boolean {
  if (x >= n) return false;
  for (let i = from; ; i = i + 1 === n ? 0 : i + 1) {
    if (i === x) return true;
    if (i === to) return false;
  }
}

const numSlotsArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...POW2) },
  { weight: 1, arbitrary: fc.constantFrom(...NON_POW2) },
);

/** A private index of the backend: in range, at the edges, or (rarely) garbage. */
function indexArb(n: number): fc.Arbitrary<number> {
  const top = Math.max(n - 1, 0);
  return fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: top }) },
    { weight: 2, arbitrary: fc.constantFrom(0, top) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: U32_MAX }) },
  );
}

/** A guest-written index near the window's edges. */
function guestIndexArb(n: number, a: number, b: number): fc.Arbitrary<number> {
  return fc.oneof(
    fc.constantFrom(u32(b + 1), u32(b - 1), b, a, u32(a + 1), u32(a - 1), n, u32(n + 1), U32_MAX, 0, u32(n - 1)),
    fc.integer({ min: 0, max: Math.max(n - 1, 0) }),
    fc.integer({ min: 0, max: U32_MAX }),
  );
}

const windowCase = numSlotsArb.chain((n) =>
  fc.tuple(indexArb(n), indexArb(n)).chain(([a, b]) => fc.tuple(fc.constant(n), fc.constant(a), fc.constant(b), guestIndexArb(n, a, b))),
);

describe('checkHead', () => {
  it('agrees with C and with the slot-walking oracle', () => {
    let oracleChecked = 0;
    fc.assert(
      fc.property(windowCase, ([n, hwcur, hwtail, head]) => {
        const ts = checkHead(head, hwcur, hwtail, n);
        expect(ts).toBe(verdictName(native.checkHead(head, hwcur, hwtail, n)));
        // The oracle speaks for real rings only: power-of-two sizes, private indices in range.
        if (isRingSize(n) && hwcur < n && hwtail < n) {
          oracleChecked++;
          expect(ts).toBe(walkReaches(head, hwcur, hwtail, n) ? 'ok' : 'head');
        }
      }),
      { numRuns: RUNS },
    );
    expect(oracleChecked).toBeGreaterThan(RUNS / 2);
  });

  it('rejects the classic bad heads', () => {
    // window [10, 20] of 64
    expect(checkHead(21, 10, 20, 64)).toBe('head'); // hwtail + 1
    expect(checkHead(9, 10, 20, 64)).toBe('head'); // hwcur - 1
    expect(checkHead(64, 10, 20, 64)).toBe('head'); // num_slots
    expect(checkHead(64 + 15, 10, 20, 64)).toBe('head'); // would fold into the window under the mask
    expect(checkHead(U32_MAX, 10, 20, 64)).toBe('head');
    expect(checkHead(20, 10, 20, 64)).toBe('ok');
    expect(checkHead(10, 10, 20, 64)).toBe('ok');
  });
});

describe('checkCur', () => {
  it('agrees with C and with the slot-walking oracle', () => {
    let oracleChecked = 0;
    fc.assert(
      fc.property(windowCase, ([n, head, hwtail, cur]) => {
        const ts = checkCur(cur, head, hwtail, n);
        expect(ts).toBe(verdictName(native.checkCur(cur, head, hwtail, n)));
        if (isRingSize(n) && head < n && hwtail < n) {
          oracleChecked++;
          expect(ts).toBe(walkReaches(cur, head, hwtail, n) ? 'ok' : 'cur');
        }
      }),
      { numRuns: RUNS },
    );
    expect(oracleChecked).toBeGreaterThan(RUNS / 2);
  });
});

// -- slots and offload words -------------------------------------------------

const MORE = SLOT_FLAGS.more;
const OFFLOAD = SLOT_FLAGS.offload;

/** The offload rules of ring.h as a table: every rule that fails, in the header's order. */
function offloadOracle(o: OffloadFields, pktLen: number): Verdict {
  const csum = (o.oflags & OFFLOAD_FLAGS.needsCsum) !== 0;
  const broken = [
    (o.oflags & ~OFFLOAD_FLAGS.known) !== 0,
    csum && o.csumStart + o.csumOffset + 2 > pktLen,
    !csum && (o.csumStart !== 0 || o.csumOffset !== 0),
    o.gsoType > GSO.maxType,
    o.gsoType === GSO.none && o.gsoSize !== 0,
    o.gsoType !== GSO.none && !csum,
    o.gsoType !== GSO.none && (o.gsoSize < GSO.sizeMin || o.gsoSize > GSO.sizeMax),
  ];
  return broken.some(Boolean) ? 'offload' : 'ok';
}

function slotOracle(s: SlotFields, l: SlotLimits, first: boolean): Verdict {
  const rules: [Verdict, boolean][] = [
    ['flags', (s.flags & ~SLOT_FLAGS.known) !== 0],
    ['flags', (s.flags & MORE) !== 0 && (l.features & RING_FEATURES.chain) === 0],
    ['flags', (s.flags & OFFLOAD) !== 0 && (l.features & RING_FEATURES.offload) === 0],
    ['buf_idx', s.bufIdx >= l.nrBufs],
    ['len_long', s.len > l.bufSizeBytes],
    ['len_zero', s.len === 0 && (s.flags & MORE) === 0],
    ['len_short', first && s.len < ETH_HLEN_BYTES],
  ];
  const hit = rules.find(([, bad]) => bad);
  if (hit) return hit[0];
  if ((s.flags & OFFLOAD) !== 0 && (s.flags & MORE) === 0 && first) {
    return offloadOracle(s.offload ?? { csumStart: 0, csumOffset: 0, gsoSize: 0, gsoType: 0, oflags: 0 }, s.len);
  }
  return 'ok';
}

const u16Near = (...vals: number[]): fc.Arbitrary<number> =>
  fc.oneof(
    fc.constantFrom(...vals.filter((v) => v >= 0 && v <= 0xffff)),
    fc.integer({ min: 0, max: 0xffff }),
  );

function offloadArb(pktLen: number): fc.Arbitrary<OffloadFields> {
  // Anything: mostly rejects.
  const wild = fc.record({
    csumStart: u16Near(0, 14, 34, Math.max(pktLen - 2, 0), pktLen, 0xffff),
    csumOffset: u16Near(0, 6, 16, 0xffff),
    gsoSize: u16Near(0, GSO.sizeMin - 1, GSO.sizeMin, 1448, GSO.sizeMax, GSO.sizeMax + 1, 0xffff),
    gsoType: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 0xff), fc.integer({ min: 0, max: 0xff })),
    oflags: fc.oneof(fc.constantFrom(0, 1, 2, 3, 0x80, 0xff), fc.integer({ min: 0, max: 0xff })),
  });
  // Well-formed words whose checksum span ends a few bytes before, exactly at,
  // or one byte past the packet, with gso sizes at their limits.
  const shaped = fc
    .record({
      csum: fc.boolean(),
      gsoType: fc.constantFrom(GSO.none, GSO.tcpv4, GSO.tcpv6, GSO.udpL4),
      gsoSize: fc.constantFrom(GSO.sizeMin - 1, GSO.sizeMin, 1448, GSO.sizeMax, GSO.sizeMax + 1),
      start: fc.integer({ min: 0, max: 0xffff }),
      over: fc.constantFrom(-5, 0, 0, 1),
    })
    .map((r): OffloadFields => {
      const gsoSize = r.gsoType === GSO.none ? 0 : r.gsoSize;
      if (!r.csum) return { csumStart: 0, csumOffset: 0, gsoSize, gsoType: r.gsoType, oflags: 0 };
      const room = Math.max(pktLen + r.over - 2, 0); // csumStart + csumOffset
      const csumStart = Math.min(r.start % (room + 1), 0xffff);
      const csumOffset = Math.min(room - csumStart, 0xffff);
      return { csumStart, csumOffset, gsoSize, gsoType: r.gsoType, oflags: OFFLOAD_FLAGS.needsCsum };
    });
  return fc.oneof({ weight: 2, arbitrary: shaped }, { weight: 1, arbitrary: wild });
}

const limitsArb: fc.Arbitrary<SlotLimits> = fc.record({
  bufSizeBytes: fc.oneof(fc.constantFrom(64, 2048, 65535), fc.integer({ min: 64, max: 65535 }), fc.integer({ min: 0, max: U32_MAX })),
  nrBufs: fc.oneof(fc.constantFrom(1, 64, 1000, 4096), fc.integer({ min: 0, max: U32_MAX })),
  features: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: U32_MAX })),
});

const slotCase = limitsArb.chain((l) => {
  const bs = Math.min(l.bufSizeBytes, 0xffff);
  return fc
    .record({
      bufIdx: fc.oneof(
        fc.constantFrom(u32(l.nrBufs - 1), l.nrBufs, U32_MAX, 0),
        fc.integer({ min: 0, max: U32_MAX }),
      ),
      len: u16Near(0, 1, 13, 14, bs, Math.min(bs + 1, 0xffff), 0xffff),
      flags: fc.oneof(
        fc.constantFrom(0, MORE, OFFLOAD, MORE | OFFLOAD),
        fc.integer({ min: 0, max: 15 }).map((b) => 1 << b),
        fc.integer({ min: 0, max: 0xffff }),
      ),
      first: fc.boolean(),
    })
    .chain((s) =>
      fc.tuple(fc.constant(l), fc.constant(s), fc.option(offloadArb(s.len), { nil: undefined, freq: 4 })),
    );
});

describe('checkSlot', () => {
  it('agrees with C and with the rule table', () => {
    const seen = new Set<Verdict>();
    fc.assert(
      fc.property(slotCase, ([l, s, offload]) => {
        const slot: SlotFields = { bufIdx: s.bufIdx, len: s.len, flags: s.flags, offload };
        const ts = checkSlot(slot, l, s.first);
        const c = native.checkSlot(slot, { bufSize: l.bufSizeBytes, nrBufs: l.nrBufs, features: l.features }, s.first);
        expect(ts).toBe(verdictName(c));
        expect(ts).toBe(slotOracle(slot, l, s.first));
        seen.add(ts);
      }),
      { numRuns: RUNS * 2 },
    );
    // the generator reaches every verdict a slot can get
    expect([...seen].sort()).toEqual(['buf_idx', 'flags', 'len_long', 'len_short', 'len_zero', 'offload', 'ok']);
  });
});

describe('checkOffload', () => {
  it('agrees with C and with the rule table', () => {
    let ok = 0;
    const arb = fc
      .oneof(fc.constantFrom(0, 1, 14, 60, 1514, 65535), fc.integer({ min: 0, max: 70000 }), fc.integer({ min: 0, max: U32_MAX }))
      .chain((len) => fc.tuple(fc.constant(len), offloadArb(Math.min(len, 0xffff))));
    fc.assert(
      fc.property(arb, ([len, o]) => {
        const ts = checkOffload(o, len);
        expect(ts).toBe(verdictName(native.checkOffload(o, len)));
        expect(ts).toBe(offloadOracle(o, len));
        if (ts === 'ok') ok++;
      }),
      { numRuns: RUNS },
    );
    expect(ok).toBeGreaterThan(RUNS / 10); // valid words are generated too, not only rejects
  });
});

describe('types and arguments', () => {
  it('returns the verdict vocabulary of ring.h', () => {
    expectTypeOf<Verdict>().toEqualTypeOf<
      'ok' | 'head' | 'cur' | 'buf_idx' | 'len_zero' | 'len_short' | 'len_long' | 'flags' | 'offload'
    >();
    expectTypeOf(checkHead).returns.toEqualTypeOf<Verdict>();
  });

  it('rejects values outside the C types at the TS boundary', () => {
    expect(() => checkHead(-1, 0, 0, 64)).toThrow(ArgumentError);
    expect(() => checkHead(2 ** 32, 0, 0, 64)).toThrow(/head: expected an integer in \[0, 4294967295\]/);
    expect(() => checkCur(0.5, 0, 0, 64)).toThrow(ArgumentError);
    expect(() => checkSlot({ bufIdx: 0, len: 0x10000, flags: 0 }, { bufSizeBytes: 2048, nrBufs: 1, features: 0 }, true)).toThrow(
      /slot.len/,
    );
    expect(() => checkSlot({ bufIdx: 0, len: 60, flags: 0 }, { bufSizeBytes: 2048, nrBufs: 1, features: 0 }, 1 as never)).toThrow(
      /first/,
    );
    expect(() => checkOffload({ csumStart: 0, csumOffset: 0, gsoSize: 0, gsoType: 256, oflags: 0 }, 60)).toThrow(
      /offload.gsoType/,
    );
    expect(() => checkOffload(null as never, 60)).toThrow(ArgumentError);
  });

  it('makes the addon throw, not crash, on ill-typed arguments', () => {
    const bad: unknown[] = [undefined, null, NaN, -1, 2 ** 32, 1.5, '5', {}, [], Infinity, 10n];
    for (const v of bad) {
      expect(() => native.checkHead(v as number, 0, 0, 64)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
      expect(() => native.checkOffload(v as never, 60)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
      expect(() => native.checkSlot({ bufIdx: v as number, len: 60, flags: 0 }, { bufSize: 1, nrBufs: 1, features: 0 }, true)).toThrow(
        expect.objectContaining({ code: 'ERR_ARGUMENT' }),
      );
    }
    const hostile = {
      get bufIdx(): number {
        throw new Error('getter');
      },
      len: 60,
      flags: 0,
    };
    expect(() => native.checkSlot(hostile, { bufSize: 1, nrBufs: 1, features: 0 }, true)).toThrow('getter');
    expect(() => native.checkSlot({ bufIdx: 0, len: 60, flags: 0 }, { bufSize: 1, nrBufs: 1, features: 0 }, 1 as never)).toThrow(
      expect.objectContaining({ code: 'ERR_ARGUMENT' }),
    );
  });
});
