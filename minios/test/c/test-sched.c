/* SPDX-License-Identifier: MIT */
/*
 * test-sched: the cooperative scheduler (TAP, ASan + UBSan): yield order,
 * timers in virtual time (no sleeping, no timing assertions), blocking on
 * descriptors, the single poll when everyone is blocked, stop.
 */
#include <string.h>
#include <unistd.h>

#include "sched.h"
#include "vpio/tap.h"

static struct mo_sched s;
static char trace[256];
static size_t ntrace;
static uint64_t vt;

static void mark(char c)
{
	if (ntrace + 1 < sizeof(trace))
		trace[ntrace++] = c;
	trace[ntrace] = '\0';
}

static uint64_t vclock(void *ctx)
{
	(void)ctx;
	return vt;
}

static void vadvance(void *ctx, uint64_t to)
{
	(void)ctx;
	vt = to;
}

static void reset(int virtual_time)
{
	mo_sched_init(&s);
	if (virtual_time) {
		vt = 1000;
		s.now_ns = vclock;
		s.advance = vadvance;
	}
	ntrace = 0;
	trace[0] = '\0';
}

static void yielder(void *arg)
{
	char c = *(const char *)arg;

	for (int i = 0; i < 3; i++) {
		mark(c);
		mo_yield(&s);
	}
}

static void t_yield_order(void)
{
	reset(0);
	CHECK(mo_thread_spawn(&s, "a", yielder, "a", 0) != NULL);
	CHECK(mo_thread_spawn(&s, "b", yielder, "b", 0) != NULL);
	CHECK(mo_thread_spawn(&s, "c", yielder, "c", 16384) != NULL);
	CHECK_EQ(mo_sched_run(&s), 0);
	CHECK_STR(trace, "abcabcabc");
	mo_sched_fini(&s);
}

struct sleeper {
	char c;
	uint64_t at;
	uint64_t woke;
};

static void sleeper_fn(void *arg)
{
	struct sleeper *z = arg;

	mo_sleep_until(&s, z->at);
	z->woke = vt;
	mark(z->c);
}

static void t_timers(void)
{
	struct sleeper z[4] = { { 'x', 5000, 0 }, { 'y', 2000, 0 }, { 'z', 9000, 0 }, { 'w', 2000, 0 } };

	reset(1);
	for (int i = 0; i < 4; i++)
		mo_thread_spawn(&s, "z", sleeper_fn, &z[i], 0);
	CHECK_EQ(mo_sched_run(&s), 0);
	CHECK_STR(trace, "ywxz"); /* deadline order; equal deadlines in spawn order */
	CHECK_EQ(z[0].woke, 5000);
	CHECK_EQ(z[1].woke, 2000);
	CHECK_EQ(z[2].woke, 9000);
	CHECK_EQ(s.polls, 0); /* virtual time: never slept in poll() */
	mo_sched_fini(&s);
}

static int pfd[2];
static int wait_rc;

static void reader(void *arg)
{
	char c;

	(void)arg;
	mark('r');
	wait_rc = mo_wait(&s, &pfd[0], 1, MO_NO_DEADLINE);
	CHECK_EQ(read(pfd[0], &c, 1), 1);
	mark(c);
}

static void writer(void *arg)
{
	(void)arg;
	mark('w');
	mo_yield(&s);
	mo_yield(&s);
	mark('W');
	CHECK_EQ(write(pfd[1], "!", 1), 1);
}

static void t_block_fd(void)
{
	reset(0);
	CHECK_EQ(pipe(pfd), 0);
	mo_thread_spawn(&s, "r", reader, NULL, 0);
	mo_thread_spawn(&s, "w", writer, NULL, 0);
	CHECK_EQ(mo_sched_run(&s), 0);
	CHECK_STR(trace, "rwW!");
	CHECK_EQ(wait_rc, 0);
	close(pfd[0]);
	close(pfd[1]);
	mo_sched_fini(&s);
}

static int fds2[2][2];
static int which;

static void waiter2(void *arg)
{
	int fds[2] = { fds2[0][0], fds2[1][0] };

	(void)arg;
	which = mo_wait(&s, fds, 2, MO_NO_DEADLINE);
}

static void t_all_blocked_one_poll(void)
{
	reset(0);
	CHECK_EQ(pipe(fds2[0]), 0);
	CHECK_EQ(pipe(fds2[1]), 0);
	CHECK_EQ(write(fds2[1][1], "x", 1), 1); /* the second descriptor is already readable */
	mo_thread_spawn(&s, "w", waiter2, NULL, 0);
	CHECK_EQ(mo_sched_run(&s), 0);
	CHECK_EQ(which, 1);
	CHECK_EQ(s.polls, 1);
	for (int i = 0; i < 2; i++) {
		close(fds2[i][0]);
		close(fds2[i][1]);
	}
	mo_sched_fini(&s);
}

static void timeout_waiter(void *arg)
{
	(void)arg;
	which = mo_wait(&s, &pfd[0], 1, vt + 3000);
	mark(which == MO_WAIT_TIMEOUT ? 'T' : 'F');
}

static void t_wait_timeout(void)
{
	reset(1);
	CHECK_EQ(pipe(pfd), 0);
	mo_thread_spawn(&s, "t", timeout_waiter, NULL, 0);
	/* a descriptor is involved, so the scheduler must really poll: give it a real 1 ms clock */
	s.now_ns = mo_clock_ns;
	vt = mo_clock_ns(NULL);
	s.advance = NULL;
	CHECK_EQ(mo_sched_run(&s), 0);
	CHECK_STR(trace, "T");
	close(pfd[0]);
	close(pfd[1]);
	mo_sched_fini(&s);
}

static void stopper(void *arg)
{
	(void)arg;
	mark('s');
	mo_sched_stop(&s);
	mo_yield(&s);
	mark('X'); /* never runs */
}

static void t_stop(void)
{
	reset(0);
	mo_thread_spawn(&s, "s", stopper, NULL, 0);
	mo_thread_spawn(&s, "y", yielder, "y", 0);
	CHECK_EQ(mo_sched_run(&s), 0);
	CHECK_STR(trace, "s");
	mo_sched_fini(&s);
}

static void t_limits(void)
{
	reset(0);
	for (unsigned i = 0; i < MO_MAX_THREADS; i++)
		CHECK(mo_thread_spawn(&s, "n", yielder, "n", 8192) != NULL);
	CHECK(mo_thread_spawn(&s, "n", yielder, "n", 8192) == NULL);
	mo_sched_fini(&s);
}

int main(void)
{
	tap_run("ready threads run round robin in spawn order, one step per yield", t_yield_order);
	tap_run("timers wake in deadline order (virtual time, no sleeping)", t_timers);
	tap_run("a thread blocked on a descriptor wakes when another thread writes it", t_block_fd);
	tap_run("when every thread is blocked, one poll() covers all descriptors and names the ready one",
		t_all_blocked_one_poll);
	tap_run("a wait with descriptor and deadline times out when nothing arrives", t_wait_timeout);
	tap_run("mo_sched_stop returns from the run after the current thread switches out", t_stop);
	tap_run("spawning beyond MO_MAX_THREADS fails", t_limits);
	return tap_done();
}
