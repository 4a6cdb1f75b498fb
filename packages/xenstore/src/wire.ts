/**
 * The xenstore wire codec: `struct xsd_sockmsg` (16 bytes, four
 * little-endian u32: type, req_id, tx_id, len) plus at most 4096 payload
 * bytes, the payload helpers (NUL-terminated strings) and strict request
 * parsing that mirrors C xenstored 4.17's `onearg`/`get_strings` rules.
 * Strings travel as latin1 so every byte round-trips unchanged.
 */
import { ArgumentError } from '@vpio/errors';
import { parsePermStrings, type XsPerm } from './permissions.js';
import { HEADER_BYTES, PAYLOAD_MAX, XS, isXsErrorName, messageTypeName, type XsErrorName } from './protocol.js';
import { fail, XenstoreError } from './xenstore-error.js';

export interface XsHeader {
  readonly type: number;
  readonly reqId: number;
  readonly txId: number;
  readonly len: number;
}

export interface XsMessage {
  readonly type: number;
  readonly reqId: number;
  readonly txId: number;
  readonly payload: Buffer;
}

const U32_MAX = 0xffffffff;

function expectU32(parameter: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) {
    throw new ArgumentError(parameter, 'an integer in [0, 4294967295]', value);
  }
}

/** Encodes one message. Throws ArgumentError for a payload over 4096 bytes or a field outside u32. */
export function encodeMessage(message: XsMessage): Buffer {
  expectU32('type', message.type);
  expectU32('reqId', message.reqId);
  expectU32('txId', message.txId);
  if (message.payload.length > PAYLOAD_MAX) {
    throw new ArgumentError('payload', `at most ${PAYLOAD_MAX} bytes`, `${message.payload.length} bytes`);
  }
  const out = Buffer.allocUnsafe(HEADER_BYTES + message.payload.length);
  out.writeUInt32LE(message.type, 0);
  out.writeUInt32LE(message.reqId, 4);
  out.writeUInt32LE(message.txId, 8);
  out.writeUInt32LE(message.payload.length, 12);
  message.payload.copy(out, HEADER_BYTES);
  return out;
}

/** Decodes the 16-byte header at `offset`. The caller checks `len`. */
export function decodeHeader(buf: Buffer, offset = 0): XsHeader {
  if (buf.length - offset < HEADER_BYTES) {
    throw new XenstoreError('EINVAL', `truncated header: ${buf.length - offset} of ${HEADER_BYTES} bytes`);
  }
  return {
    type: buf.readUInt32LE(offset),
    reqId: buf.readUInt32LE(offset + 4),
    txId: buf.readUInt32LE(offset + 8),
    len: buf.readUInt32LE(offset + 12),
  };
}

/**
 * Splits a byte stream into messages. `push` returns every complete
 * message; a header announcing more than 4096 bytes throws E2BIG (the
 * daemon then drops the connection, as C xenstored does). Holds at most
 * one partial message.
 */
export class FrameDecoder {
  private buffered: Buffer = Buffer.alloc(0);

  /** Bytes of an incomplete message held back. */
  get pendingBytes(): number {
    return this.buffered.length;
  }

  push(chunk: Buffer): XsMessage[] {
    let buf = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const out: XsMessage[] = [];
    let off = 0;
    while (buf.length - off >= HEADER_BYTES) {
      const header = decodeHeader(buf, off);
      if (header.len > PAYLOAD_MAX) {
        this.buffered = Buffer.alloc(0);
        throw new XenstoreError('E2BIG', `header announces ${header.len} payload bytes (limit ${PAYLOAD_MAX})`);
      }
      if (buf.length - off - HEADER_BYTES < header.len) break;
      const start = off + HEADER_BYTES;
      out.push({
        type: header.type,
        reqId: header.reqId,
        txId: header.txId,
        payload: Buffer.from(buf.subarray(start, start + header.len)),
      });
      off = start + header.len;
    }
    buf = buf.subarray(off);
    this.buffered = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    return out;
  }
}

/** NUL-terminated strings of a payload, and whatever follows the last NUL. */
export function splitStrings(payload: Buffer): { strings: string[]; trailing: Buffer } {
  const strings: string[] = [];
  let start = 0;
  for (;;) {
    const nul = payload.indexOf(0, start);
    if (nul < 0) break;
    strings.push(payload.toString('latin1', start, nul));
    start = nul + 1;
  }
  return { strings, trailing: payload.subarray(start) };
}

/** Each string followed by a NUL. */
export function encodeStrings(strings: readonly string[]): Buffer {
  return Buffer.from(strings.map((s) => `${s}\0`).join(''), 'latin1');
}

/** One string plus NUL (the payload of most requests and of `OK`). */
export function encodeString(s: string): Buffer {
  return Buffer.from(`${s}\0`, 'latin1');
}

/** The error name of an XS_ERROR payload; unknown names map to EINVAL, as libxenstore does. */
export function decodeErrorPayload(payload: Buffer): XsErrorName {
  const nul = payload.indexOf(0);
  const name = payload.toString('latin1', 0, nul < 0 ? payload.length : nul);
  return isXsErrorName(name) ? name : 'EINVAL';
}

const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);

/**
 * glibc's atoi() on x86-64, `(int) strtol(s, NULL, 10)`: optional blanks
 * and sign, then decimal digits (anything else stops; none gives 0),
 * clamped to a 64-bit long, then truncated to 32 bits: "4294967301" is 5,
 * "2147483648" is -2147483648.
 */
