/* SPDX-License-Identifier: MIT */
/*
 * nf_zc.c - zero-copy access to a connected vif's rings (vpio/netfront_zc.h):
 * peek/release on RX, reserve/commit on TX, buffer swaps inside one port,
 * and the arm/disarm/consume hooks a multi-channel scheduler needs.
 *
 * Concurrency: the rules of nf_data.c. Heads move only in rx_release and
 * tx_commit, each a release store (vring_fe_publish) that pairs with the
 * backend's acquire in vring_be_read_head(), so the slot fields written
 * before (len, flags, swapped buf_idx) are visible to the backend first.
 * Arming follows vring_fe_prepare_sleep(): store fe_need_kick, full barrier
 * (pairs with the backend's vring_kick_needed()), re-check tail.
 * Freestanding.
 */
#include "nf_internal.h"
#include "vpio/netfront_zc.h"

uint32_t nf_zc_rx_avail(struct nf_dev *nf)
{
	return nf_connected(nf) ? vring_fe_avail(&nf->rx) : 0;
}

uint32_t nf_zc_tx_avail(struct nf_dev *nf)
{
	return nf_connected(nf) ? vring_fe_avail(&nf->tx) : 0;
}

uint32_t nf_zc_rx_peek(struct nf_dev *nf, struct nf_zc_buf bufs[], uint32_t n)
{
	struct vring_fe *fe = &nf->rx;
	uint32_t avail, i, pos;

	if (!nf_connected(nf))
		return 0;
	avail = vring_fe_avail_cached(fe, n);
	if (n > avail)
		n = avail;
	for (i = 0, pos = fe->head; i < n; i++, pos = vring_next(pos, fe->mask)) {
		const struct vring_slot *s = &fe->slots[pos];
		uint32_t len = VP_READ_ONCE(s->len), bi = VP_READ_ONCE(s->buf_idx); /* once, checked below */

		if (vp_unlikely(len > fe->buf_size || bi >= fe->nr_bufs)) {
			bufs[i].data = 0;
			bufs[i].len = 0;
		} else {
			bufs[i].data = vring_fe_buf(fe, bi);
			bufs[i].len = (uint16_t)len;
		}
	}
	return n;
}

uint32_t nf_zc_rx_release(struct nf_dev *nf, uint32_t n)
{
	struct vring_fe *fe = &nf->rx;
	uint32_t avail;

	if (!nf_connected(nf) || n == 0)
		return 0;
	avail = vring_fe_avail_cached(fe, n);
	if (n > avail)
		n = avail;
	fe->head = (fe->head + n) & fe->mask;
	nf->stats.rx_packets += n;
	if (nf->cfg.mode == NF_MODE_EVENT) {
		if (vring_fe_publish(fe)) /* a lossless backend waits for RX space */
			(void)nf_notify(nf, nf->rx_port, &nf->stats.rx_kicks);
	} else {
		vring_fe_publish_nokick(fe);
	}
	return n;
}

uint32_t nf_zc_tx_reserve(struct nf_dev *nf, uint32_t off, struct nf_zc_buf bufs[], uint32_t n)
{
	struct vring_fe *fe = &nf->tx;
	uint32_t avail, i, pos;

	if (!nf_connected(nf))
		return 0;
	avail = vring_fe_avail_cached(fe, off + n);
	if (off >= avail)
		return 0;
	if (n > avail - off)
		n = avail - off;
	for (i = 0, pos = (fe->head + off) & fe->mask; i < n; i++, pos = vring_next(pos, fe->mask)) {
		uint32_t bi = VP_READ_ONCE(fe->slots[pos].buf_idx);

		if (vp_unlikely(bi >= fe->nr_bufs)) /* only a buggy swap could do this: never overrun the pool */
			break;
		bufs[i].data = vring_fe_buf(fe, bi);
		bufs[i].len = (uint16_t)fe->buf_size;
	}
	return i;
}

uint32_t nf_zc_tx_commit(struct nf_dev *nf, const uint16_t lens[], uint32_t n, uint32_t flags)
{
	struct vring_fe *fe = &nf->tx;
	uint32_t avail, i, head;

	if (!nf_connected(nf) || n == 0)
		return 0;
	avail = vring_fe_avail_cached(fe, n);
	if (n > avail)
		n = avail;
	for (i = 0, head = fe->head; i < n; i++, head = vring_next(head, fe->mask)) {
		struct vring_slot *s = &fe->slots[head];

		if (vp_unlikely(lens[i] < VRING_ETH_HLEN || lens[i] > fe->buf_size))
			break;
		s->len = lens[i];
		s->flags = 0;
	}
	return nf_zc_tx_publish(nf, i, flags); /* the i slots written: one publish, kick if asked */
}

static int owned(struct vring_fe *fe, uint32_t off)
{
	return off < vring_fe_avail_cached(fe, off + 1);
}

