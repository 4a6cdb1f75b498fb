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
 *   - Port groups (group.c): lookups return a group. A group of one
 *     resolves to its port in one load (group->solo, acquire) on a lookup
 *     cache miss, nothing per packet. A larger group's member set is
 *     loaded once per round (vsw_gset_get(), acquire), so the round's
 *     unicast choices, its flooded copies and the lease sizes agree; the
 *     packet's flow hash (from the header copy, once per packet) picks
 *     member hash % n, for unicast in classify() and for a flooded packet
 *     per destination (w->fsel, decided in collect_dests()). The source's
 *     own group is never a destination (no hairpin).
 *
 * A round: read and validate head; take up to VSW_BATCH_MAX slots; per
 * slot validate, copy the header, run ingress policy, learn, look up;
 * group by destination (unicast lists + one flood list, merged in order
 * per destination); find the cut (the first packet a full lossless
 * destination cannot take: it and everything after it stay in the TX
 * ring); lease, copy, complete per destination; count; release TX slots.
 *
 * Chains and offloads (ports that negotiated VRING_FEAT_CHAIN /
 * VRING_FEAT_OFFLOAD): a packet may span up to VSW_CHAIN_MAX source slots
 * (VRING_F_MORE on all but the last) and VSW_FRAME_MAX bytes; its first slot
 * may carry the offload word (VRING_F_OFFLOAD). classify() reads every
 * fragment once into a local, validates it like any slot (a later fragment
 * may be empty; only the first may carry VRING_F_OFFLOAD) and keeps the
 * validated (buf_idx, len) in w->frags; the offload word is checked against
 * the chain's total length (vring_check_offload() plus the GSO shape in
 * check_gso()). A bad fragment or offload word drops the whole chain,
 * counted once on the source. A chain whose end is not published yet waits
 * for the next round. Leases count RX slots: a packet takes dst_slots() of
 * them in the destination, reserved all-or-nothing (a lossy destination
 * gets the whole packets that fit, in order; a lossless one cuts the batch
 * before the first packet that does not fit). A destination that
 * negotiated the features gets the chain re-cut to its own buf_size with
 * the offload word on its first slot; one without VRING_FEAT_OFFLOAD gets
 * the packet without the word, the checksum filled in by the switch over
 * the bytes as written (build_chain(), across its slots when it negotiated
 * VRING_FEAT_CHAIN alone), and a TCP segmentation-offload (TSO) super-frame
 * cut into gso_size segments (software GSO, below); a chain it cannot take,
 * UDP GSO or a super-frame it cannot segment is dropped and counted with
 * reason VSW_DROP_OFFLOAD on the source.
 *
 * VLAN tag changes (p->tag_in != tag_out, or a tag written anew): chains
 * and offload packets get the change applied to the bytes the destination
 * receives, 12 bytes of MACs then the tag (put_l2()) then the source's
 * bytes after its own tag; csum_start moves by tag_out - tag_in (+4 push,
 * -4 pop). The moved offload word is guest input like the original:
 * ofl_retag() checks it again whole (vring_check_offload(), check_gso() with
 * the destination's Ethernet header length) for every (packet, destination)
 * in dst_slots(), and refuses a csum_start inside the header that moves, a
 * frame whose own Ethernet header disagrees with p->tag_in, and a frame a
 * pushed tag takes past VSW_FRAME_MAX: that destination does not get the
 * packet (p->ofl_bad; VSW_DROP_OFFLOAD on the source when no destination
 * got it). Software GSO writes each segment's header the same
 * way (gso_hlen + tag change + gso_size must fit the destination's buffer).
 * Plain single-slot frames keep their own path (build_frame()).
 *
 * Software GSO: classify() copies a TCP super-frame's whole Ethernet (14 or
 * 18 bytes) + IP + TCP header once into the worker's scratch (w->gso_hdr,
 * allocated with the worker) and checks it there (gso_prepare(): IPv4 IHL
 * and protocol agree with csum_start, not a fragment; IPv6 without
 * extension headers; a TCP data offset within the frame). For a
 * destination without VRING_FEAT_OFFLOAD, dst_slots() counts one RX slot per segment (refused
 * when header + gso_size exceeds its buf_size or the segments exceed half
 * its ring), so the segments are reserved all-or-nothing like a chain: a
 * lossy destination drops the whole super-frame (ring_full, once), a
 * lossless one holds it. gso_segment() writes each segment straight into
 * its RX slot from the scratch header and the validated source fragments,
 * then fixes lengths, IPv4 id and header checksum, TCP seq and flags, and
 * computes the TCP checksum in full. A super-frame counts once in
 * out_packets (per pair, as sent); gso_segments counts the frames written.
 */
#include <limits.h>
#include <string.h>

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

static inline uint32_t get16(const uint8_t *b)
{
	return (uint32_t)b[0] << 8 | b[1];
}

