/* SPDX-License-Identifier: MIT */
/*
 * wire_xdp_probe.c - can this process open an AF_XDP wire on an interface,
 * and in which mode? Looks, never changes anything (no program attached, no
 * socket bound), so `vpio doctor` and `vpio uplink add --mode auto` can ask
 * about a production NIC without a link flap. The answer is what the
 * backend would try first; wire_xdp_info() of an opened wire is the truth.
 *
 * Sources: if_nametoindex; socket(AF_XDP) (EAFNOSUPPORT: a kernel without
 * CONFIG_XDP_SOCKETS; EPERM: no CAP_NET_RAW); capget for CAP_BPF/CAP_SYS_ADMIN
 * and CAP_NET_ADMIN; ethtool's driver name; the XDP features the driver
 * advertises through the "netdev" generic-netlink family (Linux >= 6.3);
 * bpf_xdp_query for a program attached without libxdp's dispatcher.
 */
#include <errno.h>
#include <linux/capability.h>
#include <linux/ethtool.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "wire_xdp_internal.h"
#include "vpio/xsk_handoff.h"
#include "vpio/xdp_vpio.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
/* include/uapi/linux/netdev.h (not in Debian 12's linux-libc-dev) */
#define NETDEV_CMD_DEV_GET 1
#define NETDEV_A_DEV_IFINDEX 1
#define NETDEV_A_DEV_XDP_FEATURES 3
#define NETDEV_XDP_ACT_BASIC 1u
#define NETDEV_XDP_ACT_REDIRECT 2u
#define NETDEV_XDP_ACT_XSK_ZEROCOPY 8u

static bool has_cap(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2] = { { 0 } };

	if (syscall(SYS_capget, &h, d) != 0)
		return false;
	return (d[cap / 32].effective >> (cap % 32)) & 1u;
}

static void driver_of(const char *ifname, char *out, size_t len)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	out[0] = '\0';
	if (fd < 0)
		return;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&info;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0)
		snprintf(out, len, "%.31s", info.driver);
	close(fd);
}

/* One generic-netlink request/response on fd; the reply into buf. Returns its length or -errno. */
static int genl_call(int fd, struct nlmsghdr *req, char *buf, size_t len)
{
	if (send(fd, req, req->nlmsg_len, 0) < 0)
		return -errno;
	ssize_t n = recv(fd, buf, len, 0);
	if (n < 0)
		return -errno;
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	if ((size_t)n < sizeof(*h) || !NLMSG_OK(h, (size_t)n))
		return -EPROTO;
	if (h->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *e = NLMSG_DATA(h);
		return e->error ? e->error : -ENOMSG;
	}
	return (int)n;
}

/* Walks the attributes after a genl header; returns the first of `type`, or NULL. */
static struct nlattr *genl_attr(struct nlmsghdr *h, int type)
{
	char *p = (char *)NLMSG_DATA(h) + GENL_HDRLEN;
	char *end = (char *)h + h->nlmsg_len;

	while (p + NLA_HDRLEN <= end) {
		struct nlattr *a = (struct nlattr *)p;
		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
			return NULL;
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		p += NLA_ALIGN(a->nla_len);
	}
	return NULL;
}

/* The driver's NETDEV_XDP_ACT_* bits. 0 and *out, or -errno (-ENOENT: no netdev family, Linux < 6.3). */
static int xdp_features(int ifindex, uint64_t *out)
{
	struct {
		struct nlmsghdr h;
		struct genlmsghdr g;
		char attrs[64];
	} req;
	char buf[8192] __attribute__((aligned(4)));
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	int rc;

	if (fd < 0)
		return -errno;
	/* the family id of "netdev" */
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_type = GENL_ID_CTRL;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.g.cmd = CTRL_CMD_GETFAMILY;
	req.g.version = 1;
	struct nlattr *a = (struct nlattr *)req.attrs;
	a->nla_type = CTRL_ATTR_FAMILY_NAME;
	a->nla_len = NLA_HDRLEN + sizeof("netdev");
	memcpy((char *)a + NLA_HDRLEN, "netdev", sizeof("netdev"));
	req.h.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN) + NLA_ALIGN(a->nla_len);
	rc = genl_call(fd, &req.h, buf, sizeof(buf));
	struct nlattr *id = rc > 0 ? genl_attr((struct nlmsghdr *)buf, CTRL_ATTR_FAMILY_ID) : NULL;
	if (rc < 0 || !id) {
		close(fd);
		return rc < 0 ? rc : -ENOENT;
	}
	uint16_t family;
	memcpy(&family, (char *)id + NLA_HDRLEN, sizeof(family));

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_type = family;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.g.cmd = NETDEV_CMD_DEV_GET;
	req.g.version = 1;
	a = (struct nlattr *)req.attrs;
	a->nla_type = NETDEV_A_DEV_IFINDEX;
	a->nla_len = NLA_HDRLEN + sizeof(uint32_t);
	uint32_t ifx = (uint32_t)ifindex;
	memcpy((char *)a + NLA_HDRLEN, &ifx, sizeof(ifx));
	req.h.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN) + NLA_ALIGN(a->nla_len);
	rc = genl_call(fd, &req.h, buf, sizeof(buf));
	close(fd);
	struct nlattr *f = rc > 0 ? genl_attr((struct nlmsghdr *)buf, NETDEV_A_DEV_XDP_FEATURES) : NULL;
	if (rc < 0 || !f || f->nla_len < NLA_HDRLEN + sizeof(uint64_t))
		return rc < 0 ? rc : -ENOENT;
	memcpy(out, (char *)f + NLA_HDRLEN, sizeof(*out));
	return 0;
}

