/**
 * RingView: a typed view of one ring region (header + slots) inside a
 * Buffer, ArrayBuffer or SharedArrayBuffer, for the TypeScript control plane
 * and for tools and tests. It is not a data path: the switch and the guests
 * move packets in C (vpio/ring_be.h, vpio/ring_fe.h).
 *
 * Like vring_fe_attach(), the constructor checks the magic, the ABI version,
 * the geometry and the bounds once and keeps private copies of the constant
 * header line; later reads of num_slots and friends come from those copies,
 * so a peer rewriting them cannot move the view outside its memory. The
 * shared indices (head, cur, tail, the kick words) are read and written with
 * Atomics on a Uint32Array: sequentially consistent, so they order at least
 * as strongly as the C side's acquire/release and full barriers.
 *
 * Byte order is the host's, as for the C structs both sides share.
 */
import { ArgumentError, expectInteger, expectOneOf } from '@vpio/errors';
import {
  HEADER_LAYOUT as H,
  MAX_SLOTS,
  MIN_SLOTS,
  OFFLOAD_LAYOUT as O,
  RING_ABI_VERSION,
  RING_FEATURES,
  RING_KINDS,
  RING_MAGIC,
  SLOTS_OFFSET,
  SLOT_LAYOUT as S,
  type RingKind,
} from './layout.js';
import { RingError } from './ring-error.js';
import { type OffloadFields, geometryProblem } from './validate.js';

/** Memory a ring can live in. A view (Buffer, Uint8Array, DataView...) counts from its own byteOffset. */
export type RingMemory = ArrayBuffer | SharedArrayBuffer | ArrayBufferView;

export interface RingViewOptions {
  /** Refuse a ring of another kind (RING_BAD_KIND). */
  readonly kind?: RingKind;
  /** Size of the pool region the slots index: refuse a ring whose nr_bufs * buf_size exceeds it. */
  readonly poolBytes?: number;
}

/** What the backend chooses when it sets a ring up (the arguments of vring_be_init()). */
export interface RingGeometry {
  readonly kind: RingKind;
  /** Power of two in [MIN_SLOTS, MAX_SLOTS]. */
  readonly numSlots: number;
  /** Bytes per pool buffer, in [MIN_BUF_SIZE_BYTES, MAX_BUF_SIZE_BYTES]. */
  readonly bufSizeBytes: number;
  /** Buffers in the port's pool. */
  readonly nrBufs: number;
  /** buf_idx of slot 0; slot i gets firstBuf + i. Default 0. */
  readonly firstBuf?: number;
  /** RING_FEATURES bits negotiated for the port. Default 0. */
  readonly features?: number;
}

/** One slot as read from the ring. `gref` and `offload` are two readings of the same 8 bytes. */
export interface SlotView {
  readonly bufIdx: number;
  readonly len: number;
  readonly flags: number;
  readonly gref: bigint;
  readonly offload: OffloadFields;
}

/** Fields to write into a slot; absent fields are left as they are. gref and offload exclude each other. */
export interface SlotWrite {
  readonly bufIdx?: number;
  readonly len?: number;
  readonly flags?: number;
  readonly gref?: bigint;
  readonly offload?: OffloadFields;
}

const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;
const U8_MAX = 0xff;
const U64_MAX = (1n << 64n) - 1n;

interface Region {
  readonly buffer: ArrayBufferLike;
  /** Byte offset of the ring inside `buffer`. */
  readonly start: number;
  /** Bytes from `start` to the end of the caller's memory. */
  readonly available: number;
}

function region(memory: RingMemory, byteOffset: number): Region {
  let buffer: ArrayBufferLike;
  let base: number;
  let length: number;
  if (ArrayBuffer.isView(memory)) {
    buffer = memory.buffer;
    base = memory.byteOffset;
    length = memory.byteLength;
  } else if (
    memory instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer !== 'undefined' && memory instanceof SharedArrayBuffer)
  ) {
    buffer = memory;
    base = 0;
    length = memory.byteLength;
  } else {
    throw new ArgumentError('memory', 'a Buffer, ArrayBuffer, SharedArrayBuffer or typed array', memory);
  }
  expectInteger('byteOffset', byteOffset, 0, Number.MAX_SAFE_INTEGER);
  if (byteOffset > length) {
    throw new RingError('RING_OUT_OF_BOUNDS', `byteOffset ${byteOffset} is beyond the end of ${length} bytes of memory`);
  }
  return { buffer, start: base + byteOffset, available: length - byteOffset };
}

