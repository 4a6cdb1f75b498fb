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
 * - events: the WATCH_EVENTs this step causes, in this order per
 *   connection, and no others. After each step's reply every connection
 *   does a round trip (GET_DOMAIN_PATH 0, no side effects): a
 *   single-threaded daemon queues the events a request causes before it
 *   reads the next one, so whatever came before that round trip's reply is
 *   exactly what the step caused, and the check involves no timing.
 *
 * With `record: true` the result also carries the normalised record of
 * every reply and event (replay-record.ts), and the replay goes on past
 * a step that differs from its expectation (stopping only when a reply
 * does not come), so two daemons' records can be compared step by step.
 */
import { readFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { ArgumentError } from '@vpio/errors';
import { encodeMessage, FrameDecoder, splitStrings, type XsMessage } from './wire.js';
import { isXsErrorName, messageTypeName, XS, type XsErrorName, type XsMessageType } from './protocol.js';
import { decodePieces, encodePieces, ReplyNormaliser, type StepRecord, type StreamRecord } from './replay-record.js';

export { decodePieces, encodePieces };

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
  /** The normalised record (with `record: true`). */
  readonly record?: StreamRecord;
}

export interface ReplayOptions {
  readonly socketPath: string;
  /** How long to wait for one reply or event (default 5000 ms). */
  readonly timeoutMs?: number;
  /** Capability tags this daemon lacks: streams requiring one are skipped. */
  readonly skip?: readonly string[];
  /** Record every reply and event (normalised) and go on past differing steps. */
  readonly record?: boolean;
  /** The stream's file, noted in the record. */
  readonly file?: string;
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

/** A watch event and how many replies had come on its connection before it. */
interface ArrivedEvent {
  readonly message: XsMessage;
  readonly repliesBefore: number;
}

/** One raw connection: replies and events in separate queues, events marked with their place among the replies. */
class RawConn {
  private readonly decoder = new FrameDecoder();
  private readonly replies: XsMessage[] = [];
  readonly events: ArrivedEvent[] = [];
  private repliesIn = 0;
  /** Replies taken so far: the last one taken is reply number `repliesTaken`. */
  repliesTaken = 0;
  private waiter: (() => void) | undefined;
  private closedWith: string | undefined;
  private nextReqId = 1;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const m of this.decoder.push(chunk)) {
          if (m.type === XS.WATCH_EVENT) {
            this.events.push({ message: m, repliesBefore: this.repliesIn });
          } else {
            this.replies.push(m);
            this.repliesIn++;
          }
        }
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

