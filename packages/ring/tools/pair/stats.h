/* SPDX-License-Identifier: MIT */
/*
 * vring-pair's stats page: the first page(s) of the shared memfd.
 *
 * Writers: each peer owns its own 64-byte-aligned block (ctr[role]) and its
 * own control line (ctl[role]); nobody else writes them. The parent only
 * reads. Counters are written with relaxed atomic stores once per batch
 * (the hot three) or when they change (the rest), and read with relaxed
 * loads: they are statistics, not synchronisation. The one exception is
 * ctl[].ready / ctl[].done, which are release stores read with acquire:
 * `done` publishes the producer's final `sent` count to the consumer.
 *
 * The control lines sit apart from the counters so a consumer polling for
 * `done` does not pull the producer's busiest line across cores.
 */
#ifndef VRING_PAIR_STATS_H
#define VRING_PAIR_STATS_H

#include <stdint.h>

#include "vpio/ring.h"

#define PAIR_STATS_MAGIC 0x50414952u /* "PAIR" */

struct pair_counters {
	/* line 0: the hot part, stored after every batch that moved packets */
	uint64_t packets; /* producer: enqueued; consumer: dequeued */
	uint64_t bytes;
	uint64_t batches; /* burst calls that moved at least one packet */
	uint64_t kicks;   /* signals written (a full pipe counts: already signalled) */
	uint64_t sleeps;  /* times this peer slept on its channel */
	uint64_t spurious;     /* woke up (or the pre-signalled byte) with nothing to do */
	uint64_t lost_wakeups; /* watchdog timeouts that found work: a protocol bug */
	uint64_t timeouts;     /* watchdog timeouts (1 s without a signal) */
	/* line 1: verification (consumer), timing */
	uint64_t lost;             /* sequence gaps */
	uint64_t dup_or_reordered; /* a sequence number lower than expected */
	uint64_t corrupt;          /* checksum or pattern mismatch */
	uint64_t random_sleeps;    /* --producer-sleep / --consumer-sleep naps */
	uint64_t t_start_ns, t_end_ns; /* CLOCK_MONOTONIC, after the start barrier / at the end */
	uint64_t tsc_start, tsc_end;   /* time-stamp counter at the same points (0 if none) */
	/* lines 2-3: slots dropped by the backend side, by vring_verdict */
	uint64_t drops[VRING_VERDICT_COUNT];
} VP_CACHE_ALIGNED;

struct pair_ctl {
	uint32_t ready; /* release: this peer is mapped, attached and waiting at the barrier */
	uint32_t done;  /* producer, release: `sent` is final, nothing more will come */
	uint64_t sent;  /* producer: packets enqueued in total (valid once done) */
} VP_CACHE_ALIGNED;

struct pair_stats {
	uint32_t magic; /* written by the parent before the peers start */
	struct pair_counters ctr[2]; /* [PAIR_PRODUCER], [PAIR_CONSUMER] */
	struct pair_ctl ctl[2];
};

VP_STATIC_ASSERT(sizeof(struct pair_counters) % VP_CACHE_LINE == 0, "counters fill whole lines");

#define PAIR_LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define PAIR_STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

#endif /* VRING_PAIR_STATS_H */
