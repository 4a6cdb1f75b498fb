/**
 * The xenstore request processor, without I/O: it takes decoded messages
 * from connections and hands replies and watch events to each
 * connection's sink. One request is processed completely (reply first,
 * then the watch events it caused) before the next; the daemon feeds it
 * from every socket in arrival order, like C xenstored's single thread.
 */
import { encodeString, encodeStrings, decodeRequest, type XsMessage, type XsRequest } from './wire.js';
import { canonicalize, domainPath, isValidNodePath, parentPath } from './paths.js';
import { allows, formatPerm, isPrivileged, PERM_OWNER, PERM_READ, PERM_WRITE, type XsCaller, type XsPerm } from './permissions.js';
import { NodeTree } from './node-tree.js';
import * as ops from './store-ops.js';
import { Transaction } from './transactions.js';
import { commitEntries, eventPathFor, fireEntries, watchMatches, type FireEntry, type Watch } from './watches.js';
import { CONTROL_COMMANDS, DOMID_FIRST_RESERVED, DOMID_SELF, HEADER_BYTES, INTRODUCE_DOMAIN, messageTypeName, QUOTA_DEFAULTS, REL_PATH_MAX, RELEASE_DOMAIN, XS, type XenstoreQuotas, type XsErrorName, type XsMessageType } from './protocol.js';
import { fail, XenstoreError } from './xenstore-error.js';

/** What a quota log entry reports, for machines (the message is for people). */
export interface XenstoreQuotaReport {
  readonly name: keyof XenstoreQuotas;
  /** The count or size that hit the limit. */
  readonly value: number;
  readonly limit: number;
  /** What the daemon did: answered an error, delayed reading, or dropped a watch event. */
  readonly action: XsErrorName | 'delayed' | 'event-dropped' | 'logged';
}

export interface XenstoreLogEntry {
  readonly level: 'debug' | 'info' | 'warn';
  readonly event: 'quota' | 'control' | 'connection' | 'domain' | 'internal';
  readonly message: string;
  readonly domid?: number;
  /** Set on every `quota` entry. */
  readonly quota?: XenstoreQuotaReport;
}

export type XenstoreLogger = (entry: XenstoreLogEntry) => void;

/**
 * Where the engine delivers a connection's replies and events. The engine
 * queues a connection's output (C xenstored's out_list) and hands messages
 * to `send` while `ready()` says the transport takes more; a transport that
 * said no calls `engine.pump(conn)` once it can write again.
 */
export interface EngineSink {
  send(message: XsMessage): void;
  /** Ends the connection (its domain was released). */
  close(): void;
  /** False while the transport cannot take more output (default: always true). */
  ready?(): boolean;
  /** Output is left queued in the engine: `queuedBytes` wait in total. */
  backlog?(queuedBytes: number): void;
  /** The connection may be read again after `canRead()` said no. */
  resume?(): void;
}

/**
 * A request that is still outstanding: its reply or a watch event it
 * caused has not been handed to a transport yet (xenstored's
 * domain_outstanding_inc/dec, with events keeping their request alive).
 */
interface PendingRequest {
  readonly domid: number;
  events: number;
  replied: boolean;
  /** The request is still being processed: more events may attach. */
  open: boolean;
  settled: boolean;
}

interface QueuedMessage {
  readonly message: XsMessage;
  readonly bytes: number;
  readonly ticket?: PendingRequest;
}

export interface XenstoreEngineOptions {
  /** Overrides of Xen 4.17's quota defaults; 0 disables a quota. */
  readonly quotas?: Partial<XenstoreQuotas>;
  readonly log?: XenstoreLogger;
}

/** One log line: `<level> <event> [dom<N>] [<quota>=<value>/<limit> <action>]: <message>`. */
export function formatLogEntry(e: XenstoreLogEntry): string {
  const dom = e.domid === undefined ? '' : ` dom${e.domid}`;
  const q = e.quota ? ` ${e.quota.name}=${e.quota.value}/${e.quota.limit} ${e.quota.action}` : '';
  return `${e.level} ${e.event}${dom}${q}: ${e.message}`;
}

