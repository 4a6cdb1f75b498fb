/* SPDX-License-Identifier: MIT */
/*
 * test-memif: the memif server against hostile clients and an honest one,
 * all in this process (the server is stepped after every client action).
 * Objective: every bad message, fd, region and descriptor is refused or
 * dropped with its own counter and a clear reason, nothing unsealed is ever
 * mapped, nothing leaks (fds, mappings), the server survives, and an honest
 * client on the same server still moves packets both ways.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "memif_client.h"
#include "vpio/memif.h"
#include "vpio/tap.h"

static char dir[64], sock_path[128];
static struct vmif_server *srv;
static struct vmif_if *if0, *if_secret;
static int state_calls[2];
static int base_fds, base_maps;

static uint64_t fake_ms = 1000;

static uint64_t fake_now(void *user)
{
	(void)user;
	return fake_ms;
}

static void on_state(struct vmif_if *ifp, int connected, void *user)
{
	(void)ifp;
	(void)user;
	state_calls[connected ? 1 : 0]++;
}

static uint64_t refused(enum vmif_refusal r)
{
	struct vmif_server_counters c;

	vmif_server_counters(srv, &c);
	return c.refused[r];
}

/* Dials and reads HELLO; the socket or -1. */
static int dial_hello(void)
{
	struct vmif_msg m;
	int s = tc_dial(sock_path);

	if (s < 0)
		return -1;
	vmif_server_step(srv);
	if (tc_recv(s, &m) != VMIF_MSG_SIZE || m.type != VMIF_MSG_HELLO) {
		close(s);
		return -1;
	}
	return s;
}

/* Sends, steps, and expects reply type `want`. */
static int exchange(int s, const struct vmif_msg *m, const int *fds, int nfds, uint16_t want)
{
	struct vmif_msg r;

	if (tc_send_raw(s, m, sizeof(*m), fds, nfds) != (int)sizeof(*m))
		return -1;
	vmif_server_step(srv);
	if (tc_recv(s, &r) != VMIF_MSG_SIZE)
		return -1;
	if (r.type != want) {
		if (r.type == VMIF_MSG_DISCONNECT)
			printf("# unexpected DISCONNECT: %.96s\n", (const char *)r.disconnect.reason);
		return -1;
	}
	return 0;
}

/*
 * After the client sent its hostile message (already stepped): expects a
 * DISCONNECT whose reason contains `needle`, the refusal counted once, then
 * EOF.
 */
static void expect_refusal(int s, enum vmif_refusal r, uint64_t before, const char *needle)
{
	struct vmif_msg m;
	int n;

	vmif_server_step(srv);
	n = tc_recv(s, &m);
	CHECK_EQ(n, VMIF_MSG_SIZE);
	CHECK_EQ(m.type, VMIF_MSG_DISCONNECT);
	m.disconnect.reason[VMIF_REASON_SZ - 1] = '\0';
	if (!strstr((const char *)m.disconnect.reason, needle)) {
		printf("# reason \"%s\" lacks \"%s\"\n", (const char *)m.disconnect.reason, needle);
		tap_case_failed = 1;
	}
	CHECK_EQ(refused(r) - before, 1);
	CHECK_EQ(tc_recv(s, &m), 0); /* then EOF: the server closed */
	close(s);
}

/* One hostile message on a fresh connection (after HELLO, optionally INIT). */
static void hostile(int do_init, const void *msg, size_t len, const int *fds, int nfds, enum vmif_refusal r,
		    const char *needle)
{
	uint64_t before = refused(r);
	struct vmif_msg init;
	int s = dial_hello();

	CHECK(s >= 0);
	if (s < 0)
		return;
	if (do_init) {
		tc_msg_init(&init, 0, NULL);
		CHECK_EQ(exchange(s, &init, NULL, 0, VMIF_MSG_ACK), 0);
	}
	CHECK_EQ(tc_send_raw(s, msg, len, fds, nfds), (int)len);
	expect_refusal(s, r, before, needle);
}

