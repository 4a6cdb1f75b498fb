/* SPDX-License-Identifier: MIT */
/*
 * host_grant_static.c - struct nf_grant_ops for host mode over inherited
 * descriptors (VPIO_NF_GRANTS), mapped with @vpio/grant's checked map side.
 * See vpio/netfront_host.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vpio/grant.h"
#include "vpio/netfront_host.h"

int nf_host_grants_parse(struct nf_host_grants *g, const char *table)
{
	const char *p = table ? table : getenv("VPIO_NF_GRANTS");

	memset(g, 0, sizeof(*g));
	if (!p)
		return -ENOENT;
	while (*p) {
		char *end;
		unsigned long ref, fd;
		uint32_t i;

		if (g->n == NF_HOST_MAX_GRANTS || *p < '0' || *p > '9')
			return -EINVAL;
		ref = strtoul(p, &end, 10);
		if (*end != ':' || ref > 0xffffffffUL || end[1] < '0' || end[1] > '9')
			return -EINVAL;
		fd = strtoul(end + 1, &end, 10);
		if ((*end != ',' && *end != '\0') || fd > 1u << 20)
			return -EINVAL;
		for (i = 0; i < g->n; i++)
			if (g->e[i].ref == ref)
				return -EINVAL;
		g->e[g->n].ref = (uint32_t)ref;
		g->e[g->n].fd = (int)fd;
		g->n++;
		p = *end ? end + 1 : end;
	}
	return 0;
}

static int host_map(void *ctx, uint32_t domid, const uint32_t *refs, uint32_t n, uint64_t bytes, int writable,
		    void **addr)
{
	struct nf_host_grants *g = ctx;
	struct vgnt_map m;
	uint32_t i;
	int rc;

	(void)domid; /* host: the descriptor itself names the grant */
	if (n != 1 || bytes == 0)
		return -EINVAL;
	for (i = 0; i < g->n; i++)
		if (g->e[i].ref == refs[0])
			break;
	if (i == g->n)
		return -ENOENT;
	rc = vgnt_host_map(g->e[i].fd, (size_t)bytes, writable ? VGNT_ACCESS_RW : VGNT_ACCESS_RO, &m);
	if (rc)
		return rc;
	*addr = m.addr;
	return 0;
}

static int host_unmap(void *ctx, void *addr, uint64_t bytes)
{
	struct vgnt_map m = { .addr = addr, .bytes = (size_t)bytes, .access = VGNT_ACCESS_RW };

	(void)ctx;
	return vgnt_host_unmap(&m);
}

void nf_host_grant_ops(struct nf_grant_ops *ops, struct nf_host_grants *g)
{
	ops->map = host_map;
	ops->unmap = host_unmap;
	ops->ctx = g;
}
