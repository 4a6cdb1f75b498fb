/* SPDX-License-Identifier: MIT */
/*
 * vpio/netfront_broker.h - broker-backed host ops for the netfront core
 * (libc; not part of the freestanding core): what a guest started by
 * `vpio run` uses. Grants and event channels come from vpiod's brokers over
 * the guest's control socket (@vpio/guest, vpio/guest.h); the xenstore
 * connection is the fd HELLO handed over (g.xs_fd).
 *
 *   struct nf_session s;        (large: keep it static or on the heap)
 *   struct nf_config cfg;
 *   struct nf_dev nf;
 *   if (nf_session_open(&s) == 0) {
 *           nf_session_config(&s, &cfg, 0, NF_MODE_EVENT, 10000);
 *           nf_connect(&nf, &cfg);  ... traffic ...  nf_disconnect(&nf);
 *           nf_session_close(&s);
 *   }
 *
 * Grant ops: map(domid, refs, n, bytes, writable) is ONE round trip for all
 * n refs (vpio_grant_map, granter = domid = the backend): one contiguous
 * range, each region's size and seals checked. The range must be at least
 * `bytes` long (else -EPROTO, the mapping undone); it is remembered by
 * address so unmap(addr) can release it (and vpiod's handle) exactly.
 * Event channel ops: alloc(remote) = vpio_evtchn_alloc_unbound(remote);
 * notify/wait/drain on the port's descriptors (vpio/evtchn.h); close =
 * vpio_evtchn_close (vpiod forgets the port, the peer sees EPIPE).
 *
 * Limits: NF_BROKER_MAX_PORTS ports and NF_BROKER_MAX_MAPS mappings held at
 * once (-ENOSPC past them); one nf_dev (one queue) uses 2 ports and 3
 * mappings. notify and wait only read the tables: threads may call them on
 * distinct ports at once (one thread per queue); alloc, close, map and unmap
 * (nf_connect/nf_disconnect) must not run meanwhile.
 *
 * Every function returns 0 or a negative errno; a failed call leaves
 * nothing behind (no descriptor, no mapping, no vpiod handle).
 *
 * Threading: a struct nf_broker (and a session) belongs to one thread at a
 * time, as struct vpio_guest does. nf_broker_port_fd() only reads.
 */
#ifndef VPIO_NETFRONT_BROKER_H
#define VPIO_NETFRONT_BROKER_H

#include "vpio/guest.h"
#include "vpio/netfront.h"
#include "vpio/xs.h"
#include "vpio/xs_transport.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NF_BROKER_MAX_PORTS 32 /* one vif uses 2 per queue ... */
#define NF_BROKER_MAX_MAPS 32  /* ... and 3 per queue: an 8-queue vif 16 and 24 */

/* Fields are private. */
struct nf_broker {
	struct vpio_guest *g;
	struct {
		uint32_t port; /* 0: free */
		struct evtchn_end end;
	} ports[NF_BROKER_MAX_PORTS];
	struct vpio_grant_mapping maps[NF_BROKER_MAX_MAPS]; /* addr NULL: free */
};

/* Prepares `b` over an open guest session `g` (which must outlive b). */
void nf_broker_init(struct nf_broker *b, struct vpio_guest *g);

/* Fills the two ops tables (ctx = b). */
void nf_broker_ops(struct nf_broker *b, struct nf_grant_ops *gops, struct nf_evtchn_ops *eops);

/*
 * The descriptor to poll for POLLIN to learn that a notification is pending
 * on local `port` (an event loop, libuv): -1 when the port is unknown. It
 * does not consume: eops.wait(ctx, port, 0) does (drains).
 */
int nf_broker_port_fd(const struct nf_broker *b, uint32_t port);

/* Closes every port and unmaps every mapping still held (each told to vpiod). */
void nf_broker_fini(struct nf_broker *b);

/* ------------------------------------------------------------------------ */
/* A guest's whole host-mode setup in one call.                              */

#define NF_SESSION_EVENTS (16u * XS_EVENT_RECORD_MAX)

/* Fields are private, except that cfg users may read g.domid. */
struct nf_session {
	struct vpio_guest g;
	struct xs_handle xs;
	struct xs_fd_transport xs_ft;
	struct xs_transport xs_tr;
	uint8_t xs_events[NF_SESSION_EVENTS];
	struct nf_broker b;
	struct nf_grant_ops gops;
	struct nf_evtchn_ops eops;
	int open;
};

/*
 * vpio_guest_open() (control fd from $VPIO_CTRL_FD, waits for HELLO at most
 * VPIO_GUEST_HELLO_TIMEOUT_MS, 10 s, or $VPIO_HELLO_TIMEOUT_MS), the
 * xenstore client over HELLO's g.xs_fd (owned by the session), the broker
 * ops. 0 or -errno (vpio_guest_open's, xs_open's): -ETIMEDOUT when no HELLO
 * came in time; vpio_guest_open_strerror(rc) says what failed in a
 * sentence. On failure nothing is left open.
 */
int nf_session_open(struct nf_session *s);

/* Fills *cfg for nf_connect() with the session's xenstore handle and ops. */
void nf_session_config(struct nf_session *s, struct nf_config *cfg, uint32_t devid, enum nf_mode mode,
		       int timeout_ms);

/* nf_broker_fini + xs_close + vpio_guest_close. Safe to call twice. */
void nf_session_close(struct nf_session *s);

#ifdef __cplusplus
}
#endif

#endif /* VPIO_NETFRONT_BROKER_H */
