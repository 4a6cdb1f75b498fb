// SPDX-License-Identifier: MIT
//
// wire_packet.c - --wire packet: an AF_PACKET SOCK_RAW socket that
// vpio-launch created and bound to the interface (in the host's network
// namespace) and passed at $VPIO_WIRE_FD. TPACKET_V3 for both rings:
//
//   RX  block-based ring: the kernel fills a block with many frames and
//       hands it over whole (full, or after --block-timeout-ms); rx_burst
//       walks user-owned blocks (tpacket.c: every header copied and checked
//       before use) and hands frames out in place; rx_release gives back
//       the blocks walked to their end (one status store each, no syscall).
//   TX  a ring of fixed-size frames: tx_reserve hands out AVAILABLE frames
//       from the head, tx_commit marks them SEND_REQUEST and makes ONE
//       send(fd, NULL, 0, MSG_DONTWAIT) for the burst; the kernel returns
//       each frame to AVAILABLE once its skb is gone.
//
// Socket options: PACKET_VERSION = TPACKET_V3, PACKET_LOSS (a frame the
// kernel refuses is skipped, not left WRONG_FORMAT), PACKET_IGNORE_OUTGOING
// (our own TX, or the host's, is not read back), PACKET_QDISC_BYPASS
// (optional: straight to the driver; --qdisc on keeps the qdisc).
//
// Concurrency: the rings are shared with the kernel only. Each block status
// and TX frame status is read with an acquire load and written with a
// release store (the partners are named at each); the pump's thread owns
// everything else. No allocation after open, no lock, no syscall per frame.

#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tpacket.h"
#include "wire.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define PKT_RX_BLOCK_SIZE (1u << 18) /* 256 KiB: ~120 full-size frames */
#define PKT_RX_BLOCKS 8u
#define PKT_TX_BLOCK_SIZE (1u << 16)
#define PKT_TX_BLOCKS 16u
/* where a TX frame's data starts (no PACKET_TX_HAS_OFF): the kernel's tp_hdrlen - sizeof(struct sockaddr_ll) */
#define PKT_TX_DATA_OFF TPACKET_ALIGN(sizeof(struct tpacket3_hdr))

struct packet_opts {
	uint32_t block_tmo_ms;
	int qdisc_bypass;
};

struct packet_wire {
	struct wire w;
	int fd;
	uint8_t *map;
	size_t map_len;
	uint32_t frame_max;
	uint32_t mtu;             /* the interface's, at open: longer frames are not sent */
	char ifname[IF_NAMESIZE];
	/* RX: blocks [rx_first, rx_first + rx_done) were walked to their end and wait for rx_release; rx_cur is being walked when in_block */
	uint8_t *rx;
	uint32_t rx_cur;
	uint32_t rx_done;         /* blocks walked to their end, not yet released (from rx_first) */
	uint32_t rx_first;
	int in_block;
	struct tp_cursor cur;
	/* TX: frame i at tx + (i / tx_per_block) * TX_BLOCK_SIZE + (i % tx_per_block) * tx_frame_size */
	uint8_t *tx;
	uint32_t tx_frames, tx_per_block, tx_frame_size;
	uint32_t tx_head;         /* the next frame to fill */
	uint32_t tx_reserved;     /* frames tx_reserve handed out from tx_head */
	int tx_unsent;            /* the last send() left frames SEND_REQUEST (EAGAIN): flush again before waiting */
	/* counters */
	uint64_t rx_drop[TP_NREASONS];
	uint64_t rx_csum_not_ready;   /* frames the kernel marks checksum-partial (a local sender on a veth) */
	uint64_t rx_losing;           /* blocks whose frames saw a kernel drop before them (TP_STATUS_LOSING) */
	uint64_t tx_drop_too_long;    /* frames longer than the interface's MTU allows */
	uint64_t tx_wrong_format;     /* frames the kernel left WRONG_FORMAT (reset and reused) */
	uint64_t tx_send_again;       /* send() said EAGAIN/ENOBUFS: the frames go with the next one */
	uint64_t tx_send_errors;      /* send() failed otherwise (the link is down: ENETDOWN, ...) */
	uint64_t k_packets, k_drops, k_freeze; /* PACKET_STATISTICS, summed (reading resets them) */
};

static inline struct packet_wire *pw(struct wire *w)
{
	return (struct packet_wire *)w;
}

