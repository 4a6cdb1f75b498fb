// SPDX-License-Identifier: MIT
//
// wire_vxlan.c - --wire vxlan: VXLAN (RFC 7348) over the UDP socket
// vpio-launch bound to the local address:port and passed at $VPIO_WIRE_FD.
// The vif is a VLAN trunk: the frame's 802.1Q VID picks the VNI (--vni
// VID:VNI,...), the codec (vxlan.c) strips the tag and prepends the header;
// on receive the VNI's VID is handed to the pump as a tag to insert.
//
//   RX  one recvmmsg() per burst into WIRE_BURST_MAX fixed buffers; every
//       datagram checked (vx_decap: each drop counted by reason); the inner
//       source MAC learned per VNI -> the outer source address with the
//       --dst-port (a VTEP sends from a flow-hashed source port but listens
//       on the VXLAN port; a fixed table, vx_fdb; --no-learn: none).
//   TX  tx_reserve hands out fixed buffers with headroom; tx_commit encodes
//       each frame in place and builds one message per destination: the
//       learned address of (VNI, dst MAC), or every --remote for broadcast,
//       multicast and unknown unicast; one sendmmsg() per burst (more only
//       when the kernel takes part of it or refuses one message).
//
// Outer addresses: IPv4 or IPv6, as the socket is; on an AF_INET6 socket
// IPv4 remotes become v4-mapped (unless it is IPV6_V6ONLY: refused at open).
//
// Concurrency: one thread (the pump's) owns everything; nothing is shared.
// No allocation after open, no lock, syscalls per burst only (one clock
// read per burst for the learning table's ageing).

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vxlan.h"
#include "wire.h"

#define VXW_MAX_REMOTES 16u
#define VXW_TX_HEADROOM 8u /* >= VX_TX_HEADROOM, keeps the frame 8-byte aligned */
#define VXW_FDB_DEFAULT 4096u
#define VXW_AGE_DEFAULT_S 300u

struct vxlan_opts {
	struct vx_map map;
	const char *remote[VXW_MAX_REMOTES];
	uint32_t nremotes;
	int no_learn;
	uint32_t dst_port;
	uint32_t fdb_size;
	uint32_t age_s;
};

struct vxlan_wire {
	struct wire w;
	int fd;
	int v6;                   /* the socket is AF_INET6 */
	uint32_t frame_max;
	int learn;
	uint16_t dst_port_be;     /* --dst-port, network order: where learned VTEPs listen */
	struct vx_map map;
	struct vx_addr remote[VXW_MAX_REMOTES];
	uint32_t nremotes;
	struct vx_fdb fdb;
	struct vx_fdb_entry *fdb_mem;
	/* RX */
	uint8_t *rx_buf;
	uint32_t rx_buf_size;     /* frame_max + 4: a VXLAN header plus the longest inner frame (frame_max - tag) */
	uint32_t rx_held;         /* datagrams handed out by the last rx_burst */
	struct mmsghdr rx_msg[WIRE_BURST_MAX];
	struct iovec rx_iov[WIRE_BURST_MAX];
	struct vx_addr rx_from[WIRE_BURST_MAX];
	/* TX */
	uint8_t *tx_buf;
	uint32_t tx_buf_size;     /* VXW_TX_HEADROOM + frame_max, rounded up to 64 */
	uint32_t tx_reserved;
	struct iovec tx_iov[WIRE_BURST_MAX];
	struct mmsghdr tx_msg[WIRE_BURST_MAX * VXW_MAX_REMOTES];
	/* counters */
	uint64_t rx_drop[VX_RX_NREASONS];
	uint64_t tx_drop[VX_TX_NREASONS];
	uint64_t tx_drop_no_remote;   /* broadcast/unknown with no --remote */
	uint64_t tx_drop_send;        /* messages sendmmsg refused (EMSGSIZE, unreachable, ...) */
	uint64_t tx_drop_busy;        /* messages not sent: the socket buffer was full (EAGAIN, ENOBUFS) */
	uint64_t tx_flood;            /* frames sent to every --remote */
	uint64_t tx_learned;          /* frames sent to a learned address */
	uint64_t rx_errors;           /* recvmmsg errors (not EAGAIN) */
	uint64_t rx_datagrams;
};

static inline struct vxlan_wire *vw(struct wire *w)
{
	return (struct vxlan_wire *)w;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + 1u; /* never 0: 0 marks a free entry */
}

/* ------------------------------------------------------------------------ */
/* RX                                                                        */

