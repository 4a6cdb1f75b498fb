/* SPDX-License-Identifier: MIT */
/*
 * nf_data.c - the netfront data path: TX and RX bursts on the @vpio/ring
 * guest helpers, kicks, and sleeping without lost wake-ups.
 *
 * Concurrency: one thread per direction at most (see vpio/netfront.h).
 * Per packet: no call outside this file but the ring helpers' memcpy; a
 * notification costs one evtchn op per batch, and only when the backend
 * armed its need_kick word (vring_fe_publish() reads it after a full
 * barrier that pairs with the backend's vring_be_prepare_sleep()). In poll
 * mode the kick checks and their barriers are skipped (kick = NULL).
 * Sleeping follows the ring's protocol: vring_fe_prepare_sleep() arms
 * fe_need_kick and re-checks, the evtchn wait consumes the notification,
 * vring_fe_woken() disarms. Freestanding.
 */
#include "nf_internal.h"

uint32_t nf_tx_burst(struct nf_dev *nf, const void *const pkts[], const uint16_t lens[], uint32_t n,
		     uint32_t flags)
{
	int kick = 0;
	uint32_t sent;

	if (!nf_connected(nf) || n == 0)
		return 0;
	sent = vring_fe_tx_burst(&nf->tx, pkts, lens, n, nf->cfg.mode == NF_MODE_EVENT ? &kick : 0);
	nf->stats.tx_packets += sent;
	if (kick)
		nf->tx_kick_pending = 1;
	if ((flags & NF_TX_KICK) && nf->tx_kick_pending)
		(void)nf_tx_kick(nf);
	return sent;
}

int nf_tx_kick(struct nf_dev *nf)
{
	if (!nf_connected(nf))
		return -NF_ENOTCONN;
	if (!nf->tx_kick_pending)
		return 0;
	nf->tx_kick_pending = 0;
	return nf_notify(nf, nf->tx_port, &nf->stats.tx_kicks);
}

uint32_t nf_rx_burst(struct nf_dev *nf, void *const bufs[], uint16_t lens[], uint32_t n)
{
	int kick = 0;
	uint32_t got;

	if (!nf_connected(nf) || n == 0)
		return 0;
	got = vring_fe_rx_burst(&nf->rx, bufs, lens, n, nf->cfg.mode == NF_MODE_EVENT ? &kick : 0);
	nf->stats.rx_packets += got;
	if (kick) /* a lossless backend waits for RX space */
		(void)nf_notify(nf, nf->rx_port, &nf->stats.rx_kicks);
	return got;
}

uint32_t nf_tx_space(struct nf_dev *nf)
{
	return nf_connected(nf) ? vring_fe_avail(&nf->tx) : 0;
}

uint32_t nf_rx_pending(struct nf_dev *nf)
{
	return nf_connected(nf) ? vring_fe_avail(&nf->rx) : 0;
}

static int wait_ring(struct nf_dev *nf, struct vring_fe *fe, uint32_t port, uint64_t *sleeps, int timeout_ms)
{
	int rc;

	if (!nf_connected(nf))
		return -NF_ENOTCONN;
	if (nf->cfg.mode == NF_MODE_POLL)
		return vring_fe_avail(fe) ? 1 : 0;
	if (!vring_fe_prepare_sleep(fe)) /* work arrived between the caller's check and the arm */
		return 1;
	(*sleeps)++;
	rc = nf->eops.wait(nf->eops.ctx, port, timeout_ms);
	vring_fe_woken(fe);
	if (rc < 0)
		nf->state = NF_STATE_FAILED;
	return rc;
}

int nf_rx_wait(struct nf_dev *nf, int timeout_ms)
{
	return wait_ring(nf, &nf->rx, nf->rx_port, &nf->stats.rx_sleeps, timeout_ms);
}

int nf_tx_wait(struct nf_dev *nf, int timeout_ms)
{
	/* a pending kick first: the backend may be asleep on packets we queued */
	if (nf_connected(nf) && nf->tx_kick_pending)
		(void)nf_tx_kick(nf);
	return wait_ring(nf, &nf->tx, nf->tx_port, &nf->stats.tx_sleeps, timeout_ms);
}

const uint8_t *nf_mac(const struct nf_dev *nf)
{
	return nf->mac;
}

uint32_t nf_mtu(const struct nf_dev *nf)
{
	return nf->mtu;
}

uint32_t nf_tx_slots(const struct nf_dev *nf)
{
	return nf->tx.num_slots;
}

uint32_t nf_rx_slots(const struct nf_dev *nf)
{
	return nf->rx.num_slots;
}

uint32_t nf_features(const struct nf_dev *nf)
{
	return nf->features;
}

uint32_t nf_buf_size(const struct nf_dev *nf)
{
	return nf->tx.buf_size;
}

const struct nf_stats *nf_stats(const struct nf_dev *nf)
{
	return &nf->stats;
}

uint32_t nf_queue_count(const struct nf_dev *nf)
{
	return nf ? nf->nqueues : 0;
}

struct nf_dev *nf_queue(struct nf_dev *nf, uint32_t i)
{
	struct nf_dev *q0;

	if (!nf)
		return 0;
	q0 = nf->q0 ? nf->q0 : nf;
	return i < q0->nqueues ? &q0[i] : 0;
}
