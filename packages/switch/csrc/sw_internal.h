/* SPDX-License-Identifier: MIT */
/*
 * sw_internal.h - the switch's private structures, shared by the files of
 * csrc/ (never installed). The roles:
 *
 *   port.c    attach/detach, quiescence (the configuration protocol)
 *   fwd.c     the forwarding round of one source port (hot)
 *   lease.c   per-destination slot leases in RX rings (hot)
 *   learn.c   the MAC table (hot, lock-free reads)
 *   policy.c  MAC lock, VLAN, token buckets (hot, per source port)
 *   worker.c  threads, event/poll loops, vsw_poll_once()
 *   stats.c   counters, summed on read
 *   switch.c  create/destroy, clocks
 *   capture.c the per-port capture tap: per-worker SPSC byte rings
 *   group.c   port groups: membership (control) and the flow hash (hot)
 *
 * Concurrency, in one place (each hot file repeats its part):
 *   - sw->ports[i] is published with release by port.c and read with
 *     acquire by workers inside a "busy" section (worker->qs odd). A
 *     removed port's slot is NULLed, then vsw_port_remove() waits until
 *     every worker was seen even (idle or asleep) or moved on: after that
 *     no worker holds a pointer to it.
 *   - A source port is served by exactly one worker (port->worker): its TX
 *     ring state, token buckets and learning counters are that worker's.
 *   - A destination's RX ring state (vring_be rx, resv, leases) is guarded
 *     by its lease lock (lease.c), held only to reserve and to complete.
 *   - Counters are per worker (wstats / pstats[w][port]), written with
 *     relaxed atomic stores by their worker only, summed on read.
 *   - port->cap (a capture) is published like a port (release store by the
 *     control thread, acquire load by workers inside the busy section, once
 *     per batch) and unhooked like one (NULL, then vsw_wait_quiescent()).
 *     Worker w writes only ring w of a capture (single producer); the one
 *     reader thread (vsw_capture_read()) is the single consumer.
 *   - Port groups (group.c): sw->groups[g] is a slot; its member set
 *     (g->set) is immutable once published, replaced whole by the control
 *     thread (release store, then vsw_wait_quiescent() before the old copy
 *     may be rewritten) and read by workers with acquire inside the busy
 *     section, at most once per group per vsw_fwd_port() round (so every
 *     decision of a round about a group of n > 1 sees one member set).
 *     g->solo (stored after g->set) resolves a group of one in one load. A port's group (p->grp) is
 *     fixed for the port's life; a group slot is freed only after its last
 *     member left, a quiescent point passed and its MAC entries were
 *     flushed. g->macs is an atomic shared by the members' workers.
 */
#ifndef VSW_INTERNAL_H
#define VSW_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "vpio/ring_be.h"
#include "vpio/switch.h"

#define VSW_HDR_COPY 64u /* header bytes copied to scratch before any decision */
#define VSW_DST_NONE 0xffffu
#define VSW_DST_FLOOD 0xfffeu
#define VSW_DST_GROUP 0xfffdu /* classify()'s lookup cache: a group of n > 1, member chosen per packet */
#define VSW_NO_VID 0xffffu
#define VSW_END 0xffffu
#define VSW_CHARGED_RATE 1u /* rate tokens taken */
#define VSW_CHARGED_HIT 4u  /* at least one (packet, destination) pair */
/* buffer chains (VRING_FEAT_CHAIN): bounds on what one packet may span */
#define VSW_CHAIN_MAX 64u      /* source slots per packet */
#define VSW_FRAME_MAX 65554u   /* bytes per packet: 64 KiB of IP + Ethernet and VLAN headers */
/* software segmentation (fwd.c): Ethernet with an 802.1Q tag (18) + IPv4 with options (60) + TCP with options (60), rounded up */
#define VSW_GSO_HDR_MAX 144u   /* header bytes of a TSO super-frame the switch copies per packet */

/* relaxed counter update by the single writer; readers sum concurrently */
#define VSW_STAT_ADD(field, v) __atomic_store_n(&(field), __atomic_load_n(&(field), __ATOMIC_RELAXED) + (v), __ATOMIC_RELAXED)
#define VSW_STAT_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

struct vsw_bucket { /* token bucket; owned by the source port's worker */
	uint64_t rate;   /* units per second, 0: unlimited */
	uint64_t burst;  /* capacity */
	uint64_t tokens; /* scaled by 1e9 (unit-nanoseconds) */
	uint64_t last_ns;
};

