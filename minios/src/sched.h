/* SPDX-License-Identifier: MIT */
/*
 * sched.h - minios's cooperative scheduler: threads with their own small
 * stacks in one address space; a thread runs until it yields, blocks on
 * descriptors (event channels) and/or a deadline, or returns.
 *
 * The loop: run every ready thread once (round robin, in spawn order);
 * then, if some thread is blocked, one poll() over all blocked threads'
 * descriptors -- with timeout 0 when a thread is still ready, else the
 * nearest deadline (none: infinite) -- and wake the threads whose
 * descriptor is readable or whose deadline passed. When every thread is
 * blocked the process sleeps in that single poll(). Nothing is allocated
 * after mo_thread_spawn(); no locks (one OS thread).
 *
 * One implementation of all this, src/sched.c, for both builds; what is
 * the platform's sits behind src/sched_plat.h. Host build
 * (src/sched_host.c): ucontext (makecontext/swapcontext) and poll() over
 * file descriptors. Xen PV build (pv/sched_pv.c, pv/switch.S, compiled
 * with -DMO_PV): a saved context is a stack pointer (the callee-saved
 * registers sit on the thread's stack), "descriptors" are event-channel
 * ports, readable = the port's pending bit, and the sleep is one
 * SCHEDOP_poll over the blocked threads' ports with the nearest deadline.
 * The API below is the same for both.
 */
#ifndef MINIOS_SCHED_H
#define MINIOS_SCHED_H

#include <stddef.h>
#include <stdint.h>

#ifdef MO_PV
/* A thread's saved context: its stack pointer (pv/switch.S pushes the rest). */
typedef struct mo_ctx {
	uint64_t rsp;
} mo_ctx_t;
#define MO_STACK_DEFAULT (64u * 1024u) /* heap pages, all of them real memory; a guard page below */
#else
#include <ucontext.h>
typedef ucontext_t mo_ctx_t;
#define MO_STACK_DEFAULT (256u * 1024u) /* mapped lazily: untouched pages cost nothing */
#endif

#define MO_MAX_THREADS 64u
#define MO_MAX_WAIT_FDS 4u
#define MO_NO_DEADLINE UINT64_MAX
#define MO_WAIT_TIMEOUT (-1)

enum mo_thread_state { MO_T_READY = 0, MO_T_BLOCKED, MO_T_DONE };

struct mo_sched;

struct mo_thread {
	mo_ctx_t ctx;
	struct mo_sched *s;
	void (*fn)(void *arg);
	void *arg;
	const char *name;
	enum mo_thread_state state;
	int fds[MO_MAX_WAIT_FDS];
	uint32_t nfds;
	uint64_t deadline_ns;
	int woken_by; /* index into fds, or MO_WAIT_TIMEOUT */
	void *stack;
	size_t stack_bytes;
};

struct mo_sched {
	mo_ctx_t main_ctx;
	struct mo_thread threads[MO_MAX_THREADS];
	uint32_t nthreads;
	struct mo_thread *cur;
	int stop;
	uint64_t (*now_ns)(void *ctx); /* monotonic clock (injectable) */
	void *now_ctx;
	/* Virtual time (tests): when set and every blocked thread waits only for
	 * a deadline, the scheduler calls advance(now_ctx, nearest) instead of
	 * sleeping in poll(). */
	void (*advance)(void *ctx, uint64_t to_ns);
	/* Counters: switches into threads; polls = looks at the blocked threads'
	 * descriptors (host: poll() calls; PV: scans of their pending bits);
	 * sleeps = waits that could block (host: poll() with a timeout; PV:
	 * SCHEDOP_poll calls). */
	uint64_t switches, polls, sleeps;
};

/* The monotonic clock in ns (host: CLOCK_MONOTONIC; PV: Xen system time). */
uint64_t mo_clock_ns(void *unused);

/* Prepares an empty scheduler on the monotonic clock. */
void mo_sched_init(struct mo_sched *s);

/*
 * Adds a ready thread running fn(arg) on a fresh stack of stack_bytes
 * (0: MO_STACK_DEFAULT; rounded up to whole pages). Returns the thread, or
 * NULL (-ENOSPC: too many threads, -ENOMEM: no stack) with errno set.
 */
struct mo_thread *mo_thread_spawn(struct mo_sched *s, const char *name, void (*fn)(void *), void *arg,
				  size_t stack_bytes);

/* From a thread: let the others run; returns when this thread is scheduled again. */
void mo_yield(struct mo_sched *s);

/*
 * From a thread: block until one of fds[0..nfds) is readable (POLLIN, or an
 * error/hangup) or the monotonic clock reaches deadline_ns (MO_NO_DEADLINE:
 * none). Returns the index of a ready descriptor or MO_WAIT_TIMEOUT; nfds
 * over MO_MAX_WAIT_FDS is clamped. Nothing is consumed from the descriptor.
 */
int mo_wait(struct mo_sched *s, const int *fds, uint32_t nfds, uint64_t deadline_ns);

/* From a thread: sleep until deadline_ns. */
void mo_sleep_until(struct mo_sched *s, uint64_t deadline_ns);

/* Runs until every thread returned or mo_sched_stop() was called. 0, or -errno of a failed poll()/SCHEDOP_poll. */
int mo_sched_run(struct mo_sched *s);

/* Makes mo_sched_run() return after the current thread yields or blocks. */
void mo_sched_stop(struct mo_sched *s);

/* Frees the stacks (threads that never finished are abandoned). */
void mo_sched_fini(struct mo_sched *s);

#endif /* MINIOS_SCHED_H */