static void t_setup(void)
{
	struct vmif_server_config cfg = { .on_state = on_state, .max_regions = 2, .max_queue_pairs = 2,
					  .max_channels = 4, .now_ms = fake_now };
	struct vmif_server *bad;
	struct stat st;
	char open_dir[96];

	base_fds = tap_open_fds();
	base_maps = tc_maps_count("vmif-test");
	strcpy(dir, "/tmp/vmif-test-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(sock_path, sizeof(sock_path), "%s/memif.sock", dir);
	cfg.socket_path = sock_path;
	CHECK_EQ(vmif_server_create(&srv, &cfg), 0);
	CHECK_EQ(stat(sock_path, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0600);
	CHECK(S_ISSOCK(st.st_mode));
	/* a live socket is not taken over */
	CHECK_EQ(vmif_server_create(&bad, &cfg), -EADDRINUSE);
	/* a directory others may write is refused */
	snprintf(open_dir, sizeof(open_dir), "%s/open", dir);
	CHECK_EQ(mkdir(open_dir, 0700), 0);
	CHECK_EQ(chmod(open_dir, 0777), 0);
	snprintf(open_dir, sizeof(open_dir), "%s/open/x.sock", dir);
	cfg.socket_path = open_dir;
	CHECK_EQ(vmif_server_create(&bad, &cfg), -EPERM);
	snprintf(open_dir, sizeof(open_dir), "%s/open", dir);
	rmdir(open_dir);
	CHECK_EQ(vmif_if_create(srv, &(struct vmif_if_config){ .id = 0 }, &if0), 0);
	CHECK_EQ(vmif_if_create(srv, &(struct vmif_if_config){ .id = 7, .secret = "s3cret" }, &if_secret), 0);
	CHECK_EQ(vmif_if_create(srv, &(struct vmif_if_config){ .id = 0 }, &(struct vmif_if *){ NULL }), -EEXIST);
}

static void t_bad_messages(void)
{
	struct vmif_msg m;

	uint8_t big[200] = { 0 };

	tc_msg(&m, VMIF_MSG_INIT);
	hostile(0, &m, 10, NULL, 0, VMIF_REFUSE_MSG_SIZE, "10 bytes");
	hostile(0, big, sizeof(big), NULL, 0, VMIF_REFUSE_MSG_SIZE, "bytes");
	tc_msg(&m, 42);
	hostile(0, &m, sizeof(m), NULL, 0, VMIF_REFUSE_MSG_TYPE, "unknown message type 42");
	tc_msg(&m, VMIF_MSG_NONE);
	hostile(0, &m, sizeof(m), NULL, 0, VMIF_REFUSE_MSG_TYPE, "type 0");
}

static void t_wrong_order(void)
{
	struct vmif_msg m;
	int fd = tc_memfd("vmif-test-order", 4096, F_SEAL_SHRINK);

	tc_msg(&m, VMIF_MSG_ADD_REGION);
	m.add_region.size = 4096;
	hostile(0, &m, sizeof(m), &fd, 1, VMIF_REFUSE_MSG_ORDER, "unexpected ADD_REGION before INIT");
	tc_msg(&m, VMIF_MSG_CONNECT);
	hostile(0, &m, sizeof(m), NULL, 0, VMIF_REFUSE_MSG_ORDER, "unexpected CONNECT before INIT");
	tc_msg(&m, VMIF_MSG_ACK);
	hostile(0, &m, sizeof(m), NULL, 0, VMIF_REFUSE_MSG_ORDER, "unexpected ACK");
	tc_msg(&m, VMIF_MSG_HELLO);
	hostile(1, &m, sizeof(m), NULL, 0, VMIF_REFUSE_MSG_ORDER, "unexpected HELLO");
	tc_msg_init(&m, 0, NULL);
	hostile(1, &m, sizeof(m), NULL, 0, VMIF_REFUSE_MSG_ORDER, "unexpected INIT while configuring");
	close(fd);
}

static void t_bad_init(void)
{
	struct vmif_msg m;

	tc_msg_init(&m, 0, NULL);
	m.init.version = 0x0100;
	hostile(0, &m, sizeof(m), NULL, 0, VMIF_REFUSE_VERSION, "version 1.0");
	tc_msg_init(&m, 99, NULL);
	hostile(0, &m, sizeof(m), NULL, 0, VMIF_REFUSE_ID, "no interface with id 99");
	tc_msg_init(&m, 0, NULL);
	m.init.mode = 1;
	hostile(0, &m, sizeof(m), NULL, 0, VMIF_REFUSE_MODE, "mode 1");
	tc_msg_init(&m, 7, "wrong");
	hostile(0, &m, sizeof(m), NULL, 0, VMIF_REFUSE_SECRET, "secret");
	tc_msg_init(&m, 7, NULL);
	hostile(0, &m, sizeof(m), NULL, 0, VMIF_REFUSE_SECRET, "secret");
}

static void t_fds(void)
{
	struct vmif_msg m;
	int a = tc_memfd("vmif-test-fd-a", 4096, F_SEAL_SHRINK), b = eventfd(0, 0);
	int two[2] = { a, b };
	int fds_before = tap_open_fds();

	tc_msg(&m, VMIF_MSG_ADD_REGION);
	m.add_region.size = 4096;
	hostile(1, &m, sizeof(m), NULL, 0, VMIF_REFUSE_FD_MISSING, "ADD_REGION without its fd");
	hostile(1, &m, sizeof(m), two, 2, VMIF_REFUSE_FD_EXTRA, "2 fds");
	tc_msg(&m, VMIF_MSG_ADD_RING);
	hostile(1, &m, sizeof(m), NULL, 0, VMIF_REFUSE_FD_MISSING, "ADD_RING without its fd");
	tc_msg_init(&m, 0, NULL);
	hostile(0, &m, sizeof(m), &b, 1, VMIF_REFUSE_FD_EXTRA, "INIT with 1 fds");
	tc_msg(&m, VMIF_MSG_CONNECT);
	hostile(1, &m, sizeof(m), &a, 1, VMIF_REFUSE_FD_EXTRA, "CONNECT with 1 fds");
	/* every fd the server received was closed again */
	CHECK_EQ(tap_open_fds(), fds_before);
	close(a);
	close(b);
}

static void t_bad_regions(void)
{
	struct vmif_msg m;
	int sealed = tc_memfd("vmif-test-region-ok", 8192, F_SEAL_SHRINK);
	int unsealed = tc_memfd("vmif-test-unsealed", 8192, 0);
	int growonly = tc_memfd("vmif-test-growseal", 8192, F_SEAL_GROW);
	int small = tc_memfd("vmif-test-small", 4096, F_SEAL_SHRINK);
	int p[2];

	CHECK_EQ(pipe(p), 0);
	tc_msg(&m, VMIF_MSG_ADD_REGION);
	m.add_region.index = 1;
	m.add_region.size = 8192;
	hostile(1, &m, sizeof(m), &sealed, 1, VMIF_REFUSE_REGION_INDEX, "region index 1: expected 0");
	m.add_region.index = 300;
	hostile(1, &m, sizeof(m), &sealed, 1, VMIF_REFUSE_REGION_INDEX, "region index 300");
	m.add_region.index = 0;
	m.add_region.size = 1ull << 40;
	hostile(1, &m, sizeof(m), &sealed, 1, VMIF_REFUSE_REGION_SIZE, "size 1099511627776");
	m.add_region.size = 0;
	hostile(1, &m, sizeof(m), &sealed, 1, VMIF_REFUSE_REGION_SIZE, "size 0");
	m.add_region.size = 8192;
	hostile(1, &m, sizeof(m), &small, 1, VMIF_REFUSE_REGION_SIZE, "file holds 4096 bytes, 8192 announced");
	hostile(1, &m, sizeof(m), &p[0], 1, VMIF_REFUSE_REGION_FD, "not a memfd");
	hostile(1, &m, sizeof(m), &unsealed, 1, VMIF_REFUSE_REGION_UNSEALED,
		"region 0 is not sealed against shrinking: a memif client must seal it (memfd F_SEAL_SHRINK)");
	CHECK_STR(vmif_server_last_refusal(srv),
		  "region 0 is not sealed against shrinking: a memif client must seal it (memfd F_SEAL_SHRINK)");
	hostile(1, &m, sizeof(m), &growonly, 1, VMIF_REFUSE_REGION_UNSEALED, "not sealed against shrinking");
	/* an unsealed region was never mapped, not even briefly kept */
	CHECK_EQ(tc_maps_count("vmif-test-unsealed"), 0);
	CHECK_EQ(tc_maps_count("vmif-test-growseal"), 0);
	/* the size the server checked cannot change under it: shrinking is refused */
	CHECK_EQ(ftruncate(sealed, 4096), -1);
	CHECK_EQ(errno, EPERM);
	close(sealed);
	close(unsealed);
	close(growonly);
	close(small);
	close(p[0]);
	close(p[1]);
}

/* Connection with INIT + ADD_REGION done; the socket. */
static int dial_with_region(struct tc *t)
{
	struct vmif_msg m;
	int s = dial_hello();

	tc_msg_init(&m, 0, NULL);
	CHECK_EQ(exchange(s, &m, NULL, 0, VMIF_MSG_ACK), 0);
	tc_msg_add_region(t, &m);
	CHECK_EQ(exchange(s, &m, &t->region_fd, 1, VMIF_MSG_ACK), 0);
	return s;
}

static void hostile_ring(struct tc *t, const struct vmif_msg *m, int fd, enum vmif_refusal r, const char *needle)
{
	uint64_t before = refused(r);
	int s = dial_with_region(t);

	CHECK_EQ(tc_send_raw(s, m, sizeof(*m), &fd, 1), (int)sizeof(*m));
	expect_refusal(s, r, before, needle);
}

static void t_bad_rings(void)
{
	struct tc t;
	struct vmif_msg m, ok;
	int p[2], s;
	uint64_t before;

	CHECK_EQ(tc_init(&t, "vmif-test-rings", 4, 2048), 0);
	CHECK_EQ(pipe(p), 0);
	tc_msg_add_ring(&t, &m, 1);
	hostile_ring(&t, &m, p[0], VMIF_REFUSE_RING_FD, "interrupt fd is not an eventfd");
	m.add_ring.index = 2;
	hostile_ring(&t, &m, t.c2s_efd, VMIF_REFUSE_RING_INDEX, "c2s ring 2: at most 2");
	tc_msg_add_ring(&t, &m, 1);
	m.add_ring.region = 1;
	hostile_ring(&t, &m, t.c2s_efd, VMIF_REFUSE_RING_PARAM, "region 1 not added");
	tc_msg_add_ring(&t, &m, 1);
	m.add_ring.offset = (uint32_t)t.mem_size - 64;
	hostile_ring(&t, &m, t.c2s_efd, VMIF_REFUSE_RING_PARAM, "exceed region 0");
	m.add_ring.offset = 8;
	hostile_ring(&t, &m, t.c2s_efd, VMIF_REFUSE_RING_PARAM, "not 16-byte aligned");
	tc_msg_add_ring(&t, &m, 1);
	m.add_ring.log2_ring_size = 15;
	hostile_ring(&t, &m, t.c2s_efd, VMIF_REFUSE_RING_PARAM, "log2 size 15 > 14");
	tc_msg_add_ring(&t, &m, 1);
	m.add_ring.flags = 0x8001;
	hostile_ring(&t, &m, t.c2s_efd, VMIF_REFUSE_RING_PARAM, "ring flags 0x8001");
	tc_msg_add_ring(&t, &m, 1);
	m.add_ring.private_hdr_size = 64;
	hostile_ring(&t, &m, t.c2s_efd, VMIF_REFUSE_RING_PARAM, "private_hdr_size 64");

	/* the same ring twice */
	before = refused(VMIF_REFUSE_RING_INDEX);
	s = dial_with_region(&t);
	tc_msg_add_ring(&t, &ok, 1);
	CHECK_EQ(exchange(s, &ok, &t.c2s_efd, 1, VMIF_MSG_ACK), 0);
	CHECK_EQ(tc_send_raw(s, &ok, sizeof(ok), &t.c2s_efd, 1), (int)sizeof(ok));
	expect_refusal(s, VMIF_REFUSE_RING_INDEX, before, "c2s ring 0 added twice");

	/* CONNECT with only one direction */
	before = refused(VMIF_REFUSE_RINGS_MISSING);
	s = dial_with_region(&t);
	CHECK_EQ(exchange(s, &ok, &t.c2s_efd, 1, VMIF_MSG_ACK), 0);
	tc_msg(&m, VMIF_MSG_CONNECT);
	CHECK_EQ(tc_send_raw(s, &m, sizeof(m), NULL, 0), (int)sizeof(m));
	expect_refusal(s, VMIF_REFUSE_RINGS_MISSING, before, "c2s and s2c rings");

	/* CONNECT with a ring that is not a memif ring */
	before = refused(VMIF_REFUSE_RING_COOKIE);
	t.s2c->cookie = 0xdead;
	s = dial_with_region(&t);
	CHECK_EQ(exchange(s, &ok, &t.c2s_efd, 1, VMIF_MSG_ACK), 0);
	tc_msg_add_ring(&t, &m, 0);
	CHECK_EQ(exchange(s, &m, &t.s2c_efd, 1, VMIF_MSG_ACK), 0);
	tc_msg(&m, VMIF_MSG_CONNECT);
	CHECK_EQ(tc_send_raw(s, &m, sizeof(m), NULL, 0), (int)sizeof(m));
	expect_refusal(s, VMIF_REFUSE_RING_COOKIE, before, "s2c ring 0 has no memif cookie");
	t.s2c->cookie = VMIF_COOKIE;

	/* everything mapped for the refused connections is gone again */
	CHECK_EQ(tc_maps_count("vmif-test-rings"), 1); /* our own mapping only */
	close(p[0]);
	close(p[1]);
	tc_fini(&t);
}

static void t_too_many_channels(void)
{
	int s[5];
	struct vmif_msg m;
	uint64_t before = refused(VMIF_REFUSE_CHANNELS);

	for (int i = 0; i < 4; i++)
		s[i] = dial_hello();
	s[4] = tc_dial(sock_path);
	vmif_server_step(srv);
	CHECK_EQ(tc_recv(s[4], &m), VMIF_MSG_SIZE);
	CHECK_EQ(m.type, VMIF_MSG_DISCONNECT);
	CHECK(strstr((const char *)m.disconnect.reason, "too many") != NULL);
	CHECK_EQ(refused(VMIF_REFUSE_CHANNELS) - before, 1);
	for (int i = 0; i < 5; i++)
		close(s[i]);
	vmif_server_step(srv); /* hang-ups */
}

/* Full honest handshake of t on interface id; 0 or -1. */
static int honest_connect(struct tc *t, uint32_t id, const char *secret)
{
	struct vmif_msg m;

	t->sock = dial_hello();
	if (t->sock < 0)
		return -1;
	tc_msg_init(&m, id, secret);
	if (exchange(t->sock, &m, NULL, 0, VMIF_MSG_ACK))
		return -1;
	tc_msg_add_region(t, &m);
	if (exchange(t->sock, &m, &t->region_fd, 1, VMIF_MSG_ACK))
		return -1;
	tc_msg_add_ring(t, &m, 1);
	if (exchange(t->sock, &m, &t->c2s_efd, 1, VMIF_MSG_ACK))
		return -1;
	tc_msg_add_ring(t, &m, 0);
	if (exchange(t->sock, &m, &t->s2c_efd, 1, VMIF_MSG_ACK))
		return -1;
	tc_msg(&m, VMIF_MSG_CONNECT);
	memcpy(m.connect.if_name, "tc0", 3);
	return exchange(t->sock, &m, NULL, 0, VMIF_MSG_CONNECTED);
}

static void t_sealed_mapped_then_unmapped(void)
{
	struct tc t;
	int fds0 = tap_open_fds();
	struct vmif_msg m;

	CHECK_EQ(tc_init(&t, "vmif-test-sealed", 4, 2048), 0);
	CHECK_EQ(tc_maps_count("vmif-test-sealed"), 1);
	CHECK_EQ(honest_connect(&t, 0, NULL), 0);
	CHECK_EQ(vmif_if_connected(if0), 1);
	CHECK_STR(vmif_if_peer_name(if0), "tc");
	CHECK_EQ(tc_maps_count("vmif-test-sealed"), 2); /* ours + the server's */
	/* a second client for a busy interface is refused; the first stays */
	{
		uint64_t before = refused(VMIF_REFUSE_BUSY);
		int s = dial_hello();

		tc_msg_init(&m, 0, NULL);
		CHECK_EQ(tc_send_raw(s, &m, sizeof(m), NULL, 0), (int)sizeof(m));
		expect_refusal(s, VMIF_REFUSE_BUSY, before, "already has a client");
		CHECK_EQ(vmif_if_connected(if0), 1);
	}
	/* after CONNECT, configuration messages are refused and tear down */
	{
		uint64_t before = refused(VMIF_REFUSE_MSG_ORDER);

		tc_msg_add_region(&t, &m);
		CHECK_EQ(tc_send_raw(t.sock, &m, sizeof(m), &t.region_fd, 1), (int)sizeof(m));
		expect_refusal(t.sock, VMIF_REFUSE_MSG_ORDER, before, "after CONNECT");
		t.sock = -1;
	}
	CHECK_EQ(vmif_if_connected(if0), 0);
	CHECK_EQ(tc_maps_count("vmif-test-sealed"), 1);
	tc_fini(&t);
	CHECK_EQ(tap_open_fds(), fds0);
}

static void t_packets_both_ways(void)
{
	struct tc t;
	uint8_t bufs[8][2048], out[4096];
	struct vmif_buf vb[8];
	struct vmif_if_counters c;
	int calls1 = state_calls[1];

	CHECK_EQ(tc_init(&t, "vmif-test-data", 4, 2048), 0);
	CHECK_EQ(honest_connect(&t, 0, NULL), 0);
	CHECK_EQ(state_calls[1] - calls1, 1);
	CHECK_EQ(vmif_if_num_rx_queues(if0), 1);
	CHECK_EQ(vmif_if_num_tx_queues(if0), 1);
	for (int i = 0; i < 8; i++)
		vb[i] = (struct vmif_buf){ .data = bufs[i], .cap = sizeof(bufs[i]) };
	/* client -> server, wrapping the 16-slot ring several times */
	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < 5; i++) {
			uint8_t pkt[100];

			memset(pkt, round * 16 + i, sizeof(pkt));
			CHECK_EQ(tc_tx(&t, pkt, (uint32_t)(60 + i)), 0);
		}
		CHECK_EQ(vmif_rx_burst(if0, 0, vb, 8), 5);
		for (int i = 0; i < 5; i++) {
			CHECK_EQ(vb[i].len, 60 + i);
			CHECK_EQ(bufs[i][0], (uint8_t)(round * 16 + i));
			CHECK_EQ(bufs[i][59 + i], (uint8_t)(round * 16 + i));
		}
		CHECK_EQ(t.c2s->tail, t.c2s->head); /* slots given back */
	}
	/* server -> client, one packet bigger than a buffer goes as a NEXT chain */
	tc_refill(&t);
	memset(bufs[0], 0xab, 3000 > 2048 ? 2048 : 3000);
	{
		uint8_t big[3000];
		struct vmif_buf tx[2] = { { .data = big, .len = sizeof(big) }, { .data = bufs[1], .len = 64 } };

		memset(big, 0xcd, sizeof(big));
		big[2999] = 0xef;
		memset(bufs[1], 0x11, 64);
		CHECK_EQ(vmif_tx_burst(if0, 0, tx, 2), 2);
		CHECK_EQ(tc_rx(&t, out, sizeof(out)), 3000);
		CHECK_EQ(out[0], 0xcd);
		CHECK_EQ(out[2999], 0xef);
		CHECK_EQ(tc_rx(&t, out, sizeof(out)), 64);
		CHECK_EQ(out[63], 0x11);
		CHECK_EQ(tc_rx(&t, out, sizeof(out)), -EAGAIN);
	}
	/* a full S2C ring: the burst sends what fits and says so */
	{
		struct vmif_buf tx[20];

		tc_refill(&t);
		for (int i = 0; i < 20; i++)
			tx[i] = (struct vmif_buf){ .data = bufs[0], .len = 100 };
		CHECK_EQ(vmif_tx_burst(if0, 0, tx, 20), 16);
		CHECK_EQ(vmif_tx_burst(if0, 0, tx, 1), 0);
		for (int i = 0; i < 16; i++)
			CHECK_EQ(tc_rx(&t, out, sizeof(out)), 100);
	}
	/* a packet larger than the whole ring is dropped, not retried forever */
	{
		static uint8_t huge[16 * 2048 + 1];
		struct vmif_buf tx[2] = { { .data = huge, .len = sizeof(huge) }, { .data = bufs[0], .len = 100 } };

		tc_refill(&t);
		CHECK_EQ(vmif_tx_burst(if0, 0, tx, 2), 2);
		CHECK_EQ(tc_rx(&t, out, sizeof(out)), 100);
		CHECK_EQ(tc_rx(&t, out, sizeof(out)), -EAGAIN);
	}
	vmif_if_counters(if0, &c);
	CHECK_EQ(c.tx_too_big, 1);
	CHECK_EQ(c.rx_pkts, 50);
	CHECK_EQ(c.tx_pkts, 19);
	CHECK_EQ(c.tx_no_room, 4 + 1);
	CHECK_EQ(c.tx_bytes, 3000 + 64 + 1600 + 100);
	tc_fini(&t);
	vmif_server_step(srv);
	CHECK_EQ(vmif_if_connected(if0), 0);
}