static inline struct tpacket_block_desc *rx_block(struct packet_wire *p, uint32_t i)
{
	return (struct tpacket_block_desc *)(p->rx + (size_t)i * PKT_RX_BLOCK_SIZE);
}

static inline struct tpacket3_hdr *tx_frame(struct packet_wire *p, uint32_t i)
{
	return (struct tpacket3_hdr *)(p->tx + (size_t)(i / p->tx_per_block) * PKT_TX_BLOCK_SIZE +
				       (size_t)(i % p->tx_per_block) * p->tx_frame_size);
}

/* ------------------------------------------------------------------------ */
/* RX                                                                        */

static int packet_rx_burst(struct wire *w, struct wire_frame f[], uint32_t n)
{
	struct packet_wire *p = pw(w);
	uint32_t got = 0;
	uint64_t bytes = 0;

	while (got < n) {
		struct tp_frame tf;
		int r;

		if (!p->in_block) {
			struct tpacket_block_desc *b = rx_block(p, p->rx_cur);
			/* pairs with the kernel's smp_wmb() before it stores TP_STATUS_USER (prb_close_block) */
			uint32_t status = __atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE);

			if (!(status & TP_STATUS_USER) || p->rx_done == PKT_RX_BLOCKS)
				break;
			if (status & TP_STATUS_LOSING)
				p->rx_losing++;
			r = tp_block_begin(&p->cur, (const uint8_t *)b, PKT_RX_BLOCK_SIZE);
			if (r < 0) {
				p->rx_drop[-r]++;
				p->w.st.rx_drops++;
				p->cur.left = 0;
			}
			p->in_block = 1;
		}
		r = tp_block_next(&p->cur, p->frame_max, &tf);
		if (r == 0) { /* walked to its end: released with the burst */
			/* blocks end in ring order: the first one to end since the last release starts the run */
			if (p->rx_done == 0)
				p->rx_first = p->rx_cur;
			p->in_block = 0;
			p->rx_done++;
			p->rx_cur = (p->rx_cur + 1u) % PKT_RX_BLOCKS;
			continue;
		}
		if (r < 0) {
			p->rx_drop[-r]++;
			p->w.st.rx_drops++;
			continue;
		}
		if (tf.status & TP_STATUS_CSUMNOTREADY)
			p->rx_csum_not_ready++;
		f[got].data = (uint8_t *)(uintptr_t)tf.data;
		f[got].len = tf.len;
		f[got].vlan = tf.vlan;
		bytes += tf.len;
		got++;
	}
	if (got) {
		p->w.st.rx_frames += got;
		p->w.st.rx_bytes += bytes;
		p->w.st.rx_bursts++;
	}
	return (int)got;
}

static void packet_rx_release(struct wire *w)
{
	struct packet_wire *p = pw(w);

	for (uint32_t i = 0; i < p->rx_done; i++) {
		struct tpacket_block_desc *b = rx_block(p, (p->rx_first + i) % PKT_RX_BLOCKS);
		/* pairs with the kernel's smp_rmb() after it reads TP_STATUS_KERNEL before refilling the block */
		__atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	}
	p->rx_done = 0;
}

/* ------------------------------------------------------------------------ */
/* TX                                                                        */

static uint32_t packet_tx_reserve(struct wire *w, struct wire_frame f[], uint32_t n)
{
	struct packet_wire *p = pw(w);
	uint32_t k;

	for (k = 0; k < n && k < p->tx_frames; k++) {
		struct tpacket3_hdr *h = tx_frame(p, (p->tx_head + k) % p->tx_frames);
		/* pairs with the kernel's store of TP_STATUS_AVAILABLE (tpacket_destruct_skb, after the skb is done) */
		uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);

		if (status == TP_STATUS_WRONG_FORMAT) {
			p->tx_wrong_format++;
			status = TP_STATUS_AVAILABLE;
		}
		if (status != TP_STATUS_AVAILABLE)
			break;
		f[k].data = (uint8_t *)h + PKT_TX_DATA_OFF;
		f[k].len = p->tx_frame_size - (uint32_t)PKT_TX_DATA_OFF;
		f[k].vlan = 0;
	}
	p->tx_reserved = k;
	if (k < n) {
		p->w.st.tx_ring_full++;
		/* frames a refused send() left SEND_REQUEST go out only with another send(): the ring
		 * cannot drain (and poll() never says POLLOUT) without it */
		if (p->tx_unsent) {
			p->w.st.tx_flushes++;
			p->tx_unsent = send(p->fd, NULL, 0, MSG_DONTWAIT) < 0 && (errno == EAGAIN || errno == ENOBUFS);
		}
	}
	return k;
}

