/* SPDX-License-Identifier: MIT */
/*
 * xs_pv.c - the xenstore client (packages/xenstore, vpio/xs.h) over the
 * guest's xenbus ring: the store page (start_info->store_mfn, mapped by the
 * builder) and the store event channel, through the shared ring transport
 * (xs_transport_ring.c). The transport's notify is EVTCHNOP_send; its wait
 * blocks through the scheduler from a thread, else polls Xen directly.
 */
#include "pv.h"
#include "pv_nf.h"

static struct xs_ring_transport ring;
static struct xs_transport tr;
static struct {
	struct mo_sched *s;
	uint32_t port;
} store;

static int store_notify(void *ctx)
{
	(void)ctx;
	return pv_evtchn_send(store.port);
}

static int store_wait(void *ctx, int timeout_ms)
{
	(void)ctx;
	return mo_pv_port_wait(store.s, store.port, timeout_ms);
}

int pv_xs_open(struct xs_handle *h, struct mo_sched *s, void *event_buf, uint32_t event_buf_bytes)
{
	void *page;
	int rc, tries;

	if (!pv_start_info->store_mfn)
		return -VP_ENOENT;
	store.s = s;
	store.port = pv_start_info->store_evtchn;
	page = pv_mfn_to_va(pv_start_info->store_mfn);
	/* a ring being reset by the daemon answers -EAGAIN: wait for its event and try again (a few times) */
	for (tries = 0; (rc = xs_ring_transport_init(&ring, &tr, page, store_notify, store_wait, NULL)) == -VP_EAGAIN &&
			tries < 50;
	     tries++)
		(void)store_wait(NULL, 100);
	if (rc)
		return rc;
	return xs_open(h, &tr, event_buf, event_buf_bytes);
}
