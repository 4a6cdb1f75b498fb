/**
 * Scenario 4 (traffic end to end): objective: guests started by `vpio run`
 * are real netfront guests. A real `vpio up` on a temp dir (lossless vifs); two C
 * guests (@vpio/netfront's nf-guest --broker: grants and channels from
 * vpiod's brokers) and one Node guest (node-guest.mjs on the Netfront
 * addon) each send sequenced, checksummed frames to the other two through
 * the switch and check what they get: nothing lost, corrupt or reordered.
 * Meanwhile a hostile guest writes garbage into its vif directory
 * mid-handshake (it gets an `error` node, `vpio ls` shows it, nobody else
 * notices) and a guest of another pair is SIGKILLed mid-traffic (its domain,
 * vif and switch port go; the mesh keeps going). `vpio down` leaves no
 * process and no socket. Guest output is read through the platform's
 * console (`vpio console`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlClient } from '../src/control-client.js';
import type { ConsoleResult, LsResult, StatsResult } from '../src/protocol.js';
import { alive, root, tempBase, vpio } from './helpers.js';

const NF_GUEST = join(root, '..', 'netfront', 'build', 'bin', 'nf-guest');
const NODE_GUEST = join(root, '..', 'netfront', 'test', 'node-guest.mjs');
/** LeakSanitizer cannot stop the world inside the sandbox (no ptrace): leaks are checked by netfront's own tests. */
const C_ENV = ['--env', 'ASAN_OPTIONS=detect_leaks=0'];
const COUNT = 20_000;
const MAC = { c1: '02:00:00:00:e2:01', c2: '02:00:00:00:e2:02', n1: '02:00:00:00:e2:03', v1: '02:00:00:00:e2:11', v2: '02:00:00:00:e2:12', g: '02:00:00:00:e2:21' };

type GuestEvent = { event: string } & Record<string, unknown>;