static int packet_tx_commit(struct wire *w, const uint32_t lens[], uint32_t n)
{
	struct packet_wire *p = pw(w);
	uint32_t sent = 0, limit = p->mtu + ETH_HLEN;
	uint64_t bytes = 0;
	ssize_t r;

	if (n > p->tx_reserved)
		n = p->tx_reserved;
	for (uint32_t i = 0; i < n; i++) {
		struct tpacket3_hdr *h = tx_frame(p, (p->tx_head + sent) % p->tx_frames);
		const uint8_t *d = (const uint8_t *)h + PKT_TX_DATA_OFF;
		int tagged = lens[i] >= 18u && ((d[12] == 0x81 && d[13] == 0x00) || (d[12] == 0x88 && d[13] == 0xa8));

		if (lens[i] > limit + (tagged ? 4u : 0u)) {
			/* the kernel would skip it silently (PACKET_LOSS): count it here; the frame stays AVAILABLE */
			p->tx_drop_too_long++;
			p->w.st.tx_drops++;
			continue;
		}
		if (sent != i) { /* close the gap a dropped frame left: frames go out in ring order */
			struct tpacket3_hdr *src = tx_frame(p, (p->tx_head + i) % p->tx_frames);
			memcpy((uint8_t *)h + PKT_TX_DATA_OFF, (const uint8_t *)src + PKT_TX_DATA_OFF, lens[i]);
		}
		h->tp_len = lens[i];
		h->tp_snaplen = lens[i];
		h->tp_next_offset = 0;
		/* pairs with the kernel's smp_rmb() after it sees TP_STATUS_SEND_REQUEST (tpacket_snd) */
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
		bytes += lens[i];
		sent++;
	}
	p->tx_head = (p->tx_head + sent) % p->tx_frames;
	p->tx_reserved = 0;
	if (sent == 0)
		return 0;
	r = send(p->fd, NULL, 0, MSG_DONTWAIT);
	p->w.st.tx_flushes++;
	p->tx_unsent = 0;
	if (r < 0) {
		if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) {
			p->tx_send_again++; /* still SEND_REQUEST: the next send() takes them */
			p->tx_unsent = 1;
		} else if (errno == ENXIO || errno == ENODEV || errno == EBADF || errno == ENOTSOCK) {
			return -errno; /* the interface or the socket is gone */
		} else {
			p->tx_send_errors++;
		}
	}
	p->w.st.tx_frames += sent;
	p->w.st.tx_bytes += bytes;
	return (int)sent;
}

/* ------------------------------------------------------------------------ */

static int packet_poll_fd(const struct wire *w)
{
	return ((const struct packet_wire *)w)->fd;
}

static uint32_t packet_counters(const struct wire *w, struct wire_counter out[], uint32_t max)
{
	/* the kernel's counters reset when read: they are summed here (stats time only, never per packet) */
	struct packet_wire *p = (struct packet_wire *)(uintptr_t)w;
	struct tpacket_stats_v3 ks;
	socklen_t len = sizeof(ks);
	uint32_t n = 0;

	if (getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len) == 0) {
		p->k_packets += ks.tp_packets;
		p->k_drops += ks.tp_drops;
		p->k_freeze += ks.tp_freeze_q_cnt;
	}
#define PUT(nm, v)                                                                                                     \
	do {                                                                                                           \
		if (n < max)                                                                                           \
			out[n++] = (struct wire_counter){ nm, v };                                                     \
	} while (0)
	for (uint32_t i = 1; i < TP_NREASONS; i++)
		PUT(tp_drop_names[i], p->rx_drop[i]);
	PUT("rx_kernel_drops", p->k_drops);
	PUT("tx_drop_too_long", p->tx_drop_too_long);
	PUT("rx_kernel_packets", p->k_packets);
	PUT("rx_kernel_freeze", p->k_freeze);
	PUT("rx_losing", p->rx_losing);
	PUT("rx_csum_not_ready", p->rx_csum_not_ready);
	PUT("tx_wrong_format", p->tx_wrong_format);
	PUT("tx_send_again", p->tx_send_again);
	PUT("tx_send_errors", p->tx_send_errors);
