/**
 * createDomain()'s options: types, defaults and validation (pure). Bad
 * values fail here, at the public boundary, with ArgumentError naming the
 * parameter, what was expected and what arrived.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ArgumentError, expectInteger } from '@vpio/errors';

/** Per-domain broker limits (enforced by the grant/evtchn brokers). */
export interface DomainBrokerLimits {
  /** Pages this domain may grant to others at once. */
  readonly grantPages: number;
  /** Event channel ports this domain may hold. */
  readonly eventChannels: number;
  /** Pages of other domains' grants this domain may map at once. */
  readonly mappedPages: number;
}

/**
 * A Linux guest's TAP device: vpio-launch creates it inside the domain's own
 * network namespace (still privileged there), configures it, and hands its
 * descriptor to the guest as fd 4 (VPIO_TAP_FD, name in VPIO_TAP_NAME). The
 * guest cannot create another one or change its addresses.
 */
export interface DomainTapOptions {
  /** Interface name: 1..15 of [A-Za-z0-9_.-], not "lo". Default "eth0". */
  readonly name?: string;
  /** Unicast "xx:xx:xx:xx:xx:xx" (default: the kernel's random one; toolstacks set the vif's). */
  readonly mac?: string;
  /** 68..65535 (default 1500). */
  readonly mtu?: number;
  /** "A.B.C.D/PREFIX" (prefix 1..32). */
  readonly ipv4?: string;
  /** "ADDR/PREFIX" (prefix 0..128). */
  readonly ipv6?: string;
  /** Create the device with IFF_VNET_HDR (every frame carries a virtio_net_hdr; the guest turns offloads on with TUNSETOFFLOAD). Default false. */
  readonly vnetHdr?: boolean;
  /**
   * Queues, 1..8 (default 1): more than one makes an IFF_MULTI_QUEUE device
   * whose queue q the guest gets as fd 4 + q ($VPIO_TAP_QUEUES says how many);
   * the kernel spreads the guest's outgoing flows over them.
   */
  readonly queues?: number;
}

/**
 * An uplink tenant's wire: vpio-launch's monitor (root, in vpiod's network
 * namespace, before the domain gets its own) creates the socket and hands it
 * to the guest as fd 4 (VPIO_WIRE_FD, VPIO_WIRE_KIND packet|udp|memif|xdp,
 * VPIO_WIRE_NAME). The guest keeps its own empty namespace, uid, no-new-privs
 * and seccomp (which also denies it bind()): that one socket, as bound, is
 * all it reaches outside.
 *
 *  - `packet`: an AF_PACKET raw socket bound to `ifname` (which must exist
 *    and be up), the interface promiscuous while the socket lives;
 *  - `udp`: a UDP socket bound to `bind`, "A.B.C.D:PORT" or "[IPV6]:PORT";
 *  - `memif`: a SOCK_SEQPACKET Unix socket listening at `path` (absolute, at
 *    most 107 bytes; its directory must exist, be root's and not be
 *    group/other-writable), file mode `mode` (default 0o600; owner rw, no x
 *    bits). A stale socket file is replaced, a live one refused; the monitor
 *    unlinks it when the domain is gone;
 *  - `xdp`: an AF_XDP socket bound to rx/tx queue `queue` (default 0) of
 *    `ifname` (which must exist, be up and have one active rx queue). The
 *    monitor loads vpio's XDP program from `obj` (absolute path of
 *    kernel/build/xdp_vpio.bpf.o), attaches it (`attach`: native or generic,
 *    default auto: native, else generic), binds the socket (`bind`: zerocopy
 *    or copy, default auto: zerocopy, else copy) on a sealed memfd UMEM,
 *    puts it in the program's XSKMAP and hands the socket over as fd 4 and
 *    the UMEM's memfd as fd 5; it detaches the program when the domain ends.
 *    `frameSize` (2048 or 4096, default the launcher's 2048) is the UMEM
 *    frame: it must hold XDP's 256-byte headroom plus the largest frame the
 *    tenant moves.
 */
