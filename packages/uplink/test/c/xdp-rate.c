/* SPDX-License-Identifier: MIT */
/*
 * xdp-rate [SECONDS]: 64-byte packets/s through the AF_XDP wire against a
 * plain AF_PACKET socket on the same veth end, in a private network
 * namespace (root). Printed, never asserted: a measurement, not a test.
 *
 *   rx: a sender thread on xb blasts 64-byte frames (AF_PACKET sendmmsg,
 *       batches of 64); the receiver on xa is the AF_XDP wire (rx_burst
 *       busy loop, each frame copied out as the pump would) or an AF_PACKET
 *       socket (recvmmsg, batches of 64).
 *   rx drain: 4096 frames queued first, then the receiver alone is timed
 *       (its own cost per frame, without a sender competing for the CPUs).
 *   tx: the sender on xa is the AF_XDP wire (tx_reserve/tx_commit bursts
 *       of 64) or an AF_PACKET socket (sendmmsg, 64); what counts is what
 *       xb received (its rx_packets in /proc/net/dev).
 *
 * One JSON record per case on stdout after the human lines:
 *   {"case":"rx_64B","value":..,"unit":"pps","baseline":"af_packet","baseline_value":..,"ratio":..}
 * SECONDS per run: default 2, at most 5.
 */
#include <errno.h>
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "wire_xdp.h"
#include "xdp_netns.h"

#define A "xa"
#define B "xb"
#define BATCH 64

static double secs = 2.0;
static atomic_int stop_sender;
static atomic_ullong sender_sent;

