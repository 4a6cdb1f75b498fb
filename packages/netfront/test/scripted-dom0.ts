/**
 * A scripted dom0 for netfront's tests, until netback and vpiod's broker
 * exist: a real XenstoreDaemon, real grants (GrantTable memfds, rings set
 * up with RingView.init), real event-channel pairs, a real Switch driven by
 * pollOnce(), and the backend's decisions taken by @vpio/vif's pure
 * backendStep() on every xenstore change. Guests are real C processes
 * (build/test/nf-guest) that inherit at known fd numbers:
 *
 *   3  their xenstore connection, demoted to their domid (CONTROL vpio-demote)
 *   4  TX ring grant   5  RX ring grant   6  pool grant        (VPIO_NF_GRANTS)
 *   7/8  TX channel end (rx/tx fd)   9/10  RX channel end      (VPIO_NF_EVTCHNS)
 *
 * vpiod's broker replaces the fd tables next (the guest asks it for a ref's
 * descriptor and for channels); the handshake does not change.
 *
 * A vif made with `queues: N` has N ring sets (the grants of queue 1 follow
 * queue 0's, and so on) and offers 2N channels (ports 1..2N); a frontend
 * connecting k queues gets k switch ports in one group.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createChannelPair, type ChannelEnd } from '@vpio/evtchn';
import { GrantTable, type Grant } from '@vpio/grant';
import { RingView } from '@vpio/ring';
import { Switch } from '@vpio/switch';
import {
  VIF_KEYS, VIF_LIMITS, XENBUS_STATES, backendDir, backendStep, frontendDir, queueDir,
  type BackendAction, type BackendRecord, type Dir, type KeyWrite,
} from '@vpio/vif';
import { XenstoreClient, XenstoreDaemon, type XenstoreOps } from '@vpio/xenstore';
import { spawnStaticGuest, type Guest } from '../src/test-utils.js';

export { GUEST_BIN, Guest, type GuestEvent } from '../src/test-utils.js';
const PAGE = 4096;
const BUF_SIZE = 2048;
const roundPage = (n: number): number => Math.ceil(n / PAGE) * PAGE;

export interface VifOptions {
  readonly mac: string;
  readonly txSlots?: number;
  readonly rxSlots?: number;
  readonly mtu?: number;
  /** Ring sets (queues) the vif offers: 1..8, default 1. */
  readonly queues?: number;
}

export interface Vif {
  readonly domid: number;
  readonly devid: number;
  readonly mac: string;
  readonly record: BackendRecord;
  readonly beDir: string;
  readonly feDir: string;
  /** State changes as the backend saw them, in order: "frontend 4", "backend 2", ... */
  readonly log: string[];
  /** Error nodes the backend wrote. */
  readonly errors: string[];
  /** Every backendStep decision, in order (kinds). */
  readonly decisions: BackendAction[];
  /** Queue 0's switch port (the group's id) while attached. */
  port: number | undefined;
  /** Every queue's switch port while attached (queue order). */
  ports: number[];
}

interface QueueGrants {
  tx: Grant;
  rx: Grant;
  pool: Grant;
}

interface VifInternal extends Vif {
  queueGrants: QueueGrants[];
  nrBufs: number;
  /** port number the guest sees -> [backend end, guest end] */
  channels: Map<number, [ChannelEnd, ChannelEnd]>;
  last: { fe?: string };
  chain: Promise<void>;
  closed: boolean;
}

const QUEUE_DIRS = new Set(Array.from({ length: VIF_LIMITS.maxQueues }, (_, i) => queueDir(i)));

/** One level, plus queue-<i>/ subdirectories as `queue-<i>/<key>` (the Dir backendStep reads). */
async function readDir(xs: XenstoreOps, path: string): Promise<Dir> {
  const out: Record<string, string> = {};
  const level = async (base: string, prefix: string): Promise<string[]> => {
    let names: string[];
    try {
      names = await xs.directory(base);
    } catch {
      return [];
    }
    for (const n of names) {
      try {
        out[`${prefix}${n}`] = (await xs.read(`${base}/${n}`)).toString('latin1');
      } catch {
        /* removed meanwhile */
      }
    }
    return names;
  };
  for (const n of await level(path, '')) if (QUEUE_DIRS.has(n)) await level(`${path}/${n}`, `${n}/`);
  return out;
}

