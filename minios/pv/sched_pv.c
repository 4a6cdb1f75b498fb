/* SPDX-License-Identifier: MIT */
/*
 * sched_pv.c - the cooperative scheduler of sched.h for the Xen PV build.
 *
 * One vCPU, no upcalls, no locks. A thread's stack is heap pages
 * (mo_heap_alloc_pages) with a guard page below it that is unmapped while
 * the thread exists (an overflow page-faults and is reported by the trap
 * handler instead of corrupting the heap). Switching is switch.S.
 *
 * Waiting: the descriptors of mo_wait() are event-channel ports. After
 * each round of ready threads, the loop looks at the blocked threads: a
 * thread whose port is pending (pending bit set; it is NOT cleared -- the
 * thread consumes it, e.g. nf_zc_consume) or whose deadline passed becomes
 * ready. When no thread is ready, the loop sleeps in one SCHEDOP_poll over
 * the union of the blocked threads' ports (at most 128, Xen's limit; with
 * more, the sleep is cut to PV_SCHED_OVERFLOW_NS so that the ports left out
 * are looked at again) until the nearest deadline, then looks again.
 * Xen may end a poll early (any event of ours wakes a multi-port poller):
 * the look that follows finds nothing and the loop sleeps again.
 *
 * mo_pv_port_wait(): the blocking wait the netfront's and the xenstore
 * transport's callbacks use -- through the scheduler from a thread, with a
 * direct SCHEDOP_poll before the scheduler runs (nf_connect at boot).
 */
#include <errno.h>

#include "mo_heap.h"
#include "pv.h"
#include "sched.h"

#define PTE_P 0x001ull
#define PTE_RW 0x002ull
#define PTE_A 0x020ull
#define PTE_D 0x040ull
#define POLL_MAX 128u
#define PV_SCHED_OVERFLOW_NS 1000000ull

void mo_ctx_switch(mo_ctx_t *save, const mo_ctx_t *load);
void mo_thread_main(struct mo_thread *t);
extern char mo_ctx_start[];

uint64_t mo_clock_ns(void *unused)
{
	(void)unused;
	return pv_time_ns();
}

void mo_sched_init(struct mo_sched *s)
{
	*s = (struct mo_sched){ .now_ns = mo_clock_ns };
}

void mo_thread_main(struct mo_thread *t)
{
	t->fn(t->arg);
	t->state = MO_T_DONE;
	mo_ctx_switch(&t->ctx, &t->s->main_ctx);
	pv_panic("a finished thread was resumed");
}

struct mo_thread *mo_thread_spawn(struct mo_sched *s, const char *name, void (*fn)(void *), void *arg,
				  size_t stack_bytes)
{
	struct mo_thread *t;
	uint8_t *mem;
	uint64_t *sp;

	if (s->nthreads >= MO_MAX_THREADS) {
		errno = ENOSPC;
		return NULL;
	}
	if (!stack_bytes)
		stack_bytes = MO_STACK_DEFAULT;
	stack_bytes = (stack_bytes + PV_PAGE - 1) & ~(size_t)(PV_PAGE - 1);
	mem = mo_heap_alloc_pages(stack_bytes / PV_PAGE + 1);
	if (!mem) {
		errno = ENOMEM;
		return NULL;
	}
	if (pv_set_pte((uintptr_t)mem, 0)) { /* the guard page */
		mo_heap_free_pages(mem);
		errno = ENOMEM;
		return NULL;
	}
	t = &s->threads[s->nthreads];
	*t = (struct mo_thread){ .s = s, .fn = fn, .arg = arg, .name = name, .state = MO_T_READY,
				 .deadline_ns = MO_NO_DEADLINE, .stack = mem, .stack_bytes = stack_bytes + PV_PAGE };
	/* the initial frame mo_ctx_switch pops: r15, r14, r13, r12 = t, rbx, rbp, then "returns" to mo_ctx_start */
	sp = (uint64_t *)(mem + PV_PAGE + stack_bytes);
	*--sp = 0; /* keeps the frame 16-byte aligned as after a call */
	*--sp = (uint64_t)(uintptr_t)mo_ctx_start;
	*--sp = 0;                       /* rbp */
	*--sp = 0;                       /* rbx */
	*--sp = (uint64_t)(uintptr_t)t;  /* r12 */
	*--sp = 0;                       /* r13 */
	*--sp = 0;                       /* r14 */
	*--sp = 0;                       /* r15 */
	t->ctx.rsp = (uint64_t)(uintptr_t)sp;
	s->nthreads++;
	return t;
}

