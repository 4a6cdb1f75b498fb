// SPDX-License-Identifier: MIT
//
// pump.c - the two directions between the TAP device and the vif (see
// lnf.h for who runs what). Per frame: one read() or write() on the TAP
// (a TAP without IFF_VNET_HDR has no batched read or write), no allocation,
// no lock; per batch: one nf_tx_burst / nf_rx_burst and at most one kick.

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lnf.h"

/* Frame buffers: buf_size + 1 bytes each, so a frame longer than the
 * vif's buffers is seen as too long rather than silently truncated. */
#define LNF_FRAME_MAX 65536u

static uint8_t tx_frames[LNF_BURST][LNF_FRAME_MAX + 1];
static uint8_t rx_frames[LNF_BURST][LNF_FRAME_MAX];

static void *rx_main(void *arg)
{
	struct lnf *l = arg;
	void *bufs[LNF_BURST];
	uint16_t lens[LNF_BURST];

	for (uint32_t i = 0; i < LNF_BURST; i++)
		bufs[i] = rx_frames[i];
	while (!lnf_stopped(l)) {
		uint32_t n = nf_rx_burst(l->nf, bufs, lens, LNF_BURST), ok = 0, err = 0;
		uint64_t bytes = 0;

		if (n == 0) {
			int rc = nf_rx_wait(l->nf, LNF_RX_WAIT_MS);
			if (rc < 0) {
				uint64_t one = 1;
				l->rx_error = rc;
				lnf_set_stop(l);
				if (write(l->wake_fd, &one, sizeof(one)) < 0) {
					/* the main thread still sees stop at its next wake-up */
				}
				break;
			}
			continue;
		}
		for (uint32_t i = 0; i < n; i++) {
			ssize_t w;
			do
				w = write(l->tap_fd, rx_frames[i], lens[i]);
			while (w < 0 && errno == EINTR);
			if (w == (ssize_t)lens[i])
				ok++, bytes += lens[i];
			else
				err++;
		}
		lnf_add(&l->c.rx_packets, n);
		lnf_add(&l->c.rx_batches, 1);
		lnf_add(&l->c.tap_tx, ok);
		lnf_add(&l->c.tap_tx_bytes, bytes);
		if (err)
			lnf_add(&l->c.tap_tx_errors, err);
	}
	return NULL;
}

int lnf_rx_start(struct lnf *l)
{
	int rc = pthread_create(&l->rx_thread, NULL, rx_main, l);
	return rc ? -rc : 0;
}

void lnf_rx_stop(struct lnf *l)
{
	lnf_set_stop(l);
	pthread_join(l->rx_thread, NULL);
}

/* Reads up to LNF_BURST frames; returns how many are ready in tx_frames/lens. */
static uint32_t read_batch(struct lnf *l, uint16_t lens[], int *fatal)
{
	uint32_t n = 0, dropped = 0;
	uint64_t bytes = 0;

	while (n < LNF_BURST) {
		ssize_t r = read(l->tap_fd, tx_frames[n], l->buf_size + 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				*fatal = -errno;
			break;
		}
		if (r < 14 || (size_t)r > l->buf_size) {
			dropped++;
			continue;
		}
		lens[n++] = (uint16_t)r;
		bytes += (uint64_t)r;
	}
	lnf_add(&l->c.tap_rx, n + dropped);
	lnf_add(&l->c.tap_rx_bytes, bytes);
	if (dropped)
		lnf_add(&l->c.tx_drop_size, dropped);
	return n;
}

static int signals_pending(const struct lnf *l)
{
	struct pollfd p = { .fd = l->sig_fd, .events = POLLIN };
	return poll(&p, 1, 0) > 0;
}

int lnf_tx_loop(struct lnf *l)
{
	const void *pkts[LNF_BURST];
	uint16_t lens[LNF_BURST];
	struct pollfd fds[3] = {
		{ .fd = l->tap_fd, .events = POLLIN },
		{ .fd = l->sig_fd, .events = POLLIN },
		{ .fd = l->wake_fd, .events = POLLIN },
	};

	if (l->buf_size > LNF_FRAME_MAX)
		l->buf_size = LNF_FRAME_MAX;
	for (uint32_t i = 0; i < LNF_BURST; i++)
		pkts[i] = tx_frames[i];
	while (!lnf_stopped(l)) {
		int fatal = 0;

		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (fds[1].revents & POLLIN)
			l->on_signals(l);
		if (fds[2].revents & POLLIN)
			break; /* the RX thread failed: stop is set */
		if (lnf_stopped(l) || !(fds[0].revents & (POLLIN | POLLERR | POLLHUP)))
			continue;

		uint32_t n = read_batch(l, lens, &fatal), done = 0;
		while (done < n && !lnf_stopped(l)) {
			uint32_t k = nf_tx_burst(l->nf, pkts + done, lens + done, n - done, NF_TX_KICK);
			done += k;
			if (k)
				lnf_add(&l->c.tx_batches, 1);
			if (done < n) {
				/* Ring full: hold the TAP back (the kernel queues, then drops,
				 * as a full NIC would) until the switch frees slots. */
				lnf_add(&l->c.tx_ring_full, 1);
				int rc = nf_tx_wait(l->nf, LNF_RX_WAIT_MS);
				if (rc < 0)
					return rc;
				if (signals_pending(l))
					l->on_signals(l);
			}
		}
		lnf_add(&l->c.tx_packets, done);
		if (fatal)
			return fatal;
	}
	return 0;
}
