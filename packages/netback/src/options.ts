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
}

export interface CheckedVifOptions {
  readonly mac: string;
  readonly vlan: number | undefined;
  readonly mtu: number;
  readonly txSlots: number;
  readonly rxSlots: number;
  readonly bufSizeBytes: number;
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
  return { mac: mac.value.toLowerCase(), vlan, mtu, txSlots, rxSlots, bufSizeBytes };
}