static int vxlan_rx_burst(struct wire *w, struct wire_frame f[], uint32_t n)
{
	struct vxlan_wire *v = vw(w);
	uint32_t got = 0;
	uint64_t bytes = 0, now = 0;
	int r;

	if (n > WIRE_BURST_MAX)
		n = WIRE_BURST_MAX;
	for (uint32_t i = 0; i < n; i++) {
		v->rx_iov[i].iov_base = v->rx_buf + (size_t)i * v->rx_buf_size;
		v->rx_iov[i].iov_len = v->rx_buf_size;
		v->rx_msg[i].msg_hdr = (struct msghdr){ .msg_name = &v->rx_from[i].u, .msg_namelen = sizeof(v->rx_from[i].u),
							.msg_iov = &v->rx_iov[i], .msg_iovlen = 1 };
		v->rx_msg[i].msg_len = 0;
	}
	r = recvmmsg(v->fd, v->rx_msg, n, MSG_DONTWAIT, NULL);
	if (r < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		if (errno == EBADF || errno == ENOTSOCK)
			return -errno;
		v->rx_errors++; /* a queued ICMP error and the like: the next call goes on */
		return 0;
	}
	v->rx_datagrams += (uint64_t)r;
	if (v->learn && r > 0)
		now = now_ns();
	for (uint32_t i = 0; i < (uint32_t)r; i++) {
		struct vx_rx rx;
		enum vx_rx_drop why = vx_decap(&v->map, v->rx_iov[i].iov_base, v->rx_msg[i].msg_len,
					       (v->rx_msg[i].msg_hdr.msg_flags & MSG_TRUNC) != 0, v->frame_max, &rx);

		if (why != VX_RX_OK) {
			v->rx_drop[why]++;
			v->w.st.rx_drops++;
			continue;
		}
		if (v->learn) {
			/* a VTEP sends from any source port (a flow hash) but listens on the VXLAN port: learn the address */
			v->rx_from[i].len = v->rx_msg[i].msg_hdr.msg_namelen;
			if (v->rx_from[i].u.sa.sa_family == AF_INET)
				v->rx_from[i].u.v4.sin_port = v->dst_port_be;
			else
				v->rx_from[i].u.v6.sin6_port = v->dst_port_be;
			vx_fdb_learn(&v->fdb, rx.vni, rx.frame + 6, &v->rx_from[i], now);
		}
		f[got].data = (uint8_t *)(uintptr_t)rx.frame;
		f[got].len = rx.len;
		f[got].vlan = VX_TPID_8021Q << 16 | rx.vid;
		bytes += rx.len;
		got++;
	}
	if (got) {
		v->w.st.rx_frames += got;
		v->w.st.rx_bytes += bytes;
		v->w.st.rx_bursts++;
	}
	v->rx_held = (uint32_t)r;
	return (int)got;
}

static void vxlan_rx_release(struct wire *w)
{
	vw(w)->rx_held = 0; /* the buffers are ours: the next recvmmsg reuses them */
}

/* ------------------------------------------------------------------------ */
/* TX                                                                        */

static uint32_t vxlan_tx_reserve(struct wire *w, struct wire_frame f[], uint32_t n)
{
	struct vxlan_wire *v = vw(w);

	if (n > WIRE_BURST_MAX)
		n = WIRE_BURST_MAX;
	for (uint32_t i = 0; i < n; i++) {
		f[i].data = v->tx_buf + (size_t)i * v->tx_buf_size + VXW_TX_HEADROOM;
		f[i].len = v->frame_max;
		f[i].vlan = 0;
	}
	v->tx_reserved = n;
	return n;
}

static void add_msg(struct vxlan_wire *v, uint32_t *m, struct iovec *iov, const struct vx_addr *to)
{
	v->tx_msg[*m].msg_hdr = (struct msghdr){ .msg_name = (void *)(uintptr_t)&to->u, .msg_namelen = to->len,
						 .msg_iov = iov, .msg_iovlen = 1 };
	v->tx_msg[*m].msg_len = 0;
	(*m)++;
}

