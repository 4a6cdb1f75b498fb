/* SPDX-License-Identifier: MIT */
/*
 * test-group.c - port groups (the queue pairs of a multi-queue vif as one
 * logical port), under ASan + UBSan: membership and errors, the flow hash
 * (IPv4/IPv6 TCP/UDP, fragments, an 802.1Q tag) on deterministic
 * vsw_poll_once() rounds, and members on two workers removed in every
 * order while two senders on two workers keep sending.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "vpio/tap.h"

static uint64_t clk;
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
#define NS 1000000000ull
#define FLEN 128u     /* test frames: Ethernet + IP + L4 + padding, stamp at the end */
#define MAGIC 0x67727075u
#define MAXF 256u     /* flows per case */

static struct vsw_port_stats st(struct tport *t)
{
	struct vsw_port_stats s;

	CHECK_EQ(vsw_port_stats(t->sw, t->id, &s), 0);
	return s;
}

static void put16(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void put32n(uint8_t *b, uint32_t v)
{
	memcpy(b, &v, 4);
}

static uint32_t get32n(const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return v;
}

enum fkind { F_UDP4, F_TCP4, F_TCP6, F_UDP6, F_FRAG4, F_OTHER4, F_UDP4X };

/*
 * A FLEN-byte frame of flow f: [802.1Q vid if vid >= 0], IPv4 or IPv6 from
 * 10.0.0.1 / fd00::1 to 10.0.0.2 / fd00::2, TCP or UDP from port 1000 + f
 * to port 5001; F_FRAG4: an IPv4 UDP fragment (MF, offset f: the ports are
 * then payload bytes); F_OTHER4: IPv4 protocol 47 (no ports); F_UDP4X: UDP
 * from port 1000 + f to 5001 + f (both ports change together). Stamped
 * (magic, flow, seq) in its last 12 bytes.
 */
static uint16_t ip_frame(uint8_t *b, const uint8_t dst[6], const uint8_t src[6], int vid, enum fkind k, uint32_t f,
			 uint32_t seq)
{
	uint32_t l3 = 14;

	memset(b, 0, FLEN);
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	if (vid >= 0) {
		put16(b + 12, 0x8100);
		put16(b + 14, (uint32_t)vid);
		l3 = 18;
	}
	if (k == F_TCP6 || k == F_UDP6) {
		put16(b + l3 - 2, 0x86dd);
		b[l3] = 0x60;
		put16(b + l3 + 4, FLEN - l3 - 40);
		b[l3 + 6] = k == F_TCP6 ? 6 : 17;
		b[l3 + 7] = 64;
		b[l3 + 8] = 0xfd, b[l3 + 23] = 1;
		b[l3 + 24] = 0xfd, b[l3 + 39] = 2;
		put16(b + l3 + 40, 1000 + f);
		put16(b + l3 + 42, 5001);
	} else {
		put16(b + l3 - 2, 0x0800);
		b[l3] = 0x45;
		put16(b + l3 + 2, FLEN - l3);
		if (k == F_FRAG4)
			put16(b + l3 + 6, 0x2000 | f); /* MF, offset f (8-byte units) */
		b[l3 + 8] = 64;
		b[l3 + 9] = k == F_TCP4 ? 6 : k == F_OTHER4 ? 47 : 17;
		b[l3 + 12] = 10, b[l3 + 15] = 1;
		b[l3 + 16] = 10, b[l3 + 19] = 2;
		put16(b + l3 + 20, k == F_FRAG4 ? 7777 + f * 13 : 1000 + f); /* a fragment's "ports" vary too */
		put16(b + l3 + 22, k == F_UDP4X ? 5001 + f : 5001);
	}
	put32n(b + FLEN - 12, MAGIC);
	put32n(b + FLEN - 8, f);
	put32n(b + FLEN - 4, seq);
	return FLEN;
}

#define MAXM 4u
#define SEQS 65536u /* per flow: seqs below this are checked for duplicates */

/*
 * Per flow: the member it last arrived on (-1: none yet), the next seq
 * overall and per member, and the seqs seen. A flow's frames arrive in
 * order on each member and never twice; while the member set stays the
 * same a flow stays on one member (strict). When it changes, flows
 * re-spread (hash % n) and a moved flow's new frames may be read before
 * the old member's leftovers: order is per member, as with any multi-queue
 * NIC whose queues are read independently.
 */
struct flowlog {
	int member[MAXF];
	uint32_t next[MAXF], next_m[MAXF][MAXM];
	uint8_t seen[MAXF][SEQS / 8];
	uint32_t frames, bad;
};

static void flowlog_init(struct flowlog *l)
{
	uint32_t i;

	memset(l, 0, sizeof(*l));
	for (i = 0; i < MAXF; i++)
		l->member[i] = -1;
}

/* Drains member m's RX ring into the log; with strict, a flow seen on two members or out of order overall is bad. */
static uint32_t drain_into(struct tport *t, int m, struct flowlog *l, int strict)
{
	static uint8_t out[64 * 2048];
	uint16_t lens[64];
	uint32_t n, i, total = 0;

	while ((n = tport_recv(t, out, lens, 64)) > 0) {
		for (i = 0; i < n; i++) {
			const uint8_t *b = out + (uint64_t)i * 2048;
			uint32_t f, seq;

			if (lens[i] != FLEN || get32n(b + FLEN - 12) != MAGIC || (f = get32n(b + FLEN - 8)) >= MAXF) {
				l->bad++;
				continue;
			}
			seq = get32n(b + FLEN - 4);
			if (strict && ((l->member[f] >= 0 && l->member[f] != m) || seq < l->next[f]))
				l->bad++; /* another member, or reordered */
			if (seq < l->next_m[f][m])
				l->bad++; /* reordered on this member */
			if (seq < SEQS && (l->seen[f][seq / 8] >> (seq % 8) & 1))
				l->bad++; /* a duplicate, on any member */
			if (seq < SEQS)
				l->seen[f][seq / 8] |= (uint8_t)(1u << (seq % 8));
			l->member[f] = m;
			l->next[f] = seq + 1 > l->next[f] ? seq + 1 : l->next[f];
			l->next_m[f][m] = seq + 1;
			l->frames++;
		}
		total += n;
	}
	return total;
}

static uint32_t poll_all(struct vsw *sw)
{
	int n, total = 0;

	while ((n = vsw_poll_once(sw)) > 0)
		total += n;
	CHECK(n == 0);
	return (uint32_t)total;
}

/* ---- membership ---- */

static void t_membership(void)
{
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	struct tport a, m[VSW_GROUP_MAX], x;
	struct tport_opts join = { .flags = VSW_PORT_GROUP };
	struct vsw_port_config c;
	uint32_t ids[VSW_GROUP_MAX], i, id;

	CHECK_EQ(tport_open(&a, sw, 1, NULL), 0);
	CHECK_EQ(vsw_port_group(sw, a.id, ids, VSW_GROUP_MAX), 1);
	CHECK_EQ(ids[0], a.id);
	CHECK_EQ(st(&a).group, a.id);
	CHECK_EQ(vsw_port_group(sw, 77, ids, VSW_GROUP_MAX), -VP_ENOENT);
	/* joining an unknown port */
	join.group = 77;
	CHECK_EQ(tport_open(&x, sw, 9, &join), -VP_ENOENT);
	tport_close(&x, 0);
	join.group = VSW_MAX_PORTS + 5;
	CHECK_EQ(tport_open(&x, sw, 9, &join), -VP_ENOENT);
	tport_close(&x, 0);
	/* a group of VSW_GROUP_MAX, then one more */
	CHECK_EQ(tport_open(&m[0], sw, 2, NULL), 0);
	join.group = m[0].id;
	for (i = 1; i < VSW_GROUP_MAX; i++) {
		join.group = m[i - 1].id; /* joining through any member */
		CHECK_EQ(tport_open(&m[i], sw, 2, &join), 0);
	}
	CHECK_EQ(vsw_port_group(sw, m[3].id, ids, VSW_GROUP_MAX), (int)VSW_GROUP_MAX);
	for (i = 0; i < VSW_GROUP_MAX; i++) {
		CHECK_EQ(ids[i], m[i].id); /* oldest first */
		CHECK_EQ(st(&m[i]).group, m[0].id);
	}
	c = m[0].cfg;
	c.flags |= VSW_PORT_GROUP;
	c.group = m[5].id;
	CHECK_EQ(vsw_port_add(sw, &c, &id), -VP_EBUSY);
	CHECK_EQ(st(&a).group, a.id); /* untouched */
	/* the id holder leaves: the id moves to the next oldest, for every member */
	tport_close(&m[0], 1);
	CHECK_EQ(vsw_port_group(sw, m[1].id, ids, VSW_GROUP_MAX), (int)VSW_GROUP_MAX - 1);
	for (i = 1; i < VSW_GROUP_MAX; i++)
		CHECK_EQ(st(&m[i]).group, m[1].id);
	/* the freed id is reused by a new port: a group of its own, not the old one */
	CHECK_EQ(tport_open(&x, sw, 3, NULL), 0);
	CHECK_EQ(vsw_port_group(sw, x.id, ids, VSW_GROUP_MAX), 1);
	CHECK_EQ(st(&x).group, x.id);
	/* a new member joins through the old group's current members; a full group has room again */
	join.group = m[4].id;
	CHECK_EQ(tport_open(&m[0], sw, 2, &join), 0);
	CHECK_EQ(st(&m[0]).group, m[1].id);
	CHECK_EQ(vsw_port_group(sw, m[0].id, ids, VSW_GROUP_MAX), (int)VSW_GROUP_MAX);
	CHECK_EQ(ids[VSW_GROUP_MAX - 1], m[0].id);
	for (i = 0; i < VSW_GROUP_MAX; i++)
		tport_close(&m[i], 1);
	tport_close(&x, 1);
	tport_close(&a, 1);
	vsw_destroy(sw);
}

/* ---- the flow hash on deterministic rounds ---- */

/*
 * nf flows of kind k (vid: tagged) from s to a group of n members m[] (MAC
 * of m[0]): every flow arrives on one member, in order, each member gets
 * some, and other ports get none. Returns the members used.
 */
static uint32_t run_flows(struct vsw *sw, struct tport *s, struct tport *m, uint32_t n, struct tport *other, int vid,
			  enum fkind k, uint32_t nf, uint32_t per_flow)
{
	static struct flowlog l;
	uint8_t f[2048];
	uint32_t i, j, q, used = 0, sent = 0, got = 0;

	flowlog_init(&l);
	for (q = 0; q < per_flow; q++) {
		for (i = 0; i < nf; i++) {
			CHECK_EQ(tport_send(s, f, ip_frame(f, m[0].mac, s->mac, vid, k, i, q)), 1);
			if (++sent % 32 == 0)
				poll_all(sw);
			for (j = 0; j < n; j++)
				got += drain_into(&m[j], (int)j, &l, 1);
		}
	}
	poll_all(sw);
	for (j = 0; j < n; j++)
		got += drain_into(&m[j], (int)j, &l, 1);
	CHECK_EQ(got, sent);
	CHECK_EQ(l.bad, 0);
	for (i = 0; i < nf; i++)
		CHECK_EQ(l.next[i], per_flow);
	for (j = 0; j < n; j++) {
		uint32_t flows = 0;

		for (i = 0; i < nf; i++)
			flows += l.member[i] == (int)j;
		used += flows > 0;
	}
	CHECK_EQ(tport_drain(other), 0);
	return used;
}

static void t_flow_hash(void)
{
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	struct tport s, o, m[4];
	struct tport_opts join = { .flags = VSW_PORT_GROUP | VSW_PORT_MAC_LOCK, .slots = 256 };
	struct tport_opts first = { .flags = VSW_PORT_MAC_LOCK, .slots = 256 };
	uint32_t i;

	CHECK_EQ(tport_open(&s, sw, 1, NULL), 0);
	CHECK_EQ(tport_open(&o, sw, 3, NULL), 0);
	CHECK_EQ(tport_open(&m[0], sw, 2, &first), 0);
	join.group = m[0].id;
	for (i = 1; i < 4; i++)
		CHECK_EQ(tport_open(&m[i], sw, 2, &join), 0);
	/* the members' shared MAC is one static entry of the group, counted once */
	CHECK_EQ(st(&m[0]).macs, 1);
	CHECK_EQ(st(&m[3]).macs, 1);
	/* TCP and UDP over IPv4 and IPv6: flows spread over all 4 members */
	CHECK_EQ(run_flows(sw, &s, m, 4, &o, -1, F_UDP4, 64, 3), 4);
	CHECK_EQ(run_flows(sw, &s, m, 4, &o, -1, F_TCP4, 64, 3), 4);
	CHECK_EQ(run_flows(sw, &s, m, 4, &o, -1, F_TCP6, 64, 3), 4);
	CHECK_EQ(run_flows(sw, &s, m, 4, &o, -1, F_UDP6, 64, 3), 4);
	/* both ports changing together (the last mixing round keeps them from cancelling) */
	CHECK_EQ(run_flows(sw, &s, m, 4, &o, -1, F_UDP4X, 64, 3), 4);
	/* IPv4 fragments of one address pair all reach one member, whatever their "ports" */
	CHECK_EQ(run_flows(sw, &s, m, 4, &o, -1, F_FRAG4, 64, 2), 1);
	/* IP without ports: addresses only, one member */
	CHECK_EQ(run_flows(sw, &s, m, 4, &o, -1, F_OTHER4, 64, 2), 1);
	/* no MAC count or move from any of it */
	CHECK_EQ(st(&m[1]).macs, 1);
	for (i = 0; i < 4; i++)
		CHECK_EQ(st(&m[i]).mac_moves, 0);
	for (i = 0; i < 4; i++)
		tport_close(&m[i], 1);
	tport_close(&s, 1);
	tport_close(&o, 1);
	vsw_destroy(sw);
}

/* Tagged frames from a trunk to a trunk group: the hash looks past the 802.1Q tag (else: one member, by MAC). */
static void t_flow_hash_vlan(void)
{
	static const uint16_t vids[1] = { 10 };
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	struct tport s, o, m[2];
	struct tport_opts tr = { .vlan_mode = VSW_VLAN_TRUNK, .trunk_vids = vids, .n_trunk_vids = 1 };
	struct tport_opts trl = tr, trj = tr;

	trl.flags = VSW_PORT_MAC_LOCK;
	trj.flags = VSW_PORT_MAC_LOCK | VSW_PORT_GROUP;
	CHECK_EQ(tport_open(&s, sw, 1, &tr), 0);
	CHECK_EQ(tport_open(&o, sw, 3, &tr), 0);
	CHECK_EQ(tport_open(&m[0], sw, 2, &trl), 0);
	trj.group = m[0].id;
	CHECK_EQ(tport_open(&m[1], sw, 2, &trj), 0);
	CHECK_EQ(run_flows(sw, &s, m, 2, &o, 10, F_UDP4, 64, 2), 2);
	CHECK_EQ(run_flows(sw, &s, m, 2, &o, 10, F_TCP6, 64, 2), 2);
	tport_close(&m[0], 1);
	tport_close(&m[1], 1);
	tport_close(&s, 1);
	tport_close(&o, 1);
	vsw_destroy(sw);
}

/* Broadcast of many flows: one copy per group (on the member the hash picks), every other port one each. */
static void t_flood_once_per_group(void)
{
	struct vsw *sw = tp_switch(&clk, 300 * NS);
	struct tport s, o, m[3];
	struct tport_opts join = { .flags = VSW_PORT_GROUP };
	uint8_t f[2048];
	uint32_t i, j, got = 0, per[3];

	CHECK_EQ(tport_open(&s, sw, 1, NULL), 0);
	CHECK_EQ(tport_open(&o, sw, 3, NULL), 0);
	CHECK_EQ(tport_open(&m[0], sw, 2, NULL), 0);
	join.group = m[0].id;
	CHECK_EQ(tport_open(&m[1], sw, 2, &join), 0);
	CHECK_EQ(tport_open(&m[2], sw, 2, &join), 0);
	for (i = 0; i < 60; i++)
		CHECK_EQ(tport_send(&s, f, ip_frame(f, BCAST, s.mac, -1, F_UDP4, i, 0)), 1);
	poll_all(sw);
	for (j = 0; j < 3; j++)
		got += per[j] = tport_drain(&m[j]);
	CHECK_EQ(got, 60);
	CHECK(per[0] && per[1] && per[2]);
	CHECK_EQ(tport_drain(&o), 60);
	/* a member's broadcast reaches the sender and o, no member of its own group */
	CHECK_EQ(tport_send(&m[1], f, ip_frame(f, BCAST, m[1].mac, -1, F_UDP4, 1, 0)), 1);
	poll_all(sw);
	CHECK_EQ(tport_drain(&s), 1);
	CHECK_EQ(tport_drain(&o), 1);
	for (j = 0; j < 3; j++)
		CHECK_EQ(tport_drain(&m[j]), 0);
	CHECK_EQ(st(&m[1]).fwd_pairs, 2);
	for (j = 0; j < 3; j++)
		tport_close(&m[j], 1);
	tport_close(&s, 1);
	tport_close(&o, 1);
	vsw_destroy(sw);
}

/* ---- members on two workers, removed in every order under load ---- */

struct sender {
	struct tport *tp;
	const uint8_t *dst;
	uint32_t flow0, nflows;
	volatile int *stop;
	uint32_t sent;
};

static void *send_main(void *arg)
{
	struct sender *s = arg;
	uint8_t f[2048];
	uint32_t seq = 0;

	while (!*s->stop) {
		uint32_t i, k = 0;

		for (i = 0; i < s->nflows; i++)
			k += (uint32_t)tport_send(s->tp, f, ip_frame(f, s->dst, s->tp->mac, -1, i % 3 ? F_UDP4 : F_TCP6,
								      s->flow0 + i, seq));
		if (k < s->nflows) { /* full: the rest of this seq is skipped (a gap, never a reorder) */
			sched_yield();
		}
		s->sent += k;
		seq++;
	}
	return NULL;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Drains the present members until at least want frames arrived (or a
 * generous timeout: the machine may be busy, the threads starved); returns
 * the frames.
 */
static uint32_t drain_until(struct tport *m, const int *present, uint32_t n, struct flowlog *l, uint32_t want)
{
	uint64_t end = mono_ms() + 20000;
	uint32_t got = 0, j;

	while (got < want && mono_ms() < end) {
		uint32_t k = 0;

		for (j = 0; j < n; j++)
			if (present[j])
				k += drain_into(&m[j], (int)j, l, 0);
		got += k;
		if (!k)
			usleep(200);
	}
	return got;
}

static void t_remove_every_order(void)
{
	struct vsw_config c = { .n_workers = 2, .mode = VSW_MODE_POLL };
	uint32_t perm[24][4], np = 0, a0, a1, a2, a3, p;

	for (a0 = 0; a0 < 4; a0++)
		for (a1 = 0; a1 < 4; a1++)
			for (a2 = 0; a2 < 4; a2++)
				for (a3 = 0; a3 < 4; a3++)
					if (a0 != a1 && a0 != a2 && a0 != a3 && a1 != a2 && a1 != a3 && a2 != a3) {
						perm[np][0] = a0, perm[np][1] = a1, perm[np][2] = a2, perm[np][3] = a3;
						np++;
					}
	CHECK_EQ(np, 24);
	for (p = 0; p < np; p++) {
		struct vsw *sw = NULL;
		struct tport a, b, o, m[4];
		struct tport_opts s0 = { .worker = 0 }, s1 = { .worker = 1 }, oo = { .worker = 1 };
		volatile int stop = 0;
		struct sender sa, sb;
		pthread_t ta, tb;
		static struct flowlog l;
		int present[4] = { 1, 1, 1, 1 };
		uint32_t j, r, got;
		uint8_t gmac[6]; /* the group's MAC (tport_close() clears a member's copy) */

		CHECK_EQ(vsw_create(&c, &sw), 0);
		CHECK_EQ(tport_open(&a, sw, 1, &s0), 0);
		CHECK_EQ(tport_open(&b, sw, 4, &s1), 0);
		CHECK_EQ(tport_open(&o, sw, 3, &oo), 0);
		for (j = 0; j < 4; j++) { /* lossless, MAC-locked (one static entry), on alternating workers */
			struct tport_opts mo = { .worker = (int)(j & 1), .slots = 256,
						 .flags = VSW_PORT_LOSSLESS | VSW_PORT_MAC_LOCK | (j ? VSW_PORT_GROUP : 0),
						 .group = j ? m[0].id : 0 };

			CHECK_EQ(tport_open(&m[j], sw, 2, &mo), 0);
		}
		flowlog_init(&l);
		memcpy(gmac, m[0].mac, 6);
		sa = (struct sender){ &a, gmac, 0, 24, &stop, 0 };
		sb = (struct sender){ &b, gmac, 100, 24, &stop, 0 };
		pthread_create(&ta, NULL, send_main, &sa);
		pthread_create(&tb, NULL, send_main, &sb);
		CHECK(drain_until(m, present, 4, &l, 1000) >= 1000);
		for (r = 0; r < 4; r++) {
			uint32_t gone = perm[p][r], left = 0;

			drain_into(&m[gone], (int)gone, &l, 0);
			CHECK_EQ(tport_drain(&o), 0); /* unicast to the group never floods */
			tport_close(&m[gone], 1); /* detach, then unmap at once: a use after detach would fault */
			present[gone] = 0;
			for (j = 0; j < 4; j++)
				if (present[j]) {
					uint32_t ids[VSW_GROUP_MAX];
					int n = vsw_port_group(sw, m[j].id, ids, VSW_GROUP_MAX);

					CHECK_EQ(n, (int)(3 - r));
					left++;
				}
			if (left) { /* the remaining members still get the group's traffic */
				got = drain_until(m, present, 4, &l, 500);
				CHECK(got >= 500);
			}
		}
		/* no member left: the group's static entry went with the last one; frames to its MAC flood to o */
		{
			uint64_t end = mono_ms() + 20000;

			while (!tport_drain(&o) && mono_ms() < end)
				usleep(1000);
			CHECK(mono_ms() < end);
		}
		stop = 1;
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		CHECK_EQ(l.bad, 0); /* per flow and member: nothing duplicated or reordered, across the moves */
		CHECK(l.frames > 0);
		CHECK(tport_canaries_ok(&a) && tport_canaries_ok(&b) && tport_canaries_ok(&o));
		vsw_destroy(sw);
		tport_close(&a, 0);
		tport_close(&b, 0);
		tport_close(&o, 0);
	}
}

int main(void)
{
	tap_run("groups: join through any member, ENOENT / EBUSY, members oldest first, the id moves on", t_membership);
	tap_run("groups: each TCP/UDP flow (IPv4, IPv6) on one member in order, spread over all; fragments together",
		t_flow_hash);
	tap_run("groups: the flow hash looks past an 802.1Q tag", t_flow_hash_vlan);
	tap_run("groups: a flooded frame reaches a group once, never the sender's own group", t_flood_once_per_group);
	tap_run("groups: members on two workers removed in all 24 orders under load: traffic reaches the rest",
		t_remove_every_order);
	return tap_done();
}
