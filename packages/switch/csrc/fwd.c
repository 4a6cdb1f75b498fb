/* SPDX-License-Identifier: MIT */
/*
 * fwd.c - one forwarding round of one source port: the hot path.
 *
 * Concurrency model:
 *   - Runs on the worker that serves the source port (or the thread of
 *     vsw_poll_once()), inside that worker's busy section (w->qs odd), so
 *     every port pointer it loads stays valid until the round ends.
 *   - The source's TX ring state (src->tx: hwcur, hwtail) and its policy
 *     buckets are this worker's alone: no lock.
 *   - The guest may rewrite its slots and buffers at any time. Each slot is
 *     read once into a local and validated (vring_check_slot()); the
 *     header is copied into the worker's scratch (struct vsw_pkt.hdr)
 *     before lookup, learning and policy, and the bytes delivered for the
 *     header are the scratch copy's: what was checked is what is sent.
 *   - The only other guest read is a prefetch hint in classify(): the
 *     buf_idx of a slot a few ahead, bounds-checked and used for nothing
 *     but __builtin_prefetch; that slot is read and validated normally later.
 *   - Learning and lookup results are cached for one round only (one `now`,
 *     one source): a learn that may have written the table drops the cache.
 *   - Destinations: the only lock is each destination's lease lock
 *     (lease.c), held to reserve and to complete, never during a copy.
 *     A round that sends to lossless destinations holds their lease locks
 *     together (ascending port id, so no deadlock) while it computes how
 *     far the batch can go, then reserves and releases them.
 *   - No allocation, no syscall per packet: the only syscalls are the
 *     kicks, at most one per (destination, round) and one to the source.
 *   - Capture (capture.c): the source's and each destination's port->cap
 *     is loaded once per batch (acquire, pairs with vsw_capture_start());
 *     NULL, the usual case, costs that one branch.
 *
 * A round: read and validate head; take up to VSW_BATCH_MAX slots; per
 * slot validate, copy the header, run ingress policy, learn, look up;
 * group by destination (unicast lists + one flood list, merged in order
 * per destination); find the cut (the first packet a full lossless
 * destination cannot take: it and everything after it stay in the TX
 * ring); lease, copy, complete per destination; count; release TX slots.
 */
#include <limits.h>

#include "sw_internal.h"

struct mcur {
	uint16_t u; /* next unicast packet */
	uint32_t f; /* next index into w->flood */
};

/* Next packet index for destination d in batch order, or -1. */
static inline int mnext(const struct vsw_worker *w, struct mcur *c, uint32_t nflood)
{
	int fi = c->f < nflood ? w->flood[c->f] : INT_MAX;

	if (c->u != VSW_END && (int)c->u < fi) {
		int ui = c->u;

		c->u = w->pkts[ui].next;
		return ui;
	}
	if (fi != INT_MAX) {
		c->f++;
		return fi;
	}
	return -1;
}

/* May packet p go to dst? 1 with *tag_out, or 0 (not in its VLAN / too big for its buffers). */
static inline int eligible(const struct vsw *sw, const struct vsw_port *dst, const struct vsw_pkt *p, uint16_t *tag_out)
{
	if (!sw->policy->egress(dst, p, tag_out))
		return 0;
	return (uint32_t)p->len - p->tag_in + *tag_out <= dst->cfg.buf_size;
}

/*
 * As eligible(), for a packet met while walking dst's packets: a unicast
 * packet is on dst's list only, and classify() decided it once (uok, utag);
 * a flooded one is decided here, per destination.
 */
static inline int eligible_for(const struct vsw *sw, const struct vsw_port *dst, const struct vsw_pkt *p, uint16_t *tag_out)
{
	if (vp_likely(p->dst != VSW_DST_FLOOD)) {
		*tag_out = p->utag;
		return p->uok;
	}
	return eligible(sw, dst, p, tag_out);
}