/** The default logger: silent unless DEBUG names vpio:* or vpio:xenstore. */
export function defaultLogger(): XenstoreLogger {
  const debug = process.env.DEBUG ?? '';
  const on = /(^|,)\s*vpio:(\*|xenstore)/.test(debug);
  return (e) => {
    if (on) process.stderr.write(`vpio:xenstore ${formatLogEntry(e)}\n`);
  };
}

export class EngineConnection {
  readonly watches: Watch[] = [];
  readonly transactions = new Map<number, Transaction>();
  /** Output not yet taken by the transport, oldest first. */
  readonly out: QueuedMessage[] = [];
  /** Bytes (headers included) in `out`. */
  outBytes = 0;
  /** `canRead()` said no; cleared when the engine calls `sink.resume()`. */
  stalled = false;
  /** Watch events dropped since the queue last emptied (memory quota). */
  eventsDropped = 0;
  nextTxId = 1;
  closed = false;

  constructor(
    readonly id: number,
    public domid: number,
    readonly sink: EngineSink,
  ) {}
}

interface Outcome {
  readonly payload: Buffer;
  /** The changed nodes whose watches fire, in order (queued before the reply, as C's fire_watches() runs before send_ack()). */
  readonly fires?: readonly FireEntry[];
  /** A special watch (`@introduceDomain`, `@releaseDomain`) fired before the reply. */
  readonly special?: string;
  /** Runs after the reply is queued (WATCH's registration event comes after its OK). */
  readonly after?: () => void;
}

const OK = encodeString('OK');
/**
 * Types whose tx_id is not looked up (XS_FLAG_NOTID of C xenstored 4.17:
 * WATCH and UNWATCH only). Every other request, TRANSACTION_START
 * included, answers ENOENT for a tx_id that names no open transaction.
 */
const NO_TXID = new Set<XsMessageType>(['WATCH', 'UNWATCH']);
/** XS_FLAG_PRIV: EACCES for unprivileged callers, before the tx_id and the arguments are looked at. */
const PRIVILEGED_ONLY = new Set<XsMessageType>(['CONTROL', 'INTRODUCE', 'RELEASE', 'IS_DOMAIN_INTRODUCED', 'RESUME', 'SET_TARGET']);
/** Types a client may not send (ENOSYS before anything else). */
const NOT_REQUESTS = new Set<XsMessageType>(['WATCH_EVENT', 'ERROR', 'RESTRICT']);

export class XenstoreEngine {
  readonly quotas: XenstoreQuotas;
  /** Counters for tests and monitoring. */
  readonly stats = { requests: 0, errors: 0, quotaHits: 0, events: 0, eventsDeduplicated: 0, eventsDropped: 0 };
  private tree = NodeTree.initial();
  private readonly conns = new Set<EngineConnection>();
  private readonly introduced = new Map<number, { gfn: number; port: number }>();
  private readonly targets = new Map<number, number>();
  private readonly specialPerms = new Map<string, XsPerm[]>([
    [INTRODUCE_DOMAIN, [{ access: 'n', domid: 0 }]],
    [RELEASE_DOMAIN, [{ access: 'n', domid: 0 }]],
  ]);
  private readonly log: XenstoreLogger;
  private nextConnId = 1;
  private logging = true;
  /** Outstanding requests per domain (see PendingRequest). */
  private readonly outstanding = new Map<number, number>();
  /** Domains whose soft memory quota was reported and not yet left. */
  private readonly softReported = new Set<number>();
  private stalledConns = 0;
  /**
   * While a request is processed, output is queued but not handed to
   * transports (C xenstored writes only after processing), so an event
   * identical to one this request already queued is dropped as in C.
   */
  private batch: Set<EngineConnection> | undefined;

  constructor(options: XenstoreEngineOptions = {}) {
    this.quotas = Object.freeze({ ...QUOTA_DEFAULTS, ...options.quotas });
    this.log = options.log ?? defaultLogger();
  }