static void t_bad_descriptors(void)
{
	struct tc t;
	uint8_t bufs[4][2048], small[32], pkt[64] = { 1 };
	struct vmif_buf vb[4];
	struct vmif_if_counters c0, c;
	struct vmif_desc *d;
	uint16_t h;

	CHECK_EQ(tc_init(&t, "vmif-test-desc", 4, 2048), 0);
	CHECK_EQ(honest_connect(&t, 0, NULL), 0);
	vmif_if_counters(if0, &c0);
	for (int i = 0; i < 4; i++)
		vb[i] = (struct vmif_buf){ .data = bufs[i], .cap = sizeof(bufs[i]) };

	/* five bad packets around one good one: only the good one arrives */
	for (int i = 0; i < 7; i++)
		CHECK_EQ(tc_tx(&t, pkt, 64), 0);
	d = t.c2s->desc;
	d[0].region = 5;                               /* region out of range */
	d[1].offset = (uint32_t)t.mem_size - 10;       /* offset + length past the end */
	d[2].length = 4096;                            /* length > buf_size */
	d[3].offset = 0xfffffff0u;                     /* offset wraps 32 bits */
	d[5].length = 0;                               /* empty packet */
	d[6].length = 100;                             /* larger than the caller's buffer below */
	vb[1].cap = sizeof(small);
	vb[1].data = small;
	CHECK_EQ(vmif_rx_burst(if0, 0, vb, 4), 1);
	CHECK_EQ(vb[0].len, 64);
	vmif_if_counters(if0, &c);
	CHECK_EQ(c.rx_bad_region - c0.rx_bad_region, 1);
	CHECK_EQ(c.rx_bad_offset - c0.rx_bad_offset, 2);
	CHECK_EQ(c.rx_bad_len - c0.rx_bad_len, 1);
	CHECK_EQ(c.rx_empty - c0.rx_empty, 1);
	CHECK_EQ(c.rx_too_big - c0.rx_too_big, 1);
	CHECK_EQ(t.c2s->tail, 7);

	/* head racing more than a ring ahead of tail: nothing consumed, counted */
	h = t.c2s->head;
	t.c2s->head = (uint16_t)(h + 17);
	CHECK_EQ(vmif_rx_burst(if0, 0, vb, 4), 0);
	t.c2s->head = (uint16_t)(h - 1); /* behind tail: also a "distance" > ring size */
	CHECK_EQ(vmif_rx_burst(if0, 0, vb, 4), 0);
	vmif_if_counters(if0, &c);
	CHECK_EQ(c.rx_bad_head - c0.rx_bad_head, 2);
	CHECK_EQ(t.c2s->tail, 7);
	t.c2s->head = h;

	/* a chain that never ends: the whole ring flagged NEXT */
	for (int i = 0; i < 16; i++)
		CHECK_EQ(tc_tx(&t, pkt, 64), 0);
	for (int i = 0; i < 16; i++)
		t.c2s->desc[i].flags = VMIF_DESC_FLAG_NEXT;
	CHECK_EQ(vmif_rx_burst(if0, 0, vb, 4), 0);
	vmif_if_counters(if0, &c);
	CHECK_EQ(c.rx_bad_chain - c0.rx_bad_chain, 1);
	CHECK_EQ(t.c2s->tail, t.c2s->head);
	for (int i = 0; i < 16; i++)
		t.c2s->desc[i].flags = 0;

	/* S2C: bad offered buffers are handed back empty; the packet takes the next good one */
	vmif_if_counters(if0, &c0);
	tc_refill(&t);
	{
		uint16_t s = t.s2c_seen;
		struct vmif_buf tx = { .data = pkt, .len = 64 };
		uint8_t out[256];

		t.s2c->desc[s & 15].region = 9;
		t.s2c->desc[(s + 1) & 15].length = 65536;
		t.s2c->desc[(s + 2) & 15].offset = (uint32_t)t.mem_size - 100;
		t.s2c->desc[(s + 3) & 15].length = 0;
		CHECK_EQ(vmif_tx_burst(if0, 0, &tx, 1), 1);
		CHECK_EQ(tc_rx(&t, out, sizeof(out)), 64); /* 4 empty leading parts + 64 bytes */
		CHECK_EQ(out[0], 1);
		vmif_if_counters(if0, &c);
		CHECK_EQ(c.tx_bad_region - c0.tx_bad_region, 1);
		CHECK_EQ(c.tx_bad_len - c0.tx_bad_len, 2);
		CHECK_EQ(c.tx_bad_offset - c0.tx_bad_offset, 1);
		/* head racing ahead on S2C */
		h = t.s2c->head;
		t.s2c->head = (uint16_t)(t.s2c->tail + 40);
		CHECK_EQ(vmif_tx_burst(if0, 0, &tx, 1), 0);
		vmif_if_counters(if0, &c);
		CHECK_EQ(c.tx_bad_head - c0.tx_bad_head, 1);
		t.s2c->head = h;
	}
	tc_fini(&t);
	vmif_server_step(srv);
}

