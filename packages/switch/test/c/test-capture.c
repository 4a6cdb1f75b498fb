/* SPDX-License-Identifier: MIT */
/*
 * test-capture.c - the per-port capture tap, under ASan + UBSan: records
 * match the frames (bytes, lengths, direction), snaplen truncation keeps
 * the original length, a full ring counts drops, and starting, stopping
 * and removing ports while two workers forward never disturbs traffic or
 * touches freed memory.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "vpio/tap.h"

static uint64_t clk;
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
#define NS 1000000000ull
#define REC ((uint32_t)sizeof(struct vsw_cap_rec))

static uint32_t rec_bytes(uint32_t cap_len)
{
	return REC + ((cap_len + VSW_CAP_ALIGN - 1) & ~(VSW_CAP_ALIGN - 1));
}

/* Walks the records in buf[0..n): calls fn on each; returns the count (-1 if malformed). */
typedef void (*rec_fn)(const struct vsw_cap_rec *h, const uint8_t *data, void *ctx);
static int walk(const uint8_t *buf, uint64_t n, rec_fn fn, void *ctx)
{
	uint64_t off = 0;
	int count = 0;

	while (off < n) {
		struct vsw_cap_rec h;

		if (n - off < REC)
			return -1;
		memcpy(&h, buf + off, REC);
		if (off + rec_bytes(h.cap_len) > n || h.cap_len > h.orig_len)
			return -1;
		if (fn)
			fn(&h, buf + off + REC, ctx);
		off += rec_bytes(h.cap_len);
		count++;
	}
	return count;
}

static void t_errors(void)
{
	struct vsw *sw = tp_switch(&clk, 0);
	struct tport a;
	struct vsw_capture *cap = NULL, *cap2 = NULL;
	struct vsw_capture_config c = { .snaplen = 128, .buffer_bytes = 65536, .dirs = VSW_CAP_IN };

	CHECK_EQ(tport_open(&a, sw, 1, NULL), 0);
	CHECK_EQ(vsw_capture_start(sw, 99, &c, &cap), -VP_ENOENT);
	c.snaplen = 0;
	CHECK_EQ(vsw_capture_start(sw, a.id, &c, &cap), -VP_EINVAL);
	c.snaplen = 65536;
	CHECK_EQ(vsw_capture_start(sw, a.id, &c, &cap), -VP_EINVAL);
	c.snaplen = 128;
	c.buffer_bytes = 100;
	CHECK_EQ(vsw_capture_start(sw, a.id, &c, &cap), -VP_EINVAL);
	c.buffer_bytes = 65536;
	c.dirs = 4;
	CHECK_EQ(vsw_capture_start(sw, a.id, &c, &cap), -VP_EINVAL);
	c.dirs = 0;
	CHECK_EQ(vsw_capture_start(sw, a.id, &c, &cap), -VP_EINVAL);
	c.dirs = VSW_CAP_IN;
	CHECK_EQ(vsw_capture_start(sw, a.id, &c, &cap), 0);
	CHECK_EQ(vsw_capture_start(sw, a.id, &c, &cap2), -VP_EBUSY);
	CHECK_EQ(vsw_capture_attached(cap), 1);
	CHECK_EQ(vsw_capture_free(cap), -VP_EBUSY);
	vsw_capture_stop(sw, cap);
	vsw_capture_stop(sw, cap); /* idempotent */
	CHECK_EQ(vsw_capture_attached(cap), 0);
	CHECK_EQ(vsw_capture_free(cap), 0);
	CHECK_EQ(vsw_capture_free(NULL), 0);
	/* the port can be captured again */
	CHECK_EQ(vsw_capture_start(sw, a.id, &c, &cap), 0);
	vsw_capture_stop(sw, cap);
	vsw_capture_free(cap);
	tport_close(&a, 1);
	vsw_destroy(sw);
}

struct expect {
	const uint8_t *frames; /* [n * 2048] */
	const uint16_t *lens;
	uint32_t n, seen, snaplen, bad;
	uint8_t dir;
	uint64_t last_ts;
};

static void check_rec(const struct vsw_cap_rec *h, const uint8_t *data, void *ctx)
{
	struct expect *e = ctx;
	uint32_t k = e->seen++;
	uint32_t want_cap;

	if (k >= e->n || h->dir != e->dir || h->ts_ns < e->last_ts) {
		e->bad++;
		return;
	}
	e->last_ts = h->ts_ns;
	want_cap = e->lens[k] < e->snaplen ? e->lens[k] : e->snaplen;
	if (h->orig_len != e->lens[k] || h->cap_len != want_cap || memcmp(data, e->frames + (uint64_t)k * 2048, want_cap))
		e->bad++;
}