  /** A new connection tagged with `domid` (0 = privileged, as every socket). */
  connect(sink: EngineSink, domid = 0): EngineConnection {
    const conn = new EngineConnection(this.nextConnId++, domid, sink);
    this.conns.add(conn);
    return conn;
  }

  /** Drops the connection's watches, transactions and queued output. */
  disconnect(conn: EngineConnection): void {
    if (conn.closed) return;
    conn.closed = true;
    conn.watches.length = 0;
    conn.transactions.clear();
    if (conn.stalled) this.stalledConns--;
    conn.stalled = false;
    this.conns.delete(conn);
    // Discarded output counts as delivered, so its requests stop being outstanding.
    const dropped = conn.out.splice(0);
    conn.outBytes = 0;
    for (const item of dropped) this.delivered(item);
  }

  /**
   * May the transport read this connection's next request? Always for
   * privileged connections; an unprivileged domain waits while it has
   * `requestsOutstanding` requests outstanding or uses its hard memory
   * quota (domain_can_read() of C xenstored 4.17): a delay, never an error.
   * When this says no, the engine calls `sink.resume()` once it would say yes.
   */
  canRead(conn: EngineConnection): boolean {
    if (conn.closed) return false;
    if (conn.domid === 0) return true;
    const hit = this.readBlocker(conn.domid);
    if (!hit) return true;
    if (!conn.stalled) {
      conn.stalled = true;
      this.stalledConns++;
      this.quotaHit(conn.domid, { ...hit, action: 'delayed' }, 'reading from this domain is delayed until its output is taken');
    }
    return false;
  }

  /** Requests of `domid` still outstanding (for tests and monitoring). */
  outstandingOf(domid: number): number {
    return this.outstanding.get(domid) ?? 0;
  }

  /** Bytes held for `domid`: its nodes' records plus its connections' queued output. */
  memoryOf(domid: number): number {
    let bytes = this.tree.usageOf(domid).bytes;
    for (const c of this.conns) if (c.domid === domid) bytes += c.outBytes;
    return bytes;
  }

  /**
   * Hands queued output to the transport while it is ready. Transports
   * call this when they can write again (after `ready()` said no).
   */
  pump(conn: EngineConnection): void {
    let moved = false;
    while (conn.out.length > 0 && !conn.closed && (conn.sink.ready?.() ?? true)) {
      const item = conn.out.shift() as QueuedMessage;
      conn.outBytes -= item.bytes;
      moved = true;
      conn.sink.send(item.message);
      this.delivered(item);
    }
    if (conn.out.length === 0) conn.eventsDropped = 0;
    else if (!conn.closed) conn.sink.backlog?.(conn.outBytes);
    if (moved && conn.domid !== 0) this.wake(conn.domid);
  }

  private readBlocker(domid: number): Omit<XenstoreQuotaReport, 'action'> | undefined {
    const limit = this.quotas.requestsOutstanding;
    const n = this.outstandingOf(domid);
    if (limit > 0 && n >= limit) return { name: 'requestsOutstanding', value: n, limit };
    const hard = this.quotas.memoryPerDomainBytes;
    if (hard > 0) {
      const used = this.memoryOf(domid);
      if (used >= hard) return { name: 'memoryPerDomainBytes', value: used, limit: hard };
    }
    return undefined;
  }

  /** Resumes stalled connections of `domid` that may read again. */
  private wake(domid: number): void {
    if (this.stalledConns === 0 || this.readBlocker(domid)) return;
    for (const c of [...this.conns]) {
      if (c.domid !== domid || !c.stalled) continue;
      c.stalled = false;
      this.stalledConns--;
      c.sink.resume?.();
    }
  }

  private enqueue(conn: EngineConnection, message: XsMessage, ticket?: PendingRequest): void {
    if (conn.closed) return;
    if (ticket && message.type === XS.WATCH_EVENT) ticket.events++;
    conn.out.push({ message, bytes: HEADER_BYTES + message.payload.length, ticket });
    conn.outBytes += HEADER_BYTES + message.payload.length;
    if (this.batch) this.batch.add(conn);
    else this.pump(conn);
  }

