/**
 * Scenario 1 (sandbox): a tenant is a real process started by vpiod through
 * vpio-launch; it reports what it can see and do (test/c/guest-probe.c) and
 * each property is its own test. Objective: a tenant sees only its own
 * domid, fd 3, its own pid namespace; runs as a non-root uid with
 * no-new-privs and the seccomp filter; cannot reach vpiod's socket
 * directory; and its cgroup stops fork bombs and allocators.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_UID_BASE } from '../src/index.js';
import { GUEST_PROBE, parseFacts, readAll, startVpiod, waitFor } from './helpers.js';

const { vpiod, dir } = await startVpiod();

describe('a tenant inside the sandbox', () => {
  let facts: Record<string, string> = {};
  let domid = 0;

  beforeAll(async () => {
    const d = await vpiod.createDomain({
      name: 'probe', argv: [GUEST_PROBE, 'report', dir, vpiod.xenstorePath, String(process.pid)], stdout: 'pipe',
    });
    domid = d.domid;
    const text = await readAll(d.stdout);
    await d.released;
    expect(d.exit?.code, d.stderr).toBe(0);
    facts = parseFacts(text);
  });

  it('gets its domid in VPIO_DOMID and VPIO_CTRL_FD=3', () => {
    expect(facts.domid).toBe(String(domid));
    expect(facts.ctrl_fd).toBe('3');
  });

  it('has exactly one extra descriptor, fd 3, a SOCK_SEQPACKET socket', () => {
    expect(facts.fds).toBe('0,1,2,3');
    expect(facts.fd3_type).toBe('seqpacket');
  });

  it('sees only its own pid namespace in /proc', () => {
    expect(facts.pid).toBe('2');
    expect(facts.proc_pids?.split(',')).toEqual(['2']);
  });

  it('runs as its own non-root uid and gid, without supplementary groups', () => {
    expect(facts.uid).toBe(String(DEFAULT_UID_BASE + domid));
    expect(facts.gid).toBe(String(DEFAULT_UID_BASE + domid));
    expect(facts.groups).toBe('0');
  });

  it('has no-new-privs set and a seccomp filter installed', () => {
    expect(facts.no_new_privs).toBe('1');
    expect(facts.seccomp).toBe('2');
  });

  for (const call of ['ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'bpf', 'perf_event_open', 'unshare', 'setns', 'io_uring_setup', 'userfaultfd', 'mount', 'keyctl', 'clone_newuser']) {
    it(`gets EPERM from ${call}`, () => {
      expect(facts[call]).toBe('EPERM');
    });
  }

  it('gets ENOSYS from clone3 (so namespace flags cannot hide in its struct)', () => {
    expect(facts.clone3).toBe('ENOSYS');
  });

  it('has its own network namespace with only lo', () => {
    expect(facts.net_ifaces).toBe('lo');
  });

  it("cannot list vpiod's socket directory or connect to the dom0 xenstore socket", () => {
    expect(facts.read_dir).toBe('EACCES');
    expect(facts.connect_socket).toBe('EACCES');
  });

  it("cannot open vpiod's /proc/<pid>/mem or list its fds", () => {
    expect(facts.open_dom0_mem).toBe('ENOENT');
    expect(facts.list_dom0_fds).toBe('ENOENT');
  });
});

describe('the domain cgroup', () => {
  it('stops a fork bomb at maxPids', async () => {
    const d = await vpiod.createDomain({ name: 'forkbomb', argv: [GUEST_PROBE, 'forkbomb', '500'], maxPids: 16, stdout: 'pipe' });
    const facts = parseFacts(await readAll(d.stdout));
    await d.released;
    expect(facts.fork_error).toBe('EAGAIN');
    expect(Number(facts.forked)).toBeLessThan(16);
  });

  it('kills an allocator that goes over memoryMiB', async () => {
    const d = await vpiod.createDomain({ name: 'alloc', argv: [GUEST_PROBE, 'alloc', '256'], memoryMiB: 32, stdout: 'pipe' });
    const text = await readAll(d.stdout);
    const exit = await d.released;
    expect(text).not.toContain('allocated=');
    expect(exit.code).toBe(128 + 9); // the guest was SIGKILLed by the OOM killer
  });

  it('creates the cgroup with the limits while the domain lives and removes it after', async () => {
    const d = await vpiod.createDomain({ name: 'cg', argv: [GUEST_PROBE, 'sleep'], maxPids: 21, memoryMiB: 48, cpuShares: 512 });
    const bases = vpiod.sandbox?.cgroupBases ?? [];
    expect(bases.length).toBeGreaterThan(0);
    const { readFileSync } = await import('node:fs');
    const procs = (dir: string): number => readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean).length;
    // createDomain resolves once the launcher runs; the sandbox is set up just after
    await waitFor(() => bases.every((b) => existsSync(join(b.dir, d.cgroup!)) && procs(join(b.dir, d.cgroup!)) === 3), 5000, 'the cgroup to hold 3 processes');
    for (const b of bases) {
      const cg = join(b.dir, d.cgroup!);
      if (b.controller === 'pids') expect(readFileSync(join(cg, 'pids.max'), 'utf8').trim()).toBe('21');
      if (b.controller === 'memory') expect(readFileSync(join(cg, 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(48 << 20));
      if (b.controller === 'cpu') expect(readFileSync(join(cg, 'cpu.shares'), 'utf8').trim()).toBe('512');
      expect(procs(cg)).toBe(3); // launcher, init, guest
    }
    await vpiod.destroyDomain(d.domid, { graceMs: 0 });
    for (const b of bases) expect(existsSync(join(b.dir, d.cgroup!))).toBe(false);
  });
});

describe('launch failures', () => {
  it('names the failing step: a guest that cannot be executed fails at exec', async () => {
    const d = await vpiod.createDomain({ name: 'noexec', argv: ['/nonexistent/guest'] });
    const exit = await d.released;
    expect(exit.code).toBe(117);
    expect(exit.launchError?.step).toBe('exec');
    expect(exit.launchError?.message).toMatch(/^vpio-launch: exec: No such file or directory: \/nonexistent\/guest$/);
  });
});
