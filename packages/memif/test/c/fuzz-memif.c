/* SPDX-License-Identifier: MIT */
/*
 * fuzz-memif [ITERATIONS] [SEED]: structure-aware fuzzing of the memif
 * server, in-process, deterministic (xorshift seeded from SEED).
 *
 * Control: each iteration plays the honest handshake (INIT, ADD_REGION,
 * ADD_RING c2s, ADD_RING s2c, CONNECT, DISCONNECT) with each message mutated
 * with some probability: another type, a short or long length, one field
 * set to a boundary value, its fd dropped, doubled, or swapped for a pipe,
 * an unsealed memfd or an eventfd. Data: an honest connection whose
 * descriptors and heads are overwritten with boundary values between
 * bursts. Checked: the server never crashes (ASan/UBSan), answers every
 * message or hangs up, never delivers more than a caller's buffer holds,
 * never publishes a tail outside [its last tail, head], leaks no fd and no
 * mapping, and an honest client works at the end. Prints what it reached:
 * the states and refusal reasons hit, drops by reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "memif_client.h"
#include "vpio/memif.h"
#include "vpio/tap.h"

static struct vmif_server *srv;
static struct vmif_if *ifp;
static char dir[64], sock_path[128];
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned iterations = 3000;
static unsigned reached[8]; /* messages answered, by position in the handshake */
static int base_fds;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned pick(unsigned n)
{
	return (unsigned)(next() % n);
}

/* A boundary value for a field of `bytes` bytes. */
static uint64_t boundary(unsigned bytes)
{
	uint64_t max = bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1;
	const uint64_t v[] = { 0, 1, 2, 15, 16, 17, 255, 256, 2047, 2048, 2049, 4096, 65535, 65536, max, max - 1, next() };

	return v[pick(sizeof(v) / sizeof(v[0]))] & max;
}

static void mutate_field(struct vmif_msg *m)
{
	uint8_t *body = (uint8_t *)m + 2;
	unsigned off = pick(20), width = 1u << pick(4);
	uint64_t v = boundary(width);

	if (off + width > VMIF_MSG_SIZE - 2)
		off = 0;
	memcpy(body + off, &v, width); /* little endian hosts: the low bytes */
}

static int step_and_drain(int s, int *gone)
{
	struct vmif_msg r;
	int n, got = 0;

	vmif_server_step(srv);
	while ((n = tc_recv(s, &r)) > 0) {
		got++;
		if (r.type == VMIF_MSG_DISCONNECT)
			*gone = 1;
	}
	if (n == 0)
		*gone = 1;
	return got;
}

static void fuzz_control_once(void)
{
	struct tc t;
	struct vmif_msg msgs[6];
	int fds[6], extra[4], gone = 0, s;
	struct vmif_msg hello;

	if (tc_init(&t, "vmif-fuzz", 1 + pick(4), 2048) != 0) {
		tap_case_failed = 1;
		return;
	}
	extra[0] = tc_memfd("vmif-fuzz-unsealed", t.mem_size, 0);
	extra[1] = eventfd(0, EFD_CLOEXEC);
	if (pipe2(&extra[2], O_CLOEXEC) != 0)
		extra[2] = extra[3] = -1;
	tc_msg_init(&msgs[0], 0, NULL);
	tc_msg_add_region(&t, &msgs[1]);
	tc_msg_add_ring(&t, &msgs[2], 1);
	tc_msg_add_ring(&t, &msgs[3], 0);
	tc_msg(&msgs[4], VMIF_MSG_CONNECT);
	tc_msg(&msgs[5], VMIF_MSG_DISCONNECT);
	fds[0] = fds[4] = fds[5] = -1;
	fds[1] = t.region_fd;
	fds[2] = t.c2s_efd;
	fds[3] = t.s2c_efd;

	s = tc_dial(sock_path);
	vmif_server_step(srv);
	if (s < 0 || tc_recv(s, &hello) != VMIF_MSG_SIZE) {
		tap_case_failed = 1;
		goto out;
	}
	for (unsigned i = 0; i < 6 && !gone; i++) {
		struct vmif_msg m = msgs[i];
		size_t len = sizeof(m);
		int send_fds[2] = { fds[i], -1 }, nfds = fds[i] >= 0;

		if (pick(4) == 0) {
			switch (pick(6)) {
			case 0:
				m.type = (uint16_t)boundary(2);
				break;
			case 1:
				len = pick(2) ? pick(VMIF_MSG_SIZE) : VMIF_MSG_SIZE - 1;
				break;
			case 2:
			case 3:
				mutate_field(&m);
				break;
			case 4:
				nfds = nfds ? 0 : 1;
				send_fds[0] = extra[pick(4)];
				break;
			default:
				send_fds[nfds] = extra[pick(4)];
				nfds++;
				break;
			}
		}
		if (nfds > 0 && send_fds[0] < 0)
			nfds = 0;
		if (tc_send_raw(s, &m, len, send_fds, nfds) < 0)
			break;
		if (step_and_drain(s, &gone) > 0 || gone)
			reached[i]++;
	}
	/* the server answered or hung up; either way it is still serving */
out:
	if (s >= 0)
		close(s);
	vmif_server_step(srv);
	for (int i = 0; i < 4; i++)
		if (extra[i] >= 0)
			close(extra[i]);
	tc_fini(&t);
}

