/* SPDX-License-Identifier: MIT */
/*
 * netinet/in.h - IPv4/IPv6 address types and the byte-order conversions, as
 * POSIX has them (minus sockets: a PV kernel has none). The address family
 * numbers are Linux's, which POSIX puts in <sys/socket.h>.
 */
#ifndef MO_LIBC_NETINET_IN_H
#define MO_LIBC_NETINET_IN_H

#include <stdint.h>

#define AF_UNSPEC 0
#define AF_INET 2
#define AF_INET6 10

#define INET_ADDRSTRLEN 16
#define INET6_ADDRSTRLEN 46

#define IPPROTO_IP 0
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_IPV6 41
#define IPPROTO_ICMPV6 58

typedef uint16_t in_port_t;
typedef uint32_t in_addr_t;

struct in_addr {
	in_addr_t s_addr; /* network byte order */
};

struct in6_addr {
	uint8_t s6_addr[16];
};

#define INADDR_ANY ((in_addr_t)0x00000000)
#define INADDR_BROADCAST ((in_addr_t)0xffffffff)
#define INADDR_LOOPBACK ((in_addr_t)0x7f000001) /* host byte order, as POSIX has it */

/* Host <-> network (big-endian) byte order. */
uint32_t htonl(uint32_t v);
uint16_t htons(uint16_t v);
uint32_t ntohl(uint32_t v);
uint16_t ntohs(uint16_t v);

#endif /* MO_LIBC_NETINET_IN_H */
