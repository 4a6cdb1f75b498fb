// SPDX-License-Identifier: MIT
//
// gen - the switch benchmark's generator guest: a sandboxed domain started by
// vpiod. Every TX buffer is prefilled once (frame i goes to destination
// i % ndst), so each round only hands slots over: the switch's copy is the
// measured work. Event mode: when the TX ring is full it sleeps on its TX
// channel until the switch frees slots.
//
//   gen CORE LEN SRC_MAC DST_MAC [DST_MAC...]     (runs until killed)

#include <stdio.h>
#include <stdlib.h>

#include "bench_frame.h"
#include "bench_port.h"

#define MAX_DST 8

int main(int argc, char **argv)
{
	struct bench_port p;
	uint8_t src[6], dst[MAX_DST][6];
	int core, ndst;
	long len;

	if (argc < 5 || argc - 4 > MAX_DST) {
		fprintf(stderr, "usage: gen CORE LEN SRC_MAC DST_MAC [DST_MAC...]\n");
		return 64;
	}
	core = atoi(argv[1]);
	len = strtol(argv[2], NULL, 10);
	ndst = argc - 4;
	if (bench_parse_mac(argv[3], src) < 0)
		return 64;
	for (int i = 0; i < ndst; i++)
		if (bench_parse_mac(argv[4 + i], dst[i]) < 0)
			return 64;
	if (bench_pin(core) < 0 || bench_port_open(&p) < 0)
		return 1;
	if (len < VRING_ETH_HLEN || len > p.tx.buf_size)
		return 64;

	struct vring_fe *tx = &p.tx;
	for (uint32_t i = 0; i < tx->num_slots; i++) {
		uint32_t b = tx->slots[i].buf_idx; /* the switch copies, so a slot keeps its buffer */

		if (b >= tx->nr_bufs)
			return 1;
		bench_fill_frame(vring_fe_buf(tx, b), (uint32_t)len, dst[i % (uint32_t)ndst], src);
		tx->slots[i].len = (uint16_t)len;
		tx->slots[i].flags = 0;
	}
	printf("gen ready\n");
	fflush(stdout);
	for (;;) {
		uint32_t n = vring_fe_avail(tx);

		if (n == 0) {
			bench_sleep(tx, p.tx_end.rx_fd);
			continue;
		}
		/* lengths were written at prefill and the switch does not change TX slots */
		tx->head = (tx->head + n) & tx->mask;
		if (vring_fe_publish(tx))
			evtchn_notify(p.tx_end.tx_fd);
	}
}
