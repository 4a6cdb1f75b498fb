// SPDX-License-Identifier: MIT
//
// test-wire-netns.c - the wire backends on real kernel parts (root): the
// process moves itself into a network namespace of its own
// (unshare(CLONE_NEWNET)), and a child holds a second one (the "peer", the
// Linux VTEP: Linux's vxlan bypasses encapsulation towards a local address,
// so the two ends cannot share one namespace's loopback). Both go away with
// everything in them when the processes exit (the child dies with us:
// PR_SET_PDEATHSIG). Addresses: 10.x and fd00:9::/64, inside them only.
//
//   1. packet: frames the backend sends (one send() per burst) come out of
//      the veth peer intact and in order; an oversized one is counted, not sent.
//   2. packet: frames injected on the peer are read in batches (fewer bursts
//      than frames), in order, intact; the backend's own TX is not read
//      back; a tag the kernel took off is given back in wire_frame.vlan.
//   2b. packet: 3000 stamped frames each way wrap both rings many times.
//   3. vxlan over IPv4 (underlay 10.9.0.1 <-> 10.9.0.2 on a veth between the
//      namespaces) against a Linux vxlan device (VNI 1000): Linux ->
//      backend (a UDP datagram sent through vx0 arrives as a frame of VID
//      10, the sender's MAC learned); backend -> Linux (a tagged frame to
//      the learned MAC is decapsulated by vx0 and delivered to a socket).
//   4. vxlan over IPv6 (underlay fd00:9::1 <-> fd00:9::2; VNI 2000,
//      --remote [fd00:9::2]:4789 --no-learn): both ways.
//   5. vxlan: bursts: one sendmmsg per burst (a flood to two remotes), and
//      recvmmsg reading many datagrams per call.
//   6. vxlan: hostile datagrams through the socket are dropped by reason.

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "upl.h"
#include "vxlan.h"
#include "vpio/tap.h"
#include "wire.h"

#define ETYPE_TEST 0x88b5 /* IEEE local experimental */

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		printf("# `%s` failed: %d\n", cmd, rc);
	return rc;
}

/* An AF_PACKET socket bound to ifname, as vpio-launch --wire-packet makes it. */
static int packet_sock(const char *ifname)
{
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = (int)if_nametoindex(ifname) };

	if (s < 0 || bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -1;
	return s;
}

/* A UDP socket bound to addr:port, as vpio-launch --wire-udp makes it. */
static int udp_sock(int family, const char *addr, uint16_t port)
{
	int s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (family == AF_INET) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
		inet_pton(AF_INET, addr, &a.sin_addr);
		if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
			return -1;
	} else {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
		inet_pton(AF_INET6, addr, &a.sin6_addr);
		if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
			return -1;
	}
	return s;
}

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

static int wait_in(int fd, short ev, int ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	return poll(&p, 1, ms) > 0;
}

static void test_frame(uint8_t *f, uint32_t len, uint32_t seq, uint8_t src_last)
{
	memset(f, 0xff, 6);
	f[6] = 0x02, f[7] = 0, f[8] = 0, f[9] = 0, f[10] = 0, f[11] = src_last;
	f[12] = ETYPE_TEST >> 8, f[13] = ETYPE_TEST & 0xff;
	memcpy(f + 14, &seq, 4);
	for (uint32_t i = 18; i < len; i++)
		f[i] = (uint8_t)(seq + i);
}

static int netns_ok, own_ns = -1, peer_ns = -1;
static pid_t peer_pid = -1;

/* A socket made in the peer namespace (it stays there). */
static int in_peer(int (*make)(int, const char *, uint16_t), int family, const char *addr, uint16_t port)
{
	int s;

	if (setns(peer_ns, CLONE_NEWNET) < 0)
		return -1;
	s = make(family, addr, port);
	if (setns(own_ns, CLONE_NEWNET) < 0)
		abort();
	return s;
}

