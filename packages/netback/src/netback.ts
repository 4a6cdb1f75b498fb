/**
 * Netback: the backend control plane of every vif (DESIGN.md "The
 * handshake"). Only the toolstack creates vifs (createVif); a guest can
 * neither create one nor make the backend allocate memory: all it can do
 * is write its own frontend directory, which is read, validated by
 * backendStep() and never trusted for what the backend granted.
 *
 * Lifecycle of a vif: createVif (grant, init rings, one transaction,
 * watches) → frontend Connected: bind channels, attach the switch port,
 * Connected → frontend Closing/Closed: detach (port and channels), the vif
 * stays for a restart → destroy on backend node removal, @releaseDomain,
 * destroyVif() or close(): detach, release grants, remove both directories.
 */
import { EventEmitter } from 'node:events';
import { ArgumentError, expectInteger } from '@vpio/errors';
import { VIF_LIMITS, backendDir, frontendDir } from '@vpio/vif';
import { RELEASE_DOMAIN, XenstoreClient, type XenstoreWatch } from '@vpio/xenstore';
import type { NetbackChannels, NetbackGrants, NetbackHost, NetbackSwitch } from './host.js';
import { NetbackError } from './netback-error.js';
import { checkVifOptions, type VifOptions, type VifPolicyInfo } from './options.js';
import { VifBackend } from './vif-backend.js';
import { VifMemory } from './vif-memory.js';

export interface NetbackOptions {
  /** Vifs one domain may have (default 8). */
  readonly maxVifsPerDomain?: number;
  /** Switch ports are lossless (a full RX ring holds the sender back instead of dropping). Default false. */
  readonly lossless?: boolean;
  /** Structured log sink; quiet by default. */
  readonly log?: (entry: NetbackLogEntry) => void;
}

export interface NetbackLogEntry {
  readonly level: 'debug' | 'info' | 'warn';
  readonly event: string;
  readonly domid?: number;
  readonly devid?: number;
  readonly [k: string]: unknown;
}

/** A vif as the toolstack sees it. */
export interface VifInfo {
  readonly domid: number;
  readonly devid: number;
  readonly mac: string;
  readonly mtu: number;
  readonly vlan: number | undefined;
  readonly txSlots: number;
  readonly rxSlots: number;
  readonly bufSizeBytes: number;
  readonly backendPath: string;
  readonly frontendPath: string;
  /** What netback granted to the domain (its own record): queue 0's rings and pool. */
  readonly grantRefs: { readonly tx: number; readonly rx: number; readonly pool: number };
  /** Queues the vif has (createVif's `queues`, default 1). */
  readonly queues: number;
  /** Every queue's grant refs, queue 0 first (queues entries). */
  readonly queueGrantRefs: readonly { readonly tx: number; readonly rx: number; readonly pool: number }[];
  /** The backend state last written. */
  readonly backendState: number;
  /** The switch port while attached: queue 0's, the id of the group the vif's ports form. */
  readonly port: number | undefined;
  /** While attached, the switch port of each queue the frontend uses (queue order; its length is the queues in use), else empty. */
  readonly ports: readonly number[];
  /** The attached port negotiated buffer chains + the offload word (`request-netmap-offload` = 1); false when detached. */
  readonly offload: boolean;
  /** What the switch port enforces: MAC lock, lossless, trunk VLANs, rate and flood limits, MAC cap (absent: unlimited / the switch's default). */
  readonly policy: VifPolicyInfo;
}

export interface NetbackEvents {
  /** A state change: the frontend's as observed, the backend's as written. */
  vifState: [vif: VifInfo, side: 'frontend' | 'backend', state: number];
  /** An `error` node was written (the handshake failed on what the guest wrote; it may retry). */
  vifError: [vif: VifInfo, text: string];
  vifConnected: [vif: VifInfo, port: number];
  vifDisconnected: [vif: VifInfo];
  /** Nothing of the vif is left. */
  vifDestroyed: [vif: VifInfo, reason: string];
}

/** What Netback.connect() needs from vpiod (or any dom0): structurally `vpiod.grants`, `vpiod.evtchn`, its switch. */
export interface NetbackConnectOptions extends NetbackOptions {
  readonly xenstorePath: string;
  readonly grants: NetbackGrants;
  readonly channels: NetbackChannels;
  readonly switch: NetbackSwitch;
}

