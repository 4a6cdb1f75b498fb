// SPDX-License-Identifier: MIT
//
// guest-wire - the tenant the wire suite (test/wire.test.ts) starts with
// `wire` (vpio-launch --wire-packet / --wire-udp): it uses the inherited
// socket at $VPIO_WIRE_FD the way an uplink does, under the tenant's uid,
// no capabilities, no-new-privs and the wire tenant's seccomp filter, and
// reports "key=value" facts on stdout; the test decides what is right.
//
//   packet: SO_DOMAIN, send() of 3 frames, recvmmsg() of 3 frames (the
//           test makes the peer send some: a socket never sees its own),
//           then PACKET_VERSION (TPACKET_V2), PACKET_RX_RING, PACKET_TX_RING,
//           one mmap() of both, one frame sent through the TX ring and one
//           received in the RX ring;
//           and what it must not: sendto() naming another interface,
//           sendmmsg(). Frames are broadcasts of ethertype 0x88b5 (IEEE local
//           experimental) carrying "vpio-wire".
//   udp:    getsockname(), sendmmsg() of 2 datagrams to its own address and
//           recvmmsg() of them; SO_RCVBUF and SO_SNDBUF as the monitor set them.
//   memif:  SO_ACCEPTCONN, then what a memif server does with a client the
//           test connects (test/c/memif-peer): accept4(), recvmsg() of a
//           message carrying a memfd (SCM_RIGHTS), mmap() of it, sendmsg()
//           of a reply carrying an eventfd.
//   xdp:    fd 4 is AF_XDP, fd 5 ($VPIO_WIRE_UMEM_FD) the UMEM memfd, sealed
//           (ftruncate refused); XDP_MMAP_OFFSETS and an mmap of all four
//           rings and the UMEM after the monitor's bind; one frame sent
//           through the TX ring and a sendto() kick (the test counts it on
//           the peer), frames received through fill + RX rings (the test
//           makes the peer send); and what it must not: XDP_UMEM_REG again,
//           socket(AF_XDP).
//   all:    what it must not do: bind() the wire or any socket, open an
//           AF_PACKET socket, SO_BINDTODEVICE; its namespace's interfaces.

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <linux/if_xdp.h>
#include <sys/stat.h>
#include "vpio/xsk_handoff.h"
#ifndef SOL_XDP
#define SOL_XDP 283
#endif
#include <sys/un.h>
#include <unistd.h>

#define PROBE_ETHERTYPE 0x88b5
#define TAG "vpio-wire"
#define FRAME_BYTES 64

static const char *ename(int e)
{
	switch (e) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case ENODEV: return "ENODEV";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EAGAIN: return "EAGAIN";
	case EBUSY: return "EBUSY";
	default: return strerror(e);
	}
}

static void fds(void)
{
	char out[256] = "";
	int seen[64] = { 0 }, dirfd_no;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		return;
	dirfd_no = dirfd(d);
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && fd != dirfd_no && fd < 64)
			seen[fd] = 1;
	}
	closedir(d);
	for (int i = 0; i < 64; i++)
		if (seen[i])
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%d", out[0] ? "," : "", i);
	printf("fds=%s\n", out);
}

/* Its own namespace's interfaces, from /proc/net/dev (if_nameindex() binds a netlink socket: refused). */
static void own_ifaces(void)
{
	char line[256], out[512] = "";
	FILE *f = fopen("/proc/net/dev", "r");

	for (int n = 0; f && fgets(line, sizeof(line), f); n++) {
		char *colon = strchr(line, ':'), *name = line;
		if (n < 2 || !colon)
			continue;
		*colon = '\0';
		while (*name == ' ')
			name++;
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%.16s", out[0] ? "," : "", name);
	}
	if (f)
		fclose(f);
	printf("net_ifaces=%s\n", out);
}

static void frame(uint8_t *f)
{
	memset(f, 0, FRAME_BYTES);
	memset(f, 0xff, 6);                                   /* broadcast */
	memcpy(f + 6, "\x02\x00\x00\x77\x77\x01", 6);
	f[12] = PROBE_ETHERTYPE >> 8, f[13] = PROBE_ETHERTYPE & 0xff;
	memcpy(f + 14, TAG, sizeof(TAG) - 1);
}

static int is_probe_frame(const uint8_t *f, size_t len)
{
	return len >= 14 + sizeof(TAG) - 1 && f[12] == (PROBE_ETHERTYPE >> 8) && f[13] == (PROBE_ETHERTYPE & 0xff) &&
	       memcmp(f + 14, TAG, sizeof(TAG) - 1) == 0;
}

