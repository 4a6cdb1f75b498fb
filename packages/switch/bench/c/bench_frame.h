/* SPDX-License-Identifier: MIT */
/* bench_frame.h - MAC parsing and frame prefill for the benchmark guests. */
#ifndef BENCH_FRAME_H
#define BENCH_FRAME_H

#include <stdint.h>

/* "aa:bb:cc:dd:ee:ff" -> 6 bytes. 0 or -EINVAL. */
int bench_parse_mac(const char *s, uint8_t mac[6]);

/* Writes an Ethernet/IPv4-typed frame of `len` bytes (dst, src, 0x0800, 0x41 fill). */
void bench_fill_frame(uint8_t *buf, uint32_t len, const uint8_t dst[6], const uint8_t src[6]);

#endif
