/**
 * Watch matching (xenstored_watch.c): a change at P fires every watch on P
 * or an ancestor of P; removing X also fires watches sitting exactly on a
 * removed descendant, with that descendant's path. Relative watches get
 * event paths relative to the watcher's home. Pure functions only.
 */
import { domainPath, isSelfOrDescendant } from './paths.js';
import type { Change } from './store-ops.js';

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

/** The paths (with the perms that decide visibility) at which `change` fires `watch`. */
export function firedPaths(watch: Watch, change: Change): Array<{ path: string; perms: Change['perms'] }> {
  const out: Array<{ path: string; perms: Change['perms'] }> = [];
  if (isSelfOrDescendant(change.path, watch.path)) out.push({ path: change.path, perms: change.perms });
  for (const r of change.removed ?? []) {
    if (r.path === watch.path) out.push(r);
  }
  return out;
}
