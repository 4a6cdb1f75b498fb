// SPDX-License-Identifier: MIT
//
// evtchn-pingpong - notify→wake round trips between two processes (a fork):
//   evtchn-pingpong channel|waiter|pipe ROUNDS → "p50_ns=.. p99_ns=.. mean_ns=.."
//   evtchn-pingpong rate SECONDS               → "notifies_per_s=.. wakes_per_s=.."
// channel: an evtchn_host_pair, parent notify → child wait+drain+notify →
// parent wait+drain (poll + recv per wake). waiter: the same pair, each side
// sleeping in evtchn_waiter_wait (one blocking recv per wake). pipe: the
// same over two bare pipes (1-byte write/read), the baseline. Each round
// trip is two notify→wake hops.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vpio/evtchn.h"
#include "vpio/evtchn_pair.h"

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

static void report(long long *t, long n)
{
	long long sum = 0;

	for (long i = 0; i < n; i++)
		sum += t[i];
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("p50_ns=%lld\np99_ns=%lld\nmean_ns=%lld\n", t[n / 2], t[n * 99 / 100], sum / n);
}

static int channel(long rounds, int use_waiter)
{
	struct evtchn_end a, b;
	struct evtchn_waiter w;
	long long *t = calloc((size_t)rounds, sizeof(*t));
	pid_t pid;

	if (!t || evtchn_host_pair(&a, &b) < 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		evtchn_host_close_end(&a);
		if (use_waiter) {
			if (evtchn_waiter_init(&w, b.rx_fd) < 0)
				_exit(1);
			while (evtchn_waiter_wait(&w, -1) >= 0 && evtchn_notify(b.tx_fd) >= 0)
				;
			_exit(0);
		}
		for (;;) {
			if (evtchn_wait(b.rx_fd, -1) < 0 || evtchn_drain(b.rx_fd) < 0 || evtchn_notify(b.tx_fd) < 0)
				_exit(0);
		}
	}
	evtchn_host_close_end(&b);
	evtchn_drain(a.rx_fd);
	usleep(1000);
	evtchn_drain(a.rx_fd);
	if (use_waiter && evtchn_waiter_init(&w, a.rx_fd) < 0)
		return 1;
	for (long i = 0; i < rounds; i++) {
		long long t0 = now_ns();
		evtchn_notify(a.tx_fd);
		if (use_waiter) {
			while (evtchn_waiter_wait(&w, -1) == 0)
				;
		} else {
			do
				evtchn_wait(a.rx_fd, -1);
			while (evtchn_drain(a.rx_fd) == 0);
		}
		t[i] = now_ns() - t0;
	}
	evtchn_host_close_end(&a);
	waitpid(pid, NULL, 0);
	report(t, rounds);
	return 0;
}

static int bare_pipe(long rounds)
{
	int ab[2], ba[2];
	long long *t = calloc((size_t)rounds, sizeof(*t));
	char c = 1;
	pid_t pid;

	if (!t || pipe(ab) < 0 || pipe(ba) < 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		close(ab[1]);
		close(ba[0]);
		while (read(ab[0], &c, 1) == 1 && write(ba[1], &c, 1) == 1)
			;
		_exit(0);
	}
	close(ab[0]);
	close(ba[1]);
	for (long i = 0; i < rounds; i++) {
		long long t0 = now_ns();
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			return 1;
		t[i] = now_ns() - t0;
	}
	close(ab[1]);
	waitpid(pid, NULL, 0);
	report(t, rounds);
	return 0;
}

/* One side notifies as fast as it can; the other drains on each wake. */
static int rate(double seconds)
{
	struct evtchn_end a, b;
	long long notifies = 0, end;
	int wakes_pipe[2];
	pid_t pid;

	if (evtchn_host_pair(&a, &b) < 0 || pipe(wakes_pipe) < 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		long long wakes = 0, got = 0;
		int n;
		evtchn_host_close_end(&a);
		close(wakes_pipe[0]);
		for (;;) {
			if (evtchn_wait(b.rx_fd, -1) < 0)
				break;
			n = evtchn_drain(b.rx_fd);
			if (n < 0)
				break;
			wakes++;
			got += n;
		}
		dprintf(wakes_pipe[1], "%lld %lld\n", wakes, got);
		_exit(0);
	}
	evtchn_host_close_end(&b);
	close(wakes_pipe[1]);
	end = now_ns() + (long long)(seconds * 1e9);
	while (now_ns() < end) {
		for (int i = 0; i < 64; i++)
			evtchn_notify(a.tx_fd);
		notifies += 64;
	}
	evtchn_host_close_end(&a);
	char buf[64] = "";
	long long wakes = 0, got = 0;
	if (read(wakes_pipe[0], buf, sizeof(buf) - 1) > 0)
		sscanf(buf, "%lld %lld", &wakes, &got);
	waitpid(pid, NULL, 0);
	printf("notifies_per_s=%.0f\nwakes_per_s=%.0f\ndelivered_per_s=%.0f\n", (double)notifies / seconds,
	       (double)wakes / seconds, (double)got / seconds);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 64;
	if (strcmp(argv[1], "channel") == 0)
		return channel(atol(argv[2]), 0);
	if (strcmp(argv[1], "waiter") == 0)
		return channel(atol(argv[2]), 1);
	if (strcmp(argv[1], "pipe") == 0)
		return bare_pipe(atol(argv[2]));
	if (strcmp(argv[1], "rate") == 0)
		return rate(atof(argv[2]));
	return 64;
}
