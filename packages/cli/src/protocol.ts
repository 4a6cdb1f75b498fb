/**
 * The CLI control socket's vocabulary: newline-delimited JSON, one request
 * object per line, one response line per request, in order.
 *
 *   → {"id":1,"cmd":"ls"}
 *   ← {"id":1,"ok":true,"result":{"domains":[...]}}
 *   ← {"id":1,"ok":false,"error":{"code":"CLI_NO_SUCH_DOMAIN","message":"..."}}
 *
 * The socket lives in vpiod's 0700 directory, is 0600, and the server
 * checks each connection's SO_PEERCRED uid against its own.
 */
import type { VifPolicyInfo } from '@vpio/netback';
import type { PortWireInfo } from './uplink-spec.js';
import type { VifSpec } from './vif-spec.js';

export const CONTROL_SOCKET_NAME = 'vpio.sock';
export const PID_FILE_NAME = 'vpio.pid';
export const LOG_FILE_NAME = 'platform.log';
/** Longest request line the server reads (bytes); longer closes the connection. */
export const MAX_LINE_BYTES = 256 * 1024;

export type Command = 'ping' | 'ls' | 'run' | 'stats' | 'destroy' | 'down' | 'console' | 'capture' | 'capture-stop' | 'uplink-add' | 'uplink-rm' | 'vxlan-add' | 'vxlan-rm' | 'memif-add' | 'memif-rm';
export const COMMANDS: readonly Command[] = ['ping', 'ls', 'run', 'stats', 'destroy', 'down', 'console', 'capture', 'capture-stop', 'uplink-add', 'uplink-rm', 'vxlan-add', 'vxlan-rm', 'memif-add', 'memif-rm'];

/**
 * `uplink-add` (args UplinkAddArgs), `vxlan-add` (VxlanAddArgs): answer with
 * the port's DomainRow once its vif is connected (or an error naming what
 * failed: the launcher's `wire` line, a taken name; `uplink-add` with mode
 * xdp: vpio-xdp-probe's reason when the interface cannot carry AF_XDP, mode
 * auto: the packet wire with that reason in `wire.fallback`). `uplink-rm` {ifname},
 * `vxlan-rm` {name}: answer with a DestroyResult. Validated by
 * uplink-spec.ts (parseUplinkAdd, parseVxlanAdd).
 */
export type { UplinkAddArgs, VxlanAddArgs, MemifAddArgs, PortWireInfo, VniMapping } from './uplink-spec.js';

export interface RunArgs {
  readonly name?: string;
  readonly argv: readonly string[];
  readonly vifs: readonly VifSpec[];
  readonly memoryMiB?: number;
  readonly env?: Readonly<Record<string, string>>;
  /** A Linux guest (`vpio run --linux`): argv runs under vpio-linux-netfront with a TAP device bridged to vif 0. */
  readonly linux?: LinuxGuestArgs;
  /** xen mode: a PV domain booting this kernel (argv must be empty then). */
  readonly xen?: XenGuestArgs;
  /**
   * A minios guest running this configuration, in either mode (argv must be
   * empty): host mode runs the minios binary with it; xen mode boots the
   * minios PV image (xen.kernel overrides it) and hands the configuration
   * over in the domain's xenstore directory (vpio/config), before unpausing.
   */
  readonly minios?: MiniosGuestArgs;
}

export interface MiniosGuestArgs {
  /** The configuration text (minios/README.md has the grammar), at most MINIOS_CONFIG_MAX bytes. */
  readonly config: string;
  /** Stats lines on the console every this many ms (none when absent). */
  readonly statsIntervalMs?: number;
}

/** A minios configuration travels as one xenstore value in xen mode: it must fit one (4096-byte payloads, path included). */
export const MINIOS_CONFIG_MAX = 3584;

export interface XenGuestArgs {
  readonly kernel: string;
  readonly ramdisk?: string;
  readonly cmdline?: string;
  readonly vcpus?: number;
}

export interface LinuxGuestArgs {
  /** eth0's IPv4 address, "A.B.C.D/PREFIX". */
  readonly ipv4?: string;
  /** eth0's IPv6 address, "ADDR/PREFIX". */
  readonly ipv6?: string;
  /** Ask for checksum/segmentation offloads on the vif (default true; false: plain frames, the switch segments for it). */
  readonly offload?: boolean;
  /**
   * Queues (1..8): a multi-queue TAP and vif 0 with that many ring pairs,
   * one netfront thread per queue. Default: linuxGuestDefaultQueues().
   */
  readonly queues?: number;
}

export interface Request {
  readonly id: number;
  readonly cmd: Command;
  readonly args?: unknown;
}

export interface ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly parameter?: string;
}

export type Response =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number | null; readonly ok: false; readonly error: ErrorBody }
  /** Before the final reply of a streaming request (`capture`): one event. */
  | { readonly id: number; readonly stream: CaptureEvent };

export interface VifRow {
  readonly devid: number;
  readonly mac: string;
  readonly vlan: number | undefined;
  readonly mtu: number;
  readonly backendState: number;
  readonly backendStateName: string;
  readonly frontendState: number;
  readonly frontendStateName: string;
  readonly port: number | undefined;
  /** Queues (ring pairs) the vif has (netback's `queues`, 1 unless asked). */
  readonly queues: number;
  /** While connected, the switch port of each queue the frontend uses (queue order; `port` is the first), else empty. */
  readonly queuePorts: readonly number[];
  /** The last `error` node netback wrote for it, if any. */
  readonly error: string | undefined;
  /**
   * Attach latency (ms, the platform's monotonic clock): from the platform
   * accepting the run request to the first time both ends were Connected.
   * Absent until then, and for vifs of domains the platform did not start.
   */
  readonly attachMs?: number | undefined;
  /** What its switch port enforces (netback's VifInfo.policy; unset limits are absent: unlimited). */
  readonly policy: VifPolicyInfo;
}

