/**
 * Scenario 5 (what a tenant cannot reach): a tenant probes vpiod and
 * another tenant from inside its sandbox (test/c/guest-broker.c isolation).
 * Objective: /proc/<vpiod>/mem and /proc/<vpiod>/fd/* cannot be read, the
 * other tenant's /proc/<pid>/map_files/* and mem cannot be opened (its own
 * pid namespace shows neither), the dom0 xenstore socket refuses it
 * (EACCES), and an abstract socket another tenant listens on is not
 * reachable (separate network namespaces). Each property is its own test.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { GUEST_BROKER, startTenant, startVpiod } from './helpers.js';

const { vpiod } = await startVpiod();

describe('a tenant probing vpiod and another tenant', () => {
  let facts: Record<string, string> = {};
  let listenerFacts: Record<string, string> = {};

  beforeAll(async () => {
    const name = `vpio-iso-${process.pid}`;
    const other = await startTenant(vpiod, 'iso-listener', [GUEST_BROKER, 'abstract', name]);
    await other.facts.get('listen');
    await other.facts.get('self_connect');
    listenerFacts = other.facts.facts;
    const probe = await startTenant(vpiod, 'iso-probe', [GUEST_BROKER, 'isolation', String(process.pid), String(other.domain.pid), vpiod.xenstorePath, name]);
    facts = await probe.facts.all();
    await vpiod.destroyDomain(other.domain.domid, { graceMs: 0 });
  });

  it('cannot read /proc/<vpiod>/mem', () => {
    expect(facts.vpiod_mem).toMatch(/^(ENOENT|EACCES|EPERM)$/);
  });

  it('cannot list or open /proc/<vpiod>/fd/*', () => {
    expect(facts.vpiod_fd_dir).toMatch(/^(ENOENT|EACCES|EPERM)$/);
    expect(facts.vpiod_fd_0).toMatch(/^(ENOENT|EACCES|EPERM)$/);
  });

  it("cannot open another tenant's /proc/<pid>/map_files/* or mem", () => {
    expect(facts.other_map_files).toMatch(/^(ENOENT|EACCES|EPERM)$/);
    expect(facts.other_mem).toMatch(/^(ENOENT|EACCES|EPERM)$/);
  });

  it('cannot connect to the dom0 xenstore socket', () => {
    expect(facts.xenstore_connect).toBe('EACCES');
  });

  it("cannot reach another tenant's abstract socket, which that tenant itself reaches", () => {
    expect(listenerFacts.listen).toBe('OK');
    expect(listenerFacts.self_connect).toBe('OK');
    expect(facts.abstract_connect).toBe('ECONNREFUSED');
  });
});
