/* SPDX-License-Identifier: MIT */
/*
 * vpio/netfront_zc.h - zero-copy access to a connected vif's rings, for
 * middleboxes and packet generators (minios): packets are read and written
 * where they lie in the port's buffer pool, and a received buffer can be
 * moved to the TX ring of the same vif by swapping buffer indices.
 *
 * Positions are offsets from the ring's current head (the guest's first
 * owned slot): RX offset k in [0, nf_zc_rx_avail) is the k-th received
 * packet not yet released; TX offset k in [0, nf_zc_tx_avail) is the k-th
 * free TX slot not yet committed. Nothing moves a head but
 * nf_zc_rx_release() and nf_zc_tx_commit(), so a caller can peek a burst,
 * forward some of it by swap, write generated packets into reserved TX
 * buffers, commit the TX slots it filled (in order), then release the whole
 * RX burst: one publish (and at most one kick) per ring per batch.
 *
 *   RX ring  [head ............ tail)      guest-owned: received packets
 *   TX ring  [head ............ tail)      guest-owned: free slots
 *   swap:    rx.slots[rx.head + r].buf_idx <-> tx.slots[tx.head + t].buf_idx
 *
 * The swap is safe because both rings index one pool per port (vpio/ring.h)
 * and the backend reads a slot's buf_idx afresh every time it owns the slot,
 * validating it against the port's pool (ring.h vring_check_slot() on TX,
 * the index check before every RX fill in the switch). A buffer is owned by
 * exactly one guest-owned slot at any time, so the swapped RX slot carries
 * the TX slot's free buffer back to the backend on release.
 *
 * Sleeping with several channels (a scheduler that polls many descriptors):
 * nf_zc_arm(nf, NF_ZC_RX) arms fe_need_kick and re-checks (full barrier,
 * the protocol of vring_fe_prepare_sleep); when it returns 1 the caller may
 * sleep on the channel of nf_zc_rx_port() (e.g. poll its descriptor), then
 * calls nf_zc_disarm() and nf_zc_consume() (evtchn wait with timeout 0).
 *
 * Freestanding like the rest of the core; the same threading rules as
 * vpio/netfront.h (one thread per direction; swap_forward touches both).
 * Returns: counts as documented, 0 or a negative errno.
 */
#ifndef VPIO_NETFRONT_ZC_H
#define VPIO_NETFRONT_ZC_H

#include "vpio/netfront.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One buffer in place: data points into the mapped pool. */
struct nf_zc_buf {
	uint8_t *data; /* NULL for a received slot with a bad len or buf_idx (skip it) */
	uint16_t len;  /* RX: bytes received; TX: capacity (nf_buf_size) */
};

/* Directions for the sleep hooks. */
#define NF_ZC_RX 1u
#define NF_ZC_TX 2u

/* Received packets not yet released / free TX slots not yet committed (0 when not connected). */
uint32_t nf_zc_rx_avail(struct nf_dev *nf);
uint32_t nf_zc_tx_avail(struct nf_dev *nf);

/*
 * Up to n received packets from RX offset 0, in place (not released).
 * Returns the number filled. A slot whose len exceeds buf_size or whose
 * buf_idx is outside the pool is returned with data = NULL, len = 0.
 */
uint32_t nf_zc_rx_peek(struct nf_dev *nf, struct nf_zc_buf bufs[], uint32_t n);

/*
 * Gives the first n received slots back to the backend (n is clamped to
 * what is available) and publishes RX head; in event mode kicks a backend
 * waiting for RX space (once). Returns the number released.
 */
uint32_t nf_zc_rx_release(struct nf_dev *nf, uint32_t n);

/*
 * Up to n free TX buffers from TX offset `off`, in place (len = buf_size).
 * Returns the number filled (0 when off is past the free slots).
 */
uint32_t nf_zc_tx_reserve(struct nf_dev *nf, uint32_t off, struct nf_zc_buf bufs[], uint32_t n);

/*
 * Hands TX offsets [0, n) to the backend with lengths lens[i] (each in
 * [14, buf_size]): sets the slots' len and flags, advances and publishes TX
 * head. Stops at the first bad length. With NF_TX_KICK a kick the backend
 * asked for is sent now, else it is remembered for nf_tx_kick(). Returns
 * the number committed.
 */
uint32_t nf_zc_tx_commit(struct nf_dev *nf, const uint16_t lens[], uint32_t n, uint32_t flags);

/*
 * Moves the received buffer at RX offset rx_off into the free TX slot at
 * TX offset tx_off, and that slot's buffer into the RX slot (buf_idx swap,
 * no copy). The packet is then at TX offset tx_off (commit it with its
 * length); the RX slot must still be released. 0, -VP_EINVAL (an offset
 * outside the owned slots, or a buf_idx outside the pool), -NF_ENOTCONN.
 */
int nf_zc_swap_forward(struct nf_dev *nf, uint32_t rx_off, uint32_t tx_off);

/* Swaps the buffers of two free TX slots (compaction before a commit): 0 or as above. */
int nf_zc_tx_swap(struct nf_dev *nf, uint32_t a_off, uint32_t b_off);

/*
 * Buffer chains and the offload word (a vif connected with NF_FEAT_OFFLOAD,
 * nf_features()): a packet spans several slots, VRING_F_MORE on all but the
 * last, the offload word (vpio/ring.h struct vring_offload) on the first.
 */

