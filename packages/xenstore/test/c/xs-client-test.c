/* SPDX-License-Identifier: MIT */
/*
 * xs-client-test - the C xenstore client (vpio/xs.h) against a real daemon
 * (found through $XENSTORED_PATH; c-client.test.ts starts one), plus the
 * client's defences against a hostile daemon through a scripted transport.
 *
 * Output is TAP: "ok N - name" / "not ok N - name", diagnostics as "# ...",
 * the plan "1..N" last; exit status 1 if any case failed. Built with ASan +
 * UBSan (make test-bins). Handles and buffers are allocated at their exact
 * sizes where a bound is tested, so an overrun aborts the program.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vpio/xs.h"
#include "vpio/tap.h"

/* ------------------------------------------------------------------------ */
/* Fixtures: connections to the daemon at $XENSTORED_PATH                   */

struct conn {
	struct xs_handle h;
	struct xs_fd_transport ft;
	struct xs_transport t;
	uint8_t events[8 * XS_EVENT_RECORD_MAX];
};

static struct conn *conn_open(void)
{
	struct conn *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		abort();
	r = xs_fd_transport_connect(&c->ft, &c->t, NULL);
	if (r < 0) {
		printf("# cannot connect to $XENSTORED_PATH: %s\n", strerror(-r));
		free(c);
		return NULL;
	}
	if (xs_open(&c->h, &c->t, c->events, sizeof(c->events)) < 0)
		abort();
	return c;
}

static void conn_close(struct conn *c)
{
	if (!c)
		return;
	xs_close(&c->h);
	free(c);
}

/* Reads path as a C string into a static buffer, or "<errno N>". */
static const char *rd(struct conn *c, uint32_t tx, const char *path)
{
	static char buf[XS_PAYLOAD_MAX + 1];
	int r = xs_read(&c->h, tx, path, buf, sizeof(buf), NULL);

	if (r < 0)
		snprintf(buf, sizeof(buf), "<errno %d>", -r);
	return buf;
}

static int wr(struct conn *c, uint32_t tx, const char *path, const char *value)
{
	return xs_write(&c->h, tx, path, value, (uint32_t)strlen(value));
}

static int demote(struct conn *c, unsigned domid)
{
	char payload[32];
	int n = snprintf(payload, sizeof(payload), "vpio-demote%c%u", 0, domid);

	return xs_request(&c->h, XS_CONTROL, XS_NO_TX, payload, (uint32_t)n + 1, NULL, 0, NULL);
}

/* ------------------------------------------------------------------------ */
/* Against the daemon                                                       */

static void t_connect_env(void)
{
	struct conn *c = conn_open();

	CHECK(c != NULL);
	conn_close(c);
}

static void t_write_read(void)
{
	struct conn *c = conn_open();
	static const uint8_t bin[5] = { 'a', 0, 'b', 0xff, 0 };
	uint8_t out[8];
	uint32_t len = 0;

	CHECK_EQ(wr(c, XS_NO_TX, "/ct/rw/a", "hello"), 0);
	CHECK_STR(rd(c, XS_NO_TX, "/ct/rw/a"), "hello");
	CHECK_EQ(wr(c, XS_NO_TX, "/ct/rw/a", "again"), 0);
	CHECK_STR(rd(c, XS_NO_TX, "/ct/rw/a"), "again");
	/* values are raw bytes, NULs included */
	CHECK_EQ(xs_write(&c->h, XS_NO_TX, "/ct/rw/bin", bin, sizeof(bin)), 0);
	CHECK_EQ(xs_read(&c->h, XS_NO_TX, "/ct/rw/bin", out, sizeof(out), &len), 0);
	CHECK_EQ(len, sizeof(bin));
	CHECK(memcmp(out, bin, sizeof(bin)) == 0);
	/* an empty value, and the empty parents WRITE created */
	CHECK_EQ(wr(c, XS_NO_TX, "/ct/rw/empty", ""), 0);
	CHECK_STR(rd(c, XS_NO_TX, "/ct/rw/empty"), "");
	CHECK_STR(rd(c, XS_NO_TX, "/ct/rw"), "");
	conn_close(c);
}

