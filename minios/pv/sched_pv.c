/* SPDX-License-Identifier: MIT */
/*
 * sched_pv.c - the Xen PV half of the scheduler (src/sched_plat.h; the core
 * is src/sched.c, the same file the host build runs).
 *
 * One vCPU, no upcalls, no locks. A thread's stack is heap pages
 * (mo_heap_alloc_pages) with a guard page below it that is unmapped while
 * the thread exists (an overflow page-faults and is reported by the trap
 * handler instead of corrupting the heap). Switching is switch.S.
 *
 * Waiting: the descriptors of mo_wait() are event-channel ports; one is
 * ready when its pending bit is set (it is NOT cleared -- the thread
 * consumes it, e.g. nf_zc_consume). When none is and the core asks to
 * block, the wait is one SCHEDOP_poll over the distinct ports (at most
 * 128, Xen's limit; with more, the sleep is cut to PV_SCHED_OVERFLOW_NS so
 * that the ports left out are looked at again) until the deadline, then a
 * second look. Xen may end a poll early (any event of ours wakes a
 * multi-port poller): the look finds nothing and the core comes back.
 *
 * mo_pv_port_wait(): the blocking wait the netfront's and the xenstore
 * transport's callbacks use -- through the scheduler from a thread, with a
 * direct SCHEDOP_poll before the scheduler runs (nf_connect at boot).
 */
#include <errno.h>

#include "mo_heap.h"
#include "pv.h"
#include "sched_plat.h"

#define PTE_P 0x001ull
#define PTE_RW 0x002ull
#define PTE_A 0x020ull
#define PTE_D 0x040ull
#define POLL_MAX 128u
#define PV_SCHED_OVERFLOW_NS 1000000ull

void mo_thread_main(struct mo_thread *t);
extern char mo_ctx_start[];

uint64_t mo_clock_ns(void *unused)
{
	(void)unused;
	return pv_time_ns();
}

void *mo_plat_stack_alloc(size_t stack_bytes)
{
	uint8_t *mem = mo_heap_alloc_pages(stack_bytes / PV_PAGE + 1);

	if (mem && pv_set_pte((uintptr_t)mem, 0)) { /* the guard page */
		mo_heap_free_pages(mem);
		mem = NULL;
	}
	return mem;
}

void mo_plat_stack_free(void *base, size_t total_bytes)
{
	uint64_t mfn = pv_pfn_to_mfn((uintptr_t)base / PV_PAGE);

	(void)total_bytes;
	/* map the guard page back before the heap reuses it; if that fails, leaked rather than handed out unmapped */
	if (!pv_set_pte((uintptr_t)base, (mfn << 12) | PTE_P | PTE_RW | PTE_A | PTE_D))
		mo_heap_free_pages(base);
}

/* Where switch.S's mo_ctx_start calls a new thread. */
void mo_thread_main(struct mo_thread *t)
{
	mo_sched_thread_main(t);
	pv_panic("a finished thread was resumed");
}

int mo_plat_ctx_init(struct mo_thread *t, void *stack, size_t stack_bytes)
{
	uint64_t *sp = (uint64_t *)((uint8_t *)stack + stack_bytes);

	/* the initial frame mo_plat_ctx_switch (switch.S) pops: r15, r14, r13, r12 = t, rbx, rbp, then "returns" to
	 * mo_ctx_start */
	*--sp = 0; /* keeps the frame 16-byte aligned as after a call */
	*--sp = (uint64_t)(uintptr_t)mo_ctx_start;
	*--sp = 0;                       /* rbp */
	*--sp = 0;                       /* rbx */
	*--sp = (uint64_t)(uintptr_t)t;  /* r12 */
	*--sp = 0;                       /* r13 */
	*--sp = 0;                       /* r14 */
	*--sp = 0;                       /* r15 */
	t->ctx.rsp = (uint64_t)(uintptr_t)sp;
	return 0;
}

/* Sets ready[i] from the pending bits; returns how many are set. */
static uint32_t look(const int *fds, uint8_t *ready, uint32_t n)
{
	uint32_t i, nready = 0;

	for (i = 0; i < n; i++) {
		ready[i] = fds[i] >= 0 && pv_evtchn_pending((uint32_t)fds[i]);
		nready += ready[i];
	}
	return nready;
}

int mo_plat_wait(struct mo_sched *s, const int *fds, uint8_t *ready, uint32_t n, uint64_t deadline_ns)
{
	uint32_t ports[POLL_MAX], np = 0, i, j, overflow = 0, nready;
	uint64_t now;
	int rc;

	if ((nready = look(fds, ready, n)))
		return (int)nready;
	now = s->now_ns(s->now_ctx);
	if (deadline_ns <= now)
		return 0;
	for (i = 0; i < n; i++) {
		uint32_t p = (uint32_t)fds[i];

		if (fds[i] < 0)
			continue;
		for (j = 0; j < np && ports[j] != p; j++)
			;
		if (j < np)
			continue;
		if (np == POLL_MAX)
			overflow = 1;
		else
			ports[np++] = p;
	}
	if (overflow && (deadline_ns == MO_NO_DEADLINE || deadline_ns > now + PV_SCHED_OVERFLOW_NS))
		deadline_ns = now + PV_SCHED_OVERFLOW_NS;
	s->sleeps++;
	if ((rc = pv_poll(ports, np, deadline_ns)) < 0)
		return rc;
	return (int)look(fds, ready, n);
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
