/* SPDX-License-Identifier: MIT */
/*
 * test-evtchn-xen - the xen event-channel driver's C side
 * (vpio/evtchn_xen.h).
 *
 * Everywhere: bad arguments are -EINVAL, the data-path calls on a closed
 * end are -EBADF. Without Xen (no /dev/xen/evtchn): alloc and bind are
 * -ENOENT and leave nothing open. In a Xen domain, with VPIO_XEN_SELF_DOMID
 * set to this domain's id (the lab sets 0 in dom0): a channel to ourselves
 * (alloc unbound + bind interdomain, each end its own handle) is pending
 * once on the bound end only, notifications cross both ways and each wakes
 * only its own end's descriptor, notifications made while unconsumed
 * coalesce into one wake-up and none is lost, 2,000 round trips ping-pong
 * with no lost wake-up, and closing leaves no descriptor. TAP; ASan + UBSan.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vpio/evtchn_xen.h"
#include "vpio/tap.h"

#define ROUNDS 2000
#define WAIT_MS 5000 /* a lost wake-up shows as this timeout */

static uint32_t self_domid;

static void t_bad_arguments(void)
{
	struct evtchn_xen x;

	CHECK_EQ(evtchn_xen_alloc_unbound(&x, 0x7ff0), -EINVAL);
	CHECK_EQ(x.fd, -1);
	CHECK_EQ(evtchn_xen_bind_interdomain(&x, 1, 0), -EINVAL);
	CHECK_EQ(evtchn_xen_bind_interdomain(&x, 0x7ff0, 5), -EINVAL);
	CHECK_EQ(evtchn_xen_alloc_unbound(NULL, 1), -EINVAL);
	CHECK_EQ(evtchn_xen_fd_notify(-1, 5), -EBADF);
	CHECK_EQ(evtchn_xen_fd_consume(-1), -EBADF);
	CHECK_EQ(evtchn_xen_fd_wait(-1, 0), -EBADF);
	CHECK_EQ(evtchn_xen_close(&x), 0); /* never opened: nothing to do */
	CHECK_EQ(evtchn_xen_close(NULL), 0);
}

static void t_no_xen_is_enoent(void)
{
	struct evtchn_xen x;
	int fds = tap_open_fds();

	CHECK_EQ(evtchn_xen_alloc_unbound(&x, 0), -ENOENT);
	CHECK(x.xce == NULL);
	CHECK_EQ(x.fd, -1);
	CHECK_EQ(evtchn_xen_bind_interdomain(&x, 0, 5), -ENOENT);
	CHECK_EQ(tap_open_fds(), fds);
}

/* A channel to ourselves: a = the unbound (frontend) end, b = the bound (backend) end. */
static int self_channel(struct evtchn_xen *a, struct evtchn_xen *b)
{
	int rc = evtchn_xen_alloc_unbound(a, self_domid);

	if (rc)
		return rc;
	rc = evtchn_xen_bind_interdomain(b, self_domid, a->port);
	if (rc)
		evtchn_xen_close(a);
	return rc;
}

static void t_self_pending_once_and_both_ways(void)
{
	struct evtchn_xen a, b;
	int fds = tap_open_fds();

	CHECK_EQ(self_channel(&a, &b), 0);
	if (!a.xce)
		return;
	CHECK(a.fd != b.fd);
	CHECK(a.port != b.port);
	CHECK_EQ(evtchn_xen_fd_wait(b.fd, 1000), 1); /* Xen leaves a fresh bind pending once */
	CHECK_EQ(evtchn_xen_fd_consume(b.fd), 1);
	CHECK_EQ(evtchn_xen_fd_wait(b.fd, 0), 0);
	CHECK_EQ(evtchn_xen_fd_consume(b.fd), 0);
	CHECK_EQ(evtchn_xen_fd_wait(a.fd, 0), 0); /* the unbound end is not */

	CHECK_EQ(evtchn_xen_fd_notify(a.fd, a.port), 0);
	CHECK_EQ(evtchn_xen_fd_wait(b.fd, WAIT_MS), 1);
	CHECK_EQ(evtchn_xen_fd_wait(a.fd, 0), 0); /* only the peer's descriptor wakes */
	CHECK_EQ(evtchn_xen_fd_consume(b.fd), 1);

	CHECK_EQ(evtchn_xen_fd_notify(b.fd, b.port), 0);
	CHECK_EQ(evtchn_xen_fd_wait(a.fd, WAIT_MS), 1);
	CHECK_EQ(evtchn_xen_fd_wait(b.fd, 0), 0);
	CHECK_EQ(evtchn_xen_fd_consume(a.fd), 1);
	CHECK_EQ(evtchn_xen_close(&b), 0);
	CHECK_EQ(evtchn_xen_close(&a), 0);
	CHECK_EQ(a.fd, -1);
	CHECK_EQ(tap_open_fds(), fds);
}

