/* SPDX-License-Identifier: MIT */
/*
 * sched.c - the cooperative scheduler of sched.h on ucontext and poll().
 * One OS thread: no locks. A thread's stack is an anonymous mapping (pages
 * are touched only as deep as the thread goes), with a guard page below.
 */
#include "sched.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u

uint64_t mo_clock_ns(void *unused)
{
	struct timespec ts;

	(void)unused;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void mo_sched_init(struct mo_sched *s)
{
	*s = (struct mo_sched){ .now_ns = mo_clock_ns };
}

static void trampoline(unsigned int lo, unsigned int hi)
{
	struct mo_thread *t = (struct mo_thread *)(((uintptr_t)hi << 32) | (uintptr_t)lo);

	t->fn(t->arg);
	t->state = MO_T_DONE;
	/* uc_link returns to the scheduler */
}

/* getcontext() returns twice; kept out of mo_thread_spawn's frame (the context is only used by makecontext). */
static __attribute__((noinline)) int capture_context(ucontext_t *c)
{
	return getcontext(c);
}

struct mo_thread *mo_thread_spawn(struct mo_sched *s, const char *name, void (*fn)(void *), void *arg,
				  size_t stack_bytes)
{
	struct mo_thread *t;
	void *mem;
	uintptr_t p;

	if (s->nthreads >= MO_MAX_THREADS) {
		errno = ENOSPC;
		return NULL;
	}
	if (!stack_bytes)
		stack_bytes = MO_STACK_DEFAULT;
	stack_bytes = (stack_bytes + PAGE - 1) & ~(size_t)(PAGE - 1);
	mem = mmap(NULL, stack_bytes + PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	(void)mprotect(mem, PAGE, PROT_NONE); /* guard page: an overflow faults instead of corrupting */
	t = &s->threads[s->nthreads];
	*t = (struct mo_thread){ .s = s, .fn = fn, .arg = arg, .name = name, .state = MO_T_READY,
				 .deadline_ns = MO_NO_DEADLINE, .stack = mem, .stack_bytes = stack_bytes + PAGE };
	if (capture_context(&t->ctx)) {
		munmap(mem, stack_bytes + PAGE);
		return NULL;
	}
	t->ctx.uc_stack.ss_sp = (uint8_t *)mem + PAGE;
	t->ctx.uc_stack.ss_size = stack_bytes;
	t->ctx.uc_link = &s->main_ctx;
	p = (uintptr_t)t;
	makecontext(&t->ctx, (void (*)(void))trampoline, 2, (unsigned int)(p & 0xffffffffu), (unsigned int)(p >> 32));
	s->nthreads++;
	return t;
}

static void to_scheduler(struct mo_sched *s)
{
	struct mo_thread *t = s->cur;

	swapcontext(&t->ctx, &s->main_ctx);
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

/* One poll() over the blocked threads; timeout_ms -1 waits for the nearest deadline. */
static int poll_blocked(struct mo_sched *s, int any_ready)
{
	struct pollfd pfd[MO_MAX_THREADS * MO_MAX_WAIT_FDS];
	uint16_t owner[MO_MAX_THREADS * MO_MAX_WAIT_FDS], slot[MO_MAX_THREADS * MO_MAX_WAIT_FDS];
	uint64_t nearest = MO_NO_DEADLINE, now;
	uint32_t n = 0, i, k;
	int timeout = 0, rc;

	for (i = 0; i < s->nthreads; i++) {
		struct mo_thread *t = &s->threads[i];

		if (t->state != MO_T_BLOCKED)
			continue;
		for (k = 0; k < t->nfds; k++) {
			pfd[n] = (struct pollfd){ .fd = t->fds[k], .events = POLLIN };
			owner[n] = (uint16_t)i;
			slot[n++] = (uint16_t)k;
		}
		if (t->deadline_ns < nearest)
			nearest = t->deadline_ns;
	}
	now = s->now_ns(s->now_ctx);
	if (!any_ready && !n && s->advance && nearest != MO_NO_DEADLINE) {
		if (nearest > now)
			s->advance(s->now_ctx, nearest);
		now = s->now_ns(s->now_ctx);
	} else if (!any_ready) {
		if (nearest == MO_NO_DEADLINE)
			timeout = -1;
		else if (nearest > now)
			timeout = (int)((nearest - now + 999999) / 1000000); /* round up: never wake early */
		if (timeout > 0 || timeout < 0)
			s->sleeps++;
	}
	if (n || timeout) {
		s->polls++;
		rc = poll(pfd, n, timeout);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc > 0) {
			for (i = 0; i < n; i++) {
				struct mo_thread *t = &s->threads[owner[i]];

				if ((pfd[i].revents & (POLLIN | POLLERR | POLLHUP | POLLNVAL)) && t->state == MO_T_BLOCKED) {
					t->state = MO_T_READY;
					t->woken_by = slot[i];
				}
			}
		}
		now = s->now_ns(s->now_ctx);
	}
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
		uint32_t i, live = 0, ran = 0, blocked = 0;
		int rc;

		for (i = 0; i < s->nthreads && !s->stop; i++) {
			struct mo_thread *t = &s->threads[i];

			if (t->state != MO_T_READY)
				continue;
			s->cur = t;
			s->switches++;
			swapcontext(&s->main_ctx, &t->ctx);
			s->cur = NULL;
			ran++;
		}
		if (s->stop)
			return 0;
		for (i = 0; i < s->nthreads; i++) {
			live += s->threads[i].state != MO_T_DONE;
			blocked += s->threads[i].state == MO_T_BLOCKED;
		}
		if (!live)
			return 0;
		if (blocked && (rc = poll_blocked(s, blocked < live)))
			return rc;
		(void)ran;
	}
}

void mo_sched_fini(struct mo_sched *s)
{
	uint32_t i;

	for (i = 0; i < s->nthreads; i++)
		munmap(s->threads[i].stack, s->threads[i].stack_bytes);
	s->nthreads = 0;
}