/* recvmmsg() until `want` messages arrived (`tagged`: only ours) or 2 s passed: how many did. */
static int recv_probe_frames(int fd, int want, int tagged, int *err)
{
	uint8_t bufs[8][2048];
	struct mmsghdr msgs[8];
	struct iovec iov[8];
	int got = 0;

	*err = 0;
	for (int rounds = 0; got < want && rounds < 20; rounds++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		for (int i = 0; i < 8; i++) {
			iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = sizeof(bufs[i]) };
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		int n = recvmmsg(fd, msgs, 8, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN)
				continue;
			*err = errno;
			return got;
		}
		for (int i = 0; i < n; i++)
			if (!tagged || is_probe_frame(bufs[i], msgs[i].msg_len) || memcmp(bufs[i], TAG, sizeof(TAG) - 1) == 0)
				got++;
	}
	return got;
}

static void send_two(int fd, const uint8_t *payload, size_t len, const struct sockaddr *to, socklen_t tolen)
{
	struct mmsghdr msgs[2];
	struct iovec iov[2];

	for (int i = 0; i < 2; i++) {
		iov[i] = (struct iovec){ .iov_base = (void *)payload, .iov_len = len };
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = (void *)to;
		msgs[i].msg_hdr.msg_namelen = tolen;
	}
	int n = sendmmsg(fd, msgs, 2, 0);
	printf("sendmmsg=%s\n", n == 2 ? "2" : n < 0 ? ename(errno) : "short");
}

static void packet_rings(int fd)
{
	int v = TPACKET_V2;
	struct tpacket_req req = { .tp_block_size = 4096, .tp_block_nr = 4, .tp_frame_size = 2048, .tp_frame_nr = 8 };
	uint8_t f[FRAME_BYTES];

	printf("packet_version=%s\n", setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0 ? ename(errno) : "OK");
	printf("rx_ring=%s\n", setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0 ? ename(errno) : "OK");
	printf("tx_ring=%s\n", setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) < 0 ? ename(errno) : "OK");
	size_t ring_bytes = (size_t)req.tp_block_size * req.tp_block_nr;
	uint8_t *map = mmap(NULL, 2 * ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("mmap=%s\n", map == MAP_FAILED ? ename(errno) : "OK");
	if (map == MAP_FAILED)
		return;
	uint8_t *rx = map, *tx = map + ring_bytes;

	/* one frame through the TX ring: slot 0, data at TPACKET2_HDRLEN - sockaddr_ll */
	struct tpacket2_hdr *th = (struct tpacket2_hdr *)tx;
	frame(f);
	memcpy(tx + TPACKET2_HDRLEN - sizeof(struct sockaddr_ll), f, sizeof(f));
	th->tp_len = sizeof(f);
	__atomic_store_n(&th->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
	ssize_t sent = send(fd, NULL, 0, 0);
	printf("tx_ring_send=%s\n", sent == (ssize_t)sizeof(f) ? "OK" : sent < 0 ? ename(errno) : "short");

	/* and a frame (the peer's) in the RX ring */
	int seen = 0;
	for (int rounds = 0; !seen && rounds < 20; rounds++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		poll(&p, 1, 100);
		for (unsigned i = 0; i < req.tp_frame_nr && !seen; i++) {
			struct tpacket2_hdr *h = (struct tpacket2_hdr *)(rx + (size_t)i * req.tp_frame_size);
			if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
				continue;
			seen = h->tp_snaplen >= 14;
			__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		}
	}
	printf("rx_ring_recv=%s\n", seen ? "OK" : "none");
	munmap(map, 2 * ring_bytes);
}

static void packet(int fd)
{
	uint8_t f[FRAME_BYTES];
	int err;

	frame(f);
	int sent = 0;
	for (int i = 0; i < 3; i++)
		sent += send(fd, f, sizeof(f), 0) == (ssize_t)sizeof(f);
	printf("send=%s\n", sent == 3 ? "OK" : ename(errno));
	int got = recv_probe_frames(fd, 3, 0, &err); /* the peer's (a packet socket never sees its own: skb_loop_sk) */
	printf("recvmmsg=%d%s%s\n", got, err ? " " : "", err ? ename(err) : "");
	packet_rings(fd);

	/* a frame addressed to another interface of the socket's (the host's) namespace: ifindex 1, its lo */
	struct sockaddr_ll other = { .sll_family = AF_PACKET, .sll_protocol = htons(PROBE_ETHERTYPE), .sll_ifindex = 1, .sll_halen = 6 };
	memset(other.sll_addr, 0xff, 6);
	printf("sendto_other_if=%s\n", sendto(fd, f, sizeof(f), 0, (struct sockaddr *)&other, sizeof(other)) < 0 ? ename(errno) : "OK");
	send_two(fd, f, sizeof(f), NULL, 0); /* sendmmsg: refused whatever its msg_name (BPF cannot read it) */
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = 1 };
	printf("rebind_wire=%s\n", bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ? ename(errno) : "OK");
	printf("bindtodevice=%s\n", setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) < 0 ? ename(errno) : "OK");
}

