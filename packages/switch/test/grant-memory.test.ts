/**
 * A port's memory is a dom0 grant's owner mapping (what netback and the
 * benchmark do). The grant's lifecycle is not the switch's: vpiod releases
 * dom0's grants to a domain when it dies, and the caller may drop every
 * reference to the Grant. Objective: while the port exists its memory stays
 * mapped (the switch holds the grant: Grant.hold()), so forwarding goes on;
 * removePort() drops the hold and only then is the memory unmapped.
 * Without the hold the release unmapped the rings under the switch (the
 * benchmark's SIGSEGV in vsw_lease_space_locked).
 */
import { describe, expect, it } from 'vitest';
import { GrantTable, type Grant } from '@vpio/grant';
import { RingView } from '@vpio/ring';
import { Switch } from '../src/index.js';

const SLOTS = 64;
const BUF = 2048;
const NR_BUFS = 2 * SLOTS;
const RING = Math.ceil(RingView.bytes(SLOTS) / 4096) * 4096;
const BYTES = 2 * RING + NR_BUFS * BUF;
const gc = (globalThis as { gc?: () => void }).gc;

/** One port in one grant: TX ring, RX ring, pool (the benchmark's layout). */
function grantPort(table: GrantTable, sw: Switch, n: number): { id: number; tx: RingView; rx: RingView; pool: Buffer; mac: number[] } {
  const g: Grant = table.grantRegion({ bytes: BYTES, grantee: 1, access: 'rw' });
  const mem = g.buffer;
  RingView.init(mem, 0, { kind: 'tx', numSlots: SLOTS, bufSizeBytes: BUF, nrBufs: NR_BUFS });
  RingView.init(mem, RING, { kind: 'rx', numSlots: SLOTS, bufSizeBytes: BUF, nrBufs: NR_BUFS, firstBuf: SLOTS });
  const id = sw.addPort({
    txRing: mem.subarray(0, RING), rxRing: mem.subarray(RING, 2 * RING), pool: mem.subarray(2 * RING),
    txSlots: SLOTS, rxSlots: SLOTS, bufSizeBytes: BUF, nrBufs: NR_BUFS, mac: `02:00:00:00:00:0${n}`, memory: g,
  });
  // the test plays the guest through views of the same memory; the Grant itself is dropped
  return { id, tx: new RingView(mem, 0), rx: new RingView(mem, RING), pool: mem.subarray(2 * RING), mac: [2, 0, 0, 0, 0, n] };
}

describe('a port over a dom0 grant', () => {
  it('keeps forwarding after the grant is released and collected, and unmaps only on removePort()', () => {
    expect(gc, 'vitest runs this file with --expose-gc').toBeTypeOf('function');
    const table = new GrantTable({ domid: 0 });
    const sw = new Switch({ cores: [] });
    try {
      const a = grantPort(table, sw, 1);
      const b = grantPort(table, sw, 2);
      // the grantee died: vpiod releases dom0's grants to it; nobody holds a Grant any more
      expect(table.releaseGrantee(1)).toBe(2);
      for (let i = 0; i < 3; i++) gc!();
      // A sends to B (broadcast, then unicast once B's MAC is learned) many times over
      let delivered = 0;
      for (let round = 0; round < 20; round++) {
        for (const [src, dst] of [[a, b], [b, a]] as const) {
          const head = src.tx.head;
          const frame = src.pool.subarray(src.tx.slot(head).bufIdx * BUF, src.tx.slot(head).bufIdx * BUF + 60);
          frame.set(round === 0 ? [255, 255, 255, 255, 255, 255] : dst.mac, 0);
          frame.set(src.mac, 6);
          frame.writeUInt16BE(0x88b5, 12);
          src.tx.writeSlot(head, { len: 60, flags: 0 });
          src.tx.publishHead((head + 1) % SLOTS);
        }
        sw.pollOnce();
        for (const p of [a, b]) {
          let h = p.rx.head;
          while (h !== p.rx.tail) { delivered++; h = (h + 1) % SLOTS; }
          p.rx.publishHead(h);
        }
        gc!();
      }
      expect(delivered).toBe(40);
      const s = sw.stats();
      expect(s.ports.reduce((n, p) => n + p.inPackets, 0)).toBe(40);
      expect(table.usage.grants).toBe(2); // released, but the memory is held by the switch
      sw.removePort(a.id);
      expect(table.usage.grants).toBe(1); // unmapped once the port is gone
      expect(a.pool.byteLength).toBe(0); // its views are detached
    } finally {
      sw.close();
      table.close();
    }
    expect(table.usage).toEqual({ grants: 0, bytes: 0 });
  });
});