/* Records of one direction only, into e. */
static void split_dir(const struct vsw_cap_rec *h, const uint8_t *data, void *ctx)
{
	struct expect *e = ctx;

	if (h->dir == e[0].dir)
		check_rec(h, data, &e[0]);
	else
		check_rec(h, data, &e[1]);
}

static void t_in_out(void)
{
	struct vsw *sw = tp_switch(&clk, 0);
	struct tport a, b, c;
	struct vsw_capture *cap = NULL;
	struct vsw_capture_config cc = { .snaplen = 60, .buffer_bytes = 1 << 20, .dirs = VSW_CAP_IN | VSW_CAP_OUT };
	static uint8_t sent_a[16 * 2048], sent_b[8 * 2048], got[64 * 2048], buf[1 << 20];
	uint16_t lens_a[16], lens_b[8], glens[64];
	uint64_t n, drops = 99, ts0;
	uint32_t i, nrec = 0;
	struct expect e[2];
	struct timespec now;

	CHECK_EQ(tport_open(&a, sw, 1, NULL), 0);
	CHECK_EQ(tport_open(&b, sw, 2, NULL), 0);
	CHECK_EQ(tport_open(&c, sw, 3, NULL), 0);
	CHECK_EQ(vsw_capture_start(sw, b.id, &cc, &cap), 0);
	clock_gettime(CLOCK_REALTIME, &now);
	ts0 = (uint64_t)now.tv_sec * NS + (uint64_t)now.tv_nsec;
	/* a floods 16 frames of various sizes (b gets them: out); b sends 8 to c's unknown MAC (in) */
	for (i = 0; i < 16; i++) {
		lens_a[i] = tp_frame(sent_a + i * 2048, BCAST, a.mac, -1, 1, i, (uint16_t)(40 + i * 37));
		CHECK_EQ(tport_send(&a, sent_a + i * 2048, lens_a[i]), 1);
	}
	for (i = 0; i < 8; i++) {
		lens_b[i] = tp_frame(sent_b + i * 2048, c.mac, b.mac, -1, 2, i, (uint16_t)(60 + i * 100));
		CHECK_EQ(tport_send(&b, sent_b + i * 2048, lens_b[i]), 1);
	}
	/* a frame that fails ring validation is not captured */
	{
		uint8_t f[2048];
		struct vring_slot *s = &b.tx.slots[b.tx.head & b.tx.mask];
		uint16_t l = tp_frame(f, c.mac, b.mac, -1, 2, 99, 100);

		CHECK_EQ(tport_send(&b, f, l), 1);
		s->len = 5; /* len_short: counted, not captured */
	}
	tp_poll_all(sw);
	CHECK_EQ(tport_recv(&b, got, glens, 64), 16);
	for (i = 0; i < 16; i++)
		CHECK(glens[i] == lens_a[i] && !memcmp(got + i * 2048, sent_a + i * 2048, lens_a[i]));
	CHECK(vsw_capture_pending(cap) > 0);
	n = vsw_capture_read(cap, buf, sizeof(buf), &drops, &nrec);
	CHECK_EQ(nrec, 24);
	CHECK_EQ(drops, 0);
	CHECK_EQ(vsw_capture_pending(cap), 0);
	memset(e, 0, sizeof(e));
	e[0] = (struct expect){ .frames = sent_a, .lens = lens_a, .n = 16, .snaplen = 60, .dir = VSW_CAP_OUT, .last_ts = ts0 };
	e[1] = (struct expect){ .frames = sent_b, .lens = lens_b, .n = 8, .snaplen = 60, .dir = VSW_CAP_IN, .last_ts = ts0 };
	CHECK_EQ(walk(buf, n, split_dir, e), 24);
	CHECK_EQ(e[0].seen, 16);
	CHECK_EQ(e[1].seen, 8);
	CHECK_EQ(e[0].bad + e[1].bad, 0);
	/* a buffer too small for the next record gets nothing, and loses nothing */
	tport_send_n(&a, BCAST, 1, 1, 100);
	tp_poll_all(sw);
	tport_drain(&b);
	CHECK_EQ(vsw_capture_read(cap, buf, REC, NULL, NULL), 0);
	CHECK_EQ(walk(buf, vsw_capture_read(cap, buf, sizeof(buf), NULL, NULL), NULL, NULL), 1);
	/* only "in": delivered frames are no longer captured */
	vsw_capture_stop(sw, cap);
	vsw_capture_free(cap);
	cc.dirs = VSW_CAP_IN;
	cc.snaplen = 65535;
	CHECK_EQ(vsw_capture_start(sw, b.id, &cc, &cap), 0);
	tport_send_n(&a, BCAST, 3, 1, 200);
	tport_send_n(&b, BCAST, 2, 2, 200);
	tp_poll_all(sw);
	tport_drain(&b);
	tport_drain(&c);
	n = vsw_capture_read(cap, buf, sizeof(buf), NULL, &nrec);
	CHECK_EQ(nrec, 2);
	{
		struct vsw_cap_rec h;

		memcpy(&h, buf, REC);
		CHECK_EQ(h.dir, VSW_CAP_IN);
		CHECK_EQ(h.cap_len, h.orig_len); /* snaplen above the frame: whole */
	}
	(void)n;
	vsw_capture_stop(sw, cap);
	vsw_capture_free(cap);
	tport_close(&a, 1);
	tport_close(&b, 1);
	tport_close(&c, 1);
	vsw_destroy(sw);
}

