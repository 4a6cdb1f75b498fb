/* SPDX-License-Identifier: MIT */
/*
 * test-wire-xdp: the AF_XDP wire (csrc/wire_xdp*.c) on one end of a veth
 * pair in the process's own network namespace, the other end driven by
 * plain AF_PACKET sockets. Needs root (CAP_NET_ADMIN, CAP_BPF, CAP_NET_RAW);
 * the vitest file skips it otherwise. ASan + UBSan.
 *
 *   xa (the wire: our XDP program + an AF_XDP socket on queue 0)  <-veth->  xb (the peer: AF_PACKET)
 *
 * Checks: the probe's verdict; frames injected on xb arrive in batches
 * with their exact bytes, in order; frames the wire sends leave xb intact;
 * sendto() kicks are counted and far fewer than frames; a frame longer
 * than the vif takes, and one longer than a UMEM frame, are dropped and
 * counted (by us, by the kernel) while the wire keeps working; generic
 * (SKB) mode works too; a zero-copy demand on veth fails and leaves
 * nothing attached; close detaches the program and frees every descriptor
 * (LeakSanitizer checks the memory at exit).
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <sys/socket.h>
#include <unistd.h>
#include "vpio/tap.h"
#include "wire_xdp.h"
#include "vpio/xsk_handoff.h"
#include "xdp_netns.h"

#define A "xa"
#define B "xb"
#define FRAME_MAX 1514u
#define N_RX 1000u
#define N_TX 1000u

static int fds_before;

static uint64_t counter(const struct wire *w, const char *name)
{
	struct wire_counter c[WIRE_COUNTERS_MAX];
	uint32_t n = w->ops->counters(w, c, WIRE_COUNTERS_MAX);

	for (uint32_t i = 0; i < n; i++)
		if (strcmp(c[i].name, name) == 0)
			return c[i].value;
	printf("# no counter %s\n", name);
	return UINT64_MAX;
}

/* Opens the wire on A with the given options ("--xdp-attach", "generic", ...; NULL-terminated). */
static struct wire *open_wire(const char *const *args, int *rc_out, char err[WIRE_ERR_LEN])
{
	struct wire_opts o = { .fd = -1, .name = A, .frame_max = FRAME_MAX };
	struct wire *w = NULL;
	int rc = 0;

	for (; args && args[0]; args += 2) {
		rc = wire_xdp_backend.option(&o, args[0], args[1], err);
		if (rc != 2) {
			printf("# option %s %s: %d %s\n", args[0], args[1], rc, err);
			rc = -EINVAL;
			goto out;
		}
	}
	rc = wire_xdp_backend.check_opts(&o, err);
	if (rc == 0)
		rc = wire_xdp_backend.open(&o, &w, err);
out:
	wire_xdp_backend.free_opts(&o);
	*rc_out = rc;
	return rc == 0 ? w : NULL;
}

/* Receives on the wire until `want` test frames came or 3 s passed; checks each against its seq. */
static uint32_t wire_receive(struct wire *w, uint32_t first_seq, uint32_t want, const uint32_t *lens,
			     uint32_t *bad, uint32_t *bursts)
{
	struct wire_frame f[WIRE_BURST_MAX];
	uint32_t got = 0;
	double end = xnt_now() + 3.0;

	*bad = 0;
	*bursts = 0;
	while (got < want && xnt_now() < end) {
		int n = w->ops->rx_burst(w, f, WIRE_BURST_MAX);
		if (n < 0) {
			printf("# rx_burst: %s\n", strerror(-n));
			break;
		}
		if (n == 0) {
			struct pollfd p = { .fd = w->ops->poll_fd(w), .events = POLLIN };
			poll(&p, 1, 50);
			continue;
		}
		(*bursts)++;
		for (int i = 0; i < n; i++) {
			uint32_t seq = xnt_frame_seq(f[i].data, f[i].len);
			if (seq == UINT32_MAX)
				continue; /* not a test frame */
			uint32_t k = seq - first_seq;
			if (seq != first_seq + got || k >= want || f[i].len != lens[k] ||
			    !xnt_frame_ok(f[i].data, f[i].len, seq)) {
				if (*bad < 3)
					printf("# frame %u: seq %u len %u (expected seq %u len %u)\n", got, seq, f[i].len,
					       first_seq + got, k < want ? lens[k] : 0);
				(*bad)++;
			}
			got++;
		}
		w->ops->rx_release(w);
	}
	return got;
}

