/* SPDX-License-Identifier: MIT */
/*
 * group.c - port groups: the N queue pairs of a multi-queue vif are N ports
 * (own rings, worker, configuration, counters) that forward as one port
 * (vpio/switch.h "Port groups"). Membership here, on the control thread;
 * the member choice per packet (vsw_flow_hash()) on the workers.
 *
 * Concurrency model:
 *   - A group is a slot of sw->groups[]: its MAC entries name the slot
 *     (learn.c), its members are an immutable struct vsw_gset published
 *     through slot->set, as ports are through sw->ports[]: the control
 *     thread writes a new set into the slot's spare copy, stores the
 *     pointer with release and then waits for a quiescent point
 *     (vsw_wait_quiescent()), so no worker still reads the old copy when
 *     the next change rewrites it. Workers load slot->set with acquire
 *     inside their busy section, once per group per round
 *     (vsw_gset_get()), so a round's unicast choices and its one flooded
 *     copy per group come from the same set.
 *   - Joining: the port is published first (it may send at once, and it is
 *     nobody's destination yet), then the set that includes it. Leaving:
 *     the set without it first, a quiescent point (no worker picks it from
 *     then on), then the port is unpublished as any port (port.c). The last
 *     member's leaving clears slot->set; after the port's quiescent point
 *     its MAC entries are flushed and the slot may be reused.
 *   - slot->macs is the group's MAC count: atomics under the MAC table's
 *     bucket locks (learn.c), from every member's worker.
 *   - Per packet: no lock, allocation or syscall. vsw_flow_hash() reads the
 *     worker's header copy only (never the guest's buffer) and is called
 *     only for a destination group of n > 1, at most once per packet.
 */
#include <string.h>

#include "sw_internal.h"

#define ETH_P_IPV4 0x0800u
#define ETH_P_IPV6 0x86ddu
#define ETH_P_8021Q 0x8100u
#define IPPROTO_TCP_ 6u
#define IPPROTO_UDP_ 17u

static inline uint32_t ld16(const uint8_t *b)
{
	uint16_t v;

	vp_memcpy(&v, b, 2);
	return v;
}

static inline uint32_t ld32(const uint8_t *b)
{
	uint32_t v;

	vp_memcpy(&v, b, 4);
	return v;
}

static inline uint64_t ld64(const uint8_t *b)
{
	uint64_t v;

	vp_memcpy(&v, b, 8);
	return v;
}

/*
 * The 16-bit flow hash of packet p, from its header copy (p->hdr, p->hdr_len
 * bytes): past one 802.1Q tag, IPv4 or IPv6 source and destination
 * address, plus for TCP and UDP the two ports and the protocol (not for an
 * IPv4 fragment: MF or an offset, so every fragment of a datagram hashes
 * alike; not past IPv6 extension headers); anything else, or an IP header
 * the copy does not hold whole, hashes its destination and source MAC. The
 * bytes are folded in native order (the hash only has to be stable on this
 * host) and mixed with the switch's seed in four multiplies; the top 16
 * bits are the hash (hash % n for n <= VSW_GROUP_MAX is within 2^-13 of
 * uniform, and 16 bits fit the packet's spare room: struct vsw_pkt fhash).
 */
uint16_t vsw_flow_hash(const struct vsw *sw, const struct vsw_pkt *p)
{
	const uint8_t *h = p->hdr;
	uint32_t n = p->hdr_len, l3 = 14, type;
	uint64_t a, b, c = 0, x;

	type = n >= 14 ? (uint32_t)h[12] << 8 | h[13] : 0;
	if (type == ETH_P_8021Q && n >= 18) {
		type = (uint32_t)h[16] << 8 | h[17];
		l3 = 18;
	}
	if (type == ETH_P_IPV4 && n >= l3 + 20 && (h[l3] >> 4) == 4) {
		uint32_t ihl = (h[l3] & 15u) * 4u, proto = h[l3 + 9];

		a = ld32(h + l3 + 12);
		b = ld32(h + l3 + 16);
		if ((proto == IPPROTO_TCP_ || proto == IPPROTO_UDP_) && ihl >= 20 && n >= l3 + ihl + 4 &&
		    !(((uint32_t)h[l3 + 6] << 8 | h[l3 + 7]) & 0x3fffu))
			c = (uint64_t)ld32(h + l3 + ihl) << 8 | proto;
	} else if (type == ETH_P_IPV6 && n >= l3 + 40 && (h[l3] >> 4) == 6) {
		uint32_t proto = h[l3 + 6];

		a = ld64(h + l3 + 8) ^ ld64(h + l3 + 16) << 1;
		b = ld64(h + l3 + 24) ^ ld64(h + l3 + 32) << 1;
		if ((proto == IPPROTO_TCP_ || proto == IPPROTO_UDP_) && n >= l3 + 44)
			c = (uint64_t)ld32(h + l3 + 40) << 8 | proto;
	} else {
		a = ld32(h) | (uint64_t)ld16(h + 4) << 32;
		b = ld32(h + 6) | (uint64_t)ld16(h + 10) << 32;
	}
	x = (sw->seed ^ a) * 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 29) ^ b) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 32) ^ c) * 0x94d049bb133111ebull;
	/* a last round: without it, flows whose ports change together could cancel in the top bits */
	x = (x ^ (x >> 31)) * 0xd6e8feb86659fd93ull;
	return (uint16_t)(x >> 48);
}

