/* SPDX-License-Identifier: MIT */
/*
 * vpio/compiler.h - the access layer every piece of shared-memory C in vpio
 * uses: single reads and writes of shared words, acquire/release, the full
 * barrier of the kick protocol, branch hints, and the few error numbers the
 * ring code returns.
 *
 * The ring core must build freestanding (no libc), so this layer is the only
 * place that knows the environment. Variants sit in sibling files behind this
 * one interface:
 *
 *   compiler-user.h    user space and PV guests (GCC/Clang builtins only;
 *                      also what minios/ uses: it has no libc either)
 *   compiler-kernel.h  Linux kernel modules (READ_ONCE, smp_mb, ...)
 *
 * Pick one by defining VPIO_ENV_KERNEL before the first include; the default
 * is the user/PV variant. Every variant provides exactly:
 *
 *   VP_READ_ONCE(x)          one untorn read of a shared word, never re-read
 *   VP_WRITE_ONCE(x, v)      one untorn write of a shared word
 *   vp_load_acquire(p)       read *p; later accesses are not hoisted above it
 *   vp_store_release(p, v)   write *p; earlier accesses are not sunk below it
 *   vp_mb()                  full barrier, orders earlier stores against later
 *                            loads (sequentially consistent fence)
 *   vp_likely(c), vp_unlikely(c), vp_cpu_relax()
 *   VP_STATIC_ASSERT(c, msg), VP_CACHE_LINE, VP_CACHE_ALIGNED
 *   vp_memcpy(d, s, n)       plain copy (a freestanding build supplies memcpy,
 *                            as GCC requires of every freestanding target)
 *   VP_E*                    the Linux/Xen errno numbers the C code returns,
 *                            negated: 0 or -VP_Exxx
 */
#ifndef VPIO_COMPILER_H
#define VPIO_COMPILER_H

#if defined(VPIO_ENV_KERNEL)
#include "vpio/compiler-kernel.h"
#else
#include "vpio/compiler-user.h"
#endif

/* Error numbers, as Linux and Xen number them (the C code returns -VP_Exxx). */
#define VP_EPERM 1
#define VP_ENOENT 2
#define VP_EIO 5
#define VP_E2BIG 7
#define VP_EAGAIN 11
#define VP_ENOMEM 12
#define VP_EACCES 13
#define VP_EFAULT 14
#define VP_EBUSY 16
#define VP_EEXIST 17
#define VP_EISDIR 21
#define VP_EINVAL 22
#define VP_ENOSPC 28
#define VP_EROFS 30
#define VP_EPIPE 32
#define VP_ERANGE 34
#define VP_ENOSYS 38
#define VP_ENOTEMPTY 39
#define VP_EPROTO 71
#define VP_EOVERFLOW 75
#define VP_EMSGSIZE 90
#define VP_EPROTONOSUPPORT 93
#define VP_EISCONN 106
#define VP_ETIMEDOUT 110

#ifdef __cplusplus
#define VP_STATIC_ASSERT(c, msg) static_assert(c, msg)
#else
#define VP_STATIC_ASSERT(c, msg) _Static_assert(c, msg)
#endif

#define VP_CACHE_LINE 64
#define VP_CACHE_ALIGNED __attribute__((aligned(VP_CACHE_LINE)))

#endif /* VPIO_COMPILER_H */
