import { describe, expect, it } from 'vitest';
import { RingView } from '@vpio/ring';
import { Switch, type PortOptions } from '../src/index.js';

const SLOTS = 64;
const BUF = 2048;
const NR_BUFS = 2 * SLOTS + 8;

interface TestPort {
  readonly opts: PortOptions;
  readonly tx: RingView;
  readonly rx: RingView;
  readonly pool: Buffer;
  readonly mac: Uint8Array;
}

function mac(n: number): Uint8Array {
  return Uint8Array.from([0x02, 0, 0, 0, 0, n]);
}

function makePort(n: number, extra: Partial<PortOptions> = {}): TestPort {
  const txRing = Buffer.alloc(RingView.bytes(SLOTS));
  const rxRing = Buffer.alloc(RingView.bytes(SLOTS));
  const pool = Buffer.alloc(NR_BUFS * BUF);
  const tx = RingView.init(txRing, 0, { kind: 'tx', numSlots: SLOTS, bufSizeBytes: BUF, nrBufs: NR_BUFS, firstBuf: 0 });
  const rx = RingView.init(rxRing, 0, { kind: 'rx', numSlots: SLOTS, bufSizeBytes: BUF, nrBufs: NR_BUFS, firstBuf: SLOTS });
  const m = mac(n);
  return {
    opts: { txRing, rxRing, pool, txSlots: SLOTS, rxSlots: SLOTS, bufSizeBytes: BUF, nrBufs: NR_BUFS, mac: m, ...extra },
    tx,
    rx,
    pool,
    mac: m,
  };
}

/** Guest TX of one frame through the ring view (what a netfront does). */
function send(p: TestPort, dst: Uint8Array, seq: number, len = 100): void {
  const head = p.tx.head;
  const { bufIdx } = p.tx.slot(head);
  const frame = p.pool.subarray(bufIdx * BUF, bufIdx * BUF + len);
  frame.set(dst, 0);
  frame.set(p.mac, 6);
  frame.writeUInt16BE(0x88b5, 12);
  frame.writeUInt32BE(seq, 14);
  for (let i = 18; i < len; i++) frame[i] = (seq + i) & 0xff;
  p.tx.writeSlot(head, { len, flags: 0 });
  p.tx.publishHead((head + 1) % SLOTS);
}

/** Guest RX: every frame waiting, as Buffers; gives the slots back. */
function receive(p: TestPort): Buffer[] {
  const out: Buffer[] = [];
  let head = p.rx.head;
  const tail = p.rx.tail;
  while (head !== tail) {
    const { bufIdx, len } = p.rx.slot(head);
    out.push(Buffer.from(p.pool.subarray(bufIdx * BUF, bufIdx * BUF + len)));
    head = (head + 1) % SLOTS;
  }
  p.rx.publishHead(head);
  return out;
}

const BCAST = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

describe('Switch: arguments', () => {
  it('rejects bad options, naming the parameter', () => {
    expect(() => new Switch({ cores: 'x' as unknown as number[] })).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT', parameter: 'cores' }));
    expect(() => new Switch({ cores: [-2] })).toThrow(expect.objectContaining({ parameter: 'cores[0]' }));
    expect(() => new Switch({ cores: [], mode: 'fast' as 'poll' })).toThrow(expect.objectContaining({ parameter: 'mode' }));
    expect(() => new Switch({ cores: [], clock: 'tsc' as 'manual' })).toThrow(expect.objectContaining({ parameter: 'clock' }));
    expect(() => new Switch({ cores: [], macEntries: 5000 })).toThrow(expect.objectContaining({ parameter: 'macEntries' }));
  });

  it('rejects bad ports, naming the parameter', () => {
    using_(new Switch({ cores: [] }), (sw) => {
      const p = makePort(1);
      expect(() => sw.addPort({ ...p.opts, txRing: 'no' as unknown as Uint8Array })).toThrow(expect.objectContaining({ parameter: 'txRing' }));
      expect(() => sw.addPort({ ...p.opts, txSlots: 100 })).toThrow(expect.objectContaining({ parameter: 'txSlots' }));
      expect(() => sw.addPort({ ...p.opts, pool: Buffer.alloc(10) })).toThrow(expect.objectContaining({ parameter: 'pool' }));
      expect(() => sw.addPort({ ...p.opts, mac: 'zz' })).toThrow(expect.objectContaining({ parameter: 'mac' }));
      expect(() => sw.addPort({ ...p.opts, vlan: { mode: 'access', vid: 4095 } })).toThrow(expect.objectContaining({ parameter: 'vlan.vid' }));
      expect(() => sw.addPort({ ...p.opts, vlan: { mode: 'trunk', vids: [0] } })).toThrow(expect.objectContaining({ parameter: 'vlan.vids[0]' }));
      expect(() => sw.addPort({ ...p.opts, ratePps: -1 })).toThrow(expect.objectContaining({ parameter: 'ratePps' }));
      expect(() => sw.addPort({ ...p.opts, worker: 1 })).toThrow(expect.objectContaining({ parameter: 'worker' }));
      expect(() => sw.addPort({ ...p.opts, lossless: 1 as unknown as boolean })).toThrow(expect.objectContaining({ parameter: 'lossless' }));
      expect(() => sw.removePort(7)).toThrow(expect.objectContaining({ code: 'SWITCH_FAILED', errnoName: 'ENOENT' }));
      expect(() => sw.advanceClock(5)).toThrow(expect.objectContaining({ code: 'SWITCH_CLOCK' }));
    });
  });
});

