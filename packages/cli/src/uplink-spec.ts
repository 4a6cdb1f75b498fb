/**
 * `vpio uplink` and `vpio vxlan`: what an uplink or VXLAN port becomes
 * (pure). Each is a domain running vpio-uplink (@vpio/uplink) whose vif 0
 * is a switch port carrying other hosts' MACs (mac-lock off) and whose one
 * way out is the wire socket vpio-launch makes in vpiod's network namespace
 * (@vpio/domain's `wire` option):
 *
 *   uplink IFNAME  domain uplink-IFNAME, wire { kind: 'xdp', ifname, obj }
 *                  (AF_XDP: --mode xdp, or --mode auto when vpio-xdp-probe
 *                  says it is possible) or { kind: 'packet', ifname }
 *                  (AF_PACKET: --mode packet, or auto's fallback, the
 *                  probe's reason kept in the port's info), vif untagged
 *                  (or --vlan: an access VLAN, or a trunk 10+20 whose tags
 *                  cross the wire as they are);
 *   vxlan NAME     domain vxlan-NAME, wire { kind: 'udp', bind: LOCAL }, vif
 *                  a trunk of the mapped VIDs (VID v <-> VNI n on the wire);
 *   memif NAME     domain memif-NAME, wire { kind: 'memif', path: SOCKET }, a
 *                  memif server for one client (DPDK net_memif, libmemif),
 *                  vif untagged or an access VLAN or a trunk, as an uplink.
 *
 * Requests are validated here, once, for the command line and the control
 * socket alike; a bad part throws ArgumentError naming it.
 */
import { isInterfaceName, isMemifSocketPath, MEMIF_PATH_MAX_BYTES, parseUdpEndpoint, type DomainWireOptions } from '@vpio/domain';
import { ArgumentError } from '@vpio/errors';
import { CliError } from './cli-error.js';
import type { XdpProbe } from './uplink-doctor.js';
import type { VifSpec } from './vif-spec.js';

/** VXLAN's IANA UDP port (vpio-uplink's --dst-port default). */
export const VXLAN_PORT = 4789;
/** Largest VNI (24 bits). */
export const VNI_MAX = 2 ** 24 - 1;
/** vpio-uplink's stats line interval unless asked (ms): `vpio console` shows its counters. */
export const UPLINK_STATS_INTERVAL_MS = 1000;
/** Ring sizes of an uplink's vif (a wire's bursts; the Linux guest's size). */
const UPLINK_SLOTS = 1024;
/**
 * An AF_XDP uplink's UMEM frame (vpio-launch --wire-xdp-frame-size):
 * vpio-uplink puts XDP's 256-byte headroom and a whole vif buffer (2048
 * bytes at the uplink vif's MTU 1500) in one UMEM frame, so the launcher's
 * default 2048 is too small and it refuses to start.
 */
const UPLINK_XDP_FRAME_BYTES = 4096;

export type UplinkMode = 'auto' | 'packet' | 'xdp';


/** `uplink-add` request (the control socket's args). */
export interface UplinkAddArgs {
  readonly ifname: string;
  /** An access VLAN (frames on the wire untagged). */
  readonly vlan?: number;
  /** A trunk: these VIDs cross the wire tagged; untagged wire frames belong to nativeVid (absent: dropped). */
  readonly trunk?: readonly number[];
  readonly nativeVid?: number;
  readonly mode?: UplinkMode;
  /** The domain's name (default uplink-IFNAME). */
  readonly name?: string;
}

export interface VniMapping {
  readonly vid: number;
  readonly vni: number;
}

/** `vxlan-add` request. */
export interface VxlanAddArgs {
  readonly name: string;
  /** ADDR or ADDR:PORT ([IPV6] or [IPV6]:PORT); port default 4789. */
  readonly local: string;
  readonly vnis: readonly VniMapping[];
  /** ADDR or ADDR:PORT of the peer VTEPs (flood list). */
  readonly remotes?: readonly string[];
  readonly noLearn?: boolean;
}

