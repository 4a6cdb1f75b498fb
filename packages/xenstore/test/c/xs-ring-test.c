/* SPDX-License-Identifier: MIT */
/*
 * xs-ring-test - the xenbus ring transport (csrc/xs_transport_ring.c) on
 * its own and under the C client against the real daemon.
 *
 * Two kinds of cases:
 *
 *   - The transport alone, single-threaded: the "daemon" is played inside
 *     the wait callback (it consumes request bytes, or scribbles over the
 *     page), so chunking, wrap-around, index validation and error paths are
 *     checked byte for byte without timing.
 *
 *   - The client over the ring against the daemon at $XENSTORED_PATH
 *     (c-client.test.ts starts one): a relay thread per connection plays
 *     Xen's side of the page (xs-ring-relay.h: it pumps req[] to a socket
 *     connected to the daemon and the daemon's bytes into rsp[], by the
 *     ring protocol, with two eventfds as the event channel). It can be
 *     told to turn hostile at the next request (move rsp_prod or req_cons
 *     where they must not go, or raise the connection error), after which
 *     it touches nothing.
 *
 * Each page is its own 4096-byte allocation (ASan reports any access
 * outside it) whose unused tail holds a canary the guest must not touch.
 * Output is TAP (vpio/tap.h); built with ASan + UBSan by make test-bins.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vpio/xs.h"
#include "vpio/tap.h"
#include "xs-ring-relay.h"

/* Byte x of a test stream: distinct per (stamp, position), NULs included. */
static uint8_t stamp_byte(uint32_t stamp, uint32_t x)
{
	return (uint8_t)(x * 7u + stamp * 13u + (x >> 8));
}

/* ------------------------------------------------------------------------ */
/* The transport alone: a daemon played inside the callbacks                */

struct scripted {
	struct xs_ring_page *pg;
	int notifies, waits, last_timeout;
	int wait_ret, notify_ret;
	int idle_waits;            /* this many waits return without freeing anything */
	uint32_t consume_per_wait; /* request bytes the "daemon" takes per wait */
	uint8_t sink[8192];        /* what it took, in order */
	uint32_t sink_len;
};

static int scripted_notify(void *ctx)
{
	struct scripted *s = ctx;

	s->notifies++;
	return s->notify_ret;
}

static int scripted_wait(void *ctx, int timeout_ms)
{
	struct scripted *s = ctx;
	uint32_t cons = s->pg->req_cons, prod = __atomic_load_n(&s->pg->req_prod, __ATOMIC_ACQUIRE);
	uint32_t n = prod - cons, i;

	s->waits++;
	s->last_timeout = timeout_ms;
	if (s->idle_waits > 0) {
		s->idle_waits--;
		return s->wait_ret; /* a spurious wake-up */
	}
	if (n > s->consume_per_wait)
		n = s->consume_per_wait;
	for (i = 0; i < n && s->sink_len < sizeof(s->sink); i++)
		s->sink[s->sink_len++] = s->pg->req[(cons + i) & XS_RING_MASK];
	__atomic_store_n(&s->pg->req_cons, cons + n, __ATOMIC_RELEASE);
	return s->wait_ret;
}

struct direct {
	struct scripted s;
	struct xs_ring_transport rt;
	struct xs_transport t;
};

static struct direct *direct_new(uint32_t base)
{
	struct direct *d = calloc(1, sizeof(*d));

	if (!d)
		abort();
	d->s.pg = relay_page_new(base);
	d->s.wait_ret = 1;
	if (xs_ring_transport_init(&d->rt, &d->t, d->s.pg, scripted_notify, scripted_wait, &d->s) != 0)
		abort();
	return d;
}

static void direct_free(struct direct *d)
{
	CHECK(relay_page_canary_intact(d->s.pg));
	free(d->s.pg);
	free(d);
}

/* The "daemon" puts n stamped bytes on rsp[] and publishes rsp_prod. */
static void daemon_reply(struct xs_ring_page *pg, uint32_t stamp, uint32_t n)
{
	uint32_t prod = pg->rsp_prod, i;

	for (i = 0; i < n; i++)
		pg->rsp[(prod + i) & XS_RING_MASK] = stamp_byte(stamp, i);
	__atomic_store_n(&pg->rsp_prod, prod + n, __ATOMIC_RELEASE);
}

static void t_init_arguments(void)
{
	struct xs_ring_page *pg = relay_page_new(0);
	struct xs_ring_transport rt;
	struct xs_transport t;
	struct scripted s = { .pg = pg };

	CHECK_EQ(xs_ring_transport_init(NULL, &t, pg, scripted_notify, scripted_wait, &s), -VP_EINVAL);
	CHECK_EQ(xs_ring_transport_init(&rt, NULL, pg, scripted_notify, scripted_wait, &s), -VP_EINVAL);
	CHECK_EQ(xs_ring_transport_init(&rt, &t, NULL, scripted_notify, scripted_wait, &s), -VP_EINVAL);
	CHECK_EQ(xs_ring_transport_init(&rt, &t, pg, NULL, scripted_wait, &s), -VP_EINVAL);
	CHECK_EQ(xs_ring_transport_init(&rt, &t, pg, scripted_notify, NULL, &s), -VP_EINVAL);
	CHECK_EQ(xs_ring_transport_init(&rt, &t, (uint8_t *)pg + 2, scripted_notify, scripted_wait, &s), -VP_EINVAL);
	CHECK_EQ(xs_ring_transport_init(&rt, &t, pg, scripted_notify, scripted_wait, NULL), 0); /* ctx may be NULL */
	CHECK(t.ops != NULL && t.ctx == &rt);
	CHECK_EQ(s.notifies + s.waits, 0); /* init does not touch the event channel */
	free(pg);
}