void vsw_groups_init(struct vsw *sw)
{
	uint32_t s;

	for (s = 0; s < VSW_MAX_PORTS; s++)
		sw->groups[s].solo = VSW_DST_NONE; /* free slots resolve to nothing */
}

int vsw_group_check(const struct vsw *sw, const struct vsw_port_config *cfg)
{
	const struct vsw_port *o;

	if (!(cfg->flags & VSW_PORT_GROUP))
		return 0;
	o = cfg->group < VSW_MAX_PORTS ? sw->ports[cfg->group] : NULL;
	if (!o)
		return -VP_ENOENT;
	return o->grp->set->n >= VSW_GROUP_MAX ? -VP_EBUSY : 0;
}

/* Control thread: publishes next as g's member set, then waits until no worker reads the old one. */
static void publish(struct vsw *sw, struct vsw_group *g, const struct vsw_gset *next)
{
	struct vsw_gset *spare = g->set == &g->sets[0] ? &g->sets[1] : &g->sets[0];

	*spare = *next; /* nobody reads the spare: the previous change waited (or the slot was free) */
	__atomic_store_n(&g->set, spare, __ATOMIC_SEQ_CST); /* pairs with the acquire in vsw_gset_get() */
	/* after the set: a reader that sees VSW_DST_GROUP finds a set of n > 1 (pairs with classify()'s acquire) */
	__atomic_store_n(&g->solo, next->n == 1 ? next->member[0] : VSW_DST_GROUP, __ATOMIC_SEQ_CST);
	vsw_wait_quiescent(sw);
}

void vsw_group_attach(struct vsw *sw, struct vsw_port *p)
{
	struct vsw_group *g;
	uint32_t s;

	if (p->cfg.flags & VSW_PORT_GROUP) { /* vsw_group_check() passed: the port is attached, the group not full */
		const struct vsw_port *o = sw->ports[p->cfg.group];

		p->gslot = o->gslot;
		p->grp = o->grp;
		return;
	}
	/* a group of one; a free slot always exists (no more groups than ports): its own id's when free */
	s = p->id;
	if (sw->groups[s].set)
		for (s = 0; s < VSW_MAX_PORTS && sw->groups[s].set; s++)
			;
	g = &sw->groups[s];
	g->macs = 0;
	g->max_macs = p->cfg.max_macs ? p->cfg.max_macs : VSW_DEFAULT_MAX_MACS;
	g->sets[0].n = 1;
	g->sets[0].member[0] = (uint16_t)p->id;
	/* a free slot has no readers (its last member's removal waited): no quiescent point needed */
	__atomic_store_n(&g->set, &g->sets[0], __ATOMIC_RELEASE); /* pairs with the acquire in vsw_gset_get() */
	__atomic_store_n(&g->solo, p->id, __ATOMIC_RELEASE);     /* pairs with the acquire in classify() */
	p->gslot = s;
	p->grp = g;
}

void vsw_group_join(struct vsw *sw, struct vsw_port *p)
{
	struct vsw_group *g = p->grp;
	struct vsw_gset next = *g->set;

	if (!(p->cfg.flags & VSW_PORT_GROUP))
		return; /* a group of one: published by vsw_group_attach() */
	next.member[next.n++] = (uint16_t)p->id;
	publish(sw, g, &next);
}

int vsw_group_leave(struct vsw *sw, struct vsw_port *p)
{
	struct vsw_group *g = p->grp;
	const struct vsw_gset *cur = g ? g->set : NULL;
	struct vsw_gset next;
	uint32_t i;

	if (!cur)
		return 0; /* never attached */
	if (cur->n == 1 && cur->member[0] == p->id) {
		/* the last member: the slot empties; the caller flushes its MAC entries after the port's quiescent point */
		__atomic_store_n(&g->set, NULL, __ATOMIC_SEQ_CST);
		__atomic_store_n(&g->solo, VSW_DST_NONE, __ATOMIC_SEQ_CST);
		return 1;
	}
	memset(&next, 0, sizeof(next));
	for (i = 0; i < cur->n; i++)
		if (cur->member[i] != p->id)
			next.member[next.n++] = cur->member[i]; /* oldest first: member[0] stays the group's id */
	if (next.n != cur->n)
		publish(sw, g, &next);
	return 0;
}

int vsw_port_group(const struct vsw *sw, uint32_t id, uint32_t *members, uint32_t max)
{
	const struct vsw_port *p = id < VSW_MAX_PORTS ? __atomic_load_n(&sw->ports[id], __ATOMIC_ACQUIRE) : NULL;
	const struct vsw_gset *set;
	uint32_t i;

	if (!p || !(set = __atomic_load_n(&p->grp->set, __ATOMIC_ACQUIRE)))
		return -VP_ENOENT;
	for (i = 0; i < set->n && i < max; i++)
		members[i] = set->member[i];
	return (int)set->n;
}
