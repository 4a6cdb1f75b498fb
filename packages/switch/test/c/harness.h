/* SPDX-License-Identifier: MIT */
/*
 * harness.h - test ports for the switch's C tests: the control plane's part
 * (rings set up with vring_be_init(), memory mapped with PROT_NONE guard
 * pages around every region and canary bytes at the pool's ends) and the
 * guest's part (vring_fe over the same memory), plus stamped frames.
 */
#ifndef VSW_TEST_HARNESS_H
#define VSW_TEST_HARNESS_H

#include <stdint.h>

#include "vpio/ring_fe.h"
#include "vpio/switch.h"

#define TP_PAYLOAD_OFF 14u
#define TP_CANARY 0xa5u
#define TP_CANARY_BYTES 64u

struct tport {
	struct vsw *sw;
	uint32_t id;
	uint8_t mac[6];
	struct vring_fe tx, rx;
	void *tx_mem, *rx_mem, *pool_mem; /* inside guarded mappings */
	uint64_t tx_bytes, rx_bytes, pool_bytes;
	void *maps[3];
	uint64_t map_bytes[3];
	struct vsw_port_config cfg;
	int chan_tx[2], chan_rx[2]; /* socketpairs when events: [0] switch side, [1] guest side */
};

/* Options on top of the defaults (64 slots, 2048-byte buffers, access vid 1, no MAC lock). */
struct tport_opts {
	uint32_t slots;
	uint32_t flags;
	enum vsw_vlan_mode vlan_mode;
	uint16_t access_vid, native_vid;
	const uint16_t *trunk_vids;
	uint32_t n_trunk_vids;
	uint64_t rate_pps, burst_pkts, rate_bps, burst_bytes, flood_pps, flood_burst;
	uint32_t max_macs;
	int worker;
	int events; /* give the port event channels */
	uint32_t features; /* VRING_FEAT_* the port negotiated (0: none) */
	uint32_t group;    /* with VSW_PORT_GROUP in flags: the port whose group this one joins */
};

void tp_mac(uint8_t mac[6], uint32_t n);

/*
 * A switch for the deterministic cases: no workers, poll mode, the manual
 * clock *clk (set to 1000 s), hash seed 42, MAC ageing aging_ns (0: the
 * default). NULL (and a failed check) if vsw_create() refuses.
 */
struct vsw *tp_switch(uint64_t *clk, uint64_t aging_ns);
/* Polls sw until a round moves nothing. */
void tp_poll_all(struct vsw *sw);

/* Builds memory and rings and attaches the port. Returns vsw_port_add()'s result. */
int tport_open(struct tport *tp, struct vsw *sw, uint32_t mac_n, const struct tport_opts *o);
/* Detaches (if attached) and unmaps. */
void tport_close(struct tport *tp, int detach);
/* 1 if the canary bytes around the pool are intact. */
int tport_canaries_ok(const struct tport *tp);

/*
 * A stamped frame: dst, src, [802.1Q vid if vid >= 0], type 0x88b5, then
 * flow (u32), seq (u32), len (u16), checksum (u32) over the rest, pattern.
 */
uint16_t tp_frame(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], int vid, uint32_t flow, uint32_t seq,
		  uint16_t len);
/* Checks a frame built by tp_frame (untagged or tagged): 1 and flow/seq, or 0. */
int tp_frame_check(const uint8_t *buf, uint16_t len, uint32_t *flow, uint32_t *seq);

/* Guest TX of one frame; 1 if queued. */
int tport_send(struct tport *tp, const uint8_t *frame, uint16_t len);
/* Sends n frames dst<-src (src = port's MAC) with flow/seq stamps; returns how many were queued. */
uint32_t tport_send_n(struct tport *tp, const uint8_t dst[6], uint32_t n, uint32_t flow, uint32_t first_seq);
/* Guest RX: up to max frames into bufs (max * 2048 bytes) and lens; returns count. */
uint32_t tport_recv(struct tport *tp, uint8_t *bufs, uint16_t *lens, uint32_t max);
/* Drains the RX ring; returns how many frames arrived. */
uint32_t tport_drain(struct tport *tp);

#endif
