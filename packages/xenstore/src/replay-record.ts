/**
 * Recording mode of the stream replayer: the reply every step actually got
 * (type and payload pieces, or why none came) and the watch events each
 * connection received after it, normalised so that two daemons' records
 * can be compared byte for byte: the differential test between Xen's C
 * xenstored and ours (xen/tests/xenstore-diff.sh) replays the same streams
 * against both and diffs the records with `diffRuns()`.
 *
 * Normalised, because it legitimately differs between implementations
 * (and nothing else is):
 *
 * - Transaction ids. TRANSACTION_START's `<decimal>\0` becomes
 *   `<tx:NAME>` (NAME: the step's `save`, else `#k` for the k-th id of the
 *   stream), and a reply header's tx_id that does not echo the request's
 *   is recorded by that name. Ids are per connection and picked by each
 *   daemon; only "an id, used consistently" is protocol.
 * - DIRECTORY_PART's generation (piece 0 of a successful reply) becomes
 *   `<gen#k>`, k numbering the distinct values of the stream in order of
 *   appearance: the numbers are each store's own counter, but whether two
 *   chunks carry the same generation (the client restarts when it changes)
 *   is protocol and stays visible.
 * - CONTROL output (a successful CONTROL reply other than the `OK\0` ack)
 *   becomes `<control output>`, keeping whether it ends in a NUL: the text
 *   of `help` etc. is each daemon's own.
 *
 * Not normalised: error names, every other payload (values, directory
 * lists and their order, perms, domain paths, T/F, OK), reply types,
 * events (path, token, their order per connection, which connection got
 * them, and whether the requesting connection's came before or after its
 * reply), and the requests, which come from the stream. Xen 4.17 reports no
 * quota numbers on the wire (GET_QUOTA is newer), so there are none to
 * normalise.
 */
import { messageTypeName, XS } from './protocol.js';
import type { XsMessage } from './wire.js';

/** The wire payload of a list of pieces: joined with NUL (streams and records alike). */
export function encodePieces(pieces: readonly string[]): Buffer {
  return Buffer.from(pieces.join('\0'), 'latin1');
}

/** The pieces of a payload (the inverse of encodePieces): `a\0b\0` is ["a", "b", ""]. */
export function decodePieces(payload: Buffer): string[] {
  return payload.length === 0 ? [] : payload.toString('latin1').split('\0');
}

/** What a step got back: a reply (normalised) or why none came. */
export type ReplyRecord =
  | {
      readonly type: string;
      readonly payload: readonly string[];
      /** Only when the reply's tx_id does not echo the request's. */
      readonly txId?: string | number;
      /** Only when the reply's req_id does not echo the request's. */
      readonly reqId?: number;
    }
  | { readonly none: string };

export interface StepRecord {
  /** 1-based, as the replayer's failure messages count. */
  readonly step: number;
  readonly conn: number;
  /** The request, for people: `WRITE tx=t1 ["/rs/a","v"]`. */
  readonly request: string;
  readonly reply: ReplyRecord;
  /** Watch events each connection received after this step (payload pieces), by connection index. */
  readonly events?: Readonly<Record<string, readonly (readonly string[])[]>>;
  /** How many of the requesting connection's events came before the reply (on the wire, in one stream). */
  readonly eventsBeforeReply?: number;
}

export interface StreamRecord {
  readonly name: string;
  readonly file?: string;
  /** The verdict against the stream's own expectations. */
  readonly status: 'ok' | 'fail' | 'skip';
  readonly failures: readonly string[];
  /** Why it was not replayed (a `requires` tag the daemon lacks). */
  readonly skipped?: string;
  readonly steps: readonly StepRecord[];
}

export const RECORD_FORMAT = 'vpio-xs-record/1';

/** One `vpio-xs-replay --record` run: every stream against one daemon. */
export interface RunRecord {
  readonly format: typeof RECORD_FORMAT;
  /** Which daemon (e.g. `xen-c`, `vpio`). */
  readonly label: string;
  readonly streams: readonly StreamRecord[];
}

const typeName = (t: number): string => messageTypeName(t) ?? String(t);
const OK_ACK = 'OK\0';

/** Normalises one stream's replies; holds the stream's transaction and generation names. */
export class ReplyNormaliser {
  private readonly txNames = new Map<number, string>();
  private readonly generations = new Map<string, string>();
  private txCount = 0;

  /** A tx id as recorded: 0, the name it was saved under, or the number itself. */
  txLabel(id: number): string | number {
    return id === 0 ? 0 : (this.txNames.get(id) ?? id);
  }

