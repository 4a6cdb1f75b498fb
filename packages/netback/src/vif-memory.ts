/**
 * The memory of one vif: per queue its TX ring, RX ring and buffer pool,
 * each a whole grant region to the vif's domain (DESIGN.md "Grants are
 * whole regions"), rings set up with RingView.init and every slot's `gref`
 * naming that queue's pool. A vif has one queue unless it was created with
 * `queues` > 1; each queue is exactly what a one-queue vif has (its own
 * pool: a queue's switch port can reach its own buffers and nothing else).
 *
 * The grants are held (Grant.hold()) from allocation until release(): a
 * broker that releases dom0's grants to a dead domain before @releaseDomain
 * reaches netback cannot unmap memory a switch port still uses. The record
 * (sizes and refs) is netback's own: it is what was granted, never what a
 * guest wrote back.
 */
import type { Grant, GrantHold } from '@vpio/grant';
import { RingView } from '@vpio/ring';
import type { BackendRecord } from '@vpio/vif';
import type { NetbackGrants } from './host.js';

const PAGE_BYTES = 4096;
const roundPage = (n: number): number => Math.ceil(n / PAGE_BYTES) * PAGE_BYTES;
/** Buffers beyond one per slot, so a frontend can hold some while both rings are full. */
const SPARE_BUFS = 64;

export interface VifGeometry {
  readonly txSlots: number;
  readonly rxSlots: number;
  readonly bufSizeBytes: number;
}

/** One queue's three regions and the owner's mappings of them (valid while the holds last). */
export interface QueueMemory {
  readonly grants: { readonly tx: Grant; readonly rx: Grant; readonly pool: Grant };
  readonly txRing: Buffer;
  readonly rxRing: Buffer;
  readonly pool: Buffer;
}

/** Bytes netback grants a vif's domain (every queue's two rings and pool, page-rounded): what its guest maps. */
export function vifGrantBytes(geometry: VifGeometry, queues = 1): number {
  const { txSlots, rxSlots, bufSizeBytes } = geometry;
  return queues * (roundPage(RingView.bytes(txSlots)) + roundPage(RingView.bytes(rxSlots)) + roundPage((txSlots + rxSlots + SPARE_BUFS) * bufSizeBytes));
}

export class VifMemory {
  readonly record: BackendRecord;
  readonly nrBufs: number;
  /** Queue 0 first. */
  readonly queues: readonly QueueMemory[];
  #holds: GrantHold[];
  #released = false;

  private constructor(
    readonly geometry: VifGeometry,
    queueGrants: ReadonlyArray<{ readonly tx: Grant; readonly rx: Grant; readonly pool: Grant }>,
  ) {
    this.nrBufs = geometry.txSlots + geometry.rxSlots + SPARE_BUFS;
    this.#holds = queueGrants.flatMap((g) => [g.tx.hold(), g.rx.hold(), g.pool.hold()]);
    this.queues = Object.freeze(queueGrants.map((g) => Object.freeze({ grants: g, txRing: g.tx.buffer, rxRing: g.rx.buffer, pool: g.pool.buffer })));
    // a ring's refs: host [ref]; xen one per page (tx-ring-refs=N, tx-ring-ref0..N-1)
    const ring = (g: Grant, numSlots: number) => Object.freeze({ numSlots, refs: Object.freeze([...g.refs]) });
    const q = queueGrants.map((g) => Object.freeze({ tx: ring(g.tx, geometry.txSlots), rx: ring(g.rx, geometry.rxSlots) }));
    this.record = Object.freeze({
      tx: q[0]!.tx,
      rx: q[0]!.rx,
      ...(q.length > 1 ? { extraQueues: Object.freeze(q.slice(1)) } : {}),
      offload: true, // the switch carries chains + the offload word for ports that ask (feature-netmap-offload)
    });
    this.initRings();
  }

  /** Queue 0's grants (a one-queue vif's three). */
  get grants(): QueueMemory['grants'] {
    return this.queues[0]!.grants;
  }

  /** Grants three regions rw to `domid` per queue and sets the rings up; undoes what it made when a step fails. */
  static allocate(grants: NetbackGrants, domid: number, geometry: VifGeometry, queues = 1): VifMemory {
    const made: Grant[] = [];
    try {
      const grant = (bytes: number): Grant => {
        const g = grants.grantRegion({ bytes: roundPage(bytes), grantee: domid, access: 'rw' });
        made.push(g);
        return g;
      };
      const all = Array.from({ length: queues }, () => {
        const tx = grant(RingView.bytes(geometry.txSlots));
        const rx = grant(RingView.bytes(geometry.rxSlots));
        const pool = grant((geometry.txSlots + geometry.rxSlots + SPARE_BUFS) * geometry.bufSizeBytes);
        if (pool.refs.length > geometry.txSlots + geometry.rxSlots) {
          // xen: one ref per pool page, carried one per slot gref; more pages than slots cannot travel
          throw new RangeError(
            `the buffer pool is ${pool.refs.length} grant refs (one per page) but the rings carry ${geometry.txSlots + geometry.rxSlots} slot grefs: ` +
              'use smaller buffers (buf-size/mtu) or more slots',
          );
        }
        return { tx, rx, pool };
      });
      return new VifMemory(geometry, all);
    } catch (e) {
      for (const g of made.reverse()) g.release();
      throw e;
    }
  }

  /**
   * (Re)initialises every queue's rings: indices at zero, slot i of TX owns
   * buffer i, slot i of RX buffer txSlots + i. The grefs carry the pool's
   * refs in order (TX slots, then RX slots): slot k holds refs[k], slots past
   * the last ref repeat it. The frontend collects them skipping repeats
   * (netfront's pool_refs()) and maps them contiguously: host mode's one
   * ref ([ref]) is every slot's gref, as it always was; xen's ref per page
   * lands one per slot. Only while no port is attached.
   */
  initRings(): void {
    const { txSlots, rxSlots, bufSizeBytes } = this.geometry;
    for (const q of this.queues) {
      const refs = q.grants.pool.refs.map((r) => BigInt(r));
      const gref = (k: number): bigint => refs[Math.min(k, refs.length - 1)]!;
      const tx = RingView.init(q.txRing, 0, { kind: 'tx', numSlots: txSlots, bufSizeBytes, nrBufs: this.nrBufs });
      const rx = RingView.init(q.rxRing, 0, { kind: 'rx', numSlots: rxSlots, bufSizeBytes, nrBufs: this.nrBufs, firstBuf: txSlots });
      for (let i = 0; i < txSlots; i++) tx.writeSlot(i, { gref: gref(i) });
      for (let i = 0; i < rxSlots; i++) rx.writeSlot(i, { gref: gref(txSlots + i) });
    }
  }

  get released(): boolean {
    return this.#released;
  }

  /** Drops the holds and releases every grant (revoke, unmap, free the refs). Call after the ports are detached. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const h of this.#holds) h.drop();
    this.#holds = [];
    for (const q of [...this.queues].reverse()) for (const g of [q.grants.pool, q.grants.rx, q.grants.tx]) g.release();
  }
}
