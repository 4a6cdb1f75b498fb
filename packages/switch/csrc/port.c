/* SPDX-License-Identifier: MIT */
/*
 * port.c - attaching and detaching ports, and the quiescence protocol.
 *
 * Concurrency model: these run on the control thread (the caller
 * serialises control calls). A port becomes visible to workers by one
 * release store into sw->ports[id] after it is fully built; it disappears
 * by a sequentially consistent store of NULL, after which
 * vsw_wait_quiescent() waits until every worker either is outside its busy
 * section (w->qs even) or has moved past the section it was in. A worker
 * increments qs (seq_cst) before it loads any port pointer, so after the
 * wait no worker holds the old pointer: its leases are complete, its
 * memory may be unmapped, its MAC entries are flushed. The wait is bounded
 * by one worker round (at most VSW_BATCH_MAX packets per port); it never
 * depends on a guest.
 *
 * Port groups (group.c): a port joining a group is published first, then
 * the group's member set that includes it (one more quiescent point). A
 * member leaving a group that keeps others is first taken out of the set
 * (a quiescent point: no worker picks it any more), then unpublished as
 * above; its MAC entries are the group's and stay. The last member's
 * removal flushes the group's entries after its quiescent point.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sw_internal.h"

#define MAX_BURST 10000000000ull /* keeps token arithmetic in 64 bits */

static int check_config(const struct vsw *sw, const struct vsw_port_config *c)
{
	uint32_t i;
	int rc;

	if (!c->tx_ring || !c->rx_ring || !c->pool)
		return -VP_EINVAL;
	if ((rc = vring_check_geometry(c->tx_slots, c->buf_size, c->nr_bufs)) ||
	    (rc = vring_check_geometry(c->rx_slots, c->buf_size, c->nr_bufs)))
		return rc;
	if (c->features & ~(uint32_t)VRING_FEAT_KNOWN)
		return -VP_EINVAL;
	if (((uintptr_t)c->tx_ring | (uintptr_t)c->rx_ring) & 15)
		return -VP_EINVAL;
	if (c->tx_ring_bytes < vring_ring_bytes(c->tx_slots) || c->rx_ring_bytes < vring_ring_bytes(c->rx_slots) ||
	    c->pool_bytes < (uint64_t)c->nr_bufs * c->buf_size)
		return -VP_ERANGE;
	if (c->flags & ~(VSW_PORT_MAC_LOCK | VSW_PORT_LOSSLESS | VSW_PORT_GROUP | VSW_PORT_XEN_EVTCHN))
		return -VP_EINVAL;
	if (c->vlan_mode == VSW_VLAN_ACCESS) {
		if (c->access_vid < 1 || c->access_vid > 4094)
			return -VP_EINVAL;
	} else if (c->vlan_mode == VSW_VLAN_TRUNK) {
		if (c->native_vid > 4094 || (c->n_trunk_vids && !c->trunk_vids) || c->n_trunk_vids > 4094)
			return -VP_EINVAL;
		for (i = 0; i < c->n_trunk_vids; i++)
			if (c->trunk_vids[i] < 1 || c->trunk_vids[i] > 4094)
				return -VP_EINVAL;
	} else {
		return -VP_EINVAL;
	}
	if (c->burst_pkts > MAX_BURST || c->burst_bytes > MAX_BURST / 8 || c->flood_burst > MAX_BURST ||
	    c->rate_pps > MAX_BURST || c->rate_bps > MAX_BURST * 8 || c->flood_pps > MAX_BURST)
		return -VP_EINVAL;
	if (c->tx_wait_fd < -1 || c->tx_notify_fd < -1 || c->rx_wait_fd < -1 || c->rx_notify_fd < -1)
		return -VP_EINVAL;
	if (!(c->flags & VSW_PORT_XEN_EVTCHN)) {
		if (c->tx_port || c->rx_port)
			return -VP_EINVAL; /* host ends have no port numbers */
	} else {
		/* a channel with an fd needs its local port; one without, none */
		if ((c->tx_wait_fd >= 0 || c->tx_notify_fd >= 0) ? (c->tx_port < 1 || c->tx_port > VSW_EVTCHN_PORT_MAX) : c->tx_port)
			return -VP_EINVAL;
		if ((c->rx_wait_fd >= 0 || c->rx_notify_fd >= 0) ? (c->rx_port < 1 || c->rx_port > VSW_EVTCHN_PORT_MAX) : c->rx_port)
			return -VP_EINVAL;
	}
	if (c->worker < -1 || (c->worker >= 0 && (uint32_t)c->worker >= (sw->nworkers ? sw->nworkers : 1)))
		return -VP_EINVAL;
	return vsw_group_check(sw, c);
}

#define VSW_MAX_STATIC 16u

