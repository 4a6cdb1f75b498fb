/**
 * The node operations of C xenstored 4.17 as pure functions over a
 * NodeTree: permission checks (with errno_from_parents' hiding of
 * existence), creation of missing parents with inherited perms, and the
 * node quotas. They return what changed so the engine can fire watches.
 */
import { allows, inheritPerms, isPrivileged, permFor, PERM_OWNER, PERM_READ, PERM_WRITE, type XsCaller, type XsPerm } from './permissions.js';
import { parentPath, resolveNodePath } from './paths.js';
import { NodeTree, nodeRecordBytes, ownerOf, type XsNode } from './node-tree.js';
import { PAYLOAD_MAX, type XenstoreQuotas, type XsErrorName } from './protocol.js';
import { fail } from './xenstore-error.js';

/** A quota that stopped a request, reported to the engine's log. */
export interface QuotaHit {
  readonly quota: keyof XenstoreQuotas;
  readonly domid: number;
  readonly value: number;
  readonly limit: number;
  readonly error: XsErrorName;
}

export interface OpContext {
  readonly caller: XsCaller;
  readonly quotas: XenstoreQuotas;
  /** Domain 0, introduced domains and domains with a live connection exist. */
  domainExists(domid: number): boolean;
  onQuota(hit: QuotaHit): void;
}

/** One change, for watches: the node's perms at change time (and before, for SET_PERMS). */
export interface Change {
  readonly kind: 'write' | 'mkdir' | 'rm' | 'perms';
  readonly path: string;
  readonly perms: readonly XsPerm[];
  readonly oldPerms?: readonly XsPerm[];
  /** For rm: every removed node below `path`, with its perms. */
  readonly removed?: ReadonlyArray<{ path: string; perms: readonly XsPerm[] }>;
}

function quota(ctx: OpContext, name: keyof XenstoreQuotas, value: number, limit: number, error: XsErrorName, message: string): never {
  ctx.onQuota({ quota: name, domid: ctx.caller.domid, value, limit, error });
  fail(error, message);
}

function nearestAncestor(tree: NodeTree, path: string): XsNode | undefined {
  let p = path;
  while (p !== '/') {
    p = parentPath(p);
    const n = tree.get(p);
    if (n) return n;
  }
  return undefined;
}

/**
 * get_node(): the node if the caller has `need` on it; otherwise throws
 * ENOENT/EACCES, turning ENOENT into EACCES unless the nearest existing
 * ancestor grants the caller some of `need`.
 */
function lookup(tree: NodeTree, caller: XsCaller, path: string, need: number): XsNode {
  const node = tree.get(path);
  if (node && allows(caller, node.perms, need)) return node;
  const errnum: XsErrorName = node ? 'EACCES' : 'ENOENT';
  const anc = nearestAncestor(tree, path);
  if (anc && (permFor(caller, anc.perms) & need) !== 0) fail(errnum, path);
  fail('EACCES', path);
}

/** Like lookup but returns undefined where creating the node is allowed. */
function lookupOrCreatable(tree: NodeTree, caller: XsCaller, path: string): XsNode | undefined {
  try {
    return lookup(tree, caller, path, PERM_WRITE);
  } catch (e) {
    if ((e as { errnoName?: string }).errnoName === 'ENOENT') return undefined;
    throw e;
  }
}

function checkNodeSize(ctx: OpContext, n: Pick<XsNode, 'perms' | 'value' | 'childBytes'>, path: string): void {
  const limit = ctx.quotas.nodeSizeBytes;
  if (isPrivileged(ctx.caller) || limit === 0) return;
  const size = nodeRecordBytes(n);
  if (size >= limit) quota(ctx, 'nodeSizeBytes', size, limit, 'ENOSPC', `node ${path} would hold ${size} bytes`);
}

/**
 * The hard memory quota (domain_memory_add → domain_chk_quota: refused when
 * the new total reaches the limit). The soft quota only logs; the engine
 * reports it once per crossing after the request.
 */
function checkMemory(ctx: OpContext, tree: NodeTree, addBytes: number): void {
  const hard = ctx.quotas.memoryPerDomainBytes;
  if (isPrivileged(ctx.caller) || hard === 0 || addBytes <= 0) return;
  const used = tree.usageOf(ctx.caller.domid).bytes + addBytes;
  if (used >= hard) quota(ctx, 'memoryPerDomainBytes', used, hard, 'ENOMEM', `domain ${ctx.caller.domid} would use ${used} bytes`);
}

/** create_node(): creates `path` and every missing parent with inherited perms. */
function create(tree: NodeTree, ctx: OpContext, path: string, value: Buffer): void {
  const missing: string[] = [];
  let p = path;
  while (!tree.get(p)) {
    missing.unshift(p);
    p = parentPath(p);
  }
  const limit = ctx.quotas.nodesPerDomain;
  if (!isPrivileged(ctx.caller) && limit > 0) {
    const have = tree.usageOf(ctx.caller.domid).nodes;
    if (have + missing.length > limit) {
      quota(ctx, 'nodesPerDomain', have + missing.length, limit, 'ENOSPC', `domain ${ctx.caller.domid} owns ${have} nodes`);
    }
  }
  for (const m of missing) {
    const parent = tree.get(parentPath(m)) as XsNode;
    const name = m.slice(m.lastIndexOf('/') + 1);
    checkNodeSize(ctx, { ...parent, childBytes: parent.childBytes + name.length + 1 }, parentPath(m));
    const perms = inheritPerms(ctx.caller, parent.perms);
    const v = m === path ? value : Buffer.alloc(0);
    checkNodeSize(ctx, { perms, value: v, childBytes: 0 }, m);
    checkMemory(ctx, tree, nodeRecordBytes({ perms, value: v, childBytes: 0 }) + name.length + 1);
    tree.put(m, { value: v, perms });
  }
}

