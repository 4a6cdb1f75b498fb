/**
 * `vpio doctor`'s uplink lines: whether an AF_PACKET uplink (`vpio uplink
 * add`) and an AF_XDP one could run here, and why not. Optional features:
 * a missing one does not fail the doctor. Decided by a pure function of what
 * was read (the effective capabilities, the kernel's configuration); the
 * reading is separate.
 */
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { XDP_UNAVAILABLE } from './uplink-spec.js';

export type UplinkDoctorCheckName = 'uplink-packet' | 'uplink-xdp';

export interface UplinkDoctorCheck {
  readonly name: UplinkDoctorCheckName;
  readonly ok: boolean;
  /** Optional feature: its absence does not make the report fail. */
  readonly optional: true;
  /** ok: what it rests on; else what is missing. */
  readonly reason: string;
  readonly fix?: string;
}

export interface UplinkHostFacts {
  /** Effective capability set (/proc/self/status CapEff). */
  readonly capEff: bigint;
  /** The kernel's configuration text, or undefined when none was found. */
  readonly config: string | undefined;
  /** Where it came from (/proc/config.gz, /boot/config-RELEASE). */
  readonly configSource: string | undefined;
}

const CAP = { netAdmin: 12n, netRaw: 13n, sysAdmin: 21n, bpf: 39n } as const;
const has = (caps: bigint, bit: bigint): boolean => ((caps >> bit) & 1n) === 1n;

/** A kernel option's value (`y`, `m`, or undefined when unset/unknown). */
export function kernelOption(config: string | undefined, name: string): 'y' | 'm' | 'n' | undefined {
  if (config === undefined) return undefined;
  const m = new RegExp(`^${name}=([ym])$`, 'm').exec(config);
  if (m) return m[1] as 'y' | 'm';
  return new RegExp(`^# ${name} is not set$`, 'm').test(config) ? 'n' : undefined;
}

/** Pure: the two uplink lines from the host's facts. */
export function uplinkChecks(f: UplinkHostFacts): UplinkDoctorCheck[] {
  const src = f.configSource ?? 'no kernel config found (/proc/config.gz, /boot/config-RELEASE)';
  const packetCfg = kernelOption(f.config, 'CONFIG_PACKET');
  const netRaw = has(f.capEff, CAP.netRaw);
  const packet: UplinkDoctorCheck = packetCfg === 'n'
    ? { name: 'uplink-packet', ok: false, optional: true, reason: `the kernel has no AF_PACKET (CONFIG_PACKET is not set, ${src})`, fix: 'a kernel with CONFIG_PACKET=y or =m' }
    : !netRaw
      ? { name: 'uplink-packet', ok: false, optional: true, reason: 'vpio-launch makes the AF_PACKET socket with CAP_NET_RAW in vpiod\'s network namespace, which this user lacks', fix: 'run `vpio up` as root' }
      : { name: 'uplink-packet', ok: true, optional: true, reason: `CAP_NET_RAW, ${packetCfg ? `CONFIG_PACKET=${packetCfg} (${src})` : `AF_PACKET assumed (${src})`}` };
  const xskCfg = kernelOption(f.config, 'CONFIG_XDP_SOCKETS');
  const bpfCfg = kernelOption(f.config, 'CONFIG_BPF_SYSCALL');
  const xdpCaps = has(f.capEff, CAP.netAdmin) && (has(f.capEff, CAP.bpf) || has(f.capEff, CAP.sysAdmin));
  const kernel = xskCfg === 'y' && bpfCfg === 'y' ? `the kernel has XDP sockets (CONFIG_XDP_SOCKETS=y, CONFIG_BPF_SYSCALL=y, ${src})`
    : xskCfg === undefined ? `XDP socket support unknown (${src})`
      : `the kernel lacks XDP sockets (CONFIG_XDP_SOCKETS=${xskCfg ?? 'unset'}, CONFIG_BPF_SYSCALL=${bpfCfg ?? 'unset'}, ${src})`;
  const why = [kernel, xdpCaps ? 'CAP_NET_ADMIN and CAP_BPF present' : 'CAP_NET_ADMIN and CAP_BPF (or CAP_SYS_ADMIN) missing', `vpio: ${XDP_UNAVAILABLE.replace(/; use --mode packet$/, '')}`];
  const xdp: UplinkDoctorCheck = { name: 'uplink-xdp', ok: false, optional: true, reason: why.join('; '), fix: 'use `vpio uplink add IFNAME --mode packet` (the default)' };
  return [packet, xdp];
}

/** Reads the host's facts: CapEff, then /proc/config.gz or /boot/config-$(uname -r). */
export function readUplinkHostFacts(): UplinkHostFacts {
  let capEff = 0n;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) capEff = BigInt(`0x${m[1]}`);
  } catch {
    // no /proc: no capabilities known
  }
  for (const [path, gz] of [['/proc/config.gz', true], [`/boot/config-${release()}`, false]] as const) {
    try {
      if (!existsSync(path)) continue;
      const raw = readFileSync(path);
      return { capEff, config: (gz ? gunzipSync(raw) : raw).toString('utf8'), configSource: path };
    } catch {
      // unreadable: try the next
    }
  }
  return { capEff, config: undefined, configSource: undefined };
}