static int vxlan_tx_commit(struct wire *w, const uint32_t lens[], uint32_t n)
{
	struct vxlan_wire *v = vw(w);
	uint32_t m = 0, frames = 0, sent = 0;
	uint64_t now = 0, bytes = 0;

	if (n > v->tx_reserved)
		n = v->tx_reserved;
	v->tx_reserved = 0;
	if (n && v->learn)
		now = now_ns();
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *frame = v->tx_buf + (size_t)i * v->tx_buf_size + VXW_TX_HEADROOM;
		struct vx_tx tx;
		enum vx_tx_drop why = lens[i] <= v->frame_max ? vx_encap(&v->map, frame, lens[i], &tx) : VX_TX_RUNT;
		const struct vx_addr *to = NULL;

		if (why != VX_TX_OK) {
			v->tx_drop[why]++;
			v->w.st.tx_drops++;
			continue;
		}
		v->tx_iov[frames] = (struct iovec){ tx.dgram, tx.len };
		if (v->learn && !(tx.dst[0] & 1u))
			to = vx_fdb_lookup(&v->fdb, tx.vni, tx.dst, now);
		if (to) {
			add_msg(v, &m, &v->tx_iov[frames], to);
			v->tx_learned++;
		} else if (v->nremotes) {
			for (uint32_t r = 0; r < v->nremotes; r++)
				add_msg(v, &m, &v->tx_iov[frames], &v->remote[r]);
			v->tx_flood++;
		} else {
			v->tx_drop_no_remote++;
			v->w.st.tx_drops++;
			continue;
		}
		frames++;
	}
	/* one sendmmsg for the burst; again only after a partial send or a refused message */
	while (sent < m) {
		int r = sendmmsg(v->fd, v->tx_msg + sent, m - sent, MSG_DONTWAIT);

		v->w.st.tx_flushes++;
		if (r > 0) {
			for (uint32_t i = sent; i < sent + (uint32_t)r; i++)
				bytes += v->tx_msg[i].msg_len;
			sent += (uint32_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EBADF || errno == ENOTSOCK))
			return -errno;
		if (r < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
			v->tx_drop_busy += m - sent; /* the socket's buffer is full: the rest of the burst is dropped */
			v->w.st.tx_drops += m - sent;
			break;
		}
		v->tx_drop_send++; /* this message is refused (EMSGSIZE, unreachable): skip it */
		v->w.st.tx_drops++;
		sent++;
	}
	v->w.st.tx_frames += sent;
	v->w.st.tx_bytes += bytes;
	return (int)frames;
}

/* ------------------------------------------------------------------------ */

static int vxlan_poll_fd(const struct wire *w)
{
	return ((const struct vxlan_wire *)w)->fd;
}

static uint32_t vxlan_counters(const struct wire *w, struct wire_counter out[], uint32_t max)
{
	const struct vxlan_wire *v = (const struct vxlan_wire *)w;
	uint32_t n = 0;

#define PUT(nm, val)                                                                                                   \
	do {                                                                                                           \
		if (n < max)                                                                                           \
			out[n++] = (struct wire_counter){ nm, val };                                                   \
	} while (0)
	for (uint32_t i = 1; i < VX_RX_NREASONS; i++)
		PUT(vx_rx_drop_names[i], v->rx_drop[i]);
	for (uint32_t i = 1; i < VX_TX_NREASONS; i++)
		PUT(vx_tx_drop_names[i], v->tx_drop[i]);
	PUT("tx_drop_no_remote", v->tx_drop_no_remote);
	PUT("tx_drop_send", v->tx_drop_send);
	PUT("tx_drop_busy", v->tx_drop_busy);
	PUT("rx_datagrams", v->rx_datagrams);
	PUT("rx_errors", v->rx_errors);
	PUT("tx_flood", v->tx_flood);
	PUT("tx_learned", v->tx_learned);
	PUT("fdb_learned", v->fdb.st.learned);
	PUT("fdb_moved", v->fdb.st.moved);
	PUT("fdb_full", v->fdb.st.full);
	PUT("fdb_aged", v->fdb.st.aged);
#undef PUT
	return n;
}

static void vxlan_close(struct wire *w)
{
	struct vxlan_wire *v = vw(w);

	close(v->fd);
	free(v->rx_buf);
	free(v->tx_buf);
	free(v->fdb_mem);
	free(v);
}

static const struct wire_ops vxlan_ops = {
	.rx_burst = vxlan_rx_burst,
	.rx_release = vxlan_rx_release,
	.tx_reserve = vxlan_tx_reserve,
	.tx_commit = vxlan_tx_commit,
	.poll_fd = vxlan_poll_fd,
	.counters = vxlan_counters,
	.close = vxlan_close,
};

/* ------------------------------------------------------------------------ */
/* Options and setup                                                         */

