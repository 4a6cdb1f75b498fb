/* SPDX-License-Identifier: MIT */
/*
 * test-nf-zc: the zero-copy calls of vpio/netfront_zc.h (TAP, ASan + UBSan).
 *
 * A vif in this process: one pool, a TX and an RX ring set up with the
 * backend's own vring_be_init() (TX slots own buffers [0, S), RX slots
 * [S, 2S), spares after), the guest side attached with vring_fe_attach()
 * exactly as nf_connect() does, and the backend side driven with
 * vring_be_rx_burst()/vring_be_tx_burst(), whose slot validation is the
 * switch's (vring_check_slot). Event-channel ops count notifications.
 */
#include <stdlib.h>
#include <string.h>

#include "vpio/netfront_zc.h"
#include "vpio/ring_be.h"
#include "vpio/tap.h"

#define SLOTS 64u
#define BUF 2048u
#define NBUFS (2 * SLOTS + 8)

struct vif {
	struct nf_dev nf;
	struct vring_be btx, brx;
	void *txr, *rxr;
	uint8_t *pool;
	uint64_t drops[VRING_VERDICT_COUNT];
	int notified[4];
	int pending[4];
};

static int ev_notify(void *ctx, uint32_t port)
{
	((struct vif *)ctx)->notified[port & 3]++;
	return 0;
}

static int ev_wait(void *ctx, uint32_t port, int timeout_ms)
{
	struct vif *v = ctx;

	(void)timeout_ms;
	if (v->pending[port & 3]) {
		v->pending[port & 3] = 0;
		return 1;
	}
	return 0;
}

static void vif_open(struct vif *v, enum nf_mode mode)
{
	memset(v, 0, sizeof(*v));
	v->txr = calloc(1, vring_ring_bytes(SLOTS));
	v->rxr = calloc(1, vring_ring_bytes(SLOTS));
	v->pool = calloc(NBUFS, BUF);
	CHECK_EQ(vring_be_init(&v->btx, v->txr, vring_ring_bytes(SLOTS), v->pool, VRING_KIND_TX, SLOTS, BUF, NBUFS, 0, 0), 0);
	CHECK_EQ(vring_be_init(&v->brx, v->rxr, vring_ring_bytes(SLOTS), v->pool, VRING_KIND_RX, SLOTS, BUF, NBUFS, SLOTS, 0),
		 0);
	CHECK_EQ(vring_fe_attach(&v->nf.tx, v->txr, vring_ring_bytes(SLOTS), v->pool, (uint64_t)NBUFS * BUF, VRING_KIND_TX),
		 0);
	CHECK_EQ(vring_fe_attach(&v->nf.rx, v->rxr, vring_ring_bytes(SLOTS), v->pool, (uint64_t)NBUFS * BUF, VRING_KIND_RX),
		 0);
	v->nf.eops.notify = ev_notify;
	v->nf.eops.wait = ev_wait;
	v->nf.eops.ctx = v;
	v->nf.cfg.mode = mode;
	v->nf.tx_port = 1;
	v->nf.rx_port = 2;
	v->nf.state = NF_STATE_CONNECTED;
}

static void vif_close(struct vif *v)
{
	free(v->txr);
	free(v->rxr);
	free(v->pool);
}

static void frame(uint8_t *p, uint16_t len, uint32_t seq)
{
	memset(p, 0, len);
	memset(p, 0xff, 6);
	p[6] = 2;
	p[12] = 0x88;
	p[13] = 0xb5;
	memcpy(p + 14, &seq, 4);
}

/* The backend delivers n frames (seq base..) into the guest's RX ring. */
static uint32_t deliver(struct vif *v, uint32_t base, uint32_t n)
{
	static uint8_t bufs[SLOTS][128];
	const void *src[SLOTS];
	uint16_t lens[SLOTS];

	for (uint32_t i = 0; i < n; i++) {
		frame(bufs[i], 60 + (uint16_t)i, base + i);
		src[i] = bufs[i];
		lens[i] = (uint16_t)(60 + i);
	}
	return vring_be_rx_burst(&v->brx, src, lens, n, v->drops, NULL);
}

