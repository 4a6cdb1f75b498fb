/* SPDX-License-Identifier: MIT */
/*
 * vring-pair: the hot loops. The four ring roles (guest/backend x TX/RX)
 * plug into one producer loop and one consumer loop through struct
 * peer_ops; every packet goes through the ring_fe.h / ring_be.h burst
 * helpers, exactly as netfront and the switch use them.
 *
 * Waiting (--wait event): after --spin empty polls a peer runs the kick
 * protocol of ring.h: prepare_sleep() arms its need_kick word, issues the
 * full barrier and re-checks the ring; only if still nothing to do does it
 * poll() its channel (1 s timeout, a watchdog only: a timeout that finds
 * work is a lost wake-up and is counted). The waker signals after a burst
 * whose helper reported the peer armed. --wait poll never sleeps and never
 * signals.
 */
#include <errno.h>
#include <time.h>

#include "peer.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
uint64_t pair_tsc(void)
{
	return __rdtsc();
}
#else
uint64_t pair_tsc(void)
{
	return 0;
}
#endif

#define WATCHDOG_MS 1000
#define NAP_MAX_NS 200000u
#define CLOCK_EVERY 64u /* loop turns between clock reads (--seconds) */
#define FLUSH_EVERY 256u /* batches between full counter flushes */

/* ------------------------------------------------------------------------ */
/* The four roles                                                           */

static uint32_t fe_tx_burst(struct peer *p, void *const bufs[], uint16_t lens[], uint32_t n, int *kick)
{
	return vring_fe_tx_burst(&p->fe, (const void *const *)bufs, lens, n, kick);
}

static int fe_prepare_sleep(struct peer *p)
{
	return vring_fe_prepare_sleep(&p->fe);
}

static void fe_woken(struct peer *p)
{
	vring_fe_woken(&p->fe);
}

static int fe_has_work(struct peer *p)
{
	return vring_fe_avail(&p->fe) != 0; /* TX: free slots; RX: packets */
}

static uint32_t fe_rx_burst(struct peer *p, void *const bufs[], uint16_t lens[], uint32_t n, int *kick)
{
	return vring_fe_rx_burst(&p->fe, bufs, lens, n, kick);
}

static uint32_t be_tx_burst(struct peer *p, void *const bufs[], uint16_t lens[], uint32_t n, int *kick)
{
	return vring_be_tx_burst(&p->be, bufs, lens, n, p->c.drops, kick);
}

static int be_prepare_sleep(struct peer *p)
{
	return vring_be_prepare_sleep(&p->be);
}

static void be_woken(struct peer *p)
{
	vring_be_woken(&p->be);
}

static int be_tx_has_work(struct peer *p)
{
	uint32_t head;

	return vring_be_read_head(&p->be, &head) == VRING_OK && head != p->be.hwcur;
}

static uint32_t be_rx_burst(struct peer *p, void *const bufs[], uint16_t lens[], uint32_t n, int *kick)
{
	return vring_be_rx_burst(&p->be, (const void *const *)bufs, lens, n, p->c.drops, kick);
}

static int be_rx_has_work(struct peer *p)
{
	uint32_t head;

	if (vring_be_read_head(&p->be, &head) != VRING_OK)
		return 0;
	return vring_dist(p->be.hwtail, (head - 1) & p->be.mask, p->be.mask) != 0;
}

const struct peer_ops pair_ops_fe_tx = { "guest tx", fe_tx_burst, fe_prepare_sleep, fe_woken, fe_has_work };
const struct peer_ops pair_ops_be_tx = { "backend tx", be_tx_burst, be_prepare_sleep, be_woken, be_tx_has_work };
const struct peer_ops pair_ops_be_rx = { "backend rx", be_rx_burst, be_prepare_sleep, be_woken, be_rx_has_work };
const struct peer_ops pair_ops_fe_rx = { "guest rx", fe_rx_burst, fe_prepare_sleep, fe_woken, fe_has_work };

/* ------------------------------------------------------------------------ */
/* Counters, kicks, naps, sleeps                                            */

static void flush_hot(struct peer *p)
{
	PAIR_STORE(p->me->packets, p->c.packets);
	PAIR_STORE(p->me->bytes, p->c.bytes);
	PAIR_STORE(p->me->batches, p->c.batches);
}

