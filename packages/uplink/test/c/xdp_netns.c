/* SPDX-License-Identifier: MIT */
/* xdp_netns.c - see xdp_netns.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "xdp_netns.h"

static const uint8_t DST[6] = { 0x02, 0x76, 0x70, 0x69, 0x6f, 0x02 };
static const uint8_t SRC[6] = { 0x02, 0x76, 0x70, 0x69, 0x6f, 0x01 };

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	int rc = fputs(text, f) < 0 ? -1 : 0;
	return fclose(f) ? -1 : rc;
}

static int sh(const char *cmd)
{
	int rc = system(cmd);
	if (rc != 0)
		printf("# `%s` failed (%d)\n", cmd, rc);
	return rc == 0 ? 0 : -1;
}

int xnt_setup(const char *a, const char *b, unsigned mtu)
{
	char cmd[256];

	if (unshare(CLONE_NEWNET) != 0) {
		printf("# unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return -1;
	}
	/* /proc/sys/net is the namespace's own after unshare */
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	snprintf(cmd, sizeof(cmd), "ip link add %s mtu %u type veth peer name %s mtu %u", a, mtu, b, mtu);
	if (sh(cmd))
		return -1;
	snprintf(cmd, sizeof(cmd), "ip link set %s up && ip link set %s up && ip link set lo up", a, b);
	return sh(cmd);
}

int xnt_packet_socket(const char *ifname)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(XNT_ETHERTYPE));
	int sz = 8 << 20;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(XNT_ETHERTYPE) };

	if (fd < 0)
		return -1;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	if (sll.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int xnt_link_has_xdp(const char *ifname, char *line, size_t len)
{
	char cmd[96];
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "ip link show dev %s", ifname);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(line, 1, len - 1, p);
	line[n] = '\0';
	if (pclose(p) != 0)
		return -1;
	for (char *c = line; *c; c++)
		if (*c == '\n')
			*c = ' ';
	return strstr(line, " xdp") != NULL || strstr(line, "prog/xdp") != NULL;
}

static uint8_t pattern(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131u + i * 7u + (i >> 8));
}

void xnt_frame(uint8_t *buf, uint32_t len, uint32_t seq)
{
	memcpy(buf, DST, 6);
	memcpy(buf + 6, SRC, 6);
	buf[12] = XNT_ETHERTYPE >> 8;
	buf[13] = XNT_ETHERTYPE & 0xff;
	uint32_t s = htonl(seq);
	memcpy(buf + 14, &s, 4);
	for (uint32_t i = 18; i < len; i++)
		buf[i] = pattern(seq, i);
}

uint32_t xnt_frame_seq(const uint8_t *buf, uint32_t len)
{
	uint32_t s;

	if (len < 18 || buf[12] != (XNT_ETHERTYPE >> 8) || buf[13] != (XNT_ETHERTYPE & 0xff))
		return UINT32_MAX;
	memcpy(&s, buf + 14, 4);
	return ntohl(s);
}

bool xnt_frame_ok(const uint8_t *buf, uint32_t len, uint32_t seq)
{
	if (xnt_frame_seq(buf, len) != seq || memcmp(buf, DST, 6) || memcmp(buf + 6, SRC, 6))
		return false;
	for (uint32_t i = 18; i < len; i++)
		if (buf[i] != pattern(seq, i))
			return false;
	return true;
}

long long xnt_if_stat(const char *ifname, const char *name)
{
	/* /proc/net/dev is the calling task's namespace's; /sys/class/net is the one sysfs was mounted in */
	static const char *const cols[] = { "rx_bytes", "rx_packets", "rx_errors", "rx_dropped", "rx_fifo",
					    "rx_frame", "rx_compressed", "rx_multicast", "tx_bytes", "tx_packets",
					    "tx_errors", "tx_dropped" };
	char line[512];
	size_t len = strlen(ifname);
	int col = -1;

	for (int i = 0; i < (int)(sizeof(cols) / sizeof(cols[0])); i++)
		if (strcmp(cols[i], name) == 0)
			col = i;
	FILE *f = fopen("/proc/net/dev", "r");
	if (!f || col < 0) {
		if (f)
			fclose(f);
		return -1;
	}
	long long v = -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line;
		while (*p == ' ')
			p++;
		if (strncmp(p, ifname, len) != 0 || p[len] != ':')
			continue;
		p += len + 1;
		for (int i = 0; i <= col; i++)
			v = strtoll(p, &p, 10);
		break;
	}
	fclose(f);
	return v;
}

double xnt_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
