/**
 * The xen domain driver: real PV domains on a Xen dom0, through the xl
 * toolstack. The sibling of Vpiod's host driver (sandboxed processes):
 * the platform creates, lists and destroys domains through either and
 * learns their deaths from either ('domainReleased').
 *
 * Creation, in order (undone in reverse on failure; the error names the
 * step): write DIR/xen/<name>.cfg (name, type=pv, kernel, ramdisk, extra,
 * memory, vcpus, on_* = destroy; NO vif=: vpio's netback makes its own
 * devices) → `xl create -p` (built, introduced to Xen's xenstored, paused)
 * → `xl domid <name>` → the `beforeUnpause(domid)` hook (the platform has
 * netback create the vifs there: backend and frontend directories exist
 * before the guest runs a single instruction) → `xl unpause`.
 *
 * Death: Xen's xenstored fires @releaseDomain on any domain's shutdown or
 * destruction; on each event the driver asks xl which domids still exist
 * (`xl list`) and releases the ones of its table that are gone (a domain
 * that is shut down but not yet destroyed is destroyed first, so its
 * memory and grants go). `destroyDomain` is `xl destroy`, then the same.
 *
 * Threading: one JS thread; xl runs as child processes, one per call.
 */
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArgumentError, VpioError, expectInteger } from '@vpio/errors';
import type { XenstoreWatch } from '@vpio/xenstore';

export interface XenDomainSpec {
  /** 1..64 of [A-Za-z0-9_.-]; also the Xen domain name. */
  readonly name: string;
  /** The PV kernel (an ELF or bzImage dom0 can read). */
  readonly kernel: string;
  readonly ramdisk?: string;
  /** The guest kernel's command line (`extra`). */
  readonly cmdline?: string;
  /** MiB (default 128). */
  readonly memoryMiB?: number;
  /** Default 1. */
  readonly vcpus?: number;
}

export interface XenDomainExit {
  /** 'destroyed' by destroyDomain(), 'gone' when it shut down, crashed or was destroyed by someone else. */
  readonly reason: 'destroyed' | 'gone';
}

export interface XenDomainInfo {
  readonly domid: number;
  readonly name: string;
  readonly kernel: string;
  readonly memoryMiB: number;
  readonly vcpus: number;
  state: 'running' | 'dying' | 'released';
  exit?: XenDomainExit;
  readonly released: Promise<XenDomainExit>;
}

export interface XenDomainHooks {
  /** Runs after `xl create -p`, before `xl unpause`: the toolstack writes the guest's devices here. A throw undoes the domain. */
  beforeUnpause?(domid: number): Promise<void>;
}

/** What the driver needs from Xen's xenstored (a dom0 XenstoreClient fits). */
export interface XenDomainsXenstore {
  watch(path: string): Promise<XenstoreWatch>;
}

/** Runs the toolstack: `xl ARGS...` → stdout; rejects with the command's stderr. Injected by tests. */
export type XlRunner = (args: readonly string[]) => Promise<string>;

export interface XenDomainsOptions {
  /** The platform's directory: configs go to DIR/xen/. */
  readonly dir: string;
  readonly xenstore: XenDomainsXenstore;
  /** Most live domains (default 64). */
  readonly maxDomains?: number;
  /** The xl binary (default `xl` on PATH). */
  readonly xl?: string;
  readonly runXl?: XlRunner;
  readonly log?: (entry: { level: 'debug' | 'info' | 'warn'; event: string; domid?: number; message: string }) => void;
}

export interface XenDomainsEvents {
  domainCreated: [XenDomainInfo];
  domainReleased: [XenDomainInfo, XenDomainExit];
}

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** The config file xl reads for a spec (pure; exported for tests). No vif=: netback writes vpio's devices. */
export function xlConfig(spec: XenDomainSpec): string {
  const q = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return [
    `name = ${q(spec.name)}`,
    'type = "pv"',
    `kernel = ${q(spec.kernel)}`,
    ...(spec.ramdisk ? [`ramdisk = ${q(spec.ramdisk)}`] : []),
    ...(spec.cmdline ? [`extra = ${q(spec.cmdline)}`] : []),
    `memory = ${spec.memoryMiB ?? 128}`,
    `vcpus = ${spec.vcpus ?? 1}`,
    'on_poweroff = "destroy"',
    'on_reboot = "destroy"',
    'on_crash = "destroy"',
    '',
  ].join('\n');
}