export class ScriptedDom0 {
  readonly vifs: Vif[] = [];
  readonly guests: Guest[] = [];
  #poller: NodeJS.Timeout;

  private constructor(
    readonly dir: string,
    readonly daemon: XenstoreDaemon,
    readonly xs: XenstoreClient,
    readonly grants: GrantTable,
    readonly sw: Switch,
  ) {
    this.#poller = setInterval(() => {
      try {
        this.sw.pollOnce();
      } catch {
        /* closed */
      }
    }, 1);
  }

  static async start(): Promise<ScriptedDom0> {
    const dir = mkdtempSync(join(tmpdir(), 'vpio-nf-'));
    const daemon = new XenstoreDaemon({ socketPath: join(dir, 'xs.sock'), log: () => undefined });
    await daemon.start();
    const xs = await XenstoreClient.connect(daemon.path);
    return new ScriptedDom0(dir, daemon, xs, new GrantTable({ domid: 0 }), new Switch({ cores: [], clock: 'manual' }));
  }

  /** The toolstack's part plus netback's set-up: regions, rings, channels, both directories, watches. */
  async createVif(domid: number, devid: number, opts: VifOptions): Promise<Vif> {
    const txSlots = opts.txSlots ?? 256;
    const rxSlots = opts.rxSlots ?? 256;
    const nrBufs = txSlots + rxSlots + 64;
    const nq = opts.queues ?? 1;
    const queueGrants = Array.from({ length: nq }, (): QueueGrants => {
      const tx = this.grants.grantRegion({ bytes: roundPage(RingView.bytes(txSlots)), grantee: domid, access: 'rw' });
      const rx = this.grants.grantRegion({ bytes: roundPage(RingView.bytes(rxSlots)), grantee: domid, access: 'rw' });
      const pool = this.grants.grantRegion({ bytes: roundPage(nrBufs * BUF_SIZE), grantee: domid, access: 'rw' });
      const txView = RingView.init(tx.buffer, 0, { kind: 'tx', numSlots: txSlots, bufSizeBytes: BUF_SIZE, nrBufs });
      const rxView = RingView.init(rx.buffer, 0, { kind: 'rx', numSlots: rxSlots, bufSizeBytes: BUF_SIZE, nrBufs, firstBuf: txSlots });
      for (let i = 0; i < txSlots; i++) txView.writeSlot(i, { gref: BigInt(pool.ref) });
      for (let i = 0; i < rxSlots; i++) rxView.writeSlot(i, { gref: BigInt(pool.ref) });
      return { tx, rx, pool };
    });
    const rings = queueGrants.map((g) => ({ tx: { numSlots: txSlots, refs: [g.tx.ref] }, rx: { numSlots: rxSlots, refs: [g.rx.ref] } }));
    const vif: VifInternal = {
      domid, devid, mac: opts.mac, beDir: backendDir(domid, devid), feDir: frontendDir(domid, devid),
      record: { tx: rings[0]!.tx, rx: rings[0]!.rx, ...(nq > 1 ? { extraQueues: rings.slice(1) } : {}) },
      log: [], errors: [], decisions: [], port: undefined, ports: [],
      queueGrants, nrBufs,
      channels: new Map(Array.from({ length: 2 * nq }, (_, i) => [i + 1, createChannelPair()] as [number, [ChannelEnd, ChannelEnd]])),
      last: {}, chain: Promise.resolve(), closed: false,
    };
    // the domain exists for xenstore (owners must be live domains)
    if (!(await this.xs.isDomainIntroduced(domid))) await this.xs.introduce(domid, 0, 1);
    // toolstack: both directories in one transaction, with their permissions
    await this.xs.transaction(async (t) => {
      await t.write(`${vif.feDir}/${VIF_KEYS.backend}`, vif.beDir);
      await t.write(`${vif.feDir}/${VIF_KEYS.backendId}`, '0');
      await t.write(`${vif.feDir}/${VIF_KEYS.handle}`, String(devid));
      await t.write(`${vif.feDir}/${VIF_KEYS.state}`, String(XENBUS_STATES.Initialising));
      await t.setPerms(vif.feDir, [{ domid, access: 'n' }]);
      await t.setPerms(`${vif.feDir}/${VIF_KEYS.state}`, [{ domid, access: 'n' }]);
      for (const k of [VIF_KEYS.backend, VIF_KEYS.backendId, VIF_KEYS.handle]) await t.setPerms(`${vif.feDir}/${k}`, [{ domid: 0, access: 'r' }, { domid, access: 'r' }]);
      await t.write(`${vif.beDir}/${VIF_KEYS.frontend}`, vif.feDir);
      await t.write(`${vif.beDir}/${VIF_KEYS.frontendId}`, String(domid));
      await t.write(`${vif.beDir}/${VIF_KEYS.handle}`, String(devid));
      await t.write(`${vif.beDir}/${VIF_KEYS.mac}`, opts.mac);
      await t.write(`${vif.beDir}/${VIF_KEYS.mtu}`, String(opts.mtu ?? 1500));
      await t.write(`${vif.beDir}/${VIF_KEYS.state}`, String(XENBUS_STATES.Initialising));
      for (const p of [vif.beDir, ...[VIF_KEYS.frontend, VIF_KEYS.frontendId, VIF_KEYS.handle, VIF_KEYS.mac, VIF_KEYS.mtu, VIF_KEYS.state].map((k) => `${vif.beDir}/${k}`)]) {
        await t.setPerms(p, [{ domid: 0, access: 'n' }, { domid, access: 'r' }]);
      }
    });
    this.vifs.push(vif);
    for (const path of [vif.feDir, vif.beDir]) {
      const w = await this.xs.watch(path);
      void (async () => {
        try {
          for await (const _e of w) this.#schedule(vif);
        } catch {
          /* watch ended */
        }
      })();
    }
    return vif;
  }

  #schedule(vif: VifInternal): void {
    vif.chain = vif.chain.then(() => this.#step(vif)).catch((e: unknown) => {
      vif.errors.push(`step failed: ${String(e)}`);
    });
  }

  /** Read, decide with backendStep(), act. */
  async #step(vif: VifInternal): Promise<void> {
    if (vif.closed) return;
    // one snapshot of both directories: read key by key outside a transaction, a step could see
    // the frontend's state=Connected without the channels committed with it
    const { own, frontend } = await this.xs.transaction(async (t) => ({
      own: await readDir(t, vif.beDir), frontend: await readDir(t, vif.feDir),
    }));
    // frontend states as observed; backend states as written (#transaction), so the log keeps their true order
    if (frontend.state !== undefined && vif.last.fe !== frontend.state) {
      if (vif.last.fe !== undefined) vif.log.push(`frontend ${frontend.state}`);
      vif.last.fe = frontend.state;
    }
    const actions = backendStep({ own, frontend, record: vif.record, local: { attached: vif.port !== undefined } });
    for (const a of actions) {
      if (a.kind !== 'wait') vif.decisions.push(a);
      switch (a.kind) {
        case 'transaction':
          await this.#transaction(vif, a.writes);
          break;
        case 'error':
          vif.errors.push(a.text);
          await this.xs.write(`${vif.beDir}/${VIF_KEYS.error}`, a.text);
          break;
        case 'connect': {
          const ends = a.queues.map((p) => [vif.channels.get(p.txPort), vif.channels.get(p.rxPort)] as const);
          const missing = a.queues.flatMap((p, q) => [[p.txPort, ends[q]![0], 'tx'], [p.rxPort, ends[q]![1], 'rx']] as const).find(([, e]) => e === undefined);
          if (missing) {
            const key = missing[2] === 'tx' ? VIF_KEYS.eventChannelTx : VIF_KEYS.eventChannelRx;
            const text = `${key}: no channel ${missing[0]} was offered to domain ${vif.domid}`;
            vif.errors.push(text);
            await this.xs.write(`${vif.beDir}/${VIF_KEYS.error}`, text);
            return; // the Connected write that follows must not happen
          }
          vif.ports = [];
          for (const [q, [tx, rx]] of ends.entries()) {
            const g = vif.queueGrants[q]!;
            vif.ports.push(this.sw.addPort({
              txRing: g.tx.buffer, rxRing: g.rx.buffer, pool: g.pool.buffer,
              txSlots: vif.record.tx.numSlots, rxSlots: vif.record.rx.numSlots, bufSizeBytes: BUF_SIZE, nrBufs: vif.nrBufs,
              mac: vif.mac, lossless: true,
              txWaitFd: tx![0].rxFd, txNotifyFd: tx![0].txFd, rxWaitFd: rx![0].rxFd, rxNotifyFd: rx![0].txFd,
              ...(q > 0 ? { group: vif.ports[0]! } : {}),
            }));
          }
          vif.port = vif.ports[0];
          break;
        }
        case 'disconnect':
          for (const id of vif.ports.reverse()) this.sw.removePort(id);
          vif.ports = [];
          vif.port = undefined;
          break;
        case 'wait':
          break;
      }
    }
  }

  async #transaction(vif: VifInternal, writes: readonly KeyWrite[]): Promise<void> {
    await this.xs.transaction(async (t) => {
      for (const w of writes) {
        const path = `${w.dir === 'frontend' ? vif.feDir : vif.beDir}/${w.key}`;
        if (w.value === null) await t.rm(path).catch(() => undefined);
        else await t.write(path, w.value);
      }
    });
    for (const w of writes) if (w.dir === 'backend' && w.key === VIF_KEYS.state && w.value !== null) vif.log.push(`backend ${w.value}`);
  }

  /** Spawns build/test/nf-guest as `vif`'s domain. */
  async spawnGuest(vif: Vif, args: string[] = []): Promise<Guest> {
    const v = vif as VifInternal;
    const g = await spawnStaticGuest({
      daemonPath: this.daemon.path, domid: v.domid, devid: v.devid, args,
      grants: v.queueGrants.flatMap((q) => [q.tx, q.rx, q.pool]).map((x) => ({ ref: x.ref, fd: x.fd })),
      channels: [...v.channels.keys()].map((port) => ({ port, end: v.channels.get(port)![1] })),
    });
    this.guests.push(g);
    return g;
  }

  /** Runs `fn` in one transaction on a connection demoted to `domid`: writes as the guest itself would make them. */
  async asGuest(domid: number, fn: (t: XenstoreOps) => Promise<void>): Promise<void> {
    const c = await XenstoreClient.connect(this.daemon.path);
    try {
      await c.demote(domid);
      await c.transaction(fn);
    } finally {
      await c.close();
    }
  }

  /**
   * The toolstack's removal of a vif, as netback's teardown does it: the
   * backend stops acting on it, its ports are detached, both directories
   * go in one transaction (the guest's grants and channel ends stay until close()).
   */
  async removeVif(vif: Vif): Promise<void> {
    const v = vif as VifInternal;
    v.closed = true;
    await v.chain;
    for (const id of v.ports.reverse()) this.sw.removePort(id);
    v.ports = [];
    v.port = undefined;
    await this.xs.transaction(async (t) => {
      await t.rm(v.beDir).catch(() => undefined);
      await t.rm(v.feDir).catch(() => undefined);
    });
  }

  /** Both directories now. */
  async dirs(vif: Vif): Promise<{ frontend: Dir; backend: Dir }> {
    return { frontend: await readDir(this.xs, vif.feDir), backend: await readDir(this.xs, vif.beDir) };
  }

  /** Resolves once every scheduled backend step of `vif` ran. */
  async settle(vif: Vif): Promise<void> {
    await (vif as VifInternal).chain;
  }

  async close(): Promise<void> {
    clearInterval(this.#poller);
    for (const g of this.guests) if (g.child.exitCode === null) g.child.kill('SIGKILL');
    await Promise.all(this.guests.map((g) => g.exited));
    for (const v of this.vifs as VifInternal[]) {
      v.closed = true;
      for (const id of v.ports.reverse()) this.sw.removePort(id);
      for (const [be, fe] of v.channels.values()) {
        be.close();
        if (!fe.closed) fe.close();
      }
    }
    this.sw.close();
    this.grants.close();
    await this.xs.close().catch(() => undefined);
    await this.daemon.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
