/**
 * One socket connection of the daemon: frames the byte stream, feeds the
 * engine, and writes replies and events through a bounded output queue. A
 * peer that stops reading is disconnected once more than
 * `maxQueuedBytes` wait for it, so it can never make the daemon hold
 * unbounded memory or block anyone else.
 */
import type { Socket } from 'node:net';
import { encodeMessage, FrameDecoder, type XsMessage } from './wire.js';
import type { EngineConnection, XenstoreEngine, XenstoreLogger } from './engine.js';

export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;

export class SocketConnection {
  readonly conn: EngineConnection;
  private readonly decoder = new FrameDecoder();
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
    this.conn = engine.connect({ send: (m) => this.send(m), close: () => this.destroy('domain released') }, domid);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
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
    for (const m of messages) {
      if (this.ended) return;
      this.engine.handle(this.conn, m);
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
    if (this.socket.writableLength > this.maxQueuedBytes) {
      this.destroy(`peer does not read: ${this.socket.writableLength} bytes queued (limit ${this.maxQueuedBytes})`);
    }
  }

  /** Ends the connection and forgets its watches and transactions. */
  destroy(reason?: string): void {
    if (this.ended) return;
    this.ended = true;
    if (reason) this.log({ level: 'warn', event: 'connection', domid: this.conn.domid, message: `closing connection ${this.conn.id}: ${reason}` });
    this.engine.disconnect(this.conn);
    this.socket.destroy();
    this.onGone(this);
  }
}
