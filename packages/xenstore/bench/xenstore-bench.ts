// The xenstore daemon's request rates and watch latency.
//
//   npm run bench -w @vpio/xenstore [-- --json] [--seconds S]
//
// vpio-xenstored runs as its own process (dist/bin, the shipped build) so
// it has a core to itself; the load comes from this process over raw unix
// sockets with pre-encoded requests (no client library, one write per
// batch), so the figure is the daemon's, not the client's. Pipeline depth
// d keeps d requests outstanding per connection. Each row also gives the
// daemon's CPU use during the case (from /proc/<pid>/stat): near 100 %
// means the daemon's one thread is the limit.
//
// Baseline: Xen's C xenstored cannot run here (it needs a hypervisor: it
// segfaults without domain initialisation), so there is none in this run
// and baseline is null. Instead the one-client depth-16 read rate is
// compared with the target of 100,000 reads/s ("target" column).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuInfo, formatTable, parseArgs, record } from '@vpio/devkit/bench';
import { encodeMessage } from '../src/wire.js';
import { XS } from '../src/protocol.js';

const TARGET_READS_PER_S = 100_000;
const HERE = dirname(fileURLToPath(import.meta.url));
const DAEMON = join(HERE, '..', 'bin', 'vpio-xenstored.js');
const CLK_TCK = 100;

interface Row {
  case: string;
  value: number;
  unit: string;
  baseline: string | null;
  baseline_value: number | null;
  ratio: number | null;
  target?: number;
  target_ratio?: number;
  daemon_cpu_pct?: number;
}