static void t_setup(void)
{
	int p[2];
	char c, path[64];

	CHECK_EQ(unshare(CLONE_NEWNET), 0);
	CHECK_EQ(sh("ip link set lo up"), 0);
	CHECK_EQ(sh("ip link add va type veth peer name vb"), 0);
	CHECK_EQ(sh("ip link set va up && ip link set vb up"), 0);
	/* the peer namespace, held by a child until we exit */
	CHECK_EQ(pipe(p), 0);
	peer_pid = fork();
	if (peer_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		(void)!write(p[1], "x", 1);
		for (;;)
			pause();
	}
	CHECK(peer_pid > 0 && read(p[0], &c, 1) == 1);
	close(p[0]), close(p[1]);
	own_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)peer_pid);
	peer_ns = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(own_ns >= 0 && peer_ns >= 0);
	CHECK_EQ(sh("ip link add ua type veth peer name ub && ip link set ub netns %d && "
		    "ip addr add 10.9.0.1/24 dev ua && ip addr add fd00:9::1/64 dev ua nodad && ip link set ua up && "
		    "nsenter -t %d -n sh -c 'ip link set lo up && ip addr add 10.9.0.2/24 dev ub && "
		    "ip addr add fd00:9::2/64 dev ub nodad && ip link set ub up'",
		    (int)peer_pid, (int)peer_pid), 0);
	netns_ok = !tap_case_failed;
}

static struct wire *open_packet(const char *ifname)
{
	struct wire_opts o = { .fd = packet_sock(ifname), .frame_max = 2048 };
	char err[WIRE_ERR_LEN];
	struct wire *w = NULL;

	CHECK(o.fd >= 0);
	CHECK_EQ(wire_packet_backend.check_fd(o.fd, err), 0);
	if (wire_packet_backend.open(&o, &w, err) < 0) {
		printf("# %s\n", err);
		return NULL;
	}
	return w;
}

static struct wire *pw;

static void t_packet_tx(void)
{
	struct wire_frame f[WIRE_BURST_MAX];
	uint32_t lens[WIRE_BURST_MAX], got = 0;
	int peer = packet_sock("vb");
	uint8_t buf[4096], want[2048];

	CHECK(netns_ok && peer >= 0);
	pw = open_packet("va");
	CHECK(pw != NULL);
	if (!pw || peer < 0)
		return;
	/* 3 bursts of 20 frames of varied lengths; one oversized frame in the middle burst */
	for (uint32_t b = 0; b < 3; b++) {
		CHECK_EQ(pw->ops->tx_reserve(pw, f, 20), 20);
		for (uint32_t i = 0; i < 20; i++) {
			uint32_t seq = b * 20 + i;
			lens[i] = b == 1 && i == 5 ? 1600 : 60 + seq * 23;
			test_frame(f[i].data, lens[i], seq, 1);
		}
		CHECK_EQ(pw->ops->tx_commit(pw, lens, 20), b == 1 ? 19 : 20);
	}
	CHECK_EQ(pw->st.tx_flushes, 3);
	CHECK_EQ(pw->st.tx_frames, 59);
	CHECK_EQ(counter(pw, "tx_drop_too_long"), 1);
	/* every one but the oversized comes out of the peer, in order, intact */
	for (uint32_t seq = 0; seq < 60; seq++) {
		ssize_t r;

		if (seq == 25)
			continue;
		do {
			if (!wait_in(peer, POLLIN, 2000)) {
				r = -1;
				break;
			}
			r = recv(peer, buf, sizeof(buf), 0);
		} while (r >= 14 && (buf[12] << 8 | buf[13]) != ETYPE_TEST);
		if (r < 0)
			break;
		test_frame(want, 60 + seq * 23, seq, 1);
		CHECK_EQ(r, 60 + seq * 23);
		CHECK(!memcmp(buf, want, (size_t)r));
		got++;
	}
	CHECK_EQ(got, 59);
	close(peer);
}

