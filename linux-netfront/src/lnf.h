/* SPDX-License-Identifier: MIT */
/*
 * lnf.h - vpio-linux-netfront's internal interface: the bridge between the
 * guest's TAP device and its vif.
 *
 *   main.c   arguments, the session and handshake, the command it runs
 *            (fork/exec), signals (one signalfd), counters as JSON, teardown
 *   pump.c   the two directions:
 *              TAP -> TX ring   main thread: poll(TAP, signalfd, wake), read
 *                               up to LNF_BURST frames, one nf_tx_burst
 *              RX ring -> TAP   its own thread: nf_rx_burst up to LNF_BURST,
 *                               one write per frame, nf_rx_wait when empty
 *
 * Concurrency: @vpio/netfront allows the TX calls and the RX calls of one
 * nf_dev on two threads as long as neither connects or disconnects
 * meanwhile; main.c starts the RX thread after nf_connect() and joins it
 * before nf_disconnect(). Each thread owns its half of struct lnf_counters
 * and adds to it once per batch (relaxed atomics), so the printer may read
 * both at any time. `stop` is the one flag both read.
 */
#ifndef LNF_H
#define LNF_H

#include <pthread.h>
#include <stdint.h>

#include "vpio/netfront.h"

#define LNF_BURST 32u

struct lnf_counters {
	/* TAP -> TX ring (main thread) */
	uint64_t tap_rx;          /* frames read from the TAP device */
	uint64_t tap_rx_bytes;
	uint64_t tx_packets;      /* frames enqueued on the TX ring */
	uint64_t tx_batches;      /* nf_tx_burst calls that enqueued something */
	uint64_t tx_ring_full;    /* times the TX ring was full: the pump waited for slots (backpressure, no drop) */
	uint64_t tx_drop_size;    /* frames shorter than 14 or longer than the vif's buffers: dropped */
	/* RX ring -> TAP (RX thread) */
	uint64_t rx_packets;      /* frames taken from the RX ring */
	uint64_t rx_batches;
	uint64_t tap_tx;          /* frames written to the TAP device */
	uint64_t tap_tx_bytes;
	uint64_t tap_tx_errors;   /* writes the TAP refused: dropped */
};

struct lnf {
	struct nf_dev *nf;
	int tap_fd;               /* O_NONBLOCK */
	int sig_fd;               /* signalfd: TERM, INT, HUP, USR1, CHLD */
	int wake_fd;              /* eventfd: the RX thread failed */
	uint32_t buf_size;
	int stop;                 /* atomic: set once, read by both threads */
	int rx_error;             /* the RX thread's failure (-errno), 0 */
	pthread_t rx_thread;
	struct lnf_counters c;
	/* main.c's signal handler, called by the TX pump whenever sig_fd is readable */
	void (*on_signals)(struct lnf *l);
};

/* Starts the RX thread: 0 or -errno. */
int lnf_rx_start(struct lnf *l);

/* Sets stop and joins the RX thread (it notices within LNF_RX_WAIT_MS). */
void lnf_rx_stop(struct lnf *l);

/* The TAP -> TX loop; returns when stop is set (0) or on a fatal error (-errno). */
int lnf_tx_loop(struct lnf *l);

#define LNF_RX_WAIT_MS 200

static inline void lnf_add(uint64_t *ctr, uint64_t v)
{
	__atomic_fetch_add(ctr, v, __ATOMIC_RELAXED);
}

static inline uint64_t lnf_get(const uint64_t *ctr)
{
	return __atomic_load_n(ctr, __ATOMIC_RELAXED);
}

static inline int lnf_stopped(const struct lnf *l)
{
	return __atomic_load_n(&l->stop, __ATOMIC_ACQUIRE);
}

static inline void lnf_set_stop(struct lnf *l)
{
	__atomic_store_n(&l->stop, 1, __ATOMIC_RELEASE);
}

#endif
