/**
 * Classic pcap files (the format tcpdump, Wireshark and tshark read): a
 * 24-byte global header, then per packet a 16-byte record header and the
 * captured bytes. Little-endian, nanosecond timestamps (magic 0xa1b23c4d),
 * link type 1 (Ethernet). Pure encoders plus a small writer over a Node
 * stream, and a reader for tests and tools.
 *
 *   global:  magic u32 | version 2.4 (u16 u16) | thiszone i32 | sigfigs u32 | snaplen u32 | linktype u32
 *   record:  ts_sec u32 | ts_nsec u32 | incl_len u32 | orig_len u32 | incl_len bytes
 */
import type { Writable } from 'node:stream';
import { ArgumentError, VpioError } from '@vpio/errors';

export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_LINKTYPE_ETHERNET = 1;
export const PCAP_HEADER_BYTES = 24;
export const PCAP_RECORD_HEADER_BYTES = 16;

/** The global header of a nanosecond-resolution pcap file. */
export function pcapHeader(snaplen: number, linktype = PCAP_LINKTYPE_ETHERNET): Buffer {
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0x3ffff) throw new ArgumentError('snaplen', 'an integer in [1, 262143]', snaplen);
  const b = Buffer.alloc(PCAP_HEADER_BYTES);
  b.writeUInt32LE(PCAP_MAGIC_NS, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeInt32LE(0, 8);
  b.writeUInt32LE(0, 12);
  b.writeUInt32LE(snaplen, 16);
  b.writeUInt32LE(linktype, 20);
  return b;
}

/** One record (header + data) for a frame captured at `tsNs` (ns since the epoch) whose wire length was `origLen`. */
export function pcapRecord(tsNs: bigint, origLen: number, data: Uint8Array): Buffer {
  if (typeof tsNs !== 'bigint' || tsNs < 0n || tsNs >= (1n << 32n) * 1_000_000_000n) throw new ArgumentError('tsNs', 'a bigint of nanoseconds in [0, 2^32 s)', tsNs);
  if (!Number.isInteger(origLen) || origLen < data.length || origLen > 0xffffffff) throw new ArgumentError('origLen', `an integer >= the captured length ${data.length}`, origLen);
  const b = Buffer.alloc(PCAP_RECORD_HEADER_BYTES + data.length);
  b.writeUInt32LE(Number(tsNs / 1_000_000_000n) >>> 0, 0);
  b.writeUInt32LE(Number(tsNs % 1_000_000_000n), 4);
  b.writeUInt32LE(data.length, 8);
  b.writeUInt32LE(origLen, 12);
  b.set(data, PCAP_RECORD_HEADER_BYTES);
  return b;
}

export interface PcapPacket {
  readonly tsNs: bigint;
  readonly origLen: number;
  readonly data: Buffer;
}

export interface PcapFile {
  readonly nanosecond: boolean;
  readonly snaplen: number;
  readonly linktype: number;
  readonly packets: PcapPacket[];
}

/** Parses a little-endian classic pcap file (ns or µs magic). Throws VpioError PCAP_FORMAT on anything else or a cut record. */
export function readPcap(buf: Buffer): PcapFile {
  if (buf.length < PCAP_HEADER_BYTES) throw new VpioError('PCAP_FORMAT', `a pcap file has a ${PCAP_HEADER_BYTES}-byte header; got ${buf.length} bytes`);
  const magic = buf.readUInt32LE(0);
  if (magic !== PCAP_MAGIC_NS && magic !== PCAP_MAGIC_US) throw new VpioError('PCAP_FORMAT', `not a little-endian pcap file (magic 0x${magic.toString(16)})`);
  const nanosecond = magic === PCAP_MAGIC_NS;
  const packets: PcapPacket[] = [];
  let off = PCAP_HEADER_BYTES;
  while (off < buf.length) {
    if (buf.length - off < PCAP_RECORD_HEADER_BYTES) throw new VpioError('PCAP_FORMAT', `record at byte ${off}: header cut short`);
    const sec = BigInt(buf.readUInt32LE(off));
    const frac = BigInt(buf.readUInt32LE(off + 4));
    const incl = buf.readUInt32LE(off + 8);
    const origLen = buf.readUInt32LE(off + 12);
    const start = off + PCAP_RECORD_HEADER_BYTES;
    if (start + incl > buf.length) throw new VpioError('PCAP_FORMAT', `record at byte ${off}: ${incl} bytes announced, ${buf.length - start} there`);
    packets.push({ tsNs: sec * 1_000_000_000n + (nanosecond ? frac : frac * 1000n), origLen, data: buf.subarray(start, start + incl) });
    off = start + incl;
  }
  return { nanosecond, snaplen: buf.readUInt32LE(16), linktype: buf.readUInt32LE(20), packets };
}

/** Writes a pcap stream: the header at once, then one record per frame(). end() resolves once everything is flushed. */
export class PcapWriter {
  readonly #out: Writable;
  readonly #closeOut: boolean;
  #packets = 0;
  #bytes = 0;

  /** `closeOut`: end the stream in end() (a file); false for stdout. */
  constructor(out: Writable, snaplen: number, closeOut = true) {
    this.#out = out;
    this.#closeOut = closeOut;
    this.#write(pcapHeader(snaplen));
  }

  get packets(): number {
    return this.#packets;
  }

  get bytes(): number {
    return this.#bytes;
  }

  frame(tsNs: bigint, origLen: number, data: Uint8Array): void {
    this.#write(pcapRecord(tsNs, origLen, data));
    this.#packets++;
  }

  end(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#out.once('error', reject);
      if (this.#closeOut) this.#out.end(() => resolve());
      else if (this.#out.writableNeedDrain) this.#out.once('drain', () => resolve());
      else resolve();
    });
  }

  #write(b: Buffer): void {
    this.#bytes += b.length;
    this.#out.write(b);
  }
}