function str(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** One raw connection that counts replies (and hands each to `onMessage`). */
class Conn {
  private carry: Buffer | undefined;
  onMessage: (type: number, payload: Buffer) => void = () => undefined;
  /** Called once per data chunk with the number of messages it completed. */
  onChunk: (messages: number) => void = () => undefined;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.data(chunk));
  }

  static open(path: string): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = createConnection(path);
      s.once('connect', () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }

  private data(chunk: Buffer): void {
    const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = undefined;
    let off = 0;
    let messages = 0;
    while (buf.length - off >= 16) {
      const len = buf.readUInt32LE(off + 12);
      if (buf.length - off - 16 < len) break;
      this.onMessage(buf.readUInt32LE(off), buf.subarray(off + 16, off + 16 + len));
      off += 16 + len;
      messages++;
    }
    if (off < buf.length) this.carry = Buffer.from(buf.subarray(off));
    if (messages > 0) this.onChunk(messages);
  }

  /** Sends one request and resolves with its reply payload (for set-up). */
  call(type: number, payload: Buffer, txId = 0): Promise<Buffer> {
    return new Promise((resolve) => {
      this.onMessage = (t, p) => {
        if (t !== XS.WATCH_EVENT) resolve(Buffer.from(p));
      };
      this.socket.write(encodeMessage({ type, reqId: 1, txId, payload }));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

function daemonCpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

async function withCpu<T>(pid: number, fn: () => Promise<{ value: T; seconds: number }>): Promise<{ value: T; cpuPct: number }> {
  const t0 = daemonCpuTicks(pid);
  const { value, seconds } = await fn();
  return { value, cpuPct: ((daemonCpuTicks(pid) - t0) / CLK_TCK / seconds) * 100 };
}

/** Transactions (START, WRITE, END T) back to back on each connection; returns commits/s. */
async function transactions(conns: Conn[], seconds: number): Promise<{ value: number; seconds: number }> {
  let commits = 0;
  let running = true;
  let active = conns.length;
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    conns.forEach((c, i) => {
      const write = str(`/bench/tx/${i}\0value`);
      const startTx = encodeMessage({ type: XS.TRANSACTION_START, reqId: 1, txId: 0, payload: str('\0') });
      let txId = 0;
      c.onMessage = (type, payload) => {
        if (type === XS.TRANSACTION_START) {
          txId = Number(payload.toString('latin1', 0, payload.length - 1));
          c.socket.write(encodeMessage({ type: XS.WRITE, reqId: 2, txId, payload: write }));
        } else if (type === XS.WRITE) {
          c.socket.write(encodeMessage({ type: XS.TRANSACTION_END, reqId: 3, txId, payload: str('T\0') }));
        } else {
          if (type === XS.TRANSACTION_END) commits++;
          if (running) c.socket.write(startTx);
          else if (--active === 0) resolve();
        }
      };
      c.socket.write(startTx);
    });
    setTimeout(() => (running = false), seconds * 1000);
  });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  return { value: commits / elapsed, seconds: elapsed };
}

/** Write on one connection, time until the watcher's event arrives; sequential. */
async function watchLatency(watcher: Conn, writer: Conn, seconds: number): Promise<{ value: { p50: number; p99: number; n: number }; seconds: number }> {
  await watcher.call(XS.WATCH, str('/bench/lat\0lat\0'));
  await new Promise((r) => setTimeout(r, 20)); // the registration event
  const samples: number[] = [];
  const write = encodeMessage({ type: XS.WRITE, reqId: 1, txId: 0, payload: str('/bench/lat/k\0v') });
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  await new Promise<void>((resolve) => {
    let sent = 0n;
    writer.onMessage = () => undefined;
    watcher.onMessage = (type) => {
      if (type !== XS.WATCH_EVENT || sent === 0n) return;
      const now = process.hrtime.bigint();
      samples.push(Number(now - sent) / 1000);
      if (now >= end || samples.length >= 50_000) {
        resolve();
        return;
      }
      sent = process.hrtime.bigint();
      writer.socket.write(write);
    };
    sent = process.hrtime.bigint();
    writer.socket.write(write);
  });
  samples.sort((a, b) => a - b);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? 0;
  return { value: { p50: q(0.5), p99: q(0.99), n: samples.length }, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

function commit(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: HERE, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--', join(HERE, '..', '..')) !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted changes' : ''}`;
  } catch {
    return 'no commit';
  }
}

async function startDaemon(path: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [DAEMON, '--socket', path], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`vpio-xenstored exited (${code}) before listening`)));
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) resolve();
    });
  });
  child.removeAllListeners('exit');
  return child;
}

async function main(): Promise<void> {
  const { json, seconds, rest } = parseArgs(process.argv.slice(2), { seconds: 1 });
  if (rest.length > 0) throw new Error(`unknown option ${rest[0]} (known: --json, --seconds S)`);
  const say = json ? (s: string) => process.stderr.write(`${s}\n`) : (s: string) => process.stdout.write(`${s}\n`);
  const cpu = cpuInfo();
  const dir = await mkdtemp(join(tmpdir(), 'vpio-xs-bench-'));
  const socketPath = join(dir, 'socket');
  const daemon = await startDaemon(socketPath);
  const pid = daemon.pid as number;
  const rows: Row[] = [];
  const conns: Conn[] = [];
  try {
    for (let i = 0; i < 18; i++) conns.push(await Conn.open(socketPath));
    const [setup] = conns as [Conn];
    await setup.call(XS.WRITE, str(`/bench/key\0${'v'.repeat(64)}`));
    const read = encodeMessage({ type: XS.READ, reqId: 7, txId: 0, payload: str('/bench/key\0') });

    const add = (caseName: string, value: number, unit: string, cpuPct: number, extra: Partial<Row> = {}) => {
      rows.push({ ...record(caseName, Math.round(value), unit, null, null), daemon_cpu_pct: Math.round(cpuPct), ...extra });
    };
    for (const clients of [1, 16]) {
      for (const depth of [1, 16]) {
        const r = await withCpu(pid, () => pipelined(conns.slice(0, clients), conns.slice(0, clients).map(() => read), depth, seconds));
        const extra: Partial<Row> =
          clients === 1 && depth === 16 ? { target: TARGET_READS_PER_S, target_ratio: Number((r.value / TARGET_READS_PER_S).toFixed(2)) } : {};
        add(`read, ${clients} client${clients > 1 ? 's' : ''}, depth ${depth}`, r.value, 'reads/s', r.cpuPct, extra);
      }
    }
    for (const clients of [1, 16]) {
      for (const depth of [1, 16]) {
        const writes = conns.slice(0, clients).map((_, i) => encodeMessage({ type: XS.WRITE, reqId: 8, txId: 0, payload: str(`/bench/w/${i}\0${'v'.repeat(64)}`) }));
        // each connection writes its own key: distinct requests per connection
        const r = await withCpu(pid, () => pipelined(conns.slice(0, clients), writes, depth, seconds));
        add(`write, ${clients} client${clients > 1 ? 's' : ''}, depth ${depth}`, r.value, 'writes/s', r.cpuPct);
      }
    }
    for (const clients of [1, 16]) {
      const r = await withCpu(pid, () => transactions(conns.slice(0, clients), seconds));
      add(`transaction commits, ${clients} client${clients > 1 ? 's' : ''}`, r.value, 'commits/s', r.cpuPct);
    }
    const lat = await withCpu(pid, () => watchLatency(conns[16] as Conn, conns[17] as Conn, seconds));
    add('watch event latency p50', lat.value.p50, 'us', lat.cpuPct);
    add('watch event latency p99', lat.value.p99, 'us', lat.cpuPct);
  } finally {
    for (const c of conns) c.close();
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }

  if (json) {
    for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
  } else {
    say(
      formatTable(rows as unknown as Array<Record<string, unknown>>, [
        { key: 'case', align: 'left' },
        'value',
        { key: 'unit', align: 'left' },
        { key: 'daemon_cpu_pct', title: 'daemon CPU %' },
        { key: 'target', format: (v) => (v == null ? '' : String(v)) },
        { key: 'target_ratio', title: 'vs target', format: (v) => (v == null ? '' : `${v}x`) },
        { key: 'baseline', format: () => 'none' },
      ]),
    );
  }
  say('');
  say(`machine: ${cpu.model}, ${cpu.cores} logical CPUs (${cpu.allowedCores} usable); node ${process.version}; commit ${commit()}; ${seconds} s per case`);
  say('daemon: dist/bin/vpio-xenstored.js in its own process; load: raw sockets from this process (pre-encoded requests)');
  say("baseline: none. Xen's C xenstored needs a hypervisor (it segfaults without domain initialisation), so the");
  say('side-by-side figure belongs to the xen-mode lab; here the 1-client depth-16 read rate is compared with the');
  say(`issue's target of ${TARGET_READS_PER_S.toLocaleString('en-US')} reads/s.`);
}

/**
 * Keeps `depth` copies of each connection's pre-encoded request outstanding
 * for `seconds`; returns replies/s over all connections.
 */
async function pipelined(conns: Conn[], requests: Buffer[], depth: number, seconds: number): Promise<{ value: number; seconds: number }> {
  let replies = 0;
  let running = true;
  let inFlight = 0;
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    conns.forEach((c, i) => {
      const request = requests[i] as Buffer;
      const batch = Buffer.concat(Array.from({ length: depth }, () => request));
      c.onMessage = () => undefined;
      c.onChunk = (n) => {
        replies += n;
        inFlight -= n;
        // one write per received chunk refills everything answered in it
        if (running) {
          c.socket.write(n === depth ? batch : batch.subarray(0, n * request.length));
          inFlight += n;
        } else if (inFlight === 0) {
          resolve();
        }
      };
      c.socket.write(batch);
      inFlight += depth;
    });
    setTimeout(() => {
      running = false;
      if (inFlight === 0) resolve();
    }, seconds * 1000);
  });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  for (const c of conns) c.onChunk = () => undefined;
  return { value: replies / elapsed, seconds: elapsed };
}

main().catch((e: unknown) => {
  process.stderr.write(`xenstore-bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