static void t_directory_mkdir(void)
{
	struct conn *c = conn_open();
	char buf[64];
	const char *name;
	int n;

	CHECK_EQ(xs_mkdir(&c->h, XS_NO_TX, "/ct/dir/x/y"), 0);
	CHECK_EQ(xs_mkdir(&c->h, XS_NO_TX, "/ct/dir/x/y"), 0); /* exists: still OK */
	CHECK_EQ(wr(c, XS_NO_TX, "/ct/dir/a", "1"), 0);
	CHECK_EQ(wr(c, XS_NO_TX, "/ct/dir/b", "2"), 0);
	n = xs_directory(&c->h, XS_NO_TX, "/ct/dir", buf, sizeof(buf));
	CHECK_EQ(n, 3);
	name = buf;
	CHECK_STR(name, "x");
	name = xs_dir_next(name);
	CHECK_STR(name, "a");
	name = xs_dir_next(name);
	CHECK_STR(name, "b");
	CHECK_EQ(xs_directory(&c->h, XS_NO_TX, "/ct/dir/x/y", buf, sizeof(buf)), 0);
	/* a buffer too small: ERANGE, and the handle keeps working */
	CHECK_EQ(xs_directory(&c->h, XS_NO_TX, "/ct/dir", buf, 3), -XS_ERANGE);
	CHECK_EQ(xs_directory(&c->h, XS_NO_TX, "/ct/dir/nope", buf, sizeof(buf)), -XS_ENOENT);
	CHECK_STR(rd(c, XS_NO_TX, "/ct/dir/a"), "1");
	conn_close(c);
}

static void t_rm(void)
{
	struct conn *c = conn_open();

	CHECK_EQ(wr(c, XS_NO_TX, "/ct/rm/a/b/c", "v"), 0);
	CHECK_EQ(xs_rm(&c->h, XS_NO_TX, "/ct/rm/a"), 0); /* recursive */
	CHECK_STR(rd(c, XS_NO_TX, "/ct/rm/a/b/c"), "<errno 2>");
	CHECK_STR(rd(c, XS_NO_TX, "/ct/rm/a"), "<errno 2>");
	CHECK_EQ(xs_rm(&c->h, XS_NO_TX, "/ct/rm/a"), 0);       /* missing, parent exists: OK */
	CHECK_EQ(xs_rm(&c->h, XS_NO_TX, "/ct/rm/no/such"), -XS_ENOENT); /* parent missing */
	CHECK_EQ(xs_rm(&c->h, XS_NO_TX, "/"), -XS_EINVAL);
	conn_close(c);
}

static void t_errors_mapped(void)
{
	struct conn *c = conn_open();
	char buf[16];

	CHECK_EQ(xs_read(&c->h, XS_NO_TX, "/ct/err/none", buf, sizeof(buf), NULL), -XS_ENOENT);
	CHECK_EQ(wr(c, XS_NO_TX, "/ct/bad path", "v"), -XS_EINVAL);
	CHECK_EQ(wr(c, XS_NO_TX, "/ct/trailing/", "v"), -XS_EINVAL);
	CHECK_EQ(xs_request(&c->h, 200, XS_NO_TX, "x", 2, NULL, 0, NULL), -XS_ENOSYS);
	CHECK_EQ(xs_transaction_end(&c->h, 4242, 1), -XS_ENOENT);
	conn_close(c);
}

static void t_payload_limit(void)
{
	struct conn *c = conn_open();
	static char value[XS_PAYLOAD_MAX];
	uint32_t len = 0;

	memset(value, 'v', sizeof(value));
	/* "/ct/big\0" is 8 bytes: 4088 value bytes fill the 4096-byte payload */
	CHECK_EQ(xs_write(&c->h, XS_NO_TX, "/ct/big", value, XS_PAYLOAD_MAX - 8), 0);
	CHECK_EQ(xs_write(&c->h, XS_NO_TX, "/ct/big", value, XS_PAYLOAD_MAX - 7), -XS_E2BIG);
	CHECK_EQ(xs_read(&c->h, XS_NO_TX, "/ct/big", value, sizeof(value), &len), 0);
	CHECK_EQ(len, XS_PAYLOAD_MAX - 8);
	conn_close(c);
}

static void t_read_small_buffer(void)
{
	struct conn *c = conn_open();
	char *small = malloc(4); /* exact size: ASan catches an overrun */
	uint32_t len = 0;

	CHECK_EQ(wr(c, XS_NO_TX, "/ct/small", "0123456789"), 0);
	CHECK_EQ(xs_read(&c->h, XS_NO_TX, "/ct/small", small, 4, &len), -XS_ERANGE);
	CHECK_EQ(len, 10);
	CHECK_EQ(wr(c, XS_NO_TX, "/ct/small", "abcd"), 0);
	CHECK_EQ(xs_read(&c->h, XS_NO_TX, "/ct/small", small, 4, &len), 0); /* fits exactly, no NUL */
	CHECK(memcmp(small, "abcd", 4) == 0);
	CHECK_STR(rd(c, XS_NO_TX, "/ct/small"), "abcd");
	free(small);
	conn_close(c);
}

