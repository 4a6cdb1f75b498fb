/**
 * Xen's node permissions: an owner entry followed by ACL entries, each a
 * letter (n none, r read, w write, b both) and a domid. The owner's letter
 * is the default for domains not listed. Pure functions only.
 */
import { fail } from './xenstore-error.js';

export type XsAccess = 'n' | 'r' | 'w' | 'b';

export interface XsPerm {
  readonly access: XsAccess;
  readonly domid: number;
  /**
   * Set when the entry named a domain that did not exist when it was
   * written (Xen's XS_PERM_IGNORE): kept and reported, never matched.
   */
  readonly ignored?: boolean;
}

/** What a caller may do with a node (bit set). */
export const PERM_READ = 1;
export const PERM_WRITE = 2;
export const PERM_OWNER = 4;

const LETTER_BITS: Readonly<Record<XsAccess, number>> = { n: 0, r: PERM_READ, w: PERM_WRITE, b: PERM_READ | PERM_WRITE };

/** Who is asking: a domid; dom0 is privileged. `target` is set by SET_TARGET. */
export interface XsCaller {
  readonly domid: number;
  readonly target?: number;
}

export function isPrivileged(caller: XsCaller): boolean {
  return caller.domid === 0;
}

// strtol(s, &end, 0) must consume everything: decimal, 0x hex or 0 octal, optional blanks and sign.
const STRTOL0 = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/;

/** Parses one permission string such as `r5` or `b0x10` (xs_strings_to_perms). Throws EINVAL. */
export function parsePerm(s: string): XsPerm {
  const letter = s[0];
  if (letter !== 'n' && letter !== 'r' && letter !== 'w' && letter !== 'b') {
    fail('EINVAL', `permission ${JSON.stringify(s)} must start with n, r, w or b`);
  }
  const m = STRTOL0.exec(s.slice(1));
  if (!m) fail('EINVAL', `permission ${JSON.stringify(s)} needs an integer domid`);
  const digits = m[2] ?? '0';
  const magnitude = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : digits.length > 1 && digits.startsWith('0') ? parseInt(digits, 8) : Number(digits);
  const domid = (m[1] === '-' ? -magnitude : magnitude) >>> 0;
  return { access: letter, domid };
}

export function parsePermStrings(list: readonly string[]): XsPerm[] {
  return list.map(parsePerm);
}

/**
 * `r5` etc. The domid is printed as C's `%i` of the (int) id
 * (xs_perm_to_string), so an id from `r-1` reads back as `r-1`.
 */
export function formatPerm(p: XsPerm): string {
  return `${p.access}${p.domid | 0}`;
}

/** The access bits `caller` has on a node with `perms` (perm_for_conn). */
export function permFor(caller: XsCaller, perms: readonly XsPerm[]): number {
  const owner = perms[0];
  if (isPrivileged(caller) || owner === undefined || owner.domid === caller.domid || (caller.target !== undefined && owner.domid === caller.target)) {
    return PERM_READ | PERM_WRITE | PERM_OWNER;
  }
  for (let i = 1; i < perms.length; i++) {
    const p = perms[i] as XsPerm;
    if (!p.ignored && (p.domid === caller.domid || (caller.target !== undefined && p.domid === caller.target))) {
      return LETTER_BITS[p.access];
    }
  }
  return LETTER_BITS[owner.access];
}

/** True when `caller` has every bit of `need` on `perms`. */
export function allows(caller: XsCaller, perms: readonly XsPerm[], need: number): boolean {
  return (permFor(caller, perms) & need) === need;
}

/** The perms a node created by `caller` under a parent with `parentPerms` gets. */
export function inheritPerms(caller: XsCaller, parentPerms: readonly XsPerm[]): XsPerm[] {
  const perms = parentPerms.map((p) => ({ ...p }));
  const owner = perms[0];
  if (!isPrivileged(caller) && owner) perms[0] = { access: owner.access, domid: caller.domid };
  return perms;
}
