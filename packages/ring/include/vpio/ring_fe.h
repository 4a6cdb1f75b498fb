/* SPDX-License-Identifier: MIT */
/*
 * vpio/ring_fe.h - the guest (netfront) side of a ring: attach with ABI checks,
 * publish, and copy bursts for both directions.
 * Static inline, freestanding, no allocation or locking: see vpio/ring.h for
 * the layout, the ownership rules and the kick protocol these follow.
 */
#ifndef VPIO_RING_FE_H
#define VPIO_RING_FE_H

#include "vpio/ring.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Guest (frontend) side                                                    */
/*
 * The guest's private part: its own head, a cached tail, and the geometry
 * it checked once at attach. The guest trusts the backend (it is dom0) but
 * still checks the geometry against the memory it mapped.
 */
struct vring_fe {
	struct vring_hdr *hdr;
	struct vring_slot *slots;
	uint8_t *pool;
	uint32_t kind;
	uint32_t num_slots;
	uint32_t mask;
	uint32_t buf_size;
	uint32_t nr_bufs;
	uint32_t features;
	uint32_t head;       /* private copy of hdr->head */
	uint32_t tail_cache; /* last tail read */
};

/*
 * Attach to a ring the backend set up. Returns 0; -VP_EPROTO if the magic
 * is wrong (not a vpio ring, or not set up yet); -VP_EPROTONOSUPPORT if the
 * ABI version differs from VRING_ABI_VERSION; -VP_EINVAL for a bad geometry,
 * a head or tail outside [0, num_slots), or a kind other than `kind`;
 * -VP_ERANGE if ring_bytes or pool_bytes are smaller than the header says.
 */
static inline int vring_fe_attach(struct vring_fe *fe, void *ring_mem, uint64_t ring_bytes, void *pool_mem,
				  uint64_t pool_bytes, uint32_t kind)
{
	struct vring_hdr *h = (struct vring_hdr *)ring_mem;
	uint32_t num_slots, buf_size, nr_bufs, head, tail;

	if (ring_bytes < VRING_SLOTS_OFFSET)
		return -VP_ERANGE;
	if (vp_load_acquire(&h->magic) != VRING_MAGIC) /* pairs with the release in vring_be_init() */
		return -VP_EPROTO;
	if (VP_READ_ONCE(h->abi_version) != VRING_ABI_VERSION)
		return -VP_EPROTONOSUPPORT;
	num_slots = VP_READ_ONCE(h->num_slots);
	buf_size = VP_READ_ONCE(h->buf_size);
	nr_bufs = VP_READ_ONCE(h->nr_bufs);
	if (vring_check_geometry(num_slots, buf_size, nr_bufs) || VP_READ_ONCE(h->kind) != kind)
		return -VP_EINVAL;
	if (ring_bytes < vring_ring_bytes(num_slots) || pool_bytes < (uint64_t)nr_bufs * buf_size)
		return -VP_ERANGE;
	head = VP_READ_ONCE(h->head);
	tail = vp_load_acquire(&h->tail); /* pairs with the release of vring_be_tx_release() / _rx_publish() */
	if (head >= num_slots || tail >= num_slots) /* head indexes slots[] directly */
		return -VP_EINVAL;
	fe->hdr = h;
	fe->slots = vring_slots(h);
	fe->pool = (uint8_t *)pool_mem;
	fe->kind = kind;
	fe->num_slots = num_slots;
	fe->mask = num_slots - 1;
	fe->buf_size = buf_size;
	fe->nr_bufs = nr_bufs;
	fe->features = VP_READ_ONCE(h->features);
	fe->head = head;
	fe->tail_cache = tail;
	return 0;
}

static inline uint8_t *vring_fe_buf(const struct vring_fe *fe, uint32_t buf_idx)
{
	return fe->pool + (uint64_t)buf_idx * fe->buf_size;
}

/* Slots the guest owns: free slots on TX, received packets on RX. Refreshes the tail cache. */
static inline uint32_t vring_fe_avail(struct vring_fe *fe)
{
	/* pairs with the release in vring_be_tx_release() / vring_be_rx_publish() */
	fe->tail_cache = vp_load_acquire(&fe->hdr->tail);
	return vring_dist(fe->head, fe->tail_cache, fe->mask);
}

/* As vring_fe_avail(), but reads the shared tail only when the cache has fewer than `want`. */
static inline uint32_t vring_fe_avail_cached(struct vring_fe *fe, uint32_t want)
{
	uint32_t n = vring_dist(fe->head, fe->tail_cache, fe->mask);

	return n >= want ? n : vring_fe_avail(fe);
}

