/* SPDX-License-Identifier: MIT */
/*
 * vpio/xs_transport.h - how the xenstore client (vpio/xs.h) moves bytes.
 *
 * The client logic (csrc/xs_client.c) frames requests, matches replies and
 * queues watch events; it never touches a socket, a ring page or an event
 * channel itself. A transport is a table of three functions plus an opaque
 * context, so one client core runs over:
 *
 *   - a unix socket or an inherited fd       csrc/xs_transport_fd.c (now)
 *   - the xenbus ring page + event channel   of a PV guest (xen mode, later:
 *     xenstore_domain_interface's req/rsp rings, notify on the evtchn)
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

#endif /* VPIO_XS_TRANSPORT_H */
