/* SPDX-License-Identifier: MIT */
/*
 * xdp_netns.h - fixtures of the AF_XDP wire's C tests (test-wire-xdp,
 * xdp-rate): a private network namespace with one veth pair, raw packet
 * sockets on it, numbered test frames. Test builds only.
 *
 * The namespace is the process's own (unshare(CLONE_NEWNET)): it and its
 * veth pair disappear when the process exits, however it exits, so a
 * crashed test leaves nothing behind. Nothing in it is routed anywhere.
 */
#ifndef VPIO_UPLINK_TEST_XDP_NETNS_H
#define VPIO_UPLINK_TEST_XDP_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XNT_ETHERTYPE 0x88b5 /* IEEE local experimental: nothing else on the link uses it */

/*
 * Moves this process into a new network namespace holding veth pair a <-> b,
 * both up, MTU mtu, IPv6 off (no stray neighbour traffic). 0, or -1 with a
 * message on stdout as a TAP diagnostic.
 */
int xnt_setup(const char *a, const char *b, unsigned mtu);

/* A raw AF_PACKET socket bound to ifname for XNT_ETHERTYPE frames, 8 MiB buffers, non-blocking; or -1. */
int xnt_packet_socket(const char *ifname);

/* Runs `ip link show dev ifname` and returns whether it mentions an XDP program ("xdp"), or -1. */
int xnt_link_has_xdp(const char *ifname, char *line, size_t len);

/* Writes test frame `seq` of len bytes (>= 18) to buf: dst, src, XNT_ETHERTYPE, seq, a pattern from seq. */
void xnt_frame(uint8_t *buf, uint32_t len, uint32_t seq);

/* Is buf[0..len) exactly test frame `seq` of len bytes? */
bool xnt_frame_ok(const uint8_t *buf, uint32_t len, uint32_t seq);

/* The seq of a test frame (its bytes 14..17), or UINT32_MAX when buf is not one. */
uint32_t xnt_frame_seq(const uint8_t *buf, uint32_t len);

/* Interface counter `name` (rx_bytes, rx_packets, rx_dropped, tx_bytes, tx_packets, ...) from /proc/net/dev, or -1. */
long long xnt_if_stat(const char *ifname, const char *name);

/* Monotonic seconds. */
double xnt_now(void);

#endif
