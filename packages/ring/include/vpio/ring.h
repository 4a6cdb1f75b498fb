/* SPDX-License-Identifier: MIT */
/*
 * vpio/ring.h - the shared ring ABI of vpio. The single source of truth for
 * the memory a guest (frontend, "fe") and the backend/switch ("be") share.
 * The TypeScript view reads its offsets from this header (through the
 * generated layout file and the addon), never from hand-typed numbers.
 *
 * Shared memory of one port
 * -------------------------
 *
 *   ring region (one per ring: a port has a TX ring and an RX ring)
 *   +----------------------------------------------------------------+ 0
 *   | line 0 (be, fixed at setup)  magic, abi_version, kind,         |
 *   |                              num_slots, buf_size, nr_bufs,     |
 *   |                              features                          |
 *   | line 1 (fe)                  head, cur                         |
 *   | line 2 (be)                  tail                              |
 *   | line 3 (fe)                  fe_need_kick                      |
 *   | line 4 (be)                  be_need_kick                      |
 *   +----------------------------------------------------------------+ VRING_SLOTS_OFFSET
 *   | slot[0] | slot[1] | ...                  | slot[num_slots - 1]  |  16 bytes each
 *   +----------------------------------------------------------------+
 *
 *   pool region (one per port; both rings' slots index it)
 *   +-----------+-----------+-----+--------------------+
 *   | buf 0     | buf 1     | ... | buf nr_bufs - 1    |  buf_size bytes each
 *   +-----------+-----------+-----+--------------------+
 *
 * Shared memory holds indices, never pointers. Each side maps the regions
 * where it likes and computes addresses from its own base.
 *
 * Writers: (be) the backend writes it, the guest only reads; (fe) the guest
 * writes it, the backend reads it once per use into a local and validates
 * the local. (fe/be) slot fields are written by whichever side currently
 * owns the slot (see "Ownership").
 *
 * Indices and ownership (netmap's rules)
 * --------------------------------------
 * Every index lives in [0, num_slots); num_slots is a power of two in
 * [VRING_MIN_SLOTS, VRING_MAX_SLOTS], so "i + 1 wrapped" is (i + 1) & mask.
 * One slot always stays empty, so head == tail never means "full".
 *
 *   - The guest owns slots [head, tail); the backend owns [tail, head).
 *   - TX ring: the guest fills slots at head and advances head (and cur)
 *     to hand them over; the backend forwards [hwcur, head) and advances
 *     tail to hwcur - 1 to give the slots back. At setup head = cur = 0 and
 *     tail = num_slots - 1: the guest may fill num_slots - 1 slots.
 *   - RX ring: the backend fills slots at tail and advances tail; the guest
 *     consumes [head, tail) and advances head to give them back. At setup
 *     head = cur = tail = 0: the ring is empty. The backend never fills
 *     slot head - 1, the one kept empty.
 *   - hwcur and hwtail are the backend's private copies: hwcur is the last
 *     head it accepted, hwtail the last tail it published. A guest-written
 *     head is valid only in [hwcur, hwtail] (circularly), and cur only in
 *     [head, hwtail]. Anything else is rejected and counted
 *     (VRING_DROP_HEAD / VRING_DROP_CUR) and the ring is left as it was.
 *
 * Wrap-around rule, stated once: distances are computed as
 * (to - from) & (num_slots - 1), which is the number of steps forward from
 * "from" to "to"; an index must be checked to be < num_slots before it takes
 * part in any distance, because the mask would fold an out-of-range value
 * back into range.
 *
 * Notifications (the kick protocol) - see "Kicks" below.
 *
 * This header is the layout, the index rules, the validators and the kick
 * protocol. The burst helpers of each side live beside it:
 *   vpio/ring_be.h  backend (switch) side: private hwcur/hwtail, validated reads
 *   vpio/ring_fe.h  guest (netfront) side: private head, cached tail
 *
 * Nothing here allocates, locks, or calls libc: the header builds
 * freestanding and is used unchanged by the switch, the netfront core,
 * minios and the Linux netfront.
 */
#ifndef VPIO_RING_H
#define VPIO_RING_H

#include "vpio/compiler.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Constants                                                                */

#define VRING_MAGIC 0x5650494fu /* "VPIO" */
#define VRING_ABI_VERSION 1u    /* bump on any layout or semantics change */

#define VRING_MIN_SLOTS 64u
#define VRING_MAX_SLOTS 4096u
#define VRING_DEFAULT_SLOTS 1024u
#define VRING_DEFAULT_BUF_SIZE 2048u
#define VRING_MIN_BUF_SIZE 64u
#define VRING_MAX_BUF_SIZE 65535u /* len is a u16 */
#define VRING_ETH_HLEN 14u        /* shortest frame the switch accepts */

