/* SPDX-License-Identifier: MIT */
/*
 * vpio/memif.h - the server side of the memif protocol (vpio/memif_abi.h):
 * a listening socket, one state machine per control connection, the
 * client's regions mapped only when sealed, and copying rx/tx bursts over
 * the client's rings.
 *
 *   struct vmif_server *srv;
 *   struct vmif_server_config cfg = { .socket_path = "/run/vpio/t1/memif.sock" };
 *   vmif_server_create(&srv, &cfg);                  // 0 or -errno
 *   struct vmif_if *ifp;
 *   vmif_if_create(srv, &(struct vmif_if_config){ .id = 0 }, &ifp);
 *   for (;;) {
 *       poll vmif_server_fd(srv) (and vmif_if_rx_fd(ifp, 0) when connected);
 *       vmif_server_step(srv);                       // handshakes, refusals
 *       n = vmif_rx_burst(ifp, 0, bufs, 64);         // copy out of C2S
 *       vmif_tx_burst(ifp, 0, bufs, n);              // copy into S2C
 *   }
 *   vmif_server_close(srv);
 *
 * Threading and ownership: a server and its interfaces are used by one
 * thread at a time; nothing here locks. vmif_server_step() is the only
 * call that connects or tears an interface down, and it calls on_state()
 * before it unmaps anything: when on_state(ifp, 0, ...) returns, no burst
 * may run on ifp until on_state(ifp, 1, ...) is called again. Per packet
 * nothing allocates, locks or makes a syscall; a burst makes at most one
 * syscall (reading or writing an eventfd).
 *
 * Every function returns 0 (or a count) or a negative errno.
 */
#ifndef VPIO_MEMIF_H
#define VPIO_MEMIF_H

#include <stdint.h>

#include "vpio/memif_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vmif_server;
struct vmif_if;

/*
 * Why a control connection was refused. Each refusal sends DISCONNECT with
 * a reason string naming the offending field, closes every fd the client
 * sent, unmaps everything mapped for it and counts here.
 */
enum vmif_refusal {
	VMIF_REFUSE_MSG_SIZE,       /* message not exactly 128 bytes */
	VMIF_REFUSE_MSG_TYPE,       /* unknown message type */
	VMIF_REFUSE_MSG_ORDER,      /* valid type, wrong state (second INIT, ADD_RING before INIT, ...) */
	VMIF_REFUSE_FD_MISSING,     /* ADD_REGION / ADD_RING without an fd */
	VMIF_REFUSE_FD_EXTRA,       /* an fd on a message that takes none, or more than one */
	VMIF_REFUSE_VERSION,        /* INIT.version is not 2.0 */
	VMIF_REFUSE_MODE,           /* INIT.mode is not Ethernet */
	VMIF_REFUSE_ID,             /* no interface with INIT.id */
	VMIF_REFUSE_BUSY,           /* that interface already has a client */
	VMIF_REFUSE_SECRET,         /* secret missing or wrong */
	VMIF_REFUSE_REGION_INDEX,   /* not the next index, or past max_regions */
	VMIF_REFUSE_REGION_SIZE,    /* zero, past max_region_bytes, or past the file's size */
	VMIF_REFUSE_REGION_UNSEALED, /* not a sealable memfd, or no F_SEAL_SHRINK */
	VMIF_REFUSE_REGION_FD,      /* not a memfd/regular file, write-sealed, or mmap failed */
	VMIF_REFUSE_RING_INDEX,     /* past max_queue_pairs, or added twice */
	VMIF_REFUSE_RING_PARAM,     /* flags, log2 size, private header, region or placement */
	VMIF_REFUSE_RING_FD,        /* interrupt fd is not an eventfd */
	VMIF_REFUSE_RING_COOKIE,    /* at CONNECT, a ring without VMIF_COOKIE */
	VMIF_REFUSE_RINGS_MISSING,  /* CONNECT without rings in both directions, or with gaps */
	VMIF_REFUSE_CHANNELS,       /* too many control connections at once */
	VMIF_REFUSE_SEND,           /* the client does not read its control socket */
	VMIF_REFUSE_NOMEM,
	VMIF_REFUSE_TIMEOUT,        /* no CONNECT within handshake_timeout_ms of accept */
	VMIF_REFUSE__COUNT
};

