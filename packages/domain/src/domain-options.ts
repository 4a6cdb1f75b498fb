/**
 * createDomain()'s options: types, defaults and validation (pure). Bad
 * values fail here, at the public boundary, with ArgumentError naming the
 * parameter, what was expected and what arrived.
 */
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
  /** Extra environment for the guest (VPIO_DOMID and VPIO_CTRL_FD are always set). */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory of the guest (default /). */
  readonly cwd?: string;
  /** The guest's stdout: 'pipe' exposes domain.stdout. Default 'ignore'. */
  readonly stdout?: 'pipe' | 'ignore' | 'inherit';
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
}

export const DEFAULT_BROKER_LIMITS: DomainBrokerLimits = { grantPages: 4096, eventChannels: 64, mappedPages: 4096 };

/** Upper bounds of the broker limits (a tenant never gets more). */
export const MAX_BROKER_LIMITS: DomainBrokerLimits = { grantPages: 1 << 20, eventChannels: 4096, mappedPages: 1 << 20 };

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

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
    if (k === 'VPIO_DOMID' || k === 'VPIO_CTRL_FD') throw new ArgumentError(`env.${k}`, 'not set by the caller (vpiod sets it)', v);
  }
  const cwd = options.cwd ?? '/';
  if (typeof cwd !== 'string' || !cwd.startsWith('/')) throw new ArgumentError('cwd', 'an absolute path', cwd);
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
  };
}
