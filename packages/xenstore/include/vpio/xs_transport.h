/* SPDX-License-Identifier: MIT */
/*
 * vpio/xs_transport.h - how the xenstore client (vpio/xs.h) moves bytes.
 *
 * The client logic (csrc/xs_client.c) frames requests, matches replies and
 * queues watch events; it never touches a socket, a ring page or an event
 * channel itself. A transport is a table of three functions plus an opaque
 * context, so one client core runs over:
 *
 *   - a unix socket or an inherited fd       csrc/xs_transport_fd.c (libc)
 *   - the xenbus ring page + event channel   csrc/xs_transport_ring.c
 *     of a PV guest                          (freestanding, like the core)
 *
 * without a line of the client changing. The contract every transport keeps:
 *
 *   send(ctx, buf, len)   Queue all `len` bytes for the daemon, in order,
 *                         blocking as long as needed (a ring transport waits
 *                         on its event channel while the request ring is
 *                         full). The client hands over one whole message
 *                         (16-byte header + payload) per call.
 *                         Returns 0, or a negative errno (-EPIPE when the
 *                         daemon is gone); the client then fails for good.
 *
 *   recv(ctx, buf, len)   Copy out up to `len` bytes that have already
 *                         arrived, WITHOUT blocking. Returns the number of
 *                         bytes copied (> 0), 0 when nothing is available
 *                         now, or a negative errno (-EPIPE at end of stream).
 *
 *   wait(ctx, timeout_ms) Block until recv() may have bytes, or timeout_ms
 *                         passes (-1: no timeout; 0: just poll). Returns
 *                         1 (maybe readable: spurious wake-ups are allowed,
 *                         the client re-checks with recv()), 0 on timeout,
 *                         or a negative errno.
 *
 *   close(ctx)            Release what the transport holds (may be NULL).
 *
 * The client calls these from one thread at a time; a transport needs no
 * locking of its own. The bytes from recv() come from the other side and
 * are validated by the client (lengths, types, ids) before use.
 */
#ifndef VPIO_XS_TRANSPORT_H
#define VPIO_XS_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

struct xs_transport_ops {
	int (*send)(void *ctx, const void *buf, size_t len);
	long (*recv)(void *ctx, void *buf, size_t len);
	int (*wait)(void *ctx, int timeout_ms);
	void (*close)(void *ctx);
};

struct xs_transport {
	const struct xs_transport_ops *ops;
	void *ctx;
};

/*
 * The fd/socket transport (csrc/xs_transport_fd.c; uses libc, unlike the
 * client core). Its state lives in caller memory; `t` is filled in to point
 * at it, so `ft` must outlive every use of `t`.
 */
struct xs_fd_transport {
	int fd;
	int owned; /* close(fd) on xs_close() */
};

/*
 * Connects to the daemon's unix socket. `path` NULL means where libxenstore
 * looks: $XENSTORED_PATH, else $XENSTORED_RUNDIR/socket, else
 * /var/run/xenstored/socket. A path that is not a socket is opened O_RDWR
 * as a xenbus device node, as libxenstore does.
 * Returns 0, -ENAMETOOLONG for a path that does not fit sockaddr_un, or the
 * negative errno of stat/socket/connect/open (e.g. -ENOENT, -ECONNREFUSED).
 */
int xs_fd_transport_connect(struct xs_fd_transport *ft, struct xs_transport *t, const char *path);

/*
 * Uses an fd that is already connected to the daemon (the inherited control
 * socket the domain layer hands a guest). `take_ownership` non-zero closes it
 * on xs_close(). Returns 0, or -EBADF when fd is negative.
 */
int xs_fd_transport_adopt(struct xs_fd_transport *ft, struct xs_transport *t, int fd, int take_ownership);

/* ------------------------------------------------------------------------ */
/* The xenbus ring page (a PV guest's store page, Xen's xenstore ring ABI)   */

