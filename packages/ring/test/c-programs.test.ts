/**
 * The C test programs, as vitest cases. build/test/test-ring (ASan + UBSan,
 * built by `make test-bins`, which the package's test script runs first)
 * prints TAP; each "ok N - name" line becomes its own case here, so every C
 * case is counted, and a "not ok", a missing plan, a non-zero exit or a
 * sanitizer report fails. Also: the freestanding build of the ring core
 * needs nothing from libc but the mem* functions GCC requires.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/native.js';

const root = packageRoot();
const testRing = join(root, 'build', 'test', 'test-ring');
const freestandingObj = join(root, 'build', 'test', 'freestanding.o');

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
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly error: string | undefined;
}

/** Runs the program once, at module load, and parses its TAP. */
function runTap(path: string): TapRun {
  if (!existsSync(path)) {
    return { cases: [], plan: undefined, status: null, signal: null, stderr: '', error: `${path} is missing: run \`make -s test-bins\`` };
  }
  const r = spawnSync(path, [], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ASAN_OPTIONS: 'abort_on_error=0:exitcode=86', UBSAN_OPTIONS: 'print_stacktrace=1' },
  });
  const cases: TapCase[] = [];
  let plan: number | undefined;
  let pending: string[] = [];
  for (const line of (r.stdout ?? '').split('\n')) {
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
  return { cases, plan, status: r.status, signal: r.signal, stderr: r.stderr ?? '', error: r.error?.message };
}

const tap = runTap(testRing);

describe('test-ring (C, ASan + UBSan)', () => {
  it('runs to the end: exit 0, a plan that matches, no sanitizer report', () => {
    expect(tap.error).toBeUndefined();
    expect(tap.stderr).not.toMatch(/AddressSanitizer|LeakSanitizer|runtime error:/);
    expect(tap.signal).toBeNull();
    expect(tap.status).toBe(0);
    expect(tap.plan).toBe(tap.cases.length);
    expect(tap.cases.map((c) => c.n)).toEqual(tap.cases.map((_, i) => i + 1));
    expect(tap.cases.length).toBeGreaterThan(20);
  });

  // one vitest case per C case
  for (const c of tap.cases) {
    it(`${c.n} - ${c.name}`, () => {
      expect(c.ok, c.diagnostics.join('\n')).toBe(true);
    });
  }
});

describe('freestanding build of the ring headers', () => {
  it('needs nothing from libc beyond memcpy/memset/memmove/memcmp', () => {
    expect(existsSync(freestandingObj), `${freestandingObj} is missing: run \`make -s test-bins\``).toBe(true);
    const undefinedSymbols = execFileSync('nm', ['-u', freestandingObj], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().split(/\s+/).pop() ?? '')
      .filter((s) => s !== '');
    const allowed = new Set(['memcpy', 'memset', 'memmove', 'memcmp']);
    expect(undefinedSymbols.filter((s) => !allowed.has(s))).toEqual([]);
  });

  it('compiles every burst helper into it', () => {
    const defined = execFileSync('nm', ['--defined-only', freestandingObj], { encoding: 'utf8' });
    for (const fn of ['fs_be_init', 'fs_be_tx', 'fs_be_rx', 'fs_be_sleep', 'fs_fe_attach', 'fs_fe_tx', 'fs_fe_rx', 'fs_fe_sleep', 'fs_check']) {
      expect(defined).toMatch(new RegExp(`\\bT ${fn}$`, 'm'));
    }
  });
});