/** `memif-add` request. */
export interface MemifAddArgs {
  readonly name: string;
  /** The socket path the memif client connects to (absolute; its directory root's and closed to others). */
  readonly socket: string;
  /** The memif interface id the client must ask for (default 0). */
  readonly id?: number;
  /** The memif secret the client must send (1..24 bytes; default none). */
  readonly secret?: string;
  /** An access VLAN, or a trunk (as an uplink). */
  readonly vlan?: number;
  readonly trunk?: readonly number[];
  /**
   * How the port learns of the client's frames (vpio-uplink --rx-mode):
   * interrupt (default) sleeps when idle and only then lets the client
   * write its eventfd; poll never lets it and spins while a client is
   * connected (for a core of its own).
   */
  readonly rxMode?: MemifRxMode;
}

export type MemifRxMode = 'interrupt' | 'poll';

/**
 * What `vpio ls` shows of an uplink, VXLAN or memif port's domain. memif:
 * `text` gains "(connected|listening)" there; an AF_XDP uplink's text is
 * "uplink IF (xdp copy native)" (bind and attach from vpio-uplink's stats
 * line, also in `bind` and `attach`) once the tenant said, "uplink IF (xdp)"
 * before; an uplink that --mode auto put on AF_PACKET keeps the probe's
 * reason in `fallback`.
 */
export type PortWireInfo =
  | {
    readonly kind: 'uplink'; readonly ifname: string; readonly mode: 'packet' | 'xdp'; readonly text: string;
    /** --mode auto chose packet: why not xdp (vpio-xdp-probe's reason). */
    readonly fallback?: string;
    /** xdp: how the socket was bound and the program attached (vpio-uplink's stats line). */
    readonly bind?: 'zerocopy' | 'copy';
    readonly attach?: 'native' | 'generic';
  }
  | { readonly kind: 'memif'; readonly name: string; readonly socket: string; readonly id: number; readonly secret: boolean; readonly text: string }
  | { readonly kind: 'vxlan'; readonly name: string; readonly local: string; readonly remotes: readonly string[]; readonly vnis: readonly VniMapping[]; readonly learn: boolean; readonly text: string };

/** Everything the platform needs to run one. */
export interface PortPlan {
  readonly domainName: string;
  /** vpio-uplink's arguments after its path. */
  readonly args: readonly string[];
  /** Extra environment for vpio-uplink (memif: the secret, kept off the command line). */
  readonly env?: Readonly<Record<string, string>>;
  readonly vif: VifSpec;
  readonly wire: DomainWireOptions;
  readonly info: PortWireInfo;
}

const NAME_RE = /^[A-Za-z0-9_.-]{1,58}$/;

function obj(raw: unknown, what: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ArgumentError('args', what, raw);
  return raw as Record<string, unknown>;
}

function vid(parameter: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 4094) throw new ArgumentError(parameter, 'a VLAN id in [1, 4094]', v);
  return v;
}

function checkName(parameter: string, v: unknown): string {
  if (typeof v !== 'string' || !NAME_RE.test(v) || v === '.' || v === '..') throw new ArgumentError(parameter, '1..58 characters of [A-Za-z0-9_.-]', v);
  return v;
}

/** "10", "10+20+30": a VLAN text of `--vlan` (one VID: access; several: a trunk). */
export function parseVlanText(text: string): { vlan?: number; trunk?: number[] } {
  const parts = text.split('+');
  const vids = parts.map((p) => (/^[0-9]{1,4}$/.test(p) ? Number(p) : NaN));
  for (const v of vids) if (!(v >= 1 && v <= 4094)) throw new ArgumentError('--vlan', 'a VLAN id in [1, 4094], or a trunk of them joined by + (10+20)', text);
  const dup = vids.find((v, i) => vids.indexOf(v) !== i);
  if (dup !== undefined) throw new ArgumentError('--vlan', 'each VLAN id once', text);
  return parts.length === 1 ? { vlan: vids[0]! } : { trunk: vids };
}

