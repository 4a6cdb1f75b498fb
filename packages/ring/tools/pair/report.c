/* SPDX-License-Identifier: MIT */
/*
 * vring-pair: the parent's output. One JSON object per line on stdout,
 * flushed per line; the parent reads the stats page and the ring header
 * with relaxed loads (statistics, not synchronisation).
 *
 *   {"type":"progress", t_ms, packets, sent, bytes, ring_used, kicks, sleeps}
 *   {"type":"result", ...}   exactly once, at the end of a run that finished
 *   {"type":"error", "error", producer, consumer, ring}  stall or peer failure
 *
 * Rates use the consumer's packets over the time from the earlier start
 * (both peers start after a barrier) to the consumer's end. Gb/s counts
 * packet bytes only (as the spsc baseline does). Cycles are time-stamp
 * counter cycles (tsc_cycles_per_packet; tsc_ghz says how fast it ticks);
 * ns_per_packet is wall time per packet.
 */
#include <stdio.h>
#include <sys/wait.h>

#include "report.h"

static const char *const drop_names[VRING_VERDICT_COUNT] = {
	[VRING_OK] = "ok",
	[VRING_DROP_HEAD] = "head",
	[VRING_DROP_CUR] = "cur",
	[VRING_DROP_BUF_IDX] = "buf_idx",
	[VRING_DROP_LEN_ZERO] = "len_zero",
	[VRING_DROP_LEN_SHORT] = "len_short",
	[VRING_DROP_LEN_LONG] = "len_long",
	[VRING_DROP_FLAGS] = "flags",
	[VRING_DROP_OFFLOAD] = "offload",
};

/* A private snapshot of one counters block. */
static void snap(const struct pair_counters *shared, struct pair_counters *c)
{
	unsigned i;

	c->packets = PAIR_LOAD(shared->packets);
	c->bytes = PAIR_LOAD(shared->bytes);
	c->batches = PAIR_LOAD(shared->batches);
	c->kicks = PAIR_LOAD(shared->kicks);
	c->sleeps = PAIR_LOAD(shared->sleeps);
	c->spurious = PAIR_LOAD(shared->spurious);
	c->lost_wakeups = PAIR_LOAD(shared->lost_wakeups);
	c->timeouts = PAIR_LOAD(shared->timeouts);
	c->lost = PAIR_LOAD(shared->lost);
	c->dup_or_reordered = PAIR_LOAD(shared->dup_or_reordered);
	c->corrupt = PAIR_LOAD(shared->corrupt);
	c->random_sleeps = PAIR_LOAD(shared->random_sleeps);
	c->t_start_ns = PAIR_LOAD(shared->t_start_ns);
	c->t_end_ns = PAIR_LOAD(shared->t_end_ns);
	c->tsc_start = PAIR_LOAD(shared->tsc_start);
	c->tsc_end = PAIR_LOAD(shared->tsc_end);
	for (i = 0; i < VRING_VERDICT_COUNT; i++)
		c->drops[i] = PAIR_LOAD(shared->drops[i]);
}

static uint64_t drops_total(const struct pair_counters *c)
{
	uint64_t t = 0;
	unsigned i;

	for (i = 1; i < VRING_VERDICT_COUNT; i++)
		t += c->drops[i];
	return t;
}

static void print_side(const char *name, const struct pair_counters *c)
{
	printf("\"%s\":{\"packets\":%llu,\"bytes\":%llu,\"batches\":%llu,\"avg_batch\":%.2f,"
	       "\"kicks\":%llu,\"sleeps\":%llu,\"spurious\":%llu,\"lost_wakeups\":%llu,"
	       "\"timeouts\":%llu,\"random_sleeps\":%llu,\"drops\":%llu}",
	       name, (unsigned long long)c->packets, (unsigned long long)c->bytes,
	       (unsigned long long)c->batches, c->batches ? (double)c->packets / (double)c->batches : 0.0,
	       (unsigned long long)c->kicks, (unsigned long long)c->sleeps, (unsigned long long)c->spurious,
	       (unsigned long long)c->lost_wakeups, (unsigned long long)c->timeouts,
	       (unsigned long long)c->random_sleeps, (unsigned long long)drops_total(c));
}

static void print_ring(const struct vring_hdr *h)
{
	printf("\"ring\":{\"head\":%u,\"cur\":%u,\"tail\":%u,\"fe_need_kick\":%u,\"be_need_kick\":%u}",
	       PAIR_LOAD(h->head), PAIR_LOAD(h->cur), PAIR_LOAD(h->tail), PAIR_LOAD(h->fe_need_kick),
	       PAIR_LOAD(h->be_need_kick));
}

static void print_cpu(const char *name, int cpu)
{
	if (cpu == PAIR_NO_CPU)
		printf("\"%s\":null", name);
	else
		printf("\"%s\":%d", name, cpu);
}

uint32_t pair_ring_used(const struct pair_opts *o, const struct vring_hdr *h)
{
	uint32_t mask = o->slots - 1;
	uint32_t head = PAIR_LOAD(h->head) & mask, tail = PAIR_LOAD(h->tail) & mask;

	/* TX: the guest owns [head, tail) = free slots; RX: [head, tail) = packets */
	return o->dir == PAIR_DIR_TX ? mask - vring_dist(head, tail, mask) : vring_dist(head, tail, mask);
}

