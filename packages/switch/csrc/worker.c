/* SPDX-License-Identifier: MIT */
/*
 * worker.c - worker threads (one per given core, pinned 1:1), their event
 * and busy-poll loops, and vsw_poll_once().
 *
 * Concurrency model:
 *   - A worker serves the ports whose port->worker is its index. Each round
 *     it enters its busy section (qs odd, seq_cst increment, see port.c),
 *     runs one vsw_fwd_port() per served port, and leaves it (qs even).
 *     It holds no port pointer outside the busy section.
 *   - Event mode: after a round without work the worker spins (adaptive:
 *     VSW_SPIN_NS of rounds without work), then arms be_need_kick on every
 *     served TX ring (vring_be_prepare_sleep(): store, full barrier,
 *     re-check: pairs with the guest's vring_fe_publish()), and sleeps in
 *     epoll on the ports' TX (and RX-space) event fds and its own eventfd,
 *     quiescent. On waking it drains the fds that fired and disarms.
 *     A round that left a packet held for a full lossless destination
 *     sleeps at most VSW_HELD_SLEEP_MS (the destination may be served by
 *     another worker, whose RX-space fd this one does not watch).
 *   - Poll mode never sleeps.
 *   - vsw_poll_once() uses the pseudo-worker workers[nworkers] on the
 *     calling thread; it refuses to run beside worker threads.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "sw_internal.h"

#define VSW_SPIN_NS 50000ull
#define VSW_HELD_SLEEP_MS 1
#define VSW_IDLE_SLEEP_MS 100 /* also paces MAC aging while idle */
#define EV_WAKE UINT64_MAX
#define EV_RX_SPACE (1ull << 32)

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vsw_worker_qs_enter(struct vsw_worker *w)
{
	/* pairs with the seq_cst loads in vsw_wait_quiescent(): odd before any port pointer is loaded */
	__atomic_fetch_add(&w->qs, 1, __ATOMIC_SEQ_CST);
}

void vsw_worker_qs_exit(struct vsw_worker *w)
{
	/* pairs with the loads in vsw_wait_quiescent(): every port access is done */
	__atomic_fetch_add(&w->qs, 1, __ATOMIC_RELEASE);
}

int vsw_worker_alloc(struct vsw_worker *w, struct vsw *sw, uint32_t idx, int core)
{
	memset(w, 0, sizeof(*w));
	w->sw = sw;
	w->idx = idx;
	w->core = core;
	w->epfd = -1;
	w->wakefd = -1;
	w->pc = aligned_alloc(64, sizeof(struct vsw_pcount) * VSW_MAX_PORTS);
	w->pkts = malloc(sizeof(struct vsw_pkt) * VSW_BATCH_MAX);
	w->flood = malloc(sizeof(uint16_t) * VSW_BATCH_MAX);
	w->frags = malloc(sizeof(struct vsw_frag) * VSW_BATCH_MAX);
	w->gso_hdr = malloc((size_t)VSW_GSO_HDR_MAX * VSW_BATCH_MAX);
	if (!w->pc || !w->pkts || !w->flood || !w->frags || !w->gso_hdr)
		return -VP_ENOMEM;
	memset(w->pc, 0, sizeof(struct vsw_pcount) * VSW_MAX_PORTS);
	return 0;
}

void vsw_worker_free(struct vsw_worker *w)
{
	if (!w->sw)
		return; /* never allocated */
	free(w->pc);
	free(w->pkts);
	free(w->flood);
	free(w->frags);
	free(w->gso_hdr);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->wakefd >= 0)
		close(w->wakefd);
}

static void wake(struct vsw_worker *w)
{
	uint64_t one = 1;

	if (w->wakefd >= 0)
		(void)!write(w->wakefd, &one, sizeof(one));
}

int vsw_worker_watch(struct vsw_worker *w, const struct vsw_port *p, int add)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fds[2] = { p->cfg.tx_wait_fd, p->cfg.rx_wait_fd }, i;

	if (w->epfd < 0)
		return 0;
	for (i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue;
		ev.data.u64 = p->id | (i ? EV_RX_SPACE : 0);
		if (add && epoll_ctl(w->epfd, EPOLL_CTL_ADD, fds[i], &ev) < 0) {
			int e = errno;

			if (i)
				epoll_ctl(w->epfd, EPOLL_CTL_DEL, fds[0], NULL);
			return -e;
		}
		if (!add)
			epoll_ctl(w->epfd, EPOLL_CTL_DEL, fds[i], NULL);
	}
	wake(w);
	return 0;
}