/* Writes the frame for one destination: header from scratch, the rest from the source buffer. */
static inline uint32_t build_frame(uint8_t *out, const struct vsw_pkt *p, const uint8_t *srcbuf, uint16_t tag_out)
{
	uint32_t o = 12, r = 12u + p->tag_in;

	if (vp_likely(!tag_out && !p->tag_in && p->hdr_len == VSW_HDR_COPY)) {
		/* the common case: the frame as it came, a fixed-size header copy (vector moves) */
		vp_memcpy(out, p->hdr, VSW_HDR_COPY);
		if (p->len > VSW_HDR_COPY)
			vp_memcpy(out + VSW_HDR_COPY, srcbuf + VSW_HDR_COPY, p->len - VSW_HDR_COPY);
		return p->len;
	}
	vp_memcpy(out, p->hdr, 12);
	if (tag_out) {
		uint16_t tci = (uint16_t)(p->vid | (p->tag_in ? (p->hdr[14] & 0xe0) << 8 : 0));

		out[12] = 0x81;
		out[13] = 0x00;
		out[14] = (uint8_t)(tci >> 8);
		out[15] = (uint8_t)tci;
		o = 16;
	}
	if (r < p->hdr_len) {
		vp_memcpy(out + o, p->hdr + r, p->hdr_len - r);
		o += p->hdr_len - r;
		r = p->hdr_len;
	}
	if (r < p->len) {
		vp_memcpy(out + o, srcbuf + r, p->len - r);
		o += p->len - r;
	}
	return o;
}

/* (vid, MAC at m): the key of the per-round lookup caches; never 0 (bit 63). */
static inline uint64_t mac_vid_key(const uint8_t *m, uint16_t vid)
{
	uint32_t lo;
	uint16_t hi;

	/* two loads combined in registers (one 6-byte copy into a u64 would stall store forwarding) */
	vp_memcpy(&lo, m, 4);
	vp_memcpy(&hi, m + 4, 2);
	return (uint64_t)lo | (uint64_t)hi << 32 | (uint64_t)vid << 48 | 1ull << 63;
}

/*
 * Phase 1: read, validate, copy headers, decide. Returns the number of flooded packets.
 *
 * Per-round caches (the round has one `now` and one source port): the last
 * source (vid, MAC) whose learn was a no-op is not learned again, and the
 * last (vid, destination MAC) looked up is not looked up again until a learn
 * that may have written the table. Both are decided on the header copy.
 */
