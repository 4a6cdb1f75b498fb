/* SPDX-License-Identifier: MIT */
/*
 * pv_nf.h - what the PV build plugs into the shared cores: the netfront's
 * grant and event-channel ops (gnttab.c, nf_evtchn.c) and the xenstore
 * client over the xenbus ring (xs_pv.c).
 */
#ifndef MINIOS_PV_NF_H
#define MINIOS_PV_NF_H

#include "sched.h"
#include "vpio/netfront.h"
#include "vpio/xs.h"

/* Grant maps: counters since boot. */
struct pv_gnttab_stats {
	uint64_t map_requests;   /* nf_grant_ops.map calls that reached the hypervisor */
	uint64_t map_calls;      /* GNTTABOP_map_grant_ref hypercalls (batches) */
	uint64_t pages_mapped;
	uint64_t map_errors;     /* refs that did not map (a hypercall error counts every ref of its batch) */
	uint64_t unmap_calls;    /* GNTTABOP_unmap_grant_ref hypercalls */
	uint64_t pages_unmapped;
	uint64_t unmap_errors;
	uint64_t window_full;    /* maps refused: no free run in the grant window */
};

/* nf_grant_ops over the grant window (ctx unused). */
void pv_nf_grant_ops(struct nf_grant_ops *ops);
const struct pv_gnttab_stats *pv_gnttab_stats(void);
/* Mappings currently held (0 after every vif disconnected). */
uint32_t pv_gnttab_live_maps(void);

/*
 * nf_evtchn_ops: alloc_unbound / send / close; wait blocks through the
 * scheduler `s` from one of its threads (mo_pv_port_wait), else polls the
 * hypervisor directly (nf_connect before the scheduler runs).
 */
void pv_nf_evtchn_ops(struct nf_evtchn_ops *ops, struct mo_sched *s);

/*
 * Opens `h` over the xenbus ring of start_info (store_mfn, store_evtchn);
 * its waits go through the scheduler `s` like the event-channel ops.
 * event_buf: the watch-event queue (xs_open). 0 or -errno.
 */
int pv_xs_open(struct xs_handle *h, struct mo_sched *s, void *event_buf, uint32_t event_buf_bytes);

#endif /* MINIOS_PV_NF_H */
