// SPDX-License-Identifier: MIT
//
// wire.c - an uplink tenant's wire socket (vpio-launch --wire-packet IFNAME,
// --wire-udp ADDR:PORT). Runs in the MONITOR: still root, still in vpiod's
// (the host's) network namespace, before the `namespaces` step gives the
// domain its own empty one. The socket is the tenant's one way out: it is
// created and bound here, placed at fd 4 of the guest, and the guest can
// only use it as it is (the seccomp filter of a wire tenant denies bind(),
// so an AF_PACKET socket cannot be re-bound to another host interface, and
// an AF_PACKET tenant's also refuses every send that could name another
// interface: see seccomp.c; it cannot open another socket there: no
// CAP_NET_RAW, and its own namespace is empty).
//
//   packet  socket(AF_PACKET, SOCK_RAW, 0) (protocol 0: nothing is queued on
//           it before the bind), bind(sll_ifindex, ETH_P_ALL), then
//           PACKET_MR_PROMISC on that interface for the socket's lifetime (a
//           port carrying other hosts' MACs; the kernel drops the membership
//           when the last descriptor closes). The interface must exist and
//           be up.
//   udp     socket(AF_INET or AF_INET6, SOCK_DGRAM) bound to ADDR:PORT
//           (IPv6: IPV6_V6ONLY). No SO_REUSEADDR: a taken address is an error.
//   memif   socket(AF_UNIX, SOCK_SEQPACKET) bound to PATH and listening (the
//           tenant serves memif clients on it: it may accept, receive their
//           memfds and eventfds, and map them; all of that is on this one
//           socket). PATH's directory must exist, be a directory owned by
//           root (or us) and not be group/other-writable (so nobody swaps
//           the file between bind and chmod); the file gets --wire-memif-mode
//           (0600 by default). A stale socket file (nobody listening) is
//           replaced; a live one, or anything that is not a socket, is
//           refused. wire_close() unlinks it when the domain is gone.
//   xdp     the privileged half of an AF_XDP wire (@vpio/kernel's
//           xsk_handoff.c): vpio's XDP program attached to IFNAME, a sealed
//           memfd UMEM, an AF_XDP socket bound to (IFNAME, queue) and put
//           into the program's XSKMAP. The guest gets the socket at fd 4 and
//           the memfd at fd 5 ($VPIO_WIRE_UMEM_FD); the monitor keeps the
//           program and detaches it in wire_close(). An interface with more
//           than one active rx queue is refused (frames on the others would
//           bypass the wire).
//
// Errors come back as -errno with a one-line reason ("no interface eth9",
// "10.99.0.1:4789: address in use"); nothing is left open on failure.

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "launch.h"

int wire_parse_udp(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port_text;
	size_t n;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		n = (size_t)(close - s - 1);
		if (n == 0 || n >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		port_text = close + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return -EINVAL;
		n = (size_t)(colon - s);
		if (n == 0 || n >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, n);
		host[n] = '\0';
		port_text = colon + 1;
	}
	if (!port_text[0] || strlen(port_text) > 5 || strspn(port_text, "0123456789") != strlen(port_text))
		return -EINVAL;
	long port = strtol(port_text, NULL, 10);
	if (port < 1 || port > 65535)
		return -EINVAL;
	if (s[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
	}
	return 0;
}

static int open_packet(const struct launch_wire *w, char *why, size_t why_bytes)
{
	struct ifreq ifr;
	struct sockaddr_ll sll;
	struct packet_mreq mreq;
	unsigned ifindex = if_nametoindex(w->name);
	int s, err;

	if (ifindex == 0) {
		err = errno == ENODEV || errno == ENXIO ? -ENODEV : -errno;
		snprintf(why, why_bytes, err == -ENODEV ? "no interface %s" : "interface %s: %s", w->name, strerror(-err));
		return err;
	}
	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s < 0) {
		err = -errno;
		snprintf(why, why_bytes, "socket(AF_PACKET): %s%s", strerror(-err), err == -EPERM ? " (needs root: CAP_NET_RAW in vpiod's network namespace)" : "");
		return err;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", w->name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		err = -errno;
		snprintf(why, why_bytes, "interface %s: SIOCGIFFLAGS: %s", w->name, strerror(-err));
		goto fail;
	}
	if (!(ifr.ifr_flags & IFF_UP)) {
		err = -ENETDOWN;
		snprintf(why, why_bytes, "interface %s is down (ip link set %s up)", w->name, w->name);
		goto fail;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)ifindex;
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		err = -errno;
		snprintf(why, why_bytes, "interface %s: bind: %s", w->name, strerror(-err));
		goto fail;
	}
	if (setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, w->name, (socklen_t)strlen(w->name) + 1) < 0) {
		err = -errno;
		snprintf(why, why_bytes, "interface %s: SO_BINDTODEVICE: %s", w->name, strerror(-err));
		goto fail;
	}
	memset(&mreq, 0, sizeof(mreq));
	mreq.mr_ifindex = (int)ifindex;
	mreq.mr_type = PACKET_MR_PROMISC;
	if (setsockopt(s, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) < 0) {
		err = -errno;
		snprintf(why, why_bytes, "interface %s: promiscuous mode: %s", w->name, strerror(-err));
		goto fail;
	}
	return s;