/* Per-port counters one worker writes. */
struct vsw_pcount {
	uint64_t in_packets, in_bytes, fwd_packets, fwd_pairs, out_packets, out_bytes;
	uint64_t flooded, held, learned, mac_moves, learn_refused;
	uint64_t gso_segments; /* TCP segments cut from super-frames for this destination */
	uint64_t drops[VSW_DROP_COUNT];
} __attribute__((aligned(64)));

/* One worker's capture ring: single producer (worker idx), single consumer (the reader). */
struct vsw_cap_ring {
	VP_CACHE_ALIGNED uint64_t head; /* bytes written: the worker's, release-stored once per batch */
	uint64_t drops;                  /* the worker's, relaxed */
	VP_CACHE_ALIGNED uint64_t tail; /* bytes read: the reader's, release-stored after copying out */
	uint8_t *buf;
	uint64_t mask;                   /* bytes - 1, a power of two */
};

struct vsw_capture {
	struct vsw_port *port; /* control thread only; NULL once unhooked */
	int attached;          /* atomic copy of port != NULL for the reader */
	uint32_t snaplen;
	uint32_t dirs;
	uint32_t nrings;       /* ring i is worker i's (the vsw_poll_once() pseudo-worker is 0 without threads) */
	struct vsw_cap_ring *rings;
};

/* A port group's members (port ids, oldest first): immutable once published. */
struct vsw_gset {
	uint32_t n; /* 1..VSW_GROUP_MAX */
	uint16_t member[VSW_GROUP_MAX];
};

/* A port group slot (sw->groups[slot]); MAC entries name the slot. */
struct vsw_group {
	const struct vsw_gset *set; /* NULL: a free slot; release/acquire, see above */
	uint32_t solo;              /* what a lookup resolves to in one load: the port of a group of one,
				       VSW_DST_GROUP (n > 1: choose from set), VSW_DST_NONE (free); release/acquire */
	uint32_t macs;              /* MAC entries of the group (atomic: every member's worker) */
	uint32_t max_macs;          /* its cap: the first member's max_macs */
	struct vsw_gset sets[2];    /* set points at one; a change writes the other (control thread) */
};

/* How a port's channel ends are consumed and signalled (evtchn_ops.c): chosen once at vsw_port_add(). */
struct vsw_evtchn_ops {
	void (*consume)(int fd);             /* after a wake-up on fd: take what is pending (never blocks) */
	void (*notify)(int fd, uint32_t port); /* signal the guest (never blocks); fd >= 0 */
};
extern const struct vsw_evtchn_ops vsw_evtchn_host, vsw_evtchn_xen;

struct vsw_port {
	uint32_t id;
	const struct vsw_evtchn_ops *ev; /* vsw_evtchn_host or vsw_evtchn_xen (cfg.flags) */
	uint32_t worker;
	uint32_t gslot;          /* its group: sw->groups[gslot], fixed for the port's life */
	struct vsw_group *grp;
	struct vsw_capture *cap; /* NULL (no capture) or the tap: release/acquire, see above */
	struct vsw_port_config cfg; /* trunk_vids copied into vid_map */
	uint8_t vid_map[4096 / 8];  /* trunk: allowed vids */
	struct vring_be tx; /* source side: owned by the serving worker */
	/* destination side: guarded by lease_lock (lease.c) */
	VP_CACHE_ALIGNED int lease_lock;
	struct vring_be rx;
	uint32_t resv;      /* next RX slot to lease */
	uint32_t *lease_end; /* [rx_slots]: end of the lease starting at a slot */
	uint8_t *lease_done; /* [rx_slots]: that lease is complete */
	uint32_t pad_kick;
	/* source-side policy state: the serving worker's */
	VP_CACHE_ALIGNED struct vsw_bucket rate_pkts, rate_bytes, flood;
};

/* One source fragment of a batch (a slot), as validated: indexed by TX window position. */
struct vsw_frag {
	uint32_t buf_idx;
	uint32_t len;
};