static void t_packet_rx(void)
{
	struct wire_frame f[WIRE_BURST_MAX];
	int peer = packet_sock("vb");
	uint8_t frame[1600], back[1604];
	uint32_t got = 0, tagged = 0, own = 0;
	uint64_t bursts0;

	CHECK(pw != NULL && peer >= 0);
	if (!pw || peer < 0)
		return;
	/* the backend's own TX from case 1 was not read back: nothing is there */
	int n0 = pw->ops->rx_burst(pw, f, WIRE_BURST_MAX);
	for (int i = 0; i < n0; i++)
		own += f[i].len >= 14 && f[i].data[11] == 1;
	pw->ops->rx_release(pw);
	CHECK_EQ(own, 0);
	bursts0 = pw->st.rx_bursts;
	/* 200 frames, every 10th with an 802.1Q tag (VID = seq), sent from the peer */
	for (uint32_t seq = 0; seq < 200; seq++) {
		uint32_t len = 60 + (seq * 37) % 1400;

		test_frame(frame, len, seq, 9);
		if (seq % 10 == 0) {
			memmove(frame + 16, frame + 12, len - 12);
			frame[12] = 0x81, frame[13] = 0x00, frame[14] = 0x00, frame[15] = (uint8_t)seq;
			len += 4;
		}
		CHECK_EQ(send(peer, frame, len, 0), (ssize_t)len);
	}
	while (got < 200 && wait_in(pw->ops->poll_fd(pw), POLLIN, 2000)) {
		int n = pw->ops->rx_burst(pw, f, WIRE_BURST_MAX);

		CHECK(n >= 0);
		for (int i = 0; i < n; i++) {
			uint32_t seq, len;

			if (f[i].len < 18 || f[i].data[11] != 9)
				continue; /* not ours (IPv6 ND of the link coming up) */
			memcpy(&seq, f[i].data + 14, 4);
			CHECK_EQ(seq, got);
			len = upl_copy_tagged(back, f[i].data, f[i].len, f[i].vlan);
			test_frame(frame, 60 + (seq * 37) % 1400, seq, 9);
			if (seq % 10 == 0) {
				CHECK_EQ(f[i].vlan, 0x81000000u | seq); /* the kernel took the tag off; we give it back */
				tagged++;
				CHECK_EQ(len, 60 + (seq * 37) % 1400 + 4);
				CHECK(!memcmp(back, frame, 12) && back[12] == 0x81 && back[15] == (uint8_t)seq);
				CHECK(!memcmp(back + 16, frame + 12, len - 16));
			} else {
				CHECK_EQ(f[i].vlan, 0);
				CHECK_EQ(len, 60 + (seq * 37) % 1400);
				CHECK(!memcmp(back, frame, len));
			}
			got++;
		}
		pw->ops->rx_release(pw);
	}
	CHECK_EQ(got, 200);
	CHECK_EQ(tagged, 20);
	printf("# 200 frames in %llu bursts\n", (unsigned long long)(pw->st.rx_bursts - bursts0));
	CHECK(pw->st.rx_bursts - bursts0 < 200 / 4); /* batches, not a call per frame */
	CHECK_EQ(counter(pw, "rx_drop_bad_hdr"), 0);
	pw->ops->close(pw);
	pw = NULL;
	close(peer);
}

