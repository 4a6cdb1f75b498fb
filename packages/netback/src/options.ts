/** createVif()'s options, checked at the public boundary. */
import { ArgumentError, expectInteger } from '@vpio/errors';
import { MAX_BUF_SIZE_BYTES, MIN_BUF_SIZE_BYTES } from '@vpio/ring';
import { VIF_LIMITS, parseMac } from '@vpio/vif';

/** Ethernet header bytes a buffer holds beside the MTU (no scatter-gather: a frame fits one buffer). */
const ETH_HEADER_BYTES = 14;

export interface VifOptions {
  /** The guest's unicast MAC (published as `mac`; the switch port is MAC-locked to it). */
  readonly mac: string;
  /** Access VLAN of the switch port (1..4094); default the switch's (1). */
  readonly vlan?: number;
  /** Published as `mtu`; default 1500, 68..65535, and mtu + 14 <= bufSizeBytes. */
  readonly mtu?: number;
  /** Ring sizes: powers of two in 64..4096. */
  readonly txSlots: number;
  readonly rxSlots: number;
  /** Bytes per pool buffer (64..65535). The pool holds txSlots + rxSlots + 64 of them. */
  readonly bufSizeBytes: number;
  /**
   * Queues (1..8, default 1): each its own TX ring, RX ring and pool (the
   * sizes above) and, once connected, its own switch port; the frontend
   * uses 1..queues of them (multi-queue-num-queues). The ports form one
   * group in the switch, so the vif still learns, floods and counts MACs
   * as one; rate and flood limits are per port, so each of the k ports in
   * use gets 1/k of the policy's (rounded up): the vif's limits are the sum.
   */
  readonly queues?: number;
  /** The switch port's policy (every field optional; absent: the defaults below). */
  readonly policy?: VifPolicy;
}

/** A trunk port: 802.1Q-tagged frames of `vids`; untagged frames belong to `nativeVid` (absent: dropped). */
export interface VifTrunk {
  readonly vids: readonly number[];
  readonly nativeVid?: number;
}

/**
 * What the switch enforces on a vif's port (@vpio/switch PortOptions).
 * Rates are absent (unlimited) or >= 1; a burst needs its rate and defaults
 * to one second of it.
 */
export interface VifPolicy {
  /** Frames must carry the vif's MAC as source (default true). */
  readonly macLock?: boolean;
  /** A full RX ring holds the sender back instead of dropping (default: Netback's `lossless` option). */
  readonly lossless?: boolean;
  /** Trunk instead of access (then `vlan` must be absent). */
  readonly trunk?: VifTrunk;
  /** Ingress packets per second and the bucket size in packets. */
  readonly ratePps?: number;
  readonly burstPackets?: number;
  /** Ingress bits per second and the bucket size in bytes. */
  readonly rateBps?: number;
  readonly burstBytes?: number;
  /** Floods (unknown unicast, broadcast) per second and their bucket size. */
  readonly floodPps?: number;
  readonly floodBurst?: number;
  /** MACs the switch learns behind the port (default the switch's, 64). */
  readonly maxMacs?: number;
}

/** A policy with its defaults applied: what the port gets, what VifInfo reports. */
export interface CheckedVifPolicy {
  readonly macLock: boolean;
  /** undefined: Netback's `lossless` option. */
  readonly lossless: boolean | undefined;
  readonly trunk: { readonly vids: readonly number[]; readonly nativeVid: number | undefined } | undefined;
  readonly ratePps: number | undefined;
  readonly burstPackets: number | undefined;
  readonly rateBps: number | undefined;
  readonly burstBytes: number | undefined;
  readonly floodPps: number | undefined;
  readonly floodBurst: number | undefined;
  readonly maxMacs: number | undefined;
}

/** The policy a vif's port has (VifInfo.policy): `lossless` resolved against Netback's option. */
export type VifPolicyInfo = Omit<CheckedVifPolicy, 'lossless'> & { readonly lossless: boolean };

export interface CheckedVifOptions {
  readonly mac: string;
  readonly vlan: number | undefined;
  readonly mtu: number;
  readonly txSlots: number;
  readonly rxSlots: number;
  readonly bufSizeBytes: number;
  readonly queues: number;
  readonly policy: CheckedVifPolicy;
}

/** Upper bounds the switch accepts (its token arithmetic stays in 64 bits). */
export const POLICY_LIMITS = Object.freeze({
  maxPps: 1e10,
  maxBps: 8e10,
  maxBurstBytes: 1.25e9,
  maxMacs: 1 << 24,
});

const POLICY_KEYS = ['macLock', 'lossless', 'trunk', 'ratePps', 'burstPackets', 'rateBps', 'burstBytes', 'floodPps', 'floodBurst', 'maxMacs'] as const;

function optFlag(parameter: string, v: unknown): boolean | undefined {
  if (v !== undefined && typeof v !== 'boolean') throw new ArgumentError(parameter, 'a boolean', v);
  return v;
}

function optInt(parameter: string, v: unknown, max: number): number | undefined {
  return v === undefined ? undefined : expectInteger(parameter, v, 1, max);
}

