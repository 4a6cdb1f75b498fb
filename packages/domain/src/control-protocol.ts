/**
 * The control socket's message vocabulary and framing (the C side is
 * include/vpio/domain_ctrl.h; this module is its TS twin and the only place
 * TS code spells these numbers). Pure: encode/decode, no I/O.
 *
 * One SOCK_SEQPACKET datagram = a 16-byte little-endian header
 * `{u16 type, u16 flags, u32 seq, u32 len, u32 rsvd}` + `len` payload bytes,
 * with descriptors as SCM_RIGHTS.
 */

export const CTRL_HDR_BYTES = 16;
export const CTRL_PAYLOAD_MAX = 4096;
export const CTRL_MAX_FDS = 16;
export const CTRL_ABI = 1;
export const CTRL_FD = 3;

export const CTRL_F_REPLY = 0x0001;

export const CTRL_TYPE = {
  HELLO: 0x0001,
  ERROR: 0x0002,
  PING: 0x0003,
} as const;

/** Type ranges reserved for the brokers that come on top of vpiod. */
export const CTRL_RANGES = {
  grant: { first: 0x0100, last: 0x01ff },
  evtchn: { first: 0x0200, last: 0x02ff },
} as const;

export interface ControlMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly payload: Buffer;
}

export type ControlDecodeError = 'short' | 'length' | 'too-long' | 'flags' | 'reserved' | 'truncated';

/** Encodes one message (header + payload). */
export function encodeControl(type: number, flags: number, seq: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.alloc(CTRL_HDR_BYTES + payload.length);
  out.writeUInt16LE(type, 0);
  out.writeUInt16LE(flags, 2);
  out.writeUInt32LE(seq >>> 0, 4);
  out.writeUInt32LE(payload.length, 8);
  out.writeUInt32LE(0, 12);
  out.set(payload, CTRL_HDR_BYTES);
  return out;
}

/** Decodes one received datagram; a string names why it is malformed. */
export function decodeControl(datagram: Buffer, truncated = false): ControlMessage | ControlDecodeError {
  if (truncated) return 'truncated';
  if (datagram.length < CTRL_HDR_BYTES) return 'short';
  const len = datagram.readUInt32LE(8);
  if (len > CTRL_PAYLOAD_MAX) return 'too-long';
  if (len !== datagram.length - CTRL_HDR_BYTES) return 'length';
  const flags = datagram.readUInt16LE(2);
  if ((flags & ~CTRL_F_REPLY) !== 0) return 'flags';
  if (datagram.readUInt32LE(12) !== 0) return 'reserved';
  return { type: datagram.readUInt16LE(0), flags, seq: datagram.readUInt32LE(4), payload: datagram.subarray(CTRL_HDR_BYTES) };
}

/** HELLO's payload: `{u32 abi, u32 domid}`. */
export function encodeHello(domid: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32LE(CTRL_ABI, 0);
  p.writeUInt32LE(domid, 4);
  return encodeControl(CTRL_TYPE.HELLO, 0, 0, p);
}

/** ERROR's payload: `{u32 errno, u16 req_type, u16 rsvd}`. */
export function encodeError(reqType: number, seq: number, errno: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32LE(errno, 0);
  p.writeUInt16LE(reqType & 0xffff, 4);
  return encodeControl(CTRL_TYPE.ERROR, CTRL_F_REPLY, seq, p);
}