export type DomainWireOptions =
  | { readonly kind: 'packet'; readonly ifname: string }
  | { readonly kind: 'udp'; readonly bind: string }
  | { readonly kind: 'memif'; readonly path: string; readonly mode?: number }
  | { readonly kind: 'xdp'; readonly ifname: string; readonly obj: string; readonly queue?: number; readonly bind?: XdpBindMode; readonly attach?: XdpAttachMode; readonly frameSize?: XdpFrameSize };

/** How an AF_XDP socket is bound: `auto` tries zero-copy, then copy. */
export type XdpBindMode = 'auto' | 'zerocopy' | 'copy';
/** How vpio's XDP program is attached: `auto` tries native (driver) mode, then generic (SKB). */
export type XdpAttachMode = 'auto' | 'native' | 'generic';
/** An AF_XDP UMEM frame's size (bytes): 2048 (the launcher's default) or 4096. */
export type XdpFrameSize = 2048 | 4096;

export type ResolvedWireOptions =
  | { readonly kind: 'packet'; readonly ifname: string }
  | { readonly kind: 'udp'; readonly bind: string }
  | { readonly kind: 'memif'; readonly path: string; readonly mode: number }
  | { readonly kind: 'xdp'; readonly ifname: string; readonly obj: string; readonly queue: number; readonly bind: XdpBindMode; readonly attach: XdpAttachMode; readonly frameSize: XdpFrameSize };

/** Rx queues vpio's XDP program can steer to a socket: 0 .. XDP_MAX_QUEUES - 1 (VPIO_XDP_MAX_QUEUES, kernel/include/vpio/xdp_vpio.h). */
export const XDP_MAX_QUEUES = 64;
/** The longest path vpio-launch --wire-xdp-obj takes (PATH_MAX less its NUL). */
export const XDP_OBJ_PATH_MAX_BYTES = 4095;

/** The longest socket path vpio-launch --wire-memif takes (sun_path less its NUL). */
export const MEMIF_PATH_MAX_BYTES = 107;

/** A path vpio-launch --wire-memif takes: absolute, 2..107 bytes, no NUL, not ending in '/'. */
export function isMemifSocketPath(path: unknown): path is string {
  return typeof path === 'string' && path.startsWith('/') && path.length > 1 && !path.endsWith('/') && !path.includes('\0') &&
    Buffer.byteLength(path) <= MEMIF_PATH_MAX_BYTES;
}

export interface ResolvedTapOptions {
  readonly name: string;
  readonly mac: string | undefined;
  readonly mtu: number;
  readonly ipv4: string | undefined;
  readonly ipv6: string | undefined;
  readonly vnetHdr: boolean;
  readonly queues: number;
}

export interface CreateDomainOptions {
  /** Unique among live domains: [A-Za-z0-9_.-], 1..64 characters. */
  readonly name: string;
  /** The guest command: argv[0] is looked up in PATH inside the sandbox. */
  readonly argv: readonly string[];
  /** Memory limit of the domain's cgroup (MiB, includes swap). Default 256. */
  readonly memoryMiB?: number;
  /** Relative CPU weight as v1 cpu.shares (2..262144). Default 1024. */
  readonly cpuShares?: number;
  /** Hard CPU cap: microseconds per cpuPeriodUs (undefined: no cap). */
  readonly cpuQuotaUs?: number;
  /** Period of cpuQuotaUs, default 100000. */
  readonly cpuPeriodUs?: number;
  /** Processes (and threads) in the domain, the launcher's two included. Default 64. */
  readonly maxPids?: number;
  readonly limits?: Partial<DomainBrokerLimits>;
  /** Extra environment for the guest (VPIO_DOMID and VPIO_CTRL_FD are always set; VPIO_TAP_FD and VPIO_TAP_NAME with `tap`; VPIO_WIRE_FD, VPIO_WIRE_KIND and VPIO_WIRE_NAME with `wire`). */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory of the guest (default /). */
  readonly cwd?: string;
  /** The guest's stdout: 'pipe' exposes domain.stdout. Default 'ignore'. */
  readonly stdout?: 'pipe' | 'ignore' | 'inherit';
  /** A TAP device in the domain's network namespace (a Linux guest). */
  readonly tap?: DomainTapOptions;
  /** A wire socket made by the launcher in vpiod's network namespace (an uplink tenant); not with `tap`. */
  readonly wire?: DomainWireOptions;
}