describe('Switch: channel kinds', () => {
  it("validates the kind: host ends take no port numbers, xen ends need each fd'd channel's local port in [1, 131071]", () => {
    using_(new Switch({ cores: [] }), (sw) => {
      const p = makePort(1);
      expect(() => sw.addPort({ ...p.opts, channelKind: 'kvm' as 'xen' })).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT', parameter: 'channelKind' }));
      expect(() => sw.addPort({ ...p.opts, txWaitFd: 0, txPort: 5 })).toThrow(expect.objectContaining({ parameter: 'txPort' }));
      expect(() => sw.addPort({ ...p.opts, rxPort: 5 })).toThrow(expect.objectContaining({ parameter: 'rxPort' }));
      expect(() => sw.addPort({ ...p.opts, channelKind: 'xen', txWaitFd: 0, txNotifyFd: 0 })).toThrow(expect.objectContaining({ parameter: 'txPort' }));
      expect(() => sw.addPort({ ...p.opts, channelKind: 'xen', rxNotifyFd: 0, rxPort: 0 })).toThrow(expect.objectContaining({ parameter: 'rxPort' }));
      expect(() => sw.addPort({ ...p.opts, channelKind: 'xen', rxNotifyFd: 0, rxPort: 131072 })).toThrow(expect.objectContaining({ parameter: 'rxPort' }));
      expect(() => sw.addPort({ ...p.opts, channelKind: 'xen', txPort: 3 })).toThrow(expect.objectContaining({ parameter: 'txPort' }));
      expect(sw.stats().ports).toHaveLength(0);
    });
  });

  it('forwards between a host port and a xen-kind port the same way (kinds change only the kick path)', () => {
    using_(new Switch({ cores: [] }), (sw) => {
      const a = makePort(1);
      const b = makePort(2, { channelKind: 'xen' }); // no fds: a polling xen guest; the ops are never called
      sw.addPort(a.opts);
      sw.addPort(b.opts);
      for (let i = 0; i < 10; i++) send(a, b.mac, i);
      sw.pollOnce();
      expect(receive(b)).toHaveLength(10);
      for (let i = 0; i < 10; i++) send(b, a.mac, i);
      sw.pollOnce();
      expect(receive(a)).toHaveLength(10);
    });
  });
});

function using_(sw: Switch, fn: (sw: Switch) => void): void {
  try {
    fn(sw);
  } finally {
    sw.close();
  }
}

describe('Switch: lifecycle', () => {
  it('throws SWITCH_CLOSED after close(), and close() is idempotent', async () => {
    const sw = new Switch({ cores: [] });
    await sw[Symbol.asyncDispose]();
    sw.close();
    expect(sw.closed).toBe(true);
    expect(() => sw.stats()).toThrow(expect.objectContaining({ code: 'SWITCH_CLOSED' }));
    expect(() => sw.addPort(makePort(1).opts)).toThrow(expect.objectContaining({ code: 'SWITCH_CLOSED' }));
    expect(() => sw.pollOnce()).toThrow(expect.objectContaining({ code: 'SWITCH_CLOSED' }));
  });

  it('starts event-mode workers, refuses pollOnce() beside them, and stops on close()', () => {
    using_(new Switch({ cores: [-1], mode: 'event' }), (sw) => {
      const a = makePort(1);
      const id = sw.addPort(a.opts);
      expect(() => sw.pollOnce()).toThrow(expect.objectContaining({ code: 'SWITCH_BUSY' }));
      expect(sw.stats().workers).toHaveLength(2);
      sw.removePort(id);
      expect(sw.stats().ports).toEqual([]);
    });
  });
});

