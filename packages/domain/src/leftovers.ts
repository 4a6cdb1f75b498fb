/**
 * What a dead vpiod leaves behind, and how the next one on the same
 * directory removes it. A SIGKILLed vpiod cannot remove its domains'
 * cgroups (`vpio-<tag>-d<domid>` under each cgroup base): its guests die
 * with it (pdeathsig), but the empty directories stay. So every vpiod
 * records its instance tag and cgroup bases in `DIR/vpiod.instance` while
 * it runs (removed by close()), and start() removes, from the bases the
 * previous instance recorded, exactly the cgroups named with its tag:
 * whatever is still inside is SIGKILLed first. Cgroups of any other vpiod
 * (another directory, another tag) are never touched.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What start() found of a dead predecessor on the same directory and removed. */
export interface VpiodRecovery {
  /** The dead vpiod's process id. */
  readonly pid: number;
  /** Its instance tag (cgroups are `vpio-<tag>-d<domid>`). */
  readonly tag: string;
  /** The cgroup directories removed. */
  readonly cgroups: readonly string[];
  /** Processes still inside them, SIGKILLed before the removal. */
  readonly processesKilled: number;
  /** Cgroup directories that could not be removed (with the reason). */
  readonly failed: readonly string[];
}

interface InstanceRecord {
  readonly pid: number;
  readonly tag: string;
  readonly cgroupBases: readonly string[];
}

export const INSTANCE_FILE = 'vpiod.instance';
const TAG = /^[0-9]+-[0-9a-f]+$/;

function parseRecord(text: string): InstanceRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<InstanceRecord>;
    if (!Number.isInteger(r.pid) || (r.pid as number) <= 0) return undefined;
    if (typeof r.tag !== 'string' || !TAG.test(r.tag)) return undefined;
    if (!Array.isArray(r.cgroupBases) || r.cgroupBases.some((b) => typeof b !== 'string' || !b.startsWith('/sys/fs/cgroup'))) return undefined;
    return { pid: r.pid as number, tag: r.tag, cgroupBases: r.cgroupBases };
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function removeCgroup(dir: string): Promise<{ killed: number; error?: string }> {
  let killed = 0;
  const deadline = Date.now() + 3000;
  for (;;) {
    const procs = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const pid of procs.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
        killed++;
      } catch {
        // gone already
      }
    }
    try {
      await rmdir(dir);
      return { killed };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { killed };
      if (Date.now() > deadline) return { killed, error: `${dir}: ${code}` };
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/**
 * Removes what the vpiod recorded in `dir` left, when that vpiod is dead.
 * Undefined when there is no record (or it is our own, or unreadable);
 * when the recorded process still runs nothing is touched and `onLive` hears of it.
 */
export async function recoverLeftovers(dir: string, onLive: (pid: number) => void): Promise<VpiodRecovery | undefined> {
  const record = parseRecord(await readFile(join(dir, INSTANCE_FILE), 'utf8').catch(() => ''));
  if (!record || record.pid === process.pid) return undefined;
  if (alive(record.pid)) {
    onLive(record.pid);
    return undefined;
  }
  const name = new RegExp(`^vpio-${record.tag}-d[0-9]+$`);
  const cgroups: string[] = [];
  const failed: string[] = [];
  let processesKilled = 0;
  for (const base of record.cgroupBases) {
    const entries = await readdir(base).catch(() => [] as string[]);
    for (const e of entries.filter((x) => name.test(x))) {
      const r = await removeCgroup(join(base, e));
      processesKilled += r.killed;
      if (r.error) failed.push(r.error);
      else cgroups.push(join(base, e));
    }
  }
  await rm(join(dir, INSTANCE_FILE), { force: true });
  return { pid: record.pid, tag: record.tag, cgroups, processesKilled, failed };
}

/** Records this instance (0600), so the next vpiod on `dir` can clean up after it. */
export async function recordInstance(dir: string, tag: string, cgroupBases: readonly string[]): Promise<void> {
  const record: InstanceRecord = { pid: process.pid, tag, cgroupBases };
  await writeFile(join(dir, INSTANCE_FILE), `${JSON.stringify(record)}\n`, { mode: 0o600 });
}

/** Removes this instance's record (close()). */
export async function forgetInstance(dir: string): Promise<void> {
  const record = parseRecord(await readFile(join(dir, INSTANCE_FILE), 'utf8').catch(() => ''));
  if (record?.pid === process.pid) await rm(join(dir, INSTANCE_FILE), { force: true });
}