/* The backend takes what the guest transmitted; seqs[] get the sequence numbers. */
static uint32_t collect(struct vif *v, uint32_t seqs[], uint16_t lens[], uint32_t n)
{
	static uint8_t bufs[SLOTS][BUF];
	void *dst[SLOTS];
	uint32_t got;

	for (uint32_t i = 0; i < n; i++)
		dst[i] = bufs[i];
	got = vring_be_tx_burst(&v->btx, dst, lens, n, v->drops, NULL);
	for (uint32_t i = 0; i < got; i++)
		memcpy(&seqs[i], bufs[i] + 14, 4);
	return got;
}

static uint64_t total_drops(const struct vif *v)
{
	uint64_t t = 0;

	for (int i = 0; i < VRING_VERDICT_COUNT; i++)
		t += v->drops[i];
	return t;
}

static void t_peek_release(void)
{
	struct vif v;
	struct nf_zc_buf b[SLOTS];
	uint32_t seq;

	vif_open(&v, NF_MODE_EVENT);
	CHECK_EQ(nf_zc_rx_peek(&v.nf, b, 8), 0);
	CHECK_EQ(deliver(&v, 100, 5), 5);
	CHECK_EQ(nf_zc_rx_avail(&v.nf), 5);
	CHECK_EQ(nf_zc_rx_peek(&v.nf, b, 8), 5);
	for (uint32_t i = 0; i < 5; i++) {
		CHECK(b[i].data >= v.pool && b[i].data < v.pool + (uint64_t)NBUFS * BUF); /* in place */
		CHECK_EQ(b[i].len, 60 + i);
		memcpy(&seq, b[i].data + 14, 4);
		CHECK_EQ(seq, 100 + i);
	}
	/* peeking twice sees the same packets: nothing moved */
	CHECK_EQ(nf_zc_rx_peek(&v.nf, b, 2), 2);
	memcpy(&seq, b[0].data + 14, 4);
	CHECK_EQ(seq, 100);
	CHECK_EQ(nf_zc_rx_release(&v.nf, 3), 3);
	CHECK_EQ(nf_zc_rx_peek(&v.nf, b, 8), 2);
	memcpy(&seq, b[0].data + 14, 4);
	CHECK_EQ(seq, 103);
	CHECK_EQ(nf_zc_rx_release(&v.nf, 10), 2); /* clamped */
	CHECK_EQ(nf_zc_rx_avail(&v.nf), 0);
	CHECK_EQ(nf_stats(&v.nf)->rx_packets, 5);
	/* the slots went back: the backend can fill the whole ring again */
	CHECK_EQ(deliver(&v, 0, SLOTS - 1), SLOTS - 1);
	vif_close(&v);
}

static void t_reserve_commit(void)
{
	struct vif v;
	struct nf_zc_buf b[SLOTS];
	uint16_t lens[SLOTS];
	uint32_t seqs[SLOTS];

	vif_open(&v, NF_MODE_EVENT);
	CHECK_EQ(nf_zc_tx_avail(&v.nf), SLOTS - 1);
	CHECK_EQ(nf_zc_tx_reserve(&v.nf, 0, b, 4), 4);
	for (uint32_t i = 0; i < 4; i++) {
		CHECK_EQ(b[i].len, BUF);
		frame(b[i].data, 64, 7 + i);
		lens[i] = 64;
	}
	CHECK_EQ(nf_zc_tx_reserve(&v.nf, SLOTS - 2, b + 4, 4), 1); /* clipped at the free slots */
	CHECK_EQ(nf_zc_tx_reserve(&v.nf, SLOTS - 1, b + 4, 4), 0);
	lens[2] = 10; /* too short: the commit stops before it */
	CHECK_EQ(nf_zc_tx_commit(&v.nf, lens, 4, NF_TX_KICK), 2);
	lens[2] = 64;
	CHECK_EQ(nf_zc_tx_commit(&v.nf, lens + 2, 2, 0), 2);
	CHECK_EQ(collect(&v, seqs, lens, SLOTS), 4);
	for (uint32_t i = 0; i < 4; i++)
		CHECK_EQ(seqs[i], 7 + i);
	CHECK_EQ(total_drops(&v), 0);
	CHECK_EQ(nf_stats(&v.nf)->tx_packets, 4);
	vif_close(&v);
}

