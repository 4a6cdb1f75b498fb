/* SPDX-License-Identifier: MIT */
/*
 * boot.c - start of day of the minios PV kernel. entry.S calls pv_boot()
 * on the boot stack with the builder's start_info; it brings the platform
 * up in an order where each step can report failure through the previous:
 *
 *   1. shared_info: its machine address is mapped over a reserved page
 *      (update_va_mapping), event upcalls masked for good;
 *   2. the console ring (so everything after can print);
 *   3. the trap table and the (never used) event/failsafe callbacks;
 *   4. CR0.TS set (fpu_taskswitch(1)): the build uses no FPU/SSE, and an
 *      instruction that does traps #NM and is reported instead of silently
 *      using state nobody saves;
 *   5. page 0 unmapped (NULL dereferences fault);
 *   6. the heap: the .bss array below, handed to mo_heap_init();
 * then pv_main() (main_pv.c).
 */
#include "pv.h"

#include "mo_heap.h"

#define PTE_P 0x001ull
#define PTE_RW 0x002ull
#define PTE_A 0x020ull
#define PTE_D 0x040ull

#ifndef PV_HEAP_MB
#define PV_HEAP_MB 8
#endif

start_info_t *pv_start_info;
shared_info_t *pv_shared;
uint64_t pv_boot_ns;

/* The page shared_info is mapped over (its own frame is simply not used again). */
static uint8_t shared_page[PV_PAGE] __attribute__((aligned(4096)));
/* The heap. */
static uint8_t heap[(size_t)PV_HEAP_MB << 20] __attribute__((aligned(4096)));

void pv_boot(start_info_t *si);

void pv_boot(start_info_t *si)
{
	long rc;

	pv_start_info = si;
	rc = pv_hypercall(__HYPERVISOR_update_va_mapping, (unsigned long)shared_page,
			  (si->shared_info & ~(PV_PAGE - 1)) | PTE_P | PTE_RW | PTE_A | PTE_D, UVMF_INVLPG | UVMF_LOCAL, 0,
			  0);
	if (rc)
		pv_shutdown(SHUTDOWN_crash); /* nothing to print with yet */
	pv_shared = (shared_info_t *)shared_page;
	pv_shared->vcpu_info[0].evtchn_upcall_mask = 1;

	pv_boot_ns = pv_time_ns();
	pv_console_init();
	pv_log("booting (Xen PV, x86_64)");
	pv_traps_init();
	if (pv_hypercall(__HYPERVISOR_fpu_taskswitch, 1, 0, 0, 0, 0))
		pv_panic("fpu_taskswitch failed");
	if (pv_set_pte(0, 0))
		pv_panic("cannot unmap page 0");
	mo_heap_init(heap, sizeof(heap));
	pv_main();
}