static void udp(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int err;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		printf("getsockname=%s\n", ename(errno));
		return;
	}
	unsigned port = ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port) : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	inet_ntop(ss.ss_family, ss.ss_family == AF_INET ? (void *)&((struct sockaddr_in *)&ss)->sin_addr : (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
	printf("sockname=%s%s%s:%u\n", ss.ss_family == AF_INET6 ? "[" : "", host, ss.ss_family == AF_INET6 ? "]" : "", port);
	send_two(fd, (const uint8_t *)TAG, sizeof(TAG) - 1, (struct sockaddr *)&ss, len);
	printf("recvmmsg=%d\n", recv_probe_frames(fd, 2, 1, &err));
	printf("rebind_wire=%s\n", bind(fd, (struct sockaddr *)&ss, len) < 0 ? ename(errno) : "OK");
	int rcv = 0, snd = 0;
	socklen_t il = sizeof(int);
	(void)getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, &il);
	il = sizeof(int);
	(void)getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, &il);
	printf("rcvbuf=%d\nsndbuf=%d\n", rcv, snd);
}

/* One fd passed with a message: what the memif control channel does. */
static void memif(int fd)
{
	int v = 0, c = -1;
	socklen_t len = sizeof(v);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[64] = "", ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm;
	int memfd = -1;

	printf("acceptconn=%s\n", getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0 ? ename(errno) : v ? "1" : "0");
	if (poll(&p, 1, 5000) == 1)
		c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	printf("accept4=%s\n", c < 0 ? ename(errno) : "OK");
	if (c < 0)
		return;
	ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
	printf("recvmsg=%s\n", n < 0 ? ename(errno) : "OK");
	for (cm = n < 0 ? NULL : CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&memfd, CMSG_DATA(cm), sizeof(int));
	printf("scm_rights=%s\n", memfd >= 0 ? "1" : "0");
	if (memfd >= 0) {
		char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
		printf("mmap_memfd=%s\n", m == MAP_FAILED ? ename(errno) : "OK");
		if (m != MAP_FAILED) {
			printf("memfd_text=%.16s\n", m);
			munmap(m, 4096);
		}
		close(memfd);
	}
	int efd = eventfd(0, EFD_CLOEXEC);
	mh = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	iov.iov_len = 5;
	memcpy(buf, "reply", 5);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET, cm->cmsg_type = SCM_RIGHTS, cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &efd, sizeof(int));
	printf("sendmsg=%s\n", sendmsg(c, &mh, MSG_NOSIGNAL) < 0 ? ename(errno) : "OK");
	close(efd);
	close(c);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	printf("rebind_wire=%s\n", bind(fd, (struct sockaddr *)&sa, sizeof(sa_family_t)) < 0 ? ename(errno) : "OK");
}

