// SPDX-License-Identifier: MIT
//
// test-wire.c - the backend list and every backend's descriptor check, and
// the memif backend's two RX modes against an in-process memif client (the
// test client of @vpio/memif, compiled in below: this Makefile's test-wire
// rule builds one file plus WIRE_SRCS).

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vpio/tap.h"
#include "wire.h"

#include "../../../memif/test/c/memif_client.c"

static void t_find(void)
{
	CHECK(wire_backend_find("packet") == &wire_packet_backend);
	CHECK(wire_backend_find("vxlan") == &wire_vxlan_backend);
	CHECK(wire_backend_find("tap") == NULL);
	CHECK(wire_backend_find("") == NULL);
	CHECK(strstr(wire_backend_kinds(), "packet") != NULL);
	CHECK(strstr(wire_backend_kinds(), "vxlan") != NULL);
	for (const struct wire_backend *const *b = wire_backends; *b; b++) {
		CHECK((*b)->option && (*b)->check_opts && (*b)->check_fd && (*b)->open && (*b)->free_opts);
		CHECK((*b)->usage != NULL && (*b)->launch_kind != NULL);
	}
}

static void t_check_fd(void)
{
	char err[WIRE_ERR_LEN];
	int udp = socket(AF_INET, SOCK_DGRAM, 0), udp6 = socket(AF_INET6, SOCK_DGRAM, 0);
	int tcp = socket(AF_INET, SOCK_STREAM, 0), sp[2], file = open("/dev/null", O_RDONLY);

	CHECK(udp >= 0 && tcp >= 0 && file >= 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sp), 0);
	CHECK_EQ(wire_vxlan_backend.check_fd(udp, err), 0);
	if (udp6 >= 0)
		CHECK_EQ(wire_vxlan_backend.check_fd(udp6, err), 0);
	CHECK(wire_vxlan_backend.check_fd(tcp, err) < 0);
	CHECK(strstr(err, "AF_INET SOCK_STREAM") != NULL);
	CHECK(wire_packet_backend.check_fd(udp, err) < 0);
	CHECK(strstr(err, "AF_PACKET") != NULL && strstr(err, "AF_INET SOCK_DGRAM") != NULL);
	CHECK(wire_packet_backend.check_fd(sp[0], err) < 0);
	CHECK(strstr(err, "AF_UNIX") != NULL);
	CHECK_EQ(wire_packet_backend.check_fd(file, err), -ENOTSOCK);
	CHECK(strstr(err, "not a socket") != NULL);
	CHECK_EQ(wire_vxlan_backend.check_fd(1000, err), -EBADF);
	close(udp), close(tcp), close(sp[0]), close(sp[1]), close(file);
	if (udp6 >= 0)
		close(udp6);
}

/* ------------------------------------------------------------------------ */
/* memif: --rx-mode poll and interrupt                                       */

static char memif_dir[64], memif_path[96];

static uint64_t counter(struct wire *w, const char *name)
{
	struct wire_counter c[WIRE_COUNTERS_MAX];
	uint32_t n = w->ops->counters(w, c, WIRE_COUNTERS_MAX);

	for (uint32_t i = 0; i < n; i++)
		if (!strcmp(c[i].name, name))
			return c[i].value;
	printf("# no counter %s\n", name);
	return UINT64_MAX;
}