/*
 * One 4096-byte page shared between the guest (fe) and the xenstore daemon
 * (be), plus one event channel. Xen's ABI (docs/misc/xenstore-ring.txt),
 * not ours: it carries no version and never changes layout; newer Xen only
 * adds the three words at 2064.
 *
 *   offset  bytes                                          written by
 *   0       +------------------------------------------+
 *           | req[1024]   requests, guest -> daemon     |  (fe) bytes in
 *   1024    +------------------------------------------+       [req_cons, req_prod)
 *           | rsp[1024]   replies + watch events        |  (be) bytes in
 *   2048    +------------------------------------------+       [rsp_cons, rsp_prod)
 *           | req_cons   req_prod   rsp_cons   rsp_prod |  (be) (fe)   (fe) (be)
 *   2064    | server_features  connection  error       |  (be) (fe/be) (be)
 *   2076    | unused up to 4096                         |
 *           +------------------------------------------+
 *
 * Indices are free-running uint32 byte counts (they wrap at 2^32, never at
 * 1024): byte number x of a stream lives at ring[x & XS_RING_MASK]; the
 * bytes in flight are prod - cons (uint32 arithmetic), always
 * <= XS_RING_BYTES, so a full ring has no slot kept empty. A producer
 * writes data, then publishes prod; a consumer reads prod, then the data,
 * then publishes cons; whoever updates an index signals the event channel.
 * Indices need not start at 0. The daemon's two indices are input from the
 * other side: the transport checks each one moves only forward within its
 * window (req_cons within [last req_cons, req_prod], rsp_prod within
 * [last rsp_prod, rsp_cons + 1024]).
 *
 * server_features: bits the daemon offers (never cleared once set):
 * XS_RING_FEATURE_RECONNECT lets the guest ask for a ring reset through
 * `connection` (not used by this transport), XS_RING_FEATURE_ERROR says
 * `error` is valid: non-zero there means the daemon has stopped talking.
 */
#define XS_RING_BYTES 1024u
#define XS_RING_MASK (XS_RING_BYTES - 1u)
#define XS_RING_PAGE_BYTES 4096u

#define XS_RING_FEATURE_RECONNECT 1u /* server_features bit 0 */
#define XS_RING_FEATURE_ERROR 2u     /* server_features bit 1 */
#define XS_RING_CONNECTED 0u         /* connection: steady state */
#define XS_RING_RECONNECTING 1u      /* connection: a reset is in progress */

/* (this header is also read by C++: the netfront addon) */
#ifdef __cplusplus
#define XS_STATIC_ASSERT(c, msg) static_assert(c, msg)
#else
#define XS_STATIC_ASSERT(c, msg) _Static_assert(c, msg)
#endif

struct xs_ring_page {
	uint8_t req[XS_RING_BYTES];  /* (fe) writes, (be) reads */
	uint8_t rsp[XS_RING_BYTES];  /* (be) writes, (fe) reads */
	uint32_t req_cons;           /* (be) */
	uint32_t req_prod;           /* (fe) */
	uint32_t rsp_cons;           /* (fe) */
	uint32_t rsp_prod;           /* (be) */
	uint32_t server_features;    /* (be) XS_RING_FEATURE_* */
	uint32_t connection;         /* (fe) sets RECONNECTING, (be) sets CONNECTED */
	uint32_t error;              /* (be) 0, or why the daemon stopped */
	uint8_t unused[XS_RING_PAGE_BYTES - 2076u];
};

XS_STATIC_ASSERT(offsetof(struct xs_ring_page, rsp) == 1024, "xenstore ring: rsp at 1024");
XS_STATIC_ASSERT(offsetof(struct xs_ring_page, req_cons) == 2048, "xenstore ring: req_cons at 2048");
XS_STATIC_ASSERT(offsetof(struct xs_ring_page, req_prod) == 2052, "xenstore ring: req_prod at 2052");
XS_STATIC_ASSERT(offsetof(struct xs_ring_page, rsp_cons) == 2056, "xenstore ring: rsp_cons at 2056");
XS_STATIC_ASSERT(offsetof(struct xs_ring_page, rsp_prod) == 2060, "xenstore ring: rsp_prod at 2060");
XS_STATIC_ASSERT(offsetof(struct xs_ring_page, server_features) == 2064, "xenstore ring: server_features at 2064");
XS_STATIC_ASSERT(offsetof(struct xs_ring_page, connection) == 2068, "xenstore ring: connection at 2068");
XS_STATIC_ASSERT(offsetof(struct xs_ring_page, error) == 2072, "xenstore ring: error at 2072");
XS_STATIC_ASSERT(sizeof(struct xs_ring_page) == XS_RING_PAGE_BYTES, "xenstore ring: one 4096-byte page");
XS_STATIC_ASSERT((XS_RING_BYTES & XS_RING_MASK) == 0, "xenstore ring: size is a power of two");

