/**
 * Scenario 3 (netfront restart). Objective: a guest's netfront that
 * disconnects and connects again gets its vif back and traffic flows
 * again, without restarting the platform or the domain.
 * A real `vpio up`; an echo tenant and a restarting tenant (both Node, on
 * the Netfront addon, lossless vifs). The restarting tenant opens vif 0,
 * exchanges 2,000 checksummed frames with the echo, closes it (frontend
 * Closing → Closed; netback detaches the port and keeps the vif), and does
 * it again, three times: every round gets every frame back intact and in
 * order, the vif's port comes back each time, the domain and the platform
 * are the same ones throughout. (Before: nf_connect never said
 * Initialising again, so the backend waiting in Closed for it was read as
 * a refusal, ECONNREFUSED.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { RESTART_GUEST, TestPlatform, alive, until } from './helpers.js';

const MAC = { echo: '02:00:00:00:fc:01', restart: '02:00:00:00:fc:02' };
const ROUNDS = 3;
const COUNT = 2000;

describe('scenario 3: netfront restart', () => {
  const t = new TestPlatform();
  afterAll(() => t.teardown());

  it(`3.1 a netfront closed and reopened ${ROUNDS} times in the same domain gets its vif back and traffic flows each time`, async () => {
    await t.up();
    const platformPid = t.pid;
    const echo = await t.run('echo', [process.execPath, RESTART_GUEST, 'echo'], [`mac=${MAC.echo},lossless=1`]);
    await t.event('echo', 'connected');
    const r = await t.run('restart', [process.execPath, RESTART_GUEST, 'restart', '--peer', MAC.echo, '--rounds', String(ROUNDS), '--count', String(COUNT)], [`mac=${MAC.restart},lossless=1`]);
    // the restarting tenant's vif: the port goes away between rounds and comes back (seen at least once connected again)
    const ports = new Set<number>();
    const done = await until('restart done', async () => {
      const row = (await t.ls()).domains.find((d) => d.domid === r.domid);
      const port = row?.vifs[0]?.port;
      if (port !== undefined) ports.add(port);
      return (await t.events('restart')).find((e) => e.event === 'done');
    }, 40_000);
    expect(done).toEqual({ event: 'done', rounds: ROUNDS });
    const rounds = (await t.events('restart')).filter((e) => e.event === 'round');
    expect(rounds.map((e) => e.round)).toEqual([1, 2, 3]);
    for (const e of rounds) expect(e, `round ${String(e.round)}`).toMatchObject({ sent: COUNT, echoed: COUNT, corrupt: 0, reordered: 0 });
    expect(ports.size).toBeGreaterThan(0);
    // same platform, same domains, and the vif is still there (Closed, waiting for the next open)
    expect(t.pid).toBe(platformPid);
    expect(alive(platformPid)).toBe(true);
    const ls = await t.ls();
    expect(ls.domains.find((d) => d.name === 'echo')?.domid).toBe(echo.domid);
    const rConsole = await t.request<{ exit?: { code: number | null } }>('console', { name: 'restart' });
    if (rConsole.exit) expect(rConsole.exit.code).toBe(0); // it may still be exiting
    const echoRow = ls.domains.find((d) => d.name === 'echo')!;
    expect(echoRow.vifs[0]).toMatchObject({ frontendStateName: 'Connected', backendStateName: 'Connected' });
    expect(await t.request('destroy', { name: 'echo' })).toMatchObject({ name: 'echo' });
    const closed = await t.event('echo', 'closed');
    expect(closed.echoed).toBeGreaterThanOrEqual(ROUNDS * COUNT);
  }, 60_000);
});
