/**
 * The ring ABI's numbers under friendly names. Every value comes from
 * `layout.generated.ts`, which `tools/gen-layout.c` prints from
 * `include/vpio/ring.h` at build time: nothing here is typed by hand, and
 * test/layout.test.ts checks the generated file against the addon's own
 * offsetof/sizeof.
 */
import {
  VRING,
  VRING_F,
  VRING_FEAT,
  VRING_GSO,
  VRING_HDR,
  VRING_KIND,
  VRING_OFFLOAD,
  VRING_OFL,
  VRING_SLOT,
} from './layout.generated.js';

/** Where a field sits inside its struct. */
export interface FieldLayout {
  readonly offset: number;
  readonly size: number;
}

/** `struct vring_hdr`: five cache lines; the slots start right after it. */
export interface HeaderLayout {
  readonly bytes: number;
  readonly magic: FieldLayout;
  readonly abiVersion: FieldLayout;
  readonly kind: FieldLayout;
  readonly numSlots: FieldLayout;
  readonly bufSize: FieldLayout;
  readonly nrBufs: FieldLayout;
  readonly features: FieldLayout;
  readonly head: FieldLayout;
  readonly cur: FieldLayout;
  readonly tail: FieldLayout;
  readonly feNeedKick: FieldLayout;
  readonly beNeedKick: FieldLayout;
}

/** `struct vring_slot`: 16 bytes; gref and the offload word share bytes 8..15. */
export interface SlotLayout {
  readonly bytes: number;
  readonly bufIdx: FieldLayout;
  readonly len: FieldLayout;
  readonly flags: FieldLayout;
  readonly gref: FieldLayout;
  readonly offload: FieldLayout;
}

/** `struct vring_offload`: the 8-byte per-slot offload word. */
export interface OffloadLayout {
  readonly bytes: number;
  readonly csumStart: FieldLayout;
  readonly csumOffset: FieldLayout;
  readonly gsoSize: FieldLayout;
  readonly gsoType: FieldLayout;
  readonly oflags: FieldLayout;
}

const H = VRING_HDR.fields;
const S = VRING_SLOT.fields;
const O = VRING_OFFLOAD.fields;

export const HEADER_LAYOUT: HeaderLayout = {
  bytes: VRING_HDR.size,
  magic: H.magic,
  abiVersion: H.abi_version,
  kind: H.kind,
  numSlots: H.num_slots,
  bufSize: H.buf_size,
  nrBufs: H.nr_bufs,
  features: H.features,
  head: H.head,
  cur: H.cur,
  tail: H.tail,
  feNeedKick: H.fe_need_kick,
  beNeedKick: H.be_need_kick,
};

export const SLOT_LAYOUT: SlotLayout = {
  bytes: VRING_SLOT.size,
  bufIdx: S.buf_idx,
  len: S.len,
  flags: S.flags,
  gref: S.gref,
  offload: S.offload,
};

export const OFFLOAD_LAYOUT: OffloadLayout = {
  bytes: VRING_OFFLOAD.size,
  csumStart: O.csum_start,
  csumOffset: O.csum_offset,
  gsoSize: O.gso_size,
  gsoType: O.gso_type,
  oflags: O.oflags,
};

/** Byte offset of slot 0 in a ring region (VRING_SLOTS_OFFSET). */
export const SLOTS_OFFSET: number = VRING.SLOTS_OFFSET;
/** hdr.magic of a set-up ring (VRING_MAGIC, "VPIO"). */
export const RING_MAGIC: number = VRING.MAGIC;
/** The ABI version this build speaks (VRING_ABI_VERSION). */
export const RING_ABI_VERSION: number = VRING.ABI_VERSION;
export const MIN_SLOTS: number = VRING.MIN_SLOTS;
export const MAX_SLOTS: number = VRING.MAX_SLOTS;
export const DEFAULT_SLOTS: number = VRING.DEFAULT_SLOTS;
export const MIN_BUF_SIZE_BYTES: number = VRING.MIN_BUF_SIZE;
export const MAX_BUF_SIZE_BYTES: number = VRING.MAX_BUF_SIZE;
export const DEFAULT_BUF_SIZE_BYTES: number = VRING.DEFAULT_BUF_SIZE;
/** Shortest first fragment the backend accepts (an Ethernet header). */
export const ETH_HLEN_BYTES: number = VRING.ETH_HLEN;

/** The two ring kinds: 'tx' carries guest -> backend, 'rx' backend -> guest. */
export type RingKind = 'tx' | 'rx';

/** hdr.kind values (VRING_KIND_*). */
export const RING_KINDS: { readonly [K in RingKind]: number } = {
  tx: VRING_KIND.TX,
  rx: VRING_KIND.RX,
};

/** slot.flags bits (VRING_F_*). */
export const SLOT_FLAGS: { readonly more: number; readonly offload: number; readonly known: number } = {
  more: VRING_F.MORE,
  offload: VRING_F.OFFLOAD,
  known: VRING_F.KNOWN,
};

/** hdr.features bits (VRING_FEAT_*). */
export const RING_FEATURES: { readonly chain: number; readonly offload: number; readonly known: number } = {
  chain: VRING_FEAT.CHAIN,
  offload: VRING_FEAT.OFFLOAD,
  known: VRING_FEAT.KNOWN,
};

/** offload.oflags bits (VRING_OFL_*). */
export const OFFLOAD_FLAGS: { readonly needsCsum: number; readonly known: number } = {
  needsCsum: VRING_OFL.NEEDS_CSUM,
  known: VRING_OFL.KNOWN,
};

/** offload.gso_type values and the gso_size limits (VRING_GSO_*). */
export const GSO: {
  readonly none: number;
  readonly tcpv4: number;
  readonly tcpv6: number;
  readonly udpL4: number;
  readonly maxType: number;
  readonly sizeMin: number;
  readonly sizeMax: number;
} = {
  none: VRING_GSO.NONE,
  tcpv4: VRING_GSO.TCPV4,
  tcpv6: VRING_GSO.TCPV6,
  udpL4: VRING_GSO.UDP_L4,
  maxType: VRING_GSO.MAX_TYPE,
  sizeMin: VRING_GSO.SIZE_MIN,
  sizeMax: VRING_GSO.SIZE_MAX,
};