static void t_swap_forward(void)
{
	struct vif v;
	struct nf_zc_buf rx[SLOTS];
	uint16_t lens[SLOTS];
	uint32_t seqs[SLOTS], round, i;

	vif_open(&v, NF_MODE_EVENT);
	/* many rounds, so every buffer wanders between the rings and the ring wraps */
	for (round = 0; round < 20; round++) {
		uint32_t n = deliver(&v, round * 100, 13), fwd = 0;

		CHECK_EQ(n, 13);
		CHECK_EQ(nf_zc_rx_peek(&v.nf, rx, SLOTS), 13);
		for (i = 0; i < 13; i++) {
			if (i % 3 == 2)
				continue; /* dropped by the middlebox */
			CHECK_EQ(nf_zc_swap_forward(&v.nf, i, fwd), 0);
			lens[fwd++] = rx[i].len;
		}
		CHECK_EQ(nf_zc_tx_commit(&v.nf, lens, fwd, NF_TX_KICK), fwd);
		CHECK_EQ(nf_zc_rx_release(&v.nf, 13), 13);
		CHECK_EQ(collect(&v, seqs, lens, SLOTS), fwd);
		for (i = 0, n = 0; i < 13; i++) {
			if (i % 3 == 2)
				continue;
			CHECK_EQ(seqs[n], round * 100 + i);
			CHECK_EQ(lens[n], 60 + i);
			n++;
		}
	}
	CHECK_EQ(total_drops(&v), 0); /* the backend accepted every swapped buf_idx */
	/* every buffer is still owned exactly once across both rings */
	{
		static uint8_t seen[NBUFS];
		struct vring_slot *ts = vring_slots(v.txr), *rs = vring_slots(v.rxr);

		memset(seen, 0, sizeof(seen));
		for (i = 0; i < SLOTS; i++) {
			seen[ts[i].buf_idx]++;
			seen[rs[i].buf_idx]++;
		}
		for (i = 0; i < 2 * SLOTS; i++)
			CHECK_EQ(seen[i], 1);
	}
	vif_close(&v);
}

static void t_swap_bounds(void)
{
	struct vif v;
	struct nf_zc_buf b[4];

	vif_open(&v, NF_MODE_EVENT);
	CHECK_EQ(nf_zc_swap_forward(&v.nf, 0, 0), -VP_EINVAL); /* nothing received */
	CHECK_EQ(deliver(&v, 0, 2), 2);
	CHECK_EQ(nf_zc_swap_forward(&v.nf, 2, 0), -VP_EINVAL);
	CHECK_EQ(nf_zc_swap_forward(&v.nf, 0, SLOTS - 1), -VP_EINVAL);
	/* a corrupted index in a guest-owned slot is refused, never followed */
	vring_slots(v.txr)[0].buf_idx = NBUFS;
	CHECK_EQ(nf_zc_swap_forward(&v.nf, 0, 0), -VP_EINVAL);
	CHECK_EQ(nf_zc_tx_reserve(&v.nf, 0, b, 4), 0);
	vring_slots(v.txr)[0].buf_idx = 0;
	CHECK_EQ(nf_zc_tx_swap(&v.nf, 0, 1), 0);
	CHECK_EQ(vring_slots(v.txr)[0].buf_idx, 1);
	CHECK_EQ(vring_slots(v.txr)[1].buf_idx, 0);
	CHECK_EQ(nf_zc_tx_swap(&v.nf, 0, SLOTS), -VP_EINVAL);
	v.nf.state = NF_STATE_CLOSED;
	CHECK_EQ(nf_zc_swap_forward(&v.nf, 0, 0), -NF_ENOTCONN);
	CHECK_EQ(nf_zc_rx_peek(&v.nf, b, 4), 0);
	CHECK_EQ(nf_zc_arm(&v.nf, NF_ZC_RX), -NF_ENOTCONN);
	vif_close(&v);
}

