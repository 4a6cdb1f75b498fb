// SPDX-License-Identifier: MIT
// bench_frame.c - see bench_frame.h.

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench_frame.h"

int bench_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 0xff)
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

void bench_fill_frame(uint8_t *buf, uint32_t len, const uint8_t dst[6], const uint8_t src[6])
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = 0x08;
	buf[13] = 0x00;
	memset(buf + 14, 0x41, len - 14);
}
