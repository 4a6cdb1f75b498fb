/* SPDX-License-Identifier: MIT */
/*
 * grant_xen_map.c - the xen driver's map side (vpio/grant_xen.h):
 * libxengnttab over /dev/xen/gntdev, in a guest (or dom0 mapping a guest's
 * grants).
 *
 * One call = one short-lived gnttab handle: xengnttab_map_domain_grant_refs()
 * maps the refs (IOCTL_GNTDEV_MAP_GRANT_REF + mmap); the mapping holds the
 * gntdev file open, so the handle is closed before returning. munmap() then
 * ends the mapping: the vma drops its reference to the grant map, and the
 * last reference to the device file releases what the ioctl registered
 * (the same end state as xengnttab_unmap(), one step later). No descriptor
 * stays open per mapping.
 *
 * Concurrency: stateless; every function works on its arguments only.
 */
#include <errno.h>
#include <sys/mman.h>
#include <xengnttab.h>

#include "grant_xen_log.h"
#include "vpio/grant_xen.h"

int vgnt_xen_map_refs(uint32_t domid, const uint32_t *refs, uint32_t n, enum vgnt_access access,
		      struct vgnt_map *out)
{
	xengnttab_handle *h;
	void *p;
	int err;

	if (n == 0 || n > VGNT_XEN_MAX_PAGES || !refs || !out || (access != VGNT_ACCESS_RO && access != VGNT_ACCESS_RW))
		return -EINVAL;
	h = xengnttab_open(vgnt_xen_quiet_logger(), 0);
	if (!h)
		return errno ? -errno : -ENOENT;
	/* the library wants a non-const array it does not write */
	p = xengnttab_map_domain_grant_refs(h, n, domid, (uint32_t *)(uintptr_t)refs,
					    access == VGNT_ACCESS_RW ? PROT_READ | PROT_WRITE : PROT_READ);
	err = p ? 0 : (errno ? -errno : -ENOMEM);
	xengnttab_close(h); /* the mapping keeps /dev/xen/gntdev open */
	if (err)
		return err;
	out->addr = p;
	out->bytes = (size_t)n * VGNT_XEN_PAGE_BYTES;
	out->access = access;
	return 0;
}

int vgnt_xen_unmap(struct vgnt_map *m)
{
	if (!m || m->addr == NULL)
		return 0;
	if (munmap(m->addr, m->bytes) < 0)
		return -errno;
	m->addr = NULL;
	return 0;
}

static int xen_map_one(const struct vgnt_ref *ref, size_t bytes, enum vgnt_access access, struct vgnt_map *out)
{
	if (!ref || bytes != VGNT_XEN_PAGE_BYTES)
		return -EINVAL;
	return vgnt_xen_map_refs(ref->domid, &ref->ref, 1, access, out);
}

static int xen_verify_one(const struct vgnt_ref *ref, size_t bytes, enum vgnt_access access)
{
	struct vgnt_map m;
	int rc = xen_map_one(ref, bytes, access, &m);

	if (rc)
		return rc;
	return vgnt_xen_unmap(&m);
}

const struct vgnt_map_ops vgnt_xen_map_ops = {
	.name = "xen",
	.verify = xen_verify_one,
	.map = xen_map_one,
	.unmap = vgnt_xen_unmap,
};