static void t_arm_event(void)
{
	struct vif v;
	struct vring_hdr *rh;

	vif_open(&v, NF_MODE_EVENT);
	rh = v.rxr;
	CHECK_EQ(nf_zc_rx_port(&v.nf), 2);
	CHECK_EQ(nf_zc_tx_port(&v.nf), 1);
	CHECK_EQ(nf_zc_mode(&v.nf), NF_MODE_EVENT);
	CHECK_EQ(nf_zc_arm(&v.nf, NF_ZC_RX), 1); /* nothing there: armed */
	CHECK_EQ(rh->fe_need_kick, 1);
	/* the backend publishes and sees the armed word: it would signal */
	{
		int kick = 0;
		static uint8_t f[64];
		const void *src[1] = { f };
		uint16_t len = 64;

		frame(f, 64, 1);
		CHECK_EQ(vring_be_rx_burst(&v.brx, src, &len, 1, v.drops, &kick), 1);
		CHECK_EQ(kick, 1);
	}
	v.pending[2] = 1;
	nf_zc_disarm(&v.nf, NF_ZC_RX);
	CHECK_EQ(rh->fe_need_kick, 0);
	CHECK_EQ(nf_zc_consume(&v.nf, NF_ZC_RX), 1);
	CHECK_EQ(nf_zc_consume(&v.nf, NF_ZC_RX), 0);
	/* work available: not armed */
	CHECK_EQ(nf_zc_arm(&v.nf, NF_ZC_RX), 0);
	CHECK_EQ(rh->fe_need_kick, 0);
	/* TX: the ring has room, so no sleep */
	CHECK_EQ(nf_zc_arm(&v.nf, NF_ZC_TX), 0);
	CHECK_EQ(nf_stats(&v.nf)->rx_sleeps, 1);
	vif_close(&v);
}

static void t_kicks(void)
{
	struct vif v;
	struct nf_zc_buf b[2];
	uint16_t lens[2] = { 64, 64 };

	vif_open(&v, NF_MODE_EVENT);
	/* the backend sleeps on TX: a commit with NF_TX_KICK signals once */
	CHECK_EQ(vring_be_prepare_sleep(&v.btx), 1);
	CHECK_EQ(nf_zc_tx_reserve(&v.nf, 0, b, 2), 2);
	frame(b[0].data, 64, 0);
	frame(b[1].data, 64, 1);
	CHECK_EQ(nf_zc_tx_commit(&v.nf, lens, 2, NF_TX_KICK), 2);
	CHECK_EQ(v.notified[1], 1);
	CHECK_EQ(nf_stats(&v.nf)->tx_kicks, 1);
	/* without NF_TX_KICK it is remembered and sent by nf_zc_arm(TX) */
	CHECK_EQ(nf_zc_tx_reserve(&v.nf, 0, b, 1), 1);
	frame(b[0].data, 64, 2);
	CHECK_EQ(nf_zc_tx_commit(&v.nf, lens, 1, 0), 1);
	CHECK_EQ(v.notified[1], 1);
	CHECK_EQ(nf_zc_arm(&v.nf, NF_ZC_TX), 0);
	CHECK_EQ(v.notified[1], 2);
	/* a lossless backend waiting for RX space is kicked by the release */
	CHECK_EQ(deliver(&v, 0, 3), 3);
	vring_kick_arm(&((struct vring_hdr *)v.rxr)->be_need_kick);
	CHECK_EQ(nf_zc_rx_release(&v.nf, 3), 3);
	CHECK_EQ(v.notified[2], 1);
	vif_close(&v);
}

static void t_poll_mode(void)
{
	struct vif v;
	struct nf_zc_buf b[4];
	uint16_t lens[1] = { 64 };

	vif_open(&v, NF_MODE_POLL);
	CHECK_EQ(nf_zc_arm(&v.nf, NF_ZC_RX), 1); /* nothing: the caller re-polls */
	CHECK_EQ(((struct vring_hdr *)v.rxr)->fe_need_kick, 0);
	CHECK_EQ(deliver(&v, 0, 1), 1);
	CHECK_EQ(nf_zc_arm(&v.nf, NF_ZC_RX), 0);
	CHECK_EQ(vring_be_prepare_sleep(&v.btx), 1);
	CHECK_EQ(nf_zc_tx_reserve(&v.nf, 0, b, 1), 1);
	frame(b[0].data, 64, 0);
	CHECK_EQ(nf_zc_tx_commit(&v.nf, lens, 1, NF_TX_KICK), 1);
	CHECK_EQ(v.notified[1], 0); /* poll mode never kicks */
	vif_close(&v);
}

/* A vif whose both ends agreed on NF_FEAT_OFFLOAD (the backend's rings carry VRING_FEAT_CHAIN | _OFFLOAD). */
static void vif_open_offload(struct vif *v)
{
	vif_open(v, NF_MODE_EVENT);
	CHECK_EQ(vring_be_init(&v->btx, v->txr, vring_ring_bytes(SLOTS), v->pool, VRING_KIND_TX, SLOTS, BUF, NBUFS, 0,
			       VRING_FEAT_KNOWN), 0);
	CHECK_EQ(vring_be_init(&v->brx, v->rxr, vring_ring_bytes(SLOTS), v->pool, VRING_KIND_RX, SLOTS, BUF, NBUFS, SLOTS,
			       VRING_FEAT_KNOWN), 0);
	v->nf.features = NF_FEAT_OFFLOAD;
}