int vsw_port_add(struct vsw *sw, const struct vsw_port_config *cfg, uint32_t *id_out)
{
	struct vsw_port *p;
	uint32_t id, w, i, nstatic, nw = sw->nworkers ? sw->nworkers : 1;
	uint64_t now;
	int rc = check_config(sw, cfg);

	if (rc)
		return rc;
	for (id = 0; id < VSW_MAX_PORTS && sw->ports[id]; id++)
		;
	if (id == VSW_MAX_PORTS)
		return -VP_ENOSPC;
	p = aligned_alloc(VP_CACHE_LINE, (sizeof(*p) + VP_CACHE_LINE - 1) & ~(size_t)(VP_CACHE_LINE - 1));
	if (!p)
		return -VP_ENOMEM;
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->ev = (cfg->flags & VSW_PORT_XEN_EVTCHN) ? &vsw_evtchn_xen : &vsw_evtchn_host;
	p->cfg = *cfg;
	p->cfg.trunk_vids = NULL;
	for (i = 0; cfg->vlan_mode == VSW_VLAN_TRUNK && i < cfg->n_trunk_vids; i++)
		p->vid_map[cfg->trunk_vids[i] >> 3] |= (uint8_t)(1u << (cfg->trunk_vids[i] & 7));
	if (cfg->vlan_mode == VSW_VLAN_TRUNK && cfg->native_vid)
		p->vid_map[cfg->native_vid >> 3] |= (uint8_t)(1u << (cfg->native_vid & 7));
	/* private state from the control plane's values, never from shared memory */
	rc = vring_be_adopt(&p->tx, cfg->tx_ring, cfg->pool, VRING_KIND_TX, cfg->tx_slots, cfg->buf_size, cfg->nr_bufs,
			    cfg->features);
	if (!rc)
		rc = vring_be_adopt(&p->rx, cfg->rx_ring, cfg->pool, VRING_KIND_RX, cfg->rx_slots, cfg->buf_size,
				    cfg->nr_bufs, cfg->features);
	if (!rc)
		rc = vsw_lease_init(p);
	if (rc) {
		vsw_lease_fini(p);
		free(p);
		return rc;
	}
	now = vsw_clock_now(sw);
	vsw_bucket_init(&p->rate_pkts, cfg->rate_pps, cfg->burst_pkts, now);
	vsw_bucket_init(&p->rate_bytes, cfg->rate_bps, cfg->burst_bytes * 8, now);
	vsw_bucket_init(&p->flood, cfg->flood_pps, cfg->flood_burst, now);

	if (cfg->worker >= 0) {
		w = (uint32_t)cfg->worker;
	} else {
		for (w = 0, i = 1; i < nw; i++)
			if (sw->workers[i].nports < sw->workers[w].nports)
				w = i;
	}
	p->worker = sw->nworkers ? w : sw->nworkers; /* no threads: the vsw_poll_once() pseudo-worker */
	for (i = 0; i <= sw->nworkers; i++)
		memset(&sw->workers[i].pc[id], 0, sizeof(struct vsw_pcount));
	sw->workers[p->worker].nports++;
	vsw_group_attach(sw, p);
	__atomic_store_n(&sw->ports[id], p, __ATOMIC_RELEASE); /* pairs with the acquire in vsw_port_get() */
	/* a MAC-locked port's own MAC is known: a static entry per VLAN it is on (best effort: a full bucket learns) */
	if ((cfg->flags & VSW_PORT_MAC_LOCK) && sw->lookup == &vsw_learning_ops) {
		if (cfg->vlan_mode == VSW_VLAN_ACCESS)
			(void)vsw_learn_static(sw, p, cfg->mac, cfg->access_vid);
		else /* a trunk: its first VSW_MAX_STATIC vids; the rest learn */
			for (i = 1, nstatic = 0; i < 4095 && nstatic < VSW_MAX_STATIC; i++)
				if ((p->vid_map[i >> 3] & (1u << (i & 7))) && !vsw_learn_static(sw, p, cfg->mac, (uint16_t)i))
					nstatic++;
	}
	vsw_group_join(sw, p); /* a joining port becomes a destination of its group */
	if (sw->nworkers && (rc = vsw_worker_watch(&sw->workers[p->worker], p, 1))) {
		vsw_port_remove(sw, id);
		return rc;
	}
	*id_out = id;
	return 0;
}

void vsw_wait_quiescent(struct vsw *sw)
{
	uint32_t i;

	for (i = 0; i <= sw->nworkers; i++) {
		struct vsw_worker *w = &sw->workers[i];
		/* pairs with the seq_cst increment in vsw_worker_qs_enter() */
		uint64_t s = __atomic_load_n(&w->qs, __ATOMIC_SEQ_CST);

		while ((s & 1) && __atomic_load_n(&w->qs, __ATOMIC_SEQ_CST) == s) {
			struct timespec ts = { 0, 20000 };

			nanosleep(&ts, NULL);
		}
	}
}

int vsw_port_remove(struct vsw *sw, uint32_t id)
{
	struct vsw_port *p = id < VSW_MAX_PORTS ? sw->ports[id] : NULL;
	int last;

	if (!p)
		return -VP_ENOENT;
	if (sw->nworkers)
		vsw_worker_watch(&sw->workers[p->worker], p, 0);
	last = vsw_group_leave(sw, p); /* others remain: no worker picks p from here on */
	__atomic_store_n(&sw->ports[id], NULL, __ATOMIC_SEQ_CST);
	vsw_wait_quiescent(sw);
	vsw_cap_port_gone(p); /* its capture stays readable; the caller frees it */
	if (last)
		vsw_learn_flush_group(sw, p->gslot); /* the slot is free from here on */
	sw->workers[p->worker].nports--;
	vsw_lease_fini(p);
	free(p);
	return 0;
}

uint32_t vsw_port_ids(const struct vsw *sw, uint32_t *ids, uint32_t max)
{
	uint32_t id, n = 0;

	for (id = 0; id < VSW_MAX_PORTS; id++)
		if (sw->ports[id] && n < max)
			ids[n++] = id;
	return n;
}
