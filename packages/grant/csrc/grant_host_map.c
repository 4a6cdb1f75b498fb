/* SPDX-License-Identifier: MIT */
/*
 * grant_host_map.c - the host driver's map side (vpio/grant.h): verify a
 * memfd descriptor handed in by the broker, then map it.
 *
 * Concurrency: stateless; every function works on its arguments only.
 * This is host-mode code: it calls libc (fcntl, fstat, mmap), and the
 * negative errno values it returns are the kernel's.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vpio/grant.h"

VP_STATIC_ASSERT(VGNT_SEAL_SEAL == F_SEAL_SEAL, "seal bits are the kernel's");
VP_STATIC_ASSERT(VGNT_SEAL_SHRINK == F_SEAL_SHRINK, "seal bits are the kernel's");
VP_STATIC_ASSERT(VGNT_SEAL_GROW == F_SEAL_GROW, "seal bits are the kernel's");
VP_STATIC_ASSERT(VGNT_SEAL_WRITE == F_SEAL_WRITE, "seal bits are the kernel's");
VP_STATIC_ASSERT(VGNT_SEAL_FUTURE_WRITE == F_SEAL_FUTURE_WRITE, "seal bits are the kernel's");

int vgnt_host_seals(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	/* EINVAL: the file does not support sealing (not a memfd/shmem file) */
	return seals < 0 ? -errno : seals;
}

int vgnt_host_verify(int fd, size_t bytes, enum vgnt_access access)
{
	struct stat st;
	int seals, fl;
	unsigned int need;

	if (fd < 0)
		return -EBADF;
	if (bytes == 0 || (access != VGNT_ACCESS_RO && access != VGNT_ACCESS_RW))
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	seals = vgnt_host_seals(fd);
	if (seals < 0)
		return seals;
	need = VGNT_SEALS_SIZE;
	if (((unsigned int)seals & need) != need)
		return -EPERM;
	if (access == VGNT_ACCESS_RO) {
		if (!((unsigned int)seals & (VGNT_SEAL_WRITE | VGNT_SEAL_FUTURE_WRITE)))
			return -EPERM;
	} else {
		if ((unsigned int)seals & (VGNT_SEAL_WRITE | VGNT_SEAL_FUTURE_WRITE))
			return -EPERM;
		fl = fcntl(fd, F_GETFL);
		if (fl < 0)
			return -errno;
		if ((fl & O_ACCMODE) != O_RDWR)
			return -EACCES;
	}
	/* Size sealed above, so this size stays true for the mapping's life. */
	if (st.st_size < 0 || (unsigned long long)st.st_size != (unsigned long long)bytes)
		return -EMSGSIZE;
	return 0;
}

int vgnt_host_map(int fd, size_t bytes, enum vgnt_access access, struct vgnt_map *out)
{
	int rc = vgnt_host_verify(fd, bytes, access);
	int prot = access == VGNT_ACCESS_RW ? PROT_READ | PROT_WRITE : PROT_READ;
	void *p;

	if (rc < 0)
		return rc;
	p = mmap(NULL, bytes, prot, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	out->addr = p;
	out->bytes = bytes;
	out->access = access;
	return 0;
}

int vgnt_host_unmap(struct vgnt_map *m)
{
	if (m->addr == NULL)
		return 0;
	if (munmap(m->addr, m->bytes) < 0)
		return -errno;
	m->addr = NULL;
	return 0;
}

static int host_verify(const struct vgnt_ref *ref, size_t bytes, enum vgnt_access access)
{
	return vgnt_host_verify(ref->fd, bytes, access);
}

static int host_map(const struct vgnt_ref *ref, size_t bytes, enum vgnt_access access, struct vgnt_map *out)
{
	return vgnt_host_map(ref->fd, bytes, access, out);
}

const struct vgnt_map_ops vgnt_host_map_ops = {
	.name = "host",
	.verify = host_verify,
	.map = host_map,
	.unmap = vgnt_host_unmap,
};