function checkAligned(r: Region): void {
  // 8: BigUint64Array (gref) and Atomics on Uint32Array need natural alignment.
  if (r.start % 8 !== 0) {
    throw new RingError('RING_MISALIGNED', `a ring must start on an 8-byte boundary; it starts at byte ${r.start}`);
  }
}

function kindName(value: number): RingKind | undefined {
  if (value === RING_KINDS.tx) return 'tx';
  if (value === RING_KINDS.rx) return 'rx';
  return undefined;
}

function isPow2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

export class RingView {
  readonly #u8: Uint8Array;
  readonly #u16: Uint16Array;
  readonly #u32: Uint32Array;
  readonly #u64: BigUint64Array;
  readonly #kind: RingKind;
  readonly #numSlots: number;
  readonly #mask: number;
  readonly #bufSizeBytes: number;
  readonly #nrBufs: number;
  readonly #features: number;
  readonly #abiVersion: number;
  readonly #magic: number;

  /**
   * Opens the ring at `byteOffset` of `memory`. Throws RingError:
   * RING_OUT_OF_BOUNDS, RING_MISALIGNED, RING_BAD_MAGIC, RING_ABI_MISMATCH,
   * RING_BAD_GEOMETRY, RING_BAD_KIND; ArgumentError for ill-typed arguments.
   */
  constructor(memory: RingMemory, byteOffset = 0, options: RingViewOptions = {}) {
    const r = region(memory, byteOffset);
    if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object', options);
    const wantKind = options.kind === undefined ? undefined : expectOneOf('options.kind', options.kind, ['tx', 'rx']);
    const poolBytes =
      options.poolBytes === undefined
        ? undefined
        : expectInteger('options.poolBytes', options.poolBytes, 0, Number.MAX_SAFE_INTEGER);
    if (r.available < SLOTS_OFFSET) {
      throw new RingError(
        'RING_OUT_OF_BOUNDS',
        `a ring header needs ${SLOTS_OFFSET} bytes; only ${r.available} are there`,
      );
    }
    checkAligned(r);
    const hdr32 = new Uint32Array(r.buffer, r.start, SLOTS_OFFSET / 4);
    const hdr16 = new Uint16Array(r.buffer, r.start, SLOTS_OFFSET / 2);
    // Read first, like the acquire in vring_fe_attach(): the backend writes it last.
    const magic = Atomics.load(hdr32, H.magic.offset / 4);
    if (magic !== RING_MAGIC) {
      throw new RingError(
        'RING_BAD_MAGIC',
        `no vpio ring here: magic is 0x${magic.toString(16).padStart(8, '0')}, expected 0x${RING_MAGIC.toString(16)} (or the ring is not set up yet)`,
      );
    }
    const abiVersion = hdr16[H.abiVersion.offset / 2] ?? 0;
    if (abiVersion !== RING_ABI_VERSION) {
      throw new RingError(
        'RING_ABI_MISMATCH',
        `ring ABI version ${abiVersion} is not supported: this build speaks version ${RING_ABI_VERSION}`,
      );
    }
    const numSlots = hdr32[H.numSlots.offset / 4] ?? 0;
    const bufSizeBytes = hdr32[H.bufSize.offset / 4] ?? 0;
    const nrBufs = hdr32[H.nrBufs.offset / 4] ?? 0;
    const features = hdr32[H.features.offset / 4] ?? 0;
    const kindValue = hdr16[H.kind.offset / 2] ?? 0;
    const problem = geometryProblem(numSlots, bufSizeBytes, nrBufs);
    if (problem !== undefined) throw new RingError('RING_BAD_GEOMETRY', `bad ring geometry: ${problem}`);
    const kind = kindName(kindValue);
    if (kind === undefined) throw new RingError('RING_BAD_KIND', `hdr.kind ${kindValue} is neither TX nor RX`);
    if (wantKind !== undefined && kind !== wantKind) {
      throw new RingError('RING_BAD_KIND', `expected a ${wantKind.toUpperCase()} ring, found a ${kind.toUpperCase()} ring`);
    }
    const ringBytes = SLOTS_OFFSET + numSlots * S.bytes;
    if (r.available < ringBytes) {
      throw new RingError(
        'RING_OUT_OF_BOUNDS',
        `a ring of ${numSlots} slots needs ${ringBytes} bytes; only ${r.available} are there`,
      );
    }
    if (poolBytes !== undefined && nrBufs * bufSizeBytes > poolBytes) {
      throw new RingError(
        'RING_OUT_OF_BOUNDS',
        `the pool needs ${nrBufs} x ${bufSizeBytes} = ${nrBufs * bufSizeBytes} bytes; only ${poolBytes} are there`,
      );
    }
    this.#u8 = new Uint8Array(r.buffer, r.start, ringBytes);
    this.#u16 = new Uint16Array(r.buffer, r.start, ringBytes / 2);
    this.#u32 = new Uint32Array(r.buffer, r.start, ringBytes / 4);
    this.#u64 = new BigUint64Array(r.buffer, r.start, ringBytes / 8);
    this.#kind = kind;
    this.#numSlots = numSlots;
    this.#mask = numSlots - 1;
    this.#bufSizeBytes = bufSizeBytes;
    this.#nrBufs = nrBufs;
    this.#features = features;
    this.#abiVersion = abiVersion;
    this.#magic = magic;
  }