static void t_interrupts(void)
{
	struct tc t;
	uint8_t pkt[64] = { 0 }, buf[2048];
	struct vmif_buf tx = { .data = pkt, .len = 64 }, rx = { .data = buf, .cap = sizeof(buf) };
	struct vmif_if_counters c0, c;
	uint64_t v;
	struct pollfd p;

	CHECK_EQ(tc_init(&t, "vmif-test-irq", 4, 2048), 0);
	CHECK_EQ(honest_connect(&t, 0, NULL), 0);
	vmif_if_counters(if0, &c0);
	/* rx interrupts: C2S not masked; a kick on our fd is consumed by rx_burst */
	CHECK_EQ(t.c2s->flags & VMIF_RING_FLAG_MASK_INT, 0);
	CHECK_EQ(vmif_if_rx_fd(if0, 0) >= 0, 1);
	CHECK_EQ(tc_tx(&t, pkt, 64), 0);
	v = 1;
	CHECK_EQ(write(t.c2s_efd, &v, 8), 8);
	p = (struct pollfd){ .fd = vmif_if_rx_fd(if0, 0), .events = POLLIN };
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK_EQ(vmif_rx_burst(if0, 0, &rx, 1), 1);
	CHECK_EQ(poll(&p, 1, 0), 0);
	/* tx: one eventfd write per burst when the client's S2C is unmasked */
	tc_refill(&t);
	{
		struct vmif_buf many[4] = { tx, tx, tx, tx };

		CHECK_EQ(vmif_tx_burst(if0, 0, many, 4), 4);
	}
	CHECK_EQ(read(t.s2c_efd, &v, 8), 8);
	CHECK_EQ(v, 1);
	/* masked: no write */
	t.s2c->flags = VMIF_RING_FLAG_MASK_INT;
	CHECK_EQ(vmif_tx_burst(if0, 0, &tx, 1), 1);
	CHECK_EQ(read(t.s2c_efd, &v, 8), -1);
	/* a client that fills its eventfd counter and clears O_NONBLOCK cannot block us */
	t.s2c->flags = 0;
	v = 0xfffffffffffffffeull;
	CHECK_EQ(write(t.s2c_efd, &v, 8), 8);
	CHECK_EQ(fcntl(t.s2c_efd, F_SETFL, 0), 0);
	CHECK_EQ(vmif_tx_burst(if0, 0, &tx, 1), 1);
	vmif_if_counters(if0, &c);
	CHECK_EQ(c.tx_kicks - c0.tx_kicks, 1);
	CHECK_EQ(c.tx_kicks_skipped - c0.tx_kicks_skipped, 1);
	CHECK_EQ(c.rx_kick_reads - c0.rx_kick_reads, 1);
	/* and the same for our rx read with O_NONBLOCK cleared on an empty counter */
	CHECK_EQ(fcntl(t.c2s_efd, F_SETFL, 0), 0);
	CHECK_EQ(vmif_rx_burst(if0, 0, &rx, 1), 0);
	tc_fini(&t);
	vmif_server_step(srv);
}