static inline uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline void put16(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static inline void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/*
 * The Ethernet header length of the frame whose header copy is
 * hdr[0, hdr_len): 18 with one 802.1Q tag, else 14; *type the EtherType
 * after it (0 when the copy is too short to hold it).
 */
static inline uint32_t l2_len(const uint8_t *hdr, uint32_t hdr_len, uint32_t *type)
{
	uint32_t t = hdr_len >= 14 ? get16(hdr + 12) : 0;

	if (t == 0x8100 && hdr_len >= 18) {
		*type = get16(hdr + 16);
		return 18;
	}
	*type = t;
	return 14;
}

/*
 * The segmentation shape of an offload word that vring_check_offload()
 * accepted, on a frame of len bytes whose Ethernet header is l2 bytes (14,
 * or 18 tagged) followed by EtherType type: 0 or VSW_DROP_OFFLOAD. Checked
 * at the source, and again on the shifted word for a destination across a
 * tag change (ofl_retag()), so a destination that takes the word as it is
 * (a Linux guest's TAP) gets only sane values: TCP has its checksum at 16
 * past csum_start, after an IPv4 (20..60 bytes) or IPv6 header of the
 * frame's EtherType, and one segment fits VSW_FRAME_MAX.
 */
static uint8_t check_gso(const struct vring_offload *o, uint32_t len, uint32_t l2, uint32_t type)
{
	if (o->gso_type == VRING_GSO_NONE)
		return 0;
	if (o->gso_type == VRING_GSO_UDP_L4)
		return o->csum_offset == 6 && o->csum_start >= l2 + 20 && o->csum_start + 8u + o->gso_size <= VSW_FRAME_MAX
			       ? 0 : VSW_DROP_OFFLOAD;
	if (o->csum_offset != 16 || o->csum_start + 20u + o->gso_size > VSW_FRAME_MAX || o->csum_start + 20u > len)
		return VSW_DROP_OFFLOAD;
	if (o->gso_type == VRING_GSO_TCPV4 && (type != 0x0800 || o->csum_start < l2 + 20 || o->csum_start > l2 + 60))
		return VSW_DROP_OFFLOAD;
	if (o->gso_type == VRING_GSO_TCPV6 && (type != 0x86dd || o->csum_start < l2 + 40))
		return VSW_DROP_OFFLOAD;
	return 0;
}

/*
 * The offload word of packet p as a destination whose tag is tag_out gets
 * it (called when p->tag_in or tag_out is set; the frame is then olen =
 * p->len - p->tag_in + tag_out bytes): csum_start moved by the tag change
 * (+4 push, -4 pop, 0 a tag rewritten in place), then checked again whole
 * against the new frame: vring_check_offload() and check_gso() with the new
 * Ethernet header length. The word is the guest's (copied once into
 * p->ofl), so the shift is checked, not assumed. Returns 0 with *o set, or
 * -1: the word does not survive the change (the frame's own Ethernet header
 * disagrees with p->tag_in; csum_start points into the MACs, the tag or the
 * EtherType that move; the result leaves 16 bits or the frame; the frame
 * would exceed VSW_FRAME_MAX).
 */
static int ofl_retag(const struct vsw_pkt *p, uint16_t tag_out, uint32_t olen, struct vring_offload *o)
{
	uint32_t type, l2 = l2_len(p->hdr, p->hdr_len, &type), cs;

	*o = p->ofl;
	if (l2 != 14u + p->tag_in || olen > VSW_FRAME_MAX)
		return -1;
	if (o->oflags & VRING_OFL_NEEDS_CSUM) {
		if (o->csum_start < l2)
			return -1; /* the checksummed range would start inside the header that changes */
		cs = (uint32_t)o->csum_start - p->tag_in + tag_out;
		if (cs > 0xffffu)
			return -1;
		o->csum_start = (uint16_t)cs;
	}
	if (vring_check_offload(o, olen) != VRING_OK || check_gso(o, olen, 14u + tag_out, type))
		return -1;
	return 0;
}

/* Segments of TCP super-frame p (gso_hlen set): one per gso_size bytes of payload, at least one. */
static inline uint32_t gso_nseg(const struct vsw_pkt *p)
{
	uint32_t payload = p->len - p->gso_hlen;

	return payload ? (payload + p->ofl.gso_size - 1) / p->ofl.gso_size : 1;
}

/* dst_slots() for a chain or an offload packet (the plain single-slot frame stays in dst_slots()). */
static inline uint32_t dst_slots_slow(const struct vsw_port *dst, struct vsw_pkt *p, uint16_t tag_out)
{
	uint32_t feat = dst->cfg.features, bs = dst->cfg.buf_size, olen = (uint32_t)p->len - p->tag_in + tag_out, n;
	struct vring_offload o;

	if (p->flags & VRING_F_OFFLOAD) {
		if ((p->tag_in | tag_out) && ofl_retag(p, tag_out, olen, &o))
			goto refuse; /* the offload word does not survive the tag change */
		if (p->ofl.gso_type != VRING_GSO_NONE && !(feat & VRING_FEAT_OFFLOAD)) {
			/* software segmentation (gso_segment()): one single-slot TCP segment per gso_size of payload */
			if (!p->gso_hlen || (uint32_t)p->gso_hlen - p->tag_in + tag_out + p->ofl.gso_size > bs)
				goto refuse; /* not segmentable (UDP, IPv6 extension headers, ...) or a segment would not fit */
			n = gso_nseg(p);
			if (n > dst->cfg.rx_slots / 2)
				goto refuse;
			return n;
		}
	}
	if (olen > VSW_FRAME_MAX)
		goto refuse; /* a chain at the maximum that a pushed tag would make longer */
	if (olen <= bs)
		return 1;
	if (!(feat & VRING_FEAT_CHAIN))
		goto refuse;
	n = (olen + bs - 1) / bs;
	if (n > dst->cfg.rx_slots / 2)
		goto refuse;
	return n;
refuse:
	p->ofl_bad = 1;
	return 0;
}

/*
 * RX slots packet p takes in dst once its VLAN tag is tag_out, or 0 when
 * dst cannot take it: too big for one buffer without a negotiated chain,
 * an offload form dst did not negotiate and the switch cannot emulate, an
 * offload word that does not survive the tag change (ofl_retag()), a frame
 * beyond VSW_FRAME_MAX once tagged (then p->ofl_bad is set), or more slots
 * than half dst's RX ring (a lossless ring must be able to take it). A TCP
 * super-frame for a dst without offloads takes one slot per segment
 * (gso_segment()), each with the tag change applied.
 */
static inline uint32_t dst_slots(const struct vsw_port *dst, struct vsw_pkt *p, uint16_t tag_out)
{
	if (vp_likely(p->nfrag == 1 && !(p->flags & VRING_F_OFFLOAD)))
		return (uint32_t)p->len - p->tag_in + tag_out <= dst->cfg.buf_size;
	return dst_slots_slow(dst, p, tag_out);
}

/* May packet p go to dst? Its RX slot count in dst with *tag_out, or 0 (not in its VLAN / cannot take it). */
static inline uint32_t eligible(const struct vsw *sw, const struct vsw_port *dst, struct vsw_pkt *p, uint16_t *tag_out)
{
	if (!sw->policy->egress(dst, p, tag_out))
		return 0;
	return dst_slots(dst, p, *tag_out);
}

/*
 * Does flooded packet p go to destination d, a member of a group of n > 1
 * (w->fsel[d] = n << 4 | its index)? Only when its flow hash picks d: one
 * copy per group. The hash is computed on first need, once per packet.
 */
static int flood_picks(const struct vsw *sw, const struct vsw_worker *w, uint16_t d, struct vsw_pkt *p)
{
	uint32_t sel = w->fsel[d];

	if (sel == 0xff)
		return 0;
	if (!p->hashed) {
		p->fhash = vsw_flow_hash(sw, p);
		p->hashed = 1;
	}
	return p->fhash % (sel >> 4) == (sel & 15u);
}

/*
 * As eligible(), for a packet met while walking destination d's packets: a
 * unicast packet is on d's list only, and classify() decided it once (uok,
 * utag, uslots); a flooded one is decided here, per destination (and, when
 * d is a member of a group, only for the packets its group's hash gives d).
 */
static inline uint32_t eligible_for(const struct vsw *sw, const struct vsw_worker *w, uint16_t d, const struct vsw_port *dst,
				    struct vsw_pkt *p, uint16_t *tag_out)
{
	if (vp_likely(p->dst != VSW_DST_FLOOD)) {
		*tag_out = p->utag;
		return p->uok ? p->uslots : 0;
	}
	if (vp_unlikely(w->fsel[d]) && !flood_picks(sw, w, d, p))
		return 0;
	return eligible(sw, dst, p, tag_out);
}

/* Ones' complement sum of n bytes at b (big-endian 16-bit words), unfolded. */
static uint64_t csum_add(uint64_t sum, const uint8_t *b, uint32_t n)
{
	uint32_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	return sum;
}

/* An unfolded ones' complement sum folded to 16 bits. */
static inline uint32_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

/*
 * Ones' complement sum of n bytes at b as a big-endian 16-bit value, folded:
 * native-order 32-bit words into 64-bit accumulators (RFC 1071: the sum is
 * byte-order independent up to one final swap, and 2^16 = 1 mod 2^16-1),
 * 16 bytes a step as the 32-bit halves of two 8-byte loads. For whole
 * segments and checksum fills; csum_add() stays for the few header bytes.
 */
static uint32_t csum_wide(const uint8_t *b, uint32_t n)
{
	uint64_t sum = 0, s2 = 0, v64;
	uint32_t i = 0, v32;
	uint16_t v16;

	for (; i + 16 <= n; i += 16) { /* two 8-byte words per step, each added as its two 32-bit halves: no carry lost */
		vp_memcpy(&v64, b + i, 8);
		sum += (uint32_t)v64;
		s2 += v64 >> 32;
		vp_memcpy(&v64, b + i + 8, 8);
		sum += (uint32_t)v64;
		s2 += v64 >> 32;
	}
	sum = csum_fold(sum) + csum_fold(s2);
	for (; i + 4 <= n; i += 4) {
		vp_memcpy(&v32, b + i, 4);
		sum += v32;
	}
	if (i + 2 <= n) {
		vp_memcpy(&v16, b + i, 2);
		sum += v16;
		i += 2;
	}
	if (i < n) {
		uint8_t t[2] = { b[i], 0 }; /* the odd byte, padded with a zero after it */

		vp_memcpy(&v16, t, 2);
		sum += v16;
	}
	sum = csum_fold(sum);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	sum = (sum & 0xff) << 8 | sum >> 8;
#endif
	return (uint32_t)sum;
}

/*
 * Bytes [from, from + n) of packet p (from + n <= p->len) into out: the part
 * below p->hdr_len from the worker's header copy (what was checked), the
 * rest from the validated source fragments (never beyond a fragment's len).
 */
static void pkt_copy(const struct vsw_worker *w, const struct vring_be *tx, const struct vsw_pkt *p, uint8_t *out,
		     uint32_t from, uint32_t n)
{
	const struct vsw_frag *fr = &w->frags[p->pos];
	uint32_t f, base = 0;

	while (n && from < p->hdr_len) {
		*out++ = p->hdr[from++];
		n--;
	}
	for (f = 0; n && f < p->nfrag; base += fr[f].len, f++) {
		uint32_t take;

		if (from >= base + fr[f].len)
			continue;
		take = base + fr[f].len - from < n ? base + fr[f].len - from : n;
		vp_memcpy(out, vring_be_buf(tx, fr[f].buf_idx) + (from - base), take);
		out += take;
		from += take;
		n -= take;
	}
}

/*
 * For a TCP GSO packet that check_gso() accepted: copies its whole
 * Ethernet (14 bytes, or 18 with an 802.1Q tag) + IP + TCP header once
 * into h (VSW_GSO_HDR_MAX bytes of the worker's scratch) and checks that
 * the switch can segment it for a destination without offloads. Returns
 * the header length (what the segments repeat), or 0: not segmentable (UDP GSO, an IPv4 header whose
 * IHL or protocol disagree with csum_start, IPv4 fragments, IPv6 extension
 * headers, a TCP data offset below 5 or beyond the frame); such a packet
 * still reaches destinations that negotiated offloads.
 */
static uint8_t gso_prepare(const struct vsw_worker *w, const struct vring_be *tx, const struct vsw_pkt *p, uint8_t *h)
{
	uint32_t l4 = p->ofl.csum_start, hl, type, l2 = l2_len(p->hdr, p->hdr_len, &type);

	if (p->ofl.gso_type == VRING_GSO_TCPV4) {
		if (l4 > l2 + 60)
			return 0; /* (check_gso() refused it already) */
	} else if (p->ofl.gso_type == VRING_GSO_TCPV6) {
		if (l4 != l2 + 40)
			return 0; /* extension headers: not segmented */
	} else {
		return 0;
	}
	pkt_copy(w, tx, p, h, 0, l4 + 20); /* l4 + 20 <= len: check_gso() */
	hl = l4 + (h[l4 + 12] >> 4) * 4u;
	if (hl < l4 + 20 || hl > p->len || hl > VSW_GSO_HDR_MAX)
		return 0;
	pkt_copy(w, tx, p, h + l4 + 20, l4 + 20, hl - (l4 + 20));
	if (p->ofl.gso_type == VRING_GSO_TCPV4) {
		if (h[l2] >> 4 != 4 || (h[l2] & 15) * 4u != l4 - l2 || h[l2 + 9] != 6 || (get16(h + l2 + 6) & 0x3fff))
			return 0;
	} else if (h[l2] >> 4 != 6 || h[l2 + 6] != 6) {
		return 0;
	}
	return (uint8_t)hl;
}

/*
 * The MACs of packet p and, when tag_out is set, the 802.1Q tag (VID p->vid,
 * the PCP of the source's tag when it had one, as build_frame() writes it)
 * into out. Returns the bytes written: 12 + tag_out. What follows in the
 * frame is the source's from 12 + p->tag_in on.
 */
static inline uint32_t put_l2(uint8_t *out, const struct vsw_pkt *p, uint16_t tag_out)
{
	uint16_t tci;

	vp_memcpy(out, p->hdr, 12);
	if (!tag_out)
		return 12;
	tci = (uint16_t)(p->vid | (p->tag_in ? (p->hdr[14] & 0xe0) << 8 : 0));
	out[12] = 0x81;
	out[13] = 0x00;
	out[14] = (uint8_t)(tci >> 8);
	out[15] = (uint8_t)tci;
	return 16;
}

/*
 * Software segmentation: TCP super-frame p (header h of p->gso_hlen bytes,
 * from gso_prepare()) into ns = gso_nseg(p) single-slot segments of dst
 * from lease slot *j on, each with dst's tag tag_out (dst_slots() checked
 * the header with the tag change + gso_size <= buf_size, and, across a tag
 * change, that the frame's Ethernet header agrees with p->tag_in). Each
 * segment: the header (MACs and tag from put_l2(), the rest of h after the
 * source's tag), then its gso_size slice of the payload from the validated
 * source fragments; per segment IPv4 total length, id + k and header
 * checksum, or IPv6 payload length; TCP sequence + k * gso_size, FIN and
 * PSH on the last segment only, CWR on the first only, and the TCP checksum
 * computed in full over the pseudo-header and the segment as written (the
 * super-frame's partial sum is not trusted). Returns the bytes written;
 * *segs the segments written; *bad the dst slots whose buf_idx the
 * destination guest broke (left empty).
 */
static __attribute__((noinline)) uint32_t gso_segment(const struct vsw_worker *w, const struct vsw_port *src,
						       struct vsw_port *dp, const struct vsw_lease *l, uint32_t *j,
						       const struct vsw_pkt *p, const uint8_t *h, uint32_t ns, uint16_t tag_out,
						       uint32_t *segs, uint32_t *bad)
{
	const struct vsw_frag *fr = &w->frags[p->pos];
	/* source offsets (h, the fragments) and output offsets (the segments) differ by the tag change */
	uint32_t hs = p->gso_hlen, l3s = 14u + p->tag_in, l4s = p->ofl.csum_start, mss = p->ofl.gso_size;
	uint32_t hl = hs - p->tag_in + tag_out, l3 = 14u + tag_out, l4 = l4s - p->tag_in + tag_out, payload = p->len - hs;
	int v4 = p->ofl.gso_type == VRING_GSO_TCPV4;
	uint32_t seq0 = get32(h + l4s + 4), id0 = v4 ? get16(h + l3s + 4) : 0, fl0 = h[l4s + 13];
	uint32_t f = 0, foff = hs, done = 0, bytes = 0, k;
	/* pseudo-header: source and destination address, protocol (the TCP length is added per segment) */
	uint64_t ph = v4 ? csum_add(6, h + l3s + 12, 8) : csum_add(6, h + l3s + 8, 32);

	while (f < p->nfrag && foff >= fr[f].len) /* skip the header in the source: the segments take h */
		foff -= fr[f++].len;
	for (k = 0; k < ns; k++) {
		struct vring_slot *s = &dp->rx.slots[(l->start + (*j)++) & dp->rx.mask];
		uint32_t bi = VP_READ_ONCE(s->buf_idx); /* the guest's: read once, checked */
		uint32_t plen = payload - done < mss ? payload - done : mss, o = 0, tl = hs - l4s + plen, fl = fl0;
		uint8_t *out = bi < dp->rx.lim.nr_bufs ? vring_be_buf(&dp->rx, bi) : NULL;

		while (o < plen) { /* the payload slice, fragment by fragment (advanced also for a broken slot) */
			uint32_t take = fr[f].len - foff < plen - o ? fr[f].len - foff : plen - o;

			if (out)
				vp_memcpy(out + hl + o, vring_be_buf(&src->tx, fr[f].buf_idx) + foff, take);
			o += take;
			foff += take;
			if (foff == fr[f].len)
				f++, foff = 0;
		}
		done += plen;
		if (!out) {
			(*bad)++;
			VP_WRITE_ONCE(s->len, 0);
			VP_WRITE_ONCE(s->flags, 0);
			continue;
		}
		if (vp_likely(!(p->tag_in | tag_out))) {
			vp_memcpy(out, h, hl);
		} else {
			uint32_t m = put_l2(out, p, tag_out);

			vp_memcpy(out + m, h + 12 + p->tag_in, hs - 12 - p->tag_in);
		}
		if (v4) {
			put16(out + l3 + 2, hl - l3 + plen);
			put16(out + l3 + 4, id0 + k);
			put16(out + l3 + 10, 0);
			put16(out + l3 + 10, ~csum_fold(csum_add(0, out + l3, l4 - l3)));
		} else {
			put16(out + l3 + 4, tl);
		}
		put32(out + l4 + 4, seq0 + k * mss);
		if (k + 1 < ns)
			fl &= ~0x09u; /* FIN, PSH: the last segment's */
		if (k)
			fl &= ~0x80u; /* CWR: the first segment's */
		out[l4 + 13] = (uint8_t)fl;
		put16(out + l4 + 16, 0);
		put16(out + l4 + 16, ~csum_fold(ph + tl + csum_wide(out + l4, tl)));
		VP_WRITE_ONCE(s->len, (uint16_t)(hl + plen));
		VP_WRITE_ONCE(s->flags, 0);
		bytes += hl + plen;
		(*segs)++;
	}
	return bytes;
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
 * The rest of a chain whose first slot (at window position `at`, flags
 * `flags0`, len0 bytes) is already read and valid: reads and validates each
 * further fragment once, records every fragment in w->frags, and returns
 * the slots the chain spans (its end: the first slot without VRING_F_MORE),
 * with *total its bytes and *verdict 0 or the first fault. Returns 0 when
 * the end lies at or beyond `avail` (not published yet: the chain waits).
 * A chain longer than VSW_CHAIN_MAX ends there, with a fault.
 */
static uint32_t gather(struct vsw_worker *w, struct vring_be *tx, uint32_t at, uint32_t avail, uint32_t len0,
		       uint32_t *total, uint8_t *verdict)
{
	uint32_t f, sum = len0;
	uint8_t v = 0;

	for (f = 1; f < VSW_CHAIN_MAX; f++) {
		struct vring_slot s;
		enum vring_verdict sv;

		if (at + f >= avail)
			return 0;
		vring_slot_read(&tx->slots[(tx->hwcur + at + f) & tx->mask], &s);
		sv = vring_check_slot(&s, &tx->lim, 0);
		if (!v && sv != VRING_OK)
			v = (uint8_t)sv;
		if (!v && (s.flags & VRING_F_OFFLOAD))
			v = VSW_DROP_FLAGS; /* the offload word belongs to the first slot only */
		w->frags[at + f].buf_idx = s.buf_idx;
		w->frags[at + f].len = sv == VRING_OK ? s.len : 0;
		sum += w->frags[at + f].len;
		if (!(s.flags & VRING_F_MORE)) {
			*total = sum;
			*verdict = v ? v : sum > VSW_FRAME_MAX ? (uint8_t)VSW_DROP_LEN_LONG : 0;
			return f + 1;
		}
	}
	*total = sum;
	*verdict = VSW_DROP_FLAGS; /* no end within VSW_CHAIN_MAX slots */
	return VSW_CHAIN_MAX;
}

/*
 * Phase 1: read, validate, copy headers, decide, over the n published
 * slots of the window. Returns the number of flooded packets; *npkts the
 * packets and *nslots the slots they span (< n when a chain waits).
 *
 * Per-round caches (the round has one `now` and one source port): the last
 * source (vid, MAC) whose learn was a no-op is not learned again, and the
 * last (vid, destination MAC) looked up is not looked up again until a learn
 * that may have written the table. Both are decided on the header copy.
 * A lookup names a group: a group of one resolves to its port in the cache;
 * a larger one is resolved per packet by the flow hash (member hash % n).
 * A destination in the source's own group is no destination (VSW_DROP_NO_DEST,
 * as a frame to the source's own port).
 */
static uint32_t classify(struct vsw *sw, struct vsw_worker *w, struct vsw_port *src, uint32_t n, uint64_t now,
			 uint32_t *ndl, uint32_t *npkts, uint32_t *nslots)
{
	struct vring_be *tx = &src->tx;
	const struct vsw_policy_ops *pol = sw->policy;
	const struct vsw_lookup_ops *lk = sw->lookup;
	uint64_t learned_key = 0, dst_key = 0;
	uint32_t i, at, nflood = 0, nd = 0, hwcur = tx->hwcur, mask = tx->mask;
	uint16_t dst_d = VSW_DST_NONE;
	const struct vsw_gset *dst_set = NULL; /* the cached lookup's group (dst_d == VSW_DST_GROUP) */

	for (i = 0, at = 0; at < n; i++) {
		struct vsw_pkt *p = &w->pkts[i];
		struct vring_slot s;
		enum vring_verdict v;
		uint32_t span = 1;
		uint16_t d, tag;
		uint64_t k;

		vring_slot_read(&tx->slots[(hwcur + at) & mask], &s);
		if (vp_likely(at + 4 < n)) {
			/* the slot after next, and the buffer of a slot read earlier: both are the guest's, read only */
			uint32_t nb = VP_READ_ONCE(tx->slots[(hwcur + at + 4) & mask].buf_idx);

			__builtin_prefetch(&tx->slots[(hwcur + at + 8) & mask]);
			if (nb < tx->lim.nr_bufs)
				__builtin_prefetch(vring_be_buf(tx, nb));
		}
		p->pos = at;
		p->len = s.len;
		p->len0 = s.len;
		p->nfrag = 1;
		p->ofl_bad = 0;
		p->dst = VSW_DST_NONE;
		p->next = VSW_END;
		p->charged = 0;
		p->drop = 0;
		p->gso_hlen = 0;
		v = vring_check_slot(&s, &tx->lim, 1);
		w->frags[at].buf_idx = s.buf_idx;
		w->frags[at].len = s.len;
		if (vp_unlikely(s.flags & VRING_F_MORE) && v != VRING_DROP_FLAGS) {
			/* a chain (VRING_FEAT_CHAIN was checked): the whole of it is one packet, dropped whole */
			uint32_t total = 0;
			uint8_t cv = 0;

			span = gather(w, tx, at, n, v == VRING_OK ? s.len : 0, &total, &cv);
			if (!span)
				break; /* its end is not published yet */
			p->nfrag = (uint8_t)span;
			p->len = total;
			if (v == VRING_OK && cv)
				v = (enum vring_verdict)cv;
			if (v == VRING_OK && (s.flags & VRING_F_OFFLOAD))
				v = vring_check_offload(&s.u.offload, total);
		}
		at += span;
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
		if (vp_unlikely(p->flags & VRING_F_OFFLOAD)) {
			uint32_t type, l2 = l2_len(p->hdr, p->hdr_len, &type);

			if ((p->drop = check_gso(&p->ofl, p->len, l2, type)))
				continue;
			if (p->ofl.gso_type != VRING_GSO_NONE)
				p->gso_hlen = gso_prepare(w, tx, p, w->gso_hdr + (size_t)i * VSW_GSO_HDR_MAX);
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
				uint16_t g = lk->lookup(sw, p->hdr, p->vid, now);

				dst_key = k;
				if (g >= VSW_MAX_PORTS) {
					dst_d = VSW_DST_NONE;
				} else if (g == src->gslot) {
					dst_d = (uint16_t)src->id; /* its own group: dropped below */
				} else {
					/* pairs with the release in group.c: a group of one is its port */
					dst_d = (uint16_t)__atomic_load_n(&sw->groups[g].solo, __ATOMIC_ACQUIRE);
					if (vp_unlikely(dst_d == VSW_DST_GROUP) && !(dst_set = vsw_gset_get(sw, w, g)))
						dst_d = VSW_DST_NONE;
				}
			}
			d = dst_d;
			if (vp_unlikely(d == VSW_DST_GROUP))
				d = dst_set->member[vsw_flow_hash(sw, p) % dst_set->n];
		}
		if (d == src->id) {
			p->drop = VSW_DROP_NO_DEST; /* addressed to its own port, or to another member of its group */
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
				p->uslots = (uint16_t)dst_slots(dp, p, tag);
				p->uok = p->uslots != 0;
				w->uelig[d] += p->uslots;
				continue;
			}
		}
		/* broadcast, multicast or unknown unicast */
		p->drop = (uint8_t)pol->flood(src, now);
		if (p->drop)
			continue;
		p->dst = VSW_DST_FLOOD;
		p->hashed = 0;
		w->flood[nflood++] = (uint16_t)i;
	}
	*ndl = nd;
	*npkts = i;
	*nslots = at;
	return nflood;
}

