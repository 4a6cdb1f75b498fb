import { VpioError } from '@vpio/errors';
import { XS_ERRORS, type XsErrorName } from './protocol.js';

/**
 * A xenstore operation failed with one of Xen's error names. The daemon
 * throws it from its pure logic and sends `errnoName` on the wire; the
 * client throws it when the daemon answers XS_ERROR. `code` is
 * `XS_<name>` (e.g. `XS_ENOENT`).
 */
export class XenstoreError extends VpioError {
  /** Xen's error name, e.g. 'ENOENT'. */
  readonly errnoName: XsErrorName;
  /** The Linux errno number of that name. */
  readonly errno: number;

  constructor(errnoName: XsErrorName, message: string, options?: { cause?: unknown }) {
    super(`XS_${errnoName}`, `${message}: ${errnoName}`, options);
    this.errnoName = errnoName;
    this.errno = XS_ERRORS[errnoName];
  }
}

/** Shorthand used by the pure logic: throw Xen's error `name` with context. */
export function fail(name: XsErrorName, message: string): never {
  throw new XenstoreError(name, message);
}