/* A short stable name for a refusal ("region-unsealed"), or "?" */
const char *vmif_refusal_name(enum vmif_refusal r);

struct vmif_server_counters {
	uint64_t accepted;            /* control connections accepted */
	uint64_t connected;           /* handshakes that reached CONNECTED */
	uint64_t client_disconnects;  /* DISCONNECT received from a client */
	uint64_t client_hangups;      /* a client closed its socket */
	uint64_t msgs_rx, msgs_tx;
	uint64_t fds_closed;          /* fds a client sent that we closed unused (refusals, extras) */
	uint64_t refused[VMIF_REFUSE__COUNT];
};

/* Data-path counters of one interface (all its queues), since creation. */
struct vmif_if_counters {
	uint64_t rx_pkts, rx_bytes;   /* delivered to the caller */
	uint64_t tx_pkts, tx_bytes;   /* published to the client */
	/* C2S (rx) drops: the packet is consumed and dropped, never read */
	uint64_t rx_bad_head;         /* head more than the ring size ahead of our tail (nothing consumed) */
	uint64_t rx_bad_region;       /* descriptor region not mapped */
	uint64_t rx_bad_offset;       /* offset + length past the region's end */
	uint64_t rx_bad_len;          /* descriptor length > buf_size */
	uint64_t rx_bad_chain;        /* NEXT chain longer than the ring */
	uint64_t rx_too_big;          /* packet larger than the caller's buffer */
	uint64_t rx_empty;            /* zero-length packet */
	/* S2C (tx) bad buffers: the slot is handed back empty (length 0) */
	uint64_t tx_bad_head;         /* head more than the ring size ahead of our tail (nothing sent) */
	uint64_t tx_bad_region;
	uint64_t tx_bad_offset;
	uint64_t tx_bad_len;          /* offered capacity 0 or > buf_size */
	uint64_t tx_no_room;          /* packets a burst could not place (ring full); not sent */
	uint64_t tx_too_big;          /* packets larger than the whole S2C ring offered: dropped */
	uint64_t tx_kicks;            /* eventfd writes (one per burst at most) */
	uint64_t tx_kicks_skipped;    /* client eventfd was full: not written (never block) */
	uint64_t rx_kick_reads;       /* eventfd reads that consumed a kick (interrupts received) */
	uint64_t rx_arms;             /* vmif_rx_arm calls that cleared MASK_INT (the caller then slept) */
	uint64_t rx_arm_races;        /* vmif_rx_arm calls that found packets after clearing it (no sleep) */
};

struct vmif_server_config {
	const char *socket_path;      /* required; its directory must be ours and not group/other-writable */
	const char *name;             /* sent in HELLO; default "vpio" */
	unsigned socket_mode;         /* default 0600 */
	uint16_t max_regions;         /* regions per connection, 1..256; default 4 */
	uint16_t max_queue_pairs;     /* rings per direction, 1..256; default 8 */
	uint8_t max_log2_ring_size;   /* 1..15; default 14 */
	uint32_t buf_size;            /* largest descriptor length accepted, 64..65536; default 2048 */
	uint64_t max_region_bytes;    /* default 256 MiB */
	unsigned max_channels;        /* control connections at once; default 16 */
	uint32_t handshake_timeout_ms;/* accept to CONNECT, else refused; default 5000 */
	/* The clock for that timeout (milliseconds, monotonic); default
	 * CLOCK_MONOTONIC. Tests inject their own. */
	uint64_t (*now_ms)(void *user);
	/* Called from vmif_server_step() (or vmif_if_destroy/vmif_server_close)
	 * when an interface connects (1) or before it is torn down (0).
	 * Optional. It must not call back into the server (no step, destroy or
	 * close from inside it); bursts are fine on connect. */
	void (*on_state)(struct vmif_if *ifp, int connected, void *user);
	void *user;
};

