/* SPDX-License-Identifier: MIT */
/*
 * test-grant-xen - the xen grant driver's C side (vpio/grant_xen.h).
 *
 * Everywhere: bad arguments are -EINVAL before any device is touched.
 * Without Xen (no /dev/xen/gntalloc, gntdev): share and map are -ENOENT and
 * leave no descriptor; the gntalloc limit is unreadable (-ENOENT).
 * In a Xen domain, with VPIO_XEN_SELF_DOMID set to this domain's id (the
 * lab sets 0 in dom0): a multi-page region shared to ourselves maps back
 * with the same bytes both ways, read-only grants refuse a writable map,
 * the gntalloc limit is enforced (-ENOSPC), and nothing stays open or
 * mapped after unshare/unmap. TAP via vpio/tap.h; ASan + UBSan.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vpio/grant_xen.h"
#include "vpio/tap.h"

#define NPAGES 64

static uint32_t self_domid;

static int maps_mention(const char *what)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, what))
			n++;
	fclose(f);
	return n;
}

static void t_bad_arguments(void)
{
	uint32_t refs[2];
	void *addr;
	struct vgnt_map m;

	CHECK_EQ(vgnt_xen_share(1, 0, VGNT_ACCESS_RW, refs, &addr), -EINVAL);
	CHECK_EQ(vgnt_xen_share(1, VGNT_XEN_MAX_PAGES + 1, VGNT_ACCESS_RW, refs, &addr), -EINVAL);
	CHECK_EQ(vgnt_xen_share(0x7ff0, 1, VGNT_ACCESS_RW, refs, &addr), -EINVAL);
	CHECK_EQ(vgnt_xen_share(1, 1, (enum vgnt_access)7, refs, &addr), -EINVAL);
	CHECK_EQ(vgnt_xen_share(1, 1, VGNT_ACCESS_RW, NULL, &addr), -EINVAL);
	CHECK_EQ(vgnt_xen_map_refs(1, refs, 0, VGNT_ACCESS_RW, &m), -EINVAL);
	CHECK_EQ(vgnt_xen_map_refs(1, NULL, 1, VGNT_ACCESS_RW, &m), -EINVAL);
	CHECK_EQ(vgnt_xen_map_refs(1, refs, 1, (enum vgnt_access)7, &m), -EINVAL);
	CHECK_EQ(vgnt_xen_unshare(NULL, 1), 0);
	m.addr = NULL;
	CHECK_EQ(vgnt_xen_unmap(&m), 0);
}

static void t_no_xen_is_enoent(void)
{
	uint32_t refs[4] = { 8, 9, 10, 11 };
	void *addr = NULL;
	struct vgnt_map m = { 0 };
	struct vgnt_ref r = { .fd = -1, .domid = 0, .ref = 8 };
	int fds = tap_open_fds();

	CHECK_EQ(vgnt_xen_share(1, 4, VGNT_ACCESS_RW, refs, &addr), -ENOENT);
	CHECK(addr == NULL);
	CHECK_EQ(vgnt_xen_map_refs(0, refs, 4, VGNT_ACCESS_RW, &m), -ENOENT);
	CHECK(m.addr == NULL);
	CHECK_EQ(vgnt_xen_map_ops.map(&r, VGNT_XEN_PAGE_BYTES, VGNT_ACCESS_RO, &m), -ENOENT);
	CHECK_EQ(vgnt_xen_gntalloc_limit(), -ENOENT);
	CHECK_EQ(tap_open_fds(), fds);
}

static void pattern(uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)((i / VGNT_XEN_PAGE_BYTES) * 131u + i * 7u + seed);
}

static int check_pattern(const uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != (uint8_t)((i / VGNT_XEN_PAGE_BYTES) * 131u + i * 7u + seed))
			return 0;
	return 1;
}

static void t_self_round_trip(void)
{
	uint32_t refs[NPAGES];
	void *addr = NULL;
	struct vgnt_map m = { 0 };
	size_t bytes = (size_t)NPAGES * VGNT_XEN_PAGE_BYTES;
	int fds = tap_open_fds(), i, distinct = 1;

	CHECK_EQ(vgnt_xen_share(self_domid, NPAGES, VGNT_ACCESS_RW, refs, &addr), 0);
	if (!addr)
		return;
	for (i = 1; i < NPAGES; i++)
		if (refs[i] == refs[i - 1])
			distinct = 0;
	CHECK(distinct);
	CHECK_EQ(tap_open_fds(), fds); /* the handle is closed; the mapping holds the device */
	CHECK_EQ(maps_mention("gntalloc"), 1);
	pattern(addr, bytes, 3);
	CHECK_EQ(vgnt_xen_map_refs(self_domid, refs, NPAGES, VGNT_ACCESS_RW, &m), 0);
	if (m.addr) {
		CHECK_EQ(m.bytes, bytes);
		CHECK(check_pattern(m.addr, bytes, 3));
		pattern(m.addr, bytes, 99); /* the grantee writes, the owner sees it */
		CHECK(check_pattern(addr, bytes, 99));
		CHECK_EQ(maps_mention("gntdev"), 1);
		CHECK_EQ(vgnt_xen_unmap(&m), 0);
		CHECK(m.addr == NULL);
	}
	CHECK_EQ(vgnt_xen_unshare(addr, NPAGES), 0);
	CHECK_EQ(maps_mention("gntalloc"), 0);
	CHECK_EQ(maps_mention("gntdev"), 0);
	CHECK_EQ(tap_open_fds(), fds);
}

