/**
 * The vif protocol vocabulary, defined once: xenbus states, the xenstore
 * paths and keys of a vpio vif, and the limits both ends check. netback,
 * netfront (through the generated C header include/vpio/vif_proto.h) and
 * the tests import these; nothing else spells a key.
 *
 * Layout (DESIGN.md "The handshake"; reference §3.2, §3.6):
 *
 * The device type is `vpio-vif`, not Xen's `vif` (README "Device type"):
 * neither the kernel's xen-netback (dom0) nor xen-netfront (domU, or udev's
 * modalias autoload of it) ever probes these directories, in both modes.
 *
 *   backend dir  /local/domain/0/backend/vpio-vif/<domid>/<n>
 *     written by the toolstack: frontend, frontend-id, handle, mac, mtu, state=1
 *     written by the backend:   state, error
 *   frontend dir /local/domain/<domid>/device/vpio-vif/<n>
 *     written by the toolstack: backend, backend-id, handle, state=1
 *     written by the backend, one transaction, before its state=InitWait:
 *       feature-netmap=1, feature-netmap-offload=1 (when offered),
 *       feature-netmap-tx-desc, feature-netmap-rx-desc,
 *       tx-ring-refs, tx-ring-ref0.., rx-ring-refs, rx-ring-ref0..  (queue 0)
 *       and, only when the vif has N > 1 queues: multi-queue-max-queues=N,
 *       queue-<i>/tx-ring-refs, queue-<i>/tx-ring-ref0.., queue-<i>/rx-ring-refs,
 *       queue-<i>/rx-ring-ref0.. for every i in [0, N) (queue-0/ repeats the
 *       flat refs; every queue has the sizes of the -desc keys)
 *     written by the frontend, one transaction: event-channel-tx,
 *       event-channel-rx (one queue), or multi-queue-num-queues=k and
 *       queue-<i>/event-channel-tx, queue-<i>/event-channel-rx for i in
 *       [0, k) (k in [2, N] queues); request-netmap-offload=1 (when it wants
 *       chains and the offload word and the backend offered them),
 *       state=Connected; later state, error
 *
 * Queues follow Xen netfront's rule: a queue's keys are flat when one queue
 * is in use and under queue-<i>/ when several are. The backend publishes
 * before it knows k, so queue 0's refs are both flat (for a frontend that
 * uses one queue, including every frontend that knows nothing of queues)
 * and under queue-0/ (for one that uses several).
 */

/** xenbus states (xen/include/public/io/xenbus.h); `state` holds the decimal number. */
export const XENBUS_STATES = {
  Unknown: 0,
  Initialising: 1,
  InitWait: 2,
  Initialised: 3,
  Connected: 4,
  Closing: 5,
  Closed: 6,
  Reconfiguring: 7,
  Reconfigured: 8,
} as const;

export type XenbusStateName = keyof typeof XENBUS_STATES;
export type XenbusState = (typeof XENBUS_STATES)[XenbusStateName];

/** The name of a state number, or undefined when it is not one. */
export function xenbusStateName(n: number): XenbusStateName | undefined {
  return (Object.keys(XENBUS_STATES) as XenbusStateName[]).find((k) => XENBUS_STATES[k] === n);
}

/** Every key of a vif directory. `*Prefix` keys take a decimal index: `tx-ring-ref0`. */
export const VIF_KEYS = {
  state: 'state',
  error: 'error',
  handle: 'handle',
  backend: 'backend',
  backendId: 'backend-id',
  frontend: 'frontend',
  frontendId: 'frontend-id',
  mac: 'mac',
  mtu: 'mtu',
  featureNetmap: 'feature-netmap',
  /** Backend: "1" = this port can carry buffer chains and the per-slot offload word (VRING_FEAT_CHAIN | VRING_FEAT_OFFLOAD). */
  featureNetmapOffload: 'feature-netmap-offload',
  /** Frontend, in its Connected transaction: "1" = use them (only after the backend offered; "0" or absent = not). */
  requestNetmapOffload: 'request-netmap-offload',
  txDesc: 'feature-netmap-tx-desc',
  rxDesc: 'feature-netmap-rx-desc',
  txRingRefs: 'tx-ring-refs',
  txRingRefPrefix: 'tx-ring-ref',
  rxRingRefs: 'rx-ring-refs',
  rxRingRefPrefix: 'rx-ring-ref',
  eventChannelTx: 'event-channel-tx',
  eventChannelRx: 'event-channel-rx',
  /** Backend, beside the rings, only when the vif has N > 1 queues: "N" = the frontend may use 1..N. */
  multiQueueMaxQueues: 'multi-queue-max-queues',
  /** Frontend, in its Connected transaction: "k" queues in use, k in [1, N] (absent or "1": one queue, the flat keys). */
  multiQueueNumQueues: 'multi-queue-num-queues',
  /** Prefix of a queue's subdirectory: `queue-<i>/` + a ring-ref or event-channel key (queueKey()). */
  queuePrefix: 'queue-',
} as const;

