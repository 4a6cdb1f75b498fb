/**
 * `vpio up`: the platform process (foreground) and the launcher that starts
 * it in the background and waits until its control socket answers.
 */
import { spawn } from 'node:child_process';
import { basename, join } from 'node:path';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { VpioError } from '@vpio/errors';
import { CliError } from './cli-error.js';
import { ControlClient } from './control-client.js';
import { ControlServer } from './control-server.js';
import { Platform, type PlatformLogEntry } from './platform.js';
import type { DomainRow, PlatformInfo, RecoveredLeftovers } from './protocol.js';
import { TopologyError, applyTopology, type Topology } from './topology.js';
import { logPath, pidPath, socketPath } from './paths.js';

export interface UpOptions {
  readonly dir: string;
  readonly cores: readonly number[];
  readonly mode: 'event' | 'poll';
  /** host or xen (resolved from --mode host|xen|auto). Default host. */
  readonly platformMode?: 'host' | 'xen';
  readonly insecure: boolean;
  readonly verbose: boolean;
  /** Most live domains (vpiod's default 64 when absent); vpiod sizes its fd limit to fit. */
  readonly maxDomains?: number;
  /** Most grants vpiod holds per domain (default 64); with maxDomains it sizes the fd limit. */
  readonly maxGrants?: number;
  /** The third byte of default vif MACs (default random): --mac-byte. */
  readonly macByte?: number;
  /** `-f FILE`, checked: its guests start once the platform is up (the switch settings are already in cores/mode). */
  readonly topology?: Topology;
}

