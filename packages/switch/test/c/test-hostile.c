/* SPDX-License-Identifier: MIT */
/*
 * test-hostile.c - the hostile-guest harness (standalone C, ASan + UBSan).
 *
 * Two honest ports, A and B (MAC-locked guest ports, lossless), exchange
 * checksummed frames stamped with their writer's flow id and sequence
 * number, unicast and every 16th frame broadcast, each from its own thread.
 * Meanwhile a third port H is driven by two hostile threads writing its
 * shared memory concurrently with the switch's workers:
 *   - the ring writer stores boundary and random values into H's TX and RX
 *     head and cur and into its slots (len, buf_idx, flags, offload word),
 *     and now and then hands over well-formed slots so packets do pass
 *     validation;
 *   - the buffer racer rewrites H's whole pool without pause: valid frames
 *     from H's own MAC to A and B, frames that spoof A's and B's MACs,
 *     tagged frames, random bytes, so a header can change between any two
 *     reads the switch makes of it.
 * Every region is mapped between PROT_NONE guard pages and the pools carry
 * canary bytes at both ends (harness.c).
 *
 * Pass: A and B receive the other's whole flow intact, in order, once;
 * every frame they receive carries A's, B's or H's source MAC (MAC lock
 * cannot be slipped past by rewriting the buffer); the canaries are
 * intact; every error is counted on H and none on A or B.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "vpio/tap.h"

#define FLOW_FRAMES 20000u
#define NS 1000000000ull

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static struct tport A, B, H;
static volatile int stop_hostile;

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct honest {
	struct tport *me, *peer;
	uint32_t flow;
	uint32_t sent, got, bad, foreign_src, from_h;
	int done;
};

static void *honest_main(void *arg)
{
	struct honest *h = arg;
	static __thread uint8_t out[64 * 2048];
	uint8_t f[2048];
	uint16_t lens[64];
	uint64_t end = mono_ms() + 30000;

	while ((h->sent < FLOW_FRAMES || h->got < FLOW_FRAMES) && mono_ms() < end) {
		uint32_t k, n;

		for (k = 0; k < 32 && h->sent < FLOW_FRAMES; k++) {
			const uint8_t *dst = h->sent % 16 == 15 ? BCAST : h->peer->mac;
			uint16_t len = tp_frame(f, dst, h->me->mac, -1, h->flow, h->sent, (uint16_t)(60 + h->sent % 1400));

			if (!tport_send(h->me, f, len))
				break;
			h->sent++;
		}
		n = tport_recv(h->me, out, lens, 64);
		for (k = 0; k < n; k++) {
			const uint8_t *fr = out + (uint64_t)k * 2048;
			uint32_t flow, seq;

			if (memcmp(fr + 6, H.mac, 6) == 0) {
				h->from_h++; /* H's own frames may arrive (its MAC passes the lock): not checked */
				continue;
			}
			if (memcmp(fr + 6, h->peer->mac, 6) != 0) {
				h->foreign_src++;
				continue;
			}
			if (!tp_frame_check(fr, lens[k], &flow, &seq) || flow != h->peer->id + 1 || seq != h->got) {
				h->bad++;
				continue;
			}
			h->got++;
		}
		if (!n && !k)
			sched_yield();
	}
	h->done = 1;
	return NULL;
}

static uint32_t pick32(unsigned *seed, uint32_t lo_hint, uint32_t size)
{
	static const uint32_t fixed[] = { 0, 1, 13, 14, 15, 63, 64, 2047, 2048, 2049, 65535, 65536, 0x7fffffff,
					  0x80000000u, 0xffffffffu };
	uint32_t r = (uint32_t)rand_r(seed);

	switch (r % 5) {
	case 0:
		return fixed[(r >> 8) % (sizeof(fixed) / sizeof(fixed[0]))];
	case 1:
		return lo_hint + ((r >> 8) % 3) - 1; /* around a boundary */
	case 2:
		return size + ((r >> 8) % 3) - 1;
	case 3:
		return (uint32_t)rand_r(seed) ^ ((uint32_t)rand_r(seed) << 16);
	default:
		return (r >> 8) % (size ? size : 1);
	}
}

