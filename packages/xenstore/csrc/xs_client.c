/* SPDX-License-Identifier: MIT */
/*
 * xs_client.c - the xenstore client logic: framing, req_id matching, and
 * the caller-bounded watch-event queue. API and return values: vpio/xs.h.
 *
 * Freestanding: no libc header, no libc call; copies go through
 * vp_memcpy (__builtin_memcpy, which a freestanding GCC may lower to
 * memcpy). Bytes move only through the transport (vpio/xs_transport.h).
 *
 * Concurrency model: none inside. A handle is driven by one thread at a
 * time; there is exactly one request in flight per handle (the caller
 * blocks in the transport's wait() until its reply arrives). WATCH_EVENT
 * messages are the only unsolicited messages the daemon sends; while a
 * reply is awaited they go into the event queue, so they are never lost
 * by interleaving (only by the queue's bound, which is counted).
 *
 * The daemon is treated as the other side: every length, type and id it
 * sends is checked before use. A violation kills the handle (-XS_EPROTO
 * from then on) rather than guessing where the next message starts.
 */
#include "vpio/xs.h"

/* ------------------------------------------------------------------------ */
/* Small freestanding helpers                                               */

/* Length of s, or max when no NUL is found in the first max bytes. */
static uint32_t xs_strnlen(const char *s, uint32_t max)
{
	uint32_t n = 0;

	while (n < max && s[n] != '\0')
		n++;
	return n;
}

static uint32_t xs_get32(const uint8_t *p)
{
	uint32_t v;

	/* xs_wire.h: host byte order (little-endian on every Xen platform). */
	vp_memcpy(&v, p, sizeof(v));
	return v;
}

static void xs_put32(uint8_t *p, uint32_t v)
{
	vp_memcpy(p, &v, sizeof(v));
}

