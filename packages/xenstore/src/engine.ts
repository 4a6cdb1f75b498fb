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
import { eventPathFor, firedPaths, type Watch } from './watches.js';
import { CONTROL_COMMANDS, DOMID_FIRST_RESERVED, INTRODUCE_DOMAIN, QUOTA_DEFAULTS, REL_PATH_MAX, RELEASE_DOMAIN, XS, type XenstoreQuotas } from './protocol.js';
import { fail, XenstoreError } from './xenstore-error.js';

export interface XenstoreLogEntry {
  readonly level: 'debug' | 'info' | 'warn';
  readonly event: 'quota' | 'control' | 'connection' | 'domain' | 'internal';
  readonly message: string;
  readonly domid?: number;
}

export type XenstoreLogger = (entry: XenstoreLogEntry) => void;

/** Where the engine delivers a connection's replies and events. */
export interface EngineSink {
  send(message: XsMessage): void;
  /** Ends the connection (its domain was released). */
  close(): void;
}

export interface XenstoreEngineOptions {
  /** Overrides of Xen 4.17's quota defaults; 0 disables a quota. */
  readonly quotas?: Partial<XenstoreQuotas>;
  readonly log?: XenstoreLogger;
}

/** The default logger: silent unless DEBUG names vpio:* or vpio:xenstore. */
export function defaultLogger(): XenstoreLogger {
  const debug = process.env.DEBUG ?? '';
  const on = /(^|,)\s*vpio:(\*|xenstore)/.test(debug);
  return (e) => {
    if (on) process.stderr.write(`vpio:xenstore ${e.level} ${e.event}${e.domid === undefined ? '' : ` dom${e.domid}`}: ${e.message}\n`);
  };
}

export class EngineConnection {
  readonly watches: Watch[] = [];
  readonly transactions = new Map<number, Transaction>();
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
  readonly changes?: ops.Change[];
  readonly special?: string;
  readonly after?: () => void;
}

const OK = encodeString('OK');
/** Types whose tx_id is not looked up (C xenstored's XS_FLAG_NOTID). */
const NO_TXID = new Set<XsRequest['op']>(['WATCH', 'UNWATCH', 'TRANSACTION_START', 'INTRODUCE', 'RELEASE', 'GET_DOMAIN_PATH', 'IS_DOMAIN_INTRODUCED', 'RESUME', 'SET_TARGET', 'RESET_WATCHES']);
const PRIVILEGED_ONLY = new Set<XsRequest['op']>(['CONTROL', 'INTRODUCE', 'RELEASE', 'IS_DOMAIN_INTRODUCED', 'RESUME', 'SET_TARGET']);

export class XenstoreEngine {
  readonly quotas: XenstoreQuotas;
  /** Counters for tests and monitoring. */
  readonly stats = { requests: 0, errors: 0, quotaHits: 0, events: 0 };
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

  /** Drops the connection's watches and transactions. */
  disconnect(conn: EngineConnection): void {
    conn.closed = true;
    conn.watches.length = 0;
    conn.transactions.clear();
    this.conns.delete(conn);
  }

  /** Read-only view of the current store, for tests and diagnostics. */
  get store(): NodeTree {
    return this.tree;
  }