fail:
	close(s);
	return err;
}

/* Receive and send buffer of a UDP wire (the kernel doubles it for its bookkeeping). */
#define WIRE_UDP_BUF_BYTES (4 << 20)

static int open_udp(const struct launch_wire *w, char *why, size_t why_bytes)
{
	int family = w->addr.ss_family, one = 1, s, err;

	s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		err = -errno;
		snprintf(why, why_bytes, "%s: socket: %s", w->name, strerror(-err));
		return err;
	}
	if (family == AF_INET6 && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) {
		err = -errno;
		snprintf(why, why_bytes, "%s: IPV6_V6ONLY: %s", w->name, strerror(-err));
		goto fail;
	}
	/*
	 * A tunnel takes bursts of datagrams: the default buffer (rmem_default,
	 * ~208 KiB) overflowed under a 1 Mpps flood (UDP RcvbufErrors). The
	 * monitor may pass net.core.[rw]mem_max (CAP_NET_ADMIN: the *FORCE
	 * options); the tenant could not. Best effort: a kernel that refuses
	 * keeps its default.
	 */
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ WIRE_UDP_BUF_BYTES }, sizeof(int)) < 0)
		(void)setsockopt(s, SOL_SOCKET, SO_RCVBUF, &(int){ WIRE_UDP_BUF_BYTES }, sizeof(int));
	if (setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &(int){ WIRE_UDP_BUF_BYTES }, sizeof(int)) < 0)
		(void)setsockopt(s, SOL_SOCKET, SO_SNDBUF, &(int){ WIRE_UDP_BUF_BYTES }, sizeof(int));
	if (bind(s, (const struct sockaddr *)&w->addr, w->addrlen) < 0) {
		err = -errno;
		if (err == -EADDRINUSE)
			snprintf(why, why_bytes, "%s: address in use", w->name);
		else if (err == -EADDRNOTAVAIL)
			snprintf(why, why_bytes, "%s: no such local address in vpiod's network namespace", w->name);
		else
			snprintf(why, why_bytes, "%s: bind: %s", w->name, strerror(-err));
		goto fail;
	}
	return s;
fail:
	close(s);
	return err;
}

/* The directory part of path (absolute, checked by the caller) into dir, the base into *base. */
static void split_path(const char *path, char *dir, size_t dir_bytes, const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t n = (size_t)(slash - path);

	if (n == 0)
		n = 1; /* "/x": the root */
	if (n >= dir_bytes)
		n = dir_bytes - 1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	*base = slash + 1;
}