export class Netback extends EventEmitter<NetbackEvents> {
  readonly maxVifsPerDomain: number;
  readonly #lossless: boolean;
  readonly #log: (entry: NetbackLogEntry) => void;
  /** domid -> devid -> vif (reserved before creation finishes, so limits hold under concurrency) */
  readonly #vifs = new Map<number, Map<number, VifBackend | 'creating'>>();
  #releaseWatch: XenstoreWatch | undefined;
  #releaseChain: Promise<void> = Promise.resolve();
  #ownedClient: XenstoreClient | undefined;
  #closed = false;

  private constructor(private readonly host: NetbackHost, options: NetbackOptions) {
    super();
    this.maxVifsPerDomain = expectInteger('options.maxVifsPerDomain', options.maxVifsPerDomain ?? 8, 1, 1024);
    if (options.lossless !== undefined && typeof options.lossless !== 'boolean') throw new ArgumentError('options.lossless', 'a boolean', options.lossless);
    this.#lossless = options.lossless ?? false;
    this.#log = options.log ?? (() => undefined);
  }

  /** A Netback on injected parts (their owner closes them after netback.close()); watches @releaseDomain. */
  static async start(host: NetbackHost, options: NetbackOptions = {}): Promise<Netback> {
    if (typeof host !== 'object' || host === null) throw new ArgumentError('host', 'an object { xenstore, grants, channels, switch }', host);
    for (const k of ['xenstore', 'grants', 'channels', 'switch'] as const) {
      if (typeof host[k] !== 'object' || host[k] === null) throw new ArgumentError(`host.${k}`, 'an object', host[k]);
    }
    const nb = new Netback(host, options);
    const w = await host.xenstore.watch(RELEASE_DOMAIN);
    nb.#releaseWatch = w;
    void (async () => {
      try {
        for await (const _e of w) nb.#releaseChain = nb.#releaseChain.then(() => nb.#reapReleased()).catch(() => undefined);
      } catch {
        /* connection gone */
      }
    })();
    return nb;
  }

  /** The glue vpiod calls: its own dom0 xenstore connection at `xenstorePath` (closed by close()), its brokers and switch. */
  static async connect(options: NetbackConnectOptions): Promise<Netback> {
    const xs = await XenstoreClient.connect(options.xenstorePath);
    try {
      const nb = await Netback.start({ xenstore: xs, grants: options.grants, channels: options.channels, switch: options.switch }, options);
      nb.#ownedClient = xs;
      return nb;
    } catch (e) {
      await xs.close();
      throw e;
    }
  }