/* Interface 9 with rx_poll: MASK_INT on C2S from connect; the adaptive scheme arms it only around a sleep. */
static void t_rx_poll_and_arm(void)
{
	struct vmif_if *ifp;
	struct tc t;
	uint8_t pkt[64] = { 7 }, buf[2048];
	struct vmif_buf rx = { .data = buf, .cap = sizeof(buf) };
	struct vmif_if_counters c0, c;
	struct pollfd p;

	CHECK_EQ(vmif_if_create(srv, &(struct vmif_if_config){ .id = 9, .rx_poll = 1 }, &ifp), 0);
	CHECK_EQ(vmif_rx_arm(ifp, 0), -ENOTCONN);
	CHECK_EQ(vmif_rx_disarm(ifp, 0), -ENOTCONN);
	CHECK_EQ(tc_init(&t, "vmif-test-rxpoll", 4, 2048), 0);
	CHECK_EQ(honest_connect(&t, 9, NULL), 0);
	CHECK_EQ(vmif_if_connected(ifp), 1);
	vmif_if_counters(ifp, &c0);
	p = (struct pollfd){ .fd = vmif_if_rx_fd(ifp, 0), .events = POLLIN };

	/* polling: every C2S burst of a client that respects MASK_INT writes no eventfd */
	CHECK_EQ(t.c2s->flags & VMIF_RING_FLAG_MASK_INT, VMIF_RING_FLAG_MASK_INT);
	for (int i = 0; i < 40; i++) {
		CHECK_EQ(tc_tx(&t, pkt, 64), 0);
		CHECK_EQ(tc_kick(&t), 0);
		CHECK_EQ(vmif_rx_burst(ifp, 0, &rx, 1), 1);
		CHECK_EQ(rx.len, 64);
	}
	CHECK_EQ(poll(&p, 1, 0), 0);
	CHECK_EQ(t.c2s->flags & VMIF_RING_FLAG_MASK_INT, VMIF_RING_FLAG_MASK_INT);

	/* armed on an empty ring: MASK_INT clear; the client's next burst kicks once */
	CHECK_EQ(vmif_rx_arm(ifp, 0), 1);
	CHECK_EQ(t.c2s->flags & VMIF_RING_FLAG_MASK_INT, 0);
	CHECK_EQ(poll(&p, 1, 0), 0);
	CHECK_EQ(tc_tx(&t, pkt, 64), 0);
	CHECK_EQ(tc_kick(&t), 1);
	CHECK_EQ(poll(&p, 1, 1000), 1);
	CHECK_EQ(vmif_rx_disarm(ifp, 0), 1); /* masked again, the kick consumed */
	CHECK_EQ(t.c2s->flags & VMIF_RING_FLAG_MASK_INT, VMIF_RING_FLAG_MASK_INT);
	CHECK_EQ(poll(&p, 1, 0), 0);
	CHECK_EQ(vmif_rx_burst(ifp, 0, &rx, 1), 1);
	CHECK_EQ(buf[0], 7);

	/* armed while a packet waits (the race): not armed, still masked, nothing to read */
	CHECK_EQ(tc_tx(&t, pkt, 64), 0);
	CHECK_EQ(vmif_rx_arm(ifp, 0), 0);
	CHECK_EQ(t.c2s->flags & VMIF_RING_FLAG_MASK_INT, VMIF_RING_FLAG_MASK_INT);
	CHECK_EQ(tc_kick(&t), 0);
	CHECK_EQ(vmif_rx_burst(ifp, 0, &rx, 1), 1);
	/* a wake-up without a kick (a timeout): disarm reads nothing, never blocks */
	CHECK_EQ(vmif_rx_arm(ifp, 0), 1);
	CHECK_EQ(fcntl(t.c2s_efd, F_SETFL, 0), 0);
	CHECK_EQ(vmif_rx_disarm(ifp, 0), 0);
	CHECK_EQ(vmif_rx_arm(ifp, 1), -EINVAL);

	vmif_if_counters(ifp, &c);
	CHECK_EQ(c.rx_pkts - c0.rx_pkts, 42);
	CHECK_EQ(c.rx_kick_reads - c0.rx_kick_reads, 1);
	CHECK_EQ(c.rx_arms - c0.rx_arms, 2);
	CHECK_EQ(c.rx_arm_races - c0.rx_arm_races, 1);
	tc_fini(&t);
	vmif_server_step(srv);
	CHECK_EQ(vmif_if_connected(ifp), 0);
	vmif_if_destroy(ifp, "test over");
}