/* Writes boundary and random values into H's rings while the switch reads them. */
static void *ring_writer(void *arg)
{
	unsigned seed = 1234;
	struct vring_hdr *tx = H.tx.hdr, *rx = H.rx.hdr;
	struct vring_slot *ts = H.tx.slots, *rs = H.rx.slots;
	uint32_t ns = H.tx.num_slots, nb = H.tx.nr_bufs;
	uint64_t ops = 0;

	(void)arg;
	while (!stop_hostile) {
		uint32_t r = (uint32_t)rand_r(&seed), i = r % ns;
		uint32_t tail = VP_READ_ONCE(tx->tail);

		switch ((r >> 12) % 8) {
		case 0:
			VP_WRITE_ONCE(tx->head, pick32(&seed, tail, ns));
			VP_WRITE_ONCE(tx->cur, pick32(&seed, tail, ns));
			break;
		case 1:
			VP_WRITE_ONCE(rx->head, pick32(&seed, VP_READ_ONCE(rx->tail), ns));
			VP_WRITE_ONCE(rx->cur, pick32(&seed, VP_READ_ONCE(rx->tail), ns));
			break;
		case 2:
			VP_WRITE_ONCE(ts[i].len, (uint16_t)pick32(&seed, 14, 2048));
			VP_WRITE_ONCE(ts[i].buf_idx, pick32(&seed, nb, nb));
			VP_WRITE_ONCE(ts[i].flags, (uint16_t)pick32(&seed, 1, 4));
			VP_WRITE_ONCE(ts[i].u.gref, (uint64_t)rand_r(&seed) << 32 | (uint32_t)rand_r(&seed));
			break;
		case 3:
			VP_WRITE_ONCE(rs[i].buf_idx, pick32(&seed, nb, nb));
			VP_WRITE_ONCE(rs[i].len, (uint16_t)rand_r(&seed));
			break;
		default: {
			/* well-formed slots handed over: these pass validation and race the buffer writer */
			uint32_t head = VP_READ_ONCE(tx->head) & (ns - 1), k, n = 1 + r % 16;

			for (k = 0; k < n; k++) {
				struct vring_slot *s = &ts[(head + k) & (ns - 1)];

				VP_WRITE_ONCE(s->buf_idx, (uint32_t)rand_r(&seed) % nb);
				VP_WRITE_ONCE(s->len, (uint16_t)(14 + rand_r(&seed) % (2048 - 14)));
				VP_WRITE_ONCE(s->flags, 0);
			}
			vp_store_release(&tx->head, (head + n) & (ns - 1));
			VP_WRITE_ONCE(tx->cur, (head + n) & (ns - 1));
			/* give RX slots back too, so H is a live destination */
			VP_WRITE_ONCE(rx->head, VP_READ_ONCE(rx->tail));
			VP_WRITE_ONCE(rx->cur, VP_READ_ONCE(rx->tail));
			break;
		}
		}
		if (++ops % 64 == 0)
			sched_yield();
	}
	return NULL;
}

/* Rewrites H's whole pool while the switch copies from it. */
static void *buffer_racer(void *arg)
{
	unsigned seed = 99;
	uint8_t *pool = H.pool_mem;
	uint32_t nb = H.tx.nr_bufs;
	uint64_t ops = 0;

	(void)arg;
	while (!stop_hostile) {
		uint32_t r = (uint32_t)rand_r(&seed), b = r % nb, i;
		uint8_t *buf = pool + (uint64_t)b * 2048;

		switch ((r >> 12) % 5) {
		case 0: /* a valid frame from H to A or B */
			tp_frame(buf, (r & 1) ? A.mac : B.mac, H.mac, -1, 77, r, (uint16_t)(60 + r % 1000));
			break;
		case 1: /* spoofing A or B */
			tp_frame(buf, (r & 1) ? A.mac : BCAST, (r & 2) ? A.mac : B.mac, -1, (r & 2) ? A.id + 1 : B.id + 1, 0, 100);
			break;
		case 2: /* tagged */
			tp_frame(buf, BCAST, H.mac, (int)(r % 4096), 77, r, 100);
			break;
		case 3: /* flip the source MAC back and forth while the switch may be reading it */
			for (i = 0; i < 64; i++) {
				memcpy(buf + 6, (i & 1) ? A.mac : H.mac, 6);
				__atomic_signal_fence(__ATOMIC_SEQ_CST);
			}
			break;
		default:
			for (i = 0; i < 2048; i += 4) {
				uint32_t v = (uint32_t)rand_r(&seed);

				memcpy(buf + i, &v, 4);
			}
			break;
		}
		if (++ops % 256 == 0)
			sched_yield();
	}
	return NULL;
}