  /**
   * Creates vif `devid` (the lowest free) of `domid`: grants its rings and
   * pool, writes both directories and the published keys in one
   * transaction (backend InitWait last), and follows the handshake from
   * there. Resolves once InitWait is published. Throws ERR_ARGUMENT,
   * NETBACK_NO_DOMAIN, NETBACK_VIF_LIMIT, NETBACK_CREATE (step named),
   * NETBACK_CLOSED.
   */
  async createVif(domid: number, options: VifOptions): Promise<VifInfo> {
    this.#checkOpen();
    expectInteger('domid', domid, 1, VIF_LIMITS.maxDomid);
    const opts = checkVifOptions(options);
    const mine = this.#vifs.get(domid) ?? new Map<number, VifBackend | 'creating'>();
    if (mine.size >= this.maxVifsPerDomain) {
      throw new NetbackError('NETBACK_VIF_LIMIT', `domain ${domid} has ${mine.size} vifs, the limit is ${this.maxVifsPerDomain}`);
    }
    let devid = 0;
    while (mine.has(devid)) devid++;
    mine.set(devid, 'creating');
    this.#vifs.set(domid, mine);
    const forget = (): void => {
      mine.delete(devid);
      if (mine.size === 0 && this.#vifs.get(domid) === mine) this.#vifs.delete(domid);
    };
    let step = 'domain-check';
    let vif: VifBackend | undefined;
    let memory: VifMemory | undefined;
    try {
      if (!(await this.host.xenstore.isDomainIntroduced(domid))) {
        forget();
        throw new NetbackError('NETBACK_NO_DOMAIN', `domain ${domid} is not introduced to the xenstore (not alive)`);
      }
      step = 'grant';
      memory = VifMemory.allocate(this.host.grants, domid, opts, opts.queues);
      const settings = {
        domid, devid, mac: opts.mac, mtu: opts.mtu, vlan: opts.vlan,
        policy: Object.freeze({ ...opts.policy, lossless: opts.policy.lossless ?? this.#lossless }),
        backendPath: backendDir(domid, devid), frontendPath: frontendDir(domid, devid),
      };
      const emitInfo = (): VifInfo => this.#info(vif!);
      vif = new VifBackend(settings, memory, this.host, {
        state: (side, state) => this.emit('vifState', emitInfo(), side, state),
        error: (text) => this.emit('vifError', emitInfo(), text),
        connected: (port) => this.emit('vifConnected', emitInfo(), port),
        disconnected: () => this.emit('vifDisconnected', emitInfo()),
        destroyed: (reason) => {
          if (mine.get(devid) === vif) forget();
          this.#log({ level: 'info', event: 'vif-destroyed', domid, devid, reason });
          this.emit('vifDestroyed', emitInfo(), reason);
        },
        log: (level, event, fields) => this.#log({ level, event, domid, devid, ...fields }),
      });
      step = 'xenstore';
      await vif.create();
      mine.set(devid, vif);
      step = 'watch';
      await vif.watch();
      // released while we were creating (its @releaseDomain may have come before the vif existed)?
      if (!(await this.host.xenstore.isDomainIntroduced(domid))) {
        await vif.destroy(`domain ${domid} released`);
        throw new NetbackError('NETBACK_NO_DOMAIN', `domain ${domid} was released while its vif ${devid} was being created`);
      }
      this.#log({ level: 'info', event: 'vif-created', domid, devid, mac: opts.mac, queues: opts.queues });
      return this.#info(vif);
    } catch (e) {
      if (e instanceof NetbackError) throw e;
      if (vif !== undefined && mine.get(devid) === vif) await vif.destroy(`creation failed at ${step}`);
      else memory?.release();
      forget();
      throw new NetbackError('NETBACK_CREATE', `creating vif ${devid} of domain ${domid} failed at step ${step}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** The toolstack removes a vif: detach, release, remove its nodes. Throws NETBACK_NO_SUCH_VIF. */
  async destroyVif(domid: number, devid: number): Promise<void> {
    const vif = this.#vifs.get(domid)?.get(devid);
    if (vif === undefined || vif === 'creating') throw new NetbackError('NETBACK_NO_SUCH_VIF', `domain ${domid} has no vif ${devid}`);
    await vif.destroy('destroyed by the toolstack');
  }

  /** Domain `domid` is gone (vpiod's 'domainReleased', or @releaseDomain): every vif of it is torn down. */
  async releaseDomain(domid: number): Promise<void> {
    const mine = this.#vifs.get(domid);
    if (mine === undefined) return;
    await Promise.all([...mine.values()].map((v) => (v === 'creating' ? undefined : v.destroy(`domain ${domid} released`))));
  }

  /** Vifs, optionally of one domain. */
  vifs(domid?: number): VifInfo[] {
    const out: VifInfo[] = [];
    for (const [d, m] of this.#vifs) {
      if (domid !== undefined && d !== domid) continue;
      for (const v of m.values()) if (v !== 'creating') out.push(this.#info(v));
    }
    return out;
  }

  /** Tears every vif down and stops watching. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#releaseWatch?.close().catch(() => undefined);
    await this.#releaseChain;
    await Promise.all([...this.#vifs.keys()].map((d) => this.releaseDomain(d)));
    await this.#ownedClient?.close().catch(() => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** On @releaseDomain: which of our domains are gone? */
  async #reapReleased(): Promise<void> {
    for (const domid of [...this.#vifs.keys()]) {
      let alive = true;
      try {
        alive = await this.host.xenstore.isDomainIntroduced(domid);
      } catch {
        return;
      }
      if (!alive) await this.releaseDomain(domid);
    }
  }

  #info(v: VifBackend): VifInfo {
    const s = v.settings;
    const g = v.memory.geometry;
    return Object.freeze({
      domid: s.domid, devid: s.devid, mac: s.mac, mtu: s.mtu, vlan: s.vlan,
      txSlots: g.txSlots, rxSlots: g.rxSlots, bufSizeBytes: g.bufSizeBytes,
      backendPath: s.backendPath, frontendPath: s.frontendPath,
      grantRefs: Object.freeze({ tx: v.memory.grants.tx.ref, rx: v.memory.grants.rx.ref, pool: v.memory.grants.pool.ref }),
      queues: v.memory.queues.length,
      queueGrantRefs: Object.freeze(v.memory.queues.map((q) => Object.freeze({ tx: q.grants.tx.ref, rx: q.grants.rx.ref, pool: q.grants.pool.ref }))),
      backendState: v.backendState, port: v.attachedPort, ports: Object.freeze([...v.attachedPorts]), offload: v.attachedOffload, policy: s.policy,
    });
  }

  #checkOpen(): void {
    if (this.#closed) throw new NetbackError('NETBACK_CLOSED', 'the netback is closed');
  }
}