/* ring kinds (hdr.kind) */
#define VRING_KIND_TX 1u /* guest -> backend */
#define VRING_KIND_RX 2u /* backend -> guest */

/* slot flags */
#define VRING_F_MORE 0x0001u    /* more fragments follow (buffer chains); needs VRING_FEAT_CHAIN */
#define VRING_F_OFFLOAD 0x0002u /* slot.offload is meaningful; needs VRING_FEAT_OFFLOAD */
#define VRING_F_KNOWN (VRING_F_MORE | VRING_F_OFFLOAD)

/* features (hdr.features), written by the backend once negotiated */
#define VRING_FEAT_CHAIN 0x0001u   /* buffer chains with VRING_F_MORE */
#define VRING_FEAT_OFFLOAD 0x0002u /* per-slot offload word */
#define VRING_FEAT_KNOWN (VRING_FEAT_CHAIN | VRING_FEAT_OFFLOAD)

/* offload word: oflags */
#define VRING_OFL_NEEDS_CSUM 0x01u /* fill the checksum at csum_start + csum_offset */
#define VRING_OFL_KNOWN VRING_OFL_NEEDS_CSUM

/* offload word: gso_type */
#define VRING_GSO_NONE 0u
#define VRING_GSO_TCPV4 1u
#define VRING_GSO_TCPV6 2u
#define VRING_GSO_UDP_L4 3u
#define VRING_GSO_MAX_TYPE VRING_GSO_UDP_L4
#define VRING_GSO_SIZE_MIN 16u
#define VRING_GSO_SIZE_MAX 9216u

/*
 * Verdicts of the validators, also the per-port drop reasons the switch
 * counts. 0 is "valid"; everything else names what was wrong.
 */
enum vring_verdict {
	VRING_OK = 0,
	VRING_DROP_HEAD,     /* head outside [hwcur, hwtail] or >= num_slots */
	VRING_DROP_CUR,      /* cur outside [head, hwtail] or >= num_slots */
	VRING_DROP_BUF_IDX,  /* buf_idx >= nr_bufs (not this port's buffer) */
	VRING_DROP_LEN_ZERO, /* len == 0 without VRING_F_MORE */
	VRING_DROP_LEN_SHORT,/* first fragment shorter than an Ethernet header */
	VRING_DROP_LEN_LONG, /* len > buf_size */
	VRING_DROP_FLAGS,    /* unknown flag, or a flag whose feature is off */
	VRING_DROP_OFFLOAD,  /* offload word inconsistent with the packet */
	VRING_VERDICT_COUNT
};

/* ------------------------------------------------------------------------ */
/* Layout                                                                   */

/*
 * Per-slot offload word (virtio-net header semantics, 8 bytes). Shares its
 * storage with gref: gref is meaningful only until the port is Connected,
 * the offload word only afterwards and only with VRING_F_OFFLOAD set on a
 * port that negotiated VRING_FEAT_OFFLOAD.
 */
struct vring_offload {
	uint16_t csum_start;  /* (fe/be) checksum covers [csum_start, end) */
	uint16_t csum_offset; /* (fe/be) checksum stored at csum_start + csum_offset */
	uint16_t gso_size;    /* (fe/be) segment payload size, 0 when gso_type is NONE */
	uint8_t gso_type;     /* (fe/be) VRING_GSO_* */
	uint8_t oflags;       /* (fe/be) VRING_OFL_* */
};

struct vring_slot {
	uint32_t buf_idx; /* (fe/be) index of the buffer in the port's pool */
	uint16_t len;     /* (fe/be) bytes used in the buffer */
	uint16_t flags;   /* (fe/be) VRING_F_* */
	union {
		uint64_t gref;                /* (be) grant ref of the buffer's page, setup only */
		struct vring_offload offload; /* (fe/be) after Connected, with VRING_F_OFFLOAD */
	} u;
};

struct vring_hdr {
	/* line 0: written by the backend before the ring is granted; constant */
	uint32_t magic;       /* (be) VRING_MAGIC */
	uint16_t abi_version; /* (be) VRING_ABI_VERSION */
	uint16_t kind;        /* (be) VRING_KIND_TX or VRING_KIND_RX */
	uint32_t num_slots;   /* (be) power of two, VRING_MIN_SLOTS..VRING_MAX_SLOTS */
	uint32_t buf_size;    /* (be) bytes per pool buffer */
	uint32_t nr_bufs;     /* (be) buffers in the port's pool */
	uint32_t features;    /* (be) VRING_FEAT_* negotiated for this port */
	VP_CACHE_ALIGNED uint32_t head; /* (fe) first slot the guest owns */
	uint32_t cur;                   /* (fe) guest's wake-up point, in [head, tail] */
	VP_CACHE_ALIGNED uint32_t tail; /* (be) first slot the backend owns */
	VP_CACHE_ALIGNED uint32_t fe_need_kick; /* (fe) guest sleeps on this ring */
	VP_CACHE_ALIGNED uint32_t be_need_kick; /* (be) backend sleeps on this ring */
}; /* 64-byte alignment pads the last line: sizeof is five lines */