export function read(tree: NodeTree, ctx: OpContext, rawPath: string): Buffer {
  return lookup(tree, ctx.caller, resolveNodePath(rawPath, ctx.caller.domid), PERM_READ).value;
}

export function getPerms(tree: NodeTree, ctx: OpContext, rawPath: string): readonly XsPerm[] {
  return lookup(tree, ctx.caller, resolveNodePath(rawPath, ctx.caller.domid), PERM_READ).perms;
}

/** DIRECTORY: child names; E2BIG when the list would not fit in one reply. */
export function directory(tree: NodeTree, ctx: OpContext, rawPath: string): string[] {
  const node = lookup(tree, ctx.caller, resolveNodePath(rawPath, ctx.caller.domid), PERM_READ);
  if (node.childBytes > PAYLOAD_MAX) fail('E2BIG', `${node.children.size} children do not fit in one reply`);
  return [...node.children.keys()];
}

/** DIRECTORY_PART reply payload: `gen\0` + children from byte `offset`, last chunk ends with an extra NUL. */
export function directoryPart(tree: NodeTree, ctx: OpContext, rawPath: string, offset: number): Buffer {
  const node = lookup(tree, ctx.caller, resolveNodePath(rawPath, ctx.caller.domid), PERM_READ);
  const gen = Buffer.from(`${node.generation}\0`, 'latin1');
  const children = Buffer.from([...node.children.keys()].map((k) => `${k}\0`).join(''), 'latin1');
  if (offset < 0 || offset >= children.length) return Buffer.concat([gen, Buffer.from([0])]);
  const maxLen = PAYLOAD_MAX - gen.length - 1;
  let len = 0;
  // send_directory_part(): a name fits while len + strlen(name) < maxlen,
  // so a chunk may fill the payload to exactly 4096 bytes.
  while (len + offset < children.length) {
    const nul = children.indexOf(0, offset + len);
    const tlen = nul - (offset + len) + 1;
    if (len + tlen - 1 >= maxLen) break;
    len += tlen;
  }
  const parts = [gen, children.subarray(offset, offset + len)];
  if (offset + len === children.length) parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

export function write(tree: NodeTree, ctx: OpContext, rawPath: string, value: Buffer): Change[] {
  const path = resolveNodePath(rawPath, ctx.caller.domid);
  const node = lookupOrCreatable(tree, ctx.caller, path);
  if (!node) {
    create(tree, ctx, path, value);
  } else {
    checkNodeSize(ctx, { ...node, value }, path);
    if (ownerOf(node) === ctx.caller.domid) checkMemory(ctx, tree, value.length - node.value.length);
    tree.put(path, { value, perms: node.perms });
  }
  return [{ kind: 'write', path, perms: (tree.get(path) as XsNode).perms }];
}

/** MKDIR: creates the chain; a no-op (no watch) when the node exists. */
export function mkdir(tree: NodeTree, ctx: OpContext, rawPath: string): Change[] {
  const path = resolveNodePath(rawPath, ctx.caller.domid);
  if (lookupOrCreatable(tree, ctx.caller, path)) return [];
  create(tree, ctx, path, Buffer.alloc(0));
  return [{ kind: 'mkdir', path, perms: (tree.get(path) as XsNode).perms }];
}

/** RM: recursive; OK when the node is missing but its parent exists. */
export function rm(tree: NodeTree, ctx: OpContext, rawPath: string): Change[] {
  const path = resolveNodePath(rawPath, ctx.caller.domid);
  const node = lookupOrCreatable(tree, ctx.caller, path);
  if (!node) {
    if (tree.get(parentPath(path))) return [];
    fail('ENOENT', `parent of ${path}`);
  }
  if (path === '/') fail('EINVAL', 'cannot remove /');
  const removed = tree.remove(path);
  return [
    {
      kind: 'rm',
      path,
      perms: node.perms,
      removed: removed.slice(1).map((r) => ({ path: r.path, perms: r.node.perms })),
    },
  ];
}

/**
 * Checks a new perm list the way SET_PERMS does (count quota; owner must
 * exist; unknown ACL domains are marked ignored) and returns it.
 */
export function preparePerms(ctx: OpContext, perms: readonly XsPerm[]): XsPerm[] {
  const limit = ctx.quotas.permsPerNode;
  if (!isPrivileged(ctx.caller) && limit > 0 && perms.length > limit) {
    quota(ctx, 'permsPerNode', perms.length, limit, 'ENOSPC', `${perms.length} permission entries`);
  }
  const owner = perms[0];
  if (!owner) fail('EINVAL', 'SET_PERMS needs at least one permission');
  if (!ctx.domainExists(owner.domid)) fail('ENOENT', `owner domain ${owner.domid} does not exist`);
  return perms.map((p, i) => (i > 0 && !ctx.domainExists(p.domid) ? { access: p.access, domid: p.domid, ignored: true } : { access: p.access, domid: p.domid }));
}

export function setPerms(tree: NodeTree, ctx: OpContext, rawPath: string, requested: readonly XsPerm[]): Change[] {
  const path = resolveNodePath(rawPath, ctx.caller.domid);
  const perms = preparePerms(ctx, requested);
  const node = lookup(tree, ctx.caller, path, PERM_WRITE | PERM_OWNER);
  if (!isPrivileged(ctx.caller) && (perms[0] as XsPerm).domid !== ownerOf(node)) {
    fail('EPERM', `domain ${ctx.caller.domid} may not change the owner of ${path}`);
  }
  checkNodeSize(ctx, { ...node, perms }, path);
  tree.put(path, { value: node.value, perms });
  return [{ kind: 'perms', path, perms, oldPerms: node.perms }];
}
