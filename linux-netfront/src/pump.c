// SPDX-License-Identifier: MIT
//
// pump.c - both directions between the TAP device and the vif in one loop
// (lnf_loop). Zero-copy on the ring side: a frame is read from the TAP
// straight into reserved TX buffers (one readv(), the virtio_net_hdr into a
// local) and written to the TAP straight from the RX buffers (one writev(),
// header first). With offloads a frame is a TCP super-frame of up to 64 KiB
// spread over a chain of slots, so the cost is one syscall per super-frame,
// not per MTU-sized segment. Per frame: no allocation, no lock; per batch:
// one publish/release and at most one kick.
//
// Concurrency: one thread per queue owns that queue's nf_dev (TX and RX
// sides), its TAP queue descriptor and (queue 0) the signalfd and the
// backend watch's descriptor (xen mode: the xenstore connection; its checks
// run on queue 0's thread, the xenstore handle's); queues share only the
// stop flag and its eventfd. Nothing here blocks but the one
// poll() of an idle round, entered only with the RX ring armed (and the TX
// ring armed when it was short), re-checked after the arm's full barrier
// (vpio/ring.h "Kicks"), so a packet or a freed slot published meanwhile is
// never slept through.

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lnf.h"
#include "vpio/netfront_zc.h"
#include "vpio/ring_fe.h"

void lnf_set_stop(struct lnf_shared *sh)
{
	if (!__atomic_exchange_n(&sh->stop, 1, __ATOMIC_ACQ_REL) && sh->stop_fd >= 0)
		(void)eventfd_write(sh->stop_fd, 1); /* level: stays readable, every queue's poll() sees it */
}

/*
 * RX ring -> TAP: up to LNF_BURST received packets (chains), each with one
 * writev() straight from the RX buffers (the virtio_net_hdr built from the
 * offload word first), then one nf_zc_rx_release() for the whole burst.
 * Returns the packets taken from the ring (0: it was empty).
 */
static uint32_t rx_burst(struct lnf *l)
{
	struct nf_zc_buf bufs[LNF_CHAIN_MAX];
	struct iovec iov[LNF_CHAIN_MAX + 1];
	struct lnf_vnet_hdr vh;
	struct nf_zc_pkt p;
	uint32_t off = 0, pkts = 0, ok = 0, err = 0, bad = 0, gso = 0;
	uint64_t bytes = 0;

	while (pkts < LNF_BURST && nf_zc_rx_peek_pkt(l->nf, off, bufs, LNF_CHAIN_MAX, &p)) {
		uint32_t n = 0;
		ssize_t w;

		off += p.nslots;
		pkts++;
		if (!p.valid || (p.has_offload && !l->vnet_hdr)) {
			bad++;
			continue;
		}
		if (l->vnet_hdr) {
			lnf_offload_to_vnet(p.has_offload ? &p.ofl : NULL, bufs[0].data, bufs[0].len, p.len, &vh);
			iov[n++] = (struct iovec){ &vh, l->vnet_hdr };
			gso += vh.gso_type != LNF_VNET_GSO_NONE;
		}
		for (uint32_t i = 0; i < p.nslots; i++)
			if (bufs[i].len)
				iov[n++] = (struct iovec){ bufs[i].data, bufs[i].len };
		do
			w = writev(l->tap_fd, iov, (int)n);
		while (w < 0 && errno == EINTR);
		if (w == (ssize_t)(p.len + l->vnet_hdr))
			ok++, bytes += p.len;
		else
			err++;
	}
	if (off == 0)
		return 0;
	nf_zc_rx_release(l->nf, off); /* one publish (and at most one kick) per burst */
	lnf_add(&l->c.rx_packets, pkts);
	lnf_add(&l->c.rx_batches, 1);
	lnf_add(&l->c.tap_tx, ok);
	lnf_add(&l->c.tap_tx_bytes, bytes);
	if (err)
		lnf_add(&l->c.tap_tx_errors, err);
	if (bad)
		lnf_add(&l->c.rx_drop_bad, bad);
	if (gso)
		lnf_add(&l->c.rx_gso, gso);
	return pkts;
}

struct tx_batch {
	uint32_t slots;   /* TX slots described so far (offsets [0, slots)) */
	uint32_t frames;
	int ring_full;    /* fewer than tx_slots_max slots were free for the next read */
};

