/* SPDX-License-Identifier: MIT */
/*
 * traps_main.c - a test kernel (build/pv/vpio-minios-pv-traps, `make pv-tests`):
 * the PV platform of the minios image with this pv_main instead of the
 * guest's, doing one wrong thing chosen by the kernel command line (xl's
 * extra=) so that xen/tests/minios-pv.sh can check that each one traps and
 * is reported on the console before the domain crashes:
 *   null    read through a NULL pointer: page 0 is unmapped (trap 14, cr2 0)
 *   stack   a thread recursing without end: its guard page (trap 14, cr2 in the guard)
 *   fpu     an x87 instruction: CR0.TS is set (trap 7)
 * Anything else prints "traps-test: unknown mode" and powers off.
 */
#include <string.h>

#include "pv.h"
#include "sched.h"

static struct mo_sched sched;

static volatile unsigned long depth_limit = ~0ul; /* never reached: the guard page is */

static unsigned long recurse(unsigned long depth)
{
	volatile unsigned char pad[256];

	if (depth >= depth_limit)
		return 0;
	pad[0] = (unsigned char)depth;
	return recurse(depth + 1) + pad[0];
}

static void deep_thread(void *arg)
{
	(void)arg;
	(void)recurse(0);
}

void pv_main(void)
{
	const char *mode = (const char *)pv_start_info->cmd_line;

	pv_puts("traps-test: mode ");
	pv_puts(mode);
	pv_puts("\n");
	if (!strcmp(mode, "null")) {
		pv_put_u64(*(volatile unsigned long *)(uintptr_t)0);
	} else if (!strcmp(mode, "stack")) {
		struct mo_thread *t;

		mo_sched_init(&sched);
		t = mo_thread_spawn(&sched, "deep", deep_thread, NULL, 16 * 1024);
		if (!t)
			pv_panic("spawn failed");
		pv_puts("traps-test: guard page ");
		pv_put_hex((uintptr_t)t->stack);
		pv_puts("\n");
		(void)mo_sched_run(&sched);
	} else if (!strcmp(mode, "fpu")) {
		__asm__ __volatile__("fld1\n\tfstp %%st(0)" ::: "memory");
	}
	pv_log("traps-test: unknown mode, or nothing trapped");
	pv_shutdown(SHUTDOWN_poweroff);
}