uint32_t nf_zc_rx_peek_pkt(struct nf_dev *nf, uint32_t off, struct nf_zc_buf bufs[], uint32_t max,
			   struct nf_zc_pkt *pkt)
{
	struct vring_fe *fe = &nf->rx;
	uint32_t avail, i, pos, total = 0, chains;

	if (!nf_connected(nf) || max == 0)
		return 0;
	chains = nf->features & NF_FEAT_OFFLOAD;
	avail = vring_fe_avail_cached(fe, off + (chains ? max : 1));
	if (off >= avail)
		return 0;
	pkt->valid = 1;
	pkt->has_offload = 0;
	for (i = 0, pos = (fe->head + off) & fe->mask; off + i < avail && i < max; i++, pos = vring_next(pos, fe->mask)) {
		const struct vring_slot *s = &fe->slots[pos];
		/* each field once: the backend may rewrite them (it should not: they are ours now) */
		uint32_t len = VP_READ_ONCE(s->len), bi = VP_READ_ONCE(s->buf_idx);
		uint32_t flags = chains ? VP_READ_ONCE(s->flags) : 0;

		if (i == 0 && (flags & VRING_F_OFFLOAD)) {
			uint64_t w = VP_READ_ONCE(s->u.gref); /* the offload word, once */
			vp_memcpy(&pkt->ofl, &w, sizeof(pkt->ofl));
			pkt->has_offload = 1;
		}
		if (vp_unlikely(len > fe->buf_size || bi >= fe->nr_bufs || (i == 0 && len == 0))) {
			bufs[i].data = 0;
			bufs[i].len = 0;
			pkt->valid = 0;
		} else {
			bufs[i].data = vring_fe_buf(fe, bi);
			bufs[i].len = (uint16_t)len;
			total += len;
		}
		if (!(flags & VRING_F_MORE)) {
			pkt->nslots = i + 1;
			pkt->len = total;
			if (pkt->valid && pkt->has_offload && vring_check_offload(&pkt->ofl, total) != VRING_OK)
				pkt->valid = 0;
			return 1;
		}
	}
	if (i == max) { /* longer than the caller takes: skip what we saw */
		pkt->nslots = max;
		pkt->len = 0;
		pkt->valid = 0;
		return 1;
	}
	return 0; /* the end is not published yet */
}

int nf_zc_tx_chain(struct nf_dev *nf, uint32_t off, const uint16_t lens[], uint32_t n, const struct vring_offload *ofl)
{
	struct vring_fe *fe = &nf->tx;
	uint32_t i, pos;

	if (!nf_connected(nf))
		return -NF_ENOTCONN;
	if (n == 0 || off + n < off || !owned(fe, off + n - 1))
		return -VP_EINVAL;
	if ((n > 1 || ofl) && !(nf->features & NF_FEAT_OFFLOAD))
		return -VP_ENOSYS;
	if (lens[0] < VRING_ETH_HLEN)
		return -VP_EINVAL;
	for (i = 0; i < n; i++)
		if (lens[i] > fe->buf_size)
			return -VP_EINVAL;
	for (i = 0, pos = (fe->head + off) & fe->mask; i < n; i++, pos = vring_next(pos, fe->mask)) {
		struct vring_slot *s = &fe->slots[pos];
		uint16_t flags = i + 1 < n ? VRING_F_MORE : 0;

		s->len = lens[i];
		if (i == 0 && ofl) {
			s->u.offload = *ofl;
			flags |= VRING_F_OFFLOAD;
		}
		s->flags = flags;
	}
	return 0;
}

uint32_t nf_zc_tx_publish(struct nf_dev *nf, uint32_t n, uint32_t flags)
{
	struct vring_fe *fe = &nf->tx;
	uint32_t avail;

	if (!nf_connected(nf) || n == 0)
		return 0;
	avail = vring_fe_avail_cached(fe, n);
	if (n > avail)
		n = avail;
	fe->head = (fe->head + n) & fe->mask;
	nf->stats.tx_packets += n;
	if (nf->cfg.mode == NF_MODE_EVENT) {
		if (vring_fe_publish(fe)) /* release: pairs with the backend's acquire of head */
			nf->tx_kick_pending = 1;
		if ((flags & NF_TX_KICK) && nf->tx_kick_pending)
			(void)nf_tx_kick(nf);
	} else {
		vring_fe_publish_nokick(fe);
	}
	return n;
}

int nf_zc_swap_forward(struct nf_dev *nf, uint32_t rx_off, uint32_t tx_off)
{
	struct vring_slot *r, *t;
	uint32_t rb, tb;

	if (!nf_connected(nf))
		return -NF_ENOTCONN;
	if (!owned(&nf->rx, rx_off) || !owned(&nf->tx, tx_off))
		return -VP_EINVAL;
	r = &nf->rx.slots[(nf->rx.head + rx_off) & nf->rx.mask];
	t = &nf->tx.slots[(nf->tx.head + tx_off) & nf->tx.mask];
	rb = VP_READ_ONCE(r->buf_idx);
	tb = VP_READ_ONCE(t->buf_idx);
	if (rb >= nf->rx.nr_bufs || tb >= nf->tx.nr_bufs || nf->rx.pool != nf->tx.pool)
		return -VP_EINVAL;
	r->buf_idx = tb;
	t->buf_idx = rb;
	t->len = r->len;
	return 0;
}