int wire_xdp_probe(const char *ifname, struct wire_xdp_probe *out)
{
	if (!ifname || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->mode = "none";
	out->attach = "none";

	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	out->packet = fd >= 0;
	if (fd >= 0)
		close(fd);

	int ifindex = (int)if_nametoindex(ifname);
	if (ifindex == 0) {
		snprintf(out->why, sizeof(out->why), "no interface %.32s in this network namespace", ifname);
		return 0;
	}
	driver_of(ifname, out->driver, sizeof(out->driver));
	out->features_known = xdp_features(ifindex, &out->xdp_features) == 0;

	fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	int xerr = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	if (xerr == EAFNOSUPPORT) {
		snprintf(out->why, sizeof(out->why), "the kernel has no AF_XDP (CONFIG_XDP_SOCKETS is off)");
		return 0;
	}
	if (xerr) {
		snprintf(out->why, sizeof(out->why), "socket(AF_XDP): %s (needs CAP_NET_RAW)", strerror(xerr));
		return 0;
	}
	if (!has_cap(CAP_BPF) && !has_cap(CAP_SYS_ADMIN)) {
		snprintf(out->why, sizeof(out->why), "no CAP_BPF: cannot load the XDP program");
		return 0;
	}
	if (!has_cap(CAP_NET_ADMIN)) {
		snprintf(out->why, sizeof(out->why), "no CAP_NET_ADMIN: cannot attach the XDP program");
		return 0;
	}
	/* One socket serves one queue: with more, the other queues' frames would bypass the wire. */
	if (vpio_xsk_rx_queues(ifname, &out->rx_queues) == 0 && out->rx_queues > 1) {
		snprintf(out->why, sizeof(out->why),
			 "%.32s has %u rx queues; the AF_XDP wire serves one queue: ethtool -L %.32s rx 1 (or combined 1), or --mode packet",
			 ifname, out->rx_queues, ifname);
		return 0;
	}
	/* Someone else's program stays (vpio's own, attached the old way by netlink, is replaced). */
	char other[BPF_OBJ_NAME_LEN];
	uint32_t other_id = 0;
	if (wire_xdp_foreign_program(ifindex, &other_id, other) == 1 && strcmp(other, VPIO_XDP_PROG_NAME) != 0) {
		snprintf(out->why, sizeof(out->why),
			 "XDP program %.16s (id %u) is attached to %.32s: vpio does not replace it",
			 other, other_id, ifname);
		return 0;
	}
	out->possible = true;
	bool native = out->features_known && (out->xdp_features & NETDEV_XDP_ACT_BASIC) &&
		      (out->xdp_features & NETDEV_XDP_ACT_REDIRECT);
	bool zc = out->features_known && (out->xdp_features & NETDEV_XDP_ACT_XSK_ZEROCOPY);
	out->attach = native || !out->features_known ? "native" : "generic";
	out->mode = zc ? "zerocopy" : "copy";
	if (!out->features_known)
		snprintf(out->why, sizeof(out->why), "XDP features unknown (no netdev netlink family, Linux < 6.3): the wire tries native + zerocopy, then falls back");
	else if (!native)
		snprintf(out->why, sizeof(out->why), "%.32s (driver %.31s) has no native XDP redirect: generic (SKB) mode, copy", ifname, out->driver[0] ? out->driver : "unknown");
	else if (!zc)
		snprintf(out->why, sizeof(out->why), "driver %.31s has native XDP but no AF_XDP zero-copy: copy mode", out->driver);
	else
		snprintf(out->why, sizeof(out->why), "driver %.31s: native XDP and AF_XDP zero-copy", out->driver);
	return 0;
}

/* JSON string body: the why line holds only printable ASCII we wrote, but escape " and \ anyway. */
static void json_str(char *dst, size_t len, const char *s)
{
	size_t j = 0;
	for (; *s && j + 2 < len; s++) {
		if (*s == '"' || *s == '\\')
			dst[j++] = '\\';
		dst[j++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	}
	dst[j] = '\0';
}

int wire_xdp_probe_json(const struct wire_xdp_probe *p, char *buf, size_t len)
{
	char why[2 * sizeof(p->why)], drv[2 * sizeof(p->driver)], feat[24] = "null";

	json_str(why, sizeof(why), p->why);
	json_str(drv, sizeof(drv), p->driver);
	if (p->features_known)
		snprintf(feat, sizeof(feat), "%llu", (unsigned long long)p->xdp_features);
	return snprintf(buf, len,
			"{\"packet\":%s,\"xdp\":{\"possible\":%s,\"mode\":\"%s\",\"attach\":\"%s\",\"driver\":\"%s\","
			"\"features\":%s,\"rx_queues\":%u,\"why\":\"%s\"}}",
			p->packet ? "true" : "false", p->possible ? "true" : "false", p->mode, p->attach, drv, feat, p->rx_queues, why);
}

int wire_xdp_foreign_program(int ifindex, uint32_t *id, char name[BPF_OBJ_NAME_LEN])
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	name[0] = '\0';
	*id = 0;
	if (bpf_xdp_query(ifindex, 0, &q) != 0 || q.attach_mode == XDP_ATTACHED_NONE)
		return 0;
	*id = q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	if (q.attach_mode == XDP_ATTACHED_MULTI || *id == 0)
		return 1; /* native and generic at once: not libxdp's doing */
	int fd = bpf_prog_get_fd_by_id(*id);
	if (fd < 0)
		return 0; /* gone meanwhile, or not ours to look at: libxdp will say */
	memset(&info, 0, sizeof(info));
	int rc = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (rc != 0)
		return 0;
	memcpy(name, info.name, BPF_OBJ_NAME_LEN);
	name[BPF_OBJ_NAME_LEN - 1] = '\0';
	return strcmp(name, "xdp_dispatcher") == 0 ? 0 : 1;
}
