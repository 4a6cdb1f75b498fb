/* SPDX-License-Identifier: MIT */
/*
 * el_net.c - FromNetfront and ToNetfront: the vif ends of a configuration,
 * on the zero-copy calls of vpio/netfront_zc.h.
 *
 * FromNetfront(DEVID [, MODE event|poll] [, BURST n]) runs a thread: peek up
 * to BURST received packets in place, push them, then release the whole
 * burst (one RX publish per burst). With nothing received it arms the RX
 * ring and blocks on the RX channel's descriptor (event mode) or yields
 * (poll mode).
 *
 * ToNetfront(DEVID) places a batch at TX offsets 0.. and commits it once:
 * a received buffer of the same vif is moved by buffer swap (zero-copy
 * forwarding inside one port), a TX buffer of the same vif reserved in
 * place (Pktgen) is committed where it lies (or swapped down over the
 * slots of packets dropped on the way), anything else is copied. Every
 * packet pushed in is either sent or counted as dropped: no room left in
 * the TX ring, a copy longer than the TX buffer (a frame from a vif with a
 * larger MTU), a failed buffer swap, a length the commit refused.
 */
#include <string.h>

#include "element.h"

struct from_nf {
	struct mo_element el;
	int dev;
	uint32_t burst;
	uint64_t batches, pkts, bad, sleeps;
};

struct to_nf {
	struct mo_element el;
	int dev;
	uint64_t sent, swapped, copied, in_place, dropped;
};

static int dev_args(struct mo_element *el, struct mo_args *as, struct mo_err *err, enum nf_mode mode, int *dev)
{
	uint32_t devid;

	if (mo_arg_u32(as, 0, "DEVID", 0, 1023, 1, &devid, err))
		return -1;
	*dev = mo_rt_dev(el->rt, devid, mode);
	if (*dev < 0)
		return mo_err_at(err, as, NULL, "more than %u vifs", MO_MAX_DEVS);
	return 0;
}

static int from_configure(struct mo_element *el, struct mo_args *as, struct mo_err *err)
{
	struct from_nf *f = (struct from_nf *)el;
	enum nf_mode mode = NF_MODE_EVENT;
	struct mo_arg *m = mo_arg_get(as, 1, "MODE");
	int rc;

	if (m) {
		if (!strcmp(m->text, "poll"))
			mode = NF_MODE_POLL;
		else if (strcmp(m->text, "event"))
			return mo_err_at(err, as, m, "MODE: expected 'event' or 'poll', found '%s'", m->text);
	}
	f->burst = MO_BURST;
	rc = mo_arg_u32(as, 2, "BURST", 1, MO_BURST, 0, &f->burst, err);
	if (rc < 0)
		return -1;
	return dev_args(el, as, err, mode, &f->dev);
}

static void from_thread(void *arg)
{
	struct from_nf *f = arg;
	struct mo_runtime *rt = f->el.rt;
	struct mo_dev *d = &rt->devs[f->dev];
	struct nf_zc_buf bufs[MO_BURST];
	struct mo_pkt pkts[MO_BURST];

	while (!rt->stopping && d->nf) {
		uint32_t n = nf_zc_rx_peek(d->nf, bufs, f->burst), k = 0, i;
		int rc;

		if (n) {
			for (i = 0; i < n; i++) {
				if (!bufs[i].data || bufs[i].len < 14) {
					f->bad++;
					continue;
				}
				pkts[k++] = (struct mo_pkt){ .data = bufs[i].data, .len = bufs[i].len, .origin = MO_ORIG_RX,
							     .dev = (uint8_t)f->dev, .off = i };
			}
			f->batches++;
			f->pkts += k;
			mo_push(&f->el, 0, pkts, k);
			nf_zc_rx_release(d->nf, n);
			mo_yield(rt->sched);
			continue;
		}
		rc = nf_zc_arm(d->nf, NF_ZC_RX);
		if (rc < 0)
			return; /* the vif is gone */
		if (rc == 0)
			continue;
		if (d->mode == NF_MODE_POLL || d->rx_fd < 0) {
			nf_zc_disarm(d->nf, NF_ZC_RX);
			mo_yield(rt->sched);
			continue;
		}
		f->sleeps++;
		mo_wait(rt->sched, &d->rx_fd, 1, MO_NO_DEADLINE);
		nf_zc_disarm(d->nf, NF_ZC_RX);
		(void)nf_zc_consume(d->nf, NF_ZC_RX);
	}
}

