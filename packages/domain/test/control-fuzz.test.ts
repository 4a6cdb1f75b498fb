/**
 * Scenario 7 (control-socket fuzz): a hostile tenant (test/c/guest-fuzz.c)
 * sends 10,000 structure-aware control messages to a running vpiod: every
 * type and its neighbours, boundary field values, refs/ports/handles it
 * really holds, lengths off by one, truncated and oversized datagrams,
 * broken headers, bad descriptors attached (unsealed memfds, pipes,
 * sockets, 16 and 20 at once). Objective: vpiod never crashes, answers
 * every synchronising PING, keeps serving another tenant (its PINGs never
 * fail, a last one after the fuzz), reaches every handler (successful
 * replies of each broker type and each errno), and leaks no descriptor.
 * The seed is fixed (VPIO_FUZZ_SEED overrides it) so a failure reproduces.
 */
import { describe, expect, it } from 'vitest';
import { GUEST_BROKER, GUEST_FUZZ, openFdCount, startTenant, startVpiod, waitFor } from './helpers.js';

const { vpiod } = await startVpiod();

describe('control-socket fuzz', () => {
  it('survives 10,000 hostile messages from one tenant and keeps serving another', async () => {
    const warm = await startTenant(vpiod, 'fuzz-warm', [GUEST_BROKER, 'claim']);
    await warm.domain.released;
    const fds = openFdCount();
    const other = await startTenant(vpiod, 'fuzz-bystander', [GUEST_BROKER, 'bystander']);
    await other.facts.get('ready');
    const peer = await startTenant(vpiod, 'fuzz-peer', [GUEST_BROKER, 'bystander']);
    await peer.facts.get('ready');
    const fuzz = await startTenant(vpiod, 'fuzzer', [GUEST_FUZZ, '10000', process.env.VPIO_FUZZ_SEED ?? '20240501', String(peer.domain.domid)],
      { grantPages: 64, eventChannels: 16, mappedPages: 64 });
    const f = await fuzz.facts.all(20000);
    await fuzz.domain.released;
    console.log(`fuzz reached: ${JSON.stringify(f)}`);
    expect(fuzz.domain.exit?.code, fuzz.domain.stderr).toBe(0);
    expect(Number(f.sent) + Number(f.send_err)).toBe(10000);
    expect(Number(f.sent)).toBeGreaterThanOrEqual(9000);
    expect(f.pings_ok).toBe(f.pings);
    expect(f.final_ping).toBe('OK');
    // it reached every handler and the main refusals
    for (const k of ['ok_share', 'ok_end', 'ok_map', 'ok_unmap', 'ok_alloc', 'ok_close']) expect(Number(f[k]), k).toBeGreaterThan(0);
    for (const errno of [1, 2, 3, 7, 9, 22, 28, 38, 71, 90]) expect(Number(f[`errno_${errno}`] ?? 0), `errno ${errno}`).toBeGreaterThan(0);
    // the other tenant was served throughout and after
    await vpiod.destroyDomain(other.domain.domid, { graceMs: 2000 });
    expect(other.facts.facts.final_ping).toBe('OK');
    expect(other.facts.facts.pings_bad).toBe('0');
    await vpiod.destroyDomain(peer.domain.domid, { graceMs: 0 });
    expect(vpiod.grants.usage(fuzz.domain.domid).grants).toBe(0);
    await waitFor(() => openFdCount() === fds, 3000, `fd count back to ${fds} (now ${openFdCount()})`);
  });
});