/* Sends frame i of lens[] from the peer socket. */
static int peer_send(int fd, uint32_t seq, uint32_t len)
{
	uint8_t buf[4096];

	xnt_frame(buf, len, seq);
	for (int tries = 0; tries < 1000; tries++) {
		if (send(fd, buf, len, 0) == (ssize_t)len)
			return 0;
		if (errno != EAGAIN && errno != ENOBUFS) {
			printf("# peer send %u bytes: %s\n", len, strerror(errno));
			return -1;
		}
		usleep(100);
	}
	return -1;
}

/* ------------------------------------------------------------------ cases */

static struct wire *w;
static int peer = -1;
/* the wire was handed over (vpio_xsk_setup + adopt, as vpio-launch --wire-xdp does): no XDP stats map in reach */
static int adopted;
static struct vpio_xsk handed;

static void t_probe(void)
{
	struct wire_xdp_probe p;
	char json[1024];

	CHECK_EQ(wire_xdp_probe(A, &p), 0);
	wire_xdp_probe_json(&p, json, sizeof(json));
	printf("# probe: %s\n", json);
	CHECK(p.packet);
	CHECK(p.possible);
	CHECK_STR(p.driver, "veth");
	CHECK_STR(p.mode, "copy"); /* veth has no AF_XDP zero-copy */
	CHECK_STR(p.attach, "native");
	CHECK(strstr(json, "\"xdp\":{\"possible\":true") != NULL);
	CHECK_EQ(wire_xdp_probe("vpio-none0", &p), 0);
	CHECK(!p.possible);
	CHECK(strstr(p.why, "no interface") != NULL);
}

static void t_open(void)
{
	char err[WIRE_ERR_LEN] = "", line[1024];
	struct wire_xdp_info info;
	int rc;

	fds_before = tap_open_fds();
	w = open_wire(NULL, &rc, err);
	if (!w)
		printf("# open: %d %s\n", rc, err);
	CHECK(w != NULL);
	if (!w)
		return;
	CHECK_EQ(wire_xdp_info(w, &info), 0);
	printf("# bound %s, attached %s, queue %u, frame %u (rx frames up to %u bytes)\n", info.bind, info.attach,
	       info.queue, info.frame_size, info.rx_frame_max);
	CHECK_STR(info.attach, "native");
	CHECK_STR(info.bind, "copy");
	CHECK_EQ(info.frame_size, 2048);
	CHECK_EQ(xnt_link_has_xdp(A, line, sizeof(line)), 1);
	printf("# %s\n", line);
	peer = xnt_packet_socket(B);
	CHECK(peer >= 0);
}

static void t_rx(void)
{
	static uint32_t lens[N_RX];
	uint32_t bad, bursts;

	CHECK(w && peer >= 0);
	if (!w || peer < 0)
		return;
	uint64_t redirected0 = adopted ? 0 : counter(w, "xdp_redirected");
	/* all first, so they wait in the rx ring and come out in bursts */
	for (uint32_t i = 0; i < N_RX; i++) {
		lens[i] = i % 7 == 0 ? FRAME_MAX : 60 + (i * 37) % 1000;
		if (peer_send(peer, 1000 + i, lens[i]))
			break;
	}
	uint32_t got = wire_receive(w, 1000, N_RX, lens, &bad, &bursts);
	printf("# received %u of %u in %u bursts (%.1f frames/burst), %u bad\n", got, N_RX, bursts,
	       bursts ? (double)got / bursts : 0.0, bad);
	CHECK_EQ(got, N_RX);
	CHECK_EQ(bad, 0);
	CHECK(bursts * 4 <= got); /* batches, not one frame per call */
	CHECK_EQ(w->st.rx_frames >= N_RX, 1);
	CHECK_EQ(w->st.rx_drops, 0);
	if (!adopted)
		CHECK(counter(w, "xdp_redirected") - redirected0 >= N_RX);
}