int nf_zc_tx_swap(struct nf_dev *nf, uint32_t a_off, uint32_t b_off)
{
	struct vring_fe *fe = &nf->tx;
	struct vring_slot *a, *b;
	uint32_t ab, bb;

	if (!nf_connected(nf))
		return -NF_ENOTCONN;
	if (!owned(fe, a_off) || !owned(fe, b_off))
		return -VP_EINVAL;
	a = &fe->slots[(fe->head + a_off) & fe->mask];
	b = &fe->slots[(fe->head + b_off) & fe->mask];
	ab = VP_READ_ONCE(a->buf_idx);
	bb = VP_READ_ONCE(b->buf_idx);
	if (ab >= fe->nr_bufs || bb >= fe->nr_bufs)
		return -VP_EINVAL;
	a->buf_idx = bb;
	b->buf_idx = ab;
	return 0;
}

int nf_zc_tx_wait_space(struct nf_dev *nf, uint32_t need, int timeout_ms)
{
	struct vring_fe *fe = &nf->tx;
	int rc;

	if (!nf_connected(nf))
		return -NF_ENOTCONN;
	if (need == 0 || need > fe->num_slots - 1)
		return -VP_EINVAL;
	if (nf->tx_kick_pending)
		(void)nf_tx_kick(nf); /* the backend may sleep on packets we queued */
	for (;;) {
		if (vring_fe_avail(fe) >= need)
			return 1;
		if (nf->cfg.mode == NF_MODE_POLL)
			return 0;
		vring_kick_arm(&fe->hdr->fe_need_kick);
		if (vring_fe_avail(fe) >= need) { /* re-check after the full barrier of the arm */
			vring_kick_disarm(&fe->hdr->fe_need_kick);
			return 1;
		}
		nf->stats.tx_sleeps++;
		rc = nf->eops.wait(nf->eops.ctx, nf->tx_port, timeout_ms);
		vring_kick_disarm(&fe->hdr->fe_need_kick);
		if (rc < 0) {
			nf->state = NF_STATE_FAILED;
			return rc;
		}
		if (rc == 0)
			return vring_fe_avail(fe) >= need ? 1 : 0;
	}
}

int nf_zc_arm(struct nf_dev *nf, uint32_t dir)
{
	struct vring_fe *fe = dir == NF_ZC_TX ? &nf->tx : &nf->rx;

	if (!nf_connected(nf))
		return -NF_ENOTCONN;
	if (dir == NF_ZC_TX && nf->tx_kick_pending)
		(void)nf_tx_kick(nf); /* the backend may sleep on packets we queued */
	if (nf->cfg.mode == NF_MODE_POLL)
		return vring_fe_avail(fe) ? 0 : 1;
	if (!vring_fe_prepare_sleep(fe))
		return 0;
	if (dir == NF_ZC_TX)
		nf->stats.tx_sleeps++;
	else
		nf->stats.rx_sleeps++;
	return 1;
}

int nf_zc_arm_space(struct nf_dev *nf, uint32_t need)
{
	struct vring_fe *fe = &nf->tx;

	if (!nf_connected(nf))
		return -NF_ENOTCONN;
	if (nf->tx_kick_pending)
		(void)nf_tx_kick(nf); /* the backend may sleep on packets we queued */
	if (vring_fe_avail(fe) >= need)
		return 0;
	if (nf->cfg.mode == NF_MODE_POLL)
		return 1;
	vring_kick_arm(&fe->hdr->fe_need_kick); /* full barrier, then re-check: no release is missed */
	if (vring_fe_avail(fe) >= need) {
		vring_fe_woken(fe);
		return 0;
	}
	nf->stats.tx_sleeps++;
	return 1;
}

void nf_zc_disarm(struct nf_dev *nf, uint32_t dir)
{
	if (!nf_connected(nf) || nf->cfg.mode == NF_MODE_POLL)
		return;
	vring_fe_woken(dir == NF_ZC_TX ? &nf->tx : &nf->rx);
}

int nf_zc_consume(struct nf_dev *nf, uint32_t dir)
{
	int rc;

	if (!nf_connected(nf))
		return -NF_ENOTCONN;
	rc = nf->eops.wait(nf->eops.ctx, dir == NF_ZC_TX ? nf->tx_port : nf->rx_port, 0);
	if (rc < 0)
		nf->state = NF_STATE_FAILED;
	return rc;
}

uint32_t nf_zc_tx_port(const struct nf_dev *nf)
{
	return nf->tx_port;
}

uint32_t nf_zc_rx_port(const struct nf_dev *nf)
{
	return nf->rx_port;
}

enum nf_mode nf_zc_mode(const struct nf_dev *nf)
{
	return nf->cfg.mode;
}