void pair_flush_all(struct peer *p)
{
	const struct pair_counters *c = &p->c;
	struct pair_counters *m = p->me;
	unsigned i;

	flush_hot(p);
	PAIR_STORE(m->kicks, c->kicks);
	PAIR_STORE(m->sleeps, c->sleeps);
	PAIR_STORE(m->spurious, c->spurious);
	PAIR_STORE(m->lost_wakeups, c->lost_wakeups);
	PAIR_STORE(m->timeouts, c->timeouts);
	PAIR_STORE(m->lost, c->lost);
	PAIR_STORE(m->dup_or_reordered, c->dup_or_reordered);
	PAIR_STORE(m->corrupt, c->corrupt);
	PAIR_STORE(m->random_sleeps, c->random_sleeps);
	PAIR_STORE(m->t_start_ns, c->t_start_ns);
	PAIR_STORE(m->t_end_ns, c->t_end_ns);
	PAIR_STORE(m->tsc_start, c->tsc_start);
	PAIR_STORE(m->tsc_end, c->tsc_end);
	for (i = 0; i < VRING_VERDICT_COUNT; i++)
		PAIR_STORE(m->drops[i], c->drops[i]);
}

/* One batch moved n packets of `bytes` bytes. */
static void account(struct peer *p, uint32_t n, uint64_t bytes)
{
	p->c.packets += n;
	p->c.bytes += bytes;
	p->c.batches++;
	p->idle = 0;
	if (vp_unlikely(p->c.batches % FLUSH_EVERY == 0))
		pair_flush_all(p);
	else
		flush_hot(p);
}

/* The helper said the other side is armed: signal its channel. */
static int kick(struct peer *p)
{
	int rc;

	if (p->o->wait == PAIR_WAIT_POLL)
		return 0;
	rc = pair_chan_signal(PAIR_FD_KICK);
	if (rc < 0)
		return rc;
	p->c.kicks++; /* a full pipe (rc 0) is already signalled: still a kick */
	PAIR_STORE(p->me->kicks, p->c.kicks);
	return 0;
}

/* With probability prob, sleep a random 0..200 us. */
static void maybe_nap(struct peer *p, double prob)
{
	struct timespec ts = { 0, 0 };

	if (vp_likely(prob <= 0) || !pair_rand_chance(&p->rng, prob))
		return;
	ts.tv_nsec = (long)(pair_rand_next(&p->rng) % (NAP_MAX_NS + 1));
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	p->c.random_sleeps++;
	PAIR_STORE(p->me->random_sleeps, p->c.random_sleeps);
}

/* Nothing moved. Spin, or (event mode, after --spin empty polls) sleep. */
static int idle(struct peer *p)
{
	const struct peer_ops *ops = p->ops;
	int rc;
	long drained;

	if (p->o->wait == PAIR_WAIT_POLL || p->idle < p->o->spin) {
		p->idle++;
		vp_cpu_relax();
		return 0;
	}
	p->idle = 0;
	if (!ops->prepare_sleep(p))
		return 0; /* the re-check after arming found work: the waker may not signal */
	rc = pair_chan_wait(PAIR_FD_WAIT, WATCHDOG_MS);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		p->c.timeouts++;
		if (ops->has_work(p))
			p->c.lost_wakeups++; /* armed, work came, nobody signalled: a bug */
	}
	drained = pair_chan_drain(PAIR_FD_WAIT);
	if (drained < 0)
		return (int)drained;
	ops->woken(p);
	p->c.sleeps++;
	if (rc > 0 && !ops->has_work(p))
		p->c.spurious++;
	pair_flush_all(p);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Producer                                                                 */

struct prod_state {
	uint64_t next_seq;
	uint64_t remaining; /* packets still to stage */
	int dup_done;
};

/* Fill the burst arrays with up to --burst packets. Returns how many. */
static uint32_t stage(struct peer *p, struct prod_state *s)
{
	const struct pair_opts *o = p->o;
	uint32_t k = 0;

	if (!o->verify) { /* bufs[] all point at one prepared source buffer */
		k = s->remaining < o->burst ? (uint32_t)s->remaining : o->burst;
		s->remaining -= k;
		return k;
	}
	while (k < o->burst && s->remaining) {
		uint64_t seq = s->next_seq;
		uint8_t *pkt = p->bufs[k];

		if (vp_unlikely(seq == o->inject_skip)) {
			s->next_seq++; /* never sent: the consumer sees a gap of one */
			continue;
		}
		pair_pay_stamp(pkt, o->len, seq);
		if (vp_unlikely(seq == o->inject_corrupt))
			pkt[o->len - 1] ^= 0x5a; /* after the checksum: must show as corrupt */
		if (vp_unlikely(seq == o->inject_dup && !s->dup_done))
			s->dup_done = 1; /* same seq again next time */
		else
			s->next_seq++;
		k++;
		s->remaining--;
	}
	return k;
}

