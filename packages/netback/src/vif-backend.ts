/**
 * One vif's backend: the I/O loop around @vpio/vif's pure backendStep().
 * Every xenstore change in either directory schedules a step; steps run one
 * at a time per vif (a promise chain). A step reads both directories in ONE
 * transaction (key by key, it could see state=Connected without the
 * channels committed with it), asks backendStep() what to do, and does it:
 * transactions, the `error` node, connect (bind both channels, attach the
 * switch port), disconnect (detach, close the channels).
 *
 * Teardown (destroy()) detaches, releases the memory and removes both
 * directories; it runs when the toolstack removes the backend node, when
 * the domain is released, on destroyVif() and on Netback.close().
 *
 * Queues: a vif connected with k queues is k switch ports in one group
 * (addPort, then addPort({ group: first }) for the others), port i on
 * queue i's rings and channels; they attach and detach together.
 */
import { VIF_KEYS, VIF_LIMITS, XENBUS_STATES, backendStep, queueDir, type BackendAction, type Dir, type KeyWrite, type QueuePorts } from '@vpio/vif';
import type { PortOptions } from '@vpio/switch';
import type { XenstoreOps, XenstoreWatch } from '@vpio/xenstore';
import { channelKind, type ChannelEndInfo, type NetbackHost } from './host.js';
import type { VifPolicyInfo } from './options.js';
import type { VifMemory } from './vif-memory.js';

export interface VifSettings {
  readonly domid: number;
  readonly devid: number;
  readonly mac: string;
  readonly mtu: number;
  readonly vlan: number | undefined;
  readonly backendPath: string;
  readonly frontendPath: string;
  /** What the switch port enforces (lossless resolved). */
  readonly policy: VifPolicyInfo;
}

/** What a vif's backend reports (Netback turns these into events). */
export interface VifObserver {
  state(side: 'frontend' | 'backend', state: number): void;
  error(text: string): void;
  connected(port: number): void;
  disconnected(): void;
  destroyed(reason: string): void;
  log(level: 'debug' | 'warn', event: string, fields: Record<string, unknown>): void;
}

interface Attachment {
  /** One switch port per queue in use, queue 0 (the group's id) first. */
  readonly portIds: readonly number[];
  readonly channels: readonly number[];
  readonly offload: boolean;
}

/** The policy limits the switch enforces per port: with k ports, each gets 1/k (rounded up, at least 1). */
const PER_PORT_LIMITS = ['ratePps', 'burstPackets', 'rateBps', 'burstBytes', 'floodPps', 'floodBurst'] as const;

/** The policy of one of `k` ports of a vif: rate, burst and flood limits divided by k (the vif's limits are the ports' sum). */
export function queuePolicy(p: VifPolicyInfo, k: number): VifPolicyInfo {
  if (k <= 1) return p;
  const out: { -readonly [K in keyof VifPolicyInfo]: VifPolicyInfo[K] } = { ...p };
  for (const key of PER_PORT_LIMITS) {
    const v = p[key];
    if (v !== undefined) out[key] = Math.max(1, Math.ceil(v / k));
  }
  return out;
}

/** The switch's PortOptions for a policy: only what is set, so the switch's defaults hold for the rest. */
export function portPolicy(vlan: number | undefined, p: VifPolicyInfo): Partial<PortOptions> {
  const out: { -readonly [K in keyof PortOptions]?: PortOptions[K] } = { macLock: p.macLock, lossless: p.lossless };
  if (p.trunk !== undefined) out.vlan = { mode: 'trunk', vids: p.trunk.vids, ...(p.trunk.nativeVid === undefined ? {} : { nativeVid: p.trunk.nativeVid }) };
  else if (vlan !== undefined) out.vlan = { mode: 'access', vid: vlan };
  for (const k of ['ratePps', 'burstPackets', 'rateBps', 'burstBytes', 'floodPps', 'floodBurst', 'maxMacs'] as const) {
    if (p[k] !== undefined) out[k] = p[k];
  }
  return out;
}

type Snapshot = { readonly exists: boolean; readonly dir: Dir };

/** The queue subdirectories a Dir holds: queue-0 .. queue-<max-1> (others are not read). */
const QUEUE_DIRS = new Set(Array.from({ length: VIF_LIMITS.maxQueues }, (_, i) => queueDir(i)));