/* Decimal text of v into buf (at least 11 bytes), NUL-terminated; returns its length. */
static uint32_t xs_utoa(uint32_t v, char *buf)
{
	char tmp[10];
	uint32_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

/* ------------------------------------------------------------------------ */
/* Errors: xs_wire.h's table (fixed order; new names only at the end).      */

static const struct {
	const char *name;
	int err;
} xs_errors[] = {
	{ "EINVAL", XS_EINVAL }, { "EACCES", XS_EACCES },     { "EEXIST", XS_EEXIST }, { "EISDIR", XS_EISDIR },
	{ "ENOENT", XS_ENOENT }, { "ENOMEM", XS_ENOMEM },     { "ENOSPC", XS_ENOSPC }, { "EIO", XS_EIO },
	{ "ENOTEMPTY", XS_ENOTEMPTY }, { "ENOSYS", XS_ENOSYS }, { "EROFS", XS_EROFS }, { "EBUSY", XS_EBUSY },
	{ "EAGAIN", XS_EAGAIN }, { "EISCONN", XS_EISCONN },   { "E2BIG", XS_E2BIG },   { "EPERM", XS_EPERM },
};

#define XS_NR_ERRORS (sizeof(xs_errors) / sizeof(xs_errors[0]))

int xs_errno_from_name(const char *name, uint32_t len)
{
	uint32_t i, n;

	if (!name)
		return XS_EINVAL;
	n = xs_strnlen(name, len);
	for (i = 0; i < XS_NR_ERRORS; i++) {
		const char *e = xs_errors[i].name;
		uint32_t elen = xs_strnlen(e, 16), k;

		if (elen != n)
			continue;
		for (k = 0; k < n && e[k] == name[k]; k++)
			;
		if (k == n)
			return xs_errors[i].err;
	}
	/* libxenstore: a name it does not know is EINVAL. */
	return XS_EINVAL;
}

const char *xs_errno_name(int err)
{
	uint32_t i;

	for (i = 0; i < XS_NR_ERRORS; i++)
		if (xs_errors[i].err == err)
			return xs_errors[i].name;
	return (const char *)0;
}

/* ------------------------------------------------------------------------ */
/* Handle life cycle                                                        */

int xs_open(struct xs_handle *h, const struct xs_transport *tr, void *event_buf, uint32_t event_buf_bytes)
{
	if (!h || !tr || !tr->ops || !tr->ops->send || !tr->ops->recv || !tr->ops->wait)
		return -XS_EINVAL;
	if (!event_buf)
		event_buf_bytes = 0;
	h->tr = *tr;
	h->dead = 0;
	h->next_req_id = 1;
	h->rx_have = 0;
	h->evq = (uint8_t *)event_buf;
	h->evq_bytes = event_buf_bytes;
	h->evq_head = 0;
	h->evq_used = 0;
	h->evq_count = 0;
	h->events_lost = 0;
	h->lost_unreported = 0;
	return 0;
}

void xs_close(struct xs_handle *h)
{
	if (!h)
		return;
	if (h->tr.ops && h->tr.ops->close)
		h->tr.ops->close(h->tr.ctx);
	h->tr.ops = (const struct xs_transport_ops *)0;
	h->dead = -XS_EPIPE;
}

static int xs_kill(struct xs_handle *h, int err)
{
	if (!h->dead)
		h->dead = err;
	return h->dead;
}

/* ------------------------------------------------------------------------ */
/* The event queue: records {u16 len; bytes} in a byte ring of caller memory */

static void evq_put(struct xs_handle *h, uint32_t off, const void *src, uint32_t n)
{
	uint32_t first = h->evq_bytes - off;

	if (first > n)
		first = n;
	vp_memcpy(h->evq + off, src, first);
	if (n > first)
		vp_memcpy(h->evq, (const uint8_t *)src + first, n - first);
}

static uint8_t evq_byte(const struct xs_handle *h, uint32_t i)
{
	/* i counts from the oldest record's first byte. */
	return h->evq[(h->evq_head + i) % h->evq_bytes];
}

/* Queues an event payload already checked to be "path\0token\0" (len bytes). */
static void evq_push(struct xs_handle *h, const uint8_t *payload, uint32_t len)
{
	uint8_t hdr[2];
	uint32_t tail;

	if (h->evq_bytes - h->evq_used < 2 + len) {
		h->events_lost++;
		h->lost_unreported = 1;
		return;
	}
	hdr[0] = (uint8_t)(len & 0xff);
	hdr[1] = (uint8_t)(len >> 8);
	tail = (h->evq_head + h->evq_used) % h->evq_bytes;
	evq_put(h, tail, hdr, 2);
	evq_put(h, (tail + 2) % h->evq_bytes, payload, len);
	h->evq_used += 2 + len;
	h->evq_count++;
}

/* Copies the NUL-terminated string at record offset *i into out; advances *i past its NUL. */
static int evq_take_string(const struct xs_handle *h, uint32_t *i, char *out, uint32_t out_bytes, int copy)
{
	uint32_t k = 0;
	uint8_t c;

	do {
		c = evq_byte(h, *i);
		if (k >= out_bytes)
			return -XS_ERANGE;
		if (copy)
			out[k] = (char)c;
		k++;
		(*i)++;
	} while (c != 0);
	return 0;
}

static int evq_pop(struct xs_handle *h, char *path, uint32_t path_bytes, char *token, uint32_t token_bytes)
{
	uint32_t len = (uint32_t)evq_byte(h, 0) | (uint32_t)evq_byte(h, 1) << 8;
	uint32_t i, pass;
	int r;

	/* Pass 0 checks both buffers are big enough, pass 1 copies: a too-small
	 * buffer leaves the event queued. */
	for (pass = 0; pass < 2; pass++) {
		i = 2;
		r = evq_take_string(h, &i, path, path_bytes, (int)pass);
		if (r == 0)
			r = evq_take_string(h, &i, token, token_bytes, (int)pass);
		if (r)
			return r;
	}
	h->evq_head = (h->evq_head + 2 + len) % h->evq_bytes;
	h->evq_used -= 2 + len;
	h->evq_count--;
	return 0;
}

uint32_t xs_pending_events(const struct xs_handle *h)
{
	return h ? h->evq_count : 0;
}

/* An event payload must hold two NUL-terminated strings; returns their
 * combined length (what gets queued), or 0 when malformed. */
static uint32_t event_payload_len(const uint8_t *p, uint32_t len)
{
	uint32_t i, nuls = 0;

	for (i = 0; i < len; i++)
		if (p[i] == 0 && ++nuls == 2)
			return i + 1;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Receiving                                                                */

/*
 * Assembles one complete message in h->rx. Returns 0 (h->rx holds header
 * + payload; the caller consumes it by setting rx_have = 0), -XS_ETIMEDOUT
 * (a partial message stays buffered), or the handle's fatal errno.
 */
static int xs_recv_message(struct xs_handle *h, int timeout_ms)
{
	for (;;) {
		uint32_t need = XS_HEADER_BYTES;
		long n;
		int w;

		if (h->rx_have >= XS_HEADER_BYTES) {
			uint32_t len = xs_get32(h->rx + 12);

			if (len > XS_PAYLOAD_MAX)
				return xs_kill(h, -XS_EPROTO);
			need += len;
		}
		if (h->rx_have == need)
			return 0; /* header read, and then as much payload as it announced */
		n = h->tr.ops->recv(h->tr.ctx, h->rx + h->rx_have, need - h->rx_have);
		if (n < 0)
			return xs_kill(h, (int)n);
		if ((uint32_t)n > need - h->rx_have)
			return xs_kill(h, -XS_EPROTO); /* a transport that overruns */
		if (n > 0) {
			h->rx_have += (uint32_t)n;
			continue;
		}
		w = h->tr.ops->wait(h->tr.ctx, timeout_ms);
		if (w < 0)
			return xs_kill(h, w);
		if (w == 0)
			return -XS_ETIMEDOUT;
	}
}

/* Queues the WATCH_EVENT in h->rx; -XS_EPROTO when malformed. */
static int xs_queue_event(struct xs_handle *h)
{
	uint32_t len = xs_get32(h->rx + 12);
	uint32_t keep = event_payload_len(h->rx + XS_HEADER_BYTES, len);

	if (keep == 0)
		return xs_kill(h, -XS_EPROTO);
	evq_push(h, h->rx + XS_HEADER_BYTES, keep);
	h->rx_have = 0;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */

struct xs_piece {
	const void *p;
	uint32_t n;
};

/*
 * Sends one request built from pieces and waits for its reply. On 0,
 * *reply / *reply_len point at the payload inside h->rx, valid until the
 * next call on h.
 */
static int xs_call(struct xs_handle *h, uint32_t type, uint32_t tx, const struct xs_piece *pieces,
		   uint32_t n_pieces, const uint8_t **reply, uint32_t *reply_len)
{
	uint32_t len = 0, i, id, rtype, rid, rlen;
	int r;

	if (!h)
		return -XS_EINVAL;
	if (h->dead)
		return h->dead;
	for (i = 0; i < n_pieces; i++) {
		if (pieces[i].n > XS_PAYLOAD_MAX - len)
			return -XS_E2BIG; /* as libxenstore: nothing goes on the wire */
		len += pieces[i].n;
	}
	id = h->next_req_id++;
	if (h->next_req_id == 0)
		h->next_req_id = 1;
	xs_put32(h->tx + 0, type);
	xs_put32(h->tx + 4, id);
	xs_put32(h->tx + 8, tx);
	xs_put32(h->tx + 12, len);
	len = XS_HEADER_BYTES;
	for (i = 0; i < n_pieces; i++) {
		if (pieces[i].n)
			vp_memcpy(h->tx + len, pieces[i].p, pieces[i].n);
		len += pieces[i].n;
	}
	r = h->tr.ops->send(h->tr.ctx, h->tx, len);
	if (r < 0)
		return xs_kill(h, r);

	for (;;) {
		r = xs_recv_message(h, -1);
		if (r < 0)
			return r == -XS_ETIMEDOUT ? xs_kill(h, -XS_EPROTO) : r;
		rtype = xs_get32(h->rx + 0);
		rid = xs_get32(h->rx + 4);
		rlen = xs_get32(h->rx + 12);
		if (rtype == XS_WATCH_EVENT) {
			r = xs_queue_event(h);
			if (r < 0)
				return r;
			continue;
		}
		h->rx_have = 0;
		if (rid != id || (rtype != type && rtype != XS_ERROR))
			return xs_kill(h, -XS_EPROTO);
		if (rtype == XS_ERROR)
			return -xs_errno_from_name((const char *)h->rx + XS_HEADER_BYTES, rlen);
		*reply = h->rx + XS_HEADER_BYTES;
		*reply_len = rlen;
		return 0;
	}
}

/* A path argument as a piece including its NUL; -XS_E2BIG when too long, -XS_EINVAL when NULL. */
static int xs_string_piece(const char *s, struct xs_piece *piece)
{
	uint32_t n;

	if (!s)
		return -XS_EINVAL;
	n = xs_strnlen(s, XS_PAYLOAD_MAX + 1);
	if (n >= XS_PAYLOAD_MAX)
		return -XS_E2BIG;
	piece->p = s;
	piece->n = n + 1;
	return 0;
}

/* A request whose only argument is one string and whose reply is ignored. */
static int xs_simple(struct xs_handle *h, uint32_t type, uint32_t tx, const char *arg)
{
	struct xs_piece piece;
	const uint8_t *reply;
	uint32_t reply_len;
	int r = xs_string_piece(arg, &piece);

	return r ? r : xs_call(h, type, tx, &piece, 1, &reply, &reply_len);
}

int xs_request(struct xs_handle *h, uint32_t type, uint32_t tx, const void *payload, uint32_t payload_len,
	       void *reply, uint32_t reply_bytes, uint32_t *reply_len_out)
{
	struct xs_piece piece = { payload, payload_len };
	const uint8_t *p;
	uint32_t len;
	int r;

	if (payload_len && !payload)
		return -XS_EINVAL;
	r = xs_call(h, type, tx, &piece, 1, &p, &len);
	if (r)
		return r;
	if (reply_len_out)
		*reply_len_out = len;
	if (!reply)
		return 0;
	if (len > reply_bytes)
		return -XS_ERANGE;
	if (len)
		vp_memcpy(reply, p, len);
	return 0;
}

int xs_read(struct xs_handle *h, uint32_t tx, const char *path, void *buf, uint32_t buf_bytes, uint32_t *len_out)
{
	struct xs_piece piece;
	const uint8_t *p;
	uint32_t len;
	int r = xs_string_piece(path, &piece);

	if (r == 0 && !buf && buf_bytes)
		r = -XS_EINVAL;
	if (r == 0)
		r = xs_call(h, XS_READ, tx, &piece, 1, &p, &len);
	if (r)
		return r;
	if (len_out)
		*len_out = len;
	if (len > buf_bytes)
		return -XS_ERANGE;
	if (len)
		vp_memcpy(buf, p, len);
	if (len < buf_bytes)
		((char *)buf)[len] = '\0';
	return 0;
}

int xs_write(struct xs_handle *h, uint32_t tx, const char *path, const void *value, uint32_t len)
{
	struct xs_piece pieces[2];
	const uint8_t *reply;
	uint32_t reply_len;
	int r = xs_string_piece(path, &pieces[0]);

	if (r)
		return r;
	if (len && !value)
		return -XS_EINVAL;
	pieces[1].p = value;
	pieces[1].n = len;
	return xs_call(h, XS_WRITE, tx, pieces, 2, &reply, &reply_len);
}

int xs_mkdir(struct xs_handle *h, uint32_t tx, const char *path)
{
	return xs_simple(h, XS_MKDIR, tx, path);
}

int xs_rm(struct xs_handle *h, uint32_t tx, const char *path)
{
	return xs_simple(h, XS_RM, tx, path);
}

int xs_directory(struct xs_handle *h, uint32_t tx, const char *path, char *buf, uint32_t buf_bytes)
{
	struct xs_piece piece;
	const uint8_t *p;
	uint32_t len, i, count = 0;
	int r = xs_string_piece(path, &piece);

	if (r == 0 && !buf && buf_bytes)
		r = -XS_EINVAL;
	if (r == 0)
		r = xs_call(h, XS_DIRECTORY, tx, &piece, 1, &p, &len);
	if (r)
		return r;
	if (len > 0 && p[len - 1] != 0)
		return xs_kill(h, -XS_EPROTO); /* every name must end in a NUL */
	for (i = 0; i < len; i++)
		count += p[i] == 0;
	if (len > buf_bytes)
		return -XS_ERANGE;
	if (len)
		vp_memcpy(buf, p, len);
	return (int)count;
}

const char *xs_dir_next(const char *name)
{
	while (*name)
		name++;
	return name + 1;
}

int xs_transaction_start(struct xs_handle *h, uint32_t *tx_out)
{
	static const char empty[1] = { 0 };
	struct xs_piece piece = { empty, 1 }; /* libxenstore sends "\0" */
	const uint8_t *p;
	uint32_t len, i;
	uint64_t id = 0;
	int r;

	if (!tx_out)
		return -XS_EINVAL;
	r = xs_call(h, XS_TRANSACTION_START, XS_NO_TX, &piece, 1, &p, &len);
	if (r)
		return r;
	/* "<decimal id>\0", id in [1, 2^32) */
	if (len < 2 || len > 11 || p[len - 1] != 0)
		return xs_kill(h, -XS_EPROTO);
	for (i = 0; i + 1 < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return xs_kill(h, -XS_EPROTO);
		id = id * 10 + (uint64_t)(p[i] - '0');
	}
	if (id == 0 || id > 0xffffffffu)
		return xs_kill(h, -XS_EPROTO);
	*tx_out = (uint32_t)id;
	return 0;
}

int xs_transaction_end(struct xs_handle *h, uint32_t tx, int commit)
{
	return xs_simple(h, XS_TRANSACTION_END, tx, commit ? "T" : "F");
}

static int xs_watch_op(struct xs_handle *h, uint32_t type, const char *path, const char *token)
{
	struct xs_piece pieces[2];
	const uint8_t *reply;
	uint32_t reply_len;
	int r = xs_string_piece(path, &pieces[0]);

	if (r == 0)
		r = xs_string_piece(token, &pieces[1]);
	return r ? r : xs_call(h, type, XS_NO_TX, pieces, 2, &reply, &reply_len);
}

int xs_watch(struct xs_handle *h, const char *path, const char *token)
{
	return xs_watch_op(h, XS_WATCH, path, token);
}

int xs_unwatch(struct xs_handle *h, const char *path, const char *token)
{
	return xs_watch_op(h, XS_UNWATCH, path, token);
}

int xs_wait_event(struct xs_handle *h, int timeout_ms, char *path, uint32_t path_bytes, char *token,
		  uint32_t token_bytes)
{
	int r;

	if (!h || (!path && path_bytes) || (!token && token_bytes))
		return -XS_EINVAL;
	for (;;) {
		if (h->lost_unreported) {
			h->lost_unreported = 0;
			return -XS_EOVERFLOW;
		}
		if (h->evq_count > 0)
			return evq_pop(h, path, path_bytes, token, token_bytes);
		if (h->dead)
			return h->dead;
		r = xs_recv_message(h, timeout_ms);
		if (r < 0)
			return r;
		if (xs_get32(h->rx + 0) != XS_WATCH_EVENT) {
			h->rx_have = 0;
			return xs_kill(h, -XS_EPROTO); /* a reply nobody asked for */
		}
		r = xs_queue_event(h);
		if (r < 0)
			return r;
	}
}

int xs_get_domain_path(struct xs_handle *h, uint32_t domid, char *buf, uint32_t buf_bytes)
{
	char num[11];
	struct xs_piece piece = { num, 0 };
	const uint8_t *p;
	uint32_t len;
	int r;

	if (!buf && buf_bytes)
		return -XS_EINVAL;
	piece.n = xs_utoa(domid, num) + 1;
	r = xs_call(h, XS_GET_DOMAIN_PATH, XS_NO_TX, &piece, 1, &p, &len);
	if (r)
		return r;
	if (len > 0 && p[len - 1] == 0)
		len--; /* the reply carries its NUL */
	if (len + 1 > buf_bytes)
		return -XS_ERANGE;
	if (len)
		vp_memcpy(buf, p, len);
	buf[len] = '\0';
	return 0;
}