void pair_report_progress(const struct pair_opts *o, const struct pair_stats *st, const struct vring_hdr *h,
			  uint64_t t_ms)
{
	const struct pair_counters *p = &st->ctr[PAIR_PRODUCER], *c = &st->ctr[PAIR_CONSUMER];

	printf("{\"type\":\"progress\",\"t_ms\":%llu,\"packets\":%llu,\"sent\":%llu,\"bytes\":%llu,"
	       "\"ring_used\":%u,\"kicks\":%llu,\"sleeps\":%llu}\n",
	       (unsigned long long)t_ms, (unsigned long long)PAIR_LOAD(c->packets),
	       (unsigned long long)PAIR_LOAD(p->packets), (unsigned long long)PAIR_LOAD(c->bytes),
	       pair_ring_used(o, h), (unsigned long long)(PAIR_LOAD(p->kicks) + PAIR_LOAD(c->kicks)),
	       (unsigned long long)(PAIR_LOAD(p->sleeps) + PAIR_LOAD(c->sleeps)));
	fflush(stdout);
}

static int exited_zero(const struct pair_outcome *out, int role)
{
	return out->exited[role] && WIFEXITED(out->status[role]) && WEXITSTATUS(out->status[role]) == 0;
}

int pair_report_result(const struct pair_opts *o, const struct pair_stats *st, const struct pair_outcome *out)
{
	struct pair_counters p, c;
	const struct pair_counters *be;
	uint64_t t0, tsc0, sent = PAIR_LOAD(st->ctl[PAIR_PRODUCER].sent), lost_wakeups;
	double secs, ns_pp, tsc_pp = 0, tsc_ghz = 0;
	unsigned i;
	int ok;

	snap(&st->ctr[PAIR_PRODUCER], &p);
	snap(&st->ctr[PAIR_CONSUMER], &c);
	be = o->dir == PAIR_DIR_TX ? &c : &p;
	t0 = p.t_start_ns < c.t_start_ns ? p.t_start_ns : c.t_start_ns;
	tsc0 = p.tsc_start < c.tsc_start ? p.tsc_start : c.tsc_start;
	secs = c.t_end_ns > t0 ? (double)(c.t_end_ns - t0) / 1e9 : 0;
	ns_pp = c.packets ? secs * 1e9 / (double)c.packets : 0;
	if (c.tsc_end > tsc0 && c.packets) {
		tsc_pp = (double)(c.tsc_end - tsc0) / (double)c.packets;
		tsc_ghz = secs > 0 ? (double)(c.tsc_end - tsc0) / secs / 1e9 : 0;
	}
	lost_wakeups = p.lost_wakeups + c.lost_wakeups;
	ok = c.lost == 0 && c.dup_or_reordered == 0 && c.corrupt == 0 && c.packets == sent && lost_wakeups == 0 &&
	     drops_total(be) == 0 && exited_zero(out, PAIR_PRODUCER) && exited_zero(out, PAIR_CONSUMER);

	printf("{\"type\":\"result\",\"ok\":%s,\"dir\":\"%s\",\"wait\":\"%s\",\"verify\":%s,\"len\":%u,"
	       "\"burst\":%u,\"slots\":%u,\"buf_size\":%u,",
	       ok ? "true" : "false", pair_dir_name(o->dir), pair_wait_name(o->wait), o->verify ? "true" : "false",
	       o->len, o->burst, o->slots, o->buf_size);
	printf("\"packets\":%llu,\"sent\":%llu,\"bytes\":%llu,\"seconds\":%.6f,\"mpps\":%.4f,\"gbps\":%.4f,"
	       "\"avg_batch\":%.2f,\"ns_per_packet\":%.3f,",
	       (unsigned long long)c.packets, (unsigned long long)sent, (unsigned long long)c.bytes, secs,
	       secs > 0 ? (double)c.packets / secs / 1e6 : 0.0, secs > 0 ? (double)c.bytes * 8 / secs / 1e9 : 0.0,
	       c.batches ? (double)c.packets / (double)c.batches : 0.0, ns_pp);
	if (tsc_pp > 0)
		printf("\"tsc_cycles_per_packet\":%.2f,\"tsc_ghz\":%.3f,", tsc_pp, tsc_ghz);
	else
		printf("\"tsc_cycles_per_packet\":null,\"tsc_ghz\":null,");
	printf("\"lost\":%llu,\"dup_or_reordered\":%llu,\"corrupt\":%llu,\"lost_wakeups\":%llu,",
	       (unsigned long long)c.lost, (unsigned long long)c.dup_or_reordered, (unsigned long long)c.corrupt,
	       (unsigned long long)lost_wakeups);
	printf("\"drops_by_reason\":{");
	for (i = 1; i < VRING_VERDICT_COUNT; i++)
		printf("%s\"%s\":%llu", i > 1 ? "," : "", drop_names[i], (unsigned long long)be->drops[i]);
	printf("},");
	print_cpu("cpu_producer", o->cpu_producer);
	printf(",");
	print_cpu("cpu_consumer", o->cpu_consumer);
	printf(",");
	print_side("producer", &p);
	printf(",");
	print_side("consumer", &c);
	printf("}\n");
	fflush(stdout);
	return ok;
}

void pair_report_error(const struct pair_opts *o, const struct pair_stats *st, const struct vring_hdr *h,
		       const char *what)
{
	struct pair_counters p, c;

	snap(&st->ctr[PAIR_PRODUCER], &p);
	snap(&st->ctr[PAIR_CONSUMER], &c);
	printf("{\"type\":\"error\",\"error\":\"%s\",\"dir\":\"%s\",\"wait\":\"%s\",\"ring_used\":%u,", what,
	       pair_dir_name(o->dir), pair_wait_name(o->wait), pair_ring_used(o, h));
	print_side("producer", &p);
	printf(",");
	print_side("consumer", &c);
	printf(",");
	print_ring(h);
	printf("}\n");
	fflush(stdout);
}