/** The domids `xl list` prints (pure; exported for tests): the data rows' second column. */
export function parseXlList(out: string): Map<number, string> {
  const ids = new Map<number, string>();
  for (const line of out.split('\n').slice(1)) {
    const m = /^(\S+)\s+(\d+)\s/.exec(line);
    if (m) ids.set(Number(m[2]), m[1]!);
  }
  return ids;
}

function defaultRunner(xl: string): XlRunner {
  return (args) =>
    new Promise((resolve, reject) => {
      execFile(xl, [...args], { timeout: 300_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
        if (err) {
          const text = String(stderr).trim().split('\n').slice(-3).join(' / ') || err.message;
          reject(new VpioError('XEN_XL', `xl ${args.join(' ')}: ${text}`, { cause: err }));
        } else {
          resolve(String(stdout));
        }
      });
    });
}

export class XenDomains extends EventEmitter<XenDomainsEvents> {
  readonly #options: XenDomainsOptions;
  readonly #xl: XlRunner;
  readonly #domains = new Map<number, XenDomainInfo & { resolve: (e: XenDomainExit) => void }>();
  readonly #names = new Set<string>();
  #watch: XenstoreWatch | undefined;
  #state: 'new' | 'running' | 'closed' = 'new';
  #sweep: Promise<void> = Promise.resolve();

  constructor(options: XenDomainsOptions) {
    super();
    if (typeof options?.dir !== 'string' || !options.dir.startsWith('/')) throw new ArgumentError('dir', 'an absolute path', options?.dir);
    this.#options = options;
    this.#xl = options.runXl ?? defaultRunner(options.xl ?? 'xl');
  }