/* The wire on a listening socket at memif_path, as vpio-launch --wire-memif makes it; NULL on failure. */
static struct wire *open_memif(const char *rx_mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct wire_opts o = { .fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), .name = "test", .frame_max = 2048 };
	char err[WIRE_ERR_LEN];
	struct wire *w = NULL;

	snprintf(memif_dir, sizeof(memif_dir), "/tmp/vpio-test-wire.XXXXXX");
	if (!mkdtemp(memif_dir) || o.fd < 0)
		return NULL;
	snprintf(memif_path, sizeof(memif_path), "%s/memif.sock", memif_dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", memif_path);
	if (bind(o.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(o.fd, 4) < 0)
		return NULL;
	if (rx_mode && wire_memif_backend.option(&o, "--rx-mode", rx_mode, err) != 2) {
		printf("# %s\n", err);
		return NULL;
	}
	if (wire_memif_backend.check_fd(o.fd, err) < 0 || wire_memif_backend.open(&o, &w, err) < 0) {
		printf("# %s\n", err);
		w = NULL;
	}
	wire_memif_backend.free_opts(&o);
	return w;
}

static void close_memif(struct wire *w)
{
	w->ops->close(w);
	unlink(memif_path);
	rmdir(memif_dir);
}

/* One client message, then a pump round (rx_burst serves the control channel), then its reply's type. */
static int memif_exchange(struct wire *w, int s, const struct vmif_msg *m, const int *fds, int nfds)
{
	struct wire_frame f[1];
	struct vmif_msg r;

	if (m && tc_send_raw(s, m, sizeof(*m), fds, nfds) != (int)sizeof(*m))
		return -1;
	(void)w->ops->rx_burst(w, f, 1);
	return tc_recv(s, &r) == VMIF_MSG_SIZE ? r.type : -1;
}

/* The honest client's handshake through the wire; 0 when CONNECTED came back. */
static int memif_connect(struct wire *w, struct tc *t)
{
	struct vmif_msg m;

	if ((t->sock = tc_dial(memif_path)) < 0 || memif_exchange(w, t->sock, NULL, NULL, 0) != VMIF_MSG_HELLO)
		return -1;
	tc_msg_init(&m, 0, NULL);
	if (memif_exchange(w, t->sock, &m, NULL, 0) != VMIF_MSG_ACK)
		return -1;
	tc_msg_add_region(t, &m);
	if (memif_exchange(w, t->sock, &m, &t->region_fd, 1) != VMIF_MSG_ACK)
		return -1;
	tc_msg_add_ring(t, &m, 1);
	if (memif_exchange(w, t->sock, &m, &t->c2s_efd, 1) != VMIF_MSG_ACK)
		return -1;
	tc_msg_add_ring(t, &m, 0);
	if (memif_exchange(w, t->sock, &m, &t->s2c_efd, 1) != VMIF_MSG_ACK)
		return -1;
	tc_msg(&m, VMIF_MSG_CONNECT);
	memcpy(m.connect.if_name, "tc0", 3);
	return memif_exchange(w, t->sock, &m, NULL, 0) == VMIF_MSG_CONNECTED ? 0 : -1;
}

static int readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static void frame(uint8_t *f, uint8_t tag)
{
	memset(f, 0, 64);
	memset(f, 0xff, 6);
	f[12] = 0x88, f[13] = 0xb5, f[14] = tag;
}

/* The S2C side is the same in both modes: one eventfd write per burst while the client's MASK_INT is clear. */
static void check_tx_kicks(struct wire *w, struct tc *t)
{
	struct wire_frame f[4];
	uint32_t lens[4] = { 64, 64, 64, 64 };
	uint64_t k0 = counter(w, "tx_kicks"), v = 0;
	uint8_t out[2048];

	tc_refill(t);
	CHECK_EQ(w->ops->tx_reserve(w, f, 4), 4);
	for (int i = 0; i < 4; i++)
		frame(f[i].data, (uint8_t)(0x40 + i));
	CHECK_EQ(w->ops->tx_commit(w, lens, 4), 4);
	CHECK_EQ(read(t->s2c_efd, &v, 8), 8);
	CHECK_EQ(v, 1); /* one interrupt for the burst of 4 */
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(tc_rx(t, out, sizeof(out)), 64);
		CHECK_EQ(out[14], 0x40 + i);
	}
	t->s2c->flags = VMIF_RING_FLAG_MASK_INT; /* a polling client: none */
	tc_refill(t);
	CHECK_EQ(w->ops->tx_reserve(w, f, 1), 1);
	frame(f[0].data, 0x50);
	CHECK_EQ(w->ops->tx_commit(w, lens, 1), 1);
	CHECK_EQ(readable(t->s2c_efd, 0), 0);
	CHECK_EQ(tc_rx(t, out, sizeof(out)), 64);
	CHECK_EQ(counter(w, "tx_kicks") - k0, 1);
}

