/* SPDX-License-Identifier: MIT */
/*
 * vring-pair: one peer's private state, shared by peer.c (setup, teardown)
 * and loops.c (the producer and consumer loops and the four ring roles).
 *
 * Concurrency model of a peer: one thread. It owns its side of the ring
 * (struct vring_fe or struct vring_be, private), its counters block and its
 * control line in the stats page, and the two channel ends at fds 4 and 5.
 * It reads the peer's control line (ready, done, sent) and, through the
 * ring helpers, the peer's ring indices. Nothing per packet takes a lock,
 * allocates or makes a syscall; syscalls happen per sleep, per kick, per
 * random nap and once per 64 loop turns for the clock (--seconds).
 */
#ifndef VRING_PAIR_PEER_H
#define VRING_PAIR_PEER_H

#include "pair.h"
#include "stats.h"
#include "vpio/ring_be.h"
#include "vpio/ring_fe.h"

struct peer;

/* One side of one ring kind: the guest or the backend, TX or RX. */
struct peer_ops {
	const char *name;
	/* producer: enqueue bufs[0..n); consumer: dequeue into bufs (each >= buf_size) */
	uint32_t (*burst)(struct peer *p, void *const bufs[], uint16_t lens[], uint32_t n, int *kick);
	/* the kick protocol's arm + full barrier + re-check: 1 may sleep, 0 work arrived */
	int (*prepare_sleep)(struct peer *p);
	void (*woken)(struct peer *p);
	/* is there something to do (producer: space; consumer: packets)? */
	int (*has_work)(struct peer *p);
};

struct peer {
	const struct pair_opts *o;
	enum pair_role role;
	const struct peer_ops *ops;
	struct pair_layout lay;
	uint8_t *base;               /* the whole memfd mapping */
	struct pair_stats *st;       /* shared */
	struct pair_counters *me;    /* shared: our counters block */
	struct pair_ctl *my_ctl;     /* shared: our control line */
	const struct pair_ctl *their_ctl;
	struct pair_counters c;      /* private: the truth, published to *me */
	struct vring_fe fe;          /* guest roles */
	struct vring_be be;          /* backend roles */
	/* burst arrays: producer sources / consumer destinations */
	void **bufs;
	uint16_t *lens;
	uint8_t *mem; /* what bufs point into */
	uint64_t rng;
	uint32_t idle; /* empty polls since the last packet or sleep */
};

/* loops.c */
extern const struct peer_ops pair_ops_fe_tx, pair_ops_be_tx, pair_ops_be_rx, pair_ops_fe_rx;
/* Run the role's loop to the end. Returns 0 or -errno (a syscall failed). */
int pair_produce(struct peer *p);
int pair_consume(struct peer *p);
/* Store every counter into the shared block. */
void pair_flush_all(struct peer *p);
uint64_t pair_tsc(void);

#endif /* VRING_PAIR_PEER_H */