static int num_opt(const char *name, const char *value, unsigned long min, unsigned long max, uint32_t *out,
		   char err[WIRE_ERR_LEN])
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno || end == value || *end || value[0] == '-' || v < min || v > max) {
		snprintf(err, WIRE_ERR_LEN, "%s expects an integer in [%lu, %lu], got \"%s\"", name, min, max, value);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int vxlan_option(struct wire_opts *o, const char *name, const char *value, char err[WIRE_ERR_LEN])
{
	static const char *const known[] = { "--vni", "--remote", "--no-learn", "--dst-port", "--fdb-size", "--fdb-age-s" };
	struct vxlan_opts *vo;
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]) && strcmp(known[i], name); i++)
		;
	if (i == sizeof(known) / sizeof(known[0]))
		return 0;
	if (!o->priv) {
		if (!(vo = calloc(1, sizeof(*vo)))) {
			snprintf(err, WIRE_ERR_LEN, "out of memory");
			return -1;
		}
		vx_map_init(&vo->map);
		vo->dst_port = VX_DEFAULT_PORT;
		vo->fdb_size = VXW_FDB_DEFAULT;
		vo->age_s = VXW_AGE_DEFAULT_S;
		o->priv = vo;
	}
	vo = o->priv;
	if (!strcmp(name, "--no-learn")) {
		vo->no_learn = 1;
		return 1;
	}
	if (!value) {
		snprintf(err, WIRE_ERR_LEN, "%s expects a value", name);
		return -1;
	}
	if (!strcmp(name, "--vni"))
		return vx_map_add(&vo->map, value, err, WIRE_ERR_LEN) < 0 ? -1 : 2;
	if (!strcmp(name, "--remote")) {
		struct vx_addr a;

		if (vo->nremotes == VXW_MAX_REMOTES) {
			snprintf(err, WIRE_ERR_LEN, "--remote: at most %u remotes", VXW_MAX_REMOTES);
			return -1;
		}
		if (vx_addr_parse(value, VX_DEFAULT_PORT, 1, &a) < 0) {
			snprintf(err, WIRE_ERR_LEN, "--remote expects ADDR[:PORT] (IPv4, [IPv6]:PORT or IPv6), got \"%s\"", value);
			return -1;
		}
		vo->remote[vo->nremotes++] = value;
		return 2;
	}
	if (!strcmp(name, "--dst-port"))
		return num_opt(name, value, 1, 65535, &vo->dst_port, err) < 0 ? -1 : 2;
	if (!strcmp(name, "--fdb-size")) {
		if (num_opt(name, value, VX_FDB_PROBE, 1u << 20, &vo->fdb_size, err) < 0)
			return -1;
		if (vo->fdb_size & (vo->fdb_size - 1u)) {
			snprintf(err, WIRE_ERR_LEN, "--fdb-size expects a power of two, got %u", vo->fdb_size);
			return -1;
		}
		return 2;
	}
	return num_opt(name, value, 1, 86400, &vo->age_s, err) < 0 ? -1 : 2;
}

static int vxlan_check_opts(const struct wire_opts *o, char err[WIRE_ERR_LEN])
{
	const struct vxlan_opts *vo = o->priv;

	if (!vo || vo->map.n == 0) {
		snprintf(err, WIRE_ERR_LEN, "--wire vxlan needs --vni VID:VNI[,VID:VNI...]");
		return -1;
	}
	if (vo->no_learn && vo->nremotes == 0) {
		snprintf(err, WIRE_ERR_LEN, "--no-learn needs at least one --remote (nothing could be sent)");
		return -1;
	}
	return 0;
}

static int vxlan_check_fd(int fd, char err[WIRE_ERR_LEN])
{
	int d, t, p, rc;
	char desc[96];

	rc = wire_sock_kind(fd, &d, &t, &p, desc, sizeof(desc));
	if (rc < 0 || (d != AF_INET && d != AF_INET6) || t != SOCK_DGRAM || (p != IPPROTO_UDP && p != 0)) {
		snprintf(err, WIRE_ERR_LEN, "--wire vxlan needs a bound UDP socket (AF_INET or AF_INET6 SOCK_DGRAM), but descriptor %d is %s%s",
			 fd, desc, rc == 0 && t == SOCK_DGRAM && p != IPPROTO_UDP && p != 0 ? " (not UDP)" : "");
		return rc < 0 ? rc : -EPROTOTYPE;
	}
	return 0;
}