#undef PUT
	return n;
}

static void packet_close(struct wire *w)
{
	struct packet_wire *p = pw(w);

	if (p->map)
		munmap(p->map, p->map_len);
	close(p->fd);
	free(p);
}

static const struct wire_ops packet_ops = {
	.rx_burst = packet_rx_burst,
	.rx_release = packet_rx_release,
	.tx_reserve = packet_tx_reserve,
	.tx_commit = packet_tx_commit,
	.poll_fd = packet_poll_fd,
	.counters = packet_counters,
	.close = packet_close,
};

/* ------------------------------------------------------------------------ */
/* Options and setup                                                         */

static struct packet_opts *popts(struct wire_opts *o)
{
	if (!o->priv) {
		struct packet_opts *po = calloc(1, sizeof(*po));

		if (!po)
			return NULL;
		po->block_tmo_ms = 1;
		po->qdisc_bypass = 1;
		o->priv = po;
	}
	return o->priv;
}

static int packet_option(struct wire_opts *o, const char *name, const char *value, char err[WIRE_ERR_LEN])
{
	struct packet_opts *po;
	char *end;
	unsigned long v;

	if (strcmp(name, "--block-timeout-ms") && strcmp(name, "--qdisc"))
		return 0;
	if (!(po = popts(o))) {
		snprintf(err, WIRE_ERR_LEN, "out of memory");
		return -1;
	}
	if (!value) {
		snprintf(err, WIRE_ERR_LEN, "%s expects a value", name);
		return -1;
	}
	if (!strcmp(name, "--qdisc")) {
		if (strcmp(value, "on") && strcmp(value, "off")) {
			snprintf(err, WIRE_ERR_LEN, "--qdisc expects on or off, got \"%s\"", value);
			return -1;
		}
		po->qdisc_bypass = !strcmp(value, "off");
		return 2;
	}
	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno || end == value || *end || value[0] == '-' || v < 1 || v > 1000) {
		snprintf(err, WIRE_ERR_LEN, "--block-timeout-ms expects an integer in [1, 1000], got \"%s\"", value);
		return -1;
	}
	po->block_tmo_ms = (uint32_t)v;
	return 2;
}

static int packet_check_opts(const struct wire_opts *o, char err[WIRE_ERR_LEN])
{
	(void)o, (void)err;
	return 0;
}

static int packet_check_fd(int fd, char err[WIRE_ERR_LEN])
{
	int d, t, pr, rc;
	char desc[96];

	rc = wire_sock_kind(fd, &d, &t, &pr, desc, sizeof(desc));
	if (rc < 0 || d != AF_PACKET || t != SOCK_RAW) {
		snprintf(err, WIRE_ERR_LEN, "--wire packet needs an AF_PACKET SOCK_RAW socket, but descriptor %d is %s", fd,
			 desc);
		return rc < 0 ? rc : -EPROTOTYPE;
	}
	return 0;
}

static int fail(struct packet_wire *p, char err[WIRE_ERR_LEN], const char *step)
{
	int rc = -errno;

	snprintf(err, WIRE_ERR_LEN, "--wire packet: %s: %s", step, strerror(errno));
	packet_close(&p->w);
	return rc;
}