static void t_policy_drops_captured(void)
{
	struct vsw *sw = tp_switch(&clk, 0);
	struct tport_opts locked = { .flags = VSW_PORT_MAC_LOCK };
	struct tport a, b;
	struct vsw_capture *cap = NULL;
	struct vsw_capture_config cc = { .snaplen = 2048, .buffer_bytes = 65536, .dirs = VSW_CAP_IN };
	static uint8_t buf[65536];
	uint8_t f[2048], other[6];
	uint32_t nrec = 0;
	struct vsw_port_stats s;

	CHECK_EQ(tport_open(&a, sw, 1, &locked), 0);
	CHECK_EQ(tport_open(&b, sw, 2, NULL), 0);
	CHECK_EQ(vsw_capture_start(sw, a.id, &cc, &cap), 0);
	tp_mac(other, 77);
	CHECK_EQ(tport_send(&a, f, tp_frame(f, BCAST, other, -1, 1, 0, 100)), 1); /* MAC lock drops it */
	CHECK_EQ(tport_send_n(&a, BCAST, 1, 1, 1), 1);
	tp_poll_all(sw);
	CHECK_EQ(vsw_port_stats(sw, a.id, &s), 0);
	CHECK_EQ(s.drops[VSW_DROP_MAC_LOCK], 1);
	vsw_capture_read(cap, buf, sizeof(buf), NULL, &nrec);
	CHECK_EQ(nrec, 2); /* "in" includes frames policy dropped */
	vsw_capture_stop(sw, cap);
	vsw_capture_free(cap);
	tport_close(&a, 1);
	tport_close(&b, 1);
	vsw_destroy(sw);
}

static void t_drops(void)
{
	struct vsw *sw = tp_switch(&clk, 0);
	struct tport a, b;
	struct vsw_capture *cap = NULL;
	struct vsw_capture_config cc = { .snaplen = 256, .buffer_bytes = VSW_CAP_MIN_BYTES, .dirs = VSW_CAP_OUT };
	static uint8_t buf[1 << 16];
	uint64_t drops = 0;
	uint32_t nrec = 0, fit = VSW_CAP_MIN_BYTES / rec_bytes(200);

	CHECK_EQ(tport_open(&a, sw, 1, NULL), 0);
	CHECK_EQ(tport_open(&b, sw, 2, NULL), 0);
	CHECK_EQ(vsw_capture_start(sw, b.id, &cc, &cap), 0);
	{
		uint8_t f[2048];
		uint32_t i;

		for (i = 0; i < 60; i++)
			CHECK_EQ(tport_send(&a, f, tp_frame(f, BCAST, a.mac, -1, 1, i, 200)), 1);
	}
	tp_poll_all(sw);
	CHECK_EQ(tport_drain(&b), 60); /* the capture never holds traffic back */
	vsw_capture_read(cap, buf, sizeof(buf), &drops, &nrec);
	CHECK_EQ(nrec, fit);
	CHECK_EQ(drops, 60 - fit);
	/* drained: room again */
	tport_send_n(&a, BCAST, 5, 1, 100);
	tp_poll_all(sw);
	tport_drain(&b);
	vsw_capture_read(cap, buf, sizeof(buf), &drops, &nrec);
	CHECK_EQ(nrec, 5);
	CHECK_EQ(drops, 60 - fit);
	vsw_capture_stop(sw, cap);
	vsw_capture_free(cap);
	tport_close(&a, 1);
	tport_close(&b, 1);
	vsw_destroy(sw);
}