static void t_init_adopts_or_rejects_indices(void)
{
	struct xs_ring_page *pg = relay_page_new(0);
	struct xs_ring_transport rt;
	struct xs_transport t = { NULL, NULL };
	struct scripted s = { .pg = pg };

	/* indices need not start at 0; a partly consumed request ring is fine */
	pg->req_cons = 0xfffffe00u;
	pg->req_prod = 0x00000100u; /* 768 bytes pending, across the 2^32 wrap */
	pg->rsp_cons = pg->rsp_prod = 77;
	CHECK_EQ(xs_ring_transport_init(&rt, &t, pg, scripted_notify, scripted_wait, &s), 0);
	CHECK_EQ(rt.req_prod, 0x100);
	CHECK_EQ(rt.req_cons_seen, 0xfffffe00u);
	CHECK_EQ(rt.rsp_cons, 77);
	/* more than a ring's worth in flight: the page is not a xenstore ring */
	pg->req_cons = 0;
	pg->req_prod = XS_RING_BYTES + 1;
	t.ops = NULL;
	CHECK_EQ(xs_ring_transport_init(&rt, &t, pg, scripted_notify, scripted_wait, &s), -VP_EIO);
	CHECK_EQ(rt.index_errors, 1);
	CHECK(t.ops == NULL);
	pg->req_prod = XS_RING_BYTES; /* exactly full is legal */
	pg->rsp_cons = 10;
	pg->rsp_prod = 5; /* behind its consumer */
	CHECK_EQ(xs_ring_transport_init(&rt, &t, pg, scripted_notify, scripted_wait, &s), -VP_EIO);
	pg->rsp_prod = 10 + XS_RING_BYTES;
	CHECK_EQ(xs_ring_transport_init(&rt, &t, pg, scripted_notify, scripted_wait, &s), 0);
	/* a daemon that offers reconnection and is resetting the ring: come back later */
	pg->server_features = XS_RING_FEATURE_RECONNECT;
	pg->connection = XS_RING_RECONNECTING;
	CHECK_EQ(xs_ring_transport_init(&rt, &t, pg, scripted_notify, scripted_wait, &s), -VP_EAGAIN);
	pg->connection = XS_RING_CONNECTED;
	CHECK_EQ(xs_ring_transport_init(&rt, &t, pg, scripted_notify, scripted_wait, &s), 0);
	/* without the feature bit the connection word means nothing */
	pg->server_features = 0;
	pg->connection = 7;
	CHECK_EQ(xs_ring_transport_init(&rt, &t, pg, scripted_notify, scripted_wait, &s), 0);
	CHECK(relay_page_canary_intact(pg));
	free(pg);
}

/*
 * A 3000-byte message through a ring the daemon drains 700 bytes per
 * event: the sender fills what is free, publishes, signals, sleeps, and
 * the bytes arrive in order across the ring's end and the 2^32 wrap.
 */
static void t_send_chunks_while_full(void)
{
	struct direct *d = direct_new(0xfffffd00u);
	static uint8_t msg[3000];
	uint32_t i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = stamp_byte(1, i);
	d->s.consume_per_wait = 700;
	CHECK_EQ(d->t.ops->send(d->t.ctx, msg, sizeof(msg)), 0);
	CHECK_EQ(d->rt.req_prod, 0xfffffd00u + 3000u);
	CHECK_EQ(d->s.pg->req_prod, 0xfffffd00u + 3000u);
	CHECK_EQ(d->rt.sent_bytes, 3000);
	/* 1024 fit at once; each wait frees 700: 1024 + 3 * 700 >= 3000 */
	CHECK_EQ(d->s.waits, 3);
	CHECK_EQ(d->rt.full_waits, 3);
	CHECK_EQ(d->s.last_timeout, -1);
	CHECK_EQ(d->s.notifies, 4); /* one per published piece */
	CHECK_EQ(d->rt.notifies, 4);
	/* the daemon drains the rest; everything arrived in order */
	d->s.consume_per_wait = 4096;
	scripted_wait(&d->s, 0);
	CHECK_EQ(d->s.sink_len, sizeof(msg));
	CHECK(memcmp(d->s.sink, msg, sizeof(msg)) == 0);
	/* a message that fits the free space goes out in one piece, no wait */
	CHECK_EQ(d->t.ops->send(d->t.ctx, "abc", 3), 0);
	CHECK_EQ(d->s.waits, 4);
	CHECK_EQ(d->s.notifies, 5);
	direct_free(d);
}

