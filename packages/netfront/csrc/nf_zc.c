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
	if (!i)
		return 0;
	fe->head = head;
	nf->stats.tx_packets += i;
	if (nf->cfg.mode == NF_MODE_EVENT) {
		if (vring_fe_publish(fe))
			nf->tx_kick_pending = 1;
		if ((flags & NF_TX_KICK) && nf->tx_kick_pending)
			(void)nf_tx_kick(nf);
	} else {
		vring_fe_publish_nokick(fe);
	}
	return i;
}

static int owned(struct vring_fe *fe, uint32_t off)
{
	return off < vring_fe_avail_cached(fe, off + 1);
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