  private delivered(item: QueuedMessage): void {
    const t = item.ticket;
    if (!t) return;
    if (item.message.type === XS.WATCH_EVENT) t.events--;
    else t.replied = true;
    this.settle(t);
  }

  private settle(t: PendingRequest): void {
    if (t.open || t.settled || !t.replied || t.events > 0) return;
    t.settled = true;
    const n = this.outstandingOf(t.domid) - 1;
    if (n > 0) this.outstanding.set(t.domid, n);
    else this.outstanding.delete(t.domid);
    if (t.domid !== 0) this.wake(t.domid);
  }

  private quotaHit(domid: number, quota: XenstoreQuotaReport, consequence: string): void {
    if (quota.action !== 'logged') this.stats.quotaHits++;
    const level = quota.action === 'logged' ? 'info' : 'warn';
    this.emit({ level, event: 'quota', domid, quota, message: `${quota.name} hit (${quota.value} for a limit of ${quota.limit}): ${consequence}` });
  }

  /** Read-only view of the current store, for tests and diagnostics. */
  get store(): NodeTree {
    return this.tree;
  }

  /**
   * Processes one request: queues the watch events it caused, then its
   * reply (C xenstored's order: fire_watches() before send_ack(); only
   * WATCH's registration event follows its OK), and hands the output to
   * the transports once the request is done. Checks run in C xenstored's
   * order: unknown type (ENOSYS), privileged-only type (EACCES), tx_id
   * lookup (ENOENT), then arguments.
   */
  handle(conn: EngineConnection, message: XsMessage): void {
    if (conn.closed) return;
    this.stats.requests++;
    const ticket: PendingRequest = { domid: conn.domid, events: 0, replied: false, open: true, settled: false };
    this.outstanding.set(conn.domid, this.outstandingOf(conn.domid) + 1);
    const batch = new Set<EngineConnection>();
    this.batch = batch;
    try {
      let outcome: Outcome;
      try {
        outcome = this.process(conn, message);
      } catch (e) {
        this.stats.errors++;
        let name = 'EINVAL';
        if (e instanceof XenstoreError) name = e.errnoName;
        else this.emit({ level: 'warn', event: 'internal', message: `untranslatable error, sent as EINVAL: ${String(e)}`, domid: conn.domid });
        this.enqueue(conn, { type: XS.ERROR, reqId: message.reqId, txId: message.txId, payload: encodeString(name) }, ticket);
        return;
      }
      if (outcome.fires && outcome.fires.length > 0) this.fire(outcome.fires, ticket);
      if (outcome.special) this.fireSpecial(outcome.special);
      this.enqueue(conn, { type: message.type, reqId: message.reqId, txId: message.txId, payload: outcome.payload }, ticket);
      outcome.after?.();
    } finally {
      this.batch = undefined;
      for (const c of batch) this.pump(c);
      if (!ticket.replied && conn.closed) ticket.replied = true; // the reply went with the connection
      ticket.open = false;
      this.settle(ticket);
      this.checkSoftMemory(conn.domid);
    }
  }

  private process(conn: EngineConnection, message: XsMessage): Outcome {
    const name = messageTypeName(message.type);
    if (name === undefined || NOT_REQUESTS.has(name)) return fail('ENOSYS', `message type ${message.type} is not a request`);
    if (PRIVILEGED_ONLY.has(name) && conn.domid !== 0) fail('EACCES', `${name} is for privileged callers`);
    let tx: Transaction | undefined;
    if (!NO_TXID.has(name) && message.txId !== 0) {
      tx = conn.transactions.get(message.txId);
      if (!tx) fail('ENOENT', `no transaction ${message.txId}`);
    }
    return this.dispatch(conn, decodeRequest(message), tx);
  }

