/**
 * The CLI control socket, client side: one connection, requests answered in
 * order. A missing or dead socket is CLI_NOT_RUNNING with the command that
 * starts the platform; an error reply is rethrown as a VpioError (an
 * ArgumentError keeps its `parameter`).
 */
import { connect, type Socket } from 'node:net';
import { VpioError } from '@vpio/errors';
import { CliError } from './cli-error.js';
import type { CaptureEvent, Command, ErrorBody, Response } from './protocol.js';

export class RemoteError extends VpioError {
  readonly parameter: string | undefined;

  constructor(body: ErrorBody) {
    super(body.code, body.message);
    this.parameter = body.parameter;
  }
}

export function notRunning(dir: string, cause?: unknown): CliError {
  return new CliError('CLI_NOT_RUNNING', `no vpio platform is running on ${dir}: start it with \`vpio up${dir ? ` --dir ${dir}` : ''}\``, { cause });
}

export class ControlClient {
  readonly #socket: Socket;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void; onStream?: (e: CaptureEvent) => void }>();
  #nextId = 1;
  #buf = '';
  #ended: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#onData(chunk));
    const fail = (e: Error): void => {
      this.#ended ??= e;
      for (const p of this.#pending.values()) p.reject(this.#ended);
      this.#pending.clear();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new CliError('CLI_PROTOCOL', 'the platform closed the control connection')));
  }

  /** Connects to `socketPath` of the platform in `dir`. Throws CLI_NOT_RUNNING. */
  static connect(socketPath: string, dir: string): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const s = connect(socketPath);
      s.once('connect', () => {
        s.removeAllListeners('error');
        resolve(new ControlClient(s));
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'ENOTDIR') reject(notRunning(dir, e));
        else if (e.code === 'EACCES') reject(new CliError('CLI_PEER_REJECTED', `${socketPath}: permission denied (the platform belongs to another user; run vpio as that user)`, { cause: e }));
        else reject(new CliError('CLI_NOT_RUNNING', `cannot connect to ${socketPath}: ${e.message}`, { cause: e }));
      });
    });
  }

  request<T>(cmd: Command, args?: unknown): Promise<T> {
    if (this.#ended) return Promise.reject(this.#ended);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#socket.write(`${JSON.stringify({ id, cmd, args })}\n`);
    });
  }

  /**
   * A streaming request (`capture`): `onStream` gets each stream event
   * before `done` settles with the final reply. `id` names it for a later
   * `capture-stop`.
   */
  requestStream<T>(cmd: Command, args: unknown, onStream: (e: CaptureEvent) => void): { readonly id: number; readonly done: Promise<T> } {
    const id = this.#nextId++;
    if (this.#ended) return { id, done: Promise.reject(this.#ended) };
    const done = new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onStream });
      this.#socket.write(`${JSON.stringify({ id, cmd, args })}\n`);
    });
    return { id, done };
  }

  close(): void {
    this.#socket.destroy();
  }

  #onData(chunk: string): void {
    this.#buf += chunk;
    let nl: number;
    while ((nl = this.#buf.indexOf('\n')) >= 0) {
      const line = this.#buf.slice(0, nl);
      this.#buf = this.#buf.slice(nl + 1);
      let r: Response;
      try {
        r = JSON.parse(line) as Response;
      } catch {
        this.#socket.destroy(new CliError('CLI_PROTOCOL', 'the platform sent a line that is not JSON'));
        return;
      }
      if ('stream' in r) {
        this.#pending.get(r.id)?.onStream?.(r.stream);
        continue;
      }
      if (r.id === null) {
        // a connection-level error (e.g. peer rejected): fails every request
        const e = r.ok ? new CliError('CLI_PROTOCOL', 'reply without id') : new RemoteError(r.error);
        this.#ended = e;
        for (const p of this.#pending.values()) p.reject(e);
        this.#pending.clear();
        continue;
      }
      const p = this.#pending.get(r.id);
      if (!p) continue;
      this.#pending.delete(r.id);
      if (r.ok) p.resolve(r.result);
      else p.reject(new RemoteError(r.error));
    }
  }
}