static void t_memif_poll(void)
{
	struct wire *w = open_memif(NULL); /* the default */
	struct wire_frame f[WIRE_BURST_MAX];
	uint8_t pkt[64];
	struct tc t;
	int timeout = -1;

	CHECK(w != NULL);
	if (!w)
		return;
	CHECK(w->ops->rx_arm && w->ops->rx_disarm);
	/* no client: the pump may sleep on poll_fd() alone */
	CHECK_EQ(w->ops->rx_arm(w, &timeout), 1);
	CHECK_EQ(timeout, -1);
	w->ops->rx_disarm(w);
	CHECK_EQ(tc_init(&t, "vpio-test-wire-poll", 6, 2048), 0);
	CHECK_EQ(memif_connect(w, &t), 0);
	CHECK_EQ(counter(w, "connected"), 1);
	CHECK_EQ(counter(w, "rx_interrupt_mode"), 0);
	/* MASK_INT on C2S from connect, and it stays: the pump is told to poll (timeout 0) */
	CHECK_EQ(t.c2s->flags & VMIF_RING_FLAG_MASK_INT, VMIF_RING_FLAG_MASK_INT);
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 3; i++) {
			frame(pkt, (uint8_t)(round * 3 + i));
			CHECK_EQ(tc_tx(&t, pkt, 64), 0);
		}
		CHECK_EQ(tc_kick(&t), 0); /* masked: the client writes no eventfd */
		CHECK_EQ(w->ops->rx_burst(w, f, WIRE_BURST_MAX), 3);
		CHECK_EQ(f[0].len, 64);
		CHECK_EQ(f[2].data[14], (uint8_t)(round * 3 + 2));
		/* in place (the client's buffer: its write shows), the slots held until rx_release */
		CHECK_EQ(t.c2s->tail, (uint16_t)(t.c2s->head - 3));
		t.mem[t.c2s->desc[(uint16_t)(t.c2s->head - 1) & (t.ring_size - 1)].offset + 15] = 0x77;
		CHECK_EQ(f[2].data[15], 0x77);
		w->ops->rx_release(w);
		CHECK_EQ(t.c2s->tail, t.c2s->head);
		CHECK_EQ(w->ops->rx_burst(w, f, WIRE_BURST_MAX), 0); /* idle round */
		timeout = -1;
		CHECK_EQ(w->ops->rx_arm(w, &timeout), 1);
		CHECK_EQ(timeout, 0);
		CHECK_EQ(t.c2s->flags & VMIF_RING_FLAG_MASK_INT, VMIF_RING_FLAG_MASK_INT);
		w->ops->rx_disarm(w);
	}
	CHECK_EQ(readable(t.c2s_efd, 0), 0);
	CHECK_EQ(counter(w, "memif_rx_pkts"), 150);
	CHECK_EQ(counter(w, "rx_kick_reads"), 0);
	CHECK_EQ(counter(w, "rx_arms"), 0);
	check_tx_kicks(w, &t);
	tc_fini(&t);
	/* spinning, the control channel is served every 256th idle round: the hangup is seen within that */
	for (int i = 0; i < 256 && counter(w, "connected"); i++)
		CHECK_EQ(w->ops->rx_burst(w, f, 1), 0);
	CHECK_EQ(counter(w, "connected"), 0);
	close_memif(w);
}