/* A wait callback that wakes without the daemon having moved: send re-checks and sleeps again. */
static void t_send_spurious_wakeups(void)
{
	struct direct *d = direct_new(0);
	static uint8_t msg[1500];

	memset(msg, 'm', sizeof(msg));
	/* three wake-ups that free nothing, then the daemon drains the ring */
	d->s.idle_waits = 3;
	d->s.consume_per_wait = 4096;
	CHECK_EQ(d->t.ops->send(d->t.ctx, msg, sizeof(msg)), 0);
	CHECK_EQ(d->rt.full_waits, 4);
	CHECK_EQ(d->s.notifies, 2); /* only real progress is published */
	CHECK_EQ(d->s.pg->req_prod, sizeof(msg));
	direct_free(d);

	/* a wait that fails mid-message: that errno, for good */
	d = direct_new(0);
	d->s.wait_ret = -VP_EINVAL;
	CHECK_EQ(d->t.ops->send(d->t.ctx, msg, sizeof(msg)), -VP_EINVAL);
	CHECK_EQ(d->rt.sent_bytes, 1024); /* what fitted was published */
	CHECK_EQ(d->s.pg->req_prod, 1024);
	/* a failed send left half a message on the ring: dead for good */
	d->s.wait_ret = 1;
	d->s.consume_per_wait = 4096;
	CHECK_EQ(d->t.ops->send(d->t.ctx, "x", 1), -VP_EINVAL);
	CHECK_EQ(d->t.ops->recv(d->t.ctx, msg, 1), -VP_EINVAL);
	CHECK_EQ(d->t.ops->wait(d->t.ctx, 0), -VP_EINVAL);
	CHECK_EQ(d->s.pg->req_prod, 1024);
	direct_free(d);

	/* a daemon that frees one byte per event */
	d = direct_new(0);
	d->s.consume_per_wait = 1;
	CHECK_EQ(d->t.ops->send(d->t.ctx, msg, 1030), 0);
	CHECK_EQ(d->rt.full_waits, 6);
	CHECK_EQ(d->s.pg->req_prod, 1030);
	direct_free(d);
}

/* A full reply ring (1024 bytes, wrapping at the ring's end) comes out in order over two calls. */
static void t_recv_full_ring_wraps(void)
{
	struct direct *d = direct_new(1000);
	static uint8_t out[2048];
	uint32_t i;

	CHECK_EQ(d->t.ops->recv(d->t.ctx, out, sizeof(out)), 0); /* nothing yet, no signal */
	CHECK_EQ(d->s.notifies, 0);
	daemon_reply(d->s.pg, 2, XS_RING_BYTES);
	CHECK_EQ(d->t.ops->wait(d->t.ctx, -1), 1); /* bytes there: no sleep */
	CHECK_EQ(d->s.waits, 0);
	CHECK_EQ(d->t.ops->recv(d->t.ctx, out, 600), 600);
	CHECK_EQ(d->s.pg->rsp_cons, 1600);
	CHECK_EQ(d->s.notifies, 1); /* the daemon may be waiting for space */
	CHECK_EQ(d->t.ops->recv(d->t.ctx, out + 600, sizeof(out) - 600), XS_RING_BYTES - 600);
	CHECK_EQ(d->s.pg->rsp_cons, 1000 + XS_RING_BYTES);
	CHECK_EQ(d->s.notifies, 2);
	for (i = 0; i < XS_RING_BYTES; i++)
		if (out[i] != stamp_byte(2, i))
			break;
	CHECK_EQ(i, XS_RING_BYTES);
	CHECK_EQ(d->rt.recv_bytes, XS_RING_BYTES);
	CHECK_EQ(d->t.ops->recv(d->t.ctx, out, sizeof(out)), 0);
	/* empty: wait sleeps in the callback with the caller's timeout */
	d->s.wait_ret = 0;
	CHECK_EQ(d->t.ops->wait(d->t.ctx, 25), 0);
	CHECK_EQ(d->s.last_timeout, 25);
	d->s.wait_ret = 1;
	CHECK_EQ(d->t.ops->wait(d->t.ctx, 0), 1); /* a spurious wake-up is passed on */
	CHECK_EQ(d->s.waits, 2);
	direct_free(d);
}

/* A daemon scribbling over the guest's own indices changes nothing on our side. */
static void t_own_indices_are_private(void)
{
	struct direct *d = direct_new(0);
	uint8_t out[8];

	CHECK_EQ(d->t.ops->send(d->t.ctx, "abcd", 4), 0);
	d->s.pg->req_prod = 900; /* "daemon" writes the guest's producer index */
	d->s.pg->rsp_cons = 12345;
	CHECK_EQ(d->t.ops->send(d->t.ctx, "efgh", 4), 0);
	CHECK_EQ(d->s.pg->req_prod, 8); /* published from our copy */
	CHECK(memcmp(d->s.pg->req, "abcdefgh", 8) == 0);
	daemon_reply(d->s.pg, 3, 5); /* rsp_prod 0 -> 5 */
	CHECK_EQ(d->t.ops->recv(d->t.ctx, out, sizeof(out)), 5);
	CHECK_EQ(d->s.pg->rsp_cons, 5);
	CHECK_EQ(d->rt.index_errors, 0);
	direct_free(d);
}

/* Each way the daemon's two indices can leave their window kills the transport with EIO. */
static void t_hostile_indices_direct(void)
{
	static const struct {
		const char *name;
		int ring;      /* 0: rsp_prod, 1: req_cons */
		uint32_t delta; /* added to the index's last legal value */
	} cases[] = {
		{ "rsp_prod 1025 ahead of rsp_cons", 0, XS_RING_BYTES + 1 },
		{ "rsp_prod far ahead", 0, 0x80000000u },
		{ "rsp_prod one step back", 0, 0xffffffffu },
		{ "req_cons past req_prod", 1, 11 },
		{ "req_cons one step back", 1, 0xffffffffu },
		{ "req_cons far behind (prod - cons > 1024)", 1, 0u - 5000u },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct direct *d = direct_new(0x7ffffff0u);
		struct xs_ring_page *pg = d->s.pg;
		uint8_t out[64];
		uint32_t req_prod;
		long r;

		CHECK_EQ(d->t.ops->send(d->t.ctx, "0123456789", 10), 0); /* 10 request bytes pending */
		daemon_reply(pg, 4, 6);
		CHECK_EQ(d->t.ops->recv(d->t.ctx, out, sizeof(out)), 6);
		if (cases[i].ring == 0) {
			pg->rsp_prod += cases[i].delta;
			r = d->t.ops->wait(d->t.ctx, 0);
		} else {
			pg->req_cons += cases[i].delta;
			r = d->t.ops->send(d->t.ctx, "x", 1);
		}
		if (r != -VP_EIO || d->rt.index_errors != 1) {
			printf("# %s: got %ld, index_errors %u\n", cases[i].name, r, d->rt.index_errors);
			tap_case_failed = 1;
		}
		/* dead for good, and the page is no longer touched */
		req_prod = pg->req_prod;
		CHECK_EQ(d->t.ops->recv(d->t.ctx, out, sizeof(out)), -VP_EIO);
		CHECK_EQ(d->t.ops->send(d->t.ctx, "y", 1), -VP_EIO);
		CHECK_EQ(d->t.ops->wait(d->t.ctx, -1), -VP_EIO);
		CHECK_EQ(pg->req_prod, req_prod);
		CHECK_EQ(pg->rsp_cons, 0x7ffffff0u + 6);
		CHECK_EQ(d->s.notifies, 2);
		CHECK_EQ(d->rt.index_errors, 1);
		direct_free(d);
	}
}