static uint32_t classify(struct vsw *sw, struct vsw_worker *w, struct vsw_port *src, uint32_t n, uint64_t now,
			 uint32_t *ndl)
{
	struct vring_be *tx = &src->tx;
	const struct vsw_policy_ops *pol = sw->policy;
	const struct vsw_lookup_ops *lk = sw->lookup;
	uint64_t learned_key = 0, dst_key = 0;
	uint32_t i, nflood = 0, nd = 0, hwcur = tx->hwcur, mask = tx->mask;
	uint16_t dst_d = VSW_DST_NONE;

	for (i = 0; i < n; i++) {
		struct vsw_pkt *p = &w->pkts[i];
		struct vring_slot s;
		enum vring_verdict v;
		uint16_t d, tag;
		uint64_t k;

		vring_slot_read(&tx->slots[(hwcur + i) & mask], &s);
		if (vp_likely(i + 4 < n)) {
			/* the slot after next, and the buffer of a slot read earlier: both are the guest's, read only */
			uint32_t nb = VP_READ_ONCE(tx->slots[(hwcur + i + 4) & mask].buf_idx);

			__builtin_prefetch(&tx->slots[(hwcur + i + 8) & mask]);
			if (nb < tx->lim.nr_bufs)
				__builtin_prefetch(vring_be_buf(tx, nb));
		}
		p->pos = i;
		p->len = s.len;
		p->dst = VSW_DST_NONE;
		p->next = VSW_END;
		p->charged = 0;
		p->drop = 0;
		v = vring_check_slot(&s, &tx->lim, 1);
		if (vp_unlikely(v != VRING_OK)) {
			p->drop = (uint8_t)v;
			continue;
		}
		p->buf_idx = s.buf_idx;
		p->flags = s.flags;
		if (vp_unlikely(s.flags & VRING_F_OFFLOAD))
			p->ofl = s.u.offload;
		p->tag_in = 0;
		/* copy first, then decide: everything below reads p->hdr only */
		if (vp_likely(s.len >= VSW_HDR_COPY)) {
			p->hdr_len = VSW_HDR_COPY;
			vp_memcpy(p->hdr, vring_be_buf(tx, s.buf_idx), VSW_HDR_COPY); /* fixed size: vector moves */
		} else {
			p->hdr_len = s.len;
			vp_memcpy(p->hdr, vring_be_buf(tx, s.buf_idx), s.len);
		}
		p->drop = (uint8_t)pol->ingress(src, p, now);
		if (p->drop)
			continue;
		k = mac_vid_key(p->hdr + 6, p->vid);
		if (k != learned_key) {
			if (lk->learn(sw, w, src, p->hdr + 6, p->vid, now)) {
				learned_key = k;
			} else {
				learned_key = 0;
				dst_key = 0; /* the table may have changed: look up again */
			}
		}
		if (p->hdr[0] & 1) {
			d = VSW_DST_NONE;
		} else {
			k = mac_vid_key(p->hdr, p->vid);
			if (k != dst_key) {
				dst_d = lk->lookup(sw, p->hdr, p->vid, now);
				dst_key = k;
			}
			d = dst_d;
		}
		if (d == src->id) {
			p->drop = VSW_DROP_NO_DEST; /* addressed to its own port */
			continue;
		}
		if (d != VSW_DST_NONE && d < VSW_MAX_PORTS) {
			struct vsw_port *dp = w->ucount[d] ? w->dp[d] : vsw_port_get(sw, d);

			if (dp && pol->egress(dp, p, &tag)) {
				w->dp[d] = dp;
				if (w->ucount[d]++ == 0) {
					w->uhead[d] = (uint16_t)i;
					w->uelig[d] = 0;
					nd++;
				} else {
					w->pkts[w->utail[d]].next = (uint16_t)i;
				}
				w->utail[d] = (uint16_t)i;
				p->dst = d;
				p->utag = (uint8_t)tag;
				p->uok = (uint32_t)p->len - p->tag_in + tag <= dp->cfg.buf_size;
				w->uelig[d] += p->uok;
				continue;
			}
		}
		/* broadcast, multicast or unknown unicast */
		p->drop = (uint8_t)pol->flood(src, now);
		if (p->drop)
			continue;
		p->dst = VSW_DST_FLOOD;
		w->flood[nflood++] = (uint16_t)i;
	}
	*ndl = nd;
	return nflood;
}

/* The destinations of this round, ascending, into w->dl and w->dp. */
static uint32_t collect_dests(struct vsw *sw, struct vsw_worker *w, const struct vsw_port *src, uint32_t nflood,
			      uint32_t nuni)
{
	uint32_t id, nd = 0;

	for (id = 0; id < VSW_MAX_PORTS && (nflood || nd < nuni); id++) {
		if (w->ucount[id]) {
			w->dl[nd++] = (uint16_t)id;
		} else if (nflood && id != src->id) {
			struct vsw_port *dp = vsw_port_get(sw, id);

			if (dp) {
				w->dp[id] = dp;
				w->dl[nd++] = (uint16_t)id;
			}
		}
	}
	return nd;
}

/* Position (batch index) of the (k+1)-th eligible packet for dst, or n if it has k or fewer. */
static uint32_t kth_pos(const struct vsw *sw, const struct vsw_worker *w, uint16_t d, uint32_t k, uint32_t nflood, uint32_t n)
{
	struct mcur c = { w->ucount[d] ? w->uhead[d] : VSW_END, 0 };
	const struct vsw_port *dp = w->dp[d];
	uint16_t tag;
	int i;

	if (!nflood && k >= w->uelig[d])
		return n; /* unicast only and room for all of them */
	while ((i = mnext(w, &c, nflood)) >= 0) {
		if (!eligible_for(sw, dp, &w->pkts[i], &tag))
			continue;
		if (k-- == 0)
			return (uint32_t)i;
	}
	return n;
}

