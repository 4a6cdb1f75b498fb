/* SPDX-License-Identifier: MIT */
/* inet.c - inet_pton() and the byte-order conversions. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

uint32_t htonl(uint32_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap32(v);
#else
	return v;
#endif
}

uint16_t htons(uint16_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap16(v);
#else
	return v;
#endif
}

uint32_t ntohl(uint32_t v)
{
	return htonl(v);
}

uint16_t ntohs(uint16_t v)
{
	return htons(v);
}

/* The value of hex digit c, or -1. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "d.d.d.d" up to the NUL, each 0..255 without leading zeros: 1, else 0. */
static int parse_ip4(const char *s, uint8_t out[4])
{
	uint8_t a[4];

	for (int i = 0; i < 4; i++) {
		unsigned v = 0, ndigits = 0;

		if (i > 0 && *s++ != '.')
			return 0;
		for (; *s >= '0' && *s <= '9'; s++, ndigits++) {
			if (ndigits > 0 && v == 0)
				return 0; /* "01": a leading zero */
			v = v * 10 + (unsigned)(*s - '0');
			if (v > 255)
				return 0;
		}
		if (ndigits == 0)
			return 0;
		a[i] = (uint8_t)v;
	}
	if (*s != '\0')
		return 0;
	memcpy(out, a, sizeof(a));
	return 1;
}

/*
 * Groups of 1-4 hex digits separated by ':', at most one "::" standing for
 * one or more zero groups, optionally a dotted IPv4 tail in the last 32
 * bits: 1, else 0.
 */
static int parse_ip6(const char *s, uint8_t out[16])
{
	uint8_t a[16];
	int n = 0;    /* bytes parsed */
	int gap = -1; /* where "::" stands, in bytes */

	if (s[0] == ':') {
		if (s[1] != ':')
			return 0;
		gap = 0;
		s += 2;
	}
	while (*s != '\0' || gap != n) { /* only "::" may end the text without a group after it */
		const char *group = s;
		unsigned v = 0;
		int ndigits = 0;

		for (; ndigits < 5 && hex_value(*s) >= 0; s++, ndigits++)
			v = v << 4 | (unsigned)hex_value(*s);
		if (ndigits == 0)
			return 0;
		if (*s == '.') { /* the IPv4 tail: it must end the text */
			if (n + 4 > 16 || !parse_ip4(group, a + n))
				return 0;
			n += 4;
			break;
		}
		if (ndigits > 4 || n + 2 > 16)
			return 0;
		a[n++] = (uint8_t)(v >> 8);
		a[n++] = (uint8_t)v;
		if (*s == '\0')
			break;
		if (*s++ != ':')
			return 0;
		if (*s == ':') {
			if (gap >= 0)
				return 0;
			gap = n;
			s++;
		} else if (*s == '\0') {
			return 0; /* a trailing single ':' */
		}
	}
	if (gap >= 0) {
		if (n == 16)
			return 0; /* "::" must stand for at least one group */
		memmove(a + 16 - (n - gap), a + gap, (size_t)(n - gap));
		memset(a + gap, 0, (size_t)(16 - n));
	} else if (n != 16) {
		return 0;
	}
	memcpy(out, a, sizeof(a));
	return 1;
}

int inet_pton(int af, const char *restrict src, void *restrict dst)
{
	if (af == AF_INET)
		return parse_ip4(src, dst);
	if (af == AF_INET6)
		return parse_ip6(src, dst);
	errno = EAFNOSUPPORT;
	return -1;
}