static void t_peer_error_and_close(void)
{
	struct direct *d = direct_new(0);
	uint8_t out[8];

	/* the error word means nothing until the daemon offers the feature */
	d->s.pg->error = 2;
	d->s.wait_ret = 0;
	CHECK_EQ(d->t.ops->recv(d->t.ctx, out, sizeof(out)), 0);
	CHECK_EQ(d->t.ops->wait(d->t.ctx, 0), 0);
	/* bytes already there are still delivered; then the daemon is gone */
	daemon_reply(d->s.pg, 5, 3);
	d->s.pg->server_features = XS_RING_FEATURE_ERROR;
	CHECK_EQ(d->t.ops->recv(d->t.ctx, out, sizeof(out)), 3);
	CHECK_EQ(d->t.ops->recv(d->t.ctx, out, sizeof(out)), -VP_EPIPE);
	CHECK_EQ(d->t.ops->wait(d->t.ctx, -1), -VP_EPIPE);
	direct_free(d);

	/* a full request ring whose daemon reports an error: send stops instead of sleeping forever */
	d = direct_new(0);
	d->s.pg->server_features = XS_RING_FEATURE_ERROR | XS_RING_FEATURE_RECONNECT;
	d->s.pg->error = 1;
	{
		static uint8_t msg[2000];

		CHECK_EQ(d->t.ops->send(d->t.ctx, msg, sizeof(msg)), -VP_EPIPE);
		CHECK_EQ(d->s.waits, 0);
	}
	direct_free(d);

	/* close: every later call is EPIPE; a failing notify is sticky too */
	d = direct_new(0);
	d->t.ops->close(d->t.ctx);
	CHECK_EQ(d->t.ops->send(d->t.ctx, "x", 1), -VP_EPIPE);
	CHECK_EQ(d->s.pg->req_prod, 0);
	direct_free(d);
	d = direct_new(0);
	d->s.notify_ret = -VP_EINVAL;
	CHECK_EQ(d->t.ops->send(d->t.ctx, "x", 1), -VP_EINVAL);
	CHECK_EQ(d->t.ops->wait(d->t.ctx, 0), -VP_EINVAL);
	direct_free(d);
	d = direct_new(0);
	daemon_reply(d->s.pg, 6, 4);
	d->s.notify_ret = -VP_EINVAL;
	CHECK_EQ(d->t.ops->recv(d->t.ctx, out, 2), 2); /* the copied bytes are handed over */
	CHECK_EQ(d->t.ops->recv(d->t.ctx, out, 2), -VP_EINVAL);
	direct_free(d);
}

struct rconn {
	struct xs_handle h;
	struct xs_ring_transport rt;
	struct xs_transport t;
	struct relay relay;
	uint8_t events[8 * XS_EVENT_RECORD_MAX];
};

/* A client over a fresh ring page whose indices all start at `base`, relayed to $XENSTORED_PATH. */
static struct rconn *rconn_open_at(uint32_t base)
{
	struct rconn *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		abort();
	err = relay_start(&c->relay, base);
	if (err < 0) {
		printf("# cannot start the relay to $XENSTORED_PATH: %s\n", strerror(-err));
		abort();
	}
	if (xs_ring_transport_init(&c->rt, &c->t, c->relay.pg, relay_guest_notify, relay_guest_wait, &c->relay) != 0)
		abort();
	if (xs_open(&c->h, &c->t, c->events, sizeof(c->events)) != 0)
		abort();
	return c;
}

static struct rconn *rconn_open(void)
{
	return rconn_open_at(0);
}

/* Closes the client and stops its relay; `honest`: the relay must have seen no protocol break. */
static void rconn_close_checked(struct rconn *c, int honest)
{
	int failed;

	xs_close(&c->h);
	CHECK(relay_page_canary_intact(c->relay.pg));
	CHECK_EQ(c->relay.pg->connection, 0); /* never written by the guest */
	failed = relay_stop(&c->relay);
	if (honest && failed) {
		printf("# relay failed: %s\n", strerror(failed));
		tap_case_failed = 1;
	}
	free(c);
}

static void rconn_close(struct rconn *c)
{
	rconn_close_checked(c, 1);
}

static const char *rd(struct rconn *c, uint32_t tx, const char *path)
{
	static char buf[XS_PAYLOAD_MAX + 1];
	int r = xs_read(&c->h, tx, path, buf, sizeof(buf), NULL);

	if (r < 0)
		snprintf(buf, sizeof(buf), "<errno %d>", -r);
	return buf;
}

