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
import type { VifSpec } from './vif-spec.js';

export const CONTROL_SOCKET_NAME = 'vpio.sock';
export const PID_FILE_NAME = 'vpio.pid';
export const LOG_FILE_NAME = 'platform.log';
/** Longest request line the server reads (bytes); longer closes the connection. */
export const MAX_LINE_BYTES = 256 * 1024;

export type Command = 'ping' | 'ls' | 'run' | 'stats' | 'destroy' | 'down';
export const COMMANDS: readonly Command[] = ['ping', 'ls', 'run', 'stats', 'destroy', 'down'];

export interface RunArgs {
  readonly name?: string;
  readonly argv: readonly string[];
  readonly vifs: readonly VifSpec[];
  readonly memoryMiB?: number;
  readonly env?: Readonly<Record<string, string>>;
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
  | { readonly id: number | null; readonly ok: false; readonly error: ErrorBody };

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
  /** The last `error` node netback wrote for it, if any. */
  readonly error: string | undefined;
}

export interface DomainRow {
  readonly domid: number;
  readonly name: string;
  readonly pid: number;
  readonly state: string;
  readonly argv: readonly string[];
  readonly vifs: readonly VifRow[];
}

export interface LsResult {
  readonly domains: readonly DomainRow[];
}

export interface PlatformInfo {
  readonly pid: number;
  readonly dir: string;
  readonly xenstorePath: string;
  readonly cores: readonly number[];
  readonly mode: 'event' | 'poll';
  readonly skippedSteps: readonly string[];
}

export interface PortRates {
  readonly inPps: number;
  readonly outPps: number;
  readonly inBitsPerSec: number;
  readonly outBitsPerSec: number;
  readonly dropsPerSec: number;
}

export interface PortRow {
  readonly port: number;
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