static void t_tx(void)
{
	struct wire_frame f[WIRE_BURST_MAX];
	uint32_t lens[WIRE_BURST_MAX];
	uint32_t sent = 0, got = 0, bad = 0;
	uint8_t buf[4096];

	CHECK(w && peer >= 0);
	if (!w || peer < 0)
		return;
	uint64_t kicks0 = counter(w, "tx_kicks");
	double end = xnt_now() + 3.0;
	while (sent < N_TX && xnt_now() < end) {
		uint32_t want = N_TX - sent < WIRE_BURST_MAX ? N_TX - sent : WIRE_BURST_MAX;
		uint32_t k = w->ops->tx_reserve(w, f, want);
		for (uint32_t i = 0; i < k; i++) {
			lens[i] = 60 + ((sent + i) * 53) % (FRAME_MAX - 59);
			CHECK(f[i].len >= FRAME_MAX);
			xnt_frame(f[i].data, lens[i], 5000 + sent + i);
		}
		int rc = w->ops->tx_commit(w, lens, k);
		if (rc < 0) {
			printf("# tx_commit: %s\n", strerror(-rc));
			break;
		}
		sent += (uint32_t)rc;
		/* drain the peer as we go so its socket never overflows */
		ssize_t n;
		while ((n = recv(peer, buf, sizeof(buf), 0)) > 0) {
			uint32_t seq = xnt_frame_seq(buf, (uint32_t)n);
			uint32_t len = 60 + ((seq - 5000) * 53) % (FRAME_MAX - 59);
			if (seq != 5000 + got || (uint32_t)n != len || !xnt_frame_ok(buf, (uint32_t)n, seq)) {
				if (bad < 3)
					printf("# peer got seq %u len %zd, expected seq %u\n", seq, n, 5000 + got);
				bad++;
			}
			got++;
		}
		if (k < want) {
			struct pollfd p = { .fd = w->ops->poll_fd(w), .events = POLLOUT };
			poll(&p, 1, 10);
		}
	}
	while (got < sent && xnt_now() < end) {
		ssize_t n = recv(peer, buf, sizeof(buf), 0);
		if (n <= 0) {
			usleep(1000);
			continue;
		}
		uint32_t seq = xnt_frame_seq(buf, (uint32_t)n);
		uint32_t len = 60 + ((seq - 5000) * 53) % (FRAME_MAX - 59);
		if (seq != 5000 + got || (uint32_t)n != len || !xnt_frame_ok(buf, (uint32_t)n, seq))
			bad++;
		got++;
	}
	uint64_t kicks = counter(w, "tx_kicks") - kicks0;
	printf("# sent %u, peer received %u (%u bad), %llu sendto kicks (%llu EAGAIN retries), %llu tx_ring_full\n", sent,
	       got, bad, (unsigned long long)kicks, (unsigned long long)counter(w, "tx_kick_retries"),
	       (unsigned long long)w->st.tx_ring_full);
	CHECK_EQ(sent, N_TX);
	CHECK_EQ(got, N_TX);
	CHECK_EQ(bad, 0);
	CHECK(kicks > 0);
	CHECK(kicks * 8 <= N_TX); /* one kick per burst, not per frame */
	CHECK_EQ(w->st.tx_frames, N_TX);
	CHECK_EQ(w->st.tx_drops, 0);
}

static void t_oversize(void)
{
	uint32_t lens[1] = { 100 }, bad, bursts;

	CHECK(w && peer >= 0);
	if (!w || peer < 0)
		return;
	uint64_t too_long0 = counter(w, "rx_drop_too_long"), kdrop0 = counter(w, "xsk_rx_dropped");
	/* 1600: fits a UMEM frame (2048 - 256), not the vif (1514): we drop it. 2500: the kernel cannot place it. */
	CHECK_EQ(peer_send(peer, 90000, 1600), 0);
	CHECK_EQ(peer_send(peer, 90001, 2500), 0);
	CHECK_EQ(peer_send(peer, 90002, 100), 0);
	uint32_t got = wire_receive(w, 90002, 1, lens, &bad, &bursts);
	CHECK_EQ(got, 1); /* the wire still works after both drops, and only the good frame came out */
	CHECK_EQ(bad, 0);
	uint64_t too_long = counter(w, "rx_drop_too_long") - too_long0;
	uint64_t kdrop = counter(w, "xsk_rx_dropped") - kdrop0;
	printf("# rx_drop_too_long +%llu, xsk_rx_dropped +%llu, wire_stats.rx_drops %llu\n", (unsigned long long)too_long,
	       (unsigned long long)kdrop, (unsigned long long)w->st.rx_drops);
	CHECK_EQ(too_long, 1);
	CHECK_EQ(kdrop, 1);
	CHECK_EQ(w->st.rx_drops, 1);

	/* TX: a length past the buffer is refused and counted, the buffer stays free */
	struct wire_frame f[2];
	CHECK_EQ(w->ops->tx_reserve(w, f, 2), 2); /* reaps the completions first */
	uint64_t free0 = counter(w, "tx_frames_free");
	uint32_t tl[2] = { f[0].len + 1, 10 };
	CHECK_EQ(w->ops->tx_commit(w, tl, 2), 0);
	CHECK_EQ(counter(w, "tx_drop_bad_len"), 2);
	CHECK_EQ(w->st.tx_drops, 2);
	CHECK_EQ(counter(w, "tx_frames_free"), free0);
}

