/* SPDX-License-Identifier: MIT */
/*
 * xs-ring-relay.c - Xen's side of a xenbus ring page for xs-ring-test; see
 * xs-ring-relay.h. Like a careful xenstored, the relay checks the guest's
 * indices (req_prod at most 1024 ahead of what it consumed, rsp_cons only
 * forward and never past what it produced) and records a violation in
 * `failed` instead of acting on it.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xs-ring-relay.h"

struct xs_ring_page *relay_page_new(uint32_t base)
{
	struct xs_ring_page *pg = aligned_alloc(XS_RING_PAGE_BYTES, XS_RING_PAGE_BYTES);

	if (!pg)
		abort();
	memset(pg, 0, sizeof(*pg));
	memset(pg->unused, RELAY_CANARY, sizeof(pg->unused));
	pg->req_cons = pg->req_prod = pg->rsp_cons = pg->rsp_prod = base;
	return pg;
}

int relay_page_canary_intact(const struct xs_ring_page *pg)
{
	size_t i;

	for (i = 0; i < sizeof(pg->unused); i++)
		if (pg->unused[i] != RELAY_CANARY)
			return 0;
	return 1;
}

/* ------------------------------------------------------------------------ */
/* The relay thread                                                         */

static void relay_kick(struct relay *r)
{
	/* Our index stores before the guest is woken; pairs with the full
	 * barrier in ring_wait() (and send()'s) after its wait callback. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (eventfd_write(r->ev_guest, 1) == 0)
		__atomic_fetch_add(&r->kicks, 1, __ATOMIC_RELAXED);
}

static void relay_fail(struct relay *r, int err)
{
	__atomic_store_n(&r->failed, err, __ATOMIC_RELAXED);
	r->quiet = 1;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void relay_apply_sabotage(struct relay *r, int sab, uint32_t req_prod)
{
	struct xs_ring_page *pg = r->pg;
	uint32_t rsp_cons = __atomic_load_n(&pg->rsp_cons, __ATOMIC_ACQUIRE);

	switch (sab) {
	case SAB_RSP_PROD_FAR:
		__atomic_store_n(&pg->rsp_prod, r->rsp_prod + 0x40000000u, __ATOMIC_RELEASE);
		break;
	case SAB_RSP_PROD_1025:
		__atomic_store_n(&pg->rsp_prod, rsp_cons + XS_RING_BYTES + 1, __ATOMIC_RELEASE);
		break;
	case SAB_RSP_PROD_BACK:
		__atomic_store_n(&pg->rsp_prod, r->rsp_prod - 1, __ATOMIC_RELEASE);
		break;
	case SAB_REQ_CONS_AHEAD:
		__atomic_store_n(&pg->req_cons, req_prod + 1, __ATOMIC_RELEASE);
		break;
	case SAB_REQ_CONS_BACK:
		__atomic_store_n(&pg->req_cons, r->req_cons - 1, __ATOMIC_RELEASE);
		break;
	case SAB_SERVER_ERROR:
		__atomic_store_n(&pg->error, 2, __ATOMIC_RELAXED);
		__atomic_store_n(&pg->server_features, XS_RING_FEATURE_ERROR, __ATOMIC_RELEASE);
		break;
	}
	r->quiet = 1;
	relay_kick(r);
}

/* Requests: req[] -> daemon. Returns 1 when something moved. */
static int relay_requests(struct relay *r)
{
	struct xs_ring_page *pg = r->pg;
	uint8_t buf[XS_RING_BYTES];
	/* pairs with the release of req_prod in ring_send() */
	uint32_t prod = __atomic_load_n(&pg->req_prod, __ATOMIC_ACQUIRE);
	uint32_t n = prod - r->req_cons, i;
	int sab;

	if (n == 0)
		return 0;
	if (n > XS_RING_BYTES) {
		relay_fail(r, EIO); /* the guest broke the protocol */
		return 0;
	}
	sab = __atomic_exchange_n(&r->sabotage, SAB_NONE, __ATOMIC_ACQ_REL);
	if (sab != SAB_NONE) {
		relay_apply_sabotage(r, sab, prod);
		return 0;
	}
	for (i = 0; i < n; i++)
		buf[i] = pg->req[(r->req_cons + i) & XS_RING_MASK];
	if (write_all(r->sock, buf, n) < 0) {
		relay_fail(r, errno ? errno : EPIPE);
		return 0;
	}
	r->req_cons += n;
	/* our reads of req[] are done; pairs with the acquire in ring_send() */
	__atomic_store_n(&pg->req_cons, r->req_cons, __ATOMIC_RELEASE);
	return 1;
}

/* Replies and events: daemon -> rsp[]. Returns 1 when something moved. */
static int relay_replies(struct relay *r)
{
	struct xs_ring_page *pg = r->pg;
	uint32_t cons, used, n, i;

	if (r->in_off == r->in_len) {
		ssize_t got = recv(r->sock, r->in, sizeof(r->in), MSG_DONTWAIT);

		if (got == 0) {
			relay_fail(r, EPIPE);
			return 0;
		}
		if (got < 0)
			return 0; /* EAGAIN: nothing from the daemon now */
		r->in_len = (size_t)got;
		r->in_off = 0;
	}
	/* pairs with the release of rsp_cons in ring_recv() */
	cons = __atomic_load_n(&pg->rsp_cons, __ATOMIC_ACQUIRE);
	/* the guest's index may only move forward, up to what we produced */
	if (cons - r->rsp_cons_seen > r->rsp_prod - r->rsp_cons_seen) {
		relay_fail(r, EIO);
		return 0;
	}
	r->rsp_cons_seen = cons;
	used = r->rsp_prod - cons;
	n = XS_RING_BYTES - used;
	if (n > r->in_len - r->in_off)
		n = (uint32_t)(r->in_len - r->in_off);
	if (n == 0) {
		__atomic_fetch_add(&r->rsp_full, 1, __ATOMIC_RELAXED);
		return 0;
	}
	for (i = 0; i < n; i++)
		pg->rsp[(r->rsp_prod + i) & XS_RING_MASK] = r->in[r->in_off + i];
	r->in_off += n;
	r->rsp_prod += n;
	/* the bytes are on rsp[] first; pairs with the acquire in ring_rsp_avail() */
	__atomic_store_n(&pg->rsp_prod, r->rsp_prod, __ATOMIC_RELEASE);
	return 1;
}

static void *relay_main(void *arg)
{
	struct relay *r = arg;

	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = r->ev_stop, .events = POLLIN },
			{ .fd = r->ev_relay, .events = POLLIN },
			{ .fd = r->sock, .events = POLLIN },
		};
		eventfd_t v;
		int moved = 0;

		if (!r->quiet)
			moved |= relay_requests(r);
		if (!r->quiet)
			moved |= relay_replies(r);
		if (moved) {
			relay_kick(r);
			continue;
		}
		/* Nothing to do: sleep until the guest signals, the daemon
		 * speaks (only when its last bytes are all on the ring) or the
		 * test stops us. A guest signal sent after the checks above
		 * stays in the eventfd, so poll returns at once. */
		if (poll(pfd, (r->quiet || r->in_off < r->in_len) ? 2 : 3, -1) < 0 && errno != EINTR) {
			relay_fail(r, errno);
			break;
		}
		if (pfd[0].revents)
			break;
		if (pfd[1].revents && eventfd_read(r->ev_relay, &v) == 0)
			__atomic_fetch_add(&r->wakeups, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Life cycle                                                               */

int relay_start(struct relay *r, uint32_t base)
{
	struct xs_fd_transport ft;
	struct xs_transport st;
	int err;

	memset(r, 0, sizeof(*r));
	r->sock = r->ev_guest = r->ev_relay = r->ev_stop = -1;
	err = xs_fd_transport_connect(&ft, &st, NULL);
	if (err < 0)
		return err;
	r->sock = ft.fd;
	r->ev_guest = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r->ev_relay = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r->ev_stop = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->ev_guest < 0 || r->ev_relay < 0 || r->ev_stop < 0) {
		err = -errno;
		goto fail;
	}
	r->pg = relay_page_new(base);
	r->req_cons = r->rsp_prod = r->rsp_cons_seen = base;
	err = -pthread_create(&r->thread, NULL, relay_main, r);
	if (err == 0)
		return 0;
	free(r->pg);
fail:
	close(r->sock);
	if (r->ev_guest >= 0)
		close(r->ev_guest);
	if (r->ev_relay >= 0)
		close(r->ev_relay);
	if (r->ev_stop >= 0)
		close(r->ev_stop);
	return err;
}

