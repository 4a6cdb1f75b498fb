/**
 * One socket connection of the daemon: frames the byte stream, feeds the
 * engine, and writes the engine's queued output while the socket takes it.
 *
 * Memory stays bounded per connection:
 * - input: at most one socket chunk of decoded requests plus one partial
 *   frame (header + 4096) is held; while the engine says an unprivileged
 *   domain may not be read (outstanding requests or hard memory quota,
 *   as C xenstored 4.17) the socket is paused, so the kernel holds the rest
 *   and the peer eventually blocks;
 * - output: an unprivileged domain's queued output counts against its
 *   memory quota (events beyond it are dropped, replies stop because
 *   reading stops); a privileged peer that stops reading is disconnected
 *   once more than `maxQueuedBytes` wait for it (vpio's own bound: C
 *   xenstored would buffer for it without limit).
 */
import type { Socket } from 'node:net';
import { encodeMessage, FrameDecoder, type XsMessage } from './wire.js';
import type { EngineConnection, XenstoreEngine, XenstoreLogger } from './engine.js';

export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;

export class SocketConnection {
  readonly conn: EngineConnection;
  private readonly decoder = new FrameDecoder();
  /** Requests decoded but not yet handled because the engine delayed reading. */
  private backlog: XsMessage[] = [];
  private resumeScheduled = false;
  private ended = false;
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    if (!this.ended) this.socket.uncork();
  };

  constructor(
    private readonly socket: Socket,
    private readonly engine: XenstoreEngine,
    domid: number,
    private readonly maxQueuedBytes: number,
    private readonly log: XenstoreLogger,
    private readonly onGone: (c: SocketConnection) => void,
  ) {
    this.conn = engine.connect(
      {
        send: (m) => this.send(m),
        close: () => this.destroy('domain released'),
        ready: () => !this.ended && !this.socket.writableNeedDrain,
        backlog: (bytes) => this.checkBacklog(bytes),
        resume: () => this.scheduleResume(),
      },
      domid,
    );
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('drain', () => this.engine.pump(this.conn));
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
    socket.on('end', () => this.destroy());
  }

  private receive(chunk: Buffer): void {
    let messages: XsMessage[];
    try {
      messages = this.decoder.push(chunk);
    } catch (e) {
      this.destroy(`bad frame: ${(e as Error).message}`);
      return;
    }
    if (this.backlog.length > 0) {
      this.backlog.push(...messages);
      return;
    }
    this.backlog = messages;
    this.work();
  }

  /** Handles backlogged requests while the engine lets this connection be read. */
  private work(): void {
    let i = 0;
    while (i < this.backlog.length && !this.ended) {
      if (!this.engine.canRead(this.conn)) {
        this.socket.pause();
        this.backlog = this.backlog.slice(i);
        return;
      }
      this.engine.handle(this.conn, this.backlog[i] as XsMessage);
      i++;
    }
    this.backlog = [];
    if (!this.ended && this.socket.isPaused()) this.socket.resume();
  }

  private scheduleResume(): void {
    if (this.resumeScheduled || this.ended) return;
    this.resumeScheduled = true;
    // Not from inside the engine's delivery loop: a fresh turn.
    setImmediate(() => {
      this.resumeScheduled = false;
      if (!this.ended) this.work();
    });
  }

  private checkBacklog(queuedBytes: number): void {
    const bounded = this.conn.domid !== 0 && this.engine.quotas.memoryPerDomainBytes > 0;
    const total = queuedBytes + this.socket.writableLength;
    if (!bounded && total > this.maxQueuedBytes) {
      this.destroy(`peer does not read: ${total} bytes queued (limit ${this.maxQueuedBytes})`);
    }
  }

  private send(message: XsMessage): void {
    if (this.ended) return;
    // Everything this turn of the event loop produces for this peer (all
    // replies to one read's requests, the watch events they cause) goes out
    // in one writev: a write syscall per reply was 85 % of the daemon's busy
    // time under pipelined load (see README, Performance).
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(encodeMessage(message));
  }

  /** Ends the connection and forgets its watches and transactions. */
  destroy(reason?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.backlog = [];
    if (reason) this.log({ level: 'warn', event: 'connection', domid: this.conn.domid, message: `closing connection ${this.conn.id}: ${reason}` });
    this.engine.disconnect(this.conn);
    this.socket.destroy();
    this.onGone(this);
  }
}
