/**
 * Test fixtures for anything that needs real netfront guests
 * (`@vpio/netfront/test-utils`): the C test guest `build/test/nf-guest`
 * (ASan + UBSan), started with the "static host ops" — its demoted
 * xenstore connection, grant descriptors and channel ends inherited at
 * known fd numbers — and a reader of its JSON-line events.
 *
 *   3  xenstore connection, demoted to the guest's domid (CONTROL vpio-demote)
 *   4.. one descriptor per grant                    (VPIO_NF_GRANTS="ref:fd,...")
 *   then two per channel: the guest end's rx, tx   (VPIO_NF_EVTCHNS="port:rx:tx,...")
 *
 * Used by netfront's own tests (test/scripted-dom0.ts) and by netback's.
 * Not part of the guest-facing API.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createConnection, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ChannelEnd } from '@vpio/evtchn';
import { encodeMessage } from '@vpio/xenstore';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The C test guest (`make test-bins`). */
export const GUEST_BIN: string = join(root, 'build', 'test', 'nf-guest');

/** Builds the test guest if it is missing or stale (`make -s test-bins`; incremental). Call once per run (a vitest globalSetup). */
export function ensureGuestBinary(): string {
  execFileSync('make', ['-s', '-C', root, 'test-bins'], { stdio: 'inherit' });
  return GUEST_BIN;
}

export interface GuestEvent {
  readonly event: string;
  readonly [k: string]: unknown;
}

/** A running nf-guest: its JSON-line events, its stderr, its exit. */
export class Guest {
  readonly events: GuestEvent[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  #waiters: Array<() => void> = [];

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as GuestEvent);
      } catch {
        this.events.push({ event: 'unparsed', line });
      }
      for (const w of this.#waiters.splice(0)) w();
    });
    child.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => {
      for (const w of this.#waiters.splice(0)) w();
      resolve(code);
    }));
  }

  /** The first event named `name` (or an error event, which fails). */
  async next(name: string, timeoutMs = 15_000): Promise<GuestEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events.find((x) => x.event === name || x.event === 'error');
      if (e?.event === 'error') throw new Error(`guest failed: ${JSON.stringify(e)} ${this.stderr.join('')}`);
      if (e) return e;
      if (this.child.exitCode !== null) throw new Error(`guest exited (${this.child.exitCode}) before "${name}": ${this.stderr.join('')}`);
      if (Date.now() > deadline) throw new Error(`no "${name}" from the guest within ${timeoutMs} ms: ${this.stderr.join('')}`);
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }
}

/** A connection to the xenstore daemon at `daemonPath`, demoted to `domid`, paused (for a child to inherit). */
export async function guestXenstoreConnection(daemonPath: string, domid: number): Promise<Socket> {
  const sock = createConnection(daemonPath);
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  const payload = Buffer.from(`vpio-demote\0${domid}\0`);
  const reply = new Promise<Buffer>((resolve) => sock.once('data', resolve));
  sock.write(encodeMessage({ type: 0, reqId: 1, txId: 0, payload }));
  const r = await reply;
  sock.pause();
  if (r.readUInt32LE(0) !== 0) throw new Error(`vpio-demote failed: ${r.subarray(16).toString()}`);
  return sock;
}

export interface StaticGuestOptions {
  /** The xenstore daemon's socket. */
  readonly daemonPath: string;
  readonly domid: number;
  readonly devid: number;
  /** Grants the guest may map: ref and the granter's descriptor (inherited, not closed here). */
  readonly grants: ReadonlyArray<{ readonly ref: number; readonly fd: number }>;
  /** Channels offered to the guest, in the order its `alloc` hands them out; the ends are closed here once inherited. */
  readonly channels: ReadonlyArray<{ readonly port: number; readonly end: ChannelEnd }>;
  readonly args?: readonly string[];
}

/** Starts nf-guest as `domid` with static host ops. The guest channel ends passed in are closed after the spawn. */
export async function spawnStaticGuest(opts: StaticGuestOptions): Promise<Guest> {
  // loaded here, not at the top: it imports vitest, and ensureGuestBinary() runs in a vitest globalSetup
  const { SANITIZER_ENV } = await import('@vpio/devkit/c-tests');
  const sock = await guestXenstoreConnection(opts.daemonPath, opts.domid);
  const fds: number[] = [];
  const grants = opts.grants.map((g) => `${g.ref}:${3 + fds.push(g.fd)}`);
  const chans = opts.channels.map((c) => `${c.port}:${3 + fds.push(c.end.rxFd)}:${3 + fds.push(c.end.txFd)}`);
  const child = spawn(GUEST_BIN, ['--devid', String(opts.devid), ...(opts.args ?? [])], {
    stdio: ['pipe', 'pipe', 'pipe', sock, ...fds],
    env: {
      ...process.env, ...SANITIZER_ENV,
      VPIO_NF_XS_FD: '3',
      VPIO_NF_GRANTS: grants.join(','),
      VPIO_NF_EVTCHNS: chans.join(','),
    },
  });
  sock.destroy();
  for (const c of opts.channels) c.end.close();
  return new Guest(child);
}