export interface ResolvedDomainOptions {
  readonly name: string;
  readonly argv: readonly string[];
  readonly memoryMiB: number;
  readonly cpuShares: number;
  readonly cpuQuotaUs: number | undefined;
  readonly cpuPeriodUs: number;
  readonly maxPids: number;
  readonly limits: DomainBrokerLimits;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly stdout: 'pipe' | 'ignore' | 'inherit';
  readonly tap: ResolvedTapOptions | undefined;
  readonly wire: ResolvedWireOptions | undefined;
}

export const DEFAULT_BROKER_LIMITS: DomainBrokerLimits = { grantPages: 4096, eventChannels: 64, mappedPages: 4096 };

/** Upper bounds of the broker limits (a tenant never gets more). */
export const MAX_BROKER_LIMITS: DomainBrokerLimits = { grantPages: 1 << 20, eventChannels: 4096, mappedPages: 1 << 20 };

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

const TAP_NAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
/** Environment names vpiod/vpio-launch set themselves. */
const RESERVED_ENV = new Set(['VPIO_DOMID', 'VPIO_CTRL_FD', 'VPIO_TAP_FD', 'VPIO_TAP_NAME', 'VPIO_TAP_QUEUES', 'VPIO_WIRE_FD', 'VPIO_WIRE_KIND', 'VPIO_WIRE_NAME', 'VPIO_WIRE_UMEM_FD', 'VPIO_XDP_QUEUE', 'VPIO_XDP_ATTACH']);
/** Queues a multi-queue TAP may have (vpio-launch --tap-queues). */
export const TAP_MAX_QUEUES = 8;

/** A unicast MAC in "xx:xx:xx:xx:xx:xx" form (what vpio-launch --tap-mac accepts). */
export function isUnicastMac(mac: unknown): mac is string {
  return typeof mac === 'string' && MAC_RE.test(mac) && (parseInt(mac.slice(0, 2), 16) & 1) === 0;
}

function prefixed(parameter: string, value: unknown, family: 4 | 6): string | undefined {
  if (value === undefined) return undefined;
  const what = family === 4 ? 'A.B.C.D/PREFIX with PREFIX in 1..32' : 'an IPv6 ADDR/PREFIX with PREFIX in 0..128';
  if (typeof value !== 'string') throw new ArgumentError(parameter, what, value);
  const slash = value.indexOf('/');
  const addr = value.slice(0, slash);
  const prefix = value.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  const ok = slash > 0 && (family === 4 ? isIPv4(addr) : isIPv6(addr)) && /^[0-9]{1,3}$/.test(prefix) && Number(prefix) <= max && (family === 6 || Number(prefix) >= 1);
  if (!ok) throw new ArgumentError(parameter, what, value);
  return value;
}