/* The AF_XDP wire vpio-launch --wire-xdp hands over (vpio/xsk_handoff.h sizes). */
static void xdp(int fd)
{
	const char *u = getenv("VPIO_WIRE_UMEM_FD");
	int umem = u ? atoi(u) : -1;
	struct stat st;
	struct xdp_mmap_offsets off;
	socklen_t len = sizeof(off);

	printf("umem_fd=%s\n", u ? u : "");
	if (umem < 0 || fstat(umem, &st) < 0)
		return;
	uint32_t fsz = (uint32_t)(st.st_size / VPIO_XSK_FRAMES);
	int seals = fcntl(umem, F_GET_SEALS);
	printf("umem_bytes=%lld\numem_sealed=%d\n", (long long)st.st_size,
	       seals >= 0 && (seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) == (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
	printf("umem_truncate=%s\n", ftruncate(umem, 4096) < 0 ? ename(errno) : "OK");
	uint8_t *area = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, umem, 0);
	printf("umem_mmap=%s\n", area == MAP_FAILED ? ename(errno) : "OK");
	printf("mmap_offsets=%s\n", getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &len) < 0 ? ename(errno) : "OK");
	if (area == MAP_FAILED)
		return;
	uint8_t *fr = mmap(NULL, off.fr.desc + VPIO_XSK_FILL_RING * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, XDP_UMEM_PGOFF_FILL_RING);
	uint8_t *cr = mmap(NULL, off.cr.desc + VPIO_XSK_COMP_RING * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, XDP_UMEM_PGOFF_COMPLETION_RING);
	uint8_t *rx = mmap(NULL, off.rx.desc + VPIO_XSK_RX_RING * sizeof(struct xdp_desc), PROT_READ | PROT_WRITE, MAP_SHARED, fd, XDP_PGOFF_RX_RING);
	uint8_t *tx = mmap(NULL, off.tx.desc + VPIO_XSK_TX_RING * sizeof(struct xdp_desc), PROT_READ | PROT_WRITE, MAP_SHARED, fd, XDP_PGOFF_TX_RING);
	int ok = fr != MAP_FAILED && cr != MAP_FAILED && rx != MAP_FAILED && tx != MAP_FAILED;
	printf("rings_mmap=%s\n", ok ? "OK" : ename(errno));
	if (!ok)
		return;
	/* TX: one probe frame from the first TX frame, then the kick */
	uint64_t addr = (uint64_t)VPIO_XSK_RX_FRAMES * fsz;
	frame(area + addr);
	uint32_t *tprod = (uint32_t *)(tx + off.tx.producer);
	struct xdp_desc *td = (struct xdp_desc *)(tx + off.tx.desc);
	uint32_t tp = *tprod;
	td[tp & (VPIO_XSK_TX_RING - 1)] = (struct xdp_desc){ .addr = addr, .len = 60 };
	__atomic_store_n(tprod, tp + 1, __ATOMIC_RELEASE);
	printf("tx_kick=%s\n", sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN && errno != EBUSY ? ename(errno) : "OK");
	/* RX: 64 frames to the fill ring, then wait for the peer's */
	uint32_t *fprod = (uint32_t *)(fr + off.fr.producer);
	uint64_t *fd_ring = (uint64_t *)(fr + off.fr.desc);
	uint32_t fp = *fprod;
	for (uint32_t i = 0; i < 64; i++)
		fd_ring[(fp + i) & (VPIO_XSK_FILL_RING - 1)] = (uint64_t)i * fsz;
	__atomic_store_n(fprod, fp + 64, __ATOMIC_RELEASE);
	uint32_t *rprod = (uint32_t *)(rx + off.rx.producer), *rcons = (uint32_t *)(rx + off.rx.consumer);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int got = 0;
	for (int i = 0; i < 50 && !got; i++) {
		(void)poll(&p, 1, 100);
		got = (int)(__atomic_load_n(rprod, __ATOMIC_ACQUIRE) - *rcons);
	}
	printf("rx_frames=%s\n", got > 0 ? "OK" : "0");
	/* what it must not */
	struct xdp_umem_reg reg = { .addr = (uint64_t)(uintptr_t)area, .len = (uint64_t)st.st_size, .chunk_size = fsz };
	printf("umem_reg_again=%s\n", setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) < 0 ? ename(errno) : "OK");
	int s = socket(AF_XDP, SOCK_RAW, 0);
	printf("xdp_socket=%s\n", s < 0 ? ename(errno) : "OK");
	struct sockaddr_xdp sx = { .sxdp_family = AF_XDP, .sxdp_ifindex = 1 };
	printf("rebind_wire=%s\n", bind(fd, (struct sockaddr *)&sx, sizeof(sx)) < 0 ? ename(errno) : "OK");
}

int main(void)
{
	const char *fd_text = getenv("VPIO_WIRE_FD"), *kind = getenv("VPIO_WIRE_KIND"), *name = getenv("VPIO_WIRE_NAME");
	int fd = fd_text ? atoi(fd_text) : -1, v;
	socklen_t len = sizeof(v);

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("wire_fd=%s\nwire_kind=%s\nwire_name=%s\n", fd_text ? fd_text : "", kind ? kind : "", name ? name : "");
	fds();
	own_ifaces();
	printf("so_domain=%s\n", getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 ? ename(errno) : v == AF_PACKET ? "packet" : v == AF_INET ? "inet" : v == AF_INET6 ? "inet6" : v == AF_UNIX ? "unix" : v == AF_XDP ? "xdp" : "other");
	if (kind && strcmp(kind, "packet") == 0)
		packet(fd);
	else if (kind && strcmp(kind, "udp") == 0)
		udp(fd);
	else if (kind && strcmp(kind, "memif") == 0)
		memif(fd);
	else if (kind && strcmp(kind, "xdp") == 0)
		xdp(fd);

	int s = socket(AF_PACKET, SOCK_RAW, 0);
	printf("packet_socket=%s\n", s < 0 ? ename(errno) : "OK");
	s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in any = { .sin_family = AF_INET };
	printf("bind_new_socket=%s\n", s < 0 ? ename(errno) : bind(s, (struct sockaddr *)&any, sizeof(any)) < 0 ? ename(errno) : "OK");
	printf("done=1\n");
	return 0;
}
