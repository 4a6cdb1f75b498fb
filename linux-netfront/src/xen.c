// SPDX-License-Identifier: MIT
//
// xen.c - xen mode's platform: vpio-linux-netfront in a Linux PV domU, from
// userspace, with no kernel module beyond Debian's stock xen-gntdev,
// xen-evtchn and tun:
//   - the xenstore through /dev/xen/xenbus (@vpio/xenstore's C client over
//     its fd transport: the kernel's xenbus device takes whole messages,
//     polls and reads partially, so the client needs nothing else); paths
//     are relative to our domain (VIF_PATH_DEVICE_VIF_RELATIVE "<n>"), as
//     the core writes them;
//   - grants mapped through /dev/xen/gntdev and one xenevtchn handle per
//     event-channel port (vpio/netfront_xen.h);
//   - our own TAP device (tap.c), since no launcher made one: created before
//     the handshake (its vnet-header flag decides what we ask the vif for),
//     given the vif's `mac` and `mtu` and the --ip/--ip6 addresses and
//     brought up once the vif is Connected.
// Before the handshake it waits (a xenstore watch, --wait-ms) until the
// toolstack has made the vif directory with its `backend`: a guest may boot
// before dom0 adds its vif. Once connected, the xenstore descriptor is the
// backend watch's (xen_backend_fd): an event channel to a backend that
// closed its end drops our notifications silently, so only the watch the
// core keeps on the backend directory says that the backend went away.

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lnf.h"
#include "vpio/netfront_xen.h"
#include "vpio/xs.h"
#include "vpio/xs_transport.h"

#define EX_NOTAP 69
#define EX_CONNECT 75

#define XENBUS_DEV "/dev/xen/xenbus"

static struct xs_handle xs;
static struct xs_fd_transport xs_ft;
static struct xs_transport xs_tr;
static uint8_t xs_events[16u * XS_EVENT_RECORD_MAX];
static struct nf_xen_evtchns evtchns;
static struct nf_grant_ops gops;
static struct nf_evtchn_ops eops;
static int xs_is_open, evtchns_ready;

int lnf_xen_present(void)
{
	return access(XENBUS_DEV, F_OK) == 0;
}

/* What to say about a missing device: which module provides it. */
static const char *module_of(const char *dev)
{
	if (!strcmp(dev, "/dev/xen/gntdev"))
		return "xen-gntdev (modprobe xen-gntdev)";
	if (!strcmp(dev, "/dev/xen/evtchn"))
		return "xen-evtchn (modprobe xen-evtchn)";
	return "the xenbus frontend (built into a Xen PV kernel): is this a Xen PV guest?";
}

/* "xen" in /sys/hypervisor/type: a Xen guest (PV or not); 0 when absent or something else. */
static int on_xen(void)
{
	char buf[16] = "";
	FILE *f = fopen("/sys/hypervisor/type", "r");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return !strncmp(buf, "xen", 3);
}