static void t_hostile(void)
{
	struct vsw_config c = { .n_workers = 2, .mode = VSW_MODE_POLL };
	struct vsw *sw = NULL;
	struct tport_opts honest0 = { .flags = VSW_PORT_MAC_LOCK | VSW_PORT_LOSSLESS, .worker = 0, .slots = 256 },
			  honest1 = { .flags = VSW_PORT_MAC_LOCK | VSW_PORT_LOSSLESS, .worker = 1, .slots = 256 },
			  hostile = { .flags = VSW_PORT_MAC_LOCK, .worker = 1, .slots = 256 };
	struct honest ha, hb;
	pthread_t ta, tb, tw, tr;
	struct vsw_port_stats sa, sb, sh;
	uint64_t herr = 0;
	unsigned r;

	CHECK_EQ(vsw_create(&c, &sw), 0);
	CHECK_EQ(tport_open(&A, sw, 1, &honest0), 0);
	CHECK_EQ(tport_open(&B, sw, 2, &honest1), 0);
	CHECK_EQ(tport_open(&H, sw, 3, &hostile), 0);
	/* ids are 0, 1, 2; flow ids are id + 1 */
	ha = (struct honest){ .me = &A, .peer = &B, .flow = A.id + 1 };
	hb = (struct honest){ .me = &B, .peer = &A, .flow = B.id + 1 };
	pthread_create(&tw, NULL, ring_writer, NULL);
	pthread_create(&tr, NULL, buffer_racer, NULL);
	pthread_create(&ta, NULL, honest_main, &ha);
	pthread_create(&tb, NULL, honest_main, &hb);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	stop_hostile = 1;
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);

	CHECK_EQ(ha.got, FLOW_FRAMES);
	CHECK_EQ(hb.got, FLOW_FRAMES);
	CHECK_EQ(ha.bad + hb.bad, 0);
	CHECK_EQ(ha.foreign_src + hb.foreign_src, 0);
	printf("# frames from H that reached A/B: %u/%u\n", ha.from_h, hb.from_h);
	CHECK(tport_canaries_ok(&A) && tport_canaries_ok(&B) && tport_canaries_ok(&H));

	CHECK_EQ(vsw_port_stats(sw, A.id, &sa), 0);
	CHECK_EQ(vsw_port_stats(sw, B.id, &sb), 0);
	CHECK_EQ(vsw_port_stats(sw, H.id, &sh), 0);
	for (r = 1; r < VSW_DROP_COUNT; r++) {
		if (sa.drops[r] || sb.drops[r])
			printf("# honest port drop %s: A %llu B %llu\n", vsw_drop_name(r), (unsigned long long)sa.drops[r],
			       (unsigned long long)sb.drops[r]);
		CHECK_EQ(sa.drops[r] + sb.drops[r], 0);
		herr += sh.drops[r];
		if (sh.drops[r])
			printf("# H %s: %llu\n", vsw_drop_name(r), (unsigned long long)sh.drops[r]);
	}
	CHECK(herr > 1000);
	CHECK(sh.drops[VSW_DROP_HEAD] > 0);
	CHECK(sh.drops[VSW_DROP_MAC_LOCK] > 0);
	CHECK(sh.drops[VSW_DROP_BUF_IDX] + sh.drops[VSW_DROP_LEN_LONG] + sh.drops[VSW_DROP_FLAGS] > 0);
	CHECK_EQ(sa.macs, 1);
	CHECK_EQ(sb.macs, 1);
	CHECK(sh.macs <= 1);
	CHECK_EQ(vsw_port_remove(sw, H.id), 0);
	vsw_destroy(sw);
	tport_close(&A, 0);
	tport_close(&B, 0);
	tport_close(&H, 0);
}

int main(void)
{
	tap_run("hostile guest: honest traffic intact, canaries intact, errors counted on the hostile port only",
		t_hostile);
	return tap_done();
}