export type VifKeyName = keyof typeof VIF_KEYS;

/**
 * Path pieces: backend `/local/domain/0/backend/vpio-vif/<domid>/<n>`,
 * frontend `/local/domain/<domid>/device/vpio-vif/<n>`. The device type
 * `vpio-vif` (VIF_DEVICE_TYPE) keeps Xen's own netback/netfront drivers off
 * vpio's vifs (they probe `vif`); everything else is Xen's layout.
 */
export const VIF_PATHS = {
  localDomain: '/local/domain/',
  backendVif: '/backend/vpio-vif/',
  deviceVif: '/device/vpio-vif/',
  /** The frontend's own directory relative to its domain path (xenstore resolves relative paths there). */
  deviceVifRelative: 'device/vpio-vif/',
} as const;

/** Limits both ends check. */
export const VIF_LIMITS = {
  /** Ring sizes: a power of two in [minSlots, maxSlots]. */
  minSlots: 64,
  maxSlots: 4096,
  /** Grant refs per ring in xenstore: a 4096-slot ring is 320 + 16 x 4096 bytes = 17 pages. */
  maxRingRefs: 17,
  /** Event-channel ports: Xen's 2-level ABI has 4096, FIFO up to 2^17; vpio accepts [1, maxPort]. */
  maxPort: 131071,
  minMtu: 68,
  maxMtu: 65535,
  /** Longest `error` node text either end writes. */
  maxErrorBytes: 256,
  /** Backend domid: the toolstack's (dom0) in both modes. */
  backendDomid: 0,
  /** Largest domid (DOMID_FIRST_RESERVED - 1). */
  maxDomid: 32751,
  /** Queues (ring pairs) one vif may have: multi-queue-max-queues and multi-queue-num-queues are in [1, maxQueues]. */
  maxQueues: 8,
} as const;

/** `/local/domain/0/backend/vpio-vif/<domid>/<n>` */
export function backendDir(domid: number, devid: number, backendDomid: number = VIF_LIMITS.backendDomid): string {
  return `${VIF_PATHS.localDomain}${backendDomid}${VIF_PATHS.backendVif}${domid}/${devid}`;
}

/** `/local/domain/<domid>/device/vpio-vif/<n>` */
export function frontendDir(domid: number, devid: number): string {
  return `${VIF_PATHS.localDomain}${domid}${VIF_PATHS.deviceVif}${devid}`;
}

/** `tx-ring-ref<i>` / `rx-ring-ref<i>` */
export function ringRefKey(dir: 'tx' | 'rx', i: number): string {
  return `${dir === 'tx' ? VIF_KEYS.txRingRefPrefix : VIF_KEYS.rxRingRefPrefix}${i}`;
}

/** `queue-<q>`: the subdirectory of queue q (of a vif with several queues). */
export function queueDir(q: number): string {
  return `${VIF_KEYS.queuePrefix}${q}`;
}

/**
 * The key of queue q as it appears in a directory read with its queue
 * subdirectories (`Dir`): `queue-<q>/<key>`, or `key` itself when
 * `flat` (one queue in use: the flat keys, as without queues).
 */
export function queueKey(q: number, key: string, flat = false): string {
  return flat ? key : `${queueDir(q)}/${key}`;
}
