/* SPDX-License-Identifier: MIT */
/*
 * vpio/switch.h - the vpio switch: a VALE-style learning switch that copies
 * packets between ports' netmap-style rings (@vpio/ring), one port per
 * guest vif.
 *
 *   guest A TX ring ──▶ worker: validate slot, copy header to scratch,
 *                       policy + learn + lookup on the copy, lease slots in
 *                       the destination RX ring, copy, publish ──▶ guest B RX ring
 *
 * Each port brings three mapped regions (TX ring, RX ring, pool) that the
 * control plane already set up (RingView.init() / vring_be_init()); the
 * switch adopts them with vring_be_adopt() from the geometry given here,
 * never from shared memory, and validates everything a guest writes.
 *
 * Threading: the control functions (create, destroy, port add/remove,
 * stats, clock) may be called from any one thread at a time (the caller
 * serialises them); vsw_stats_*() may run concurrently with forwarding.
 * Forwarding runs on the switch's own workers, or with no workers on the
 * thread calling vsw_poll_once().
 *
 * Return values: 0 or a negative errno (-VP_Exxx from vpio/compiler.h).
 */
#ifndef VPIO_SWITCH_H
#define VPIO_SWITCH_H

#include <stdint.h>

#include "vpio/ring.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VSW_MAX_PORTS 256u      /* port ids are in [0, VSW_MAX_PORTS) */
#define VSW_MAX_WORKERS 64u
#define VSW_BATCH_MAX 1024u     /* packets one worker takes from one TX ring per round */
#define VSW_MAC_TABLE_MIN 4096u /* learning table entries, at least */
#define VSW_DEFAULT_AGING_NS (300ull * 1000000000ull)
#define VSW_DEFAULT_MAX_MACS 64u /* learned MACs per port unless configured */
#define VSW_HIST_BUCKETS 11u     /* batch sizes by log2: 1, 2-3, 4-7, ..., 512-1023, 1024 */
#define VSW_GROUP_MAX 8u         /* ports per port group (the queue pairs of one multi-queue vif) */

/* Nanoseconds of the clock that ages MAC entries and refills token buckets. */
typedef uint64_t (*vsw_clock_fn)(void *ctx);

enum vsw_mode {
	VSW_MODE_EVENT = 0, /* adaptive spin, then sleep on the ports' TX event fds */
	VSW_MODE_POLL = 1,  /* busy-poll: never sleeps */
};

struct vsw_config {
	uint32_t n_workers;      /* 0: no threads, forwarding only through vsw_poll_once() */
	const int *cores;        /* n_workers cores to pin to 1:1; NULL or -1 entries: unpinned */
	enum vsw_mode mode;
	vsw_clock_fn clock;      /* NULL: CLOCK_MONOTONIC */
	void *clock_ctx;
	uint32_t mac_entries;    /* learning table size, power of two >= VSW_MAC_TABLE_MIN; 0: 8192 */
	uint64_t aging_ns;       /* 0: VSW_DEFAULT_AGING_NS */
	uint64_t hash_seed;      /* keys the MAC table hash; 0: random */
};

enum vsw_vlan_mode {
	VSW_VLAN_ACCESS = 0, /* untagged frames join access_vid; tagged frames are dropped */
	VSW_VLAN_TRUNK = 1,  /* tagged frames of allowed vids; untagged join native_vid if set */
};

#define VSW_PORT_MAC_LOCK 0x1u /* frames must carry the port's MAC as source (guest ports) */
#define VSW_PORT_LOSSLESS 0x2u /* a full RX ring holds the packet in the source TX ring */
#define VSW_PORT_GROUP 0x4u    /* join the port group of port `group` (below) instead of starting one */
#define VSW_PORT_XEN_EVTCHN 0x8u /* the event-channel fds are Xen channel ends (below) */

/*
 * Channel kinds. The four fds of a port are the switch's ends of the
 * port's two event channels (TX: tx_wait_fd/tx_notify_fd, RX:
 * rx_wait_fd/rx_notify_fd). Without VSW_PORT_XEN_EVTCHN they are host ends
 * (pipes/sockets: consume = evtchn_drain(), notify = evtchn_notify()) and
 * tx_port/rx_port must be 0. With it they are Xen ends (each its own
 * /dev/xen/evtchn descriptor with one bound port; wait and notify fd of a
 * channel are usually the same descriptor): consume = read the fired port
 * and write it back (unmask), notify = IOCTL_EVTCHN_NOTIFY on tx_port
 * (TX channel) or rx_port (RX channel), the local Xen port numbers, each
 * in [1, VSW_EVTCHN_PORT_MAX] when its channel has an fd. The kind picks a
 * pair of functions at vsw_port_add(); nothing per packet changes.
 */
