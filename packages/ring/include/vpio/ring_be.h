/* SPDX-License-Identifier: MIT */
/*
 * vpio/ring_be.h - the backend (switch) side of a ring: setup, validated reads of the
 * guest's indices and slots, release/publish, and copy bursts for both
 * directions.
 * Static inline, freestanding, no allocation or locking: see vpio/ring.h for
 * the layout, the ownership rules and the kick protocol these follow.
 */
#ifndef VPIO_RING_BE_H
#define VPIO_RING_BE_H

#include "vpio/ring.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Backend side                                                             */
/*
 * The backend's private state for one ring. Everything the backend needs is
 * here; the shared header is written, and only head/cur/need_kick and the
 * slots are ever read from shared memory, each once, into locals.
 */
struct vring_be {
	struct vring_hdr *hdr;    /* shared */
	struct vring_slot *slots; /* shared */
	uint8_t *pool;            /* shared pool base (the port's buffers) */
	uint32_t kind;
	uint32_t num_slots;
	uint32_t mask;
	struct vring_limits lim;
	uint32_t hwcur;  /* last head accepted */
	uint32_t hwtail; /* last tail published */
};

/*
 * Set up the backend's private state for a ring that was initialised
 * earlier (by vring_be_init() in another process, or by the control plane's
 * RingView.init()) from values the backend kept itself, never from the
 * shared header: the state vring_be_init() leaves, hwcur = 0 and hwtail =
 * the initial tail. Valid only before the backend consumed or published
 * anything; the guest may already have moved head, which the next
 * vring_be_read_head() validates as usual. Writes nothing shared.
 * Returns 0 or -VP_EINVAL for a bad geometry, kind or feature set.
 */
static inline int vring_be_adopt(struct vring_be *be, void *ring_mem, void *pool_mem, uint32_t kind,
				 uint32_t num_slots, uint32_t buf_size, uint32_t nr_bufs, uint32_t features)
{
	int rc = vring_check_geometry(num_slots, buf_size, nr_bufs);

	if (rc)
		return rc;
	if (kind != VRING_KIND_TX && kind != VRING_KIND_RX)
		return -VP_EINVAL;
	if (features & ~VRING_FEAT_KNOWN)
		return -VP_EINVAL;
	be->hdr = (struct vring_hdr *)ring_mem;
	be->slots = vring_slots(be->hdr);
	be->pool = (uint8_t *)pool_mem;
	be->kind = kind;
	be->num_slots = num_slots;
	be->mask = num_slots - 1;
	be->lim.buf_size = buf_size;
	be->lim.nr_bufs = nr_bufs;
	be->lim.features = features;
	be->hwcur = 0;
	be->hwtail = kind == VRING_KIND_TX ? num_slots - 1 : 0;
	return 0;
}

/*
 * Write a fresh ring header and slots into ring memory of ring_bytes bytes
 * (at least vring_ring_bytes(num_slots)), and set up the private state.
 * Slot buf_idx are assigned first_buf, first_buf + 1, ... (caller chooses
 * disjoint ranges for the TX and RX rings of a port); len, flags and gref
 * are zeroed. The header's magic is written last, with release.
 * Returns 0, -VP_EINVAL for a bad geometry or kind, -VP_ERANGE when the
 * memory or the pool is too small.
 */
static inline int vring_be_init(struct vring_be *be, void *ring_mem, uint32_t ring_bytes, void *pool_mem,
				uint32_t kind, uint32_t num_slots, uint32_t buf_size, uint32_t nr_bufs,
				uint32_t first_buf, uint32_t features)
{
	struct vring_hdr *h = (struct vring_hdr *)ring_mem;
	struct vring_be st;
	struct vring_slot *s;
	uint32_t i;
	int rc = vring_be_adopt(&st, ring_mem, pool_mem, kind, num_slots, buf_size, nr_bufs, features);

	if (rc)
		return rc;
	if (ring_bytes < vring_ring_bytes(num_slots))
		return -VP_ERANGE;
	if (first_buf > nr_bufs || nr_bufs - first_buf < num_slots)
		return -VP_ERANGE;

	VP_WRITE_ONCE(h->magic, 0u);
	h->abi_version = (uint16_t)VRING_ABI_VERSION;
	h->kind = (uint16_t)kind;
	h->num_slots = num_slots;
	h->buf_size = buf_size;
	h->nr_bufs = nr_bufs;
	h->features = features;
	h->head = 0;
	h->cur = 0;
	h->tail = st.hwtail; /* the private state is the source, never read back */
	h->fe_need_kick = 0;
	h->be_need_kick = 0;
	s = st.slots;
	for (i = 0; i < num_slots; i++) {
		s[i].buf_idx = first_buf + i;
		s[i].len = 0;
		s[i].flags = 0;
		s[i].u.gref = 0;
	}
	*be = st;
	vp_store_release(&h->magic, VRING_MAGIC); /* pairs with the acquire in vring_fe_attach() */
	return 0;
}

