/* SPDX-License-Identifier: MIT */
/*
 * grant_xen_share.c - the xen driver's share side (vpio/grant_xen.h):
 * libxengntshr over /dev/xen/gntalloc, in dom0.
 *
 * One call = one short-lived gntshr handle: xengntshr_share_pages()
 * allocates the grefs (IOCTL_GNTALLOC_ALLOC_GREF), maps them for us and
 * already drops the file's own reference to them, so from then on the
 * pages live exactly as long as our mapping. The mapping holds the device
 * file open, so the handle is closed before returning and unsharing is
 * munmap() (libxengnttab's Linux xengntshr_unshare() is that munmap).
 *
 * Concurrency: stateless; every function works on its arguments only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xengnttab.h>

#include "grant_xen_log.h"
#include "vpio/grant_xen.h"

/* Xen's DOMID_FIRST_RESERVED: ids from here on are not ordinary domains. */
#define XEN_DOMID_FIRST_RESERVED 0x7ff0u

int vgnt_xen_share(uint32_t domid, uint32_t npages, enum vgnt_access access, uint32_t *refs, void **addr)
{
	xengntshr_handle *h;
	void *p;
	int err;

	if (npages == 0 || npages > VGNT_XEN_MAX_PAGES || domid >= XEN_DOMID_FIRST_RESERVED || !refs || !addr ||
	    (access != VGNT_ACCESS_RO && access != VGNT_ACCESS_RW))
		return -EINVAL;
	h = xengntshr_open(vgnt_xen_quiet_logger(), 0);
	if (!h)
		return errno ? -errno : -ENOENT;
	p = xengntshr_share_pages(h, domid, (int)npages, refs, access == VGNT_ACCESS_RW);
	err = p ? 0 : (errno ? -errno : -ENOMEM);
	xengntshr_close(h); /* the mapping keeps /dev/xen/gntalloc open */
	if (err)
		return err;
	*addr = p;
	return 0;
}

int vgnt_xen_unshare(void *addr, uint32_t npages)
{
	if (!addr)
		return 0;
	if (npages == 0 || npages > VGNT_XEN_MAX_PAGES)
		return -EINVAL;
	if (munmap(addr, (size_t)npages * VGNT_XEN_PAGE_BYTES) < 0)
		return -errno;
	return 0;
}

int vgnt_xen_gntalloc_limit(void)
{
	char buf[24];
	char *end;
	ssize_t n;
	long v;
	int fd = open(VGNT_XEN_GNTALLOC_LIMIT_PATH, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	if (n == 0)
		return -ENODATA;
	buf[n] = '\0';
	v = strtol(buf, &end, 10);
	if (end == buf || v < 0 || v > 0x7fffffffL)
		return -ERANGE;
	return (int)v;
}