/*
 * Reads up to LNF_BURST frames, each straight into tx_slots_max reserved TX
 * buffers (plus a small overflow area, so an over-long frame is seen and
 * dropped rather than truncated), and describes each as a chain.
 */
static void read_batch(struct lnf *l, struct tx_batch *b, int *fatal)
{
	struct nf_zc_buf bufs[LNF_CHAIN_MAX];
	struct iovec iov[LNF_CHAIN_MAX + 2];
	uint16_t lens[LNF_CHAIN_MAX];
	struct lnf_vnet_hdr vh;
	struct vring_offload o;
	uint32_t dropped = 0, bad_hdr = 0, gso = 0, csum = 0, want = l->tx_slots_max;
	uint64_t bytes = 0;

	while (b->frames < LNF_BURST) {
		uint32_t k = nf_zc_tx_reserve(l->nf, b->slots, bufs, want), n = 0, len, cap = 0, nslots;
		int have;
		ssize_t r;

		if (k < want) {
			b->ring_full = 1;
			break;
		}
		if (l->vnet_hdr)
			iov[n++] = (struct iovec){ &vh, l->vnet_hdr };
		for (uint32_t i = 0; i < k; i++) {
			iov[n++] = (struct iovec){ bufs[i].data, bufs[i].len };
			cap += bufs[i].len;
		}
		iov[n++] = (struct iovec){ l->tx_overflow, sizeof(l->tx_overflow) };
		r = readv(l->tap_fd, iov, (int)n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				*fatal = -errno;
			break;
		}
		if ((size_t)r < l->vnet_hdr + 14u || (size_t)r - l->vnet_hdr > cap) {
			dropped++;
			continue;
		}
		len = (uint32_t)r - l->vnet_hdr;
		have = l->vnet_hdr ? lnf_vnet_to_offload(&vh, len, &o) : 0;
		if (have < 0 || (have > 0 && !l->offload)) {
			bad_hdr++;
			continue;
		}
		nslots = (len + l->buf_size - 1) / l->buf_size;
		for (uint32_t i = 0; i < nslots; i++)
			lens[i] = (uint16_t)(i + 1 < nslots ? l->buf_size : len - i * l->buf_size);
		if (nf_zc_tx_chain(l->nf, b->slots, lens, nslots, have > 0 ? &o : NULL) < 0) {
			dropped++; /* a chain without NF_FEAT_OFFLOAD: cannot happen with tx_slots_max 1 */
			continue;
		}
		b->slots += nslots;
		b->frames++;
		bytes += len;
		gso += have > 0 && o.gso_type != VRING_GSO_NONE;
		csum += have > 0 && o.gso_type == VRING_GSO_NONE;
	}
	lnf_add(&l->c.tap_rx, b->frames + dropped + bad_hdr);
	lnf_add(&l->c.tap_rx_bytes, bytes);
	if (dropped)
		lnf_add(&l->c.tx_drop_size, dropped);
	if (bad_hdr)
		lnf_add(&l->c.tx_drop_hdr, bad_hdr);
	if (gso)
		lnf_add(&l->c.tx_gso, gso);
	if (csum)
		lnf_add(&l->c.tx_csum, csum);
}

/*
 * A busy loop's look at queue 0's control descriptors (the signalfd, the
 * backend watch's): one poll() for both, every 8 busy rounds; none on other
 * queues. Calls the handlers of those that are readable.
 */
static void control_pending(struct lnf *l)
{
	struct pollfd p[2];
	nfds_t n = 0;
	int i_sig = -1, i_be = -1;

	if (l->sig_fd >= 0) {
		i_sig = (int)n;
		p[n++] = (struct pollfd){ .fd = l->sig_fd, .events = POLLIN };
	}
	if (l->be_fd >= 0) {
		i_be = (int)n;
		p[n++] = (struct pollfd){ .fd = l->be_fd, .events = POLLIN };
	}
	if (n == 0 || poll(p, n, 0) <= 0)
		return;
	if (i_sig >= 0 && p[i_sig].revents)
		l->on_signals(l);
	if (i_be >= 0 && p[i_be].revents)
		l->on_backend(l);
}

/* A channel's descriptor was readable: take the notification (-EPIPE when the backend closed it). */
static int consume(struct lnf *l, uint32_t dir)
{
	int rc = nf_zc_consume(l->nf, dir);
	return rc < 0 ? rc : 0;
}

