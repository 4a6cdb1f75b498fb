/* SPDX-License-Identifier: MIT */
/*
 * vpio/xs.h - a small xenstore client for vpio's C guests (minios,
 * linux-netfront, the netfront core), speaking Xen's wire protocol
 * (xs_wire.h: 16-byte header {type, req_id, tx_id, len}, payload <= 4096)
 * over any transport (vpio/xs_transport.h).
 *
 * Freestanding: the client logic (csrc/xs_client.c) includes no libc
 * header and calls nothing but memcpy/memset, so a PV kernel can link it.
 * No malloc: the caller owns the handle and every buffer, including the
 * storage of the watch-event queue.
 *
 * Model: one request in flight per handle. Each call sends one request and
 * reads until the reply carrying its req_id arrives; WATCH_EVENT messages
 * that arrive meanwhile are queued (in arrival order) in the caller's event
 * buffer, and xs_wait_event() hands them out. A handle is used by one
 * thread at a time.
 *
 * Return values: every function returns 0 (or a documented count) on
 * success and a negative errno on failure:
 *   - the daemon's XS_ERROR reply, its name mapped to the Linux errno of
 *     xs_wire.h's table (XS_ENOENT, XS_EACCES, XS_EAGAIN, ...; an unknown
 *     name maps to XS_EINVAL, as libxenstore does), see xs_errno_from_name();
 *   - XS_E2BIG: the request would exceed the 4096-byte payload (nothing is
 *     sent, as libxenstore);
 *   - XS_ERANGE: the caller's buffer is too small for the reply (the reply
 *     is consumed; the handle stays usable);
 *   - XS_EPROTO: the daemon broke the protocol (reply longer than 4096,
 *     wrong type or req_id, malformed payload); the handle is then dead;
 *   - XS_EPIPE (or the transport's errno): the transport failed; the
 *     handle is then dead and every later call returns the same error.
 */
#ifndef VPIO_XS_H
#define VPIO_XS_H

#include "vpio/compiler.h"
#include "vpio/xs_transport.h"

/* ------------------------------------------------------------------------ */
/* Error numbers (Linux numbering, which xs_wire.h's table uses).           */
/* Those vpio/compiler.h has are taken from there; the rest are defined     */
/* here until the ring package's compiler.h carries them.                   */

#define XS_EPERM VP_EPERM
#define XS_ENOENT VP_ENOENT
#define XS_EIO VP_EIO
#define XS_E2BIG VP_E2BIG
#define XS_EAGAIN VP_EAGAIN
#define XS_ENOMEM VP_ENOMEM
#define XS_EACCES VP_EACCES
#define XS_EBUSY VP_EBUSY
#define XS_EEXIST VP_EEXIST
#define XS_EISDIR VP_EISDIR
#define XS_EINVAL VP_EINVAL
#define XS_ENOSPC VP_ENOSPC
#define XS_EROFS VP_EROFS
#define XS_EPIPE VP_EPIPE
#define XS_ERANGE VP_ERANGE
#define XS_ENOSYS VP_ENOSYS
#define XS_ENOTEMPTY VP_ENOTEMPTY
#define XS_EPROTO VP_EPROTO
#define XS_EOVERFLOW VP_EOVERFLOW
#define XS_EISCONN VP_EISCONN
#define XS_ETIMEDOUT VP_ETIMEDOUT

/* ------------------------------------------------------------------------ */
/* Wire constants (xs_wire.h)                                               */

#define XS_HEADER_BYTES 16u
#define XS_PAYLOAD_MAX 4096u

enum xs_msg_type {
	XS_CONTROL = 0,
	XS_DIRECTORY = 1,
	XS_READ = 2,
	XS_GET_PERMS = 3,
	XS_WATCH = 4,
	XS_UNWATCH = 5,
	XS_TRANSACTION_START = 6,
	XS_TRANSACTION_END = 7,
	XS_INTRODUCE = 8,
	XS_RELEASE = 9,
	XS_GET_DOMAIN_PATH = 10,
	XS_WRITE = 11,
	XS_MKDIR = 12,
	XS_RM = 13,
	XS_SET_PERMS = 14,
	XS_WATCH_EVENT = 15,
	XS_ERROR = 16,
	XS_IS_DOMAIN_INTRODUCED = 17,
	XS_RESUME = 18,
	XS_SET_TARGET = 19,
	XS_RESET_WATCHES = 21,
	XS_DIRECTORY_PART = 22,
};

/* No transaction (the tx argument of every tree operation). */
#define XS_NO_TX 0u

/* ------------------------------------------------------------------------ */
/* The handle. Caller-allocated; fields are private to xs_client.c.         */

struct xs_handle {
	struct xs_transport tr;
	int dead;            /* 0, or the negative errno that killed the handle */
	uint32_t next_req_id;
	/* Receive side: one message being assembled (header, then payload). */
	uint32_t rx_have;
	uint8_t rx[XS_HEADER_BYTES + XS_PAYLOAD_MAX];
	/* Send side: one message being built. */
	uint8_t tx[XS_HEADER_BYTES + XS_PAYLOAD_MAX];
	/* Watch-event queue: a byte ring in caller memory holding records
	 * {u16 len; len payload bytes "path\0token\0"}. */
	uint8_t *evq;
	uint32_t evq_bytes;
	uint32_t evq_head;   /* offset of the oldest record */
	uint32_t evq_used;   /* bytes in use */
	uint32_t evq_count;  /* records queued */
	/* Counters. */
	uint64_t events_lost;   /* events dropped because the queue was full */
	uint32_t lost_unreported; /* drops not yet reported by xs_wait_event */
};