export interface DomainRow {
  readonly domid: number;
  readonly name: string;
  readonly pid: number;
  readonly state: string;
  readonly argv: readonly string[];
  /** xen mode: the domain's PV kernel (pid is 0: a domain, not a process). */
  readonly kernel?: string;
  readonly vifs: readonly VifRow[];
  /** An uplink or VXLAN port's domain (`vpio uplink add`, `vpio vxlan add`): its kind and wire. */
  readonly wire?: PortWireInfo;
}

export interface LsResult {
  /** The platform's mode: host (sandboxed processes) or xen (PV domains on Xen). */
  readonly platformMode?: 'host' | 'xen';
  readonly domains: readonly DomainRow[];
}

export interface PlatformInfo {
  readonly pid: number;
  readonly dir: string;
  readonly xenstorePath: string;
  readonly cores: readonly number[];
  readonly mode: 'event' | 'poll';
  /** host: vpiod's own xenstored and brokers; xen: Xen's xenstored, grant tables and event channels. */
  readonly platformMode: 'host' | 'xen';
  readonly skippedSteps: readonly string[];
  /** The third byte of default vif MACs, 02:76:HH:<domid>:<vif> (`vpio up --mac-byte`, random by default). */
  readonly macByte: number;
  /** What vpiod removed at start of a dead platform that ran on the same directory (its domains' cgroups, processes left in them). */
  readonly recovered?: RecoveredLeftovers | undefined;
}

export interface RecoveredLeftovers {
  readonly pid: number;
  readonly cgroups: readonly string[];
  readonly processesKilled: number;
  readonly failed: readonly string[];
}

export interface PortRates {
  readonly inPps: number;
  readonly outPps: number;
  readonly inBitsPerSec: number;
  readonly outBitsPerSec: number;
  readonly dropsPerSec: number;
}

/**
 * One vif's traffic (or a switch port no vif owns): a vif with several
 * queue ports is one row, its counters and rates summed over them.
 */
export interface PortRow {
  /** The switch port (a multi-queue vif's: its first queue's, the id of the group its ports form). */
  readonly port: number;
  /** The vif's queue ports summed into this row (present when more than one). */
  readonly queuePorts?: readonly number[];
  readonly domid: number | undefined;
  readonly devid: number | undefined;
  readonly name: string | undefined;
  readonly inPackets: number;
  readonly inBytes: number;
  readonly outPackets: number;
  readonly outBytes: number;
  readonly drops: Readonly<Record<string, number>>;
  readonly dropsTotal: number;
  /** Over the daemon's last sampling interval (zeros until two samples exist). */
  readonly rates: PortRates;
}

export interface StatsResult {
  readonly atMs: number;
  readonly intervalMs: number;
  readonly ports: readonly PortRow[];
}

export interface DestroyResult {
  readonly domid: number;
  readonly name: string;
  readonly exit: { readonly code: number | null; readonly signal: string | null; readonly reason: string };
}

/** `console`: a domain's stdout after absolute byte offset `since` (the platform keeps the newest 256 KiB). */
export interface ConsoleResult {
  readonly domid: number;
  readonly name: string;
  readonly alive: boolean;
  readonly exit: { readonly code: number | null; readonly signal: string | null; readonly reason: string } | undefined;
  /** Absolute offset of `text`'s first byte. */
  readonly start: number;
  /** Absolute offset after the last byte written so far (the next `since`). */
  readonly end: number;
  /** Bytes dropped from the front of the buffer since the domain started. */
  readonly dropped: number;
  /** Of the bytes after `since`, how many were dropped before this read. */
  readonly missed: number;
  readonly text: string;
  /** The last 4 KiB the launcher and guest wrote to stderr. */
  readonly stderr: string;
}

/**
 * `capture`: a streaming request. The server answers with stream lines
 * (`{"id":N,"stream":CaptureEvent}`: one `started`, then `frames` batches)
 * and, when the capture ends (count, duration, `capture-stop` {id}, the
 * port removed, the connection closed), the final reply with a
 * CaptureResult. Other requests on the connection are answered meanwhile.
 */
export interface CaptureArgs {
  /** A switch port id, or NAME[/DEVID] of a domain's vif (devid 0 by default). */
  readonly port: string;
  readonly snaplen?: number;
  readonly direction?: 'in' | 'out' | 'both';
  /** Stop after this many frames. */
  readonly count?: number;
  /** Stop after this long. */
  readonly durationMs?: number;
  readonly bufferBytes?: number;
}

/** One frame on the wire: [CLOCK_REALTIME ns as a decimal string, original length, direction, base64 of the captured bytes]. */
export type CaptureFrameWire = readonly [tsNs: string, origLen: number, direction: 'in' | 'out', data: string];

export type CaptureEvent =
  | { readonly event: 'started'; readonly port: number; readonly label: string; readonly snaplen: number; readonly direction: 'in' | 'out' | 'both' }
  | { readonly event: 'frames'; readonly frames: readonly CaptureFrameWire[]; readonly drops: number };

export type CaptureEndReason = 'count' | 'duration' | 'stopped' | 'port-removed' | 'closed';

export interface CaptureResult {
  readonly port: number;
  readonly label: string;
  /** Frames sent to the client. */
  readonly packets: number;
  /** Frames the capture buffer dropped (it was full). */
  readonly drops: number;
  readonly reason: CaptureEndReason;
}
