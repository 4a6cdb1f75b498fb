/**
 * The dom0 platform `vpio up` runs: a Vpiod (xenstored + grant/evtchn
 * brokers + domain table), a Switch, and a Netback connected to both. The
 * CLI control server (control-server.ts) calls the methods below; this
 * module holds no socket of its own.
 *
 * Start order: vpiod → switch → netback; close() undoes it in reverse
 * (netback tears every vif down, then the switch, then vpiod destroys its
 * domains). A step that fails on start undoes the steps before it and the
 * error names the step.
 */
import { randomInt } from 'node:crypto';
import { basename } from 'node:path';
import { DEFAULT_BROKER_LIMITS, Vpiod, XenDom0, parseLaunchError, type Domain, type DomainWireOptions, type VpiodLogEntry, type XenDomainInfo } from '@vpio/domain';
import { ArgumentError, VpioError, expectInteger } from '@vpio/errors';
import { Netback, vifGrantBytes, type NetbackLogEntry, type VifInfo } from '@vpio/netback';
import { Switch, type Capture, type CaptureOptions, type PortStats } from '@vpio/switch';
import { XENBUS_STATES, xenbusStateName } from '@vpio/vif';
import { CliError } from './cli-error.js';
import { resolveCaptureTarget, type CaptureTarget } from './capture-target.js';
import { Consoles } from './console.js';
import type { ConsoleResult, DestroyResult, DomainRow, LsResult, PlatformInfo, PortRow, RunArgs, StatsResult, VifRow } from './protocol.js';
import { linuxNetfrontPath, planLinuxGuest } from './linux-guest.js';
import { miniosPaths } from './minios-paths.js';
import { defaultMac } from './vif-spec.js';
import { planMemif, planUplink, planVxlan, xdpWireNow, type MemifAddArgs, type PortPlan, type PortWireInfo, type UplinkAddArgs, type VxlanAddArgs } from './uplink-spec.js';
import { probeXdp } from './uplink-doctor.js';
import { uplinkBinaryPath, xdpObjectPath } from './uplink-path.js';

export interface PlatformOptions {
  /** vpiod's directory (0700): xenstored.sock, and the CLI's vpio.sock beside it. */
  readonly dir: string;
  /** Switch worker cores (-1: unpinned). */
  readonly cores: readonly number[];
  readonly mode?: 'event' | 'poll';
  readonly insecure?: boolean;
  /** Sampling interval of the per-port rates (default 1000 ms). */
  readonly statsIntervalMs?: number;
  /** Most live domains (vpiod's maxDomains, default 64; sizes its fd limit). */
  readonly maxDomains?: number;
  /** Most grants a domain may have vpiod hold (vpiod's maxGrantsPerDomain, default 64; sizes its fd limit). */
  readonly maxGrantsPerDomain?: number;
  /**
   * host (default): vpiod's own xenstored, brokers and sandboxed processes;
   * xen: Xen's xenstored, grant tables and event channels and PV domains
   * through xl (@vpio/domain XenDom0). Resolved by the CLI (--mode auto).
   */
  readonly platformMode?: 'host' | 'xen';
  /** xen: the xl binary (default `xl`). */
  readonly xl?: string;
  /**
   * The third byte of default vif MACs (02:76:HH:<domid>:<vif>), 0..255.
   * Default: random per platform, so the default MACs of two platforms
   * joined by an uplink or a VXLAN tunnel collide only 1 time in 256; give
   * each joined platform its own to rule it out.
   */
  readonly macByte?: number;
  readonly log?: (entry: PlatformLogEntry) => void;
}

export interface PlatformLogEntry {
  readonly level: 'debug' | 'info' | 'warn';
  readonly source: 'vpiod' | 'netback' | 'platform';
  readonly event: string;
  readonly message?: string;
  readonly [key: string]: unknown;
}

const DEFAULT_SLOTS = 256;
const DEFAULT_BUF_BYTES = 2048;
const PAGE_BYTES = 4096;
const DEFAULT_MEMORY_MIB = 256;
const DEFAULT_XEN_MEMORY_MIB = 128;
/** A minios PV guest's memory unless --memory says otherwise (its image, heap and thread stacks; grants map into address space, not memory). */
const MINIOS_XEN_MEMORY_MIB = 32;
/** Where a minios PV guest finds its configuration and stats interval, relative to its xenstore directory. */
const MINIOS_CONFIG_KEY = 'vpio/config';
const MINIOS_STATS_KEY = 'vpio/stats-interval';
/** xen: the vifs gntalloc's limit is sized for per domain (default-geometry vifs). */
const XEN_VIFS_PER_DOMAIN = 2;
const CONNECTED = XENBUS_STATES.Connected;
/** How long `vpio uplink add` / `vpio vxlan add` wait for the port's vif to connect before answering anyway (ms). */
const PORT_CONNECT_WAIT_MS = 10_000;

interface Totals {
  inPackets: number;
  inBytes: number;
  outPackets: number;
  outBytes: number;
  drops: Record<string, number>;
}

interface Sample {
  readonly atMs: number;
  readonly ports: ReadonlyMap<number, PortStats>;
}

function stateName(n: number): string {
  return xenbusStateName(n) ?? `state ${n}`;
}

