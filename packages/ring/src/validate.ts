/**
 * The validators of vpio/ring.h in TypeScript, rule for rule and in the same
 * order, so a verdict computed here is the verdict the switch computes (a
 * property test compares them with the C functions through the addon).
 * Arithmetic is on unsigned 32-bit values like the C: `x >>> 0` after every
 * subtraction or mask. The validators assume nothing about their inputs
 * beyond their C types (u32, u16, u8) and reject values outside them.
 */
import { ArgumentError, expectInteger } from '@vpio/errors';
import { VRING, VRING_F, VRING_FEAT, VRING_GSO, VRING_OFL, VRING_VERDICT } from './layout.generated.js';
import { type Verdict, verdictName } from './verdict.js';

/** The per-slot offload word (struct vring_offload). */
export interface OffloadFields {
  /** u16: the checksum covers [csumStart, end of packet). */
  readonly csumStart: number;
  /** u16: the checksum is stored at csumStart + csumOffset. */
  readonly csumOffset: number;
  /** u16: segment payload size, 0 when gsoType is none. */
  readonly gsoSize: number;
  /** u8: GSO.* */
  readonly gsoType: number;
  /** u8: OFFLOAD_FLAGS.* */
  readonly oflags: number;
}

/** The fields of a slot a validator looks at (the offload word defaults to zeros). */
export interface SlotFields {
  /** u32: buffer index in the port's pool. */
  readonly bufIdx: number;
  /** u16: bytes used in the buffer. */
  readonly len: number;
  /** u16: SLOT_FLAGS.* */
  readonly flags: number;
  readonly offload?: OffloadFields;
}

/** What the backend knows privately about a port (struct vring_limits). */
export interface SlotLimits {
  readonly bufSizeBytes: number;
  readonly nrBufs: number;
  /** RING_FEATURES.* negotiated for the port. */
  readonly features: number;
}

const OK: Verdict = verdictName(VRING_VERDICT.VRING_OK);
const DROP_HEAD: Verdict = verdictName(VRING_VERDICT.VRING_DROP_HEAD);
const DROP_CUR: Verdict = verdictName(VRING_VERDICT.VRING_DROP_CUR);
const DROP_BUF_IDX: Verdict = verdictName(VRING_VERDICT.VRING_DROP_BUF_IDX);
const DROP_LEN_ZERO: Verdict = verdictName(VRING_VERDICT.VRING_DROP_LEN_ZERO);
const DROP_LEN_SHORT: Verdict = verdictName(VRING_VERDICT.VRING_DROP_LEN_SHORT);
const DROP_LEN_LONG: Verdict = verdictName(VRING_VERDICT.VRING_DROP_LEN_LONG);
const DROP_FLAGS: Verdict = verdictName(VRING_VERDICT.VRING_DROP_FLAGS);
const DROP_OFFLOAD: Verdict = verdictName(VRING_VERDICT.VRING_DROP_OFFLOAD);

const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;
const U8_MAX = 0xff;

/** Steps forward from `from` to `to` under `mask` (vring_dist). */
function dist(from: number, to: number, mask: number): number {
  return ((to - from) & mask) >>> 0;
}

function maskOf(numSlots: number): number {
  return (numSlots - 1) >>> 0;
}

/**
 * A guest-written head against the backend's private hwcur/hwtail
 * (vring_check_head): valid only in [hwcur, hwtail], walking forward.
 */
export function checkHead(head: number, hwcur: number, hwtail: number, numSlots: number): Verdict {
  expectInteger('head', head, 0, U32_MAX);
  expectInteger('hwcur', hwcur, 0, U32_MAX);
  expectInteger('hwtail', hwtail, 0, U32_MAX);
  expectInteger('numSlots', numSlots, 0, U32_MAX);
  const mask = maskOf(numSlots);
  if (head >= numSlots) return DROP_HEAD;
  if (dist(hwcur, head, mask) > dist(hwcur, hwtail, mask)) return DROP_HEAD;
  return OK;
}

/** A guest-written cur against an already validated head (vring_check_cur): valid in [head, hwtail]. */
export function checkCur(cur: number, head: number, hwtail: number, numSlots: number): Verdict {
  expectInteger('cur', cur, 0, U32_MAX);
  expectInteger('head', head, 0, U32_MAX);
  expectInteger('hwtail', hwtail, 0, U32_MAX);
  expectInteger('numSlots', numSlots, 0, U32_MAX);
  const mask = maskOf(numSlots);
  if (cur >= numSlots) return DROP_CUR;
  if (dist(head, cur, mask) > dist(head, hwtail, mask)) return DROP_CUR;
  return OK;
}

function expectOffload(name: string, o: unknown): OffloadFields {
  if (typeof o !== 'object' || o === null) throw new ArgumentError(name, 'an offload word object', o);
  const w = o as Record<string, unknown>;
  return {
    csumStart: expectInteger(`${name}.csumStart`, w.csumStart, 0, U16_MAX),
    csumOffset: expectInteger(`${name}.csumOffset`, w.csumOffset, 0, U16_MAX),
    gsoSize: expectInteger(`${name}.gsoSize`, w.gsoSize, 0, U16_MAX),
    gsoType: expectInteger(`${name}.gsoType`, w.gsoType, 0, U8_MAX),
    oflags: expectInteger(`${name}.oflags`, w.oflags, 0, U8_MAX),
  };
}

