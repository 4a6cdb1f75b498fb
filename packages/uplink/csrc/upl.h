/* SPDX-License-Identifier: MIT */
/*
 * upl.h - vpio-uplink's internal interface: the pump between the vif and
 * the wire.
 *
 *   main.c   arguments, the wire descriptor ($VPIO_WIRE_FD) and its check,
 *            the host session and handshake (vpio/netfront_broker.h, as
 *            linux-netfront's host mode), signals (one signalfd), the stats
 *            timer (one timerfd), the stats line, teardown
 *   pump.c   one event loop, per round:
 *              vif RX ring -> wire   peek up to `burst` received slots, reserve
 *                                    as many wire TX buffers, copy each frame
 *                                    once, ONE tx_commit (one flush syscall),
 *                                    ONE nf_zc_rx_release (at most one kick)
 *              wire -> vif TX ring   ONE rx_burst (as many frames as the TX ring
 *                                    has free slots, up to `burst`), copy each
 *                                    frame once into reserved TX slots (inserting
 *                                    the tag the wire handed back), ONE
 *                                    nf_zc_tx_commit, ONE rx_release
 *            and when neither moved anything: arm what it waits for (the vif's
 *            RX ring, the vif's TX space when the ring was full), re-check,
 *            one poll() over the signalfd, the timerfd, the channels and the
 *            wire's descriptor (POLLIN, or POLLOUT when its TX was full; then
 *            at most 1 ms, so a ring that needs another flush to drain, as
 *            AF_PACKET's after a send() refused with EAGAIN, is retried).
 *   wire*.c  the wire backends (wire.h)
 *
 * Concurrency: one thread does everything (the vif's both directions, the
 * wire, the signals, the stats), so counters are plain integers read by the
 * same thread that adds to them. Per frame: one copy, no allocation, no
 * lock, no syscall. A full vif TX ring stops reading the wire (the
 * kernel's socket buffer or ring absorbs, then drops and counts); a full
 * wire TX ring stops taking the vif's RX ring (the switch drops and counts).
 */
#ifndef VPIO_UPLINK_UPL_H
#define VPIO_UPLINK_UPL_H

#include <stdint.h>

#include "vpio/netfront.h"
#include "wire.h"

struct upl_counters {
	/* vif RX ring -> wire */
	uint64_t vif_rx_packets;   /* slots taken from the vif's RX ring */
	uint64_t vif_rx_bytes;
	uint64_t vif_rx_batches;
	uint64_t vif_rx_drop_bad;  /* slots with a bad len or buf_idx: released, not sent */
	uint64_t vif_rx_drop_size; /* frames shorter than 14 or longer than a wire buffer */
	uint64_t wire_tx_full;     /* rounds the wire's TX ring had no room (the vif's RX waits) */
	/* wire -> vif TX ring */
	uint64_t vif_tx_packets;   /* frames put on the vif's TX ring */
	uint64_t vif_tx_bytes;
	uint64_t vif_tx_batches;
	uint64_t vif_tx_drop_size; /* frames (with the tag to insert) longer than the vif's buffers */
	uint64_t vif_tx_full;      /* rounds the vif's TX ring had no free slot (the wire waits) */
	uint64_t wire_errors;      /* errors the kernel queued on the wire's socket (SO_ERROR: ENETDOWN, ...) */
};

struct upl {
	struct nf_dev *nf;
	struct wire *w;
	uint32_t burst;           /* frames per burst, <= WIRE_BURST_MAX */
	uint32_t buf_size;        /* the vif's */
	int sig_fd;               /* signalfd (TERM, INT, HUP, USR1) */
	int timer_fd;             /* timerfd of --stats-interval, or -1 */
	int rx_fd, tx_fd;         /* the vif's RX and TX channels (nf_broker_port_fd) */
	int stop;
	struct upl_counters c;
	/* main.c's handlers, called by the loop when sig_fd / timer_fd is readable */
	void (*on_signals)(struct upl *u);
	void (*on_timer)(struct upl *u);
};

/*
 * Both directions until u->stop is set (0), or the vif's backend or the
 * wire fails (-errno).
 */
int upl_loop(struct upl *u);

/*
 * Copies a frame of len bytes to dst, inserting the 4-byte tag `vlan`
 * ((TPID << 16) | TCI; 0: none) after the MAC addresses. dst has room for
 * len + 4. Returns the bytes written. (pump.c; exposed for the tests.)
 */
uint32_t upl_copy_tagged(uint8_t *dst, const uint8_t *src, uint32_t len, uint32_t vlan);

#endif /* VPIO_UPLINK_UPL_H */