export function resolveTapOptions(tap: DomainTapOptions): ResolvedTapOptions {
  if (typeof tap !== 'object' || tap === null) throw new ArgumentError('tap', 'an object', tap);
  for (const key of Object.keys(tap)) {
    if (!['name', 'mac', 'mtu', 'ipv4', 'ipv6', 'vnetHdr', 'queues'].includes(key)) throw new ArgumentError(`tap.${key}`, 'one of name, mac, mtu, ipv4, ipv6, vnetHdr, queues', key);
  }
  const name = tap.name ?? 'eth0';
  if (typeof name !== 'string' || !TAP_NAME_RE.test(name) || name === 'lo' || name === '.' || name === '..') {
    throw new ArgumentError('tap.name', '1..15 characters of [A-Za-z0-9_.-], not "lo"', name);
  }
  if (tap.mac !== undefined && !isUnicastMac(tap.mac)) throw new ArgumentError('tap.mac', 'a unicast MAC xx:xx:xx:xx:xx:xx', tap.mac);
  if (tap.vnetHdr !== undefined && typeof tap.vnetHdr !== 'boolean') throw new ArgumentError('tap.vnetHdr', 'a boolean', tap.vnetHdr);
  return {
    name,
    mac: tap.mac?.toLowerCase(),
    mtu: optionalInt('tap.mtu', tap.mtu, 68, 65535, 1500),
    ipv4: prefixed('tap.ipv4', tap.ipv4, 4),
    ipv6: prefixed('tap.ipv6', tap.ipv6, 6),
    vnetHdr: tap.vnetHdr ?? false,
    queues: optionalInt('tap.queues', tap.queues, 1, TAP_MAX_QUEUES, 1),
  };
}

/** vpio-launch's --tap arguments. */
export function tapLauncherArgs(tap: ResolvedTapOptions): string[] {
  return [
    '--tap', tap.name, '--tap-mtu', String(tap.mtu),
    ...(tap.mac ? ['--tap-mac', tap.mac] : []),
    ...(tap.ipv4 ? ['--tap-addr', tap.ipv4] : []),
    ...(tap.ipv6 ? ['--tap-addr6', tap.ipv6] : []),
    ...(tap.vnetHdr ? ['--tap-vnet-hdr'] : []),
    ...(tap.queues > 1 ? ['--tap-queues', String(tap.queues)] : []),
  ];
}

/** An interface name as vpio-launch --wire-packet takes it: 1..15 of [A-Za-z0-9_.-] (not "." or ".."). */
export function isInterfaceName(name: unknown): name is string {
  return typeof name === 'string' && TAP_NAME_RE.test(name) && name !== '.' && name !== '..';
}

/**
 * "A.B.C.D:PORT" or "[IPV6]:PORT" (port 1..65535) split into its parts, or
 * undefined when it is neither (what vpio-launch --wire-udp accepts).
 */