/* Blasts 64-byte test frames from an AF_PACKET socket on B until told to stop. */
static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *sender(void *arg)
{
	(void)arg;
	pin(0);
	int fd = xnt_packet_socket(B);
	uint8_t frames[BATCH][64];
	struct iovec iov[BATCH];
	struct mmsghdr msg[BATCH];

	if (fd < 0)
		return NULL;
	for (int i = 0; i < BATCH; i++) {
		xnt_frame(frames[i], 64, (uint32_t)i);
		iov[i] = (struct iovec){ frames[i], 64 };
		msg[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while (!atomic_load(&stop_sender)) {
		int n = sendmmsg(fd, msg, BATCH, 0);
		if (n > 0)
			atomic_fetch_add(&sender_sent, (unsigned long long)n);
	}
	close(fd);
	return NULL;
}

static struct wire *open_wire(void)
{
	struct wire_opts o = { .fd = -1, .name = A, .frame_max = 1514 };
	struct wire *w = NULL;
	char err[WIRE_ERR_LEN] = "";

	if (wire_xdp_backend.open(&o, &w, err) != 0)
		fprintf(stderr, "xdp-rate: open: %s\n", err);
	return w;
}

/* rx: returns frames/s received; *sent_pps what the sender managed. */
static double rx_rate(bool xdp, double *sent_pps, double *per_burst)
{
	struct wire *w = xdp ? open_wire() : NULL;
	int fd = xdp ? -1 : xnt_packet_socket(A);
	pthread_t th;
	unsigned long long got = 0, bursts = 0;

	if (xdp ? !w : fd < 0)
		return -1;
	uint8_t bufs[BATCH][2048];
	struct iovec iov[BATCH];
	struct mmsghdr msg[BATCH];
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		msg[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	atomic_store(&stop_sender, 0);
	atomic_store(&sender_sent, 0);
	pthread_create(&th, NULL, sender, NULL);
	usleep(100000); /* let the sender reach its pace */
	unsigned long long s0 = atomic_load(&sender_sent);
	double t0 = xnt_now(), t1, last = t0, max_gap = 0, gaps_1ms = 0;
	while ((t1 = xnt_now()) - t0 < secs) {
		if (t1 - last > max_gap)
			max_gap = t1 - last;
		gaps_1ms += t1 - last > 1e-3 ? t1 - last : 0;
		last = t1;
		if (xdp) {
			struct wire_frame f[WIRE_BURST_MAX];
			int n = w->ops->rx_burst(w, f, WIRE_BURST_MAX);
			if (n > 0) {
				for (int i = 0; i < n; i++) /* what the pump does: copy out (recvmmsg copies too) */
					memcpy(bufs[i], f[i].data, f[i].len);
				got += (unsigned long long)n;
				bursts++;
				w->ops->rx_release(w);
			}
		} else {
			int n = recvmmsg(fd, msg, BATCH, MSG_DONTWAIT, NULL);
			if (n > 0) {
				got += (unsigned long long)n;
				bursts++;
			}
		}
	}
	unsigned long long s1 = atomic_load(&sender_sent);
	atomic_store(&stop_sender, 1);
	pthread_join(th, NULL);
	if (w) {
		struct wire_counter c[WIRE_COUNTERS_MAX];
		uint32_t n = w->ops->counters(w, c, WIRE_COUNTERS_MAX);
		printf("#  ");
		for (uint32_t i = 0; i < n; i++)
			if (c[i].value && strcmp(c[i].name, "queue"))
				printf(" %s=%llu", c[i].name, (unsigned long long)c[i].value);
		printf("\n");
	}
	printf("#   %s rx_dropped=%lld, %s tx_dropped=%lld (cumulative)\n", A, xnt_if_stat(A, "rx_dropped"), B,
	       xnt_if_stat(B, "tx_dropped"));
	printf("#   receiver off the CPU: longest %.1f ms, %.0f%% of the time in gaps > 1 ms\n", max_gap * 1e3,
	       100 * gaps_1ms / (t1 - t0));
	*sent_pps = (double)(s1 - s0) / (t1 - t0);
	*per_burst = bursts ? (double)got / (double)bursts : 0;
	if (w)
		w->ops->close(w);
	if (fd >= 0)
		close(fd);
	return (double)got / (t1 - t0);
}

/* tx: returns frames/s that reached B; *offered_pps what the sender handed to the kernel. */
static double tx_rate(bool xdp, double *offered_pps)
{
	struct wire *w = xdp ? open_wire() : NULL;
	int fd = xdp ? -1 : xnt_packet_socket(A);
	unsigned long long offered = 0;

	if (xdp ? !w : fd < 0)
		return -1;
	uint8_t frames[BATCH][64];
	struct iovec iov[BATCH];
	struct mmsghdr msg[BATCH];
	uint32_t lens[WIRE_BURST_MAX];
	for (int i = 0; i < BATCH; i++) {
		xnt_frame(frames[i], 64, (uint32_t)i);
		iov[i] = (struct iovec){ frames[i], 64 };
		msg[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
		lens[i] = 64;
	}
	long long r0 = xnt_if_stat(B, "rx_packets");
	double t0 = xnt_now(), t1, last = t0, max_gap = 0, gaps_1ms = 0;
	while ((t1 = xnt_now()) - t0 < secs) {
		if (t1 - last > max_gap)
			max_gap = t1 - last;
		gaps_1ms += t1 - last > 1e-3 ? t1 - last : 0;
		last = t1;
		if (xdp) {
			struct wire_frame f[WIRE_BURST_MAX];
			uint32_t k = w->ops->tx_reserve(w, f, WIRE_BURST_MAX);
			for (uint32_t i = 0; i < k; i++)
				memcpy(f[i].data, frames[i], 64);
			int n = w->ops->tx_commit(w, lens, k);
			if (n > 0)
				offered += (unsigned long long)n;
		} else {
			int n = sendmmsg(fd, msg, BATCH, 0);
			if (n > 0)
				offered += (unsigned long long)n;
		}
	}
	usleep(50000); /* the last completions */
	long long r1 = xnt_if_stat(B, "rx_packets");
	if (xdp) {
		struct wire_counter c[WIRE_COUNTERS_MAX];
		uint32_t n = w->ops->counters(w, c, WIRE_COUNTERS_MAX);
		for (uint32_t i = 0; i < n; i++)
			if (!strcmp(c[i].name, "tx_kicks") || !strcmp(c[i].name, "tx_kick_retries") ||
			    !strcmp(c[i].name, "tx_kick_busy"))
				printf("#   %s %llu\n", c[i].name, (unsigned long long)c[i].value);
		w->ops->close(w);
	}
	if (fd >= 0)
		close(fd);
	*offered_pps = (double)offered / (t1 - t0);
	return (double)(r1 - r0) / (t1 - t0);
}

/*
 * The receiver's own cost, without a sender competing for the CPUs: 4096
 * frames are queued first (in the rx ring, or the packet socket's queue),
 * then drained and timed. Returns ns per frame (best of 5 rounds), -1 on
 * failure.
 */
static double drain_ns(bool xdp)
{
	struct wire *w = xdp ? open_wire() : NULL;
	int fd = xdp ? -1 : xnt_packet_socket(A);
	int tx = xnt_packet_socket(B);
	double best = -1;

	if ((xdp ? !w : fd < 0) || tx < 0)
		return -1;
	uint8_t frames[BATCH][64], bufs[BATCH][2048];
	struct iovec iov[BATCH], riov[BATCH];
	struct mmsghdr msg[BATCH], rmsg[BATCH];
	for (int i = 0; i < BATCH; i++) {
		xnt_frame(frames[i], 64, (uint32_t)i);
		iov[i] = (struct iovec){ frames[i], 64 };
		msg[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
		riov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		rmsg[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &riov[i], .msg_iovlen = 1 } };
	}
	for (int round = 0; round < 5; round++) {
		unsigned sent = 0, got = 0;
		while (sent < 4096) {
			int n = sendmmsg(tx, msg, BATCH, 0);
			if (n > 0)
				sent += (unsigned)n;
		}
		usleep(20000); /* all delivered (NAPI done) */
		double t0 = xnt_now();
		for (int idle = 0; idle < 1000 && got < sent;) {
			int n;
			if (xdp) {
				struct wire_frame f[WIRE_BURST_MAX];
				n = w->ops->rx_burst(w, f, WIRE_BURST_MAX);
				for (int i = 0; i < n; i++)
					memcpy(bufs[i], f[i].data, f[i].len);
				if (n > 0)
					w->ops->rx_release(w);
			} else {
				n = recvmmsg(fd, rmsg, BATCH, MSG_DONTWAIT, NULL);
			}
			if (n > 0)
				got += (unsigned)n;
			else
				idle++;
		}
		double ns = (xnt_now() - t0) * 1e9 / (got ? got : 1);
		if (got >= sent * 9 / 10 && (best < 0 || ns < best))
			best = ns;
	}
	if (w)
		w->ops->close(w);
	if (fd >= 0)
		close(fd);
	close(tx);
	return best;
}

static void record(const char *name, double v, double base)
{
	printf("{\"case\":\"%s\",\"value\":%.0f,\"unit\":\"pps\",\"baseline\":\"af_packet\",\"baseline_value\":%.0f,"
	       "\"ratio\":%.2f}\n",
	       name, v, base, base > 0 ? v / base : 0.0);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		secs = atof(argv[1]);
	if (!(secs > 0 && secs <= 5)) {
		fprintf(stderr, "usage: xdp-rate [SECONDS (0..5]]\n");
		return 2;
	}
	pin(1); /* the receiver/sender under test; the blasting sender thread gets cpu 0 */
	if (getuid() != 0 || xnt_setup(A, B, 1500) != 0) {
		fprintf(stderr, "xdp-rate: needs root and a veth pair in a private namespace\n");
		return 1;
	}
	struct wire *w = open_wire();
	struct wire_xdp_info info;
	if (!w)
		return 1;
	wire_xdp_info(w, &info);
	printf("# AF_XDP wire on veth %s: %s attach, %s bind; %.1f s per case, 64-byte frames\n", A, info.attach, info.bind,
	       secs);
	w->ops->close(w);

	double sx, sp, bx, bp, ox, op;
	double rx_x = rx_rate(true, &sx, &bx);
	double rx_p = rx_rate(false, &sp, &bp);
	printf("# rx  af_xdp    %10.0f pps (sender %10.0f pps, %.1f frames/burst)\n", rx_x, sx, bx);
	printf("# rx  af_packet %10.0f pps (sender %10.0f pps, %.1f frames/recvmmsg)\n", rx_p, sp, bp);
	double tx_x = tx_rate(true, &ox);
	double tx_p = tx_rate(false, &op);
	printf("# tx  af_xdp    %10.0f pps reached %s (offered %10.0f pps)\n", tx_x, B, ox);
	printf("# tx  af_packet %10.0f pps reached %s (offered %10.0f pps)\n", tx_p, B, op);
	double dx = drain_ns(true), dp = drain_ns(false);
	printf("# rx drain (4096 queued, no sender running): af_xdp %.0f ns/frame (%.2f Mpps), af_packet %.0f ns/frame (%.2f Mpps)\n",
	       dx, dx > 0 ? 1e3 / dx : 0, dp, dp > 0 ? 1e3 / dp : 0);
	record("rx_64B", rx_x, rx_p);
	record("rx_drain_64B", dx > 0 ? 1e9 / dx : 0, dp > 0 ? 1e9 / dp : 0);
	record("tx_64B", tx_x, tx_p);
	return 0;
}
