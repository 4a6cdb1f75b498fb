import { errnoName, errnoText } from './errno.js';

/**
 * The base of every error vpio throws. `code` is stable (tests and callers
 * match on it, never on the message); `cause` carries the lower error.
 */
export class VpioError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A failure reported by C code as a negative errno. */
export class ErrnoError extends VpioError {
  /** Positive errno number. */
  readonly errno: number;
  /** Symbolic errno name, e.g. 'EINVAL'. */
  readonly errnoName: string;

  constructor(code: string, errno: number, context: string, options?: { cause?: unknown }) {
    const name = errnoName(errno);
    super(code, `${context}: ${name} (${errnoText(errno)})`, options);
    this.errno = Math.abs(errno);
    this.errnoName = name;
  }
}

/** A bad argument at a public boundary: says which parameter, what was expected, what arrived. */
export class ArgumentError extends VpioError {
  readonly parameter: string;

  constructor(parameter: string, expected: string, received: unknown) {
    super('ERR_ARGUMENT', `${parameter}: expected ${expected}, got ${describe(received)}`);
    this.parameter = parameter;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return `a ${value.constructor?.name ?? 'object'}`;
}

/** Throws ArgumentError unless `value` is an integer in [min, max]. Returns it typed. */
export function expectInteger(parameter: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ArgumentError(parameter, `an integer in [${min}, ${max}]`, value);
  }
  return value;
}

/** Throws ArgumentError unless `value` is one of `choices`. */
export function expectOneOf<T extends string>(parameter: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new ArgumentError(parameter, `one of ${choices.map((c) => `'${c}'`).join(', ')}`, value);
  }
  return value as T;
}
