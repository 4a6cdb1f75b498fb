/**
 * Vpiod: the dom0 daemon core of host mode, embeddable (bin/vpiod.ts is a
 * thin CLI around it). It owns:
 *
 *   - a XenstoreDaemon on DIR/xenstored.sock (socket 0600, DIR 0700) and one
 *     privileged client of it;
 *   - the domain table: domids (DomidAllocator), unique names, and per domain
 *     the launcher process, its pidfd (death), the dom0 end of the control
 *     socket, the guest's xenstore connection, its cgroup.
 *
 * Domain creation, in order (undone in reverse on failure; the error names
 * the step): socketpairs → HELLO with the xenstore fd on the control socket →
 * adopt the dom0 end of the xenstore pair with the domid → /local/domain/<id>
 * nodes → INTRODUCE (@introduceDomain) → spawn vpio-launch with the control
 * socket as fd 3 → pidfd_open → watch the pidfd and the control socket.
 *
 * Death (pidfd readable, whatever the cause): stop watching → kill what is
 * left in the cgroup and remove it → close the control socket → RELEASE in
 * the xenstore (@releaseDomain, the domain's nodes and connection go) → free
 * name and domid → `domain.released` resolves and 'domainReleased' is emitted.
 *
 * Brokers: `grants` (grant-broker.ts) and `evtchn` (evtchn-broker.ts) own
 * control types 0x0101-0x0104 and 0x0201-0x0203; on death their part of the
 * domain is released before RELEASE, so @releaseDomain means "all gone".
 *
 * Threading: everything runs on the JS thread that owns the instance; the
 * pidfds and control sockets are uv_poll handles on its loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { chmod, mkdir, readFile, rmdir, stat } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { ArgumentError, VpioError, expectInteger } from '@vpio/errors';
import { XenstoreClient, XenstoreDaemon, type XenstoreLogger } from '@vpio/xenstore';
import {
  CTRL_HDR_BYTES, CTRL_PAYLOAD_MAX, CTRL_RANGES, CTRL_TYPE, CTRL_F_REPLY, decodeControl, encodeControl, encodeError, encodeHello,
  type ControlMessage,
} from './control-protocol.js';
import { Domain, parseLaunchError, type DomainExit } from './domain.js';
import { DEFAULT_BROKER_LIMITS, MAX_BROKER_LIMITS, isUnicastMac, resolveDomainOptions, tapLauncherArgs, wireLauncherArgs, type CreateDomainOptions } from './domain-options.js';
import { DomidAllocator, DOMID_MAX, DOMID_MIN } from './domid-allocator.js';
import { check, defaultLauncherPath, loadNative, type NativeDomainAddon, type NativeFdWatcher } from './native.js';
import { checkSandbox, skipFlagsFor, type SandboxReport, type SandboxStep } from './sandbox-check.js';
import type { ControlHandler, ControlReply } from './broker-host.js';
import { EvtchnBroker } from './evtchn-broker.js';
import { GrantBroker } from './grant-broker.js';
import { forgetInstance, recordInstance, recoverLeftovers, type VpiodRecovery } from './leftovers.js';

export type { ControlHandler, ControlReply } from './broker-host.js';
export type { VpiodRecovery } from './leftovers.js';

/** Tenant uids when vpiod runs as root: UID_BASE + domid (0x70000..0x77fef). */
export const DEFAULT_UID_BASE = 0x70000;

/** Descriptors vpiod holds per domain before any broker: pidfd, control socket, xenstore socket, stderr pipe, stdout pipe, and spares. */
export const FDS_PER_DOMAIN_BASE = 8;
/** Descriptors vpiod keeps for itself (xenstore listener, dom0 client, logs, Node's own). */
export const FDS_RESERVED = 256;
/** dom0's own grants per domain slot (netback rings and pools): one memfd each. */
export const DOM0_GRANTS_PER_DOMAIN = 8;
/** dom0's own event channel ports per domain slot: up to 4 descriptors each (its end, a held end). */
export const DOM0_PORTS_PER_DOMAIN = 4;