export function parseUdpEndpoint(text: unknown): { readonly address: string; readonly port: number; readonly family: 4 | 6 } | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):([0-9]{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  if (m[1] !== undefined) return isIPv6(m[1]) ? { address: m[1], port, family: 6 } : undefined;
  return isIPv4(m[2]!) ? { address: m[2]!, port, family: 4 } : undefined;
}

export function resolveWireOptions(wire: DomainWireOptions): ResolvedWireOptions {
  if (typeof wire !== 'object' || wire === null) throw new ArgumentError('wire', "an object { kind: 'packet', ifname }, { kind: 'udp', bind }, { kind: 'memif', path } or { kind: 'xdp', ifname, obj }", wire);
  const keys = Object.keys(wire);
  if (wire.kind === 'packet') {
    for (const key of keys) if (key !== 'kind' && key !== 'ifname') throw new ArgumentError(`wire.${key}`, "one of kind, ifname (kind 'packet')", key);
    if (!isInterfaceName(wire.ifname)) throw new ArgumentError('wire.ifname', 'an interface name: 1..15 characters of [A-Za-z0-9_.-]', wire.ifname);
    return { kind: 'packet', ifname: wire.ifname };
  }
  if (wire.kind === 'udp') {
    for (const key of keys) if (key !== 'kind' && key !== 'bind') throw new ArgumentError(`wire.${key}`, "one of kind, bind (kind 'udp')", key);
    if (!parseUdpEndpoint(wire.bind)) throw new ArgumentError('wire.bind', 'A.B.C.D:PORT or [IPV6]:PORT with PORT in 1..65535', wire.bind);
    return { kind: 'udp', bind: wire.bind };
  }
  if (wire.kind === 'memif') {
    for (const key of keys) if (key !== 'kind' && key !== 'path' && key !== 'mode') throw new ArgumentError(`wire.${key}`, "one of kind, path, mode (kind 'memif')", key);
    if (!isMemifSocketPath(wire.path)) throw new ArgumentError('wire.path', `an absolute socket path of at most ${MEMIF_PATH_MAX_BYTES} bytes`, wire.path);
    const mode = wire.mode ?? 0o600;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o777 || (mode & 0o600) !== 0o600 || (mode & 0o111) !== 0) {
      throw new ArgumentError('wire.mode', 'a file mode with rw for the owner and no x bits (0o600, 0o660, 0o666)', wire.mode);
    }
    return { kind: 'memif', path: wire.path, mode };
  }
  if (wire.kind === 'xdp') {
    const known = ['kind', 'ifname', 'obj', 'queue', 'bind', 'attach', 'frameSize'];
    for (const key of keys) if (!known.includes(key)) throw new ArgumentError(`wire.${key}`, "one of kind, ifname, obj, queue, bind, attach, frameSize (kind 'xdp')", key);
    if (!isInterfaceName(wire.ifname)) throw new ArgumentError('wire.ifname', 'an interface name: 1..15 characters of [A-Za-z0-9_.-]', wire.ifname);
    const obj: unknown = wire.obj;
    if (typeof obj !== 'string' || !obj.startsWith('/') || obj.includes('\0') || Buffer.byteLength(obj) > XDP_OBJ_PATH_MAX_BYTES) {
      throw new ArgumentError('wire.obj', `the absolute path of vpio's XDP object (xdp_vpio.bpf.o), at most ${XDP_OBJ_PATH_MAX_BYTES} bytes`, obj);
    }
    const queue = wire.queue === undefined ? 0 : expectInteger('wire.queue', wire.queue, 0, XDP_MAX_QUEUES - 1);
    const bind = wire.bind ?? 'auto';
    if (bind !== 'auto' && bind !== 'zerocopy' && bind !== 'copy') throw new ArgumentError('wire.bind', "'auto', 'zerocopy' or 'copy'", bind);
    const attach = wire.attach ?? 'auto';
    if (attach !== 'auto' && attach !== 'native' && attach !== 'generic') throw new ArgumentError('wire.attach', "'auto', 'native' or 'generic'", attach);
    const frameSize = wire.frameSize ?? 2048;
    if (frameSize !== 2048 && frameSize !== 4096) throw new ArgumentError('wire.frameSize', '2048 or 4096', frameSize);
    return { kind: 'xdp', ifname: wire.ifname, obj, queue, bind, attach, frameSize };
  }
  throw new ArgumentError('wire.kind', "'packet', 'udp', 'memif' or 'xdp'", (wire as { kind?: unknown }).kind);
}

/** vpio-launch's --wire-* arguments. */
export function wireLauncherArgs(wire: ResolvedWireOptions): string[] {
  switch (wire.kind) {
    case 'packet': return ['--wire-packet', wire.ifname];
    case 'udp': return ['--wire-udp', wire.bind];
    case 'memif': return ['--wire-memif', wire.path, ...(wire.mode !== 0o600 ? ['--wire-memif-mode', wire.mode.toString(8).padStart(4, '0')] : [])];
    case 'xdp': return [
      '--wire-xdp', wire.ifname, '--wire-xdp-obj', wire.obj,
      ...(wire.queue !== 0 ? ['--wire-xdp-queue', String(wire.queue)] : []),
      ...(wire.bind !== 'auto' ? ['--wire-xdp-bind', wire.bind] : []),
      ...(wire.attach !== 'auto' ? ['--wire-xdp-attach', wire.attach] : []),
      ...(wire.frameSize !== 2048 ? ['--wire-xdp-frame-size', String(wire.frameSize)] : []),
    ];
  }
}

