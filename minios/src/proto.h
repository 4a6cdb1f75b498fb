/* SPDX-License-Identifier: MIT */
/*
 * proto.h - byte-level helpers for Ethernet, ARP, IPv4, IPv6, ICMP(v6):
 * big-endian loads/stores, the Internet checksum, frame offsets. Frames are
 * hostile: every reader checks lengths before it looks.
 */
#ifndef MINIOS_PROTO_H
#define MINIOS_PROTO_H

#include <stdint.h>
#include <string.h>

#define ETH_HLEN 14u
#define ETH_P_IP 0x0800u
#define ETH_P_ARP 0x0806u
#define ETH_P_IPV6 0x86ddu
#define IP_PROTO_ICMP 1u
#define IP_PROTO_TCP 6u
#define IP_PROTO_UDP 17u
#define IP_PROTO_ICMPV6 58u
#define ICMP_ECHO_REPLY 0u
#define ICMP_ECHO_REQUEST 8u
#define ICMP6_ECHO_REQUEST 128u
#define ICMP6_ECHO_REPLY 129u
#define ICMP6_NS 135u
#define ICMP6_NA 136u
#define ARP_LEN 28u
#define IP6_HLEN 40u

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* One's-complement sum of len bytes (big-endian words), not folded. */
static inline uint32_t csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
	while (len > 1) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)(p[0] << 8);
	return sum;
}

static inline uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The checksum of len bytes (0 when the bytes include a correct checksum). */
static inline uint16_t inet_csum(const uint8_t *p, uint32_t len)
{
	return csum_fold(csum_add(0, p, len));
}

/* ICMPv6/UDP-over-IPv6 checksum: pseudo-header (src, dst, length, next header) + payload. */
static inline uint16_t ip6_csum(const uint8_t *ip6, const uint8_t *payload, uint32_t len, uint8_t nh)
{
	uint32_t sum = csum_add(0, ip6 + 8, 32);

	sum += len >> 16;
	sum += len & 0xffffu;
	sum += nh;
	return csum_fold(csum_add(sum, payload, len));
}

static inline uint16_t eth_type(const uint8_t *f)
{
	return be16(f + 12);
}

static inline void eth_swap(uint8_t *f)
{
	uint8_t t[6];

	memcpy(t, f, 6);
	memcpy(f, f + 6, 6);
	memcpy(f + 6, t, 6);
}

/* IPv4 header of a frame: its length (IHL * 4) if the header and total length fit in len, else 0. */
static inline uint32_t ip4_hlen(const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + ETH_HLEN;
	uint32_t hl, tot;

	if (len < ETH_HLEN + 20 || eth_type(f) != ETH_P_IP || (ip[0] >> 4) != 4)
		return 0;
	hl = (uint32_t)(ip[0] & 0xf) * 4;
	tot = be16(ip + 2);
	if (hl < 20 || tot < hl || ETH_HLEN + tot > len)
		return 0;
	return hl;
}

#endif /* MINIOS_PROTO_H */
