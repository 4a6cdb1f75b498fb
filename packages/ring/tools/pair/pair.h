/* SPDX-License-Identifier: MIT */
/*
 * vring-pair: two processes move packets through one vpio ring, the way a
 * guest's netfront and the switch do, over one shared memfd and two pipes.
 *
 *   vring-pair run [options]       the parent: sets up, spawns, supervises, reports
 *   vring-pair producer [options]  a peer (started by `run`, never by hand)
 *   vring-pair consumer [options]
 *
 * Files, by role:
 *   main.c     arguments and usage, dispatch
 *   shm.c      the shared memfd: layout arithmetic, create + seal, map
 *   chan.c     the wake-up channel (a non-blocking pipe per direction)
 *   parent.c   `run`: ring setup, spawning, watchdog, exit status
 *   report.c   the parent's JSON lines (progress, result, error)
 *   peer.c     setup and waiting common to both peers, the four ring roles
 *   loops.c    the producer and consumer loops
 *   payload.c  packet stamping and verification, the PRNG
 *   stats.h    the stats page (shared by the parent and both peers)
 */
#ifndef VRING_PAIR_H
#define VRING_PAIR_H

#include <stddef.h>
#include <stdint.h>

#include "vpio/ring.h"

enum pair_dir { PAIR_DIR_TX, PAIR_DIR_RX };
enum pair_wait { PAIR_WAIT_EVENT, PAIR_WAIT_POLL };
enum pair_role { PAIR_PRODUCER = 0, PAIR_CONSUMER = 1 };

#define PAIR_NO_SEQ UINT64_MAX /* no fault injected */
#define PAIR_NO_CPU (-1)       /* not pinned */
#define PAIR_MAX_BURST 1024u

/* Exit statuses of `run` (and what the TS harness maps them to). */
#define PAIR_EXIT_OK 0
#define PAIR_EXIT_NOT_OK 1  /* ran to the end, but verification or counters disagree */
#define PAIR_EXIT_USAGE 2   /* bad command line */
#define PAIR_EXIT_STALL 3   /* the watchdog saw no packet move for --stall-ms */
#define PAIR_EXIT_FAILED 4  /* a peer crashed, failed its setup, or a syscall failed */

/* The fixed descriptors of a peer (set up by the parent before execv). */
#define PAIR_FD_SHM 3  /* the memfd: [stats][ring][pool] */
#define PAIR_FD_WAIT 4 /* read end of the channel this peer sleeps on */
#define PAIR_FD_KICK 5 /* write end of the channel this peer signals */

struct pair_opts {
	enum pair_dir dir;
	enum pair_wait wait;
	uint32_t spin;     /* empty polls before sleeping (event mode) */
	uint32_t burst;    /* packets per burst call, 1..PAIR_MAX_BURST */
	uint32_t len;      /* bytes per packet */
	uint32_t slots;    /* ring slots (power of two) */
	uint32_t buf_size; /* bytes per pool buffer */
	uint64_t packets;  /* packets the producer sends (limit) */
	int packets_set;   /* --packets given explicitly */
	double seconds;    /* > 0: the producer stops after this long */
	int verify;
	uint64_t inject_skip, inject_corrupt, inject_dup; /* PAIR_NO_SEQ when off */
	double producer_sleep, consumer_sleep;            /* probability per batch */
	uint64_t seed;
	int cpu_producer, cpu_consumer; /* PAIR_NO_CPU when not pinned */
	uint32_t progress_ms;           /* 0: no progress lines */
	uint32_t stall_ms;
};

/* main.c */
/*
 * Parse options argv[first..argc) into *o (defaults first).
 * Returns 0; 1 when --help was given (usage printed to stdout); -1 on a bad
 * option (a one-line error naming it was printed to stderr).
 */
int pair_parse(int argc, char **argv, int first, struct pair_opts *o);
const char *pair_dir_name(enum pair_dir d);
const char *pair_wait_name(enum pair_wait w);

/* shm.c */
struct pair_layout {
	size_t stats_off, stats_bytes;
	size_t ring_off, ring_bytes; /* ring_bytes: page-aligned region size */
	size_t pool_off, pool_bytes;
	size_t total;
	uint32_t nr_bufs;
};
/* The one arithmetic both the parent and the peers use to find each part. */
void pair_layout_of(const struct pair_opts *o, struct pair_layout *l);
/* A sealed memfd of l->total bytes. Returns the fd, or -errno. */
int pair_shm_create(const struct pair_layout *l);
/* Map fd MAP_SHARED read-write. Returns the base or NULL (errno set). */
void *pair_shm_map(int fd, const struct pair_layout *l);
void pair_shm_unmap(void *base, const struct pair_layout *l);

/* chan.c */
struct pair_chan {
	int rd; /* the sleeper's end */
	int wr; /* the waker's end */
};
/* A pipe with both ends O_NONBLOCK | O_CLOEXEC. Returns 0 or -errno. */
int pair_chan_open(struct pair_chan *c);
void pair_chan_close(struct pair_chan *c);
/* Write one byte. Returns 1 if written, 0 if the pipe was full (already signalled), -errno. */
int pair_chan_signal(int wr);
/* Wait until readable or timeout. Returns 1 readable, 0 timeout, -errno. */
int pair_chan_wait(int rd, int timeout_ms);
/* Read until empty. Returns bytes drained or -errno. */
long pair_chan_drain(int rd);

/* payload.c */
/* Bytes a verified packet needs at least: u64 seq + u32 checksum (+ pattern). */
#define PAIR_PAY_MIN 12u
void pair_pay_stamp(uint8_t *p, uint32_t len, uint64_t seq);
uint64_t pair_pay_seq(const uint8_t *p);
/* 1 if the checksum and the pattern of a received packet are intact. */
int pair_pay_intact(const uint8_t *p, uint32_t len);
/* Source bytes for unverified runs. */
void pair_pay_fill_plain(uint8_t *p, uint32_t len);
uint64_t pair_rand_next(uint64_t *state);
/* 1 with probability prob (0..1). */
int pair_rand_chance(uint64_t *state, double prob);
void pair_rand_seed(uint64_t *state, uint64_t seed, unsigned stream);

/* parent.c */
/* `run`: never returns to the caller's loop; returns the process exit status. */
int pair_run(const struct pair_opts *o, int argc, char **argv, int first);

/* peer.c */
int pair_peer_main(const struct pair_opts *o, enum pair_role role);

/* Monotonic nanoseconds. */
uint64_t pair_now_ns(void);

#endif /* VRING_PAIR_H */
