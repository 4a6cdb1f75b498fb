/* SPDX-License-Identifier: MIT */
/*
 * stats.c - counters. Each worker owns its counters (struct vsw_wcount and
 * a struct vsw_pcount per port id) and writes them with relaxed atomic
 * stores; readers sum every worker's copy with relaxed loads, at any time,
 * without stopping traffic. Sums taken while traffic flows are not a
 * snapshot across counters; each counter alone is monotonic.
 */
#include <string.h>

#include "sw_internal.h"

static const char *const drop_names[VSW_DROP_COUNT] = {
	[0] = "none",
	[VSW_DROP_HEAD] = "head",
	[VSW_DROP_CUR] = "cur",
	[VSW_DROP_BUF_IDX] = "buf_idx",
	[VSW_DROP_LEN_ZERO] = "len_zero",
	[VSW_DROP_LEN_SHORT] = "len_short",
	[VSW_DROP_LEN_LONG] = "len_long",
	[VSW_DROP_FLAGS] = "flags",
	[VSW_DROP_OFFLOAD] = "offload",
	[VSW_DROP_RING_FULL] = "ring_full",
	[VSW_DROP_NO_DEST] = "no_dest",
	[VSW_DROP_MAC_LOCK] = "mac_lock",
	[VSW_DROP_VLAN] = "vlan",
	[VSW_DROP_RATE_LIMIT] = "rate_limit",
	[VSW_DROP_FLOOD_LIMIT] = "flood_limit",
};

const char *vsw_drop_name(unsigned reason)
{
	return reason > 0 && reason < VSW_DROP_COUNT ? drop_names[reason] : "unknown";
}

void vsw_stats_batch(struct vsw_worker *w, uint32_t n)
{
	uint32_t b = 0;

	if (!n)
		return;
	while (b + 1 < VSW_HIST_BUCKETS && (n >> (b + 1)))
		b++;
	VSW_STAT_ADD(w->wc.batches, 1);
	VSW_STAT_ADD(w->wc.packets, n);
	VSW_STAT_ADD(w->wc.hist[b], 1);
}

int vsw_port_stats(const struct vsw *sw, uint32_t id, struct vsw_port_stats *out)
{
	const struct vsw_port *p = id < VSW_MAX_PORTS ? __atomic_load_n(&sw->ports[id], __ATOMIC_ACQUIRE) : NULL;
	uint32_t i, r;

	if (!p)
		return -VP_ENOENT;
	memset(out, 0, sizeof(*out));
	for (i = 0; i <= sw->nworkers; i++) {
		struct vsw_pcount *c = &sw->workers[i].pc[id];

		out->in_packets += VSW_STAT_GET(c->in_packets);
		out->in_bytes += VSW_STAT_GET(c->in_bytes);
		out->fwd_packets += VSW_STAT_GET(c->fwd_packets);
		out->fwd_pairs += VSW_STAT_GET(c->fwd_pairs);
		out->out_packets += VSW_STAT_GET(c->out_packets);
		out->out_bytes += VSW_STAT_GET(c->out_bytes);
		out->flooded += VSW_STAT_GET(c->flooded);
		out->held += VSW_STAT_GET(c->held);
		out->learned += VSW_STAT_GET(c->learned);
		out->mac_moves += VSW_STAT_GET(c->mac_moves);
		out->learn_refused += VSW_STAT_GET(c->learn_refused);
		out->gso_segments += VSW_STAT_GET(c->gso_segments);
		for (r = 0; r < VSW_DROP_COUNT; r++)
			out->drops[r] += VSW_STAT_GET(c->drops[r]);
	}
	out->macs = __atomic_load_n(&p->grp->macs, __ATOMIC_RELAXED);
	out->worker = p->worker;
	{
		const struct vsw_gset *set = __atomic_load_n(&p->grp->set, __ATOMIC_ACQUIRE);

		out->group = set ? set->member[0] : p->id;
	}
	return 0;
}

int vsw_worker_stats(const struct vsw *sw, uint32_t w, struct vsw_worker_stats *out)
{
	const struct vsw_wcount *c;
	uint32_t b;

	if (w > sw->nworkers)
		return -VP_ENOENT;
	c = &sw->workers[w].wc;
	memset(out, 0, sizeof(*out));
	out->batches = VSW_STAT_GET(c->batches);
	out->packets = VSW_STAT_GET(c->packets);
	for (b = 0; b < VSW_HIST_BUCKETS; b++)
		out->hist[b] = VSW_STAT_GET(c->hist[b]);
	out->busy_ns = VSW_STAT_GET(c->busy_ns);
	out->idle_ns = VSW_STAT_GET(c->idle_ns);
	out->sleeps = VSW_STAT_GET(c->sleeps);
	out->wakeups = VSW_STAT_GET(c->wakeups);
	out->core = sw->workers[w].core;
	return 0;
}
