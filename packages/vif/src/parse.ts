/**
 * Strict parsers for the values the other end writes into xenstore. Each
 * returns the value or a problem text that names the key, what was
 * expected and what arrived (quoted, cut, printable only), ready to be an
 * `error` node. netfront's C core (csrc/nf_parse.c) applies the same rules.
 */
import { VIF_LIMITS, XENBUS_STATES, type XenbusState } from './protocol.js';

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

const SHOWN_MAX = 32;

/** A value as shown in a problem text: printable ASCII with `"` and `\\` shown as `?` (as netfront's C core), at most 32 characters. */
export function showValue(value: string | undefined): string {
  if (value === undefined) return 'nothing';
  const cut = value.length > SHOWN_MAX ? `${value.slice(0, SHOWN_MAX)}...` : value;
  return `"${cut.replace(/[^\x20-\x7e]|["\\]/g, '?')}"`;
}

function bad<T>(key: string, expected: string, value: string | undefined): Parsed<T> {
  return { ok: false, problem: `${key}: expected ${expected}, got ${showValue(value)}` };
}

/** Decimal u32: digits only, no sign, no leading zero (except "0"), at most 2^32 - 1. */
export function parseU32(key: string, value: string | undefined): Parsed<number> {
  if (value === undefined || !/^(0|[1-9][0-9]{0,9})$/.test(value) || Number(value) > 0xffffffff) {
    return bad(key, 'a decimal number in [0, 4294967295]', value);
  }
  return { ok: true, value: Number(value) };
}

function ranged(key: string, value: string | undefined, min: number, max: number, what: string): Parsed<number> {
  const n = parseU32(key, value);
  if (!n.ok || n.value < min || n.value > max) return bad(key, what, value);
  return n;
}

/** A xenbus state number (0..8). */
export function parseState(key: string, value: string | undefined): Parsed<XenbusState> {
  return ranged(key, value, XENBUS_STATES.Unknown, XENBUS_STATES.Reconfigured, 'a xenbus state in [0, 8]') as Parsed<XenbusState>;
}

/** A ring size: a power of two in [64, 4096]. */
export function parseSlots(key: string, value: string | undefined): Parsed<number> {
  const what = `a power of two in [${VIF_LIMITS.minSlots}, ${VIF_LIMITS.maxSlots}]`;
  const n = ranged(key, value, VIF_LIMITS.minSlots, VIF_LIMITS.maxSlots, what);
  if (n.ok && (n.value & (n.value - 1)) !== 0) return bad(key, what, value);
  return n;
}

/** A grant-ref count for one ring: [1, 17]. */
export function parseRefCount(key: string, value: string | undefined): Parsed<number> {
  return ranged(key, value, 1, VIF_LIMITS.maxRingRefs, `a ref count in [1, ${VIF_LIMITS.maxRingRefs}]`);
}

/** A grant ref: refs 0..7 are reserved (as in Xen), so [8, 2^32 - 1]. */
export function parseGrantRef(key: string, value: string | undefined): Parsed<number> {
  return ranged(key, value, 8, 0xffffffff, 'a grant ref in [8, 4294967295]');
}

/** An event-channel port: [1, 131071]. */
export function parsePort(key: string, value: string | undefined): Parsed<number> {
  return ranged(key, value, 1, VIF_LIMITS.maxPort, `a port in [1, ${VIF_LIMITS.maxPort}]`);
}

/** A queue count: [1, max] (max at most VIF_LIMITS.maxQueues). */
export function parseQueueCount(key: string, value: string | undefined, max: number = VIF_LIMITS.maxQueues): Parsed<number> {
  return ranged(key, value, 1, Math.min(max, VIF_LIMITS.maxQueues), `a queue count in [1, ${Math.min(max, VIF_LIMITS.maxQueues)}]`);
}

/** An MTU: [68, 65535]. */
export function parseMtu(key: string, value: string | undefined): Parsed<number> {
  return ranged(key, value, VIF_LIMITS.minMtu, VIF_LIMITS.maxMtu, `an MTU in [${VIF_LIMITS.minMtu}, ${VIF_LIMITS.maxMtu}]`);
}

/** A unicast MAC `xx:xx:xx:xx:xx:xx` (hex, either case), normalised to lower case. */
export function parseMac(key: string, value: string | undefined): Parsed<string> {
  const what = 'a unicast MAC xx:xx:xx:xx:xx:xx';
  if (value === undefined || !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(value)) return bad(key, what, value);
  if ((parseInt(value.slice(0, 2), 16) & 1) !== 0) return bad(key, what, value);
  return { ok: true, value: value.toLowerCase() };
}
