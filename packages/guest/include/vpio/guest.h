/* SPDX-License-Identifier: MIT */
/*
 * vpio/guest.h - the guest library of host mode: what a tenant (a tiny C
 * guest, netfront) calls to talk to vpiod's brokers over its control socket
 * (vpio/domain_ctrl.h). libc only, no Node: link build/lib/libvpio_guest.a
 * (it carries the control framing, @vpio/grant's host map and share sides
 * and @vpio/evtchn's notify/wait/drain, compiled from their packages).
 *
 *   struct vpio_guest g;
 *   vpio_guest_open(&g);                        HELLO: g.domid, g.xs_fd
 *   vpio_grant_share(&g, 4096, 0, VGNT_ACCESS_RO, &region, &ref);
 *   vpio_grant_map(&g, granter, refs, n, 1, &map);   one contiguous range
 *   vpio_evtchn_bind_interdomain(&g, remote, rport, &port, &end);
 *   evtchn_notify(end.tx_fd); evtchn_wait(end.rx_fd, -1); evtchn_drain(end.rx_fd);
 *
 * Calls are synchronous request/reply round trips matched by seq; a reply
 * to an earlier request that timed out or was abandoned is skipped (its
 * descriptors closed). One thread per struct vpio_guest at a time.
 *
 * Every function returns 0 or a negative errno: the ERROR vpiod answered
 * (see the errno table in vpio/domain_ctrl.h), or the local failure (mmap,
 * the descriptor check of vpio/grant.h, -EPROTO for a malformed reply,
 * -ECONNRESET when vpiod is gone).
 */
#ifndef VPIO_GUEST_H
#define VPIO_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "vpio/domain_ctrl.h"
#include "vpio/evtchn.h"
#include "vpio/grant.h"
#include "vpio/grant_share.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vpio_guest {
	int ctrl_fd;    /* the control socket (fd 3) */
	int xs_fd;      /* the xenstore connection from HELLO (-1 once closed) */
	uint32_t domid; /* from HELLO */
	uint32_t seq;   /* last request's seq */
};

/*
 * How long vpio_guest_open waits for HELLO, in milliseconds, unless
 * $VPIO_HELLO_TIMEOUT_MS says otherwise. vpiod sends HELLO right after it
 * spawned the guest, so a silent control fd means it is not vpiod's (the
 * program was not started by `vpio run`, or fd 3 is something else) or
 * vpiod is stuck: the guest says so and ends instead of hanging.
 */
#define VPIO_GUEST_HELLO_TIMEOUT_MS 10000
/* The variable that overrides it: milliseconds, 1..86400000. */
#define VPIO_GUEST_HELLO_TIMEOUT_ENV "VPIO_HELLO_TIMEOUT_MS"

/* The HELLO wait: $VPIO_HELLO_TIMEOUT_MS, or VPIO_GUEST_HELLO_TIMEOUT_MS
 * when unset or empty; -EINVAL when it is not an integer in 1..86400000. */
int vpio_guest_hello_timeout_ms(void);

/* Opens the session: the control fd from $VPIO_CTRL_FD, then waits for HELLO
 * at most vpio_guest_hello_timeout_ms(). 0, -EINVAL (bad $VPIO_CTRL_FD or
 * $VPIO_HELLO_TIMEOUT_MS), -ETIMEDOUT (no HELLO in time), -EBADF/-ENOTSOCK
 * (no control socket there), -EPROTO, -ECONNRESET, -errno.
 * vpio_guest_open_strerror(rc) says which in a sentence. */
int vpio_guest_open(struct vpio_guest *g);

/* vpio_guest_open with the HELLO wait given: timeout_ms >= 0, or -1 to wait
 * for ever ($VPIO_HELLO_TIMEOUT_MS is not read). */
int vpio_guest_open_timeout(struct vpio_guest *g, int timeout_ms);

/* What a failed vpio_guest_open (or nf_session_open) means, for a guest to
 * print before it exits: names the control socket and the wait for
 * -ETIMEDOUT, the variables for -EINVAL; strerror for the rest. Static. */
const char *vpio_guest_open_strerror(int rc);

/* Closes the xenstore fd (the control socket stays: it is the identity). */
void vpio_guest_close(struct vpio_guest *g);

/*
 * One round trip: sends `type` with payload and descriptors, waits for the
 * reply with the same seq. On a REPLY, copies its payload (up to rep_cap;
 * *rep_len gets its full length) and its descriptors (up to max_rfds, the
 * rest closed; *nrfds their number). On an ERROR, returns -err.
 */
