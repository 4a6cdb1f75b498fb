/* SPDX-License-Identifier: MIT */
/*
 * vpio/evtchn.h - one side of a vpio event channel (host driver): notify
 * the peer, wait for the peer, drain. What a guest (netfront, minios,
 * linux-netfront) and dom0 both call; no allocation, no state.
 *
 * A channel is two one-way links, each an AF_UNIX stream socketpair:
 *
 *      side A                                  side B
 *      tx_fd ──── socketpair A→B ────────────▶ rx_fd
 *      rx_fd ◀─── socketpair B→A ───────────── tx_fd
 *
 * Each side owns its own ends (its own file descriptions): nothing a side
 * does to its descriptors (clearing O_NONBLOCK, filling, draining, closing)
 * changes the other side's. The broker (vpiod) creates the links and hands
 * each side its two ends (vpio/evtchn_pair.h).
 *
 * A notification is one byte. notify() never blocks (MSG_DONTWAIT on every
 * call, whatever the descriptor's flags) and never raises SIGPIPE
 * (MSG_NOSIGNAL); a full link means the peer has not drained yet, so the
 * notification is already pending: coalesced, not lost. A waiter drains
 * first, then re-checks its shared state, then waits: a notify after the
 * drain leaves a byte, so the wait returns at once (no lost wake-up).
 * Spurious wake-ups happen (a fresh channel starts pending once, as Xen's
 * do): callers always re-check their state after waking.
 *
 * Two ways to sleep. evtchn_wait() + evtchn_drain() (poll, then recv) is
 * stateless and shares the rx end with anything else (an epoll set, libuv,
 * several threads). A side with a single waiter on an rx end can instead
 * make that end a blocking one it sleeps on directly (struct evtchn_waiter):
 * one recv per wake-up, as a bare pipe's read, instead of poll + recv. Either
 * way the sleeper protocol is the same: arm (ask the peer to notify), full
 * barrier, re-check the ring, then sleep; a notify after the re-check leaves
 * a byte queued, so the sleep returns at once.
 *
 * Return values: 0 or a positive count as documented, or a negative errno.
 */
#ifndef VPIO_EVTCHN_H
#define VPIO_EVTCHN_H

#include "vpio/compiler.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One side's two descriptors. */
struct evtchn_end {
	int rx_fd; /* the peer's notifications arrive here: wait, drain */
	int tx_fd; /* notify the peer through here */
};

#define EVTCHN_SENT 0
#define EVTCHN_COALESCED 1

/*
 * Notifies the peer.
 *   EVTCHN_SENT (0)       a byte was queued
 *   EVTCHN_COALESCED (1)  the link is full: the peer has notifications
 *                         pending already
 *   -EPIPE                the peer closed its end
 *   -EBADF, -ENOTSOCK, -errno
 */
int evtchn_notify(int tx_fd);

/*
 * Waits until a notification is pending or timeout_ms passes (-1: no
 * limit; 0: just look). Does not consume anything.
 *   1       pending (or the peer closed: the next drain says -EPIPE)
 *   0       timed out
 *   -EBADF, -errno (-EINTR is retried internally)
 */
int evtchn_wait(int rx_fd, int timeout_ms);

/*
 * Consumes every pending notification without blocking.
 *   n >= 0  how many were pending (0: none; a spurious wake-up)
 *   -EPIPE  none pending and the peer closed its end
 *   -EBADF, -errno
 */
int evtchn_drain(int rx_fd);

/*
 * A single waiter's rx end, slept on with a blocking recv. The state lives
 * in the caller's struct (the receive timeout currently set on the socket);
 * the library keeps none.
 */
struct evtchn_waiter {
	int rx_fd;    /* this side's own rx end (never shared with the peer) */
	int timeo_ms; /* SO_RCVTIMEO now set on rx_fd; -1: none (sleep forever) */
};

/*
 * Prepares rx_fd for evtchn_waiter_wait(): clears O_NONBLOCK on it (this
 * side's own file description: the peer's ends are unaffected, and
 * evtchn_drain()/evtchn_wait() still never block on it) and clears its
 * receive timeout. Call once per end, from its only waiter.
 *   0, or -EBADF, -ENOTSOCK, -errno (w->rx_fd is -1 then)
 */
int evtchn_waiter_init(struct evtchn_waiter *w, int rx_fd);

/*
 * Sleeps until a notification is pending or timeout_ms passes (-1: no
 * limit; 0: just look), then consumes every pending notification: one
 * blocking recv (SO_RCVTIMEO for the timeout, set only when it changes),
 * a non-blocking drain only if that recv filled its buffer. One waiter per
 * rx end: two sleepers on one end would not both wake (use evtchn_wait()
 * to share an end). If the end was switched back to O_NONBLOCK, or a signal
 * interrupts the sleep, it falls back to evtchn_wait() + evtchn_drain() for
 * the time left: slower, never wrong.
 *   n > 0   how many were pending (drained)
 *   0       timed out (or a spurious wake-up: re-check and sleep again)
 *   -EPIPE  none pending and the peer closed its end
 *   -EBADF, -errno
 */
int evtchn_waiter_wait(struct evtchn_waiter *w, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* VPIO_EVTCHN_H */
