/* SPDX-License-Identifier: MIT */
/*
 * vpio/grant_share.h - the grant side of the host driver: dom0 (the
 * broker, the netback through the TS binding) creates and seals regions.
 * Guests never include this; they use vpio/grant.h.
 *
 * A region is a memfd (MFD_CLOEXEC | MFD_ALLOW_SEALING) of `bytes` bytes,
 * mapped read-write once by its owner, then sealed in this order:
 *
 *   1. F_SEAL_SHRINK | F_SEAL_GROW     its size is fixed
 *   2. F_SEAL_FUTURE_WRITE (ro only)   after the owner's writable mapping
 *                                      exists: no new writable mapping and
 *                                      no write(2) through any descriptor,
 *                                      reopened ones included
 *   3. F_SEAL_SEAL                     no seal can be added or removed
 *
 * The owner keeps writing through its own mapping; the grantee gets the
 * descriptor (from the broker) and maps it with vpio/grant.h.
 *
 * Ownership: the caller owns out->fd and out->addr and gives them back
 * with vgnt_host_share_close_fd() and vgnt_host_share_unmap() (in either
 * order; the kernel keeps the memory until the last mapping and the last
 * descriptor anywhere are gone).
 */
#ifndef VPIO_GRANT_SHARE_H
#define VPIO_GRANT_SHARE_H

#include <stddef.h>

#include "vpio/grant.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vgnt_region {
	int fd;                  /* -1 once closed */
	void *addr;              /* the owner's read-write mapping; NULL once unmapped */
	size_t bytes;
	enum vgnt_access access; /* what the grantee will get */
};

/*
 * Creates, maps and seals a region (the steps above). Returns 0 and fills
 * *out, or:
 *   -EINVAL  bytes == 0 or not a multiple of the page size, or a bad access
 *   -EMFILE/-ENFILE/-ENOMEM/-ENOSPC  from memfd_create/ftruncate/mmap
 *   -errno   from a seal step (nothing is left open or mapped on failure)
 */
int vgnt_host_share(size_t bytes, enum vgnt_access access, struct vgnt_region *out);

/* Closes the descriptor (no new mappings can come from this owner). 0, or
 * 0 when already closed. */
int vgnt_host_share_close_fd(struct vgnt_region *r);

/* Unmaps the owner's mapping. 0, or 0 when already unmapped; -EINVAL from
 * munmap on a corrupted struct. */
int vgnt_host_share_unmap(struct vgnt_region *r);

#ifdef __cplusplus
}
#endif

#endif /* VPIO_GRANT_SHARE_H */
