/* SPDX-License-Identifier: MIT */
/*
 * xen_grant.c - struct nf_grant_ops for xen mode: the backend's grant refs
 * mapped through @vpio/grant's xen map side (libxengnttab over
 * /dev/xen/gntdev). See vpio/netfront_xen.h.
 */
#include <errno.h>
#include <unistd.h>

#include "vpio/grant_xen.h"
#include "vpio/netfront_xen.h"

VP_STATIC_ASSERT(NF_PAGE_BYTES == VGNT_XEN_PAGE_BYTES, "one grant ref per netfront page");

const char *nf_xen_missing_device(void)
{
	static const char *const need[] = { VGNT_XEN_GNTDEV_PATH, EVTCHN_XEN_DEV_PATH, "/dev/xen/xenbus" };
	unsigned int i;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (access(need[i], R_OK | W_OK) != 0)
			return need[i];
	return NULL;
}

static int xen_map(void *ctx, uint32_t domid, const uint32_t *refs, uint32_t n, uint64_t bytes, int writable,
		   void **addr)
{
	struct vgnt_map m;
	int rc;

	(void)ctx;
	if (!refs || !addr || n == 0 || n > VGNT_XEN_MAX_PAGES)
		return -EINVAL;
	if (bytes != (uint64_t)n * NF_PAGE_BYTES)
		return -EPROTO; /* one ref per page: the refs must cover exactly what the rings describe */
	rc = vgnt_xen_map_refs(domid, refs, n, writable ? VGNT_ACCESS_RW : VGNT_ACCESS_RO, &m);
	if (rc)
		return rc;
	*addr = m.addr;
	return 0;
}

static int xen_unmap(void *ctx, void *addr, uint64_t bytes)
{
	struct vgnt_map m = { .addr = addr, .bytes = (size_t)bytes, .access = VGNT_ACCESS_RW };

	(void)ctx;
	return vgnt_xen_unmap(&m);
}

void nf_xen_grant_ops(struct nf_grant_ops *ops)
{
	ops->map = xen_map;
	ops->unmap = xen_unmap;
	ops->ctx = NULL;
}