/* One packet of a batch, as the worker copied it. */
struct vsw_pkt {
	uint32_t pos;      /* position in the TX window of its first slot (hwcur + pos) */
	uint32_t buf_idx;  /* of its first slot */
	uint32_t len;      /* source length: all fragments */
	uint16_t len0;     /* bytes in the first slot (== len unless a chain) */
	uint16_t flags;    /* the first slot's VRING_F_* */
	uint8_t nfrag;     /* slots: 1, or a chain's 2..VSW_CHAIN_MAX */
	uint8_t ofl_bad;   /* a destination refused its offload form: VSW_DROP_OFFLOAD if nobody took it */
	uint16_t vid;      /* classified VLAN */
	uint16_t tag_in;   /* 4 if the source frame carried an 802.1Q tag */
	uint16_t dst;      /* port id, VSW_DST_FLOOD or VSW_DST_NONE */
	uint16_t next;     /* next packet (index) of the same unicast destination, 0xffff ends */
	uint16_t hdr_len;  /* bytes of hdr[] valid: min(len, VSW_HDR_COPY) */
	uint8_t drop;      /* 0 or the VSW_DROP_* reason decided at the source */
	uint8_t charged;   /* VSW_CHARGED_*: what ingress took, what a destination got */
	uint8_t uok;       /* unicast (dst < VSW_MAX_PORTS): eligible for dst, decided once in classify */
	uint8_t utag;      /* unicast: the tag_out egress gave (0 or 4) */
	union {            /* (one field for both keeps the packet at 108 bytes) */
		uint16_t uslots; /* unicast, uok: the destination RX slots it takes */
		uint16_t fhash;  /* flooded, hashed: vsw_flow_hash() of the header copy */
	};
	uint8_t gso_hlen;  /* TCP GSO: Ethernet+IP+TCP header bytes in w->gso_hdr (segmentable), 0: not segmentable */
	uint8_t hashed;    /* flooded: fhash is computed (lazily, for a destination group of n > 1) */
	struct vring_offload ofl;
	uint8_t hdr[VSW_HDR_COPY];
};

struct vsw_wcount {
	uint64_t batches, packets, hist[VSW_HIST_BUCKETS], busy_ns, idle_ns, sleeps, wakeups;
} __attribute__((aligned(64)));

struct vsw_worker {
	struct vsw *sw;
	uint32_t idx;
	int core;
	pthread_t thread;
	int started;
	int epfd;   /* event mode */
	int wakefd; /* eventfd: stop and port changes */
	VP_CACHE_ALIGNED uint64_t qs; /* odd while touching ports (quiescence) */
	uint32_t nports;              /* ports served (port.c, under ctl) */
	struct vsw_wcount wc;
	struct vsw_pcount *pc;        /* [VSW_MAX_PORTS] */
	/* scratch of one round */
	struct vsw_pkt *pkts;         /* [VSW_BATCH_MAX] */
	uint16_t *flood;              /* [VSW_BATCH_MAX] flooded packets, in order */
	uint16_t uhead[VSW_MAX_PORTS], utail[VSW_MAX_PORTS], ucount[VSW_MAX_PORTS];
	uint32_t uelig[VSW_MAX_PORTS]; /* RX slots the eligible ones of ucount take (valid while ucount != 0) */
	struct vsw_frag *frags;       /* [VSW_BATCH_MAX] by TX window position */
	uint8_t *gso_hdr;             /* [VSW_BATCH_MAX][VSW_GSO_HDR_MAX] by packet index: TSO headers, copied once */
	struct vsw_port *dp[VSW_MAX_PORTS]; /* destinations of this round */
	struct vsw_lease { uint32_t start, n; } lease[VSW_MAX_PORTS];
	uint16_t dl[VSW_MAX_PORTS];   /* destination ids of this round, ascending */
	uint8_t kick_rx[VSW_MAX_PORTS];
	/* flooded packets a destination takes this round: 0 all (a group of one), 0xff none (its group's
	 * member set left it out), else n << 4 | i: those whose flow hash % n == i (member i of n) */
	uint8_t fsel[VSW_MAX_PORTS];
	uint64_t cap_ts;               /* CLOCK_REALTIME of this batch for captures; 0: not read yet */
	/* per-round cache of group member sets (vsw_gset_get()): valid while gstamp[g] == gen */
	uint32_t gen;
	uint32_t gstamp[VSW_MAX_PORTS];
	const struct vsw_gset *gset[VSW_MAX_PORTS];
};

struct vsw_lookup_ops; /* learn.c */
struct vsw_policy_ops; /* policy.c */

struct vsw_mac_entry {
	uint64_t key; /* 0 empty, else vsw_mac_key() */
	uint64_t val; /* group slot + 1 (16 bits) | tag (16) | time (32, units of 2^20 ns); 0 invalid */
};