#define VSW_EVTCHN_PORT_MAX 131071u

/*
 * Port groups: the N queue pairs of a multi-queue vif are N ports (own
 * rings, counters, configuration and worker) that forward as ONE port.
 * A port added without VSW_PORT_GROUP starts a group of one; with it, it
 * joins the group of the attached port cfg->group (at most VSW_GROUP_MAX
 * members). For forwarding, a group is one port:
 *   - MAC entries (learned on any member, or a MAC-locked member's static
 *     entry) name the group; a MAC seen on another member of the same group
 *     is no move. The MAC cap and count are the group's (its first
 *     member's max_macs; a joining member's max_macs is ignored).
 *   - A frame for the group (unicast, or one flooded copy per group) goes
 *     to members[flow_hash % n] of the members in join order: one flow
 *     always reaches the same member, so its order is kept. The hash is
 *     taken from the switch's header copy: IPv4/IPv6 addresses, and for
 *     TCP/UDP (not an IPv4 fragment) the ports and protocol; the source
 *     and destination MAC for anything else; past one 802.1Q tag.
 *   - No member receives a frame sent by a member of its own group.
 * The group's id is the id of its oldest member (the first while it is
 * attached: the id moves to the next oldest when it is removed). Any
 * member may be removed at any time: the group shrinks, its MAC entries
 * stay until its last member goes.
 */

struct vsw_port_config {
	/* memory, mapped by the caller and kept mapped until vsw_port_remove() returns */
	void *tx_ring;
	uint64_t tx_ring_bytes;
	void *rx_ring;
	uint64_t rx_ring_bytes;
	void *pool;
	uint64_t pool_bytes;
	/* geometry, from the control plane's own records */
	uint32_t tx_slots;
	uint32_t rx_slots;
	uint32_t buf_size;
	uint32_t nr_bufs;
	uint32_t features; /* VRING_FEAT_CHAIN | VRING_FEAT_OFFLOAD: what this port negotiated (fwd.c "Chains and offloads") */
	/* policy */
	uint8_t mac[6];
	uint32_t flags;          /* VSW_PORT_* */
	enum vsw_vlan_mode vlan_mode;
	uint16_t access_vid;     /* access: 1..4094 */
	uint16_t native_vid;     /* trunk: 0 (untagged frames dropped) or 1..4094 */
	const uint16_t *trunk_vids; /* trunk: allowed vids, 1..4094 */
	uint32_t n_trunk_vids;
	uint64_t rate_pps, burst_pkts;    /* 0: unlimited; burst 0: one second's worth */
	uint64_t rate_bps, burst_bytes;   /* bits per second; bucket in bytes */
	uint64_t flood_pps, flood_burst;  /* flooded frames (broadcast/multicast/unknown unicast) */
	uint32_t max_macs;       /* learned-MAC cap; 0: VSW_DEFAULT_MAX_MACS */
	/* event channel ends of the switch's side, -1 when absent (a polling guest) */
	int tx_wait_fd;   /* guest kicks "TX has packets" here; the worker waits on it */
	int tx_notify_fd; /* the switch signals "TX slots freed" */
	int rx_wait_fd;   /* guest kicks "RX has space" (lossless ports) */
	int rx_notify_fd; /* the switch signals "RX has packets" */
	uint32_t tx_port; /* VSW_PORT_XEN_EVTCHN: the TX channel's local Xen port; else 0 */
	uint32_t rx_port; /* VSW_PORT_XEN_EVTCHN: the RX channel's local Xen port; else 0 */
	int worker;       /* worker serving this port; -1: the least loaded */
	uint32_t group;   /* with VSW_PORT_GROUP: an attached port whose group this one joins */
};

/*
 * Drop reasons. The first ones are the ring verdicts (same numbers as enum
 * vring_verdict); the rest are the switch's own.
 */
enum vsw_drop {
	VSW_DROP_HEAD = VRING_DROP_HEAD, /* events: a bad head/cur left the ring as it was */
	VSW_DROP_CUR = VRING_DROP_CUR,
	VSW_DROP_BUF_IDX = VRING_DROP_BUF_IDX,
	VSW_DROP_LEN_ZERO = VRING_DROP_LEN_ZERO,
	VSW_DROP_LEN_SHORT = VRING_DROP_LEN_SHORT,
	VSW_DROP_LEN_LONG = VRING_DROP_LEN_LONG,
	VSW_DROP_FLAGS = VRING_DROP_FLAGS,
	VSW_DROP_OFFLOAD = VRING_DROP_OFFLOAD,
	VSW_DROP_RING_FULL = VRING_VERDICT_COUNT, /* counted on the destination */
	VSW_DROP_NO_DEST,
	VSW_DROP_MAC_LOCK,
	VSW_DROP_VLAN,
	VSW_DROP_RATE_LIMIT,
	VSW_DROP_FLOOD_LIMIT,
	VSW_DROP_COUNT
};

