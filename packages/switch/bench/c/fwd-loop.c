// SPDX-License-Identifier: MIT
//
// fwd-loop - the same-thread driver: the switch's forwarding round measured
// alone, with no guest process, kick or cross-core traffic. One thread
// plays every guest and calls vsw_poll_once() (the worker's round, on the
// calling thread); rdtsc around each call. Every TX buffer is prefilled
// once (as bench/c/gen.c does), each round hands the freed TX slots back
// and gives every received RX slot back without reading it, so the
// switch's work is what is timed. Sinks are lossless and MAC-locked (their
// MAC is a static entry: unicast from the first frame).
//
//   fwd-loop [ROUNDS] [CASE...]      (pin it: taskset -c 1 fwd-loop)
//
// Cases: "64 1to1", "1500 1to1", "64 1to2" (frames alternate between two
// sinks: the per-round lookup cache misses on every frame), "64 1to-group4"
// (64 UDP flows to one MAC served by a group of 4 ports: the flow hash and
// member choice per frame); "1500 csum 1to1" (a checksum-partial TCP frame,
// offload word on the slot, to a sink that negotiated offloads: the chain /
// offload path), "1500 csum push-ofl" (the same to a trunk sink with offloads:
// tag pushed, csum_start shifted), "1500 csum push-fill" (to a trunk sink
// without offloads: tag pushed, checksum completed by the switch). A case the
// switch does not deliver prints "nothing delivered". Prints one line per case: cycles per packet of
// the median round, of the 10th-percentile round and over all rounds
// (ROUNDS rounds after as many for warm-up; the median and the percentile
// are what a busy shared machine disturbs least: a preempted round is an
// outlier), and packets per round.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include "vpio/ring_be.h"
#include "vpio/ring_fe.h"
#include "vpio/switch.h"

#define SLOTS 1024u
#define BUF 2048u
#define NR_BUFS (2 * SLOTS)
#define MAX_SINKS 4

struct lport {
	void *tx_mem, *rx_mem, *pool;
	struct vring_fe tx, rx;
	struct vsw_port_config cfg;
	uint32_t id;
};

static void die(const char *what, int rc)
{
	fprintf(stderr, "fwd-loop: %s: %d\n", what, rc);
	exit(1);
}

static const uint16_t trunk_vid1[] = { 1 };

static void lport_open(struct lport *p, struct vsw *sw, uint8_t mac_last, uint32_t flags, uint32_t extra_flags,
		       uint32_t group, uint32_t features, int trunk)
{
	struct vring_be be;
	uint64_t rb = vring_ring_bytes(SLOTS);
	int rc;

	memset(p, 0, sizeof(*p));
	p->tx_mem = aligned_alloc(4096, (rb + 4095) & ~4095ull);
	p->rx_mem = aligned_alloc(4096, (rb + 4095) & ~4095ull);
	p->pool = aligned_alloc(4096, (uint64_t)NR_BUFS * BUF);
	if (!p->tx_mem || !p->rx_mem || !p->pool)
		die("alloc", -12);
	if ((rc = vring_be_init(&be, p->tx_mem, (uint32_t)rb, p->pool, VRING_KIND_TX, SLOTS, BUF, NR_BUFS, 0, features)) ||
	    (rc = vring_be_init(&be, p->rx_mem, (uint32_t)rb, p->pool, VRING_KIND_RX, SLOTS, BUF, NR_BUFS, SLOTS, features)) ||
	    (rc = vring_fe_attach(&p->tx, p->tx_mem, rb, p->pool, (uint64_t)NR_BUFS * BUF, VRING_KIND_TX)) ||
	    (rc = vring_fe_attach(&p->rx, p->rx_mem, rb, p->pool, (uint64_t)NR_BUFS * BUF, VRING_KIND_RX)))
		die("ring init", rc);
	p->cfg = (struct vsw_port_config){
		.tx_ring = p->tx_mem, .tx_ring_bytes = rb, .rx_ring = p->rx_mem, .rx_ring_bytes = rb,
		.pool = p->pool, .pool_bytes = (uint64_t)NR_BUFS * BUF,
		.tx_slots = SLOTS, .rx_slots = SLOTS, .buf_size = BUF, .nr_bufs = NR_BUFS,
		.mac = { 0x02, 0, 0, 0, 0, mac_last }, .flags = flags | extra_flags, .vlan_mode = VSW_VLAN_ACCESS,
		.access_vid = 1, .tx_wait_fd = -1, .tx_notify_fd = -1, .rx_wait_fd = -1, .rx_notify_fd = -1, .worker = -1,
	};
	p->cfg.group = group;
	p->cfg.features = features;
	if (trunk) {
		p->cfg.vlan_mode = VSW_VLAN_TRUNK;
		p->cfg.trunk_vids = trunk_vid1;
		p->cfg.n_trunk_vids = 1;
	}
	if ((rc = vsw_port_add(sw, &p->cfg, &p->id)))
		die("vsw_port_add", rc);
}

