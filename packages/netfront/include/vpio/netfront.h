/* SPDX-License-Identifier: MIT */
/*
 * vpio/netfront.h - the frontend core every vpio guest uses (minios,
 * linux-netfront, the Node binding): the vif handshake over xenstore, ring
 * and pool mapping, batched transmit and receive on the @vpio/ring burst
 * helpers, poll and event modes, clean disconnect.
 *
 * Freestanding: the core (csrc/nf_*.c) includes no libc header and needs
 * nothing but memcpy/memset (checked with nm -u). It reaches the outside
 * only through three small interfaces the caller supplies:
 *
 *   xenstore       a struct xs_handle (vpio/xs.h) opened over any transport
 *   grant mapping  struct nf_grant_ops   map(domid, refs[], n) / unmap
 *   event channels struct nf_evtchn_ops  alloc / notify / wait / close
 *
 * Implementations: host mode in csrc/host_*.c (vpio/netfront_host.h); a
 * xen mode adds sibling files behind the same structs.
 *
 * The handshake (DESIGN.md "The handshake"; the same decisions as
 * @vpio/vif's frontendStep()):
 *   1. read `backend` and `backend-id` from the own directory
 *      device/vpio-vif/<n>; watch the backend directory; wait for InitWait;
 *   2. read feature-netmap (must be 1), the ring sizes and the ring refs
 *      that the backend wrote into the OWN directory; map both rings; check
 *      their headers (magic, ABI version, geometry, num_slots as advertised);
 *      map the pool the slots' grefs name; vring_fe_attach() both rings;
 *   3. allocate one TX and one RX event channel; write event-channel-tx,
 *      event-channel-rx (and request-netmap-offload=1 when nf_config asks
 *      for NF_FEAT_OFFLOAD and the backend wrote feature-netmap-offload=1)
 *      and state=Connected in one transaction;
 *   4. wait for backend Connected (a new `error` node in the backend
 *      directory instead means refused; one left from an earlier attempt is
 *      ignored until it changes); read mac and mtu from the backend directory.
 * A value the backend wrote that does not parse is written as this end's
 * `error` node and nf_connect() fails with -VP_EPROTO.
 *
 * While connected the core keeps its watch on the backend directory, so a
 * backend that leaves (state Closing/Closed, as a toolstack detaching the
 * vif writes it, or its directory removed) is seen through xenstore even
 * where the data path cannot see it: nf_backend_check().
 *
 * Queues (Xen netfront's multi-queue keys; @vpio/vif's protocol.ts): a
 * caller that asks for k > 1 queues (nf_config.queues) passes an array of k
 * struct nf_dev to nf_connect() and gets min(k, N) queues, N being the
 * backend's multi-queue-max-queues (absent: 1). Each queue is a whole ring
 * pair with its own pool and its own two channels, read from queue-<i>/ in
 * step 2 and written there in step 3 with multi-queue-num-queues; one queue
 * uses the flat keys exactly as without queues. Queue i's handle is
 * nf_queue(nf, i) = &array[i]: every data-path call (here and in
 * vpio/netfront_zc.h) takes it in place of the vif, and the vif itself
 * (&array[0]) is queue 0, so a caller that never asks for queues is
 * unchanged.
 *
 * Channels: the TX channel carries "TX has packets" (guest -> backend) and
 * "TX slots freed" (backend -> guest); the RX channel "RX has packets"
 * (backend -> guest) and "RX space" (guest -> backend, lossless ports).
 *
 * Threading: a struct nf_dev belongs to one thread. TX and RX may be driven
 * from two threads only if each uses its own direction's calls and neither
 * calls nf_connect/nf_disconnect meanwhile. Each queue is such a struct
 * nf_dev: one thread per queue (queues share nothing on the data path but
 * the read-only evtchn ops table, whose notify/wait must then be safe on
 * distinct ports at once, as the broker and static host ops are);
 * nf_connect/nf_disconnect, on queue 0, while no queue's thread runs.
 *
 * Return values: 0 or a negative errno (VP_E* numbering, as Linux), or a
 * documented count.
 */
#ifndef VPIO_NETFRONT_H
#define VPIO_NETFRONT_H

#include "vpio/compiler.h"
#include "vpio/ring_fe.h"
#include "vpio/vif_proto.h"
#include "vpio/xs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Errno numbers vpio/compiler.h lacks (Linux numbering). */
#define NF_ENOTCONN 107
#define NF_ECONNREFUSED 111