/** "VID:VNI[,VID:VNI...]" (several --vni add up): the mappings, each VID and VNI once. */
export function parseVniText(texts: readonly string[]): VniMapping[] {
  const out: VniMapping[] = [];
  for (const text of texts) {
    for (const part of text.split(',')) {
      const m = /^([0-9]{1,4}):([0-9]{1,8})$/.exec(part);
      if (!m) throw new ArgumentError('--vni', 'VID:VNI pairs joined by commas (10:5010,20:5020)', part);
      out.push({ vid: Number(m[1]), vni: Number(m[2]) });
    }
  }
  return checkVnis('--vni', out);
}

function checkVnis(parameter: string, vnis: unknown): VniMapping[] {
  if (!Array.isArray(vnis) || vnis.length === 0) throw new ArgumentError(parameter, 'at least one VID:VNI mapping', vnis);
  const out = vnis.map((m: unknown, i) => {
    const o = obj(m, 'a { vid, vni } mapping');
    const v = vid(`${parameter} #${i + 1} VID`, o.vid);
    if (typeof o.vni !== 'number' || !Number.isInteger(o.vni) || o.vni < 1 || o.vni > VNI_MAX) throw new ArgumentError(`${parameter} #${i + 1} VNI`, `a VNI in [1, ${VNI_MAX}]`, o.vni);
    return { vid: v, vni: o.vni };
  });
  const dupVid = out.find((m, i) => out.findIndex((x) => x.vid === m.vid) !== i);
  if (dupVid) throw new ArgumentError(parameter, `each VID once (VID ${dupVid.vid} is mapped twice)`, `${dupVid.vid}:${dupVid.vni}`);
  const dupVni = out.find((m, i) => out.findIndex((x) => x.vni === m.vni) !== i);
  if (dupVni) throw new ArgumentError(parameter, `each VNI once (VNI ${dupVni.vni} is mapped twice)`, `${dupVni.vid}:${dupVni.vni}`);
  return out;
}

/** ADDR or ADDR:PORT ([IPV6]:PORT, or a bare IPV6) → "A.B.C.D:PORT" / "[IPV6]:PORT" with `port` as default. */
export function normaliseEndpoint(parameter: string, text: unknown, port: number = VXLAN_PORT): { text: string; family: 4 | 6; address: string; port: number } {
  if (typeof text !== 'string' || text === '') throw new ArgumentError(parameter, 'ADDR or ADDR:PORT (IPv6: [ADDR]:PORT)', text);
  let full = text;
  if (/^[0-9.]+$/.test(text)) full = `${text}:${port}`;
  else if (/^\[[^\]]+\]$/.test(text)) full = `${text}:${port}`;
  else if (!text.startsWith('[') && text.includes(':') && !/^[0-9.]+:[0-9]+$/.test(text)) full = `[${text}]:${port}`; // a bare IPv6 address
  const e = parseUdpEndpoint(full);
  if (!e) throw new ArgumentError(parameter, 'an IPv4 or IPv6 ADDR, or ADDR:PORT with PORT in 1..65535 (IPv6: [ADDR]:PORT)', text);
  return { text: full, family: e.family, address: e.address, port: e.port };
}

/** `--vlan`: one access VLAN or a trunk of distinct VLAN ids, not both. */
function accessOrTrunk(vlanIn: unknown, trunkIn: unknown): { vlan: number | undefined; trunk: number[] | undefined } {
  const vlan = vlanIn === undefined ? undefined : vid('--vlan', vlanIn);
  if (trunkIn === undefined) return { vlan, trunk: undefined };
  if (vlan !== undefined) throw new ArgumentError('--vlan', 'one VLAN (access) or a trunk, not both', trunkIn);
  if (!Array.isArray(trunkIn) || trunkIn.length === 0) throw new ArgumentError('--vlan', 'a trunk of VLAN ids', trunkIn);
  const trunk = trunkIn.map((v: unknown) => vid('--vlan', v));
  const dup = trunk.find((v, i) => trunk.indexOf(v) !== i);
  if (dup !== undefined) throw new ArgumentError('--vlan', 'each VLAN id once', dup);
  return { vlan, trunk };
}