#define VRING_SLOTS_OFFSET ((uint32_t)sizeof(struct vring_hdr))

/* The layout is the ABI: these never change without a VRING_ABI_VERSION bump. */
VP_STATIC_ASSERT(sizeof(struct vring_slot) == 16, "slot is 16 bytes");
VP_STATIC_ASSERT(sizeof(struct vring_offload) == 8, "offload word is 8 bytes");
VP_STATIC_ASSERT(offsetof(struct vring_slot, u) == 8, "gref at 8");
VP_STATIC_ASSERT(offsetof(struct vring_hdr, head) == 64, "fe line at 64");
VP_STATIC_ASSERT(offsetof(struct vring_hdr, tail) == 128, "be line at 128");
VP_STATIC_ASSERT(offsetof(struct vring_hdr, fe_need_kick) == 192, "fe kick line at 192");
VP_STATIC_ASSERT(offsetof(struct vring_hdr, be_need_kick) == 256, "be kick line at 256");
VP_STATIC_ASSERT(sizeof(struct vring_hdr) == 320, "header is five cache lines");

/* Bytes of a ring region with num_slots slots. */
static inline uint32_t vring_ring_bytes(uint32_t num_slots)
{
	return VRING_SLOTS_OFFSET + num_slots * (uint32_t)sizeof(struct vring_slot);
}

static inline struct vring_slot *vring_slots(struct vring_hdr *h)
{
	return (struct vring_slot *)((uint8_t *)h + VRING_SLOTS_OFFSET);
}

/* ------------------------------------------------------------------------ */
/* Index arithmetic                                                         */

static inline uint32_t vring_next(uint32_t i, uint32_t mask)
{
	return (i + 1) & mask;
}

/* Steps forward from `from` to `to` (both already < num_slots). */
static inline uint32_t vring_dist(uint32_t from, uint32_t to, uint32_t mask)
{
	return (to - from) & mask;
}