int relay_stop(struct relay *r)
{
	eventfd_write(r->ev_stop, 1);
	pthread_join(r->thread, NULL);
	close(r->sock);
	close(r->ev_guest);
	close(r->ev_relay);
	close(r->ev_stop);
	free(r->pg);
	r->pg = NULL;
	return r->failed;
}

void relay_sabotage_next(struct relay *r, enum relay_sabotage sab)
{
	__atomic_store_n(&r->sabotage, (int)sab, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------------------ */
/* The guest's end of the event channel                                     */

int relay_guest_notify(void *ctx)
{
	struct relay *r = ctx;

	return eventfd_write(r->ev_relay, 1) == 0 ? 0 : -errno;
}

int relay_guest_wait(void *ctx, int timeout_ms)
{
	struct relay *r = ctx;
	struct pollfd pfd = { .fd = r->ev_guest, .events = POLLIN };
	eventfd_t v;
	int n;

	do
		n = poll(&pfd, 1, timeout_ms < 0 ? 10000 : timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0 && timeout_ms < 0) {
		printf("# the guest waited 10 s for a signal from the relay: a lost wake-up?\n");
		return -ETIMEDOUT;
	}
	if (n == 0)
		return 0;
	/* takes the pending signal (non-blocking: another reader cannot exist) */
	if (eventfd_read(r->ev_guest, &v) < 0 && errno != EAGAIN)
		return -errno;
	return 1;
}
