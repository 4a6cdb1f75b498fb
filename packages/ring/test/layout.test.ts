/**
 * The layout numbers of the TS view against the C compiler's: the generated
 * file (tools/gen-layout.c) and the addon (offsetof/sizeof in C++) are two
 * independent readings of include/vpio/ring.h; they must agree key by key,
 * both ways, and match the ABI the header asserts.
 */
import { describe, expect, it } from 'vitest';
import * as generated from '../src/layout.generated.js';
import {
  GSO,
  HEADER_LAYOUT,
  OFFLOAD_FLAGS,
  OFFLOAD_LAYOUT,
  RING_FEATURES,
  RING_KINDS,
  SLOTS_OFFSET,
  SLOT_FLAGS,
  SLOT_LAYOUT,
} from '../src/layout.js';
import { loadNative } from '../src/native.js';
import { VERDICTS, verdictName, verdictValue } from '../src/verdict.js';

const native = loadNative().layout();

/** Every leaf of a nested object as "a.b.c" -> value. */
function leaves(value: unknown, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      for (const [path, leaf] of leaves(v, prefix ? `${prefix}.${k}` : k)) out.set(path, leaf);
    }
  } else {
    out.set(prefix, value);
  }
  return out;
}

describe('generated layout vs the addon', () => {
  const gen = leaves({ ...generated });
  const nat = leaves(native);

  it('exports the same groups', () => {
    expect(Object.keys(native).sort()).toEqual(Object.keys(generated).sort());
  });

  it('has every addon number in the generated file', () => {
    const missing = [...nat.keys()].filter((k) => !gen.has(k));
    expect(missing).toEqual([]);
  });

  it('has every generated number in the addon', () => {
    const missing = [...gen.keys()].filter((k) => !nat.has(k));
    expect(missing).toEqual([]);
  });

  it('agrees on every value', () => {
    const differ = [...gen].filter(([k, v]) => nat.get(k) !== v).map(([k, v]) => `${k}: ${v} vs ${nat.get(k)}`);
    expect(differ).toEqual([]);
    expect(gen.size).toBeGreaterThan(80);
  });
});

describe('the ABI asserted in ring.h', () => {
  it('puts every header field where the header says', () => {
    const h = generated.VRING_HDR;
    expect(h.size).toBe(320);
    expect(h.align).toBe(64);
    expect(h.fields.magic).toEqual({ offset: 0, size: 4 });
    expect(h.fields.head).toEqual({ offset: 64, size: 4 });
    expect(h.fields.cur).toEqual({ offset: 68, size: 4 });
    expect(h.fields.tail).toEqual({ offset: 128, size: 4 });
    expect(h.fields.fe_need_kick).toEqual({ offset: 192, size: 4 });
    expect(h.fields.be_need_kick).toEqual({ offset: 256, size: 4 });
    expect(generated.VRING.SLOTS_OFFSET).toBe(h.size);
  });

  it('keeps the guest, backend and kick words on separate cache lines', () => {
    const f = generated.VRING_HDR.fields;
    const lines = [f.magic, f.head, f.tail, f.fe_need_kick, f.be_need_kick].map((x) => Math.floor(x.offset / 64));
    expect(new Set(lines).size).toBe(5);
    // the constant line holds only constants
    for (const name of ['abi_version', 'kind', 'num_slots', 'buf_size', 'nr_bufs', 'features'] as const) {
      expect(Math.floor(f[name].offset / 64)).toBe(0);
    }
  });

  it('makes a slot 16 bytes with gref and the offload word sharing bytes 8..15', () => {
    const s = generated.VRING_SLOT;
    expect(s.size).toBe(16);
    expect(s.fields).toEqual({
      buf_idx: { offset: 0, size: 4 },
      len: { offset: 4, size: 2 },
      flags: { offset: 6, size: 2 },
      gref: { offset: 8, size: 8 },
      offload: { offset: 8, size: 8 },
    });
    expect(generated.VRING_OFFLOAD.size).toBe(8);
  });

  it('lays header fields out without overlap, naturally aligned, inside the struct', () => {
    for (const layout of [generated.VRING_HDR, generated.VRING_SLOT, generated.VRING_OFFLOAD]) {
      const fields = Object.entries(layout.fields).filter(([k]) => k !== 'offload'); // the union's second reading
      fields.sort((a, b) => a[1].offset - b[1].offset);
      let end = 0;
      for (const [, f] of fields) {
        expect(f.offset).toBeGreaterThanOrEqual(end);
        expect(f.offset % f.size).toBe(0);
        end = f.offset + f.size;
      }
      expect(end).toBeLessThanOrEqual(layout.size);
    }
  });

  it('names the verdicts in enum order', () => {
    expect([...VERDICTS]).toEqual([
      'ok',
      'head',
      'cur',
      'buf_idx',
      'len_zero',
      'len_short',
      'len_long',
      'flags',
      'offload',
    ]);
    expect(VERDICTS.length).toBe(generated.VRING_VERDICT.VRING_VERDICT_COUNT);
    expect(verdictName(generated.VRING_VERDICT.VRING_DROP_LEN_SHORT)).toBe('len_short');
    expect(verdictValue('buf_idx')).toBe(generated.VRING_VERDICT.VRING_DROP_BUF_IDX);
    expect(() => verdictName(9)).toThrow(/verdict/);
  });
});

describe('friendly names', () => {
  it('map onto the generated numbers', () => {
    const h = generated.VRING_HDR.fields;
    expect(HEADER_LAYOUT).toEqual({
      bytes: generated.VRING_HDR.size,
      magic: h.magic,
      abiVersion: h.abi_version,
      kind: h.kind,
      numSlots: h.num_slots,
      bufSize: h.buf_size,
      nrBufs: h.nr_bufs,
      features: h.features,
      head: h.head,
      cur: h.cur,
      tail: h.tail,
      feNeedKick: h.fe_need_kick,
      beNeedKick: h.be_need_kick,
    });
    expect(SLOT_LAYOUT.gref).toEqual(generated.VRING_SLOT.fields.gref);
    expect(OFFLOAD_LAYOUT.oflags).toEqual(generated.VRING_OFFLOAD.fields.oflags);
    expect(SLOTS_OFFSET).toBe(320);
    expect(RING_KINDS).toEqual({ tx: 1, rx: 2 });
    expect(SLOT_FLAGS.known).toBe(SLOT_FLAGS.more | SLOT_FLAGS.offload);
    expect(RING_FEATURES.known).toBe(RING_FEATURES.chain | RING_FEATURES.offload);
    expect(OFFLOAD_FLAGS.needsCsum).toBe(generated.VRING_OFL.NEEDS_CSUM);
    expect(GSO.maxType).toBe(GSO.udpL4);
  });

  it('cover every field of every struct', () => {
    const count = (o: object): number => Object.keys(o).length - 1; // minus `bytes`
    expect(count(HEADER_LAYOUT)).toBe(Object.keys(generated.VRING_HDR.fields).length);
    expect(count(SLOT_LAYOUT)).toBe(Object.keys(generated.VRING_SLOT.fields).length);
    expect(count(OFFLOAD_LAYOUT)).toBe(Object.keys(generated.VRING_OFFLOAD.fields).length);
  });
});
