/* SPDX-License-Identifier: MIT */
/*
 * test-lnf-tap - xen mode's own TAP device (src/tap.c), on the host in a
 * fresh network namespace (the vitest runs it under `unshare -n`, as root):
 * what lnf_tap_create makes (flags, queues, descriptors), what
 * lnf_tap_configure sets (MAC, MTU, addresses, up), the errors, and the
 * address parser.
 */
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

#include "lnf.h"
#include "vpio/tap.h"

static int exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

static void close_all(int *fds, uint32_t n)
{
	for (uint32_t q = 0; q < n; q++)
		if (fds[q] >= 0)
			close(fds[q]);
}

static void t_create_one(void)
{
	int fds[LNF_MAX_QUEUES], before = tap_open_fds();
	const char *step = "";
	struct ifreq ifr;

	CHECK_EQ(lnf_tap_create("lnf-t0", 1, fds, &step), 0);
	CHECK(exists("lnf-t0"));
	memset(&ifr, 0, sizeof(ifr));
	CHECK_EQ(ioctl(fds[0], TUNGETIFF, &ifr), 0);
	CHECK_EQ(ifr.ifr_flags & (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
	CHECK(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
	CHECK_EQ(tap_open_fds(), before + 1);
	close_all(fds, 1);
	CHECK(!exists("lnf-t0")); /* not persistent: gone with its descriptor */
}

static void t_create_queues(void)
{
	int fds[LNF_MAX_QUEUES];
	const char *step = "";
	struct ifreq ifr;

	CHECK_EQ(lnf_tap_create("lnf-t1", 3, fds, &step), 0);
	for (int q = 0; q < 3; q++) {
		memset(&ifr, 0, sizeof(ifr));
		CHECK_EQ(ioctl(fds[q], TUNGETIFF, &ifr), 0);
		CHECK(ifr.ifr_flags & IFF_MULTI_QUEUE);
		CHECK_STR(ifr.ifr_name, "lnf-t1");
	}
	CHECK(fds[0] != fds[1] && fds[1] != fds[2]);
	close_all(fds, 3);
	CHECK(!exists("lnf-t1"));
}

static void t_create_errors(void)
{
	int fds[LNF_MAX_QUEUES], again[LNF_MAX_QUEUES], before;
	const char *step = "";

	CHECK_EQ(lnf_tap_create("lnf-t2", 1, fds, &step), 0);
	before = tap_open_fds();
	/* the name is taken by a device in use (as the kernel netfront's eth0 would be) */
	CHECK(lnf_tap_create("lnf-t2", 1, again, &step) < 0);
	CHECK_STR(step, "TUNSETIFF");
	CHECK_EQ(tap_open_fds(), before); /* nothing left behind */
	close_all(fds, 1);
	CHECK_EQ(lnf_tap_create("lnf-t3", 0, fds, &step), -EINVAL);
	CHECK_EQ(lnf_tap_create("lnf-t3", LNF_MAX_QUEUES + 1, fds, &step), -EINVAL);
	CHECK_EQ(lnf_tap_create("a-name-longer-than-ifnamsiz", 1, fds, &step), -EINVAL);
}

static void t_configure(void)
{
	static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x12, 0x34, 0x56 };
	int fds[LNF_MAX_QUEUES], s = socket(AF_INET, SOCK_DGRAM, 0);
	const char *step = "";
	struct ifreq ifr;
	char line[256], want6[40];
	int found6 = 0;
	FILE *f;

	CHECK_EQ(lnf_tap_create("lnf-t4", 1, fds, &step), 0);
	CHECK_EQ(lnf_tap_configure("lnf-t4", mac, 1400, "10.9.0.1/24", "fd00:9::1/64", &step), 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lnf-t4");
	CHECK_EQ(ioctl(s, SIOCGIFHWADDR, &ifr), 0);
	CHECK_EQ(memcmp(ifr.ifr_hwaddr.sa_data, mac, 6), 0);
	CHECK_EQ(ioctl(s, SIOCGIFMTU, &ifr), 0);
	CHECK_EQ(ifr.ifr_mtu, 1400);
	CHECK_EQ(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	CHECK(ifr.ifr_flags & IFF_UP);
	CHECK_EQ(ioctl(s, SIOCGIFADDR, &ifr), 0);
	CHECK_STR(inet_ntoa(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr), "10.9.0.1");
	CHECK_EQ(ioctl(s, SIOCGIFNETMASK, &ifr), 0);
	CHECK_STR(inet_ntoa(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr), "255.255.255.0");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	CHECK_EQ(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	CHECK(ifr.ifr_flags & IFF_UP);
	/* /proc/net/if_inet6: "fd000009000000000000000000000001 <idx> 40 00 80 lnf-t4" */
	snprintf(want6, sizeof(want6), "fd000009000000000000000000000001");
	if ((f = fopen("/proc/net/if_inet6", "r"))) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, want6, 32) && strstr(line, "lnf-t4") && strstr(line, " 40 "))
				found6 = 1;
		fclose(f);
	}
	CHECK(found6);
	/* a bad address: the step says which */
	CHECK_EQ(lnf_tap_configure("lnf-t4", mac, 0, "10.9.0.300/24", NULL, &step), -EINVAL);
	CHECK_STR(step, "--ip (A/P)");
	CHECK_EQ(lnf_tap_configure("lnf-nope", mac, 0, NULL, NULL, &step), -ENODEV);
	CHECK_STR(step, "mac");
	close_all(fds, 1);
	close(s);
}

static void t_parse_prefix(void)
{
	struct in_addr a;
	struct in6_addr a6;
	uint32_t p = 0;

	CHECK_EQ(lnf_parse_prefix(AF_INET, "10.0.0.1/24", &a, &p), 0);
	CHECK_EQ(p, 24);
	CHECK_EQ(lnf_parse_prefix(AF_INET6, "fd00::2/64", &a6, &p), 0);
	CHECK_EQ(p, 64);
	CHECK_EQ(lnf_parse_prefix(AF_INET, "10.0.0.1", &a, &p), -EINVAL);
	CHECK_EQ(lnf_parse_prefix(AF_INET, "10.0.0.1/0", &a, &p), -EINVAL);
	CHECK_EQ(lnf_parse_prefix(AF_INET, "10.0.0.1/33", &a, &p), -EINVAL);
	CHECK_EQ(lnf_parse_prefix(AF_INET, "10.0.0.1/2x", &a, &p), -EINVAL);
	CHECK_EQ(lnf_parse_prefix(AF_INET, "10.0.0/24", &a, &p), -EINVAL);
	CHECK_EQ(lnf_parse_prefix(AF_INET6, "fd00::2/129", &a6, &p), -EINVAL);
	CHECK_EQ(lnf_parse_prefix(AF_INET6, "10.0.0.1/24", &a6, &p), -EINVAL);
}

int main(void)
{
	tap_run("lnf_tap_create makes a non-persistent IFF_TAP|IFF_NO_PI|IFF_VNET_HDR device, descriptor non-blocking and close-on-exec", t_create_one);
	tap_run("lnf_tap_create with 3 queues makes an IFF_MULTI_QUEUE device with 3 descriptors", t_create_queues);
	tap_run("lnf_tap_create refuses a name in use (step TUNSETIFF, nothing left open), 0 or too many queues, a long name", t_create_errors);
	tap_run("lnf_tap_configure sets MAC, MTU, IPv4 address and netmask, IPv6 address, brings it and lo up; names a failing step", t_configure);
	tap_run("lnf_parse_prefix takes A/P for IPv4 and IPv6 and refuses what is not", t_parse_prefix);
	return tap_done();
}