static void t_remove_port(void)
{
	struct vsw *sw = tp_switch(&clk, 0);
	struct tport a, b;
	struct vsw_capture *cap = NULL;
	struct vsw_capture_config cc = { .snaplen = 2048, .buffer_bytes = 65536, .dirs = VSW_CAP_OUT };
	static uint8_t buf[65536];
	uint32_t nrec = 0;

	CHECK_EQ(tport_open(&a, sw, 1, NULL), 0);
	CHECK_EQ(tport_open(&b, sw, 2, NULL), 0);
	CHECK_EQ(vsw_capture_start(sw, b.id, &cc, &cap), 0);
	tport_send_n(&a, BCAST, 3, 1, 0);
	tp_poll_all(sw);
	tport_close(&b, 1); /* removed and unmapped while captured */
	CHECK_EQ(vsw_capture_attached(cap), 0);
	vsw_capture_read(cap, buf, sizeof(buf), NULL, &nrec);
	CHECK_EQ(nrec, 3); /* what was captured before stays readable */
	vsw_capture_stop(sw, cap); /* nothing to stop: no port is touched */
	CHECK_EQ(vsw_capture_free(cap), 0);
	/* a capture left on a port when the switch is destroyed is unhooked too */
	CHECK_EQ(vsw_capture_start(sw, a.id, &cc, &cap), 0);
	vsw_destroy(sw);
	CHECK_EQ(vsw_capture_attached(cap), 0);
	CHECK_EQ(vsw_capture_free(cap), 0);
	tport_close(&a, 0);
}

/* ---- threads ---- */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}


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
	return NULL;
}

struct sink {
	struct tport *tp;
	uint32_t want[2];
	uint32_t next[2];
	int bad;
	volatile int *stop;
};

/* Receives flows 0 and 1 in order; other flows (x's broadcasts) are ignored. */
static void *sink_main(void *arg)
{
	static uint8_t out[64 * 2048];
	struct sink *k = arg;
	uint16_t lens[64];
	uint64_t end = mono_ms() + 30000;

	while (!*k->stop && mono_ms() < end && (k->next[0] < k->want[0] || k->next[1] < k->want[1])) {
		uint32_t n = tport_recv(k->tp, out, lens, 64), i, flow, seq;

		for (i = 0; i < n; i++) {
			if (!tp_frame_check(out + (uint64_t)i * 2048, lens[i], &flow, &seq)) {
				k->bad++;
				continue;
			}
			if (flow > 1)
				continue;
			if (seq != k->next[flow])
				k->bad++;
			else
				k->next[flow]++;
		}
		if (!n)
			sched_yield();
	}
	return NULL;
}

static void check_whole(const struct vsw_cap_rec *h, const uint8_t *data, void *ctx)
{
	int *bad = ctx;
	uint32_t flow, seq;

	if (h->cap_len != h->orig_len || !tp_frame_check(data, h->cap_len, &flow, &seq) || h->worker > 1)
		(*bad)++;
}

/*
 * Two workers lease into d (a on worker 0, b on worker 1: d's "out" records
 * come from both); the capture on d is started, read and stopped over and
 * over, and a port x is captured and removed while it sends.
 */
