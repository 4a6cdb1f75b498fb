/* SPDX-License-Identifier: MIT */
/*
 * capture.c - the per-port capture tap (vpio/switch.h, "Packet capture").
 *
 * Concurrency model:
 *   - A capture is hooked to a port by one release store into port->cap
 *     (vsw_capture_start(), control thread) and unhooked by a seq_cst store
 *     of NULL followed by vsw_wait_quiescent() (vsw_capture_stop(), and
 *     vsw_port_remove() for a port that goes away with its capture). A
 *     worker loads port->cap once per batch inside its busy section, so
 *     after the wait no worker holds the pointer: the capture may be freed.
 *   - Ring w of a capture is written by worker w only (single producer):
 *     a port's TX is served by one worker, but its RX is written by every
 *     worker whose sources send to it, so "out" records of one port come
 *     from several workers, each into its own ring. The reader
 *     (vsw_capture_read(), one thread at a time) is the single consumer of
 *     every ring and merges them by timestamp.
 *   - Producer, once per batch: load tail (acquire, pairs with the
 *     reader's release store of tail: the reader finished copying what it
 *     freed), write the records, store head (release, pairs with the
 *     reader's acquire load of head: the records' bytes are visible).
 *     A record that does not fit is counted in drops; nothing waits.
 *   - No allocation, syscall or lock per packet: the rings are allocated at
 *     start; the timestamp is one vDSO clock_gettime per batch that has a
 *     capture (w->cap_ts).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sw_internal.h"

#define REC_HDR ((uint32_t)sizeof(struct vsw_cap_rec))

static inline uint32_t rec_bytes(uint32_t cap_len)
{
	return REC_HDR + ((cap_len + VSW_CAP_ALIGN - 1) & ~(VSW_CAP_ALIGN - 1));
}

static uint64_t batch_ts(struct vsw_worker *w)
{
	if (!w->cap_ts) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		w->cap_ts = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	}
	return w->cap_ts;
}

/* Copies n bytes to ring position pos (wrapping). */
static inline void ring_put(struct vsw_cap_ring *r, uint64_t pos, const void *src, uint32_t n)
{
	uint64_t off = pos & r->mask, first = r->mask + 1 - off;

	if (n <= first) {
		memcpy(r->buf + off, src, n);
	} else {
		memcpy(r->buf + off, src, first);
		memcpy(r->buf, (const uint8_t *)src + first, n - first);
	}
}

/* Copies n bytes from ring position pos (wrapping). */
static inline void ring_get(const struct vsw_cap_ring *r, uint64_t pos, void *dst, uint64_t n)
{
	uint64_t off = pos & r->mask, first = r->mask + 1 - off;

	if (n <= first) {
		memcpy(dst, r->buf + off, n);
	} else {
		memcpy(dst, r->buf + off, first);
		memcpy((uint8_t *)dst + first, r->buf, n - first);
	}
}

/* A producer's view of its ring for one batch. */
struct prod {
	struct vsw_cap_ring *r;
	uint64_t head, tail, drops;
};

static inline void prod_begin(struct prod *pr, struct vsw_capture *cap, const struct vsw_worker *w)
{
	pr->r = &cap->rings[w->idx < cap->nrings ? w->idx : 0];
	pr->head = pr->r->head;
	pr->tail = __atomic_load_n(&pr->r->tail, __ATOMIC_ACQUIRE); /* pairs with the release in vsw_capture_read() */
	pr->drops = 0;
}

static inline void prod_end(struct prod *pr)
{
	__atomic_store_n(&pr->r->head, pr->head, __ATOMIC_RELEASE); /* pairs with the acquire in vsw_capture_read() */
	if (pr->drops)
		VSW_STAT_ADD(pr->r->drops, pr->drops);
}

/* One record: the frame is a[0..alen) then b[0..blen) (blen may be 0). */
static inline void prod_rec(struct prod *pr, const struct vsw_cap_rec *h, const uint8_t *a, uint32_t alen,
			    const uint8_t *b, uint32_t blen)
{
	uint32_t need = rec_bytes(h->cap_len);

	if (pr->head + need - pr->tail > pr->r->mask + 1) {
		pr->drops++;
		return;
	}
	ring_put(pr->r, pr->head, h, REC_HDR);
	if (alen)
		ring_put(pr->r, pr->head + REC_HDR, a, alen);
	if (blen)
		ring_put(pr->r, pr->head + REC_HDR + alen, b, blen);
	pr->head += need;
}

