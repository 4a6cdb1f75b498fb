// SPDX-License-Identifier: MIT
//
// pump.c - both directions between the vif and the wire in one loop
// (upl_loop; the round is described in upl.h). Zero-copy on the ring side:
// a frame is copied once, from a received vif buffer straight into a
// reserved wire TX buffer, or from the wire's frame (in its ring, or its
// receive buffer) straight into a reserved vif TX buffer.
//
// Concurrency: one thread owns the nf_dev, the wire and the descriptors.
// Nothing here blocks but the one poll() of an idle round, entered only
// with the vif's RX ring armed (and its TX ring armed when it was full),
// re-checked after the arm's full barrier (vpio/ring.h "Kicks"), so a
// packet or a freed slot published meanwhile is never slept through. A
// wire whose peer must be asked to signal (memif: wire.h rx_arm) is armed
// the same way, first: it re-checks its ring after its own barrier, or
// asks to be polled (timeout 0: a spin round, the vif left unarmed).

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "upl.h"
#include "vpio/netfront_zc.h"

#define UPL_WIRE_FULL_MS 1

uint32_t upl_copy_tagged(uint8_t *dst, const uint8_t *src, uint32_t len, uint32_t vlan)
{
	if (!vlan) {
		memcpy(dst, src, len);
		return len;
	}
	memcpy(dst, src, 12);
	dst[12] = (uint8_t)(vlan >> 24);
	dst[13] = (uint8_t)(vlan >> 16);
	dst[14] = (uint8_t)(vlan >> 8);
	dst[15] = (uint8_t)vlan;
	memcpy(dst + 16, src + 12, len - 12);
	return len + 4;
}

/*
 * vif RX ring -> wire: up to burst received slots, one wire buffer each,
 * one tx_commit, one release. Returns the slots taken (0: nothing, or the
 * wire had no room: *wire_full), or -errno from the wire.
 */
static int vif_to_wire(struct upl *u, int *wire_full)
{
	struct nf_zc_buf bufs[WIRE_BURST_MAX];
	struct wire_frame f[WIRE_BURST_MAX];
	uint32_t lens[WIRE_BURST_MAX];
	uint32_t n = nf_zc_rx_peek(u->nf, bufs, u->burst), k, j = 0, bad = 0, size = 0;
	uint64_t bytes = 0;
	int rc;

	*wire_full = 0;
	if (n == 0)
		return 0;
	k = u->w->ops->tx_reserve(u->w, f, n);
	if (k == 0) {
		*wire_full = 1;
		return 0;
	}
	for (uint32_t i = 0; i < k; i++) {
		if (!bufs[i].data) {
			bad++;
			continue;
		}
		if (bufs[i].len < 14u || bufs[i].len > f[j].len) {
			size++;
			continue;
		}
		memcpy(f[j].data, bufs[i].data, bufs[i].len);
		lens[j++] = bufs[i].len;
		bytes += bufs[i].len;
	}
	rc = u->w->ops->tx_commit(u->w, lens, j);
	nf_zc_rx_release(u->nf, k); /* one publish (and at most one kick) per burst */
	u->c.vif_rx_packets += k;
	u->c.vif_rx_bytes += bytes;
	u->c.vif_rx_batches++;
	u->c.vif_rx_drop_bad += bad;
	u->c.vif_rx_drop_size += size;
	*wire_full = k < n;
	return rc < 0 ? rc : (int)k;
}

/*
 * wire -> vif TX ring: as many frames as there are free TX slots (up to
 * burst), one rx_burst, one commit, one rx_release. Returns the frames read
 * from the wire (0: none, or the TX ring was full: *vif_full), or -errno.
 */
static int wire_to_vif(struct upl *u, int *vif_full)
{
	struct nf_zc_buf bufs[WIRE_BURST_MAX];
	struct wire_frame f[WIRE_BURST_MAX];
	uint16_t lens[WIRE_BURST_MAX];
	uint32_t space = nf_zc_tx_avail(u->nf), j = 0, size = 0, k;
	uint64_t bytes = 0;
	int got;

	*vif_full = space == 0;
	if (space == 0)
		return 0;
	got = u->w->ops->rx_burst(u->w, f, space < u->burst ? space : u->burst);
	if (got == 0) /* a burst may have walked past frames it dropped: their blocks go back too */
		u->w->ops->rx_release(u->w);
	if (got <= 0)
		return got;
	k = nf_zc_tx_reserve(u->nf, 0, bufs, (uint32_t)got); /* == got: space was checked */
	for (uint32_t i = 0; i < k; i++) {
		uint32_t len = f[i].len + (f[i].vlan ? 4u : 0u);

		if (len > u->buf_size || f[i].len < 14u) {
			size++;
			continue;
		}
		lens[j] = (uint16_t)upl_copy_tagged(bufs[j].data, f[i].data, f[i].len, f[i].vlan);
		bytes += lens[j];
		j++;
	}
	size += (uint32_t)got - k;
	u->w->ops->rx_release(u->w);
	if (j)
		nf_zc_tx_commit(u->nf, lens, j, NF_TX_KICK); /* one publish, at most one kick */
	u->c.vif_tx_packets += j;
	u->c.vif_tx_bytes += bytes;
	u->c.vif_tx_batches++;
	u->c.vif_tx_drop_size += size;
	return got;
}