static void t_domain_path(void)
{
	struct conn *c = conn_open();
	char buf[32];

	CHECK_EQ(xs_get_domain_path(&c->h, 7, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "/local/domain/7");
	CHECK_EQ(xs_get_domain_path(&c->h, 0, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "/local/domain/0");
	CHECK_EQ(xs_get_domain_path(&c->h, 4294967295u, buf, 8), -XS_ERANGE);
	conn_close(c);
}

static void t_relative_paths(void)
{
	struct conn *c = conn_open();

	CHECK_EQ(wr(c, XS_NO_TX, "ct-rel", "r"), 0);
	CHECK_STR(rd(c, XS_NO_TX, "/local/domain/0/ct-rel"), "r");
	conn_close(c);
}

static void t_tx_commit_abort(void)
{
	struct conn *a = conn_open(), *b = conn_open();
	uint32_t tx = 0;

	CHECK_EQ(wr(a, XS_NO_TX, "/ct/tx/k", "before"), 0);
	CHECK_EQ(xs_transaction_start(&a->h, &tx), 0);
	CHECK(tx != 0);
	CHECK_EQ(wr(a, tx, "/ct/tx/k", "inside"), 0);
	CHECK_STR(rd(a, tx, "/ct/tx/k"), "inside");
	CHECK_STR(rd(b, XS_NO_TX, "/ct/tx/k"), "before"); /* invisible outside */
	CHECK_EQ(xs_transaction_end(&a->h, tx, 1), 0);
	CHECK_STR(rd(b, XS_NO_TX, "/ct/tx/k"), "inside");

	CHECK_EQ(xs_transaction_start(&a->h, &tx), 0);
	CHECK_EQ(wr(a, tx, "/ct/tx/k", "aborted"), 0);
	CHECK_EQ(xs_rm(&a->h, tx, "/ct/tx"), 0);
	CHECK_EQ(xs_transaction_end(&a->h, tx, 0), 0);
	CHECK_STR(rd(b, XS_NO_TX, "/ct/tx/k"), "inside");
	CHECK_EQ(xs_transaction_end(&a->h, tx, 1), -XS_ENOENT); /* gone after abort */
	conn_close(a);
	conn_close(b);
}

/* The read-modify-write loop every C guest writes: retry on EAGAIN. */
static int increment(struct conn *a, struct conn *b, int *attempts, int interfere)
{
	char buf[32];
	uint32_t tx;
	int r;

	for (*attempts = 1; *attempts <= 8; (*attempts)++) {
		r = xs_transaction_start(&a->h, &tx);
		if (r)
			return r;
		r = xs_read(&a->h, tx, "/ct/ta/n", buf, sizeof(buf), NULL);
		if (r)
			return r;
		if (interfere && *attempts == 1)
			wr(b, XS_NO_TX, "/ct/ta/n", "10"); /* a writer outside, mid-transaction */
		snprintf(buf, sizeof(buf), "%ld", strtol(buf, NULL, 10) + 1);
		r = wr(a, tx, "/ct/ta/n", buf);
		if (r)
			return r;
		r = xs_transaction_end(&a->h, tx, 1);
		if (r != -XS_EAGAIN)
			return r;
	}
	return -XS_EAGAIN;
}

static void t_tx_eagain_retry(void)
{
	struct conn *a = conn_open(), *b = conn_open();
	uint32_t tx;
	int attempts = 0;

	CHECK_EQ(wr(a, XS_NO_TX, "/ct/ta/n", "1"), 0);
	/* a direct conflict: EAGAIN, and the transaction is gone */
	CHECK_EQ(xs_transaction_start(&a->h, &tx), 0);
	CHECK_STR(rd(a, tx, "/ct/ta/n"), "1");
	CHECK_EQ(wr(b, XS_NO_TX, "/ct/ta/n", "2"), 0);
	CHECK_EQ(wr(a, tx, "/ct/ta/n", "3"), 0);
	CHECK_EQ(xs_transaction_end(&a->h, tx, 1), -XS_EAGAIN);
	CHECK_STR(rd(a, XS_NO_TX, "/ct/ta/n"), "2");
	CHECK_EQ(xs_transaction_end(&a->h, tx, 0), -XS_ENOENT);
	/* the retry loop: first attempt conflicts, second commits on the new value */
	CHECK_EQ(increment(a, b, &attempts, 1), 0);
	CHECK_EQ(attempts, 2);
	CHECK_STR(rd(a, XS_NO_TX, "/ct/ta/n"), "11");
	conn_close(a);
	conn_close(b);
}

static void t_tx_nested_busy(void)
{
	struct conn *a = conn_open();
	uint32_t tx, r;
	char reply[16];

	CHECK_EQ(xs_transaction_start(&a->h, &tx), 0);
	/* TRANSACTION_START inside a transaction: EBUSY */
	CHECK_EQ(xs_request(&a->h, XS_TRANSACTION_START, tx, "", 1, reply, sizeof(reply), &r), -XS_EBUSY);
	CHECK_EQ(xs_transaction_end(&a->h, tx, 0), 0);
	conn_close(a);
}

static void t_watch_registration(void)
{
	struct conn *a = conn_open();
	char path[64], token[64];

	CHECK_EQ(xs_watch(&a->h, "/ct/w1", "tok1"), 0);
	CHECK_EQ(xs_wait_event(&a->h, 5000, path, sizeof(path), token, sizeof(token)), 0);
	CHECK_STR(path, "/ct/w1");
	CHECK_STR(token, "tok1");
	CHECK_EQ(xs_watch(&a->h, "/ct/w1", "tok1"), -XS_EEXIST);
	CHECK_EQ(xs_wait_event(&a->h, 0, path, sizeof(path), token, sizeof(token)), -XS_ETIMEDOUT);
	CHECK_EQ(xs_wait_event(&a->h, 50, path, sizeof(path), token, sizeof(token)), -XS_ETIMEDOUT);
	conn_close(a);
}

/*
 * Events that arrive while the watcher waits for replies are queued and
 * handed out in order; the replies still match their requests.
 */
static void t_watch_events_during_replies(void)
{
	struct conn *a = conn_open(), *b = conn_open();
	char path[64], token[64], expect[64];
	int i;

	CHECK_EQ(xs_watch(&a->h, "/ct/w2", "t2"), 0);
	/* the registration event arrives after WATCH's reply: the next call queues it */
	for (i = 0; i < 5; i++) {
		snprintf(expect, sizeof(expect), "/ct/w2/k%d", i);
		CHECK_EQ(wr(b, XS_NO_TX, expect, "x"), 0);
		/* a's own request: its reply comes after the event b's write caused */
		CHECK_STR(rd(a, XS_NO_TX, expect), "x");
	}
	CHECK_EQ(xs_pending_events(&a->h), 6);
	CHECK_EQ(xs_wait_event(&a->h, 0, path, sizeof(path), token, sizeof(token)), 0);
	CHECK_STR(path, "/ct/w2");
	for (i = 0; i < 5; i++) {
		snprintf(expect, sizeof(expect), "/ct/w2/k%d", i);
		CHECK_EQ(xs_wait_event(&a->h, 0, path, sizeof(path), token, sizeof(token)), 0);
		CHECK_STR(path, expect);
		CHECK_STR(token, "t2");
	}
	CHECK_EQ(xs_pending_events(&a->h), 0);
	/* an event that arrives while waiting for one */
	CHECK_EQ(xs_rm(&b->h, XS_NO_TX, "/ct/w2/k0"), 0);
	CHECK_EQ(xs_wait_event(&a->h, 5000, path, sizeof(path), token, sizeof(token)), 0);
	CHECK_STR(path, "/ct/w2/k0");
	conn_close(a);
	conn_close(b);
}

static void t_watch_small_buffers(void)
{
	struct conn *a = conn_open();
	char path[64], token[64], tiny[4];

	CHECK_EQ(xs_watch(&a->h, "/ct/w3", "t3"), 0);
	CHECK_EQ(xs_read(&a->h, XS_NO_TX, "/", NULL, 0, NULL), 0); /* let the event arrive */
	CHECK_EQ(xs_wait_event(&a->h, 0, tiny, sizeof(tiny), token, sizeof(token)), -XS_ERANGE);
	CHECK_EQ(xs_wait_event(&a->h, 0, path, sizeof(path), tiny, 3), 0); /* "t3\0" needs 3: fits */
	CHECK_STR(tiny, "t3");
	CHECK_STR(path, "/ct/w3");
	conn_close(a);
}

static void t_watch_queue_overflow(void)
{
	struct conn *b = conn_open();
	struct xs_handle *h = malloc(sizeof(*h));
	struct xs_fd_transport ft;
	struct xs_transport t;
	/* room for exactly two records of "/ct/w4/kN\0t4\0" (13 bytes + 2) */
	uint8_t *events = malloc(30);
	char path[64], token[64], key[32];
	int i;

	CHECK_EQ(xs_fd_transport_connect(&ft, &t, NULL), 0);
	CHECK_EQ(xs_open(h, &t, events, 30), 0);
	CHECK_EQ(xs_watch(h, "/ct/w4", "t4"), 0);
	CHECK_EQ(xs_wait_event(h, 5000, path, sizeof(path), token, sizeof(token)), 0);
	for (i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "/ct/w4/k%d", i);
		CHECK_EQ(wr(b, XS_NO_TX, key, "x"), 0);
	}
	CHECK_EQ(xs_read(h, XS_NO_TX, "/ct/w4/k0", NULL, 0, NULL), -XS_ERANGE); /* a round trip: all 4 arrived */
	CHECK_EQ(xs_pending_events(h), 2);
	CHECK_EQ(h->events_lost, 2);
	CHECK_EQ(xs_wait_event(h, 0, path, sizeof(path), token, sizeof(token)), -XS_EOVERFLOW);
	CHECK_EQ(xs_wait_event(h, 0, path, sizeof(path), token, sizeof(token)), 0);
	CHECK_STR(path, "/ct/w4/k0");
	CHECK_EQ(xs_wait_event(h, 0, path, sizeof(path), token, sizeof(token)), 0);
	CHECK_STR(path, "/ct/w4/k1");
	CHECK_EQ(xs_wait_event(h, 0, path, sizeof(path), token, sizeof(token)), -XS_ETIMEDOUT);
	/* the ring wraps: more events after the drop still come through */
	for (i = 0; i < 6; i++) {
		snprintf(key, sizeof(key), "/ct/w4/k%d", i % 2);
		CHECK_EQ(wr(b, XS_NO_TX, key, "y"), 0);
		CHECK_EQ(xs_wait_event(h, 5000, path, sizeof(path), token, sizeof(token)), 0);
		CHECK_STR(path, key);
	}
	xs_close(h);
	free(h);
	free(events);
	conn_close(b);
}

static void t_unwatch(void)
{
	struct conn *a = conn_open(), *b = conn_open();
	char path[64], token[64];

	CHECK_EQ(xs_watch(&a->h, "/ct/w5", "t5"), 0);
	CHECK_EQ(xs_wait_event(&a->h, 5000, path, sizeof(path), token, sizeof(token)), 0);
	CHECK_EQ(xs_unwatch(&a->h, "/ct/w5", "t5"), 0);
	CHECK_EQ(wr(b, XS_NO_TX, "/ct/w5/k", "x"), 0);
	CHECK_STR(rd(a, XS_NO_TX, "/ct/w5/k"), "x"); /* a round trip after the write */
	CHECK_EQ(xs_wait_event(&a->h, 0, path, sizeof(path), token, sizeof(token)), -XS_ETIMEDOUT);
	CHECK_EQ(xs_unwatch(&a->h, "/ct/w5", "t5"), -XS_ENOENT);
	conn_close(a);
	conn_close(b);
}

static void t_watch_fires_at_commit(void)
{
	struct conn *a = conn_open(), *b = conn_open();
	char path[64], token[64];
	uint32_t tx;

	CHECK_EQ(xs_watch(&a->h, "/ct/w6", "t6"), 0);
	CHECK_EQ(xs_wait_event(&a->h, 5000, path, sizeof(path), token, sizeof(token)), 0);
	CHECK_EQ(xs_transaction_start(&b->h, &tx), 0);
	CHECK_EQ(wr(b, tx, "/ct/w6/k", "x"), 0);
	CHECK_STR(rd(a, XS_NO_TX, "/"), "");
	CHECK_EQ(xs_wait_event(&a->h, 0, path, sizeof(path), token, sizeof(token)), -XS_ETIMEDOUT);
	CHECK_EQ(xs_transaction_end(&b->h, tx, 1), 0);
	CHECK_EQ(xs_wait_event(&a->h, 5000, path, sizeof(path), token, sizeof(token)), 0);
	CHECK_STR(path, "/ct/w6/k");
	conn_close(a);
	conn_close(b);
}

static void t_demoted_eacces(void)
{
	struct conn *root = conn_open(), *guest = conn_open();
	char buf[64];

	CHECK_EQ(wr(root, XS_NO_TX, "/ct/priv/secret", "s"), 0);
	CHECK_EQ(demote(guest, 7), 0);
	/* dom0's nodes are n0: a guest can neither read nor write them */
	CHECK_EQ(xs_read(&guest->h, XS_NO_TX, "/ct/priv/secret", buf, sizeof(buf), NULL), -XS_EACCES);
	CHECK_EQ(wr(guest, XS_NO_TX, "/ct/priv/secret", "mine"), -XS_EACCES);
	/* a missing node under an unreadable parent is EACCES, not ENOENT */
	CHECK_EQ(xs_read(&guest->h, XS_NO_TX, "/ct/priv/none", buf, sizeof(buf), NULL), -XS_EACCES);
	/* privileged-only requests, and demoting again */
	CHECK_EQ(demote(guest, 8), -XS_EACCES);
	CHECK_EQ(xs_request(&guest->h, XS_INTRODUCE, XS_NO_TX, "9\0001\0001", 6, NULL, 0, NULL), -XS_EACCES);
	/* its own home, made by dom0 and handed over, works */
	CHECK_EQ(wr(root, XS_NO_TX, "/local/domain/7/data", ""), 0);
	CHECK_EQ(xs_request(&root->h, XS_SET_PERMS, XS_NO_TX, "/local/domain/7/data\0b7", 24, NULL, 0, NULL), 0);
	CHECK_EQ(wr(guest, XS_NO_TX, "data/k", "v"), 0);
	CHECK_STR(rd(guest, XS_NO_TX, "/local/domain/7/data/k"), "v");
	CHECK_STR(rd(root, XS_NO_TX, "/local/domain/7/data/k"), "v");
	conn_close(guest);
	conn_close(root);
}

static void t_adopt_fd(void)
{
	const char *path = getenv("XENSTORED_PATH");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct conn *c = calloc(1, sizeof(*c));
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	CHECK(path != NULL && strlen(path) < sizeof(sun.sun_path));
	if (!path || !c || fd < 0) {
		free(c);
		return;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	CHECK_EQ(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	CHECK_EQ(xs_fd_transport_adopt(&c->ft, &c->t, fd, 1), 0);
	CHECK_EQ(xs_open(&c->h, &c->t, c->events, sizeof(c->events)), 0);
	CHECK_EQ(wr(c, XS_NO_TX, "/ct/adopt", "fd"), 0);
	CHECK_STR(rd(c, XS_NO_TX, "/ct/adopt"), "fd");
	conn_close(c); /* closes fd: it was handed over */
}

static void t_adopt_bad_fd(void)
{
	struct xs_fd_transport ft;
	struct xs_transport t;

	CHECK_EQ(xs_fd_transport_adopt(&ft, &t, -1, 0), -EBADF);
}

static void t_connect_errors(void)
{
	struct xs_fd_transport ft;
	struct xs_transport t;

	CHECK_EQ(xs_fd_transport_connect(&ft, &t, "/nonexistent/xenstored/socket"), -ENOENT);
}

/* ------------------------------------------------------------------------ */
/* A scripted daemon: bytes handed out in small pieces through the         */
/* transport interface, to test framing and the client's defences.          */

struct script {
	uint8_t in[3 * (XS_HEADER_BYTES + XS_PAYLOAD_MAX)];
	size_t in_len, in_off;
	size_t chunk; /* at most this many bytes per recv(), to split frames */
	uint8_t out[XS_HEADER_BYTES + XS_PAYLOAD_MAX];
	size_t out_len;
};

static int script_send(void *ctx, const void *buf, size_t len)
{
	struct script *s = ctx;

	if (len > sizeof(s->out))
		return -EMSGSIZE;
	memcpy(s->out, buf, len);
	s->out_len = len;
	return 0;
}

static long script_recv(void *ctx, void *buf, size_t len)
{
	struct script *s = ctx;
	size_t n = s->in_len - s->in_off;

	if (n == 0)
		return 0;
	if (n > len)
		n = len;
	if (n > s->chunk)
		n = s->chunk;
	memcpy(buf, s->in + s->in_off, n);
	s->in_off += n;
	return (long)n;
}

static int script_wait(void *ctx, int timeout_ms)
{
	struct script *s = ctx;

	(void)timeout_ms;
	/* the script is all the daemon will ever say: once it is used up,
	 * the daemon is gone (a real transport would block) */
	return s->in_off < s->in_len ? 1 : -EPIPE;
}

static const struct xs_transport_ops script_ops = { script_send, script_recv, script_wait, NULL };

static void script_msg(struct script *s, uint32_t type, uint32_t req_id, uint32_t len_field, const void *payload,
		       uint32_t len)
{
	uint32_t hdr[4] = { type, req_id, 0, len_field };

	memcpy(s->in + s->in_len, hdr, sizeof(hdr));
	memcpy(s->in + s->in_len + sizeof(hdr), payload, len);
	s->in_len += sizeof(hdr) + len;
}

static struct script *script_new(size_t chunk)
{
	struct script *s = calloc(1, sizeof(*s));

	if (!s)
		abort();
	s->chunk = chunk;
	return s;
}

static void t_script_fragmented(void)
{
	struct script *s = script_new(1); /* one byte per recv() */
	struct xs_transport t = { &script_ops, s };
	struct xs_handle *h = malloc(sizeof(*h));
	uint8_t events[64];
	char buf[16], path[16], token[16];
	uint32_t hdr[4];

	CHECK_EQ(xs_open(h, &t, events, sizeof(events)), 0);
	/* an event, then the reply to request 1 ("hi") */
	script_msg(s, XS_WATCH_EVENT, 0, 6, "/p\0tk\0", 6);
	script_msg(s, XS_READ, 1, 2, "hi", 2);
	CHECK_EQ(xs_read(h, XS_NO_TX, "/p", buf, sizeof(buf), NULL), 0);
	CHECK_STR(buf, "hi");
	memcpy(hdr, s->out, sizeof(hdr));
	CHECK_EQ(hdr[0], XS_READ);
	CHECK_EQ(hdr[1], 1);
	CHECK_EQ(hdr[3], 3);
	CHECK(memcmp(s->out + 16, "/p\0", 3) == 0);
	CHECK_EQ(xs_wait_event(h, 0, path, sizeof(path), token, sizeof(token)), 0);
	CHECK_STR(path, "/p");
	CHECK_STR(token, "tk");
	/* an error reply with an unknown name is EINVAL, as in libxenstore */
	script_msg(s, XS_ERROR, 2, 10, "EWHATEVER\0", 10);
	CHECK_EQ(xs_read(h, XS_NO_TX, "/p", buf, sizeof(buf), NULL), -XS_EINVAL);
	free(h);
	free(s);
}

static void t_script_hostile(void)
{
	static const struct {
		const char *name;
		uint32_t type, req_id, len_field, len;
		const char *payload;
	} cases[] = {
		{ "len over 4096", XS_READ, 1, XS_PAYLOAD_MAX + 1, 0, "" },
		{ "wrong req_id", XS_READ, 99, 2, 2, "hi" },
		{ "wrong type", XS_WRITE, 1, 3, 3, "OK\0" },
		{ "event without a token", XS_WATCH_EVENT, 0, 3, 3, "/p\0" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct script *s = script_new(7);
		struct xs_transport t = { &script_ops, s };
		struct xs_handle *h = malloc(sizeof(*h));
		char buf[16];

		xs_open(h, &t, NULL, 0);
		script_msg(s, cases[i].type, cases[i].req_id, cases[i].len_field, cases[i].payload, cases[i].len);
		if (xs_read(h, XS_NO_TX, "/p", buf, sizeof(buf), NULL) != -XS_EPROTO) {
			printf("# %s: not EPROTO\n", cases[i].name);
			tap_case_failed = 1;
		}
		/* dead for good: nothing else is sent */
		s->out_len = 0;
		CHECK_EQ(xs_read(h, XS_NO_TX, "/p", buf, sizeof(buf), NULL), -XS_EPROTO);
		CHECK_EQ(s->out_len, 0);
		free(h);
		free(s);
	}
}

static void t_script_transport_gone(void)
{
	struct script *s = script_new(16);
	struct xs_transport t = { &script_ops, s };
	struct xs_handle *h = malloc(sizeof(*h));
	char buf[16];

	xs_open(h, &t, NULL, 0);
	script_msg(s, XS_READ, 1, 4, "hi", 2); /* announces 4, delivers 2: then the daemon is gone */
	CHECK_EQ(xs_read(h, XS_NO_TX, "/p", buf, sizeof(buf), NULL), -EPIPE);
	CHECK_EQ(xs_watch(h, "/p", "t"), -EPIPE);
	free(h);
	free(s);
}

static void t_errno_table(void)
{
	static const struct {
		const char *name;
		int err;
	} table[] = {
		{ "EINVAL", EINVAL }, { "EACCES", EACCES }, { "EEXIST", EEXIST }, { "EISDIR", EISDIR },
		{ "ENOENT", ENOENT }, { "ENOMEM", ENOMEM }, { "ENOSPC", ENOSPC }, { "EIO", EIO },
		{ "ENOTEMPTY", ENOTEMPTY }, { "ENOSYS", ENOSYS }, { "EROFS", EROFS }, { "EBUSY", EBUSY },
		{ "EAGAIN", EAGAIN }, { "EISCONN", EISCONN }, { "E2BIG", E2BIG }, { "EPERM", EPERM },
	};
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		CHECK_EQ(xs_errno_from_name(table[i].name, (uint32_t)strlen(table[i].name) + 1), table[i].err);
		CHECK_STR(xs_errno_name(table[i].err), table[i].name);
	}
	CHECK_EQ(xs_errno_from_name("ENOENTX", 7), EINVAL);
	CHECK_EQ(xs_errno_from_name("ENOENT", 3), EINVAL); /* "ENO" */
	CHECK_EQ(xs_errno_from_name("", 0), EINVAL);
	CHECK(xs_errno_name(EPIPE) == NULL);
	CHECK_EQ(XS_EPIPE, EPIPE);
	CHECK_EQ(XS_ETIMEDOUT, ETIMEDOUT);
	CHECK_EQ(XS_EOVERFLOW, EOVERFLOW);
	CHECK_EQ(XS_ERANGE, ERANGE);
	CHECK_EQ(XS_EPROTO, EPROTO);
}

int main(void)
{
	struct conn *probe = conn_open();

	if (!probe) {
		printf("Bail out! no xenstore daemon at $XENSTORED_PATH (%s)\n", getenv("XENSTORED_PATH") ?: "unset");
		return 1;
	}
	conn_close(probe);
	tap_run("connects through $XENSTORED_PATH", t_connect_env);
	tap_run("write then read returns the bytes, NULs and empty values included", t_write_read);
	tap_run("mkdir and directory list children in creation order; ERANGE keeps the handle", t_directory_mkdir);
	tap_run("rm is recursive, OK on a missing leaf, ENOENT without a parent, EINVAL on /", t_rm);
	tap_run("daemon errors arrive as negative errnos (ENOENT, EINVAL, ENOSYS)", t_errors_mapped);
	tap_run("a 4096-byte payload is sent; one byte more is E2BIG without traffic", t_payload_limit);
	tap_run("a read into a too-small buffer is ERANGE with the length, then the handle works", t_read_small_buffer);
	tap_run("get_domain_path gives /local/domain/<domid>", t_domain_path);
	tap_run("relative paths resolve under /local/domain/0", t_relative_paths);
	tap_run("a transaction is invisible until commit; abort discards", t_tx_commit_abort);
	tap_run("a conflicting commit is EAGAIN and the retry loop succeeds", t_tx_eagain_retry);
	tap_run("transactions do not nest (EBUSY)", t_tx_nested_busy);
	tap_run("a watch fires once on registration; duplicate is EEXIST; waits time out", t_watch_registration);
	tap_run("events arriving while replies are pending are queued in order", t_watch_events_during_replies);
	tap_run("a too-small event buffer is ERANGE and keeps the event queued", t_watch_small_buffers);
	tap_run("a full event queue drops, counts, reports EOVERFLOW once, and wraps", t_watch_queue_overflow);
	tap_run("unwatch stops events; unwatch of an unknown watch is ENOENT", t_unwatch);
	tap_run("a transaction's watch events fire at commit", t_watch_fires_at_commit);
	tap_run("a demoted connection gets EACCES on dom0's nodes and privileged requests", t_demoted_eacces);
	tap_run("an inherited fd is adopted as the transport", t_adopt_fd);
	tap_run("adopting a negative fd is EBADF", t_adopt_bad_fd);
	tap_run("connecting to a missing socket is ENOENT", t_connect_errors);
	tap_run("frames split into 1-byte reads reassemble; unknown error names are EINVAL", t_script_fragmented);
	tap_run("a hostile daemon (len > 4096, wrong req_id/type, bad event) kills the handle with EPROTO", t_script_hostile);
	tap_run("a daemon that vanishes mid-reply gives EPIPE from then on", t_script_transport_gone);
	tap_run("Xen's error names map to Linux errnos through one table", t_errno_table);
	return tap_done();
}