static void t_self_read_only(void)
{
	uint32_t ref;
	void *addr = NULL;
	struct vgnt_map m = { 0 };
	struct vgnt_ref r = { .fd = -1, .domid = self_domid };

	CHECK_EQ(vgnt_xen_share(self_domid, 1, VGNT_ACCESS_RO, &ref, &addr), 0);
	if (!addr)
		return;
	strcpy(addr, "read-only grant");
	r.ref = ref;
	CHECK(vgnt_xen_map_refs(self_domid, &ref, 1, VGNT_ACCESS_RW, &m) < 0);
	CHECK(m.addr == NULL);
	CHECK_EQ(vgnt_xen_map_ops.verify(&r, VGNT_XEN_PAGE_BYTES, VGNT_ACCESS_RO), 0);
	CHECK_EQ(vgnt_xen_map_ops.map(&r, VGNT_XEN_PAGE_BYTES, VGNT_ACCESS_RO, &m), 0);
	if (m.addr) {
		CHECK_STR((const char *)m.addr, "read-only grant");
		CHECK_EQ(vgnt_xen_map_ops.unmap(&m), 0);
	}
	CHECK_EQ(vgnt_xen_unshare(addr, 1), 0);
}

static void t_self_gntalloc_limit(void)
{
	int limit = vgnt_xen_gntalloc_limit();
	uint32_t *refs;
	void *addr = NULL;

	CHECK(limit > 0);
	if (limit <= 0)
		return;
	refs = calloc((size_t)limit + 1, sizeof(*refs));
	CHECK_EQ(vgnt_xen_share(self_domid, (uint32_t)limit + 1, VGNT_ACCESS_RW, refs, &addr), -ENOSPC);
	CHECK(addr == NULL);
	free(refs);
}

int main(void)
{
	const char *self = getenv("VPIO_XEN_SELF_DOMID");
	int xen = access(VGNT_XEN_GNTALLOC_PATH, F_OK) == 0 && access(VGNT_XEN_GNTDEV_PATH, F_OK) == 0;

	tap_run("bad arguments are -EINVAL before any device is opened", t_bad_arguments);
	if (!xen) {
		tap_run("without /dev/xen/gntalloc and gntdev, share and map are -ENOENT and leave nothing open",
			t_no_xen_is_enoent);
		return tap_done();
	}
	if (!self) {
		printf("# a Xen domain, but VPIO_XEN_SELF_DOMID is not set: skipping the self-grant cases\n");
		return tap_done();
	}
	self_domid = (uint32_t)strtoul(self, NULL, 10);
	tap_run("64 pages shared to ourselves map back with the same bytes both ways; nothing left after", t_self_round_trip);
	tap_run("a read-only grant refuses a writable map and maps read-only (vgnt_xen_map_ops)", t_self_read_only);
	tap_run("sharing one page past the gntalloc limit is -ENOSPC", t_self_gntalloc_limit);
	return tap_done();
}