static void t_tx_chain(void)
{
	struct vif v;
	struct nf_zc_buf b[8];
	struct vring_offload o = { .csum_start = 34, .csum_offset = 16, .gso_size = 1448, .gso_type = VRING_GSO_TCPV4,
				   .oflags = VRING_OFL_NEEDS_CSUM };
	uint16_t lens[3] = { BUF, BUF, 100 }, one[1] = { 60 }, bad[2] = { 10, 100 };
	struct vring_slot *sl;
	uint32_t head;

	vif_open(&v, NF_MODE_EVENT);
	CHECK_EQ(nf_zc_tx_reserve(&v.nf, 0, b, 3), 3);
	CHECK_EQ(nf_zc_tx_chain(&v.nf, 0, lens, 3, NULL), -VP_ENOSYS); /* not negotiated: no chains */
	CHECK_EQ(nf_zc_tx_chain(&v.nf, 0, one, 1, &o), -VP_ENOSYS);   /* nor the offload word */
	CHECK_EQ(nf_zc_tx_chain(&v.nf, 0, one, 1, NULL), 0);          /* a plain frame still works */
	vif_close(&v);

	vif_open_offload(&v);
	CHECK_EQ(nf_zc_tx_reserve(&v.nf, 0, b, 4), 4);
	CHECK_EQ(nf_zc_tx_chain(&v.nf, 0, bad, 2, NULL), -VP_EINVAL); /* first fragment shorter than Ethernet */
	lens[1] = BUF + 1;
	CHECK_EQ(nf_zc_tx_chain(&v.nf, 0, lens, 3, NULL), -VP_EINVAL);
	lens[1] = BUF;
	CHECK_EQ(nf_zc_tx_chain(&v.nf, SLOTS - 3, lens, 3, NULL), -VP_EINVAL); /* past the free slots */
	CHECK_EQ(nf_zc_tx_chain(&v.nf, 0, lens, 3, &o), 0);
	CHECK_EQ(nf_zc_tx_chain(&v.nf, 3, one, 1, NULL), 0);
	CHECK_EQ(((struct vring_hdr *)v.txr)->head, 0); /* nothing handed over yet */
	CHECK_EQ(nf_zc_tx_publish(&v.nf, 4, NF_TX_KICK), 4);
	CHECK_EQ(vring_be_read_head(&v.btx, &head), VRING_OK);
	CHECK_EQ(head, 4);
	sl = vring_slots(v.txr);
	CHECK_EQ(sl[0].flags, VRING_F_MORE | VRING_F_OFFLOAD);
	CHECK_EQ(sl[1].flags, VRING_F_MORE);
	CHECK_EQ(sl[2].flags, 0);
	CHECK_EQ(sl[3].flags, 0);
	CHECK_EQ(sl[2].len, 100);
	CHECK(memcmp(&sl[0].u.offload, &o, sizeof(o)) == 0);
	for (uint32_t i = 0; i < 4; i++) { /* what the switch checks of each fragment */
		struct vring_slot local;
		vring_slot_read(&sl[i], &local);
		CHECK_EQ(vring_check_slot(&local, &v.btx.lim, i == 0 || i == 3), VRING_OK);
	}
	CHECK_EQ(vring_check_offload(&sl[0].u.offload, 2 * BUF + 100), VRING_OK);
	vif_close(&v);
}

/* The backend's side of an RX chain: slots at tail with the given lens/flags, then tail published. */
static void rx_put(struct vif *v, const uint16_t lens[], const uint16_t flags[], uint32_t n, const struct vring_offload *o)
{
	struct vring_slot *sl = vring_slots(v->rxr);
	uint32_t t = v->brx.hwtail;

	for (uint32_t i = 0; i < n; i++, t = vring_next(t, SLOTS - 1)) {
		sl[t].len = lens[i];
		sl[t].flags = flags[i];
		if (i == 0 && o)
			sl[t].u.offload = *o;
	}
	vring_be_rx_publish_nokick(&v->brx, t);
}

