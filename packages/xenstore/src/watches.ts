/**
 * Watch matching (xenstored_watch.c): a change at P fires every watch on P
 * or an ancestor of P; removing X also fires watches sitting exactly on a
 * removed descendant, with that descendant's path. Relative watches get
 * event paths relative to the watcher's home. Pure functions only.
 *
 * The order is C xenstored's, since a connection sees its events in it:
 * one fire_watches() call per changed node; an RM walks the removed
 * subtree and fires each descendant after its children (post-order),
 * the removed node itself last; a transaction fires at commit once per
 * node it changed, in the order it first looked at them.
 */
import type { XsPerm } from './permissions.js';
import { domainPath, isSelfOrDescendant, parentPath } from './paths.js';
import type { Change } from './store-ops.js';

/** One fire_watches() call: a changed node and what decides who may see it. */
export interface FireEntry {
  readonly path: string;
  /** Only watches exactly on `path` (removed descendants); else watches on it or above. */
  readonly exact: boolean;
  /** The node's perms as changed; undefined when a transaction removed it. */
  readonly perms?: readonly XsPerm[];
  /** Perms before the change (SET_PERMS; a transaction's first look). */
  readonly oldPerms?: readonly XsPerm[];
  /** A removed descendant's parent's perms (it is gone from the store too). */
  readonly parentPerms?: readonly XsPerm[];
}

export interface Watch {
  /** Canonical path, or a special `@...` name. */
  readonly path: string;
  readonly token: string;
  /** Registered with a relative path: events are reported relative too. */
  readonly relative: boolean;
}

/** The event path a watcher of domain `domid` sees for `path`. */
export function eventPathFor(watch: Watch, path: string, domid: number): string {
  if (!watch.relative) return path;
  const home = `${domainPath(domid)}/`;
  return path.startsWith(home) ? path.slice(home.length) : path;
}

/** Does `entry` fire `watch`? */
export function watchMatches(watch: Watch, entry: FireEntry): boolean {
  return entry.exact ? watch.path === entry.path : isSelfOrDescendant(entry.path, watch.path);
}

/** The fire_watches() calls of one change, in C's order (removed descendants post-order, then the node). */
export function fireEntries(change: Change): FireEntry[] {
  const root: FireEntry = { path: change.path, exact: false, perms: change.perms, ...(change.oldPerms ? { oldPerms: change.oldPerms } : {}) };
  const removed = change.removed ?? [];
  if (removed.length === 0) return [root];
  // `removed` is pre-order (parents first); unwind it into post-order with a stack.
  const permsOf = new Map<string, readonly XsPerm[]>([[change.path, change.perms], ...removed.map((r) => [r.path, r.perms] as const)]);
  const out: FireEntry[] = [];
  const stack: Array<{ path: string; perms: readonly XsPerm[] }> = [];
  const emit = (r: { path: string; perms: readonly XsPerm[] }) =>
    out.push({ path: r.path, exact: true, perms: r.perms, parentPerms: permsOf.get(parentPath(r.path)) });
  for (const r of removed) {
    while (stack.length > 0 && !isSelfOrDescendant(r.path, (stack[stack.length - 1] as { path: string }).path)) emit(stack.pop() as { path: string; perms: readonly XsPerm[] });
    stack.push(r);
  }
  while (stack.length > 0) emit(stack.pop() as { path: string; perms: readonly XsPerm[] });
  out.push(root);
  return out;
}

/**
 * A committed transaction's fire_watches() calls (finalize_transaction):
 * one per changed node, non-exact if any change of it was, in the order
 * the transaction first looked at the nodes. `before` gives a node's
 * perms in the store before the commit (the transaction's first look).
 */
export function commitEntries(changes: readonly Change[], accessOrder: readonly string[], before: (path: string) => readonly XsPerm[] | undefined, after: (path: string) => readonly XsPerm[] | undefined): FireEntry[] {
  const merged = new Map<string, boolean>();
  for (const change of changes) {
    for (const e of fireEntries(change)) merged.set(e.path, (merged.get(e.path) ?? true) && e.exact);
  }
  const rank = new Map(accessOrder.map((p, i) => [p, i]));
  const paths = [...merged.keys()].sort((x, y) => (rank.get(x) ?? rank.size) - (rank.get(y) ?? rank.size));
  return paths.map((path) => {
    const perms = after(path);
    const oldPerms = before(path);
    return { path, exact: merged.get(path) as boolean, ...(perms ? { perms } : {}), ...(oldPerms ? { oldPerms } : {}) };
  });
}