const EAGAIN = 11;
const ENOSYS = 38;
const EPROTO = 71;
const EMSGSIZE = 90;
const E2BIG = 7;
const CONTROL_BURST = 64;

export interface VpiodLogEntry {
  readonly level: 'debug' | 'info' | 'warn';
  readonly event: string;
  readonly domid?: number;
  readonly message: string;
}

export interface VpiodOptions {
  /** Directory for vpiod's sockets; created 0700 (an existing one is chmod-ed 0700 and must be ours). */
  readonly dir: string;
  /** Start even when sandbox steps are missing (each is skipped and logged). */
  readonly insecure?: boolean;
  /** Most live domains (default 64); sizes the fd limit. */
  readonly maxDomains?: number;
  /** First tenant uid when root (default 0x70000); domain d runs as uidBase + d. */
  readonly uidBase?: number;
  /** The domid range (default 1..32751; tests narrow it to see the wrap). */
  readonly domids?: { readonly first: number; readonly last: number };
  /** Largest eventChannels limit a domain may get (sizes the fd limit; default 64). */
  readonly maxEventChannelsPerDomain?: number;
  /** Most grants a domain may have vpiod hold (one descriptor each; sizes the fd limit; default 64). */
  readonly maxGrantsPerDomain?: number;
  /** Graceful stop time for close() (default 1000 ms). */
  readonly closeGraceMs?: number;
  readonly launcherPath?: string;
  readonly log?: (entry: VpiodLogEntry) => void;
  readonly xenstoreLog?: XenstoreLogger;
}


/** Callbacks into createDomain() (the toolstack's part of domain creation). */
export interface CreateDomainHooks {
  /**
   * After INTRODUCE, before the guest starts: create the domain's devices here.
   * It may resolve with `{ tapMac }`: the MAC of the domain's TAP device (for a
   * toolstack that picks a vif's MAC from the domid), overriding `tap.mac`.
   */
  readonly beforeSpawn?: (domid: number) => Promise<void | BeforeSpawnResult>;
}

export interface BeforeSpawnResult {
  /** The TAP device's MAC (only with `tap`): a unicast "xx:xx:xx:xx:xx:xx". */
  readonly tapMac?: string;
}

export interface DestroyOptions {
  /** Time between SIGTERM and SIGKILL (default 2000; 0 kills at once). */
  readonly graceMs?: number;
}

interface Slot {
  readonly domain: Domain;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  pidfd: number;
  ctrlFd: number;
  pidWatch: NativeFdWatcher | undefined;
  ctrlWatch: NativeFdWatcher | undefined;
  readonly xsSocket: Socket;
  reason: DomainExit['reason'];
  killTimer: NodeJS.Timeout | undefined;
  releasing: Promise<DomainExit> | undefined;
}

export interface VpiodEvents {
  domainCreated: [Domain];
  domainReleased: [Domain, DomainExit];
}

export class Vpiod extends EventEmitter<VpiodEvents> {
  private readonly native: NativeDomainAddon;
  private readonly launcher: string;
  private readonly maxDomains: number;
  private readonly uidBase: number;
  private readonly maxEventChannels: number;
  private readonly maxGrants: number;
  /** The grant broker: dom0's own grants and the tenants' (control types 0x0101-0x0104). */
  readonly grants: GrantBroker;
  /** The event-channel broker: dom0's own ports and the tenants' (control types 0x0201-0x0203). */
  readonly evtchn: EvtchnBroker;
  private readonly allocator: DomidAllocator;
  private readonly slots = new Map<number, Slot>();
  private readonly names = new Set<string>();
  /** Domids between their before-spawn hook and their slot (the brokers treat them as live). */
  private readonly creating = new Set<number>();
  private readonly handlers = new Map<number, ControlHandler>();
  private readonly instanceTag = `${process.pid}-${Math.floor(Math.random() * 0xffffff).toString(16)}`;
  private readonly log: (entry: VpiodLogEntry) => void;
  private state: 'new' | 'starting' | 'running' | 'closing' | 'closed' = 'new';
  private daemon: XenstoreDaemon | undefined;
  private dom0: XenstoreClient | undefined;
  private sandboxReport: SandboxReport | undefined;
  private skipFlags: string[] = [];
  private insecureSteps: string[] = [];
  private recoveredValue: VpiodRecovery | undefined;

