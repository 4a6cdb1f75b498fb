/**
 * One side of an event channel (host driver): its two descriptors and the
 * operations on them. See include/vpio/evtchn.h for the link layout and
 * the no-lost-wake-up rule (drain, re-check your state, then wait).
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

interface Waiter {
  resolve(n: number): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/** One side's ends. Owns both descriptors; close() closes them. */
export class ChannelEnd {
  #rxFd: number;
  #txFd: number;
  #watcher: NativeWatcher | undefined;
  readonly #waiters = new Set<Waiter>();
  #sent = 0;
  #coalesced = 0;
  #received = 0;

  /** Adopts two descriptors (from createChannelPair() or the broker). */
  constructor(fds: { readonly rxFd: number; readonly txFd: number }) {
    this.#rxFd = fds.rxFd;
    this.#txFd = fds.txFd;
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

  /** Signals the peer without blocking. Throws EVTCHN_CLOSED if the peer closed its end. */
  notify(): NotifyResult {
    this.#checkOpen();
    const rc = loadNative().notify(this.#txFd);
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
   * Consumes pending notifications without blocking; returns how many (0:
   * none). Throws EVTCHN_CLOSED once the peer closed and nothing is pending.
   */
  drain(): number {
    this.#checkOpen();
    const rc = loadNative().drain(this.#rxFd);
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

  /** Closes both descriptors; pending waits reject EVTCHN_END_CLOSED. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.#disarm();
    const native = loadNative();
    native.closeFd(this.#rxFd);
    native.closeFd(this.#txFd);
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
