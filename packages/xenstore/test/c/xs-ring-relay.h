/* SPDX-License-Identifier: MIT */
/*
 * xs-ring-relay.h - Xen's side of a xenbus ring page, for xs-ring-test: a
 * relay thread that plays the xenstored end of the page against the real
 * daemon at $XENSTORED_PATH (test builds only).
 *
 * The relay moves request bytes from req[] to a socket connected to the
 * daemon, and the daemon's bytes into rsp[], following the ring protocol
 * from the other end: acquire the guest's index, copy, release its own
 * index, full barrier, signal. It sleeps in poll() when nothing can move,
 * and waits for the guest to free rsp[] when the daemon says more than
 * fits. The event channel is two eventfds, one per direction: they latch
 * like an event channel's pending bit, which is what the transport
 * requires of its wait callback (relay_guest_wait).
 *
 * Threads: relay_start() spawns the relay thread; relay_stop() joins it.
 * Between the two, the test thread touches only the atomics marked below
 * and the page through the transport under test.
 */
#ifndef XS_RING_RELAY_H
#define XS_RING_RELAY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "vpio/xs_transport.h"

/* What a hostile relay does at the next request bytes it sees (then it touches nothing). */
enum relay_sabotage {
	SAB_NONE,
	SAB_RSP_PROD_FAR,   /* rsp_prod jumps 1 GiB ahead */
	SAB_RSP_PROD_1025,  /* rsp_prod = rsp_cons + 1025 */
	SAB_RSP_PROD_BACK,  /* rsp_prod one step back */
	SAB_REQ_CONS_AHEAD, /* req_cons = req_prod + 1 */
	SAB_REQ_CONS_BACK,  /* req_cons one step back */
	SAB_SERVER_ERROR,   /* the error feature bit, error = 2 (bad ring index) */
};

struct relay {
	struct xs_ring_page *pg; /* its own 4096-byte allocation */
	int sock;                /* to the daemon */
	int ev_guest;            /* eventfd: the guest's end of the event channel */
	int ev_relay;            /* eventfd: the relay's end */
	int ev_stop;
	pthread_t thread;
	/* relay thread only */
	uint32_t req_cons;       /* the relay's own indices */
	uint32_t rsp_prod;
	uint32_t rsp_cons_seen;  /* the guest's rsp_cons as last checked */
	uint8_t in[4096];        /* from the daemon, not yet on rsp[] */
	size_t in_len, in_off;
	int quiet;               /* after sabotage or a failure: touches nothing */
	/* shared with the test thread: __atomic_* only */
	int sabotage;            /* enum relay_sabotage, taken at the next request bytes */
	int failed;              /* errno: the guest broke the protocol, or the socket failed */
	uint64_t rsp_full;       /* times the daemon's bytes waited for the guest to free rsp[] */
	uint64_t kicks;          /* events sent to the guest */
	uint64_t wakeups;        /* events taken from the guest */
};

/* The byte the unused tail of every test page holds; the guest must leave it. */
#define RELAY_CANARY 0xa5

/* A zeroed 4096-byte page of its own (aligned_alloc), all four indices at `base`, canary in the tail. */
struct xs_ring_page *relay_page_new(uint32_t base);

/* 1 when the page's unused tail still holds the canary. */
int relay_page_canary_intact(const struct xs_ring_page *pg);

/*
 * Connects to $XENSTORED_PATH, makes the page (indices at `base`) and the
 * eventfds, and starts the relay thread. Returns 0 or a negative errno
 * (nothing left behind).
 */
int relay_start(struct relay *r, uint32_t base);

/* Stops and joins the relay thread, closes everything, frees the page. Returns r->failed. */
int relay_stop(struct relay *r);

/* Makes the relay hostile at the next request bytes it sees. */
void relay_sabotage_next(struct relay *r, enum relay_sabotage sab);

/* The guest's event channel, as the transport's callbacks (ctx: the relay). */
int relay_guest_notify(void *ctx);

/*
 * Waits for the relay's signal. timeout_ms -1 is capped at 10 s: then
 * -ETIMEDOUT with a "#" diagnostic, so a lost wake-up fails the case
 * instead of hanging the program.
 */
int relay_guest_wait(void *ctx, int timeout_ms);

#endif /* XS_RING_RELAY_H */