  /**
   * The record of `reply` to a request of type `requestType` sent with
   * `sentTxId` and `sentReqId`; `save` is the step's save name, if any.
   */
  reply(requestType: number, reply: XsMessage, sentTxId: number, sentReqId: number, save?: string): ReplyRecord {
    let payload = decodePieces(reply.payload);
    const text = reply.payload.toString('latin1');
    if (reply.type === XS.TRANSACTION_START && requestType === XS.TRANSACTION_START && /^[0-9]+\0$/.test(text)) {
      const name = save ?? `#${++this.txCount}`;
      this.txNames.set(Number(text.slice(0, -1)), name);
      payload = [`<tx:${name}>`, ''];
    } else if (reply.type === XS.DIRECTORY_PART && requestType === XS.DIRECTORY_PART && payload.length > 0) {
      const gen = payload[0] as string;
      let name = this.generations.get(gen);
      if (name === undefined) {
        name = `<gen#${this.generations.size + 1}>`;
        this.generations.set(gen, name);
      }
      payload = [name, ...payload.slice(1)];
    } else if (reply.type === XS.CONTROL && requestType === XS.CONTROL && text !== OK_ACK) {
      payload = text.endsWith('\0') ? ['<control output>', ''] : ['<control output>'];
    }
    return {
      type: typeName(reply.type),
      payload,
      ...(reply.txId !== sentTxId ? { txId: this.txLabel(reply.txId) } : {}),
      ...(reply.reqId !== sentReqId ? { reqId: reply.reqId } : {}),
    };
  }
}

/** `READ ["v"]`, `ERROR ["ENOENT",""] tx=t1`, `(no reply: ...)`. */
export function formatReply(r: ReplyRecord): string {
  if ('none' in r) return `(no reply: ${r.none})`;
  const extra = `${r.txId !== undefined ? ` tx=${r.txId}` : ''}${r.reqId !== undefined ? ` req_id=${r.reqId}` : ''}`;
  return `${r.type} ${JSON.stringify(r.payload)}${extra}`;
}

/** `conn 1: ["/a","t",""] ["/a/b","t",""]; conn 2: ...` or `none`. */
export function formatEvents(events: StepRecord['events']): string {
  const conns = Object.keys(events ?? {});
  if (!events || conns.length === 0) return 'none';
  return conns.map((c) => `conn ${c}: ${(events[c] ?? []).map((e) => JSON.stringify(e)).join(' ')}`).join('; ');
}

/** One step whose normalised reply or events differ between two runs. */
export interface StepDifference {
  readonly step: number;
  readonly request: string;
  readonly a?: StepRecord;
  readonly b?: StepRecord;
}

export interface StreamDiff {
  readonly name: string;
  /** same: every step alike; differ: some step not; skip: not replayed on one side; missing: absent from one run. */
  readonly status: 'same' | 'differ' | 'skip' | 'missing';
  readonly reason?: string;
  readonly differences: readonly StepDifference[];
  /** Steps compared. */
  readonly steps: number;
}

const sameStep = (x: StepRecord, y: StepRecord): boolean =>
  x.conn === y.conn &&
  x.request === y.request &&
  JSON.stringify(x.reply) === JSON.stringify(y.reply) &&
  JSON.stringify(x.events ?? {}) === JSON.stringify(y.events ?? {}) &&
  (x.eventsBeforeReply ?? 0) === (y.eventsBeforeReply ?? 0);

/** Compares two runs stream by stream (matched by name), step by step. */
export function diffRuns(a: RunRecord, b: RunRecord): StreamDiff[] {
  const byName = new Map(b.streams.map((s) => [s.name, s]));
  const out: StreamDiff[] = [];
  for (const sa of a.streams) {
    const sb = byName.get(sa.name);
    byName.delete(sa.name);
    if (!sb) {
      out.push({ name: sa.name, status: 'missing', reason: `not in ${b.label}'s record`, differences: [], steps: 0 });
      continue;
    }
    if (sa.skipped !== undefined || sb.skipped !== undefined) {
      const why = [sa.skipped !== undefined ? `skipped on ${a.label} (${sa.skipped})` : '', sb.skipped !== undefined ? `skipped on ${b.label} (${sb.skipped})` : '']
        .filter(Boolean)
        .join(', ');
      out.push({ name: sa.name, status: 'skip', reason: why, differences: [], steps: 0 });
      continue;
    }
    const differences: StepDifference[] = [];
    const n = Math.max(sa.steps.length, sb.steps.length);
    for (let i = 0; i < n; i++) {
      const x = sa.steps[i];
      const y = sb.steps[i];
      if (x && y && sameStep(x, y)) continue;
      differences.push({ step: x?.step ?? y?.step ?? i + 1, request: x?.request ?? y?.request ?? '', a: x, b: y });
    }
    out.push({ name: sa.name, status: differences.length === 0 ? 'same' : 'differ', differences, steps: n });
  }
  for (const sb of byName.values()) out.push({ name: sb.name, status: 'missing', reason: `not in ${a.label}'s record`, differences: [], steps: 0 });
  return out;
}

/** Every difference as lines for people: the step, then each side's reply and events. */
export function formatDifference(d: StepDifference, labelA: string, labelB: string): string[] {
  const w = Math.max(labelA.length, labelB.length);
  const side = (label: string, r: StepRecord | undefined): string[] =>
    r
      ? [
          `  ${label.padEnd(w)}  ${formatReply(r.reply)}`,
          `  ${''.padEnd(w)}  events: ${formatEvents(r.events)}${r.eventsBeforeReply ? ` (${r.eventsBeforeReply} on conn ${r.conn} before the reply)` : ''}`,
        ]
      : [`  ${label.padEnd(w)}  (step not reached)`];
  const conn = d.a?.conn ?? d.b?.conn ?? 0;
  return [`step ${d.step} (conn ${conn} ${d.request})`, ...side(labelA, d.a), ...side(labelB, d.b)];
}