/*
 * Creates the server and its listening socket (SOCK_SEQPACKET, mode
 * socket_mode). A stale socket file at the path is replaced; a live one is
 * not. Returns 0, -EINVAL (config), -ENAMETOOLONG, -EPERM (directory not
 * ours or writable by others), -EADDRINUSE, -EEXIST (not a socket), -ENOMEM,
 * or the errno of socket/bind/listen/epoll.
 */
int vmif_server_create(struct vmif_server **out, const struct vmif_server_config *cfg);

/*
 * Adopts fd, an already listening AF_UNIX SOCK_SEQPACKET socket someone
 * else bound (vpio-launch --wire-memif: the monitor binds, the sandboxed
 * tenant serves). cfg->socket_path and socket_mode are ignored; the file is
 * the caller's and is never unlinked here. The server owns fd from a
 * successful return on (made non-blocking and close-on-exec; closed by
 * vmif_server_close). Returns 0, -EBADF, -ENOTSOCK, -EINVAL (fd is not a
 * listening AF_UNIX SOCK_SEQPACKET socket, or a bad config), -ENOMEM or the
 * errno of fcntl/epoll; on failure fd stays the caller's, open.
 */
int vmif_server_adopt(struct vmif_server **out, int fd, const struct vmif_server_config *cfg);

/* Disconnects every client, unmaps, closes, unlinks the socket it created
 * (not an adopted one's), frees. */
void vmif_server_close(struct vmif_server *srv);

/* One descriptor to poll for readability: it covers the listening socket
 * and every control connection (an epoll fd). */
int vmif_server_fd(const struct vmif_server *srv);

/* Milliseconds until vmif_server_step() must run again to expire an
 * unfinished handshake (0: now), or -1 when no handshake is pending: the
 * timeout to give poll() on vmif_server_fd(). */
int vmif_server_poll_timeout_ms(const struct vmif_server *srv);

/*
 * Handles what is pending without blocking: accepts, reads and answers
 * control messages, refuses and tears down, and refuses handshakes past
 * their deadline. Returns the number of events
 * handled (>= 0), or a negative errno if the server itself failed
 * (epoll_wait).
 */
int vmif_server_step(struct vmif_server *srv);

void vmif_server_counters(const struct vmif_server *srv, struct vmif_server_counters *out);

/* The reason sent with the latest refusal ("" if none yet), for logs. */
const char *vmif_server_last_refusal(const struct vmif_server *srv);

struct vmif_if_config {
	uint32_t id;                  /* INIT.id that selects this interface */
	const char *name;             /* sent in CONNECTED; default "vpio" */
	const char *secret;           /* optional, up to 24 bytes */
	/*
	 * 1: MASK_INT set on the C2S rings at connect (the client writes our
	 * eventfd only while a caller has them armed with vmif_rx_arm: polling,
	 * or the adaptive scheme below). 0: MASK_INT clear for the whole
	 * connection, the client writes our eventfd after every burst, and
	 * every vmif_rx_burst reads it (one syscall per burst).
	 */
	int rx_poll;
};

/* Returns 0, -EINVAL, -EEXIST (id taken) or -ENOMEM. */
int vmif_if_create(struct vmif_server *srv, const struct vmif_if_config *cfg, struct vmif_if **out);

/* Disconnects the client (if any) with `reason` and frees the interface. */
void vmif_if_destroy(struct vmif_if *ifp, const char *reason);

/* 1 when a client completed the handshake, else 0. */
int vmif_if_connected(const struct vmif_if *ifp);
/* Queues per direction of the connected client (0 when not connected). */
unsigned vmif_if_num_rx_queues(const struct vmif_if *ifp);
unsigned vmif_if_num_tx_queues(const struct vmif_if *ifp);
/* The C2S ring's eventfd to poll (rx interrupts), -ENOTCONN or -EINVAL. */
int vmif_if_rx_fd(const struct vmif_if *ifp, unsigned qid);
/* The client's name from INIT (NUL-terminated, maybe empty). */
const char *vmif_if_peer_name(const struct vmif_if *ifp);
void vmif_if_counters(const struct vmif_if *ifp, struct vmif_if_counters *out);