/* Both rings wrap many times: 30 rounds of 100 frames each way, each frame stamped and checked. */
static void t_packet_wrap(void)
{
	struct wire_frame f[WIRE_BURST_MAX];
	uint32_t lens[WIRE_BURST_MAX], next_in = 0, next_out = 0, bad = 0;
	int peer = packet_sock("vb");
	struct wire *w = open_packet("va");
	uint8_t frame[1100], buf[2048];

	CHECK(w != NULL && peer >= 0);
	if (!w || peer < 0)
		return;
	for (uint32_t round = 0; round < 30; round++) {
		/* peer -> backend: 100 frames of 1000..1063 bytes, read back in bursts */
		for (uint32_t i = 0; i < 100; i++) {
			uint32_t seq = round * 100 + i, len = 1000 + seq % 64;

			test_frame(frame, len, seq, 9);
			CHECK_EQ(send(peer, frame, len, 0), (ssize_t)len);
		}
		while (next_in < (round + 1) * 100 && wait_in(w->ops->poll_fd(w), POLLIN, 2000)) {
			int n = w->ops->rx_burst(w, f, WIRE_BURST_MAX);

			for (int i = 0; i < n; i++) {
				uint32_t seq;

				if (f[i].len < 18 || f[i].data[11] != 9)
					continue;
				memcpy(&seq, f[i].data + 14, 4);
				test_frame(frame, 1000 + seq % 64, seq, 9);
				bad += seq != next_in || f[i].len != 1000 + seq % 64 || memcmp(f[i].data, frame, f[i].len);
				next_in++;
			}
			w->ops->rx_release(w);
		}
		/* backend -> peer: 100 frames in bursts of up to 64 */
		for (uint32_t sent = 0; sent < 100;) {
			uint32_t k = w->ops->tx_reserve(w, f, 100 - sent < WIRE_BURST_MAX ? 100 - sent : WIRE_BURST_MAX);

			for (uint32_t i = 0; i < k; i++) {
				uint32_t seq = round * 100 + sent + i;
				lens[i] = 200 + seq % 500;
				test_frame(f[i].data, lens[i], seq, 1);
			}
			CHECK_EQ(w->ops->tx_commit(w, lens, k), (int)k);
			sent += k;
			if (k == 0)
				wait_in(w->ops->poll_fd(w), POLLOUT, 100);
		}
		while (next_out < (round + 1) * 100 && wait_in(peer, POLLIN, 2000)) {
			ssize_t r = recv(peer, buf, sizeof(buf), 0);
			uint32_t seq;

			if (r < 18 || buf[11] != 1 || (buf[12] << 8 | buf[13]) != ETYPE_TEST)
				continue;
			memcpy(&seq, buf + 14, 4);
			test_frame(frame, 200 + seq % 500, seq, 1);
			bad += seq != next_out || r != (ssize_t)(200 + seq % 500) || memcmp(buf, frame, (size_t)r);
			next_out++;
		}
	}
	CHECK_EQ(next_in, 3000);  /* ~3 MB through a 2 MB RX ring */
	CHECK_EQ(next_out, 3000); /* six times round the 496-frame TX ring */
	CHECK_EQ(bad, 0);
	printf("# 3000 frames each way; RX in %llu bursts, TX in %llu flushes\n", (unsigned long long)w->st.rx_bursts,
	       (unsigned long long)w->st.tx_flushes);
	CHECK_EQ(counter(w, "rx_kernel_drops"), 0);
	w->ops->close(w);
	close(peer);
}

static struct wire *open_vxlan(int fd, const char *const *args)
{
	struct wire_opts o = { .fd = fd, .frame_max = 2048 };
	char err[WIRE_ERR_LEN];
	struct wire *w = NULL;

	for (const char *const *a = args; *a; a++) {
		int used = wire_vxlan_backend.option(&o, a[0], a[1], err);

		CHECK(used > 0);
		if (used <= 0) {
			printf("# %s\n", err);
			break;
		}
		a += used - 1;
	}
	CHECK_EQ(wire_vxlan_backend.check_opts(&o, err), 0);
	CHECK_EQ(wire_vxlan_backend.check_fd(fd, err), 0);
	if (wire_vxlan_backend.open(&o, &w, err) < 0)
		printf("# %s\n", err);
	wire_vxlan_backend.free_opts(&o);
	return w;
}