static void t_close(void)
{
	char line[1024];

	CHECK(w != NULL);
	if (w)
		w->ops->close(w);
	w = NULL;
	if (peer >= 0)
		close(peer);
	peer = -1;
	CHECK_EQ(xnt_link_has_xdp(A, line, sizeof(line)), 0);
	printf("# %s\n", line);
	if (tap_open_fds() != fds_before)
		system("ls -l /proc/$PPID/fd | sed 's/^/# /'");
	CHECK_EQ(tap_open_fds(), fds_before);
}

static void t_generic(void)
{
	static const char *const args[] = { "--xdp-attach", "generic", "--xdp-queue", "0", NULL };
	char err[WIRE_ERR_LEN] = "", line[1024];
	struct wire_xdp_info info;
	uint32_t lens[64], bad, bursts;
	int rc;

	int before = tap_open_fds();
	struct wire *g = open_wire(args, &rc, err);
	if (!g)
		printf("# open generic: %d %s\n", rc, err);
	CHECK(g != NULL);
	if (!g)
		return;
	CHECK_EQ(wire_xdp_info(g, &info), 0);
	CHECK_STR(info.attach, "generic");
	CHECK_EQ(xnt_link_has_xdp(A, line, sizeof(line)), 1);
	CHECK(strstr(line, "xdpgeneric") != NULL);
	int p = xnt_packet_socket(B);
	for (uint32_t i = 0; i < 64; i++) {
		lens[i] = 64 + i;
		peer_send(p, 7000 + i, lens[i]);
	}
	uint32_t got = wire_receive(g, 7000, 64, lens, &bad, &bursts);
	CHECK_EQ(got, 64);
	CHECK_EQ(bad, 0);
	/* and one burst back out */
	struct wire_frame f[WIRE_BURST_MAX];
	uint32_t k = g->ops->tx_reserve(g, f, 16), tl[16];
	CHECK_EQ(k, 16);
	for (uint32_t i = 0; i < k; i++) {
		tl[i] = 100;
		xnt_frame(f[i].data, 100, 8000 + i);
	}
	CHECK_EQ(g->ops->tx_commit(g, tl, k), 16);
	uint8_t buf[2048];
	uint32_t back = 0;
	double end = xnt_now() + 2.0;
	while (back < 16 && xnt_now() < end) {
		ssize_t n = recv(p, buf, sizeof(buf), 0);
		if (n <= 0) {
			usleep(1000);
			continue;
		}
		back += xnt_frame_ok(buf, (uint32_t)n, 8000 + back);
	}
	CHECK_EQ(back, 16);
	close(p);
	g->ops->close(g);
	CHECK_EQ(xnt_link_has_xdp(A, line, sizeof(line)), 0);
	CHECK_EQ(tap_open_fds(), before);
}

static void t_zerocopy_refused(void)
{
	static const char *const args[] = { "--xdp-bind", "zerocopy", NULL };
	char err[WIRE_ERR_LEN] = "", line[1024];
	int rc;

	int before = tap_open_fds();
	struct wire *z = open_wire(args, &rc, err);
	printf("# %d: %s\n", rc, err);
	CHECK(z == NULL);
	if (z)
		z->ops->close(z);
	CHECK(rc < 0);
	CHECK(strstr(err, "zerocopy") != NULL);
	CHECK_EQ(xnt_link_has_xdp(A, line, sizeof(line)), 0); /* the failed open undid its attach */
	CHECK_EQ(tap_open_fds(), before);
}

