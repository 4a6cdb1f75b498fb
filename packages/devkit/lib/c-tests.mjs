/**
 * Running vpio's C test programs under vitest: each TAP line of a program
 * (see include/vpio/tap.h) becomes its own vitest case, so every C case is
 * counted in `npm test`'s summary; a "not ok", a plan that does not match,
 * a non-zero exit, a signal or a sanitizer report fails.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Sanitizer settings for test programs: report, exit non-zero, never hang in abort. */
export const SANITIZER_ENV = Object.freeze({
  ASAN_OPTIONS: 'abort_on_error=0:exitcode=86',
  UBSAN_OPTIONS: 'print_stacktrace=1',
});

/** Parses TAP output: cases with the "# ..." diagnostics printed before each, and the plan. */
export function parseTap(stdout) {
  const cases = [];
  let plan;
  let pending = [];
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

/**
 * Runs a TAP program once (asynchronously, so a server in this process can
 * answer it) and parses its output. Never rejects: problems are in `error`.
 */
export function runTapProgram(path, { args = [], cwd, env = {}, timeoutMs = 60_000 } = {}) {
  if (!existsSync(path)) {
    return Promise.resolve({
      cases: [], plan: undefined, status: null, signal: null, stdout: '', stderr: '',
      error: `${path} is missing: run \`make -s test-bins\``,
    });
  }
  return new Promise((resolve) => {
    execFile(
      path,
      args,
      { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...SANITIZER_ENV, ...env } },
      (err, stdout, stderr) => {
        const code = err && typeof err.code === 'number' ? err.code : null;
        resolve({
          ...parseTap(stdout),
          status: err ? code : 0,
          signal: err?.signal ?? null,
          stdout,
          stderr,
          error: err && code === null && !err.signal ? err.message : undefined,
        });
      },
    );
  });
}

/**
 * Declares the vitest cases of one TAP run: a case that the program ran to
 * its end cleanly (at least `minCases` cases), then one case per C case.
 */
export function defineTapSuite(title, run, { minCases = 1 } = {}) {
  describe(title, () => {
    it('runs to the end: exit 0, a plan that matches, no sanitizer report', () => {
      expect(run.error).toBeUndefined();
      expect(run.stderr).not.toMatch(/AddressSanitizer|LeakSanitizer|runtime error:/);
      expect(run.stdout).not.toMatch(/^Bail out!/m);
      expect(run.signal).toBeNull();
      expect(run.status).toBe(0);
      expect(run.plan).toBe(run.cases.length);
      expect(run.cases.map((c) => c.n)).toEqual(run.cases.map((_, i) => i + 1));
      expect(run.cases.length).toBeGreaterThanOrEqual(minCases);
    });
    for (const c of run.cases) {
      it(`${c.n} - ${c.name}`, () => {
        expect(c.ok, c.diagnostics.join('\n')).toBe(true);
      });
    }
  });
}

/** Symbols an object file leaves undefined (`nm -u`). */
export function undefinedSymbols(objectPath) {
  return execFileSync('nm', ['-u', objectPath], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/).pop() ?? '')
    .filter((s) => s !== '');
}

/** Text symbols an object file defines (`nm --defined-only`, type T). */
export function definedFunctions(objectPath) {
  return execFileSync('nm', ['--defined-only', objectPath], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 3 && f[1] === 'T')
    .map((f) => f[2]);
}