/** Validates an `uplink-add` request. */
export function parseUplinkAdd(raw: unknown): UplinkAddArgs {
  const a = obj(raw, 'an object { ifname, vlan?, trunk?, nativeVid?, mode?, name? }');
  for (const k of Object.keys(a)) if (!['ifname', 'vlan', 'trunk', 'nativeVid', 'mode', 'name'].includes(k)) throw new ArgumentError(k, 'one of ifname, vlan, trunk, nativeVid, mode, name', k);
  if (!isInterfaceName(a.ifname)) throw new ArgumentError('IFNAME', 'an interface name: 1..15 characters of [A-Za-z0-9_.-]', a.ifname);
  const mode = a.mode ?? 'auto';
  if (mode !== 'auto' && mode !== 'packet' && mode !== 'xdp') throw new ArgumentError('--mode', 'auto, packet or xdp', mode);
  const { vlan, trunk } = accessOrTrunk(a.vlan, a.trunk);
  const nativeVid = a.nativeVid === undefined ? undefined : vid('--native-vlan', a.nativeVid);
  if (nativeVid !== undefined && trunk === undefined) throw new ArgumentError('--native-vlan', 'only with a trunk (--vlan 10+20)', nativeVid);
  if (nativeVid !== undefined && trunk?.includes(nativeVid)) throw new ArgumentError('--native-vlan', 'a VLAN not also tagged on the trunk', nativeVid);
  const name = a.name === undefined ? undefined : checkName('--name', a.name);
  return { ifname: a.ifname, mode, ...(vlan === undefined ? {} : { vlan }), ...(trunk ? { trunk } : {}), ...(nativeVid === undefined ? {} : { nativeVid }), ...(name ? { name } : {}) };
}

/** Validates a `vxlan-add` request (local and remotes normalised to ADDR:PORT). */
export function parseVxlanAdd(raw: unknown): VxlanAddArgs {
  const a = obj(raw, 'an object { name, local, vnis, remotes?, noLearn? }');
  for (const k of Object.keys(a)) if (!['name', 'local', 'vnis', 'remotes', 'noLearn'].includes(k)) throw new ArgumentError(k, 'one of name, local, vnis, remotes, noLearn', k);
  const name = checkName('NAME', a.name);
  const local = normaliseEndpoint('--local', a.local);
  const vnis = checkVnis('--vni', a.vnis);
  const remotesIn = a.remotes ?? [];
  if (!Array.isArray(remotesIn)) throw new ArgumentError('--remote', 'a list of ADDR[:PORT]', remotesIn);
  const remotes = remotesIn.map((r: unknown) => {
    const e = normaliseEndpoint('--remote', r, local.port);
    if (e.family !== local.family) throw new ArgumentError('--remote', `an IPv${local.family} address like --local ${local.text}`, r);
    return e.text;
  });
  const dup = remotes.find((r, i) => remotes.indexOf(r) !== i);
  if (dup !== undefined) throw new ArgumentError('--remote', 'each remote once', dup);
  if (a.noLearn !== undefined && typeof a.noLearn !== 'boolean') throw new ArgumentError('--no-learn', 'a boolean', a.noLearn);
  if (a.noLearn === true && remotes.length === 0) throw new ArgumentError('--no-learn', 'at least one --remote (without learning every frame goes to the remotes)', a.noLearn);
  return { name, local: local.text, vnis, remotes, noLearn: a.noLearn === true };
}