/**
 * Pages a domain maps for these vifs (every queue's two rings and pool, as
 * netback grants them): vpiod's `mappedPages` limit must hold them. A
 * Linux guest's 1024-slot vif takes ~1066 pages a queue, so 4 queues pass
 * the default 4096.
 */
export function vifMappedPages(vifs: ReadonlyArray<{ txSlots: number; rxSlots: number; bufSizeBytes: number; queues: number }>): number {
  return vifs.reduce((sum, v) => sum + Math.ceil(vifGrantBytes(v, v.queues) / PAGE_BYTES), 0);
}

/** xen mode: the pages gntalloc's limit and dom0's grant table are sized for per domain (two default vifs). */
export function xenPagesPerDomain(): number {
  return XEN_VIFS_PER_DOMAIN * vifMappedPages([{ txSlots: DEFAULT_SLOTS, rxSlots: DEFAULT_SLOTS, bufSizeBytes: DEFAULT_BUF_BYTES, queues: 1 }]);
}

export class Platform implements AsyncDisposable {
  readonly #options: PlatformOptions;
  readonly #macByte: number;
  readonly #log: (entry: PlatformLogEntry) => void;
  #vpiod: Vpiod | undefined;
  /** xen mode's parts (no vpiod then). */
  #xen: XenDom0 | undefined;
  readonly #xenKernel = new Map<number, string>();
  #switch: Switch | undefined;
  #netback: Netback | undefined;
  /** Per vif `${domid}/${devid}`: the frontend state netback last observed, the last error text. */
  readonly #frontend = new Map<string, number>();
  readonly #errors = new Map<string, string>();
  readonly #argv = new Map<number, readonly string[]>();
  /** Uplink and VXLAN ports' domains: their kind and wire (`vpio ls`). */
  readonly #wires = new Map<number, PortWireInfo>();
  /** Attach timing (performance.now(), ms): per domid when run() accepted it; per vif the first time both ends were Connected, minus that. */
  readonly #acceptedAt = new Map<number, number>();
  readonly #attachMs = new Map<string, number>();
  readonly #consoles = new Consoles();
  #samples: Sample[] = [];
  #sampler: NodeJS.Timeout | undefined;
  #state: 'new' | 'starting' | 'running' | 'closing' | 'closed' = 'new';
  #closed: Promise<void> | undefined;
  #nameSeq = 0;

  constructor(options: PlatformOptions) {
    if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object', options);
    if (typeof options.dir !== 'string' || !options.dir.startsWith('/')) throw new ArgumentError('dir', 'an absolute path', options.dir);
    if (!Array.isArray(options.cores)) throw new ArgumentError('cores', 'an array of core numbers', options.cores);
    if (options.macByte !== undefined && (!Number.isInteger(options.macByte) || options.macByte < 0 || options.macByte > 255)) throw new ArgumentError('macByte', 'an integer 0..255', options.macByte);
    this.#macByte = options.macByte ?? randomInt(256);
    this.#options = options;
    this.#log = options.log ?? (() => undefined);
  }

