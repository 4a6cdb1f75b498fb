/* SPDX-License-Identifier: MIT */
/*
 * lease.c - VALE-style leases on a destination's RX ring.
 *
 * Concurrency model: several workers may forward into one destination at
 * once. Each takes the destination's lease_lock only to (1) validate the
 * guest's RX head and compute the free space beyond every outstanding
 * lease, and (2) lease a range [resv, resv + n) and move resv; it then
 * copies into those slots without the lock. Completing takes the lock
 * again for a few stores: the lease is marked done and, if it is the
 * oldest outstanding one (it starts at hwtail), its completer walks every
 * contiguous completed lease and publishes tail once over all of them
 * (release in vring_be_rx_publish(), pairing with the guest's acquire in
 * vring_fe_avail()). A worker never waits for another worker's copy: a
 * lease completed behind an unfinished older one is published by whoever
 * completes that older one. The lock is a spin lock held for O(1) work
 * (a lossless round may hold several, always taken in ascending port id).
 *
 * The destination's vring_be rx (hwcur, hwtail) and resv, lease_end[] and
 * lease_done[] are read and written only under the lock.
 */
#include <stdlib.h>

#include "sw_internal.h"

int vsw_lease_init(struct vsw_port *p)
{
	p->lease_end = calloc(p->cfg.rx_slots, sizeof(*p->lease_end));
	p->lease_done = calloc(p->cfg.rx_slots, sizeof(*p->lease_done));
	p->resv = p->rx.hwtail;
	p->lease_lock = 0;
	return p->lease_end && p->lease_done ? 0 : -VP_ENOMEM;
}

void vsw_lease_fini(struct vsw_port *p)
{
	free(p->lease_end);
	free(p->lease_done);
	p->lease_end = NULL;
	p->lease_done = NULL;
}

uint32_t vsw_lease_space_locked(struct vsw_worker *w, struct vsw_port *dst)
{
	uint32_t head;
	enum vring_verdict v = vring_be_read_head(&dst->rx, &head);

	if (vp_unlikely(v != VRING_OK)) /* counted on the guest that wrote it; the ring stays as it was */
		VSW_STAT_ADD(w->pc[dst->id].drops[v], 1);
	dst->rx.hwcur = head;
	/* the slot before head stays empty (vpio/ring.h) */
	return vring_dist(dst->resv, (head - 1) & dst->rx.mask, dst->rx.mask);
}

void vsw_lease_take_locked(struct vsw_port *dst, uint32_t n, struct vsw_lease *l)
{
	l->start = dst->resv;
	l->n = n;
	if (!n)
		return;
	dst->resv = (dst->resv + n) & dst->rx.mask;
	dst->lease_end[l->start] = dst->resv;
	dst->lease_done[l->start] = 0;
}

int vsw_lease_complete(struct vsw_port *dst, const struct vsw_lease *l)
{
	uint32_t t;
	int kick = 0;

	if (!l->n)
		return 0;
	vsw_spin_lock(&dst->lease_lock);
	dst->lease_done[l->start] = 1;
	t = dst->rx.hwtail;
	if (l->start == t) {
		/* the oldest lease: publish it and every completed lease after it */
		while (t != dst->resv && dst->lease_done[t]) {
			dst->lease_done[t] = 0;
			t = dst->lease_end[t];
		}
		if (dst->cfg.rx_notify_fd >= 0)
			kick = vring_be_rx_publish(&dst->rx, t);
		else
			vring_be_rx_publish_nokick(&dst->rx, t);
	}
	vsw_spin_unlock(&dst->lease_lock);
	return kick;
}