/*
 * Grant refs of the pool one nf_dev (one queue) can collect (consecutive
 * equal refs count once): host mode has one, xen one per pool page, carried
 * one per slot gref, so at most one per slot of two 4096-slot rings.
 */
#define NF_MAX_POOL_REFS 8192u
/* Queues one vif may use (nf_config.queues). */
#define NF_MAX_QUEUES VIF_LIMIT_MAX_QUEUES
#define NF_PAGE_BYTES 4096u

/*
 * Grant mapping.
 *   map(ctx, domid, refs, n, bytes, writable, &addr)
 *       maps the n grant refs of `domid` as one contiguous area of `bytes`
 *       bytes (a multiple of NF_PAGE_BYTES). 0 and *addr, or -errno
 *       (-VP_EINVAL bad arguments, -VP_ENOENT unknown ref, a driver's errno).
 *   unmap(ctx, addr, bytes)   0 or -errno.
 */
struct nf_grant_ops {
	int (*map)(void *ctx, uint32_t domid, const uint32_t *refs, uint32_t n, uint64_t bytes, int writable,
		   void **addr);
	int (*unmap)(void *ctx, void *addr, uint64_t bytes);
	void *ctx;
};

/*
 * Event channels.
 *   alloc(ctx, remote_domid, &port)  an unbound local port the remote may
 *                                    bind: 0 or -errno (-VP_ENOSPC none left)
 *   notify(ctx, port)                0 (sent or coalesced) or -errno
 *                                    (-VP_EPIPE: the peer is gone)
 *   wait(ctx, port, timeout_ms)      block until a notification is pending
 *                                    (-1: no limit), consume it: 1 woken
 *                                    (maybe spuriously), 0 timed out, -errno
 *   close(ctx, port)                 0 or -errno
 */
struct nf_evtchn_ops {
	int (*alloc)(void *ctx, uint32_t remote_domid, uint32_t *port);
	int (*notify)(void *ctx, uint32_t port);
	int (*wait)(void *ctx, uint32_t port, int timeout_ms);
	int (*close)(void *ctx, uint32_t port);
	void *ctx;
};

enum nf_mode {
	/* Sleep on event channels (kick protocol); the backend may sleep too. */
	NF_MODE_EVENT = 0,
	/* Busy-poll: this guest never sleeps and assumes a polling backend, so
	 * no kick checks and no full barriers on the data path. */
	NF_MODE_POLL = 1,
};

struct nf_config {
	uint32_t devid;                   /* the vif index <n> */
	struct xs_handle *xs;             /* open, owned by the caller, used until nf_disconnect() */
	const struct nf_grant_ops *grant; /* copied */
	const struct nf_evtchn_ops *evtchn;
	enum nf_mode mode;
	int timeout_ms;                   /* limit of each handshake wait (-1: none) */
	uint32_t features;                /* NF_FEAT_* to request (0: none; minios asks for none) */
	uint32_t queues;                  /* queues wanted, 0 or 1: one (the flat keys); up to NF_MAX_QUEUES:
	                                   * nf_connect's nf is then an array of at least this many struct nf_dev */
};

/*
 * nf_config.features. NF_FEAT_OFFLOAD: buffer chains (VRING_F_MORE) and the
 * per-slot offload word (VRING_F_OFFLOAD), requested with
 * request-netmap-offload=1 in the Connected transaction when the backend
 * offered feature-netmap-offload=1. nf_features() says what was agreed.
 */
#define NF_FEAT_OFFLOAD 0x1u

struct nf_stats {
	uint64_t tx_packets, rx_packets;
	uint64_t tx_kicks, rx_kicks;       /* notifications sent */
	uint64_t tx_sleeps, rx_sleeps;     /* waits on a channel */
};

enum nf_state {
	NF_STATE_CLOSED = 0,
	NF_STATE_CONNECTED = 1,
	NF_STATE_FAILED = 2, /* a data-path notify failed: the backend is gone */
};