static void housekeeping(struct upl *u)
{
	struct pollfd p[2] = { { .fd = u->sig_fd, .events = POLLIN }, { .fd = u->timer_fd, .events = POLLIN } };

	if (poll(p, u->timer_fd >= 0 ? 2 : 1, 0) <= 0)
		return;
	if (p[0].revents & POLLIN)
		u->on_signals(u);
	if (u->timer_fd >= 0 && (p[1].revents & POLLIN))
		u->on_timer(u);
}

int upl_loop(struct upl *u)
{
	const int event = nf_zc_mode(u->nf) == NF_MODE_EVENT;
	int wire_full = 0, vif_full = 0;
	unsigned busy = 0;

	while (!u->stop) {
		struct pollfd fds[6];
		int nfds = 0, rc, moved = 0, rx_armed = 0, tx_armed = 0, wire_armed = 0, i_rx = -1, i_tx = -1;
		int i_wire = -1, i_timer = -1, timeout;

		if ((rc = vif_to_wire(u, &wire_full)) < 0)
			return rc;
		moved += rc;
		if ((rc = wire_to_vif(u, &vif_full)) < 0)
			return rc;
		moved += rc;
		if (wire_full)
			u->c.wire_tx_full++;
		if (vif_full)
			u->c.vif_tx_full++;
		if (moved) {
			/* busy: go round again without sleeping, looking at signals and the timer now and then */
			if ((++busy & 15u) == 0)
				housekeeping(u);
			continue;
		}

		/* Idle: arm what we wait for, re-check, and sleep in one poll(). The wire first: one that
		 * must be polled (timeout 0) makes this a spin round with nothing armed on the vif. */
		timeout = !event ? 0 : wire_full ? UPL_WIRE_FULL_MS : -1;
		if (event && !vif_full && u->w->ops->rx_arm) {
			rc = u->w->ops->rx_arm(u->w, &timeout);
			if (rc < 0)
				return rc;
			if (rc == 0)
				continue; /* frames arrived meanwhile */
			wire_armed = 1;
		}
		fds[nfds++] = (struct pollfd){ .fd = u->sig_fd, .events = POLLIN };
		if (u->timer_fd >= 0) {
			i_timer = nfds;
			fds[nfds++] = (struct pollfd){ .fd = u->timer_fd, .events = POLLIN };
		}
		if (event && timeout != 0 && !wire_full) {
			rc = nf_zc_arm(u->nf, NF_ZC_RX);
			if (rc <= 0) {
				if (wire_armed)
					u->w->ops->rx_disarm(u->w);
				if (rc < 0)
					return rc;
				continue; /* a packet arrived meanwhile */
			}
			rx_armed = 1;
			i_rx = nfds;
			fds[nfds++] = (struct pollfd){ .fd = u->rx_fd, .events = POLLIN };
		}
		if (event && timeout != 0 && vif_full) {
			rc = nf_zc_arm_space(u->nf, 1);
			if (rc <= 0) {
				if (rx_armed)
					nf_zc_disarm(u->nf, NF_ZC_RX);
				if (wire_armed)
					u->w->ops->rx_disarm(u->w);
				if (rc < 0)
					return rc;
				continue; /* slots were freed meanwhile */
			}
			tx_armed = 1;
			i_tx = nfds;
			fds[nfds++] = (struct pollfd){ .fd = u->tx_fd, .events = POLLIN };
		}
		if (!vif_full || wire_full) {
			i_wire = nfds;
			fds[nfds++] = (struct pollfd){ .fd = u->w->ops->poll_fd(u->w),
						       .events = (short)((vif_full ? 0 : POLLIN) | (wire_full ? POLLOUT : 0)) };
		}
		/* poll mode: never sleep, re-poll the rings. A full wire TX ring is looked at again after
		 * UPL_WIRE_FULL_MS even without POLLOUT: a backend's ring may need another flush to drain */
		rc = poll(fds, (nfds_t)nfds, timeout);
		if (rx_armed)
			nf_zc_disarm(u->nf, NF_ZC_RX);
		if (tx_armed)
			nf_zc_disarm(u->nf, NF_ZC_TX);
		if (wire_armed)
			u->w->ops->rx_disarm(u->w);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (fds[0].revents & POLLIN)
			u->on_signals(u);
		if (i_timer >= 0 && (fds[i_timer].revents & POLLIN))
			u->on_timer(u);
		if (i_rx >= 0 && fds[i_rx].revents && (rc = nf_zc_consume(u->nf, NF_ZC_RX)) < 0)
			return rc;
		if (i_tx >= 0 && fds[i_tx].revents && (rc = nf_zc_consume(u->nf, NF_ZC_TX)) < 0)
			return rc;
		if (i_wire >= 0 && (fds[i_wire].revents & POLLNVAL))
			return -EBADF; /* the wire's descriptor is gone */
		if (i_wire >= 0 && (fds[i_wire].revents & POLLERR)) {
			/* an error the kernel queued on the socket (the interface went down: ENETDOWN): take it, count it */
			int err = 0;
			socklen_t len = sizeof(err);

			if (getsockopt(fds[i_wire].fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
				return -errno;
			u->c.wire_errors++;
		}
	}
	return 0;
}