void vsw_cap_in(struct vsw_worker *w, struct vsw_capture *cap, const struct vsw_port *src, uint32_t cut)
{
	struct vsw_cap_rec h = { .ts_ns = batch_ts(w), .dir = VSW_CAP_IN, .worker = (uint8_t)w->idx };
	struct prod pr;
	uint32_t i;

	prod_begin(&pr, cap, w);
	for (i = 0; i < cut; i++) {
		const struct vsw_pkt *p = &w->pkts[i];
		uint32_t caplen, a;

		if (p->drop && p->drop < VSW_DROP_RING_FULL)
			continue; /* failed ring validation: no buffer to read */
		caplen = p->len0 < cap->snaplen ? p->len0 : cap->snaplen; /* a chain: its first slot only */
		a = caplen < p->hdr_len ? caplen : p->hdr_len;
		h.orig_len = p->len;
		h.cap_len = (uint16_t)caplen;
		/* the header as the worker copied and judged it, the rest from the guest's (validated) buffer */
		prod_rec(&pr, &h, p->hdr, a, vring_be_buf(&src->tx, p->buf_idx) + a, caplen - a);
	}
	prod_end(&pr);
}

void vsw_cap_out(struct vsw_worker *w, struct vsw_capture *cap, struct vsw_port *dst, const struct vsw_lease *l, uint32_t n)
{
	struct vsw_cap_rec h = { .ts_ns = batch_ts(w), .dir = VSW_CAP_OUT, .worker = (uint8_t)w->idx };
	struct prod pr;
	uint32_t j;

	prod_begin(&pr, cap, w);
	for (j = 0; j < n; j++) {
		const struct vring_slot *s = &dst->rx.slots[(l->start + j) & dst->rx.mask];
		/* leased slots are ours until completion, but the guest's memory all the same: read once, check */
		uint32_t bi = VP_READ_ONCE(s->buf_idx), len = VP_READ_ONCE(s->len), caplen;

		if (bi >= dst->rx.lim.nr_bufs || !len || len > dst->cfg.buf_size)
			continue; /* not delivered (a broken RX slot) */
		caplen = len < cap->snaplen ? len : cap->snaplen;
		h.orig_len = len;
		h.cap_len = (uint16_t)caplen;
		prod_rec(&pr, &h, vring_be_buf(&dst->rx, bi), caplen, NULL, 0);
	}
	prod_end(&pr);
}