struct vsw {
	struct vsw_config cfg;
	vsw_clock_fn clock;
	void *clock_ctx;
	struct vsw_port *ports[VSW_MAX_PORTS]; /* release/acquire, see above */
	struct vsw_group groups[VSW_MAX_PORTS]; /* port groups by slot (group.c) */
	uint32_t nworkers;
	struct vsw_worker *workers; /* nworkers + 1: the last is vsw_poll_once()'s */
	int stop;
	/* learning table */
	struct vsw_mac_entry *mac;
	int *mac_locks; /* per bucket */
	uint32_t mac_buckets; /* entries / VSW_MAC_WAYS */
	uint64_t seed;
	uint64_t aging_ns;
	uint64_t next_sweep_ns;
	int sweep_lock;
	const struct vsw_lookup_ops *lookup;
	const struct vsw_policy_ops *policy;
};

/* ---- spin lock: a short critical section, never held across a copy ---- */
static inline void vsw_spin_lock(int *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(l, __ATOMIC_RELAXED))
			vp_cpu_relax();
}
static inline int vsw_spin_trylock(int *l)
{
	return !__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE);
}
static inline void vsw_spin_unlock(int *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static inline struct vsw_port *vsw_port_get(struct vsw *sw, uint32_t id)
{
	/* pairs with the release in vsw_port_add() / vsw_port_remove() */
	return id < VSW_MAX_PORTS ? __atomic_load_n(&sw->ports[id], __ATOMIC_ACQUIRE) : NULL;
}

/*
 * The member set of group slot g as this round sees it (NULL: the slot is
 * free), loaded at most once per round (w->gen) so that every decision of
 * a round uses one set. Inside the busy section.
 */
static inline const struct vsw_gset *vsw_gset_get(struct vsw *sw, struct vsw_worker *w, uint32_t g)
{
	if (w->gstamp[g] != w->gen) {
		/* pairs with the release in group.c's publish() */
		w->gset[g] = __atomic_load_n(&sw->groups[g].set, __ATOMIC_ACQUIRE);
		w->gstamp[g] = w->gen;
	}
	return w->gset[g];
}

static inline uint64_t vsw_clock_now(const struct vsw *sw)
{
	return sw->clock(sw->clock_ctx);
}

/* ---- learn.c: the lookup ops (learning switch) ---- */
struct vsw_lookup_ops {
	/*
	 * Learn (vid, mac) on port src (for its group) at now, counting on src. Returns 1 if the
	 * table already held what this call wanted (it wrote nothing that a lookup
	 * could see and counted nothing), so the same call again in this round is
	 * a no-op the caller may skip; 0 otherwise.
	 */
	int (*learn)(struct vsw *sw, struct vsw_worker *w, struct vsw_port *src, const uint8_t *mac, uint16_t vid, uint64_t now);
	/* Group slot for (vid, mac), or VSW_DST_NONE if unknown or aged out. */
	uint16_t (*lookup)(struct vsw *sw, const uint8_t *mac, uint16_t vid, uint64_t now);
};
extern const struct vsw_lookup_ops vsw_learning_ops;
int vsw_learn_init(struct vsw *sw);
void vsw_learn_fini(struct vsw *sw);
void vsw_learn_flush_group(struct vsw *sw, uint32_t gslot);
int vsw_learn_static(struct vsw *sw, struct vsw_port *p, const uint8_t *mac, uint16_t vid);
void vsw_learn_age(struct vsw *sw, uint64_t now);

/* ---- policy.c: the policy ops ---- */
struct vsw_policy_ops {
	/* Ingress on the header copy: classifies p->vid and p->tag_in; 0 or a VSW_DROP_* reason. */
	int (*ingress)(struct vsw_port *src, struct vsw_pkt *p, uint64_t now);
	/* May p (already classified) leave through dst? Sets *tag_out (0 or 4). */
	int (*egress)(const struct vsw_port *dst, const struct vsw_pkt *p, uint16_t *tag_out);
	/* A flooded frame from src: 0 or VSW_DROP_FLOOD_LIMIT. */
	int (*flood)(struct vsw_port *src, uint64_t now);
	/* Give back what ingress took for a packet that stays in the ring. */
	void (*refund)(struct vsw_port *src, const struct vsw_pkt *p);
};
extern const struct vsw_policy_ops vsw_default_policy_ops;
void vsw_bucket_init(struct vsw_bucket *b, uint64_t rate, uint64_t burst, uint64_t now);

/* ---- lease.c ---- (struct vsw_lease: first RX slot and slots leased) */
/* Under the caller-held lease lock: free RX slots beyond the leases (validates the guest's head). */
uint32_t vsw_lease_space_locked(struct vsw_worker *w, struct vsw_port *dst);
/* Under the lock: lease n slots (n <= space). */
void vsw_lease_take_locked(struct vsw_port *dst, uint32_t n, struct vsw_lease *l);
/* Completes a lease (takes the lock); returns nonzero if the guest asked for an RX kick. */
int vsw_lease_complete(struct vsw_port *dst, const struct vsw_lease *l);
int vsw_lease_init(struct vsw_port *p);
void vsw_lease_fini(struct vsw_port *p);

/* ---- fwd.c ---- */
/* One round on source port src: returns packets consumed; *blocked set if a lossless dest held one. */
uint32_t vsw_fwd_port(struct vsw *sw, struct vsw_worker *w, struct vsw_port *src, uint64_t now, int *blocked);

/* ---- worker.c ---- */
int vsw_workers_start(struct vsw *sw);
void vsw_workers_stop(struct vsw *sw);
void vsw_worker_qs_enter(struct vsw_worker *w);
void vsw_worker_qs_exit(struct vsw_worker *w);
int vsw_worker_watch(struct vsw_worker *w, const struct vsw_port *p, int add);
int vsw_worker_alloc(struct vsw_worker *w, struct vsw *sw, uint32_t idx, int core);
void vsw_worker_free(struct vsw_worker *w);
/* Kicks the port's guest: "RX has packets" / "TX slots freed" (no-op without that channel). */
static inline void vsw_kick_rx(const struct vsw_port *p)
{
	if (p->cfg.rx_notify_fd >= 0)
		p->ev->notify(p->cfg.rx_notify_fd, p->cfg.rx_port);
}
static inline void vsw_kick_tx(const struct vsw_port *p)
{
	if (p->cfg.tx_notify_fd >= 0)
		p->ev->notify(p->cfg.tx_notify_fd, p->cfg.tx_port);
}

/* ---- capture.c (only called when a port has a capture) ---- */
/* The frames of src's batch taken before cut that passed ring validation. */
void vsw_cap_in(struct vsw_worker *w, struct vsw_capture *cap, const struct vsw_port *src, uint32_t cut);
/* The n frames just written into dst's lease l (before it is completed). */
void vsw_cap_out(struct vsw_worker *w, struct vsw_capture *cap, struct vsw_port *dst, const struct vsw_lease *l, uint32_t n);
/* Port p is going away (control thread, after quiescence): unhook its capture. */
void vsw_cap_port_gone(struct vsw_port *p);

/* ---- port.c ---- */
void vsw_wait_quiescent(struct vsw *sw);

/* ---- group.c ---- */
/* The 16-bit flow hash of a packet's header copy (hot: only for a destination group of n > 1). */
uint16_t vsw_flow_hash(const struct vsw *sw, const struct vsw_pkt *p);
/* At vsw_create(): every slot free. */
void vsw_groups_init(struct vsw *sw);
/* Control thread: may a port of cfg be added? 0, -VP_ENOENT (VSW_PORT_GROUP: no such port), -VP_EBUSY (its group is full). */
int vsw_group_check(const struct vsw *sw, const struct vsw_port_config *cfg);
/* Control thread, before p is published (after vsw_group_check()): sets p->grp; a group of one is published here. */
void vsw_group_attach(struct vsw *sw, struct vsw_port *p);
/* Control thread, after p was published: a joining p enters its group's member set (waits for a quiescent point). */
void vsw_group_join(struct vsw *sw, struct vsw_port *p);
/*
 * Control thread, removing p (still published): takes it out of its group's
 * member set, waiting for a quiescent point when others remain (no worker
 * picks p after it). Returns 1 if p was the last member: the slot is free
 * once the caller's own quiescent point passed and it flushed the slot's MAC
 * entries (vsw_learn_flush_group()).
 */
int vsw_group_leave(struct vsw *sw, struct vsw_port *p);

/* ---- stats.c ---- */
void vsw_stats_batch(struct vsw_worker *w, uint32_t n);

#endif /* VSW_INTERNAL_H */
