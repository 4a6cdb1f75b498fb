// SPDX-License-Identifier: MIT
//
// guest_grant.c - grants from a guest (vpio/guest.h): share a sealed region
// of its own, end it, map a list of refs into one contiguous range, unmap.
//
// Mapping: one GRANT_MAP round trip answers every ref with a descriptor;
// the range is reserved PROT_NONE first (so nothing else can land in the
// gaps), then each region is checked with vgnt_host_verify (vpiod's word is
// not enough: the granter is another tenant) and mapped MAP_FIXED over its
// slice. Descriptors are closed before returning: the mapping holds the
// memory. Concurrency: one thread per struct vpio_guest.

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vpio/guest.h"

#define MAP_WORD_RW 0x80000000u

int vpio_grant_share(struct vpio_guest *g, size_t bytes, uint32_t grantee, enum vgnt_access access,
		     struct vgnt_region *out, uint32_t *ref)
{
	long page = sysconf(_SC_PAGESIZE);
	uint32_t req[4], rep[1], len;
	int rc;

	if (page <= 0 || bytes == 0 || bytes % (size_t)page != 0 || bytes / (size_t)page > UINT32_MAX)
		return -EINVAL;
	rc = vgnt_host_share(bytes, access, out);
	if (rc < 0)
		return rc;
	req[0] = VPIO_DOMID_SELF;
	req[1] = grantee;
	req[2] = (uint32_t)(bytes / (size_t)page);
	req[3] = access == VGNT_ACCESS_RW ? 1u : 0u;
	rc = vpio_guest_call(g, VPIO_CTRL_GRANT_SHARE, req, sizeof(req), &out->fd, 1, rep, sizeof(rep), &len, NULL, 0,
			     NULL);
	if (rc == 0 && len != sizeof(rep))
		rc = -EPROTO;
	if (rc < 0) {
		vgnt_host_share_unmap(out);
		vgnt_host_share_close_fd(out);
		return rc;
	}
	*ref = rep[0];
	return 0;
}

int vpio_grant_end(struct vpio_guest *g, uint32_t ref)
{
	return vpio_guest_call(g, VPIO_CTRL_GRANT_END, &ref, sizeof(ref), NULL, 0, NULL, 0, NULL, NULL, 0, NULL);
}

int vpio_grant_unmap_handle(struct vpio_guest *g, uint32_t handle)
{
	return vpio_guest_call(g, VPIO_CTRL_GRANT_UNMAP, &handle, sizeof(handle), NULL, 0, NULL, 0, NULL, NULL, 0, NULL);
}

int vpio_grant_map_fds(struct vpio_guest *g, uint32_t granter, const uint32_t *refs, unsigned n, int writable,
		       struct vpio_grant_fds *out)
{
	uint32_t req[3 + VPIO_GRANT_MAP_MAX_REFS], rep[2 + VPIO_GRANT_MAP_MAX_REFS], len;
	unsigned nfds = 0, i;
	int rc;

	out->count = 0;
	if (n == 0 || n > VPIO_GRANT_MAP_MAX_REFS)
		return n == 0 ? -EINVAL : -E2BIG;
	req[0] = granter;
	req[1] = writable ? VPIO_GRANT_MAP_WRITABLE : 0;
	req[2] = n;
	memcpy(&req[3], refs, n * sizeof(uint32_t));
	rc = vpio_guest_call(g, VPIO_CTRL_GRANT_MAP, req, (3 + n) * sizeof(uint32_t), NULL, 0, rep, sizeof(rep), &len,
			     out->fds, VPIO_GRANT_MAP_MAX_REFS, &nfds);
	if (rc < 0)
		return rc;
	if (len != (2 + n) * sizeof(uint32_t) || rep[1] != n || nfds != n) {
		for (i = 0; i < nfds; i++)
			close(out->fds[i]);
		if (len >= sizeof(uint32_t))
			vpio_grant_unmap_handle(g, rep[0]);
		return -EPROTO;
	}
	out->handle = rep[0];
	out->count = n;
	for (i = 0; i < n; i++) {
		out->pages[i] = rep[2 + i] & ~MAP_WORD_RW;
		out->access[i] = (rep[2 + i] & MAP_WORD_RW) ? VGNT_ACCESS_RW : VGNT_ACCESS_RO;
	}
	return 0;
}

int vpio_grant_map(struct vpio_guest *g, uint32_t granter, const uint32_t *refs, unsigned n, int writable,
		   struct vpio_grant_mapping *out)
{
	long page = sysconf(_SC_PAGESIZE);
	struct vpio_grant_fds r;
	size_t total = 0, off = 0;
	unsigned i;
	char *base = MAP_FAILED;
	int rc, prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;

	out->addr = NULL;
	if (page <= 0)
		return -EINVAL;
	rc = vpio_grant_map_fds(g, granter, refs, n, writable, &r);
	if (rc < 0)
		return rc;
	for (i = 0; i < r.count; i++) {
		if (r.pages[i] == 0) {
			rc = -EPROTO;
			goto out;
		}
		total += (size_t)r.pages[i] * (size_t)page;
	}
	base = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		rc = -errno;
		goto out;
	}
	for (i = 0; i < r.count; i++) {
		size_t bytes = (size_t)r.pages[i] * (size_t)page;

		rc = vgnt_host_verify(r.fds[i], bytes, r.access[i]);
		if (rc < 0)
			goto out;
		if (mmap(base + off, bytes, prot, MAP_SHARED | MAP_FIXED, r.fds[i], 0) == MAP_FAILED) {
			rc = -errno;
			goto out;
		}
		off += bytes;
	}
	out->addr = base;
	out->bytes = total;
	out->handle = r.handle;
	out->access = writable ? VGNT_ACCESS_RW : VGNT_ACCESS_RO;
	rc = 0;
out:
	for (i = 0; i < r.count; i++)
		close(r.fds[i]);
	if (rc < 0) {
		if (base != MAP_FAILED)
			munmap(base, total);
		vpio_grant_unmap_handle(g, r.handle);
	}
	return rc;
}

int vpio_grant_unmap(struct vpio_guest *g, struct vpio_grant_mapping *m)
{
	if (m->addr == NULL)
		return 0;
	if (munmap(m->addr, m->bytes) < 0)
		return -errno;
	m->addr = NULL;
	return vpio_grant_unmap_handle(g, m->handle);
}
