/**
 * Replays recorded request/expected-reply streams (test/streams/*.json)
 * against any xenstore daemon over its unix socket: ours in `npm test`,
 * Xen's C xenstored in the xen-mode lab, so both are held to the same
 * expectations. Only the wire protocol is used: no client library, raw
 * frames, one socket per stream connection.
 *
 * Stream format (one scenario per file):
 *
 *   { "name": "transactions", "description": "...", "connections": 2,
 *     "requires": ["vpio-demote"],            // optional capability tags
 *     "steps": [
 *       { "conn": 0, "type": "WRITE", "payload": ["/rs/a", "v"],
 *         "expect": { "payload": ["OK", ""] },
 *         "events": [ { "conn": 1, "path": "/rs/a", "token": "t" } ] },
 *       { "type": "TRANSACTION_START", "payload": [""], "expect": { "save": "t1" } },
 *       { "type": "READ", "txId": "t1", "payload": ["/rs/a", ""], "expect": { "error": "ENOENT" } } ] }
 *
 * - payload: the pieces joined with NUL, so ["/a", ""] is "/a\0" and
 *   ["/a", "v"] is WRITE's "/a\0v"; strings are latin1 (one char, one byte).
 * - type: a message name or a number (unknown types test ENOSYS).
 * - txId: a number, or the name a TRANSACTION_START step saved.
 * - expect: `error` (an XS_ERROR with that name), else a reply of the
 *   request's type (or `type`) whose payload equals `payload` (pieces as
 *   above; `unordered` compares them as a set; `anyPieces` lists indices not
 *   compared, e.g. DIRECTORY_PART's generation). `save` stores a
 *   TRANSACTION_START id ("<decimal>\0"). Without `payload` the payload is
 *   not compared.
 * - events: WATCH_EVENTs that must arrive after this step's reply, in this
 *   order per connection. At the end every connection does a round trip
 *   (GET_DOMAIN_PATH 0) and any event nobody expected is a failure: a
 *   single-threaded daemon sends an event before any later reply on the
 *   same connection, so this check involves no timing.
 */
import { readFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { ArgumentError } from '@vpio/errors';
import { encodeMessage, FrameDecoder, splitStrings, type XsMessage } from './wire.js';
import { isXsErrorName, messageTypeName, XS, type XsErrorName, type XsMessageType } from './protocol.js';

export interface StreamEvent {
  readonly conn: number;
  readonly path: string;
  readonly token: string;
}

export interface StreamExpect {
  readonly error?: XsErrorName;
  readonly type?: XsMessageType;
  readonly payload?: readonly string[];
  readonly unordered?: boolean;
  readonly anyPieces?: readonly number[];
  readonly save?: string;
}

export interface StreamStep {
  readonly conn?: number;
  readonly type: XsMessageType | number;
  readonly txId?: number | string;
  readonly payload: readonly string[];
  readonly expect: StreamExpect;
  readonly events?: readonly StreamEvent[];
  readonly note?: string;
}

export interface XsStream {
  readonly name: string;
  readonly description: string;
  readonly connections: number;
  readonly requires?: readonly string[];
  readonly steps: readonly StreamStep[];
}

export interface StreamResult {
  readonly name: string;
  readonly status: 'ok' | 'fail' | 'skip';
  /** What differed, one line each (empty when ok). */
  readonly failures: string[];
  /** Steps run (up to the first failure). */
  readonly steps: number;
  /** Why it was skipped. */
  readonly reason?: string;
}

export interface ReplayOptions {
  readonly socketPath: string;
  /** How long to wait for one reply or event (default 5000 ms). */
  readonly timeoutMs?: number;
  /** Capability tags this daemon lacks: streams requiring one are skipped. */
  readonly skip?: readonly string[];
}

/** The wire payload of a list of pieces: joined with NUL. */
export function encodePieces(pieces: readonly string[]): Buffer {
  return Buffer.from(pieces.join('\0'), 'latin1');
}

/** The pieces of a payload (the inverse of encodePieces). */
export function decodePieces(payload: Buffer): string[] {
  return payload.length === 0 ? [] : payload.toString('latin1').split('\0');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

/** Checks the shape of a parsed stream; throws ArgumentError naming the bad field. */
export function validateStream(value: unknown, source = 'stream'): XsStream {
  if (!isObject(value)) throw new ArgumentError(source, 'an object', value);
  const { name, description, connections, requires, steps } = value;
  if (typeof name !== 'string' || name === '') throw new ArgumentError(`${source}.name`, 'a non-empty string', name);
  if (typeof description !== 'string') throw new ArgumentError(`${source}.description`, 'a string', description);
  if (!Number.isInteger(connections) || (connections as number) < 1 || (connections as number) > 64) {
    throw new ArgumentError(`${source}.connections`, 'an integer in [1, 64]', connections);
  }
  if (requires !== undefined && !isStringArray(requires)) throw new ArgumentError(`${source}.requires`, 'an array of strings', requires);
  if (!Array.isArray(steps) || steps.length === 0) throw new ArgumentError(`${source}.steps`, 'a non-empty array', steps);
  const conns = connections as number;
  const checkConn = (where: string, c: unknown) => {
    if (c !== undefined && (!Number.isInteger(c) || (c as number) < 0 || (c as number) >= conns)) {
      throw new ArgumentError(where, `a connection index in [0, ${conns})`, c);
    }
  };
  steps.forEach((step: unknown, i) => {
    const at = `${source}.steps[${i}]`;
    if (!isObject(step)) throw new ArgumentError(at, 'an object', step);
    checkConn(`${at}.conn`, step.conn);
    const t = step.type;
    if (!(typeof t === 'number' && Number.isInteger(t) && t >= 0 && t <= 0xffffffff) && !(typeof t === 'string' && t in XS)) {
      throw new ArgumentError(`${at}.type`, 'a message name (READ, WRITE, ...) or a type number', t);
    }
    if (step.txId !== undefined && typeof step.txId !== 'string' && !(Number.isInteger(step.txId) && (step.txId as number) >= 0)) {
      throw new ArgumentError(`${at}.txId`, 'a non-negative integer or a saved name', step.txId);
    }
    if (!isStringArray(step.payload)) throw new ArgumentError(`${at}.payload`, 'an array of strings', step.payload);
    const e = step.expect;
    if (!isObject(e)) throw new ArgumentError(`${at}.expect`, 'an object', e);
    if (e.error !== undefined && (typeof e.error !== 'string' || !isXsErrorName(e.error))) {
      throw new ArgumentError(`${at}.expect.error`, "one of Xen's error names", e.error);
    }
    if (e.type !== undefined && (typeof e.type !== 'string' || !(e.type in XS))) throw new ArgumentError(`${at}.expect.type`, 'a message name', e.type);
    if (e.payload !== undefined && !isStringArray(e.payload)) throw new ArgumentError(`${at}.expect.payload`, 'an array of strings', e.payload);
    if (e.anyPieces !== undefined && !(Array.isArray(e.anyPieces) && e.anyPieces.every((n) => Number.isInteger(n)))) {
      throw new ArgumentError(`${at}.expect.anyPieces`, 'an array of piece indices', e.anyPieces);
    }
    if (e.save !== undefined && typeof e.save !== 'string') throw new ArgumentError(`${at}.expect.save`, 'a name', e.save);
    if (step.events !== undefined) {
      if (!Array.isArray(step.events)) throw new ArgumentError(`${at}.events`, 'an array', step.events);
      step.events.forEach((ev: unknown, j) => {
        if (!isObject(ev) || typeof ev.path !== 'string' || typeof ev.token !== 'string') {
          throw new ArgumentError(`${at}.events[${j}]`, '{ conn, path, token }', ev);
        }
        checkConn(`${at}.events[${j}].conn`, ev.conn ?? 0);
      });
    }
  });
  return value as unknown as XsStream;
}

/** Reads and validates one stream file. */
export async function loadStream(file: string): Promise<XsStream> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new ArgumentError('stream file', 'a readable JSON file', `${file}: ${(e as Error).message}`);
  }
  return validateStream(parsed, file);
}

/** One raw connection: replies and events in separate queues. */
class RawConn {
  private readonly decoder = new FrameDecoder();
  private readonly replies: XsMessage[] = [];
  readonly events: XsMessage[] = [];
  private waiter: (() => void) | undefined;
  private closedWith: string | undefined;
  private nextReqId = 1;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const m of this.decoder.push(chunk)) (m.type === XS.WATCH_EVENT ? this.events : this.replies).push(m);
      } catch (e) {
        this.closedWith = `bad frame from the daemon: ${(e as Error).message}`;
        socket.destroy();
      }
      this.wake();
    });
    socket.on('error', (e) => {
      this.closedWith ??= e.message;
      this.wake();
    });
    socket.on('close', () => {
      this.closedWith ??= 'connection closed by the daemon';
      this.wake();
    });
  }

  static open(path: string): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = createConnection(path);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new RawConn(s));
      });
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  send(type: number, txId: number, payload: Buffer): number {
    const reqId = this.nextReqId++;
    this.socket.write(encodeMessage({ type, reqId, txId, payload }));
    return reqId;
  }

  /** The next message of `queue`, or a string saying why none came. */
  private async next(queue: XsMessage[], timeoutMs: number, what: string): Promise<XsMessage | string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = queue.shift();
      if (m) return m;
      if (this.closedWith) return `${what}: ${this.closedWith}`;
      const left = deadline - Date.now();
      if (left <= 0) return `${what}: nothing within ${timeoutMs} ms`;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  reply(timeoutMs: number): Promise<XsMessage | string> {
    return this.next(this.replies, timeoutMs, 'no reply');
  }

  event(timeoutMs: number): Promise<XsMessage | string> {
    return this.next(this.events, timeoutMs, 'no watch event');
  }

  close(): void {
    this.socket.destroy();
  }
}