/** One directory level, plus its queue-<i>/ subdirectories as `queue-<i>/<key>` keys, read inside `t`. */
async function readDir(t: XenstoreOps, path: string): Promise<Snapshot> {
  let names: string[];
  try {
    names = await t.directory(path);
  } catch {
    return { exists: false, dir: {} };
  }
  const dir: Record<string, string> = {};
  const readInto = async (base: string, prefix: string, list: readonly string[]): Promise<void> => {
    for (const n of list) {
      try {
        dir[`${prefix}${n}`] = (await t.read(`${base}/${n}`)).toString('latin1');
      } catch {
        /* a directory without a value */
      }
    }
  };
  await readInto(path, '', names);
  for (const n of names) {
    if (!QUEUE_DIRS.has(n)) continue;
    const sub = await t.directory(`${path}/${n}`).catch(() => [] as string[]);
    await readInto(`${path}/${n}`, `${n}/`, sub);
  }
  return { exists: true, dir };
}

const DOM0_ONLY = (domid: number) => [{ domid: 0, access: 'n' as const }, { domid, access: 'r' as const }];

export class VifBackend {
  #attached: Attachment | undefined;
  #watches: XenstoreWatch[] = [];
  #chain: Promise<void> = Promise.resolve();
  #destroyed = false;
  #published = false;
  #lastFrontend: string | undefined;
  #backendState: number = XENBUS_STATES.Initialising;

  constructor(
    readonly settings: VifSettings,
    readonly memory: VifMemory,
    private readonly host: NetbackHost,
    private readonly observer: VifObserver,
  ) {}

  /** Queue 0's switch port (the group's id) while attached. */
  get attachedPort(): number | undefined {
    return this.#attached?.portIds[0];
  }

  /** Every queue's switch port while attached (queue order), else empty. */
  get attachedPorts(): readonly number[] {
    return this.#attached?.portIds ?? [];
  }

  /** The attached port carries buffer chains + the offload word (the frontend asked: request-netmap-offload). */
  get attachedOffload(): boolean {
    return this.#attached?.offload ?? false;
  }

