/**
 * One side of an event channel: its descriptors and the operations on them.
 * See include/vpio/evtchn.h for the host link layout and the
 * no-lost-wake-up rule (drain, re-check your state, then wait).
 *
 * Both drivers' ends are this class, so callers never branch on the mode:
 *   host  two descriptors (rxFd to wait on and drain, txFd to notify),
 *         the socket calls of csrc/evtchn_host.c
 *   xen   one descriptor (rxFd === txFd: the end's own xenevtchn handle)
 *         and the local `port`; drain = consume (pending + unmask),
 *         notify = IOCTL_EVTCHN_NOTIFY (include/vpio/evtchn_xen.h)
 */
import { ErrnoError } from '@vpio/errors';
import { EvtchnError } from './evtchn-error.js';
import { loadNative, type NativeWatcher } from './native.js';

const EPIPE = 32;

/** What notify() did: queued a byte, or found the peer already signalled. */
export type NotifyResult = 'sent' | 'coalesced';

export interface ChannelEndStats {
  /** notify() calls that queued a byte */
  readonly sent: number;
  /** notify() calls that found the link full (the peer had not drained yet) */
  readonly coalesced: number;
  /** notifications drained */
  readonly received: number;
}

/** Which driver made an end. */
export type EvtchnMode = 'host' | 'xen';

/**
 * @internal What an end does per driver. Every call returns what the C side
 * returns: notify 0 sent / 1 coalesced / -errno, drain a count / -errno.
 */
export interface EndOps {
  readonly mode: EvtchnMode;
  /** The local port (xen); undefined for host ends. */
  readonly port: number | undefined;
  notify(): number;
  drain(): number;
  /** Releases the descriptors (and, xen, the binding). */
  close(): void;
}

function hostOps(rxFd: number, txFd: number): EndOps {
  return {
    mode: 'host',
    port: undefined,
    notify: () => loadNative().notify(txFd),
    drain: () => loadNative().drain(rxFd),
    close: () => {
      const native = loadNative();
      native.closeFd(rxFd);
      native.closeFd(txFd);
    },
  };
}

interface Waiter {
  resolve(n: number): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/** One side's ends. Owns both descriptors; close() closes them. */
export class ChannelEnd {
  #rxFd: number;
  #txFd: number;
  readonly #ops: EndOps;
  #watcher: NativeWatcher | undefined;
  readonly #waiters = new Set<Waiter>();
  #sent = 0;
  #coalesced = 0;
  #received = 0;

  /**
   * Adopts two descriptors (from createChannelPair() or the broker). `ops`
   * is internal: the xen driver passes its port's calls (rxFd === txFd).
   */
  constructor(fds: { readonly rxFd: number; readonly txFd: number }, ops?: EndOps) {
    this.#rxFd = fds.rxFd;
    this.#txFd = fds.txFd;
    this.#ops = ops ?? hostOps(fds.rxFd, fds.txFd);
  }

  /** 'host' (two socket descriptors) or 'xen' (one xenevtchn descriptor and a port). */
  get mode(): EvtchnMode {
    return this.#ops.mode;
  }

  /** The local Xen port (xen ends); undefined for host ends. */
  get port(): number | undefined {
    return this.#ops.port;
  }

  get rxFd(): number {
    return this.#rxFd;
  }

  get txFd(): number {
    return this.#txFd;
  }

  get closed(): boolean {
    return this.#rxFd < 0;
  }

