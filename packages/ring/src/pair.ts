/**
 * `@vpio/ring/pair`: a typed harness over the `vring-pair` program, which
 * moves packets between two processes through one vpio ring (the C burst
 * helpers of ring_fe.h and ring_be.h, the kick protocol of ring.h) and
 * reports rates and verification counters.
 *
 * TypeScript validates the options and presents the result; everything per
 * packet happens in C. A run that finishes resolves with its result, also
 * when the result is not ok (that is data); a usage error, a stall, a crash
 * or a sanitizer report rejects with a {@link PairError} carrying stderr.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '@vpio/addon';
import { ArgumentError, VpioError, expectInteger, expectOneOf } from '@vpio/errors';
import { VERDICTS, type Verdict } from './verdict.js';

export type PairDir = 'tx' | 'rx';
export type PairWait = 'event' | 'poll';
/** `release`: build/bin/vring-pair (-O2); `sanitized`: build/test/vring-pair (ASan + UBSan). */
export type PairVariant = 'release' | 'sanitized';
/** A drop reason the backend peer counts: every verdict but 'ok'. */
export type PairDropReason = Exclude<Verdict, 'ok'>;

export interface PairOptions {
  /** Packets the producer sends (default 10 000 000; with `seconds` and no `packets`: unlimited). */
  packets?: number;
  /** Stop producing after this many seconds instead. */
  seconds?: number;
  /** Bytes per packet, 14..bufSizeBytes (default 64). */
  lenBytes?: number;
  /** Packets per burst call, 1..1024 (default 32). */
  burst?: number;
  /** Ring slots, a power of two in 64..4096 (default 1024). */
  numSlots?: number;
  /** Bytes per pool buffer, 64..65535 (default 2048). */
  bufSizeBytes?: number;
  /** `tx`: guest produces, backend consumes (default); `rx`: the other way round. */
  dir?: PairDir;
  /** `event`: spin, then sleep with the kick protocol (default); `poll`: busy-poll. */
  wait?: PairWait;
  /** Empty polls before sleeping in event mode (default 2000). */
  spin?: number;
  /** Stamp and check every packet (default true). */
  verify?: boolean;
  /** Probability per batch (0..1) that the consumer naps 0..200 µs. */
  consumerSleepProb?: number;
  /** The same for the producer. */
  producerSleepProb?: number;
  /** PRNG seed for the naps (default 1). */
  seed?: number;
  /** Pin the producer / consumer to this CPU (default: not pinned). */
  cpuProducer?: number;
  cpuConsumer?: number;
  /** Progress reports every this many ms (default 0: none). */
  progressMs?: number;
  /** The binary's stall watchdog (default 10 000 ms). */
  stallMs?: number;
  /** Fault injection (needs verify): skip, corrupt after the checksum, or send twice this sequence number. */
  injectSkip?: number;
  injectCorrupt?: number;
  injectDup?: number;
  /** Which build runs (default `release`). */
  variant?: PairVariant;
  /** Aborting kills the run (both peers die with it) and rejects with code PAIR_ABORTED. */
  signal?: AbortSignal;
  onProgress?: (progress: PairProgress) => void;
}

export interface PairProgress {
  tMs: number;
  /** Packets the consumer received so far. */
  packets: number;
  /** Packets the producer sent so far. */
  sent: number;
  bytes: number;
  /** Packets in flight in the ring, from the shared header's indices. */
  ringUsed: number;
  kicks: number;
  sleeps: number;
}

export interface PairSideCounters {
  packets: number;
  bytes: number;
  batches: number;
  avgBatch: number;
  kicks: number;
  sleeps: number;
  /** Wake-ups with nothing to do (the pre-signalled channel causes at least one per sleeper). */
  spurious: number;
  /** Watchdog timeouts that found work: a broken kick protocol. */
  lostWakeups: number;
  timeouts: number;
  randomSleeps: number;
  drops: number;
}