  /** Logs the soft memory quota once per crossing (as xenstored's soft_quota_reported). */
  private checkSoftMemory(domid: number): void {
    const soft = this.quotas.memoryPerDomainSoftBytes;
    if (domid === 0 || soft === 0) return;
    const used = this.memoryOf(domid);
    if (used < soft) {
      this.softReported.delete(domid);
    } else if (!this.softReported.has(domid)) {
      this.softReported.add(domid);
      this.quotaHit(domid, { name: 'memoryPerDomainSoftBytes', value: used, limit: soft, action: 'logged' }, 'soft limit, nothing refused');
    }
  }

  private caller(conn: EngineConnection): XsCaller {
    const target = this.targets.get(conn.domid);
    return target === undefined ? { domid: conn.domid } : { domid: conn.domid, target };
  }

  private context(conn: EngineConnection): ops.OpContext {
    return this.contextFor(this.caller(conn));
  }

  private contextFor(caller: XsCaller): ops.OpContext {
    return {
      caller,
      quotas: this.quotas,
      domainExists: (d) => this.domainExists(d),
      onQuota: (hit) => {
        this.quotaHit(hit.domid, { name: hit.quota, value: hit.value, limit: hit.limit, action: hit.error }, `answered ${hit.error}`);
      },
    };
  }

  private emit(entry: XenstoreLogEntry): void {
    if (this.logging || entry.event === 'quota') this.log(entry);
  }

  private domainExists(domid: number): boolean {
    if (domid === 0 || this.introduced.has(domid)) return true;
    for (const c of this.conns) if (c.domid === domid) return true;
    return false;
  }

  private dispatch(conn: EngineConnection, req: XsRequest, tx: Transaction | undefined): Outcome {
    const ctx = this.context(conn);
    const change = (op: (tree: NodeTree) => ops.Change[]): Outcome => {
      if (tx) {
        tx.apply(this.tree, op);
        return { payload: OK };
      }
      const next = this.tree.clone();
      const changes = op(next);
      this.tree = next;
      return { payload: OK, fires: changes.flatMap(fireEntries) };
    };
    const view = tx ? tx.viewOf(this.tree) : this.tree;
    switch (req.op) {
      case 'READ':
        return { payload: ops.read(view, ctx, req.path) };
      case 'GET_PERMS':
        return { payload: encodeStrings(ops.getPerms(view, ctx, req.path).map(formatPerm)) };
      case 'DIRECTORY':
        return { payload: encodeStrings(ops.directory(view, ctx, req.path)) };
      case 'DIRECTORY_PART':
        return { payload: ops.directoryPart(view, ctx, req.path, req.offset) };
      case 'WRITE':
        return change((t) => ops.write(t, ctx, req.path, req.value));
      case 'MKDIR':
        return change((t) => ops.mkdir(t, ctx, req.path));
      case 'RM':
        return change((t) => ops.rm(t, ctx, req.path));
      case 'SET_PERMS':
        if (req.path.startsWith('@')) return this.setSpecialPerms(ctx, req.path, req.perms);
        return change((t) => ops.setPerms(t, ctx, req.path, req.perms));
      case 'WATCH':
        return this.watch(conn, req.path, req.token);
      case 'UNWATCH':
        return this.unwatch(conn, req.path, req.token);
      case 'RESET_WATCHES':
        conn.watches.length = 0;
        conn.transactions.clear();
        return { payload: OK };
      case 'TRANSACTION_START':
        return this.transactionStart(conn, ctx, tx);
      case 'TRANSACTION_END':
        return this.transactionEnd(conn, tx, req.commit);
      case 'GET_DOMAIN_PATH':
        return { payload: encodeString(domainPath(req.domid)) };
      case 'INTRODUCE':
        return this.introduce(req.domid, req.gfn, req.port);
      case 'RELEASE':
        return this.release(req.domid);
      case 'IS_DOMAIN_INTRODUCED': {
        // DOMID_SELF is always "introduced" (do_is_domain_introduced).
        const d = req.domid >>> 0;
        return { payload: encodeString(d === 0 || d === DOMID_SELF || this.introduced.has(d) ? 'T' : 'F') };
      }
      case 'RESUME':
        // onearg_domain(): domain 0 is EINVAL before the lookup.
        if (req.domid === 0) fail('EINVAL', 'RESUME of domain 0');
        if (!this.introduced.has(req.domid >>> 0)) fail('ENOENT', `domain ${req.domid} is not introduced`);
        return { payload: OK };
      case 'SET_TARGET':
        if (!this.domainExists(req.domid) || !this.domainExists(req.target)) fail('ENOENT', `SET_TARGET ${req.domid} ${req.target}`);
        this.targets.set(req.domid, req.target);
        return { payload: OK };
      case 'CONTROL':
        return this.control(conn, req.command, req.args);
    }
  }

