// vpio demo: a guest and a backend, two processes, stream packets through
// one shared vpio ring (guest TX -> backend) while this program shows what
// the ring does, the way `top` would: rate, occupancy, kicks and sleeps.
// Every packet is stamped and checked; the run is ok only if nothing was
// lost, duplicated or corrupted and no wake-up was lost.
//
//   node dist/main.js [--seconds S] [--json] [--help]
import { availableParallelism } from 'node:os';
import { type PairProgress, type PairResult, runPair } from '@vpio/ring/pair';

const USAGE = `usage: node examples/ring-pair/dist/main.js [--seconds S] [--json] [--help]

Streams 64-byte packets guest -> backend through one vpio ring for S seconds
(default 10): two processes, a sealed memfd, pipes as event channels, event
mode (spin, then sleep with the kick protocol), every packet verified.

  --seconds S   how long to run (default 10)
  --json        print only the summary, as JSON
  --help        this text

Exit status: 0 when verification found nothing wrong, 1 when it did, 2 on a
bad argument.`;

interface Args {
  seconds: number;
  json: boolean;
}

function parseArgs(argv: string[]): Args | 'help' {
  const args: Args = { seconds: 10, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--json') args.json = true;
    else if (a === '--seconds' || a.startsWith('--seconds=')) {
      const text = a === '--seconds' ? argv[++i] : a.slice('--seconds='.length);
      const n = Number(text);
      if (text === undefined || text === '' || !Number.isFinite(n) || n <= 0 || n > 86_400) {
        throw new UsageError(`--seconds: expected a number of seconds in (0, 86400], got ${JSON.stringify(text ?? null)}`);
      }
      args.seconds = n;
    } else throw new UsageError(`${a}: unknown option (see --help)`);
  }
  return args;
}

class UsageError extends Error {}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const pad = (s: string, w: number): string => s.padStart(w);

const COLS: Array<[string, number]> = [
  ['elapsed', 9],
  ['packets', 14],
  ['Mpps now', 9],
  ['Mpps avg', 9],
  ['Gb/s', 7],
  ['ring used', 11],
  ['kicks', 10],
  ['sleeps', 10],
];

function header(): string {
  return COLS.map(([t, w]) => pad(t, w)).join(' ');
}

function row(p: PairProgress, nowMpps: number, numSlots: number): string {
  const secs = p.tMs / 1000;
  const cells = [
    `${secs.toFixed(1)} s`,
    fmtInt(p.packets),
    nowMpps.toFixed(2),
    (secs > 0 ? p.packets / secs / 1e6 : 0).toFixed(2),
    (secs > 0 ? (p.bytes * 8) / secs / 1e9 : 0).toFixed(2),
    `${p.ringUsed}/${numSlots}`,
    fmtInt(p.kicks),
    fmtInt(p.sleeps),
  ];
  return cells.map((c, i) => pad(c, COLS[i]![1])).join(' ');
}

interface Summary {
  ok: boolean;
  seconds: number;
  packets: number;
  sent: number;
  mpps: number;
  gbps: number;
  avgBatch: number;
  lenBytes: number;
  burst: number;
  lost: number;
  dupOrReordered: number;
  corrupt: number;
  lostWakeups: number;
  kicks: number;
  kicksPerMillionPackets: number;
  sleeps: number;
  spurious: number;
  cpuProducer: number | null;
  cpuConsumer: number | null;
}

function summarize(r: PairResult): Summary {
  const kicks = r.producer.kicks + r.consumer.kicks;
  return {
    ok: r.ok,
    seconds: r.seconds,
    packets: r.packets,
    sent: r.sent,
    mpps: r.mpps,
    gbps: r.gbps,
    avgBatch: r.avgBatch,
    lenBytes: r.lenBytes,
    burst: r.burst,
    lost: r.lost,
    dupOrReordered: r.dupOrReordered,
    corrupt: r.corrupt,
    lostWakeups: r.lostWakeups,
    kicks,
    kicksPerMillionPackets: r.packets > 0 ? (kicks * 1e6) / r.packets : 0,
    sleeps: r.producer.sleeps + r.consumer.sleeps,
    spurious: r.producer.spurious + r.consumer.spurious,
    cpuProducer: r.cpuProducer,
    cpuConsumer: r.cpuConsumer,
  };
}

async function main(): Promise<number> {
  let parsed: Args | 'help';
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`ring-pair demo: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { seconds, json } = parsed;
  const twoCores = availableParallelism() >= 2;
  const numSlots = 1024;
  const tty = process.stdout.isTTY === true && !json;
  const out = (s: string): void => {
    process.stdout.write(s);
  };

  if (!json) {
    out(
      `vpio ring pair: guest TX -> backend, 64 B packets, burst 64, event mode, every packet verified\n` +
        (twoCores ? 'producer (guest) on CPU 0, consumer (backend) on CPU 1\n' : 'one CPU: producer and consumer share it\n') +
        `\n${header()}\n`,
    );
  }
  let prev: PairProgress | null = null;
  let lastPrintedMs = -Infinity;
  const ac = new AbortController();
  const onSigint = (): void => ac.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);

  let result: PairResult;
  try {
    result = await runPair({
      variant: 'release',
      seconds,
      lenBytes: 64,
      burst: 64,
      numSlots,
      dir: 'tx',
      wait: 'event',
      verify: true,
      progressMs: 250,
      ...(twoCores ? { cpuProducer: 0, cpuConsumer: 1 } : {}),
      signal: ac.signal,
      onProgress: (p) => {
        const dt = prev ? p.tMs - prev.tMs : p.tMs;
        const nowMpps = dt > 0 ? (p.packets - (prev?.packets ?? 0)) / dt / 1000 : 0;
        prev = p;
        if (json) return;
        if (tty) out(`\r\x1b[2K${row(p, nowMpps, numSlots)}`);
        else if (p.tMs - lastPrintedMs >= 1000) {
          lastPrintedMs = p.tMs;
          out(`${row(p, nowMpps, numSlots)}\n`);
        }
      },
    });
  } finally {
    process.removeListener('SIGINT', onSigint);
    if (tty) out('\n');
  }

  const s = summarize(result);
  if (json) {
    out(`${JSON.stringify(s)}\n`);
  } else {
    out(
      `\ntotal: ${fmtInt(s.packets)} packets in ${s.seconds.toFixed(2)} s = ${s.mpps.toFixed(2)} Mpps ` +
        `(${s.gbps.toFixed(2)} Gb/s of ${s.lenBytes}-byte packets), avg batch ${s.avgBatch.toFixed(1)}\n` +
        `verified: ${s.ok ? 'ok' : 'NOT OK'}  lost/dup/corrupt = ${s.lost}/${s.dupOrReordered}/${s.corrupt}, ` +
        `lost wake-ups ${s.lostWakeups}, received ${fmtInt(s.packets)} of ${fmtInt(s.sent)} sent\n` +
        `kicks: ${fmtInt(s.kicks)} = ${s.kicksPerMillionPackets.toFixed(1)} per million packets; ` +
        `sleeps ${fmtInt(s.sleeps)} (spurious ${fmtInt(s.spurious)})\n`,
    );
  }
  return s.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const code = (err as { code?: unknown }).code;
    process.stderr.write(`ring-pair demo: ${err instanceof Error ? err.message : String(err)}\n`);
    if ((err as { stderr?: unknown }).stderr) process.stderr.write(String((err as { stderr: unknown }).stderr));
    process.exitCode = code === 'PAIR_ABORTED' ? 130 : 1;
  },
);