/* One round over the worker's ports. Returns packets consumed; *held if a lossless destination held one. */
static uint32_t round_once(struct vsw *sw, struct vsw_worker *w, int *held)
{
	uint64_t now = vsw_clock_now(sw);
	uint32_t id, total = 0;

	*held = 0;
	vsw_worker_qs_enter(w);
	for (id = 0; id < VSW_MAX_PORTS; id++) {
		struct vsw_port *p = vsw_port_get(sw, id);
		int b;

		if (p && p->worker == w->idx) {
			total += vsw_fwd_port(sw, w, p, now, &b);
			*held |= b;
		}
	}
	if (w->idx == 0 || w->idx == sw->nworkers)
		vsw_learn_age(sw, now);
	vsw_worker_qs_exit(w);
	return total;
}

/* Arms every served TX ring; 1 if all stayed empty (may sleep), 0 if work arrived. */
static int prepare_sleep(struct vsw *sw, struct vsw_worker *w, int arm)
{
	uint32_t id;
	int ok = 1;

	vsw_worker_qs_enter(w);
	for (id = 0; id < VSW_MAX_PORTS; id++) {
		struct vsw_port *p = vsw_port_get(sw, id);

		if (!p || p->worker != w->idx)
			continue;
		if (!arm)
			vring_be_woken(&p->tx);
		else if (ok && !vring_be_prepare_sleep(&p->tx))
			ok = 0;
	}
	vsw_worker_qs_exit(w);
	return ok;
}

static void sleep_once(struct vsw *sw, struct vsw_worker *w, int held)
{
	struct epoll_event evs[64];
	int n, i;

	if (prepare_sleep(sw, w, 1)) {
		VSW_STAT_ADD(w->wc.sleeps, 1);
		n = epoll_wait(w->epfd, evs, 64, held ? VSW_HELD_SLEEP_MS : VSW_IDLE_SLEEP_MS);
		VSW_STAT_ADD(w->wc.wakeups, 1);
		vsw_worker_qs_enter(w);
		for (i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64, v;
			struct vsw_port *p;

			if (d == EV_WAKE) {
				(void)!read(w->wakefd, &v, sizeof(v));
				continue;
			}
			/* only a port still attached here: its fd is still open */
			p = vsw_port_get(sw, (uint32_t)d);
			if (p && p->worker == w->idx)
				p->ev->consume((d & EV_RX_SPACE) ? p->cfg.rx_wait_fd : p->cfg.tx_wait_fd);
		}
		vsw_worker_qs_exit(w);
	}
	prepare_sleep(sw, w, 0);
}

static void *worker_main(void *arg)
{
	struct vsw_worker *w = arg;
	struct vsw *sw = w->sw;
	uint64_t last = mono_ns(), idle_since = last;

	while (!__atomic_load_n(&sw->stop, __ATOMIC_ACQUIRE)) {
		int held;
		uint32_t got = round_once(sw, w, &held);
		uint64_t t = mono_ns();

		if (got) {
			VSW_STAT_ADD(w->wc.busy_ns, t - last);
			idle_since = t;
		} else {
			VSW_STAT_ADD(w->wc.idle_ns, t - last);
		}
		last = t;
		if (sw->cfg.mode == VSW_MODE_POLL || got)
			continue;
		if (t - idle_since < VSW_SPIN_NS && !held) {
			vp_cpu_relax();
			continue;
		}
		sleep_once(sw, w, held);
		t = mono_ns();
		VSW_STAT_ADD(w->wc.idle_ns, t - last);
		last = t;
	}
	return NULL;
}

int vsw_workers_start(struct vsw *sw)
{
	uint32_t i;

	for (i = 0; i < sw->nworkers; i++) {
		struct vsw_worker *w = &sw->workers[i];
		pthread_attr_t attr;
		int rc;

		if (sw->cfg.mode == VSW_MODE_EVENT) {
			struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_WAKE };

			w->epfd = epoll_create1(EPOLL_CLOEXEC);
			w->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (w->epfd < 0 || w->wakefd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev) < 0)
				return -errno;
		}
		pthread_attr_init(&attr);
		if (w->core >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(w->core, &set);
			pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		}
		rc = pthread_create(&w->thread, &attr, worker_main, w);
		pthread_attr_destroy(&attr);
		if (rc)
			return -rc;
		w->started = 1;
	}
	return 0;
}

void vsw_workers_stop(struct vsw *sw)
{
	uint32_t i;

	__atomic_store_n(&sw->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < sw->nworkers; i++)
		wake(&sw->workers[i]);
	for (i = 0; i < sw->nworkers; i++)
		if (sw->workers[i].started)
			pthread_join(sw->workers[i].thread, NULL);
}

int vsw_poll_once(struct vsw *sw)
{
	int held;

	if (sw->nworkers)
		return -VP_EBUSY;
	return (int)round_once(sw, &sw->workers[0], &held);
}
