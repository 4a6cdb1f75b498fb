/* SPDX-License-Identifier: MIT */
/*
 * vpio/grant_xen.h - the xen grant driver, both sides, over Xen's grant
 * tables through libxengnttab (Debian: libxen-dev):
 *
 *   share side (dom0, the netback)   csrc/grant_xen_share.c
 *       libxengntshr over /dev/xen/gntalloc: allocate N pages, grant each
 *       to one domain, map them contiguously for the owner
 *   map side (a PV guest)            csrc/grant_xen_map.c
 *       libxengnttab over /dev/xen/gntdev: map N grant refs of one domain
 *       contiguously
 *
 * A region of N pages is N grant refs, one per 4 KiB page, in page order
 * (refs[k] names page k). The grantee names a region by the granting domid
 * and its refs; nothing else travels (no descriptor, no broker).
 *
 *     owner (dom0)                                   grantee (domU)
 *     addr ─┬─ page 0 ── ref refs[0] ──────────▶ map(domid 0, refs, N) ─┬─ page 0
 *           ├─ page 1 ── ref refs[1] ──────────▶                        ├─ page 1
 *           └─ ...                                                      └─ ...
 *
 * Handles. Every call opens its own libxengnttab handle and closes it before
 * returning: a mapping made through /dev/xen/gntalloc or /dev/xen/gntdev
 * holds the device file open itself, so no descriptor stays behind per
 * region and unsharing/unmapping is munmap() of the whole range (what
 * libxengnttab's Linux xengntshr_unshare() does; for gntdev, the last
 * reference to the device file going away ends the grant mapping, which is
 * what xengnttab_unmap()'s UNMAP_GRANT_REF ioctl would do earlier).
 *
 * Lifetimes on Xen:
 *   - unshare (owner): gntalloc ends foreign access to each page; a page the
 *     grantee still maps is not reused: the kernel keeps it and retries
 *     until the grantee unmaps (or dies). There is no "stop new mappings but
 *     keep mine": Xen grants end with the owner's mapping.
 *   - unmap (grantee): the mapping goes; the owner's pages are unaffected.
 *
 * Limits (see the package README, "Xen limits"):
 *   - /sys/module/xen_gntalloc/parameters/limit: pages all gntalloc users of
 *     the owner's kernel may hold together (default 1024). Sharing past it
 *     fails with -ENOSPC. Writable at runtime (root).
 *   - Xen's gnttab_max_frames (hypervisor command line, default 64): the
 *     owner domain's grant table, 512 v1 entries per frame. Exhausting it
 *     also fails with -ENOSPC.
 *   - /sys/module/xen_gntdev/parameters/limit: grants one gntdev mapping
 *     request may map (Linux 6.1: 65536). -EINVAL past it.
 *
 * Return values: 0 or a negative errno, as documented per function. The
 * library's own logging is silenced (errors come back as errno only).
 * Thread safety: none needed; every call works on its arguments only.
 */
#ifndef VPIO_GRANT_XEN_H
#define VPIO_GRANT_XEN_H

#include <stddef.h>
#include <stdint.h>

#include "vpio/grant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Xen's grant granularity (XC_PAGE_SIZE on x86). */
#define VGNT_XEN_PAGE_BYTES 4096u

/* Pages one share or map call accepts (an argument bound, not Xen's limit). */
#define VGNT_XEN_MAX_PAGES (1u << 20)

/* The device nodes each side needs (absent outside a Xen domain). */
#define VGNT_XEN_GNTALLOC_PATH "/dev/xen/gntalloc"
#define VGNT_XEN_GNTDEV_PATH "/dev/xen/gntdev"

/* Where the kernel's limits live (read them for messages; gntalloc's is writable). */
#define VGNT_XEN_GNTALLOC_LIMIT_PATH "/sys/module/xen_gntalloc/parameters/limit"
#define VGNT_XEN_GNTDEV_LIMIT_PATH "/sys/module/xen_gntdev/parameters/limit"

/* ---- share side (dom0) ------------------------------------------------- */

/*
 * Allocates npages zeroed pages, grants each to `domid` (read-write for
 * VGNT_ACCESS_RW, read-only for VGNT_ACCESS_RO) and maps them read-write,
 * contiguously, for the caller. refs[0..npages) receives the grant refs in
 * page order; *addr the mapping. Returns 0, or:
 *   -EINVAL  npages 0 or above VGNT_XEN_MAX_PAGES, domid above 0x7fef, a bad
 *            access, NULL refs/addr
 *   -ENOENT  no /dev/xen/gntalloc (not a Xen domain, or xen-gntalloc not loaded)
 *   -ENOSPC  the gntalloc limit or the domain's grant table is exhausted
 *            (vgnt_xen_gntalloc_limit() tells which is likelier)
 *   -ENOMEM, -EACCES, -errno  from opening the device, the ioctl or mmap
 * Nothing stays allocated on failure.
 */
int vgnt_xen_share(uint32_t domid, uint32_t npages, enum vgnt_access access, uint32_t *refs, void **addr);

/*
 * Ends the grants of a region made by vgnt_xen_share() and unmaps it
 * (munmap of npages pages at addr). Pages the grantee still maps stay
 * allocated until it unmaps them (see the header comment). 0, 0 when addr
 * is NULL, or -EINVAL from munmap.
 */
int vgnt_xen_unshare(void *addr, uint32_t npages);

/*
 * The gntalloc limit in pages (>= 0) read from VGNT_XEN_GNTALLOC_LIMIT_PATH,
 * or -errno (-ENOENT: the module is not loaded / not a Xen kernel).
 */
int vgnt_xen_gntalloc_limit(void);

/* ---- map side (a guest) ------------------------------------------------ */

/*
 * Maps n grant refs of `domid` as one contiguous range of n pages
 * (PROT_READ for VGNT_ACCESS_RO, PROT_READ|PROT_WRITE for VGNT_ACCESS_RW).
 * 0 and *out filled (bytes = n * VGNT_XEN_PAGE_BYTES), or:
 *   -EINVAL  n 0 or above VGNT_XEN_MAX_PAGES, a bad access, NULL refs/out;
 *            also from the kernel for a count above gntdev's limit
 *   -ENOENT  no /dev/xen/gntdev
 *   -EFAULT/-EINVAL/-ENOMEM/-errno  a ref that is not granted to us, granted
 *            read-only when asked rw, or ended meanwhile (the hypervisor's
 *            GNTST_* is reported by the kernel as one of these)
 */
int vgnt_xen_map_refs(uint32_t domid, const uint32_t *refs, uint32_t n, enum vgnt_access access,
		      struct vgnt_map *out);

/* Unmaps a vgnt_xen_map_refs() mapping. 0 (also when m->addr is NULL) or -EINVAL. */
int vgnt_xen_unmap(struct vgnt_map *m);

/*
 * struct vgnt_map_ops over the map side, for one-ref grants named by
 * struct vgnt_ref.domid/.ref: `bytes` must be VGNT_XEN_PAGE_BYTES. verify()
 * maps and unmaps (there is no cheaper check on Xen).
 */
extern const struct vgnt_map_ops vgnt_xen_map_ops;

#ifdef __cplusplus
}
#endif

#endif /* VPIO_GRANT_XEN_H */
