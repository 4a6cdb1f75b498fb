/* SPDX-License-Identifier: MIT */
/*
 * vpio/compiler-kernel.h - access layer for code built inside the Linux
 * kernel (kbuild). Include vpio/compiler.h with VPIO_ENV_KERNEL defined.
 * Maps the vpio primitives onto the kernel's own; nothing in-tree uses it yet
 * (kernel/ holds no module so far), it exists so the ring core needs no
 * change the day one does.
 */
#ifndef VPIO_COMPILER_KERNEL_H
#define VPIO_COMPILER_KERNEL_H

#ifndef VPIO_COMPILER_H
#error "include vpio/compiler.h, not vpio/compiler-kernel.h"
#endif

#include <linux/compiler.h>
#include <linux/string.h>
#include <linux/types.h>
#include <asm/barrier.h>
#include <asm/processor.h>

#define VP_READ_ONCE(x) READ_ONCE(x)
#define VP_WRITE_ONCE(x, v) WRITE_ONCE(x, v)
#define vp_load_acquire(p) smp_load_acquire(p)
#define vp_store_release(p, v) smp_store_release(p, v)
#define vp_mb() smp_mb()
#define vp_likely(c) likely(c)
#define vp_unlikely(c) unlikely(c)
#define vp_cpu_relax() cpu_relax()
#define vp_memcpy(d, s, n) memcpy((d), (s), (n))

#endif /* VPIO_COMPILER_KERNEL_H */