/* The first thing xen mode does: is this a Xen guest with its devices? Then our TAP device. */
static int xen_tap(const struct lnf_opts *o, int fds[LNF_MAX_QUEUES], uint32_t *n)
{
	uint32_t queues = o->want_queues ? o->want_queues : 1;
	const char *missing = nf_xen_missing_device(), *step = "";
	int rc;

	if (!on_xen() && access(XENBUS_DEV, F_OK) != 0) {
		lnf_say("xen mode: not a Xen guest (/sys/hypervisor/type is not \"xen\", no " XENBUS_DEV ")");
		return EX_NOTAP;
	}
	if (missing) {
		lnf_say("xen mode: %s is missing: load %s", missing, module_of(missing));
		return EX_NOTAP;
	}
	rc = lnf_tap_create(o->ifname, queues, fds, &step);
	if (rc == -ENOENT && !strcmp(step, "open /dev/net/tun")) {
		lnf_say("xen mode: /dev/net/tun is missing: load the tun module (modprobe tun)");
		return EX_NOTAP;
	}
	if (rc < 0) {
		lnf_say("xen mode: TAP device %s: %s: %s%s", o->ifname, step, strerror(-rc),
			rc == -EBUSY || rc == -EINVAL ? " (a device of that name exists already? xen-netfront loaded? --ifname)" : "");
		return EX_NOTAP;
	}
	*n = queues;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Waits until device/<type>/<devid>/backend exists (vpio/vif_proto.h's path) (a watch on the vif's
 * directory: the toolstack writes it, then the backend its refs). 0,
 * -ETIMEDOUT, or an xs errno.
 */
static int wait_vif(uint32_t devid, int wait_ms)
{
	char dir[64], key[96], buf[160], epath[256], token[16];
	int64_t deadline = now_ms() + wait_ms;
	int rc, watching;

	snprintf(dir, sizeof(dir), VIF_PATH_DEVICE_VIF_RELATIVE "%u", devid);
	snprintf(key, sizeof(key), "%s/" VIF_KEY_BACKEND, dir);
	watching = xs_watch(&xs, dir, "lnf-vif") == 0;
	for (;;) {
		int64_t left = deadline - now_ms();

		if ((rc = xs_read(&xs, XS_NO_TX, key, buf, sizeof(buf), NULL)) == 0)
			break;
		if (rc != -XS_ENOENT && rc != -XS_EACCES)
			break;
		if (left <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		if (watching) {
			rc = xs_wait_event(&xs, left > 1000 ? 1000 : (int)left, epath, sizeof(epath), token, sizeof(token));
			if (rc && rc != -XS_ETIMEDOUT && rc != -XS_EOVERFLOW)
				break;
		} else {
			struct timespec ts = { 0, 200 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	if (watching)
		(void)xs_unwatch(&xs, dir, "lnf-vif");
	return rc;
}

static void xen_close(void)
{
	if (evtchns_ready)
		nf_xen_evtchns_fini(&evtchns);
	evtchns_ready = 0;
	if (xs_is_open)
		xs_close(&xs);
	xs_is_open = 0;
}

static int xen_open(const struct lnf_opts *o, struct nf_config *cfg)
{
	char domid[16] = "?";
	int rc;

	if ((rc = xs_fd_transport_connect(&xs_ft, &xs_tr, XENBUS_DEV)) < 0 ||
	    (rc = xs_open(&xs, &xs_tr, xs_events, sizeof(xs_events))) < 0) {
		lnf_say("xen mode: xenstore over " XENBUS_DEV ": %s", strerror(-rc));
		return EX_CONNECT;
	}
	xs_is_open = 1;
	if (xs_read(&xs, XS_NO_TX, "domid", domid, sizeof(domid) - 1, NULL) != 0)
		snprintf(domid, sizeof(domid), "?");
	rc = wait_vif(o->devid, o->wait_ms);
	if (rc == -ETIMEDOUT) {
		lnf_say("xen mode: vif %u never appeared (no " VIF_PATH_DEVICE_VIF_RELATIVE "%u/" VIF_KEY_BACKEND
			" in domain %s's xenstore directory after %d ms): was the guest given a vif (vpio run --vif)?",
			o->devid, o->devid, domid, o->wait_ms);
		xen_close();
		return EX_CONNECT;
	}
	if (rc) {
		lnf_say("xen mode: reading " VIF_PATH_DEVICE_VIF_RELATIVE "%u: %s", o->devid, strerror(-rc));
		xen_close();
		return EX_CONNECT;
	}
	nf_xen_grant_ops(&gops);
	nf_xen_evtchns_init(&evtchns);
	nf_xen_evtchn_ops(&eops, &evtchns);
	evtchns_ready = 1;
	memset(cfg, 0, sizeof(*cfg));
	cfg->devid = o->devid;
	cfg->xs = &xs;
	cfg->grant = &gops;
	cfg->evtchn = &eops;
	cfg->mode = o->mode;
	cfg->timeout_ms = o->timeout_ms;
	lnf_say("xen mode: domain %s, vif %u found, connecting", domid, o->devid);
	return 0;
}

static int xen_port_fd(uint32_t port)
{
	return nf_xen_port_fd(&evtchns, port);
}

static int xen_backend_fd(void)
{
	return xs_is_open ? xs_ft.fd : -1;
}

static int xen_configure(const struct lnf_opts *o, const struct nf_dev *vif)
{
	const char *step = "";
	int rc = lnf_tap_configure(o->ifname, nf_mac(vif), nf_mtu(vif), o->ip, o->ip6, &step);

	if (rc < 0) {
		lnf_say("xen mode: configuring %s: %s: %s", o->ifname, step, strerror(-rc));
		return EX_NOTAP;
	}
	lnf_say("xen mode: %s up%s%s%s%s", o->ifname, o->ip ? ", " : "", o->ip ? o->ip : "", o->ip6 ? ", " : "",
		o->ip6 ? o->ip6 : "");
	return 0;
}

const struct lnf_platform lnf_xen_platform = {
	.name = "xen",
	.command_optional = 1,
	.tap = xen_tap,
	.open = xen_open,
	.port_fd = xen_port_fd,
	.backend_fd = xen_backend_fd,
	.configure = xen_configure,
	.close = xen_close,
};