/*
 * Hand slots [old head, fe->head) to the backend (TX: packets; RX: slots
 * given back). The _nokick variant is for a backend that polls and never
 * sleeps: it skips the kick check and its full barrier.
 */
static inline void vring_fe_publish_nokick(struct vring_fe *fe)
{
	VP_WRITE_ONCE(fe->hdr->cur, fe->head);
	/* pairs with the acquire in vring_be_read_head(): slot contents before head */
	vp_store_release(&fe->hdr->head, fe->head);
}

/* As vring_fe_publish_nokick(); returns nonzero if the backend asked to be kicked. */
static inline int vring_fe_publish(struct vring_fe *fe)
{
	vring_fe_publish_nokick(fe);
	return vring_kick_needed(&fe->hdr->be_need_kick);
}

/*
 * Burst enqueue (guest, TX ring): copy up to n packets into free slots and
 * publish them. lens[i] must be in [VRING_ETH_HLEN, buf_size]; a packet
 * outside that, or a slot whose buf_idx is not in the pool, stops the burst.
 * Returns packets enqueued; *kick (may be NULL: a
 * polling peer that never sleeps, no kick check and no full barrier) is set when the backend asked for a kick.
 */
static inline uint32_t vring_fe_tx_burst(struct vring_fe *fe, const void *const src[], const uint16_t lens[],
					 uint32_t n, int *kick)
{
	uint32_t space = vring_fe_avail_cached(fe, n), i, head = fe->head;

	if (kick)
		*kick = 0;
	if (n > space)
		n = space;
	for (i = 0; i < n; i++) {
		struct vring_slot *s = &fe->slots[head];
		uint32_t buf_idx = VP_READ_ONCE(s->buf_idx);

		/* as on RX: a bad buf_idx (a buggy swap) must never overrun the pool */
		if (vp_unlikely(lens[i] < VRING_ETH_HLEN || lens[i] > fe->buf_size || buf_idx >= fe->nr_bufs))
			break;
		vp_memcpy(vring_fe_buf(fe, buf_idx), src[i], lens[i]);
		s->len = lens[i];
		s->flags = 0;
		head = vring_next(head, fe->mask);
	}
	if (i) {
		fe->head = head;
		if (kick)
			*kick = vring_fe_publish(fe);
		else
			vring_fe_publish_nokick(fe);
	}
	return i;
}

/*
 * Burst dequeue (guest, RX ring): copy up to n received packets into dst[i]
 * (each at least buf_size bytes), lengths into lens[i], give the slots back.
 * Returns packets dequeued; *kick (may be NULL: a
 * polling peer that never sleeps, no kick check and no full barrier) is set when the backend asked for a kick
 * (a lossless port waiting for RX space).
 */
static inline uint32_t vring_fe_rx_burst(struct vring_fe *fe, void *const dst[], uint16_t lens[], uint32_t n,
					 int *kick)
{
	uint32_t avail = vring_fe_avail_cached(fe, n), i, head = fe->head;

	if (kick)
		*kick = 0;
	if (n > avail)
		n = avail;
	for (i = 0; i < n; i++) {
		const struct vring_slot *s = &fe->slots[head];
		uint32_t len = VP_READ_ONCE(s->len), buf_idx = VP_READ_ONCE(s->buf_idx); /* once: checked below */

		/* the backend is trusted, but a bad value must never overrun dst or the pool */
		if (vp_unlikely(len > fe->buf_size || buf_idx >= fe->nr_bufs))
			len = 0;
		else
			vp_memcpy(dst[i], vring_fe_buf(fe, buf_idx), len);
		lens[i] = (uint16_t)len;
		head = vring_next(head, fe->mask);
	}
	if (n) {
		fe->head = head;
		if (kick)
			*kick = vring_fe_publish(fe);
		else
			vring_fe_publish_nokick(fe);
	}
	return n;
}

/* Guest about to sleep on this ring: 1 if it may sleep, 0 if slots became available. */
static inline int vring_fe_prepare_sleep(struct vring_fe *fe)
{
	vring_kick_arm(&fe->hdr->fe_need_kick);
	if (vring_fe_avail(fe) != 0) {
		vring_kick_disarm(&fe->hdr->fe_need_kick);
		return 0;
	}
	return 1;
}

static inline void vring_fe_woken(struct vring_fe *fe)
{
	vring_kick_disarm(&fe->hdr->fe_need_kick);
}

#ifdef __cplusplus
}
#endif

#endif /* VPIO_RING_FE_H */