/* One vif. Caller-allocated; fields are private to the core. */
struct nf_dev {
	struct nf_config cfg;
	struct nf_grant_ops gops;
	struct nf_evtchn_ops eops;
	enum nf_state state;
	uint32_t backend_id;
	char dir[40];       /* "device/vpio-vif/<n>" (relative: under the guest's domain path) */
	char backend[160];  /* the backend directory, from the `backend` key */
	struct vring_fe tx, rx;
	void *tx_ring, *rx_ring, *pool;
	uint64_t tx_ring_bytes, rx_ring_bytes, pool_bytes;
	uint32_t tx_port, rx_port;
	uint32_t have; /* NF_HAVE_* bits: what to undo */
	int tx_kick_pending;
	uint8_t mac[6];
	uint32_t mtu;
	struct nf_stats stats;
	uint32_t features; /* NF_FEAT_* agreed with the backend */
	uint32_t queue;    /* this queue's index in its vif */
	uint32_t nqueues;  /* queues in use (every queue holds the count; 0 when not connected) */
	struct nf_dev *q0; /* the vif's queue 0 (the array nf_connect got) */
};

/*
 * The handshake, steps 1-4 above. On success the vif is Connected and the
 * data calls below may be used (on every queue: nf_queue()). On failure
 * everything mapped or allocated is undone in reverse order and the error
 * names the cause:
 *   -VP_EINVAL      bad config (NULL op, NULL xs handle, queues > NF_MAX_QUEUES)
 *   -VP_ENOENT      no `backend`/`backend-id` in the own directory
 *   -VP_EPROTO      the backend published something that does not parse or
 *                   does not match the ring headers (an `error` node is written),
 *                   multi-queue-max-queues and queue-<i>/ keys included
 *   -VP_EPROTONOSUPPORT  a ring of another ABI version
 *   -NF_ECONNREFUSED the backend wrote an `error` node or went Closing/Closed
 *   -VP_ETIMEDOUT   a wait exceeded cfg->timeout_ms
 *   -VP_E2BIG       the pool needs more than NF_MAX_POOL_REFS refs
 *   a grant/evtchn op's errno, or an xs_* errno.
 */
int nf_connect(struct nf_dev *nf, const struct nf_config *cfg);

/*
 * Clean disconnect: state Closing, wait for the backend to follow (Closing
 * or Closed, or its directory gone), close the channels, unmap rings and
 * pool (every queue's), state Closed. The state writes happen only while
 * the own directory is there (its `backend` key, checked in the same
 * transaction): a vif the toolstack removed is not brought back as a stray
 * `state` node. Any queue's handle names the vif. Local teardown happens
 * even when the backend does not answer; returns 0, -VP_ETIMEDOUT (backend
 * did not follow), -VP_EPROTO (its state does not parse), -NF_ENOTCONN (not
 * connected), or the first xs_* errno.
 */
int nf_disconnect(struct nf_dev *nf);

/*
 * What nf_backend_check() stores besides a xenbus state (VIF_STATE_*, 0-8):
 * the backend's `state` node or its whole directory is gone (or no longer
 * readable by this domain), or it holds something that does not parse.
 */
#define NF_BACKEND_GONE 0x100u
#define NF_BACKEND_GARBLED 0x101u

/*
 * Is the backend still Connected? For a guest whose data path cannot tell:
 * on Xen a notification to a port whose remote end was closed is dropped
 * without an error (the port is just unbound), so a backend that died or
 * was detached is only seen in xenstore. From nf_connect() to
 * nf_disconnect() the core's watch on the backend directory stays on the
 * vif's xenstore handle (cfg.xs), firing on any change at or below it, its
 * removal included. Call this once after nf_connect() and then whenever the
 * handle's transport may have something (its descriptor polls readable):
 * it never blocks on the transport. It takes every watch event that has
 * arrived (queued, or readable now; at most 64 per call) and drops it —
 * while connected the core's watch is meant to be the handle's only one —
 * then reads the backend's `state` (again when events arrived during the
 * read, up to 4 reads), so events lost to a full queue change nothing. Any queue's handle names the vif; call it on the thread
 * that uses the xenstore handle (nf_connect's), never during another call
 * on that handle. No per-packet cost: nothing on the data path calls it.
 * Returns 1 the backend is Connected; 0 it is not, *state saying what it is
 * (VIF_STATE_CLOSING or _CLOSED: the toolstack is detaching the vif or
 * vpiod closed it; another VIF_STATE_*; NF_BACKEND_GONE; NF_BACKEND_GARBLED);
 * -VP_EINVAL (NULL argument), -NF_ENOTCONN (not connected), or the xs_*
 * errno of the handle (a dead transport: nothing more can be learned).
 */
int nf_backend_check(struct nf_dev *nf, uint32_t *state);

/* The backend directory the vif's `backend` key named (a C string), "" when not connected. */
const char *nf_backend_path(const struct nf_dev *nf);