static inline int vring_is_pow2(uint32_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* 0 if a geometry is acceptable, else -VP_EINVAL. */
static inline int vring_check_geometry(uint32_t num_slots, uint32_t buf_size, uint32_t nr_bufs)
{
	if (!vring_is_pow2(num_slots) || num_slots < VRING_MIN_SLOTS || num_slots > VRING_MAX_SLOTS)
		return -VP_EINVAL;
	if (buf_size < VRING_MIN_BUF_SIZE || buf_size > VRING_MAX_BUF_SIZE)
		return -VP_EINVAL;
	if (nr_bufs == 0)
		return -VP_EINVAL;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Validators: pure functions of local copies. Both sides and the TS view   */
/* implement exactly these rules (a test compares them).                    */

/* A guest-written head against the backend's private hwcur/hwtail. */
static inline enum vring_verdict vring_check_head(uint32_t head, uint32_t hwcur, uint32_t hwtail,
						  uint32_t num_slots)
{
	uint32_t mask = num_slots - 1;

	if (head >= num_slots)
		return VRING_DROP_HEAD;
	if (vring_dist(hwcur, head, mask) > vring_dist(hwcur, hwtail, mask))
		return VRING_DROP_HEAD;
	return VRING_OK;
}

/* A guest-written cur against an already validated head. */
static inline enum vring_verdict vring_check_cur(uint32_t cur, uint32_t head, uint32_t hwtail,
						 uint32_t num_slots)
{
	uint32_t mask = num_slots - 1;

	if (cur >= num_slots)
		return VRING_DROP_CUR;
	if (vring_dist(head, cur, mask) > vring_dist(head, hwtail, mask))
		return VRING_DROP_CUR;
	return VRING_OK;
}

/* The offload word of a packet of pkt_len bytes. */
static inline enum vring_verdict vring_check_offload(const struct vring_offload *o, uint32_t pkt_len)
{
	if (o->oflags & ~VRING_OFL_KNOWN)
		return VRING_DROP_OFFLOAD;
	if (o->oflags & VRING_OFL_NEEDS_CSUM) {
		if ((uint32_t)o->csum_start + o->csum_offset + 2u > pkt_len)
			return VRING_DROP_OFFLOAD;
	} else if (o->csum_start || o->csum_offset) {
		return VRING_DROP_OFFLOAD;
	}
	if (o->gso_type > VRING_GSO_MAX_TYPE)
		return VRING_DROP_OFFLOAD;
	if (o->gso_type == VRING_GSO_NONE) {
		if (o->gso_size)
			return VRING_DROP_OFFLOAD;
	} else {
		/* segmentation needs the checksum filled per segment */
		if (!(o->oflags & VRING_OFL_NEEDS_CSUM))
			return VRING_DROP_OFFLOAD;
		if (o->gso_size < VRING_GSO_SIZE_MIN || o->gso_size > VRING_GSO_SIZE_MAX)
			return VRING_DROP_OFFLOAD;
	}
	return VRING_OK;
}

/* What the backend knows privately about a port; never read back from shared memory. */
struct vring_limits {
	uint32_t buf_size;
	uint32_t nr_bufs;
	uint32_t features;
};

/*
 * A slot the guest handed over, already copied into a local (*s).
 * `first` is nonzero for the first slot of a packet. A single-slot packet
 * is checked whole here, offload word included; for chains the caller
 * checks the offload word against the total length with
 * vring_check_offload().
 */
static inline enum vring_verdict vring_check_slot(const struct vring_slot *s, const struct vring_limits *l,
						  int first)
{
	uint32_t flags = s->flags;

	if (flags & ~VRING_F_KNOWN)
		return VRING_DROP_FLAGS;
	if ((flags & VRING_F_MORE) && !(l->features & VRING_FEAT_CHAIN))
		return VRING_DROP_FLAGS;
	if ((flags & VRING_F_OFFLOAD) && !(l->features & VRING_FEAT_OFFLOAD))
		return VRING_DROP_FLAGS;
	if (s->buf_idx >= l->nr_bufs)
		return VRING_DROP_BUF_IDX;
	if (s->len > l->buf_size)
		return VRING_DROP_LEN_LONG;
	if (s->len == 0 && !(flags & VRING_F_MORE))
		return VRING_DROP_LEN_ZERO;
	if (first && s->len < VRING_ETH_HLEN)
		return VRING_DROP_LEN_SHORT;
	if ((flags & VRING_F_OFFLOAD) && !(flags & VRING_F_MORE) && first)
		return vring_check_offload(&s->u.offload, s->len);
	return VRING_OK;
}

/* One read of each field of a shared slot into a local. */
static inline void vring_slot_read(const struct vring_slot *shared, struct vring_slot *local)
{
	local->buf_idx = VP_READ_ONCE(shared->buf_idx);
	local->len = VP_READ_ONCE(shared->len);
	local->flags = VP_READ_ONCE(shared->flags);
	local->u.gref = VP_READ_ONCE(shared->u.gref);
}

/* ------------------------------------------------------------------------ */
/* Kicks                                                                    */
/*
 * Four waits exist: the guest waits for TX slots freed (fe_need_kick on the
 * TX ring) and for RX packets (fe_need_kick on the RX ring); the backend
 * waits for TX packets (be_need_kick on the TX ring) and, for lossless
 * ports, for RX space (be_need_kick on the RX ring). One protocol serves
 * all four:
 *
 *   sleeper                               waker
 *   -------                               -----
 *   vring_kick_arm(&my_word)              publish indices (release)
 *     store 1; full barrier  <--pairs-->  vring_kick_needed(&peer_word)
 *   re-check the ring                       full barrier; load word
 *   if it moved: disarm, no sleep         if set: signal the channel
 *   else sleep on the channel
 *   on wake: vring_kick_disarm(); drain
 *
 * With both full barriers, either the sleeper's re-check sees the new
 * indices or the waker sees the armed word (the store-buffer litmus test
 * forbids both missing). Signals are level-ish and may be spurious: a
 * sleeper always re-checks the ring after waking, and a channel that is
 * already signalled (a full pipe) counts as signalled.
 */
static inline void vring_kick_arm(uint32_t *my_word)
{
	VP_WRITE_ONCE(*my_word, 1u);
	vp_mb(); /* pairs with the vp_mb() in vring_kick_needed(): store word, then re-check the ring */
}

static inline void vring_kick_disarm(uint32_t *my_word)
{
	VP_WRITE_ONCE(*my_word, 0u);
}

/* After publishing: does the peer want a signal? */
static inline int vring_kick_needed(const uint32_t *peer_word)
{
	vp_mb(); /* pairs with the vp_mb() in vring_kick_arm(): publish indices, then read the word */
	return VP_READ_ONCE(*peer_word) != 0;
}

#ifdef __cplusplus
}
#endif

#endif /* VPIO_RING_H */
