/* SPDX-License-Identifier: MIT */
/*
 * vpio/grant.h - the map side of vpio grants: what a guest (netfront,
 * minios, linux-netfront) calls to map memory another domain granted it.
 * The grant side (creating and sealing regions) is dom0's and lives in
 * vpio/grant_share.h.
 *
 * A grant is a whole region, granted to exactly one (grantee, access) pair.
 * How a guest names it depends on the driver:
 *
 *   host driver  (grant_host_map.c)  a memfd descriptor the broker passed
 *                over the guest's control socket (struct vgnt_ref.fd)
 *   xen driver   (later, a sibling file)  the granting domain and grant
 *                reference (struct vgnt_ref.domid/.ref) through gntdev
 *
 * Drivers sit behind struct vgnt_map_ops; code above picks one ops table
 * and never branches on the mode.
 *
 * Host driver rules (DESIGN.md, "Host mode: isolation"): a descriptor is
 * mapped only if
 *   - it is a memfd whose size is sealed: F_SEAL_SHRINK | F_SEAL_GROW |
 *     F_SEAL_SEAL (an unsealed region could be shrunk by its owner under
 *     our mapping and SIGBUS us on the next access);
 *   - its size (fstat) is exactly the size the broker promised;
 *   - for a read-only grant, it also carries F_SEAL_FUTURE_WRITE (or
 *     F_SEAL_WRITE): a read-only descriptor alone is not enough, since it
 *     can be reopened read-write through /proc/self/fd/N;
 *   - for a read-write grant, it carries neither write seal and the
 *     descriptor was opened read-write.
 * Read-only grants are mapped PROT_READ, MAP_SHARED; the kernel refuses a
 * later mprotect(PROT_WRITE) on them.
 *
 * Every function returns 0 or a negative errno; no function allocates
 * memory beyond the mapping itself. Thread safety: none needed, every call
 * works on its arguments only.
 */
#ifndef VPIO_GRANT_H
#define VPIO_GRANT_H

#include <stddef.h>
#include <stdint.h>

#include "vpio/compiler.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Access a grant gives its grantee. */
enum vgnt_access {
	VGNT_ACCESS_RO = 0,
	VGNT_ACCESS_RW = 1,
};

/* Seal bits (Linux F_SEAL_*; the values are ABI, repeated here so guests
 * need not include <fcntl.h>). */
#define VGNT_SEAL_SEAL 0x0001u
#define VGNT_SEAL_SHRINK 0x0002u
#define VGNT_SEAL_GROW 0x0004u
#define VGNT_SEAL_WRITE 0x0008u
#define VGNT_SEAL_FUTURE_WRITE 0x0010u

/* Seals every mappable host region carries. */
#define VGNT_SEALS_SIZE (VGNT_SEAL_SHRINK | VGNT_SEAL_GROW | VGNT_SEAL_SEAL)

/* How the guest names a grant. host: fd; xen: domid + ref. */
struct vgnt_ref {
	int fd;         /* host driver: the region's descriptor (borrowed) */
	uint32_t domid; /* xen driver: the granting domain */
	uint32_t ref;   /* xen driver: the grant reference */
};

/* A mapping made by a driver's map(). */
struct vgnt_map {
	void *addr;              /* NULL when not mapped */
	size_t bytes;            /* as promised and verified */
	enum vgnt_access access; /* what the mapping allows */
};

/*
 * A map-side driver.
 *
 * verify(ref, bytes, access)
 *   0 if ref could be mapped with that size and access;
 *   -EBADF   not an open descriptor
 *   -EINVAL  bytes == 0, a bad access value, or not a sealable memfd
 *            (or not a regular file)
 *   -EPERM   a required seal is missing (size not sealed, or a read-only
 *            grant without a write seal), or an rw grant that is
 *            write-sealed
 *   -EMSGSIZE  the region's size is not `bytes`
 *   -EACCES  an rw grant through a descriptor not opened read-write
 *
 * map(ref, bytes, access, out)
 *   verify(), then mmap MAP_SHARED (PROT_READ for ro, PROT_READ|PROT_WRITE
 *   for rw). 0 and *out filled, or verify's errors, or mmap's -errno
 *   (-ENOMEM, -EPERM, ...). The descriptor stays the caller's: it may be
 *   closed right after map() returns.
 *
 * unmap(m)
 *   0 and m->addr = NULL; 0 also when m->addr is already NULL; -EINVAL
 *   from munmap on a corrupted struct.
 */
struct vgnt_map_ops {
	const char *name;
	int (*verify)(const struct vgnt_ref *ref, size_t bytes, enum vgnt_access access);
	int (*map)(const struct vgnt_ref *ref, size_t bytes, enum vgnt_access access, struct vgnt_map *out);
	int (*unmap)(struct vgnt_map *m);
};

/* The host driver (memfd descriptors). */
extern const struct vgnt_map_ops vgnt_host_map_ops;

/* The host driver's functions, for callers that hold a bare descriptor. */
int vgnt_host_verify(int fd, size_t bytes, enum vgnt_access access);
int vgnt_host_map(int fd, size_t bytes, enum vgnt_access access, struct vgnt_map *out);
int vgnt_host_unmap(struct vgnt_map *m);

/* The seals on fd (VGNT_SEAL_* bits, >= 0) or -errno (-EINVAL: not a
 * sealable file). For diagnostics and tests. */
int vgnt_host_seals(int fd);

#ifdef __cplusplus
}
#endif

#endif /* VPIO_GRANT_H */