static void lport_free(struct lport *p)
{
	free(p->tx_mem);
	free(p->rx_mem);
	free(p->pool);
}

/* A 64-byte (or longer) IPv4/UDP frame of flow f to dst. */
static void fill(uint8_t *b, uint32_t len, const uint8_t dst[6], const uint8_t src[6], uint32_t f)
{
	memset(b, 0, len);
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	b[12] = 0x08;
	b[14] = 0x45;
	b[16] = (uint8_t)((len - 14) >> 8);
	b[17] = (uint8_t)(len - 14);
	b[22] = 64;
	b[23] = 17;
	b[26] = 10, b[29] = 1;                              /* 10.0.0.1 */
	b[30] = 10, b[33] = 2;                              /* 10.0.0.2 */
	b[34] = (uint8_t)((1024 + f) >> 8), b[35] = (uint8_t)(1024 + f); /* source port per flow */
	b[36] = 0x13, b[37] = 0x89;                         /* 5001 */
	memset(b + 42, 0x41, len - 42);
}

struct result {
	double median, p10, mean, per_round;
};

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One case: cycles per packet per round (median, 10th percentile, over all) and packets per round. */
static struct result run_case(uint32_t len, uint32_t nsinks, int group, int csum, int trunk, uint32_t sink_feat,
			      uint32_t rounds)
{
	struct vsw_config c = { .n_workers = 0, .mode = VSW_MODE_POLL };
	struct vsw *sw;
	struct lport gen, sink[MAX_SINKS];
	uint8_t dst[MAX_SINKS][6];
	double *cpp = malloc(sizeof(double) * rounds);
	uint64_t pkts_all = 0, cyc_all = 0;
	struct result res;
	uint32_t i, r, k, nr = 0;
	int rc;

	if (!cpp)
		die("alloc", -12);

	if ((rc = vsw_create(&c, &sw)))
		die("vsw_create", rc);
	lport_open(&gen, sw, 1, VSW_PORT_MAC_LOCK, 0, 0, csum ? VRING_FEAT_OFFLOAD : 0, 0);
	for (i = 0; i < nsinks; i++) {
		/* a group's members share their MAC (a multi-queue vif) and join the first one's group */
		lport_open(&sink[i], sw, (uint8_t)(group ? 0x10 : 0x10 + i), VSW_PORT_MAC_LOCK | VSW_PORT_LOSSLESS,
			   group && i > 0 ? VSW_PORT_GROUP : 0, i > 0 ? sink[0].id : 0, sink_feat, trunk);
		memcpy(dst[i], sink[i].cfg.mac, 6);
	}
	for (i = 0; i < SLOTS; i++) {
		struct vring_slot *s = &gen.tx.slots[i];

		fill(vring_fe_buf(&gen.tx, s->buf_idx), len, dst[group ? 0 : i % nsinks], gen.cfg.mac, i % 64);
		s->len = (uint16_t)len;
		s->flags = 0;
		if (csum) { /* TCP, checksum-partial: the pseudo-header sum in the field, as Linux sends it */
			uint8_t *b = vring_fe_buf(&gen.tx, s->buf_idx);

			b[23] = 6;
			b[34 + 12] = 0x50;
			b[34 + 16] = 0x12;
			b[34 + 17] = 0x34;
			s->flags = VRING_F_OFFLOAD;
			s->u.offload = (struct vring_offload){ .csum_start = 34, .csum_offset = 16,
							       .oflags = VRING_OFL_NEEDS_CSUM };
		}
	}
	for (k = 0; k < 2; k++) { /* pass 0 warms up */
		for (r = 0; r < rounds; r++) {
			uint32_t n = vring_fe_avail(&gen.tx);
			uint64_t t0, t1, pkts = 0;
			int got;

			gen.tx.head = (gen.tx.head + n) & gen.tx.mask;
			vring_fe_publish_nokick(&gen.tx);
			t0 = __rdtsc();
			got = vsw_poll_once(sw);
			t1 = __rdtsc();
			if (got < 0)
				die("vsw_poll_once", got);
			for (i = 0; i < nsinks; i++) { /* the sinks give every slot back unread */
				uint32_t a = vring_fe_avail(&sink[i].rx);

				pkts += a;
				sink[i].rx.head = (sink[i].rx.head + a) & sink[i].rx.mask;
				vring_fe_publish_nokick(&sink[i].rx);
			}
			if (k && pkts) {
				cpp[nr++] = (double)(t1 - t0) / (double)pkts;
				pkts_all += pkts;
				cyc_all += t1 - t0;
			}
		}
	}
	if (!nr) {
		res = (struct result){ 0, 0, 0, 0 };
		goto out;
	}
	qsort(cpp, nr, sizeof(cpp[0]), cmp_d);
	res = (struct result){ cpp[nr / 2], cpp[nr / 10], (double)cyc_all / (double)pkts_all, (double)pkts_all / rounds };
out:
	free(cpp);
	vsw_destroy(sw);
	lport_free(&gen);
	for (i = 0; i < nsinks; i++)
		lport_free(&sink[i]);
	return res;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		uint32_t len, nsinks;
		int group, csum, trunk;
		uint32_t sink_feat;
	} cases[] = {
		{ "64 1to1", 64, 1, 0, 0, 0, 0 },
		{ "1500 1to1", 1500, 1, 0, 0, 0, 0 },
		{ "64 1to2", 64, 2, 0, 0, 0, 0 },
		{ "64 1to-group4", 64, 4, 1, 0, 0, 0 },
		{ "1500 csum 1to1", 1500, 1, 0, 1, 0, VRING_FEAT_OFFLOAD },
		{ "1500 csum push-ofl", 1500, 1, 0, 1, 1, VRING_FEAT_OFFLOAD },
		{ "1500 csum push-fill", 1500, 1, 0, 1, 1, 0 },
	};
	uint32_t rounds = argc > 1 ? (uint32_t)atoi(argv[1]) : 2000, i;
	int a;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result res;
		int want = argc <= 2;

		for (a = 2; a < argc; a++)
			want |= strcmp(argv[a], cases[i].name) == 0;
		if (!want)
			continue;
		res = run_case(cases[i].len, cases[i].nsinks, cases[i].group, cases[i].csum, cases[i].trunk,
			       cases[i].sink_feat, rounds);
		if (!res.per_round) {
			printf("%-20s nothing delivered\n", cases[i].name);
			continue;
		}
		printf("%-20s cycles/packet: median %6.1f  p10 %6.1f  all %6.1f   %6.1f packets/round\n", cases[i].name,
		       res.median, res.p10, res.mean, res.per_round);
		fflush(stdout);
	}
	return 0;
}