  private setSpecialPerms(ctx: ops.OpContext, path: string, requested: readonly XsPerm[]): Outcome {
    const current = this.specialPerms.get(path);
    if (!current) fail('EINVAL', `no special node ${path}`);
    const perms = ops.preparePerms(ctx, requested);
    if (!allows(ctx.caller, current, PERM_WRITE | PERM_OWNER)) fail('EACCES', path);
    this.specialPerms.set(path, perms);
    return { payload: OK };
  }

  private watch(conn: EngineConnection, rawPath: string, token: string): Outcome {
    let path = rawPath;
    let relative = false;
    if (rawPath.startsWith('@')) {
      if (rawPath.length > REL_PATH_MAX) fail('EINVAL', 'watch path too long');
    } else {
      relative = !rawPath.startsWith('/');
      path = canonicalize(rawPath, conn.domid);
      if (!isValidNodePath(path)) fail('EINVAL', `invalid watch path ${JSON.stringify(rawPath.slice(0, 80))}`);
    }
    if (conn.watches.some((w) => w.path === path && w.token === token)) fail('EEXIST', `watch ${path} ${token}`);
    const limit = this.quotas.watchesPerDomain;
    if (conn.domid !== 0 && limit > 0) {
      let count = 0;
      for (const c of this.conns) if (c.domid === conn.domid) count += c.watches.length;
      if (count > limit) {
        this.context(conn).onQuota({ quota: 'watchesPerDomain', domid: conn.domid, value: count, limit, error: 'E2BIG' });
        fail('E2BIG', `domain ${conn.domid} has ${count} watches`);
      }
    }
    const watch: Watch = { path, token, relative };
    conn.watches.push(watch);
    return { payload: OK, after: () => this.sendEvent(conn, eventPathFor(watch, path, conn.domid), token) };
  }

  private unwatch(conn: EngineConnection, rawPath: string, token: string): Outcome {
    const path = rawPath.startsWith('@') ? rawPath : canonicalize(rawPath, conn.domid);
    const i = conn.watches.findIndex((w) => w.path === path && w.token === token);
    if (i < 0) fail('ENOENT', `no watch ${path} ${token}`);
    conn.watches.splice(i, 1);
    return { payload: OK };
  }

  private transactionStart(conn: EngineConnection, ctx: ops.OpContext, current: Transaction | undefined): Outcome {
    // An unknown tx_id was already ENOENT (process()); a live one is EBUSY.
    if (current) fail('EBUSY', 'transactions do not nest');
    const limit = this.quotas.transactionsPerConnection;
    if (!isPrivileged(ctx.caller) && limit > 0 && conn.transactions.size > limit) {
      ctx.onQuota({ quota: 'transactionsPerConnection', domid: conn.domid, value: conn.transactions.size + 1, limit, error: 'ENOSPC' });
      fail('ENOSPC', `${conn.transactions.size} open transactions`);
    }
    let id = conn.nextTxId;
    while (id === 0 || conn.transactions.has(id)) id = (id + 1) >>> 0;
    conn.nextTxId = (id + 1) >>> 0;
    conn.transactions.set(id, new Transaction(this.tree, isPrivileged(ctx.caller) ? 0 : this.quotas.nodesPerTransaction));
    return { payload: encodeString(String(id)) };
  }

