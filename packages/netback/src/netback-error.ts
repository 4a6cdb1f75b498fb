import { VpioError } from '@vpio/errors';

export type NetbackErrorCode =
  /** createVif: the domain is not introduced to the xenstore (not alive). */
  | 'NETBACK_NO_DOMAIN'
  /** createVif: the domain already has `maxVifsPerDomain` vifs. */
  | 'NETBACK_VIF_LIMIT'
  /** createVif failed at a step (the message names it); everything done before was undone. */
  | 'NETBACK_CREATE'
  /** destroyVif: no such vif. */
  | 'NETBACK_NO_SUCH_VIF'
  /** The Netback was closed. */
  | 'NETBACK_CLOSED';

export class NetbackError extends VpioError {
  declare readonly code: NetbackErrorCode;

  constructor(code: NetbackErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