/* One received packet as nf_zc_rx_peek_pkt() found it. */
struct nf_zc_pkt {
	uint32_t nslots;            /* RX slots it takes: release (or skip) this many, valid or not */
	uint32_t len;               /* total bytes (valid packets) */
	int valid;                  /* 0: a slot with a bad len or buf_idx, a chain longer than `max`, an
	                             * empty first slot, or an offload word vring_check_offload() refuses */
	int has_offload;            /* VRING_F_OFFLOAD on the first slot: ofl is meaningful */
	struct vring_offload ofl;   /* copied once from the first slot */
};

/*
 * The packet starting at RX offset `off`, in place (nothing released): its
 * fragments in bufs[0 .. pkt->nslots) (each slot read once; data = NULL for
 * a bad slot), the offload word copied once and checked against the total
 * length. Returns 1 (a packet; pkt->valid tells whether to use it), or 0 (no
 * packet at off: off at or past the received slots, or the chain's last slot
 * is not published yet). A chain that goes on past `max` slots is returned
 * invalid with nslots = max (skip those; the rest follows as more invalid
 * fragments). Without NF_FEAT_OFFLOAD every slot is one packet (flags are
 * ignored, as before).
 */
uint32_t nf_zc_rx_peek_pkt(struct nf_dev *nf, uint32_t off, struct nf_zc_buf bufs[], uint32_t max,
			   struct nf_zc_pkt *pkt);

/*
 * Describes TX offsets [off, off + n) (reserved with nf_zc_tx_reserve, data
 * written) as one packet: lens[i] bytes in slot off + i, VRING_F_MORE on all
 * but the last, VRING_F_OFFLOAD and *ofl on the first when ofl is not NULL.
 * Nothing is handed over until nf_zc_tx_publish(). 0, -VP_EINVAL (n == 0,
 * an offset not owned, a first length < 14, any length > buf_size),
 * -VP_ENOSYS (n > 1 or ofl without NF_FEAT_OFFLOAD), -NF_ENOTCONN.
 */
int nf_zc_tx_chain(struct nf_dev *nf, uint32_t off, const uint16_t lens[], uint32_t n, const struct vring_offload *ofl);

/*
 * Hands TX offsets [0, n) to the backend as nf_zc_tx_chain() described them
 * (whole packets: a chain cut by n waits in the switch for its end):
 * advances and publishes TX head, kicks as nf_zc_tx_commit(). Returns the
 * number published (n clamped to the free slots).
 */
uint32_t nf_zc_tx_publish(struct nf_dev *nf, uint32_t n, uint32_t flags);

/*
 * Waits until at least `need` TX slots are free (a chain needs several):
 * event mode arms fe_need_kick, re-checks (the backend kicks on every
 * release while it is armed), sleeps on the TX channel, disarms, and loops
 * until enough are free or timeout_ms passes in one sleep; a remembered kick
 * is sent first. Poll mode only looks. Returns 1 (enough free), 0 (timed
 * out / not enough in poll mode), -VP_EINVAL (need is 0 or more than the
 * ring can ever hold), -NF_ENOTCONN, or the evtchn op's errno.
 */
int nf_zc_tx_wait_space(struct nf_dev *nf, uint32_t need, int timeout_ms);

/*
 * Sleep hooks. nf_zc_arm(nf, dir): in event mode arms fe_need_kick of that
 * ring and re-checks: 1 = armed, nothing available (the caller may sleep on
 * the channel), 0 = work is available (disarmed again). In poll mode nothing
 * is armed: 1 when nothing is available, else 0 (a poll-mode caller must
 * not sleep on the channel; it re-polls). For NF_ZC_TX a remembered kick is
 * sent first. -NF_ENOTCONN when not connected.
 */
int nf_zc_arm(struct nf_dev *nf, uint32_t dir);
void nf_zc_disarm(struct nf_dev *nf, uint32_t dir);

/*
 * nf_zc_arm(nf, NF_ZC_TX) for a caller that needs `need` free TX slots (a
 * chain) rather than one: a remembered kick is sent first; 0 when `need`
 * are free already (nothing armed), else (event mode) arms fe_need_kick —
 * the backend then kicks on every release — and re-checks: 0 if enough came
 * free meanwhile (disarmed again), 1 = armed, sleep on the TX channel and
 * nf_zc_disarm(nf, NF_ZC_TX) after. Poll mode arms nothing (1: not enough).
 * -NF_ENOTCONN when not connected.
 */
int nf_zc_arm_space(struct nf_dev *nf, uint32_t need);

/* Consumes a pending notification of dir's channel without blocking: 1 consumed, 0 none, -errno. */
int nf_zc_consume(struct nf_dev *nf, uint32_t dir);

/* The local event-channel ports (for the descriptor to poll: nf_broker_port_fd). */
uint32_t nf_zc_tx_port(const struct nf_dev *nf);
uint32_t nf_zc_rx_port(const struct nf_dev *nf);

/* NF_MODE_EVENT or NF_MODE_POLL, as connected. */
enum nf_mode nf_zc_mode(const struct nf_dev *nf);

#ifdef __cplusplus
}
#endif

#endif /* VPIO_NETFRONT_ZC_H */