  /** Processes one request: sends its reply, then the watch events it caused. */
  handle(conn: EngineConnection, message: XsMessage): void {
    if (conn.closed) return;
    this.stats.requests++;
    let outcome: Outcome;
    try {
      outcome = this.dispatch(conn, message, decodeRequest(message));
    } catch (e) {
      this.stats.errors++;
      let name = 'EINVAL';
      if (e instanceof XenstoreError) name = e.errnoName;
      else this.emit({ level: 'warn', event: 'internal', message: `untranslatable error, sent as EINVAL: ${String(e)}`, domid: conn.domid });
      conn.sink.send({ type: XS.ERROR, reqId: message.reqId, txId: message.txId, payload: encodeString(name) });
      return;
    }
    conn.sink.send({ type: message.type, reqId: message.reqId, txId: message.txId, payload: outcome.payload });
    outcome.after?.();
    if (outcome.changes && outcome.changes.length > 0) this.fire(outcome.changes);
    if (outcome.special) this.fireSpecial(outcome.special);
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
        this.stats.quotaHits++;
        this.emit({ level: 'warn', event: 'quota', domid: hit.domid, message: `${hit.quota} hit: ${hit.value} > ${hit.limit}, answered ${hit.error}` });
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

  private dispatch(conn: EngineConnection, message: XsMessage, req: XsRequest): Outcome {
    const ctx = this.context(conn);
    if (PRIVILEGED_ONLY.has(req.op) && !isPrivileged(ctx.caller)) fail('EACCES', `${req.op} is for privileged callers`);
    let tx: Transaction | undefined;
    if (!NO_TXID.has(req.op) && message.txId !== 0) {
      tx = conn.transactions.get(message.txId);
      if (!tx) fail('ENOENT', `no transaction ${message.txId}`);
    }
    const change = (op: (tree: NodeTree) => ops.Change[]): Outcome => {
      if (tx) {
        tx.apply(op);
        return { payload: OK };
      }
      const next = this.tree.clone();
      const changes = op(next);
      this.tree = next;
      return { payload: OK, changes };
    };
    const view = tx ? tx.view : this.tree;
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
        return this.transactionStart(conn, ctx, message.txId);
      case 'TRANSACTION_END':
        return this.transactionEnd(conn, message.txId, req.commit);
      case 'GET_DOMAIN_PATH':
        return { payload: encodeString(domainPath(req.domid)) };
      case 'INTRODUCE':
        return this.introduce(req.domid, req.gfn, req.port);
      case 'RELEASE':
        return this.release(req.domid);
      case 'IS_DOMAIN_INTRODUCED':
        return { payload: encodeString(req.domid === 0 || this.introduced.has(req.domid) ? 'T' : 'F') };
      case 'RESUME':
        if (!this.introduced.has(req.domid)) fail('ENOENT', `domain ${req.domid} is not introduced`);
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
        this.context(conn).onQuota({ quota: 'watchesPerDomain', domid: conn.domid, value: count + 1, limit, error: 'E2BIG' });
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

  private transactionStart(conn: EngineConnection, ctx: ops.OpContext, txId: number): Outcome {
    if (txId !== 0) fail('EBUSY', 'transactions do not nest');
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

  private transactionEnd(conn: EngineConnection, txId: number, commit: boolean): Outcome {
    const tx = conn.transactions.get(txId);
    if (txId === 0 || !tx) fail('ENOENT', `no transaction ${txId}`);
    conn.transactions.delete(txId);
    if (!commit) return { payload: OK };
    if (tx.conflictsWith(this.tree)) fail('EAGAIN', `transaction ${txId} conflicts`);
    const { tree, changes } = tx.replay(this.tree);
    this.tree = tree;
    return { payload: OK, changes };
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
    for (const { path, node } of [...next.walk()]) {
      if (node.perms.slice(1).some((p) => p.domid === domid)) {
        next.put(path, { value: node.value, perms: node.perms.filter((p, i) => i === 0 || p.domid !== domid) });
      }
    }
    this.tree = next;
    this.emit({ level: 'info', event: 'domain', domid, message: 'released' });
    const closing = [...this.conns].filter((c) => c.domid === domid);
    return {
      payload: OK,
      changes,
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
        return { payload: Buffer.from(CONTROL_COMMANDS.map((c) => `${c}\t${pars[c]}\n`).join(''), 'latin1') };
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

  private sendEvent(conn: EngineConnection, path: string, token: string): void {
    this.stats.events++;
    conn.sink.send({ type: XS.WATCH_EVENT, reqId: 0, txId: 0, payload: encodeStrings([path, token]) });
  }

  /** May `caller` see an event about a node with `perms` (watch_permitted)? */
  private permitted(caller: XsCaller, path: string, perms: readonly XsPerm[], oldPerms?: readonly XsPerm[]): boolean {
    if (isPrivileged(caller)) return true;
    if (allows(caller, perms, PERM_READ)) return true;
    if (oldPerms && allows(caller, oldPerms, PERM_READ)) return true;
    const parent = this.tree.get(parentPath(path));
    return parent !== undefined && allows(caller, parent.perms, PERM_READ);
  }

  private fire(changes: readonly ops.Change[]): void {
    for (const conn of [...this.conns]) {
      if (conn.closed || conn.watches.length === 0) continue;
      const caller = this.caller(conn);
      for (const change of changes) {
        for (const watch of [...conn.watches]) {
          for (const hit of firedPaths(watch, change)) {
            if (!this.permitted(caller, hit.path, hit.perms, hit.path === change.path ? change.oldPerms : undefined)) continue;
            this.sendEvent(conn, eventPathFor(watch, hit.path, conn.domid), watch.token);
          }
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

