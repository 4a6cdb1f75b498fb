/* SPDX-License-Identifier: MIT */
/*
 * evtchn_host_pair.c - creating a channel's two links (vpio/evtchn_pair.h).
 * Broker side only. Failure undoes in reverse order: nothing stays open.
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vpio/evtchn_pair.h"

/* Smallest send buffer the kernel accepts (it clamps and doubles): a full
 * link costs little memory and notifications coalesce early. */
#define EVTCHN_SNDBUF 1

/* One link: out[0] is the sending end, out[1] the receiving end. */
static int make_link(int out[2])
{
	int sv[2], sz = EVTCHN_SNDBUF, rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) < 0 || shutdown(sv[0], SHUT_RD) < 0 ||
	    shutdown(sv[1], SHUT_WR) < 0) {
		rc = -errno;
		close(sv[1]);
		close(sv[0]);
		return rc;
	}
	out[0] = sv[0];
	out[1] = sv[1];
	return 0;
}

int evtchn_host_pair(struct evtchn_end *a, struct evtchn_end *b)
{
	int ab[2], ba[2], rc;

	rc = make_link(ab);
	if (rc < 0)
		return rc;
	rc = make_link(ba);
	if (rc < 0) {
		close(ab[1]);
		close(ab[0]);
		return rc;
	}
	a->tx_fd = ab[0];
	b->rx_fd = ab[1];
	b->tx_fd = ba[0];
	a->rx_fd = ba[1];
	/* pending once, as a freshly bound Xen port is */
	evtchn_notify(a->tx_fd);
	evtchn_notify(b->tx_fd);
	return 0;
}

void evtchn_host_close_end(struct evtchn_end *e)
{
	if (e->rx_fd >= 0)
		close(e->rx_fd);
	if (e->tx_fd >= 0)
		close(e->tx_fd);
	e->rx_fd = -1;
	e->tx_fd = -1;
}
