/* SPDX-License-Identifier: MIT */
/*
 * evtchn_xen.c - setting up and tearing down one Xen event-channel end
 * with libxenevtchn (vpio/evtchn_xen.h). Each end opens its own handle so
 * its descriptor carries exactly one port; the data path (notify, consume,
 * wait) is in evtchn_xen_fd.c and needs no library.
 *
 * Concurrency: an end is set up and closed by one thread; nothing global.
 */
#include <errno.h>
#include <fcntl.h>
#include <xenevtchn.h>

#include "vpio/evtchn_xen.h"

/* Xen's DOMID_FIRST_RESERVED: ids from here on are not ordinary domains. */
#define XEN_DOMID_FIRST_RESERVED 0x7ff0u

static void reset(struct evtchn_xen *x)
{
	x->xce = NULL;
	x->fd = -1;
	x->port = 0;
	x->remote_domid = 0;
}

/* Opens a handle whose descriptor is O_NONBLOCK (ours alone: one file description per end). */
static int open_handle(xenevtchn_handle **out)
{
	xenevtchn_handle *h = xenevtchn_open(NULL, 0); /* libxenevtchn never logs */
	int fd, fl, err;

	if (!h)
		return errno ? -errno : -ENOENT;
	fd = xenevtchn_fd(h);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		err = -errno;
		xenevtchn_close(h);
		return err;
	}
	*out = h;
	return 0;
}

static int finish(struct evtchn_xen *x, xenevtchn_handle *h, xenevtchn_port_or_error_t port, uint32_t remote)
{
	int err;

	if (port < 0) {
		err = errno ? -errno : -EIO;
		xenevtchn_close(h);
		return err;
	}
	x->xce = h;
	x->fd = xenevtchn_fd(h);
	x->port = (uint32_t)port;
	x->remote_domid = remote;
	return 0;
}

int evtchn_xen_alloc_unbound(struct evtchn_xen *x, uint32_t remote_domid)
{
	xenevtchn_handle *h;
	int rc;

	if (!x)
		return -EINVAL;
	reset(x);
	if (remote_domid >= XEN_DOMID_FIRST_RESERVED)
		return -EINVAL;
	if ((rc = open_handle(&h)))
		return rc;
	return finish(x, h, xenevtchn_bind_unbound_port(h, remote_domid), remote_domid);
}

int evtchn_xen_bind_interdomain(struct evtchn_xen *x, uint32_t remote_domid, uint32_t remote_port)
{
	xenevtchn_handle *h;
	int rc;

	if (!x)
		return -EINVAL;
	reset(x);
	if (remote_domid >= XEN_DOMID_FIRST_RESERVED || remote_port == 0)
		return -EINVAL;
	if ((rc = open_handle(&h)))
		return rc;
	return finish(x, h, xenevtchn_bind_interdomain(h, remote_domid, remote_port), remote_domid);
}

int evtchn_xen_close(struct evtchn_xen *x)
{
	int rc = 0;

	if (!x || !x->xce)
		return 0;
	if (xenevtchn_unbind(x->xce, x->port) < 0)
		rc = errno ? -errno : -EIO;
	xenevtchn_close(x->xce); /* closing also unbinds what is left on the handle */
	reset(x);
	return rc;
}