/* Queues the connected vif uses (1..NF_MAX_QUEUES; 0 when not connected); any queue's handle. */
uint32_t nf_queue_count(const struct nf_dev *nf);

/*
 * Queue i of nf's vif (any queue's handle): the struct nf_dev every data
 * call takes, or NULL when i >= nf_queue_count(nf). Queue 0 is the vif
 * itself. The getters below give the same answers on every queue; nf_stats
 * counts one queue (sum them for the vif).
 */
struct nf_dev *nf_queue(struct nf_dev *nf, uint32_t i);

/* MAC (6 bytes) and MTU the backend published; valid while connected. */
const uint8_t *nf_mac(const struct nf_dev *nf);
uint32_t nf_mtu(const struct nf_dev *nf);
uint32_t nf_tx_slots(const struct nf_dev *nf);
uint32_t nf_rx_slots(const struct nf_dev *nf);
uint32_t nf_buf_size(const struct nf_dev *nf);
/* NF_FEAT_* agreed at connect: requested in nf_config.features and offered by the backend. */
uint32_t nf_features(const struct nf_dev *nf);

/* nf_tx_burst flags */
#define NF_TX_KICK 1u /* notify the backend now if it asked (else wait for nf_tx_kick) */

/*
 * Enqueues up to n packets (each len in [14, buf_size]) on the TX ring.
 * Returns the number enqueued (0 when the ring is full or not connected).
 * In event mode, when the backend asked to be woken the kick is remembered
 * and sent now with NF_TX_KICK, or by nf_tx_kick() later (one kick per
 * batch, not per packet).
 */
uint32_t nf_tx_burst(struct nf_dev *nf, const void *const pkts[], const uint16_t lens[], uint32_t n,
		     uint32_t flags);

/* Sends the remembered TX kick, if any: 1 sent, 0 none needed, -errno. */
int nf_tx_kick(struct nf_dev *nf);

/*
 * Dequeues up to n received packets into bufs[i] (each at least
 * nf_buf_size() bytes), lengths into lens[i]. Returns the number dequeued.
 * In event mode, a lossless backend waiting for RX space is kicked here.
 */
uint32_t nf_rx_burst(struct nf_dev *nf, void *const bufs[], uint16_t lens[], uint32_t n);

/* Free TX slots / received packets, as seen now. */
uint32_t nf_tx_space(struct nf_dev *nf);
uint32_t nf_rx_pending(struct nf_dev *nf);

/*
 * Wait for received packets (nf_rx_wait) or freed TX slots (nf_tx_wait).
 * Event mode: arm need_kick, re-check, sleep on the channel, disarm
 * (vring_fe_prepare_sleep / _woken). Poll mode: never sleeps, just looks.
 * Returns 1 (maybe ready: re-check), 0 (timed out / nothing in poll mode),
 * -NF_ENOTCONN, or the evtchn op's errno.
 */
int nf_rx_wait(struct nf_dev *nf, int timeout_ms);
int nf_tx_wait(struct nf_dev *nf, int timeout_ms);

/* Counters. */
const struct nf_stats *nf_stats(const struct nf_dev *nf);

/* ------------------------------------------------------------------------ */
/* Strict parsers of xenstore values (the rules of @vpio/vif's parse.ts).    */
/* Each takes the value (len bytes, no NUL needed) and returns 0 or -VP_EINVAL. */

int nf_parse_u32(const char *s, uint32_t len, uint32_t *out);
int nf_parse_state(const char *s, uint32_t len, uint32_t *out);  /* [0, 8] */
int nf_parse_slots(const char *s, uint32_t len, uint32_t *out);  /* power of two in [64, 4096] */
int nf_parse_ref_count(const char *s, uint32_t len, uint32_t *out); /* [1, 17] */
int nf_parse_queue_count(const char *s, uint32_t len, uint32_t *out); /* [1, NF_MAX_QUEUES] */
int nf_parse_gref(const char *s, uint32_t len, uint32_t *out);   /* [8, 2^32 - 1] */
int nf_parse_port(const char *s, uint32_t len, uint32_t *out);   /* [1, 131071] */
int nf_parse_mtu(const char *s, uint32_t len, uint32_t *out);    /* [68, 65535] */
int nf_parse_mac(const char *s, uint32_t len, uint8_t mac[6]);    /* unicast xx:xx:xx:xx:xx:xx */

#ifdef __cplusplus
}
#endif

#endif /* VPIO_NETFRONT_H */
