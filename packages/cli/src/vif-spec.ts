/**
 * `--vif mac=02:00:00:00:00:01,vlan=10,mtu=1500,tx-slots=256,rx-slots=256,buf-size=2048`
 * parsed into netback's VifOptions (pure). Every key is optional; a bad
 * part throws ArgumentError naming `--vif` and the part.
 */
import { ArgumentError } from '@vpio/errors';

export interface VifSpec {
  readonly mac?: string;
  readonly vlan?: number;
  readonly mtu?: number;
  readonly txSlots?: number;
  readonly rxSlots?: number;
  readonly bufSizeBytes?: number;
}

const KEYS = ['mac', 'vlan', 'mtu', 'tx-slots', 'rx-slots', 'buf-size'] as const;
type Key = (typeof KEYS)[number];
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

function int(part: string, value: string, min: number, max: number, pow2 = false): number {
  const n = /^[0-9]{1,6}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max || (pow2 && (n & (n - 1)) !== 0)) {
    throw new ArgumentError(`--vif ${part}`, `${pow2 ? 'a power of two' : 'an integer'} in [${min}, ${max}]`, value);
  }
  return n;
}

export function parseVifSpec(text: string): VifSpec {
  if (typeof text !== 'string') throw new ArgumentError('--vif', 'key=value[,key=value]...', text);
  const out: { -readonly [K in keyof VifSpec]: VifSpec[K] } = {};
  if (text === '') return out;
  const seen = new Set<string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ArgumentError('--vif', `key=value parts (keys: ${KEYS.join(', ')})`, part);
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (!(KEYS as readonly string[]).includes(key)) throw new ArgumentError('--vif', `one of the keys ${KEYS.join(', ')}`, key);
    if (seen.has(key)) throw new ArgumentError(`--vif ${key}`, 'at most once', part);
    seen.add(key);
    switch (key as Key) {
      case 'mac':
        if (!MAC_RE.test(value)) throw new ArgumentError('--vif mac', 'six hex bytes like 02:00:00:00:00:01', value);
        if ((parseInt(value.slice(0, 2), 16) & 1) !== 0) throw new ArgumentError('--vif mac', 'a unicast MAC (first byte even)', value);
        out.mac = value.toLowerCase();
        break;
      case 'vlan': out.vlan = int('vlan', value, 1, 4094); break;
      case 'mtu': out.mtu = int('mtu', value, 68, 65521); break;
      case 'tx-slots': out.txSlots = int('tx-slots', value, 64, 4096, true); break;
      case 'rx-slots': out.rxSlots = int('rx-slots', value, 64, 4096, true); break;
      case 'buf-size': out.bufSizeBytes = int('buf-size', value, 64, 65535); break;
    }
  }
  return out;
}

/** A locally administered MAC for vif `index` of `domid` when none was given. */
export function defaultMac(domid: number, index: number): string {
  const b = [0x02, 0x76, 0x70, (domid >> 8) & 0xff, domid & 0xff, index & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}
