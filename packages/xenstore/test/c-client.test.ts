/**
 * The C client (include/vpio/xs.h, csrc/xs_client.c) against the real
 * daemon. build/test/xs-client-test (ASan + UBSan, built by `make
 * test-bins`, which the package's test script runs first) prints TAP; each
 * "ok N - name" line becomes its own vitest case, so every C case is
 * counted, and a "not ok", a missing plan, a non-zero exit or a sanitizer
 * report fails.
 *
 * Unlike packages/ring's c-programs.test.ts the program cannot run with
 * execFileSync: the daemon it talks to lives in this process's event loop.
 * So the module starts an XenstoreDaemon in a temp dir and runs the program
 * asynchronously at load (top-level await), before the cases are declared.
 *
 * Also: the client core builds freestanding and needs nothing but memcpy
 * (and memset, which GCC may emit) from outside.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startDaemon } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const program = join(root, 'build', 'test', 'xs-client-test');
const freestandingObj = join(root, 'build', 'test', 'xs_client.freestanding.o');

interface TapCase {
  readonly ok: boolean;
  readonly n: number;
  readonly name: string;
  readonly diagnostics: string[];
}

interface TapRun {
  readonly cases: TapCase[];
  readonly plan: number | undefined;
  readonly status: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error: string | undefined;
}

function parseTap(stdout: string): { cases: TapCase[]; plan: number | undefined } {
  const cases: TapCase[] = [];
  let plan: number | undefined;
  let pending: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^(not ok|ok) (\d+) - (.*)$/.exec(line);
    if (m) {
      cases.push({ ok: m[1] === 'ok', n: Number(m[2]), name: m[3] ?? '', diagnostics: pending });
      pending = [];
    } else if (line.startsWith('#')) {
      pending.push(line);
    } else if (/^1\.\.\d+$/.test(line)) {
      plan = Number(line.slice(3));
    }
  }
  return { cases, plan };
}

/** Starts a daemon, runs the program against it once, and parses its TAP. */
async function runAgainstDaemon(path: string): Promise<TapRun> {
  if (!existsSync(path)) {
    return { cases: [], plan: undefined, status: null, signal: null, stdout: '', stderr: '', error: `${path} is missing: run \`make -s test-bins\`` };
  }
  const fx = await startDaemon();
  try {
    return await new Promise<TapRun>((resolve) => {
      execFile(
        path,
        [],
        {
          cwd: root,
          timeout: 60_000,
          env: { ...process.env, XENSTORED_PATH: fx.path, ASAN_OPTIONS: 'abort_on_error=0:exitcode=86', UBSAN_OPTIONS: 'print_stacktrace=1' },
        },
        (err, stdout, stderr) => {
          const e = err as (Error & { code?: number | string; signal?: string }) | null;
          resolve({
            ...parseTap(stdout),
            status: e ? (typeof e.code === 'number' ? e.code : null) : 0,
            signal: e?.signal ?? null,
            stdout,
            stderr,
            error: e && typeof e.code !== 'number' ? e.message : undefined,
          });
        },
      );
    });
  } finally {
    await fx.close();
  }
}

const tap = await runAgainstDaemon(program);

describe('xs-client-test (C client vs. vpio-xenstored, ASan + UBSan)', () => {
  it('runs to the end: exit 0, a plan that matches, no sanitizer report', () => {
    expect(tap.error).toBeUndefined();
    expect(tap.stderr).not.toMatch(/AddressSanitizer|LeakSanitizer|runtime error:/);
    expect(tap.stdout).not.toMatch(/^Bail out!/m);
    expect(tap.signal).toBeNull();
    expect(tap.status).toBe(0);
    expect(tap.plan).toBe(tap.cases.length);
    expect(tap.cases.map((c) => c.n)).toEqual(tap.cases.map((_, i) => i + 1));
    expect(tap.cases.length).toBeGreaterThanOrEqual(25);
  });

  // one vitest case per C case
  for (const c of tap.cases) {
    it(`${c.n} - ${c.name}`, () => {
      expect(c.ok, c.diagnostics.join('\n')).toBe(true);
    });
  }
});

describe('freestanding build of the C client core', () => {
  it('needs nothing from outside beyond memcpy/memset', () => {
    expect(existsSync(freestandingObj), `${freestandingObj} is missing: run \`make -s test-bins\``).toBe(true);
    const undefinedSymbols = execFileSync('nm', ['-u', freestandingObj], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().split(/\s+/).pop() ?? '')
      .filter((s) => s !== '');
    const allowed = new Set(['memcpy', 'memset']);
    expect(undefinedSymbols.filter((s) => !allowed.has(s))).toEqual([]);
  });

  it('defines the whole public API of vpio/xs.h', () => {
    const defined = execFileSync('nm', ['--defined-only', freestandingObj], { encoding: 'utf8' });
    for (const fn of [
      'xs_open', 'xs_close', 'xs_read', 'xs_write', 'xs_mkdir', 'xs_rm', 'xs_directory', 'xs_dir_next',
      'xs_transaction_start', 'xs_transaction_end', 'xs_watch', 'xs_unwatch', 'xs_wait_event',
      'xs_pending_events', 'xs_get_domain_path', 'xs_request', 'xs_errno_from_name', 'xs_errno_name',
    ]) {
      expect(defined).toMatch(new RegExp(`\\bT ${fn}$`, 'm'));
    }
  });
});