/** Validates a `memif-add` request. */
export function parseMemifAdd(raw: unknown): MemifAddArgs {
  const a = obj(raw, 'an object { name, socket, id?, secret?, vlan?, trunk?, rxMode? }');
  for (const k of Object.keys(a)) if (!['name', 'socket', 'id', 'secret', 'vlan', 'trunk', 'rxMode'].includes(k)) throw new ArgumentError(k, 'one of name, socket, id, secret, vlan, trunk, rxMode', k);
  if (a.rxMode !== undefined && a.rxMode !== 'interrupt' && a.rxMode !== 'poll') throw new ArgumentError('--rx-mode', 'interrupt or poll', a.rxMode);
  const name = checkName('NAME', a.name);
  const socket = a.socket;
  if (!isMemifSocketPath(socket)) throw new ArgumentError('--socket', `an absolute socket path of at most ${MEMIF_PATH_MAX_BYTES} bytes`, socket);
  if (a.id !== undefined && (typeof a.id !== 'number' || !Number.isInteger(a.id) || a.id < 0 || a.id > 0xffffffff)) throw new ArgumentError('--id', 'an integer in [0, 4294967295]', a.id);
  if (a.secret !== undefined && (typeof a.secret !== 'string' || a.secret.length === 0 || Buffer.byteLength(a.secret) > 24 || [...a.secret].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f))) {
    throw new ArgumentError('--secret', '1..24 bytes without control characters', a.secret === undefined ? a.secret : '(hidden)');
  }
  const { vlan, trunk } = accessOrTrunk(a.vlan, a.trunk);
  return {
    name, socket, ...(a.id === undefined ? {} : { id: a.id as number }), ...(a.secret === undefined ? {} : { secret: a.secret as string }),
    ...(vlan === undefined ? {} : { vlan }), ...(trunk ? { trunk } : {}), ...(a.rxMode === undefined ? {} : { rxMode: a.rxMode as MemifRxMode }),
  };
}

/** The domain a memif port becomes. */
export function planMemif(a: MemifAddArgs, uplinkBinary: () => string): PortPlan {
  const id = a.id ?? 0;
  return {
    domainName: `memif-${a.name}`,
    args: [
      uplinkBinary(), '--wire', 'memif', '--id', String(id),
      '--rx-mode', a.rxMode ?? 'interrupt',
      '--stats-interval', String(UPLINK_STATS_INTERVAL_MS),
    ],
    vif: {
      txSlots: UPLINK_SLOTS, rxSlots: UPLINK_SLOTS,
      ...(a.vlan === undefined ? {} : { vlan: a.vlan }),
      policy: { macLock: false, ...(a.trunk ? { trunk: { vids: [...a.trunk] } } : {}) },
    },
    // the secret in the environment: /proc/PID/environ is the tenant's and root's, the command line everyone's
    ...(a.secret === undefined ? {} : { env: { VPIO_MEMIF_SECRET: a.secret } }),
    wire: { kind: 'memif', path: a.socket },
    info: { kind: 'memif', name: a.name, socket: a.socket, id, secret: a.secret !== undefined, text: `memif ${a.socket}` },
  };
}

/** What --mode auto and xdp decide on: vpio-xdp-probe's verdict on the interface, and vpio's XDP object (called only when AF_XDP is chosen). */
export interface UplinkXdpFacts {
  readonly probe: XdpProbe;
  readonly obj: () => string;
}

/** The AF_XDP wire for this uplink, or why it cannot have one. */
function xdpWire(ifname: string, xdp: UplinkXdpFacts | undefined): { wire: DomainWireOptions } | { why: string } {
  if (!xdp) return { why: 'AF_XDP was not probed' };
  if (!xdp.probe.possible) return { why: xdp.probe.why };
  try {
    return { wire: { kind: 'xdp', ifname, obj: xdp.obj(), frameSize: UPLINK_XDP_FRAME_BYTES } };
  } catch (e) {
    if (e instanceof CliError) return { why: e.message }; // the XDP object is not built
    throw e;
  }
}

/**
 * The domain an uplink becomes (`uplinkBinary` is called only for a valid
 * request). --mode packet: AF_PACKET. --mode xdp: AF_XDP when `xdp.probe`
 * says it is possible, else a CliError with the probe's reason (no domain is
 * started). --mode auto (the default): AF_XDP when possible, else AF_PACKET
 * with the reason in `info.fallback` (`info.text` stays "uplink IF (packet)").
 */
