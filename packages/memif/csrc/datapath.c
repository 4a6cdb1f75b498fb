/* SPDX-License-Identifier: MIT */
/*
 * datapath.c - rx and tx bursts over a connected client's rings.
 *
 * Concurrency: one thread per interface calls the bursts (vpio/memif.h);
 * the only other party is the client, across shared memory. The server's
 * private copies (q->next, ring size, region bounds) are the truth; from
 * shared memory we read the client's head once per burst and each
 * descriptor's fields once per use, validate the locals and use only them.
 * Nothing a client writes makes us touch memory outside its own regions,
 * block, or loop longer than one ring.
 *
 * Per packet: no allocation, no lock, no syscall. Per burst: one acquire
 * load of head, one release store of tail, and at most one eventfd access.
 * vmif_rx_arm/vmif_rx_disarm write our C2S MASK_INT only when the caller
 * goes idle (the adaptive interrupt scheme) and touch the eventfd once.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "memif_internal.h"

/* One descriptor, read once. */
struct desc {
	uint16_t flags, region;
	uint32_t length, offset;
};

static inline void read_desc(const struct vmif_desc *d, struct desc *out)
{
	out->flags = VP_READ_ONCE(d->flags);
	out->region = VP_READ_ONCE(d->region);
	out->length = VP_READ_ONCE(d->length);
	out->offset = VP_READ_ONCE(d->offset);
}

/* The buffer a descriptor names if it is valid, else NULL with *bad set to
 * the counter to bump. `len` is the length to check (rx: the data length,
 * tx: the offered capacity). */
static inline uint8_t *buffer_of(struct vmif_if *ifp, const struct desc *d, uint32_t len, uint64_t **bad, int rx)
{
	const struct vmif_region *r;

	if (vp_unlikely(d->region >= ifp->n_regions)) {
		*bad = rx ? &ifp->c.rx_bad_region : &ifp->c.tx_bad_region;
		return NULL;
	}
	if (vp_unlikely(len > ifp->srv->cfg.buf_size || (!rx && len == 0))) {
		*bad = rx ? &ifp->c.rx_bad_len : &ifp->c.tx_bad_len;
		return NULL;
	}
	r = &ifp->regions[d->region];
	if (vp_unlikely((uint64_t)d->offset + len > r->size)) {
		*bad = rx ? &ifp->c.rx_bad_offset : &ifp->c.tx_bad_offset;
		return NULL;
	}
	return r->base + d->offset;
}

/* Consumes a pending kick on a C2S ring's eventfd: 1 consumed, 0 none.
 * RWF_NOWAIT never blocks, whatever O_NONBLOCK the client left on the
 * shared file description. */
static int consume_kick(struct vmif_if *ifp, struct vmif_queue *q)
{
	uint64_t v;
	struct iovec iov = { .iov_base = &v, .iov_len = sizeof(v) };

	if (preadv2(q->fd, &iov, 1, -1, RWF_NOWAIT) != (ssize_t)sizeof(v))
		return 0;
	ifp->c.rx_kick_reads++;
	return 1;
}

/* vmif_rx_burst (inplace 0: copy every packet, publish tail) and vmif_rx_peek
 * (inplace 1: a packet in one descriptor is handed out in place, tail waits
 * for vmif_rx_release). */
/* C2S queue qid of a connected interface into *q: 0, -ENOTCONN or -EINVAL. */
static int rx_queue(struct vmif_if *ifp, unsigned qid, struct vmif_queue **q)
{
	if (!ifp->connected)
		return -ENOTCONN;
	if (qid >= ifp->n_rx)
		return -EINVAL;
	*q = &ifp->rxq[qid];
	return 0;
}