static int wr(struct rconn *c, uint32_t tx, const char *path, const char *value)
{
	return xs_write(&c->h, tx, path, value, (uint32_t)strlen(value));
}

/* Each case starts from an empty subtree, so the program can run again against the same daemon. */
static void fresh(struct rconn *c, const char *path)
{
	int r = xs_rm(&c->h, XS_NO_TX, path);

	CHECK(r == 0 || r == -XS_ENOENT);
}

/* ------------------------------------------------------------------------ */
/* The client over the ring, against the daemon                             */

static void t_ring_write_read(void)
{
	struct rconn *c = rconn_open();
	static const uint8_t bin[5] = { 'a', 0, 'b', 0xff, 0 };
	uint8_t out[8];
	uint32_t len = 0;

	CHECK_EQ(wr(c, XS_NO_TX, "/rt/rw/a", "hello"), 0);
	CHECK_STR(rd(c, XS_NO_TX, "/rt/rw/a"), "hello");
	CHECK_EQ(xs_write(&c->h, XS_NO_TX, "/rt/rw/bin", bin, sizeof(bin)), 0);
	CHECK_EQ(xs_read(&c->h, XS_NO_TX, "/rt/rw/bin", out, sizeof(out), &len), 0);
	CHECK_EQ(len, sizeof(bin));
	CHECK(memcmp(out, bin, sizeof(bin)) == 0);
	CHECK_EQ(wr(c, XS_NO_TX, "/rt/rw/empty", ""), 0);
	CHECK_STR(rd(c, XS_NO_TX, "/rt/rw/empty"), "");
	CHECK_EQ(wr(c, XS_NO_TX, "rt-rel", "r"), 0); /* relative: our domain is dom0 here */
	CHECK_STR(rd(c, XS_NO_TX, "/local/domain/0/rt-rel"), "r");
	/* everything we sent was taken */
	CHECK_EQ(__atomic_load_n(&c->relay.pg->req_cons, __ATOMIC_ACQUIRE), c->rt.req_prod);
	CHECK_EQ(c->rt.index_errors, 0);
	rconn_close(c);
}

