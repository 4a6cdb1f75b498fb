/* SPDX-License-Identifier: MIT */
/*
 * nf_evtchn.c - struct nf_evtchn_ops for the PV build (vpio/netfront.h's
 * contract): alloc = EVTCHNOP_alloc_unbound for the backend's domid,
 * notify = EVTCHNOP_send, close = EVTCHNOP_close, wait = until the port's
 * pending bit is set, then consume it (mo_pv_port_wait: a scheduler thread
 * blocks through the scheduler, nf_connect at boot polls Xen directly; no
 * spinning either way). Safe on distinct ports at once (one vCPU, the
 * pending bitmap is updated atomically).
 */
#include "pv.h"
#include "pv_nf.h"

static int ev_alloc(void *ctx, uint32_t remote_domid, uint32_t *port)
{
	(void)ctx;
	return pv_evtchn_alloc_unbound(remote_domid, port);
}

static int ev_notify(void *ctx, uint32_t port)
{
	int rc;

	(void)ctx;
	rc = pv_evtchn_send(port);
	return rc == -VP_EINVAL || rc == -VP_ENOENT ? -VP_EPIPE : rc; /* the channel is gone: so is the peer */
}

static int ev_wait(void *ctx, uint32_t port, int timeout_ms)
{
	return mo_pv_port_wait(ctx, port, timeout_ms);
}

static int ev_close(void *ctx, uint32_t port)
{
	(void)ctx;
	return pv_evtchn_close(port);
}

void pv_nf_evtchn_ops(struct nf_evtchn_ops *ops, struct mo_sched *s)
{
	ops->alloc = ev_alloc;
	ops->notify = ev_notify;
	ops->wait = ev_wait;
	ops->close = ev_close;
	ops->ctx = s;
}