/** Validates a policy (`vlan`: the access VLAN given beside it, which a trunk excludes). */
export function checkVifPolicy(policy: VifPolicy | undefined, vlan: number | undefined): CheckedVifPolicy {
  const P = 'options.policy';
  if (policy !== undefined && (typeof policy !== 'object' || policy === null || Array.isArray(policy))) throw new ArgumentError(P, 'an object', policy);
  const p = policy ?? {};
  for (const k of Object.keys(p)) {
    if (!(POLICY_KEYS as readonly string[]).includes(k)) throw new ArgumentError(`${P}.${k}`, `one of the keys ${POLICY_KEYS.join(', ')}`, k);
  }
  let trunk: CheckedVifPolicy['trunk'];
  if (p.trunk !== undefined) {
    const t = p.trunk as unknown;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) throw new ArgumentError(`${P}.trunk`, 'an object { vids, nativeVid? }', t);
    if (vlan !== undefined) throw new ArgumentError('options.vlan', 'absent on a trunk vif (policy.trunk.nativeVid carries untagged frames)', vlan);
    const { vids, nativeVid } = t as VifTrunk;
    if (!Array.isArray(vids)) throw new ArgumentError(`${P}.trunk.vids`, 'an array of VLAN ids', vids);
    const checked = vids.map((v, i) => expectInteger(`${P}.trunk.vids[${i}]`, v, 1, 4094));
    const dup = checked.find((v, i) => checked.indexOf(v) !== i);
    if (dup !== undefined) throw new ArgumentError(`${P}.trunk.vids`, 'each VLAN id once', dup);
    const native = nativeVid === undefined ? undefined : expectInteger(`${P}.trunk.nativeVid`, nativeVid, 1, 4094);
    if (checked.length === 0 && native === undefined) throw new ArgumentError(`${P}.trunk.vids`, 'at least one VLAN id (or a nativeVid)', vids);
    trunk = Object.freeze({ vids: Object.freeze([...checked]), nativeVid: native });
  }
  const needs = (burst: string, rate: string): void => {
    if ((p as Record<string, unknown>)[burst] !== undefined && (p as Record<string, unknown>)[rate] === undefined) {
      throw new ArgumentError(`${P}.${burst}`, `absent without ${P}.${rate} (a burst is the bucket of a rate)`, (p as Record<string, unknown>)[burst]);
    }
  };
  needs('burstPackets', 'ratePps');
  needs('burstBytes', 'rateBps');
  needs('floodBurst', 'floodPps');
  return Object.freeze({
    macLock: optFlag(`${P}.macLock`, p.macLock) ?? true,
    lossless: optFlag(`${P}.lossless`, p.lossless),
    trunk,
    ratePps: optInt(`${P}.ratePps`, p.ratePps, POLICY_LIMITS.maxPps),
    burstPackets: optInt(`${P}.burstPackets`, p.burstPackets, POLICY_LIMITS.maxPps),
    rateBps: optInt(`${P}.rateBps`, p.rateBps, POLICY_LIMITS.maxBps),
    burstBytes: optInt(`${P}.burstBytes`, p.burstBytes, POLICY_LIMITS.maxBurstBytes),
    floodPps: optInt(`${P}.floodPps`, p.floodPps, POLICY_LIMITS.maxPps),
    floodBurst: optInt(`${P}.floodBurst`, p.floodBurst, POLICY_LIMITS.maxPps),
    maxMacs: optInt(`${P}.maxMacs`, p.maxMacs, POLICY_LIMITS.maxMacs),
  });
}

function slots(parameter: string, v: unknown): number {
  const n = expectInteger(parameter, v, VIF_LIMITS.minSlots, VIF_LIMITS.maxSlots);
  if ((n & (n - 1)) !== 0) throw new ArgumentError(parameter, `a power of two in [${VIF_LIMITS.minSlots}, ${VIF_LIMITS.maxSlots}]`, v);
  return n;
}

export function checkVifOptions(options: VifOptions): CheckedVifOptions {
  if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object', options);
  const mac = parseMac('options.mac', typeof options.mac === 'string' ? options.mac : undefined);
  if (!mac.ok) throw new ArgumentError('options.mac', 'a unicast MAC xx:xx:xx:xx:xx:xx', options.mac);
  const vlan = options.vlan === undefined ? undefined : expectInteger('options.vlan', options.vlan, 1, 4094);
  const mtu = options.mtu === undefined ? 1500 : expectInteger('options.mtu', options.mtu, VIF_LIMITS.minMtu, VIF_LIMITS.maxMtu);
  const txSlots = slots('options.txSlots', options.txSlots);
  const rxSlots = slots('options.rxSlots', options.rxSlots);
  const bufSizeBytes = expectInteger('options.bufSizeBytes', options.bufSizeBytes, MIN_BUF_SIZE_BYTES, MAX_BUF_SIZE_BYTES);
  if (mtu + ETH_HEADER_BYTES > bufSizeBytes) {
    throw new ArgumentError('options.bufSizeBytes', `at least mtu + ${ETH_HEADER_BYTES} (${mtu + ETH_HEADER_BYTES}): a frame fits one buffer`, bufSizeBytes);
  }
  const queues = options.queues === undefined ? 1 : expectInteger('options.queues', options.queues, 1, VIF_LIMITS.maxQueues);
  const policy = checkVifPolicy(options.policy, vlan);
  return { mac: mac.value.toLowerCase(), vlan, mtu, txSlots, rxSlots, bufSizeBytes, queues, policy };
}