static void t_self_coalesce_not_lost(void)
{
	struct evtchn_xen a, b;
	int i;

	CHECK_EQ(self_channel(&a, &b), 0);
	if (!a.xce)
		return;
	evtchn_xen_fd_wait(b.fd, 1000);
	evtchn_xen_fd_consume(b.fd);
	for (i = 0; i < 5; i++)
		CHECK_EQ(evtchn_xen_fd_notify(a.fd, a.port), 0);
	CHECK_EQ(evtchn_xen_fd_wait(b.fd, WAIT_MS), 1);
	CHECK_EQ(evtchn_xen_fd_consume(b.fd), 1); /* five notifications, one wake-up */
	/* one more while masked-then-unmasked: still delivered */
	CHECK_EQ(evtchn_xen_fd_notify(a.fd, a.port), 0);
	CHECK_EQ(evtchn_xen_fd_wait(b.fd, WAIT_MS), 1);
	CHECK_EQ(evtchn_xen_fd_consume(b.fd), 1);
	evtchn_xen_close(&a);
	evtchn_xen_close(&b);
}

static void t_self_ping_pong(void)
{
	struct evtchn_xen a, b;
	int i, lost = 0;

	CHECK_EQ(self_channel(&a, &b), 0);
	if (!a.xce)
		return;
	evtchn_xen_fd_wait(b.fd, 1000);
	evtchn_xen_fd_consume(b.fd);
	for (i = 0; i < ROUNDS && !lost; i++) {
		if (evtchn_xen_fd_notify(a.fd, a.port) || evtchn_xen_fd_wait(b.fd, WAIT_MS) != 1 ||
		    evtchn_xen_fd_consume(b.fd) != 1)
			lost = 1;
		if (evtchn_xen_fd_notify(b.fd, b.port) || evtchn_xen_fd_wait(a.fd, WAIT_MS) != 1 ||
		    evtchn_xen_fd_consume(a.fd) != 1)
			lost = 1;
	}
	CHECK_EQ(lost, 0);
	CHECK_EQ(i, ROUNDS);
	evtchn_xen_close(&a);
	evtchn_xen_close(&b);
}

static void t_self_bind_twice_refused(void)
{
	struct evtchn_xen a, b, c;

	CHECK_EQ(self_channel(&a, &b), 0);
	if (!a.xce)
		return;
	CHECK_EQ(evtchn_xen_bind_interdomain(&c, self_domid, a.port), -EINVAL); /* already bound */
	CHECK(c.xce == NULL);
	evtchn_xen_close(&a);
	evtchn_xen_close(&b);
}

int main(void)
{
	const char *self = getenv("VPIO_XEN_SELF_DOMID");

	tap_run("bad arguments are -EINVAL, a closed end's data calls -EBADF", t_bad_arguments);
	if (access(EVTCHN_XEN_DEV_PATH, F_OK) != 0) {
		tap_run("without /dev/xen/evtchn, alloc and bind are -ENOENT and leave nothing open", t_no_xen_is_enoent);
		return tap_done();
	}
	if (!self) {
		printf("# a Xen domain, but VPIO_XEN_SELF_DOMID is not set: skipping the self-channel cases\n");
		return tap_done();
	}
	self_domid = (uint32_t)strtoul(self, NULL, 10);
	tap_run("a fresh bind is pending once on the bound end; notifications cross both ways, each wakes only its peer",
		t_self_pending_once_and_both_ways);
	tap_run("notifications made before a consume coalesce into one wake-up; the next one after it still arrives",
		t_self_coalesce_not_lost);
	tap_run("2,000 round trips with poll + consume: no lost wake-up", t_self_ping_pong);
	tap_run("binding a port that is already bound is -EINVAL", t_self_bind_twice_refused);
	return tap_done();
}