export interface PairResult {
  /** Verification found nothing, received == sent, no lost wake-up, no drop, both peers exited 0. */
  ok: boolean;
  dir: PairDir;
  wait: PairWait;
  verify: boolean;
  lenBytes: number;
  burst: number;
  numSlots: number;
  bufSizeBytes: number;
  /** Packets the consumer received. */
  packets: number;
  /** Packets the producer sent. */
  sent: number;
  bytes: number;
  seconds: number;
  mpps: number;
  gbps: number;
  /** Consumer packets per burst call that moved packets. */
  avgBatch: number;
  nsPerPacket: number;
  /** Time-stamp counter cycles per packet (null without a TSC). */
  tscCyclesPerPacket: number | null;
  tscGhz: number | null;
  lost: number;
  dupOrReordered: number;
  corrupt: number;
  lostWakeups: number;
  /** Slots the backend side rejected, by validator verdict. */
  dropsByReason: Record<PairDropReason, number>;
  cpuProducer: number | null;
  cpuConsumer: number | null;
  producer: PairSideCounters;
  consumer: PairSideCounters;
}

/** A run that could not finish: usage error, stall, crash, sanitizer report, abort. */
export class PairError extends VpioError {
  /** The binary's stderr (the last 64 KiB). */
  readonly stderr: string;
  readonly exitCode: number | null;
  readonly exitSignal: string | null;
  /** The binary's `{"type":"error"}` line, if it printed one (counters, ring indices). */
  readonly report: Record<string, unknown> | null;

  constructor(
    code: string,
    message: string,
    details: { stderr: string; exitCode: number | null; exitSignal: string | null; report: Record<string, unknown> | null },
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.stderr = details.stderr;
    this.exitCode = details.exitCode;
    this.exitSignal = details.exitSignal;
    this.report = details.report;
  }
}

const STDERR_KEEP = 64 * 1024;
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** Absolute path of the vring-pair binary of a build variant (it may not exist yet). */
export function pairBinaryPath(variant: PairVariant = 'release'): string {
  expectOneOf('variant', variant, ['release', 'sanitized'] as const);
  return join(packageRoot('@vpio/ring', import.meta.url, 'PAIR_NO_PACKAGE'), 'build', variant === 'release' ? 'bin' : 'test', 'vring-pair');
}

function expectNumber(parameter: string, value: unknown, min: number, max: number, minOpen = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (minOpen && value === min)) {
    throw new ArgumentError(parameter, `a number in ${minOpen ? '(' : '['}${min}, ${max}]`, value);
  }
  return value;
}

function expectBoolean(parameter: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ArgumentError(parameter, 'a boolean', value);
  return value;
}

