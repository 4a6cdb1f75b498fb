/**
 * A promise-based xenstore client over a unix socket. Requests are
 * pipelined: each gets its own req_id and its reply is matched by it.
 * Watch events go to per-watch async iterators. Errors from the daemon
 * reject with XenstoreError (`errnoName` = Xen's name).
 */
import { createConnection, type Socket } from 'node:net';
import { ArgumentError, VpioError, expectInteger } from '@vpio/errors';
import { decodeErrorPayload, encodeMessage, encodeString, encodeStrings, FrameDecoder, splitStrings, type XsMessage } from './wire.js';
import { formatPerm, parsePermStrings, type XsPerm } from './permissions.js';
import { DEFAULT_SOCKET_PATH, DEMOTE_COMMAND, PAYLOAD_MAX, RUNDIR_ENV, SOCKET_PATH_ENV, XS, type XsMessageType } from './protocol.js';
import { XenstoreError } from './xenstore-error.js';

/** The socket libxenstore would use: $XENSTORED_PATH, else $XENSTORED_RUNDIR/socket, else /var/run/xenstored/socket. */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env[SOCKET_PATH_ENV]) return env[SOCKET_PATH_ENV] as string;
  if (env[RUNDIR_ENV]) return `${env[RUNDIR_ENV]}/socket`;
  return DEFAULT_SOCKET_PATH;
}

export interface WatchEvent {
  readonly path: string;
  readonly token: string;
}

/** A registered watch: iterate for events (the first is the registration event); close() unwatches. */
export interface XenstoreWatch extends AsyncIterable<WatchEvent> {
  readonly path: string;
  readonly token: string;
  /** The next event (resolves when one arrives). */
  next(): Promise<WatchEvent>;
  close(): Promise<void>;
}

/** Operations that take part in one transaction. */
export interface XenstoreOps {
  read(path: string): Promise<Buffer>;
  readString(path: string): Promise<string>;
  write(path: string, value: string | Buffer): Promise<void>;
  mkdir(path: string): Promise<void>;
  rm(path: string): Promise<void>;
  directory(path: string): Promise<string[]>;
  getPerms(path: string): Promise<XsPerm[]>;
  setPerms(path: string, perms: readonly XsPerm[]): Promise<void>;
}

interface Pending {
  readonly type: number;
  resolve(payload: Buffer): void;
  reject(e: Error): void;
}

class WatchQueue implements XenstoreWatch {
  private readonly events: WatchEvent[] = [];
  private readonly waiters: Array<{ resolve(e: WatchEvent): void; reject(e: Error): void }> = [];
  private ended: Error | undefined;

  constructor(
    readonly path: string,
    readonly token: string,
    private readonly unwatch: (w: WatchQueue) => Promise<void>,
  ) {}

  push(e: WatchEvent): void {
    const w = this.waiters.shift();
    if (w) w.resolve(e);
    else this.events.push(e);
  }

  end(reason: Error): void {
    this.ended = reason;
    for (const w of this.waiters.splice(0)) w.reject(reason);
  }

  next(): Promise<WatchEvent> {
    const e = this.events.shift();
    if (e) return Promise.resolve(e);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    for (;;) {
      try {
        yield await this.next();
      } catch (e) {
        if (e instanceof VpioError && e.code === 'XS_WATCH_CLOSED') return;
        throw e;
      }
    }
  }

  close(): Promise<void> {
    return this.unwatch(this);
  }
}

export interface XenstoreTransactionOptions {
  /** How often to run `fn` before giving up on EAGAIN (default 32). */
  readonly maxAttempts?: number;
}

