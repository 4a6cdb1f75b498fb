/* SPDX-License-Identifier: MIT */
/*
 * policy.c - the default policy ops: MAC lock, VLAN access/trunk, token
 * buckets (rate limit in packets and bits per second, flood limit).
 *
 * Concurrency model: every function here runs on the worker serving the
 * source port (ingress, flood, refund touch only that port's buckets) or
 * reads a destination's constant configuration (egress). No locks, no
 * atomics, no syscalls. All decisions read the header copy in the worker's
 * scratch (struct vsw_pkt.hdr), never the guest's buffer. Time comes from
 * the switch's injectable clock, passed in as `now`.
 */
#include "sw_internal.h"

#define NS 1000000000ull
#define ETH_P_8021Q 0x8100u
#define ETH_P_8021AD 0x88a8u


void vsw_bucket_init(struct vsw_bucket *b, uint64_t rate, uint64_t burst, uint64_t now)
{
	b->rate = rate;
	b->burst = burst ? burst : rate;
	b->tokens = b->burst * NS;
	b->last_ns = now;
}

static void refill(struct vsw_bucket *b, uint64_t now)
{
	uint64_t cap = b->burst * NS, need, dt;

	if (now <= b->last_ns)
		return;
	dt = now - b->last_ns;
	b->last_ns = now;
	need = cap - b->tokens;
	if (dt >= need / b->rate + 1) /* also keeps dt * rate from overflowing */
		b->tokens = cap;
	else
		b->tokens += dt * b->rate;
}

/* Takes cost (units) if available: 1, else 0. An unlimited bucket always grants. */
static int take(struct vsw_bucket *b, uint64_t cost, uint64_t now)
{
	if (!b->rate)
		return 1;
	refill(b, now);
	if (b->tokens < cost * NS)
		return 0;
	b->tokens -= cost * NS;
	return 1;
}

static int can_take(struct vsw_bucket *b, uint64_t cost, uint64_t now)
{
	if (!b->rate)
		return 1;
	refill(b, now);
	return b->tokens >= cost * NS;
}

static void give(struct vsw_bucket *b, uint64_t cost)
{
	uint64_t cap = b->burst * NS;

	if (!b->rate)
		return;
	b->tokens = cap - b->tokens < cost * NS ? cap : b->tokens + cost * NS;
}

static int vid_allowed(const struct vsw_port *p, uint16_t vid)
{
	return vid < 4096 && (p->vid_map[vid >> 3] >> (vid & 7)) & 1;
}

static int default_ingress(struct vsw_port *src, struct vsw_pkt *p, uint64_t now)
{
	const uint8_t *h = p->hdr;
	uint16_t type = (uint16_t)(h[12] << 8 | h[13]);
	uint64_t bits = (uint64_t)p->len * 8;

	if (vp_unlikely(src->rate_pkts.rate | src->rate_bytes.rate)) { /* unlimited ports skip the buckets */
		if (!can_take(&src->rate_pkts, 1, now) || !can_take(&src->rate_bytes, bits, now))
			return VSW_DROP_RATE_LIMIT;
		take(&src->rate_pkts, 1, now);
		take(&src->rate_bytes, bits, now);
	}
	p->charged |= VSW_CHARGED_RATE;

	if ((src->cfg.flags & VSW_PORT_MAC_LOCK) && __builtin_memcmp(h + 6, src->cfg.mac, 6) != 0)
		return VSW_DROP_MAC_LOCK;

	if (type == ETH_P_8021Q || type == ETH_P_8021AD) {
		uint16_t vid;

		if (p->hdr_len < 18 || p->len < 18 || src->cfg.vlan_mode != VSW_VLAN_TRUNK)
			return VSW_DROP_VLAN;
		vid = (uint16_t)((h[14] << 8 | h[15]) & 0xfff);
		if (type == ETH_P_8021AD || !vid_allowed(src, vid))
			return VSW_DROP_VLAN;
		p->vid = vid;
		p->tag_in = 4;
	} else if (src->cfg.vlan_mode == VSW_VLAN_ACCESS) {
		p->vid = src->cfg.access_vid;
		p->tag_in = 0;
	} else if (src->cfg.native_vid) {
		p->vid = src->cfg.native_vid;
		p->tag_in = 0;
	} else {
		return VSW_DROP_VLAN;
	}
	return 0;
}

static int default_egress(const struct vsw_port *dst, const struct vsw_pkt *p, uint16_t *tag_out)
{
	if (dst->cfg.vlan_mode == VSW_VLAN_ACCESS) {
		*tag_out = 0;
		return p->vid == dst->cfg.access_vid;
	}
	if (p->vid == dst->cfg.native_vid) {
		*tag_out = 0;
		return 1;
	}
	*tag_out = 4;
	return vid_allowed(dst, p->vid);
}

static int default_flood(struct vsw_port *src, uint64_t now)
{
	return take(&src->flood, 1, now) ? 0 : VSW_DROP_FLOOD_LIMIT;
}

static void default_refund(struct vsw_port *src, const struct vsw_pkt *p)
{
	if (p->charged & VSW_CHARGED_RATE) {
		give(&src->rate_pkts, 1);
		give(&src->rate_bytes, (uint64_t)p->len * 8);
	}
	if (p->dst == VSW_DST_FLOOD)
		give(&src->flood, 1);
}

const struct vsw_policy_ops vsw_default_policy_ops = {
	.ingress = default_ingress,
	.egress = default_egress,
	.flood = default_flood,
	.refund = default_refund,
};