int vpio_guest_call(struct vpio_guest *g, uint16_t type, const void *req, uint32_t req_len, const int *fds,
		    unsigned nfds, void *rep, uint32_t rep_cap, uint32_t *rep_len, int *rfds, unsigned max_rfds,
		    unsigned *nrfds);

/* PING with `len` bytes echoed: 0 when the echo matches, -EPROTO if not. */
int vpio_guest_ping(struct vpio_guest *g, const void *data, uint32_t len);

/* ---- grants ---- */

/*
 * Creates, maps and seals a region of `bytes` (vgnt_host_share) and grants
 * it to `grantee` with `access`. *out is the caller's own mapping and
 * descriptor (vgnt_host_share_unmap/close_fd when done, after
 * vpio_grant_end); *ref the grant reference. On failure nothing is left.
 */
int vpio_grant_share(struct vpio_guest *g, size_t bytes, uint32_t grantee, enum vgnt_access access,
		     struct vgnt_region *out, uint32_t *ref);

/* Ends a grant: no new mapping of it can be made. */
int vpio_grant_end(struct vpio_guest *g, uint32_t ref);

/* A contiguous mapping of several grants. */
struct vpio_grant_mapping {
	void *addr;              /* NULL when not mapped */
	size_t bytes;
	uint32_t handle;         /* vpiod's handle, for UNMAP */
	enum vgnt_access access;
};

/* What GRANT_MAP answered, before mapping: one descriptor per ref. */
struct vpio_grant_fds {
	uint32_t handle;
	unsigned count;
	int fds[VPIO_GRANT_MAP_MAX_REFS];
	uint32_t pages[VPIO_GRANT_MAP_MAX_REFS];
	enum vgnt_access access[VPIO_GRANT_MAP_MAX_REFS]; /* each grant's own access */
};

/*
 * Asks for the descriptors of `n` refs granted by `granter` (1 <= n <=
 * VPIO_GRANT_MAP_MAX_REFS), without mapping them; the caller owns out->fds
 * and the handle (vpio_grant_unmap_handle). Most callers want vpio_grant_map.
 */
int vpio_grant_map_fds(struct vpio_guest *g, uint32_t granter, const uint32_t *refs, unsigned n, int writable,
		       struct vpio_grant_fds *out);

/*
 * Maps `n` refs granted by `granter` into one contiguous range, in order:
 * one round trip to vpiod, then a PROT_NONE reservation of the total size
 * and each region checked (vgnt_host_verify) and mapped MAP_FIXED in place.
 * PROT_READ|PROT_WRITE when `writable` (every grant must be rw, else vpiod
 * says -EPERM), PROT_READ otherwise. The descriptors are closed before
 * returning; on failure nothing is left mapped and the handle is released.
 */
int vpio_grant_map(struct vpio_guest *g, uint32_t granter, const uint32_t *refs, unsigned n, int writable,
		   struct vpio_grant_mapping *out);

/* Unmaps and tells vpiod (the pages leave mappedPages). 0 when already unmapped. */
int vpio_grant_unmap(struct vpio_guest *g, struct vpio_grant_mapping *m);

/* Tells vpiod a handle's pages are no longer mapped. */
int vpio_grant_unmap_handle(struct vpio_guest *g, uint32_t handle);

/* ---- event channels (notify/wait/drain: vpio/evtchn.h on end->tx_fd/rx_fd) ---- */

/* Offers a port to `remote`; *end gets this side's descriptors at once
 * (pending once; the peer's notifications arrive once it binds). */
int vpio_evtchn_alloc_unbound(struct vpio_guest *g, uint32_t remote, uint32_t *port, struct evtchn_end *end);

/* Binds the port `remote_port` that `remote` offered to this domain
 * (-EPERM if offered to another, -ENOENT if none). Pending once. */
int vpio_evtchn_bind_interdomain(struct vpio_guest *g, uint32_t remote, uint32_t remote_port, uint32_t *port,
				 struct evtchn_end *end);

/* Closes the port: vpiod forgets it and *end's descriptors are closed (the peer sees EPIPE). */
int vpio_evtchn_close(struct vpio_guest *g, uint32_t port, struct evtchn_end *end);

#ifdef __cplusplus
}
#endif

#endif /* VPIO_GUEST_H */