/*
 * The ring transport (csrc/xs_transport_ring.c; freestanding, needs nothing
 * but memcpy/memset). The caller owns the environment: the mapped page and
 * the store event channel, reached through two callbacks with their ctx:
 *
 *   notify(ctx)            Signal the event channel (EVTCHNOP_send). 0 or a
 *                          negative errno.
 *   wait(ctx, timeout_ms)  Block until the event channel has fired since
 *                          the last wait returned 1, or timeout_ms passes
 *                          (-1: no timeout; 0: poll). Returns 1 (and
 *                          consumes the event), 0 on timeout, or a negative
 *                          errno. An event that fires while nobody waits
 *                          must stay pending, as an event channel's pending
 *                          bit does, or a wake-up is lost; spurious returns
 *                          of 1 are fine (the transport re-checks the ring).
 *
 * State lives in caller memory (`rt`, which must outlive every use of `t`);
 * our own indices are kept here and only published to the page, so a
 * daemon scribbling over req_prod/rsp_cons changes nothing on our side.
 * send() copies a message into req[] in as many pieces as the free space
 * allows, publishing and signalling after each, and sleeps in wait(-1)
 * while the ring is full; recv() never blocks and signals after consuming;
 * wait() returns 1 at once while rsp[] holds bytes. One thread at a time
 * (the client's rule); the callbacks are called from that thread.
 *
 * Errors, sticky (every later call returns the same, and the page is no
 * longer touched): -VP_EIO (5) when a daemon index leaves its window
 * (counted in index_errors); -VP_EPIPE (32) when the daemon reports a
 * connection error (XS_RING_FEATURE_ERROR) or after close; a failing
 * notify's errno, or a failing wait's inside send().
 */
struct xs_ring_transport {
	struct xs_ring_page *page;
	int (*notify)(void *ctx);
	int (*wait)(void *ctx, int timeout_ms);
	void *ctx;
	int dead;               /* 0, or the errno every call now returns */
	uint32_t req_prod;      /* ours: next request byte to write */
	uint32_t req_cons_seen; /* the daemon's req_cons as last validated */
	uint32_t rsp_cons;      /* ours: next reply byte to read */
	uint32_t rsp_prod_seen; /* the daemon's rsp_prod as last validated */
	/* Counters (never reset; read them any time from the owning thread). */
	uint64_t sent_bytes;    /* request bytes published */
	uint64_t recv_bytes;    /* reply/event bytes consumed */
	uint64_t notifies;      /* notify() calls */
	uint64_t full_waits;    /* sleeps in send() on a full request ring */
	uint32_t index_errors;  /* daemon indices found outside their window */
};

/*
 * Sets up the ring transport over `page` (the mapped store page, at least
 * 4-byte aligned) and fills in `t`. The indices found on the page are
 * adopted (they need not be 0) after checking that neither ring holds more
 * than 1024 bytes. Does not touch the event channel. Returns 0; -VP_EINVAL
 * (22) for a NULL argument or a misaligned page; -VP_EIO (5) for indices
 * already out of range; -VP_EAGAIN (11) while the daemon is resetting the
 * ring (XS_RING_FEATURE_RECONNECT offered and `connection` is
 * XS_RING_RECONNECTING: wait for an event and call again).
 */
int xs_ring_transport_init(struct xs_ring_transport *rt, struct xs_transport *t, void *page,
			   int (*notify)(void *ctx), int (*wait)(void *ctx, int timeout_ms), void *ctx);

#endif /* VPIO_XS_TRANSPORT_H */
