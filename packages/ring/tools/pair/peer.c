/* SPDX-License-Identifier: MIT */
/*
 * vring-pair: a peer's setup and teardown. Started by `run` with the memfd
 * at fd 3, its wait end at fd 4 and its kick end at fd 5 (pair.h), it maps
 * the memfd, finds stats/ring/pool with pair_layout_of() from its own
 * command line, takes its side of the ring (the guest attaches and checks
 * the header; the backend adopts the ring from its own private values),
 * meets the other peer at a start barrier, runs its loop and reports.
 *
 * Roles by --dir:  tx: producer = guest TX,   consumer = backend TX
 *                  rx: producer = backend RX, consumer = guest RX
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "peer.h"

#define BARRIER_TIMEOUT_NS (30ull * 1000000000ull)

uint64_t pair_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static const char *role_name(enum pair_role r)
{
	return r == PAIR_PRODUCER ? "producer" : "consumer";
}

static int fail(const struct peer *p, const char *what, int err)
{
	fprintf(stderr, "vring-pair %s: %s: %s\n", role_name(p->role), what, strerror(err < 0 ? -err : err));
	return PAIR_EXIT_FAILED;
}

static int pin(const struct peer *p)
{
	int cpu = p->role == PAIR_PRODUCER ? p->o->cpu_producer : p->o->cpu_consumer;
	cpu_set_t set;

	if (cpu == PAIR_NO_CPU)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof set, &set) < 0 ? -errno : 0;
}

static int map_and_attach(struct peer *p)
{
	const struct pair_opts *o = p->o;
	uint32_t kind = o->dir == PAIR_DIR_TX ? VRING_KIND_TX : VRING_KIND_RX;
	int guest = (o->dir == PAIR_DIR_TX) == (p->role == PAIR_PRODUCER);
	struct stat sb;
	void *ring, *pool;
	int rc;

	pair_layout_of(o, &p->lay);
	if (fstat(PAIR_FD_SHM, &sb) < 0)
		return -errno;
	if ((uint64_t)sb.st_size < p->lay.total)
		return -ERANGE; /* not the memfd our options describe */
	p->base = pair_shm_map(PAIR_FD_SHM, &p->lay);
	if (!p->base)
		return -errno;
	p->st = (struct pair_stats *)(p->base + p->lay.stats_off);
	if (PAIR_LOAD(p->st->magic) != PAIR_STATS_MAGIC)
		return -EPROTO;
	p->me = &p->st->ctr[p->role];
	p->my_ctl = &p->st->ctl[p->role];
	p->their_ctl = &p->st->ctl[p->role == PAIR_PRODUCER ? PAIR_CONSUMER : PAIR_PRODUCER];
	ring = p->base + p->lay.ring_off;
	pool = p->base + p->lay.pool_off;
	if (guest) {
		rc = vring_fe_attach(&p->fe, ring, p->lay.ring_bytes, pool, p->lay.pool_bytes, kind);
		if (rc)
			return rc; /* -VP_Exxx: the Linux numbers, strerror() reads them */
		/* the guest trusts dom0, but our options must describe the same ring */
		if (p->fe.num_slots != o->slots || p->fe.buf_size != o->buf_size)
			return -EINVAL;
		p->ops = kind == VRING_KIND_TX ? &pair_ops_fe_tx : &pair_ops_fe_rx;
	} else {
		rc = vring_be_adopt(&p->be, ring, pool, kind, o->slots, o->buf_size, p->lay.nr_bufs, 0);
		if (rc)
			return -EINVAL;
		p->ops = kind == VRING_KIND_TX ? &pair_ops_be_tx : &pair_ops_be_rx;
	}
	return 0;
}

/* The burst arrays. Producer: verified packets are stamped into one buffer
 * each, plain ones all come from one source buffer. Consumer: verified runs
 * need one buf_size destination per packet of a burst; plain ones copy every
 * packet into the same local buffer (as the spsc baseline does). */
static int alloc_bufs(struct peer *p)
{
	const struct pair_opts *o = p->o;
	size_t stride, count = o->verify ? o->burst : 1;
	uint32_t i;

	stride = p->role == PAIR_PRODUCER ? o->len : o->buf_size;
	stride = (stride + VP_CACHE_LINE - 1) / VP_CACHE_LINE * VP_CACHE_LINE;
	p->bufs = calloc(o->burst, sizeof *p->bufs);
	p->lens = calloc(o->burst, sizeof *p->lens);
	p->mem = aligned_alloc(VP_CACHE_LINE, stride * count);
	if (!p->bufs || !p->lens || !p->mem)
		return -ENOMEM;
	memset(p->mem, 0, stride * count);
	if (p->role == PAIR_PRODUCER && !o->verify)
		pair_pay_fill_plain(p->mem, o->len);
	for (i = 0; i < o->burst; i++) {
		p->bufs[i] = p->mem + (o->verify ? i * stride : 0);
		p->lens[i] = (uint16_t)o->len;
	}
	return 0;
}

static void free_bufs(struct peer *p)
{
	free(p->bufs);
	free(p->lens);
	free(p->mem);
}

/* Both peers set up before either starts the clock. Bounded: a peer that
 * never arrives makes this one fail, not hang. */
static int start_barrier(struct peer *p)
{
	uint64_t give_up = pair_now_ns() + BARRIER_TIMEOUT_NS;
	const struct timespec nap = { 0, 50000 };

	vp_store_release(&p->my_ctl->ready, 1u); /* pairs with the acquire below, in the other peer */
	while (!vp_load_acquire(&p->their_ctl->ready)) {
		if (pair_now_ns() > give_up)
			return -ETIMEDOUT;
		nanosleep(&nap, NULL);
	}
	return 0;
}

int pair_peer_main(const struct pair_opts *o, enum pair_role role)
{
	struct peer p;
	int rc, status = 0;

	memset(&p, 0, sizeof p);
	p.o = o;
	p.role = role;
	pair_rand_seed(&p.rng, o->seed, (unsigned)role);
	rc = pin(&p);
	if (rc)
		return fail(&p, "sched_setaffinity", rc);
	rc = map_and_attach(&p);
	if (rc) {
		status = fail(&p, "attaching to the shared ring", rc);
		goto out;
	}
	rc = alloc_bufs(&p);
	if (rc) {
		status = fail(&p, "allocating burst buffers", rc);
		goto out;
	}
	rc = start_barrier(&p);
	if (rc) {
		status = fail(&p, "waiting for the other peer", rc);
		goto out;
	}
	p.c.t_start_ns = pair_now_ns();
	p.c.tsc_start = pair_tsc();
	pair_flush_all(&p);
	rc = role == PAIR_PRODUCER ? pair_produce(&p) : pair_consume(&p);
	if (rc) {
		char what[64];

		snprintf(what, sizeof what, "%s as the %s", role == PAIR_PRODUCER ? "producing" : "consuming",
			 p.ops->name);
		status = fail(&p, what, rc);
	}
out:
	free_bufs(&p);
	pair_shm_unmap(p.base, &p.lay);
	return status;
}