static void t_memif_interrupt(void)
{
	struct wire *w = open_memif("interrupt");
	struct wire_frame f[WIRE_BURST_MAX];
	uint8_t pkt[64];
	struct tc t;
	int timeout, status = -1;
	pid_t child;

	CHECK(w != NULL);
	if (!w)
		return;
	CHECK_EQ(tc_init(&t, "vpio-test-wire-irq", 6, 2048), 0);
	CHECK_EQ(memif_connect(w, &t), 0);
	CHECK_EQ(counter(w, "rx_interrupt_mode"), 1);
	/* busy: MASK_INT set, the client does not kick */
	CHECK_EQ(t.c2s->flags & VMIF_RING_FLAG_MASK_INT, VMIF_RING_FLAG_MASK_INT);
	frame(pkt, 1);
	CHECK_EQ(tc_tx(&t, pkt, 64), 0);
	CHECK_EQ(tc_kick(&t), 0);
	CHECK_EQ(w->ops->rx_burst(w, f, WIRE_BURST_MAX), 1);
	w->ops->rx_release(w);
	CHECK_EQ(w->ops->rx_burst(w, f, WIRE_BURST_MAX), 0);

	/* idle: armed (MASK_INT clear, a bounded sleep); a client in another process sends one packet
	 * 50 ms later and kicks; the sleeper wakes on poll_fd() long before its bound would matter */
	timeout = -1;
	CHECK_EQ(w->ops->rx_arm(w, &timeout), 1);
	CHECK(timeout > 0 && timeout <= 10);
	CHECK_EQ(t.c2s->flags & VMIF_RING_FLAG_MASK_INT, 0);
	CHECK_EQ(readable(w->ops->poll_fd(w), 0), 0);
	child = fork();
	if (child == 0) {
		struct timespec ts = { 0, 50 * 1000000L };

		nanosleep(&ts, NULL);
		frame(pkt, 2);
		_exit(tc_tx(&t, pkt, 64) == 0 && tc_kick(&t) == 1 ? 0 : 1);
	}
	CHECK(child > 0);
	CHECK_EQ(readable(w->ops->poll_fd(w), 5000), 1); /* woken by the client's eventfd write */
	w->ops->rx_disarm(w);
	CHECK_EQ(waitpid(child, &status, 0), child);
	CHECK_EQ(status, 0);
	CHECK_EQ(t.c2s->flags & VMIF_RING_FLAG_MASK_INT, VMIF_RING_FLAG_MASK_INT);
	CHECK_EQ(readable(w->ops->poll_fd(w), 0), 0); /* the kick was consumed */
	CHECK_EQ(w->ops->rx_burst(w, f, WIRE_BURST_MAX), 1);
	CHECK_EQ(f[0].data[14], 2);
	w->ops->rx_release(w);
	CHECK_EQ(counter(w, "rx_kick_reads"), 1);
	CHECK_EQ(counter(w, "rx_arms"), 1);

	/* the race: a packet published before the arm's re-check: no sleep, MASK_INT set again */
	frame(pkt, 3);
	CHECK_EQ(tc_tx(&t, pkt, 64), 0);
	timeout = -1;
	CHECK_EQ(w->ops->rx_arm(w, &timeout), 0);
	CHECK_EQ(t.c2s->flags & VMIF_RING_FLAG_MASK_INT, VMIF_RING_FLAG_MASK_INT);
	CHECK_EQ(w->ops->rx_burst(w, f, WIRE_BURST_MAX), 1);
	CHECK_EQ(f[0].data[14], 3);
	w->ops->rx_release(w);
	CHECK_EQ(counter(w, "rx_arm_races"), 1);
	/* a sleep that ends without a kick (the bound, or the vif): nothing read, MASK_INT set */
	CHECK_EQ(w->ops->rx_burst(w, f, WIRE_BURST_MAX), 0);
	CHECK_EQ(w->ops->rx_arm(w, &timeout), 1);
	CHECK_EQ(readable(w->ops->poll_fd(w), timeout), 0);
	w->ops->rx_disarm(w);
	CHECK_EQ(t.c2s->flags & VMIF_RING_FLAG_MASK_INT, VMIF_RING_FLAG_MASK_INT);
	CHECK_EQ(counter(w, "rx_kick_reads"), 1);
	CHECK_EQ(counter(w, "memif_rx_pkts"), 3);
	check_tx_kicks(w, &t);
	tc_fini(&t);
	CHECK_EQ(w->ops->rx_burst(w, f, 1), 0);
	CHECK_EQ(counter(w, "connected"), 0);
	close_memif(w);
}

static void t_memif_rx_mode_option(void)
{
	struct wire_opts o = { .fd = -1 };
	char err[WIRE_ERR_LEN];

	CHECK_EQ(wire_memif_backend.option(&o, "--rx-mode", "poll", err), 2);
	CHECK_EQ(wire_memif_backend.option(&o, "--rx-mode", "interrupt", err), 2);
	CHECK_EQ(wire_memif_backend.option(&o, "--rx-mode", "adaptive", err), -1);
	CHECK(strstr(err, "--rx-mode expects poll or interrupt, got \"adaptive\"") != NULL);
	CHECK_EQ(wire_memif_backend.option(&o, "--rx-mode", NULL, err), -1);
	CHECK(strstr(wire_memif_backend.usage, "--rx-mode poll|interrupt") != NULL);
	wire_memif_backend.free_opts(&o);
}

int main(void)
{
	tap_run("every backend is listed by its --wire KIND with every hook", t_find);
	tap_run("check_fd names what a descriptor is when it is not the wire's kind", t_check_fd);
	tap_run("memif --rx-mode takes poll or interrupt, nothing else", t_memif_rx_mode_option);
	tap_run("memif rx poll (default): MASK_INT stays set, the client never kicks, the pump is told to spin; "
		"frames in place until rx_release; one tx interrupt per burst", t_memif_poll);
	tap_run("memif rx interrupt: masked while busy; armed when idle, a client's eventfd write wakes the "
		"sleeper and its packet gets through; a race is caught; counters move", t_memif_interrupt);
	return tap_done();
}