describe('traffic between guests of `vpio run`', () => {
  const t = tempBase();
  let pid = 0;
  let client: ControlClient;
  const guestPids: number[] = [];

  const request = <T>(cmd: Parameters<ControlClient['request']>[0], args?: unknown): Promise<T> => client.request<T>(cmd, args);

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function events(name: string): Promise<GuestEvent[]> {
    const c = await request<ConsoleResult>('console', { name });
    return c.text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as GuestEvent);
  }

  const event = (name: string, kind: string) => async (): Promise<GuestEvent | undefined> => {
    const all = await events(name);
    const err = all.find((e) => e.event === 'error');
    if (err) throw new Error(`${name} failed: ${JSON.stringify(err)}`);
    return all.find((e) => e.event === kind);
  };

  async function run(name: string, vif: string, argv: string[], env: string[] = []): Promise<void> {
    const r = await vpio(['run', '--dir', t.dir, '--name', name, '--vif', vif, ...env, '--json', ...argv]);
    expect(r.stderr).toBe('');
    guestPids.push((JSON.parse(r.stdout) as { pid: number }).pid);
  }

  beforeAll(async () => {
    const up = await vpio(['up', '--dir', t.dir, '--cores=-1']);
    expect(up.stderr).toBe('');
    pid = Number(/pid (\d+)/.exec(up.stdout)?.[1]);
    client = await ControlClient.connect(join(t.dir, 'vpio.sock'), t.dir);
  });

  afterAll(() => {
    client?.close();
    for (const p of [pid, ...guestPids]) if (p && alive(p)) process.kill(p, 'SIGKILL');
    t.cleanup();
  });

  it('4.1 a C+C+Node mesh loses nothing while a hostile guest is refused and a SIGKILLed guest is cleaned up', async () => {
    const c = (peers: string[], n: number, more: string[] = []): string[] => [NF_GUEST, '--broker', ...more, ...peers.flatMap((p) => ['--peer', p]), '--count', String(n)];
    // the pair whose guest dies: endless traffic; the survivor lingers until destroyed. VLAN 20:
    // once v1 is gone its MAC is unknown, and the switch floods v2's frames within the VLAN only
    await run('v1', `mac=${MAC.v1},vlan=20,lossless=1`, c([MAC.v2], 1e9, ['--linger']), C_ENV);
    await run('v2', `mac=${MAC.v2},vlan=20,lossless=1`, c([MAC.v1], 1e9, ['--linger']), C_ENV);
    // the hostile guest: garbage channels and state=Connected, then it lingers unconnected
    await run('g', `mac=${MAC.g}`, [NF_GUEST, '--broker', '--garbage-only'], C_ENV);
    // the mesh
    await run('c1', `mac=${MAC.c1},lossless=1`, c([MAC.c2, MAC.n1], COUNT), C_ENV);
    await run('c2', `mac=${MAC.c2},lossless=1`, c([MAC.c1, MAC.n1], COUNT), C_ENV);
    await run('n1', `mac=${MAC.n1},lossless=1`, [process.execPath, NODE_GUEST, '--peer', MAC.c1, '--peer', MAC.c2, '--count', String(COUNT)]);

    // the hostile guest: refused with an error node, shown by ls
    const refused = await until('g refused', event('g', 'refused'));
    expect(refused.error).toMatch(/event-channel/);
    const gRow = (await request<LsResult>('ls')).domains.find((d) => d.name === 'g')!;
    expect(gRow.vifs[0]).toMatchObject({ mac: MAC.g, backendStateName: 'InitWait' }); // it may retry
    expect(gRow.vifs[0]!.port).toBeUndefined();
    expect(gRow.vifs[0]!.error).toMatch(/event-channel/);
    const lsText = await vpio(['ls', '--dir', t.dir, '--json']);
    expect(JSON.parse(lsText.stdout).domains.find((d: { name: string }) => d.name === 'g').vifs[0].error).toBe(gRow.vifs[0]!.error);

    // the victim: SIGKILL once its port carries traffic
    const v1 = (await request<LsResult>('ls')).domains.find((d) => d.name === 'v1')!;
    const v1Port = await until('v1 traffic', async () => {
      const p = (await request<StatsResult>('stats')).ports.find((x) => x.domid === v1.domid);
      return p && p.inPackets > 0 ? p.port : undefined;
    });
    process.kill(v1.pid, 'SIGKILL');
    await until('v1 cleaned up', async () => {
      const ls = await request<LsResult>('ls');
      const stats = await request<StatsResult>('stats');
      return !ls.domains.some((d) => d.domid === v1.domid) && !stats.ports.some((p) => p.domid === v1.domid || p.port === v1Port) ? true : undefined;
    });
    const v1Console = await request<ConsoleResult>('console', { name: 'v1' });
    expect(v1Console).toMatchObject({ alive: false, exit: { signal: 'SIGKILL' } });

    // the mesh finished clean: each guest sent COUNT to each of its two peers and got COUNT from each
    for (const name of ['c1', 'c2', 'n1']) {
      const done = await until(`${name} done`, event(name, 'done'), 25_000);
      expect(done, name).toMatchObject({ sent: 2 * COUNT, received: 2 * COUNT, corrupt: 0, reordered: 0, foreign: 0 });
      expect(await until(`${name} closed`, event(name, 'closed'))).toEqual({ event: 'closed', rc: 0 });
    }
    // and `vpio console` prints the same lines
    const text = await vpio(['console', '--dir', t.dir, 'n1']);
    expect(text.stdout).toMatch(/^\{"event":"connected","mac":"02:00:00:00:e2:03"/);
    expect(text.stdout).toContain('"event":"done"');
    expect(text.stdout).toMatch(/\[vpio: domain \d+ "n1" exited, code 0, signal null\]\n$/);

    for (const name of ['v2', 'g']) expect((await vpio(['destroy', '--dir', t.dir, name])).code).toBe(0);
    expect((await request<LsResult>('ls')).domains).toEqual([]);
    expect((await request<StatsResult>('stats')).ports).toEqual([]);
  }, 60_000);

  it('4.2 down leaves no platform, no guest and no socket', async () => {
    client.close();
    const r = await vpio(['down', '--dir', t.dir]);
    expect(r.code).toBe(0);
    expect(alive(pid)).toBe(false);
    for (const p of guestPids) expect(alive(p)).toBe(false);
    expect(existsSync(join(t.dir, 'vpio.sock'))).toBe(false);
    expect(existsSync(join(t.dir, 'vpio.pid'))).toBe(false);
  });
});