/* vmif_rx_peek: single-descriptor packets in place, chains gathered, the tail held until vmif_rx_release. */
static void t_rx_peek(void)
{
	struct tc t;
	uint8_t pkt[64], bounce[4][2048];
	struct vmif_buf vb[4];
	struct vmif_if_counters c0, c;
	uint16_t tail0, slot;

	CHECK_EQ(tc_init(&t, "vmif-test-peek", 4, 2048), 0);
	CHECK_EQ(honest_connect(&t, 0, NULL), 0);
	vmif_if_counters(if0, &c0);
	for (int round = 0; round < 6; round++) { /* 6 x 5 slots: wraps the 16-slot ring */
		tail0 = t.c2s->tail;
		slot = t.c2s->head;
		for (int i = 0; i < 5; i++) {
			memset(pkt, round * 16 + i, sizeof(pkt));
			CHECK_EQ(tc_tx(&t, pkt, 64), 0);
		}
		t.c2s->desc[(slot + 2) & 15].flags = VMIF_DESC_FLAG_NEXT; /* slots 2+3: one 128-byte packet */
		t.c2s->desc[(slot + 4) & 15].region = 9;                  /* slot 4: bad, dropped */
		for (int i = 0; i < 4; i++)
			vb[i] = (struct vmif_buf){ .data = bounce[i], .cap = sizeof(bounce[i]) };
		CHECK_EQ(vmif_rx_peek(if0, 0, vb, 4), 3);
		CHECK_EQ(t.c2s->tail, tail0); /* nothing given back yet */
		CHECK(vb[0].data != bounce[0] && vb[1].data != bounce[1]);
		CHECK_EQ(vb[0].len, 64);
		CHECK_EQ(((uint8_t *)vb[0].data)[63], (uint8_t)(round * 16));
		CHECK_EQ(((uint8_t *)vb[1].data)[0], (uint8_t)(round * 16 + 1));
		CHECK(vb[2].data == bounce[2]); /* the chain was gathered */
		CHECK_EQ(vb[2].len, 128);
		CHECK_EQ(bounce[2][0], (uint8_t)(round * 16 + 2));
		CHECK_EQ(bounce[2][127], (uint8_t)(round * 16 + 3));
		/* in place means in the client's memory: what it writes there shows; what it writes into the
		 * descriptor afterwards does not (the length was copied and checked once) */
		t.mem[t.c2s->desc[slot & 15].offset] = 0xee;
		CHECK_EQ(((uint8_t *)vb[0].data)[0], 0xee);
		t.c2s->desc[slot & 15].length = 60000;
		CHECK_EQ(vb[0].len, 64);
		CHECK_EQ(vmif_rx_release(if0, 0), 0);
		CHECK_EQ(t.c2s->tail, t.c2s->head);
		CHECK_EQ(vmif_rx_release(if0, 0), 0); /* nothing held: no store */
		CHECK_EQ(t.c2s->tail, t.c2s->head);
		for (int i = 0; i < 5; i++)
			t.c2s->desc[(slot + i) & 15] = (struct vmif_desc){ 0 };
	}
	/* an empty packet (dropped) then a chain in the same burst: the chain is gathered into the caller's
	 * buffer, never into the dropped packet's buffer in the client's region */
	slot = t.c2s->head;
	for (int i = 0; i < 3; i++) {
		memset(pkt, 0x30 + i, sizeof(pkt));
		CHECK_EQ(tc_tx(&t, pkt, 64), 0);
	}
	t.c2s->desc[slot & 15].length = 0;
	t.c2s->desc[(slot + 1) & 15].flags = VMIF_DESC_FLAG_NEXT;
	for (int i = 0; i < 4; i++)
		vb[i] = (struct vmif_buf){ .data = bounce[i], .cap = sizeof(bounce[i]) };
	CHECK_EQ(vmif_rx_peek(if0, 0, vb, 4), 1);
	CHECK(vb[0].data == bounce[0]);
	CHECK_EQ(vb[0].len, 128);
	CHECK_EQ(bounce[0][0], 0x31);
	CHECK_EQ(bounce[0][127], 0x32);
	CHECK_EQ(t.mem[t.c2s->desc[slot & 15].offset], 0x30); /* the empty packet's buffer untouched */
	CHECK_EQ(vmif_rx_release(if0, 0), 0);
	for (int i = 0; i < 3; i++)
		t.c2s->desc[(slot + i) & 15] = (struct vmif_desc){ 0 };

	vmif_if_counters(if0, &c);
	CHECK_EQ(c.rx_pkts - c0.rx_pkts, 19);
	CHECK_EQ(c.rx_empty - c0.rx_empty, 1);
	CHECK_EQ(c.rx_bad_region - c0.rx_bad_region, 6);
	CHECK_EQ(vmif_rx_release(if0, 1), -EINVAL);
	tc_fini(&t);
	vmif_server_step(srv);
	CHECK_EQ(vmif_rx_release(if0, 0), -ENOTCONN);
}