function offloadVerdict(o: OffloadFields, pktLen: number): Verdict {
  if (o.oflags & ~VRING_OFL.KNOWN) return DROP_OFFLOAD;
  if (o.oflags & VRING_OFL.NEEDS_CSUM) {
    if (o.csumStart + o.csumOffset + 2 > pktLen) return DROP_OFFLOAD;
  } else if (o.csumStart || o.csumOffset) {
    return DROP_OFFLOAD;
  }
  if (o.gsoType > VRING_GSO.MAX_TYPE) return DROP_OFFLOAD;
  if (o.gsoType === VRING_GSO.NONE) {
    if (o.gsoSize) return DROP_OFFLOAD;
  } else {
    // segmentation needs the checksum filled per segment
    if (!(o.oflags & VRING_OFL.NEEDS_CSUM)) return DROP_OFFLOAD;
    if (o.gsoSize < VRING_GSO.SIZE_MIN || o.gsoSize > VRING_GSO.SIZE_MAX) return DROP_OFFLOAD;
  }
  return OK;
}

/** The offload word of a packet of pktLen bytes (vring_check_offload). */
export function checkOffload(offload: OffloadFields, pktLen: number): Verdict {
  const o = expectOffload('offload', offload);
  expectInteger('pktLen', pktLen, 0, U32_MAX);
  return offloadVerdict(o, pktLen);
}

const ZERO_OFFLOAD: OffloadFields = { csumStart: 0, csumOffset: 0, gsoSize: 0, gsoType: 0, oflags: 0 };

/**
 * A slot the guest handed over (vring_check_slot). `first` is true for the
 * first slot of a packet; a single-slot packet's offload word is checked
 * here, a chain's by the caller with checkOffload() on the total length.
 */
export function checkSlot(slot: SlotFields, limits: SlotLimits, first: boolean): Verdict {
  if (typeof slot !== 'object' || slot === null) throw new ArgumentError('slot', 'a slot object', slot);
  if (typeof limits !== 'object' || limits === null) throw new ArgumentError('limits', 'a limits object', limits);
  if (typeof first !== 'boolean') throw new ArgumentError('first', 'a boolean', first);
  const bufIdx = expectInteger('slot.bufIdx', slot.bufIdx, 0, U32_MAX);
  const len = expectInteger('slot.len', slot.len, 0, U16_MAX);
  const flags = expectInteger('slot.flags', slot.flags, 0, U16_MAX);
  const offload = slot.offload === undefined ? ZERO_OFFLOAD : expectOffload('slot.offload', slot.offload);
  const bufSize = expectInteger('limits.bufSizeBytes', limits.bufSizeBytes, 0, U32_MAX);
  const nrBufs = expectInteger('limits.nrBufs', limits.nrBufs, 0, U32_MAX);
  const features = expectInteger('limits.features', limits.features, 0, U32_MAX);

  if (flags & ~VRING_F.KNOWN) return DROP_FLAGS;
  if (flags & VRING_F.MORE && !(features & VRING_FEAT.CHAIN)) return DROP_FLAGS;
  if (flags & VRING_F.OFFLOAD && !(features & VRING_FEAT.OFFLOAD)) return DROP_FLAGS;
  if (bufIdx >= nrBufs) return DROP_BUF_IDX;
  if (len > bufSize) return DROP_LEN_LONG;
  if (len === 0 && !(flags & VRING_F.MORE)) return DROP_LEN_ZERO;
  if (first && len < VRING.ETH_HLEN) return DROP_LEN_SHORT;
  if (flags & VRING_F.OFFLOAD && !(flags & VRING_F.MORE) && first) return offloadVerdict(offload, len);
  return OK;
}

/** undefined if a geometry is acceptable (vring_check_geometry), else what is wrong with it. */
export function geometryProblem(numSlots: number, bufSizeBytes: number, nrBufs: number): string | undefined {
  if (
    !Number.isInteger(numSlots) ||
    numSlots < VRING.MIN_SLOTS ||
    numSlots > VRING.MAX_SLOTS ||
    (numSlots & (numSlots - 1)) !== 0
  ) {
    return `num_slots ${numSlots} is not a power of two in [${VRING.MIN_SLOTS}, ${VRING.MAX_SLOTS}]`;
  }
  if (!Number.isInteger(bufSizeBytes) || bufSizeBytes < VRING.MIN_BUF_SIZE || bufSizeBytes > VRING.MAX_BUF_SIZE) {
    return `buf_size ${bufSizeBytes} is not in [${VRING.MIN_BUF_SIZE}, ${VRING.MAX_BUF_SIZE}]`;
  }
  if (!Number.isInteger(nrBufs) || nrBufs <= 0 || nrBufs > U32_MAX) return `nr_bufs ${nrBufs} is not in [1, ${U32_MAX}]`;
  return undefined;
}