/* Eligible packets for dst before position cut. */
static uint32_t want_before(const struct vsw *sw, const struct vsw_worker *w, uint16_t d, uint32_t cut, uint32_t nflood)
{
	struct mcur c = { w->ucount[d] ? w->uhead[d] : VSW_END, 0 };
	const struct vsw_port *dp = w->dp[d];
	uint32_t k = 0;
	uint16_t tag;
	int i;

	if (!nflood && cut >= w->pkts[w->utail[d]].pos + 1u)
		return w->uelig[d]; /* unicast only, the whole list before the cut: counted by classify() */
	while ((i = mnext(w, &c, nflood)) >= 0 && (uint32_t)i < cut)
		k += (uint32_t)eligible_for(sw, dp, &w->pkts[i], &tag);
	return k;
}

/* Copies the packets before cut into dst's lease; the ones beyond the lease are ring-full drops. */
static void deliver(struct vsw *sw, struct vsw_worker *w, struct vsw_port *src, uint16_t d, uint32_t cut, uint32_t nflood)
{
	struct mcur c = { w->ucount[d] ? w->uhead[d] : VSW_END, 0 };
	struct vsw_port *dp = w->dp[d];
	struct vsw_lease *l = &w->lease[d];
	struct vsw_pcount *spc = &w->pc[src->id], *dpc = &w->pc[d];
	struct vsw_capture *cap = __atomic_load_n(&dp->cap, __ATOMIC_ACQUIRE); /* pairs with vsw_capture_start() */
	uint32_t j = 0, out_pkts = 0, pairs = 0, full = 0, bad = 0;
	uint64_t out_bytes = 0;
	uint16_t tag;
	int i;

	while ((i = mnext(w, &c, nflood)) >= 0 && (uint32_t)i < cut) {
		struct vsw_pkt *p = &w->pkts[i];

		if (!eligible_for(sw, dp, p, &tag))
			continue;
		p->charged |= VSW_CHARGED_HIT;
		pairs++;
		if (j >= l->n) {
			full++;
			continue;
		}
		{
			struct vring_slot *s = &dp->rx.slots[(l->start + j++) & dp->rx.mask];
			uint32_t bi = VP_READ_ONCE(s->buf_idx); /* the guest's: read once, checked */
			uint32_t len = 0;
			uint16_t flags = 0;

			if (vp_likely(bi < dp->rx.lim.nr_bufs)) {
				len = build_frame(vring_be_buf(&dp->rx, bi), p, vring_be_buf(&src->tx, p->buf_idx), tag);
				out_pkts++;
				out_bytes += len;
				if ((p->flags & VRING_F_OFFLOAD) && (dp->cfg.features & VRING_FEAT_OFFLOAD) && !tag &&
				    !p->tag_in) {
					flags = VRING_F_OFFLOAD;
					VP_WRITE_ONCE(s->u.gref, 0);
					s->u.offload = p->ofl;
				}
			} else {
				bad++; /* the destination guest broke its own RX slot: an empty slot, counted on it */
			}
			VP_WRITE_ONCE(s->len, (uint16_t)len);
			VP_WRITE_ONCE(s->flags, flags);
		}
	}
	if (vp_unlikely(cap != NULL) && (cap->dirs & VSW_CAP_OUT) && j)
		vsw_cap_out(w, cap, dp, l, j); /* before completion: the slots are still the switch's */
	if (vsw_lease_complete(dp, l))
		w->kick_rx[d] = 1;
	VSW_STAT_ADD(spc->fwd_pairs, pairs);
	if (out_pkts) {
		VSW_STAT_ADD(dpc->out_packets, out_pkts);
		VSW_STAT_ADD(dpc->out_bytes, out_bytes);
	}
	if (full)
		VSW_STAT_ADD(dpc->drops[VSW_DROP_RING_FULL], full);
	if (bad)
		VSW_STAT_ADD(dpc->drops[VSW_DROP_BUF_IDX], bad);
}

