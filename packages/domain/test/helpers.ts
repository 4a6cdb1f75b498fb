/**
 * Test fixtures of @vpio/domain: a real Vpiod in a temp dir (torn down,
 * with every domain, also when a test fails), the guest-probe tenant, and
 * readers for what tenants print.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll } from 'vitest';
import { packageRoot } from '../src/native.js';
import { Vpiod, type VpiodOptions } from '../src/index.js';

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