  constructor(private readonly options: VpiodOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object', options);
    if (typeof options.dir !== 'string' || !options.dir.startsWith('/')) throw new ArgumentError('dir', 'an absolute path', options.dir);
    this.maxDomains = options.maxDomains === undefined ? 64 : expectInteger('maxDomains', options.maxDomains, 1, DOMID_MAX);
    this.uidBase = options.uidBase === undefined ? DEFAULT_UID_BASE : expectInteger('uidBase', options.uidBase, 1000, 0x7fffffff - DOMID_MAX);
    this.maxEventChannels = options.maxEventChannelsPerDomain === undefined
      ? DEFAULT_BROKER_LIMITS.eventChannels
      : expectInteger('maxEventChannelsPerDomain', options.maxEventChannelsPerDomain, 0, MAX_BROKER_LIMITS.eventChannels);
    const range = options.domids ?? { first: DOMID_MIN, last: DOMID_MAX };
    this.allocator = new DomidAllocator(range.first, range.last);
    this.launcher = options.launcherPath ?? defaultLauncherPath();
    this.log = options.log ?? (() => undefined);
    this.native = loadNative();
    this.maxGrants = options.maxGrantsPerDomain === undefined ? 64 : expectInteger('maxGrantsPerDomain', options.maxGrantsPerDomain, 0, 1 << 16);
    this.handlers.set(CTRL_TYPE.PING, (_d, m, fds) => {
      for (const fd of fds) this.native.close(fd);
      return { payload: m.payload };
    });
    // a domain being created counts as live from its before-spawn hook on (the toolstack grants to it there)
    const host = { isLive: (domid: number) => this.slots.get(domid)?.domain.state === 'running' || this.creating.has(domid), closeFd: (fd: number) => void this.native.close(fd) };
    this.grants = new GrantBroker(host, this.maxGrants, DOM0_GRANTS_PER_DOMAIN * this.maxDomains);
    this.evtchn = new EvtchnBroker(host, DOM0_PORTS_PER_DOMAIN * this.maxDomains);
    for (const [type, handler] of [...this.grants.handlers(), ...this.evtchn.handlers()]) this.handlers.set(type, handler);
  }

  /** The xenstore socket (0600 in the 0700 dir). */
  get xenstorePath(): string {
    return join(this.options.dir, 'xenstored.sock');
  }

  /** What the sandbox check found (after start()). */
  get sandbox(): SandboxReport | undefined {
    return this.sandboxReport;
  }

  /** Steps running without (only with insecure: true). */
  get skippedSteps(): readonly string[] {
    return this.insecureSteps;
  }

  /** What start() removed of a dead vpiod that ran on the same directory (its cgroups; processes left in them). */
  get recovered(): VpiodRecovery | undefined {
    return this.recoveredValue;
  }

  get domainCount(): number {
    return this.slots.size;
  }

  /** The per-domain cgroup name vpiod uses for `domid` (unique per instance). */
  cgroupName(domid: number): string {
    return `vpio-${this.instanceTag}-d${domid}`;
  }

