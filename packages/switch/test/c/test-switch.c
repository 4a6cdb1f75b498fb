/* SPDX-License-Identifier: MIT */
/*
 * test-switch.c - correctness of the switch's C core, under ASan + UBSan.
 * Most cases run without worker threads through vsw_poll_once() and a
 * manual clock, so every step is deterministic; the lease, event and
 * detach cases run real worker threads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "vpio/tap.h"

static uint64_t clk; /* the manual clock of the deterministic cases */
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MCAST[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
#define NS 1000000000ull

static struct vsw_port_stats st(struct tport *t)
{
	struct vsw_port_stats s;

	CHECK_EQ(vsw_port_stats(t->sw, t->id, &s), 0);
	return s;
}

static uint32_t poll_all(struct vsw *sw)
{
	int n, total = 0;

	while ((n = vsw_poll_once(sw)) > 0)
		total += n;
	CHECK(n == 0);
	return (uint32_t)total;
}

static void t_create_errors(void)
{
	struct vsw_config c = { .n_workers = VSW_MAX_WORKERS + 1 };
	struct vsw *sw = NULL;
	int cores[1] = { -5 };

	CHECK_EQ(vsw_create(&c, &sw), -VP_EINVAL);
	c.n_workers = 1;
	c.cores = cores;
	CHECK_EQ(vsw_create(&c, &sw), -VP_EINVAL);
	c.n_workers = 0;
	c.cores = NULL;
	c.mac_entries = 1000;
	CHECK_EQ(vsw_create(&c, &sw), -VP_EINVAL);
	c.mac_entries = 0;
	c.clock = vsw_clock_manual;
	CHECK_EQ(vsw_create(&c, &sw), -VP_EINVAL);
	vsw_destroy(NULL);
}

static void t_port_errors(void)
{
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	struct tport a;
	struct vsw_port_config c;
	uint32_t id;
	uint16_t bad_vid = 4095;

	CHECK_EQ(tport_open(&a, sw, 1, NULL), 0);
	c = a.cfg;
	c.tx_slots = 100;
	CHECK_EQ(vsw_port_add(sw, &c, &id), -VP_EINVAL);
	c = a.cfg;
	c.pool_bytes -= 1;
	CHECK_EQ(vsw_port_add(sw, &c, &id), -VP_ERANGE);
	c = a.cfg;
	c.rx_ring_bytes = 100;
	CHECK_EQ(vsw_port_add(sw, &c, &id), -VP_ERANGE);
	c = a.cfg;
	c.features = VRING_FEAT_KNOWN << 1; /* an unknown feature */
	CHECK_EQ(vsw_port_add(sw, &c, &id), -VP_EINVAL);
	c = a.cfg;
	c.access_vid = 0;
	CHECK_EQ(vsw_port_add(sw, &c, &id), -VP_EINVAL);
	c = a.cfg;
	c.vlan_mode = VSW_VLAN_TRUNK;
	c.trunk_vids = &bad_vid;
	c.n_trunk_vids = 1;
	CHECK_EQ(vsw_port_add(sw, &c, &id), -VP_EINVAL);
	c = a.cfg;
	c.worker = 3;
	CHECK_EQ(vsw_port_add(sw, &c, &id), -VP_EINVAL);
	CHECK_EQ(vsw_port_remove(sw, 200), -VP_ENOENT);
	CHECK_EQ(vsw_port_remove(sw, 9999), -VP_ENOENT);
	tport_close(&a, 1);
	CHECK_EQ(vsw_port_remove(sw, a.id), -VP_ENOENT);
	vsw_destroy(sw);
}

static void t_learning(void)
{
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	struct tport a, b, c;

	CHECK_EQ(tport_open(&a, sw, 1, NULL), 0);
	CHECK_EQ(tport_open(&b, sw, 2, NULL), 0);
	CHECK_EQ(tport_open(&c, sw, 3, NULL), 0);
	/* unknown unicast floods */
	CHECK_EQ(tport_send_n(&a, b.mac, 1, 1, 0), 1);
	CHECK_EQ(poll_all(sw), 1);
	CHECK_EQ(tport_drain(&b), 1);
	CHECK_EQ(tport_drain(&c), 1);
	CHECK_EQ(tport_drain(&a), 0);
	/* b answers: a is known, only a gets it */
	CHECK_EQ(tport_send_n(&b, a.mac, 1, 2, 0), 1);
	poll_all(sw);
	CHECK_EQ(tport_drain(&a), 1);
	CHECK_EQ(tport_drain(&c), 0);
	/* now both are known */
	CHECK_EQ(tport_send_n(&a, b.mac, 5, 1, 1), 5);
	poll_all(sw);
	CHECK_EQ(tport_drain(&b), 5);
	CHECK_EQ(tport_drain(&c), 0);
	CHECK_EQ(st(&a).learned, 1);
	CHECK_EQ(st(&a).macs, 1);
	CHECK_EQ(st(&a).flooded, 1);
	CHECK_EQ(st(&b).flooded, 0);
	tport_close(&a, 1);
	tport_close(&b, 1);
	tport_close(&c, 1);
	vsw_destroy(sw);
}

static void t_flooding(void)
{
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	struct tport p[4];
	uint8_t f[2048];
	int i;

	for (i = 0; i < 4; i++)
		CHECK_EQ(tport_open(&p[i], sw, (uint32_t)i + 1, NULL), 0);
	CHECK_EQ(tport_send_n(&p[0], BCAST, 3, 1, 0), 3);
	CHECK_EQ(tport_send(&p[0], f, tp_frame(f, MCAST, p[0].mac, -1, 1, 3, 80)), 1);
	poll_all(sw);
	CHECK_EQ(tport_drain(&p[0]), 0);
	for (i = 1; i < 4; i++)
		CHECK_EQ(tport_drain(&p[i]), 4);
	CHECK_EQ(st(&p[0]).flooded, 4);
	CHECK_EQ(st(&p[0]).fwd_pairs, 12);
	for (i = 0; i < 4; i++)
		tport_close(&p[i], 1);
	vsw_destroy(sw);
}

static void t_aging(void)
{
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	struct tport a, b, c;

	CHECK_EQ(tport_open(&a, sw, 1, NULL), 0);
	CHECK_EQ(tport_open(&b, sw, 2, NULL), 0);
	CHECK_EQ(tport_open(&c, sw, 3, NULL), 0);
	tport_send_n(&a, BCAST, 1, 1, 0);
	poll_all(sw);
	tport_drain(&b);
	tport_drain(&c);
	clk += 299 * NS; /* still known */
	tport_send_n(&b, a.mac, 1, 2, 0);
	poll_all(sw);
	CHECK_EQ(tport_drain(&a), 1);
	CHECK_EQ(tport_drain(&c), 0);
	clk += 2 * NS; /* 301 s since a last sent: aged out, floods again */
	tport_send_n(&b, a.mac, 1, 2, 1);
	poll_all(sw);
	CHECK_EQ(tport_drain(&a), 1);
	CHECK_EQ(tport_drain(&c), 1);
	/* the sweep gives the cap back */
	clk += 400 * NS;
	poll_all(sw);
	vsw_poll_once(sw);
	CHECK_EQ(st(&a).macs, 0);
	tport_close(&a, 1);
	tport_close(&b, 1);
	tport_close(&c, 1);
	vsw_destroy(sw);
}

static void t_mac_move(void)
{
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	struct tport a, b, c;
	uint8_t f[2048], m[6];

	tp_mac(m, 77);
	CHECK_EQ(tport_open(&a, sw, 1, NULL), 0);
	CHECK_EQ(tport_open(&b, sw, 2, NULL), 0);
	CHECK_EQ(tport_open(&c, sw, 3, NULL), 0);
	tport_send(&a, f, tp_frame(f, BCAST, m, -1, 1, 0, 64)); /* m lives behind a */
	poll_all(sw);
	tport_drain(&b);
	tport_drain(&c);
	tport_send_n(&c, m, 1, 3, 0);
	poll_all(sw);
	CHECK_EQ(tport_drain(&a), 1);
	CHECK_EQ(tport_drain(&b), 0);
	tport_send(&b, f, tp_frame(f, BCAST, m, -1, 2, 0, 64)); /* m moved behind b */
	poll_all(sw);
	tport_drain(&a);
	tport_drain(&c);
	tport_send_n(&c, m, 1, 3, 1);
	poll_all(sw);
	CHECK_EQ(tport_drain(&a), 0);
	CHECK_EQ(tport_drain(&b), 1);
	CHECK_EQ(st(&b).mac_moves, 1);
	CHECK_EQ(st(&a).macs, 0);
	CHECK_EQ(st(&b).macs, 1);
	tport_close(&a, 1);
	tport_close(&b, 1);
	tport_close(&c, 1);
	vsw_destroy(sw);
}

/* The per-round lookup caches: a MAC that moves inside one batch is followed from the next packet on. */
static void t_mac_move_in_batch(void)
{
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	struct tport a, b, c;
	uint8_t f[2048], mb[6];

	CHECK_EQ(tport_open(&a, sw, 1, NULL), 0);
	CHECK_EQ(tport_open(&b, sw, 2, NULL), 0);
	CHECK_EQ(tport_open(&c, sw, 3, NULL), 0);
	memcpy(mb, b.mac, 6);
	tport_send(&b, f, tp_frame(f, BCAST, mb, -1, 1, 0, 64)); /* b's MAC lives behind b */
	poll_all(sw);
	tport_drain(&a);
	tport_drain(&c);
	/* one batch from a: to b's MAC, then from b's MAC (it moves behind a), then to it again, twice */
	tport_send(&a, f, tp_frame(f, mb, a.mac, -1, 2, 0, 64));
	tport_send(&a, f, tp_frame(f, BCAST, mb, -1, 2, 1, 64));
	tport_send(&a, f, tp_frame(f, mb, a.mac, -1, 2, 2, 64));
	tport_send(&a, f, tp_frame(f, mb, a.mac, -1, 2, 3, 64));
	CHECK_EQ(vsw_poll_once(sw), 4);
	CHECK_EQ(tport_drain(&b), 2); /* the first unicast and the broadcast */
	CHECK_EQ(tport_drain(&c), 1); /* the broadcast */
	CHECK_EQ(st(&a).mac_moves, 1);
	CHECK_EQ(st(&a).drops[VSW_DROP_NO_DEST], 2); /* now addressed to a's own port */
	CHECK_EQ(st(&a).learned, 1);                  /* a's own MAC, once for the batch */
	tport_close(&a, 1);
	tport_close(&b, 1);
	tport_close(&c, 1);
	vsw_destroy(sw);
}

static void t_mac_cap(void)
{
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	struct tport a, b, s;
	struct tport_opts so = { .max_macs = 16 };
	uint8_t f[2048], m[6];
	uint32_t i;

	CHECK_EQ(tport_open(&a, sw, 1, NULL), 0);
	CHECK_EQ(tport_open(&b, sw, 2, NULL), 0);
	CHECK_EQ(tport_open(&s, sw, 3, &so), 0);
	tport_send_n(&b, BCAST, 1, 2, 0); /* b is known */
	poll_all(sw);
	tport_drain(&a);
	tport_drain(&s);
	/* s sprays 20000 source MACs (more than the whole table) */
	for (i = 0; i < 20000; i++) {
		tp_mac(m, 0x100000 + i);
		if (!tport_send(&s, f, tp_frame(f, a.mac, m, -1, 3, i, 64))) {
			poll_all(sw);
			tport_drain(&a);
			tport_send(&s, f, tp_frame(f, a.mac, m, -1, 3, i, 64));
		}
	}
	poll_all(sw);
	tport_drain(&a);
	tport_drain(&b);
	CHECK_EQ(st(&s).macs, 16);
	CHECK(st(&s).learn_refused >= 20000 - 16);
	/* a's unicast to b still goes to b only; a learns too */
	tport_send_n(&a, b.mac, 10, 1, 0);
	poll_all(sw);
	CHECK_EQ(tport_drain(&b), 10);
	CHECK_EQ(tport_drain(&s), 0);
	tport_send_n(&b, a.mac, 3, 2, 1);
	poll_all(sw);
	CHECK_EQ(tport_drain(&a), 3);
	CHECK_EQ(tport_drain(&s), 0);
	tport_close(&a, 1);
	tport_close(&b, 1);
	tport_close(&s, 1);
	vsw_destroy(sw);
}

static void t_vlan(void)
{
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	static const uint16_t vids[2] = { 10, 20 };
	struct tport_opts o10 = { .access_vid = 10 }, o20 = { .access_vid = 20 },
			  ot = { .vlan_mode = VSW_VLAN_TRUNK, .trunk_vids = vids, .n_trunk_vids = 2 };
	struct tport a, b, t;
	uint8_t f[2048], out[4 * 2048];
	uint16_t lens[4];
	uint32_t flow, seq;

	CHECK_EQ(tport_open(&a, sw, 1, &o10), 0);
	CHECK_EQ(tport_open(&b, sw, 2, &o20), 0);
	CHECK_EQ(tport_open(&t, sw, 3, &ot), 0);
	tport_send_n(&a, BCAST, 1, 1, 0);
	poll_all(sw);
	CHECK_EQ(tport_drain(&b), 0);
	CHECK_EQ(tport_recv(&t, out, lens, 4), 1);
	CHECK(out[12] == 0x81 && out[13] == 0 && out[15] == 10); /* tagged with a's vid */
	CHECK(tp_frame_check(out, lens[0], &flow, &seq) && flow == 1);
	/* trunk -> vid 20 reaches b untagged, not a */
	tport_send(&t, f, tp_frame(f, BCAST, t.mac, 20, 3, 0, 100));
	poll_all(sw);
	CHECK_EQ(tport_drain(&a), 0);
	CHECK_EQ(tport_recv(&b, out, lens, 4), 1);
	CHECK(out[12] == 0x88 && lens[0] == 96);
	CHECK(tp_frame_check(out, lens[0], &flow, &seq) && flow == 3);
	/* a tagged frame on an access port, an untagged one on a trunk without native vid, a vid not allowed */
	tport_send(&a, f, tp_frame(f, BCAST, a.mac, 10, 1, 1, 100));
	tport_send(&t, f, tp_frame(f, BCAST, t.mac, -1, 3, 1, 100));
	tport_send(&t, f, tp_frame(f, BCAST, t.mac, 30, 3, 2, 100));
	poll_all(sw);
	CHECK_EQ(tport_drain(&a) + tport_drain(&b) + tport_drain(&t), 0);
	CHECK_EQ(st(&a).drops[VSW_DROP_VLAN], 1);
	CHECK_EQ(st(&t).drops[VSW_DROP_VLAN], 2);
	/* the same MAC on two VLANs is two entries */
	CHECK_EQ(st(&t).macs, 1);
	tport_close(&a, 1);
	tport_close(&b, 1);
	tport_close(&t, 1);
	vsw_destroy(sw);
}

static void t_mac_lock(void)
{
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	struct tport_opts lk = { .flags = VSW_PORT_MAC_LOCK };
	struct tport a, b;
	uint8_t f[2048], m[6];

	tp_mac(m, 99);
	CHECK_EQ(tport_open(&a, sw, 1, &lk), 0);
	CHECK_EQ(tport_open(&b, sw, 2, NULL), 0);
	tport_send(&a, f, tp_frame(f, BCAST, m, -1, 1, 0, 64));
	tport_send(&a, f, tp_frame(f, BCAST, b.mac, -1, 1, 1, 64));
	tport_send_n(&a, BCAST, 1, 1, 2);
	poll_all(sw);
	CHECK_EQ(tport_drain(&b), 1);
	CHECK_EQ(st(&a).drops[VSW_DROP_MAC_LOCK], 2);
	CHECK_EQ(st(&a).macs, 1); /* only its own MAC was learned */
	tport_close(&a, 1);
	tport_close(&b, 1);
	vsw_destroy(sw);
}

static void t_rate_limit(void)
{
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	struct tport_opts rl = { .rate_pps = 10 }, rb = { .rate_bps = 8 * 1000, .burst_bytes = 1000 };
	struct tport a, b, c;
	uint8_t f[2048];
	int i;

	CHECK_EQ(tport_open(&a, sw, 1, &rl), 0);
	CHECK_EQ(tport_open(&b, sw, 2, NULL), 0);
	CHECK_EQ(tport_open(&c, sw, 3, &rb), 0);
	CHECK_EQ(tport_send_n(&a, b.mac, 30, 1, 0), 30);
	poll_all(sw);
	CHECK_EQ(tport_drain(&b), 10);
	CHECK_EQ(st(&a).drops[VSW_DROP_RATE_LIMIT], 20);
	clk += NS / 2; /* half a second: 5 more */
	tport_send_n(&a, b.mac, 30, 1, 30);
	poll_all(sw);
	CHECK_EQ(tport_drain(&b), 5);
	/* bytes: 1000-byte bucket, 100-byte frames: 10 pass */
	for (i = 0; i < 20; i++)
		tport_send(&c, f, tp_frame(f, b.mac, c.mac, -1, 3, (uint32_t)i, 100));
	poll_all(sw);
	CHECK_EQ(tport_drain(&b), 10);
	CHECK_EQ(st(&c).drops[VSW_DROP_RATE_LIMIT], 10);
	tport_close(&a, 1);
	tport_close(&b, 1);
	tport_close(&c, 1);
	vsw_destroy(sw);
}

static void t_flood_limit(void)
{
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	struct tport_opts fl = { .flood_pps = 5 };
	struct tport a, b;

	CHECK_EQ(tport_open(&a, sw, 1, &fl), 0);
	CHECK_EQ(tport_open(&b, sw, 2, NULL), 0);
	tport_send_n(&a, BCAST, 20, 1, 0);
	poll_all(sw);
	CHECK_EQ(tport_drain(&b), 5);
	CHECK_EQ(st(&a).drops[VSW_DROP_FLOOD_LIMIT], 15);
	/* known unicast is not limited */
	tport_send_n(&b, a.mac, 1, 2, 0);
	poll_all(sw);
	tport_drain(&a);
	tport_send_n(&a, b.mac, 20, 1, 20);
	poll_all(sw);
	CHECK_EQ(tport_drain(&b), 20);
	tport_close(&a, 1);
	tport_close(&b, 1);
	vsw_destroy(sw);
}

static void t_ring_full_drops(void)
{
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	struct tport a, b;

	CHECK_EQ(tport_open(&a, sw, 1, NULL), 0);
	CHECK_EQ(tport_open(&b, sw, 2, NULL), 0);
	tport_send_n(&b, BCAST, 1, 2, 0);
	poll_all(sw);
	tport_drain(&a);
	CHECK_EQ(tport_send_n(&a, b.mac, 63, 1, 0), 63);
	poll_all(sw);
	CHECK_EQ(tport_send_n(&a, b.mac, 10, 1, 63), 10);
	poll_all(sw);
	CHECK_EQ(st(&b).out_packets, 63);
	CHECK_EQ(st(&b).drops[VSW_DROP_RING_FULL], 10);
	CHECK_EQ(tport_drain(&b), 63);
	CHECK_EQ(st(&a).drops[VSW_DROP_RING_FULL], 0);
	tport_close(&a, 1);
	tport_close(&b, 1);
	vsw_destroy(sw);
}

static void t_lossless(void)
{
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	struct tport_opts ll = { .flags = VSW_PORT_LOSSLESS };
	struct tport a, l, c, d;
	uint8_t out[64 * 2048];
	uint16_t lens[64];
	uint32_t sent = 0, got = 0, round, i, flow, seq, cd = 0;

	CHECK_EQ(tport_open(&a, sw, 1, NULL), 0);
	CHECK_EQ(tport_open(&l, sw, 2, &ll), 0);
	CHECK_EQ(tport_open(&c, sw, 3, NULL), 0);
	CHECK_EQ(tport_open(&d, sw, 4, NULL), 0);
	tport_send_n(&l, BCAST, 1, 2, 0);
	tport_send_n(&d, BCAST, 1, 4, 0);
	poll_all(sw);
	tport_drain(&a);
	tport_drain(&c);
	tport_drain(&d);
	tport_drain(&l);
	/* l never drains for a while: a's packets stay in a's TX ring; c -> d is unaffected */
	for (round = 0; round < 10; round++) {
		sent += tport_send_n(&a, l.mac, 63, 1, sent);
		cd += tport_send_n(&c, d.mac, 50, 3, round * 50);
		poll_all(sw);
		CHECK_EQ(tport_drain(&d), 50);
	}
	CHECK_EQ(cd, 500);
	CHECK_EQ(st(&l).out_packets, 64); /* and d's broadcast */
	CHECK_EQ(sent, 126); /* 63 delivered, 63 held in a's TX ring */
	CHECK(st(&a).held >= 1);
	CHECK_EQ(st(&l).drops[VSW_DROP_RING_FULL], 0);
	/* l drains: everything arrives, in order, once */
	for (round = 0; round < 20 && got < 1000; round++) {
		uint32_t n = tport_recv(&l, out, lens, 64);

		for (i = 0; i < n; i++) {
			CHECK(tp_frame_check(out + (uint64_t)i * 2048, lens[i], &flow, &seq));
			CHECK_EQ(seq, got);
			got++;
		}
		sent += tport_send_n(&a, l.mac, 1000 - sent < 63 ? 1000 - sent : 63, 1, sent);
		poll_all(sw);
	}
	while ((i = tport_recv(&l, out, lens, 64)) > 0 || sent < 1000) {
		uint32_t k;

		for (k = 0; k < i; k++) {
			CHECK(tp_frame_check(out + (uint64_t)k * 2048, lens[k], &flow, &seq));
			CHECK_EQ(seq, got);
			got++;
		}
		sent += tport_send_n(&a, l.mac, 1000 - sent < 63 ? 1000 - sent : 63, 1, sent);
		poll_all(sw);
	}
	CHECK_EQ(got, 1000);
	CHECK_EQ(st(&a).in_packets, 1000);
	CHECK_EQ(st(&l).out_packets, 1001);
	tport_close(&a, 1);
	tport_close(&l, 1);
	tport_close(&c, 1);
	tport_close(&d, 1);
	vsw_destroy(sw);
}

static void t_ring_verdicts(void)
{
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	struct tport a, b;
	struct vring_slot *s;
	uint32_t h;

	CHECK_EQ(tport_open(&a, sw, 1, NULL), 0);
	CHECK_EQ(tport_open(&b, sw, 2, NULL), 0);
	s = a.tx.slots;
	h = a.tx.head;
	/* five bad slots, written by hand, then one good */
	s[h].len = 3000; s[h].buf_idx = 0; s[h].flags = 0;
	s[h + 1].len = 10; s[h + 1].buf_idx = 1; s[h + 1].flags = 0;
	s[h + 2].len = 0; s[h + 2].buf_idx = 2; s[h + 2].flags = 0;
	s[h + 3].len = 60; s[h + 3].buf_idx = 9999; s[h + 3].flags = 0;
	s[h + 4].len = 60; s[h + 4].buf_idx = 4; s[h + 4].flags = VRING_F_MORE;
	a.tx.head = h + 5;
	vring_fe_publish_nokick(&a.tx);
	tport_send_n(&a, BCAST, 1, 1, 0);
	poll_all(sw);
	CHECK_EQ(tport_drain(&b), 1);
	CHECK_EQ(st(&a).drops[VSW_DROP_LEN_LONG], 1);
	CHECK_EQ(st(&a).drops[VSW_DROP_LEN_SHORT], 1);
	CHECK_EQ(st(&a).drops[VSW_DROP_LEN_ZERO], 1);
	CHECK_EQ(st(&a).drops[VSW_DROP_BUF_IDX], 1);
	CHECK_EQ(st(&a).drops[VSW_DROP_FLAGS], 1);
	CHECK_EQ(st(&a).in_packets, 6);
	/* a head outside the window: counted, nothing consumed */
	VP_WRITE_ONCE(a.tx.hdr->head, 1000);
	vsw_poll_once(sw);
	CHECK_EQ(st(&a).drops[VSW_DROP_HEAD], 1);
	CHECK_EQ(st(&a).in_packets, 6);
	CHECK_EQ(st(&b).drops[VSW_DROP_HEAD], 0);
	tport_close(&a, 1);
	tport_close(&b, 1);
	vsw_destroy(sw);
}

/* Random mixed traffic: every packet and every (packet, destination) pair is accounted for. */
static void t_counters_add_up(void)
{
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	struct tport p[5];
	struct tport_opts o[5] = { { 0 }, { .flags = VSW_PORT_MAC_LOCK, .flood_pps = 50 }, { .rate_pps = 200 },
				   { .flags = VSW_PORT_LOSSLESS }, { .access_vid = 7 } };
	uint32_t i, r, k;
	uint64_t in = 0, src_drops = 0, fwd = 0, pairs = 0, dst_side = 0, delivered = 0;
	unsigned seed = 7;

	for (i = 0; i < 5; i++)
		CHECK_EQ(tport_open(&p[i], sw, i + 1, &o[i]), 0);
	for (r = 0; r < 200; r++) {
		for (i = 0; i < 5; i++) {
			uint32_t n = (uint32_t)rand_r(&seed) % 20;

			for (k = 0; k < n; k++) {
				uint8_t f[2048], m[6];
				uint32_t to = (uint32_t)rand_r(&seed) % 7;
				const uint8_t *dst = to == 5 ? BCAST : to == 6 ? MCAST : p[to].mac;

				tp_mac(m, rand_r(&seed) % 8 ? i + 1 : 500 + (uint32_t)rand_r(&seed) % 3);
				tport_send(&p[i], f, tp_frame(f, dst, m, -1, i, r, (uint16_t)(60 + rand_r(&seed) % 1400)));
			}
			if (rand_r(&seed) % 3)
				delivered += tport_drain(&p[(uint32_t)rand_r(&seed) % 5]);
		}
		vsw_poll_once(sw);
		clk += NS / 100;
	}
	for (i = 0; i < 5; i++)
		delivered += tport_drain(&p[i]);
	poll_all(sw);
	for (i = 0; i < 5; i++)
		delivered += tport_drain(&p[i]);
	for (i = 0; i < 5; i++) {
		struct vsw_port_stats s = st(&p[i]);

		in += s.in_packets;
		fwd += s.fwd_packets;
		pairs += s.fwd_pairs;
		dst_side += s.out_packets + s.drops[VSW_DROP_RING_FULL];
		for (k = 1; k < VSW_DROP_COUNT; k++)
			if (k != VSW_DROP_RING_FULL && k != VSW_DROP_HEAD && k != VSW_DROP_CUR)
				src_drops += s.drops[k];
	}
	CHECK(in > 1000);
	CHECK_EQ(in, src_drops + fwd);
	CHECK_EQ(pairs, dst_side);
	CHECK(pairs >= fwd);
	{
		uint64_t out = 0;

		for (i = 0; i < 5; i++)
			out += st(&p[i]).out_packets;
		CHECK_EQ(out, delivered);
	}
	for (i = 0; i < 5; i++)
		tport_close(&p[i], 1);
	vsw_destroy(sw);
}

/* ---- threads ---- */

struct sender {
	struct tport *tp;
	const uint8_t *dst;
	uint32_t flow, n;
	volatile int *stop;
};

static void *send_main(void *arg)
{
	struct sender *s = arg;
	uint32_t seq = 0;

	while (seq < s->n && !*s->stop) {
		uint32_t k = tport_send_n(s->tp, s->dst, s->n - seq < 32 ? s->n - seq : 32, s->flow, seq);

		seq += k;
		if (!k)
			sched_yield();
	}
	s->n = seq;
	return NULL;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Receives until each flow has its count; checks per flow: nothing lost, duplicated or reordered. */
static int recv_flows(struct tport *t, uint32_t nflows, const uint32_t *want, uint32_t timeout_ms, int *bad)
{
	static uint8_t out[64 * 2048];
	uint16_t lens[64];
	uint32_t next[8] = { 0 }, i, done = 0;
	uint64_t end = mono_ms() + timeout_ms;

	while (done < nflows && mono_ms() < end) {
		uint32_t n = tport_recv(t, out, lens, 64), flow, seq;

		for (i = 0; i < n; i++) {
			if (!tp_frame_check(out + (uint64_t)i * 2048, lens[i], &flow, &seq)) {
				(*bad)++;
				continue;
			}
			if (flow >= nflows)
				continue; /* another sender's flow, not checked here */
			if (seq != next[flow]) {
				(*bad)++;
				continue;
			}
			if (++next[flow] == want[flow])
				done++;
		}
		if (!n)
			sched_yield();
	}
	return done == nflows;
}

static void t_leases_two_workers(void)
{
	struct vsw_config c = { .n_workers = 2, .mode = VSW_MODE_POLL, .aging_ns = 300 * NS };
	struct vsw *sw = NULL;
	struct tport_opts w0 = { .worker = 0 }, w1 = { .worker = 1 }, dl = { .worker = 0, .flags = VSW_PORT_LOSSLESS, .slots = 256 };
	struct tport a, b, d;
	volatile int stop = 0;
	struct sender sa, sb;
	pthread_t ta, tb;
	uint32_t want[2] = { 20000, 20000 };
	int bad = 0;
	struct vsw_worker_stats ws;

	CHECK_EQ(vsw_create(&c, &sw), 0);
	CHECK_EQ(tport_open(&a, sw, 1, &w0), 0);
	CHECK_EQ(tport_open(&b, sw, 2, &w1), 0);
	CHECK_EQ(tport_open(&d, sw, 3, &dl), 0);
	/* d announces itself so a and b send unicast to it */
	tport_send_n(&d, BCAST, 1, 9, 0);
	usleep(20000);
	tport_drain(&a);
	tport_drain(&b);
	sa = (struct sender){ &a, d.mac, 0, want[0], &stop };
	sb = (struct sender){ &b, d.mac, 1, want[1], &stop };
	pthread_create(&ta, NULL, send_main, &sa);
	pthread_create(&tb, NULL, send_main, &sb);
	CHECK(recv_flows(&d, 2, want, 20000, &bad));
	CHECK_EQ(bad, 0);
	stop = 1;
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	CHECK_EQ(st(&d).out_packets, 40000);
	CHECK_EQ(st(&d).drops[VSW_DROP_RING_FULL], 0);
	CHECK_EQ(vsw_worker_stats(sw, 0, &ws), 0);
	CHECK(ws.packets > 0 && ws.batches > 0);
	CHECK_EQ(vsw_worker_stats(sw, 1, &ws), 0);
	CHECK(ws.packets >= 20000);
	vsw_destroy(sw);
	tport_close(&a, 0);
	tport_close(&b, 0);
	tport_close(&d, 0);
}

static void t_event_mode(void)
{
	int cores[1] = { 0 };
	struct vsw_config c = { .n_workers = 1, .cores = cores, .mode = VSW_MODE_EVENT };
	struct vsw *sw = NULL;
	struct tport_opts ev = { .events = 1 };
	struct tport a, b;
	struct vsw_worker_stats ws;
	uint32_t want[1] = { 5000 }, sent = 0;
	int bad = 0, i;
	uint8_t byte;

	CHECK_EQ(vsw_create(&c, &sw), 0);
	CHECK_EQ(tport_open(&a, sw, 1, &ev), 0);
	CHECK_EQ(tport_open(&b, sw, 2, &ev), 0);
	/* the worker goes to sleep (waited for: under load its thread may not run for a while) */
	for (i = 0; i < 500; i++) {
		CHECK_EQ(vsw_worker_stats(sw, 0, &ws), 0);
		if (ws.sleeps >= 1)
			break;
		usleep(10000);
	}
	CHECK(ws.sleeps >= 1);
	CHECK_EQ(ws.core, 0);
	/* b arms its RX kick, a sends one frame and kicks: b is woken through its channel */
	vring_fe_prepare_sleep(&b.rx);
	tport_send_n(&a, BCAST, 1, 0, 0);
	for (i = 0; i < 200 && read(b.chan_rx[1], &byte, 1) != 1; i++)
		usleep(5000);
	CHECK(i < 200);
	vring_fe_woken(&b.rx);
	CHECK_EQ(tport_drain(&b), 1);
	/* a stream with kicks */
	while (sent < want[0]) {
		uint32_t n = tport_send_n(&a, BCAST, want[0] - sent < 32 ? want[0] - sent : 32, 0, sent + 1);

		sent += n;
		if (sent < want[0])
			want[0] = want[0]; /* keep going */
		{
			uint32_t dummy[1] = { 0 };
			(void)dummy;
		}
		tport_drain(&b);
		if (!n)
			usleep(100);
	}
	usleep(20000);
	tport_drain(&b);
	CHECK_EQ(st(&a).in_packets, 5001);
	CHECK_EQ(bad, 0);
	vsw_destroy(sw);
	tport_close(&a, 0);
	tport_close(&b, 0);
}

struct receiver {
	struct tport *tp;
	uint32_t want;
	int ok, bad;
};

static void *recv_main(void *arg)
{
	struct receiver *r = arg;

	r->ok = recv_flows(r->tp, 1, &r->want, 20000, &r->bad);
	return NULL;
}

/* A port attached and detached over and over while two others forward: no crash, no corruption. */
static void t_detach_under_load(void)
{
	struct vsw_config c = { .n_workers = 2, .mode = VSW_MODE_POLL };
	struct vsw *sw = NULL;
	struct tport_opts w0 = { .worker = 0 }, w1 = { .worker = 1, .flags = VSW_PORT_LOSSLESS };
	struct tport a, b, x;
	volatile int stop = 0;
	struct sender sa;
	struct receiver rb;
	pthread_t ta, tr;
	uint32_t i;
	uint64_t end;

	CHECK_EQ(vsw_create(&c, &sw), 0);
	CHECK_EQ(tport_open(&a, sw, 1, &w0), 0);
	CHECK_EQ(tport_open(&b, sw, 2, &w1), 0);
	/* a floods (broadcast), so every attached x is a destination too; b is lossless: it misses nothing */
	sa = (struct sender){ &a, BCAST, 0, 30000, &stop };
	rb = (struct receiver){ &b, 30000, 0, 0 };
	pthread_create(&tr, NULL, recv_main, &rb);
	pthread_create(&ta, NULL, send_main, &sa);
	end = mono_ms() + 5000;
	for (i = 0; i < 300 && mono_ms() < end; i++) {
		struct tport_opts xo = { .worker = (int)(i & 1) };

		CHECK_EQ(tport_open(&x, sw, 100 + i, &xo), 0);
		tport_send_n(&x, BCAST, 5, 7, 0); /* x is a source too */
		usleep(100);
		tport_drain(&x);
		CHECK(tport_canaries_ok(&x));
		tport_close(&x, 1); /* detach, then unmap at once: a use after detach would fault */
	}
	pthread_join(tr, NULL);
	stop = 1;
	pthread_join(ta, NULL);
	CHECK(rb.ok);
	CHECK_EQ(rb.bad, 0);
	CHECK(i >= 50);
	CHECK(tport_canaries_ok(&a) && tport_canaries_ok(&b));
	vsw_destroy(sw);
	tport_close(&a, 0);
	tport_close(&b, 0);
}

int main(void)
{
	tap_run("rejects bad switch configurations", t_create_errors);
	tap_run("rejects bad port configurations and unknown ids", t_port_errors);
	tap_run("learns source MACs and forwards known unicast to one port", t_learning);
	tap_run("floods broadcast, multicast and unknown unicast to every other port", t_flooding);
	tap_run("ages MAC entries out with the injected clock", t_aging);
	tap_run("follows a MAC that moves to another port", t_mac_move);
	tap_run("follows a MAC that moves inside one batch (per-round lookup caches)", t_mac_move_in_batch);
	tap_run("caps learned MACs per port: a sprayer cannot make others flood", t_mac_cap);
	tap_run("separates VLANs between access and trunk ports", t_vlan);
	tap_run("drops frames with a foreign source MAC on a MAC-locked port", t_mac_lock);
	tap_run("rate-limits packets and bits per second with the injected clock", t_rate_limit);
	tap_run("limits flooded frames per port, not known unicast", t_flood_limit);
	tap_run("drops and counts on a full destination ring (default mode)", t_ring_full_drops);
	tap_run("lossless: holds packets in the TX ring, loses nothing, does not slow others", t_lossless);
	tap_run("counts every ring verdict on the port that wrote it", t_ring_verdicts);
	tap_run("counters add up per packet and per (packet, destination)", t_counters_add_up);
	tap_run("leases: two workers into one destination lose, duplicate, reorder nothing", t_leases_two_workers);
	tap_run("event mode: workers sleep, wake on kicks and kick guests that asked", t_event_mode);
	tap_run("detach under load never disturbs the other ports", t_detach_under_load);
	return tap_done();
}
