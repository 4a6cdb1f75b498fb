// SPDX-License-Identifier: MIT
//
// tap.c - the TAP device xen mode makes for itself (in host mode the
// launcher makes it: @vpio/domain's vpio-launch --tap, which this follows).
// A PV domU has no launcher: we run as the guest's root, in its only network
// namespace. Creating: /dev/net/tun + TUNSETIFF (IFF_TAP | IFF_NO_PI |
// IFF_VNET_HDR, IFF_MULTI_QUEUE with several queues: one more descriptor per
// queue, attached by the same TUNSETIFF). Configuring, once the vif is
// Connected: MAC, MTU, IPv4 address and netmask, up, IPv6 address (with
// duplicate address detection off: the switch locks every tenant's MAC, and
// DAD would keep a new address tentative for a second). Only ioctls and
// procfs writes: no netlink, no ip(8).
//
// The device is not persistent: it goes away with our descriptors.

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lnf.h"

/* The kernel's struct in6_ifreq (linux/ipv6.h clashes with netinet/in.h). */
struct lnf_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

int lnf_tap_create(const char *name, uint32_t n, int fds[LNF_MAX_QUEUES], const char **step)
{
	struct ifreq ifr;
	uint32_t q;
	int err = 0;

	if (n < 1 || n > LNF_MAX_QUEUES || strlen(name) >= IFNAMSIZ)
		return *step = n < 1 || n > LNF_MAX_QUEUES ? "queues" : "name", -EINVAL;
	for (q = 0; q < n; q++)
		fds[q] = -1;
	for (q = 0; q < n; q++) {
		*step = q ? "open /dev/net/tun (queue)" : "open /dev/net/tun";
		if ((fds[q] = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK)) < 0) {
			err = -errno;
			break;
		}
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (n > 1 ? IFF_MULTI_QUEUE : 0);
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		*step = q ? "TUNSETIFF (attach queue)" : "TUNSETIFF";
		if (ioctl(fds[q], TUNSETIFF, &ifr) < 0) {
			err = -errno;
			break;
		}
	}
	if (err < 0)
		for (q = 0; q < n; q++)
			if (fds[q] >= 0)
				close(fds[q]), fds[q] = -1;
	return err;
}

static int set_up(int s, const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP;
	return ioctl(s, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

int lnf_parse_prefix(int family, const char *s, void *addr, uint32_t *prefix)
{
	char buf[INET6_ADDRSTRLEN + 8], *end;
	const char *slash = strchr(s, '/');
	unsigned long p;

	if (!slash || strlen(s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (inet_pton(family, buf, addr) != 1)
		return -EINVAL;
	p = strtoul(slash + 1, &end, 10);
	if (end == slash + 1 || *end || p > (family == AF_INET ? 32u : 128u) || (family == AF_INET && p == 0))
		return -EINVAL;
	*prefix = (uint32_t)p;
	return 0;
}

/* A procfs write that may be absent (IPv6 disabled): 0 then. */
static int write_optional(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (write(fd, text, strlen(text)) < 0)
		err = -errno;
	close(fd);
	return err;
}

static int configure(int s, const char *name, const uint8_t mac[6], uint32_t mtu, const char *ip, const char *ip6,
		     const char **step)
{
	struct ifreq ifr;
	char path[96];
	int err;

	*step = "lo up";
	if ((err = set_up(s, "lo")) < 0)
		return err;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	*step = "mac";
	if (ioctl(s, SIOCSIFHWADDR, &ifr) < 0)
		return -errno;
	if (mtu) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		ifr.ifr_mtu = (int)mtu;
		*step = "mtu";
		if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
			return -errno;
	}
	if (ip) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
		struct in_addr a;
		uint32_t prefix;

		*step = "--ip (A/P)";
		if ((err = lnf_parse_prefix(AF_INET, ip, &a, &prefix)) < 0)
			return err;
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		sin->sin_family = AF_INET;
		sin->sin_addr = a;
		*step = "addr";
		if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
			return -errno;
		sin->sin_addr.s_addr = htonl(~0u << (32 - prefix));
		*step = "netmask";
		if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
			return -errno;
	}
	*step = "accept_dad";
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_dad", name);
	if ((err = write_optional(path, "0")) < 0)
		return err;
	*step = "up";
	if ((err = set_up(s, name)) < 0)
		return err;
	if (ip6) {
		struct lnf_in6_ifreq r;
		int s6;

		memset(&r, 0, sizeof(r));
		*step = "--ip6 (A/P)";
		if ((err = lnf_parse_prefix(AF_INET6, ip6, &r.addr, &r.prefixlen)) < 0)
			return err;
		*step = "addr6";
		if ((s6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
			return -errno;
		r.ifindex = (int)if_nametoindex(name);
		err = r.ifindex > 0 && ioctl(s6, SIOCSIFADDR, &r) == 0 ? 0 : -errno;
		close(s6);
		if (err < 0)
			return err;
	}
	return 0;
}

int lnf_tap_configure(const char *name, const uint8_t mac[6], uint32_t mtu, const char *ip, const char *ip6,
		      const char **step)
{
	int s, err;

	*step = "socket";
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	err = configure(s, name, mac, mtu, ip, ip6, step);
	close(s);
	return err;
}