describe('Switch: forwarding with pollOnce()', () => {
  it('floods, learns, forwards unicast and reports stats of the documented shape', () => {
    using_(new Switch({ cores: [], clock: 'manual', agingMs: 1000 }), (sw) => {
      // a and c learn (no MAC lock); b is MAC-locked, so its own MAC is a static entry from attach
      const a = makePort(1, { macLock: false });
      const b = makePort(2);
      const c = makePort(3, { macLock: false });
      const ia = sw.addPort(a.opts);
      const ib = sw.addPort(b.opts);
      const ic = sw.addPort(c.opts);

      send(a, BCAST, 0);
      expect(sw.pollOnce()).toBe(1);
      expect(receive(b)).toHaveLength(1);
      expect(receive(c)).toHaveLength(1);

      send(b, a.mac, 1);
      sw.pollOnce();
      const got = receive(a);
      expect(got).toHaveLength(1);
      expect(got[0]!.subarray(6, 12)).toEqual(Buffer.from(b.mac));
      expect(got[0]!.readUInt32BE(14)).toBe(1);
      expect(receive(c)).toHaveLength(0);

      // aging with the manual clock: a is forgotten, b's frame to a floods again
      sw.advanceClock(2_000_000_000);
      send(b, a.mac, 2);
      sw.pollOnce();
      expect(receive(a)).toHaveLength(1);
      expect(receive(c)).toHaveLength(1);

      // MAC lock (default on): a frame from b with c's source MAC is dropped
      const head = b.tx.head;
      send(b, BCAST, 3);
      b.pool.set(c.mac, b.tx.slot(head).bufIdx * BUF + 6);
      sw.pollOnce();
      expect(receive(a)).toHaveLength(0);

      const s = sw.stats();
      expect(s.ports.map((p) => p.id)).toEqual([ia, ib, ic]);
      const pb = s.ports[1]!;
      expect(pb).toMatchObject({ inPackets: 3, fwdPackets: 2, learned: 0, macs: 1, worker: 0 });
      expect(s.ports[0]).toMatchObject({ learned: 1, macs: 0 }); // learned from its broadcast, aged and swept since
      expect(pb.drops.mac_lock).toBe(1);
      expect(Object.keys(pb.drops).sort()).toEqual(
        ['buf_idx', 'cur', 'flags', 'flood_limit', 'head', 'len_long', 'len_short', 'len_zero', 'mac_lock', 'no_dest', 'offload', 'rate_limit', 'ring_full', 'vlan'],
      );
      expect(s.ports[0]!.outPackets).toBe(2);
      expect(s.workers).toHaveLength(1);
      expect(s.workers[0]).toMatchObject({ worker: 0, core: -1, batches: 4, packets: 4 });
      expect(s.workers[0]!.batchHistogram).toHaveLength(11);
      expect(typeof sw.now()).toBe('bigint');

      sw.removePort(ic);
      send(a, BCAST, 4);
      sw.pollOnce();
      expect(receive(b)).toHaveLength(1);
      expect(receive(c)).toHaveLength(0);
    });
  });

  it("knows a MAC-locked port's own MAC from attach: frames to a port that never sent are unicast, and nobody can take that MAC", () => {
    using_(new Switch({ cores: [], clock: 'manual', agingMs: 1000 }), (sw) => {
      const gen = makePort(1);
      const sink = makePort(2); // never sends
      const other = makePort(3);
      const spoof = makePort(4, { macLock: false });
      for (const p of [gen, sink, other, spoof]) sw.addPort(p.opts);
      for (let i = 0; i < 5; i++) send(gen, sink.mac, i);
      sw.pollOnce();
      expect(receive(sink)).toHaveLength(5);
      expect(receive(other)).toHaveLength(0); // not flooded
      expect(receive(spoof)).toHaveLength(0);
      // a static entry never ages
      sw.advanceClock(10_000_000_000);
      send(gen, sink.mac, 5);
      sw.pollOnce();
      expect(receive(sink)).toHaveLength(1);
      expect(receive(other)).toHaveLength(0);
      // a port without MAC lock sending with the sink's MAC does not move it
      const head = spoof.tx.head;
      send(spoof, BCAST, 6);
      spoof.pool.set(sink.mac, spoof.tx.slot(head).bufIdx * BUF + 6);
      sw.pollOnce();
      for (const p of [gen, sink, other]) receive(p);
      send(gen, sink.mac, 7);
      sw.pollOnce();
      expect(receive(sink)).toHaveLength(1);
      expect(receive(spoof)).toHaveLength(0);
      const st = sw.stats().ports;
      expect(st[3]).toMatchObject({ learnRefused: 1, macs: 0, gsoSegments: 0 });
      expect(st[1]).toMatchObject({ macs: 1, outPackets: 8 }); // 7 unicast + the spoofer's broadcast
    });
  });

  it('keeps VLANs apart and tags frames towards a trunk', () => {
    using_(new Switch({ cores: [] }), (sw) => {
      const a = makePort(1, { vlan: { mode: 'access', vid: 10 } });
      const b = makePort(2, { vlan: { mode: 'access', vid: 20 } });
      const t = makePort(3, { vlan: { mode: 'trunk', vids: [10, 20] } });
      sw.addPort(a.opts);
      sw.addPort(b.opts);
      sw.addPort(t.opts);
      send(a, BCAST, 0, 80);
      sw.pollOnce();
      expect(receive(b)).toHaveLength(0);
      const [f] = receive(t);
      expect(f!.length).toBe(84);
      expect(f!.readUInt16BE(12)).toBe(0x8100);
      expect(f!.readUInt16BE(14) & 0xfff).toBe(10);
      expect(f!.readUInt32BE(18)).toBe(0);
    });
  });
});
