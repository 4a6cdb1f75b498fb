// SPDX-License-Identifier: MIT
// A sandboxed tenant for the notify→wake benchmark (domain-bench.ts): two of
// these run as domains under vpiod and ping-pong over a channel the evtchn
// broker made, the same notify/wait calls as any guest.
//
//   evtchn-guest offer REMOTE|next     offers a port to REMOTE (next: the own
//                                      domid + 1), prints "port=N",
//                                      then answers every notification until EPIPE
//   evtchn-guest bind REMOTE PORT N    binds REMOTE's PORT, runs N round trips,
//                                      prints "p50_ns=.. p99_ns=.. mean_ns=.."
//
// Both retry while the peer does not exist yet / has not offered (ESRCH,
// ENOENT), for at most five seconds: the bench creates them back to back.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vpio/guest.h"

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static int retryable(int rc)
{
	return rc == -ESRCH || rc == -ENOENT;
}

static int offer(struct vpio_guest *g, uint32_t remote)
{
	struct evtchn_end end;
	struct evtchn_waiter w;
	uint32_t port;
	long long deadline = now_ns() + 5000000000ll;
	int rc;

	while ((rc = vpio_evtchn_alloc_unbound(g, remote, &port, &end)) < 0 && retryable(rc) && now_ns() < deadline)
		usleep(1000);
	if (rc < 0) {
		fprintf(stderr, "alloc_unbound(%u): %s\n", remote, strerror(-rc));
		return 1;
	}
	printf("port=%u\n", port);
	fflush(stdout);
	if (evtchn_waiter_init(&w, end.rx_fd) < 0)
		return 1;
	while (evtchn_waiter_wait(&w, -1) >= 0 && evtchn_notify(end.tx_fd) >= 0)
		;
	return 0;
}

static int bind_and_run(struct vpio_guest *g, uint32_t remote, uint32_t rport, long rounds)
{
	struct evtchn_end end;
	struct evtchn_waiter w;
	uint32_t port;
	long long deadline = now_ns() + 5000000000ll, sum = 0;
	long long *t = calloc((size_t)rounds, sizeof(*t));
	int rc;

	if (!t)
		return 1;
	while ((rc = vpio_evtchn_bind_interdomain(g, remote, rport, &port, &end)) < 0 && retryable(rc) &&
	       now_ns() < deadline)
		usleep(1000);
	if (rc < 0) {
		fprintf(stderr, "bind_interdomain(%u, %u): %s\n", remote, rport, strerror(-rc));
		return 1;
	}
	evtchn_drain(end.rx_fd); /* bound ports start pending once */
	if (evtchn_waiter_init(&w, end.rx_fd) < 0)
		return 1;
	for (long i = 0; i < rounds; i++) {
		long long t0 = now_ns();

		if (evtchn_notify(end.tx_fd) < 0)
			return 1;
		while ((rc = evtchn_waiter_wait(&w, -1)) == 0)
			;
		if (rc < 0)
			return 1;
		t[i] = now_ns() - t0;
		sum += t[i];
	}
	qsort(t, (size_t)rounds, sizeof(*t), cmp);
	printf("p50_ns=%lld\np99_ns=%lld\nmean_ns=%lld\n", t[rounds / 2], t[rounds * 99 / 100], sum / rounds);
	fflush(stdout);
	return vpio_evtchn_close(g, port, &end) < 0;
}

int main(int argc, char **argv)
{
	struct vpio_guest g;
	int rc;

	if (argc < 3 || (strcmp(argv[1], "offer") && strcmp(argv[1], "bind")) ||
	    (!strcmp(argv[1], "bind") && argc != 5)) {
		fprintf(stderr, "usage: evtchn-guest offer REMOTE | bind REMOTE PORT ROUNDS\n");
		return 2;
	}
	rc = vpio_guest_open(&g);
	if (rc < 0) {
		fprintf(stderr, "vpio_guest_open: %s\n", strerror(-rc));
		return 1;
	}
	if (!strcmp(argv[1], "offer"))
		return offer(&g, !strcmp(argv[2], "next") ? g.domid + 1 : (uint32_t)atol(argv[2]));
	return bind_and_run(&g, (uint32_t)atol(argv[2]), (uint32_t)atol(argv[3]), atol(argv[4]) > 0 ? atol(argv[4]) : 1);
}
