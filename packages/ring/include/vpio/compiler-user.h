/* SPDX-License-Identifier: MIT */
/*
 * vpio/compiler-user.h - access layer for user space and PV guests.
 * Include vpio/compiler.h, not this file. Only compiler builtins: no libc.
 */
#ifndef VPIO_COMPILER_USER_H
#define VPIO_COMPILER_USER_H

#ifndef VPIO_COMPILER_H
#error "include vpio/compiler.h, not vpio/compiler-user.h"
#endif

#include <stddef.h> /* freestanding headers: size_t, offsetof */
#include <stdint.h> /* fixed-width integers */

/* Relaxed atomics give one untorn access that the compiler may not repeat,
 * merge or invent: what READ_ONCE/WRITE_ONCE give the kernel. */
#define VP_READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define VP_WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

#define vp_load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define vp_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

/* Store-load ordering (mfence / lock-prefixed op on x86, dmb ish on arm64). */
#define vp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)

#define vp_likely(c) __builtin_expect(!!(c), 1)
#define vp_unlikely(c) __builtin_expect(!!(c), 0)

#if defined(__x86_64__) || defined(__i386__)
#define vp_cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define vp_cpu_relax() __asm__ __volatile__("yield" ::: "memory")
#else
#define vp_cpu_relax() __asm__ __volatile__("" ::: "memory")
#endif

#define vp_memcpy(d, s, n) __builtin_memcpy((d), (s), (n))

#endif /* VPIO_COMPILER_USER_H */