static void t_client_disconnect(void)
{
	struct tc t;
	struct vmif_msg m;
	struct vmif_server_counters c0, c;
	int calls0 = state_calls[0];

	vmif_server_counters(srv, &c0);
	CHECK_EQ(tc_init(&t, "vmif-test-bye", 4, 2048), 0);
	CHECK_EQ(honest_connect(&t, 7, "s3cret"), 0);
	CHECK_EQ(vmif_if_connected(if_secret), 1);
	CHECK_EQ(tc_maps_count("vmif-test-bye"), 2);
	tc_msg(&m, VMIF_MSG_DISCONNECT);
	strcpy((char *)m.disconnect.reason, "bye");
	CHECK_EQ(tc_send_raw(t.sock, &m, sizeof(m), NULL, 0), (int)sizeof(m));
	vmif_server_step(srv);
	CHECK_EQ(vmif_if_connected(if_secret), 0);
	CHECK_EQ(state_calls[0] - calls0, 1);
	CHECK_EQ(tc_maps_count("vmif-test-bye"), 1);
	vmif_server_counters(srv, &c);
	CHECK_EQ(c.client_disconnects - c0.client_disconnects, 1);
	tc_fini(&t);
}

static void t_handshake_timeout(void)
{
	uint64_t before = refused(VMIF_REFUSE_TIMEOUT);
	struct vmif_msg m;
	struct tc t;
	int s;

	CHECK_EQ(tc_init(&t, "vmif-test-timeout", 4, 2048), 0);
	CHECK_EQ(honest_connect(&t, 0, NULL), 0);
	CHECK_EQ(vmif_server_poll_timeout_ms(srv), -1); /* connected: no deadline */
	s = dial_hello();                                /* a client that stalls after HELLO */
	CHECK_EQ(vmif_server_poll_timeout_ms(srv), 5000);
	fake_ms += 4999;
	vmif_server_step(srv);
	CHECK_EQ(tc_recv(s, &m), -EAGAIN);
	CHECK_EQ(vmif_server_poll_timeout_ms(srv), 1);
	fake_ms += 1;
	expect_refusal(s, VMIF_REFUSE_TIMEOUT, before, "handshake not completed within 5000 ms");
	CHECK_EQ(vmif_server_poll_timeout_ms(srv), -1);
	fake_ms += 100000;
	vmif_server_step(srv);
	CHECK_EQ(vmif_if_connected(if0), 1); /* the connected client is never expired */
	tc_fini(&t);
	vmif_server_step(srv);
}