const typeName = (t: number): string => messageTypeName(t) ?? String(t);
const show = (pieces: readonly string[]): string => JSON.stringify(pieces);

/** Compares a reply with a step's expectation; returns what differs, or undefined. */
function compare(step: StreamStep, reqType: number, reply: XsMessage): string | undefined {
  const got = decodePieces(reply.payload);
  const e = step.expect;
  if (e.error) {
    if (reply.type !== XS.ERROR) return `expected error ${e.error}, got ${typeName(reply.type)} ${show(got)}`;
    if (reply.payload.toString('latin1') !== `${e.error}\0`) return `expected error ${e.error}, got error ${show(got)}`;
    return undefined;
  }
  const wantType = e.type ? XS[e.type] : reqType;
  if (reply.type !== wantType) return `expected ${typeName(wantType)} ${e.payload ? show(e.payload) : ''}, got ${typeName(reply.type)} ${show(got)}`;
  if (e.save !== undefined && !/^[0-9]+\0$/.test(reply.payload.toString('latin1'))) return `expected a transaction id, got ${show(got)}`;
  if (!e.payload) return undefined;
  let want = [...e.payload];
  let have = [...got];
  for (const i of e.anyPieces ?? []) {
    if (i < have.length) have[i] = want[i] ?? '';
  }
  if (e.unordered) {
    want = want.sort();
    have = have.sort();
  }
  // Compared as wire bytes: [] and [""] are both the empty payload.
  const same = encodePieces(want).equals(encodePieces(have));
  return same ? undefined : `expected ${show(e.payload)}, got ${show(got)}`;
}

/** Replays one stream on fresh connections; never throws for a daemon's misbehaviour. */
export async function replayStream(stream: XsStream, options: ReplayOptions): Promise<StreamResult> {
  const missing = (stream.requires ?? []).filter((r) => options.skip?.includes(r));
  if (missing.length > 0) return { name: stream.name, status: 'skip', failures: [], steps: 0, reason: `requires ${missing.join(', ')}` };
  const timeoutMs = options.timeoutMs ?? 5000;
  const conns: RawConn[] = [];
  const saved = new Map<string, number>();
  const failures: string[] = [];
  let done = 0;
  try {
    for (let i = 0; i < stream.connections; i++) conns.push(await RawConn.open(options.socketPath));
    for (const [i, step] of stream.steps.entries()) {
      const at = `step ${i + 1} (conn ${step.conn ?? 0} ${typeof step.type === 'number' ? step.type : step.type} ${show(step.payload)})`;
      const conn = conns[step.conn ?? 0] as RawConn;
      const type = typeof step.type === 'number' ? step.type : XS[step.type];
      let txId = 0;
      if (typeof step.txId === 'string') {
        const id = saved.get(step.txId);
        if (id === undefined) {
          failures.push(`${at}: no transaction id was saved as "${step.txId}"`);
          break;
        }
        txId = id;
      } else if (typeof step.txId === 'number') {
        txId = step.txId;
      }
      const reqId = conn.send(type, txId, encodePieces(step.payload));
      const reply = await conn.reply(timeoutMs);
      if (typeof reply === 'string') {
        failures.push(`${at}: ${reply}`);
        break;
      }
      if (reply.reqId !== reqId) failures.push(`${at}: reply req_id ${reply.reqId}, sent ${reqId}`);
      const diff = compare(step, type, reply);
      if (diff) {
        failures.push(`${at}: ${diff}`);
        break;
      }
      if (step.expect.save !== undefined) saved.set(step.expect.save, Number(splitStrings(reply.payload).strings[0]));
      for (const ev of step.events ?? []) {
        const got = await (conns[ev.conn] as RawConn).event(timeoutMs);
        if (typeof got === 'string') {
          failures.push(`${at}: expected event ${ev.path} ${ev.token} on conn ${ev.conn}: ${got}`);
          break;
        }
        const [path, token] = splitStrings(got.payload).strings;
        if (path !== ev.path || token !== ev.token) {
          failures.push(`${at}: expected event ${ev.path} ${ev.token} on conn ${ev.conn}, got ${path} ${token}`);
          break;
        }
      }
      if (failures.length > 0) break;
      done++;
    }
    if (failures.length === 0) {
      // One round trip per connection: every event the daemon sent before is now in.
      for (const [c, conn] of conns.entries()) {
        conn.send(XS.GET_DOMAIN_PATH, 0, Buffer.from('0\0', 'latin1'));
        const sync = await conn.reply(timeoutMs);
        if (typeof sync === 'string') failures.push(`final sync on conn ${c}: ${sync}`);
        for (const ev of conn.events.splice(0)) {
          const [path, token] = splitStrings(ev.payload).strings;
          failures.push(`unexpected watch event on conn ${c}: ${path} ${token}`);
        }
      }
    }
  } catch (e) {
    failures.push(`cannot replay: ${(e as Error).message}`);
  } finally {
    for (const c of conns) c.close();
  }
  return { name: stream.name, status: failures.length === 0 ? 'ok' : 'fail', failures, steps: done };
}