function optionalInt(parameter: string, value: unknown, min: number, max: number, fallback: number): number {
  return value === undefined ? fallback : expectInteger(parameter, value, min, max);
}

export function resolveDomainOptions(options: CreateDomainOptions): ResolvedDomainOptions {
  if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object', options);
  const { name, argv } = options;
  if (typeof name !== 'string' || !NAME_RE.test(name) || name === '.' || name === '..') {
    throw new ArgumentError('name', '1..64 characters of [A-Za-z0-9_.-]', name);
  }
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string' && !a.includes('\0')) || argv[0] === '') {
    throw new ArgumentError('argv', 'a non-empty array of strings without NUL', argv);
  }
  const limitsIn: Partial<DomainBrokerLimits> = options.limits ?? {};
  if (typeof limitsIn !== 'object' || limitsIn === null) throw new ArgumentError('limits', 'an object', limitsIn);
  for (const key of Object.keys(limitsIn)) {
    if (!(key in DEFAULT_BROKER_LIMITS)) throw new ArgumentError(`limits.${key}`, 'one of grantPages, eventChannels, mappedPages', key);
  }
  const limits: DomainBrokerLimits = {
    grantPages: optionalInt('limits.grantPages', limitsIn.grantPages, 0, MAX_BROKER_LIMITS.grantPages, DEFAULT_BROKER_LIMITS.grantPages),
    eventChannels: optionalInt('limits.eventChannels', limitsIn.eventChannels, 0, MAX_BROKER_LIMITS.eventChannels, DEFAULT_BROKER_LIMITS.eventChannels),
    mappedPages: optionalInt('limits.mappedPages', limitsIn.mappedPages, 0, MAX_BROKER_LIMITS.mappedPages, DEFAULT_BROKER_LIMITS.mappedPages),
  };
  const env = options.env ?? {};
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || typeof v !== 'string' || v.includes('\0')) throw new ArgumentError(`env.${k}`, 'a string without NUL under a valid name', v);
    if (RESERVED_ENV.has(k)) throw new ArgumentError(`env.${k}`, 'not set by the caller (vpiod sets it)', v);
  }
  const cwd = options.cwd ?? '/';
  if (typeof cwd !== 'string' || !cwd.startsWith('/')) throw new ArgumentError('cwd', 'an absolute path', cwd);
  if (options.tap !== undefined && options.wire !== undefined) throw new ArgumentError('wire', 'absent with tap (both would be the guest\'s fd 4)', options.wire);
  const stdout = options.stdout ?? 'ignore';
  if (stdout !== 'pipe' && stdout !== 'ignore' && stdout !== 'inherit') throw new ArgumentError('stdout', "'pipe', 'ignore' or 'inherit'", stdout);
  return {
    name,
    argv: [...argv],
    memoryMiB: optionalInt('memoryMiB', options.memoryMiB, 4, 1 << 20, 256),
    cpuShares: optionalInt('cpuShares', options.cpuShares, 2, 262144, 1024),
    cpuQuotaUs: options.cpuQuotaUs === undefined ? undefined : expectInteger('cpuQuotaUs', options.cpuQuotaUs, 1000, 1_000_000_000),
    cpuPeriodUs: optionalInt('cpuPeriodUs', options.cpuPeriodUs, 1000, 1_000_000, 100_000),
    maxPids: optionalInt('maxPids', options.maxPids, 3, 4_194_304, 64),
    limits,
    env: { ...env },
    cwd,
    stdout,
    tap: options.tap === undefined ? undefined : resolveTapOptions(options.tap),
    wire: options.wire === undefined ? undefined : resolveWireOptions(options.wire),
  };
}
