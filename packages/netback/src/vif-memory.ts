/**
 * The memory of one vif: its TX ring, RX ring and buffer pool, each a whole
 * grant region to the vif's domain (DESIGN.md "Grants are whole regions"),
 * rings set up with RingView.init and every slot's `gref` naming the pool.
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

export class VifMemory {
  readonly record: BackendRecord;
  readonly nrBufs: number;
  /** The owner's mappings, taken at allocation (valid while the holds last). */
  readonly txRing: Buffer;
  readonly rxRing: Buffer;
  readonly pool: Buffer;
  #holds: GrantHold[];
  #released = false;

  private constructor(
    readonly geometry: VifGeometry,
    readonly grants: { readonly tx: Grant; readonly rx: Grant; readonly pool: Grant },
  ) {
    this.nrBufs = geometry.txSlots + geometry.rxSlots + SPARE_BUFS;
    this.#holds = [grants.tx.hold(), grants.rx.hold(), grants.pool.hold()];
    this.txRing = grants.tx.buffer;
    this.rxRing = grants.rx.buffer;
    this.pool = grants.pool.buffer;
    this.record = Object.freeze({
      tx: Object.freeze({ numSlots: geometry.txSlots, refs: Object.freeze([grants.tx.ref]) }),
      rx: Object.freeze({ numSlots: geometry.rxSlots, refs: Object.freeze([grants.rx.ref]) }),
      offload: true, // the switch carries chains + the offload word for ports that ask (feature-netmap-offload)
    });
    this.initRings();
  }

  /** Grants three regions rw to `domid` and sets the rings up; undoes what it made when a step fails. */
  static allocate(grants: NetbackGrants, domid: number, geometry: VifGeometry): VifMemory {
    const made: Grant[] = [];
    try {
      const grant = (bytes: number): Grant => {
        const g = grants.grantRegion({ bytes: roundPage(bytes), grantee: domid, access: 'rw' });
        made.push(g);
        return g;
      };
      const tx = grant(RingView.bytes(geometry.txSlots));
      const rx = grant(RingView.bytes(geometry.rxSlots));
      const pool = grant((geometry.txSlots + geometry.rxSlots + SPARE_BUFS) * geometry.bufSizeBytes);
      return new VifMemory(geometry, { tx, rx, pool });
    } catch (e) {
      for (const g of made.reverse()) g.release();
      throw e;
    }
  }

  /** (Re)initialises both rings: indices at zero, slot i of TX owns buffer i, slot i of RX buffer txSlots + i, every gref the pool's. Only while no port is attached. */
  initRings(): void {
    const { txSlots, rxSlots, bufSizeBytes } = this.geometry;
    const gref = BigInt(this.grants.pool.ref);
    const tx = RingView.init(this.txRing, 0, { kind: 'tx', numSlots: txSlots, bufSizeBytes, nrBufs: this.nrBufs });
    const rx = RingView.init(this.rxRing, 0, { kind: 'rx', numSlots: rxSlots, bufSizeBytes, nrBufs: this.nrBufs, firstBuf: txSlots });
    for (let i = 0; i < txSlots; i++) tx.writeSlot(i, { gref });
    for (let i = 0; i < rxSlots; i++) rx.writeSlot(i, { gref });
  }

  get released(): boolean {
    return this.#released;
  }

  /** Drops the holds and releases the three grants (revoke, unmap, free the refs). Call after the port is detached. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const h of this.#holds) h.drop();
    this.#holds = [];
    for (const g of [this.grants.pool, this.grants.rx, this.grants.tx]) g.release();
  }
}