  /** Bytes of a ring region with numSlots slots (vring_ring_bytes()). */
  static bytes(numSlots: number): number {
    expectInteger('numSlots', numSlots, MIN_SLOTS, MAX_SLOTS);
    if (!isPow2(numSlots)) throw new ArgumentError('numSlots', `a power of two in [${MIN_SLOTS}, ${MAX_SLOTS}]`, numSlots);
    return SLOTS_OFFSET + numSlots * S.bytes;
  }

  /**
   * The backend's set-up of a fresh ring, as vring_be_init() does it: header
   * fields, then every slot (buf_idx = firstBuf + i, the rest zero), and the
   * magic last (it is cleared first), so a guest never attaches to a half-
   * written ring. Writes exactly the bytes vring_be_init() writes (padding is
   * left alone). Returns the view of the new ring. Throws RingError
   * RING_BAD_GEOMETRY (geometry, unknown features, not enough buffers after
   * firstBuf), RING_OUT_OF_BOUNDS, RING_MISALIGNED; ArgumentError otherwise.
   */
  static init(memory: RingMemory, byteOffset: number, geometry: RingGeometry): RingView {
    const r = region(memory, byteOffset);
    if (typeof geometry !== 'object' || geometry === null) throw new ArgumentError('geometry', 'an object', geometry);
    const kind = expectOneOf('geometry.kind', geometry.kind, ['tx', 'rx']);
    const numSlots = expectInteger('geometry.numSlots', geometry.numSlots, 0, U32_MAX);
    const bufSizeBytes = expectInteger('geometry.bufSizeBytes', geometry.bufSizeBytes, 0, U32_MAX);
    const nrBufs = expectInteger('geometry.nrBufs', geometry.nrBufs, 0, U32_MAX);
    const firstBuf = expectInteger('geometry.firstBuf', geometry.firstBuf ?? 0, 0, U32_MAX);
    const features = expectInteger('geometry.features', geometry.features ?? 0, 0, U32_MAX);
    const problem = geometryProblem(numSlots, bufSizeBytes, nrBufs);
    if (problem !== undefined) throw new RingError('RING_BAD_GEOMETRY', `bad ring geometry: ${problem}`);
    if ((features & ~RING_FEATURES.known) >>> 0 !== 0) {
      throw new RingError('RING_BAD_GEOMETRY', `unknown feature bits 0x${((features & ~RING_FEATURES.known) >>> 0).toString(16)}`);
    }
    const ringBytes = SLOTS_OFFSET + numSlots * S.bytes;
    if (r.available < ringBytes) {
      throw new RingError(
        'RING_OUT_OF_BOUNDS',
        `a ring of ${numSlots} slots needs ${ringBytes} bytes; only ${r.available} are there`,
      );
    }
    if (firstBuf > nrBufs || nrBufs - firstBuf < numSlots) {
      throw new RingError(
        'RING_BAD_GEOMETRY',
        `${numSlots} slots need buffers ${firstBuf}..${firstBuf + numSlots - 1}; the pool has ${nrBufs}`,
      );
    }
    checkAligned(r);

    const u16 = new Uint16Array(r.buffer, r.start, ringBytes / 2);
    const u32 = new Uint32Array(r.buffer, r.start, ringBytes / 4);
    const u64 = new BigUint64Array(r.buffer, r.start, ringBytes / 8);
    Atomics.store(u32, H.magic.offset / 4, 0);
    u16[H.abiVersion.offset / 2] = RING_ABI_VERSION;
    u16[H.kind.offset / 2] = RING_KINDS[kind];
    u32[H.numSlots.offset / 4] = numSlots;
    u32[H.bufSize.offset / 4] = bufSizeBytes;
    u32[H.nrBufs.offset / 4] = nrBufs;
    u32[H.features.offset / 4] = features;
    u32[H.head.offset / 4] = 0;
    u32[H.cur.offset / 4] = 0;
    u32[H.tail.offset / 4] = kind === 'tx' ? numSlots - 1 : 0;
    u32[H.feNeedKick.offset / 4] = 0;
    u32[H.beNeedKick.offset / 4] = 0;
    for (let i = 0; i < numSlots; i++) {
      const at = SLOTS_OFFSET + i * S.bytes;
      u32[(at + S.bufIdx.offset) / 4] = firstBuf + i;
      u16[(at + S.len.offset) / 2] = 0;
      u16[(at + S.flags.offset) / 2] = 0;
      u64[(at + S.gref.offset) / 8] = 0n;
    }
    // Last, and sequentially consistent (at least the C side's release): pairs with the read in the constructor.
    Atomics.store(u32, H.magic.offset / 4, RING_MAGIC);
    return new RingView(memory, byteOffset, { kind });
  }