  /**
   * Checks the sandbox, locks itself down (non-dumpable, fd limit), then
   * starts the xenstore. Throws SANDBOX_MISSING naming each missing step
   * unless `insecure`, VPIOD_DIR_UNSAFE, FD_LIMIT.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new VpioError('VPIOD_STATE', `start() on a ${this.state} vpiod`);
    this.state = 'starting';
    try {
      await this.prepareDir();
      const report = await checkSandbox(this.launcher);
      this.sandboxReport = report;
      const missing = report.missing.map((m) => m.step);
      if (missing.includes('pidfd')) {
        throw new VpioError('SANDBOX_MISSING', 'vpiod cannot run: pidfd_open is missing (Linux >= 5.3 is required), even with --insecure');
      }
      if (missing.length > 0 && !this.options.insecure) {
        const list = report.missing.map((m) => `${m.step} (${m.reason})`).join(', ');
        throw new VpioError('SANDBOX_MISSING', `vpiod refuses to start: sandbox step missing: ${list}; fix it or pass --insecure`);
      }
      this.skipFlags = skipFlagsFor(missing as SandboxStep[]);
      this.insecureSteps = [...missing];
      const dumpable = this.native.setDumpable(0);
      if (dumpable < 0) {
        if (!this.options.insecure) throw new VpioError('SANDBOX_MISSING', 'vpiod refuses to start: sandbox step missing: non-dumpable (prctl PR_SET_DUMPABLE failed); pass --insecure');
        this.insecureSteps.push('non-dumpable');
      }
      for (const step of this.insecureSteps) this.log({ level: 'warn', event: 'insecure', message: `running without sandbox step ${step}` });
      this.raiseFdLimit();
      this.recoveredValue = await recoverLeftovers(this.options.dir, (pid) =>
        this.log({ level: 'warn', event: 'leftovers', message: `${this.options.dir} was recorded by vpiod pid ${pid}, which still runs: its cgroups are left alone` }));
      if (this.recoveredValue) {
        const r = this.recoveredValue;
        this.log({ level: r.failed.length ? 'warn' : 'info', event: 'leftovers', message: `removed what the dead vpiod (pid ${r.pid}) left: ${r.cgroups.length} cgroups, ${r.processesKilled} processes killed${r.failed.length ? `; could not remove ${r.failed.join(', ')}` : ''}` });
      }
      await recordInstance(this.options.dir, this.instanceTag, (report.cgroupBases ?? []).map((b) => b.dir));
      this.daemon = new XenstoreDaemon({ socketPath: this.xenstorePath, log: this.options.xenstoreLog });
      await this.daemon.start();
      this.dom0 = await XenstoreClient.connect(this.xenstorePath);
      this.state = 'running';
    } catch (e) {
      await this.dom0?.close().catch(() => undefined);
      await this.daemon?.close().catch(() => undefined);
      await forgetInstance(this.options.dir).catch(() => undefined);
      this.state = 'closed';
      throw e;
    }
  }

  /** The fd limit vpiod needs for maxDomains domains. */
  fdsNeeded(): number {
    const perDomain = FDS_PER_DOMAIN_BASE + 2 * this.maxEventChannels + this.maxGrants + DOM0_GRANTS_PER_DOMAIN + 4 * DOM0_PORTS_PER_DOMAIN;
    return FDS_RESERVED + this.maxDomains * perDomain;
  }

  private raiseFdLimit(): void {
    const need = this.fdsNeeded();
    const cur = check(this.native.getNofile(), 'FD_LIMIT', 'getrlimit(RLIMIT_NOFILE)');
    if (cur.soft >= need) return;
    const hard = Math.max(cur.hard, need);
    let r = this.native.setNofile(need, hard);
    if (r < 0 && hard !== cur.hard) r = this.native.setNofile(Math.min(need, cur.hard), cur.hard);
    const now = check(this.native.getNofile(), 'FD_LIMIT', 'getrlimit(RLIMIT_NOFILE)');
    if (now.soft < need) {
      throw new VpioError('FD_LIMIT', `vpiod needs ${need} descriptors for --max-domains ${this.maxDomains} but RLIMIT_NOFILE allows ${now.soft} (hard ${now.hard}); raise it or lower --max-domains`);
    }
    this.log({ level: 'info', event: 'fd-limit', message: `RLIMIT_NOFILE raised to ${now.soft}` });
  }

  private async prepareDir(): Promise<void> {
    const dir = this.options.dir;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const st = await stat(dir);
    if (!st.isDirectory() || st.uid !== process.geteuid?.()) {
      throw new VpioError('VPIOD_DIR_UNSAFE', `${dir}: not a directory owned by uid ${process.geteuid?.()}`);
    }
    await chmod(dir, 0o700);
  }

  /** Registers the handler of a control message type (0x0100 and up: broker ranges). */
  registerControlHandler(type: number, handler: ControlHandler): void {
    expectInteger('type', type, CTRL_RANGES.grant.first, 0xffff);
    if (typeof handler !== 'function') throw new ArgumentError('handler', 'a function', handler);
    if (this.handlers.has(type)) throw new VpioError('CONTROL_TYPE_TAKEN', `control type 0x${type.toString(16)} already has a handler`);
    this.handlers.set(type, handler);
  }