export function cAtoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)/.exec(s);
  const digits = m?.[2] ?? '';
  if (digits === '') return 0;
  let v = BigInt(digits);
  if (m?.[1] === '-') v = -v;
  if (v > LONG_MAX) v = LONG_MAX;
  if (v < LONG_MIN) v = LONG_MIN;
  return Number(BigInt.asIntN(32, v));
}

function oneArg(payload: Buffer, what: string): string {
  const nul = payload.indexOf(0);
  if (payload.length === 0 || nul !== payload.length - 1) {
    fail('EINVAL', `${what} takes exactly one NUL-terminated argument`);
  }
  return payload.toString('latin1', 0, nul);
}

function strings(payload: Buffer, min: number, what: string): string[] {
  const { strings: list } = splitStrings(payload);
  if (list.length < min) fail('EINVAL', `${what} needs ${min} NUL-terminated strings, got ${list.length}`);
  return list;
}

/** A request as the daemon understands it, after strict argument parsing. */
export type XsRequest =
  | { readonly op: 'CONTROL'; readonly command: string; readonly args: readonly string[] }
  | { readonly op: 'DIRECTORY' | 'READ' | 'GET_PERMS' | 'MKDIR' | 'RM'; readonly path: string }
  | { readonly op: 'WATCH' | 'UNWATCH'; readonly path: string; readonly token: string }
  | { readonly op: 'TRANSACTION_START' | 'RESET_WATCHES' }
  | { readonly op: 'TRANSACTION_END'; readonly commit: boolean }
  | { readonly op: 'INTRODUCE'; readonly domid: number; readonly gfn: number; readonly port: number }
  | { readonly op: 'RELEASE' | 'GET_DOMAIN_PATH' | 'IS_DOMAIN_INTRODUCED' | 'RESUME'; readonly domid: number }
  | { readonly op: 'SET_TARGET'; readonly domid: number; readonly target: number }
  | { readonly op: 'WRITE'; readonly path: string; readonly value: Buffer }
  | { readonly op: 'SET_PERMS'; readonly path: string; readonly perms: readonly XsPerm[] }
  | { readonly op: 'DIRECTORY_PART'; readonly path: string; readonly offset: number };

/**
 * Parses a request payload by its type, the way C xenstored 4.17 does.
 * Throws XenstoreError: ENOSYS for unknown or daemon-to-client types,
 * EINVAL for malformed arguments.
 */
export function decodeRequest(message: XsMessage): XsRequest {
  const name = messageTypeName(message.type);
  const p = message.payload;
  switch (name) {
    case 'CONTROL': {
      const list = strings(p, 1, 'CONTROL');
      return { op: 'CONTROL', command: list[0] ?? '', args: list.slice(1) };
    }
    case 'DIRECTORY':
    case 'READ':
    case 'GET_PERMS':
    case 'MKDIR':
    case 'RM':
      return { op: name, path: oneArg(p, name) };
    case 'WATCH':
    case 'UNWATCH': {
      // 4.17's get_strings() counts every string, so exactly two: a third
      // (the `depth` of newer Xen) is EINVAL, as C xenstored 4.17 answers.
      const list = strings(p, 2, name);
      if (list.length !== 2) fail('EINVAL', `${name} takes exactly 2 strings, got ${list.length}`);
      const [path, token] = list as [string, string];
      return { op: name, path, token };
    }
    case 'TRANSACTION_START':
    case 'RESET_WATCHES':
      return { op: name };
    case 'TRANSACTION_END': {
      const arg = oneArg(p, name);
      if (arg !== 'T' && arg !== 'F') fail('EINVAL', `TRANSACTION_END takes T or F, got ${JSON.stringify(arg)}`);
      return { op: name, commit: arg === 'T' };
    }
    case 'INTRODUCE': {
      const [d, g, e] = strings(p, 3, name) as [string, string, string];
      return { op: name, domid: cAtoi(d), gfn: cAtoi(g), port: cAtoi(e) };
    }
    case 'RELEASE':
    case 'GET_DOMAIN_PATH':
    case 'IS_DOMAIN_INTRODUCED':
    case 'RESUME':
      return { op: name, domid: cAtoi(oneArg(p, name)) };
    case 'SET_TARGET': {
      const [d, t] = strings(p, 2, name) as [string, string];
      return { op: name, domid: cAtoi(d), target: cAtoi(t) };
    }
    case 'WRITE': {
      const nul = p.indexOf(0);
      if (nul < 0) fail('EINVAL', 'WRITE needs a NUL-terminated path');
      return { op: name, path: p.toString('latin1', 0, nul), value: Buffer.from(p.subarray(nul + 1)) };
    }
    case 'SET_PERMS': {
      const list = strings(p, 2, name);
      return { op: name, path: list[0] ?? '', perms: parsePermStrings(list.slice(1)) };
    }
    case 'DIRECTORY_PART': {
      // xs_count_strings(): exactly two NULs in the whole payload.
      let nuls = 0;
      for (const b of p) if (b === 0) nuls++;
      if (nuls !== 2) fail('EINVAL', `DIRECTORY_PART takes path and offset, got ${nuls} NULs`);
      const [path, offset] = strings(p, 2, name) as [string, string];
      return { op: name, path, offset: cAtoi(offset) };
    }
    default:
      return fail('ENOSYS', `message type ${message.type} (${name ?? 'unknown'}) is not a request`);
  }
}

/** The type number a successful reply to `op` carries. */
export function replyType(op: XsRequest['op']): number {
  return XS[op];
}
