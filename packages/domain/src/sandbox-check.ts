/**
 * What this machine's sandbox supports, from `vpio-launch --check` (the C
 * launcher probes each step for real, in throwaway children). vpiod refuses
 * to start when a step is missing unless it runs with --insecure.
 */
import { execFile } from 'node:child_process';
import { VpioError } from '@vpio/errors';

/** Steps --check reports, in the launcher's own words. */
export type SandboxStep = 'namespaces' | 'userns' | 'proc' | 'identity' | 'seccomp' | 'pidfd' | 'no-new-privs' | 'cgroup';

export interface CgroupBase {
  /** 'cpu' | 'memory' | 'pids' (v1) or 'unified' (v2). */
  readonly controller: string;
  readonly dir: string;
}

export interface SandboxReport {
  readonly mode: 'root' | 'user';
  readonly ok: readonly SandboxStep[];
  readonly missing: readonly { readonly step: SandboxStep; readonly reason: string }[];
  readonly cgroupMode: 'v1' | 'v2' | undefined;
  readonly cgroupBases: readonly CgroupBase[];
}

/** Parses the --check output (pure). Unknown lines are ignored. */
export function parseSandboxReport(text: string): SandboxReport {
  let mode: 'root' | 'user' = 'user';
  let cgroupMode: 'v1' | 'v2' | undefined;
  const ok: SandboxStep[] = [];
  const missing: { step: SandboxStep; reason: string }[] = [];
  const cgroupBases: CgroupBase[] = [];
  for (const line of text.split('\n')) {
    let m: RegExpMatchArray | null;
    if ((m = /^mode (root|user)$/.exec(line))) mode = m[1] as 'root' | 'user';
    else if ((m = /^ok ([a-z-]+)/.exec(line))) ok.push(m[1] as SandboxStep);
    else if ((m = /^missing ([a-z-]+): (.*)$/.exec(line))) missing.push({ step: m[1] as SandboxStep, reason: m[2] ?? '' });
    else if ((m = /^cgroup-mode (v1|v2)$/.exec(line))) cgroupMode = m[1] as 'v1' | 'v2';
    else if ((m = /^cgroup-base (\S+) (\/.*)$/.exec(line))) cgroupBases.push({ controller: m[1] ?? '', dir: m[2] ?? '' });
  }
  return { mode, ok, missing, cgroupMode, cgroupBases };
}

/** Runs `launcher --check`. Throws SANDBOX_CHECK when the launcher cannot run at all. */
export async function checkSandbox(launcherPath: string): Promise<SandboxReport> {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(launcherPath, ['--check'], { timeout: 10_000 }, (err, out) => {
      // exit status 1 means "some step missing": the report says which
      if (err && (err as { code?: unknown }).code !== 1) {
        reject(new VpioError('SANDBOX_CHECK', `${launcherPath} --check failed: ${err.message}`, { cause: err }));
      } else resolve(out);
    });
  });
  const report = parseSandboxReport(stdout);
  if (report.ok.length + report.missing.length === 0) throw new VpioError('SANDBOX_CHECK', `${launcherPath} --check printed no report`);
  return report;
}

/** The launcher --skip flags that let a domain start without the missing steps. */
export function skipFlagsFor(missing: readonly SandboxStep[]): string[] {
  const skip = new Set<string>();
  for (const step of missing) {
    if (step === 'namespaces') skip.add('namespaces').add('proc');
    else if (step === 'proc') skip.add('proc');
    else if (step === 'identity' || step === 'userns') skip.add('userns').add('uid');
    else if (step === 'seccomp') skip.add('seccomp');
    else if (step === 'no-new-privs') skip.add('no-new-privs').add('seccomp');
    else if (step === 'cgroup') skip.add('cgroup');
  }
  return [...skip].flatMap((s) => ['--skip', s]);
}