static int from_start(struct mo_element *el)
{
	return mo_thread_spawn(el->rt->sched, el->name, from_thread, el, 0) ? 0 : -12;
}

static void from_stats(struct mo_element *el, struct mo_json *j)
{
	struct from_nf *f = (struct from_nf *)el;

	mo_json_u64(j, "devid", el->rt->devs[f->dev].devid);
	mo_json_u64(j, "packets", f->pkts);
	mo_json_u64(j, "batches", f->batches);
	mo_json_u64(j, "bad", f->bad);
	mo_json_u64(j, "sleeps", f->sleeps);
}

static int to_configure(struct mo_element *el, struct mo_args *as, struct mo_err *err)
{
	return dev_args(el, as, err, NF_MODE_EVENT, &((struct to_nf *)el)->dev);
}

static void to_push(struct mo_element *el, uint32_t port, struct mo_pkt *p, uint32_t n)
{
	struct to_nf *t = (struct to_nf *)el;
	struct mo_dev *d = &el->rt->devs[t->dev];
	uint16_t lens[MO_BURST];
	uint32_t i, off = 0, space, sent;

	(void)port;
	if (!d->nf) {
		t->dropped += n;
		return;
	}
	space = nf_zc_tx_avail(d->nf);
	for (i = 0; i < n && off < space; i++) {
		struct mo_pkt *q = &p[i];

		if (q->origin == MO_ORIG_RX && q->dev == t->dev) {
			if (nf_zc_swap_forward(d->nf, q->off, off)) {
				t->dropped++;
				continue;
			}
			t->swapped++;
		} else if (q->origin == MO_ORIG_TX && q->dev == t->dev && q->off >= off) {
			if (q->off != off && nf_zc_tx_swap(d->nf, q->off, off)) {
				t->dropped++;
				continue;
			}
			t->in_place++;
		} else {
			struct nf_zc_buf b;

			if (nf_zc_tx_reserve(d->nf, off, &b, 1) != 1 || q->len > b.len) {
				t->dropped++;
				continue;
			}
			memcpy(b.data, q->data, q->len);
			t->copied++;
		}
		lens[off++] = q->len;
	}
	t->dropped += n - i; /* no room left in the TX ring */
	sent = nf_zc_tx_commit(d->nf, lens, off, NF_TX_KICK);
	t->sent += sent;
	t->dropped += off - sent; /* the commit stops at the first length it refuses */
}

static void to_stats(struct mo_element *el, struct mo_json *j)
{
	struct to_nf *t = (struct to_nf *)el;

	mo_json_u64(j, "devid", el->rt->devs[t->dev].devid);
	mo_json_u64(j, "sent", t->sent);
	mo_json_u64(j, "swapped", t->swapped);
	mo_json_u64(j, "inPlace", t->in_place);
	mo_json_u64(j, "copied", t->copied);
	mo_json_u64(j, "dropped", t->dropped);
}

const struct mo_class mo_class_from_netfront = {
	.name = "FromNetfront", .size = sizeof(struct from_nf), .nin = 0, .nout = 1,
	.configure = from_configure, .start = from_start, .stats = from_stats,
};

const struct mo_class mo_class_to_netfront = {
	.name = "ToNetfront", .size = sizeof(struct to_nf), .nin = 1, .nout = 0,
	.configure = to_configure, .push = to_push, .stats = to_stats,
};
