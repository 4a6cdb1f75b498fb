/* SPDX-License-Identifier: MIT */
/*
 * xs_transport_ring.c - the xenstore transport of a PV guest: the xenbus
 * ring page (struct xs_ring_page, layout and index rules in
 * vpio/xs_transport.h) and the store event channel, reached through the
 * caller's notify/wait callbacks. Freestanding like the client core: no
 * libc header; copies go through vp_memcpy, shared words through
 * vpio/compiler.h.
 *
 * Concurrency model: the guest thread that drives the client is the only
 * writer of req[], req_prod and rsp_cons; the daemon (another domain, or
 * the test's relay thread) is the only writer of rsp[], rsp_prod and
 * req_cons. No lock: each index has one writer, and the order of accesses
 * is the protocol:
 *
 *   producer (send here, the daemon for rsp)   consumer (recv here, the daemon for req)
 *     read cons (acquire)                        read prod (acquire)
 *     write data into [prod, cons + 1024)        read data from [cons, prod)
 *     publish prod (release)                     publish cons (release)
 *     full barrier, signal the event channel     full barrier, signal the event channel
 *
 * The acquire of the other side's index pairs with that side's release of
 * it, so the data (or the free space) it announces is there when we touch
 * it. Before sleeping (wait(), send() on a full ring) a full barrier
 * orders the event acknowledgement the last wait callback made against
 * the re-read of the ring, and the check happens before the callback
 * sleeps: a daemon update after the check leaves its event pending, so the
 * sleep returns at once (no lost wake-up). After every index update we
 * signal, as the ring ABI requires ("whenever the ring structure is
 * updated the event channel must be signalled"): a daemon may sleep on a
 * ring that is not quite full (waiting to fit a whole message), so a
 * conditional notify could strand it; xenstore is the control plane and
 * one event per update costs nothing that matters.
 *
 * What may block: only send() on a full request ring and wait(), both in
 * the caller's wait callback. While send() sleeps, nobody drains rsp[]:
 * the daemon must keep reading requests while its replies wait for space,
 * as Xen's xenstored does (input and output of a ring are handled apart),
 * and the relay in test/c/xs-ring-relay.c does.
 *
 * The daemon is hostile: each of its indices is read once into a local,
 * checked to move only forward within its window, and only the local is
 * used; offsets into req[]/rsp[] are masked and copies bounded by the
 * ring's end, so no value on the page can move an access outside it. A bad
 * index kills the transport (-VP_EIO, counted) and the page is not touched
 * again.
 */
#include "vpio/compiler.h"
#include "vpio/xs_transport.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

/*
 * Is `idx`, just read from the daemon, a legal value for an index last seen
 * at `last` that may not pass `limit`? Free-running uint32 arithmetic:
 * legal iff idx lies in [last, limit] going forward from last (a step back
 * wraps to a huge distance and fails too).
 */
static int ring_idx_ok(uint32_t last, uint32_t idx, uint32_t limit)
{
	return idx - last <= limit - last;
}

static int ring_kill(struct xs_ring_transport *rt, int err)
{
	if (!rt->dead)
		rt->dead = err;
	return rt->dead;
}

static int ring_bad_index(struct xs_ring_transport *rt)
{
	rt->index_errors++;
	return ring_kill(rt, -VP_EIO);
}

/* -VP_EPIPE when the daemon says it has stopped talking (error feature), else 0. */
static int ring_peer_error(struct xs_ring_transport *rt)
{
	struct xs_ring_page *pg = rt->page;

	if ((VP_READ_ONCE(pg->server_features) & XS_RING_FEATURE_ERROR) && VP_READ_ONCE(pg->error) != 0)
		return ring_kill(rt, -VP_EPIPE);
	return 0;
}

static int ring_notify(struct xs_ring_transport *rt)
{
	int r;

	/* Our index store is visible before the daemon can run because of the
	 * event (notify may be a hypercall or a plain store; we do not rely on
	 * it being a barrier). Pairs with the daemon's read of our index after
	 * it takes the event. */
	vp_mb();
	rt->notifies++;
	r = rt->notify(rt->ctx);
	return r < 0 ? ring_kill(rt, r) : 0;
}

/*
 * Bytes the daemon has produced on rsp[] and we have not consumed: reads
 * rsp_prod once, validates it. Returns the count (0..1024) or a negative
 * errno (the transport is then dead).
 */
static long ring_rsp_avail(struct xs_ring_transport *rt)
{
	/* Pairs with the daemon's release (write barrier) before it publishes
	 * rsp_prod: the bytes below prod are in rsp[] before we copy them. */
	uint32_t prod = vp_load_acquire(&rt->page->rsp_prod);

	if (!ring_idx_ok(rt->rsp_prod_seen, prod, rt->rsp_cons + XS_RING_BYTES))
		return ring_bad_index(rt);
	rt->rsp_prod_seen = prod;
	return (long)(prod - rt->rsp_cons);
}

/* ------------------------------------------------------------------------ */
/* The transport ops                                                        */