static uint64_t pow2_at_least(uint64_t n)
{
	uint64_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

int vsw_capture_start(struct vsw *sw, uint32_t id, const struct vsw_capture_config *cfg, struct vsw_capture **out)
{
	struct vsw_port *p = id < VSW_MAX_PORTS ? sw->ports[id] : NULL;
	struct vsw_capture *cap;
	uint64_t per;
	uint32_t i;

	if (!p)
		return -VP_ENOENT;
	if (!cfg || !out || !cfg->snaplen || cfg->snaplen > 65535 || cfg->buffer_bytes < VSW_CAP_MIN_BYTES ||
	    cfg->buffer_bytes > VSW_CAP_MAX_BYTES || !cfg->dirs || (cfg->dirs & ~(VSW_CAP_IN | VSW_CAP_OUT)))
		return -VP_EINVAL;
	if (p->cap)
		return -VP_EBUSY;
	cap = calloc(1, sizeof(*cap));
	if (!cap)
		return -VP_ENOMEM;
	cap->snaplen = cfg->snaplen;
	cap->dirs = cfg->dirs;
	cap->nrings = sw->nworkers ? sw->nworkers : 1;
	per = cfg->buffer_bytes / cap->nrings;
	if (per < VSW_CAP_MIN_BYTES)
		per = VSW_CAP_MIN_BYTES;
	if (per < 2ull * rec_bytes(cfg->snaplen))
		per = 2ull * rec_bytes(cfg->snaplen);
	per = pow2_at_least(per);
	cap->rings = aligned_alloc(VP_CACHE_LINE, sizeof(*cap->rings) * cap->nrings);
	if (!cap->rings) {
		free(cap);
		return -VP_ENOMEM;
	}
	memset(cap->rings, 0, sizeof(*cap->rings) * cap->nrings);
	for (i = 0; i < cap->nrings; i++) {
		cap->rings[i].buf = malloc(per);
		cap->rings[i].mask = per - 1;
		if (!cap->rings[i].buf) {
			cap->port = NULL;
			vsw_capture_free(cap);
			return -VP_ENOMEM;
		}
	}
	cap->port = p;
	__atomic_store_n(&cap->attached, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&p->cap, cap, __ATOMIC_RELEASE); /* pairs with the acquire loads in fwd.c */
	*out = cap;
	return 0;
}

void vsw_cap_port_gone(struct vsw_port *p)
{
	if (p->cap) {
		p->cap->port = NULL;
		__atomic_store_n(&p->cap->attached, 0, __ATOMIC_RELAXED);
		p->cap = NULL;
	}
}

void vsw_capture_stop(struct vsw *sw, struct vsw_capture *cap)
{
	struct vsw_port *p;

	if (!cap || !(p = cap->port))
		return;
	__atomic_store_n(&p->cap, NULL, __ATOMIC_SEQ_CST);
	vsw_wait_quiescent(sw); /* no worker writes the capture after this (see port.c) */
	cap->port = NULL;
	__atomic_store_n(&cap->attached, 0, __ATOMIC_RELAXED);
}

int vsw_capture_free(struct vsw_capture *cap)
{
	uint32_t i;

	if (!cap)
		return 0;
	if (cap->port)
		return -VP_EBUSY;
	for (i = 0; cap->rings && i < cap->nrings; i++)
		free(cap->rings[i].buf);
	free(cap->rings);
	free(cap);
	return 0;
}

int vsw_capture_attached(const struct vsw_capture *cap)
{
	return __atomic_load_n(&cap->attached, __ATOMIC_RELAXED);
}

uint64_t vsw_capture_pending(const struct vsw_capture *cap)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < cap->nrings; i++)
		n += __atomic_load_n(&cap->rings[i].head, __ATOMIC_ACQUIRE) - cap->rings[i].tail;
	return n;
}

uint64_t vsw_capture_read(struct vsw_capture *cap, void *buf, uint64_t len, uint64_t *drops, uint32_t *records)
{
	uint64_t head[VSW_MAX_WORKERS], pos[VSW_MAX_WORKERS], off = 0, d = 0;
	struct vsw_cap_rec next[VSW_MAX_WORKERS];
	uint32_t i, nrec = 0;
	uint8_t *out = buf;

	for (i = 0; i < cap->nrings; i++) {
		struct vsw_cap_ring *r = &cap->rings[i];

		head[i] = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE); /* pairs with the release in prod_end() */
		pos[i] = r->tail;
		if (pos[i] < head[i])
			ring_get(r, pos[i], &next[i], REC_HDR);
	}
	for (;;) {
		uint32_t best = UINT32_MAX, rb;

		for (i = 0; i < cap->nrings; i++)
			if (pos[i] < head[i] && (best == UINT32_MAX || next[i].ts_ns < next[best].ts_ns))
				best = i;
		if (best == UINT32_MAX)
			break;
		rb = rec_bytes(next[best].cap_len);
		if (off + rb > len)
			break;
		ring_get(&cap->rings[best], pos[best], out + off, REC_HDR + next[best].cap_len);
		memset(out + off + REC_HDR + next[best].cap_len, 0, rb - REC_HDR - next[best].cap_len);
		off += rb;
		nrec++;
		pos[best] += rb;
		if (pos[best] < head[best])
			ring_get(&cap->rings[best], pos[best], &next[best], REC_HDR);
	}
	for (i = 0; i < cap->nrings; i++) {
		/* pairs with the acquire in prod_begin(): the bytes before pos are copied out */
		__atomic_store_n(&cap->rings[i].tail, pos[i], __ATOMIC_RELEASE);
		d += __atomic_load_n(&cap->rings[i].drops, __ATOMIC_RELAXED);
	}
	if (drops)
		*drops = d;
	if (records)
		*records = nrec;
	return off;
}
