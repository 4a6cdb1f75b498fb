// SPDX-License-Identifier: MIT
//
// sink - the switch benchmark's sink guest: a sandboxed domain started by
// vpiod. It hands received slots straight back without reading them (as
// testpmd's rxonly does), so the switch's copy is the measured work. First
// it sends one broadcast frame so the switch learns its MAC. Event mode:
// when the RX ring is empty it sleeps on its RX channel.
//
//   sink CORE MAC     (runs until killed)

#include <stdio.h>
#include <stdlib.h>

#include "bench_frame.h"
#include "bench_port.h"

int main(int argc, char **argv)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct bench_port p;
	uint8_t mac[6];

	if (argc != 3 || bench_parse_mac(argv[2], mac) < 0) {
		fprintf(stderr, "usage: sink CORE MAC\n");
		return 64;
	}
	if (bench_pin(atoi(argv[1])) < 0 || bench_port_open(&p) < 0)
		return 1;

	uint8_t frame[64];
	const void *src[1] = { frame };
	uint16_t lens[1] = { sizeof(frame) };
	int kick;
	bench_fill_frame(frame, sizeof(frame), bcast, mac);
	if (vring_fe_tx_burst(&p.tx, src, lens, 1, &kick) != 1)
		return 1;
	if (kick)
		evtchn_notify(p.tx_end.tx_fd);
	printf("sink ready\n");
	fflush(stdout);

	struct vring_fe *rx = &p.rx;
	for (;;) {
		uint32_t n = vring_fe_avail(rx);

		if (n == 0) {
			bench_sleep(rx, p.rx_end.rx_fd);
			continue;
		}
		rx->head = (rx->head + n) & rx->mask;
		if (vring_fe_publish(rx)) /* a lossless port's switch waits for RX space */
			evtchn_notify(p.rx_end.tx_fd);
	}
}