  // -- the constant line, as checked at construction ------------------------

  get magic(): number {
    return this.#magic;
  }

  get abiVersion(): number {
    return this.#abiVersion;
  }

  get kind(): RingKind {
    return this.#kind;
  }

  get numSlots(): number {
    return this.#numSlots;
  }

  get bufSizeBytes(): number {
    return this.#bufSizeBytes;
  }

  get nrBufs(): number {
    return this.#nrBufs;
  }

  get features(): number {
    return this.#features;
  }

  /** Bytes of this ring region (header + slots). */
  get ringBytes(): number {
    return this.#u8.byteLength;
  }

  // -- the shared indices and kick words (Atomics) --------------------------

  /** (fe) first slot the guest owns. */
  get head(): number {
    return Atomics.load(this.#u32, H.head.offset / 4);
  }

  /** (fe) the guest's wake-up point. */
  get cur(): number {
    return Atomics.load(this.#u32, H.cur.offset / 4);
  }

  /** (be) first slot the backend owns. */
  get tail(): number {
    return Atomics.load(this.#u32, H.tail.offset / 4);
  }

  /** (fe) nonzero while the guest sleeps on this ring. */
  get feNeedKick(): number {
    return Atomics.load(this.#u32, H.feNeedKick.offset / 4);
  }

  /** (be) nonzero while the backend sleeps on this ring. */
  get beNeedKick(): number {
    return Atomics.load(this.#u32, H.beNeedKick.offset / 4);
  }

  /**
   * Guest side: hand slots up to `head` to the backend, as vring_fe_publish()
   * does: cur first, then head. Returns true when the backend asked to be
   * kicked (be_need_kick read after the stores, which are sequentially
   * consistent: the full barrier of the kick protocol).
   */
  publishHead(head: number, cur: number = head): boolean {
    this.#expectIndex('head', head);
    this.#expectIndex('cur', cur);
    Atomics.store(this.#u32, H.cur.offset / 4, cur);
    Atomics.store(this.#u32, H.head.offset / 4, head);
    return this.beNeedKick !== 0;
  }

  /**
   * Backend side: publish `tail` (vring_be_tx_release() / vring_be_rx_publish()).
   * Returns true when the guest asked to be kicked.
   */
  publishTail(tail: number): boolean {
    this.#expectIndex('tail', tail);
    Atomics.store(this.#u32, H.tail.offset / 4, tail);
    return this.feNeedKick !== 0;
  }

  /**
   * Slots holding packets, from the guest's point of view: on TX the ones
   * handed to the backend and not given back yet, on RX the received ones not
   * consumed yet. used() + free() === numSlots - 1 (one slot stays empty).
   */
  used(): number {
    const owned = this.#guestOwned();
    return this.#kind === 'tx' ? this.#mask - owned : owned;
  }

  /** Slots not holding packets (see used()). */
  free(): number {
    return this.#mask - this.used();
  }

  // -- slots ---------------------------------------------------------------

  /** Reads slot i (plain reads: the slot's owner is whoever the indices say). */
  slot(i: number): SlotView {
    this.#expectIndex('i', i);
    const at = SLOTS_OFFSET + i * S.bytes;
    const o = at + S.offload.offset;
    return {
      bufIdx: this.#u32[(at + S.bufIdx.offset) / 4] ?? 0,
      len: this.#u16[(at + S.len.offset) / 2] ?? 0,
      flags: this.#u16[(at + S.flags.offset) / 2] ?? 0,
      gref: this.#u64[(at + S.gref.offset) / 8] ?? 0n,
      offload: {
        csumStart: this.#u16[(o + O.csumStart.offset) / 2] ?? 0,
        csumOffset: this.#u16[(o + O.csumOffset.offset) / 2] ?? 0,
        gsoSize: this.#u16[(o + O.gsoSize.offset) / 2] ?? 0,
        gsoType: this.#u8[o + O.gsoType.offset] ?? 0,
        oflags: this.#u8[o + O.oflags.offset] ?? 0,
      },
    };
  }

  /**
   * Writes the given fields of slot i. Values are checked against their C
   * types only (u32 buf_idx, u16 len and flags...): whether they make sense
   * is for the reader to validate, as the backend does.
   */
  writeSlot(i: number, fields: SlotWrite): void {
    this.#expectIndex('i', i);
    if (typeof fields !== 'object' || fields === null) throw new ArgumentError('fields', 'an object', fields);
    if (fields.gref !== undefined && fields.offload !== undefined) {
      throw new ArgumentError('fields', 'gref or offload (they share the same 8 bytes), not both', fields);
    }
    const at = SLOTS_OFFSET + i * S.bytes;
    const bufIdx = fields.bufIdx === undefined ? undefined : expectInteger('fields.bufIdx', fields.bufIdx, 0, U32_MAX);
    const len = fields.len === undefined ? undefined : expectInteger('fields.len', fields.len, 0, U16_MAX);
    const flags = fields.flags === undefined ? undefined : expectInteger('fields.flags', fields.flags, 0, U16_MAX);
    if (fields.gref !== undefined && (typeof fields.gref !== 'bigint' || fields.gref < 0n || fields.gref > U64_MAX)) {
      throw new ArgumentError('fields.gref', 'a bigint in [0, 2^64 - 1]', fields.gref);
    }
    let offload: OffloadFields | undefined;
    if (fields.offload !== undefined) {
      const w = fields.offload;
      if (typeof w !== 'object' || w === null) throw new ArgumentError('fields.offload', 'an object', w);
      offload = {
        csumStart: expectInteger('fields.offload.csumStart', w.csumStart, 0, U16_MAX),
        csumOffset: expectInteger('fields.offload.csumOffset', w.csumOffset, 0, U16_MAX),
        gsoSize: expectInteger('fields.offload.gsoSize', w.gsoSize, 0, U16_MAX),
        gsoType: expectInteger('fields.offload.gsoType', w.gsoType, 0, U8_MAX),
        oflags: expectInteger('fields.offload.oflags', w.oflags, 0, U8_MAX),
      };
    }
    // All checked: now write, so a bad field leaves the slot untouched.
    if (bufIdx !== undefined) this.#u32[(at + S.bufIdx.offset) / 4] = bufIdx;
    if (len !== undefined) this.#u16[(at + S.len.offset) / 2] = len;
    if (flags !== undefined) this.#u16[(at + S.flags.offset) / 2] = flags;
    if (fields.gref !== undefined) this.#u64[(at + S.gref.offset) / 8] = fields.gref;
    if (offload !== undefined) {
      const o = at + S.offload.offset;
      this.#u16[(o + O.csumStart.offset) / 2] = offload.csumStart;
      this.#u16[(o + O.csumOffset.offset) / 2] = offload.csumOffset;
      this.#u16[(o + O.gsoSize.offset) / 2] = offload.gsoSize;
      this.#u8[o + O.gsoType.offset] = offload.gsoType;
      this.#u8[o + O.oflags.offset] = offload.oflags;
    }
  }

  #guestOwned(): number {
    // Read once each; the mask keeps a garbage value from leaving [0, numSlots).
    const head = this.head;
    const tail = this.tail;
    return ((tail - head) & this.#mask) >>> 0;
  }

  #expectIndex(name: string, value: number): void {
    expectInteger(name, value, 0, this.#numSlots - 1);
  }
}
