/* SPDX-License-Identifier: MIT */
/*
 * wire_xdp.c - --wire xdp: the wire is one rx/tx queue of a NIC through an
 * AF_XDP socket (libxdp's xsk API) and vpio's own XDP program.
 *
 * This file is the data path and the ops table; the setup (options, open,
 * close, counters) is wire_xdp_open.c, the probe wire_xdp_probe.c.
 *
 * Setup (open), in this order so no frame is lost on the way:
 *   1. attach kernel/build/xdp_vpio.bpf.o with libxdp (native mode, else
 *      generic/SKB): from now on the queue's frames meet an empty XSKMAP
 *      slot and go on to the stack (XDP_PASS), as before;
 *   2. the UMEM: one anonymous mapping of RX_FRAMES + TX_FRAMES frames,
 *      registered once; the RX frames all go to the fill ring;
 *   3. the socket, bound to the queue with XDP_USE_NEED_WAKEUP, first
 *      XDP_ZEROCOPY, then (bind refused) XDP_COPY on a fresh socket + UMEM;
 *   4. the socket into the XSKMAP at the queue index: frames now come here.
 * close() undoes it in reverse: the socket's close empties its map slot,
 * then the program is detached (only ours: libxdp's dispatcher keeps other
 * programs on the interface).
 *
 * UMEM layout (frame_size 2048 or 4096, aligned mode):
 *   [0, RX_FRAMES)                  RX frames: in the fill ring, the kernel's
 *                                   rx ring, or held by us between rx_burst
 *                                   and rx_release
 *   [RX_FRAMES, RX_FRAMES+TX_FRAMES) TX frames: in tx_free[] (ours), or in
 *                                   the tx / completion rings (the kernel's)
 *
 * The data path (rx_burst, rx_release, tx_reserve, tx_commit) touches only
 * the four mmap'ed rings and the UMEM: no allocation, no lock; syscalls:
 * a sendto(MSG_DONTWAIT) kick per tx_commit when the kernel asks for one
 * (xsk_ring_prod__needs_wakeup(tx): always, in copy mode), a recvfrom kick
 * on an empty rx_burst when the fill ring asks for one (zero-copy drivers).
 * The rings' producer/consumer barriers are libxdp's (xsk.h: the
 * smp_store_release/smp_load_acquire pairs with the kernel's xskq_ side).
 *
 * Kernel-written ring entries (rx and completion descriptors) are read
 * once into locals and checked against the UMEM layout before use.
 *
 * Threading: one thread (the pump's), as wire.h says.
 */
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>
#include "vpio/xdp_vpio.h"
#include "wire_xdp_internal.h"

/* ---------------------------------------------------------------- data path */

/* Takes completed TX frames back onto the free stack (no syscall). */
static void reap_completions(struct wire_xdp *x)
{
	uint32_t idx;
	uint32_t n = xsk_ring_cons__peek(&x->comp, COMP_BATCH, &idx);

	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = *xsk_ring_cons__comp_addr(&x->comp, idx + i); /* read once */
		uint64_t base = addr & ~(uint64_t)(x->frame_size - 1);

		if (base < (uint64_t)RX_FRAMES * x->frame_size || base >= x->area_len || x->tx_nfree >= TX_FRAMES) {
			x->comp_bad++; /* not a TX frame we sent: never reuse it */
			continue;
		}
		x->tx_free[x->tx_nfree++] = base;
	}
	if (n)
		xsk_ring_cons__release(&x->comp, n);
}

static int xdp_rx_burst(struct wire *w, struct wire_frame f[], uint32_t n)
{
	struct wire_xdp *x = XDP_OF(w);
	uint32_t idx, out = 0;

	if (x->rx_held) /* the pump forgot rx_release: give them back first */
		w->ops->rx_release(w);
	if (n > WIRE_BURST_MAX)
		n = WIRE_BURST_MAX;
	uint32_t got = xsk_ring_cons__peek(&x->rx, n, &idx);
	if (got == 0) {
		/* A zero-copy driver that ran out of fill buffers sleeps until woken. */
		if (xsk_ring_prod__needs_wakeup(&x->fill)) {
			x->rx_kicks++;
			recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		}
		return 0;
	}
	for (uint32_t i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		uint64_t addr = d->addr; /* read once */
		uint32_t len = d->len;
		uint64_t base = addr & ~(uint64_t)(x->frame_size - 1); /* aligned mode: addr = frame + offset */
		uint64_t off = addr - base;

		if (base >= (uint64_t)RX_FRAMES * x->frame_size) {
			x->rx_drop_bad_desc++; /* not one of our RX frames: never touched, never recycled */
			w->st.rx_drops++;
			continue;
		}
		x->rx_addr[x->rx_held++] = base;
		if (off + len > x->frame_size) {
			x->rx_drop_bad_desc++;
		} else if (len > x->frame_max) {
			x->rx_drop_too_long++;
		} else if (len < 14) {
			x->rx_drop_runt++;
		} else {
			f[out].data = x->area + base + off;
			f[out].len = len;
			f[out].vlan = 0;
			w->st.rx_bytes += len;
			out++;
			continue;
		}
		w->st.rx_drops++;
	}
	/* The descriptors are copied: the rx ring slots can go back now; the frames stay ours until rx_release. */
	xsk_ring_cons__release(&x->rx, got);
	w->st.rx_frames += out;
	if (out)
		w->st.rx_bursts++;
	return (int)out;
}

