/**
 * `--vif mac=02:00:00:00:00:01,vlan=10,rate-pps=10k,burst=64` parsed into
 * netback's VifOptions (pure). Every key is optional; a bad part throws
 * ArgumentError naming `--vif` and the part. The topology file's vif maps
 * use the same keys and go through the same checks (setVifKey,
 * checkVifSpec), and formatVifSpec() writes a spec back as `--vif` text.
 */
import { ArgumentError } from '@vpio/errors';
import { POLICY_LIMITS, type VifPolicy } from '@vpio/netback';
import { VIF_LIMITS } from '@vpio/vif';
import { expectedKey } from './did-you-mean.js';

export interface VifSpec {
  readonly mac?: string;
  readonly vlan?: number;
  readonly mtu?: number;
  readonly txSlots?: number;
  readonly rxSlots?: number;
  readonly bufSizeBytes?: number;
  /** Queues (ring pairs, switch ports in one group): 1..8, netback's default 1. */
  readonly queues?: number;
  /** Present only when a policy key was given. */
  readonly policy?: VifPolicy;
}

export const VIF_KEYS = [
  'mac', 'vlan', 'mtu', 'tx-slots', 'rx-slots', 'buf-size', 'queues',
  'trunk', 'native-vlan', 'rate-pps', 'burst', 'rate-bps', 'burst-bytes', 'flood-pps', 'flood-burst', 'max-macs', 'lossless', 'mac-lock',
] as const;
export type VifKey = (typeof VIF_KEYS)[number];

/** The default MTU netback gives a vif without `mtu`, and the Ethernet header a buffer holds beside it. */
const DEFAULT_MTU = 1500;
const ETH_HEADER_BYTES = 14;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const SUFFIX: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9 };
/** Queues a vif may have (@vpio/vif's VIF_LIMITS.maxQueues). */
export const MAX_QUEUES = VIF_LIMITS.maxQueues;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/** A spec being built, key by key. */
export type VifSpecDraft = Mutable<Omit<VifSpec, 'policy'>> & { policy?: Mutable<VifPolicy> & { trunk?: { vids: number[]; nativeVid?: number } } };

function int(param: string, value: string, min: number, max: number, pow2 = false): number {
  const n = /^[0-9]{1,6}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max || (pow2 && (n & (n - 1)) !== 0)) {
    throw new ArgumentError(param, `${pow2 ? 'a power of two' : 'an integer'} in [${min}, ${max}]`, value);
  }
  return n;
}

/** A rate or burst: an integer >= 1 with an optional k, M or G (x1000) suffix. */
function amount(param: string, value: string, max: number): number {
  const m = /^([0-9]{1,11})([kMG]?)$/.exec(value);
  const n = m ? Number(m[1]) * SUFFIX[m[2]!]! : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new ArgumentError(param, `an integer in [1, ${max}] (suffix k, M or G allowed)`, value);
  return n;
}

function flag(param: string, value: string): boolean {
  if (value !== '0' && value !== '1') throw new ArgumentError(param, '0 or 1', value);
  return value === '1';
}

function policyOf(out: VifSpecDraft): NonNullable<VifSpecDraft['policy']> {
  out.policy ??= {};
  return out.policy;
}

/** Sets one key from its text (`param` names it in errors, e.g. "--vif vlan"). Unknown keys are the caller's to refuse. */
export function setVifKey(out: VifSpecDraft, key: VifKey, value: string, param: string): void {
  switch (key) {
    case 'mac':
      if (!MAC_RE.test(value)) throw new ArgumentError(param, 'six hex bytes like 02:00:00:00:00:01', value);
      if ((parseInt(value.slice(0, 2), 16) & 1) !== 0) throw new ArgumentError(param, 'a unicast MAC (first byte even)', value);
      out.mac = value.toLowerCase();
      break;
    case 'vlan': out.vlan = int(param, value, 1, 4094); break;
    case 'mtu': out.mtu = int(param, value, 68, 65521); break;
    case 'tx-slots': out.txSlots = int(param, value, 64, 4096, true); break;
    case 'rx-slots': out.rxSlots = int(param, value, 64, 4096, true); break;
    case 'buf-size': out.bufSizeBytes = int(param, value, 64, 65535); break;
    case 'queues': out.queues = int(param, value, 1, MAX_QUEUES); break;
    case 'trunk': {
      const vids = value.split('+').map((v) => int(param, v, 1, 4094));
      const dup = vids.find((v, i) => vids.indexOf(v) !== i);
      if (dup !== undefined) throw new ArgumentError(param, 'each VLAN id once (10+20+30)', value);
      const p = policyOf(out);
      p.trunk = { ...p.trunk, vids };
      break;
    }
    case 'native-vlan': {
      const p = policyOf(out);
      p.trunk = { vids: p.trunk?.vids ?? [], nativeVid: int(param, value, 1, 4094) };
      break;
    }
    case 'rate-pps': policyOf(out).ratePps = amount(param, value, POLICY_LIMITS.maxPps); break;
    case 'burst': policyOf(out).burstPackets = amount(param, value, POLICY_LIMITS.maxPps); break;
    case 'rate-bps': policyOf(out).rateBps = amount(param, value, POLICY_LIMITS.maxBps); break;
    case 'burst-bytes': policyOf(out).burstBytes = amount(param, value, POLICY_LIMITS.maxBurstBytes); break;
    case 'flood-pps': policyOf(out).floodPps = amount(param, value, POLICY_LIMITS.maxPps); break;
    case 'flood-burst': policyOf(out).floodBurst = amount(param, value, POLICY_LIMITS.maxPps); break;
    case 'max-macs': policyOf(out).maxMacs = amount(param, value, POLICY_LIMITS.maxMacs); break;
    case 'lossless': policyOf(out).lossless = flag(param, value); break;
    case 'mac-lock': policyOf(out).macLock = flag(param, value); break;
  }
}