  private transactionEnd(conn: EngineConnection, tx: Transaction | undefined, commit: boolean): Outcome {
    if (!tx) fail('ENOENT', 'TRANSACTION_END outside a transaction');
    for (const [id, t] of conn.transactions) if (t === tx) conn.transactions.delete(id);
    if (!commit) return { payload: OK };
    if (tx.conflictsWith(this.tree)) fail('EAGAIN', 'transaction conflicts');
    const before = this.tree;
    const { tree, changes } = tx.replay(before);
    this.tree = tree;
    return { payload: OK, fires: commitEntries(changes, tx.accessOrder(), (p) => before.get(p)?.perms, (p) => tree.get(p)?.perms) };
  }

  private introduce(domid: number, gfn: number, port: number): Outcome {
    if (port <= 0) fail('EINVAL', `INTRODUCE port ${port}`);
    if (domid < 0 || domid >= DOMID_FIRST_RESERVED) fail('EINVAL', `INTRODUCE domid ${domid}`);
    if (this.introduced.has(domid) || domid === 0) return { payload: OK };
    this.introduced.set(domid, { gfn, port });
    this.emit({ level: 'info', event: 'domain', domid, message: 'introduced' });
    return { payload: OK, special: INTRODUCE_DOMAIN };
  }

  private release(domid: number): Outcome {
    if (domid === 0) fail('EINVAL', 'domain 0 cannot be released');
    if (!this.introduced.has(domid)) fail('ENOENT', `domain ${domid} is not introduced`);
    this.introduced.delete(domid);
    this.targets.delete(domid);
    const next = this.tree.clone();
    const dom0 = this.contextFor({ domid: 0 });
    const owned: string[] = [];
    for (const { path, node } of next.walk()) {
      if (path === '/' || node.perms[0]?.domid !== domid) continue;
      if (!owned.some((o) => path.startsWith(`${o}/`))) owned.push(path);
    }
    const changes: ops.Change[] = [];
    for (const path of owned) changes.push(...ops.rm(next, dom0, path));
    // ACL entries naming the domain stay, ignored from now on (4.17 keeps
    // them and GET_PERMS still lists them: domain_adjust_node_perms()).
    for (const { path, node } of [...next.walk()]) {
      if (node.perms.some((p, i) => i > 0 && p.domid === domid && !p.ignored)) {
        next.put(path, { value: node.value, perms: node.perms.map((p, i) => (i > 0 && p.domid === domid ? { ...p, ignored: true } : p)) });
      }
    }
    this.tree = next;
    this.emit({ level: 'info', event: 'domain', domid, message: 'released' });
    const closing = [...this.conns].filter((c) => c.domid === domid);
    return {
      payload: OK,
      fires: changes.flatMap(fireEntries),
      special: RELEASE_DOMAIN,
      after: () => {
        for (const c of closing) {
          this.disconnect(c);
          c.sink.close();
        }
      },
    };
  }

  private control(conn: EngineConnection, command: string, args: readonly string[]): Outcome {
    switch (command) {
      case 'check':
        if (args.length !== 0) fail('EINVAL', 'check takes no arguments');
        return { payload: OK };
      case 'log':
        if (args.length !== 1 || (args[0] !== 'on' && args[0] !== 'off')) fail('EINVAL', 'log on|off');
        this.logging = args[0] === 'on';
        return { payload: OK };
      case 'print':
        if (args.length !== 1) fail('EINVAL', 'print <string>');
        this.emit({ level: 'info', event: 'control', message: `control: ${args[0]}` });
        return { payload: OK };
      case 'help': {
        if (args.length !== 0) fail('EINVAL', 'help takes no arguments');
        const pars: Record<(typeof CONTROL_COMMANDS)[number], string> = { check: '', log: 'on|off', print: '<string>', help: '', 'vpio-demote': '<domid>' };
        return { payload: encodeString(CONTROL_COMMANDS.map((c) => `${c}\t${pars[c]}\n`).join('')) };
      }
      case 'vpio-demote': {
        const arg = args[0] ?? '';
        const domid = /^[0-9]{1,5}$/.test(arg) ? Number(arg) : -1;
        if (args.length !== 1 || domid < 1 || domid >= DOMID_FIRST_RESERVED) fail('EINVAL', `vpio-demote takes a domid in [1, ${DOMID_FIRST_RESERVED - 1}]`);
        if (conn.transactions.size > 0) fail('EBUSY', 'close open transactions before demoting');
        this.emit({ level: 'info', event: 'connection', domid, message: `connection ${conn.id} demoted to domain ${domid}` });
        return { payload: OK, after: () => void (conn.domid = domid) };
      }
      default:
        return fail('EINVAL', `unknown control command ${JSON.stringify(command.slice(0, 40))}`);
    }
  }

