/**
 * Xen's path rules (is_valid_nodename, canonicalize): absolute paths of
 * [A-Za-z0-9-/_@], no `//`, no trailing `/` except the root, at most
 * 2048 characters after a `/local/domain/<id>/` prefix. Relative paths are
 * prefixed with the caller's home `/local/domain/<domid>`.
 */
import { REL_PATH_MAX } from './protocol.js';
import { fail } from './xenstore-error.js';

const VALID_CHARS = /^[A-Za-z0-9\-/_@]*$/;
const LOCAL_PREFIX = /^\/local\/domain\/(\d{1,5})\//;

/** `/local/domain/<domid>`. */
export function domainPath(domid: number): string {
  return `/local/domain/${domid >>> 0}`;
}

/** Relative paths (not starting with `/` or `@`) become absolute under the caller's home. */
export function canonicalize(path: string, domid: number): string {
  if (path.startsWith('/') || path.startsWith('@')) return path;
  return `${domainPath(domid)}/${path}`;
}

/** True when `path` is a node name Xen accepts. */
export function isValidNodePath(path: string): boolean {
  if (!path.startsWith('/')) return false;
  if (path.includes('//')) return false;
  if (path.length > 1 && path.endsWith('/')) return false;
  const m = LOCAL_PREFIX.exec(path);
  const localOff = m ? m[0].length : 0;
  if (path.length - localOff > REL_PATH_MAX) return false;
  return VALID_CHARS.test(path);
}

/** Canonicalizes and validates a node path; throws EINVAL. */
export function resolveNodePath(path: string, domid: number): string {
  const abs = canonicalize(path, domid);
  if (!isValidNodePath(abs)) fail('EINVAL', `invalid path ${JSON.stringify(path.length > 80 ? `${path.slice(0, 80)}...` : path)}`);
  return abs;
}

export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** Path segments of an absolute path; `/` has none. */
export function segments(path: string): string[] {
  return path === '/' ? [] : path.slice(1).split('/');
}

/** True when `child` is `ancestor` or lies below it. */
export function isSelfOrDescendant(child: string, ancestor: string): boolean {
  if (ancestor === '/') return child.startsWith('/');
  return child === ancestor || child.startsWith(`${ancestor}/`);
}
