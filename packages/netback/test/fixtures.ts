/**
 * dom0 for netback's tests, on real parts: a real XenstoreDaemon, a real
 * GrantTable, a real Switch (no worker threads: driven by pollOnce() every
 * millisecond), and a Netback on them. The harness plays vpiod's broker for
 * the guests, as netfront's scripted dom0 does: it introduces and releases
 * domains, offers each guest two channel pairs and hands a guest the
 * descriptors of the refs netback granted it. Guests are netfront's C test
 * guest with static host ops (@vpio/netfront/test-utils).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createChannelPair, type ChannelEnd } from '@vpio/evtchn';
import { GrantTable } from '@vpio/grant';
import { spawnStaticGuest, type Guest } from '@vpio/netfront/test-utils';
import { Switch } from '@vpio/switch';
import type { Dir } from '@vpio/vif';
import { XenstoreClient, XenstoreDaemon, type XenstoreOps } from '@vpio/xenstore';
import { Netback, type NetbackChannels, type NetbackOptions, type VifInfo } from '../src/index.js';

/** Channels offered by guests to dom0, as vpiod's broker would hold them: bind hands dom0 its end. */
export class StaticChannels implements NetbackChannels {
  /** domid -> guest port -> dom0's end (until bound) */
  readonly #offered = new Map<number, Map<number, ChannelEnd>>();
  readonly #bound = new Map<number, ChannelEnd>();
  readonly #nextGuestPort = new Map<number, number>();
  #nextLocal = 1;

  /** A pair offered by `domid` to dom0: the guest's port and end (the guest inherits it). */
  offer(domid: number): { port: number; end: ChannelEnd } {
    const port = this.#nextGuestPort.get(domid) ?? 1;
    this.#nextGuestPort.set(domid, port + 1);
    const [dom0, guest] = createChannelPair();
    const m = this.#offered.get(domid) ?? new Map<number, ChannelEnd>();
    m.set(port, dom0);
    this.#offered.set(domid, m);
    return { port, end: guest };
  }

  bindInterdomain(remoteDomid: number, remotePort: number): number {
    const end = this.#offered.get(remoteDomid)?.get(remotePort);
    if (end === undefined) throw new Error(`port ${remotePort} was not offered to domain 0 by domain ${remoteDomid}`);
    this.#offered.get(remoteDomid)!.delete(remotePort);
    const local = this.#nextLocal++;
    this.#bound.set(local, end);
    return local;
  }

  end(port: number): ChannelEnd {
    const e = this.#bound.get(port);
    if (e === undefined) throw new Error(`no bound port ${port}`);
    return e;
  }

  close(port: number): void {
    this.#bound.get(port)?.close();
    this.#bound.delete(port);
  }

  /** dom0 ports bound now. */
  get boundPorts(): number {
    return this.#bound.size;
  }

