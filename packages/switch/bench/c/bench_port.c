// SPDX-License-Identifier: MIT
//
// bench_port.c - setup of a benchmark guest's port through vpiod (see bench_port.h).

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "bench_port.h"

#define STEP(call, what)                                                              \
	do {                                                                          \
		int rc_ = (call);                                                     \
		if (rc_ < 0) {                                                        \
			fprintf(stderr, "bench guest: %s: %s\n", what, strerror(-rc_)); \
			return rc_;                                                   \
		}                                                                     \
	} while (0)

int bench_port_open(struct bench_port *p)
{
	struct bench_port_reply r;
	uint32_t got = 0, port;

	memset(p, 0, sizeof(*p));
	STEP(vpio_guest_open(&p->g), "hello");
	STEP(vpio_guest_call(&p->g, BENCH_CTRL_PORT, NULL, 0, NULL, 0, &r, sizeof(r), &got, NULL, 0, NULL), "port request");
	if (got != sizeof(r))
		STEP(-EPROTO, "port reply length");
	STEP(vpio_grant_map(&p->g, 0, &r.ref, 1, 1, &p->map), "grant map");
	if (p->map.bytes < r.bytes || r.pool_off > r.bytes || r.pool_bytes > r.bytes - r.pool_off || r.tx_off >= r.rx_off ||
	    r.rx_off >= r.pool_off)
		STEP(-EPROTO, "port geometry");
	uint8_t *base = p->map.addr;
	STEP(vring_fe_attach(&p->tx, base + r.tx_off, r.rx_off - r.tx_off, base + r.pool_off, r.pool_bytes, VRING_KIND_TX),
	     "attach tx");
	STEP(vring_fe_attach(&p->rx, base + r.rx_off, r.pool_off - r.rx_off, base + r.pool_off, r.pool_bytes, VRING_KIND_RX),
	     "attach rx");
	STEP(vpio_evtchn_bind_interdomain(&p->g, 0, r.tx_port, &port, &p->tx_end), "bind tx channel");
	STEP(vpio_evtchn_bind_interdomain(&p->g, 0, r.rx_port, &port, &p->rx_end), "bind rx channel");
	return 0;
}

int bench_pin(int core)
{
	cpu_set_t set;

	if (core < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(core, &set);
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

void bench_sleep(struct vring_fe *fe, int rx_fd)
{
	if (vring_fe_prepare_sleep(fe)) {
		evtchn_wait(rx_fd, 1000); /* a bounded wait: a lost kick costs a second, never a hang */
		evtchn_drain(rx_fd);
	}
	vring_fe_woken(fe);
}
