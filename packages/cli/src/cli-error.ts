import { VpioError } from '@vpio/errors';

export type CliErrorCode =
  /** No platform answers on the control socket (the message says how to start one). */
  | 'CLI_NOT_RUNNING'
  /** `vpio up` on a directory whose platform is alive. */
  | 'CLI_ALREADY_RUNNING'
  /** No live domain has that name (or domid). */
  | 'CLI_NO_SUCH_DOMAIN'
  /** A control-socket message that is not the protocol (either side). */
  | 'CLI_PROTOCOL'
  /** The control socket refused the connecting process (not its owner). */
  | 'CLI_PEER_REJECTED'
  /** The platform process did not come up (the message carries its log). */
  | 'CLI_UP_FAILED'
  /** `vpio run`: the domain or one of its vifs could not be made (step named). */
  | 'CLI_RUN'
  /** `vpio uplink` / `vpio vxlan`: the port could not be made or removed (interface missing or down, name taken, wire refused). */
  | 'CLI_UPLINK';

export class CliError extends VpioError {
  declare readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