/*
 * Which flooded packets port dp (id) takes this round (w->fsel): 0 every one
 * (a group of one), n << 4 | i those whose flow hash picks member i of its
 * group of n, 0xff none (its group's set, as this round sees it, does not
 * hold it: joining or leaving; or it is in the source's group: no hairpin).
 */
static uint8_t flood_sel(struct vsw *sw, struct vsw_worker *w, const struct vsw_port *src, const struct vsw_port *dp,
			 uint32_t id)
{
	const struct vsw_gset *set;
	uint32_t i;

	if (dp->gslot == src->gslot || !(set = vsw_gset_get(sw, w, dp->gslot)))
		return 0xff;
	if (vp_likely(set->n == 1))
		return set->member[0] == id ? 0 : 0xff;
	for (i = 0; i < set->n; i++)
		if (set->member[i] == id)
			return (uint8_t)(set->n << 4 | i);
	return 0xff;
}

/* The destinations of this round, ascending, into w->dl and w->dp (and w->fsel when packets are flooded). */
static uint32_t collect_dests(struct vsw *sw, struct vsw_worker *w, const struct vsw_port *src, uint32_t nflood,
			      uint32_t nuni)
{
	uint32_t id, nd = 0;

	for (id = 0; id < VSW_MAX_PORTS && (nflood || nd < nuni); id++) {
		if (w->ucount[id]) {
			w->dl[nd++] = (uint16_t)id;
			if (nflood)
				w->fsel[id] = flood_sel(sw, w, src, w->dp[id], id);
		} else if (nflood && id != src->id) {
			struct vsw_port *dp = vsw_port_get(sw, id);

			if (dp && (w->fsel[id] = flood_sel(sw, w, src, dp, id)) != 0xff) {
				w->dp[id] = dp;
				w->dl[nd++] = (uint16_t)id;
			}
		}
	}
	return nd;
}

