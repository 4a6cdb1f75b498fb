/* SPDX-License-Identifier: MIT */
/*
 * arpa/inet.h - text to binary addresses. Byte-order conversions and the
 * address types come from <netinet/in.h>.
 */
#ifndef MO_LIBC_ARPA_INET_H
#define MO_LIBC_ARPA_INET_H

#include <netinet/in.h>

/*
 * Parses src as an address of family af into dst (network byte order:
 * struct in_addr for AF_INET, 16 bytes for AF_INET6). Returns 1, 0 when src
 * is not a valid address (dst untouched), or -1 with errno = EAFNOSUPPORT.
 *   AF_INET:  exactly "d.d.d.d", each 0..255 in decimal without leading
 *             zeros (no shorthand, no octal, no hex).
 *   AF_INET6: RFC 4291 text: eight groups of 1-4 hex digits, one "::" for
 *             one or more zero groups, an optional dotted IPv4 tail as the
 *             last 32 bits ("::ffff:10.0.0.1"). No zone ("%eth0").
 */
int inet_pton(int af, const char *restrict src, void *restrict dst);

#endif /* MO_LIBC_ARPA_INET_H */
