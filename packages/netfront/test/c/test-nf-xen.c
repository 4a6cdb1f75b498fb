/* SPDX-License-Identifier: MIT */
/*
 * test-nf-xen - netfront's xen-mode ops (vpio/netfront_xen.h).
 *
 * Everywhere: the grant ops refuse a byte count that is not one page per
 * ref (-EPROTO) and bad arguments (-EINVAL); the evtchn ops refuse unknown
 * ports (-EINVAL, fd -1). Without Xen: nf_xen_missing_device() names
 * /dev/xen/gntdev, map and alloc are -ENOENT and leave nothing open.
 * In a Xen domain with VPIO_XEN_SELF_DOMID (the lab, dom0): the ops map a
 * region shared to ourselves and carry notifications over a channel to
 * ourselves (the peer end bound with @vpio/evtchn's C side), each port on
 * its own descriptor; everything is released after. TAP; ASan + UBSan.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vpio/grant_xen.h"
#include "vpio/netfront_xen.h"
#include "vpio/tap.h"

static uint32_t self_domid;

static void t_bad_arguments(void)
{
	struct nf_grant_ops g;
	struct nf_evtchn_ops e;
	static struct nf_xen_evtchns ev;
	uint32_t refs[2] = { 8, 9 };
	void *addr = NULL;

	nf_xen_grant_ops(&g);
	CHECK_EQ(g.map(g.ctx, 0, refs, 2, 3 * NF_PAGE_BYTES, 1, &addr), -EPROTO);
	CHECK_EQ(g.map(g.ctx, 0, refs, 2, NF_PAGE_BYTES, 1, &addr), -EPROTO);
	CHECK_EQ(g.map(g.ctx, 0, refs, 0, 0, 1, &addr), -EINVAL);
	CHECK_EQ(g.map(g.ctx, 0, NULL, 1, NF_PAGE_BYTES, 1, &addr), -EINVAL);
	CHECK(addr == NULL);
	CHECK_EQ(g.unmap(g.ctx, NULL, NF_PAGE_BYTES), 0);
	nf_xen_evtchns_init(&ev);
	nf_xen_evtchn_ops(&e, &ev);
	CHECK_EQ(e.notify(e.ctx, 5), -EINVAL);
	CHECK_EQ(e.wait(e.ctx, 5, 0), -EINVAL);
	CHECK_EQ(e.close(e.ctx, 5), -EINVAL);
	CHECK_EQ(e.notify(e.ctx, 0), -EINVAL);
	CHECK_EQ(nf_xen_port_fd(&ev, 5), -1);
	nf_xen_evtchns_fini(&ev);
}

static void t_no_xen(void)
{
	struct nf_grant_ops g;
	struct nf_evtchn_ops e;
	static struct nf_xen_evtchns ev;
	uint32_t refs[2] = { 8, 9 }, port = 0;
	void *addr = NULL;
	int fds = tap_open_fds();

	CHECK_STR(nf_xen_missing_device(), "/dev/xen/gntdev");
	nf_xen_grant_ops(&g);
	CHECK_EQ(g.map(g.ctx, 0, refs, 2, 2 * NF_PAGE_BYTES, 1, &addr), -ENOENT);
	nf_xen_evtchns_init(&ev);
	nf_xen_evtchn_ops(&e, &ev);
	CHECK_EQ(e.alloc(e.ctx, 0, &port), -ENOENT);
	CHECK_EQ(port, 0);
	nf_xen_evtchns_fini(&ev);
	CHECK_EQ(tap_open_fds(), fds);
}

static void t_self_map(void)
{
	uint32_t refs[16];
	void *owner = NULL, *addr = NULL;
	struct nf_grant_ops g;

	CHECK_EQ(vgnt_xen_share(self_domid, 16, VGNT_ACCESS_RW, refs, &owner), 0);
	if (!owner)
		return;
	memset(owner, 0x5a, 16 * NF_PAGE_BYTES);
	nf_xen_grant_ops(&g);
	CHECK_EQ(g.map(g.ctx, self_domid, refs, 16, 16 * NF_PAGE_BYTES, 1, &addr), 0);
	if (addr) {
		CHECK_EQ(((uint8_t *)addr)[16 * NF_PAGE_BYTES - 1], 0x5a);
		((uint8_t *)addr)[0] = 0xa5;
		CHECK_EQ(((uint8_t *)owner)[0], 0xa5);
		CHECK_EQ(g.unmap(g.ctx, addr, 16 * NF_PAGE_BYTES), 0);
	}
	CHECK_EQ(vgnt_xen_unshare(owner, 16), 0);
}

static void t_self_evtchn(void)
{
	static struct nf_xen_evtchns ev;
	struct nf_evtchn_ops e;
	struct evtchn_xen peer;
	uint32_t a = 0, b = 0;
	int fds = tap_open_fds();

	nf_xen_evtchns_init(&ev);
	nf_xen_evtchn_ops(&e, &ev);
	CHECK_EQ(e.alloc(e.ctx, self_domid, &a), 0);
	CHECK_EQ(e.alloc(e.ctx, self_domid, &b), 0);
	CHECK(a != b && nf_xen_port_fd(&ev, a) != nf_xen_port_fd(&ev, b));
	CHECK_EQ(evtchn_xen_bind_interdomain(&peer, self_domid, a), 0);
	if (peer.xce) {
		evtchn_xen_fd_wait(peer.fd, 1000);
		evtchn_xen_fd_consume(peer.fd); /* the bound end's pending-once */
		CHECK_EQ(e.wait(e.ctx, a, 0), 0);
		CHECK_EQ(evtchn_xen_fd_notify(peer.fd, peer.port), 0);
		CHECK_EQ(e.wait(e.ctx, b, 0), 0); /* only a's descriptor wakes */
		CHECK_EQ(e.wait(e.ctx, a, 5000), 1);
		CHECK_EQ(e.wait(e.ctx, a, 0), 0); /* consumed */
		CHECK_EQ(e.notify(e.ctx, a), 0);
		CHECK_EQ(evtchn_xen_fd_wait(peer.fd, 5000), 1);
		CHECK_EQ(evtchn_xen_fd_consume(peer.fd), 1);
		evtchn_xen_close(&peer);
	}
	CHECK_EQ(e.close(e.ctx, a), 0);
	CHECK_EQ(e.close(e.ctx, a), -EINVAL);
	nf_xen_evtchns_fini(&ev);
	CHECK_EQ(tap_open_fds(), fds);
}

int main(void)
{
	const char *self = getenv("VPIO_XEN_SELF_DOMID");

	tap_run("the ops refuse bytes that are not one page per ref (-EPROTO), bad arguments and unknown ports",
		t_bad_arguments);
	if (nf_xen_missing_device()) {
		tap_run("without Xen: the missing device is named, map and alloc are -ENOENT, nothing stays open", t_no_xen);
		return tap_done();
	}
	if (!self) {
		printf("# a Xen domain, but VPIO_XEN_SELF_DOMID is not set: skipping the self cases\n");
		return tap_done();
	}
	self_domid = (uint32_t)strtoul(self, NULL, 10);
	tap_run("the grant ops map 16 pages shared to ourselves, both ways", t_self_map);
	tap_run("the evtchn ops: two ports, each its own descriptor; a notification wakes only its port, both ways",
		t_self_evtchn);
	return tap_done();
}