static void xdp_rx_release(struct wire *w)
{
	struct wire_xdp *x = XDP_OF(w);
	uint32_t idx;

	if (x->rx_held == 0)
		return;
	/* FILL_SIZE holds every RX frame, so this always fits; if it ever did not, the frames are counted lost. */
	if (xsk_ring_prod__reserve(&x->fill, x->rx_held, &idx) != x->rx_held) {
		x->fill_lost += x->rx_held;
		x->rx_held = 0;
		return;
	}
	for (uint32_t i = 0; i < x->rx_held; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = x->rx_addr[i];
	xsk_ring_prod__submit(&x->fill, x->rx_held);
	x->rx_held = 0;
}

static uint32_t xdp_tx_reserve(struct wire *w, struct wire_frame f[], uint32_t n)
{
	struct wire_xdp *x = XDP_OF(w);

	if (n > WIRE_BURST_MAX)
		n = WIRE_BURST_MAX;
	if (x->tx_nfree < n || xsk_cons_nb_avail(&x->comp, 1))
		reap_completions(x);
	uint32_t k = n;
	if (k > x->tx_nfree)
		k = x->tx_nfree;
	k = xsk_prod_nb_free(&x->tx, k) < k ? xsk_prod_nb_free(&x->tx, k) : k;
	for (uint32_t i = 0; i < k; i++) {
		f[i].data = x->area + x->tx_free[x->tx_nfree - 1 - i];
		f[i].len = x->frame_size;
		f[i].vlan = 0;
	}
	x->tx_reserved = k;
	if (k < n)
		w->st.tx_ring_full++;
	return k;
}

/* Tells the kernel the tx ring has work, when it asked to be told. Returns 0 or -errno (fatal). */
static int tx_kick(struct wire_xdp *x)
{
	if (!xsk_ring_prod__needs_wakeup(&x->tx))
		return 0;
	for (uint32_t i = 0; i < KICK_RETRIES; i++) {
		x->w.st.tx_flushes++;
		if (sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
			return 0;
		switch (errno) {
		case EAGAIN: /* copy mode sent its per-call budget; more is waiting */
			x->tx_kick_retries++;
			continue;
		case EBUSY:
		case ENOBUFS:
		case ENETDOWN:
		case EINTR:
			x->tx_kick_busy++; /* the ring keeps the frames; the next kick or poll sends them */
			return 0;
		default:
			return -errno;
		}
	}
	return 0;
}

static int xdp_tx_commit(struct wire *w, const uint32_t lens[], uint32_t n)
{
	struct wire_xdp *x = XDP_OF(w);
	uint32_t idx = 0, ok = 0, nbad = 0;
	uint64_t bad[WIRE_BURST_MAX];

	if (n > x->tx_reserved)
		n = x->tx_reserved; /* never more than tx_reserve lent */
	x->tx_reserved = 0;
	if (n == 0)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		ok += lens[i] >= 14 && lens[i] <= x->frame_size;
	/* tx_reserve saw room for n in the tx ring, and only we produce there. */
	if (ok && xsk_ring_prod__reserve(&x->tx, ok, &idx) != ok)
		return -EOVERFLOW;
	for (uint32_t i = 0, j = 0; i < n; i++) {
		uint64_t addr = x->tx_free[x->tx_nfree - 1 - i];
		uint32_t len = lens[i];

		if (len < 14 || len > x->frame_size) {
			x->tx_drop_bad_len++;
			w->st.tx_drops++;
			bad[nbad++] = addr;
			continue;
		}
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&x->tx, idx + j++);
		d->addr = addr;
		d->len = len;
		d->options = 0;
		w->st.tx_bytes += len;
	}
	x->tx_nfree -= n;
	for (uint32_t i = 0; i < nbad; i++) /* the dropped ones' buffers stay free */
		x->tx_free[x->tx_nfree++] = bad[i];
	if (ok == 0)
		return 0;
	xsk_ring_prod__submit(&x->tx, ok); /* the release store pairs with the kernel's acquire of the producer */
	w->st.tx_frames += ok;
	int err = tx_kick(x);
	return err ? err : (int)ok;
}

static int xdp_poll_fd(const struct wire *w)
{
	return XDP_OF_C(w)->fd;
}

const struct wire_ops wire_xdp_ops = {
	.rx_burst = xdp_rx_burst,
	.rx_release = xdp_rx_release,
	.tx_reserve = xdp_tx_reserve,
	.tx_commit = xdp_tx_commit,
	.poll_fd = xdp_poll_fd,
	.counters = wire_xdp_counters,
	.close = wire_xdp_close,
};
