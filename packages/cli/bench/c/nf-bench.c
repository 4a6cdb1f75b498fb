// SPDX-License-Identifier: MIT
//
// nf-bench - the platform benchmark's guest (bench/platform-bench.ts): a
// guest of `vpio run` (Platform.run) that connects vif 0 through netfront's
// broker session (nf_session_open + nf_connect: the real xenstore handshake
// with the netback-made vif) and then does exactly the per-packet work of
// @vpio/switch's bench guests (packages/switch/bench/c/gen.c, sink.c), through
// the zero-copy API (vpio/netfront_zc.h):
//
//   gen CORE LEN DST_MAC  every TX buffer is filled once (the first pass
//                         over the ring), then each round only commits the
//                         free slots (nf_zc_tx_commit: len + flags per slot,
//                         one publish, a kick when asked); the switch's copy
//                         is the measured work. Sleeps when the ring is full.
//   sink CORE             sends one broadcast frame (the switch learns its
//                         MAC), then hands received slots straight back
//                         without reading them (nf_zc_rx_release). Sleeps
//                         when the ring is empty.
//   idle                  connects, prints "idle ready" with the wall-clock
//                         ms at main(), after the session opened and after
//                         nf_connect returned, waits for SIGTERM, disconnects
//                         cleanly (the attach-latency runs).
//
// Event mode, as the switch bench's guests. The source MAC is the vif's
// (netback's MAC lock). Prints "<mode> ready" once connected and prefilled;
// errors as "nf-bench: STEP: rc" on stderr, exit 1.

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_frame.h"
#include "vpio/netfront.h"
#include "vpio/netfront_broker.h"
#include "vpio/netfront_zc.h"

static struct nf_session session; /* large */
static struct nf_dev nf;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int fail(const char *step, int rc)
{
	fprintf(stderr, "nf-bench: %s: %d\n", step, rc);
	return 1;
}

static int pin(int core)
{
	cpu_set_t set;

	if (core < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(core, &set);
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

/* Wall-clock ms (CLOCK_REALTIME, what the bench compares with its own performance.timeOrigin + now()). */
static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void ready(const char *mode)
{
	printf("%s ready\n", mode);
	fflush(stdout);
}

static int gen(long len, const uint8_t dst[6])
{
	const uint32_t slots = nf_tx_slots(&nf);
	uint16_t *lens = malloc(slots * sizeof(*lens));
	struct nf_zc_buf *bufs = malloc(slots * sizeof(*bufs));
	uint32_t filled = 0;

	if (!lens || !bufs)
		return fail("malloc", -ENOMEM);
	if (len < VRING_ETH_HLEN || len > (long)nf_buf_size(&nf))
		return fail("len", -EINVAL);
	for (uint32_t i = 0; i < slots; i++)
		lens[i] = (uint16_t)len;
	ready("gen");
	for (;;) {
		uint32_t n = nf_zc_tx_avail(&nf);

		if (n == 0) {
			if (nf_tx_wait(&nf, -1) < 0)
				return fail("tx-wait", -EPIPE);
			continue;
		}
		/* the first pass over the ring fills each slot's buffer; the switch copies,
		   so a slot keeps its buffer and later rounds only commit */
		if (filled < slots) {
			uint32_t got = nf_zc_tx_reserve(&nf, 0, bufs, n);

			for (uint32_t i = 0; i < got; i++)
				bench_fill_frame(bufs[i].data, (uint32_t)len, dst, nf_mac(&nf));
			filled += got;
		}
		if (nf_zc_tx_commit(&nf, lens, n, NF_TX_KICK) == 0)
			return fail("tx-commit", -EPIPE);
	}
}

static int sink(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t frame[64];
	const void *src[1] = { frame };
	uint16_t lens[1] = { sizeof(frame) };

	bench_fill_frame(frame, sizeof(frame), bcast, nf_mac(&nf));
	if (nf_tx_burst(&nf, src, lens, 1, NF_TX_KICK) != 1)
		return fail("hello", -EAGAIN);
	ready("sink");
	for (;;) {
		uint32_t n = nf_zc_rx_avail(&nf);

		if (n == 0) {
			if (nf_rx_wait(&nf, -1) < 0)
				return fail("rx-wait", -EPIPE);
			continue;
		}
		nf_zc_rx_release(&nf, n); /* a lossless port's switch waits for RX space: kicked here */
	}
}

int main(int argc, char **argv)
{
	struct nf_config cfg;
	struct sigaction sa;
	const char *mode = argc > 1 ? argv[1] : "";
	uint8_t dst[6];
	long len = 0;
	double t_main = now_ms(), t_open;
	int rc;

	if (!strcmp(mode, "gen") && argc == 5) {
		len = strtol(argv[3], NULL, 10);
		if (bench_parse_mac(argv[4], dst) < 0)
			return 64;
	} else if (!(!strcmp(mode, "sink") && argc == 3) && !(!strcmp(mode, "idle") && argc == 2)) {
		fprintf(stderr, "usage: nf-bench gen CORE LEN DST_MAC | sink CORE | idle\n");
		return 64;
	}
	if (strcmp(mode, "idle") && (rc = pin(atoi(argv[2]))))
		return fail("pin", rc);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((rc = nf_session_open(&session)))
		return fail("session-open", rc);
	t_open = now_ms();
	nf_session_config(&session, &cfg, 0, NF_MODE_EVENT, 10000);
	if ((rc = nf_connect(&nf, &cfg)))
		return fail("connect", rc);
	if (!strcmp(mode, "gen"))
		return gen(len, dst);
	if (!strcmp(mode, "sink"))
		return sink();
	/* where the attach time goes, guest side: main() entered, session open (HELLO), nf_connect returned */
	printf("idle ready main=%.3f open=%.3f connected=%.3f\n", t_main, t_open, now_ms());
	fflush(stdout);
	while (!stop)
		pause();
	rc = nf_disconnect(&nf);
	nf_session_close(&session);
	return rc ? fail("disconnect", rc) : 0;
}
