/**
 * `vpio doctor`: what this host can sandbox and share, each check run for
 * real (the launcher's own `vpio-launch --check` probes, and a sealed memfd
 * made and inspected), with the fix for each missing one.
 */
import { checkSandbox, defaultLauncherPath, xenChecks, type SandboxReport } from '@vpio/domain';
import { GrantTable, SEAL, sealNames, sealsOf } from '@vpio/grant';
import { readUplinkHostFacts, uplinkChecks, type UplinkDoctorCheck } from './uplink-doctor.js';

export type DoctorCheckName = 'user-namespaces' | 'namespaces' | 'seccomp' | 'no-new-privs' | 'pidfd' | 'memfd-seals' | 'cgroups';

/** The xen side's checks (`vpio doctor --mode xen`, or auto on a Xen dom0): @vpio/domain xenChecks(). */
export type XenDoctorCheckName = 'xen-control-domain' | 'dev-xen-evtchn' | 'dev-xen-gntalloc' | 'dev-xen-gntdev' | 'dev-xen-privcmd' | 'xenstored' | 'xl' | 'stock-vif-drivers' | 'gntalloc-limit' | 'gnttab-max-frames';

export interface DoctorCheck {
  readonly name: DoctorCheckName;
  readonly ok: boolean;
  /** What failed (absent when ok). */
  readonly reason?: string;
  /** How to get it (absent when ok). */
  readonly fix?: string;
}

export interface DoctorReport {
  /** Every required check passed (the optional uplink lines do not count). */
  readonly ok: boolean;
  readonly mode: 'root' | 'user' | undefined;
  readonly checks: readonly DoctorCheck[];
  /** Optional features: AF_PACKET and AF_XDP uplinks (`vpio uplink add`). */
  readonly optional?: readonly UplinkDoctorCheck[];
}

const FIX: Record<DoctorCheckName, string> = {
  'user-namespaces': 'enable unprivileged user namespaces: `sysctl -w kernel.unprivileged_userns_clone=1` (Debian) and `sysctl -w user.max_user_namespaces=15000`, or run vpio as root',
  namespaces: 'a kernel with CONFIG_PID_NS/CONFIG_NET_NS/CONFIG_IPC_NS/CONFIG_UTS_NS; in a container, run it with --privileged or the CAP_SYS_ADMIN it withholds',
  seccomp: 'a kernel with CONFIG_SECCOMP_FILTER; in a container, do not run it with an unconfined-forbidding profile that blocks seccomp()',
  'no-new-privs': 'a kernel ≥ 3.5 (prctl PR_SET_NO_NEW_PRIVS)',
  pidfd: 'Linux ≥ 5.3 (pidfd_open)',
  'memfd-seals': 'Linux ≥ 5.1 with memfd_create and F_SEAL_FUTURE_WRITE (CONFIG_MEMFD_CREATE, CONFIG_SHMEM)',
  cgroups: 'run `vpio up` as root, or delegate a cgroup v2 subtree to this user (`systemd-run --user --scope -p Delegate=yes vpio up`); `vpio up --insecure` runs without per-domain limits',
};

/** The launcher steps each doctor check stands for. */
const STEPS: ReadonlyArray<[DoctorCheckName, readonly string[]]> = [
  ['user-namespaces', ['userns', 'identity']],
  ['namespaces', ['namespaces', 'proc']],
  ['seccomp', ['seccomp']],
  ['no-new-privs', ['no-new-privs']],
  ['pidfd', ['pidfd']],
  ['cgroups', ['cgroup']],
];

/** Makes a one-page read-only grant (a sealed memfd) and checks its seals. */
export function checkMemfdSeals(): DoctorCheck {
  const table = new GrantTable({ domid: 0 });
  try {
    const g = table.grantRegion({ bytes: 4096, grantee: 1, access: 'ro' });
    const seals = sealsOf(g.fd);
    g.revoke();
    g.release();
    const size = SEAL.SHRINK | SEAL.GROW;
    if (seals < 0 || (seals & size) !== size || (seals & (SEAL.FUTURE_WRITE | SEAL.WRITE)) === 0) {
      return { name: 'memfd-seals', ok: false, reason: seals < 0 ? `F_GET_SEALS failed (errno ${-seals})` : `a read-only region carries seals ${sealNames(seals).join('|') || 'none'}`, fix: FIX['memfd-seals'] };
    }
    return { name: 'memfd-seals', ok: true };
  } catch (e) {
    return { name: 'memfd-seals', ok: false, reason: (e as Error).message, fix: FIX['memfd-seals'] };
  } finally {
    table.close();
  }
}

/** Pure: the launcher's report + the memfd check → the doctor's checks. */
export function doctorReport(sandbox: SandboxReport | Error, memfd: DoctorCheck, optional?: readonly UplinkDoctorCheck[]): DoctorReport {
  const checks: DoctorCheck[] = [];
  for (const [name, steps] of STEPS) {
    if (sandbox instanceof Error) {
      checks.push({ name, ok: false, reason: `vpio-launch --check did not run: ${sandbox.message}`, fix: 'build @vpio/domain (`npm run build -w @vpio/domain`)' });
      continue;
    }
    const missing = sandbox.missing.filter((m) => steps.includes(m.step));
    if (missing.length === 0) checks.push({ name, ok: true });
    else checks.push({ name, ok: false, reason: missing.map((m) => `${m.step}: ${m.reason}`).join('; '), fix: FIX[name] });
    if (name === 'seccomp') checks.push(memfd);
  }
  return { ok: checks.every((c) => c.ok), mode: sandbox instanceof Error ? undefined : sandbox.mode, checks, ...(optional ? { optional } : {}) };
}

/**
 * xen mode's doctor: control_d, /dev/xen/{evtchn,gntalloc,gntdev,privcmd},
 * Xen's xenstored, xl, the stock xen-netback/xen-netfront (fine either way:
 * vpio's device type is vpio-vif), gntalloc's limit and dom0's grant frames
 * against `maxDomains` domains of `pagesPerDomain` pages.
 */
export async function runXenDoctor(options: { maxDomains: number; pagesPerDomain: number }): Promise<{ ok: boolean; mode: 'xen'; checks: ReadonlyArray<{ name: XenDoctorCheckName; ok: boolean; reason?: string; fix?: string }> }> {
  const checks = (await xenChecks(options)) as Array<{ name: XenDoctorCheckName; ok: boolean; reason?: string; fix?: string }>;
  return { ok: checks.every((c) => c.ok), mode: 'xen', checks };
}

export async function runDoctor(launcherPath: string = defaultLauncherPath()): Promise<DoctorReport> {
  const sandbox = await checkSandbox(launcherPath).catch((e: unknown) => e as Error);
  return doctorReport(sandbox, checkMemfdSeals(), uplinkChecks(readUplinkHostFacts()));
}

/** One line per xen check: `OK name (detail)` or `FAIL name: reason` + `fix: ...`. */
export function formatXenDoctor(r: { ok: boolean; checks: ReadonlyArray<{ name: string; ok: boolean; reason?: string; fix?: string }> }): string {
  const lines = r.checks.map((c) => (c.ok ? `OK    ${c.name}${c.reason ? ` (${c.reason})` : ''}` : `FAIL  ${c.name}: ${c.reason}\n      fix: ${c.fix}`));
  lines.push(r.ok ? 'xen mode: everything vpio needs is here' : 'xen mode: some checks failed: `vpio up --mode xen` may refuse to start or run out of grants');
  return lines.join('\n');
}