export function planUplink(a: UplinkAddArgs, uplinkBinary: () => string, xdp?: UplinkXdpFacts): PortPlan {
  const mode = a.mode ?? 'auto';
  const chosen = mode === 'packet' ? undefined : xdpWire(a.ifname, xdp);
  if (mode === 'xdp' && chosen && 'why' in chosen) {
    const hint = /--mode packet/.test(chosen.why) ? '' : '; --mode packet (or auto) uses AF_PACKET';
    throw new CliError('CLI_UPLINK', `uplink ${a.ifname} --mode xdp: ${chosen.why}${hint}`);
  }
  const vif: VifSpec = {
    txSlots: UPLINK_SLOTS, rxSlots: UPLINK_SLOTS,
    ...(a.vlan === undefined ? {} : { vlan: a.vlan }),
    policy: { macLock: false, ...(a.trunk ? { trunk: { vids: [...a.trunk], ...(a.nativeVid === undefined ? {} : { nativeVid: a.nativeVid }) } } : {}) },
  };
  const domainName = a.name ?? `uplink-${a.ifname}`;
  if (chosen && 'wire' in chosen) {
    return {
      domainName,
      args: [uplinkBinary(), '--wire', 'xdp', '--stats-interval', String(UPLINK_STATS_INTERVAL_MS)],
      vif,
      wire: chosen.wire,
      info: { kind: 'uplink', ifname: a.ifname, mode: 'xdp', text: `uplink ${a.ifname} (xdp)` },
    };
  }
  const fallback = chosen?.why;
  return {
    domainName,
    args: [uplinkBinary(), '--wire', 'packet', '--stats-interval', String(UPLINK_STATS_INTERVAL_MS)],
    vif,
    wire: { kind: 'packet', ifname: a.ifname },
    info: {
      kind: 'uplink', ifname: a.ifname, mode: 'packet',
      text: `uplink ${a.ifname} (packet)`,
      ...(fallback === undefined ? {} : { fallback }),
    },
  };
}

/**
 * An AF_XDP uplink's wire text from vpio-uplink's stats line ("zerocopy" and
 * "attach_native", 0 or 1): "uplink IF (xdp copy native)"; the info as it
 * was when the line does not say.
 */
export function xdpWireNow(info: PortWireInfo, statsLine: string | undefined): PortWireInfo {
  if (info.kind !== 'uplink' || info.mode !== 'xdp' || statsLine === undefined) return info;
  const zc = /"zerocopy":([01])\b/.exec(statsLine);
  const native = /"attach_native":([01])\b/.exec(statsLine);
  if (!zc || !native) return info;
  const bind = zc[1] === '1' ? 'zerocopy' : 'copy';
  const attach = native[1] === '1' ? 'native' : 'generic';
  return { ...info, bind, attach, text: `uplink ${info.ifname} (xdp ${bind} ${attach})` };
}

/** The domain a VXLAN port becomes. */
export function planVxlan(a: VxlanAddArgs, uplinkBinary: () => string): PortPlan {
  const remotes = a.remotes ?? [];
  const local = normaliseEndpoint('--local', a.local);
  // a remote on the local port goes as a bare address with --dst-port (vpio-uplink's ADDR[:PORT])
  const bare = (r: string): string => {
    const e = normaliseEndpoint('--remote', r, local.port);
    return e.port === local.port ? e.address : r;
  };
  const text = `vxlan ${a.local}${remotes.length ? ` → ${remotes.map(bare).join(',')}` : ''}`;
  return {
    domainName: `vxlan-${a.name}`,
    args: [
      uplinkBinary(), '--wire', 'vxlan', '--vni', a.vnis.map((m) => `${m.vid}:${m.vni}`).join(','),
      ...remotes.flatMap((r) => ['--remote', bare(r)]), ...(a.noLearn ? ['--no-learn'] : []),
      '--dst-port', String(local.port), '--stats-interval', String(UPLINK_STATS_INTERVAL_MS),
    ],
    vif: { txSlots: UPLINK_SLOTS, rxSlots: UPLINK_SLOTS, policy: { macLock: false, trunk: { vids: a.vnis.map((m) => m.vid) } } },
    wire: { kind: 'udp', bind: a.local },
    info: { kind: 'vxlan', name: a.name, local: a.local, remotes: [...remotes], vnis: a.vnis.map((m) => ({ ...m })), learn: !a.noLearn, text },
  };
}