static int rx_burst(struct vmif_if *ifp, unsigned qid, struct vmif_buf *bufs, unsigned n, int inplace)
{
	struct vmif_queue *q;
	struct vmif_ring *ring;
	uint16_t head, avail, cur;
	unsigned done = 0;
	int rc = rx_queue(ifp, qid, &q);

	if (rc)
		return rc;
	ring = q->ring;

	if (!ifp->rx_poll)
		(void)consume_kick(ifp, q);

	/* pairs with the client's release store of head after filling descriptors */
	head = vp_load_acquire(&ring->head);
	avail = (uint16_t)(head - q->next);
	if (vp_unlikely(avail > q->ring_size)) {
		ifp->c.rx_bad_head++;
		return 0;
	}

	cur = q->next;
	while (avail > 0 && done < n) {
		struct vmif_buf *b = &bufs[done];
		uint64_t *bad = NULL;
		uint8_t *in_place = NULL;
		uint32_t total = 0;
		uint16_t used = 0;
		int too_big = 0;
		struct desc d;

		for (;;) {
			uint8_t *src;

			if (used == avail) {
				if (avail < q->ring_size)
					goto out; /* the rest of the chain is not published yet */
				bad = &ifp->c.rx_bad_chain; /* a chain longer than the ring */
				break;
			}
			read_desc(&ring->desc[(uint16_t)(cur + used) & q->mask], &d);
			used++;
			if (bad == NULL) {
				src = buffer_of(ifp, &d, d.length, &bad, 1);
				if (src != NULL && !too_big) {
					if (d.length > b->cap - total)
						too_big = 1;
					else if (inplace && used == 1 && !(d.flags & VMIF_DESC_FLAG_NEXT))
						in_place = src; /* validated above from the local copy */
					else
						memcpy((uint8_t *)b->data + total, src, d.length);
				}
				total += d.length; /* each <= buf_size: no overflow within a ring */
			}
			if (!(d.flags & VMIF_DESC_FLAG_NEXT))
				break;
		}
		cur = (uint16_t)(cur + used);
		avail = (uint16_t)(avail - used);
		if (bad == NULL && too_big)
			bad = &ifp->c.rx_too_big;
		if (bad == NULL && total == 0)
			bad = &ifp->c.rx_empty;
		if (bad != NULL) {
			(*bad)++;
			continue;
		}
		if (in_place)
			b->data = in_place; /* only for a packet handed out: bufs[done] of a dropped one stays the caller's */
		b->len = total;
		ifp->c.rx_pkts++;
		ifp->c.rx_bytes += total;
		done++;
	}
out:
	if (cur != q->next) {
		q->next = cur;
		/* pairs with the client's acquire load of tail before reusing slots */
		if (inplace)
			q->held = 1; /* published by vmif_rx_release */
		else
			vp_store_release(&ring->tail, cur);
	}
	return (int)done;
}

int vmif_rx_burst(struct vmif_if *ifp, unsigned qid, struct vmif_buf *bufs, unsigned n)
{
	return rx_burst(ifp, qid, bufs, n, 0);
}

int vmif_rx_peek(struct vmif_if *ifp, unsigned qid, struct vmif_buf *bufs, unsigned n)
{
	return rx_burst(ifp, qid, bufs, n, 1);
}

int vmif_rx_release(struct vmif_if *ifp, unsigned qid)
{
	struct vmif_queue *q;
	int rc = rx_queue(ifp, qid, &q);

	if (rc)
		return rc;
	/* Everything peeked is read: pairs with the client's acquire load of
	 * tail before it reuses the slots' buffers. */
	if (q->held) {
		q->held = 0;
		vp_store_release(&q->ring->tail, q->next);
	}
	return 0;
}

/* Writes the client's eventfd once, never blocking: POLLOUT first (a full
 * counter would block a write), and the write itself fails with EAGAIN
 * when the client left O_NONBLOCK set. */
static void kick(struct vmif_if *ifp, struct vmif_queue *q)
{
	struct pollfd p = { .fd = q->fd, .events = POLLOUT };
	uint64_t one = 1;

	if (poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) && write(q->fd, &one, sizeof(one)) == (ssize_t)sizeof(one))
		ifp->c.tx_kicks++;
	else
		ifp->c.tx_kicks_skipped++;
}

