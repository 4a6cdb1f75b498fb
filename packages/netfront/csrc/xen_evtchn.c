/* SPDX-License-Identifier: MIT */
/*
 * xen_evtchn.c - struct nf_evtchn_ops for xen mode: one xenevtchn handle
 * per port (@vpio/evtchn's vpio/evtchn_xen.h). See vpio/netfront_xen.h.
 */
#include <errno.h>
#include <string.h>

#include "vpio/netfront_xen.h"

void nf_xen_evtchns_init(struct nf_xen_evtchns *e)
{
	uint32_t i;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < NF_XEN_MAX_PORTS; i++)
		e->e[i].fd = -1;
}

static int find(const struct nf_xen_evtchns *e, uint32_t port)
{
	uint32_t i;

	if (port == 0)
		return -1;
	for (i = 0; i < NF_XEN_MAX_PORTS; i++)
		if (e->e[i].xce && e->e[i].port == port)
			return (int)i;
	return -1;
}

static int xen_alloc(void *ctx, uint32_t remote, uint32_t *port)
{
	struct nf_xen_evtchns *e = ctx;
	uint32_t i;
	int rc;

	for (i = 0; i < NF_XEN_MAX_PORTS; i++) {
		if (e->e[i].xce)
			continue;
		rc = evtchn_xen_alloc_unbound(&e->e[i], remote);
		if (rc)
			return rc;
		*port = e->e[i].port;
		return 0;
	}
	return -ENOSPC;
}

static int xen_notify(void *ctx, uint32_t port)
{
	struct nf_xen_evtchns *e = ctx;
	int i = find(e, port);

	if (i < 0)
		return -EINVAL;
	return evtchn_xen_fd_notify(e->e[i].fd, e->e[i].port);
}

static int xen_wait(void *ctx, uint32_t port, int timeout_ms)
{
	struct nf_xen_evtchns *e = ctx;
	int i = find(e, port), rc;

	if (i < 0)
		return -EINVAL;
	rc = evtchn_xen_fd_wait(e->e[i].fd, timeout_ms);
	if (rc <= 0)
		return rc;
	rc = evtchn_xen_fd_consume(e->e[i].fd);
	return rc < 0 ? rc : 1;
}

static int xen_close(void *ctx, uint32_t port)
{
	struct nf_xen_evtchns *e = ctx;
	int i = find(e, port);

	if (i < 0)
		return -EINVAL;
	return evtchn_xen_close(&e->e[i]); /* the slot is free (xce NULL) either way */
}

void nf_xen_evtchn_ops(struct nf_evtchn_ops *ops, struct nf_xen_evtchns *e)
{
	ops->alloc = xen_alloc;
	ops->notify = xen_notify;
	ops->wait = xen_wait;
	ops->close = xen_close;
	ops->ctx = e;
}

int nf_xen_port_fd(const struct nf_xen_evtchns *e, uint32_t port)
{
	int i = find(e, port);

	return i < 0 ? -1 : e->e[i].fd;
}

void nf_xen_evtchns_fini(struct nf_xen_evtchns *e)
{
	uint32_t i;

	for (i = 0; i < NF_XEN_MAX_PORTS; i++)
		(void)evtchn_xen_close(&e->e[i]);
}