  get stats(): ChannelEndStats {
    return { sent: this.#sent, coalesced: this.#coalesced, received: this.#received };
  }

  /**
   * Signals the peer without blocking. Throws EVTCHN_CLOSED if the peer
   * closed its end (host; a xen end cannot tell: Xen drops notifications on
   * a port whose peer is gone, and notify() says 'sent'). Xen ends never
   * answer 'coalesced'.
   */
  notify(): NotifyResult {
    this.#checkOpen();
    const rc = this.#ops.notify();
    if (rc === 0) {
      this.#sent++;
      return 'sent';
    }
    if (rc === 1) {
      this.#coalesced++;
      return 'coalesced';
    }
    if (rc === -EPIPE) throw new EvtchnError('EVTCHN_CLOSED', 'notify: the peer closed its end of the channel');
    throw new ErrnoError('EVTCHN_SYSCALL', rc, 'notify');
  }

  /**
   * Consumes pending notifications without blocking (xen: reads the fired
   * port and unmasks it); returns how many (0:
   * none). Throws EVTCHN_CLOSED once the peer closed and nothing is pending.
   */
  drain(): number {
    this.#checkOpen();
    const rc = this.#ops.drain();
    if (rc >= 0) {
      this.#received += rc;
      return rc;
    }
    if (rc === -EPIPE) throw new EvtchnError('EVTCHN_CLOSED', 'the peer closed its end of the channel');
    throw new ErrnoError('EVTCHN_SYSCALL', rc, 'drain');
  }

  /**
   * Waits without blocking the event loop until a notification is pending
   * or `timeoutMs` passes, then drains. Resolves the number drained (>= 1),
   * or 0 on timeout; rejects EVTCHN_CLOSED when the peer closed, and
   * EVTCHN_END_CLOSED if this end is closed meanwhile. Several waits may be
   * outstanding; a wake-up resolves the ones it drained for, and the others
   * keep waiting.
   */
  wait(timeoutMs: number): Promise<number> {
    try {
      const n = this.drain();
      if (n > 0) return Promise.resolve(n);
    } catch (e) {
      return Promise.reject(e);
    }
    if (timeoutMs <= 0) return Promise.resolve(0);
    return new Promise<number>((resolve, reject) => {
      const w: Waiter = { resolve, reject, timer: undefined };
      w.timer = setTimeout(() => this.#settle(w, 0), timeoutMs);
      this.#waiters.add(w);
      this.#arm();
    });
  }

  /** Closes the descriptors (xen: unbinds the port); pending waits reject EVTCHN_END_CLOSED. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.#disarm();
    this.#ops.close();
    this.#rxFd = -1;
    this.#txFd = -1;
    for (const w of [...this.#waiters]) this.#fail(w, new EvtchnError('EVTCHN_END_CLOSED', 'the channel end was closed while waiting'));
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #arm(): void {
    if (this.#watcher !== undefined) return;
    const native = loadNative();
    const watcher = new native.Watcher(this.#rxFd, (status) => this.#onReadable(status));
    const rc = watcher.start();
    if (rc < 0) {
      watcher.close();
      const err = new ErrnoError('EVTCHN_SYSCALL', rc, 'watching the channel');
      for (const w of [...this.#waiters]) this.#fail(w, err);
      return;
    }
    this.#watcher = watcher;
  }

  #disarm(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #onReadable(status: number): void {
    if (this.closed) return;
    if (status < 0) {
      const err = new ErrnoError('EVTCHN_SYSCALL', status, 'watching the channel');
      for (const w of [...this.#waiters]) this.#fail(w, err);
      return;
    }
    let n: number;
    try {
      n = this.drain();
    } catch (e) {
      for (const w of [...this.#waiters]) this.#fail(w, e as Error);
      return;
    }
    if (n === 0) return; // spurious: someone else drained; keep waiting
    for (const w of [...this.#waiters]) this.#settle(w, n);
  }

  #settle(w: Waiter, n: number): void {
    if (!this.#waiters.delete(w)) return;
    clearTimeout(w.timer);
    if (this.#waiters.size === 0) this.#disarm();
    w.resolve(n);
  }

  #fail(w: Waiter, e: Error): void {
    if (!this.#waiters.delete(w)) return;
    clearTimeout(w.timer);
    if (this.#waiters.size === 0) this.#disarm();
    w.reject(e);
  }

  #checkOpen(): void {
    if (this.closed) throw new EvtchnError('EVTCHN_END_CLOSED', 'the channel end is closed');
  }
}

/**
 * Creates a channel's two links and returns both sides' ends (the broker's
 * job: it keeps one end and hands the other to the peer domain, or hands
 * each to a domain). Both ends start with one notification pending, as a
 * freshly bound Xen port does. Throws ErrnoError EVTCHN_SYSCALL (EMFILE...).
 */
export function createChannelPair(): [ChannelEnd, ChannelEnd] {
  const r = loadNative().createPair();
  if (typeof r === 'number') throw new ErrnoError('EVTCHN_SYSCALL', r, 'creating the channel links (socketpair)');
  return [new ChannelEnd(r[0]), new ChannelEnd(r[1])];
}
