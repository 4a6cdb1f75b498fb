// Port groups (multi-queue vifs) through the binding: N ports added with
// `group` forward as one logical port. Real rings in real memory, driven
// step by step with pollOnce() and a manual clock.
import { describe, expect, it } from 'vitest';
import { RingView } from '@vpio/ring';
import { Switch, type PortOptions } from '../src/index.js';

const SLOTS = 64;
const BUF = 2048;
const NR_BUFS = 2 * SLOTS + 8;
const FRAME_LEN = 100;
const BCAST = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

interface TestPort {
  readonly opts: PortOptions;
  readonly tx: RingView;
  readonly rx: RingView;
  readonly pool: Buffer;
  readonly mac: Uint8Array;
  id: number;
}

const mac = (n: number): Uint8Array => Uint8Array.from([0x02, 0, 0, 0, 0, n]);

/** A port's memory and rings; `macN` may repeat (a group's members share their vif's MAC). */
function makePort(macN: number, extra: Partial<PortOptions> = {}): TestPort {
  const txRing = Buffer.alloc(RingView.bytes(SLOTS));
  const rxRing = Buffer.alloc(RingView.bytes(SLOTS));
  const pool = Buffer.alloc(NR_BUFS * BUF);
  const tx = RingView.init(txRing, 0, { kind: 'tx', numSlots: SLOTS, bufSizeBytes: BUF, nrBufs: NR_BUFS, firstBuf: 0 });
  const rx = RingView.init(rxRing, 0, { kind: 'rx', numSlots: SLOTS, bufSizeBytes: BUF, nrBufs: NR_BUFS, firstBuf: SLOTS });
  const m = mac(macN);
  return { opts: { txRing, rxRing, pool, txSlots: SLOTS, rxSlots: SLOTS, bufSizeBytes: BUF, nrBufs: NR_BUFS, mac: m, ...extra }, tx, rx, pool, mac: m, id: -1 };
}

function attach(sw: Switch, p: TestPort, group?: number): TestPort {
  p.id = sw.addPort(group === undefined ? p.opts : { ...p.opts, group });
  return p;
}

/** A group of n members sharing MAC macN; the first one starts it, the others join through it. */
function makeGroup(sw: Switch, n: number, macN: number, extra: Partial<PortOptions> = {}): TestPort[] {
  const first = attach(sw, makePort(macN, extra));
  return [first, ...Array.from({ length: n - 1 }, () => attach(sw, makePort(macN, extra), first.id))];
}

type Kind = 'udp4' | 'tcp4' | 'tcp6' | 'raw';

/**
 * A FRAME_LEN-byte frame dst <- src: IPv4 10.0.0.1 -> 10.0.0.2 or IPv6
 * fd00::1 -> fd00::2 with UDP or TCP from port 1000 + flow to 5001, or
 * 'raw' (EtherType 0x88b5); (flow, seq) stamped in its last 8 bytes.
 */
function frame(dst: Uint8Array, src: Uint8Array, kind: Kind, flow: number, seq: number): Buffer {
  const b = Buffer.alloc(FRAME_LEN);
  b.set(dst, 0);
  b.set(src, 6);
  if (kind === 'tcp6') {
    b.writeUInt16BE(0x86dd, 12);
    b[14] = 0x60;
    b.writeUInt16BE(FRAME_LEN - 54, 18);
    b[20] = 6;
    b[21] = 64;
    b[22] = 0xfd;
    b[37] = 1;
    b[38] = 0xfd;
    b[53] = 2;
    b.writeUInt16BE(1000 + flow, 54);
    b.writeUInt16BE(5001, 56);
  } else if (kind === 'raw') {
    b.writeUInt16BE(0x88b5, 12);
  } else {
    b.writeUInt16BE(0x0800, 12);
    b[14] = 0x45;
    b.writeUInt16BE(FRAME_LEN - 14, 16);
    b[22] = 64;
    b[23] = kind === 'tcp4' ? 6 : 17;
    b.set([10, 0, 0, 1, 10, 0, 0, 2], 26);
    b.writeUInt16BE(1000 + flow, 34);
    b.writeUInt16BE(5001, 36);
  }
  b.writeUInt32BE(flow, FRAME_LEN - 8);
  b.writeUInt32BE(seq, FRAME_LEN - 4);
  return b;
}

