// SPDX-License-Identifier: MIT
//
// guest_evtchn.c - event channels from a guest (vpio/guest.h): allocate,
// bind, close. Each reply carries this side's own two descriptors {rx, tx};
// vpiod closes its copies right after sending, so nothing is shared.
// notify/wait/drain are vpio/evtchn.h's, on those descriptors.

#include <errno.h>
#include <unistd.h>

#include "vpio/guest.h"

static int take_end(int rc, uint32_t len, const uint32_t *rep, const int *fds, unsigned nfds, uint32_t *port,
		    struct evtchn_end *end)
{
	if (rc < 0)
		return rc;
	if (len != sizeof(uint32_t) || nfds != 2) {
		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
		return -EPROTO;
	}
	*port = rep[0];
	end->rx_fd = fds[0];
	end->tx_fd = fds[1];
	return 0;
}

int vpio_evtchn_alloc_unbound(struct vpio_guest *g, uint32_t remote, uint32_t *port, struct evtchn_end *end)
{
	uint32_t req[2] = { VPIO_DOMID_SELF, remote }, rep[1], len = 0;
	int fds[2];
	unsigned nfds = 0;
	int rc = vpio_guest_call(g, VPIO_CTRL_EVTCHN_ALLOC_UNBOUND, req, sizeof(req), NULL, 0, rep, sizeof(rep), &len,
				 fds, 2, &nfds);

	return take_end(rc, len, rep, fds, nfds, port, end);
}

int vpio_evtchn_bind_interdomain(struct vpio_guest *g, uint32_t remote, uint32_t remote_port, uint32_t *port,
				 struct evtchn_end *end)
{
	uint32_t req[2] = { remote, remote_port }, rep[1], len = 0;
	int fds[2];
	unsigned nfds = 0;
	int rc = vpio_guest_call(g, VPIO_CTRL_EVTCHN_BIND_INTERDOMAIN, req, sizeof(req), NULL, 0, rep, sizeof(rep), &len,
				 fds, 2, &nfds);

	return take_end(rc, len, rep, fds, nfds, port, end);
}

int vpio_evtchn_close(struct vpio_guest *g, uint32_t port, struct evtchn_end *end)
{
	int rc = vpio_guest_call(g, VPIO_CTRL_EVTCHN_CLOSE, &port, sizeof(port), NULL, 0, NULL, 0, NULL, NULL, 0, NULL);

	if (end) {
		if (end->rx_fd >= 0)
			close(end->rx_fd);
		if (end->tx_fd >= 0)
			close(end->tx_fd);
		end->rx_fd = -1;
		end->tx_fd = -1;
	}
	return rc;
}