static void to_scheduler(struct mo_sched *s)
{
	mo_ctx_switch(&s->cur->ctx, &s->main_ctx);
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

/* Wakes blocked threads whose port is pending or whose deadline passed; returns how many woke. */
static uint32_t wake_ready(struct mo_sched *s)
{
	uint64_t now = s->now_ns(s->now_ctx);
	uint32_t i, k, woke = 0;

	s->polls++;
	for (i = 0; i < s->nthreads; i++) {
		struct mo_thread *t = &s->threads[i];

		if (t->state != MO_T_BLOCKED)
			continue;
		for (k = 0; k < t->nfds; k++) {
			if (t->fds[k] >= 0 && pv_evtchn_pending((uint32_t)t->fds[k])) {
				t->woken_by = (int)k;
				break;
			}
		}
		if (k < t->nfds || t->deadline_ns <= now) {
			t->state = MO_T_READY; /* woken_by stays MO_WAIT_TIMEOUT on a deadline */
			woke++;
		}
	}
	return woke;
}

/* Nothing is ready: one SCHEDOP_poll over the blocked threads' ports until the nearest deadline. */
static int sleep_blocked(struct mo_sched *s)
{
	uint32_t ports[POLL_MAX], n = 0, i, k, j, overflow = 0;
	uint64_t nearest = MO_NO_DEADLINE, now;
	int rc;

	for (i = 0; i < s->nthreads; i++) {
		struct mo_thread *t = &s->threads[i];

		if (t->state != MO_T_BLOCKED)
			continue;
		if (t->deadline_ns < nearest)
			nearest = t->deadline_ns;
		for (k = 0; k < t->nfds; k++) {
			uint32_t p = (uint32_t)t->fds[k];

			if (t->fds[k] < 0)
				continue;
			for (j = 0; j < n && ports[j] != p; j++)
				;
			if (j < n)
				continue;
			if (n == POLL_MAX)
				overflow = 1;
			else
				ports[n++] = p;
		}
	}
	now = s->now_ns(s->now_ctx);
	if (!n && s->advance && nearest != MO_NO_DEADLINE) {
		if (nearest > now)
			s->advance(s->now_ctx, nearest); /* virtual time: nothing to wait for but a deadline */
		return 0;
	}
	if (overflow && (nearest == MO_NO_DEADLINE || nearest > now + PV_SCHED_OVERFLOW_NS))
		nearest = now + PV_SCHED_OVERFLOW_NS;
	s->sleeps++;
	rc = pv_poll(ports, n, nearest);
	return rc < 0 ? rc : 0;
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
			mo_ctx_switch(&s->main_ctx, &t->ctx);
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
		if (!blocked || wake_ready(s) || blocked < live)
			continue;
		if ((rc = sleep_blocked(s)))
			return rc;
		(void)wake_ready(s);
	}
}

void mo_sched_fini(struct mo_sched *s)
{
	uint32_t i;

	for (i = 0; i < s->nthreads; i++) {
		uint8_t *mem = s->threads[i].stack;
		uint64_t mfn = pv_pfn_to_mfn((uintptr_t)mem / PV_PAGE);

		/* map the guard page back before the heap reuses it */
		if (pv_set_pte((uintptr_t)mem, (mfn << 12) | PTE_P | PTE_RW | PTE_A | PTE_D))
			continue; /* leaked rather than handed out unmapped */
		mo_heap_free_pages(mem);
	}
	s->nthreads = 0;
}

int mo_pv_port_wait(struct mo_sched *s, uint32_t port, int timeout_ms)
{
	uint64_t deadline;
	int fd = (int)port;

	if (!s || !s->cur)
		return pv_evtchn_wait_direct(port, timeout_ms);
	deadline = timeout_ms < 0 ? MO_NO_DEADLINE : s->now_ns(s->now_ctx) + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		if (pv_evtchn_consume(port))
			return 1;
		if (timeout_ms == 0 || mo_wait(s, &fd, 1, deadline) == MO_WAIT_TIMEOUT)
			return pv_evtchn_consume(port);
	}
}