static void t_options(void)
{
	struct wire_opts o = { .fd = -1, .name = A, .frame_max = FRAME_MAX };
	char err[WIRE_ERR_LEN];

	CHECK_EQ(wire_xdp_backend.option(&o, "--vni", "5", err), 0); /* not ours */
	CHECK_EQ(wire_xdp_backend.option(&o, "--xdp-queue", "64", err), -1);
	CHECK(strstr(err, "--xdp-queue") != NULL);
	CHECK_EQ(wire_xdp_backend.option(&o, "--xdp-queue", "-1", err), -1);
	CHECK_EQ(wire_xdp_backend.option(&o, "--xdp-bind", "fast", err), -1);
	CHECK_EQ(wire_xdp_backend.option(&o, "--xdp-attach", "hw", err), -1);
	CHECK_EQ(wire_xdp_backend.option(&o, "--xdp-frame-size", "3000", err), -1);
	CHECK_EQ(wire_xdp_backend.option(&o, "--xdp-queue", NULL, err), -1);
	CHECK_EQ(wire_xdp_backend.option(&o, "--xdp-obj", "/nonexistent.o", err), 2);
	CHECK_EQ(wire_xdp_backend.check_opts(&o, err), -1);
	CHECK(strstr(err, "/nonexistent.o") != NULL);
	wire_xdp_backend.free_opts(&o);
	CHECK_EQ(wire_xdp_backend.check_fd(-1, err), 0);
	CHECK_EQ(wire_xdp_backend.check_fd(0, err), -EPROTOTYPE); /* stdin: not the AF_XDP socket vpio-launch passes */
	CHECK(strstr(err, "AF_XDP socket") != NULL);
	struct wire_opts none = { .fd = -1, .name = NULL, .frame_max = FRAME_MAX };
	CHECK_EQ(wire_xdp_backend.check_opts(&none, err), -1);
}

/* What the unprivileged child of t_handoff found, sent back over a pipe. */
struct handoff {
	int uid, caps_zero;
	int socket_errno;  /* socket(AF_XDP) */
	int rebind_errno;  /* bind() of the inherited, bound socket */
	int mmap_errno;    /* mmap of the rx ring from the inherited socket (0: worked) */
	int map_update;    /* bpf_map_update_elem on an inherited XSKMAP descriptor: 0 worked, else -errno */
	uint32_t rx_ok, tx_sent;
};

static int find_xskmap_fd(void)
{
	for (int fd = 3; fd < 1024; fd++) {
		struct bpf_map_info info;
		uint32_t len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == BPF_MAP_TYPE_XSKMAP)
			return fd;
	}
	return -1;
}

static void handoff_child(struct wire *hw, int out, int go)
{
	struct handoff h = { 0 };
	struct __user_cap_header_struct ch = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct cd[2];
	char c;

	/* become nobody: no capabilities at all, no way back */
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534) ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		_exit(3);
	h.uid = (int)getuid();
	h.caps_zero = syscall(SYS_capget, &ch, cd) == 0 && cd[0].effective == 0 && cd[1].effective == 0;
	int s = socket(AF_XDP, SOCK_RAW, 0);
	h.socket_errno = s < 0 ? errno : 0;
	if (s >= 0)
		close(s);
	int fd = hw->ops->poll_fd(hw);
	struct sockaddr_xdp sxdp = { .sxdp_family = AF_XDP, .sxdp_ifindex = if_nametoindex(A), .sxdp_queue_id = 0 };
	h.rebind_errno = bind(fd, (struct sockaddr *)&sxdp, sizeof(sxdp)) == 0 ? 0 : errno;
	struct xdp_mmap_offsets off;
	socklen_t ol = sizeof(off);
	void *ring = MAP_FAILED;
	if (getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &ol) == 0)
		ring = mmap(NULL, off.rx.desc + 64 * sizeof(struct xdp_desc), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			    XDP_PGOFF_RX_RING);
	h.mmap_errno = ring == MAP_FAILED ? errno : 0;
	if (ring != MAP_FAILED)
		munmap(ring, off.rx.desc + 64 * sizeof(struct xdp_desc));
	int mfd = find_xskmap_fd();
	__u32 key = 5, val = (__u32)fd;
	h.map_update = mfd < 0 ? -ENOENT : bpf_map_update_elem(mfd, &key, &val, 0) == 0 ? 0 : -errno;
	if (h.map_update == 0)
		bpf_map_delete_elem(mfd, &key);

	/* the data path, unprivileged: 100 frames in (the parent sends them now), 100 out */
	if (read(go, &c, 1) != 1)
		_exit(4);
	struct wire_frame f[WIRE_BURST_MAX];
	double end = xnt_now() + 3.0;
	uint32_t seen = 0;
	while (seen < 100 && xnt_now() < end) {
		int n = hw->ops->rx_burst(hw, f, WIRE_BURST_MAX);
		for (int i = 0; i < n; i++) {
			h.rx_ok += xnt_frame_ok(f[i].data, f[i].len, 30000 + seen);
			seen++;
		}
		if (n > 0)
			hw->ops->rx_release(hw);
		else
			usleep(1000);
	}
	while (h.tx_sent < 100 && xnt_now() < end) {
		uint32_t k = hw->ops->tx_reserve(hw, f, 100 - h.tx_sent < 50 ? 100 - h.tx_sent : 50), lens[50];
		for (uint32_t i = 0; i < k; i++) {
			lens[i] = 128;
			xnt_frame(f[i].data, 128, 31000 + h.tx_sent + i);
		}
		int n = hw->ops->tx_commit(hw, lens, k);
		if (n < 0)
			break;
		h.tx_sent += (uint32_t)n;
	}
	if (write(out, &h, sizeof(h)) != (ssize_t)sizeof(h))
		_exit(5);
	_exit(0);
}