static inline uint8_t *vring_be_buf(const struct vring_be *be, uint32_t buf_idx)
{
	return be->pool + (uint64_t)buf_idx * be->lim.buf_size;
}

/*
 * Read the guest's head and cur once and validate them. On success *head is
 * the new head and VRING_OK is returned; otherwise the ring is unchanged,
 * *head = hwcur, and the verdict says why (the caller counts it).
 */
static inline enum vring_verdict vring_be_read_head(const struct vring_be *be, uint32_t *head)
{
	/* pairs with the release in vring_fe_publish(): slots before head are written */
	uint32_t h = vp_load_acquire(&be->hdr->head);
	uint32_t c = VP_READ_ONCE(be->hdr->cur);
	enum vring_verdict v = vring_check_head(h, be->hwcur, be->hwtail, be->num_slots);

	if (v == VRING_OK)
		v = vring_check_cur(c, h, be->hwtail, be->num_slots);
	*head = v == VRING_OK ? h : be->hwcur;
	return v;
}

/* TX: slots the guest has handed over and the backend has not consumed. */
static inline uint32_t vring_be_tx_pending(const struct vring_be *be, uint32_t head)
{
	return vring_dist(be->hwcur, head, be->mask);
}

/*
 * TX: the backend consumed slots up to (not including) new_hwcur: give them
 * back to the guest. The _nokick variant is for a guest that polls and
 * never sleeps: it skips the kick check and its full barrier.
 */
static inline void vring_be_tx_release_nokick(struct vring_be *be, uint32_t new_hwcur)
{
	be->hwcur = new_hwcur;
	be->hwtail = (new_hwcur - 1) & be->mask;
	/* pairs with the acquire in vring_fe_avail(): we are done reading those slots */
	vp_store_release(&be->hdr->tail, be->hwtail);
}

/* As vring_be_tx_release_nokick(); returns nonzero if the guest asked to be kicked. */
static inline int vring_be_tx_release(struct vring_be *be, uint32_t new_hwcur)
{
	vring_be_tx_release_nokick(be, new_hwcur);
	return vring_kick_needed(&be->hdr->fe_need_kick);
}

/* RX: accept the guest's validated head (slots it gave back), return free slots. */
static inline uint32_t vring_be_rx_space(struct vring_be *be, uint32_t head)
{
	be->hwcur = head;
	return vring_dist(be->hwtail, (head - 1) & be->mask, be->mask);
}

/*
 * RX: the backend filled slots up to (not including) new_tail: publish them.
 * The _nokick variant skips the kick check (a polling guest).
 */
static inline void vring_be_rx_publish_nokick(struct vring_be *be, uint32_t new_tail)
{
	be->hwtail = new_tail;
	/* pairs with the acquire in vring_fe_avail(): slot contents before tail */
	vp_store_release(&be->hdr->tail, new_tail);
}

/* As vring_be_rx_publish_nokick(); returns nonzero if the guest asked to be kicked. */
static inline int vring_be_rx_publish(struct vring_be *be, uint32_t new_tail)
{
	vring_be_rx_publish_nokick(be, new_tail);
	return vring_kick_needed(&be->hdr->fe_need_kick);
}