/** Alive and not a zombie (a detached platform's parent is whoever reaps orphans, maybe nobody). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The pid in DIR/vpio.pid when that process is alive. */
export function runningPid(dir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(pidPath(dir), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}

/** A dead platform's files in DIR (its pid file, its sockets): the new platform takes them over. */
export function staleFiles(dir: string): string[] {
  if (runningPid(dir) !== undefined) return [];
  return [pidPath(dir), socketPath(dir), join(dir, 'xenstored.sock')].filter((f) => existsSync(f));
}

/** The line `vpio up` prints when it cleaned up after a dead platform on the same directory (undefined: nothing to say). */
export function cleanupLine(stale: readonly string[], recovered: RecoveredLeftovers | undefined): string | undefined {
  if (stale.length === 0 && !recovered) return undefined;
  const parts = [
    ...(recovered ? [`removed ${recovered.cgroups.length} cgroup${recovered.cgroups.length === 1 ? '' : 's'} of its domains`, `killed ${recovered.processesKilled} leftover process${recovered.processesKilled === 1 ? '' : 'es'}`] : []),
    ...(stale.length ? [`took over its stale ${stale.map((f) => basename(f)).join(', ')}`] : []),
  ];
  const failed = recovered?.failed.length ? `; could not remove ${recovered.failed.join(', ')}` : '';
  return `vpio: cleaned up after a dead platform${recovered ? ` (pid ${recovered.pid})` : ''}: ${parts.join(', ')}${failed}`;
}

async function answering(dir: string): Promise<PlatformInfo | undefined> {
  try {
    const c = await ControlClient.connect(socketPath(dir), dir);
    try {
      return await c.request<PlatformInfo>('ping');
    } finally {
      c.close();
    }
  } catch {
    return undefined;
  }
}

async function refuseIfRunning(dir: string): Promise<void> {
  const pid = runningPid(dir) ?? (await answering(dir))?.pid;
  if (pid !== undefined) throw new CliError('CLI_ALREADY_RUNNING', `a vpio platform (pid ${pid}) already runs on ${dir}: use it, or stop it with \`vpio down --dir ${dir}\``);
}

/** Runs the platform in this process until SIGINT/SIGTERM or `vpio down`. */
export async function upForeground(o: UpOptions, out: (line: string) => void): Promise<void> {
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  await refuseIfRunning(o.dir);
  const stale = staleFiles(o.dir);
  // claim the directory: exclusive create, or take over a dead platform's file
  try {
    writeFileSync(pidPath(o.dir), `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
  } catch {
    if (runningPid(o.dir) !== undefined) await refuseIfRunning(o.dir);
    writeFileSync(pidPath(o.dir), `${process.pid}\n`, { mode: 0o600 });
  }
  rmSync(socketPath(o.dir), { force: true }); // a dead platform's socket (nobody answered above)
  const debug = o.verbose || /(^|,)vpio:\*/.test(process.env.DEBUG ?? '');
  const log = (e: PlatformLogEntry | { level: string; event: string; message: string }): void => {
    if (debug || e.level === 'warn') process.stderr.write(`vpio ${JSON.stringify(e)}\n`);
  };
  let stopNow: () => void = () => undefined;
  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    stopNow = resolve;
  });
  const platform = new Platform({ dir: o.dir, cores: o.cores, mode: o.mode, platformMode: o.platformMode ?? 'host', insecure: o.insecure, log, ...(o.maxDomains === undefined ? {} : { maxDomains: o.maxDomains }), ...(o.maxGrants === undefined ? {} : { maxGrantsPerDomain: o.maxGrants }), ...(o.macByte === undefined ? {} : { macByte: o.macByte }) });
  let server: ControlServer | undefined;
  try {
    await platform.start();
    server = await ControlServer.listen({ path: socketPath(o.dir), platform, onDown: () => stopNow(), log });
    const info = platform.info();
    const cleaned = cleanupLine(stale, info.recovered);
    if (cleaned) out(cleaned);
    if (o.topology) {
      const t = o.topology;
      await applyTopology(t, (g) => platform.run({ name: g.name, argv: g.command, vifs: g.vifs, memoryMiB: g.memoryMiB, env: g.env }), (d) => out(guestLine(d)))
        .catch((e: unknown) => {
          throw new TopologyError('CLI_TOPOLOGY_APPLY', `${(e as Error).message}; the platform was stopped`, [], { cause: e });
        });
    }
    out(`vpio: platform up (pid ${process.pid}) on ${o.dir} in ${info.platformMode} mode (xenstore ${info.xenstorePath}): switch cores [${info.cores.join(',')}] ${info.mode} mode` +
      `${info.skippedSteps.length ? `, INSECURE: without ${info.skippedSteps.join(', ')}` : ''}`);
    await stop;
  } finally {
    await server?.close();
    await platform.close();
    rmSync(socketPath(o.dir), { force: true });
    if (runningPid(o.dir) === process.pid) rmSync(pidPath(o.dir), { force: true });
  }
}

/** Starts `vpio up --foreground` detached, logging to DIR/platform.log, and waits until it answers. */
export async function upBackground(o: UpOptions, self: readonly string[], timeoutMs = 30_000): Promise<PlatformInfo & { readonly staleFiles: readonly string[] }> {
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  await refuseIfRunning(o.dir);
  const stale = staleFiles(o.dir);
  const logFd = openSync(logPath(o.dir), 'a', 0o600);
  const args = [...self, 'up', '--foreground', '--dir', o.dir, `--cores=${o.cores.join(',')}`, '--switch-mode', o.mode, '--mode', o.platformMode ?? 'host',
    ...(o.insecure ? ['--insecure'] : []), ...(o.verbose ? ['--verbose'] : []), ...(o.maxDomains === undefined ? [] : ['--max-domains', String(o.maxDomains)]),
    ...(o.maxGrants === undefined ? [] : ['--max-grants', String(o.maxGrants)]), ...(o.macByte === undefined ? [] : ['--mac-byte', String(o.macByte)])];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined) break;
    const info = await answering(o.dir);
    if (info && info.pid === child.pid) {
      child.unref();
      return { ...info, staleFiles: stale };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (exited === undefined) child.kill('SIGTERM');
  const tail = readFileSync(logPath(o.dir), 'utf8').trim().split('\n').slice(-5).join('\n');
  throw new CliError('CLI_UP_FAILED', `the platform did not come up${exited === undefined ? ` within ${timeoutMs} ms` : ` (exit ${exited})`}; ${logPath(o.dir)} says:\n${tail}`);
}

/** One line per guest a topology started. */
export function guestLine(d: DomainRow): string {
  const vifs = d.vifs.map((v) => `${v.mac}${v.policy?.trunk ? ` trunk ${v.policy.trunk.vids.join('+')}` : v.vlan === undefined ? '' : ` vlan ${v.vlan}`}`);
  return `vpio: guest "${d.name}" is domain ${d.domid} (pid ${d.pid})${vifs.length ? `, vifs ${vifs.join(', ')}` : ''}`;
}

/**
 * Starts a checked topology's guests on the platform of `dir` over its
 * control socket, in file order (`onStarted` hears of each). When one fails the platform is stopped
 * (`vpio down`: every guest started before goes with it) and the
 * TopologyError (CLI_TOPOLOGY_APPLY) names the guest and the platform's error.
 */
export async function applyOverSocket(dir: string, t: Topology, onStarted?: (d: DomainRow) => void): Promise<DomainRow[]> {
  const c = await ControlClient.connect(socketPath(dir), dir);
  try {
    return await applyTopology(t, (g) => c.request<DomainRow>('run', { name: g.name, argv: g.command, vifs: g.vifTexts, memoryMiB: g.memoryMiB, env: g.env }), onStarted);
  } catch (e) {
    c.close();
    const stopped = await down(dir).then(() => 'the platform was stopped', (d: unknown) => `stopping the platform failed too: ${(d as Error).message}`);
    throw new TopologyError('CLI_TOPOLOGY_APPLY', `${(e as Error).message}; ${stopped}`, [], { cause: e });
  } finally {
    c.close();
  }
}

/** Asks the platform to stop and waits until its process is gone. */
export async function down(dir: string, timeoutMs = 20_000): Promise<number> {
  const c = await ControlClient.connect(socketPath(dir), dir);
  let pid: number;
  try {
    pid = (await c.request<PlatformInfo>('ping')).pid;
    await c.request('down');
  } finally {
    c.close();
  }
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new VpioError('CLI_DOWN_TIMEOUT', `the platform (pid ${pid}) did not stop within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return pid;
}