/*
 * Position (batch index) of the first eligible packet for dst that does not
 * fit in k RX slots together with the eligible ones before it, or n if all fit.
 */
static uint32_t kth_pos(const struct vsw *sw, struct vsw_worker *w, uint16_t d, uint32_t k, uint32_t nflood, uint32_t n)
{
	struct mcur c = { w->ucount[d] ? w->uhead[d] : VSW_END, 0 };
	const struct vsw_port *dp = w->dp[d];
	uint32_t used = 0, ns;
	uint16_t tag;
	int i;

	if (!nflood && k >= w->uelig[d])
		return n; /* unicast only and room for all of them */
	while ((i = mnext(w, &c, nflood)) >= 0) {
		if (!(ns = eligible_for(sw, w, d, dp, &w->pkts[i], &tag)))
			continue;
		if (used + ns > k)
			return (uint32_t)i;
		used += ns;
	}
	return n;
}

/*
 * RX slots the eligible packets for dst before position cut take, counting
 * (when limit is below that) only the whole packets that fit in limit slots
 * in order: a lossy destination's all-or-nothing share.
 */
static uint32_t want_before(const struct vsw *sw, struct vsw_worker *w, uint16_t d, uint32_t cut, uint32_t nflood,
			    uint32_t limit)
{
	struct mcur c = { w->ucount[d] ? w->uhead[d] : VSW_END, 0 };
	const struct vsw_port *dp = w->dp[d];
	uint32_t k = 0, ns;
	uint16_t tag;
	int i;

	if (!nflood && cut > w->utail[d] && w->uelig[d] <= limit)
		return w->uelig[d]; /* unicast only, the whole list before the cut: counted by classify() */
	while ((i = mnext(w, &c, nflood)) >= 0 && (uint32_t)i < cut) {
		ns = eligible_for(sw, w, d, dp, &w->pkts[i], &tag);
		if (k + ns > limit)
			break;
		k += ns;
	}
	return k;
}