static void t_control(void)
{
	int fds0 = tap_open_fds();
	struct vmif_server_counters c;

	for (unsigned i = 0; i < iterations; i++)
		fuzz_control_once();
	CHECK_EQ(vmif_if_connected(ifp), 0);
	CHECK_EQ(tap_open_fds(), fds0);
	CHECK_EQ(tc_maps_count("vmif-fuzz"), 0);
	vmif_server_counters(srv, &c);
	printf("# %u handshakes: answered at INIT %u, ADD_REGION %u, ADD_RING %u/%u, CONNECT %u, DISCONNECT %u;"
	       " connected %llu\n",
	       iterations, reached[0], reached[1], reached[2], reached[3], reached[4], reached[5],
	       (unsigned long long)c.connected);
	for (int r = 0; r < VMIF_REFUSE__COUNT; r++)
		if (c.refused[r])
			printf("#   refused %-16s %llu\n", vmif_refusal_name((enum vmif_refusal)r),
			       (unsigned long long)c.refused[r]);
	CHECK(c.connected > 0);
	CHECK(reached[4] > 0);
}

/* Overwrites a few descriptors of ring with boundary values. Offsets stay
 * at or above `floor`: on S2C the server writes where they point, and a
 * client that points it at its own ring headers only breaks itself (the
 * harness could no longer tell what the server published). */
static void scribble(struct vmif_ring *ring, unsigned size, uint32_t mem_size, uint32_t floor)
{
	for (unsigned k = pick(4); k > 0; k--) {
		struct vmif_desc *d = &ring->desc[pick(size)];

		switch (pick(5)) {
		case 0:
			d->region = (uint16_t)boundary(2);
			break;
		case 1:
			d->offset = pick(2) ? (uint32_t)boundary(4) : mem_size - pick(4096);
			if (d->offset < floor)
				d->offset += floor;
			break;
		case 2:
			d->length = (uint32_t)boundary(4);
			break;
		case 3:
			d->flags = (uint16_t)boundary(2);
			break;
		default:
			d->length = 64;
			break;
		}
	}
}

