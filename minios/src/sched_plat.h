/* SPDX-License-Identifier: MIT */
/*
 * sched_plat.h - what the scheduler core (sched.c) asks of a platform.
 * Not part of the public API (sched.h): only sched.c and the two platform
 * halves include it.
 *
 *   host (src/sched_host.c)  ucontext, mmap'ed stacks, CLOCK_MONOTONIC, poll()
 *   Xen PV (pv/sched_pv.c)   pv/switch.S, heap-page stacks, Xen system time,
 *                            pending bits + SCHEDOP_poll on event-channel ports
 *
 * The core owns the thread table, the states, the round robin, who waits
 * for what and every deadline; a platform only switches stacks and waits
 * for descriptors. Everything runs on one OS thread / vCPU: no locks.
 * Besides these, a platform defines mo_clock_ns() (sched.h).
 */
#ifndef MINIOS_SCHED_PLAT_H
#define MINIOS_SCHED_PLAT_H

#include <stddef.h>
#include <stdint.h>

#include "sched.h"

#define MO_PAGE 4096u

/*
 * The core's thread body: runs t->fn(t->arg), marks t done and switches to
 * the scheduler for good. A platform's first switch into t must call it.
 */
void mo_sched_thread_main(struct mo_thread *t);

/*
 * Stack pages: stack_bytes (a multiple of MO_PAGE) usable, with one
 * inaccessible guard page below them. Returns the lowest address (the guard
 * page), or NULL.
 */
void *mo_plat_stack_alloc(size_t stack_bytes);
/* Gives back what mo_plat_stack_alloc returned; total_bytes = stack_bytes + MO_PAGE. */
void mo_plat_stack_free(void *base, size_t total_bytes);

/*
 * Prepares t->ctx so that the first mo_plat_ctx_switch into it runs
 * mo_sched_thread_main(t) on [stack, stack + stack_bytes). 0 or -errno.
 */
int mo_plat_ctx_init(struct mo_thread *t, void *stack, size_t stack_bytes);
/* Saves the running context in *save and resumes *load; returns when *save is resumed. */
void mo_plat_ctx_switch(mo_ctx_t *save, mo_ctx_t *load);

/*
 * Looks at fds[0..n) (negative entries are never ready; the same descriptor
 * may appear more than once) and sets ready[i] to 1 for each one ready
 * (host: POLLIN, an error or a hangup; PV: the port's pending bit), 0 for
 * the others. Nothing is consumed. When none is ready and s's clock
 * (s->now_ns) is before deadline_ns (MO_NO_DEADLINE: none), blocks until
 * one is or the deadline passes, then looks again; a platform may return
 * early (a signal, Xen ending a poll, PV: more than 128 distinct ports cut
 * the sleep to 1 ms). Counts s->sleeps once per wait that could block.
 * Returns how many are ready, or -errno of the wait.
 */
int mo_plat_wait(struct mo_sched *s, const int *fds, uint8_t *ready, uint32_t n, uint64_t deadline_ns);

#endif /* MINIOS_SCHED_PLAT_H */