/*
 * A chain (or a packet with its offload word) into ns RX slots of dst from
 * lease slot *j on, with dst's tag tag_out: the frame after the tag change
 * (the MACs and tag from put_l2(), then the source's bytes after its own
 * tag) re-cut to dst's buf_size, the header from the worker's copy, the
 * rest from the validated source fragments; VRING_F_MORE on all but the
 * last slot. A dst that negotiated offloads gets the offload word on the
 * first slot, csum_start shifted by the tag change (ofl_retag(), which
 * dst_slots() ran and accepted). A dst without them gets a checksum-partial
 * packet with the checksum filled in: summed over [csum_start, end) of the
 * bytes as written, slot by slot (a slot's part that starts at an odd
 * distance from csum_start is summed swapped, RFC 1071), stored at
 * csum_start + csum_offset once every slot is written (UDP: 0 is sent as
 * 0xffff). Returns the bytes written; *bad counts dst slots whose buf_idx
 * the destination guest broke (left empty, the chain still ends).
 */
static uint32_t build_chain(struct vsw_worker *w, const struct vsw_port *src, struct vsw_port *dp,
			    const struct vsw_lease *l, uint32_t *j, const struct vsw_pkt *p, uint32_t ns, uint16_t tag_out,
			    uint32_t *bad)
{
	const struct vsw_frag *fr = &w->frags[p->pos];
	uint8_t lead[VSW_HDR_COPY + 4]; /* the header copy after the tag change */
	const uint8_t *hd = p->hdr;
	uint32_t bs = dp->cfg.buf_size, hn = p->hdr_len, olen = p->len - p->tag_in + tag_out;
	uint32_t f = 0, foff = p->hdr_len, done = 0, k, cs = 0, cf = 0;
	int ofl = (p->flags & VRING_F_OFFLOAD) && (dp->cfg.features & VRING_FEAT_OFFLOAD);
	int fill = !ofl && (p->flags & VRING_F_OFFLOAD) && (p->ofl.oflags & VRING_OFL_NEEDS_CSUM);
	struct vring_offload o = { 0 };
	uint64_t sum = 0;
	uint8_t *cp0 = NULL, *cp1 = NULL; /* where the two checksum bytes went */

	if (p->flags & VRING_F_OFFLOAD)
		o = p->ofl;
	if (p->tag_in | tag_out) {
		uint32_t m = put_l2(lead, p, tag_out);

		vp_memcpy(lead + m, p->hdr + 12 + p->tag_in, p->hdr_len - 12u - p->tag_in);
		hd = lead;
		hn = m + p->hdr_len - 12u - p->tag_in;
		if ((p->flags & VRING_F_OFFLOAD) && ofl_retag(p, tag_out, olen, &o))
			fill = ofl = 0; /* (dst_slots() refused it already) */
	}
	cs = o.csum_start;
	cf = cs + o.csum_offset;
	for (k = 0; k < ns; k++) {
		struct vring_slot *s = &dp->rx.slots[(l->start + (*j)++) & dp->rx.mask];
		uint32_t bi = VP_READ_ONCE(s->buf_idx); /* the guest's: read once, checked */
		uint32_t want = olen - done < bs ? olen - done : bs, o2 = 0;
		uint16_t flags = k + 1 < ns ? VRING_F_MORE : 0;
		uint8_t *out = bi < dp->rx.lim.nr_bufs ? vring_be_buf(&dp->rx, bi) : NULL;

		if (!out)
			(*bad)++;
		if (done < hn) { /* what was checked is what is sent */
			o2 = hn - done < want ? hn - done : want;
			if (out)
				vp_memcpy(out, hd + done, o2);
		}
		while (o2 < want) { /* the rest from the source fragments (advanced also for a broken slot) */
			uint32_t take = fr[f].len - foff < want - o2 ? fr[f].len - foff : want - o2;

			if (out)
				vp_memcpy(out + o2, vring_be_buf(&src->tx, fr[f].buf_idx) + foff, take);
			o2 += take;
			foff += take;
			if (foff == fr[f].len)
				f++, foff = 0;
		}
		if (fill && out) {
			uint32_t a = cs > done ? cs : done, part;

			if (a < done + want) {
				part = csum_wide(out + (a - done), done + want - a);
				sum += (a - cs) & 1 ? (part & 0xff) << 8 | part >> 8 : part;
			}
			if (cf >= done && cf < done + want)
				cp0 = out + (cf - done);
			if (cf + 1 >= done && cf + 1 < done + want)
				cp1 = out + (cf + 1 - done);
		}
		if (k == 0 && ofl) {
			flags |= VRING_F_OFFLOAD;
			VP_WRITE_ONCE(s->u.gref, 0);
			s->u.offload = o;
		}
		VP_WRITE_ONCE(s->len, (uint16_t)(out ? want : 0));
		VP_WRITE_ONCE(s->flags, flags);
		done += want;
	}
	if (fill && cp0 && cp1) {
		uint32_t c = ~csum_fold(sum) & 0xffffu;

		if (c == 0 && o.csum_offset == 6)
			c = 0xffff; /* UDP: 0 means "no checksum" */
		*cp0 = (uint8_t)(c >> 8);
		*cp1 = (uint8_t)c;
	}
	return done;
}

