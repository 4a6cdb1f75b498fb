/* SPDX-License-Identifier: MIT */
/*
 * bench_port.h - the benchmark guests' side of one switch port (not a
 * library: the generator and the sink link bench_port.c).
 *
 * Setup, all through vpiod (the guest's control socket, @vpio/guest):
 *   1. BENCH_PORT request (control type 0x0300, handled by switch-bench.ts):
 *      dom0 grants this domain one region holding the port (TX ring, RX ring,
 *      pool; the same memory dom0 hands the switch), offers two event
 *      channels, and answers struct bench_port_reply.
 *   2. GRANT_MAP of that ref (granter 0, rw), EVTCHN_BIND_INTERDOMAIN of both
 *      ports, vring_fe_attach of both rings.
 * Then the data path is only the rings and evtchn_notify/evtchn_wait.
 */
#ifndef BENCH_PORT_H
#define BENCH_PORT_H

#include <stdint.h>

#include "vpio/guest.h"
#include "vpio/ring_fe.h"

#define BENCH_CTRL_PORT 0x0300u

/* u32 LE fields, in this order (switch-bench.ts writes them). */
struct bench_port_reply {
	uint32_t ref;       /* dom0's grant of the port region */
	uint32_t bytes;     /* its size */
	uint32_t tx_port;   /* dom0 ports offered to this domain */
	uint32_t rx_port;
	uint32_t tx_off;    /* TX ring, RX ring and pool offsets in the region */
	uint32_t rx_off;
	uint32_t pool_off;
	uint32_t pool_bytes;
};

struct bench_port {
	struct vpio_guest g;
	struct vpio_grant_mapping map;
	struct vring_fe tx, rx;
	struct evtchn_end tx_end, rx_end; /* tx: "TX slots freed" waits / "TX has packets" kicks */
};

/* 0 or a negative errno; prints the failing step to stderr. */
int bench_port_open(struct bench_port *p);

/* Pins the calling thread to `core` (-1: leave it). 0 or -errno. */
int bench_pin(int core);

/* Sleeps on a ring's event channel until the peer kicks (the kick protocol of vpio/ring.h). */
void bench_sleep(struct vring_fe *fe, int rx_fd);

#endif /* BENCH_PORT_H */