int pair_produce(struct peer *p)
{
	const struct pair_opts *o = p->o;
	const struct peer_ops *ops = p->ops;
	struct prod_state s = { 0, o->packets, 0 };
	uint64_t deadline = o->seconds > 0 ? p->c.t_start_ns + (uint64_t)(o->seconds * 1e9) : UINT64_MAX;
	uint32_t staged = 0, off = 0, turns = 0;
	int rc;
	/* a polling peer never sleeps: its partner skips the kick check and its barrier */
	int want_kick_slot, *kick_out = o->wait == PAIR_WAIT_POLL ? NULL : &want_kick_slot;

	for (;;) {
		uint32_t n;

		if (off == staged) {
			if (!s.remaining)
				break;
			staged = stage(p, &s);
			off = 0;
			if (!staged)
				break;
		}
		n = ops->burst(p, p->bufs + off, p->lens + off, staged - off, kick_out);
		if (n) {
			off += n;
			account(p, n, (uint64_t)n * o->len);
			if (kick_out && *kick_out && (rc = kick(p)) < 0)
				return rc;
			maybe_nap(p, o->producer_sleep);
		} else if ((rc = idle(p)) < 0) {
			return rc;
		}
		if (vp_unlikely(deadline != UINT64_MAX) && ++turns % CLOCK_EVERY == 0 &&
		    pair_now_ns() >= deadline)
			s.remaining = 0; /* finish the staged batch, stage no more */
	}
	p->c.t_end_ns = pair_now_ns();
	p->c.tsc_end = pair_tsc();
	pair_flush_all(p);
	PAIR_STORE(p->my_ctl->sent, p->c.packets);
	/* pairs with the acquire in consumer_done(): `sent` is final */
	vp_store_release(&p->my_ctl->done, 1u);
	if (o->wait == PAIR_WAIT_EVENT) {
		rc = pair_chan_signal(PAIR_FD_KICK); /* unconditional: a sleeping consumer must see `done` */
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Consumer                                                                 */

static int consumer_done(const struct peer *p)
{
	uint64_t dropped = 0;
	unsigned i;

	if (!vp_load_acquire(&p->their_ctl->done)) /* pairs with the release in pair_produce() */
		return 0;
	for (i = 0; i < VRING_VERDICT_COUNT; i++)
		dropped += p->c.drops[i];
	return p->c.packets + dropped >= PAIR_LOAD(p->their_ctl->sent);
}

/* Check one batch. A corrupt packet stands in for the expected one, so one
 * flipped byte counts once (corrupt), not also as a gap. */
static void verify(struct peer *p, uint32_t n, uint64_t *expect)
{
	const uint32_t len = p->o->len;
	uint64_t bad_before = p->c.lost + p->c.dup_or_reordered + p->c.corrupt;
	uint32_t i;

	for (i = 0; i < n; i++) {
		const uint8_t *pkt = p->bufs[i];
		uint64_t seq;

		if (vp_unlikely(p->lens[i] != len || !pair_pay_intact(pkt, len))) {
			p->c.corrupt++;
			(*expect)++;
			continue;
		}
		seq = pair_pay_seq(pkt);
		if (vp_likely(seq == *expect)) {
			(*expect)++;
		} else if (seq > *expect) {
			p->c.lost += seq - *expect;
			*expect = seq + 1;
		} else {
			p->c.dup_or_reordered++;
		}
	}
	if (vp_unlikely(p->c.lost + p->c.dup_or_reordered + p->c.corrupt != bad_before))
		pair_flush_all(p);
}

int pair_consume(struct peer *p)
{
	const struct pair_opts *o = p->o;
	const struct peer_ops *ops = p->ops;
	uint64_t expect = 0;
	int rc;
	int want_kick_slot, *kick_out = o->wait == PAIR_WAIT_POLL ? NULL : &want_kick_slot;

	for (;;) {
		uint32_t n = ops->burst(p, p->bufs, p->lens, o->burst, kick_out), i;
		uint64_t bytes = 0;

		if (n) {
			for (i = 0; i < n; i++)
				bytes += p->lens[i];
			if (o->verify)
				verify(p, n, &expect);
			account(p, n, bytes);
			if (kick_out && *kick_out && (rc = kick(p)) < 0)
				return rc;
			maybe_nap(p, o->consumer_sleep);
			continue;
		}
		if (consumer_done(p))
			break;
		if ((rc = idle(p)) < 0)
			return rc;
	}
	p->c.t_end_ns = pair_now_ns();
	p->c.tsc_end = pair_tsc();
	pair_flush_all(p);
	return 0;
}