  get configDir(): string {
    return join(this.#options.dir, 'xen');
  }

  /** Checks xl answers and starts watching @releaseDomain. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new VpioError('VPIOD_STATE', `start() on a ${this.#state} xen domain driver`);
    await mkdir(this.configDir, { recursive: true, mode: 0o700 });
    await this.#xl(['list']);
    this.#watch = await this.#options.xenstore.watch('@releaseDomain');
    this.#state = 'running';
    void (async () => {
      try {
        for await (const _ of this.#watch!) this.#scheduleSweep();
      } catch {
        /* the watch closed */
      }
    })();
  }

  domain(domid: number): XenDomainInfo | undefined {
    return this.#domains.get(domid);
  }

  domains(): XenDomainInfo[] {
    return [...this.#domains.values()].filter((d) => d.state !== 'released');
  }

  async createDomain(spec: XenDomainSpec, hooks: XenDomainHooks = {}): Promise<XenDomainInfo> {
    if (this.#state !== 'running') throw new VpioError('VPIOD_STATE', `createDomain() on a ${this.#state} xen domain driver`);
    if (typeof spec?.name !== 'string' || !NAME_RE.test(spec.name)) throw new ArgumentError('name', '1..64 of [A-Za-z0-9_.-]', spec?.name);
    if (typeof spec.kernel !== 'string' || spec.kernel === '') throw new ArgumentError('kernel', 'the path of a PV kernel', spec.kernel);
    if (spec.ramdisk !== undefined && (typeof spec.ramdisk !== 'string' || spec.ramdisk === '')) throw new ArgumentError('ramdisk', 'a path', spec.ramdisk);
    if (spec.cmdline !== undefined && (typeof spec.cmdline !== 'string' || spec.cmdline.includes('\n'))) throw new ArgumentError('cmdline', 'one line', spec.cmdline);
    const memoryMiB = expectInteger('memoryMiB', spec.memoryMiB ?? 128, 16, 1 << 20);
    const vcpus = expectInteger('vcpus', spec.vcpus ?? 1, 1, 128);
    if (this.#names.has(spec.name)) throw new VpioError('DOMAIN_NAME_TAKEN', `a domain named "${spec.name}" exists`);
    const max = this.#options.maxDomains ?? 64;
    if (this.domains().length >= max) throw new VpioError('DOMAIN_LIMIT', `${max} domains are running (maxDomains)`);
    this.#names.add(spec.name);
    const cfg = join(this.configDir, `${spec.name}.cfg`);
    let step = 'config';
    let domid: number | undefined;
    try {
      await writeFile(cfg, xlConfig({ ...spec, memoryMiB, vcpus }), { mode: 0o600 });
      step = 'xl-create';
      await this.#xl(['create', '-p', cfg]);
      step = 'domid';
      domid = expectInteger('domid', Number((await this.#xl(['domid', spec.name])).trim()), 1, 32751);
      let resolve!: (e: XenDomainExit) => void;
      const released = new Promise<XenDomainExit>((r) => (resolve = r));
      const d = { domid, name: spec.name, kernel: spec.kernel, memoryMiB, vcpus, state: 'running' as const, released, resolve };
      this.#domains.set(domid, d);
      step = 'before-unpause';
      await hooks.beforeUnpause?.(domid);
      step = 'unpause';
      await this.#xl(['unpause', String(domid)]);
      this.#log('info', 'domain-created', `domain ${domid} "${spec.name}" runs ${spec.kernel}`, domid);
      this.emit('domainCreated', d);
      return d;
    } catch (e) {
      if (domid !== undefined) {
        await this.#xl(['destroy', String(domid)]).catch(() => undefined);
        this.#finish(domid, { reason: 'destroyed' });
      } else if (step !== 'config' && step !== 'xl-create') {
        await this.#xl(['destroy', spec.name]).catch(() => undefined);
      }
      this.#names.delete(spec.name);
      await rm(cfg, { force: true });
      const detail = e instanceof VpioError ? `${e.code}: ${e.message}` : (e as Error).message;
      throw new VpioError('DOMAIN_CREATE', `cannot create xen domain "${spec.name}" (step ${step}): ${detail}`, { cause: e });
    }
  }

  /** `xl destroy`, then the domain is released (its 'domainReleased' has fired when this resolves). */
  async destroyDomain(domid: number): Promise<XenDomainExit> {
    const d = this.#domains.get(domid);
    if (!d || d.state === 'released') throw new VpioError('DOMAIN_NOT_FOUND', `no domain ${domid}`);
    d.state = 'dying';
    await this.#xl(['destroy', String(domid)]).catch((e: Error) => this.#log('warn', 'destroy-failed', e.message, domid));
    this.#finish(domid, { reason: 'destroyed' });
    return d.released;
  }

  /** Destroys every domain of this driver and stops watching. Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const was = this.#state;
    this.#state = 'closed';
    if (was === 'running') for (const d of this.domains()) await this.destroyDomain(d.domid).catch(() => undefined);
    await this.#watch?.close().catch(() => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #scheduleSweep(): void {
    this.#sweep = this.#sweep.then(() => this.#sweepOnce()).catch((e: Error) => this.#log('warn', 'sweep-failed', e.message));
  }

  /** Which of our domains does xl no longer list? Those are released; one listed as shut down is destroyed first. */
  async #sweepOnce(): Promise<void> {
    if (this.#domains.size === 0) return;
    const out = await this.#xl(['list']);
    const live = parseXlList(out);
    for (const line of out.split('\n').slice(1)) {
      // State column: r b p s c d; s (shutdown) or c (crashed) without on_* destroy having finished
      const m = /^(\S+)\s+(\d+)\s+\d+\s+\d+\s+([-rbpscd]{6})/.exec(line);
      if (m && this.#domains.has(Number(m[2])) && /[sc]/.test(m[3]!)) {
        await this.#xl(['destroy', m[2]!]).catch(() => undefined);
        live.delete(Number(m[2]));
      }
    }
    for (const d of [...this.#domains.values()]) if (d.state !== 'released' && !live.has(d.domid)) this.#finish(d.domid, { reason: 'gone' });
  }

  #finish(domid: number, exit: XenDomainExit): void {
    const d = this.#domains.get(domid);
    if (!d || d.state === 'released') return;
    d.state = 'released';
    d.exit = exit;
    this.#domains.delete(domid);
    this.#names.delete(d.name);
    void rm(join(this.configDir, `${d.name}.cfg`), { force: true });
    this.#log('info', 'domain-released', `domain ${domid} "${d.name}" ${exit.reason}`, domid);
    d.resolve(exit);
    this.emit('domainReleased', d, exit);
  }

  #log(level: 'debug' | 'info' | 'warn', event: string, message: string, domid?: number): void {
    this.#options.log?.({ level, event, message, ...(domid === undefined ? {} : { domid }) });
  }
}
