/* SPDX-License-Identifier: MIT */
/*
 * mm.c - the guest's page tables, as far as minios needs them.
 *
 * The builder maps the image (and its own pages: start_info, xenstore and
 * console rings, the P2M list, the boot page tables) 1:1 from VA 0, so a
 * frame of ours has VA = pfn * 4096; pfn <-> mfn go through the P2M list
 * (start_info->mfn_list) and Xen's read-only M2P table at
 * MACH2PHYS_VIRT_START. Page tables are read through that linear map and
 * changed only by hypercall: update_va_mapping for one PTE of ours,
 * mmu_update (MMU_NORMAL_PT_UPDATE, the entry's machine address) for an L2
 * entry. All of the image lives in the first GiB, under L4[0] -> L3[0] ->
 * one L2 table; the grant window (gnttab.c) is in the upper half of that
 * same GiB, so new L1 tables are all the window ever needs.
 */
#include "pv.h"

#include "mo_heap.h"
#include "vpio/compiler.h"

#define PTE_P 0x001ull
#define PTE_RW 0x002ull
#define PTE_US 0x004ull
#define PTE_A 0x020ull
#define PTE_D 0x040ull
#define PTE_PSE 0x080ull
#define PTE_ADDR 0x000ffffffffff000ull
#define L2_SPAN (1ull << 21)
#define L2_LIMIT (1ull << 30) /* what the image's L2 table covers */

static uint32_t l1_pages;
static uint64_t l1_ours[512 / 64]; /* L2 indices whose L1 table mm.c built */

uint64_t pv_pfn_to_mfn(uint64_t pfn)
{
	return ((const unsigned long *)pv_start_info->mfn_list)[pfn];
}

uint64_t pv_mfn_to_pfn(uint64_t mfn)
{
	return machine_to_phys_mapping[mfn];
}

void *pv_mfn_to_va(uint64_t mfn)
{
	return (void *)(uintptr_t)(pv_mfn_to_pfn(mfn) * PV_PAGE);
}

int pv_set_pte(uintptr_t va, uint64_t pte)
{
	return (int)pv_hypercall(__HYPERVISOR_update_va_mapping, va, pte, UVMF_INVLPG | UVMF_LOCAL, 0, 0);
}

/* The L2 table that maps VA [0, 1 GiB): its VA (read-only to us) and machine frame. */
static int image_l2(const uint64_t **l2, uint64_t *l2_mfn)
{
	const uint64_t *l4 = (const uint64_t *)pv_start_info->pt_base;
	const uint64_t *l3;
	uint64_t e;

	e = l4[0];
	if (!(e & PTE_P))
		return -VP_EFAULT;
	l3 = pv_mfn_to_va((e & PTE_ADDR) >> 12);
	e = l3[0];
	if (!(e & PTE_P) || (e & PTE_PSE))
		return -VP_EFAULT;
	*l2_mfn = (e & PTE_ADDR) >> 12;
	*l2 = pv_mfn_to_va(*l2_mfn);
	return 0;
}

int pv_mm_ensure_l1(uintptr_t va, uint64_t bytes)
{
	const uint64_t *l2;
	uint64_t l2_mfn, a;
	int rc;

	if (!bytes || va + bytes > L2_LIMIT || va + bytes < va)
		return -VP_EINVAL;
	if ((rc = image_l2(&l2, &l2_mfn)))
		return rc;
	for (a = va & ~(L2_SPAN - 1); a < va + bytes; a += L2_SPAN) {
		uint32_t idx = (uint32_t)(a >> 21);
		uint64_t e = VP_READ_ONCE(l2[idx]), mfn;
		struct mmu_update u;
		uint8_t *page;
		uint32_t i;

		if (e & PTE_P) {
			/* ours from an earlier call; anything else (the builder's mappings reaching this far, a
			 * superpage) would have grants mapped over live memory */
			if (!(l1_ours[idx / 64] & (1ull << (idx % 64))))
				return -VP_EEXIST;
			continue;
		}
		page = mo_heap_alloc_pages(1);
		if (!page)
			return -VP_ENOMEM;
		for (i = 0; i < PV_PAGE; i++)
			page[i] = 0;
		mfn = pv_pfn_to_mfn((uintptr_t)page / PV_PAGE);
		/* a page-table page must have no writable mapping: make ours read-only first */
		if ((rc = pv_set_pte((uintptr_t)page, (mfn << 12) | PTE_P | PTE_A)))
			return rc;
		u.ptr = ((l2_mfn << 12) + idx * sizeof(uint64_t)) | MMU_NORMAL_PT_UPDATE;
		u.val = (mfn << 12) | PTE_P | PTE_RW | PTE_US | PTE_A;
		rc = (int)pv_hypercall(__HYPERVISOR_mmu_update, (unsigned long)&u, 1, 0, DOMID_SELF, 0);
		if (rc)
			return rc; /* the page stays read-only and unused: one page lost */
		l1_ours[idx / 64] |= 1ull << (idx % 64);
		l1_pages++;
	}
	return 0;
}

uint32_t pv_mm_l1_pages(void)
{
	return l1_pages;
}