/* Name of a drop reason ("ring_full", "buf_idx", ...), or "unknown". */
const char *vsw_drop_name(unsigned reason);

struct vsw_port_stats {
	uint64_t in_packets, in_bytes;   /* taken from the port's TX ring (consumed), valid or not */
	uint64_t fwd_packets;            /* in packets that had at least one destination */
	uint64_t fwd_pairs;              /* (packet, destination) pairs this port sent */
	uint64_t out_packets, out_bytes; /* delivered into the port's RX ring */
	uint64_t flooded;                /* in packets that were flooded */
	uint64_t held;                   /* times a packet stayed in the TX ring (lossless dest full) */
	uint64_t learned, mac_moves, learn_refused; /* learning events by this port */
	uint64_t gso_segments;           /* TCP segments the switch cut from TSO super-frames for this port (in out_packets once per super-frame) */
	uint64_t drops[VSW_DROP_COUNT];
	uint32_t macs;                   /* MAC entries now (the group's: the same for every member) */
	uint32_t worker;
	uint32_t group;                  /* the port group's id: its oldest member's port id */
};

struct vsw_worker_stats {
	uint64_t batches;
	uint64_t packets;
	uint64_t hist[VSW_HIST_BUCKETS]; /* batch sizes, see VSW_HIST_BUCKETS */
	uint64_t busy_ns, idle_ns;       /* CLOCK_MONOTONIC time with / without work */
	uint64_t sleeps, wakeups;
	int core;                        /* pinned core or -1 */
};

struct vsw;

/* Returns 0 and *out, -VP_EINVAL (bad config), -VP_ENOMEM, or a pthread/epoll errno. */
int vsw_create(const struct vsw_config *cfg, struct vsw **out);

/* Stops the workers and frees everything; the ports' memory is the caller's. NULL is ignored. */
void vsw_destroy(struct vsw *sw);

/*
 * Attaches a port; *id gets its id. The port takes traffic at once.
 * Returns 0, -VP_EINVAL (geometry, policy or fd values), -VP_ERANGE (memory
 * smaller than the geometry), -VP_ENOSPC (no free port id or worker),
 * -VP_ENOENT (VSW_PORT_GROUP: cfg->group is not an attached port),
 * -VP_EBUSY (VSW_PORT_GROUP: that group has VSW_GROUP_MAX members already),
 * -VP_ENOMEM. Joining a group waits for a quiescent point (vsw_port_remove()).
 */
int vsw_port_add(struct vsw *sw, const struct vsw_port_config *cfg, uint32_t *id);

/*
 * Detaches a port: no worker touches its memory once this returns (it waits
 * for every worker to pass a quiescent point), and its learned MACs are
 * gone. Returns 0 or -VP_ENOENT.
 */
int vsw_port_remove(struct vsw *sw, uint32_t id);

/*
 * The members of port id's group, oldest first (members[0] is the group's
 * id), up to max of them into members (may be NULL with max 0). Returns the
 * group's size (1..VSW_GROUP_MAX) or -VP_ENOENT. A control call.
 */
int vsw_port_group(const struct vsw *sw, uint32_t id, uint32_t *members, uint32_t max);

/* Counters of a port, summed over the workers. 0 or -VP_ENOENT. Safe during forwarding. */
int vsw_port_stats(const struct vsw *sw, uint32_t id, struct vsw_port_stats *out);

/* Counters of worker w (w == n_workers: the vsw_poll_once() pseudo-worker). 0 or -VP_ENOENT. */
int vsw_worker_stats(const struct vsw *sw, uint32_t w, struct vsw_worker_stats *out);

/* Number of workers; the ids of the attached ports into ids[] (up to max), returns the count. */
uint32_t vsw_n_workers(const struct vsw *sw);
uint32_t vsw_port_ids(const struct vsw *sw, uint32_t *ids, uint32_t max);

/*
 * Processes every port once on the calling thread (one batch each) and ages
 * the MAC table. For deterministic tests and for switches without workers.
 * Returns the packets taken from TX rings, or -VP_EBUSY if the switch runs
 * worker threads.
 */
int vsw_poll_once(struct vsw *sw);

/* The clock as the switch sees it (ns). */
uint64_t vsw_now(const struct vsw *sw);