/** Guest TX of one frame (what a netfront does). */
function send(p: TestPort, f: Buffer): void {
  const head = p.tx.head;
  const { bufIdx } = p.tx.slot(head);
  p.pool.set(f, bufIdx * BUF);
  p.tx.writeSlot(head, { len: f.length, flags: 0 });
  p.tx.publishHead((head + 1) % SLOTS);
}

/** Guest RX: every frame waiting; gives the slots back. */
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

const stamp = (f: Buffer): { flow: number; seq: number } => ({ flow: f.readUInt32BE(f.length - 8), seq: f.readUInt32BE(f.length - 4) });

/** Per flow: the members it arrived on and its seqs in arrival order. */
class FlowLog {
  readonly members = new Map<number, Set<number>>();
  readonly seqs = new Map<number, number[]>();
  total = 0;

  take(members: readonly TestPort[]): void {
    members.forEach((m, i) => {
      for (const f of receive(m)) {
        const { flow, seq } = stamp(f);
        if (!this.members.has(flow)) this.members.set(flow, new Set());
        this.members.get(flow)!.add(i);
        this.seqs.set(flow, [...(this.seqs.get(flow) ?? []), seq]);
        this.total++;
      }
    });
  }
}

function withSwitch(fn: (sw: Switch) => void): void {
  const sw = new Switch({ cores: [], clock: 'manual' });
  try {
    fn(sw);
  } finally {
    sw.close();
  }
}

const statsOf = (sw: Switch, p: TestPort) => sw.stats().ports.find((s) => s.id === p.id)!;