static uint16_t ip_csum(const uint8_t *h, uint32_t len)
{
	uint32_t s = 0;

	for (uint32_t i = 0; i < len; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* A frame tagged VID vid: dst -> src MACs, IPv4 UDP src_ip:9999 -> dst_ip:7777 carrying msg. Returns its length. */
static uint32_t tagged_udp(uint8_t *f, const uint8_t dst[6], uint8_t src_last, uint32_t vid, const char *src_ip,
			   const char *dst_ip, const char *msg)
{
	uint32_t ml = (uint32_t)strlen(msg), ip_len = 20 + 8 + ml;
	uint8_t *ip = f + 18, *udp = ip + 20;

	memcpy(f, dst, 6);
	f[6] = 0x02, f[7] = 0, f[8] = 0, f[9] = 0, f[10] = 0, f[11] = src_last;
	f[12] = 0x81, f[13] = 0x00, f[14] = (uint8_t)(vid >> 8), f[15] = (uint8_t)vid;
	f[16] = 0x08, f[17] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45, ip[2] = (uint8_t)(ip_len >> 8), ip[3] = (uint8_t)ip_len, ip[8] = 64, ip[9] = 17;
	inet_pton(AF_INET, src_ip, ip + 12);
	inet_pton(AF_INET, dst_ip, ip + 16);
	uint16_t c = ip_csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	udp[0] = 9999 >> 8, udp[1] = 9999 & 0xff, udp[2] = 7777 >> 8, udp[3] = 7777 & 0xff;
	udp[4] = (uint8_t)((8 + ml) >> 8), udp[5] = (uint8_t)(8 + ml), udp[6] = 0, udp[7] = 0; /* no checksum (IPv4) */
	memcpy(udp + 8, msg, ml);
	return 18 + ip_len;
}

/*
 * Both ways through Linux's vxlan device `dev` (its address dev_ip, VNI vni,
 * our VID vid): a datagram sent to peer_ip through it arrives at w as a
 * tagged frame; a tagged frame w sends reaches a socket on dev_ip.
 */
static void interop(struct wire *w, const char *dev, const char *dev_ip, const char *peer_ip, uint32_t vid,
		    uint8_t peer_last, const char *tag)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9999) };
	int tx = in_peer(udp_sock, AF_INET, "0.0.0.0", 0), rx = in_peer(udp_sock, AF_INET, dev_ip, 7777);
	struct wire_frame f[WIRE_BURST_MAX];
	char msg[64], got_msg[64];
	uint8_t dev_mac[6] = { 0 }, frame[256];
	int found = 0;

	CHECK(tx >= 0 && rx >= 0);
	/* Linux -> us */
	snprintf(msg, sizeof(msg), "hello over %s", tag);
	inet_pton(AF_INET, peer_ip, &to.sin_addr);
	CHECK_EQ(sendto(tx, msg, strlen(msg), 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)strlen(msg));
	for (int tries = 0; tries < 20 && !found && wait_in(w->ops->poll_fd(w), POLLIN, 2000); tries++) {
		int n = w->ops->rx_burst(w, f, WIRE_BURST_MAX);

		for (int i = 0; i < n; i++) {
			const uint8_t *d = f[i].data;

			if (f[i].len < 14 + 28 + strlen(msg) || d[12] != 0x08 || d[13] != 0x00 || d[5] != peer_last)
				continue; /* ARP or IPv6 ND from the device */
			CHECK_EQ(f[i].vlan, 0x81000000u | vid);
			CHECK(!memcmp(d + 14 + 28, msg, strlen(msg)));
			memcpy(dev_mac, d + 6, 6);
			found = 1;
		}
		w->ops->rx_release(w);
	}
	CHECK(found);
	/* us -> Linux: a tagged frame to the device's MAC */
	snprintf(msg, sizeof(msg), "reply over %s", tag);
	uint32_t len = tagged_udp(frame, dev_mac, peer_last, vid, peer_ip, dev_ip, msg), lens[1] = { len };
	CHECK_EQ(w->ops->tx_reserve(w, f, 1), 1);
	memcpy(f[0].data, frame, len);
	CHECK_EQ(w->ops->tx_commit(w, lens, 1), 1);
	CHECK(wait_in(rx, POLLIN, 2000));
	memset(got_msg, 0, sizeof(got_msg));
	CHECK_EQ(recv(rx, got_msg, sizeof(got_msg) - 1, MSG_DONTWAIT), (ssize_t)strlen(msg));
	CHECK_STR(got_msg, msg);
	(void)dev;
	close(tx);
	close(rx);
}