static void t_data(void)
{
	struct tc t;
	struct vmif_msg m;
	static uint8_t mem[32][4096];
	struct vmif_buf bufs[32];
	struct vmif_if_counters c;
	int s, gone = 0;
	unsigned delivered = 0, sent = 0, bad_tail = 0, in_place = 0, sum = 0;

	CHECK_EQ(tc_init(&t, "vmif-fuzz-data", 5, 2048), 0);
	s = tc_dial(sock_path);
	vmif_server_step(srv);
	CHECK_EQ(tc_recv(s, &m), VMIF_MSG_SIZE);
	t.sock = s;
	{
		struct vmif_msg seq[5];
		int fds[5] = { -1, t.region_fd, t.c2s_efd, t.s2c_efd, -1 };

		tc_msg_init(&seq[0], 0, NULL);
		tc_msg_add_region(&t, &seq[1]);
		tc_msg_add_ring(&t, &seq[2], 1);
		tc_msg_add_ring(&t, &seq[3], 0);
		tc_msg(&seq[4], VMIF_MSG_CONNECT);
		for (int i = 0; i < 5; i++) {
			tc_send_raw(s, &seq[i], sizeof(seq[i]), &fds[i], fds[i] >= 0);
			step_and_drain(s, &gone);
		}
	}
	CHECK_EQ(vmif_if_connected(ifp), 1);
	for (unsigned it = 0; it < iterations * 4 && vmif_if_connected(ifp); it++) {
		uint16_t tail0 = t.c2s->tail, head;
		int n, peek;

		/* client: queue some honest packets, then lie a little */
		for (unsigned k = pick(40); k > 0; k--)
			tc_tx(&t, mem[0], 60 + pick(1500));
		if (pick(3) == 0)
			scribble(t.c2s, 32, (uint32_t)t.mem_size, 0);
		if (pick(8) == 0)
			t.c2s->head = (uint16_t)(t.c2s->head + boundary(2));
		head = t.c2s->head;
		for (int i = 0; i < 32; i++)
			bufs[i] = (struct vmif_buf){ .data = mem[i], .cap = pick(8) ? 4096 : pick(128) };
		peek = pick(2); /* half the bursts in place (vmif_rx_peek), half copied */
		n = peek ? vmif_rx_peek(ifp, 0, bufs, 1 + pick(32)) : vmif_rx_burst(ifp, 0, bufs, 1 + pick(32));
		for (int i = 0; i < n; i++) {
			if (bufs[i].len > bufs[i].cap || bufs[i].len == 0)
				tap_case_failed = 1;
			if (bufs[i].data != mem[i]) {
				/* in place: read it all (outside the client's mapping this faults) */
				for (uint32_t b = 0; b < bufs[i].len; b++)
					sum += ((const volatile uint8_t *)bufs[i].data)[b];
				in_place++;
			}
		}
		if (peek) {
			CHECK_EQ(vmif_rx_release(ifp, 0), 0);
			for (int i = 0; i < 32; i++)
				bufs[i].data = mem[i]; /* the tx below sends from our own buffers */
		}
		if (n > 0)
			delivered += (unsigned)n;
		if ((uint16_t)(t.c2s->tail - tail0) > (uint16_t)(head - tail0))
			bad_tail++;
		t.c2s->head = t.c2s->tail; /* the honest client resynchronises */

		/* server to client over lying S2C descriptors */
		tc_refill(&t);
		if (pick(3) == 0)
			scribble(t.s2c, 32, (uint32_t)t.mem_size, (uint32_t)(2 * VMIF_RING_BYTES(t.log2)));
		if (pick(8) == 0)
			t.s2c->head = (uint16_t)(t.s2c->head + boundary(2));
		head = t.s2c->head;
		tail0 = t.s2c->tail;
		for (int i = 0; i < 32; i++)
			bufs[i].len = pick(3000);
		n = vmif_tx_burst(ifp, 0, bufs, 1 + pick(32));
		if (n > 0)
			sent += (unsigned)n;
		if ((uint16_t)(t.s2c->tail - tail0) > (uint16_t)(head - tail0))
			bad_tail++;
		t.s2c->head = t.s2c->tail;
		t.s2c_seen = t.s2c->tail;
		/* restore honest descriptors now and then */
		if (pick(16) == 0) {
			for (unsigned i = 0; i < 32; i++) {
				t.c2s->desc[i].flags = 0;
				t.s2c->desc[i].flags = 0;
			}
		}
	}
	CHECK_EQ(bad_tail, 0);
	vmif_if_counters(ifp, &c);
	printf("# data: %u delivered (%u in place, byte sum %u), %u sent; drops rx head %llu region %llu offset %llu len %llu chain %llu "
	       "too-big %llu empty %llu; tx head %llu region %llu offset %llu len %llu no-room %llu\n",
	       delivered, in_place, sum, sent, (unsigned long long)c.rx_bad_head, (unsigned long long)c.rx_bad_region,
	       (unsigned long long)c.rx_bad_offset, (unsigned long long)c.rx_bad_len,
	       (unsigned long long)c.rx_bad_chain, (unsigned long long)c.rx_too_big, (unsigned long long)c.rx_empty,
	       (unsigned long long)c.tx_bad_head, (unsigned long long)c.tx_bad_region,
	       (unsigned long long)c.tx_bad_offset, (unsigned long long)c.tx_bad_len,
	       (unsigned long long)c.tx_no_room);
	CHECK(delivered > 0);
	CHECK(sent > 0);
	CHECK(c.rx_bad_region > 0 && c.rx_bad_offset > 0 && c.rx_bad_len > 0 && c.rx_bad_head > 0);
	CHECK(c.tx_bad_region > 0 && c.tx_bad_offset > 0 && c.tx_bad_len > 0 && c.tx_bad_head > 0);
	tc_fini(&t);
	vmif_server_step(srv);
	CHECK_EQ(vmif_if_connected(ifp), 0);
	CHECK_EQ(tc_maps_count("vmif-fuzz-data"), 0);
}

static void t_close(void)
{
	vmif_server_close(srv);
	CHECK_EQ(rmdir(dir), 0);
	CHECK_EQ(tap_open_fds(), base_fds);
	CHECK_EQ(tc_maps_count("vmif-fuzz"), 0);
}

int main(int argc, char **argv)
{
	struct vmif_server_config cfg = { .max_regions = 2, .max_queue_pairs = 2 };

	base_fds = tap_open_fds();
	if (argc > 1)
		iterations = (unsigned)atoi(argv[1]);
	if (argc > 2)
		rng ^= strtoull(argv[2], NULL, 0) * 0x2545f4914f6cdd1dull;
	strcpy(dir, "/tmp/vmif-fuzz-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/memif.sock", dir);
	cfg.socket_path = sock_path;
	if (vmif_server_create(&srv, &cfg) != 0 || vmif_if_create(srv, &(struct vmif_if_config){ .id = 0 }, &ifp) != 0) {
		printf("Bail out! cannot create the server\n");
		return 1;
	}
	printf("# seed state %#llx, %u iterations\n", (unsigned long long)rng, iterations);
	tap_run("control messages: mutated handshakes never crash, leak, or wedge the server", t_control);
	tap_run("descriptors: lying rings are dropped and counted, tails stay in the window", t_data);
	tap_run("closing the server leaks no fd, mapping or socket file", t_close);
	return tap_done();
}