static void t_ring_mkdir_directory_rm(void)
{
	struct rconn *c = rconn_open();
	char buf[64];
	const char *name;

	fresh(c, "/rt/dir");
	CHECK_EQ(xs_mkdir(&c->h, XS_NO_TX, "/rt/dir/x/y"), 0);
	CHECK_EQ(wr(c, XS_NO_TX, "/rt/dir/a", "1"), 0);
	CHECK_EQ(wr(c, XS_NO_TX, "/rt/dir/b", "2"), 0);
	CHECK_EQ(xs_directory(&c->h, XS_NO_TX, "/rt/dir", buf, sizeof(buf)), 3);
	name = buf;
	CHECK_STR(name, "x");
	name = xs_dir_next(name);
	CHECK_STR(name, "a");
	name = xs_dir_next(name);
	CHECK_STR(name, "b");
	CHECK_EQ(xs_directory(&c->h, XS_NO_TX, "/rt/dir", buf, 3), -XS_ERANGE);
	CHECK_EQ(xs_rm(&c->h, XS_NO_TX, "/rt/dir/x"), 0);
	CHECK_EQ(xs_directory(&c->h, XS_NO_TX, "/rt/dir", buf, sizeof(buf)), 2);
	CHECK_STR(rd(c, XS_NO_TX, "/rt/dir/x/y"), "<errno 2>");
	CHECK_EQ(xs_rm(&c->h, XS_NO_TX, "/rt/dir/no/such"), -XS_ENOENT);
	CHECK_EQ(wr(c, XS_NO_TX, "/rt/bad path", "v"), -XS_EINVAL);
	CHECK_EQ(xs_request(&c->h, 200, XS_NO_TX, "x", 2, NULL, 0, NULL), -XS_ENOSYS);
	CHECK_EQ(xs_get_domain_path(&c->h, 7, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "/local/domain/7");
	rconn_close(c);
}

/*
 * A 4096-byte payload (a 4112-byte message) and its reply are four times
 * the ring: both sides wait for space and the bytes still arrive intact.
 */
static void t_ring_payload_limit(void)
{
	struct rconn *c = rconn_open();
	static uint8_t value[XS_PAYLOAD_MAX], back[XS_PAYLOAD_MAX];
	uint32_t len = 0, i;

	for (i = 0; i < sizeof(value); i++)
		value[i] = stamp_byte(7, i);
	/* "/rt/big\0" is 8 bytes: 4088 value bytes fill the payload */
	CHECK_EQ(xs_write(&c->h, XS_NO_TX, "/rt/big", value, XS_PAYLOAD_MAX - 8), 0);
	CHECK_EQ(c->rt.sent_bytes, 16 + 8 + XS_PAYLOAD_MAX - 8);
	CHECK_EQ(xs_read(&c->h, XS_NO_TX, "/rt/big", back, sizeof(back), &len), 0);
	CHECK_EQ(len, XS_PAYLOAD_MAX - 8);
	CHECK(memcmp(back, value, XS_PAYLOAD_MAX - 8) == 0);
	CHECK_EQ(xs_write(&c->h, XS_NO_TX, "/rt/big", value, XS_PAYLOAD_MAX - 7), -XS_E2BIG);
	/* the handle goes on */
	CHECK_EQ(wr(c, XS_NO_TX, "/rt/big", "small"), 0);
	CHECK_STR(rd(c, XS_NO_TX, "/rt/big"), "small");
	/* how often the guest found req[] full depends on the relay's timing: reported, not checked */
	printf("# send slept on a full req[] %llu times\n", (unsigned long long)c->rt.full_waits);
	rconn_close(c);
}

/* 4000-byte values, each stamped differently, written and read back: the rings wrap dozens of times. */
static void t_ring_large_values_wrap(void)
{
	struct rconn *c = rconn_open();
	static uint8_t value[4000], back[4001];
	uint32_t k, i, len;
	int bad = 0;

	for (k = 0; k < 12; k++) {
		for (i = 0; i < sizeof(value); i++)
			value[i] = stamp_byte(100 + k, i);
		CHECK_EQ(xs_write(&c->h, XS_NO_TX, "/rt/large", value, sizeof(value)), 0);
		len = 0;
		CHECK_EQ(xs_read(&c->h, XS_NO_TX, "/rt/large", back, sizeof(back), &len), 0);
		if (len != sizeof(value) || memcmp(back, value, sizeof(value)) != 0)
			bad++;
	}
	CHECK_EQ(bad, 0);
	CHECK(c->rt.sent_bytes > 12 * 4000);
	CHECK(c->rt.recv_bytes > 12 * 4000);
	printf("# %llu bytes sent, %llu received, %llu signals, %llu sleeps on a full req[]\n",
	       (unsigned long long)c->rt.sent_bytes, (unsigned long long)c->rt.recv_bytes,
	       (unsigned long long)c->rt.notifies, (unsigned long long)c->rt.full_waits);
	rconn_close(c);
}

/* Indices that start just below 2^32 wrap to 0 mid-message; nothing notices. */
static void t_ring_indices_wrap_2_32(void)
{
	struct rconn *c = rconn_open_at(0u - 1500u);
	static uint8_t value[3000], back[3001];
	uint32_t i, len = 0;

	for (i = 0; i < sizeof(value); i++)
		value[i] = stamp_byte(9, i);
	CHECK_EQ(xs_write(&c->h, XS_NO_TX, "/rt/wrap", value, sizeof(value)), 0);
	CHECK_EQ(xs_read(&c->h, XS_NO_TX, "/rt/wrap", back, sizeof(back), &len), 0);
	CHECK_EQ(len, sizeof(value));
	CHECK(memcmp(back, value, sizeof(value)) == 0);
	CHECK(c->rt.req_prod < 0x10000u);  /* wrapped past 2^32 */
	CHECK(c->rt.rsp_cons < 0x10000u);
	CHECK_EQ(c->relay.pg->req_prod, c->rt.req_prod);
	rconn_close(c);
}

/* Many small round trips: the ring's index arithmetic holds over thousands of wraps of req[]. */
static void t_ring_many_round_trips(void)
{
	struct rconn *c = rconn_open();
	char key[32], val[32];
	int i, bad = 0;

	for (i = 0; i < 400; i++) {
		snprintf(key, sizeof(key), "/rt/many/k%d", i % 10);
		snprintf(val, sizeof(val), "v%d", i);
		if (wr(c, XS_NO_TX, key, val) != 0 || strcmp(rd(c, XS_NO_TX, key), val) != 0)
			bad++;
	}
	CHECK_EQ(bad, 0);
	CHECK(c->rt.sent_bytes > 16 * XS_RING_BYTES);
	rconn_close(c);
}

static void t_ring_transactions(void)
{
	struct rconn *a = rconn_open(), *b = rconn_open();
	uint32_t tx = 0;
	char buf[32];
	int attempts;

	CHECK_EQ(wr(a, XS_NO_TX, "/rt/tx/k", "before"), 0);
	CHECK_EQ(xs_transaction_start(&a->h, &tx), 0);
	CHECK(tx != 0);
	CHECK_EQ(wr(a, tx, "/rt/tx/k", "inside"), 0);
	CHECK_STR(rd(a, tx, "/rt/tx/k"), "inside");
	CHECK_STR(rd(b, XS_NO_TX, "/rt/tx/k"), "before");
	CHECK_EQ(xs_transaction_end(&a->h, tx, 1), 0);
	CHECK_STR(rd(b, XS_NO_TX, "/rt/tx/k"), "inside");
	CHECK_EQ(xs_transaction_start(&a->h, &tx), 0);
	CHECK_EQ(wr(a, tx, "/rt/tx/k", "aborted"), 0);
	CHECK_EQ(xs_transaction_end(&a->h, tx, 0), 0);
	CHECK_STR(rd(b, XS_NO_TX, "/rt/tx/k"), "inside");
	/* the retry loop: the first attempt conflicts with b's write, the second commits */
	CHECK_EQ(wr(a, XS_NO_TX, "/rt/tx/n", "1"), 0);
	for (attempts = 1; attempts <= 4; attempts++) {
		CHECK_EQ(xs_transaction_start(&a->h, &tx), 0);
		CHECK_EQ(xs_read(&a->h, tx, "/rt/tx/n", buf, sizeof(buf), NULL), 0);
		if (attempts == 1)
			CHECK_EQ(wr(b, XS_NO_TX, "/rt/tx/n", "10"), 0);
		snprintf(buf, sizeof(buf), "%ld", strtol(buf, NULL, 10) + 1);
		CHECK_EQ(wr(a, tx, "/rt/tx/n", buf), 0);
		if (xs_transaction_end(&a->h, tx, 1) != -XS_EAGAIN)
			break;
	}
	CHECK_EQ(attempts, 2);
	CHECK_STR(rd(b, XS_NO_TX, "/rt/tx/n"), "11");
	rconn_close(a);
	rconn_close(b);
}

static void t_ring_watches(void)
{
	struct rconn *a = rconn_open(), *b = rconn_open();
	char path[64], token[64], expect[64];
	uint32_t tx;
	int i;

	fresh(a, "/rt/w");
	CHECK_EQ(xs_watch(&a->h, "/rt/w", "tok"), 0);
	CHECK_EQ(xs_wait_event(&a->h, 5000, path, sizeof(path), token, sizeof(token)), 0);
	CHECK_STR(path, "/rt/w");
	CHECK_STR(token, "tok");
	CHECK_EQ(xs_watch(&a->h, "/rt/w", "tok"), -XS_EEXIST);
	CHECK_EQ(xs_wait_event(&a->h, 0, path, sizeof(path), token, sizeof(token)), -XS_ETIMEDOUT);
	CHECK_EQ(xs_wait_event(&a->h, 30, path, sizeof(path), token, sizeof(token)), -XS_ETIMEDOUT);
	/* events that arrive while a's replies are awaited are queued in order */
	for (i = 0; i < 5; i++) {
		snprintf(expect, sizeof(expect), "/rt/w/k%d", i);
		CHECK_EQ(wr(b, XS_NO_TX, expect, "x"), 0);
		CHECK_STR(rd(a, XS_NO_TX, expect), "x");
	}
	CHECK_EQ(xs_pending_events(&a->h), 5);
	for (i = 0; i < 5; i++) {
		snprintf(expect, sizeof(expect), "/rt/w/k%d", i);
		CHECK_EQ(xs_wait_event(&a->h, 0, path, sizeof(path), token, sizeof(token)), 0);
		CHECK_STR(path, expect);
	}
	/* an event that arrives while a sleeps in the event channel */
	CHECK_EQ(xs_rm(&b->h, XS_NO_TX, "/rt/w/k0"), 0);
	CHECK_EQ(xs_wait_event(&a->h, 5000, path, sizeof(path), token, sizeof(token)), 0);
	CHECK_STR(path, "/rt/w/k0");
	/* a transaction's events fire at commit */
	CHECK_EQ(xs_transaction_start(&b->h, &tx), 0);
	CHECK_EQ(wr(b, tx, "/rt/w/t", "x"), 0);
	CHECK_STR(rd(a, XS_NO_TX, "/rt/w/t"), "<errno 2>");
	CHECK_EQ(xs_wait_event(&a->h, 0, path, sizeof(path), token, sizeof(token)), -XS_ETIMEDOUT);
	CHECK_EQ(xs_transaction_end(&b->h, tx, 1), 0);
	CHECK_EQ(xs_wait_event(&a->h, 5000, path, sizeof(path), token, sizeof(token)), 0);
	CHECK_STR(path, "/rt/w/t");
	/* unwatch stops them */
	CHECK_EQ(xs_unwatch(&a->h, "/rt/w", "tok"), 0);
	CHECK_EQ(wr(b, XS_NO_TX, "/rt/w/k9", "x"), 0);
	CHECK_STR(rd(a, XS_NO_TX, "/rt/w/k9"), "x");
	CHECK_EQ(xs_wait_event(&a->h, 0, path, sizeof(path), token, sizeof(token)), -XS_ETIMEDOUT);
	CHECK_EQ(xs_unwatch(&a->h, "/rt/w", "tok"), -XS_ENOENT);
	rconn_close(a);
	rconn_close(b);
}

/*
 * 60 events (~3 KiB) queue up while the watcher does nothing: the daemon
 * side finds rsp[] full and waits for the guest to free it; one round trip
 * later every event is there, in order.
 */
static void t_ring_event_burst_fills_rsp(void)
{
	struct rconn *a = rconn_open(), *b = rconn_open();
	char path[64], token[64], key[64];
	int i, bad = 0;

	fresh(a, "/rt/burst");
	CHECK_EQ(xs_watch(&a->h, "/rt/burst", "long-token-to-fill-the-ring"), 0);
	CHECK_EQ(xs_wait_event(&a->h, 5000, path, sizeof(path), token, sizeof(token)), 0);
	for (i = 0; i < 60; i++) {
		snprintf(key, sizeof(key), "/rt/burst/key-number-%02d", i);
		CHECK_EQ(wr(b, XS_NO_TX, key, "x"), 0);
	}
	/* a reads nothing, so the daemon's 4 KiB of events for it must fill
	 * rsp[]: wait (bounded) until the relay has found it full */
	for (i = 0; i < 5000 && __atomic_load_n(&a->relay.rsp_full, __ATOMIC_RELAXED) == 0; i++)
		usleep(1000);
	CHECK(__atomic_load_n(&a->relay.rsp_full, __ATOMIC_RELAXED) > 0);
	/* one round trip: every event came before its reply, in order */
	CHECK_STR(rd(a, XS_NO_TX, "/rt/burst/key-number-59"), "x");
	CHECK_EQ(xs_pending_events(&a->h), 60);
	for (i = 0; i < 60; i++) {
		snprintf(key, sizeof(key), "/rt/burst/key-number-%02d", i);
		if (xs_wait_event(&a->h, 0, path, sizeof(path), token, sizeof(token)) != 0 || strcmp(path, key) != 0)
			bad++;
	}
	CHECK_EQ(bad, 0);
	rconn_close(a);
	rconn_close(b);
}

/* ------------------------------------------------------------------------ */
/* A hostile daemon end, mid-session with the real daemon                    */

static void hostile_case(enum relay_sabotage sab, size_t value_len, int expect)
{
	struct rconn *c = rconn_open();
	static uint8_t value[3000];
	char buf[16];
	uint32_t req_prod;
	uint64_t notifies;

	memset(value, 'h', sizeof(value));
	/* first a few honest round trips */
	CHECK_EQ(wr(c, XS_NO_TX, "/rt/hostile", "ok"), 0);
	CHECK_STR(rd(c, XS_NO_TX, "/rt/hostile"), "ok");
	relay_sabotage_next(&c->relay, sab);
	/* the relay turns at this request: the client fails cleanly with the transport's error */
	CHECK_EQ(xs_write(&c->h, XS_NO_TX, "/rt/hostile", value, (uint32_t)value_len), expect);
	CHECK_EQ(c->rt.dead, expect);
	CHECK_EQ(c->rt.index_errors, expect == -XS_EIO ? 1 : 0);
	/* dead for good: nothing more goes on the ring, nobody is signalled */
	req_prod = c->relay.pg->req_prod;
	notifies = c->rt.notifies;
	CHECK_EQ(xs_read(&c->h, XS_NO_TX, "/rt/hostile", buf, sizeof(buf), NULL), expect);
	CHECK_EQ(xs_write(&c->h, XS_NO_TX, "/rt/hostile", "again", 5), expect);
	CHECK_EQ(xs_wait_event(&c->h, 0, buf, sizeof(buf), buf, sizeof(buf)), expect);
	CHECK_EQ(c->relay.pg->req_prod, req_prod);
	CHECK_EQ(c->rt.notifies, notifies);
	rconn_close_checked(c, 0);
}

static void t_hostile_rsp_prod_far_ahead(void)
{
	hostile_case(SAB_RSP_PROD_FAR, 4, -XS_EIO);
}

static void t_hostile_rsp_prod_1025(void)
{
	hostile_case(SAB_RSP_PROD_1025, 4, -XS_EIO);
}

static void t_hostile_rsp_prod_back(void)
{
	hostile_case(SAB_RSP_PROD_BACK, 4, -XS_EIO);
}

/* req_cons is only looked at while sending: a 3000-byte value makes the guest wait for space */
static void t_hostile_req_cons_ahead(void)
{
	hostile_case(SAB_REQ_CONS_AHEAD, 3000, -XS_EIO);
}

static void t_hostile_req_cons_back(void)
{
	hostile_case(SAB_REQ_CONS_BACK, 3000, -XS_EIO);
}

static void t_hostile_server_error(void)
{
	hostile_case(SAB_SERVER_ERROR, 4, -XS_EPIPE);
}

int main(void)
{
	struct xs_fd_transport ft;
	struct xs_transport t;

	if (xs_fd_transport_connect(&ft, &t, NULL) < 0) {
		printf("Bail out! no xenstore daemon at $XENSTORED_PATH (%s)\n", getenv("XENSTORED_PATH") ?: "unset");
		return 1;
	}
	t.ops->close(t.ctx);

	tap_run("init rejects NULL arguments and a misaligned page, and leaves the event channel alone",
		t_init_arguments);
	tap_run("init adopts indices wherever they start, rejects > 1024 bytes in flight, EAGAIN while reconnecting",
		t_init_adopts_or_rejects_indices);
	tap_run("send fills the free space, publishes, signals and sleeps while req[] is full; bytes arrive in order",
		t_send_chunks_while_full);
	tap_run("send re-checks after wake-ups that free nothing; a failed wait mid-message is sticky",
		t_send_spurious_wakeups);
	tap_run("recv takes a full rsp[] that wraps the ring's end, in order; wait returns at once when bytes are there",
		t_recv_full_ring_wraps);
	tap_run("a daemon writing the guest's own req_prod/rsp_cons changes nothing", t_own_indices_are_private);
	tap_run("rsp_prod or req_cons outside their window (ahead, behind, > 1024) is EIO for good, counted",
		t_hostile_indices_direct);
	tap_run("the daemon's error indicator is EPIPE (only with the feature bit); close and notify failures stick",
		t_peer_error_and_close);
	tap_run("client over the ring: write/read bytes, NULs, empty and relative paths", t_ring_write_read);
	tap_run("client over the ring: mkdir, directory, rm, daemon errors", t_ring_mkdir_directory_rm);
	tap_run("client over the ring: a 4096-byte payload waits for ring space both ways; one more is E2BIG",
		t_ring_payload_limit);
	tap_run("client over the ring: twelve 4000-byte values wrap both rings dozens of times, intact",
		t_ring_large_values_wrap);
	tap_run("client over the ring: indices starting below 2^32 wrap to 0 mid-message", t_ring_indices_wrap_2_32);
	tap_run("client over the ring: 400 write/read round trips", t_ring_many_round_trips);
	tap_run("client over the ring: transactions commit, abort, and retry after EAGAIN", t_ring_transactions);
	tap_run("client over the ring: watch events on registration, during replies, while sleeping, at commit; unwatch",
		t_ring_watches);
	tap_run("client over the ring: a burst of events larger than rsp[] waits for the guest and arrives in order",
		t_ring_event_burst_fills_rsp);
	tap_run("hostile daemon end: rsp_prod 1 GiB ahead fails the client with EIO for good",
		t_hostile_rsp_prod_far_ahead);
	tap_run("hostile daemon end: rsp_prod = rsp_cons + 1025 fails the client with EIO", t_hostile_rsp_prod_1025);
	tap_run("hostile daemon end: rsp_prod moved back fails the client with EIO", t_hostile_rsp_prod_back);
	tap_run("hostile daemon end: req_cons past req_prod while the guest waits for space is EIO",
		t_hostile_req_cons_ahead);
	tap_run("hostile daemon end: req_cons moved back while the guest waits for space is EIO",
		t_hostile_req_cons_back);
	tap_run("hostile daemon end: the connection error indicator fails the client with EPIPE",
		t_hostile_server_error);
	return tap_done();
}