describe('Switch: port groups (multi-queue vifs)', () => {
  it.each([2, 4])('%i members: each of 64 UDP/TCP flows arrives on one member, in order, and the flows spread over every member', (n) => {
    withSwitch((sw) => {
      const a = attach(sw, makePort(1, { macLock: false }));
      const other = attach(sw, makePort(3));
      const g = makeGroup(sw, n, 2);
      const log = new FlowLog();
      const kinds: Kind[] = ['udp4', 'tcp4', 'tcp6'];
      let sent = 0;
      for (let seq = 0; seq < 4; seq++) {
        for (let flow = 0; flow < 64; flow++) {
          send(a, frame(g[0]!.mac, a.mac, kinds[flow % 3]!, flow, seq));
          if (++sent % 32 === 0) {
            sw.pollOnce();
            log.take(g);
          }
        }
      }
      sw.pollOnce();
      log.take(g);
      expect(log.total).toBe(64 * 4);
      for (let flow = 0; flow < 64; flow++) {
        expect(log.members.get(flow)?.size, `flow ${flow}`).toBe(1);
        expect(log.seqs.get(flow), `flow ${flow}`).toEqual([0, 1, 2, 3]);
      }
      const perMember = g.map((_, i) => [...log.members.values()].filter((s) => s.has(i)).length);
      expect(perMember.every((k) => k > 0), `flows per member ${perMember.join(',')}`).toBe(true);
      expect(receive(other)).toHaveLength(0); // known unicast: never flooded
      expect(g.map((m) => statsOf(sw, m).outPackets).reduce((x, y) => x + y, 0)).toBe(256);
    });
  });

  it('resolves a MAC learned from member 1 to the group: unicast to it arrives exactly once, on some member, flooded nowhere', () => {
    withSwitch((sw) => {
      const a = attach(sw, makePort(1, { macLock: false }));
      const other = attach(sw, makePort(3, { macLock: false }));
      const g = makeGroup(sw, 3, 2, { macLock: false }); // learning, no static entry
      send(g[1]!, frame(BCAST, g[1]!.mac, 'raw', 0, 0));
      sw.pollOnce();
      receive(a);
      receive(other);
      for (let flow = 0; flow < 16; flow++) send(a, frame(g[1]!.mac, a.mac, 'udp4', flow, 0));
      sw.pollOnce();
      const log = new FlowLog();
      log.take(g);
      expect(log.total).toBe(16);
      for (let flow = 0; flow < 16; flow++) expect(log.members.get(flow)?.size).toBe(1);
      expect(receive(other)).toHaveLength(0);
      expect(statsOf(sw, g[1]!)).toMatchObject({ learned: 1, macs: 1 });
      expect(statsOf(sw, g[0]!)).toMatchObject({ learned: 0, macs: 1 }); // the count is the group's
    });
  });

  it('delivers a broadcast to a group exactly once and to every other port once, and never back into the sender group', () => {
    withSwitch((sw) => {
      const a = attach(sw, makePort(1));
      const other = attach(sw, makePort(3));
      const g = makeGroup(sw, 4, 2);
      for (let flow = 0; flow < 40; flow++) send(a, frame(BCAST, a.mac, 'udp4', flow, 0));
      sw.pollOnce();
      const log = new FlowLog();
      log.take(g);
      expect(log.total).toBe(40);
      expect([...log.members.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
      expect(log.members.size).toBe(40);
      expect(receive(other)).toHaveLength(40);
      // a member's broadcast: the sender and the other port, no member of its own group
      send(g[2]!, frame(BCAST, g[2]!.mac, 'udp4', 1, 0));
      sw.pollOnce();
      expect(receive(a)).toHaveLength(1);
      expect(receive(other)).toHaveLength(1);
      for (const m of g) expect(receive(m)).toHaveLength(0);
      expect(statsOf(sw, g[2]!)).toMatchObject({ flooded: 1, fwdPairs: 2 });
    });
  });

  it('drops a frame from member 0 to a MAC learned on member 1 (no hairpin), counted no_dest like a frame to its own port', () => {
    withSwitch((sw) => {
      const a = attach(sw, makePort(1));
      const g = makeGroup(sw, 2, 2, { macLock: false });
      const x = mac(9);
      send(g[1]!, frame(BCAST, x, 'raw', 0, 0)); // x learned on member 1
      sw.pollOnce();
      expect(receive(a)).toHaveLength(1);
      send(g[0]!, frame(x, g[0]!.mac, 'udp4', 0, 0));
      sw.pollOnce();
      for (const m of g) expect(receive(m)).toHaveLength(0);
      expect(receive(a)).toHaveLength(0);
      expect(statsOf(sw, g[0]!).drops.no_dest).toBe(1);
      expect(statsOf(sw, g[0]!).fwdPackets).toBe(0);
    });
  });

  it('counts no MAC move when the same MAC appears on different members (and one when it appears on another port)', () => {
    withSwitch((sw) => {
      const g = makeGroup(sw, 3, 2, { macLock: false });
      const a = attach(sw, makePort(1, { macLock: false }));
      for (let round = 0; round < 6; round++) {
        send(g[round % 3]!, frame(BCAST, g[0]!.mac, 'raw', 0, round));
        sw.pollOnce();
        sw.advanceClock(10_000_000);
      }
      const st = g.map((m) => statsOf(sw, m));
      expect(st.map((s) => s.macMoves)).toEqual([0, 0, 0]);
      expect(st.reduce((n, s) => n + s.learned, 0)).toBe(1);
      expect(st.map((s) => s.macs)).toEqual([1, 1, 1]);
      // the same MAC from a port outside the group is a move
      send(a, frame(BCAST, g[0]!.mac, 'raw', 0, 9));
      sw.pollOnce();
      expect(statsOf(sw, a).macMoves).toBe(1);
      expect(g.map((m) => statsOf(sw, m).macs)).toEqual([0, 0, 0]);
    });
  });

  it('caps learned MACs per group, and counts the members\' shared static MAC once', () => {
    withSwitch((sw) => {
      const locked = makeGroup(sw, 3, 2); // MAC-locked: each member installs the vif's MAC
      expect(locked.map((m) => statsOf(sw, m).macs)).toEqual([1, 1, 1]);
      const g = makeGroup(sw, 2, 4, { macLock: false, maxMacs: 4 });
      for (let i = 0; i < 3; i++) send(g[0]!, frame(BCAST, mac(0x10 + i), 'raw', 0, i));
      for (let i = 0; i < 3; i++) send(g[1]!, frame(BCAST, mac(0x20 + i), 'raw', 0, i));
      sw.pollOnce();
      const st = g.map((m) => statsOf(sw, m));
      expect(st.map((s) => s.macs)).toEqual([4, 4]);
      expect(st[0]!.learned + st[1]!.learned).toBe(4);
      expect(st[0]!.learnRefused + st[1]!.learnRefused).toBe(2);
    });
  });

  it('keeps forwarding to the remaining members when members are removed in any order, and keeps the group\'s MACs until the last one goes', () => {
    const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    for (const order of orders) {
      withSwitch((sw) => {
        const a = attach(sw, makePort(1));
        const other = attach(sw, makePort(3));
        const g = makeGroup(sw, 3, 2, { macLock: false });
        const x = g[0]!.mac;
        send(g[0]!, frame(BCAST, x, 'raw', 0, 0)); // the group's MAC, learned on member 0
        sw.pollOnce();
        receive(a);
        receive(other);
        const present = new Set([0, 1, 2]);
        let seq = 0;
        const round = (): void => {
          for (let flow = 0; flow < 24; flow++) send(a, frame(x, a.mac, 'udp4', flow, seq));
          seq++;
        };
        for (const gone of order) {
          round(); // frames wait in a's TX ring while the member goes
          sw.removePort(g[gone]!.id);
          present.delete(gone);
          sw.pollOnce();
          const rest = [...present].map((i) => g[i]!);
          const log = new FlowLog();
          log.take(rest);
          if (rest.length) {
            expect(log.total, `order ${order.join('')} after removing ${gone}`).toBe(24);
            expect(receive(other)).toHaveLength(0); // the MAC entry outlived the member that learned it
            const oldest = Math.min(...rest.map((m) => m.id));
            for (const m of rest) expect(statsOf(sw, m).group).toBe(oldest);
          } else {
            expect(receive(other)).toHaveLength(24); // the last member took the group's MAC with it: flooded
          }
        }
        expect(statsOf(sw, a).drops.no_dest).toBe(0);
      });
    }
  });

  it('rejects an unknown group id and a ninth member with ArgumentError, and reports PortStats.group', () => {
    withSwitch((sw) => {
      const lone = attach(sw, makePort(1));
      expect(statsOf(sw, lone).group).toBe(lone.id);
      expect(() => sw.addPort({ ...makePort(2).opts, group: 77 })).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT', parameter: 'group' }));
      expect(() => sw.addPort({ ...makePort(2).opts, group: -1 })).toThrow(expect.objectContaining({ parameter: 'group' }));
      expect(() => sw.addPort({ ...makePort(2).opts, group: 1.5 })).toThrow(expect.objectContaining({ parameter: 'group' }));
      expect(() => sw.addPort({ ...makePort(2).opts, group: 'x' as unknown as number })).toThrow(expect.objectContaining({ parameter: 'group' }));
      const g = makeGroup(sw, 8, 2);
      expect(() => sw.addPort({ ...makePort(2).opts, group: g[5]!.id })).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT', parameter: 'group', message: expect.stringMatching(/fewer than 8 members/) }));
      expect(g.map((m) => statsOf(sw, m).group)).toEqual(g.map(() => g[0]!.id));
      expect(sw.stats().ports).toHaveLength(9); // the refused ports were never attached
      sw.removePort(g[0]!.id); // the id holder leaves: the next oldest member's id is the group's
      expect(g.slice(1).map((m) => statsOf(sw, m).group)).toEqual(g.slice(1).map(() => g[1]!.id));
      const ninth = attach(sw, makePort(2), g[7]!.id); // room again
      expect(statsOf(sw, ninth).group).toBe(g[1]!.id);
      expect(statsOf(sw, lone).group).toBe(lone.id);
    });
  });
});