  /** The live domain with this id, or undefined. */
  domain(domid: number): Domain | undefined {
    return this.slots.get(domid)?.domain;
  }

  /** Every live domain. */
  domains(): Domain[] {
    return [...this.slots.values()].map((s) => s.domain);
  }

  /**
   * Creates a domain and starts its guest in the sandbox. Resolves once the launcher runs.
   * `hooks.beforeSpawn(domid)` runs once the domain is introduced to the xenstore and
   * before its guest starts (the toolstack creates its devices there, so a frontend
   * finds them at once); if it throws, the domain is undone (step `before-spawn`) and
   * the hook's own work is the hook's to undo (a @releaseDomain watcher sees the release).
   */
  async createDomain(options: CreateDomainOptions, hooks: CreateDomainHooks = {}): Promise<Domain> {
    this.assertRunning('createDomain');
    const o = resolveDomainOptions(options);
    if (this.slots.size >= this.maxDomains) throw new VpioError('DOMAIN_LIMIT', `vpiod already runs ${this.slots.size} domains (--max-domains ${this.maxDomains})`);
    if (o.limits.eventChannels > this.maxEventChannels) throw new ArgumentError('limits.eventChannels', `an integer in [0, ${this.maxEventChannels}] (this vpiod's maximum)`, o.limits.eventChannels);
    if (o.tap && this.skipFlags.includes('namespaces')) throw new ArgumentError('tap', 'a vpiod whose sandbox has network namespaces (this one runs --insecure without them)', o.tap.name);
    if (o.wire && this.skipFlags.includes('namespaces')) throw new ArgumentError('wire', 'a vpiod whose sandbox has network namespaces (this one runs --insecure without them: the tenant would share vpiod\'s)', o.wire.kind);
    if (this.names.has(o.name)) throw new VpioError('DOMAIN_NAME_TAKEN', `a live domain is already named "${o.name}"`);
    const domid = this.allocator.allocate();
    let tap = o.tap;
    this.names.add(o.name);
    const undo: Array<() => unknown> = [() => this.names.delete(o.name), () => this.allocator.free(domid)];
    const closeFd = (fd: number): void => void this.native.close(fd);
    let step = 'socketpair';
    try {
      const [ctrlVpiod, ctrlGuest] = check(this.native.socketpair(true), 'DOMAIN_CREATE', 'socketpair(SOCK_SEQPACKET)');
      let guestEndOpen = true;
      undo.push(() => closeFd(ctrlVpiod), () => guestEndOpen && closeFd(ctrlGuest));
      const [xsVpiod, xsGuest] = check(this.native.socketpair(false), 'DOMAIN_CREATE', 'socketpair(SOCK_STREAM)');
      undo.push(() => closeFd(xsGuest));

      step = 'hello';
      check(this.native.sendmsg(ctrlVpiod, encodeHello(domid), [xsGuest]), 'DOMAIN_CREATE', 'sendmsg(HELLO)');
      closeFd(xsGuest);
      undo.pop();

      step = 'xenstore-adopt';
      const xsSocket = new Socket({ fd: xsVpiod, readable: true, writable: true });
      undo.push(() => xsSocket.destroy());
      this.daemon!.adopt(xsSocket, domid);

      step = 'xenstore-nodes';
      await this.writeDomainNodes(domid, o.name);
      step = 'xenstore-introduce';
      await this.dom0!.introduce(domid, 0, 1);
      undo.push(() => this.dom0!.release(domid).catch(() => undefined));

      if (hooks.beforeSpawn) {
        step = 'before-spawn';
        this.creating.add(domid);
        undo.push(() => {
          this.creating.delete(domid);
          this.grants.releaseDomain(domid);
          this.evtchn.releaseDomain(domid);
        });
        const r = await hooks.beforeSpawn(domid);
        if (r?.tapMac !== undefined) {
          if (!tap) throw new ArgumentError('beforeSpawn().tapMac', 'only with the tap option', r.tapMac);
          if (!isUnicastMac(r.tapMac)) throw new ArgumentError('beforeSpawn().tapMac', 'a unicast MAC xx:xx:xx:xx:xx:xx', r.tapMac);
          tap = { ...tap, mac: r.tapMac.toLowerCase() };
        }
      }

      step = 'spawn';
      const uid = this.uidBase + domid;
      const cgroup = this.skipFlags.includes('cgroup') ? undefined : this.cgroupName(domid);
      const args = [
        '--domid', String(domid), '--uid', String(uid), '--gid', String(uid),
        ...(cgroup ? ['--cgroup', cgroup] : []),
        '--memory-bytes', String(o.memoryMiB * 1024 * 1024), '--cpu-shares', String(o.cpuShares), '--max-pids', String(o.maxPids),
        ...(o.cpuQuotaUs ? ['--cpu-quota-us', String(o.cpuQuotaUs), '--cpu-period-us', String(o.cpuPeriodUs)] : []),
        ...this.skipFlags, ...(tap ? tapLauncherArgs(tap) : []), ...(o.wire ? wireLauncherArgs(o.wire) : []), '--', ...o.argv,
      ];
      const child = spawn(this.launcher, args, {
        stdio: ['ignore', o.stdout, 'pipe', ctrlGuest],
        env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', ...o.env },
        cwd: o.cwd,
      });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        child.once('exit', (code, signal) => resolve({ code, signal }));
        child.once('error', () => resolve({ code: null, signal: null }));
      });
      if (child.pid === undefined) {
        const err = await new Promise<Error>((resolve) => child.once('error', resolve));
        throw new VpioError('DOMAIN_CREATE', `spawn ${this.launcher}: ${err.message}`, { cause: err });
      }
      // only the launcher holds the guest's end from here on
      closeFd(ctrlGuest);
      guestEndOpen = false;

