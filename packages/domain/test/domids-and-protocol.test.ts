/**
 * Pure parts: domid allocation (Xen's rules) and the control-socket codec,
 * including structure-aware hostile datagrams.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CTRL_HDR_BYTES, CTRL_PAYLOAD_MAX, CTRL_TYPE, DOMID_MAX, DomidAllocator, decodeControl, encodeControl, encodeError, encodeHello,
  parseSandboxReport, skipFlagsFor,
} from '../src/index.js';

describe('DomidAllocator', () => {
  it('hands out 1, 2, 3 ... and never 0 or a reserved id', () => {
    const a = new DomidAllocator();
    expect([a.allocate(), a.allocate(), a.allocate()]).toEqual([1, 2, 3]);
    expect(DOMID_MAX).toBe(32751);
  });

  it('does not reuse a freed id until the counter wraps', () => {
    const a = new DomidAllocator();
    const first = a.allocate();
    a.free(first);
    expect(a.allocate()).toBe(2);
  });

  it('after the wrap takes the lowest free id and skips live ones', () => {
    const a = new DomidAllocator(1, 4);
    expect([1, 2, 3, 4].map(() => a.allocate())).toEqual([1, 2, 3, 4]);
    a.free(3);
    a.free(1);
    expect(a.allocate()).toBe(1);
    expect(a.allocate()).toBe(3);
    expect(() => a.allocate()).toThrow(expect.objectContaining({ code: 'DOMID_EXHAUSTED' }));
  });

  it('never hands out a live id (random allocate/free sequences)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(-1), fc.integer({ min: 1, max: 8 })), { maxLength: 200 }), (ops) => {
        const a = new DomidAllocator(1, 8);
        const live = new Set<number>();
        for (const op of ops) {
          if (op === -1) {
            if (live.size === 8) continue;
            const id = a.allocate();
            expect(live.has(id)).toBe(false);
            expect(id).toBeGreaterThanOrEqual(1);
            expect(id).toBeLessThanOrEqual(8);
            live.add(id);
          } else {
            a.free(op);
            live.delete(op);
          }
        }
      }),
    );
  });
});

describe('control framing', () => {
  it('round-trips every message type with boundary payload sizes', () => {
    for (const type of [CTRL_TYPE.HELLO, CTRL_TYPE.ERROR, CTRL_TYPE.PING, 0x0100, 0x01ff, 0x0200, 0x02ff, 0xffff]) {
      for (const len of [0, 1, CTRL_PAYLOAD_MAX]) {
        const m = decodeControl(encodeControl(type, 0, 0xffffffff, Buffer.alloc(len, 7)));
        expect(m).toMatchObject({ type, flags: 0, seq: 0xffffffff });
        expect(typeof m === 'object' && m.payload.length).toBe(len);
      }
    }
  });

  it('refuses short, lying, oversized, flagged and reserved-bit datagrams', () => {
    const good = encodeControl(CTRL_TYPE.PING, 0, 1, Buffer.from('abc'));
    expect(decodeControl(good.subarray(0, CTRL_HDR_BYTES - 1))).toBe('short');
    const lie = Buffer.from(good);
    lie.writeUInt32LE(4, 8);
    expect(decodeControl(lie)).toBe('length');
    const big = Buffer.from(good);
    big.writeUInt32LE(CTRL_PAYLOAD_MAX + 1, 8);
    expect(decodeControl(big)).toBe('too-long');
    const flags = Buffer.from(good);
    flags.writeUInt16LE(0x8000, 2);
    expect(decodeControl(flags)).toBe('flags');
    const rsvd = Buffer.from(good);
    rsvd.writeUInt32LE(1, 12);
    expect(decodeControl(rsvd)).toBe('reserved');
    expect(decodeControl(good, true)).toBe('truncated');
  });

  it('never throws on random datagrams (10,000 structure-aware cases)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }),
        fc.uint8Array({ maxLength: 64 }), fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 0xffffffff })), fc.integer({ min: 0, max: 80 }),
        (type, flags, seq, payload, lenOverride, cut) => {
          const b = encodeControl(type, flags, seq, payload);
          if (lenOverride !== undefined) b.writeUInt32LE(lenOverride, 8);
          const r = decodeControl(b.subarray(0, Math.max(0, b.length - cut)));
          expect(typeof r === 'string' || (r.type === type && r.seq === seq)).toBe(true);
        },
      ),
      { numRuns: 10_000 },
    );
  });

  it('HELLO and ERROR carry their documented payloads', () => {
    const h = decodeControl(encodeHello(42));
    expect(typeof h === 'object' && [h.type, h.payload.readUInt32LE(0), h.payload.readUInt32LE(4)]).toEqual([1, 1, 42]);
    const e = decodeControl(encodeError(0x0123, 9, 38));
    expect(typeof e === 'object' && [e.type, e.flags, e.seq, e.payload.readUInt32LE(0), e.payload.readUInt16LE(4)]).toEqual([2, 1, 9, 38, 0x0123]);
  });
});

describe('sandbox report', () => {
  it('parses the launcher --check output and maps missing steps to --skip flags', () => {
    const r = parseSandboxReport('mode user\nok namespaces\nmissing cgroup: Permission denied\nmissing identity: x\ncgroup-mode v1\ncgroup-base pids /sys/fs/cgroup/pids\n');
    expect(r).toEqual({
      mode: 'user', ok: ['namespaces'], missing: [{ step: 'cgroup', reason: 'Permission denied' }, { step: 'identity', reason: 'x' }],
      cgroupMode: 'v1', cgroupBases: [{ controller: 'pids', dir: '/sys/fs/cgroup/pids' }],
    });
    expect(skipFlagsFor(['cgroup', 'seccomp'])).toEqual(['--skip', 'cgroup', '--skip', 'seccomp']);
    expect(skipFlagsFor(['namespaces'])).toEqual(['--skip', 'namespaces', '--skip', 'proc']);
  });
});
