/**
 * The CLI control socket, server side: a unix stream socket in vpiod's 0700
 * directory, created 0600, that serves newline-delimited JSON requests
 * (protocol.ts) to its owner only. Each accepted connection's SO_PEERCRED
 * uid must equal the server's effective uid (root's socket: root only);
 * anyone else gets one CLI_PEER_REJECTED line and the connection closes.
 * The directory and file modes already keep others out; the credential
 * check holds when they are loosened by mistake.
 *
 * Every request is validated here (unknown command, bad arguments: an error
 * reply, never a crash); a line over MAX_LINE_BYTES or that is not JSON
 * gets a CLI_PROTOCOL reply and the connection is closed.
 */
import { chmodSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { ArgumentError, VpioError, expectInteger } from '@vpio/errors';
import { CaptureStream, parseCaptureArgs } from './capture-stream.js';
import { CliError } from './cli-error.js';
import { peerCred, type PeerCred } from './peer-cred.js';
import type { Platform } from './platform.js';
import { COMMANDS, MAX_LINE_BYTES, MINIOS_CONFIG_MAX, type Command, type ErrorBody, type MiniosGuestArgs, type Response, type RunArgs } from './protocol.js';
import { MAX_QUEUES, parseVifSpec, type VifSpec } from './vif-spec.js';
import { parseMemifAdd, parseUplinkAdd, parseVxlanAdd } from './uplink-spec.js';

export interface ControlServerOptions {
  readonly path: string;
  readonly platform: Platform;
  /** Called once after a `down` request was answered. */
  readonly onDown: () => void;
  /** Who may connect (default: this process's effective uid). */
  readonly allowedUid?: number;
  readonly log?: (entry: { level: 'info' | 'warn'; event: string; message: string }) => void;
}

function errorBody(e: unknown): ErrorBody {
  if (e instanceof ArgumentError) return { code: e.code, message: e.message, parameter: e.parameter };
  if (e instanceof VpioError) return { code: e.code, message: e.message };
  return { code: 'CLI_INTERNAL', message: (e as Error)?.message ?? String(e) };
}

function obj(args: unknown): Record<string, unknown> {
  if (args === undefined) return {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new ArgumentError('args', 'an object', args);
  return args as Record<string, unknown>;
}

/** Validates a `run` request's args into RunArgs (vifs re-parsed from their text form). */
function runArgs(raw: unknown): RunArgs {
  const a = obj(raw);
  if (a.name !== undefined && typeof a.name !== 'string') throw new ArgumentError('name', 'a string', a.name);
  const xen = a.xen as { kernel?: unknown; ramdisk?: unknown; cmdline?: unknown; vcpus?: unknown } | undefined;
  if (xen !== undefined) {
    if (typeof xen !== 'object' || xen === null || typeof xen.kernel !== 'string' || xen.kernel === '') throw new ArgumentError('xen', 'an object { kernel, ramdisk?, cmdline?, vcpus? }', a.xen);
    if (xen.ramdisk !== undefined && typeof xen.ramdisk !== 'string') throw new ArgumentError('xen.ramdisk', 'a path', xen.ramdisk);
    if (xen.cmdline !== undefined && typeof xen.cmdline !== 'string') throw new ArgumentError('xen.cmdline', 'a string', xen.cmdline);
    if (xen.vcpus !== undefined) expectInteger('xen.vcpus', xen.vcpus, 1, 128);
    if (a.argv !== undefined && (!Array.isArray(a.argv) || a.argv.length !== 0)) throw new ArgumentError('argv', 'nothing for a xen guest (it boots its kernel)', a.argv);
  }
  const minios = a.minios === undefined ? undefined : miniosArgs(a.minios);
  if (minios) {
    if (a.argv !== undefined && (!Array.isArray(a.argv) || a.argv.length !== 0)) throw new ArgumentError('argv', 'nothing for a minios guest (it runs its configuration)', a.argv);
    if (a.linux !== undefined) throw new ArgumentError('linux', 'nothing for a minios guest', a.linux);
  } else if (xen !== undefined) {
    // a PV kernel: checked above
  } else if (!Array.isArray(a.argv) || a.argv.length === 0 || !a.argv.every((x) => typeof x === 'string')) throw new ArgumentError('argv', 'a non-empty array of strings', a.argv);
  const vifsIn = a.vifs ?? [];
  if (!Array.isArray(vifsIn) || !vifsIn.every((x) => typeof x === 'string')) throw new ArgumentError('vifs', 'an array of --vif strings', vifsIn);
  const vifs: VifSpec[] = vifsIn.map((s: string) => parseVifSpec(s));
  if (a.memoryMiB !== undefined && typeof a.memoryMiB !== 'number') throw new ArgumentError('memoryMiB', 'a number', a.memoryMiB);
  if (a.env !== undefined && (typeof a.env !== 'object' || a.env === null || Array.isArray(a.env) || !Object.values(a.env).every((v) => typeof v === 'string'))) {
    throw new ArgumentError('env', 'an object of strings', a.env);
  }
  if (a.linux !== undefined && (typeof a.linux !== 'object' || a.linux === null || Array.isArray(a.linux))) throw new ArgumentError('linux', 'an object { ipv4?, ipv6? }', a.linux);
  const linux = a.linux as { ipv4?: unknown; ipv6?: unknown; offload?: unknown; queues?: unknown } | undefined;
  if (linux && ((linux.ipv4 !== undefined && typeof linux.ipv4 !== 'string') || (linux.ipv6 !== undefined && typeof linux.ipv6 !== 'string'))) throw new ArgumentError('linux', 'ipv4/ipv6 strings', a.linux);
  if (linux && linux.offload !== undefined && typeof linux.offload !== 'boolean') throw new ArgumentError('linux.offload', 'a boolean', linux.offload);
  if (linux && linux.queues !== undefined) expectInteger('linux.queues', linux.queues, 1, MAX_QUEUES);
  return {
    name: a.name as string | undefined, argv: (a.argv as string[] | undefined) ?? [], vifs,
    ...(xen ? { xen: { kernel: xen.kernel as string, ...(xen.ramdisk === undefined ? {} : { ramdisk: xen.ramdisk as string }), ...(xen.cmdline === undefined ? {} : { cmdline: xen.cmdline as string }), ...(xen.vcpus === undefined ? {} : { vcpus: xen.vcpus as number }) } } : {}), memoryMiB: a.memoryMiB as number | undefined, env: a.env as Record<string, string> | undefined,
    ...(minios ? { minios } : {}),
    ...(linux ? { linux: { ...(linux.ipv4 === undefined ? {} : { ipv4: linux.ipv4 as string }), ...(linux.ipv6 === undefined ? {} : { ipv6: linux.ipv6 as string }), ...(linux.offload === undefined ? {} : { offload: linux.offload as boolean }), ...(linux.queues === undefined ? {} : { queues: linux.queues as number }) } } : {}),
  };
}

/** Validates `run`'s minios args: a configuration that fits one xenstore value, an optional stats interval. */
function miniosArgs(raw: unknown): MiniosGuestArgs {
  const m = obj(raw);
  if (typeof m.config !== 'string' || m.config.trim() === '') throw new ArgumentError('minios.config', 'the configuration text', m.config);
  const bytes = Buffer.byteLength(m.config);
  if (bytes > MINIOS_CONFIG_MAX) throw new ArgumentError('minios.config', `at most ${MINIOS_CONFIG_MAX} bytes (one xenstore value in xen mode), not ${bytes}`, `${bytes} bytes`);
  if (m.config.includes('\0')) throw new ArgumentError('minios.config', 'text without NUL bytes', 'a NUL byte');
  const statsIntervalMs = m.statsIntervalMs === undefined ? undefined : expectInteger('minios.statsIntervalMs', m.statsIntervalMs, 1, 3_600_000);
  return { config: m.config, ...(statsIntervalMs === undefined ? {} : { statsIntervalMs }) };
}

export class ControlServer {
  readonly #options: ControlServerOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** Running `capture` streams per connection, by request id. */
  readonly #captures = new Map<Socket, Map<number, CaptureStream>>();
  readonly #allowedUid: number;
  #closed = false;

  private constructor(options: ControlServerOptions) {
    this.#options = options;
    this.#allowedUid = options.allowedUid ?? process.geteuid?.() ?? 0;
    this.#server = createServer((s) => this.#accept(s));
  }

  /** Listens on `path` (created 0600). Throws when it is taken. */
  static async listen(options: ControlServerOptions): Promise<ControlServer> {
    const server = new ControlServer(options);
    const old = process.umask(0o177); // the socket file is born 0600: no window where it is wider
    try {
      await new Promise<void>((resolve, reject) => {
        server.#server.once('error', reject);
        server.#server.listen(options.path, () => {
          server.#server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(old);
    }
    chmodSync(options.path, 0o600);
    return server;
  }

  /** Stops accepting, ends open connections, removes the socket file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const streams of this.#captures.values()) for (const c of streams.values()) c.stop('closed');
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    // every connection is tracked (close() destroys them, so server.close() never waits on one)
    this.#sockets.add(socket);
    socket.on('close', () => {
      this.#sockets.delete(socket);
      for (const c of this.#captures.get(socket)?.values() ?? []) c.stop('closed'); // the CLI died: stop the capture in the switch
      this.#captures.delete(socket);
    });
    socket.on('error', () => undefined);
    const refuse = (e: unknown): void => {
      socket.resume(); // read (and drop) until the peer's EOF, so the connection really closes
      socket.end(`${JSON.stringify({ id: null, ok: false, error: errorBody(e) })}\n`);
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    let cred: PeerCred;
    try {
      cred = peerCred(socket);
    } catch (e) {
      refuse(e);
      return;
    }
    if (cred.uid !== this.#allowedUid) {
      this.#options.log?.({ level: 'warn', event: 'peer-rejected', message: `pid ${cred.pid} uid ${cred.uid} is not uid ${this.#allowedUid}` });
      refuse(new CliError('CLI_PEER_REJECTED', `this control socket serves uid ${this.#allowedUid} only (you are uid ${cred.uid})`));
      return;
    }
    let buf = '';
    let chain = Promise.resolve();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim() === '') continue;
        chain = chain.then(() => this.#handleLine(socket, line));
      }
      if (Buffer.byteLength(buf) > MAX_LINE_BYTES) {
        buf = '';
        this.#reply(socket, { id: null, ok: false, error: { code: 'CLI_PROTOCOL', message: `request line longer than ${MAX_LINE_BYTES} bytes` } });
        socket.end();
      }
    });
  }

  #reply(socket: Socket, r: Response): void {
    if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(r)}\n`);
  }

  async #handleLine(socket: Socket, line: string): Promise<void> {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      this.#reply(socket, { id: null, ok: false, error: { code: 'CLI_PROTOCOL', message: 'a request line is not JSON' } });
      socket.end();
      return;
    }
    const m = msg as { id?: unknown; cmd?: unknown; args?: unknown };
    const id = typeof m === 'object' && m !== null && Number.isSafeInteger(m.id) ? (m.id as number) : null;
    if (id === null || typeof m.cmd !== 'string' || !(COMMANDS as readonly string[]).includes(m.cmd)) {
      this.#reply(socket, { id, ok: false, error: { code: 'CLI_PROTOCOL', message: `expected {"id": integer, "cmd": one of ${COMMANDS.join(', ')}}` } });
      return;
    }
    if (m.cmd === 'capture' || m.cmd === 'capture-stop') {
      this.#capture(socket, id, m.cmd, m.args);
      return;
    }
    try {
      const result = await this.#dispatch(m.cmd as Command, m.args);
      this.#reply(socket, { id, ok: true, result });
      if (m.cmd === 'down') socket.end(() => this.#options.onDown());
    } catch (e) {
      this.#reply(socket, { id, ok: false, error: errorBody(e) });
    }
  }

  /**
   * `capture` starts a stream on this connection (stream lines, then the
   * final reply when it ends) without holding up the requests after it;
   * `capture-stop` {id} ends one of this connection's streams.
   */
  #capture(socket: Socket, id: number, cmd: 'capture' | 'capture-stop', raw: unknown): void {
    const streams = this.#captures.get(socket) ?? new Map<number, CaptureStream>();
    try {
      if (cmd === 'capture-stop') {
        const a = obj(raw);
        const target = typeof a.id === 'number' ? streams.get(a.id) : undefined;
        if (!target) throw new ArgumentError('id', `the id of a running capture on this connection (${[...streams.keys()].join(', ') || 'none'})`, a.id);
        target.stop('stopped');
        this.#reply(socket, { id, ok: true, result: { stopping: true } });
        return;
      }
      const args = parseCaptureArgs(raw);
      const started = this.#options.platform.startCapture(args.port, { snaplen: args.snaplen, direction: args.direction, bufferBytes: args.bufferBytes });
      this.#captures.set(socket, streams);
      streams.set(id, new CaptureStream({
        ...started,
        count: args.count,
        durationMs: args.durationMs,
        send: (e) => {
          if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify({ id, stream: e })}\n`);
        },
        backlogBytes: () => socket.writableLength,
        onEnd: (r) => {
          streams.delete(id);
          this.#reply(socket, { id, ok: true, result: r });
        },
      }));
      if (socket.destroyed) streams.get(id)?.stop('closed'); // the CLI left before the capture started
    } catch (e) {
      this.#reply(socket, { id, ok: false, error: errorBody(e) });
    }
  }

  async #dispatch(cmd: Command, raw: unknown): Promise<unknown> {
    const p = this.#options.platform;
    switch (cmd) {
      case 'ping': return p.info();
      case 'ls': return p.ls();
      case 'stats': return p.stats();
      case 'run': return p.run(runArgs(raw));
      case 'destroy': {
        const a = obj(raw);
        if (typeof a.name !== 'string') throw new ArgumentError('name', 'a domain name', a.name);
        return p.destroy(a.name);
      }
      case 'down': return { stopping: true };
      case 'uplink-add': return p.addUplink(parseUplinkAdd(raw));
      case 'vxlan-add': return p.addVxlan(parseVxlanAdd(raw));
      case 'uplink-rm': {
        const a = obj(raw);
        if (typeof a.ifname !== 'string' || a.ifname === '') throw new ArgumentError('ifname', 'an interface name', a.ifname);
        return p.removePort('uplink', a.ifname);
      }
      case 'vxlan-rm': {
        const a = obj(raw);
        if (typeof a.name !== 'string' || a.name === '') throw new ArgumentError('name', 'a VXLAN port name', a.name);
        return p.removePort('vxlan', a.name);
      }
      case 'memif-add': return p.addMemif(parseMemifAdd(raw));
      case 'memif-rm': {
        const a = obj(raw);
        if (typeof a.name !== 'string' || a.name === '') throw new ArgumentError('name', 'a memif port name', a.name);
        return p.removePort('memif', a.name);
      }
      case 'console': {
        const a = obj(raw);
        if (typeof a.name !== 'string') throw new ArgumentError('name', 'a domain name', a.name);
        return p.console(a.name, a.since === undefined ? 0 : (a.since as number));
      }
    }
  }
}
