// SPDX-License-Identifier: MIT
//
// wire-garbage - bad input for an uplink's wire (test/uplink-e2e.test.ts),
// built by the test with cc (no Python, no nc needed). Prints "sent=N".
//
//   wire-garbage udp ADDR PORT VNI   10 datagrams of each kind vpio-uplink's
//                                    VXLAN decap must drop: shorter than the
//                                    header, I flag clear, reserved bits set,
//                                    another VNI, a runt inner frame, an
//                                    already tagged inner frame, a group
//                                    source MAC
//   wire-garbage packet IFNAME       20 frames of 4000 bytes (longer than a
//                                    vif buffer: the interfaces' MTU is 9000)
//                                    out of IFNAME

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void vxlan_hdr(uint8_t *d, uint8_t flags, uint32_t vni, uint8_t reserved)
{
	memset(d, 0, 8);
	d[0] = flags;
	d[3] = reserved;
	d[4] = (uint8_t)(vni >> 16), d[5] = (uint8_t)(vni >> 8), d[6] = (uint8_t)vni;
}

static size_t inner(uint8_t *d, int tagged, int mcast_src)
{
	memset(d, 0, 64);
	memset(d, 0xff, 6);
	memcpy(d + 6, mcast_src ? "\x01\x00\x5e\x00\x00\x01" : "\x02\x00\x00\x99\x99\x01", 6);
	if (tagged) {
		d[12] = 0x81, d[13] = 0x00, d[14] = 0x00, d[15] = 10, d[16] = 0x08, d[17] = 0x06;
	} else {
		d[12] = 0x08, d[13] = 0x06;
	}
	return 64;
}

static int udp(const char *addr, int port, uint32_t vni)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	uint8_t d[128];
	int s = socket(AF_INET, SOCK_DGRAM, 0), sent = 0;

	if (s < 0 || inet_pton(AF_INET, addr, &to.sin_addr) != 1)
		return 1;
	for (int round = 0; round < 10; round++) {
		struct { size_t len; } m[7];
		uint8_t b[7][128];
		/* short */
		memset(b[0], 0x08, 4), m[0].len = 4;
		/* I flag clear */
		vxlan_hdr(b[1], 0x00, vni, 0), m[1].len = 8 + inner(b[1] + 8, 0, 0);
		/* reserved bits */
		vxlan_hdr(b[2], 0x08, vni, 0x5a), m[2].len = 8 + inner(b[2] + 8, 0, 0);
		/* another VNI */
		vxlan_hdr(b[3], 0x08, vni + 1000, 0), m[3].len = 8 + inner(b[3] + 8, 0, 0);
		/* runt inner frame */
		vxlan_hdr(b[4], 0x08, vni, 0), memset(b[4] + 8, 0xff, 6), m[4].len = 8 + 6;
		/* tagged inner frame */
		vxlan_hdr(b[5], 0x08, vni, 0), m[5].len = 8 + inner(b[5] + 8, 1, 0);
		/* group source MAC */
		vxlan_hdr(b[6], 0x08, vni, 0), m[6].len = 8 + inner(b[6] + 8, 0, 1);
		for (int i = 0; i < 7; i++)
			sent += sendto(s, b[i], m[i].len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)m[i].len;
		usleep(1000);
	}
	(void)d;
	printf("sent=%d\n", sent);
	return sent == 70 ? 0 : 1;
}

static int packet(const char *ifname)
{
	static uint8_t f[4000];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)if_nametoindex(ifname) };
	int s = socket(AF_PACKET, SOCK_RAW, 0), sent = 0;

	if (s < 0 || sll.sll_ifindex == 0 || bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return 1;
	memset(f, 0xa5, sizeof(f));
	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x99\x99\x02", 6);
	f[12] = 0x88, f[13] = 0xb5;
	for (int i = 0; i < 20; i++) {
		sent += send(s, f, sizeof(f), 0) == (ssize_t)sizeof(f);
		usleep(1000);
	}
	printf("sent=%d\n", sent);
	return sent == 20 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "udp") == 0)
		return udp(argv[2], atoi(argv[3]), (uint32_t)strtoul(argv[4], NULL, 10));
	if (argc == 3 && strcmp(argv[1], "packet") == 0)
		return packet(argv[2]);
	fprintf(stderr, "usage: wire-garbage udp ADDR PORT VNI | packet IFNAME\n");
	return 2;
}