      step = 'pidfd';
      const pid = child.pid;
      const pidfd = this.native.pidfdOpen(pid);
      if (pidfd < 0) {
        child.kill('SIGKILL');
        check(pidfd, 'DOMAIN_CREATE', `pidfd_open(${pid})`);
      }

      const domain = new Domain(domid, o.name, pid, uid, cgroup, o.limits, o.stdout === 'pipe' ? child.stdout : null);
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => domain.appendStderr(chunk));
      const slot: Slot = {
        domain, child, exited, pidfd, ctrlFd: ctrlVpiod, pidWatch: undefined, ctrlWatch: undefined, xsSocket,
        reason: 'exited', killTimer: undefined, releasing: undefined,
      };
      this.slots.set(domid, slot);
      this.creating.delete(domid);
      slot.pidWatch = new this.native.FdWatcher(pidfd, () => void this.onDeath(slot));
      check(this.native.setNonblock(ctrlVpiod), 'DOMAIN_CREATE', 'O_NONBLOCK on the control socket');
      slot.ctrlWatch = new this.native.FdWatcher(ctrlVpiod, () => this.onControl(slot));
      this.log({ level: 'info', event: 'created', domid, message: `domain ${domid} "${o.name}" pid ${pid} uid ${uid}` });
      this.emit('domainCreated', domain);
      return domain;
    } catch (e) {
      for (const f of undo.reverse()) {
        try {
          await f();
        } catch {
          // undoing is best effort; the original error is what matters
        }
      }
      if (e instanceof VpioError && e.code === 'DOMAIN_CREATE') throw e;
      throw new VpioError('DOMAIN_CREATE', `createDomain("${o.name}") failed at step ${step}: ${(e as Error).message}`, { cause: e });
    }
  }

  private async writeDomainNodes(domid: number, name: string): Promise<void> {
    const home = `/local/domain/${domid}`;
    const readOnly = [{ access: 'n' as const, domid: 0 }, { access: 'r' as const, domid }];
    await this.dom0!.transaction(async (t) => {
      await t.mkdir(home);
      await t.setPerms(home, [{ access: 'n', domid }]);
      for (const [key, value] of [['name', name], ['domid', String(domid)]] as const) {
        await t.write(`${home}/${key}`, value);
        await t.setPerms(`${home}/${key}`, readOnly);
      }
      for (const dir of ['data', 'device']) {
        await t.mkdir(`${home}/${dir}`);
        await t.setPerms(`${home}/${dir}`, [{ access: 'n', domid }]);
      }
    });
  }

  /**
   * Stops a domain: SIGTERM (the guest gets it through the launcher and its
   * init), then SIGKILL after graceMs. Resolves when it is released.
   * Throws DOMAIN_NOT_FOUND for an id that is not live.
   */
  async destroyDomain(domid: number, options: DestroyOptions = {}): Promise<DomainExit> {
    expectInteger('domid', domid, DOMID_MIN, DOMID_MAX);
    const graceMs = options.graceMs === undefined ? 2000 : expectInteger('graceMs', options.graceMs, 0, 3_600_000);
    const slot = this.slots.get(domid);
    if (!slot) throw new VpioError('DOMAIN_NOT_FOUND', `no live domain ${domid}`);
    if (slot.domain.stateValue === 'running') {
      slot.domain.stateValue = 'dying';
      slot.reason = 'destroyed';
      if (graceMs === 0) this.forceKill(slot);
      else {
        this.signal(slot, 15);
        slot.killTimer = setTimeout(() => this.forceKill(slot), graceMs);
      }
    }
    return slot.domain.released;
  }

  private signal(slot: Slot, sig: number): void {
    if (slot.pidfd >= 0) this.native.pidfdSendSignal(slot.pidfd, sig); // ESRCH: already dead, the watcher will see it
  }

  private forceKill(slot: Slot): void {
    slot.reason = 'killed';
    this.signal(slot, 9);
    // init dies of pdeathsig; anything left in the cgroup goes in onDeath
  }

  private onDeath(slot: Slot): void {
    if (slot.releasing) return;
    slot.releasing = this.release(slot);
  }

  private async release(slot: Slot): Promise<DomainExit> {
    const { domain } = slot;
    domain.stateValue = 'dying';
    if (slot.killTimer) clearTimeout(slot.killTimer);
    slot.pidWatch?.stop();
    slot.pidWatch = undefined;
    const status = await slot.exited;
    this.native.close(slot.pidfd);
    slot.pidfd = -1;
    slot.ctrlWatch?.stop();
    slot.ctrlWatch = undefined;
    this.native.close(slot.ctrlFd);
    slot.ctrlFd = -1;
    if (domain.cgroup) await this.removeCgroup(domain.cgroup, domain.domid);
    this.grants.releaseDomain(domain.domid);
    this.evtchn.releaseDomain(domain.domid);
    try {
      await this.dom0?.release(domain.domid);
      await this.dom0?.rm(`/local/domain/${domain.domid}`).catch(() => undefined);
    } catch (e) {
      this.log({ level: 'warn', event: 'release', domid: domain.domid, message: `xenstore release: ${(e as Error).message}` });
    }
    slot.xsSocket.destroy();
    slot.child.stdout?.destroy();
    slot.child.stderr?.destroy();
    this.slots.delete(domain.domid);
    this.names.delete(domain.name);
    this.allocator.free(domain.domid);
    const launchError = parseLaunchError(domain.stderr);
    const exit: DomainExit = {
      code: status.code, signal: status.signal, reason: slot.reason,
      ...(launchError && status.code !== null && status.code >= 101 && status.code <= 117 ? { launchError } : {}),
    };
    this.log({ level: 'info', event: 'released', domid: domain.domid, message: `domain ${domain.domid} released (${exit.reason}, code ${exit.code}, signal ${exit.signal})` });
    domain.markReleased(exit);
    this.emit('domainReleased', domain, exit);
    return exit;
  }

  /** Kills whatever is left in the domain's cgroup and removes its directories. */
  private async removeCgroup(name: string, domid: number): Promise<void> {
    const dirs = (this.sandboxReport?.cgroupBases ?? []).map((b) => join(b.dir, name));
    const deadline = Date.now() + 5000;
    for (const dir of dirs) {
      for (;;) {
        const procs = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
        for (const pid of procs.split('\n').filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // gone already
          }
        }
        try {
          await rmdir(dir);
          break;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (Date.now() > deadline) {
            this.log({ level: 'warn', event: 'cgroup', domid, message: `cannot remove ${dir}: ${code}` });
            break;
          }
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    }
  }

  /** Reads what the guest sent on its control socket, without ever blocking. */
  private onControl(slot: Slot): void {
    for (let i = 0; i < CONTROL_BURST && slot.ctrlFd >= 0; i++) {
      const r = this.native.recvmsg(slot.ctrlFd, CTRL_HDR_BYTES + CTRL_PAYLOAD_MAX + 1);
      if (r === -EAGAIN) return;
      if (typeof r === 'number') {
        // EOF (the guest closed its end) or an error: stop listening; death comes through the pidfd
        slot.ctrlWatch?.stop();
        slot.ctrlWatch = undefined;
        return;
      }
      const msg = decodeControl(r.data, r.truncated);
      if (typeof msg === 'string') {
        for (const fd of r.fds) this.native.close(fd);
        const type = r.data.length >= 2 ? r.data.readUInt16LE(0) : 0;
        const seq = r.data.length >= 8 ? r.data.readUInt32LE(4) : 0;
        this.reply(slot, encodeError(type, seq, msg === 'too-long' || msg === 'truncated' ? EMSGSIZE : EPROTO), []);
        continue;
      }
      if (r.fds.length > 16) {
        for (const fd of r.fds) this.native.close(fd);
        this.reply(slot, encodeError(msg.type, msg.seq, E2BIG), []);
        continue;
      }
      const handler = (msg.flags & CTRL_F_REPLY) === 0 ? this.handlers.get(msg.type) : undefined;
      if (!handler) {
        for (const fd of r.fds) this.native.close(fd);
        this.reply(slot, encodeError(msg.type, msg.seq, ENOSYS), []);
        continue;
      }
      void this.runHandler(slot, handler, msg, r.fds);
    }
  }

  private async runHandler(slot: Slot, handler: ControlHandler, msg: ControlMessage, fds: number[]): Promise<void> {
    let answer: ControlReply;
    try {
      answer = await handler(slot.domain, msg, fds);
    } catch (e) {
      this.log({ level: 'warn', event: 'control', domid: slot.domain.domid, message: `handler 0x${msg.type.toString(16)}: ${(e as Error).message}` });
      answer = { errno: EPROTO };
    }
    if (answer.errno) this.reply(slot, encodeError(msg.type, msg.seq, answer.errno), []);
    else this.reply(slot, encodeControl(msg.type, CTRL_F_REPLY, msg.seq, answer.payload), answer.fds ?? []);
    if (!answer.keepFds) for (const fd of answer.fds ?? []) this.native.close(fd);
    answer.after?.();
  }

  private reply(slot: Slot, bytes: Buffer, fds: readonly number[]): void {
    if (slot.ctrlFd < 0) return;
    const r = this.native.sendmsg(slot.ctrlFd, bytes, fds);
    // A guest that does not read its replies loses them; vpiod never waits.
    if (r < 0) this.log({ level: 'debug', event: 'control', domid: slot.domain.domid, message: `reply dropped (errno ${-r})` });
  }

  private assertRunning(what: string): void {
    if (this.state !== 'running') throw new VpioError('VPIOD_STATE', `${what}() on a ${this.state} vpiod`);
  }

  /** Destroys every domain (graceful for closeGraceMs, then forced), then stops the xenstore. */
  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    const wasRunning = this.state === 'running';
    this.state = 'closing';
    if (wasRunning) {
      const grace = this.options.closeGraceMs ?? 1000;
      await Promise.all([...this.slots.keys()].map((id) => this.destroyDomain(id, { graceMs: grace }).catch(() => undefined)));
      this.evtchn.closeAll();
      this.grants.close();
      await this.dom0?.close().catch(() => undefined);
      await this.daemon?.close();
      await forgetInstance(this.options.dir).catch(() => undefined);
    }
    this.state = 'closed';
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
