/* SPDX-License-Identifier: MIT */
/*
 * grant_host_share.c - the host driver's grant side (vpio/grant_share.h):
 * create a memfd region, map it for its owner, seal it.
 *
 * Concurrency: stateless. Every failure undoes the earlier steps in reverse
 * order, so a failed call leaves no descriptor and no mapping behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vpio/grant_share.h"

int vgnt_host_share(size_t bytes, enum vgnt_access access, struct vgnt_region *out)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd, rc, seals;
	void *p;

	if (bytes == 0 || page <= 0 || bytes % (size_t)page != 0 ||
	    (access != VGNT_ACCESS_RO && access != VGNT_ACCESS_RW))
		return -EINVAL;
	fd = memfd_create("vpio-grant", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)bytes) < 0)
		goto fail_fd;
	/* The owner's own writable mapping comes before any write seal. */
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail_fd;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		goto fail_map;
	if (access == VGNT_ACCESS_RO && fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) < 0)
		goto fail_map;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL) < 0)
		goto fail_map;
	/* Belt and braces: what we hand out must pass the map side's check. */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || ((unsigned int)seals & VGNT_SEALS_SIZE) != VGNT_SEALS_SIZE) {
		errno = EIO;
		goto fail_map;
	}
	out->fd = fd;
	out->addr = p;
	out->bytes = bytes;
	out->access = access;
	return 0;

fail_map:
	rc = -errno;
	munmap(p, bytes);
	close(fd);
	return rc;
fail_fd:
	rc = -errno;
	close(fd);
	return rc;
}

int vgnt_host_share_close_fd(struct vgnt_region *r)
{
	int fd = r->fd;

	if (fd < 0)
		return 0;
	r->fd = -1;
	/* Linux releases the descriptor even when close() reports an error. */
	return close(fd) < 0 && errno != EINTR ? -errno : 0;
}

int vgnt_host_share_unmap(struct vgnt_region *r)
{
	if (r->addr == NULL)
		return 0;
	if (munmap(r->addr, r->bytes) < 0)
		return -errno;
	r->addr = NULL;
	return 0;
}