static int open_memif(struct launch_wire *w, char *why, size_t why_bytes)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	struct stat st;
	int dfd, tmp, s = -1, err;

	w->dir_fd = -1;
	if (strlen(w->name) >= sizeof(sa.sun_path)) {
		snprintf(why, why_bytes, "%s: path too long for a Unix socket (at most %zu bytes)", w->name, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, w->name);
	split_path(w->name, dir, sizeof(dir), &w->base);
	tmp = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tmp < 0) {
		err = -errno;
		snprintf(why, why_bytes, "%s: directory %s: %s", w->name, dir, strerror(-err));
		return err;
	}
	/* above 9: never the 3 or 4 the guest's descriptors are moved to */
	dfd = fcntl(tmp, F_DUPFD_CLOEXEC, 10);
	err = dfd < 0 ? -errno : 0;
	close(tmp);
	if (err) {
		snprintf(why, why_bytes, "%s: F_DUPFD: %s", w->name, strerror(-err));
		return err;
	}
	if (fstat(dfd, &st) < 0) {
		err = -errno;
		snprintf(why, why_bytes, "%s: directory %s: %s", w->name, dir, strerror(-err));
		goto fail;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		err = -EPERM;
		snprintf(why, why_bytes, "%s: directory %s must be owned by root and not group/other-writable (it is uid %u, mode %04o)",
			 w->name, dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	/* a socket file nobody listens on is stale and goes; anything else stays */
	if (fstatat(dfd, w->base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		int probe, rc;

		if (!S_ISSOCK(st.st_mode)) {
			err = -EEXIST;
			snprintf(why, why_bytes, "%s: exists and is not a socket", w->name);
			goto fail;
		}
		probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (probe < 0) {
			err = -errno;
			snprintf(why, why_bytes, "%s: socket: %s", w->name, strerror(-err));
			goto fail;
		}
		rc = connect(probe, (const struct sockaddr *)&sa, sizeof(sa));
		err = rc == 0 || errno == EAGAIN ? -EADDRINUSE : 0;
		close(probe);
		if (err) {
			snprintf(why, why_bytes, "%s: in use (something listens on it)", w->name);
			goto fail;
		}
		if (unlinkat(dfd, w->base, 0) < 0) {
			err = -errno;
			snprintf(why, why_bytes, "%s: removing the stale socket: %s", w->name, strerror(-err));
			goto fail;
		}
	} else if (errno != ENOENT) {
		err = -errno;
		snprintf(why, why_bytes, "%s: %s", w->name, strerror(-err));
		goto fail;
	}
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0) {
		err = -errno;
		snprintf(why, why_bytes, "%s: socket: %s", w->name, strerror(-err));
		goto fail;
	}
	if (bind(s, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		snprintf(why, why_bytes, "%s: bind: %s", w->name, strerror(-err));
		goto fail;
	}
	/* the directory is closed to other writers: the file is still ours */
	if (fchmodat(dfd, w->base, w->mode ? w->mode : 0600, 0) < 0 || fstatat(dfd, w->base, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    listen(s, 16) < 0) {
		err = -errno;
		snprintf(why, why_bytes, "%s: chmod/listen: %s", w->name, strerror(-err));
		unlinkat(dfd, w->base, 0);
		goto fail;
	}
	w->ino = (unsigned long)st.st_ino;
	w->dir_fd = dfd;
	return s;
fail:
	if (s >= 0)
		close(s);
	close(dfd);
	return err;
}

/* fd moved to the lowest free number above 9, O_CLOEXEC; the old one closed. -errno on failure (fd closed too). */
static int move_high(int fd)
{
	int hi = fcntl(fd, F_DUPFD_CLOEXEC, 10), err = hi < 0 ? -errno : 0;

	close(fd);
	return hi < 0 ? err : hi;
}

static int open_xdp(struct launch_wire *w, char *why, size_t why_bytes)
{
#ifdef VPIO_NO_XDP
	(void)w;
	snprintf(why, why_bytes, "this vpio-launch was built without libbpf: install libbpf-dev and rebuild (npm run build)");
	return -EOPNOTSUPP;
#else
	struct vpio_xsk_req r = {
		.ifname = w->name,
		.obj = w->xdp_obj,
		.queue = w->xdp_queue,
		.bind = (enum vpio_xsk_pref)w->xdp_bind,
		.attach = (enum vpio_xsk_pref)w->xdp_attach,
		.frame_size = w->xdp_frame ? w->xdp_frame : 2048,
	};
	int err = vpio_xsk_setup(&r, &w->xsk, why, why_bytes), s;

	if (err < 0)
		return err;
	/* above 9: libbpf's descriptors sit right after fd 3, where the guest's 4 and 5 go */
	s = move_high(w->xsk.sock);
	w->xsk.sock = -1;
	w->umem_fd = move_high(w->xsk.umem);
	w->xsk.umem = -1;
	if (s < 0 || w->umem_fd < 0) {
		err = s < 0 ? s : w->umem_fd;
		if (s >= 0)
			close(s);
		if (w->umem_fd >= 0)
			close(w->umem_fd);
		w->umem_fd = -1;
		vpio_xsk_detach(&w->xsk);
		snprintf(why, why_bytes, "%s: F_DUPFD: %s", w->name, strerror(-err));
		return err;
	}
	w->xdp_native = w->xsk.native;
	w->xdp_zerocopy = w->xsk.zerocopy;
	return s;
#endif
}

const char *wire_kind_name(enum wire_kind k)
{
	switch (k) {
	case WIRE_PACKET: return "packet";
	case WIRE_UDP: return "udp";
	case WIRE_MEMIF: return "memif";
	case WIRE_XDP: return "xdp";
	default: return "none";
	}
}

int wire_open(struct launch_wire *w, char *why, size_t why_bytes)
{
	w->dir_fd = -1;
	w->umem_fd = -1;
	switch (w->kind) {
	case WIRE_PACKET: return open_packet(w, why, why_bytes);
	case WIRE_UDP: return open_udp(w, why, why_bytes);
	case WIRE_MEMIF: return open_memif(w, why, why_bytes);
	case WIRE_XDP: return open_xdp(w, why, why_bytes);
	default: snprintf(why, why_bytes, "no wire asked for"); return -EINVAL;
	}
}

void wire_close(struct launch_wire *w)
{
	struct stat st;

#ifndef VPIO_NO_XDP
	if (w->kind == WIRE_XDP) {
		vpio_xsk_detach(&w->xsk);
		return;
	}
#endif
	if (w->kind != WIRE_MEMIF || w->dir_fd < 0)
		return;
	if (fstatat(w->dir_fd, w->base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode) &&
	    (unsigned long)st.st_ino == w->ino)
		(void)unlinkat(w->dir_fd, w->base, 0); /* best effort: a later wire_open() replaces a stale file */
	close(w->dir_fd);
	w->dir_fd = -1;
}