static void t_honest_after_all(void)
{
	struct tc t;
	uint8_t buf[2048], out[2048];
	struct vmif_buf vb = { .data = buf, .cap = sizeof(buf) };
	struct vmif_server_counters c;

	CHECK_EQ(tc_init(&t, "vmif-test-final", 6, 2048), 0);
	CHECK_EQ(honest_connect(&t, 0, NULL), 0);
	tc_refill(&t);
	for (int i = 0; i < 200; i++) {
		memset(out, i, 128);
		CHECK_EQ(tc_tx(&t, out, 128), 0);
		CHECK_EQ(vmif_rx_burst(if0, 0, &vb, 1), 1);
		CHECK_EQ(vmif_tx_burst(if0, 0, &vb, 1), 1);
		CHECK_EQ(tc_rx(&t, out, sizeof(out)), 128);
		CHECK_EQ(out[127], (uint8_t)i);
		tc_refill(&t);
	}
	vmif_server_counters(srv, &c);
	printf("# server counters: accepted %llu connected %llu msgs rx %llu tx %llu fds closed %llu\n",
	       (unsigned long long)c.accepted, (unsigned long long)c.connected, (unsigned long long)c.msgs_rx,
	       (unsigned long long)c.msgs_tx, (unsigned long long)c.fds_closed);
	for (int r = 0; r < VMIF_REFUSE__COUNT; r++)
		printf("#   refused %-16s %llu\n", vmif_refusal_name((enum vmif_refusal)r),
		       (unsigned long long)c.refused[r]);
	for (int r = 0; r < VMIF_REFUSE__COUNT; r++)
		if (r != VMIF_REFUSE_SEND && r != VMIF_REFUSE_NOMEM) /* not provokable from a client */
			CHECK(c.refused[r] > 0); /* every reason was exercised */
	tc_fini(&t);
	vmif_server_step(srv);
}

static void t_adopt(void)
{
	struct vmif_server_config cfg = { .max_regions = 2, .max_queue_pairs = 2 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vmif_server *adopted, *bad, *saved_srv = srv;
	struct vmif_if *ifp;
	char saved_path[128];
	struct tc t;
	int lfd, dgram, idle, pipefd[2];

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/adopted.sock", dir);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	idle = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	dgram = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(lfd >= 0 && idle >= 0 && dgram >= 0 && pipe(pipefd) == 0);
	CHECK_EQ(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(listen(lfd, 4), 0);
	/* only a listening AF_UNIX SOCK_SEQPACKET socket is taken; refused fds stay open */
	CHECK_EQ(vmif_server_adopt(&bad, dgram, &cfg), -EINVAL);
	CHECK_EQ(vmif_server_adopt(&bad, idle, &cfg), -EINVAL);
	CHECK_EQ(vmif_server_adopt(&bad, pipefd[0], &cfg), -ENOTSOCK);
	CHECK_EQ(vmif_server_adopt(&bad, -1, &cfg), -EBADF);
	CHECK_EQ(fcntl(dgram, F_GETFD) >= 0 && fcntl(idle, F_GETFD) >= 0, 1);
	close(dgram), close(idle), close(pipefd[0]), close(pipefd[1]);
	CHECK_EQ(vmif_server_adopt(&adopted, lfd, &cfg), 0);
	CHECK(fcntl(lfd, F_GETFL) & O_NONBLOCK);
	CHECK_EQ(vmif_if_create(adopted, &(struct vmif_if_config){ .id = 3 }, &ifp), 0);
	/* an honest client completes the handshake over the adopted socket */
	strcpy(saved_path, sock_path);
	strcpy(sock_path, sa.sun_path);
	srv = adopted;
	CHECK_EQ(tc_init(&t, "vmif-test-adopt", 4, 2048), 0);
	CHECK_EQ(honest_connect(&t, 3, NULL), 0);
	CHECK_EQ(vmif_if_connected(ifp), 1);
	tc_fini(&t);
	vmif_server_step(adopted);
	CHECK_EQ(vmif_if_connected(ifp), 0);
	srv = saved_srv;
	strcpy(sock_path, saved_path);
	/* closing closes the adopted fd but leaves the file to whoever made it */
	vmif_server_close(adopted);
	CHECK_EQ(fcntl(lfd, F_GETFD), -1);
	CHECK_EQ(access(sa.sun_path, F_OK), 0);
	CHECK_EQ(unlink(sa.sun_path), 0);
}

static void t_teardown_leaks_nothing(void)
{
	vmif_server_close(srv);
	CHECK_EQ(access(sock_path, F_OK), -1);
	CHECK_EQ(rmdir(dir), 0);
	CHECK_EQ(tap_open_fds(), base_fds);
	CHECK_EQ(tc_maps_count("vmif-test"), base_maps);
}

int main(void)
{
	tap_run("server socket is 0600, a live socket is not stolen, an open directory is refused", t_setup);
	tap_run("refuses short, oversized, unknown-type and type-0 messages", t_bad_messages);
	tap_run("refuses messages in the wrong order (before INIT, second INIT, server-only types)", t_wrong_order);
	tap_run("refuses INIT with a bad version, unknown id, non-ethernet mode or wrong secret", t_bad_init);
	tap_run("refuses missing and extra fds and closes every fd it got", t_fds);
	tap_run("refuses bad regions: index, size, short file, non-memfd, unsealed (never mapped)", t_bad_regions);
	tap_run("refuses bad rings: non-eventfd, index, region, placement, size, flags, twice, missing, cookie",
		t_bad_rings);
	tap_run("refuses connections past max_channels", t_too_many_channels);
	tap_run("maps a sealed region, refuses a busy interface, unmaps on teardown", t_sealed_mapped_then_unmapped);
	tap_run("moves packets both ways, chains big packets, reports a full ring", t_packets_both_ways);
	tap_run("drops and counts bad descriptors, racing heads and endless chains", t_bad_descriptors);
	tap_run("interrupts: consumes rx kicks, one tx kick per burst, never blocks on a hostile eventfd",
		t_interrupts);
	tap_run("rx_poll: MASK_INT on C2S, no client kick; vmif_rx_arm/disarm: one kick wakes a sleeper, a race is caught",
		t_rx_poll_and_arm);
	tap_run("rx_peek: one-descriptor packets in place, chains gathered, bad ones dropped, tail held until rx_release",
		t_rx_peek);
	tap_run("a client's DISCONNECT unmaps and reports the interface down", t_client_disconnect);
	tap_run("refuses a handshake that stalls past its deadline (injected clock), never a connected one",
		t_handshake_timeout);
	tap_run("after all that, an honest client still works", t_honest_after_all);
	tap_run("adopts a listening SOCK_SEQPACKET fd (refuses others), serves it, never unlinks its file", t_adopt);
	tap_run("closing the server leaks no fd, mapping or socket file", t_teardown_leaks_nothing);
	return tap_done();
}