  /** Starts vpiod, the switch and netback. Throws VpioError PLATFORM_START naming the step (cause: the step's error). */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new VpioError('PLATFORM_STATE', `start() on a ${this.#state} platform`);
    this.#state = 'starting';
    if (this.#options.platformMode === 'xen') {
      await this.#startXen();
      return;
    }
    let step = 'vpiod';
    try {
      this.#vpiod = new Vpiod({
        dir: this.#options.dir,
        insecure: this.#options.insecure ?? false,
        ...(this.#options.maxDomains === undefined ? {} : { maxDomains: this.#options.maxDomains }),
        ...(this.#options.maxGrantsPerDomain === undefined ? {} : { maxGrantsPerDomain: this.#options.maxGrantsPerDomain }),
        log: (e: VpiodLogEntry) => this.#log({ ...e, source: 'vpiod' }),
      });
      await this.#vpiod.start();
      step = 'switch';
      this.#switch = new Switch({ cores: this.#options.cores, mode: this.#options.mode ?? 'event' });
      step = 'netback';
      this.#netback = await Netback.connect({
        xenstorePath: this.#vpiod.xenstorePath,
        grants: this.#vpiod.grants,
        channels: this.#vpiod.evtchn,
        switch: this.#switch,
        log: (e: NetbackLogEntry) => this.#log({ ...e, source: 'netback' }),
      });
    } catch (e) {
      await this.#teardown();
      this.#state = 'closed';
      const detail = e instanceof VpioError ? `${e.code}: ${e.message}` : (e as Error).message;
      throw new VpioError('PLATFORM_START', `the platform did not start (step ${step}): ${detail}`, { cause: e });
    }
    const netback = this.#netback;
    this.#watchNetback();
    this.#vpiod.on('domainReleased', (d, exit) => {
      this.#argv.delete(d.domid);
      this.#wires.delete(d.domid);
      this.#acceptedAt.delete(d.domid);
      this.#consoles.ended(d.domid, exit);
      void netback.releaseDomain(d.domid).catch(() => undefined);
    });
    const interval = this.#options.statsIntervalMs ?? 1000;
    this.#sample();
    this.#sampler = setInterval(() => this.#sample(), interval);
    this.#sampler.unref();
    this.#state = 'running';
  }

  /** xen mode: XenDom0 (Xen's xenstored, xen grants and channels, xl domains), the switch, netback on that xenstore connection. */
  async #startXen(): Promise<void> {
    let step = 'xen';
    try {
      const pagesPerDomain = xenPagesPerDomain();
      this.#xen = new XenDom0({
        dir: this.#options.dir,
        pagesPerDomain,
        ...(this.#options.maxDomains === undefined ? {} : { maxDomains: this.#options.maxDomains }),
        ...(this.#options.xl === undefined ? {} : { xl: this.#options.xl }),
        log: (e) => this.#log({ ...e, source: 'vpiod' }),
      });
      await this.#xen.start();
      step = 'switch';
      this.#switch = new Switch({ cores: this.#options.cores, mode: this.#options.mode ?? 'event' });
      step = 'netback';
      this.#netback = await Netback.start(
        { xenstore: this.#xen.xenstore, grants: this.#xen.grants, channels: this.#xen.evtchn, switch: this.#switch },
        { log: (e: NetbackLogEntry) => this.#log({ ...e, source: 'netback' }) },
      );
    } catch (e) {
      await this.#teardown();
      this.#state = 'closed';
      const detail = e instanceof VpioError ? `${e.code}: ${e.message}` : (e as Error).message;
      throw new VpioError('PLATFORM_START', `the platform did not start in xen mode (step ${step}): ${detail}`, { cause: e });
    }
    this.#watchNetback();
    const netback = this.#netback;
    this.#xen.domains.on('domainReleased', (d) => {
      this.#acceptedAt.delete(d.domid);
      this.#xenKernel.delete(d.domid);
      void netback.releaseDomain(d.domid).catch(() => undefined);
    });
    this.#startSampler();
  }

  #watchNetback(): void {
    const netback = this.#netback!;
    const key = (v: VifInfo): string => `${v.domid}/${v.devid}`;
    netback.on('vifState', (v, side, state) => {
      const k = key(v);
      if (side === 'frontend') this.#frontend.set(k, state);
      const accepted = this.#acceptedAt.get(v.domid);
      if (accepted !== undefined && !this.#attachMs.has(k) && v.backendState === CONNECTED && this.#frontend.get(k) === CONNECTED) {
        this.#attachMs.set(k, performance.now() - accepted);
      }
    });
    netback.on('vifError', (v, text) => this.#errors.set(key(v), text));
    netback.on('vifConnected', (v) => this.#errors.delete(key(v)));
    netback.on('vifDestroyed', (v) => {
      this.#frontend.delete(key(v));
      this.#errors.delete(key(v));
      this.#attachMs.delete(key(v));
    });
  }

  #startSampler(): void {
    const interval = this.#options.statsIntervalMs ?? 1000;
    this.#sample();
    this.#sampler = setInterval(() => this.#sample(), interval);
    this.#sampler.unref();
    this.#state = 'running';
  }

  get platformMode(): 'host' | 'xen' {
    return this.#xen ? 'xen' : 'host';
  }

  info(): PlatformInfo {
    if (this.#xen) {
      this.#runningXen('info');
      return {
        pid: process.pid,
        dir: this.#options.dir,
        xenstorePath: this.#xen.xenstorePath,
        cores: [...this.#options.cores],
        mode: this.#options.mode ?? 'event',
        platformMode: 'xen',
        skippedSteps: [],
        macByte: this.#macByte,
        recovered: undefined,
      };
    }
    const vpiod = this.#running('info');
    return {
      platformMode: 'host',
      pid: process.pid,
      dir: this.#options.dir,
      xenstorePath: vpiod.xenstorePath,
      cores: [...this.#options.cores],
      mode: this.#options.mode ?? 'event',
      skippedSteps: [...vpiod.skippedSteps],
      macByte: this.#macByte,
      recovered: vpiod.recovered && { pid: vpiod.recovered.pid, cgroups: [...vpiod.recovered.cgroups], processesKilled: vpiod.recovered.processesKilled, failed: [...vpiod.recovered.failed] },
    };
  }

  /**
   * Creates a domain whose vifs netback creates after the domain is introduced
   * and before its guest starts (the frontend finds backend InitWait at once).
   */
  async run(args: RunArgs): Promise<DomainRow> {
    return this.#run(args, undefined, undefined);
  }

  /**
   * `vpio uplink add`: a vpio-uplink domain on an AF_XDP or AF_PACKET socket
   * bound to the interface (host mode). --mode auto and xdp first ask
   * vpio-xdp-probe here, in vpiod's network namespace with the platform's
   * privileges (those of vpio-launch's monitor).
   */
  async addUplink(a: UplinkAddArgs): Promise<DomainRow> {
    this.#hostOnly('uplink add');
    const taken = [...this.#wires.entries()].find(([, w]) => w.kind === 'uplink' && w.ifname === a.ifname);
    if (taken) throw new CliError('CLI_UPLINK', `interface ${a.ifname} already has an uplink ("${this.#domainName(taken[0]) ?? taken[0]}"); \`vpio uplink rm ${a.ifname}\` first`);
    const xdp = (a.mode ?? 'auto') === 'packet' ? undefined : { probe: await probeXdp(a.ifname), obj: xdpObjectPath };
    return this.#startPort(planUplink(a, uplinkBinaryPath, xdp));
  }

  /** `vpio vxlan add`: a vpio-uplink domain on a UDP socket bound to the local address (host mode). */
  async addVxlan(a: VxlanAddArgs): Promise<DomainRow> {
    this.#hostOnly('vxlan add');
    return this.#startPort(planVxlan(a, uplinkBinaryPath));
  }

  /** `vpio memif add`: a vpio-uplink domain serving memif on a socket vpio-launch listens on (host mode). */
  async addMemif(a: MemifAddArgs): Promise<DomainRow> {
    this.#hostOnly('memif add');
    const taken = [...this.#wires.entries()].find(([, w]) => w.kind === 'memif' && (w.name === a.name || w.socket === a.socket));
    if (taken && taken[1].kind === 'memif') {
      const why = taken[1].name === a.name ? `a memif port named "${a.name}" exists` : `memif port "${taken[1].name}" listens on ${a.socket}`;
      throw new CliError('CLI_UPLINK', `cannot add memif ${a.socket}: ${why}; \`vpio memif rm ${taken[1].name}\` first`);
    }
    return this.#startPort(planMemif(a, uplinkBinaryPath));
  }

  /** `vpio uplink rm IFNAME` / `vpio vxlan rm NAME` / `vpio memif rm NAME`: destroys that port's domain. */
  async removePort(kind: 'uplink' | 'vxlan' | 'memif', key: string): Promise<DestroyResult> {
    this.#hostOnly(`${kind} rm`);
    if (typeof key !== 'string' || key === '') throw new ArgumentError(kind === 'uplink' ? 'IFNAME' : 'NAME', kind === 'uplink' ? 'an interface name' : `a ${kind === 'vxlan' ? 'VXLAN' : 'memif'} port name`, key);
    const ports = [...this.#wires.entries()].filter(([, w]) => w.kind === kind);
    const hit = ports.find(([, w]) => (w.kind === 'uplink' ? w.ifname : w.name) === key);
    if (!hit) {
      const known = ports.map(([, w]) => (w.kind === 'uplink' ? w.ifname : w.name));
      throw new CliError('CLI_NO_SUCH_DOMAIN', `no ${kind} ${kind === 'uplink' ? 'on' : 'named'} "${key}"${known.length ? ` (${kind}s: ${known.join(', ')})` : ` (none is running)`}; see \`vpio ls\``);
    }
    return this.destroy(String(hit[0]));
  }

  #hostOnly(op: string): void {
    if (this.#xen) throw new CliError('CLI_UPLINK', `${op}: uplink, VXLAN and memif ports run as host-mode tenants; this platform runs in xen mode`);
    this.#running(op);
  }

  /**
   * Runs a port's domain, then waits (up to PORT_CONNECT_WAIT_MS) for its vif to
   * connect: a launcher that failed at step `wire` (no interface, interface down,
   * address in use) or a vpio-uplink that exited is reported here, in its own words.
   */
  async #startPort(plan: PortPlan): Promise<DomainRow> {
    const vpiod = this.#running('port');
    const what = plan.info.text;
    if (vpiod.domains().some((d) => d.name === plan.domainName)) {
      throw new CliError('CLI_UPLINK', `cannot add ${what}: a domain named "${plan.domainName}" is already running (see \`vpio ls\`)`);
    }
    let row: DomainRow;
    try {
      row = await this.#run({ name: plan.domainName, argv: plan.args, vifs: [plan.vif], ...(plan.env ? { env: plan.env } : {}) }, plan.wire, plan.info);
    } catch (e) {
      throw new CliError('CLI_UPLINK', `cannot add ${what}: ${(e as Error).message}`, { cause: e });
    }
    const domain = vpiod.domain(row.domid);
    const deadline = performance.now() + PORT_CONNECT_WAIT_MS;
    for (;;) {
      if (!domain || domain.exit) {
        const stderr = domain?.stderr ?? this.#consoles.find(plan.domainName)?.stderr() ?? '';
        const line = parseLaunchError(stderr)?.message ?? stderr.trim().split('\n').at(-1) ?? '';
        const exit = domain?.exit ? `exited (code ${domain.exit.code}, signal ${domain.exit.signal})` : 'ended';
        throw new CliError('CLI_UPLINK', `cannot add ${what}: ${line || `vpio-uplink ${exit}`}`);
      }
      const vif = this.#netback!.vifs(row.domid)[0];
      if (vif && vif.backendState === CONNECTED && this.#frontend.get(`${vif.domid}/${vif.devid}`) === CONNECTED) return this.#row(domain);
      if (performance.now() > deadline) return this.#row(domain); // still connecting: `vpio ls` shows how far
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async #run(args: RunArgs, wire: DomainWireOptions | undefined, wireInfo: PortWireInfo | undefined): Promise<DomainRow> {
    if (args.minios !== undefined) args = this.#miniosGuest(args);
    if (this.#xen) return this.#runXen(args);
    if (args.xen !== undefined) throw new CliError('CLI_RUN', 'a PV kernel (--kernel) needs a platform in xen mode (vpio up --mode xen on a Xen dom0); this one runs in host mode');
    const acceptedAt = performance.now();
    const vpiod = this.#running('run');
    const netback = this.#netback!;
    if (!Array.isArray(args.argv) || args.argv.length === 0 || args.argv.some((a) => typeof a !== 'string')) {
      throw new ArgumentError('argv', 'the guest binary and its arguments', args.argv);
    }
    if (!Array.isArray(args.vifs)) throw new ArgumentError('vifs', 'an array of vif specs', args.vifs);
    const name = args.name ?? `${basename(args.argv[0] ?? 'guest').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 48)}-${++this.#nameSeq}`;
    const memoryMiB = args.memoryMiB === undefined ? DEFAULT_MEMORY_MIB : expectInteger('memoryMiB', args.memoryMiB, 16, 1 << 20);
    // a Linux guest: vpio-linux-netfront runs argv, bridging a TAP to vif 0
    const linux = args.linux === undefined ? undefined : planLinuxGuest(args.linux, args.argv, args.vifs, this.#options.mode ?? 'event', linuxNetfrontPath);
    args = linux ? { ...args, argv: linux.argv, vifs: linux.vifs } : args;
    const geometry = args.vifs.map((spec) => {
      const mtu = spec.mtu ?? 1500;
      return { txSlots: spec.txSlots ?? DEFAULT_SLOTS, rxSlots: spec.rxSlots ?? DEFAULT_SLOTS, bufSizeBytes: spec.bufSizeBytes ?? Math.max(DEFAULT_BUF_BYTES, mtu + 14), queues: spec.queues ?? 1 };
    });
    // the guest maps every queue's rings and pool: past vpiod's default budget, this domain gets what its vifs need
    const mapped = vifMappedPages(geometry);
    const limits = mapped > DEFAULT_BROKER_LIMITS.mappedPages ? { limits: { mappedPages: mapped } } : {};
    let madeVifs = 0;
    let domain: Domain;
    try {
      domain = await vpiod.createDomain(
        { name, argv: args.argv, memoryMiB, env: args.env, stdout: 'pipe', ...limits, ...(linux ? { tap: linux.tap } : {}), ...(wire ? { wire } : {}) },
        {
          beforeSpawn: async (domid) => {
            this.#acceptedAt.set(domid, acceptedAt);
            try {
              for (const [i, spec] of args.vifs.entries()) {
                const g = geometry[i]!;
                await netback.createVif(domid, {
                  mac: spec.mac ?? defaultMac(domid, i, this.#macByte),
                  vlan: spec.vlan,
                  mtu: spec.mtu ?? 1500,
                  txSlots: g.txSlots,
                  rxSlots: g.rxSlots,
                  bufSizeBytes: g.bufSizeBytes,
                  queues: g.queues,
                  ...(spec.policy === undefined ? {} : { policy: spec.policy }),
                });
                madeVifs++;
              }
              return linux ? { tapMac: args.vifs[0]?.mac ?? defaultMac(domid, 0, this.#macByte) } : undefined;
            } catch (e) {
              await netback.releaseDomain(domid).catch(() => undefined);
              throw new CliError('CLI_RUN', `vif ${madeVifs} (--vif #${madeVifs + 1}): ${(e as Error).message}`, { cause: e });
            }
          },
        },
      );
    } catch (e) {
      if (e instanceof VpioError && e.code === 'ERR_ARGUMENT') throw e;
      if (e instanceof VpioError && e.code === 'DOMAIN_NAME_TAKEN') throw e;
      const inner = e instanceof VpioError && e.cause instanceof CliError ? e.cause : undefined;
      throw new CliError('CLI_RUN', `cannot run "${name}": ${inner ? inner.message : (e as Error).message}`, { cause: e });
    }
    this.#argv.set(domain.domid, [...args.argv]);
    if (wireInfo && !domain.exit) this.#wires.set(domain.domid, wireInfo);
    this.#consoles.attach(domain.domid, domain.name, domain.stdout, () => domain.stderr);
    if (domain.exit) this.#consoles.ended(domain.domid, domain.exit); // died before we looked
    return this.#row(domain);
  }

  /**
   * A minios guest, the same request in both modes: host mode runs the
   * minios binary with the configuration (-e); xen mode boots the minios PV
   * image (unless --kernel names another) with MINIOS_XEN_MEMORY_MIB unless
   * --memory says otherwise, and #runXen writes the configuration into the
   * domain's xenstore directory before unpausing it.
   */
  #miniosGuest(args: RunArgs): RunArgs {
    const m = args.minios!;
    if (args.argv.length > 0 || args.linux !== undefined) throw new CliError('CLI_RUN', 'a minios guest (--minios) runs its configuration: no <binary>, no --linux');
    if (!this.#xen) {
      if (args.xen !== undefined) throw new CliError('CLI_RUN', 'a PV kernel (--kernel) needs a platform in xen mode (vpio up --mode xen on a Xen dom0); this one runs in host mode');
      const stats = m.statsIntervalMs === undefined ? [] : ['--stats-interval', String(m.statsIntervalMs)];
      return { ...args, argv: [miniosPaths('binary').binary, '-e', m.config, ...stats] };
    }
    return { ...args, xen: { ...args.xen, kernel: args.xen?.kernel ?? miniosPaths('pvImage').pvImage }, memoryMiB: args.memoryMiB ?? MINIOS_XEN_MEMORY_MIB };
  }

  /** xen mode: a PV domain (xl create -p), its vifs made by netback before it is unpaused. */
  async #runXen(args: RunArgs): Promise<DomainRow> {
    const acceptedAt = performance.now();
    const xen = this.#runningXen('run');
    const netback = this.#netback!;
    if (args.xen === undefined || args.argv.length > 0 || args.linux !== undefined || (args.env !== undefined && Object.keys(args.env).length > 0)) {
      throw new CliError('CLI_RUN', 'this platform runs in xen mode: a guest is a PV kernel (vpio run --kernel PATH [--ramdisk PATH] [--cmdline "..."]); <binary>, --linux and --env are host mode\'s');
    }
    if (!Array.isArray(args.vifs)) throw new ArgumentError('vifs', 'an array of vif specs', args.vifs);
    const name = args.name ?? `${basename(args.xen.kernel).replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 48)}-${++this.#nameSeq}`;
    const memoryMiB = args.memoryMiB === undefined ? DEFAULT_XEN_MEMORY_MIB : expectInteger('memoryMiB', args.memoryMiB, 16, 1 << 20);
    let made = 0;
    let d: XenDomainInfo;
    try {
      d = await xen.domains.createDomain(
        { name, kernel: args.xen.kernel, memoryMiB, ...(args.xen.ramdisk ? { ramdisk: args.xen.ramdisk } : {}), ...(args.xen.cmdline ? { cmdline: args.xen.cmdline } : {}), ...(args.xen.vcpus ? { vcpus: args.xen.vcpus } : {}) },
        {
          beforeUnpause: async (domid) => {
            this.#acceptedAt.set(domid, acceptedAt);
            if (args.minios !== undefined) {
              // the guest reads these from its own directory (readable by it: xl makes
              // /local/domain/<domid> "n0 r<domid>" and new nodes inherit that)
              const dir = await xen.xenstore.getDomainPath(domid);
              await xen.xenstore.write(`${dir}/${MINIOS_CONFIG_KEY}`, Buffer.from(args.minios.config, 'utf8'));
              if (args.minios.statsIntervalMs !== undefined) await xen.xenstore.write(`${dir}/${MINIOS_STATS_KEY}`, String(args.minios.statsIntervalMs));
            }
            try {
              for (const [i, spec] of args.vifs.entries()) {
                const mtu = spec.mtu ?? 1500;
                await netback.createVif(domid, {
                  mac: spec.mac ?? defaultMac(domid, i, this.#macByte),
                  vlan: spec.vlan,
                  mtu,
                  txSlots: spec.txSlots ?? DEFAULT_SLOTS,
                  rxSlots: spec.rxSlots ?? DEFAULT_SLOTS,
                  bufSizeBytes: spec.bufSizeBytes ?? Math.max(DEFAULT_BUF_BYTES, mtu + 14),
                  queues: spec.queues ?? 1,
                  ...(spec.policy === undefined ? {} : { policy: spec.policy }),
                });
                made++;
              }
            } catch (e) {
              await netback.releaseDomain(domid).catch(() => undefined);
              throw new CliError('CLI_RUN', `vif ${made} (--vif #${made + 1}): ${(e as Error).message}`, { cause: e });
            }
          },
        },
      );
    } catch (e) {
      if (e instanceof VpioError && (e.code === 'ERR_ARGUMENT' || e.code === 'DOMAIN_NAME_TAKEN')) throw e;
      throw new CliError('CLI_RUN', `cannot run "${name}": ${(e as Error).message}`, { cause: e });
    }
    this.#xenKernel.set(d.domid, args.xen.kernel);
    return this.#xenRow(d);
  }

  #xenRow(d: XenDomainInfo): DomainRow {
    return { ...this.#row({ domid: d.domid, name: d.name, pid: 0, state: d.state } as unknown as Domain), kernel: this.#xenKernel.get(d.domid) ?? d.kernel };
  }

  #domainName(domid: number): string | undefined {
    return this.#xen ? this.#xen.domains.domain(domid)?.name : this.#vpiod?.domain(domid)?.name;
  }

  ls(): LsResult {
    if (this.#xen) {
      const xen = this.#runningXen('ls');
      return { platformMode: 'xen', domains: xen.domains.domains().map((d) => this.#xenRow(d)).sort((a, b) => a.domid - b.domid) };
    }
    const vpiod = this.#running('ls');
    return { domains: vpiod.domains().map((d) => this.#row(d)).sort((a, b) => a.domid - b.domid) };
  }

  /** Per-port counters now and rates over the last sampling interval. */
  stats(): StatsResult {
    if (!this.#xen) this.#running('stats');
    else this.#runningXen('stats');
    this.#sample();
    const cur = this.#samples.at(-1)!;
    const prev = this.#samples.length > 1 ? this.#samples[0]! : undefined;
    const dt = prev ? (cur.atMs - prev.atMs) / 1000 : 0;
    // a vif is one row: its queue ports (first port -> all of them) summed
    const byPort = new Map<number, VifInfo & { name: string | undefined }>();
    const queuePorts = new Map<number, readonly number[]>();
    const member = new Set<number>();
    for (const v of this.#netback!.vifs()) {
      if (v.port === undefined) continue;
      byPort.set(v.port, { ...v, name: this.#domainName(v.domid) });
      if (v.ports.length > 1) {
        queuePorts.set(v.port, v.ports);
        for (const id of v.ports.slice(1)) member.add(id);
      }
    }
    const rate = (a: number, b: number | undefined, scale = 1): number => (dt > 0 && b !== undefined ? Math.max(0, ((a - b) * scale) / dt) : 0);
    const sum = (stats: ReadonlyMap<number, PortStats> | undefined, ids: readonly number[]): Totals | undefined => {
      const got = ids.map((id) => stats?.get(id));
      if (got.some((x) => x === undefined)) return undefined;
      const t: Totals = { inPackets: 0, inBytes: 0, outPackets: 0, outBytes: 0, drops: {} };
      for (const x of got as PortStats[]) {
        t.inPackets += x.inPackets;
        t.inBytes += x.inBytes;
        t.outPackets += x.outPackets;
        t.outBytes += x.outBytes;
        for (const [k, n] of Object.entries(x.drops)) t.drops[k] = (t.drops[k] ?? 0) + n;
      }
      return t;
    };
    const ports: PortRow[] = [...cur.ports.values()].filter((p) => !member.has(p.id)).map((p) => {
      const ids = queuePorts.get(p.id) ?? [p.id];
      const now = sum(cur.ports, ids)!;
      const before = sum(prev?.ports, ids);
      const vif = byPort.get(p.id);
      const total = (t: Totals): number => Object.values(t.drops).reduce((a, b) => a + b, 0);
      return {
        port: p.id,
        ...(ids.length > 1 ? { queuePorts: [...ids] } : {}),
        domid: vif?.domid,
        devid: vif?.devid,
        name: vif?.name,
        inPackets: now.inPackets,
        inBytes: now.inBytes,
        outPackets: now.outPackets,
        outBytes: now.outBytes,
        drops: now.drops,
        dropsTotal: total(now),
        rates: {
          inPps: rate(now.inPackets, before?.inPackets),
          outPps: rate(now.outPackets, before?.outPackets),
          inBitsPerSec: rate(now.inBytes, before?.inBytes, 8),
          outBitsPerSec: rate(now.outBytes, before?.outBytes, 8),
          dropsPerSec: rate(total(now), before ? total(before) : undefined),
        },
      };
    });
    return { atMs: cur.atMs, intervalMs: Math.round(dt * 1000), ports };
  }

  /** A domain's console (stdout) after absolute byte offset `since`; ended domains' stay readable for a while. */
  console(name: string, since = 0): ConsoleResult {
    if (this.#xen) throw new CliError('CLI_NO_SUCH_DOMAIN', `xen mode keeps no console: a PV domain's console is xenconsoled's (xl console ${name}, or /var/log/xen/console/guest-${name}.log)`);
    this.#running('console');
    if (typeof name !== 'string' || name === '') throw new ArgumentError('name', 'a domain name or domid', name);
    const since0 = expectInteger('since', since, 0, Number.MAX_SAFE_INTEGER);
    const e = this.#consoles.find(name);
    if (!e) {
      const known = this.#consoles.names();
      throw new CliError('CLI_NO_SUCH_DOMAIN', `no domain "${name}" has a console${known.length ? ` (known: ${known.join(', ')})` : ''}; see \`vpio ls\``);
    }
    return this.#consoles.read(e, since0);
  }

  /**
   * Starts a switch capture on `target`: a port id or NAME[/DEVID] of a
   * vif (capture-target.ts). The caller reads and stops it; removing the
   * vif or closing the platform unhooks it. Errors: ERR_ARGUMENT,
   * CLI_CAPTURE (nothing there, or already captured).
   */
  startCapture(target: string, options: CaptureOptions): CaptureTarget & { readonly capture: Capture } {
    if (this.#xen) this.#runningXen('capture');
    else this.#running('capture');
    const sw = this.#switch!;
    const vifs = this.#netback!.vifs().map((v) => ({ domid: v.domid, devid: v.devid, port: v.port, name: this.#domainName(v.domid) }));
    const t = resolveCaptureTarget(target, sw.stats().ports.map((p) => p.id), vifs);
    try {
      return { ...t, capture: sw.startCapture(t.port, options) };
    } catch (e) {
      if (e instanceof VpioError && (e as VpioError & { errnoName?: string }).errnoName === 'EBUSY') {
        throw new VpioError('CLI_CAPTURE', `${t.label} (port ${t.port}) is already being captured (one capture per port)`, { cause: e });
      }
      throw e;
    }
  }

  /** Destroys the live domain named `name` (or with domid `name` when it is all digits). */
  async destroy(name: string, graceMs = 2000): Promise<DestroyResult> {
    if (this.#xen) {
      const xen = this.#runningXen('destroy');
      if (typeof name !== 'string' || name === '') throw new ArgumentError('name', 'a domain name or domid', name);
      const d = xen.domains.domains().find((x) => x.name === name) ?? (/^[0-9]+$/.test(name) ? xen.domains.domain(Number(name)) : undefined);
      if (!d) {
        const live = xen.domains.domains().map((x) => x.name);
        throw new CliError('CLI_NO_SUCH_DOMAIN', `no live domain "${name}"${live.length ? ` (live: ${live.join(', ')})` : ' (none is running)'}; see \`vpio ls\``);
      }
      await xen.domains.destroyDomain(d.domid);
      await this.#netback!.releaseDomain(d.domid);
      return { domid: d.domid, name: d.name, exit: { code: null, signal: null, reason: 'destroyed' } };
    }
    const vpiod = this.#running('destroy');
    if (typeof name !== 'string' || name === '') throw new ArgumentError('name', 'a domain name or domid', name);
    const d = vpiod.domains().find((x) => x.name === name) ?? (/^[0-9]+$/.test(name) ? vpiod.domain(Number(name)) : undefined);
    if (!d) {
      const live = vpiod.domains().map((x) => x.name);
      throw new CliError('CLI_NO_SUCH_DOMAIN', `no live domain "${name}"${live.length ? ` (live: ${live.join(', ')})` : ' (none is running)'}; see \`vpio ls\``);
    }
    const exit = await vpiod.destroyDomain(d.domid, { graceMs });
    await this.#netback!.releaseDomain(d.domid);
    return { domid: d.domid, name: d.name, exit: { code: exit.code, signal: exit.signal, reason: exit.reason } };
  }

  /** Netback (every vif), then the switch, then vpiod (every domain). Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#state = 'closing';
      await this.#teardown();
      this.#state = 'closed';
    })();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #teardown(): Promise<void> {
    if (this.#sampler) clearInterval(this.#sampler);
    const steps: Array<[string, () => Promise<void>]> = [
      ['netback', async () => this.#netback?.close()],
      ['switch', async () => this.#switch?.close()],
      ['vpiod', async () => this.#vpiod?.close()],
      ['xen', async () => this.#xen?.close()],
    ];
    for (const [step, f] of steps) {
      try {
        await f();
      } catch (e) {
        this.#log({ level: 'warn', source: 'platform', event: 'close-failed', step, message: (e as Error).message });
      }
    }
  }

  #runningXen(op: string): XenDom0 {
    if (this.#state !== 'running' || !this.#xen) throw new VpioError('PLATFORM_STATE', `${op}() on a ${this.#state} platform`);
    return this.#xen;
  }

  #running(op: string): Vpiod {
    if (this.#state !== 'running' || !this.#vpiod) throw new VpioError('PLATFORM_STATE', `${op}() on a ${this.#state} platform`);
    return this.#vpiod;
  }

  #sample(): void {
    if (!this.#switch || this.#state === 'closed') return;
    const ports = new Map(this.#switch.stats().ports.map((p) => [p.id, p] as const));
    const now = Date.now();
    // keep the newest and the one before it, at least ~half an interval apart
    const last = this.#samples.at(-1);
    const minGap = (this.#options.statsIntervalMs ?? 1000) / 2;
    if (last && now - last.atMs < minGap && this.#samples.length > 1) this.#samples[this.#samples.length - 1] = { atMs: now, ports };
    else this.#samples = [...this.#samples.slice(-1), { atMs: now, ports }];
  }

  #row(d: Domain): DomainRow {
    const vifs: VifRow[] = this.#netback!.vifs(d.domid)
      .sort((a, b) => a.devid - b.devid)
      .map((v) => {
        const k = `${v.domid}/${v.devid}`;
        const fe = this.#frontend.get(k) ?? 1;
        return {
          devid: v.devid,
          mac: v.mac,
          vlan: v.vlan,
          mtu: v.mtu,
          policy: v.policy,
          backendState: v.backendState,
          backendStateName: stateName(v.backendState),
          frontendState: fe,
          frontendStateName: stateName(fe),
          port: v.port,
          queues: v.queues,
          queuePorts: [...v.ports],
          error: this.#errors.get(k),
          attachMs: this.#attachMs.get(k),
        };
      });
    const wire = this.#wireNow(d.name, this.#wires.get(d.domid));
    return { domid: d.domid, name: d.name, pid: d.pid, state: d.state, argv: this.#argv.get(d.domid) ?? [], vifs, ...(wire ? { wire } : {}) };
  }

  /**
   * A port's wire as it is now, from vpio-uplink's latest stats line: a
   * memif port's state ("connected": 0 or 1), an AF_XDP uplink's bind and
   * attach modes (xdpWireNow).
   */
  #wireNow(name: string, wire: PortWireInfo | undefined): PortWireInfo | undefined {
    if (wire?.kind === 'uplink') return wire.mode === 'xdp' ? xdpWireNow(wire, this.#statsLine(name)) : wire;
    if (wire?.kind !== 'memif') return wire;
    const m = /"connected":([01])\b/.exec(this.#statsLine(name) ?? '');
    return { ...wire, text: `${wire.text} (${m?.[1] === '1' ? 'connected' : 'listening'})` };
  }

  /** The latest `{"event":"stats"...}` line a port's vpio-uplink printed, or undefined. */
  #statsLine(name: string): string | undefined {
    const entry = this.#consoles.find(name);
    const text = entry ? entry.buffer.read(0).data.toString('utf8') : '';
    const at = text.lastIndexOf('{"event":"stats"');
    if (at < 0) return undefined;
    const end = text.indexOf('\n', at);
    return text.slice(at, end < 0 ? undefined : end);
  }
}