static void t_vxlan_v4(void)
{
	const char *args[] = { "--vni", "10:1000,11:1001", NULL };
	struct wire *w;

	CHECK(netns_ok);
	if (!netns_ok)
		return;
	CHECK_EQ(sh("nsenter -t %d -n sh -c 'ip link add vx0 type vxlan id 1000 dstport 4789 local 10.9.0.2 && "
		    "bridge fdb append 00:00:00:00:00:00 dev vx0 dst 10.9.0.1 port 4790 && "
		    "ip addr add 10.0.0.1/24 dev vx0 && ip link set vx0 up && "
		    "ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev vx0 nud permanent'", (int)peer_pid), 0);
	w = open_vxlan(udp_sock(AF_INET, "10.9.0.1", 4790), args);
	CHECK(w != NULL);
	if (!w)
		return;
	interop(w, "vx0", "10.0.0.1", "10.0.0.2", 10, 2, "IPv4");
	CHECK(counter(w, "fdb_learned") >= 1);  /* vx0's MAC, at 10.9.0.2:4789 */
	CHECK_EQ(counter(w, "tx_learned"), 1);  /* so the reply went there, not flooded */
	CHECK_EQ(counter(w, "tx_flood"), 0);
	w->ops->close(w);
}

static void t_vxlan_v6(void)
{
	const char *args[] = { "--vni", "20:2000", "--remote", "[fd00:9::2]:4789", "--no-learn", NULL };
	struct wire *w;

	CHECK(netns_ok);
	if (!netns_ok)
		return;
	CHECK_EQ(sh("nsenter -t %d -n sh -c 'ip link add vx6 type vxlan id 2000 dstport 4789 local fd00:9::2 && "
		    "bridge fdb append 00:00:00:00:00:00 dev vx6 dst fd00:9::1 port 4790 && "
		    "ip addr add 10.0.1.1/24 dev vx6 && ip link set vx6 up && "
		    "ip neigh add 10.0.1.2 lladdr 02:00:00:00:00:03 dev vx6 nud permanent'", (int)peer_pid), 0);
	w = open_vxlan(udp_sock(AF_INET6, "fd00:9::1", 4790), args);
	CHECK(w != NULL);
	if (!w)
		return;
	interop(w, "vx6", "10.0.1.1", "10.0.1.2", 20, 3, "IPv6");
	CHECK_EQ(counter(w, "fdb_learned"), 0);
	CHECK_EQ(counter(w, "tx_flood"), 1); /* --no-learn: to every --remote */
	w->ops->close(w);
}

static void t_vxlan_hostile(void)
{
	const char *args[] = { "--vni", "30:3000", "--remote", "127.0.0.1:4789", NULL };
	int fd = udp_sock(AF_INET, "127.0.0.1", 4791), s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(4791) };
	struct wire_frame f[WIRE_BURST_MAX];
	static uint8_t d[3000];
	struct wire *w;
	uint32_t total = 0;

	CHECK(netns_ok && fd >= 0 && s >= 0);
	if (!netns_ok)
		return;
	w = open_vxlan(fd, args);
	CHECK(w != NULL);
	if (!w)
		return;
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
#define SEND(len) CHECK_EQ(sendto(s, d, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)(len))
	memset(d, 0, sizeof(d));
	SEND(4);                                 /* short */
	d[0] = 0x08, d[6] = 1;                   /* VNI 1: unknown */
	SEND(100);
	d[4] = 0, d[5] = 0x0b, d[6] = 0xb8;      /* VNI 3000 */
	d[0] = 0x00;
	SEND(100);                               /* no I flag */
	d[0] = 0x08, d[7] = 1;
	SEND(100);                               /* reserved */
	d[7] = 0;
	SEND(8 + 13);                            /* runt */
	SEND(3000);                              /* longer than the vif's buffers: truncated */
	d[8 + 12] = 0x81;
	SEND(100);                               /* inner frame tagged */
	d[8 + 12] = 0x08, d[8 + 6] = 1;
	SEND(100);                               /* group source MAC */
	d[8 + 6] = 2;
	SEND(100);                               /* good */
