/* SPDX-License-Identifier: MIT */
/*
 * sched_host.c - the host half of the scheduler (sched_plat.h): ucontext
 * (makecontext/swapcontext), stacks as anonymous mappings (pages are touched
 * only as deep as the thread goes) with a guard page below, CLOCK_MONOTONIC,
 * and poll() over file descriptors. One OS thread: no locks.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#include "sched_plat.h"

uint64_t mo_clock_ns(void *unused)
{
	struct timespec ts;

	(void)unused;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void *mo_plat_stack_alloc(size_t stack_bytes)
{
	void *mem = mmap(NULL, stack_bytes + MO_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			 -1, 0);

	if (mem == MAP_FAILED)
		return NULL;
	(void)mprotect(mem, MO_PAGE, PROT_NONE); /* guard page: an overflow faults instead of corrupting */
	return mem;
}

void mo_plat_stack_free(void *base, size_t total_bytes)
{
	munmap(base, total_bytes);
}

static void trampoline(unsigned int lo, unsigned int hi)
{
	mo_sched_thread_main((struct mo_thread *)(((uintptr_t)hi << 32) | (uintptr_t)lo));
	/* not reached; were it, uc_link would return to the scheduler */
}

/* getcontext() returns twice; kept out of mo_plat_ctx_init's frame (the context is only used by makecontext). */
static __attribute__((noinline)) int capture_context(ucontext_t *c)
{
	return getcontext(c);
}

int mo_plat_ctx_init(struct mo_thread *t, void *stack, size_t stack_bytes)
{
	uintptr_t p = (uintptr_t)t;

	if (capture_context(&t->ctx))
		return -errno;
	t->ctx.uc_stack.ss_sp = stack;
	t->ctx.uc_stack.ss_size = stack_bytes;
	t->ctx.uc_link = &t->s->main_ctx;
	makecontext(&t->ctx, (void (*)(void))trampoline, 2, (unsigned int)(p & 0xffffffffu), (unsigned int)(p >> 32));
	return 0;
}

void mo_plat_ctx_switch(mo_ctx_t *save, mo_ctx_t *load)
{
	swapcontext(save, load);
}

int mo_plat_wait(struct mo_sched *s, const int *fds, uint8_t *ready, uint32_t n, uint64_t deadline_ns)
{
	struct pollfd pfd[MO_MAX_THREADS * MO_MAX_WAIT_FDS];
	uint64_t now = s->now_ns(s->now_ctx);
	int timeout = 0, rc;
	uint32_t i, nready = 0;

	if (n > MO_MAX_THREADS * MO_MAX_WAIT_FDS)
		return -EINVAL;
	if (deadline_ns == MO_NO_DEADLINE)
		timeout = -1;
	else if (deadline_ns > now)
		timeout = (int)((deadline_ns - now + 999999) / 1000000); /* round up: never wake early */
	if (timeout)
		s->sleeps++;
	for (i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	rc = poll(pfd, n, timeout);
	if (rc < 0 && errno != EINTR)
		return -errno;
	for (i = 0; i < n; i++) {
		ready[i] = rc > 0 && (pfd[i].revents & (POLLIN | POLLERR | POLLHUP | POLLNVAL));
		nready += ready[i];
	}
	return (int)nready;
}
