/**
 * VifRow.attachMs: the platform's own attach timestamp (run() accepted →
 * both ends Connected, monotonic clock), what the platform benchmark reports
 * as p50/p99. Checked for presence and sign only: timing never decides a
 * test (the benchmark reports the figures).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../src/platform.js';
import type { VifRow } from '../src/protocol.js';
import { root, tempBase } from './helpers.js';

const NF_GUEST = join(root, '..', 'netfront', 'build', 'bin', 'nf-guest');
/** LeakSanitizer cannot stop the world inside the sandbox (no ptrace): leaks are checked by netfront's own tests. */
const ENV = { ASAN_OPTIONS: 'detect_leaks=0' };

describe('attach timestamps', () => {
  const t = tempBase();
  const platform = new Platform({ dir: t.dir, cores: [-1], mode: 'event' });

  beforeAll(async () => {
    await platform.start();
  });

  afterAll(async () => {
    await platform.close();
    t.cleanup();
  });

  const vif = (name: string): VifRow | undefined => platform.ls().domains.find((d) => d.name === name)?.vifs[0];

  it('a vif that never connects has no attachMs', async () => {
    const row = await platform.run({ name: 'idle', argv: ['/bin/sleep', '30'], vifs: [{}] });
    expect(row.vifs[0]?.backendStateName).toBe('InitWait');
    expect(row.vifs[0]?.attachMs).toBeUndefined();
    expect(vif('idle')?.attachMs).toBeUndefined();
    await platform.destroy('idle', 200);
  });

  it('a connected vif has a positive attachMs, in ls() and kept while it stays connected', async () => {
    await platform.run({ name: 'nf', argv: [NF_GUEST, '--broker', '--no-traffic', '--linger'], vifs: [{}], env: ENV });
    const deadline = Date.now() + 20_000;
    let v = vif('nf');
    while (v?.attachMs === undefined) {
      if (Date.now() > deadline) throw new Error(`vif 0 never connected: ${JSON.stringify(v)}; console: ${platform.console('nf').text}`);
      await new Promise((r) => setTimeout(r, 20));
      v = vif('nf');
    }
    expect(v).toMatchObject({ backendStateName: 'Connected', frontendStateName: 'Connected' });
    expect(typeof v.attachMs).toBe('number');
    expect(v.attachMs).toBeGreaterThan(0);
    expect(vif('nf')?.attachMs).toBe(v.attachMs);
    await platform.destroy('nf', 2000);
  });
});