  get backendState(): number {
    return this.#backendState;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /**
   * The toolstack's part and DESIGN.md step 1 in ONE transaction: both
   * directories with their permissions, then backendStep()'s publish
   * (feature-netmap, ring sizes and refs in the frontend's directory,
   * backend state=InitWait last).
   */
  async create(): Promise<void> {
    const { domid, devid, backendPath: be, frontendPath: fe, mac, mtu } = this.settings;
    const frontend: Dir = { [VIF_KEYS.backend]: be, [VIF_KEYS.backendId]: '0', [VIF_KEYS.handle]: String(devid), [VIF_KEYS.state]: String(XENBUS_STATES.Initialising) };
    const own: Dir = {
      [VIF_KEYS.frontend]: fe, [VIF_KEYS.frontendId]: String(domid), [VIF_KEYS.handle]: String(devid),
      [VIF_KEYS.mac]: mac, [VIF_KEYS.mtu]: String(mtu), [VIF_KEYS.state]: String(XENBUS_STATES.Initialising),
    };
    const actions = backendStep({ own, frontend, record: this.memory.record, local: { attached: false } });
    const publish = actions.find((a): a is Extract<BackendAction, { kind: 'transaction' }> => a.kind === 'transaction');
    if (actions.length !== 1 || publish === undefined) throw new Error(`backendStep did not publish: ${JSON.stringify(actions)}`);
    await this.host.xenstore.transaction(async (t) => {
      // the frontend's directory belongs to the guest; what the toolstack names in it is dom0's, guest-readable
      for (const [k, v] of Object.entries(frontend)) await t.write(`${fe}/${k}`, v);
      await t.setPerms(fe, [{ domid, access: 'n' }]);
      await t.setPerms(`${fe}/${VIF_KEYS.state}`, [{ domid, access: 'n' }]);
      for (const k of [VIF_KEYS.backend, VIF_KEYS.backendId, VIF_KEYS.handle]) await t.setPerms(`${fe}/${k}`, DOM0_ONLY(domid));
      // the backend's directory is dom0's, readable by the guest
      for (const [k, v] of Object.entries(own)) await t.write(`${be}/${k}`, v);
      await t.setPerms(be, DOM0_ONLY(domid));
      for (const k of Object.keys(own)) await t.setPerms(`${be}/${k}`, DOM0_ONLY(domid));
      await this.#apply(t, publish.writes);
    });
    this.#published = true;
    this.#lastFrontend = frontend[VIF_KEYS.state];
    this.#noteWrites(publish.writes);
  }

  /** Watches both directories; every event schedules a step. */
  async watch(): Promise<void> {
    for (const path of [this.settings.frontendPath, this.settings.backendPath]) {
      const w = await this.host.xenstore.watch(path);
      this.#watches.push(w);
      void (async () => {
        try {
          for await (const _e of w) this.schedule();
        } catch (e) {
          if (!this.#destroyed) this.observer.log('warn', 'watch-ended', { path, error: String(e) });
        }
      })();
    }
  }

  /** Runs a step after those already scheduled. */
  schedule(): Promise<void> {
    return this.#enqueue(() => this.#step());
  }

  /** Tears the vif down after the scheduled steps; resolves when nothing of it is left. */
  destroy(reason: string): Promise<void> {
    return this.#enqueue(() => this.#teardown(reason));
  }

  #enqueue(fn: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(fn);
    this.#chain = run.catch((e: unknown) => this.observer.log('warn', 'step-failed', { error: String(e) }));
    return run;
  }

  /** Read (one transaction), decide (backendStep), act. */
  async #step(): Promise<void> {
    if (this.#destroyed) return;
    const { backendPath: be, frontendPath: fe } = this.settings;
    const snap = await this.host.xenstore.transaction(async (t) => ({ own: await readDir(t, be), frontend: await readDir(t, fe) }));
    if (!snap.own.exists) {
      await this.#teardown('backend node removed');
      return;
    }
    const feState = snap.frontend.dir[VIF_KEYS.state];
    if (feState !== undefined && feState !== this.#lastFrontend) {
      this.#lastFrontend = feState;
      const n = Number(feState);
      if (String(n) === feState) this.observer.state('frontend', n);
    }
    const actions = backendStep({ own: snap.own.dir, frontend: snap.frontend.dir, record: this.memory.record, local: { attached: this.#attached !== undefined } });
    for (const a of actions) {
      if (a.kind !== 'wait') this.observer.log('debug', 'action', { domid: this.settings.domid, devid: this.settings.devid, action: a });
      switch (a.kind) {
        case 'wait':
          break;
        case 'transaction':
          if (!(await this.#transaction(a.writes))) return;
          break;
        case 'error':
          await this.#writeError(snap.own.dir, a.text);
          break;
        case 'connect':
          if (!(await this.#connect(snap.own.dir, a.queues, a.offload))) return; // the Connected write must not follow
          break;
        case 'disconnect':
          this.#detach();
          break;
      }
    }
  }

  /** One transaction of `writes`, unless the backend node was removed meanwhile (then teardown; false). */
  async #transaction(writes: readonly KeyWrite[]): Promise<boolean> {
    const republish = writes.some((w) => w.dir === 'backend' && w.key === VIF_KEYS.state && w.value === String(XENBUS_STATES.InitWait));
    if (republish && this.#published && this.#attached === undefined) this.memory.initRings(); // a restarted frontend gets fresh ring state
    const ok = await this.host.xenstore.transaction(async (t) => {
      if (!(await this.#exists(t))) return false;
      await this.#apply(t, writes);
      return true;
    });
    if (!ok) {
      await this.#teardown('backend node removed');
      return false;
    }
    this.#noteWrites(writes);
    return true;
  }

  async #apply(t: XenstoreOps, writes: readonly KeyWrite[]): Promise<void> {
    const { backendPath: be, frontendPath: fe, domid } = this.settings;
    for (const w of writes) {
      const path = `${w.dir === 'frontend' ? fe : be}/${w.key}`;
      if (w.value === null) {
        await t.rm(path).catch(() => undefined);
      } else {
        await t.write(path, w.value);
        // what the backend publishes in the guest's directory stays dom0's (the guest reads it, never rewrites it)
        if (w.dir === 'frontend') await t.setPerms(path, DOM0_ONLY(domid));
      }
    }
  }

  #noteWrites(writes: readonly KeyWrite[]): void {
    for (const w of writes) {
      if (w.dir === 'backend' && w.key === VIF_KEYS.state && w.value !== null) {
        this.#backendState = Number(w.value);
        this.observer.state('backend', this.#backendState);
      }
    }
  }

  async #exists(t: XenstoreOps): Promise<boolean> {
    try {
      await t.read(`${this.settings.backendPath}/${VIF_KEYS.state}`);
      return true;
    } catch {
      return false;
    }
  }

  /** The `error` node, as Xen's drivers write it; the state stays, so a corrected frontend can retry. */
  async #writeError(own: Dir, text: string): Promise<void> {
    if (own[VIF_KEYS.error] === text) return;
    const ok = await this.host.xenstore.transaction(async (t) => {
      if (!(await this.#exists(t))) return false;
      await t.write(`${this.settings.backendPath}/${VIF_KEYS.error}`, text);
      return true;
    });
    if (ok) this.observer.error(text);
  }

  /**
   * Step 3: bind each queue's two channels, attach one switch port per queue
   * (the first makes the group, the others join it). False (error node
   * written, whatever was bound or attached undone) when it cannot.
   */
  async #connect(own: Dir, queues: readonly QueuePorts[], offload: boolean): Promise<boolean> {
    const { domid, mac, vlan, policy } = this.settings;
    const { channels } = this.host;
    const m = this.memory;
    if (queues.length > m.queues.length) { // backendStep never asks for more than the record has
      await this.#writeError(own, `${VIF_KEYS.multiQueueNumQueues}: ${queues.length} queues, this vif has ${m.queues.length}`);
      return false;
    }
    const bound: number[] = [];
    const ends: Array<ChannelEndInfo> = [];
    const flat = queues.length === 1;
    for (const [q, ports] of queues.entries()) {
      for (const [key, port] of [[VIF_KEYS.eventChannelTx, ports.txPort], [VIF_KEYS.eventChannelRx, ports.rxPort]] as const) {
        try {
          const local = channels.bindInterdomain(domid, port);
          bound.push(local);
          ends.push(channels.end(local));
        } catch (e) {
          this.#closeChannels(bound);
          await this.#writeError(own, `${flat ? key : `${queueDir(q)}/${key}`}: cannot bind port ${port} of domain ${domid}: ${(e as Error).message}`.slice(0, 256));
          return false;
        }
      }
    }
    const perPort = portPolicy(vlan, queuePolicy(policy, queues.length));
    const portIds: number[] = [];
    for (let q = 0; q < queues.length; q++) {
      const mem = m.queues[q]!;
      const tx = ends[2 * q]!;
      const rx = ends[2 * q + 1]!;
      try {
        portIds.push(this.host.switch.addPort({
          txRing: mem.txRing, rxRing: mem.rxRing, pool: mem.pool,
          txSlots: m.geometry.txSlots, rxSlots: m.geometry.rxSlots, bufSizeBytes: m.geometry.bufSizeBytes, nrBufs: m.nrBufs,
          mac, ...perPort, offload,
          txWaitFd: tx.rxFd, txNotifyFd: tx.txFd, rxWaitFd: rx.rxFd, rxNotifyFd: rx.txFd,
          ...channelKind(tx, rx),
          ...(q > 0 ? { group: portIds[0]! } : {}),
        }));
      } catch (e) {
        this.#removePorts(portIds);
        this.#closeChannels(bound);
        await this.#writeError(own, `switch: cannot attach ${flat ? 'the port' : `the port of queue ${q}`}: ${(e as Error).message}`.slice(0, 256));
        return false;
      }
    }
    this.#attached = { portIds, channels: bound, offload };
    this.observer.connected(portIds[0]!);
    return true;
  }

  /** Removes ports, the group's other members before its first port; each returns at a quiescent point. */
  #removePorts(ids: readonly number[]): void {
    for (const id of [...ids].reverse()) {
      try {
        this.host.switch.removePort(id);
      } catch (e) {
        this.observer.log('warn', 'remove-port-failed', { port: id, error: String(e) });
      }
    }
  }

  /** Detach the ports (each returns at a quiescent point), then close dom0's channel ends. */
  #detach(): void {
    const a = this.#attached;
    if (a === undefined) return;
    this.#attached = undefined;
    this.#removePorts(a.portIds);
    this.#closeChannels(a.channels);
    this.observer.disconnected();
  }

  #closeChannels(ports: readonly number[]): void {
    for (const p of ports) {
      try {
        this.host.channels.close(p);
      } catch (e) {
        this.observer.log('warn', 'channel-close-failed', { port: p, error: String(e) });
      }
    }
  }

  async #teardown(reason: string): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    const watches = this.#watches.splice(0);
    await Promise.all(watches.map((w) => w.close().catch(() => undefined)));
    this.#detach();
    this.memory.release();
    const { backendPath: be, frontendPath: fe } = this.settings;
    const parent = be.slice(0, be.lastIndexOf('/'));
    await this.host.xenstore.transaction(async (t) => {
      await t.rm(be).catch(() => undefined);
      await t.rm(fe).catch(() => undefined);
      const left = await t.directory(parent).catch(() => undefined);
      if (left !== undefined && left.length === 0) await t.rm(parent).catch(() => undefined);
    }).catch((e: unknown) => this.observer.log('warn', 'remove-nodes-failed', { error: String(e) }));
    this.observer.destroyed(reason);
  }
}
