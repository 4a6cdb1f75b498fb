/**
 * Guest consoles (pure): the per-domain buffer keeps the newest bytes with
 * counted truncation and absolute offsets; ended domains stay readable, the
 * oldest ended ones are forgotten; lookups by name and domid.
 */
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConsoleBuffer, Consoles } from '../src/console.js';

describe('ConsoleBuffer', () => {
  it('keeps the newest cap bytes, counts what it dropped, reads from absolute offsets', () => {
    const b = new ConsoleBuffer(10);
    b.append(Buffer.from('abcdef'));
    b.append(Buffer.from('ghijkl'));
    expect(b.read()).toMatchObject({ start: 2, end: 12, dropped: 2 });
    expect(b.read().data.toString()).toBe('cdefghijkl');
    expect(b.read(8).data.toString()).toBe('ijkl');
    expect(b.read(12).data.length).toBe(0);
    expect(b.read(99)).toMatchObject({ start: 12, end: 12 });
  });

  it('equals the tail of everything appended, whatever the chunking', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 30 }), fc.integer({ min: 1, max: 64 }), (chunks, cap) => {
      const b = new ConsoleBuffer(cap);
      for (const c of chunks) b.append(Buffer.from(c));
      const all = Buffer.concat(chunks.map((c) => Buffer.from(c)));
      const r = b.read();
      expect(r.end).toBe(all.length);
      expect(r.dropped).toBe(Math.max(0, all.length - cap));
      expect(r.data.equals(all.subarray(r.dropped))).toBe(true);
    }));
  });
});

describe('Consoles', () => {
  it('reads a live domain incrementally, says what a slow reader missed, and keeps ended ones for a while', () => {
    const cs = new Consoles();
    const out = new PassThrough();
    cs.attach(7, 'fw1', out, () => 'stderr tail');
    out.write('{"event":"connected"}\n');
    const e = cs.find('fw1')!;
    const first = cs.read(e, 0);
    expect(first).toMatchObject({ domid: 7, name: 'fw1', alive: true, start: 0, missed: 0, text: '{"event":"connected"}\n' });
    out.write('x'.repeat(300 * 1024));
    const next = cs.read(e, first.end);
    expect(next.missed).toBe(300 * 1024 - 256 * 1024);
    expect(next.text.length).toBe(256 * 1024);
    cs.ended(7, { code: null, signal: 'SIGKILL', reason: 'killed' });
    expect(cs.read(cs.find('7')!, next.end)).toMatchObject({ alive: false, exit: { signal: 'SIGKILL' }, text: '', stderr: 'stderr tail' });
    // a new domain of the same name is found first while it lives
    cs.attach(8, 'fw1', null, () => '');
    expect(cs.find('fw1')!.domid).toBe(8);
    for (let d = 100; d < 140; d++) {
      cs.attach(d, `g${d}`, null, () => '');
      cs.ended(d, { code: 0, signal: null, reason: 'exited' });
    }
    expect(cs.find('7')).toBeUndefined(); // forgotten: 32 newer ended domains
    expect(cs.find('g139')).toBeDefined();
    expect(cs.find('fw1')!.domid).toBe(8);
  });
});