static int packet_open(const struct wire_opts *o, struct wire **out, char err[WIRE_ERR_LEN])
{
	struct packet_opts defaults = { .block_tmo_ms = 1, .qdisc_bypass = 1 };
	const struct packet_opts *po = o->priv ? o->priv : &defaults;
	struct packet_wire *p = calloc(1, sizeof(*p));
	struct tpacket_req3 rx = { 0 }, tx = { 0 };
	struct sockaddr_ll sll;
	socklen_t sl = sizeof(sll);
	struct ifreq ifr;
	int one = 1, v3 = TPACKET_V3;

	if (!p) {
		close(o->fd);
		snprintf(err, WIRE_ERR_LEN, "--wire packet: out of memory");
		return -ENOMEM;
	}
	p->w.ops = &packet_ops;
	p->w.backend = &wire_packet_backend;
	p->fd = o->fd;
	p->frame_max = o->frame_max;

	/* which interface: vpio-launch bound the socket (ifindex in the socket's own namespace) */
	if (getsockname(p->fd, (struct sockaddr *)&sll, &sl) < 0)
		return fail(p, err, "getsockname");
	if (sll.sll_ifindex == 0) {
		errno = EDESTADDRREQ;
		return fail(p, err, "the socket is not bound to an interface (vpio-launch --wire-packet IFNAME binds it)");
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifindex = sll.sll_ifindex;
	if (ioctl(p->fd, SIOCGIFNAME, &ifr) < 0)
		return fail(p, err, "SIOCGIFNAME");
	memcpy(p->ifname, ifr.ifr_name, IF_NAMESIZE);
	p->ifname[IF_NAMESIZE - 1] = 0;
	if (ioctl(p->fd, SIOCGIFMTU, &ifr) < 0)
		return fail(p, err, "SIOCGIFMTU");
	p->mtu = (uint32_t)ifr.ifr_mtu;

	if (setsockopt(p->fd, SOL_PACKET, PACKET_VERSION, &v3, sizeof(v3)) < 0)
		return fail(p, err, "PACKET_VERSION TPACKET_V3");
	if (setsockopt(p->fd, SOL_PACKET, PACKET_LOSS, &one, sizeof(one)) < 0)
		return fail(p, err, "PACKET_LOSS");
	if (setsockopt(p->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
		return fail(p, err, "PACKET_IGNORE_OUTGOING (Linux 4.20 or later)");
	if (po->qdisc_bypass)
		(void)setsockopt(p->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)); /* optional */

	rx.tp_block_size = PKT_RX_BLOCK_SIZE;
	rx.tp_block_nr = PKT_RX_BLOCKS;
	rx.tp_frame_size = 2048;
	rx.tp_frame_nr = PKT_RX_BLOCK_SIZE / 2048 * PKT_RX_BLOCKS;
	rx.tp_retire_blk_tov = po->block_tmo_ms;
	if (setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &rx, sizeof(rx)) < 0)
		return fail(p, err, "PACKET_RX_RING");

	p->tx_frame_size = TPACKET_ALIGN((uint32_t)PKT_TX_DATA_OFF + o->frame_max);
	if (p->tx_frame_size > PKT_TX_BLOCK_SIZE) {
		errno = EMSGSIZE;
		return fail(p, err, "a TX frame for the vif's buffers does not fit a ring block");
	}
	p->tx_per_block = PKT_TX_BLOCK_SIZE / p->tx_frame_size;
	p->tx_frames = p->tx_per_block * PKT_TX_BLOCKS;
	tx.tp_block_size = PKT_TX_BLOCK_SIZE;
	tx.tp_block_nr = PKT_TX_BLOCKS;
	tx.tp_frame_size = p->tx_frame_size;
	tx.tp_frame_nr = p->tx_frames;
	if (setsockopt(p->fd, SOL_PACKET, PACKET_TX_RING, &tx, sizeof(tx)) < 0)
		return fail(p, err, "PACKET_TX_RING (TPACKET_V3 TX needs Linux 4.11 or later)");

	p->map_len = (size_t)PKT_RX_BLOCK_SIZE * PKT_RX_BLOCKS + (size_t)PKT_TX_BLOCK_SIZE * PKT_TX_BLOCKS;
	p->map = mmap(NULL, p->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, p->fd, 0);
	if (p->map == MAP_FAILED) {
		p->map = NULL;
		return fail(p, err, "mmap of the rings");
	}
	p->rx = p->map;
	p->tx = p->map + (size_t)PKT_RX_BLOCK_SIZE * PKT_RX_BLOCKS;
	*out = &p->w;
	return 0;
}

static void packet_free_opts(struct wire_opts *o)
{
	free(o->priv);
	o->priv = NULL;
}

const struct wire_backend wire_packet_backend = {
	.kind = "packet",
	.launch_kind = "packet",
	.usage = "  --block-timeout-ms MS  packet: hand a partly filled RX block over after MS ms (1)\n"
		 "  --qdisc on|off         packet: send through the interface's qdisc (off: PACKET_QDISC_BYPASS)\n",
	.option = packet_option,
	.check_opts = packet_check_opts,
	.check_fd = packet_check_fd,
	.open = packet_open,
	.free_opts = packet_free_opts,
};