/** Validates options at the boundary and turns them into vring-pair flags. */
function pairArgs(o: PairOptions): string[] {
  if (typeof o !== 'object' || o === null) throw new ArgumentError('options', 'an object', o);
  const args: string[] = [];
  const int = (flag: string, name: keyof PairOptions, min: number, max: number): number | undefined => {
    const v = o[name];
    if (v === undefined) return undefined;
    args.push(flag, String(expectInteger(name, v, min, max)));
    return v as number;
  };
  if (o.dir !== undefined) args.push('--dir', expectOneOf('dir', o.dir, ['tx', 'rx'] as const));
  if (o.wait !== undefined) args.push('--wait', expectOneOf('wait', o.wait, ['event', 'poll'] as const));
  int('--spin', 'spin', 0, 100_000_000);
  int('--burst', 'burst', 1, 1024);
  const numSlots = int('--slots', 'numSlots', 64, 4096);
  if (numSlots !== undefined && (numSlots & (numSlots - 1)) !== 0) {
    throw new ArgumentError('numSlots', 'a power of two in [64, 4096]', numSlots);
  }
  const bufSize = int('--buf-size', 'bufSizeBytes', 64, 65535) ?? 2048;
  const len = int('--len', 'lenBytes', 14, 65535);
  if (len !== undefined && len > bufSize) throw new ArgumentError('lenBytes', `at most bufSizeBytes (${bufSize})`, len);
  int('--packets', 'packets', 1, MAX_SEQ);
  if (o.seconds !== undefined) args.push('--seconds', String(expectNumber('seconds', o.seconds, 0, 86_400, true)));
  const verify = o.verify === undefined ? true : expectBoolean('verify', o.verify);
  args.push(verify ? '--verify' : '--no-verify');
  for (const [flag, name] of [
    ['--inject-skip', 'injectSkip'],
    ['--inject-corrupt', 'injectCorrupt'],
    ['--inject-dup', 'injectDup'],
  ] as const) {
    if (o[name] !== undefined && !verify) throw new ArgumentError(name, 'verify: true (only the verifier sees injected faults)', o[name]);
    int(flag, name, 0, MAX_SEQ);
  }
  if (o.producerSleepProb !== undefined) args.push('--producer-sleep', String(expectNumber('producerSleepProb', o.producerSleepProb, 0, 1)));
  if (o.consumerSleepProb !== undefined) args.push('--consumer-sleep', String(expectNumber('consumerSleepProb', o.consumerSleepProb, 0, 1)));
  int('--seed', 'seed', 0, MAX_SEQ);
  int('--cpu-producer', 'cpuProducer', 0, 1023);
  int('--cpu-consumer', 'cpuConsumer', 0, 1023);
  int('--progress-ms', 'progressMs', 0, 3_600_000);
  int('--stall-ms', 'stallMs', 100, 3_600_000);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw new ArgumentError('onProgress', 'a function', o.onProgress);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new ArgumentError('signal', 'an AbortSignal', o.signal);
  return args;
}

type Json = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);

function side(raw: unknown): PairSideCounters {
  const s = (raw ?? {}) as Json;
  return {
    packets: num(s.packets),
    bytes: num(s.bytes),
    batches: num(s.batches),
    avgBatch: num(s.avg_batch),
    kicks: num(s.kicks),
    sleeps: num(s.sleeps),
    spurious: num(s.spurious),
    lostWakeups: num(s.lost_wakeups),
    timeouts: num(s.timeouts),
    randomSleeps: num(s.random_sleeps),
    drops: num(s.drops),
  };
}

function toResult(r: Json): PairResult {
  const drops = (r.drops_by_reason ?? {}) as Json;
  const reasons = VERDICTS.filter((v): v is PairDropReason => v !== 'ok');
  return {
    ok: r.ok === true,
    dir: r.dir === 'rx' ? 'rx' : 'tx',
    wait: r.wait === 'poll' ? 'poll' : 'event',
    verify: r.verify === true,
    lenBytes: num(r.len),
    burst: num(r.burst),
    numSlots: num(r.slots),
    bufSizeBytes: num(r.buf_size),
    packets: num(r.packets),
    sent: num(r.sent),
    bytes: num(r.bytes),
    seconds: num(r.seconds),
    mpps: num(r.mpps),
    gbps: num(r.gbps),
    avgBatch: num(r.avg_batch),
    nsPerPacket: num(r.ns_per_packet),
    tscCyclesPerPacket: numOrNull(r.tsc_cycles_per_packet),
    tscGhz: numOrNull(r.tsc_ghz),
    lost: num(r.lost),
    dupOrReordered: num(r.dup_or_reordered),
    corrupt: num(r.corrupt),
    lostWakeups: num(r.lost_wakeups),
    dropsByReason: Object.fromEntries(reasons.map((k) => [k, num(drops[k])])) as Record<PairDropReason, number>,
    cpuProducer: numOrNull(r.cpu_producer),
    cpuConsumer: numOrNull(r.cpu_consumer),
    producer: side(r.producer),
    consumer: side(r.consumer),
  };
}