/*
 * The privilege split, tried for real: a root parent opens the wire (every
 * privileged step), forks, and the child drops to uid 65534 with no
 * capabilities. With only inherited descriptors and mappings it receives
 * and sends (rings, UMEM, sendto kicks need nothing); it cannot make an
 * AF_XDP socket or re-bind the bound one; and it CAN update an XSKMAP whose
 * descriptor it holds (Linux >= 6.5 checks privileges at map creation
 * only): a sandboxed uplink must never be handed the map.
 */
static void t_handoff(void)
{
	char err[WIRE_ERR_LEN] = "";
	struct handoff h = { 0 };
	int rc, res[2], go[2];

	struct wire *hw = open_wire(NULL, &rc, err);
	CHECK(hw != NULL);
	if (!hw || pipe(res) || pipe(go))
		return;
	int p = xnt_packet_socket(B);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		handoff_child(hw, res[1], go[0]);
	for (uint32_t i = 0; i < 100; i++)
		peer_send(p, 30000 + i, 200);
	CHECK_EQ(write(go[1], "g", 1), 1);
	uint8_t buf[2048];
	uint32_t back = 0;
	double end = xnt_now() + 5.0;
	while (back < 100 && xnt_now() < end) {
		ssize_t n = recv(p, buf, sizeof(buf), 0);
		if (n <= 0) {
			usleep(1000);
			continue;
		}
		back += xnt_frame_ok(buf, (uint32_t)n, 31000 + back);
	}
	CHECK_EQ(read(res[0], &h, sizeof(h)), (long long)sizeof(h));
	int status = -1;
	waitpid(pid, &status, 0);
	CHECK_EQ(status, 0);
	printf("# child uid %d, no caps %d: socket(AF_XDP) %s; re-bind %s; rx ring mmap %s; XSKMAP update %s; "
	       "received %u/100 intact, sent %u, peer got %u intact\n",
	       h.uid, h.caps_zero, strerror(h.socket_errno), strerror(h.rebind_errno), strerror(h.mmap_errno),
	       strerror(-h.map_update), h.rx_ok, h.tx_sent, back);
	CHECK_EQ(h.uid, 65534);
	CHECK(h.caps_zero);
	CHECK_EQ(h.socket_errno, EPERM);
	CHECK(h.rebind_errno != 0);
	CHECK_EQ(h.mmap_errno, 0);
	CHECK_EQ(h.map_update, 0); /* the reason the map's descriptor must stay with the privileged side */
	CHECK_EQ(h.rx_ok, 100);
	CHECK_EQ(h.tx_sent, 100);
	CHECK_EQ(back, 100);
	close(p);
	close(res[0]);
	close(res[1]);
	close(go[0]);
	close(go[1]);
	hw->ops->close(hw);
}

/*
 * Two wires on queues 0 and 1 of one two-queue veth. With libxdp's
 * dispatcher (bpffs: here a private mount at /sys/fs/bpf in a private mount
 * namespace, so the host's is never touched; and freplace programs) they
 * share the interface: two instances of our program in one chain, a frame
 * on queue 1 meets the first one's empty slot, is passed on (XDP_PASS
 * chains) and redirected by the second, so every frame reaches one socket.
 * Where the dispatcher cannot load (this VM: the kernel refuses
 * BPF_PROG_TYPE_EXT with EPERM), libxdp attaches the first alone and the
 * second wire is refused by name, up front, leaking nothing, and the first
 * keeps working.
 */