/*
 * Packet capture: a tap on one port, off by default (a port without a
 * capture costs one predictable branch per batch). When on, the workers
 * copy each frame, up to snaplen bytes, into single-producer single-
 * consumer byte rings the capture owns (one per worker: a port's RX may be
 * written by several workers), allocated at vsw_capture_start(), never per
 * packet. A frame that does not fit is counted in drops; a worker never
 * waits for the reader. Timestamps are CLOCK_REALTIME, read once per batch.
 *
 *   VSW_CAP_IN   frames the port sent: every frame taken from its TX ring
 *                that passed ring validation (slot, length, buffer index),
 *                including frames policy then dropped (MAC lock, VLAN, rate
 *                limits, no destination, full destination rings); frames a
 *                lossless destination held are captured once, when taken.
 *                The bytes are the worker's header copy plus the rest of
 *                the guest's buffer as it was during the copy.
 *   VSW_CAP_OUT  frames delivered into the port's RX ring, as written there.
 *
 * Records (vsw_capture_read() copies them back to back):
 *   struct vsw_cap_rec, then cap_len frame bytes, then zero padding to a
 *   multiple of VSW_CAP_ALIGN. Within one read, records are merged from the
 *   workers' rings in timestamp order.
 *
 * Lifetime: the capture is the caller's. vsw_capture_stop() unhooks it and
 * returns at a quiescent point (no worker writes it any more); records
 * already in it can still be read; vsw_capture_free() frees it.
 * vsw_port_remove() and vsw_destroy() unhook a port's capture the same way
 * (vsw_capture_attached() then says 0); it must still be freed.
 * Control calls (start, stop, free) are serialised with the other control
 * calls; vsw_capture_read() runs on one reader thread at a time, concurrently
 * with forwarding.
 */
#define VSW_CAP_IN 0x1u
#define VSW_CAP_OUT 0x2u
#define VSW_CAP_ALIGN 8u
#define VSW_CAP_MIN_BYTES 4096u       /* smallest buffer_bytes */
#define VSW_CAP_MAX_BYTES (1u << 30)  /* largest buffer_bytes */

struct vsw_cap_rec {
	uint64_t ts_ns;    /* CLOCK_REALTIME at the batch that carried it */
	uint32_t orig_len; /* the frame's length */
	uint16_t cap_len;  /* bytes that follow: min(orig_len, snaplen) */
	uint8_t dir;       /* VSW_CAP_IN or VSW_CAP_OUT */
	uint8_t worker;    /* the worker that wrote it */
};

struct vsw_capture_config {
	uint32_t snaplen;      /* 1..65535 */
	uint32_t buffer_bytes; /* VSW_CAP_MIN_BYTES..VSW_CAP_MAX_BYTES, split over the workers' rings */
	uint32_t dirs;         /* VSW_CAP_IN | VSW_CAP_OUT, at least one */
};

struct vsw_capture;

/*
 * Starts capturing on port id. Returns 0 and *out, -VP_ENOENT (no such
 * port), -VP_EINVAL (config), -VP_EBUSY (the port already has a capture),
 * -VP_ENOMEM.
 */
int vsw_capture_start(struct vsw *sw, uint32_t id, const struct vsw_capture_config *cfg, struct vsw_capture **out);

/* Unhooks the capture (if still attached) and waits for a quiescent point. Idempotent. */
void vsw_capture_stop(struct vsw *sw, struct vsw_capture *cap);

/* Frees a capture (stopping it first is the caller's duty: -VP_EBUSY if still attached). NULL is ignored. */
int vsw_capture_free(struct vsw_capture *cap);

/* Bytes of records waiting (a bound for the next vsw_capture_read()). */
uint64_t vsw_capture_pending(const struct vsw_capture *cap);

/*
 * Copies whole records, oldest first, into buf (up to len bytes) and frees
 * their room. Returns the bytes written (0: nothing waiting, or the oldest
 * record does not fit). *drops (optional) gets the frames dropped so far
 * because a ring was full, *records (optional) the records copied.
 */
uint64_t vsw_capture_read(struct vsw_capture *cap, void *buf, uint64_t len, uint64_t *drops, uint32_t *records);

/* 1 while the capture is hooked to its port, 0 once stopped or the port is gone. */
int vsw_capture_attached(const struct vsw_capture *cap);

/* Built-in clocks: vsw_clock_monotonic (ctx unused) and a manual one (ctx: uint64_t *ns, read atomically). */
uint64_t vsw_clock_monotonic(void *ctx);
uint64_t vsw_clock_manual(void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* VPIO_SWITCH_H */
