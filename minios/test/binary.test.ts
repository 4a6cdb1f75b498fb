/**
 * The shipped guest binary: static, under 1 MB stripped, and its command
 * line: --help, --check of every shipped config, config errors as
 * config:LINE:COL on stderr with exit 2.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(root, 'build', 'vpio-minios');
const STRIPPED = join(root, 'build', 'vpio-minios.stripped');
const configs = readdirSync(join(root, 'configs')).filter((f) => f.endsWith('.click'));

describe('vpio-minios binary', () => {
  it('is a static executable of at most 1 MB once stripped', () => {
    const size = statSync(STRIPPED).size;
    expect(size).toBeLessThanOrEqual(1024 * 1024);
    expect(execFileSync('file', [BIN]).toString()).toMatch(/statically linked/);
  });

  it('prints usage with --help', () => {
    expect(execFileSync(BIN, ['--help']).toString()).toMatch(/usage: vpio-minios/);
  });

  it('ships the seven configs', () => {
    expect(configs.sort()).toEqual(['bridge-firewall.click', 'firewall.click', 'mirror.click', 'ping-responder.click', 'pinger.click', 'pktgen.click', 'sink.click']);
  });

  for (const cfg of configs) {
    it(`parses and wires configs/${cfg}`, () => {
      const out = execFileSync(BIN, ['--check', join(root, 'configs', cfg)]).toString();
      expect(JSON.parse(out.trim())).toMatchObject({ event: 'config-ok', devices: cfg === 'bridge-firewall.click' ? 2 : 1 });
    });
  }

  it('reports a config error as config:LINE:COL on stderr and exits 2', () => {
    const r = spawnSync(BIN, ['--check', '-e', 'src :: FromNetfront(0);\nsrc -> Bogus(1);']);
    expect(r.status).toBe(2);
    expect(r.stderr.toString()).toBe("config:2:8: unknown element 'Bogus' (declare it with 'name :: Class(...)' first)\n");
  });

  it('rejects a bad --stats-interval', () => {
    const r = spawnSync(BIN, ['--stats-interval', '0', '-e', 'FromNetfront(0) -> Sink;']);
    expect(r.status).toBe(2);
  });
});