function toProgress(p: Json): PairProgress {
  return {
    tMs: num(p.t_ms),
    packets: num(p.packets),
    sent: num(p.sent),
    bytes: num(p.bytes),
    ringUsed: num(p.ring_used),
    kicks: num(p.kicks),
    sleeps: num(p.sleeps),
  };
}

/**
 * Runs one producer/consumer pair to the end.
 * Resolves with the result (check `ok`); rejects with ArgumentError for bad
 * options (before anything starts), PairError PAIR_BINARY_MISSING when the
 * build is missing, PAIR_USAGE, PAIR_STALLED, PAIR_PEER_FAILED, PAIR_CRASHED,
 * PAIR_BAD_OUTPUT or PAIR_ABORTED.
 */
export function runPair(options: PairOptions = {}): Promise<PairResult> {
  let args: string[];
  let bin: string;
  try {
    args = pairArgs(options);
    bin = pairBinaryPath(options.variant ?? 'release');
  } catch (err) {
    return Promise.reject(err);
  }
  const none = { stderr: '', exitCode: null, exitSignal: null, report: null };
  if (!existsSync(bin)) {
    return Promise.reject(
      new PairError(
        'PAIR_BINARY_MISSING',
        `${bin} does not exist: run \`npm run build\` (release) or \`npm test\` (sanitized) in packages/ring first ` +
          `(or \`make -s all test-bins\` there)`,
        none,
      ),
    );
  }
  const { signal, onProgress } = options;
  if (signal?.aborted) {
    return Promise.reject(new PairError('PAIR_ABORTED', 'vring-pair: aborted before it started', none, { cause: signal.reason }));
  }

  return new Promise<PairResult>((resolve, reject) => {
    const child = spawn(bin, ['run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let pending = '';
    let result: Json | null = null;
    let errorReport: Json | null = null;
    let failure: unknown = null;

    const stop = (why: unknown): void => {
      if (failure === null) failure = why;
      child.kill('SIGKILL'); // the peers die with it (PR_SET_PDEATHSIG)
    };
    const onAbort = (): void => stop(new PairError('PAIR_ABORTED', 'vring-pair: aborted', none, { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });

    const line = (text: string): void => {
      if (!text.trim()) return;
      let msg: Json;
      try {
        msg = JSON.parse(text) as Json;
      } catch {
        return; // not ours: ignore
      }
      if (msg.type === 'progress' && onProgress) {
        try {
          onProgress(toProgress(msg));
        } catch (err) {
          stop(err);
        }
      } else if (msg.type === 'result') {
        result = msg;
      } else if (msg.type === 'error') {
        errorReport = msg;
      }
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        line(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.length > 2 * STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
    });
    child.on('error', (err) => stop(new PairError('PAIR_SPAWN', `cannot start ${bin}: ${err.message}`, none, { cause: err })));
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      line(pending);
      const details = { stderr: stderr.slice(-STDERR_KEEP), exitCode: code, exitSignal: sig, report: errorReport };
      const firstErr = stderr.split('\n').find((l) => l.trim() !== '') ?? '';
      const reportedError: unknown = errorReport?.error;
      const reported = typeof reportedError === 'string' ? reportedError : '';
      if (failure !== null) reject(failure);
      else if ((code === 0 || code === 1) && result) resolve(toResult(result));
      else if (code === 2) reject(new PairError('PAIR_USAGE', firstErr || 'vring-pair: usage error', details));
      else if (code === 3) reject(new PairError('PAIR_STALLED', `vring-pair: ${reported || 'stalled'}`, details));
      else if (code === 4) reject(new PairError('PAIR_PEER_FAILED', `vring-pair: ${reported || firstErr || 'a peer failed'}`, details));
      else if (sig) reject(new PairError('PAIR_CRASHED', `vring-pair: killed by ${sig}\n${stderr.slice(-2000)}`, details));
      else reject(new PairError('PAIR_BAD_OUTPUT', `vring-pair: exit ${code} without a result\n${stderr.slice(-2000)}`, details));
    });
  });
}