/*
 * Burst dequeue (backend, TX ring): take up to n packets the guest handed
 * over, validate each slot, copy valid packets out into dst[i] (each at
 * least buf_size bytes), their lengths into lens[i]; count invalid slots by
 * reason in drops[] (VRING_VERDICT_COUNT entries, caller-owned). Chains are
 * not reassembled here (a VRING_F_MORE slot is validated and delivered as
 * its own fragment). Returns packets delivered; *kick (may be NULL: a
 * polling peer that never sleeps, no kick check and no full barrier) is set when the
 * guest asked for a kick. A bad head is counted and nothing is consumed.
 */
static inline uint32_t vring_be_tx_burst(struct vring_be *be, void *const dst[], uint16_t lens[], uint32_t n,
					 uint64_t drops[], int *kick)
{
	uint32_t head, cur, got = 0, seen = 0;
	enum vring_verdict v = vring_be_read_head(be, &head);

	if (kick)
		*kick = 0;
	if (v != VRING_OK) {
		drops[v]++;
		return 0;
	}
	cur = be->hwcur;
	while (cur != head && got < n) {
		struct vring_slot s;

		vring_slot_read(&be->slots[cur], &s);
		v = vring_check_slot(&s, &be->lim, 1);
		if (vp_likely(v == VRING_OK)) {
			vp_memcpy(dst[got], vring_be_buf(be, s.buf_idx), s.len);
			lens[got++] = s.len;
		} else {
			drops[v]++;
		}
		cur = vring_next(cur, be->mask);
		seen++;
	}
	if (seen) {
		if (kick)
			*kick = vring_be_tx_release(be, cur);
		else
			vring_be_tx_release_nokick(be, cur);
	}
	return got;
}

/*
 * Burst enqueue (backend, RX ring): copy up to n packets (src[i], lens[i])
 * into the guest's free RX slots and publish them. Each slot's buf_idx is
 * the guest's (it may have swapped buffers) and is validated; a slot with a
 * foreign buf_idx stops the burst (counted as VRING_DROP_BUF_IDX) so the
 * guest sees no gap. lens[i] must already be <= buf_size (the caller's
 * packets). Returns packets enqueued; *kick as above (may be NULL).
 */
static inline uint32_t vring_be_rx_burst(struct vring_be *be, const void *const src[], const uint16_t lens[],
					 uint32_t n, uint64_t drops[], int *kick)
{
	uint32_t head, space, tail, i;
	enum vring_verdict v = vring_be_read_head(be, &head);

	if (kick)
		*kick = 0;
	if (v != VRING_OK)
		drops[v]++;
	space = vring_be_rx_space(be, head);
	if (n > space)
		n = space;
	tail = be->hwtail;
	for (i = 0; i < n; i++) {
		struct vring_slot *s = &be->slots[tail];
		uint32_t buf_idx = VP_READ_ONCE(s->buf_idx);

		if (vp_unlikely(buf_idx >= be->lim.nr_bufs)) {
			drops[VRING_DROP_BUF_IDX]++;
			break;
		}
		vp_memcpy(vring_be_buf(be, buf_idx), src[i], lens[i]);
		VP_WRITE_ONCE(s->len, lens[i]);
		VP_WRITE_ONCE(s->flags, (uint16_t)0);
		tail = vring_next(tail, be->mask);
	}
	if (i) {
		if (kick)
			*kick = vring_be_rx_publish(be, tail);
		else
			vring_be_rx_publish_nokick(be, tail);
	}
	return i;
}

/* Backend about to sleep on this ring: 1 if it may sleep, 0 if work arrived. */
static inline int vring_be_prepare_sleep(struct vring_be *be)
{
	uint32_t head;

	vring_kick_arm(&be->hdr->be_need_kick);
	if (vring_be_read_head(be, &head) != VRING_OK)
		return 1; /* nothing usable: a bad head is counted by the next burst */
	if (be->kind == VRING_KIND_TX ? head != be->hwcur
				       : vring_dist(be->hwtail, (head - 1) & be->mask, be->mask) != 0) {
		vring_kick_disarm(&be->hdr->be_need_kick);
		return 0;
	}
	return 1;
}

static inline void vring_be_woken(struct vring_be *be)
{
	vring_kick_disarm(&be->hdr->be_need_kick);
}

#ifdef __cplusplus
}
#endif

#endif /* VPIO_RING_BE_H */