  /**
   * Queues a watch event (send_event() of C xenstored 4.17): an event
   * identical to one still queued for the connection is dropped (except
   * `@...` events), and one that would take an unprivileged domain to its
   * hard memory quota is dropped and logged. `ticket` keeps the request
   * that caused it outstanding until the event is taken.
   */
  private sendEvent(conn: EngineConnection, path: string, token: string, ticket?: PendingRequest): void {
    if (conn.closed) return;
    const payload = encodeStrings([path, token]);
    if (!path.startsWith('@')) {
      for (const q of conn.out) {
        if (q.message.type === XS.WATCH_EVENT && q.message.payload.equals(payload)) {
          this.stats.eventsDeduplicated++;
          return;
        }
      }
    }
    const hard = this.quotas.memoryPerDomainBytes;
    if (conn.domid !== 0 && hard > 0) {
      const used = this.memoryOf(conn.domid) + HEADER_BYTES + payload.length;
      if (used >= hard) {
        this.stats.eventsDropped++;
        if (conn.eventsDropped++ === 0) {
          this.quotaHit(conn.domid, { name: 'memoryPerDomainBytes', value: used, limit: hard, action: 'event-dropped' }, `watch event ${path} dropped (further drops are not logged until the queue empties)`);
        }
        return;
      }
    }
    this.stats.events++;
    this.enqueue(conn, { type: XS.WATCH_EVENT, reqId: 0, txId: 0, payload }, ticket);
  }

  /**
   * May `caller` see an event about `e` (watch_permitted)? The old perms,
   * then the node's (gone: no), then its parent's (a removed
   * descendant's parent is gone from the store, its perms come along).
   */
  private permitted(caller: XsCaller, e: FireEntry): boolean {
    if (isPrivileged(caller)) return true;
    if (e.oldPerms && allows(caller, e.oldPerms, PERM_READ)) return true;
    if (!e.perms) return false;
    if (allows(caller, e.perms, PERM_READ)) return true;
    const parentPerms = e.parentPerms ?? this.tree.get(parentPath(e.path))?.perms;
    return parentPerms !== undefined && allows(caller, parentPerms, PERM_READ);
  }

  /** Queues the events of `entries`, one fire_watches() call after the other (per connection in this order). */
  private fire(entries: readonly FireEntry[], ticket: PendingRequest): void {
    for (const conn of [...this.conns]) {
      if (conn.closed || conn.watches.length === 0) continue;
      const caller = this.caller(conn);
      for (const e of entries) {
        if (!this.permitted(caller, e)) continue;
        for (const watch of [...conn.watches]) {
          if (watchMatches(watch, e)) this.sendEvent(conn, eventPathFor(watch, e.path, conn.domid), watch.token, ticket);
        }
      }
    }
  }

  private fireSpecial(path: string): void {
    const perms = this.specialPerms.get(path) ?? [];
    for (const conn of [...this.conns]) {
      if (conn.closed || conn.watches.length === 0) continue;
      const caller = this.caller(conn);
      if (!isPrivileged(caller) && !allows(caller, perms, PERM_READ)) continue;
      for (const watch of conn.watches) if (watch.path === path) this.sendEvent(conn, path, watch.token);
    }
  }
}

