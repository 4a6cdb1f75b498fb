/**
 * The xenstore protocol vocabulary, defined once: message type numbers and
 * names, error names, size limits and Xen 4.17's quota defaults
 * (xen/include/public/io/xs_wire.h, tools/xenstore/xenstored_core.c).
 * Everything else in this package imports these; nothing retypes them.
 */

/** Every message type of Xen 4.17's wire header, by number. */
export const MESSAGE_TYPES = [
  'CONTROL', // 0 (alias DEBUG)
  'DIRECTORY', // 1
  'READ', // 2
  'GET_PERMS', // 3
  'WATCH', // 4
  'UNWATCH', // 5
  'TRANSACTION_START', // 6
  'TRANSACTION_END', // 7
  'INTRODUCE', // 8
  'RELEASE', // 9
  'GET_DOMAIN_PATH', // 10
  'WRITE', // 11
  'MKDIR', // 12
  'RM', // 13
  'SET_PERMS', // 14
  'WATCH_EVENT', // 15
  'ERROR', // 16
  'IS_DOMAIN_INTRODUCED', // 17
  'RESUME', // 18
  'SET_TARGET', // 19
  'RESTRICT', // 20 (removed from Xen; always ENOSYS)
  'RESET_WATCHES', // 21
  'DIRECTORY_PART', // 22
] as const;

export type XsMessageType = (typeof MESSAGE_TYPES)[number];

/** Type number of each message name. */
export const XS: Readonly<Record<XsMessageType, number>> = Object.fromEntries(
  MESSAGE_TYPES.map((name, i) => [name, i]),
) as Record<XsMessageType, number>;

/** XS_TYPE_COUNT of Xen 4.17: numbers at or above it are unknown (ENOSYS). */
export const XS_TYPE_COUNT = MESSAGE_TYPES.length;

/** The message name of a type number, or undefined when Xen 4.17 has none. */
export function messageTypeName(type: number): XsMessageType | undefined {
  return Number.isInteger(type) && type >= 0 && type < XS_TYPE_COUNT ? MESSAGE_TYPES[type] : undefined;
}

/**
 * The error table of xs_wire.h, in its fixed order, with Linux errno numbers
 * (used only on the client side). Replies carry the name plus a NUL.
 */
export const XS_ERRORS = {
  EINVAL: 22,
  EACCES: 13,
  EEXIST: 17,
  EISDIR: 21,
  ENOENT: 2,
  ENOMEM: 12,
  ENOSPC: 28,
  EIO: 5,
  ENOTEMPTY: 39,
  ENOSYS: 38,
  EROFS: 30,
  EBUSY: 16,
  EAGAIN: 11,
  EISCONN: 106,
  E2BIG: 7,
  EPERM: 1,
} as const;

export type XsErrorName = keyof typeof XS_ERRORS;

export function isXsErrorName(name: string): name is XsErrorName {
  return Object.prototype.hasOwnProperty.call(XS_ERRORS, name);
}

/** Size of `struct xsd_sockmsg`. */
export const HEADER_BYTES = 16;
/** XENSTORE_PAYLOAD_MAX: the largest payload in either direction. */
export const PAYLOAD_MAX = 4096;
/** XENSTORE_REL_PATH_MAX: path length after a `/local/domain/<id>/` prefix. */
export const REL_PATH_MAX = 2048;
/** XENSTORE_ABS_PATH_MAX (documented absolute limit). */
export const ABS_PATH_MAX = 3072;
/** DOMID_FIRST_RESERVED: domids at or above it are not real domains. */
export const DOMID_FIRST_RESERVED = 0x7ff0;
/** DOMID_SELF (xen.h): IS_DOMAIN_INTRODUCED answers T for it. */
export const DOMID_SELF = 0x7ff0;

/** The special watch paths. */
export const INTRODUCE_DOMAIN = '@introduceDomain';
export const RELEASE_DOMAIN = '@releaseDomain';
export const SPECIAL_PATHS = [INTRODUCE_DOMAIN, RELEASE_DOMAIN] as const;
export type SpecialPath = (typeof SPECIAL_PATHS)[number];

/**
 * Size of the record header C xenstored stores before perms, value and
 * children (u64 generation + 3 × u32, padded to 8): part of the node-size quota.
 */
export const NODE_RECORD_HEADER_BYTES = 24;
/** Size of one `struct xs_permissions` in the node-size quota. */
export const NODE_PERM_BYTES = 8;

/** Quotas applied to unprivileged domains. 0 disables a quota. */
export interface XenstoreQuotas {
  /** Nodes owned per domain (checked `>=` before create): ENOSPC. */
  readonly nodesPerDomain: number;
  /** Watches per domain (checked `>`): E2BIG. */
  readonly watchesPerDomain: number;
  /** Open transactions per connection (checked `>`): ENOSPC. */
  readonly transactionsPerConnection: number;
  /** Node record size must stay below this: ENOSPC. */
  readonly nodeSizeBytes: number;
  /** Permission entries per node: ENOSPC. */
  readonly permsPerNode: number;
  /** Distinct nodes touched per transaction: ENOSPC. */
  readonly nodesPerTransaction: number;
  /** Hard memory limit per domain (node records): ENOMEM. */
  readonly memoryPerDomainBytes: number;
  /** Soft memory limit per domain: logged only. */
  readonly memoryPerDomainSoftBytes: number;
  /**
   * Requests of one domain whose reply (or a watch event they caused) has
   * not been handed to the transport yet. At this many, the daemon stops
   * reading that domain's requests until some are delivered: a delay, never
   * an error (domain_can_read() of C xenstored 4.17).
   */
  readonly requestsOutstanding: number;
}

/** Xen 4.17's defaults (xenstored_core.c globals). */
export const QUOTA_DEFAULTS: XenstoreQuotas = Object.freeze({
  nodesPerDomain: 1000,
  watchesPerDomain: 128,
  transactionsPerConnection: 10,
  nodeSizeBytes: 2048,
  permsPerNode: 5,
  nodesPerTransaction: 1024,
  memoryPerDomainBytes: 2 * 1024 * 1024 + 512 * 1024,
  memoryPerDomainSoftBytes: 2 * 1024 * 1024,
  requestsOutstanding: 20,
});

/** Commands of XS_CONTROL this daemon knows (Xen's subset plus vpio's own). */
export const CONTROL_COMMANDS = ['check', 'log', 'print', 'help', 'vpio-demote'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

/**
 * vpio's one-way privilege drop: CONTROL `vpio-demote\0<domid>\0` from a
 * privileged connection turns that same connection into domain <domid>
 * (1..0x7fef). There is no way back.
 */
export const DEMOTE_COMMAND: ControlCommand = 'vpio-demote';

/** Where libxenstore looks for the daemon (tools/xenstore/xs_lib.c). */
export const SOCKET_PATH_ENV = 'XENSTORED_PATH';
export const RUNDIR_ENV = 'XENSTORED_RUNDIR';
export const DEFAULT_SOCKET_PATH = '/var/run/xenstored/socket';