#undef SEND
	while (total < 9 && wait_in(fd, POLLIN, 1000)) {
		uint64_t before = w->st.rx_drops + w->st.rx_frames;
		int n = w->ops->rx_burst(w, f, WIRE_BURST_MAX);

		CHECK(n >= 0);
		w->ops->rx_release(w);
		total += (uint32_t)(w->st.rx_drops + w->st.rx_frames - before);
	}
	CHECK_EQ(total, 9);
	CHECK_EQ(w->st.rx_frames, 1);
	CHECK_EQ(w->st.rx_drops, 8);
	const char *reasons[] = { "rx_drop_short", "rx_drop_unknown_vni", "rx_drop_no_i_flag", "rx_drop_reserved",
				  "rx_drop_runt", "rx_drop_too_long", "rx_drop_inner_tagged", "rx_drop_src_multicast" };
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		CHECK_EQ(counter(w, reasons[i]), 1);
	/* TX: an untagged frame and an unmapped VID are dropped by reason, nothing sent */
	uint32_t lens[2] = { 60, 60 };
	CHECK_EQ(w->ops->tx_reserve(w, f, 2), 2);
	memset(f[0].data, 0, 60);
	memset(f[1].data, 0, 60);
	f[1].data[12] = 0x81, f[1].data[15] = 31;
	CHECK_EQ(w->ops->tx_commit(w, lens, 2), 0);
	CHECK_EQ(counter(w, "tx_drop_untagged"), 1);
	CHECK_EQ(counter(w, "tx_drop_unmapped_vid"), 1);
	CHECK_EQ(w->st.tx_flushes, 0);
	w->ops->close(w);
	close(s);
}

