/**
 * Scenario: packet capture to pcap, read back by tshark.
 *
 * 1. Objective: frames a real Switch forwards (driven from TS, two ports,
 *    known MACs) captured by the switch's tap and written by PcapWriter are
 *    what tshark reads: exactly N packets, the right source MACs, and
 *    snaplen-truncated frames keep their original length.
 * 2. Objective: `vpio capture` against a real `vpio up` platform on a temp
 *    dir, between two netfront guests of `vpio run` (@vpio/netfront's
 *    nf-guest --broker, endless traffic): `-c N -w out.pcap` gives a file
 *    tshark counts N packets in, all from the peer's MAC; `-w -` streams
 *    pcap on stdout; Ctrl-C ends a capture with the summary and what was
 *    counted is what was written; a CLI killed mid-capture has its capture
 *    stopped in the switch (the port can be captured again); unknown ports
 *    are named.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RingView } from '@vpio/ring';
import { Switch, type PortOptions } from '@vpio/switch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PcapWriter, readPcap } from '../src/pcap.js';
import type { LsResult, StatsResult } from '../src/protocol.js';
import { VPIO, alive, root, tempBase, vpio } from './helpers.js';

const SLOTS = 256;
const BUF = 2048;
const NR_BUFS = 2 * SLOTS + 8;
const BCAST = Buffer.from('ffffffffffff', 'hex');

interface Port {
  readonly opts: PortOptions;
  readonly tx: RingView;
  readonly rx: RingView;
  readonly pool: Buffer;
  readonly mac: Buffer;
}

function makePort(macText: string): Port {
  const txRing = Buffer.alloc(RingView.bytes(SLOTS));
  const rxRing = Buffer.alloc(RingView.bytes(SLOTS));
  const pool = Buffer.alloc(NR_BUFS * BUF);
  const tx = RingView.init(txRing, 0, { kind: 'tx', numSlots: SLOTS, bufSizeBytes: BUF, nrBufs: NR_BUFS, firstBuf: 0 });
  const rx = RingView.init(rxRing, 0, { kind: 'rx', numSlots: SLOTS, bufSizeBytes: BUF, nrBufs: NR_BUFS, firstBuf: SLOTS });
  const mac = Buffer.from(macText.replace(/:/g, ''), 'hex');
  return { opts: { txRing, rxRing, pool, txSlots: SLOTS, rxSlots: SLOTS, bufSizeBytes: BUF, nrBufs: NR_BUFS, mac }, tx, rx, pool, mac };
}

function send(p: Port, dst: Buffer, seq: number, len: number): void {
  const head = p.tx.head;
  const { bufIdx } = p.tx.slot(head);
  const f = p.pool.subarray(bufIdx * BUF, bufIdx * BUF + len);
  dst.copy(f, 0);
  p.mac.copy(f, 6);
  f.writeUInt16BE(0x88b5, 12);
  f.writeUInt32BE(seq, 14);
  p.tx.writeSlot(head, { len, flags: 0 });
  p.tx.publishHead((head + 1) % SLOTS);
}

function drain(p: Port): number {
  let head = p.rx.head;
  let n = 0;
  for (; head !== p.rx.tail; n++) head = (head + 1) % SLOTS;
  p.rx.publishHead(head);
  return n;
}

function tshark(args: readonly string[]): string {
  return execFileSync('tshark', ['-n', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('1. switch capture → pcap → tshark', () => {
  const t = tempBase();
  afterAll(() => t.cleanup());

  it('1.1 tshark reads exactly the frames the tap captured, with the right MACs and lengths', async () => {
    const sw = new Switch({ cores: [] });
    try {
      const a = makePort('02:00:00:00:0a:01');
      const b = makePort('02:00:00:00:0b:02');
      sw.addPort(a.opts);
      const ib = sw.addPort(b.opts);
      const cap = sw.startCapture(ib, { snaplen: 96 });
      // b announces itself (in), a answers it by unicast (out), then more of both
      const N_IN = 7;
      const N_OUT = 30;
      for (let i = 0; i < N_IN; i++) send(b, BCAST, i, 60 + i);
      sw.pollOnce();
      for (let i = 0; i < N_OUT; i++) send(a, b.mac, 100 + i, 64 + i * 40);
      sw.pollOnce();
      expect(drain(b)).toBe(N_OUT);
      const file = join(t.base, 'tap.pcap');
      const w = new PcapWriter(createWriteStream(file), cap.snaplen);
      for (const f of [...cap.read().frames, ...cap.stop().frames]) w.frame(f.tsNs, f.origLen, f.data);
      await w.end();
      expect(w.packets).toBe(N_IN + N_OUT);

      const lines = tshark(['-r', file, '-T', 'fields', '-e', 'eth.src', '-e', 'eth.dst', '-e', 'frame.len', '-e', 'frame.cap_len']).trim().split('\n');
      expect(lines).toHaveLength(N_IN + N_OUT);
      const rows = lines.map((l) => l.split('\t'));
      const fromB = rows.filter((r) => r[0] === '02:00:00:00:0b:02');
      const fromA = rows.filter((r) => r[0] === '02:00:00:00:0a:01');
      expect(fromB).toHaveLength(N_IN);
      expect(fromA).toHaveLength(N_OUT);
      expect(fromA.every((r) => r[1] === '02:00:00:00:0b:02')).toBe(true);
      expect(fromA.map((r) => Number(r[2]))).toEqual([...Array(N_OUT).keys()].map((i) => 64 + i * 40));
      expect(fromA.every((r) => Number(r[3]) === Math.min(96, Number(r[2])))).toBe(true); // snaplen: cut, original length kept
      expect(tshark(['-r', file, '-q', '-z', 'io,stat,0'])).toMatch(new RegExp(`\\|\\s+${N_IN + N_OUT}\\s+\\|`));
      // and our own reader agrees
      expect(readPcap(readFileSync(file)).packets).toHaveLength(N_IN + N_OUT);
    } finally {
      sw.close();
    }
  });
});

describe('2. vpio capture on a running platform', () => {
  const t = tempBase();
  let pid = 0;

  beforeAll(async () => {
    const up = await vpio(['up', '--dir', t.dir, '--cores=-1']);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    pid = Number(/pid (\d+)/.exec(up.stdout)?.[1]);
  });

  afterAll(async () => {
    if (pid && alive(pid)) await vpio(['down', '--dir', t.dir]);
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    t.cleanup();
  });

  const NF_GUEST = join(root, '..', 'netfront', 'build', 'bin', 'nf-guest');
  const MAC = { v1: '02:00:00:00:c4:01', v2: '02:00:00:00:c4:02' };

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('2.2 captures N frames between two guests of `vpio run`: tshark reads N packets from the right MAC', async () => {
    for (const [name, peer] of [['v1', MAC.v2], ['v2', MAC.v1]] as const) {
      const r = await vpio(['run', '--dir', t.dir, '--name', name, '--vif', `mac=${MAC[name]}`, '--env', 'ASAN_OPTIONS=detect_leaks=0', NF_GUEST, '--broker', '--peer', peer, '--count', '1000000000']);
      expect(r.stderr).toBe('');
    }
    const port = await until('traffic into v1', async () => {
      const ls = JSON.parse((await vpio(['ls', '--dir', t.dir, '--json'])).stdout) as LsResult;
      const v1 = ls.domains.find((d) => d.name === 'v1')?.vifs[0]?.port;
      const stats = JSON.parse((await vpio(['stats', '--dir', t.dir, '--json'])).stdout) as StatsResult;
      const row = stats.ports.find((p) => p.port === v1);
      return row && row.outPackets > 0 ? row.port : undefined;
    });

    const N = 50;
    const file = join(t.base, 'v1.pcap');
    const cap = await vpio(['capture', '--dir', t.dir, 'v1', '-c', String(N), '--direction', 'out', '-w', file]);
    expect(cap.code).toBe(0);
    expect(cap.stderr).toContain(`capturing on v1/0 (port ${port}), out, snaplen 65535`);
    expect(cap.stderr).toMatch(new RegExp(`${N} packets captured, \\d+ dropped by the capture buffer`));
    const src = tshark(['-r', file, '-T', 'fields', '-e', 'eth.src', '-e', 'eth.dst']).trim().split('\n');
    expect(src).toHaveLength(N);
    expect(new Set(src)).toEqual(new Set([`${MAC.v2}\t${MAC.v1}`])); // delivered to v1: all from v2

    // by port id, both directions, pcap on stdout, JSON summary on stderr
    const piped = await new Promise<{ code: number | null; out: Buffer; err: string }>((resolve) => {
      const child = spawn(process.execPath, [VPIO, 'capture', '--dir', t.dir, String(port), '-c', '20', '-w', '-', '--json', '--snaplen', '40'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let err = '';
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('exit', (code) => resolve({ code, out: Buffer.concat(out), err }));
    });
    expect(piped.code).toBe(0);
    const summary = JSON.parse(piped.err.trim().split('\n').at(-1)!) as { packets: number; reason: string; label: string };
    expect(summary).toMatchObject({ packets: 20, reason: 'count', label: 'v1/0', port });
    const pcap = readPcap(piped.out);
    expect(pcap.packets).toHaveLength(20);
    expect(pcap.packets.every((p) => p.data.length === 40 && p.origLen >= 40)).toBe(true);
    const srcs = new Set(pcap.packets.map((p) => [...p.data.subarray(6, 12)].map((x) => x.toString(16).padStart(2, '0')).join(':')));
    expect([...srcs].every((m) => m === MAC.v1 || m === MAC.v2)).toBe(true);
  }, 60_000);

  it('2.3 Ctrl-C ends a capture with its summary; a killed CLI has its capture stopped in the switch', async () => {
    const file = join(t.base, 'sigint.pcap');
    const child = spawn(process.execPath, [VPIO, 'capture', '--dir', t.dir, 'v2', '-w', file, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await until('the capture started', async () => (existsSync(file) && statSync(file).size > 24 + 16 ? true : undefined));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(err).toBe('');
    const summary = JSON.parse(out) as { packets: number; drops: number; reason: string };
    expect(summary.reason).toBe('stopped');
    expect(summary.packets).toBeGreaterThan(0);
    const n = tshark(['-r', file, '-T', 'fields', '-e', 'frame.number']).trim().split('\n').length;
    expect(n).toBe(summary.packets);

    // SIGKILL: the platform sees the connection die and stops the capture; v2 can be captured again
    const killed = spawn(process.execPath, [VPIO, 'capture', '--dir', t.dir, 'v2'], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise((resolve) => killed.stdout.once('data', resolve));
    killed.kill('SIGKILL');
    const again = await until('v2 capturable again', async () => {
      const r = await vpio(['capture', '--dir', t.dir, 'v2', '-c', '1', '-w', join(t.base, 'again.pcap')]);
      return r.code === 0 ? r : r.stderr.includes('already being captured') ? undefined : r;
    });
    expect(again.stderr).toContain('1 packets captured');
  }, 60_000);

  it('2.1 says what exists when the port does not, and checks its flags', async () => {
    expect((await Promise.all(['v1', 'v2'].map((g) => vpio(['destroy', '--dir', t.dir, g])))).map((r) => r.code)).toEqual([0, 0]);
    const none = await vpio(['capture', '--dir', t.dir, '5', '-w', join(t.base, 'x.pcap')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no switch port 5 (no port: a vif becomes a port when its frontend connects)');
    expect(existsSync(join(t.base, 'x.pcap'))).toBe(false);
    await vpio(['run', '--dir', t.dir, '--name', 'idle', '--vif', 'mac=02:00:00:00:00:21', '/bin/sleep', '30']);
    const waiting = await vpio(['capture', '--dir', t.dir, 'idle']);
    expect(waiting.code).toBe(1);
    expect(waiting.stderr).toContain('vif idle/0 has no switch port yet');
    const nobody = await vpio(['capture', '--dir', t.dir, 'ghost/1']);
    expect(nobody.stderr).toContain('no domain "ghost" with vifs (domains with vifs: idle)');
    const bad = await vpio(['capture', '--dir', t.dir, 'idle', '--direction', 'sideways']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--direction: expected in, out or both');
    const badCount = await vpio(['capture', '--dir', t.dir, 'idle', '-c', '0']);
    expect(badCount.stderr).toContain('-c: expected an integer in [1,');
  });
});