static void t_toggle_under_load(void)
{
	struct vsw_config c = { .n_workers = 2, .mode = VSW_MODE_POLL };
	struct vsw *sw = NULL;
	struct tport_opts w0 = { .worker = 0 }, w1 = { .worker = 1 }, dl = { .worker = 0, .flags = VSW_PORT_LOSSLESS, .slots = 256 };
	struct tport a, b, d, x;
	volatile int stop = 0;
	struct sender sa, sb;
	struct sink sk;
	pthread_t ta, tb, tk;
	static uint8_t buf[1 << 20];
	uint64_t end, captured = 0, drops = 0, workers_seen = 0;
	int bad = 0, i;

	CHECK_EQ(vsw_create(&c, &sw), 0);
	CHECK_EQ(tport_open(&a, sw, 1, &w0), 0);
	CHECK_EQ(tport_open(&b, sw, 2, &w1), 0);
	CHECK_EQ(tport_open(&d, sw, 3, &dl), 0);
	tport_send_n(&d, BCAST, 1, 9, 0);
	usleep(20000);
	tport_drain(&a);
	tport_drain(&b);
	sa = (struct sender){ &a, d.mac, 0, 30000, &stop };
	sb = (struct sender){ &b, d.mac, 1, 30000, &stop };
	sk = (struct sink){ &d, { 30000, 30000 }, { 0, 0 }, 0, &stop };
	pthread_create(&tk, NULL, sink_main, &sk);
	pthread_create(&ta, NULL, send_main, &sa);
	pthread_create(&tb, NULL, send_main, &sb);
	end = mono_ms() + 15000;
	for (i = 0; i < 200 && mono_ms() < end && (sk.next[0] < 30000 || sk.next[1] < 30000); i++) {
		struct vsw_capture *cap = NULL;
		struct vsw_capture_config cc = { .snaplen = 2048, .buffer_bytes = 1 << 18, .dirs = VSW_CAP_IN | VSW_CAP_OUT };
		uint64_t n, dr;
		uint32_t nrec;
		int k;

		CHECK_EQ(vsw_capture_start(sw, d.id, &cc, &cap), 0);
		for (k = 0; k < 3; k++) {
			usleep(300);
			n = vsw_capture_read(cap, buf, sizeof(buf), &dr, &nrec);
			CHECK_EQ(walk(buf, n, check_whole, &bad), (int)nrec);
			captured += nrec;
		}
		vsw_capture_stop(sw, cap);
		n = vsw_capture_read(cap, buf, sizeof(buf), &dr, &nrec); /* what was left */
		CHECK_EQ(walk(buf, n, check_whole, &bad), (int)nrec);
		captured += nrec;
		drops += dr;
		{
			struct vsw_cap_rec h;

			if (n) {
				memcpy(&h, buf, REC);
				workers_seen |= 1u << h.worker;
			}
		}
		CHECK_EQ(vsw_capture_free(cap), 0);
		if (i % 10 == 0) {
			/* a port captured, then removed while it sends and is captured */
			struct tport_opts xo = { .worker = i % 20 ? 1 : 0 };

			CHECK_EQ(tport_open(&x, sw, 100 + (uint32_t)i, &xo), 0);
			CHECK_EQ(vsw_capture_start(sw, x.id, &cc, &cap), 0);
			tport_send_n(&x, BCAST, 8, 7, 0);
			usleep(200);
			tport_close(&x, 1); /* detach and unmap while the capture is on */
			CHECK_EQ(vsw_capture_attached(cap), 0);
			n = vsw_capture_read(cap, buf, sizeof(buf), NULL, &nrec);
			CHECK_EQ(walk(buf, n, check_whole, &bad), (int)nrec);
			vsw_capture_stop(sw, cap);
			CHECK_EQ(vsw_capture_free(cap), 0);
		}
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_join(tk, NULL);
	stop = 1;
	CHECK_EQ(sk.next[0], 30000);
	CHECK_EQ(sk.next[1], 30000);
	CHECK_EQ(sk.bad, 0);
	CHECK_EQ(bad, 0);
	CHECK(captured > 0);
	CHECK(i >= 5);
	printf("# %d rounds, %llu records, %llu dropped, first records from workers mask %llx\n", i,
	       (unsigned long long)captured, (unsigned long long)drops, (unsigned long long)workers_seen);
	vsw_destroy(sw);
	tport_close(&a, 0);
	tport_close(&b, 0);
	tport_close(&d, 0);
}

int main(void)
{
	tap_run("capture: rejects bad configurations, one capture per port, stop is idempotent", t_errors);
	tap_run("capture: records match the frames sent and delivered, snaplen keeps the original length", t_in_out);
	tap_run("capture: \"in\" includes frames policy dropped", t_policy_drops_captured);
	tap_run("capture: a full capture ring counts drops and never holds traffic", t_drops);
	tap_run("capture: removing a captured port (or destroying the switch) unhooks the capture", t_remove_port);
	tap_run("capture: start, read, stop and port removal while two workers forward", t_toggle_under_load);
	return tap_done();
}
