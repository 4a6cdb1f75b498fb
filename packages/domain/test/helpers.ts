/**
 * Test fixtures of @vpio/domain: a real Vpiod in a temp dir (torn down,
 * with every domain, also when a test fails), the guest-probe tenant, and
 * readers for what tenants print.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll } from 'vitest';
import { defaultLauncherPath, packageRoot } from '../src/native.js';
import { Vpiod, type CreateDomainOptions, type Domain, type VpiodOptions } from '../src/index.js';

export const root = packageRoot();
export const GUEST_PROBE = join(root, 'build', 'test', 'guest-probe');

/** Starts a Vpiod in a fresh 0700 temp dir; closed and removed after the file's tests. */
export async function startVpiod(options: Partial<VpiodOptions> = {}): Promise<{ vpiod: Vpiod; dir: string }> {
  const base = mkdtempSync(join(tmpdir(), 'vpio-domain-'));
  const dir = join(base, 'run');
  const vpiod = new Vpiod({ dir, closeGraceMs: 200, maxDomains: 16, ...options });
  afterAll(async () => {
    await vpiod.close();
    rmSync(base, { recursive: true, force: true });
  });
  await vpiod.start();
  return { vpiod, dir };
}

/** Reads a stream to its end. */
export async function readAll(stream: Readable | null): Promise<string> {
  if (!stream) return '';
  let out = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) out += chunk as string;
  return out;
}

/** "key=value" lines → object (the first '=' splits). */
export function parseFacts(text: string): Record<string, string> {
  const facts: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) facts[line.slice(0, i)] = line.slice(i + 1);
  }
  return facts;
}

/** Open descriptors of this process. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Resolves when `cond()` holds, polling every 10 ms; rejects after timeoutMs. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const GUEST_BROKER = join(root, 'build', 'test', 'guest-broker');
export const GUEST_FUZZ = join(root, 'build', 'test', 'guest-fuzz');

/**
 * Reads "key=value" facts from a running tenant's stdout as they come:
 * `await facts.get('ref')` waits for that key (rejecting after timeoutMs).
 */
export class FactStream {
  readonly facts: Record<string, string> = {};
  private buffered = '';
  private ended = false;
  private readonly waiters = new Set<() => void>();

  constructor(stream: Readable | null) {
    if (!stream) throw new Error('FactStream needs a piped stdout');
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.buffered += chunk;
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        const i = line.indexOf('=');
        if (i > 0) this.facts[line.slice(0, i)] = line.slice(i + 1);
      }
      for (const w of [...this.waiters]) w();
    });
    stream.on('end', () => {
      this.ended = true;
      for (const w of [...this.waiters]) w();
    });
  }

  /** The value of `key`, waiting for it. */
  async get(key: string, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = this.facts[key];
      if (v !== undefined) return v;
      if (this.ended) throw new Error(`the tenant ended without printing ${key} (facts: ${JSON.stringify(this.facts)})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${key} (facts: ${JSON.stringify(this.facts)})`);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t);
          this.waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }

  /** Waits for the stream to end and returns every fact. */
  async all(timeoutMs = 10000): Promise<Record<string, string>> {
    await waitFor(() => this.ended, timeoutMs, 'the tenant to finish');
    return this.facts;
  }
}

/** Memfd mappings of this process (/proc/self/maps lines naming a memfd). */
export function memfdMappingCount(): number {
  return readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('/memfd:')).length;
}

/** Starts guest-broker (or another program) as a domain with its stdout read as facts. */
export async function startTenant(
  vpiod: Vpiod,
  name: string,
  argv: readonly string[],
  limits?: CreateDomainOptions['limits'],
): Promise<{ domain: Domain; facts: FactStream }> {
  const domain = await vpiod.createDomain({ name, argv: [...argv], stdout: 'pipe', ...(limits ? { limits } : {}) });
  return { domain, facts: new FactStream(domain.stdout) };
}

/**
 * A guest-broker tenant that waits for its arguments: start it first (so
 * its domid exists for grants and ports offered to it), then `go(args)`
 * writes them to a world-readable file and sends SIGHUP (vpio-launch
 * forwards it to the guest).
 */
export async function startWaiting(vpiod: Vpiod, name: string, limits?: CreateDomainOptions['limits']): Promise<{ domain: Domain; facts: FactStream; go: (args: readonly (string | number)[]) => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'vpio-args-'));
  chmodSync(dir, 0o755);
  const file = join(dir, 'args');
  const t = await startTenant(vpiod, name, [GUEST_BROKER, '@wait', file], limits);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  await t.facts.get('waiting');
  return {
    ...t,
    go: (args) => {
      writeFileSync(file, `${args.join(' ')}\n`, { mode: 0o644 });
      process.kill(t.domain.pid, 'SIGHUP');
    },
  };
}

/**
 * A network namespace NAME with lo up, deleted after the file's tests, and a
 * launcher wrapper that runs vpio-launch in it (vpiod spawns it as usual,
 * fd 3 and all; nsenter only switches the network namespace): give
 * `launcherPath` to startVpiod.
 */
export function netnsWithLauncher(name: string): { launcherPath: string } {
  execFileSync('ip', ['netns', 'add', name]);
  const wrapDir = mkdtempSync(join(tmpdir(), 'vpio-netns-launch-'));
  afterAll(() => {
    try {
      execFileSync('ip', ['netns', 'del', name]);
    } catch {
      // already gone
    }
    rmSync(wrapDir, { recursive: true, force: true });
  });
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  const launcherPath = join(wrapDir, 'vpio-launch-in-ns');
  writeFileSync(launcherPath, `#!/bin/sh\nexec nsenter --net=/run/netns/${name} -- ${defaultLauncherPath()} "$@"\n`);
  chmodSync(launcherPath, 0o755);
  return { launcherPath };
}
