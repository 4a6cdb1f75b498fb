// Integration scenarios for vring-pair: two real processes, one sealed
// memfd, real pipes, the real ring_fe.h / ring_be.h burst helpers and kick
// protocol, all in the sanitized build (ASan + UBSan, leaks checked).
// Each scenario states its objective in its name.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError } from '@vpio/errors';
import { PairError, pairBinaryPath, runPair, type PairProgress, type PairResult } from '../src/pair.js';

const BIN = pairBinaryPath('sanitized');
const PKG = dirname(dirname(dirname(BIN))); // <pkg>/build/test/vring-pair

beforeAll(() => {
  // `npm test` builds it first; this keeps `npx vitest run test/pair.test.ts` self-sufficient.
  const r = spawnSync('make', ['-s', 'build/test/vring-pair'], { cwd: PKG, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make build/test/vring-pair failed:\n${r.stderr}`);
});

/** Starts `vring-pair run ARGS`, waits until both peers exist, hands their pids to `poke`, returns exit code and output. */
async function runAndPoke(
  args: string[],
  poke: (pids: { producer: number; consumer: number }) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(BIN, ['run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const pids = { producer: 0, consumer: 0 };
  for (let i = 0; i < 200 && (!pids.producer || !pids.consumer); i++) {
    await new Promise((r) => setTimeout(r, 25));
    let kids: number[] = [];
    try {
      kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      break;
    }
    for (const pid of kids) {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv[1] === 'producer') pids.producer = pid;
      if (argv[1] === 'consumer') pids.consumer = pid;
    }
  }
  expect(pids.producer && pids.consumer, 'both peers started').toBeTruthy();
  // let packets flow first: with --progress-ms, until a progress line shows some sent (a loaded
  // machine may not have run the producer at all within a fixed pause)
  const flowing = (): boolean => /"type":"progress"[^\n]*"sent":[1-9]/.test(stdout);
  for (let i = 0; i < 400 && args.includes('--progress-ms') && !flowing(); i++) await new Promise((r) => setTimeout(r, 25));
  await new Promise((r) => setTimeout(r, 150));
  poke(pids);
  return { code: await done, stdout, stderr };
}

function expectClean(r: PairResult): void {
  expect({ lost: r.lost, dup: r.dupOrReordered, corrupt: r.corrupt, lostWakeups: r.lostWakeups }).toEqual({
    lost: 0,
    dup: 0,
    corrupt: 0,
    lostWakeups: 0,
  });
  expect(r.packets).toBe(r.sent);
  expect(Object.values(r.dropsByReason).every((n) => n === 0)).toBe(true);
  expect(r.ok).toBe(true);
}

describe('vring-pair (sanitized build)', () => {
  it('01 moves 10M 64-byte packets guest->backend (TX, event mode) with nothing lost, duplicated or corrupted, and kicks suppressed by batching', async () => {
    const r = await runPair({ variant: 'sanitized', packets: 10_000_000, lenBytes: 64, burst: 32, dir: 'tx', wait: 'event' });
    expectClean(r);
    expect(r.packets).toBe(10_000_000);
    expect(r.bytes).toBe(640_000_000);
    expect(r.avgBatch).toBeGreaterThan(1);
    // at most one signal per burst on each side (DESIGN.md: a peer that stays
    // armed costs one signal per batch, never one per packet)
    const kicks = r.producer.kicks + r.consumer.kicks;
    expect(r.producer.kicks).toBeLessThanOrEqual(r.producer.batches);
    expect(r.consumer.kicks).toBeLessThanOrEqual(r.consumer.batches);
    expect(kicks).toBeLessThan(r.packets / 10);
  });

  it('02 loses no wake-up when the consumer and the producer nap at random moments (TX, 10M)', async () => {
    const r = await runPair({
      variant: 'sanitized',
      packets: 10_000_000,
      consumerSleepProb: 0.02,
      producerSleepProb: 0.005,
      seed: 7,
    });
    expectClean(r);
    expect(r.consumer.randomSleeps).toBeGreaterThan(0);
    expect(r.producer.randomSleeps).toBeGreaterThan(0);
    // the peers really slept on their channels, and the pre-signalled byte
    // (a freshly bound port is pending once) woke at least one for nothing
    expect(r.producer.sleeps + r.consumer.sleeps).toBeGreaterThan(0);
    expect(r.producer.spurious + r.consumer.spurious).toBeGreaterThan(0);
    expect(r.producer.timeouts + r.consumer.timeouts).toBe(0);
  });

  it('03 moves 3M packets backend->guest (RX ring: backend produces, guest consumes) with random naps, nothing lost', async () => {
    const r = await runPair({
      variant: 'sanitized',
      dir: 'rx',
      packets: 3_000_000,
      consumerSleepProb: 0.02,
      producerSleepProb: 0.005,
      seed: 11,
    });
    expectClean(r);
    expect(r.dir).toBe('rx');
    expect(r.packets).toBe(3_000_000);
    expect(r.producer.sleeps + r.consumer.sleeps).toBeGreaterThan(0);
  });

  it('04 busy-polls without ever sleeping or signalling (poll mode, both directions)', async () => {
    for (const dir of ['tx', 'rx'] as const) {
      const r = await runPair({ variant: 'sanitized', dir, wait: 'poll', packets: 500_000 });
      expectClean(r);
      expect(r.wait).toBe('poll');
      expect(r.producer.sleeps + r.consumer.sleeps).toBe(0);
      expect(r.producer.kicks + r.consumer.kicks).toBe(0);
    }
  });

  it('05 handles burst 1 (one packet per call, a kick decision per packet) without loss', async () => {
    const r = await runPair({ variant: 'sanitized', burst: 1, packets: 200_000, producerSleepProb: 0.001 });
    expectClean(r);
    expect(r.avgBatch).toBe(1);
    expect(r.producer.batches).toBe(200_000);
  });

  it('06 handles burst 1024, more than the ring can hold (1023 usable slots), in both directions', async () => {
    for (const dir of ['tx', 'rx'] as const) {
      const r = await runPair({ variant: 'sanitized', dir, burst: 1024, numSlots: 1024, packets: 1_000_000 });
      expectClean(r);
      expect(r.consumer.avgBatch).toBeLessThanOrEqual(1023);
    }
  });

  it('07 wraps a small ring with odd lengths and a 1500-byte MTU packet size', async () => {
    for (const lenBytes of [14, 61, 1500]) {
      const r = await runPair({ variant: 'sanitized', numSlots: 64, bufSizeBytes: 2048, lenBytes, packets: 100_000, burst: 48 });
      expectClean(r);
      expect(r.bytes).toBe(100_000 * lenBytes);
    }
  });

  it('08 the verifier is not vacuous: a skipped sequence number counts exactly one lost packet', async () => {
    const r = await runPair({ variant: 'sanitized', packets: 100_000, injectSkip: 4242 });
    expect({ ok: r.ok, lost: r.lost, dup: r.dupOrReordered, corrupt: r.corrupt }).toEqual({ ok: false, lost: 1, dup: 0, corrupt: 0 });
    expect(r.packets).toBe(r.sent);
  });

  it('09 the verifier is not vacuous: a byte flipped after the checksum counts exactly one corrupt packet', async () => {
    const r = await runPair({ variant: 'sanitized', packets: 100_000, injectCorrupt: 777, dir: 'rx' });
    expect({ ok: r.ok, lost: r.lost, dup: r.dupOrReordered, corrupt: r.corrupt }).toEqual({ ok: false, lost: 0, dup: 0, corrupt: 1 });
  });

  it('10 the verifier is not vacuous: a sequence number sent twice counts exactly one duplicate', async () => {
    const r = await runPair({ variant: 'sanitized', packets: 100_000, injectDup: 0 });
    expect({ ok: r.ok, lost: r.lost, dup: r.dupOrReordered, corrupt: r.corrupt }).toEqual({ ok: false, lost: 0, dup: 1, corrupt: 0 });
    expect(r.sent).toBe(100_000);
  });

  it('11 runs for a time budget with progress reports, and the consumer drains everything the producer sent', async () => {
    const seen: PairProgress[] = [];
    const r = await runPair({ variant: 'sanitized', seconds: 0.6, progressMs: 100, onProgress: (p) => seen.push(p) });
    expectClean(r);
    expect(r.packets).toBeGreaterThan(0);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const p of seen) expect(p.ringUsed).toBeLessThan(1024);
    expect(seen.at(-1)!.tMs).toBeGreaterThan(seen[0]!.tMs);
  });

  it('12 rejects bad options at the TS boundary with ArgumentError naming the parameter, before spawning', async () => {
    const cases: Array<[object, string]> = [
      [{ burst: 0 }, 'burst'],
      [{ burst: 1025 }, 'burst'],
      [{ numSlots: 100 }, 'numSlots'],
      [{ lenBytes: 13 }, 'lenBytes'],
      [{ lenBytes: 3000 }, 'lenBytes'],
      [{ dir: 'sideways' }, 'dir'],
      [{ wait: 'nap' }, 'wait'],
      [{ consumerSleepProb: 1.5 }, 'consumerSleepProb'],
      [{ seconds: 0 }, 'seconds'],
      [{ verify: false, injectSkip: 3 }, 'injectSkip'],
      [{ variant: 'debug' }, 'variant'],
    ];
    for (const [opts, parameter] of cases) {
      const err = await runPair({ variant: 'sanitized', ...opts } as any).catch((e: unknown) => e);
      expect(err, JSON.stringify(opts)).toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).parameter).toBe(parameter);
    }
  });

  it('13 the binary rejects a bad flag with exit 2 and a one-line message naming the flag', () => {
    const bad = spawnSync(BIN, ['run', '--burst', '0'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--burst: expected an integer in \[1, 1024\], got '0'/);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const unknown = spawnSync(BIN, ['run', '--frobnicate'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/--frobnicate/);
    const slots = spawnSync(BIN, ['run', '--slots', '100'], { encoding: 'utf8' });
    expect(slots.status).toBe(2);
    expect(slots.stderr).toMatch(/--slots: expected a power of two/);
    const help = spawnSync(BIN, ['run', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: vring-pair run/);
  });

  it('14 a peer started without the parent\'s memfd fails cleanly (exit 4, reason on stderr), and an aborted run rejects with PAIR_ABORTED', async () => {
    const r = spawnSync(BIN, ['producer', '--packets', '10'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/vring-pair producer: attaching to the shared ring/);
    // and an aborted run rejects with PAIR_ABORTED
    const ac = new AbortController();
    const run = runPair({ variant: 'sanitized', seconds: 30, signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PairError);
    expect((err as PairError).code).toBe('PAIR_ABORTED');
  });

  it('15 the watchdog kills both peers when no packet moves for --stall-ms and exits 3 with both sides\' counters and the ring indices', async () => {
    // 2 s: a loaded machine can take longer than 400 ms to start the sanitized peers, and the watchdog counts from the start
    const r = await runAndPoke(['--seconds', '30', '--stall-ms', '2000', '--progress-ms', '50'], ({ producer, consumer }) => {
      process.kill(producer, 'SIGSTOP');
      process.kill(consumer, 'SIGSTOP');
    });
    expect(r.code).toBe(3);
    const err = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, any>;
    expect(err.type).toBe('error');
    expect(err.error).toMatch(/^stalled: no packet moved for 2000 ms/);
    expect(err.producer.packets).toBeGreaterThan(0);
    expect(err.consumer).toHaveProperty('packets');
    expect(err.ring).toHaveProperty('head');
    expect(err.ring).toHaveProperty('tail');
  });

  it('16 a peer that dies makes the parent kill the other and exit 4 naming it (not a result)', async () => {
    const r = await runAndPoke(['--seconds', '30'], ({ consumer }) => process.kill(consumer, 'SIGKILL'));
    expect(r.code).toBe(4);
    const err = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, any>;
    expect(err.type).toBe('error');
    expect(err.error).toMatch(/consumer killed by signal 9/);
    expect(r.stdout).not.toMatch(/"type":"result"/);
  });
});