static int ring_send(void *ctx, const void *buf, size_t len)
{
	struct xs_ring_transport *rt = ctx;
	struct xs_ring_page *pg = rt->page;
	const uint8_t *p = buf;

	if (rt->dead)
		return rt->dead;
	while (len > 0) {
		/* Pairs with the daemon's release of req_cons after it copied the
		 * bytes out: the space below cons + 1024 is ours to overwrite. */
		uint32_t cons = vp_load_acquire(&pg->req_cons);
		uint32_t prod = rt->req_prod, space, n, off, first;
		int r;

		if (!ring_idx_ok(rt->req_cons_seen, cons, prod))
			return ring_bad_index(rt);
		rt->req_cons_seen = cons;
		space = XS_RING_BYTES - (prod - cons);
		if (space == 0) {
			r = ring_peer_error(rt);
			if (r)
				return r;
			rt->full_waits++;
			r = rt->wait(rt->ctx, -1);
			if (r < 0)
				return ring_kill(rt, r);
			/* Orders the callback's acknowledgement of the event before
			 * the re-read of req_cons; pairs with the daemon's barrier
			 * between publishing req_cons and signalling. */
			vp_mb();
			continue;
		}
		n = len < space ? (uint32_t)len : space;
		off = prod & XS_RING_MASK;
		first = XS_RING_BYTES - off;
		if (first > n)
			first = n;
		vp_memcpy(pg->req + off, p, first);
		if (n > first)
			vp_memcpy(pg->req, p + first, n - first); /* wrapped to the ring's start */
		rt->req_prod = prod + n;
		/* The data is in req[] before the daemon can see the new prod;
		 * pairs with the daemon's acquire (read barrier) of req_prod. */
		vp_store_release(&pg->req_prod, rt->req_prod);
		rt->sent_bytes += n;
		p += n;
		len -= n;
		r = ring_notify(rt);
		if (r)
			return r;
	}
	return 0;
}

static long ring_recv(void *ctx, void *buf, size_t len)
{
	struct xs_ring_transport *rt = ctx;
	struct xs_ring_page *pg = rt->page;
	uint32_t n, off, first;
	long avail;

	if (rt->dead)
		return rt->dead;
	avail = ring_rsp_avail(rt);
	if (avail < 0)
		return avail;
	if (avail == 0)
		return ring_peer_error(rt); /* nothing now: 0, or -VP_EPIPE when the daemon quit */
	if (len == 0)
		return 0;
	n = (size_t)avail < len ? (uint32_t)avail : (uint32_t)len;
	off = rt->rsp_cons & XS_RING_MASK;
	first = XS_RING_BYTES - off;
	if (first > n)
		first = n;
	vp_memcpy(buf, pg->rsp + off, first);
	if (n > first)
		vp_memcpy((uint8_t *)buf + first, pg->rsp, n - first);
	rt->rsp_cons += n;
	/* Our reads of rsp[] are done before the daemon may overwrite the
	 * space; pairs with the daemon's acquire of rsp_cons. */
	vp_store_release(&pg->rsp_cons, rt->rsp_cons);
	rt->recv_bytes += n;
	/* The daemon may be sleeping on a full reply ring: signal the space.
	 * A failing notify kills the transport from the next call on; the
	 * bytes copied now are still handed over. */
	(void)ring_notify(rt);
	return (long)n;
}

static int ring_wait(void *ctx, int timeout_ms)
{
	struct xs_ring_transport *rt = ctx;
	long avail;
	int r;

	if (rt->dead)
		return rt->dead;
	/* Orders the previous wait callback's acknowledgement of the event
	 * before the read of rsp_prod below; pairs with the daemon's barrier
	 * between publishing rsp_prod and signalling. A daemon update after
	 * this check leaves the event pending, so the callback returns. */
	vp_mb();
	avail = ring_rsp_avail(rt);
	if (avail != 0)
		return avail < 0 ? (int)avail : 1;
	r = ring_peer_error(rt);
	if (r)
		return r;
	return rt->wait(rt->ctx, timeout_ms);
}

static void ring_close(void *ctx)
{
	struct xs_ring_transport *rt = ctx;

	/* The page and the event channel belong to the caller. */
	ring_kill(rt, -VP_EPIPE);
}

static const struct xs_transport_ops ring_ops = {
	.send = ring_send,
	.recv = ring_recv,
	.wait = ring_wait,
	.close = ring_close,
};

int xs_ring_transport_init(struct xs_ring_transport *rt, struct xs_transport *t, void *page,
			   int (*notify)(void *ctx), int (*wait)(void *ctx, int timeout_ms), void *ctx)
{
	struct xs_ring_page *pg = page;
	uint32_t req_cons, req_prod, rsp_cons, rsp_prod;

	if (!rt || !t || !page || !notify || !wait || ((uintptr_t)page & 3u) != 0)
		return -VP_EINVAL;
	rt->page = pg;
	rt->notify = notify;
	rt->wait = wait;
	rt->ctx = ctx;
	rt->dead = 0;
	rt->sent_bytes = 0;
	rt->recv_bytes = 0;
	rt->notifies = 0;
	rt->full_waits = 0;
	rt->index_errors = 0;
	if ((VP_READ_ONCE(pg->server_features) & XS_RING_FEATURE_RECONNECT) &&
	    vp_load_acquire(&pg->connection) != XS_RING_CONNECTED)
		return -VP_EAGAIN;
	/* Pairs with the daemon's releases of its indices (ring reset or setup). */
	req_cons = vp_load_acquire(&pg->req_cons);
	rsp_prod = vp_load_acquire(&pg->rsp_prod);
	req_prod = VP_READ_ONCE(pg->req_prod);
	rsp_cons = VP_READ_ONCE(pg->rsp_cons);
	if (req_prod - req_cons > XS_RING_BYTES || rsp_prod - rsp_cons > XS_RING_BYTES) {
		rt->index_errors++;
		rt->dead = -VP_EIO;
		return -VP_EIO;
	}
	rt->req_prod = req_prod;
	rt->req_cons_seen = req_cons;
	rt->rsp_cons = rsp_cons;
	rt->rsp_prod_seen = rsp_prod;
	t->ops = &ring_ops;
	t->ctx = rt;
	return 0;
}