/* Copies the packets before cut into dst's lease; the ones beyond the lease are ring-full drops. */
static void deliver(struct vsw *sw, struct vsw_worker *w, struct vsw_port *src, uint16_t d, uint32_t cut, uint32_t nflood)
{
	struct mcur c = { w->ucount[d] ? w->uhead[d] : VSW_END, 0 };
	struct vsw_port *dp = w->dp[d];
	struct vsw_lease *l = &w->lease[d];
	struct vsw_pcount *spc = &w->pc[src->id], *dpc = &w->pc[d];
	struct vsw_capture *cap = __atomic_load_n(&dp->cap, __ATOMIC_ACQUIRE); /* pairs with vsw_capture_start() */
	uint32_t j = 0, out_pkts = 0, pairs = 0, full = 0, bad = 0, segs = 0, ns;
	uint64_t out_bytes = 0;
	uint16_t tag;
	int i;

	while ((i = mnext(w, &c, nflood)) >= 0 && (uint32_t)i < cut) {
		struct vsw_pkt *p = &w->pkts[i];

		if (!(ns = eligible_for(sw, w, d, dp, p, &tag)))
			continue;
		p->charged |= VSW_CHARGED_HIT;
		pairs++;
		if (j + ns > l->n) {
			full++; /* the lease holds whole packets only: none after this one fits either */
			continue;
		}
		if (vp_unlikely(p->nfrag > 1 || (p->flags & VRING_F_OFFLOAD))) {
			if ((p->flags & VRING_F_OFFLOAD) && p->ofl.gso_type != VRING_GSO_NONE &&
			    !(dp->cfg.features & VRING_FEAT_OFFLOAD)) /* dst_slots() let it through: segmentable */
				out_bytes += gso_segment(w, src, dp, l, &j, p, w->gso_hdr + (size_t)i * VSW_GSO_HDR_MAX, ns,
							 tag, &segs, &bad);
			else
				out_bytes += build_chain(w, src, dp, l, &j, p, ns, tag, &bad);
			out_pkts++;
			continue;
		}
		{
			struct vring_slot *s = &dp->rx.slots[(l->start + j++) & dp->rx.mask];
			uint32_t bi = VP_READ_ONCE(s->buf_idx); /* the guest's: read once, checked */
			uint32_t len = 0;

			if (vp_likely(bi < dp->rx.lim.nr_bufs)) {
				len = build_frame(vring_be_buf(&dp->rx, bi), p, vring_be_buf(&src->tx, p->buf_idx), tag);
				out_pkts++;
				out_bytes += len;
			} else {
				bad++; /* the destination guest broke its own RX slot: an empty slot, counted on it */
			}
			VP_WRITE_ONCE(s->len, (uint16_t)len);
			VP_WRITE_ONCE(s->flags, 0);
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
	if (segs)
		VSW_STAT_ADD(dpc->gso_segments, segs);
	if (full)
		VSW_STAT_ADD(dpc->drops[VSW_DROP_RING_FULL], full);
	if (bad)
		VSW_STAT_ADD(dpc->drops[VSW_DROP_BUF_IDX], bad);
}

uint32_t vsw_fwd_port(struct vsw *sw, struct vsw_worker *w, struct vsw_port *src, uint64_t now, int *blocked)
{
	struct vring_be *tx = &src->tx;
	struct vsw_pcount *pc = &w->pc[src->id];
	uint32_t head, n, i, nflood, nuni, nd, cut, npkts, nslots, cut_slots;
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
	if (vp_unlikely(++w->gen == 0)) { /* group sets of the previous round are stale (vsw_gset_get()) */
		memset(w->gstamp, 0, sizeof(w->gstamp));
		w->gen = 1;
	}
	nflood = classify(sw, w, src, n, now, &nuni, &npkts, &nslots);
	if (!npkts)
		return 0; /* a chain whose end is not published yet */
	n = npkts; /* from here on: packets */
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
			vsw_lease_take_locked(dp, want_before(sw, w, w->dl[i], cut, nflood, UINT32_MAX), &w->lease[w->dl[i]]);
			vsw_spin_unlock(&dp->lease_lock);
		}
	}
	for (i = 0; i < nd; i++) {
		struct vsw_port *dp = w->dp[w->dl[i]];
		uint32_t want, space;

		if (dp->cfg.flags & VSW_PORT_LOSSLESS)
			continue;
		want = want_before(sw, w, w->dl[i], cut, nflood, UINT32_MAX);
		vsw_spin_lock(&dp->lease_lock);
		space = want ? vsw_lease_space_locked(w, dp) : 0;
		if (want > space) /* whole packets only: the ones that fit, in order */
			want = want_before(sw, w, w->dl[i], cut, nflood, space);
		vsw_lease_take_locked(dp, want, &w->lease[w->dl[i]]);
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
			p->drop = p->ofl_bad ? VSW_DROP_OFFLOAD : VSW_DROP_NO_DEST;
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
			vsw_kick_rx(w->dp[d]);
		}
		w->ucount[d] = 0;
	}
	cut_slots = cut < npkts ? w->pkts[cut].pos : nslots;
	if (cut_slots) {
		if (src->cfg.tx_notify_fd >= 0) {
			if (vring_be_tx_release(tx, (tx->hwcur + cut_slots) & tx->mask))
				vsw_kick_tx(src);
		} else {
			vring_be_tx_release_nokick(tx, (tx->hwcur + cut_slots) & tx->mask);
		}
	}
	vsw_stats_batch(w, cut);
	return cut;
}