int lnf_loop(struct lnf *l)
{
	const int event = nf_zc_mode(l->nf) == NF_MODE_EVENT;
	int tap_ready = 1;  /* the TAP may hold frames: read before polling it */
	int tx_short = 0;   /* the last read stopped at a TX ring with too few free slots */
	unsigned busy = 0;

	while (!lnf_stopped(l)) {
		struct pollfd fds[6];
		int nfds = 0, rx_armed = 0, tx_armed = 0, rc, i_sig = -1, i_be = -1, i_rx = -1, i_tx = -1, i_tap = -1;
		uint32_t moved = rx_burst(l);

		/* what was just written to the TAP is often answered at once (TCP
		 * ACKs): look for it now, not only after RX has gone idle */
		if (moved)
			tap_ready = 1;
		if (tap_ready) {
			struct tx_batch b = { 0, 0, 0 };
			int fatal = 0;

			read_batch(l, &b, &fatal);
			if (b.slots) {
				nf_zc_tx_publish(l->nf, b.slots, NF_TX_KICK);
				lnf_add(&l->c.tx_packets, b.frames);
				lnf_add(&l->c.tx_batches, 1);
			}
			if (fatal)
				return fatal;
			if (b.ring_full && !tx_short)
				lnf_add(&l->c.tx_ring_full, 1); /* once per episode: the TAP is held back */
			tx_short = b.ring_full;
			/* more may be queued: a full batch, or one cut short by the ring */
			tap_ready = b.ring_full || b.frames == LNF_BURST;
			moved += b.frames;
		}
		if (moved) {
			/* busy: go round again without sleeping, looking at signals (and the backend watch) now and then */
			if ((++busy & 7u) == 0)
				control_pending(l);
			continue;
		}

		/* Idle: arm what we wait for, re-check, and sleep in one poll(). */
		if (l->sig_fd >= 0) {
			i_sig = nfds;
			fds[nfds++] = (struct pollfd){ .fd = l->sig_fd, .events = POLLIN };
		}
		if (l->be_fd >= 0) {
			i_be = nfds;
			fds[nfds++] = (struct pollfd){ .fd = l->be_fd, .events = POLLIN };
		}
		fds[nfds++] = (struct pollfd){ .fd = l->sh->stop_fd, .events = POLLIN }; /* stop: the loop's condition sees it */
		if (event) {
			rc = nf_zc_arm(l->nf, NF_ZC_RX);
			if (rc < 0)
				return rc;
			if (rc == 0)
				continue; /* a packet arrived meanwhile */
			rx_armed = 1;
			i_rx = nfds;
			fds[nfds++] = (struct pollfd){ .fd = l->rx_fd, .events = POLLIN };
			if (tx_short) {
				rc = nf_zc_arm_space(l->nf, l->tx_slots_max);
				if (rc <= 0) {
					nf_zc_disarm(l->nf, NF_ZC_RX);
					if (rc < 0)
						return rc;
					continue; /* slots were freed meanwhile */
				}
				tx_armed = 1;
				i_tx = nfds;
				fds[nfds++] = (struct pollfd){ .fd = l->tx_fd, .events = POLLIN };
			}
		}
		if (!tx_short) {
			i_tap = nfds;
			fds[nfds++] = (struct pollfd){ .fd = l->tap_fd, .events = POLLIN };
		}
		rc = poll(fds, (nfds_t)nfds, event ? -1 : 0); /* poll mode: never sleep, re-poll the rings */
		if (rx_armed)
			nf_zc_disarm(l->nf, NF_ZC_RX);
		if (tx_armed)
			nf_zc_disarm(l->nf, NF_ZC_TX);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (i_sig >= 0 && (fds[i_sig].revents & POLLIN))
			l->on_signals(l);
		if (i_be >= 0 && fds[i_be].revents) /* POLLHUP/POLLERR too: the check reports a dead connection */
			l->on_backend(l);
		if (i_rx >= 0 && fds[i_rx].revents && (rc = consume(l, NF_ZC_RX)) < 0)
			return rc;
		if (i_tx >= 0 && fds[i_tx].revents && (rc = consume(l, NF_ZC_TX)) < 0)
			return rc;
		if (i_tap >= 0 && fds[i_tap].revents)
			tap_ready = 1;
	}
	return 0;
}
