/* SPDX-License-Identifier: MIT */
/*
 * gnttab.c - struct nf_grant_ops for the PV build: the backend's grant refs
 * mapped with GNTTABOP_map_grant_ref (GNTMAP_host_map, + GNTMAP_readonly
 * when not writable) into the grant window, batched (PV_GNT_BATCH refs per
 * hypercall), and unmapped with GNTTABOP_unmap_grant_ref by the handles
 * Xen returned.
 *
 * The grant window is VA [512 MiB, 1 GiB): address space only, no memory
 * behind it. Xen writes each mapping's PTE itself (host_addr), which needs
 * the L1 table to exist: mm.c builds them on demand, one heap page per
 * 2 MiB of window (a vif with 1024-slot rings, ~1,100 pages, needs 3),
 * kept for reuse. A first-fit bitmap allocates page runs in the window.
 *
 * Every hypercall error and every failed ref is counted (pv_gnttab_stats);
 * a map that fails part-way unmaps what it mapped and returns the first
 * failure, translated from Xen's GNTST_* status to an errno.
 */
#include <stdlib.h>
#include <string.h>

#include "pv.h"
#include "pv_nf.h"

#define WIN_BASE 0x20000000ul
#define WIN_PAGES (0x20000000ul / PV_PAGE)
#define PV_GNT_BATCH 64u
#define PV_GNT_MAX_MAPS 64u

struct pv_map {
	uintptr_t va; /* 0: slot free */
	uint32_t n;
	uint32_t *handles;
};

static uint64_t win_used[WIN_PAGES / 64];
static struct pv_map maps[PV_GNT_MAX_MAPS];
static struct pv_gnttab_stats st;

static int win_test(uint32_t i)
{
	return (int)((win_used[i / 64] >> (i % 64)) & 1);
}

static void win_mark(uint32_t first, uint32_t n, int used)
{
	for (uint32_t i = first; i < first + n; i++) {
		if (used)
			win_used[i / 64] |= 1ull << (i % 64);
		else
			win_used[i / 64] &= ~(1ull << (i % 64));
	}
}

/* First fit: the first page of a free run of n pages, or -1. */
static long win_alloc(uint32_t n)
{
	uint32_t run = 0;

	for (uint32_t i = 0; i < WIN_PAGES; i++) {
		if (win_test(i)) {
			run = 0;
			continue;
		}
		if (++run == n) {
			win_mark(i + 1 - n, n, 1);
			return (long)(i + 1 - n);
		}
	}
	return -1;
}

static int gntst_errno(int16_t status)
{
	switch (status) {
	case GNTST_bad_domain:
		return -VP_EINVAL;
	case GNTST_bad_gntref:
		return -VP_ENOENT;
	case GNTST_permission_denied:
		return -VP_EACCES;
	case GNTST_eagain:
		return -VP_EAGAIN;
	case GNTST_no_space:
	case GNTST_no_device_space:
		return -VP_ENOSPC;
	default:
		return -VP_EIO;
	}
}

/* Unmaps pages [0, n) of m whose handle is not PV_GNT_NO_HANDLE; counts failures; the first error. */
#define PV_GNT_NO_HANDLE UINT32_MAX
static int unmap_pages(uintptr_t va, const uint32_t *handles, uint32_t n)
{
	struct gnttab_unmap_grant_ref op[PV_GNT_BATCH];
	int first = 0;

	for (uint32_t i = 0; i < n;) {
		uint32_t k = 0;
		long rc;

		for (; i < n && k < PV_GNT_BATCH; i++) {
			if (handles[i] == PV_GNT_NO_HANDLE)
				continue;
			op[k] = (struct gnttab_unmap_grant_ref){ .host_addr = va + (uint64_t)i * PV_PAGE,
								 .handle = handles[i], .status = GNTST_general_error };
			k++;
		}
		if (!k)
			continue;
		st.unmap_calls++;
		rc = pv_hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_unmap_grant_ref, (unsigned long)op, k, 0, 0);
		if (rc) {
			st.unmap_errors += k;
			if (!first)
				first = (int)rc;
			continue;
		}
		for (uint32_t j = 0; j < k; j++) {
			if (op[j].status != GNTST_okay) {
				st.unmap_errors++;
				if (!first)
					first = gntst_errno(op[j].status);
			} else {
				st.pages_unmapped++;
			}
		}
	}
	return first;
}

