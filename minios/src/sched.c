/* SPDX-License-Identifier: MIT */
/*
 * sched.c - the cooperative scheduler of sched.h, the same for every build:
 * the thread table, spawn, yield/wait/sleep/stop, the run loop's round robin
 * and the wake-up of blocked threads by ready descriptor or deadline, the
 * counters. What differs per platform (stacks, the context switch, the
 * clock, waiting for descriptors) is behind sched_plat.h: src/sched_host.c
 * (ucontext, poll()) and pv/sched_pv.c (switch.S, SCHEDOP_poll).
 *
 * One OS thread / vCPU: no locks. Nothing is allocated after
 * mo_thread_spawn().
 */
#include "sched.h"

#include <errno.h>
#include <stdint.h>

#include "sched_plat.h"

#define MO_WAIT_SLOTS (MO_MAX_THREADS * MO_MAX_WAIT_FDS)

void mo_sched_init(struct mo_sched *s)
{
	*s = (struct mo_sched){ .now_ns = mo_clock_ns };
}

void mo_sched_thread_main(struct mo_thread *t)
{
	t->fn(t->arg);
	t->state = MO_T_DONE;
	mo_plat_ctx_switch(&t->ctx, &t->s->main_ctx); /* never resumed */
}

struct mo_thread *mo_thread_spawn(struct mo_sched *s, const char *name, void (*fn)(void *), void *arg,
				  size_t stack_bytes)
{
	struct mo_thread *t;
	uint8_t *mem;
	int rc;

	if (s->nthreads >= MO_MAX_THREADS) {
		errno = ENOSPC;
		return NULL;
	}
	if (!stack_bytes)
		stack_bytes = MO_STACK_DEFAULT;
	stack_bytes = (stack_bytes + MO_PAGE - 1) & ~(size_t)(MO_PAGE - 1);
	mem = mo_plat_stack_alloc(stack_bytes);
	if (!mem) {
		errno = ENOMEM;
		return NULL;
	}
	t = &s->threads[s->nthreads];
	*t = (struct mo_thread){ .s = s, .fn = fn, .arg = arg, .name = name, .state = MO_T_READY,
				 .deadline_ns = MO_NO_DEADLINE, .stack = mem, .stack_bytes = stack_bytes + MO_PAGE };
	if ((rc = mo_plat_ctx_init(t, mem + MO_PAGE, stack_bytes))) {
		mo_plat_stack_free(mem, stack_bytes + MO_PAGE);
		errno = -rc;
		return NULL;
	}
	s->nthreads++;
	return t;
}

static void to_scheduler(struct mo_sched *s)
{
	mo_plat_ctx_switch(&s->cur->ctx, &s->main_ctx);
}

void mo_yield(struct mo_sched *s)
{
	to_scheduler(s);
}

int mo_wait(struct mo_sched *s, const int *fds, uint32_t nfds, uint64_t deadline_ns)
{
	struct mo_thread *t = s->cur;
	uint32_t i;

	if (nfds > MO_MAX_WAIT_FDS)
		nfds = MO_MAX_WAIT_FDS;
	for (i = 0; i < nfds; i++)
		t->fds[i] = fds[i];
	t->nfds = nfds;
	t->deadline_ns = deadline_ns;
	t->woken_by = MO_WAIT_TIMEOUT;
	t->state = MO_T_BLOCKED;
	to_scheduler(s);
	return t->woken_by;
}

void mo_sleep_until(struct mo_sched *s, uint64_t deadline_ns)
{
	(void)mo_wait(s, NULL, 0, deadline_ns);
}

void mo_sched_stop(struct mo_sched *s)
{
	s->stop = 1;
}

/*
 * After a round: one look at the blocked threads' descriptors -- a wait
 * until the nearest deadline when no thread is ready (any_ready 0), a look
 * without waiting otherwise -- then the threads with a ready descriptor
 * (woken_by = its index: the first ready one) or a passed deadline
 * (woken_by stays MO_WAIT_TIMEOUT) become ready. Virtual time: when nothing
 * is ready and the blocked threads wait only for deadlines, s->advance
 * moves the clock instead. 0, or -errno of the platform's wait.
 */
static int wake_blocked(struct mo_sched *s, int any_ready)
{
	int fds[MO_WAIT_SLOTS];
	uint16_t owner[MO_WAIT_SLOTS], slot[MO_WAIT_SLOTS];
	uint8_t ready[MO_WAIT_SLOTS];
	uint64_t nearest = MO_NO_DEADLINE, now;
	uint32_t n = 0, i, k;
	int block, rc;

	for (i = 0; i < s->nthreads; i++) {
		struct mo_thread *t = &s->threads[i];

		if (t->state != MO_T_BLOCKED)
			continue;
		for (k = 0; k < t->nfds; k++) {
			fds[n] = t->fds[k];
			owner[n] = (uint16_t)i;
			slot[n++] = (uint16_t)k;
		}
		if (t->deadline_ns < nearest)
			nearest = t->deadline_ns;
	}
	now = s->now_ns(s->now_ctx);
	block = !any_ready && nearest > now;
	if (block && !n && s->advance && nearest != MO_NO_DEADLINE) {
		s->advance(s->now_ctx, nearest); /* nothing to wait for but a deadline */
	} else if (n || block) {
		s->polls++;
		rc = mo_plat_wait(s, fds, ready, n, block ? nearest : 0);
		if (rc < 0)
			return rc;
		for (i = 0; rc && i < n; i++) {
			struct mo_thread *t = &s->threads[owner[i]];

			if (ready[i] && t->state == MO_T_BLOCKED) {
				t->state = MO_T_READY;
				t->woken_by = slot[i];
			}
		}
	}
	now = s->now_ns(s->now_ctx);
	for (i = 0; i < s->nthreads; i++) {
		struct mo_thread *t = &s->threads[i];

		if (t->state == MO_T_BLOCKED && t->deadline_ns <= now)
			t->state = MO_T_READY; /* woken_by stays MO_WAIT_TIMEOUT */
	}
	return 0;
}

int mo_sched_run(struct mo_sched *s)
{
	for (;;) {
		uint32_t i, live = 0, blocked = 0;
		int rc;

		for (i = 0; i < s->nthreads && !s->stop; i++) {
			struct mo_thread *t = &s->threads[i];

			if (t->state != MO_T_READY)
				continue;
			s->cur = t;
			s->switches++;
			mo_plat_ctx_switch(&s->main_ctx, &t->ctx);
			s->cur = NULL;
		}
		if (s->stop)
			return 0;
		for (i = 0; i < s->nthreads; i++) {
			live += s->threads[i].state != MO_T_DONE;
			blocked += s->threads[i].state == MO_T_BLOCKED;
		}
		if (!live)
			return 0;
		if (blocked && (rc = wake_blocked(s, blocked < live)))
			return rc;
	}
}

void mo_sched_fini(struct mo_sched *s)
{
	uint32_t i;

	for (i = 0; i < s->nthreads; i++)
		mo_plat_stack_free(s->threads[i].stack, s->threads[i].stack_bytes);
	s->nthreads = 0;
}