  /** Unbound offers of a dead domain go. */
  releaseDomain(domid: number): void {
    for (const e of this.#offered.get(domid)?.values() ?? []) e.close();
    this.#offered.delete(domid);
  }

  closeAll(): void {
    for (const d of [...this.#offered.keys()]) this.releaseDomain(d);
    for (const p of [...this.#bound.keys()]) this.close(p);
  }
}

export const MAC = (n: number): string => `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`;
export const VIF = { txSlots: 256, rxSlots: 256, bufSizeBytes: 2048 } as const;

/** Open descriptors of this process. */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

export class Dom0 {
  readonly guests: Array<{ domid: number; guest: Guest }> = [];
  #poller: NodeJS.Timeout;

  private constructor(
    readonly tmp: string,
    readonly daemon: XenstoreDaemon,
    readonly xs: XenstoreClient,
    readonly grants: GrantTable,
    readonly channels: StaticChannels,
    readonly sw: Switch,
    readonly netback: Netback,
  ) {
    this.#poller = setInterval(() => {
      try {
        this.sw.pollOnce();
      } catch {
        /* closed */
      }
    }, 1);
  }

  static async start(options: NetbackOptions = { lossless: true, log: process.env.NB_DEBUG ? (e) => console.error(JSON.stringify(e)) : undefined }): Promise<Dom0> {
    const dir = mkdtempSync(join(tmpdir(), 'vpio-nb-'));
    const daemon = new XenstoreDaemon({ socketPath: join(dir, 'xs.sock'), log: () => undefined });
    await daemon.start();
    const xs = await XenstoreClient.connect(daemon.path);
    const grants = new GrantTable({ domid: 0 });
    const channels = new StaticChannels();
    const sw = new Switch({ cores: [], clock: 'manual' });
    const netback = await Netback.start({ xenstore: xs, grants, channels, switch: sw }, options);
    return new Dom0(dir, daemon, xs, grants, channels, sw, netback);
  }

  /** The domain exists for the xenstore (vpiod's INTRODUCE). */
  async introduce(domid: number): Promise<void> {
    if (!(await this.xs.isDomainIntroduced(domid))) await this.xs.introduce(domid, 0, 1);
  }

  /** Starts nf-guest as `vif`'s domain: the refs netback granted (every queue's), two fresh channels per queue offered to dom0. */
  async spawnGuest(vif: VifInfo, args: string[] = []): Promise<Guest> {
    const guest = await spawnStaticGuest({
      daemonPath: this.daemon.path, domid: vif.domid, devid: vif.devid, args,
      grants: vif.queueGrantRefs.flatMap((q) => [q.tx, q.rx, q.pool]).map((ref) => ({ ref, fd: this.grants.get(ref).fd })),
      channels: Array.from({ length: 2 * vif.queues }, () => this.channels.offer(vif.domid)),
    });
    this.guests.push({ domid: vif.domid, guest });
    return guest;
  }

  /** The domain dies (SIGKILL) and is released as vpiod does it: broker state first, then RELEASE (@releaseDomain). */
  async killDomain(domid: number): Promise<void> {
    const mine = this.guests.filter((g) => g.domid === domid);
    for (const { guest } of mine) if (guest.child.exitCode === null && guest.child.signalCode === null) guest.child.kill('SIGKILL');
    await Promise.all(mine.map((g) => g.guest.exited));
    this.channels.releaseDomain(domid);
    await this.xs.release(domid);
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

  /** A directory now: key -> value, or undefined when it does not exist. */
  async dirOf(path: string): Promise<Dir | undefined> {
    return this.xs.transaction(async (t) => {
      let names: string[];
      try {
        names = await t.directory(path);
      } catch {
        return undefined;
      }
      const out: Record<string, string> = {};
      for (const n of names) out[n] = (await t.read(`${path}/${n}`).catch(() => Buffer.alloc(0))).toString('latin1');
      return out;
    });
  }

  async close(): Promise<void> {
    for (const { guest } of this.guests) if (guest.child.exitCode === null && guest.child.signalCode === null) guest.child.kill('SIGKILL');
    await Promise.all(this.guests.map((g) => g.guest.exited));
    await this.netback.close();
    clearInterval(this.#poller);
    this.channels.closeAll();
    this.sw.close();
    this.grants.close();
    await this.xs.close().catch(() => undefined);
    await this.daemon.close();
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** Resolves when `cond()` holds (polled), or fails naming `what`. */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Records netback's events for one vif (by domid/devid), in order: "backend 2", "frontend 4", "error: ...", "destroyed: ...". */
export function recordVif(nb: Netback, domid: number, devid = 0): string[] {
  const log: string[] = [];
  const mine = (v: VifInfo): boolean => v.domid === domid && v.devid === devid;
  nb.on('vifState', (v, side, state) => mine(v) && log.push(`${side} ${state}`));
  nb.on('vifError', (v, text) => mine(v) && log.push(`error: ${text}`));
  nb.on('vifDestroyed', (v, reason) => mine(v) && log.push(`destroyed: ${reason}`));
  return log;
}