uint32_t vsw_fwd_port(struct vsw *sw, struct vsw_worker *w, struct vsw_port *src, uint64_t now, int *blocked)
{
	struct vring_be *tx = &src->tx;
	struct vsw_pcount *pc = &w->pc[src->id];
	uint32_t head, n, i, nflood, nuni, nd, cut;
	uint64_t in_bytes = 0, fwd = 0, flooded = 0;
	enum vring_verdict v = vring_be_read_head(tx, &head);

	*blocked = 0;
	if (vp_unlikely(v != VRING_OK)) {
		VSW_STAT_ADD(pc->drops[v], 1);
		return 0;
	}
	n = vring_be_tx_pending(tx, head);
	if (n > VSW_BATCH_MAX)
		n = VSW_BATCH_MAX;
	if (!n)
		return 0;

	w->cap_ts = 0;
	nflood = classify(sw, w, src, n, now, &nuni);
	nd = collect_dests(sw, w, src, nflood, nuni);

	/* the cut: lossless destinations hold their locks while it is found */
	cut = n;
	for (i = 0; i < nd; i++) {
		struct vsw_port *dp = w->dp[w->dl[i]];

		if (dp->cfg.flags & VSW_PORT_LOSSLESS) {
			uint32_t pos;

			vsw_spin_lock(&dp->lease_lock);
			pos = kth_pos(sw, w, w->dl[i], vsw_lease_space_locked(w, dp), nflood, n);
			if (pos < cut)
				cut = pos;
		}
	}
	for (i = 0; i < nd; i++) {
		struct vsw_port *dp = w->dp[w->dl[i]];

		if (dp->cfg.flags & VSW_PORT_LOSSLESS) {
			vsw_lease_take_locked(dp, want_before(sw, w, w->dl[i], cut, nflood), &w->lease[w->dl[i]]);
			vsw_spin_unlock(&dp->lease_lock);
		}
	}
	for (i = 0; i < nd; i++) {
		struct vsw_port *dp = w->dp[w->dl[i]];
		uint32_t want, space;

		if (dp->cfg.flags & VSW_PORT_LOSSLESS)
			continue;
		want = want_before(sw, w, w->dl[i], cut, nflood);
		vsw_spin_lock(&dp->lease_lock);
		space = want ? vsw_lease_space_locked(w, dp) : 0;
		vsw_lease_take_locked(dp, want < space ? want : space, &w->lease[w->dl[i]]);
		vsw_spin_unlock(&dp->lease_lock);
	}
	for (i = 0; i < nd; i++)
		deliver(sw, w, src, w->dl[i], cut, nflood);

	/* count what was consumed; give back what the held packets took */
	for (i = 0; i < n; i++) {
		struct vsw_pkt *p = &w->pkts[i];

		if (i >= cut) {
			if (!p->drop)
				sw->policy->refund(src, p);
			continue;
		}
		in_bytes += p->len;
		if (!p->drop && !(p->charged & VSW_CHARGED_HIT))
			p->drop = VSW_DROP_NO_DEST;
		if (p->drop) {
			VSW_STAT_ADD(pc->drops[p->drop], 1);
			continue;
		}
		fwd++;
		flooded += p->dst == VSW_DST_FLOOD;
	}
	{
		struct vsw_capture *cap = __atomic_load_n(&src->cap, __ATOMIC_ACQUIRE); /* pairs with vsw_capture_start() */

		if (vp_unlikely(cap != NULL) && (cap->dirs & VSW_CAP_IN))
			vsw_cap_in(w, cap, src, cut); /* before the TX release: the buffers are still readable */
	}
	VSW_STAT_ADD(pc->in_packets, cut);
	VSW_STAT_ADD(pc->in_bytes, in_bytes);
	VSW_STAT_ADD(pc->fwd_packets, fwd);
	if (flooded)
		VSW_STAT_ADD(pc->flooded, flooded);
	if (cut < n) {
		VSW_STAT_ADD(pc->held, 1);
		*blocked = 1;
	}

	/* kicks: at most one per destination per round, one to the source */
	for (i = 0; i < nd; i++) {
		uint16_t d = w->dl[i];

		if (w->kick_rx[d]) {
			w->kick_rx[d] = 0;
			vsw_notify(w->dp[d]->cfg.rx_notify_fd);
		}
		w->ucount[d] = 0;
	}
	if (cut) {
		if (src->cfg.tx_notify_fd >= 0) {
			if (vring_be_tx_release(tx, (tx->hwcur + cut) & tx->mask))
				vsw_notify(src->cfg.tx_notify_fd);
		} else {
			vring_be_tx_release_nokick(tx, (tx->hwcur + cut) & tx->mask);
		}
	}
	vsw_stats_batch(w, cut);
	return cut;
}
