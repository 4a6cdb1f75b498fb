/**
 * The control socket's message vocabulary and framing (the C side is
 * @vpio/guest include/vpio/domain_ctrl.h; this module is its TS twin and the only place
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

/**
 * The broker's requests (guest → vpiod). Payloads are arrays of u32 LE
 * fields, exactly as long as listed (anything else: EINVAL); the reply has
 * the same type with CTRL_F_REPLY, or ERROR with a positive errno.
 *
 *   GRANT_SHARE     {dom, grantee, pages, access} + 1 fd (sealed memfd) → {ref}
 *   GRANT_END       {ref} → {}
 *   GRANT_MAP       {granter, flags, count, refs[count]} → {handle, count, pages[count]} + count fds
 *   GRANT_UNMAP     {handle} → {}
 *   EVTCHN_ALLOC_UNBOUND      {dom, remote} → {port} + 2 fds [rx, tx]
 *   EVTCHN_BIND_INTERDOMAIN   {remote, remotePort} → {port} + 2 fds [rx, tx]
 *   EVTCHN_CLOSE              {port} → {}
 *
 * `dom` is Xen's: DOMID_SELF or the caller's own domid, anything else EPERM.
 */
export const CTRL_BROKER = {
  GRANT_SHARE: 0x0101,
  GRANT_END: 0x0102,
  GRANT_MAP: 0x0103,
  GRANT_UNMAP: 0x0104,
  EVTCHN_ALLOC_UNBOUND: 0x0201,
  EVTCHN_BIND_INTERDOMAIN: 0x0202,
  EVTCHN_CLOSE: 0x0203,
} as const;

/** Xen's DOMID_SELF: "the caller", in a `dom` field. */
export const DOMID_SELF = 0x7ff0;
/** GRANT_MAP flags: map read-write. */
export const GRANT_MAP_F_WRITABLE = 0x1;
/** GRANT_SHARE access values. */
export const GRANT_ACCESS_RO = 0;
export const GRANT_ACCESS_RW = 1;
/** Most refs in one GRANT_MAP (one descriptor each, CTRL_MAX_FDS per message). */
export const GRANT_MAP_MAX_REFS = 16;

/** Reads a payload of exactly `count` u32 LE fields (or at least, with `atLeast`); undefined when the length is wrong. */
export function readU32s(payload: Buffer, count: number, atLeast = false): number[] | undefined {
  if (atLeast ? payload.length < count * 4 || payload.length % 4 !== 0 : payload.length !== count * 4) return undefined;
  const out: number[] = [];
  for (let i = 0; i < payload.length / 4; i++) out.push(payload.readUInt32LE(i * 4));
  return out;
}

/** A payload of u32 LE fields. */
export function u32s(...values: number[]): Buffer {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeUInt32LE(v >>> 0, i * 4));
  return out;
}

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