static int pv_map(void *ctx, uint32_t domid, const uint32_t *refs, uint32_t n, uint64_t bytes, int writable,
		  void **addr)
{
	struct gnttab_map_grant_ref op[PV_GNT_BATCH];
	struct pv_map *m = NULL;
	uint32_t *handles;
	uintptr_t va;
	long first;
	int err = 0;

	(void)ctx;
	if (!refs || !addr || n == 0 || n > WIN_PAGES)
		return -VP_EINVAL;
	if (bytes != (uint64_t)n * PV_PAGE)
		return -VP_EPROTO; /* one ref per page, as the xen driver of the netfront */
	for (uint32_t i = 0; i < PV_GNT_MAX_MAPS && !m; i++)
		if (!maps[i].va)
			m = &maps[i];
	if (!m)
		return -VP_ENOSPC;
	handles = malloc((size_t)n * sizeof(*handles));
	if (!handles)
		return -VP_ENOMEM;
	first = win_alloc(n);
	if (first < 0) {
		free(handles);
		st.window_full++;
		return -VP_ENOSPC;
	}
	va = WIN_BASE + (uintptr_t)first * PV_PAGE;
	if ((err = pv_mm_ensure_l1(va, bytes))) {
		win_mark((uint32_t)first, n, 0);
		free(handles);
		return err;
	}
	for (uint32_t i = 0; i < n; i++)
		handles[i] = PV_GNT_NO_HANDLE;
	st.map_requests++;
	for (uint32_t i = 0; i < n && !err;) {
		uint32_t k = n - i < PV_GNT_BATCH ? n - i : PV_GNT_BATCH;
		long rc;

		for (uint32_t j = 0; j < k; j++)
			op[j] = (struct gnttab_map_grant_ref){
				.host_addr = va + (uint64_t)(i + j) * PV_PAGE,
				.flags = GNTMAP_host_map | (writable ? 0 : GNTMAP_readonly),
				.ref = refs[i + j],
				.dom = (domid_t)domid,
				.status = GNTST_general_error,
			};
		st.map_calls++;
		rc = pv_hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref, (unsigned long)op, k, 0, 0);
		for (uint32_t j = 0; j < k; j++) {
			if (!rc && op[j].status == GNTST_okay) {
				handles[i + j] = op[j].handle;
				st.pages_mapped++;
			} else {
				st.map_errors++;
				if (!err)
					err = rc ? (int)rc : gntst_errno(op[j].status);
			}
		}
		i += k;
	}
	if (err) {
		(void)unmap_pages(va, handles, n);
		win_mark((uint32_t)first, n, 0);
		free(handles);
		return err;
	}
	*m = (struct pv_map){ .va = va, .n = n, .handles = handles };
	*addr = (void *)va;
	return 0;
}

static int pv_unmap(void *ctx, void *addr, uint64_t bytes)
{
	struct pv_map *m = NULL;
	int rc;

	(void)ctx;
	for (uint32_t i = 0; i < PV_GNT_MAX_MAPS && !m; i++)
		if (maps[i].va && maps[i].va == (uintptr_t)addr)
			m = &maps[i];
	if (!m || bytes != (uint64_t)m->n * PV_PAGE)
		return -VP_EINVAL;
	rc = unmap_pages(m->va, m->handles, m->n);
	/* pages whose unmap failed stay out of the window: a later map must not land on them */
	if (!rc)
		win_mark((uint32_t)((m->va - WIN_BASE) / PV_PAGE), m->n, 0);
	free(m->handles);
	*m = (struct pv_map){ 0 };
	return rc;
}

void pv_nf_grant_ops(struct nf_grant_ops *ops)
{
	ops->map = pv_map;
	ops->unmap = pv_unmap;
	ops->ctx = NULL;
}

const struct pv_gnttab_stats *pv_gnttab_stats(void)
{
	return &st;
}

uint32_t pv_gnttab_live_maps(void)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < PV_GNT_MAX_MAPS; i++)
		n += maps[i].va != 0;
	return n;
}