static void t_second_queue(void)
{
	char err[WIRE_ERR_LEN] = "", line[2048];
	int rc0, rc1 = -1;

	if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL) != 0) {
		printf("# private bpffs: %s\n", strerror(errno));
		CHECK(0);
		return;
	}
	CHECK_EQ(system("ip link add ya numtxqueues 2 numrxqueues 2 type veth peer name yb numtxqueues 2 numrxqueues 2"
			" && ip link set ya up && ip link set yb up"),
		 0);
	int before = tap_open_fds();
	struct wire_opts o0 = { .fd = -1, .name = "ya", .frame_max = FRAME_MAX };
	struct wire_opts o1 = { .fd = -1, .name = "ya", .frame_max = FRAME_MAX };
	struct wire *w0 = NULL, *w1 = NULL;
	CHECK_EQ(wire_xdp_set_option(&o1, "--xdp-queue", "1", err), 0);
	rc0 = wire_xdp_backend.open(&o0, &w0, err);
	if (rc0)
		printf("# open queue 0: %s\n", err);
	CHECK(w0 != NULL);
	if (w0) {
		rc1 = wire_xdp_backend.open(&o1, &w1, err);
		printf("# open queue 1: %d %s\n", rc1, rc1 ? err : "ok");
	}
	wire_xdp_backend.free_opts(&o1);
	CHECK_EQ(xnt_link_has_xdp("ya", line, sizeof(line)), 1);
	printf("# %s\n", line);
	bool dispatcher = strstr(line, "xdp_dispatcher") != NULL;
	if (dispatcher) {
		CHECK(w1 != NULL);
	} else {
		CHECK(w1 == NULL);
		CHECK_EQ(rc1, -EBUSY);
		CHECK(strstr(err, "xdp_vpio") != NULL && strstr(err, "dispatcher") != NULL);
	}
	if (w0) {
		int p = xnt_packet_socket("yb");
		uint32_t got[2] = { 0, 0 };
		for (uint32_t i = 0; i < 200; i++)
			peer_send(p, 20000 + i, 100);
		double end = xnt_now() + 2.0;
		while (got[0] + got[1] < 200 && xnt_now() < end) {
			struct wire_frame f[WIRE_BURST_MAX];
			struct wire *ws[2] = { w0, w1 };
			for (int k = 0; k < 2; k++) {
				if (!ws[k])
					continue;
				int n = ws[k]->ops->rx_burst(ws[k], f, WIRE_BURST_MAX);
				for (int i = 0; i < n; i++)
					got[k] += xnt_frame_seq(f[i].data, f[i].len) != UINT32_MAX;
				ws[k]->ops->rx_release(ws[k]);
			}
		}
		printf("# %s: queue 0 wire got %u, queue 1 wire got %u, passed to the stack %llu\n",
		       dispatcher ? "dispatcher" : "single program", got[0], got[1],
		       (unsigned long long)counter(w0, "xdp_passed"));
		/* without a second socket, queue 1's frames go to the stack: none lost to us, none received */
		CHECK_EQ(got[0] + got[1] + (dispatcher ? 0 : counter(w0, "xdp_passed")), 200);
		close(p);
	}
	if (w1)
		w1->ops->close(w1);
	if (w0)
		w0->ops->close(w0);
	CHECK_EQ(xnt_link_has_xdp("ya", line, sizeof(line)), 0);
	CHECK_EQ(tap_open_fds(), before);
}

/* What vpio-launch --wire-xdp does (vpio/xsk_handoff.h), then the adopt path of open() with its two descriptors. */
static void t_adopt_open(void)
{
	char err[WIRE_ERR_LEN] = "", why[256] = "", envfd[16];
	const char *obj = getenv("VPIO_XDP_OBJ");
	struct vpio_xsk_req r = { .ifname = A, .obj = obj ? obj : "../../kernel/build/xdp_vpio.bpf.o", .queue = 0, .frame_size = 2048 };
	struct wire_opts o = { .fd = -1, .name = A, .frame_max = FRAME_MAX };
	struct wire_xdp_info info;
	char line[1024];
	int rc;

	fds_before = tap_open_fds();
	rc = vpio_xsk_setup(&r, &handed, why, sizeof(why));
	if (rc)
		printf("# vpio_xsk_setup: %d %s\n", rc, why);
	CHECK_EQ(rc, 0);
	if (rc)
		return;
	CHECK(!handed.zerocopy);
	CHECK(handed.native);
	CHECK_EQ(xnt_link_has_xdp(A, line, sizeof(line)), 1);
	snprintf(envfd, sizeof(envfd), "%d", handed.umem);
	setenv("VPIO_WIRE_UMEM_FD", envfd, 1);
	setenv("VPIO_XDP_ATTACH", "native", 1);
	o.fd = handed.sock;
	CHECK_EQ(wire_xdp_backend.check_fd(o.fd, err), 0);
	rc = wire_xdp_backend.open(&o, &w, err);
	handed.sock = handed.umem = -1; /* the wire owns the socket now, and closed the memfd after mapping it */
	if (rc)
		printf("# adopt: %d %s\n", rc, err);
	CHECK_EQ(rc, 0);
	if (rc)
		return;
	adopted = 1;
	CHECK_EQ(wire_xdp_info(w, &info), 0);
	CHECK_STR(info.bind, "copy");
	CHECK_STR(info.attach, "native");
	CHECK_EQ(info.frame_size, 2048);
	peer = xnt_packet_socket(B);
	CHECK(peer >= 0);
}