/* Bursts: 192 frames flooded to two remotes in 3 sendmmsg calls; 192 datagrams read in a few recvmmsg calls. */
static void t_vxlan_batches(void)
{
	const char *args[] = { "--vni", "40:4000", "--remote", "127.0.0.1:5001", "--remote", "127.0.0.1:5002", NULL };
	int r1 = udp_sock(AF_INET, "127.0.0.1", 5001), r2 = udp_sock(AF_INET, "127.0.0.1", 5002);
	int s = socket(AF_INET, SOCK_DGRAM, 0), rcv = 1 << 20;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(4792) };
	struct wire_frame f[WIRE_BURST_MAX];
	uint32_t lens[WIRE_BURST_MAX], got[2] = { 0, 0 }, bad = 0, in = 0;
	uint8_t buf[2048];
	struct wire *w;

	CHECK(netns_ok && r1 >= 0 && r2 >= 0 && s >= 0);
	if (!netns_ok)
		return;
	setsockopt(r1, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	setsockopt(r2, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	w = open_vxlan(udp_sock(AF_INET, "127.0.0.1", 4792), args);
	CHECK(w != NULL);
	if (!w)
		return;
	for (uint32_t b = 0; b < 3; b++) {
		CHECK_EQ(w->ops->tx_reserve(w, f, WIRE_BURST_MAX), WIRE_BURST_MAX);
		for (uint32_t i = 0; i < WIRE_BURST_MAX; i++) {
			uint32_t seq = b * WIRE_BURST_MAX + i;

			lens[i] = 100;
			test_frame(f[i].data, 100, 0, 1);
			memmove(f[i].data + 16, f[i].data + 12, 100 - 16);
			f[i].data[12] = 0x81, f[i].data[13] = 0, f[i].data[14] = 0, f[i].data[15] = 40;
			memcpy(f[i].data + 18, &seq, 4);
		}
		CHECK_EQ(w->ops->tx_commit(w, lens, WIRE_BURST_MAX), WIRE_BURST_MAX);
	}
	CHECK_EQ(w->st.tx_flushes, 3); /* one sendmmsg per burst ... */
	CHECK_EQ(w->st.tx_frames, 3 * WIRE_BURST_MAX * 2); /* ... of two datagrams per frame */
	for (int r = 0; r < 2; r++) {
		int fd = r ? r2 : r1;

		while (got[r] < 3 * WIRE_BURST_MAX && wait_in(fd, POLLIN, 1000)) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			uint32_t seq;

			memcpy(&seq, buf + 8 + 14, 4);
			bad += n != 8 + 96 || buf[0] != 0x08 || (buf[4] << 16 | buf[5] << 8 | buf[6]) != 4000 ||
			       seq != got[r] || buf[8 + 12] != 0x88 || buf[8 + 13] != 0xb5;
			got[r]++;
		}
	}
	CHECK_EQ(got[0], 3 * WIRE_BURST_MAX);
	CHECK_EQ(got[1], 3 * WIRE_BURST_MAX);
	CHECK_EQ(bad, 0);
	/* 192 datagrams in: read in bursts */
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	for (uint32_t i = 0; i < 3 * WIRE_BURST_MAX; i++) {
		vx_hdr_write(buf, 4000);
		test_frame(buf + 8, 100, i, 7);
		CHECK_EQ(sendto(s, buf, 108, 0, (struct sockaddr *)&to, sizeof(to)), 108);
	}
	while (in < 3 * WIRE_BURST_MAX && wait_in(w->ops->poll_fd(w), POLLIN, 1000)) {
		int n = w->ops->rx_burst(w, f, WIRE_BURST_MAX);

		for (int i = 0; i < n; i++) {
			uint32_t seq;

			memcpy(&seq, f[i].data + 14, 4);
			bad += seq != in || f[i].len != 100 || f[i].vlan != 0x81000028u;
			in++;
		}
		w->ops->rx_release(w);
	}
	CHECK_EQ(in, 3 * WIRE_BURST_MAX);
	CHECK_EQ(bad, 0);
	printf("# 192 datagrams in %llu recvmmsg bursts\n", (unsigned long long)w->st.rx_bursts);
	CHECK(w->st.rx_bursts <= 3 * WIRE_BURST_MAX / 8);
	w->ops->close(w);
	close(r1), close(r2), close(s);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("# needs root (a network namespace, veth and vxlan devices)\n1..0\n");
		return 0;
	}
	tap_run("a network namespace of our own with a veth pair", t_setup);
	tap_run("packet: bursts sent with one send() each come out of the peer intact, in order; oversized counted", t_packet_tx);
	tap_run("packet: frames injected on the peer are read in batches, in order, tags given back, own TX not read", t_packet_rx);
	tap_run("packet: both rings wrap many times, every frame stamped, nothing lost, duplicated or reordered", t_packet_wrap);
	tap_run("vxlan over IPv4 interoperates with a Linux vxlan device both ways and learns its MAC", t_vxlan_v4);
	tap_run("vxlan over IPv6 interoperates with a Linux vxlan device both ways (--remote, --no-learn)", t_vxlan_v6);
	tap_run("vxlan: one sendmmsg per burst floods every remote; recvmmsg reads datagrams in bursts", t_vxlan_batches);
	tap_run("vxlan: hostile datagrams through the socket are dropped by reason; bad TX frames too", t_vxlan_hostile);
	if (peer_pid > 0) {
		kill(peer_pid, SIGKILL);
		waitpid(peer_pid, NULL, 0);
	}
	return tap_done();
}