  async reply(timeoutMs: number): Promise<XsMessage | string> {
    const r = await this.next(this.replies, timeoutMs, 'no reply');
    if (typeof r !== 'string') this.repliesTaken++;
    return r;
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

/** Compares the events a step caused with the ones it expects, per connection and in order. */
function compareEvents(step: StreamStep, got: ReadonlyMap<number, ArrivedEvent[]>): string[] {
  const out: string[] = [];
  const conns = new Set<number>([...got.keys(), ...(step.events ?? []).map((e) => e.conn)]);
  for (const c of [...conns].sort((x, y) => x - y)) {
    const want = (step.events ?? []).filter((e) => e.conn === c);
    const have = (got.get(c) ?? []).map((e) => splitStrings(e.message.payload).strings);
    for (let j = 0; j < Math.max(want.length, have.length); j++) {
      const w = want[j];
      const h = have[j];
      if (w && !h) out.push(`expected event ${w.path} ${w.token} on conn ${c}, none came`);
      else if (!w && h) out.push(`unexpected watch event on conn ${c}: ${h.join(' ')}`);
      else if (w && h && (h.length !== 2 || h[0] !== w.path || h[1] !== w.token)) {
        out.push(`expected event ${w.path} ${w.token} on conn ${c}, got ${h.join(' ')}`);
      }
    }
  }
  return out;
}

/**
 * One round trip on every connection (GET_DOMAIN_PATH 0): returns the
 * watch events each received before its reply, or why a round trip failed.
 */
async function syncAll(conns: readonly RawConn[], timeoutMs: number): Promise<Map<number, ArrivedEvent[]> | string> {
  const events = new Map<number, ArrivedEvent[]>();
  for (const [c, conn] of conns.entries()) {
    conn.send(XS.GET_DOMAIN_PATH, 0, Buffer.from('0\0', 'latin1'));
    const sync = await conn.reply(timeoutMs);
    if (typeof sync === 'string') return `round trip on conn ${c}: ${sync}`;
    if (sync.type !== XS.GET_DOMAIN_PATH) return `round trip on conn ${c}: got ${typeName(sync.type)} ${show(decodePieces(sync.payload))}`;
    const got = conn.events.splice(0);
    if (got.length > 0) events.set(c, got);
  }
  return events;
}

function describeRequest(step: StreamStep): string {
  const type = typeof step.type === 'number' ? (messageTypeName(step.type) ?? String(step.type)) : step.type;
  return `${type}${step.txId !== undefined ? ` tx=${step.txId}` : ''} ${show(step.payload)}`;
}

/**
 * Replays one stream on fresh connections; never throws for a daemon's
 * misbehaviour. Stops at the first difference, or with `record` at the
 * first missing reply.
 */
export async function replayStream(stream: XsStream, options: ReplayOptions): Promise<StreamResult> {
  const recording = options.record === true;
  const missing = (stream.requires ?? []).filter((r) => options.skip?.includes(r));
  if (missing.length > 0) {
    const reason = `requires ${missing.join(', ')}`;
    const record: StreamRecord | undefined = recording ? { name: stream.name, file: options.file, status: 'skip', failures: [], skipped: reason, steps: [] } : undefined;
    return { name: stream.name, status: 'skip', failures: [], steps: 0, reason, record };
  }
  const timeoutMs = options.timeoutMs ?? 5000;
  const conns: RawConn[] = [];
  const saved = new Map<string, number>();
  const failures: string[] = [];
  const norm = new ReplyNormaliser();
  const records: StepRecord[] = [];
  let done = 0;
  try {
    for (let i = 0; i < stream.connections; i++) conns.push(await RawConn.open(options.socketPath));
    for (const [i, step] of stream.steps.entries()) {
      const connIndex = step.conn ?? 0;
      const request = describeRequest(step);
      const at = `step ${i + 1} (conn ${connIndex} ${request})`;
      const conn = conns[connIndex] as RawConn;
      const type = typeof step.type === 'number' ? step.type : XS[step.type];
      const before = failures.length;
      let txId = 0;
      if (typeof step.txId === 'string') {
        const id = saved.get(step.txId);
        if (id === undefined) {
          const why = `no transaction id was saved as "${step.txId}"`;
          failures.push(`${at}: ${why}`);
          records.push({ step: i + 1, conn: connIndex, request, reply: { none: why } });
          if (recording) continue;
          break;
        }
        txId = id;
      } else if (typeof step.txId === 'number') {
        txId = step.txId;
      }
      const reqId = conn.send(type, txId, encodePieces(step.payload));
      const reply = await conn.reply(timeoutMs);
      const replyNo = conn.repliesTaken;
      if (typeof reply === 'string') {
        failures.push(`${at}: ${reply}`);
        records.push({ step: i + 1, conn: connIndex, request, reply: { none: reply } });
        break;
      }
      if (reply.reqId !== reqId) failures.push(`${at}: reply req_id ${reply.reqId}, sent ${reqId}`);
      const diff = compare(step, type, reply);
      if (diff) failures.push(`${at}: ${diff}`);
      const text = reply.payload.toString('latin1');
      if (step.expect.save !== undefined && reply.type === XS.TRANSACTION_START && /^[0-9]+\0$/.test(text)) {
        saved.set(step.expect.save, Number(text.slice(0, -1)));
      }
      const events = await syncAll(conns, timeoutMs);
      const replyRecord = norm.reply(type, reply, txId, reqId, step.expect.save);
      if (typeof events === 'string') {
        failures.push(`${at}: ${events}`);
        records.push({ step: i + 1, conn: connIndex, request, reply: replyRecord });
        break;
      }
      for (const f of compareEvents(step, events)) failures.push(`${at}: ${f}`);
      const eventRecord: Record<string, string[][]> = {};
      for (const [c, list] of events) eventRecord[String(c)] = list.map((e) => decodePieces(e.message.payload));
      const early = (events.get(connIndex) ?? []).filter((e) => e.repliesBefore < replyNo).length;
      records.push({
        step: i + 1,
        conn: connIndex,
        request,
        reply: replyRecord,
        ...(events.size > 0 ? { events: eventRecord } : {}),
        ...(early > 0 ? { eventsBeforeReply: early } : {}),
      });
      if (failures.length === before) done++;
      else if (!recording) break;
    }
  } catch (e) {
    failures.push(`cannot replay: ${(e as Error).message}`);
  } finally {
    for (const c of conns) c.close();
  }
  const status = failures.length === 0 ? 'ok' : 'fail';
  const record: StreamRecord | undefined = recording ? { name: stream.name, file: options.file, status, failures: [...failures], steps: records } : undefined;
  return { name: stream.name, status, failures, steps: done, record };
}
