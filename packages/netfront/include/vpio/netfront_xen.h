/* SPDX-License-Identifier: MIT */
/*
 * vpio/netfront_xen.h - xen-mode ops for the netfront core (libc +
 * libxengnttab + libxenevtchn; not part of the freestanding core): what a
 * Linux PV guest's userspace netfront (linux-netfront in xen mode) plugs
 * into struct nf_config. No kernel module: /dev/xen/gntdev maps the
 * backend's grants, /dev/xen/evtchn carries the kicks, and the xenstore is
 * reached through /dev/xen/xenbus with @vpio/xenstore's fd transport
 * (xs_fd_transport_connect(&ft, &t, "/dev/xen/xenbus")).
 *
 *   struct nf_xen_evtchns e;            (keep it static or on the heap)
 *   struct nf_grant_ops gops; struct nf_evtchn_ops eops;
 *   if (nf_xen_missing_device()) ... not a Xen PV guest (or modules missing)
 *   nf_xen_grant_ops(&gops);
 *   nf_xen_evtchns_init(&e); nf_xen_evtchn_ops(&eops, &e);
 *   ... nf_connect(&nf, &cfg) ... nf_disconnect(&nf) ...
 *   nf_xen_evtchns_fini(&e);
 *
 * Grant ops (csrc/xen_grant.c): map(domid, refs, n, bytes, writable) maps
 * the n grant refs of `domid` (the backend) as one contiguous range through
 * @vpio/grant's xen map side (vgnt_xen_map_refs: libxengnttab,
 * xengnttab_map_domain_grant_refs). In xen mode a region of N pages is N
 * refs, one per page, in page order, so `bytes` must be exactly
 * n * NF_PAGE_BYTES: anything else is -EPROTO (the backend published refs
 * that do not cover what its ring headers describe). unmap(addr, bytes) is
 * vgnt_xen_unmap. Stateless: no descriptor is held per mapping (see
 * vpio/grant_xen.h), ctx is unused.
 *
 * Event channel ops (csrc/xen_evtchn.c): each port is its own xenevtchn
 * handle (@vpio/evtchn's vpio/evtchn_xen.h), so each has its own pollable
 * descriptor, as in host mode:
 *   alloc(remote)   evtchn_xen_alloc_unbound(remote): a fresh unbound port
 *                   the backend binds; -ENOSPC when the table is full
 *   notify(port)    evtchn_xen_fd_notify (ioctl IOCTL_EVTCHN_NOTIFY)
 *   wait(port, ms)  poll the port's descriptor, then consume = read the
 *                   fired port + write it back to unmask
 *                   (evtchn_xen_fd_consume): 1 woken (maybe spuriously: the
 *                   first bind of a port leaves it pending once), 0 timeout
 *   close(port)     evtchn_xen_close: unbind + close the handle
 * nf_xen_port_fd() gives the descriptor for a scheduler that polls many
 * (nf_zc_rx_port / nf_zc_tx_port, then nf_zc_consume = wait(port, 0)).
 *
 * Limits: NF_XEN_MAX_PORTS ports at once (-ENOSPC past it); one queue uses 2.
 * The kernel's and Xen's limits on grants are in @vpio/grant's README.
 *
 * Every function returns 0 or a negative errno; a failed call leaves
 * nothing behind. Threading: as struct nf_broker: notify and wait only read
 * the table (threads may use distinct ports at once); alloc and close
 * (nf_connect/nf_disconnect) must not run meanwhile.
 */
#ifndef VPIO_NETFRONT_XEN_H
#define VPIO_NETFRONT_XEN_H

#include "vpio/evtchn_xen.h"
#include "vpio/netfront.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NF_XEN_MAX_PORTS 32

/* Fields are private. */
struct nf_xen_evtchns {
	struct evtchn_xen e[NF_XEN_MAX_PORTS]; /* xce NULL: free */
};

/*
 * The first of /dev/xen/gntdev, /dev/xen/evtchn, /dev/xen/xenbus that is
 * missing (a static string), or NULL when all three exist: a guest prints
 * it and stops instead of failing later with a bare -ENOENT.
 */
const char *nf_xen_missing_device(void);

/* Fills the grant ops (stateless: ctx NULL). */
void nf_xen_grant_ops(struct nf_grant_ops *ops);

/* Prepares an empty port table. */
void nf_xen_evtchns_init(struct nf_xen_evtchns *e);

/* Fills the event-channel ops (ctx = e, which must outlive them). */
void nf_xen_evtchn_ops(struct nf_evtchn_ops *ops, struct nf_xen_evtchns *e);

/* The descriptor to poll (POLLIN) for local `port`, -1 when unknown. Does not consume. */
int nf_xen_port_fd(const struct nf_xen_evtchns *e, uint32_t port);

/* Closes every port still open. */
void nf_xen_evtchns_fini(struct nf_xen_evtchns *e);

#ifdef __cplusplus
}
#endif

#endif /* VPIO_NETFRONT_XEN_H */
