/**
 * `vpio doctor`'s uplink lines: whether an AF_PACKET uplink (`vpio uplink
 * add`) and an AF_XDP one could run here, and why not. Optional features:
 * a missing one does not fail the doctor. Decided by a pure function of what
 * was read (the effective capabilities, the kernel's configuration); the
 * reading is separate.
 *
 * Per interface, vpio-xdp-probe IFNAME says whether an AF_XDP wire can run
 * on it and how (zero-copy or copy, native or generic attach, why not):
 * probeXdp() runs it (the one place that does), parseXdpProbe() reads its
 * line. `vpio uplink add --mode auto|xdp` asks it before choosing the wire.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { xdpProbePath } from './uplink-path.js';

/** What vpio-xdp-probe IFNAME found (its JSON line, flattened). */
export interface XdpProbe {
  /** An AF_PACKET socket could be opened (the packet wire would work). */
  readonly packet: boolean;
  /** An AF_XDP wire can be opened on this interface by this process. */
  readonly possible: boolean;
  readonly mode: 'zerocopy' | 'copy' | 'none';
  readonly attach: 'native' | 'generic' | 'none';
  /** ethtool's driver name ('' when unknown). */
  readonly driver: string;
  /** Active rx queues, when the probe says (the AF_XDP wire serves one). */
  readonly rxQueues: number | undefined;
  /** One line: why not possible, or what limits it (copy, generic). */
  readonly why: string;
}

/** How long vpio-xdp-probe may take (it only reads: netlink, ethtool, a socket it closes). */
const XDP_PROBE_TIMEOUT_MS = 5000;

/** A probe that could not run or answered nonsense: AF_XDP not possible, saying why. */
function notProbed(why: string): XdpProbe {
  return { packet: false, possible: false, mode: 'none', attach: 'none', driver: '', rxQueues: undefined, why };
}

/**
 * Pure: vpio-xdp-probe's line ({"packet":B,"xdp":{"possible":B,"mode":M,
 * "attach":A,"driver":D,"rx_queues":N,"why":W,...}}; the xdp fields may
 * also sit at the top level) as an XdpProbe; a line it cannot read is
 * "not possible" with the reason.
 */
export function parseXdpProbe(text: string): XdpProbe {
  let raw: unknown;
  try {
    raw = JSON.parse(text.trim());
  } catch {
    return notProbed(`vpio-xdp-probe printed no JSON line: ${JSON.stringify(text.trim().slice(0, 120))}`);
  }
  if (typeof raw !== 'object' || raw === null) return notProbed(`vpio-xdp-probe printed ${JSON.stringify(raw)}`);
  const top = raw as Record<string, unknown>;
  const x = (typeof top.xdp === 'object' && top.xdp !== null ? top.xdp : top) as Record<string, unknown>;
  const oneOf = <T extends string>(v: unknown, vocabulary: readonly T[]): T => (vocabulary.includes(v as T) ? (v as T) : 'none' as T);
  const mode = oneOf(x.mode, ['zerocopy', 'copy', 'none'] as const);
  const attach = oneOf(x.attach, ['native', 'generic', 'none'] as const);
  const queues = x.rx_queues ?? top.rx_queues;
  const rxQueues = typeof queues === 'number' && Number.isInteger(queues) && queues >= 0 ? queues : undefined;
  const why = typeof x.why === 'string' ? x.why : '';
  // possible only when the probe says so and named a mode and attach it can run in
  const possible = x.possible === true && mode !== 'none' && attach !== 'none';
  return {
    packet: top.packet === true, possible, mode, attach, driver: typeof x.driver === 'string' ? x.driver : '', rxQueues,
    why: why || (possible ? `${mode}, ${attach} attach` : 'vpio-xdp-probe gave no reason'),
  };
}

/**
 * Runs vpio-xdp-probe IFNAME in this process's network namespace, with its
 * privileges (the platform's: those vpio-launch's monitor has). Never
 * throws: a probe that is not built, fails or times out is an XdpProbe
 * saying AF_XDP is not possible and why.
 */
export async function probeXdp(ifname: string, probePath: () => string = xdpProbePath): Promise<XdpProbe> {
  let path: string;
  try {
    path = probePath();
  } catch (e) {
    return notProbed((e as Error).message);
  }
  return new Promise((resolve) => {
    execFile(path, [ifname], { encoding: 'utf8', timeout: XDP_PROBE_TIMEOUT_MS, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      if (err) resolve(notProbed(`vpio-xdp-probe ${ifname} failed: ${stderr.trim().split('\n').at(-1) || err.message}`));
      else resolve(parseXdpProbe(stdout));
    });
  });
}

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
  const kernelLacks = xskCfg !== undefined && !(xskCfg === 'y' && bpfCfg === 'y');
  const caps = xdpCaps ? 'CAP_NET_ADMIN and CAP_BPF present' : 'vpio-launch loads and attaches the XDP program and makes the AF_XDP socket with CAP_NET_ADMIN and CAP_BPF (or CAP_SYS_ADMIN), which this user lacks';
  const xdp: UplinkDoctorCheck = kernelLacks
    ? { name: 'uplink-xdp', ok: false, optional: true, reason: `${kernel}; ${caps}`, fix: 'a kernel with CONFIG_XDP_SOCKETS=y and CONFIG_BPF_SYSCALL=y, or `vpio uplink add IFNAME --mode packet` (what --mode auto falls back to)' }
    : !xdpCaps
      ? { name: 'uplink-xdp', ok: false, optional: true, reason: `${kernel}; ${caps}`, fix: 'run `vpio up` as root' }
      : { name: 'uplink-xdp', ok: true, optional: true, reason: `${kernel}; ${caps}; each interface is probed by \`vpio uplink add IFNAME\` (vpio-xdp-probe: one active rx queue, driver support)` };
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
