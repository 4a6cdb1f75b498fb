/**
 * The xenstore daemon: a unix-socket server around XenstoreEngine. Every
 * socket connection starts as dom0 (privileged), as with C xenstored; the
 * domain layer hands in per-guest sockets already tagged with `adopt()`,
 * and tests demote their own connection with CONTROL `vpio-demote`.
 */
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { VpioError } from '@vpio/errors';
import { defaultLogger, XenstoreEngine, type XenstoreLogger } from './engine.js';
import { DEFAULT_MAX_QUEUED_BYTES, SocketConnection } from './connection.js';
import type { XenstoreQuotas } from './protocol.js';

export interface XenstoreDaemonOptions {
  /** Where to listen; point XENSTORED_PATH at it for xenstore-utils. */
  readonly socketPath: string;
  readonly quotas?: Partial<XenstoreQuotas>;
  readonly log?: XenstoreLogger;
  /** Output bytes a peer may leave unread before it is disconnected. */
  readonly maxQueuedBytes?: number;
}

async function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export class XenstoreDaemon {
  readonly engine: XenstoreEngine;
  private readonly server: Server;
  private readonly connections = new Set<SocketConnection>();
  private readonly log: XenstoreLogger;
  private state: 'new' | 'listening' | 'closed' = 'new';

  constructor(private readonly options: XenstoreDaemonOptions) {
    if (typeof options?.socketPath !== 'string' || options.socketPath === '') {
      throw new VpioError('ERR_ARGUMENT', 'socketPath: expected a non-empty path');
    }
    this.log = options.log ?? defaultLogger();
    this.engine = new XenstoreEngine({ quotas: options.quotas, log: this.log });
    this.server = createServer((socket) => this.adopt(socket, 0));
  }

  /** The socket path. */
  get path(): string {
    return this.options.socketPath;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Listens on the socket (mode 0600). A stale socket file is replaced; a live one is an error. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new VpioError('XS_DAEMON_STATE', `start() on a ${this.state} daemon`);
    const stale = await lstat(this.path).then((st) => st.isSocket(), () => false);
    if (stale) {
      if (await socketIsLive(this.path)) throw new VpioError('XS_DAEMON_IN_USE', `${this.path}: another xenstored is listening`);
      await unlink(this.path);
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.path, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    await chmod(this.path, 0o600);
    this.state = 'listening';
  }

  /** Serves an already-connected socket as domain `domid` (the domain layer's per-guest sockets). */
  adopt(socket: Socket, domid: number): void {
    if (this.state === 'closed') {
      socket.destroy();
      return;
    }
    const c = new SocketConnection(socket, this.engine, domid, this.options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES, this.log, (gone) => this.connections.delete(gone));
    this.connections.add(c);
  }

  /** Stops listening, drops every connection and removes the socket file. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasListening = this.state === 'listening';
    this.state = 'closed';
    for (const c of [...this.connections]) c.destroy();
    if (wasListening) {
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
      await unlink(this.path).catch(() => undefined);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