static void t_adopt_close(void)
{
	char line[1024];

	if (w)
		w->ops->close(w);
	w = NULL;
	if (peer >= 0)
		close(peer);
	peer = -1;
	vpio_xsk_detach(&handed);
	CHECK_EQ(xnt_link_has_xdp(A, line, sizeof(line)), 0);
	CHECK_EQ(tap_open_fds(), fds_before);
}

/* A UMEM memfd that is not what vpio-launch makes is refused, naming it. */
static void t_adopt_refused(void)
{
	char err[WIRE_ERR_LEN] = "", envfd[16];
	struct wire_opts o = { .fd = -1, .name = A, .frame_max = FRAME_MAX };
	struct wire *x = NULL;
	int before = tap_open_fds();
	int s = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	int m = memfd_create("not-sealed", MFD_CLOEXEC);

	CHECK(s >= 0 && m >= 0);
	CHECK_EQ(ftruncate(m, (off_t)VPIO_XSK_FRAMES * 2048), 0);
	snprintf(envfd, sizeof(envfd), "%d", m);
	setenv("VPIO_WIRE_UMEM_FD", envfd, 1);
	o.fd = s;
	CHECK_EQ(wire_xdp_backend.open(&o, &x, err), -EINVAL);
	CHECK(strstr(err, "sealed") != NULL);
	CHECK(x == NULL);
	unsetenv("VPIO_WIRE_UMEM_FD");
	o.fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	CHECK_EQ(wire_xdp_backend.open(&o, &x, err), -EBADF);
	CHECK(strstr(err, "VPIO_WIRE_UMEM_FD") != NULL);
	CHECK_EQ(tap_open_fds(), before); /* open() owns and closes the socket and the memfd on failure */
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getuid() != 0) {
		printf("Bail out! needs root (CAP_NET_ADMIN, CAP_BPF, CAP_NET_RAW)\n");
		return 1;
	}
	if (xnt_setup(A, B, 3000) != 0) {
		printf("Bail out! cannot make the veth pair in a private network namespace\n");
		return 1;
	}
	tap_run("options: bad values are refused by name; an inherited descriptor is refused", t_options);
	tap_run("the probe sees veth: AF_XDP possible, native attach, copy mode; a missing interface is not", t_probe);
	tap_run("open attaches vpio's XDP program natively and binds in copy mode (veth has no zero-copy)", t_open);
	tap_run("1000 frames injected on the peer arrive in batches, in order, byte for byte", t_rx);
	tap_run("1000 frames sent by the wire leave the peer intact; sendto kicks are counted, one per burst", t_tx);
	tap_run("a frame longer than the vif takes and one longer than a UMEM frame are dropped and counted; the wire goes on",
		t_oversize);
	tap_run("close detaches the program (ip link shows no xdp) and closes every descriptor", t_close);
	tap_run("handed over as vpio-launch --wire-xdp does (xsk_handoff: bound socket + sealed memfd UMEM), open() adopts it",
		t_adopt_open);
	tap_run("adopted: 1000 frames injected on the peer arrive in batches, in order, byte for byte", t_rx);
	tap_run("adopted: 1000 frames sent leave the peer intact, one kick per burst", t_tx);
	tap_run("adopted: oversized frames are dropped and counted; the wire goes on", t_oversize);
	tap_run("adopted: closing the wire and the handoff's program leaves nothing attached or open", t_adopt_close);
	tap_run("adopting refuses an unsealed UMEM memfd and a missing one, by name, leaking nothing", t_adopt_refused);
	tap_run("generic (SKB) attach receives and sends too, and detaches on close", t_generic);
	tap_run("demanding zero-copy on veth fails naming the step, and leaves no program attached", t_zerocopy_refused);
	tap_run("a child with no capabilities (uid 65534) runs the data path on the inherited socket; it cannot make or "
		"re-bind a socket, but can update an inherited XSKMAP",
		t_handoff);
	tap_run("a second wire on another queue joins libxdp's dispatcher, or (no dispatcher) is refused by name, leaking "
		"nothing; no frame is lost either way",
		t_second_queue);
	return tap_done();
}