/* Event-queue storage for about n events of average record size r bytes:
 * n * (r + 2). Paths are at most 3072 bytes, so one worst-case event needs
 * XS_EVENT_RECORD_MAX bytes. */
#define XS_EVENT_RECORD_MAX (2u + XS_PAYLOAD_MAX)

/*
 * Prepares `h` to talk over `tr` (copied). `event_buf` (event_buf_bytes
 * long, caller-owned, must outlive h) stores watch events that arrive
 * while the client waits for a reply; when it is full, further events are
 * dropped, counted in h->events_lost, and reported once by xs_wait_event()
 * as XS_EOVERFLOW. event_buf may be NULL (size 0) for a handle that never
 * watches. Returns 0, or -XS_EINVAL for a NULL handle/transport/op.
 */
int xs_open(struct xs_handle *h, const struct xs_transport *tr, void *event_buf, uint32_t event_buf_bytes);

/* Closes the transport. The handle may be opened again afterwards. */
void xs_close(struct xs_handle *h);

/*
 * READ. Copies the value (raw bytes, may contain NULs) into buf and stores
 * its length in *len_out (may be NULL). When len < buf_bytes, buf[len] is
 * set to NUL so text values read as C strings. Returns 0, -XS_ERANGE when
 * the value does not fit (len_out still gets its length), or an errno.
 */
int xs_read(struct xs_handle *h, uint32_t tx, const char *path, void *buf, uint32_t buf_bytes, uint32_t *len_out);

/* WRITE of `len` raw bytes (creates missing parents). Returns 0 or an errno. */
int xs_write(struct xs_handle *h, uint32_t tx, const char *path, const void *value, uint32_t len);

/* MKDIR (no-op on an existing node). RM (recursive). 0 or an errno. */
int xs_mkdir(struct xs_handle *h, uint32_t tx, const char *path);
int xs_rm(struct xs_handle *h, uint32_t tx, const char *path);

/*
 * DIRECTORY. Stores the children as consecutive NUL-terminated names in
 * buf ("a\0b\0") and returns their number (>= 0); walk them with
 * xs_dir_next(). Returns -XS_ERANGE when they do not fit buf, or an errno
 * (-XS_E2BIG when the daemon's list exceeds one message).
 */
int xs_directory(struct xs_handle *h, uint32_t tx, const char *path, char *buf, uint32_t buf_bytes);

/* The name after `name` in a DIRECTORY buffer: for (p = buf, i = 0; i < n; i++, p = xs_dir_next(p)). */
const char *xs_dir_next(const char *name);

/* TRANSACTION_START: stores the id in *tx_out. 0 or an errno (-XS_ENOSPC: quota). */
int xs_transaction_start(struct xs_handle *h, uint32_t *tx_out);

/*
 * TRANSACTION_END: commit != 0 commits, 0 aborts. Returns 0, -XS_EAGAIN
 * when the commit conflicted (the transaction is gone: start again), or an
 * errno (-XS_ENOENT for an unknown transaction).
 */
int xs_transaction_end(struct xs_handle *h, uint32_t tx, int commit);

/*
 * WATCH / UNWATCH of (path, token). A watch fires once on registration,
 * then on every change at or below path. 0 or an errno (-XS_EEXIST:
 * duplicate; -XS_ENOENT: no such watch; -XS_E2BIG: watch quota).
 */
int xs_watch(struct xs_handle *h, const char *path, const char *token);
int xs_unwatch(struct xs_handle *h, const char *path, const char *token);

/*
 * The next watch event: the oldest queued one, else the next to arrive
 * within timeout_ms (-1: wait forever; 0: only what already arrived).
 * Copies its path and token as C strings. Returns 0; -XS_ETIMEDOUT;
 * -XS_EOVERFLOW once after events were dropped (the queue was full: re-read
 * what you watch), with the queue's remaining events still to come;
 * -XS_ERANGE when a buffer is too small (the event stays queued); an
 * unexpected non-event message gives -XS_EPROTO; or a transport errno.
 */
int xs_wait_event(struct xs_handle *h, int timeout_ms, char *path, uint32_t path_bytes, char *token,
		  uint32_t token_bytes);

/* Events queued and not yet handed out. */
uint32_t xs_pending_events(const struct xs_handle *h);

/* GET_DOMAIN_PATH: "/local/domain/<domid>" as a C string. 0, -XS_ERANGE or an errno. */
int xs_get_domain_path(struct xs_handle *h, uint32_t domid, char *buf, uint32_t buf_bytes);

/*
 * Any request: sends `type` with tx id `tx` and the payload `payload`
 * (payload_len bytes, sent as given: the caller adds the NULs), and copies
 * the reply payload into reply (reply_len_out gets its length; either may be
 * NULL/0 to discard it). Used for CONTROL, SET_PERMS, INTRODUCE and tests.
 * Returns 0, -XS_ERANGE (reply did not fit; consumed), or an errno.
 */
int xs_request(struct xs_handle *h, uint32_t type, uint32_t tx, const void *payload, uint32_t payload_len,
	       void *reply, uint32_t reply_bytes, uint32_t *reply_len_out);

/*
 * Xen's error name (the XS_ERROR payload, `len` bytes, NUL optional) as a
 * positive errno: the table of xs_wire.h; anything else is XS_EINVAL.
 */
int xs_errno_from_name(const char *name, uint32_t len);

/* Xen's name of a positive errno ("ENOENT"), or NULL when the table has none. */
const char *xs_errno_name(int err);

#endif /* VPIO_XS_H */