/** The checks between keys, once every key is set; `param(key)` names the offending key. Returns the spec. */
export function checkVifSpec(out: VifSpecDraft, param: (key: VifKey) => string): VifSpec {
  const p = out.policy;
  if (p?.trunk !== undefined) {
    if (p.trunk.vids.length === 0) throw new ArgumentError(param('native-vlan'), 'only with trunk= (the tagged VLANs)', p.trunk.nativeVid);
    if (out.vlan !== undefined) throw new ArgumentError(param('vlan'), 'absent with trunk= (native-vlan= carries untagged frames)', out.vlan);
  }
  const needs: Array<[VifKey, unknown, VifKey, unknown]> = [
    ['burst', p?.burstPackets, 'rate-pps', p?.ratePps],
    ['burst-bytes', p?.burstBytes, 'rate-bps', p?.rateBps],
    ['flood-burst', p?.floodBurst, 'flood-pps', p?.floodPps],
  ];
  for (const [burst, b, rate, r] of needs) {
    if (b !== undefined && r === undefined) throw new ArgumentError(param(burst), `only with ${rate}= (a burst is the bucket of a rate)`, b);
  }
  const mtu = out.mtu ?? DEFAULT_MTU;
  if (out.bufSizeBytes !== undefined && out.bufSizeBytes < mtu + ETH_HEADER_BYTES) {
    throw new ArgumentError(param('buf-size'), `at least mtu + ${ETH_HEADER_BYTES} (${mtu + ETH_HEADER_BYTES}): a frame fits one buffer`, out.bufSizeBytes);
  }
  return out;
}

export function parseVifSpec(text: string): VifSpec {
  if (typeof text !== 'string') throw new ArgumentError('--vif', 'key=value[,key=value]...', text);
  const out: VifSpecDraft = {};
  if (text === '') return out;
  const seen = new Set<string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ArgumentError('--vif', `key=value parts (keys: ${VIF_KEYS.join(', ')})`, part);
    const key = part.slice(0, eq);
    if (!(VIF_KEYS as readonly string[]).includes(key)) throw new ArgumentError('--vif', expectedKey(key, VIF_KEYS), key);
    if (seen.has(key)) throw new ArgumentError(`--vif ${key}`, 'at most once', part);
    seen.add(key);
    setVifKey(out, key as VifKey, part.slice(eq + 1), `--vif ${key}`);
  }
  return checkVifSpec(out, (k) => `--vif ${k}`);
}

/** The `--vif` text of a spec (parseVifSpec(formatVifSpec(s)) equals s). */
export function formatVifSpec(s: VifSpec): string {
  const p = s.policy;
  const parts: Array<[VifKey, unknown]> = [
    ['mac', s.mac], ['vlan', s.vlan], ['mtu', s.mtu], ['tx-slots', s.txSlots], ['rx-slots', s.rxSlots], ['buf-size', s.bufSizeBytes], ['queues', s.queues],
    ['trunk', p?.trunk && p.trunk.vids.length ? p.trunk.vids.join('+') : undefined], ['native-vlan', p?.trunk?.nativeVid],
    ['rate-pps', p?.ratePps], ['burst', p?.burstPackets], ['rate-bps', p?.rateBps], ['burst-bytes', p?.burstBytes],
    ['flood-pps', p?.floodPps], ['flood-burst', p?.floodBurst], ['max-macs', p?.maxMacs],
    ['lossless', p?.lossless === undefined ? undefined : Number(p.lossless)], ['mac-lock', p?.macLock === undefined ? undefined : Number(p.macLock)],
  ];
  return parts.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${String(v)}`).join(',');
}

/**
 * A locally administered MAC for vif `index` of `domid` when none was given:
 * 02:76:HH:<domid>:<index>, HH the platform's MAC byte (`vpio up --mac-byte`,
 * random by default: two platforms joined by an uplink or a tunnel then
 * rarely share default MACs; 0x70 when not given here).
 */
export function defaultMac(domid: number, index: number, macByte = 0x70): string {
  const b = [0x02, 0x76, macByte & 0xff, (domid >> 8) & 0xff, domid & 0xff, index & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}
