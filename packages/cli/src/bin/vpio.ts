#!/usr/bin/env node
/**
 * vpio — the command: up, run, ls, stats, destroy, down, doctor.
 * Exit status: 0 ok, 1 failure (the message says what to do), 2 bad arguments.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ArgumentError, VpioError } from '@vpio/errors';
import { ControlClient } from '../control-client.js';
import { runDoctor } from '../doctor.js';
import { formatDoctor, formatLs, formatStats } from '../format.js';
import { platformDir, socketPath } from '../paths.js';
import type { DestroyResult, DomainRow, LsResult, StatsResult } from '../protocol.js';
import { down, upBackground, upForeground } from '../up.js';
import { parseVifSpec } from '../vif-spec.js';

const DIR_HELP = '  --dir DIR        the platform directory (default $VPIO_DIR, /run/vpio as root, else $XDG_RUNTIME_DIR/vpio)';

const HELP: Record<string, string> = {
  vpio: `usage: vpio <command> [options]   (vpio <command> --help for each)

  up        start the platform: vpiod (xenstored, brokers) + switch + netback
  run       start a guest in a new domain, with vifs
  ls        domains, their vifs and handshake states
  stats     per-port packet rates and drops from the switch
  destroy   stop a domain and remove its vifs
  down      stop the platform (every domain and vif)
  doctor    check what this host supports, with the fix for each gap
`,
  up: `usage: vpio up [--dir DIR] [--cores LIST] [--mode event|poll] [--insecure] [--foreground] [--verbose]

Starts the platform in the background (log: DIR/platform.log) and returns
once its control socket DIR/vpio.sock (0600, owner only) answers.
${DIR_HELP}
  --cores LIST     switch worker cores, comma-separated (--cores=-1: unpinned; default 1, or 0 on one CPU)
  --mode MODE      event (sleep when idle, default) or poll (busy-poll)
  --insecure       start even when sandbox steps are missing (vpio doctor lists them)
  --foreground     run in this process until SIGINT/SIGTERM or \`vpio down\`
  --verbose        structured logs on stderr (also DEBUG=vpio:*)
`,
  run: `usage: vpio run [--name N] [--vif SPEC]... [--memory MIB] [--dir DIR] [--json] <binary> [args...]

Creates a domain, has netback create its vifs (backend InitWait published)
before the guest starts, then starts <binary> in the sandbox. Options come
before <binary>; everything after it goes to the guest.
  --name N         domain name ([A-Za-z0-9_.-], default <binary>-<n>)
  --vif SPEC       mac=02:00:00:00:00:01,vlan=10,mtu=1500,tx-slots=256,rx-slots=256,buf-size=2048
                   (every key optional; repeat for more vifs)
  --memory MIB     memory limit (default 256)
${DIR_HELP}
  --json           print the new domain as JSON
`,
  ls: `usage: vpio ls [--dir DIR] [--json]

Lists live domains with their vifs: MAC, VLAN, backend and frontend
xenbus states, switch port.
${DIR_HELP}
  --json           print { domains: [...] }
`,
  stats: `usage: vpio stats [--watch] [--interval-ms N] [--dir DIR] [--json]

Per-port rates (over the platform's last second) and drops by reason.
  --watch          print again every --interval-ms (default 1000) until Ctrl-C
${DIR_HELP}
  --json           print { atMs, intervalMs, ports: [...] } (one line per sample with --watch)
`,
  destroy: `usage: vpio destroy <name|domid> [--dir DIR] [--json]

Stops the domain (SIGTERM, SIGKILL after 2 s) and removes its vifs.
${DIR_HELP}
`,
  down: `usage: vpio down [--dir DIR]

Stops the platform: every vif, the switch, every domain, the xenstore.
${DIR_HELP}
`,
  doctor: `usage: vpio doctor [--json]

Checks user namespaces, namespaces, seccomp, no-new-privs, pidfd, memfd
seals and cgroups for real (vpio-launch --check, a sealed memfd) and says
the fix for each missing one. Exit 1 when something is missing.
  --json           print { ok, mode, checks: [{ name, ok, reason?, fix? }] }
`,
};

type Values = Record<string, string | boolean | string[] | undefined>;

function parse(cmd: string, argv: string[], options: ParseArgsConfig['options'], positionals = false): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean' }, dir: { type: 'string' } }, allowPositionals: positionals, strict: true });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (e) {
    // node's own words name the flag ("Unknown option '--foo'", "Option '--cores' argument missing")
    throw new VpioError('ERR_ARGUMENT', (e as Error).message.split('\n')[0]!.replace(/\. To specify a positional.*$/, ''));
  }
}

/** `vpio run`'s argv: options up to the first non-option word (the binary); the rest is the guest's. */
function splitRun(argv: string[]): { own: string[]; guest: string[] } {
  const withValue = new Set(['--name', '--vif', '--memory', '--dir']);
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    if (a === '--') return { own: argv.slice(0, i), guest: argv.slice(i + 1) };
    if (!a.startsWith('-')) break;
    i += withValue.has(a) ? 2 : 1;
  }
  return { own: argv.slice(0, i), guest: argv.slice(i) };
}