/* One caller buffer: rx fills data[0..len) (len <= cap); tx sends data[0..len). */
struct vmif_buf {
	void *data;
	uint32_t len;
	uint32_t cap;
};

/*
 * Copies up to n packets out of C2S ring `qid` into bufs[i] (each packet
 * whole, into one buffer), gives the slots back and returns how many were
 * delivered (0..n). Bad descriptors and packets that do not fit are dropped
 * and counted; a head too far ahead consumes nothing and counts.
 * Returns -ENOTCONN or -EINVAL (qid) otherwise.
 */
int vmif_rx_burst(struct vmif_if *ifp, unsigned qid, struct vmif_buf *bufs, unsigned n);

/*
 * vmif_rx_peek: as vmif_rx_burst, with one copy fewer: a packet in a single
 * descriptor is handed out in place (bufs[i].data is set to it, inside the
 * client's region, and len to its length: the descriptor was read once into
 * a local and validated, and len <= cap still holds); a chained packet is
 * copied into the caller's bufs[i].data as before. The slots are not given
 * back: vmif_rx_release(ifp, qid) publishes the tail past everything peeked
 * (one store), and must come before the next vmif_server_step() (which may
 * unmap the region) and before the next burst of either kind.
 * The bytes in place are the client's: it can change them at any time, so
 * the caller reads them once (copies them out) and never parses them in
 * place. Returns as vmif_rx_burst; vmif_rx_release returns 0, -ENOTCONN or
 * -EINVAL.
 */
int vmif_rx_peek(struct vmif_if *ifp, unsigned qid, struct vmif_buf *bufs, unsigned n);
int vmif_rx_release(struct vmif_if *ifp, unsigned qid);

/*
 * Copies up to n packets into the client's free buffers on S2C ring `qid`
 * (chaining slots with NEXT when a packet exceeds a buffer), publishes them
 * with one tail store and at most one eventfd write, and returns how many
 * of bufs it consumed (0..n): sent, or dropped because a packet did not fit
 * even into the whole ring (tx_too_big). bufs[k..n) did not fit now and are
 * the caller's to retry or drop (tx_no_room). Returns -ENOTCONN or -EINVAL
 * (qid) otherwise.
 */
int vmif_tx_burst(struct vmif_if *ifp, unsigned qid, const struct vmif_buf *bufs, unsigned n);

/*
 * Interrupts on C2S ring `qid` in the adaptive scheme (an interface created
 * with rx_poll = 1): poll while busy with MASK_INT set, ask for an
 * interrupt only before sleeping.
 *
 *   if (vmif_rx_arm(ifp, 0) == 1) {       // MASK_INT clear, ring re-checked
 *       poll vmif_if_rx_fd(ifp, 0) (and whatever else) ...;
 *       vmif_rx_disarm(ifp, 0);            // MASK_INT set, the kick consumed
 *   }                                      // 0: packets arrived: no sleep
 *   vmif_rx_burst(...);
 *
 * vmif_rx_arm clears MASK_INT, issues a full barrier and reads head again:
 * returns 1 when the ring is empty (sleep: the client writes the eventfd
 * after its next publish), 0 when packets arrived in between (MASK_INT is
 * set again; do not sleep), -ENOTCONN or -EINVAL (qid). The barrier pairs
 * with the one a client must issue between publishing head and reading
 * MASK_INT; a client with only a release store there (DPDK's net_memif)
 * can, rarely, miss the clear and not kick for that burst: a sleeper should
 * bound its sleep.
 *
 * vmif_rx_disarm sets MASK_INT again and consumes a pending kick (one
 * non-blocking eventfd read, counted in rx_kick_reads): returns 1 when a
 * kick was consumed, 0 when none was pending, -ENOTCONN or -EINVAL.
 * Never call either per packet: they are for the moment a poller goes idle.
 */
int vmif_rx_arm(struct vmif_if *ifp, unsigned qid);
int vmif_rx_disarm(struct vmif_if *ifp, unsigned qid);

#ifdef __cplusplus
}
#endif

#endif /* VPIO_MEMIF_H */