static void t_rx_chain(void)
{
	struct vif v;
	struct nf_zc_buf b[8];
	struct nf_zc_pkt p;
	struct vring_offload o = { .csum_start = 34, .csum_offset = 16, .gso_size = 1448, .gso_type = VRING_GSO_TCPV4,
				   .oflags = VRING_OFL_NEEDS_CSUM };
	uint16_t l3[3] = { BUF, BUF, 100 }, f3[3] = { VRING_F_MORE | VRING_F_OFFLOAD, VRING_F_MORE, 0 };
	uint16_t l1[1] = { 60 }, f1[1] = { 0 }, lbad[2] = { 60, BUF + 7 }, fbad[2] = { VRING_F_MORE, 0 };

	vif_open_offload(&v);
	CHECK_EQ(nf_zc_rx_peek_pkt(&v.nf, 0, b, 8, &p), 0);
	rx_put(&v, l3, f3, 2, &o); /* the chain's end not published yet */
	CHECK_EQ(nf_zc_rx_peek_pkt(&v.nf, 0, b, 8, &p), 0);
	rx_put(&v, l3 + 2, f3 + 2, 1, NULL);
	rx_put(&v, l1, f1, 1, NULL);
	rx_put(&v, lbad, fbad, 2, NULL);
	CHECK_EQ(nf_zc_rx_peek_pkt(&v.nf, 0, b, 8, &p), 1);
	CHECK(p.valid && p.has_offload);
	CHECK_EQ(p.nslots, 3);
	CHECK_EQ(p.len, 2 * BUF + 100);
	CHECK_EQ(p.ofl.gso_size, 1448);
	CHECK(b[0].data && b[2].data && b[2].len == 100);
	CHECK_EQ(nf_zc_rx_peek_pkt(&v.nf, 3, b, 8, &p), 1);
	CHECK(p.valid && !p.has_offload && p.nslots == 1 && p.len == 60);
	CHECK_EQ(nf_zc_rx_peek_pkt(&v.nf, 4, b, 8, &p), 1); /* a fragment longer than a buffer: skip the chain */
	CHECK(!p.valid && p.nslots == 2 && b[1].data == NULL);
	CHECK_EQ(nf_zc_rx_peek_pkt(&v.nf, 6, b, 8, &p), 0);
	CHECK_EQ(nf_zc_rx_peek_pkt(&v.nf, 0, b, 2, &p), 1); /* longer than the caller takes */
	CHECK(!p.valid && p.nslots == 2);
	CHECK_EQ(nf_zc_rx_release(&v.nf, 6), 6);
	/* an offload word that does not fit the packet */
	o.csum_start = 200;
	rx_put(&v, l1, (const uint16_t[]){ VRING_F_OFFLOAD }, 1, &o);
	CHECK_EQ(nf_zc_rx_peek_pkt(&v.nf, 0, b, 8, &p), 1);
	CHECK(!p.valid && p.has_offload && p.nslots == 1);
	CHECK_EQ(nf_zc_rx_release(&v.nf, 1), 1);
	vif_close(&v);

	vif_open(&v, NF_MODE_EVENT); /* not negotiated: flags ignored, one slot = one packet */
	rx_put(&v, l3, f3, 3, &o);
	CHECK_EQ(nf_zc_rx_peek_pkt(&v.nf, 0, b, 8, &p), 1);
	CHECK(p.valid && !p.has_offload && p.nslots == 1 && p.len == BUF);
	vif_close(&v);
}

int main(void)
{
	tap_run("rx peek sees received packets in place; release gives back exactly n slots", t_peek_release);
	tap_run("tx reserve hands out free buffers in place; commit publishes in order and stops at a bad length",
		t_reserve_commit);
	tap_run("swap-forward moves RX buffers to TX without copying; the backend accepts every swapped index",
		t_swap_forward);
	tap_run("swaps refuse offsets outside the owned slots and indices outside the pool", t_swap_bounds);
	tap_run("arm/disarm/consume follow the kick protocol on the RX ring", t_arm_event);
	tap_run("tx kicks: one per commit when asked, deferred ones sent by arm; rx release kicks a waiting backend",
		t_kicks);
	tap_run("poll mode arms nothing and never kicks", t_poll_mode);
	tap_run("tx chains: refused without NF_FEAT_OFFLOAD; MORE on all but the last, the offload word on the first, "
		"every fragment passes the switch's slot checks; nothing handed over before publish",
		t_tx_chain);
	tap_run("rx chains: whole packets only, the offload word copied and checked, bad fragments and over-long "
		"chains skipped whole",
		t_rx_chain);
	return tap_done();
}