static int vxlan_open(const struct wire_opts *o, struct wire **out, char err[WIRE_ERR_LEN])
{
	const struct vxlan_opts *vo = o->priv;
	struct vxlan_wire *v = calloc(1, sizeof(*v));
	struct sockaddr_storage local;
	socklen_t len = sizeof(int);
	int d = 0, v6only = 0;

	if (!v) {
		close(o->fd);
		snprintf(err, WIRE_ERR_LEN, "--wire vxlan: out of memory");
		return -ENOMEM;
	}
	v->w.ops = &vxlan_ops;
	v->w.backend = &wire_vxlan_backend;
	v->fd = o->fd;
	v->frame_max = o->frame_max;
	if (!vo || o->frame_max < VX_ETH_HLEN + VX_VLAN_HLEN) {
		snprintf(err, WIRE_ERR_LEN, "--wire vxlan: %s", vo ? "the vif's buffers are too small" : "no --vni");
		vxlan_close(&v->w);
		return -EINVAL;
	}
	if (getsockopt(v->fd, SOL_SOCKET, SO_DOMAIN, &d, &len) < 0) {
		snprintf(err, WIRE_ERR_LEN, "--wire vxlan: SO_DOMAIN: %s", strerror(errno));
		vxlan_close(&v->w);
		return -EINVAL;
	}
	v->v6 = d == AF_INET6;
	len = sizeof(v6only);
	if (v->v6)
		(void)getsockopt(v->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len);
	len = sizeof(local);
	if (getsockname(v->fd, (struct sockaddr *)&local, &len) < 0 ||
	    (local.ss_family == AF_INET ? ((struct sockaddr_in *)&local)->sin_port
					: ((struct sockaddr_in6 *)&local)->sin6_port) == 0) {
		snprintf(err, WIRE_ERR_LEN, "--wire vxlan: the UDP socket is not bound to a port (vpio-launch --wire-udp ADDR:PORT binds it)");
		vxlan_close(&v->w);
		return -EDESTADDRREQ;
	}
	v->map = vo->map;
	v->learn = !vo->no_learn;
	v->dst_port_be = htons((uint16_t)vo->dst_port);
	for (uint32_t i = 0; i < vo->nremotes; i++) {
		int rc = vx_addr_parse(vo->remote[i], (uint16_t)vo->dst_port, v->v6, &v->remote[i]);
		const uint8_t *a6 = v->remote[i].u.v6.sin6_addr.s6_addr;
		int mapped = v->v6 && rc == 0 && !memcmp(a6, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);

		if (rc < 0 || (mapped && v6only)) {
			snprintf(err, WIRE_ERR_LEN, "--remote %s: %s", vo->remote[i],
				 rc == -EAFNOSUPPORT ? "an IPv6 address, but the wire socket is IPv4"
				 : mapped ? "an IPv4 address, but the wire socket is IPv6-only" : "does not parse");
			vxlan_close(&v->w);
			return rc < 0 ? rc : -EAFNOSUPPORT;
		}
	}
	v->nremotes = vo->nremotes;
	v->rx_buf_size = (o->frame_max + VX_HDR_LEN - VX_VLAN_HLEN + 63u) & ~63u;
	v->tx_buf_size = (VXW_TX_HEADROOM + o->frame_max + 63u) & ~63u;
	v->rx_buf = aligned_alloc(64, (size_t)v->rx_buf_size * WIRE_BURST_MAX);
	v->tx_buf = aligned_alloc(64, (size_t)v->tx_buf_size * WIRE_BURST_MAX);
	v->fdb_mem = calloc(vo->fdb_size, sizeof(*v->fdb_mem));
	if (!v->rx_buf || !v->tx_buf || !v->fdb_mem ||
	    vx_fdb_init(&v->fdb, v->fdb_mem, vo->fdb_size, (uint64_t)vo->age_s * 1000000000ull) < 0) {
		snprintf(err, WIRE_ERR_LEN, "--wire vxlan: out of memory");
		vxlan_close(&v->w);
		return -ENOMEM;
	}
	*out = &v->w;
	return 0;
}

static void vxlan_free_opts(struct wire_opts *o)
{
	free(o->priv);
	o->priv = NULL;
}

const struct wire_backend wire_vxlan_backend = {
	.kind = "vxlan",
	.launch_kind = "udp",
	.usage = "  --vni VID:VNI[,...]    vxlan: the trunk's VLAN VID carries VXLAN VNI (required; repeatable)\n"
		 "  --remote ADDR[:PORT]   vxlan: a VTEP that gets broadcast, multicast and unknown unicast\n"
		 "                         (IPv4, [IPv6]:PORT or IPv6; repeatable, at most 16)\n"
		 "  --no-learn             vxlan: learn no MAC -> VTEP; every frame goes to every --remote\n"
		 "  --dst-port N           vxlan: the UDP port of --remote without :PORT and of learned VTEPs (4789)\n"
		 "  --fdb-size N           vxlan: learning table entries, a power of two (4096)\n"
		 "  --fdb-age-s S          vxlan: a learned MAC not seen for S seconds is forgotten (300)\n",
	.option = vxlan_option,
	.check_opts = vxlan_check_opts,
	.check_fd = vxlan_check_fd,
	.open = vxlan_open,
	.free_opts = vxlan_free_opts,
};
