import { VpioError } from '@vpio/errors';

/**
 * Codes of the errors @vpio/evtchn throws (besides ERR_ARGUMENT):
 * - EVTCHN_CLOSED         the peer closed its end (EPIPE on notify, hang-up on wait)
 * - EVTCHN_END_CLOSED     this end was closed (use after close())
 * - EVTCHN_NO_SUCH_PORT   no such port in this domain
 * - EVTCHN_NOT_BOUND      the port is unbound: nobody to notify or wait for yet
 * - EVTCHN_PERM           binding a port offered to another domain, or not unbound (Xen: EPERM/EINVAL)
 * - EVTCHN_LIMIT_PORTS    the domain holds its maximum number of ports
 * - EVTCHN_BROKER_CLOSED  the broker was closed
 * - EVTCHN_SYSCALL        (ErrnoError) a system call failed: creating links, watching, closing
 * - XEN_UNAVAILABLE       the xen driver was asked for where /dev/xen/evtchn is missing
 *                         (not a Xen domain, or xen-evtchn not loaded)
 */
export type EvtchnErrorCode =
  | 'EVTCHN_CLOSED'
  | 'EVTCHN_END_CLOSED'
  | 'EVTCHN_NO_SUCH_PORT'
  | 'EVTCHN_NOT_BOUND'
  | 'EVTCHN_PERM'
  | 'EVTCHN_LIMIT_PORTS'
  | 'EVTCHN_BROKER_CLOSED'
  | 'XEN_UNAVAILABLE';

/** An event-channel error without an errno; `code` says which. */
export class EvtchnError extends VpioError {
  declare readonly code: EvtchnErrorCode;

  constructor(code: EvtchnErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
