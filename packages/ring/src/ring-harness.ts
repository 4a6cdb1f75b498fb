/**
 * RingHarness: the real C burst helpers of both sides (vpio/ring_be.h and
 * vpio/ring_fe.h) driven from JS over a ring Buffer and a pool Buffer. For
 * tests and tools only: each call crosses N-API once per burst, and nothing
 * in vpio's data path uses it. Not exported from the package's public API.
 *
 * Arguments are checked here first (ArgumentError from @vpio/errors); the
 * addon checks them again so that no value can make it touch memory outside
 * the two Buffers. The harness keeps both Buffers referenced for its
 * lifetime; if one is detached or resized, later calls throw.
 *
 * Values mirror the C: kinds and verdicts are numbers, beInit()/feAttach()
 * return 0 or a negative errno, kick is 0 or 1, drops[v] counts the slots
 * dropped with verdict v in that call (verdictValue() maps names).
 */
import { ArgumentError, expectInteger } from '@vpio/errors';
import {
  type NativeGeometry,
  type NativeLimits,
  type NativeOffload,
  type NativeRingHarness,
  type NativeSlot,
  loadNative,
} from './native.js';

const U32_MAX = 0xffffffff;
const MAX_BURST = 65536;
const MAX_PACKET_BYTES = 0xffff;

export type { NativeGeometry, NativeLimits, NativeOffload, NativeSlot };

function expectBytes(name: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new ArgumentError(name, 'a Buffer or Uint8Array', value);
  return value;
}

function expectGeometry(geometry: NativeGeometry): NativeGeometry {
  if (typeof geometry !== 'object' || geometry === null) throw new ArgumentError('geometry', 'an object', geometry);
  return {
    kind: expectInteger('geometry.kind', geometry.kind, 0, U32_MAX),
    numSlots: expectInteger('geometry.numSlots', geometry.numSlots, 0, U32_MAX),
    bufSize: expectInteger('geometry.bufSize', geometry.bufSize, 0, U32_MAX),
    nrBufs: expectInteger('geometry.nrBufs', geometry.nrBufs, 0, U32_MAX),
    firstBuf: expectInteger('geometry.firstBuf', geometry.firstBuf ?? 0, 0, U32_MAX),
    features: expectInteger('geometry.features', geometry.features ?? 0, 0, U32_MAX),
  };
}

function expectPackets(name: string, packets: readonly Uint8Array[]): readonly Uint8Array[] {
  if (!Array.isArray(packets)) throw new ArgumentError(name, 'an array of Buffers', packets);
  if (packets.length > MAX_BURST) throw new ArgumentError(name, `at most ${MAX_BURST} packets`, packets);
  packets.forEach((p, i) => {
    expectBytes(`${name}[${i}]`, p);
    if (p.byteLength > MAX_PACKET_BYTES) {
      throw new ArgumentError(`${name}[${i}]`, `at most ${MAX_PACKET_BYTES} bytes`, p);
    }
  });
  return packets;
}

export interface TxBurstResult {
  /** Packets the backend took and delivered, in ring order. */
  readonly packets: Buffer[];
  /** drops[v]: slots dropped with verdict v during this burst. */
  readonly drops: number[];
  readonly kick: number;
}

export interface RxBurstResult {
  readonly n: number;
  readonly drops: number[];
  readonly kick: number;
}

/** One backend (struct vring_be) and one guest (struct vring_fe) over the same ring and pool. */
export class RingHarness {
  /** The ring region (header + slots) the C state points into. */
  readonly ring: Uint8Array;
  /** The pool region (nr_bufs buffers of buf_size bytes). */
  readonly pool: Uint8Array;
  readonly #native: NativeRingHarness;

  /** `ring` must start on a 16-byte boundary in memory (Buffer.alloc() memory does). */
  constructor(ring: Uint8Array, pool: Uint8Array) {
    this.ring = expectBytes('ring', ring);
    this.pool = expectBytes('pool', pool);
    const Native = loadNative().RingHarness;
    this.#native = new Native(this.ring, this.pool);
  }

  /** vring_be_init() over the ring and pool: 0, -EINVAL or -ERANGE. Throws if the pool Buffer is too small. */
  beInit(geometry: NativeGeometry): number {
    return this.#native.beInit(expectGeometry(geometry));
  }

  /** vring_fe_attach(): 0, -EPROTO, -EPROTONOSUPPORT, -EINVAL or -ERANGE. */
  feAttach(kind: number): number {
    return this.#native.feAttach(expectInteger('kind', kind, 0, U32_MAX));
  }

  /** vring_fe_tx_burst(): the guest enqueues packets on a TX ring. */
  feTxBurst(packets: readonly Uint8Array[]): { n: number; kick: number } {
    return this.#native.feTxBurst(expectPackets('packets', packets));
  }

  /** vring_be_tx_burst(): the backend takes up to `max` packets from a TX ring, validating every slot. */
  beTxBurst(max: number): TxBurstResult {
    return this.#native.beTxBurst(expectInteger('max', max, 0, MAX_BURST));
  }

  /** vring_be_rx_burst(): the backend fills an RX ring (every packet at most buf_size bytes). */
  beRxBurst(packets: readonly Uint8Array[]): RxBurstResult {
    return this.#native.beRxBurst(expectPackets('packets', packets));
  }

  /** vring_fe_rx_burst(): the guest takes up to `max` packets from an RX ring. */
  feRxBurst(max: number): { packets: Buffer[]; kick: number } {
    return this.#native.feRxBurst(expectInteger('max', max, 0, MAX_BURST));
  }

  /** vring_be_prepare_sleep(): 1 if the backend may sleep, 0 if work arrived. */
  bePrepareSleep(): number {
    return this.#native.bePrepareSleep();
  }

  /** vring_fe_prepare_sleep(): 1 if the guest may sleep, 0 if slots became available. */
  fePrepareSleep(): number {
    return this.#native.fePrepareSleep();
  }

  beWoken(): void {
    this.#native.beWoken();
  }

  feWoken(): void {
    this.#native.feWoken();
  }

  /** The backend's private hwcur (last head accepted). */
  get hwcur(): number {
    return this.#native.hwcur;
  }

  /** The backend's private hwtail (last tail published). */
  get hwtail(): number {
    return this.#native.hwtail;
  }

  /** The guest's private head. */
  get feHead(): number {
    return this.#native.feHead;
  }

  /** The guest's cached tail. */
  get feTailCache(): number {
    return this.#native.feTailCache;
  }
}

/** vring_be_init() on the ring at byteOffset of `buffer` (bounds and 16-byte alignment checked): 0 or -errno. */
export function initRing(buffer: Uint8Array, byteOffset: number, geometry: NativeGeometry): number {
  const mem = expectBytes('buffer', buffer);
  const off = expectInteger('byteOffset', byteOffset, 0, mem.byteLength);
  return loadNative().initRing(mem, off, expectGeometry(geometry));
}
