// SPDX-License-Identifier: MIT
//
// tap.c - the Linux guest's TAP device (vpio-launch --tap). Runs in the
// sandbox's init, inside the domain's own network namespace, after the
// namespaces and before the identity change and the seccomp filter: while
// it still holds CAP_NET_ADMIN over that namespace (and only that one).
//
// Order: lo up; ping_group_range = the tenant's gid (unprivileged ICMP
// sockets, so ping works without file capabilities, which no-new-privs
// ignores); IPv6 duplicate address detection off (nothing else shares this
// link segment's addresses but the switch's other tenants, whose MACs the
// switch locks; DAD would leave new addresses tentative for a second);
// /dev/net/tun + TUNSETIFF (IFF_TAP | IFF_NO_PI, and IFF_VNET_HDR with
// --tap-vnet-hdr: every frame then carries a virtio_net_hdr, and the guest,
// once its vif negotiated offloads, turns on TUNSETVNETHDRSZ/TUNSETOFFLOAD,
// which need no capability and which the seccomp filter leaves allowed;
// with --tap-queues N > 1 also IFF_MULTI_QUEUE, and N - 1 more descriptors
// of /dev/net/tun each attached as the next queue by the same TUNSETIFF:
// attaching needs CAP_NET_ADMIN, which only this step has, so the guest
// gets exactly N queues); MAC, MTU, IPv4 address and netmask, up; IPv6
// address. Only ioctls and procfs writes: no netlink library, no shelling
// out to ip(8).
//
// The device is not persistent: it lives exactly as long as the descriptor
// the guest inherits, so it disappears with the domain (and the namespace).

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "launch.h"

/* The kernel's struct in6_ifreq (linux/ipv6.h clashes with netinet/in.h). */
struct tap_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

static int set_flags_up(int s, const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return -errno;
	return 0;
}

/* A procfs write that may be absent (IPv6 disabled): -ENOENT is not an error. */
static int write_optional(const char *path, const char *text)
{
	int err = launch_write_file(path, text);
	return err == -ENOENT ? 0 : err;
}

/* TUNSETIFF on fd: the first makes the device, each further one (IFF_MULTI_QUEUE) attaches a queue. */
static int set_iff(const struct launch_tap *t, int fd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (t->vnet_hdr ? IFF_VNET_HDR : 0) | (t->queues > 1 ? IFF_MULTI_QUEUE : 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->name);
	return ioctl(fd, TUNSETIFF, &ifr) < 0 ? -errno : 0;
}

static int configure(const struct launch_tap *t, int s, int fds[TAP_MAX_QUEUES], const char **step)
{
	struct ifreq ifr;
	int err;

	*step = "TUNSETIFF";
	for (unsigned q = 0; q < t->queues; q++) {
		if (q > 0) {
			*step = "open /dev/net/tun (queue)";
			if ((fds[q] = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) < 0)
				return -errno;
			*step = "TUNSETIFF (attach queue)";
		}
		if ((err = set_iff(t, fds[q])) < 0)
			return err;
	}

	if (t->have_mac) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->name);
		ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
		memcpy(ifr.ifr_hwaddr.sa_data, t->mac, 6);
		*step = "mac";
		if (ioctl(s, SIOCSIFHWADDR, &ifr) < 0)
			return -errno;
	}
	if (t->mtu) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->name);
		ifr.ifr_mtu = (int)t->mtu;
		*step = "mtu";
		if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
			return -errno;
	}
	if (t->have_addr) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
		uint32_t mask = t->prefix ? htonl(~0u << (32 - t->prefix)) : 0;

		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->name);
		sin->sin_family = AF_INET;
		sin->sin_addr = t->addr;
		*step = "addr";
		if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
			return -errno;
		sin->sin_addr.s_addr = mask;
		*step = "netmask";
		if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
			return -errno;
	}
	*step = "up";
	if ((err = set_flags_up(s, t->name)) < 0)
		return err;
	if (t->have_addr6) {
		struct tap_in6_ifreq r;
		int s6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		*step = "addr6";
		if (s6 < 0)
			return -errno;
		memset(&r, 0, sizeof(r));
		r.addr = t->addr6;
		r.prefixlen = t->prefix6;
		r.ifindex = (int)if_nametoindex(t->name);
		err = r.ifindex > 0 && ioctl(s6, SIOCSIFADDR, &r) == 0 ? 0 : -errno;
		close(s6);
		if (err < 0)
			return err;
	}
	return 0;
}

int tap_setup(const struct launch_tap *t, int out_fds[TAP_MAX_QUEUES], const char **step)
{
	int fds[TAP_MAX_QUEUES];
	char text[48];
	int s, err;

	if (t->queues < 1 || t->queues > TAP_MAX_QUEUES)
		return *step = "queues", -EINVAL;
	for (unsigned q = 0; q < TAP_MAX_QUEUES; q++)
		fds[q] = -1;
	*step = "socket";
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	*step = "lo-up";
	if ((err = set_flags_up(s, "lo")) < 0)
		goto out;
	*step = "ping-group-range";
	snprintf(text, sizeof(text), "%u %u", (unsigned)t->ping_gid, (unsigned)t->ping_gid);
	if ((err = launch_write_file("/proc/sys/net/ipv4/ping_group_range", text)) < 0)
		goto out;
	*step = "accept-dad";
	if ((err = write_optional("/proc/sys/net/ipv6/conf/all/accept_dad", "0")) < 0 ||
	    (err = write_optional("/proc/sys/net/ipv6/conf/default/accept_dad", "0")) < 0)
		goto out;
	*step = "open /dev/net/tun";
	fds[0] = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fds[0] < 0) {
		err = -errno;
		goto out;
	}
	if ((err = configure(t, s, fds, step)) < 0) {
		for (unsigned q = 0; q < t->queues; q++)
			if (fds[q] >= 0)
				close(fds[q]);
		goto out;
	}
	for (unsigned q = 0; q < t->queues; q++)
		out_fds[q] = fds[q];
	err = 0;
out:
	close(s);
	return err;
}

int tap_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (s[i * 3] == ' ' || s[i * 3] == '+' || s[i * 3] == '-')
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	if (mac[0] & 1) /* multicast */
		return -EINVAL;
	return 0;
}

int tap_parse_prefix(int family, const char *s, void *addr, uint8_t *prefix)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	unsigned max = family == AF_INET ? 32 : 128, p = 0;
	size_t n;

	if (!slash || strlen(s) >= sizeof(buf))
		return -EINVAL;
	n = (size_t)(slash - s);
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(family, buf, addr) != 1)
		return -EINVAL;
	if (!slash[1] || strlen(slash + 1) > 3)
		return -EINVAL;
	for (const char *c = slash + 1; *c; c++) {
		if (*c < '0' || *c > '9')
			return -EINVAL;
		p = p * 10 + (unsigned)(*c - '0');
	}
	if (p > max || (family == AF_INET && p == 0))
		return -EINVAL;
	*prefix = (uint8_t)p;
	return 0;
}
