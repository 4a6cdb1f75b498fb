/**
 * End to end through `vpio up` (root; needs @vpio/cli's `vpio uplink` and
 * `vpio vxlan`, which start vpio-uplink through vpio-launch --wire-*): each
 * scenario runs test/e2e/uplink-e2e.sh in a network namespace of its own
 * (`unshare -n`), pings a minios ping responder on the switch from the far
 * side of the wire, reads the stats line vpio-uplink prints on SIGUSR1, and removes the port
 * (vpio-uplink then exits 0 on SIGTERM).
 *   1. packet: the host stack on a veth peer <-> AF_PACKET uplink <-> switch
 *   2. vxlan: a Linux vxlan device (VNI 1000) in another namespace <-> UDP
 *      <-> vpio-uplink (VID 10) <-> switch VLAN 10; 1400-byte pings
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const vpioJs = join(root, '..', 'cli', 'dist', 'bin', 'vpio.js');
const script = join(root, 'test', 'e2e', 'uplink-e2e.sh');


const runnable = process.getuid?.() === 0;

interface Stats {
  why?: string;
  wire: Record<string, number | string>;
  vif: Record<string, number>;
}

interface Removed {
  exit?: { code: number | null; signal: string | null };
}

function scenario(mode: 'packet' | 'vxlan'): { out: string; status: number | null; stats: Stats; removed: Removed } {
  const base = mkdtempSync(join(tmpdir(), 'vpio-upl-e2e-'));
  try {
    const r = spawnSync('unshare', ['-n', 'bash', script, mode, vpioJs, join(base, 'run')], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, VPIO_UPLINK: join(root, 'build', 'vpio-uplink') },
    });
    const lines = (r.stdout ?? '').split('\n');
    const json = (tag: string): unknown => JSON.parse((lines.find((l) => l.startsWith(tag)) ?? `${tag}{}`).slice(tag.length) || '{}');
    return { out: `${r.stdout}\n${r.stderr}`, status: r.status, stats: json('E2E stats ') as Stats, removed: json('E2E rm ') as Removed };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

describe.skipIf(!runnable)('vpio-uplink end to end through vpio up (root, vpio uplink/vxlan)', () => {
  it('1. packet: pings cross veth -> AF_PACKET uplink -> switch -> minios and back', () => {
    const r = scenario('packet');
    expect(r.out).toContain('E2E ping ok');
    expect(r.status).toBe(0);
    expect(r.stats.why).toBe('sigusr1');
    expect(r.stats.wire.kind).toBe('packet');
    expect(r.stats.wire.rx_frames).toBeGreaterThanOrEqual(5);
    expect(r.stats.wire.tx_frames).toBeGreaterThanOrEqual(5);
    expect(r.stats.vif.tx_packets).toBe(r.stats.wire.rx_frames);
    expect(r.stats.wire.rx_drops).toBe(0);
    expect(r.removed.exit?.code).toBe(0); // SIGTERM: exit line, clean disconnect, exit 0
  }, 150_000);

  it('2. vxlan: 1400-byte pings cross a Linux vxlan device -> UDP -> vpio-uplink -> switch VLAN 10 -> minios and back', () => {
    const r = scenario('vxlan');
    expect(r.out).toContain('E2E ping ok');
    expect(r.status).toBe(0);
    expect(r.stats.why).toBe('sigusr1');
    expect(r.stats.wire.kind).toBe('vxlan');
    expect(r.stats.wire.rx_frames).toBeGreaterThanOrEqual(5);
    expect(r.stats.wire.fdb_learned).toBeGreaterThanOrEqual(1);
    expect(r.stats.wire.tx_learned).toBeGreaterThanOrEqual(5);
    expect(r.stats.wire.rx_drops).toBe(0);
    expect(r.stats.wire.tx_drops).toBe(0);
    expect(r.removed.exit?.code).toBe(0);
  }, 150_000);
});
