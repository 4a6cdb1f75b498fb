/* SPDX-License-Identifier: MIT */
/*
 * host_broker.c - struct nf_grant_ops / struct nf_evtchn_ops over vpiod's
 * grant and event-channel brokers (@vpio/guest), and the one-call session
 * setup of a `vpio run` guest. See vpio/netfront_broker.h.
 */
#include <errno.h>
#include <string.h>

#include "vpio/evtchn.h"
#include "vpio/netfront_broker.h"

void nf_broker_init(struct nf_broker *b, struct vpio_guest *g)
{
	uint32_t i;

	memset(b, 0, sizeof(*b));
	b->g = g;
	for (i = 0; i < NF_BROKER_MAX_PORTS; i++)
		b->ports[i].end.rx_fd = b->ports[i].end.tx_fd = -1;
}

static int port_index(const struct nf_broker *b, uint32_t port)
{
	uint32_t i;

	if (port == 0)
		return -1;
	for (i = 0; i < NF_BROKER_MAX_PORTS; i++)
		if (b->ports[i].port == port)
			return (int)i;
	return -1;
}

int nf_broker_port_fd(const struct nf_broker *b, uint32_t port)
{
	int i = port_index(b, port);

	return i < 0 ? -1 : b->ports[i].end.rx_fd;
}

/* ---- grants ---- */

static int broker_map(void *ctx, uint32_t domid, const uint32_t *refs, uint32_t n, uint64_t bytes, int writable,
		      void **addr)
{
	struct nf_broker *b = ctx;
	struct vpio_grant_mapping m;
	uint32_t i;
	int rc;

	if (!refs || n == 0 || n > VPIO_GRANT_MAP_MAX_REFS || bytes == 0 || !addr)
		return -EINVAL;
	for (i = 0; i < NF_BROKER_MAX_MAPS; i++)
		if (!b->maps[i].addr)
			break;
	if (i == NF_BROKER_MAX_MAPS)
		return -ENOSPC;
	rc = vpio_grant_map(b->g, domid, refs, n, writable, &m);
	if (rc < 0)
		return rc;
	if ((uint64_t)m.bytes < bytes) {
		/* the regions are smaller than the geometry the backend advertised */
		(void)vpio_grant_unmap(b->g, &m);
		return -EPROTO;
	}
	b->maps[i] = m;
	*addr = m.addr;
	return 0;
}

static int broker_unmap(void *ctx, void *addr, uint64_t bytes)
{
	struct nf_broker *b = ctx;
	uint32_t i;

	(void)bytes; /* the whole mapping goes: the broker knows its size */
	if (!addr)
		return -EINVAL;
	for (i = 0; i < NF_BROKER_MAX_MAPS; i++)
		if (b->maps[i].addr == addr)
			return vpio_grant_unmap(b->g, &b->maps[i]);
	return -ENOENT;
}

/* ---- event channels ---- */

static int broker_alloc(void *ctx, uint32_t remote, uint32_t *port)
{
	struct nf_broker *b = ctx;
	struct evtchn_end end;
	uint32_t i, p;
	int rc;

	if (!port)
		return -EINVAL;
	for (i = 0; i < NF_BROKER_MAX_PORTS; i++)
		if (b->ports[i].port == 0)
			break;
	if (i == NF_BROKER_MAX_PORTS)
		return -ENOSPC;
	rc = vpio_evtchn_alloc_unbound(b->g, remote, &p, &end);
	if (rc < 0)
		return rc;
	if (p == 0 || port_index(b, p) >= 0) {
		/* vpiod handed out a port this guest already holds, or 0 */
		(void)vpio_evtchn_close(b->g, p, &end);
		return -EPROTO;
	}
	b->ports[i].port = p;
	b->ports[i].end = end;
	*port = p;
	return 0;
}

static int broker_notify(void *ctx, uint32_t port)
{
	struct nf_broker *b = ctx;
	int i = port_index(b, port), rc;

	if (i < 0)
		return -EINVAL;
	rc = evtchn_notify(b->ports[i].end.tx_fd);
	return rc < 0 ? rc : 0;
}

static int broker_wait(void *ctx, uint32_t port, int timeout_ms)
{
	struct nf_broker *b = ctx;
	int i = port_index(b, port), rc;

	if (i < 0)
		return -EINVAL;
	rc = evtchn_wait(b->ports[i].end.rx_fd, timeout_ms);
	if (rc <= 0)
		return rc;
	rc = evtchn_drain(b->ports[i].end.rx_fd);
	return rc < 0 ? rc : 1;
}

static int broker_close(void *ctx, uint32_t port)
{
	struct nf_broker *b = ctx;
	int i = port_index(b, port), rc;

	if (i < 0)
		return -EINVAL;
	rc = vpio_evtchn_close(b->g, port, &b->ports[i].end);
	/* the descriptors are closed either way: the port is gone locally */
	b->ports[i].port = 0;
	b->ports[i].end.rx_fd = b->ports[i].end.tx_fd = -1;
	return rc;
}

void nf_broker_ops(struct nf_broker *b, struct nf_grant_ops *gops, struct nf_evtchn_ops *eops)
{
	gops->map = broker_map;
	gops->unmap = broker_unmap;
	gops->ctx = b;
	eops->alloc = broker_alloc;
	eops->notify = broker_notify;
	eops->wait = broker_wait;
	eops->close = broker_close;
	eops->ctx = b;
}

void nf_broker_fini(struct nf_broker *b)
{
	uint32_t i;

	if (!b->g)
		return;
	for (i = 0; i < NF_BROKER_MAX_PORTS; i++)
		if (b->ports[i].port)
			(void)broker_close(b, b->ports[i].port);
	for (i = 0; i < NF_BROKER_MAX_MAPS; i++)
		if (b->maps[i].addr)
			(void)vpio_grant_unmap(b->g, &b->maps[i]);
}

/* ---- session ---- */

int nf_session_open(struct nf_session *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = vpio_guest_open(&s->g);
	if (rc < 0)
		return rc;
	/* the guest owns xs_fd (vpio_guest_close closes it), the transport borrows it */
	rc = xs_fd_transport_adopt(&s->xs_ft, &s->xs_tr, s->g.xs_fd, 0);
	if (rc == 0)
		rc = xs_open(&s->xs, &s->xs_tr, s->xs_events, sizeof(s->xs_events));
	if (rc) {
		vpio_guest_close(&s->g);
		return rc < 0 ? rc : -EINVAL;
	}
	nf_broker_init(&s->b, &s->g);
	nf_broker_ops(&s->b, &s->gops, &s->eops);
	s->open = 1;
	return 0;
}

void nf_session_config(struct nf_session *s, struct nf_config *cfg, uint32_t devid, enum nf_mode mode,
		       int timeout_ms)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->devid = devid;
	cfg->xs = &s->xs;
	cfg->grant = &s->gops;
	cfg->evtchn = &s->eops;
	cfg->mode = mode;
	cfg->timeout_ms = timeout_ms;
}

void nf_session_close(struct nf_session *s)
{
	if (!s->open)
		return;
	nf_broker_fini(&s->b);
	xs_close(&s->xs);
	vpio_guest_close(&s->g);
	s->open = 0;
}
