/**
 * The pcap writer (pure encoders and PcapWriter) and reader: the exact
 * bytes of the nanosecond-magic header and of a record, round trips of
 * generated frames, and the CLI's capture target resolution.
 */
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PcapWriter, pcapHeader, pcapRecord, readPcap } from '../src/pcap.js';
import { resolveCaptureTarget } from '../src/capture-target.js';
import { formatFrameLine } from '../src/capture-command.js';

describe('pcap', () => {
  it('writes the classic header: nanosecond magic a1b23c4d, version 2.4, snaplen, linktype 1 (Ethernet)', () => {
    expect(pcapHeader(65535).toString('hex')).toBe('4d3cb2a1' + '0200' + '0400' + '00000000' + '00000000' + 'ffff0000' + '01000000');
    expect(() => pcapHeader(0)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT', parameter: 'snaplen' }));
  });

  it('writes a record: seconds, nanoseconds, captured and original lengths, then the bytes', () => {
    const r = pcapRecord(1_700_000_000_123_456_789n, 100, Buffer.from([1, 2, 3]));
    expect(r.readUInt32LE(0)).toBe(1_700_000_000);
    expect(r.readUInt32LE(4)).toBe(123_456_789);
    expect(r.readUInt32LE(8)).toBe(3);
    expect(r.readUInt32LE(12)).toBe(100);
    expect([...r.subarray(16)]).toEqual([1, 2, 3]);
    expect(() => pcapRecord(0n, 2, Buffer.alloc(3))).toThrow(expect.objectContaining({ parameter: 'origLen' }));
    expect(() => pcapRecord(-1n, 3, Buffer.alloc(3))).toThrow(expect.objectContaining({ parameter: 'tsNs' }));
  });

  it('round-trips any frames through PcapWriter and readPcap', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ ts: fc.bigInt({ min: 0n, max: (1n << 32n) * 1_000_000_000n - 1n }), data: fc.uint8Array({ maxLength: 300 }), extra: fc.nat(2000) }), { maxLength: 40 }),
        async (frames) => {
          const out = new PassThrough();
          const chunks: Buffer[] = [];
          out.on('data', (c: Buffer) => chunks.push(c));
          const w = new PcapWriter(out, 300);
          for (const f of frames) w.frame(f.ts, f.data.length + f.extra, f.data);
          await w.end();
          expect(w.packets).toBe(frames.length);
          const file = readPcap(Buffer.concat(chunks));
          expect(file).toMatchObject({ nanosecond: true, snaplen: 300, linktype: 1 });
          expect(file.packets.map((p) => [p.tsNs, p.origLen, [...p.data]])).toEqual(frames.map((f) => [f.ts, f.data.length + f.extra, [...f.data]]));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('refuses what is not a pcap file or is cut short', () => {
    expect(() => readPcap(Buffer.alloc(10))).toThrow(expect.objectContaining({ code: 'PCAP_FORMAT' }));
    expect(() => readPcap(Buffer.alloc(24))).toThrow(/magic/);
    const cut = Buffer.concat([pcapHeader(100), pcapRecord(1n, 10, Buffer.alloc(10))]).subarray(0, 24 + 20);
    expect(() => readPcap(cut)).toThrow(/10 bytes announced, 4 there/);
  });
});

describe('vpio capture <port>', () => {
  const vifs = [
    { domid: 1, devid: 0, name: 'fw1', port: 0 },
    { domid: 1, devid: 1, name: 'fw1', port: undefined },
    { domid: 2, devid: 0, name: 'sink', port: 3 },
  ];

  it('names a switch port id or NAME[/DEVID] of a vif', () => {
    expect(resolveCaptureTarget('3', [0, 3], vifs)).toEqual({ port: 3, label: 'sink/0' });
    expect(resolveCaptureTarget('fw1', [0, 3], vifs)).toEqual({ port: 0, label: 'fw1/0' });
    expect(resolveCaptureTarget('fw1/0', [0, 3], vifs)).toEqual({ port: 0, label: 'fw1/0' });
    expect(resolveCaptureTarget('2/0', [0, 3], vifs)).toEqual({ port: 3, label: 'sink/0' });
    expect(resolveCaptureTarget('0', [0, 3, 5], [])).toEqual({ port: 0, label: 'port 0' });
  });

  it('says what exists when the target does not', () => {
    expect(() => resolveCaptureTarget('7', [0, 3], vifs)).toThrow('no switch port 7 (ports: 0, 3)');
    expect(() => resolveCaptureTarget('nope', [0, 3], vifs)).toThrow('no domain "nope" with vifs (domains with vifs: fw1, sink)');
    expect(() => resolveCaptureTarget('fw1/4', [0, 3], vifs)).toThrow('domain "fw1" has no vif 4 (vifs: 0, 1)');
    expect(() => resolveCaptureTarget('fw1/1', [0, 3], vifs)).toThrow('vif fw1/1 has no switch port yet');
    expect(() => resolveCaptureTarget('a b', [], vifs)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT', parameter: 'port' }));
  });

  it('prints a frame as one text line', () => {
    const f = Buffer.alloc(60);
    Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5]).copy(f);
    expect(formatFrameLine(['1700000000123456789', 60, 'in', f.toString('base64')])).toBe('22:13:20.123456789 in  02:00:00:00:00:01 > 02:00:00:00:00:02 ethertype 0x88b5 length 60');
  });
});
