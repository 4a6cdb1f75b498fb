/* SPDX-License-Identifier: MIT */
/*
 * memif-echo SOCKET SECONDS - a memif server (interface id 0) that sends
 * every packet it receives straight back on the same queue pair, for the
 * interop test against an unmodified DPDK testpmd (role=client). Polls the
 * rings (MASK_INT set on C2S, so the client writes no eventfd); every other
 * burst is read in place (vmif_rx_peek, then vmif_rx_release after the echo).
 *
 * Prints "connected" / "disconnected" lines as the client comes and goes,
 * and at the end (deadline, or the client left after connecting) one line
 * "counters {...}" with the server's and interface's counters as JSON.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vpio/memif.h"

#define BURST 64

static int was_connected, is_connected;

static void on_state(struct vmif_if *ifp, int connected, void *user)
{
	(void)user;
	is_connected = connected;
	if (connected)
		was_connected = 1;
	printf("%s peer=\"%s\"\n", connected ? "connected" : "disconnected", vmif_if_peer_name(ifp));
	fflush(stdout);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static uint8_t mem[BURST][2048];
	struct vmif_buf bufs[BURST];
	struct vmif_server *srv;
	struct vmif_if *ifp;
	struct vmif_server_config cfg = { .on_state = on_state };
	struct vmif_server_counters sc;
	struct vmif_if_counters c;
	uint64_t echo_dropped = 0;
	double deadline;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: memif-echo SOCKET SECONDS\n");
		return 2;
	}
	cfg.socket_path = argv[1];
	deadline = now() + atof(argv[2]);
	rc = vmif_server_create(&srv, &cfg);
	if (rc == 0)
		rc = vmif_if_create(srv, &(struct vmif_if_config){ .id = 0, .name = "vpio-echo", .rx_poll = 1 }, &ifp);
	if (rc != 0) {
		fprintf(stderr, "memif-echo: %s\n", strerror(-rc));
		return 1;
	}
	for (int i = 0; i < BURST; i++)
		bufs[i] = (struct vmif_buf){ .data = mem[i], .cap = sizeof(mem[i]) };
	printf("listening %s\n", argv[1]);
	fflush(stdout);

	while (now() < deadline && !(was_connected && !is_connected)) {
		if (!is_connected) {
			struct pollfd p = { .fd = vmif_server_fd(srv), .events = POLLIN };

			poll(&p, 1, 10);
			vmif_server_step(srv);
			continue;
		}
		for (int spin = 0; spin < 4096 && is_connected; spin++) {
			/* every other burst in place (vmif_rx_peek): both rx paths against the client */
			int peek = spin & 1, n, sent;

			for (int i = 0; i < BURST; i++)
				bufs[i].data = mem[i];
			n = peek ? vmif_rx_peek(ifp, 0, bufs, BURST) : vmif_rx_burst(ifp, 0, bufs, BURST);
			if (n > 0) {
				/* echo: what does not fit in the S2C ring is dropped */
				sent = vmif_tx_burst(ifp, 0, bufs, (unsigned)n);
				if (sent >= 0)
					echo_dropped += (unsigned)(n - sent);
			}
			if (peek)
				vmif_rx_release(ifp, 0); /* after the copies out of the client's buffers */
		}
		vmif_server_step(srv);
	}

	vmif_if_counters(ifp, &c);
	vmif_server_counters(srv, &sc);
#define F(name) printf("\"" #name "\":%llu,", (unsigned long long)c.name)
#define S(name) printf("\"" #name "\":%llu,", (unsigned long long)sc.name)
	printf("counters {");
	F(rx_pkts); F(rx_bytes); F(tx_pkts); F(tx_bytes);
	F(rx_bad_head); F(rx_bad_region); F(rx_bad_offset); F(rx_bad_len); F(rx_bad_chain); F(rx_too_big); F(rx_empty);
	F(tx_bad_head); F(tx_bad_region); F(tx_bad_offset); F(tx_bad_len); F(tx_no_room); F(tx_too_big);
	F(tx_kicks); F(tx_kicks_skipped); F(rx_kick_reads);
	S(accepted); S(connected); S(client_disconnects); S(client_hangups); S(msgs_rx); S(msgs_tx); S(fds_closed);
	printf("\"echo_dropped\":%llu,\"refused\":{", (unsigned long long)echo_dropped);
	for (int r = 0; r < VMIF_REFUSE__COUNT; r++)
		printf("%s\"%s\":%llu", r ? "," : "", vmif_refusal_name((enum vmif_refusal)r),
		       (unsigned long long)sc.refused[r]);
	printf("}}\n");
	vmif_server_close(srv);
	return 0;
}