async function withClient<T>(dir: string, fn: (c: ControlClient) => Promise<T>): Promise<T> {
  const c = await ControlClient.connect(socketPath(dir), dir);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

function intFlag(flag: string, v: unknown, min: number, max: number): number {
  const n = typeof v === 'string' && /^-?[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new ArgumentError(flag, `an integer in [${min}, ${max}]`, v);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const out = (s: string): void => void process.stdout.write(`${s}\n`);
  const cmd = argv[0];
  const rest = argv.slice(1);
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(HELP.vpio!);
    return cmd === undefined ? 2 : 0;
  }
  if (!(cmd in HELP) || cmd === 'vpio') throw new ArgumentError('command', `one of up, run, ls, stats, destroy, down, doctor`, cmd);
  if (rest.includes('--help') && (cmd !== 'run' || splitRun(rest).own.includes('--help'))) {
    process.stdout.write(HELP[cmd]!);
    return 0;
  }
  switch (cmd) {
    case 'up': {
      const { values: v } = parse(cmd, rest, { cores: { type: 'string' }, mode: { type: 'string' }, insecure: { type: 'boolean' }, foreground: { type: 'boolean' }, verbose: { type: 'boolean' } });
      const coresText = (v.cores as string | undefined) ?? ((await import('node:os')).availableParallelism() > 1 ? '1' : '0');
      const cores = coresText.split(',').map((c) => intFlag('--cores', c, -1, 1023));
      const mode = (v.mode as string | undefined) ?? 'event';
      if (mode !== 'event' && mode !== 'poll') throw new ArgumentError('--mode', 'event or poll', mode);
      const o = { dir: platformDir(v.dir as string | undefined), cores, mode: mode as 'event' | 'poll', insecure: v.insecure === true, verbose: v.verbose === true };
      if (v.foreground) {
        await upForeground(o, out);
        return 0;
      }
      const info = await upBackground(o, [fileURLToPath(import.meta.url)]);
      out(`vpio: platform up (pid ${info.pid}) on ${info.dir}${info.skippedSteps.length ? ` INSECURE: without ${info.skippedSteps.join(', ')}` : ''}`);
      return 0;
    }
    case 'run': {
      const { own, guest } = splitRun(rest);
      const { values: v } = parse(cmd, own, { name: { type: 'string' }, vif: { type: 'string', multiple: true }, memory: { type: 'string' }, json: { type: 'boolean' } });
      if (guest.length === 0) throw new ArgumentError('<binary>', 'the guest binary to run (vpio run [options] <binary> [args...])', undefined);
      const vifs = (v.vif as string[] | undefined) ?? [];
      for (const s of vifs) parseVifSpec(s); // fail here, naming the bad part, before asking the daemon
      const memoryMiB = v.memory === undefined ? undefined : intFlag('--memory', v.memory, 16, 1 << 20);
      const dir = platformDir(v.dir as string | undefined);
      const d = await withClient(dir, (c) => c.request<DomainRow>('run', { name: v.name, argv: guest, vifs, memoryMiB }));
      if (v.json) out(JSON.stringify(d));
      else {
        out(`vpio: domain ${d.domid} "${d.name}" running (pid ${d.pid})`);
        for (const f of d.vifs) out(`  vif ${f.devid}: ${f.mac}${f.vlan === undefined ? '' : ` vlan ${f.vlan}`}, backend ${f.backendStateName}`);
      }
      return 0;
    }
    case 'ls': {
      const { values: v } = parse(cmd, rest, { json: { type: 'boolean' } });
      const r = await withClient(platformDir(v.dir as string | undefined), (c) => c.request<LsResult>('ls'));
      out(v.json ? JSON.stringify(r) : formatLs(r));
      return 0;
    }
    case 'stats': {
      const { values: v } = parse(cmd, rest, { json: { type: 'boolean' }, watch: { type: 'boolean' }, 'interval-ms': { type: 'string' } });
      const intervalMs = v['interval-ms'] === undefined ? 1000 : intFlag('--interval-ms', v['interval-ms'], 100, 3_600_000);
      const dir = platformDir(v.dir as string | undefined);
      return withClient(dir, async (c) => {
        for (;;) {
          const r = await c.request<StatsResult>('stats');
          out(v.json ? JSON.stringify(r) : formatStats(r));
          if (!v.watch) return 0;
          await new Promise((res) => setTimeout(res, intervalMs));
          if (!v.json) out('');
        }
      });
    }
    case 'destroy': {
      const { values: v, positionals } = parse(cmd, rest, { json: { type: 'boolean' } }, true);
      if (positionals.length !== 1) throw new ArgumentError('<name>', 'exactly one domain name or domid', positionals.join(' ') || undefined);
      const r = await withClient(platformDir(v.dir as string | undefined), (c) => c.request<DestroyResult>('destroy', { name: positionals[0] }));
      out(v.json ? JSON.stringify(r) : `vpio: domain ${r.domid} "${r.name}" destroyed (${r.exit.reason})`);
      return 0;
    }
    case 'down': {
      const { values: v } = parse(cmd, rest, {});
      const dir = platformDir(v.dir as string | undefined);
      const pid = await down(dir);
      out(`vpio: platform (pid ${pid}) on ${dir} stopped`);
      return 0;
    }
    case 'doctor': {
      const { values: v } = parse(cmd, rest, { json: { type: 'boolean' } });
      const r = await runDoctor();
      out(v.json ? JSON.stringify(r) : formatDoctor(r));
      return r.ok ? 0 : 1;
    }
  }
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const cmd = process.argv[2] && process.argv[2] in HELP ? ` ${process.argv[2]}` : '';
    if (e instanceof VpioError && e.code === 'ERR_ARGUMENT') {
      process.stderr.write(`vpio${cmd}: ${e.message}\n(see \`vpio${cmd} --help\`)\n`);
      process.exit(2);
    }
    process.stderr.write(`vpio${cmd}: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