export class XenstoreClient implements XenstoreOps {
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private readonly watches = new Map<string, WatchQueue>();
  private nextReqId = 1;
  private nextToken = 1;
  private closed: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (e) => this.fail(new VpioError('XS_CONNECTION', `xenstore connection failed: ${e.message}`, { cause: e })));
    socket.on('close', () => this.fail(new VpioError('XS_CONNECTION_CLOSED', 'xenstore connection closed')));
  }

  /** Connects to `socketPath` (default: where libxenstore looks, see defaultSocketPath()). */
  static connect(socketPath: string = defaultSocketPath()): Promise<XenstoreClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(socketPath);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new XenstoreClient(socket));
      });
      socket.once('error', (e) => reject(new VpioError('XS_CONNECT', `cannot connect to xenstore at ${socketPath}: ${e.message}`, { cause: e })));
    });
  }

  private receive(chunk: Buffer): void {
    let messages: XsMessage[];
    try {
      messages = this.decoder.push(chunk);
    } catch (e) {
      this.fail(e as Error);
      this.socket.destroy();
      return;
    }
    for (const m of messages) {
      if (m.type === XS.WATCH_EVENT) {
        const [path, token] = splitStrings(m.payload).strings;
        if (path !== undefined && token !== undefined) this.watches.get(token)?.push({ path, token });
        continue;
      }
      const p = this.pending.get(m.reqId);
      if (!p) continue;
      this.pending.delete(m.reqId);
      if (m.type === XS.ERROR) p.reject(new XenstoreError(decodeErrorPayload(m.payload), `xenstore ${XS_NAMES[p.type] ?? p.type}`));
      else if (m.type !== p.type) p.reject(new VpioError('XS_PROTOCOL', `reply type ${m.type} to request type ${p.type}`));
      else p.resolve(m.payload);
    }
  }

  private fail(reason: Error): void {
    if (this.closed) return;
    this.closed = reason;
    for (const p of this.pending.values()) p.reject(reason);
    this.pending.clear();
    for (const w of this.watches.values()) w.end(reason);
    this.watches.clear();
  }

  /** Sends one request and resolves with the reply payload. */
  request(type: XsMessageType, payload: Buffer, txId = 0): Promise<Buffer> {
    if (this.closed) return Promise.reject(new VpioError('XS_CLOSED', `client is closed: ${this.closed.message}`));
    if (payload.length > PAYLOAD_MAX) return Promise.reject(new XenstoreError('E2BIG', `payload of ${payload.length} bytes`));
    const reqId = this.nextReqId;
    this.nextReqId = this.nextReqId >= 0xffffffff ? 1 : this.nextReqId + 1;
    return new Promise((resolve, reject) => {
      this.pending.set(reqId, { type: XS[type], resolve, reject });
      this.socket.write(encodeMessage({ type: XS[type], reqId, txId, payload }));
    });
  }

  private ops(txId: number): XenstoreOps {
    return {
      read: (path) => this.request('READ', encodeString(path), txId),
      readString: async (path) => (await this.request('READ', encodeString(path), txId)).toString('latin1'),
      write: async (path, value) => {
        const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
        await this.request('WRITE', Buffer.concat([encodeString(path), v]), txId);
      },
      mkdir: async (path) => void (await this.request('MKDIR', encodeString(path), txId)),
      rm: async (path) => void (await this.request('RM', encodeString(path), txId)),
      directory: async (path) => splitStrings(await this.request('DIRECTORY', encodeString(path), txId)).strings,
      getPerms: async (path) => parsePermStrings(splitStrings(await this.request('GET_PERMS', encodeString(path), txId)).strings),
      setPerms: async (path, perms) => {
        if (!Array.isArray(perms) || perms.length === 0) throw new ArgumentError('perms', 'a non-empty array of permissions', perms);
        await this.request('SET_PERMS', encodeStrings([path, ...perms.map(formatPerm)]), txId);
      },
    };
  }

  read(path: string): Promise<Buffer> {
    return this.ops(0).read(path);
  }
  readString(path: string): Promise<string> {
    return this.ops(0).readString(path);
  }
  write(path: string, value: string | Buffer): Promise<void> {
    return this.ops(0).write(path, value);
  }
  mkdir(path: string): Promise<void> {
    return this.ops(0).mkdir(path);
  }
  rm(path: string): Promise<void> {
    return this.ops(0).rm(path);
  }
  directory(path: string): Promise<string[]> {
    return this.ops(0).directory(path);
  }
  getPerms(path: string): Promise<XsPerm[]> {
    return this.ops(0).getPerms(path);
  }
  setPerms(path: string, perms: readonly XsPerm[]): Promise<void> {
    return this.ops(0).setPerms(path, perms);
  }

  async getDomainPath(domid: number): Promise<string> {
    expectInteger('domid', domid, 0, 0xffffffff);
    return splitStrings(await this.request('GET_DOMAIN_PATH', encodeString(String(domid)))).strings[0] ?? '';
  }

  async introduce(domid: number, gfn: number, port: number): Promise<void> {
    expectInteger('domid', domid, 1, 0x7fef);
    await this.request('INTRODUCE', encodeStrings([String(domid), String(gfn), String(port)]));
  }

  async release(domid: number): Promise<void> {
    expectInteger('domid', domid, 1, 0x7fef);
    await this.request('RELEASE', encodeString(String(domid)));
  }

  async isDomainIntroduced(domid: number): Promise<boolean> {
    expectInteger('domid', domid, 0, 0x7fef);
    return (await this.request('IS_DOMAIN_INTRODUCED', encodeString(String(domid)))).toString('latin1', 0, 1) === 'T';
  }

  /** XS_CONTROL; resolves with the raw reply. */
  control(command: string, ...args: string[]): Promise<Buffer> {
    return this.request('CONTROL', encodeStrings([command, ...args]));
  }

  /** Turns this (privileged) connection into domain `domid` for good (vpio's CONTROL vpio-demote). */
  async demote(domid: number): Promise<void> {
    expectInteger('domid', domid, 1, 0x7fef);
    await this.control(DEMOTE_COMMAND, String(domid));
  }

  /**
   * Runs `fn` in a transaction and commits; on EAGAIN runs it again (up to
   * maxAttempts), at once the first time, then after a random pause that
   * doubles up to 64 ms: many writers adding siblings under one parent
   * (domains created at once under /local/domain) all conflict on it, and
   * without the spread only one of them wins per round. A throw from `fn`
   * aborts the transaction and rethrows.
   */
  async transaction<T>(fn: (tx: XenstoreOps) => Promise<T>, options: XenstoreTransactionOptions = {}): Promise<T> {
    const maxAttempts = options.maxAttempts ?? 32;
    for (let attempt = 1; ; attempt++) {
      const id = Number(splitStrings(await this.request('TRANSACTION_START', encodeString(''))).strings[0]);
      let result: T;
      try {
        result = await fn(this.ops(id));
      } catch (e) {
        await this.request('TRANSACTION_END', encodeString('F'), id).catch(() => undefined);
        throw e;
      }
      try {
        await this.request('TRANSACTION_END', encodeString('T'), id);
        return result;
      } catch (e) {
        if (!(e instanceof XenstoreError && e.errnoName === 'EAGAIN') || attempt >= maxAttempts) throw e;
      }
      if (attempt > 1) await new Promise((r) => setTimeout(r, Math.random() * Math.min(64, 2 ** attempt)));
    }
  }

  /** Registers a watch on `path`; events arrive through the returned iterator. */
  async watch(path: string, token: string = `vpio-${this.nextToken++}`): Promise<XenstoreWatch> {
    if (this.watches.has(token)) throw new ArgumentError('token', 'a token not used by another watch of this client', token);
    const q = new WatchQueue(path, token, async (w) => {
      this.watches.delete(w.token);
      w.end(new VpioError('XS_WATCH_CLOSED', 'watch closed'));
      if (!this.closed) await this.request('UNWATCH', encodeStrings([w.path, w.token]));
    });
    this.watches.set(token, q);
    try {
      await this.request('WATCH', encodeStrings([path, token]));
    } catch (e) {
      this.watches.delete(token);
      throw e;
    }
    return q;
  }

  /** Closes the connection; pending requests reject. */
  async close(): Promise<void> {
    if (this.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
    this.fail(new VpioError('XS_CLOSED', 'client closed'));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

const XS_NAMES: Record<number, string> = Object.fromEntries(Object.entries(XS).map(([k, v]) => [v, k]));
