/**
 * What the brokers (grant-broker.ts, evtchn-broker.ts) need from vpiod, the
 * shape of a control handler's answer, and the errno values brokers answer
 * with (named once here; the C side reads them from <errno.h>).
 */
import type { ControlMessage } from './control-protocol.js';
import type { Domain } from './domain.js';

/** A broker's answer to a control request. */
export interface ControlReply {
  readonly payload?: Uint8Array;
  /** Descriptors to pass; vpiod closes its copies after sending unless keepFds. */
  readonly fds?: readonly number[];
  /** The descriptors are lent (a grant's region): vpiod keeps its copies. */
  readonly keepFds?: boolean;
  /** Runs once the reply was sent or dropped (e.g. to close ends just handed over). */
  readonly after?: () => void;
  /** A positive errno: reply with ERROR instead. */
  readonly errno?: number;
}

/**
 * Handles one control request of a domain. `fds` came with the message and
 * belong to the handler (close them or keep them). The domain is the one
 * on the other end of the socket: its identity, never taken from the message.
 */
export type ControlHandler = (domain: Domain, message: ControlMessage, fds: number[]) => ControlReply | Promise<ControlReply>;

/** vpiod as the brokers see it. */
export interface BrokerHost {
  /** A domain that is running (not dying or released). */
  isLive(domid: number): boolean;
  closeFd(fd: number): void;
}

export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  E2BIG: 7,
  EBADF: 9,
  EINVAL: 22,
  ENOSPC: 28,
} as const;

export function errnoReply(errno: number): ControlReply {
  return { errno };
}