int vmif_tx_burst(struct vmif_if *ifp, unsigned qid, const struct vmif_buf *bufs, unsigned n)
{
	struct vmif_queue *q;
	struct vmif_ring *ring;
	uint16_t head, room, slot;
	unsigned sent = 0;

	if (!ifp->connected)
		return -ENOTCONN;
	if (qid >= ifp->n_tx)
		return -EINVAL;
	q = &ifp->txq[qid];
	ring = q->ring;

	/* pairs with the client's release store of head after offering buffers */
	head = vp_load_acquire(&ring->head);
	room = (uint16_t)(head - q->next);
	if (vp_unlikely(room > q->ring_size)) {
		ifp->c.tx_bad_head++;
		return 0;
	}

	slot = q->next;
	for (; sent < n; sent++) {
		const uint8_t *src = bufs[sent].data;
		uint32_t left = bufs[sent].len;
		uint16_t start = slot, room0 = room;
		int placed = 0;

		while (!placed) {
			struct vmif_desc *dd;
			uint64_t *bad = NULL;
			uint8_t *dst;
			uint32_t chunk;
			struct desc d;

			if (room == 0)
				break;
			dd = &ring->desc[slot & q->mask];
			read_desc(dd, &d);
			slot++;
			room--;
			dst = buffer_of(ifp, &d, d.length, &bad, 0);
			if (dst == NULL) {
				/* Never written into: handed back empty, as a
				 * leading part of the packet that follows. */
				(*bad)++;
				VP_WRITE_ONCE(dd->length, 0u);
				VP_WRITE_ONCE(dd->flags, (uint16_t)VMIF_DESC_FLAG_NEXT);
				continue;
			}
			chunk = left < d.length ? left : d.length;
			memcpy(dst, src, chunk);
			src += chunk;
			left -= chunk;
			VP_WRITE_ONCE(dd->length, chunk);
			VP_WRITE_ONCE(dd->flags, (uint16_t)(left ? VMIF_DESC_FLAG_NEXT : 0));
			placed = left == 0;
		}
		if (!placed) {
			slot = start;
			room = room0;
			if (room0 == q->ring_size) {
				/* the whole ring was offered and it did not fit: it never will */
				ifp->c.tx_too_big++;
				continue;
			}
			ifp->c.tx_no_room += n - sent;
			break;
		}
		ifp->c.tx_pkts++;
		ifp->c.tx_bytes += bufs[sent].len;
	}

	if (slot != q->next) {
		q->next = slot;
		/* pairs with the client's acquire load of tail in its rx */
		vp_store_release(&ring->tail, slot);
		/* Publish tail before reading the client's mask: pairs with the
		 * barrier a client issues between clearing MASK_INT and re-reading
		 * tail before it sleeps (no lost wake-up). */
		vp_mb();
		if (!(VP_READ_ONCE(ring->flags) & VMIF_RING_FLAG_MASK_INT))
			kick(ifp, q);
	}
	return (int)sent;
}

int vmif_rx_arm(struct vmif_if *ifp, unsigned qid)
{
	struct vmif_queue *q;
	int rc = rx_queue(ifp, qid, &q);

	if (rc)
		return rc;
	VP_WRITE_ONCE(q->ring->flags, (uint16_t)0);
	/* Clear MASK_INT before reading head: pairs with the barrier a client
	 * issues between publishing head and reading MASK_INT (as vmif_tx_burst
	 * does on S2C), so either it sees the clear and kicks, or we see its
	 * head here. */
	vp_mb();
	if (VP_READ_ONCE(q->ring->head) != q->next) {
		VP_WRITE_ONCE(q->ring->flags, (uint16_t)VMIF_RING_FLAG_MASK_INT);
		ifp->c.rx_arm_races++;
		return 0;
	}
	ifp->c.rx_arms++;
	return 1;
}

int vmif_rx_disarm(struct vmif_if *ifp, unsigned qid)
{
	struct vmif_queue *q;
	int rc = rx_queue(ifp, qid, &q);

	if (rc)
		return rc;
	VP_WRITE_ONCE(q->ring->flags, (uint16_t)VMIF_RING_FLAG_MASK_INT);
	return consume_kick(ifp, q);
}
