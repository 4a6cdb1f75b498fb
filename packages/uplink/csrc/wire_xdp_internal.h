/* SPDX-License-Identifier: MIT */
/*
 * wire_xdp_internal.h - the AF_XDP wire's state, shared by its data path
 * (wire_xdp.c) and its setup (wire_xdp_open.c). Not for other files.
 * The UMEM layout and the setup order are described in wire_xdp.c.
 */
#ifndef VPIO_UPLINK_WIRE_XDP_INTERNAL_H
#define VPIO_UPLINK_WIRE_XDP_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <xdp/libxdp.h>
#include <linux/bpf.h>
#include <xdp/xsk.h>
#include "vpio/xsk_handoff.h"
#include "wire_xdp.h"

#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9 /* Linux 6.17: frames one copy-mode sendto() may send (default 32) */
#endif

/*
 * RX_FRAMES is the burst the wire absorbs while the pump is off the CPU
 * (a descheduled pump at 1 Mpps needs 1000 per ms): past it the kernel
 * finds the fill ring empty and drops (xsk_rx_fill_ring_empty).
 */
/* The sizes are vpio/xsk_handoff.h's: a wire handed over by vpio-launch has them too. */
#define RX_FRAMES VPIO_XSK_RX_FRAMES      /* frames lent to the kernel for receiving */
#define RX_RING_SIZE VPIO_XSK_RX_RING     /* the rx ring can hold every RX frame */
#define TX_FRAMES VPIO_XSK_TX_FRAMES      /* frames we send from */
#define RING_SIZE VPIO_XSK_TX_RING        /* tx and completion rings */
#define FILL_SIZE VPIO_XSK_FILL_RING      /* room for every RX frame: rx_release never finds it full */
_Static_assert(VPIO_XSK_COMP_RING == VPIO_XSK_TX_RING, "one RING_SIZE for tx and completion");
#define COMP_BATCH 256u          /* completions reaped at once */
/* copy-mode sendto() sends at most 32 frames per call before Linux 6.17: bound the EAGAIN retries */
#define KICK_RETRIES (RING_SIZE / 32u)

enum xdp_pref { PREF_AUTO, PREF_FIRST, PREF_SECOND }; /* bind: zerocopy/copy; attach: native/generic */

struct xdp_opts {
	char obj[PATH_MAX];
	uint32_t queue;
	enum xdp_pref bind;
	enum xdp_pref attach;
	uint32_t frame_size; /* 0: from frame_max */
};

struct wire_xdp {
	struct wire w; /* first: what the pump sees */
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xdp_program *prog;
	/* a wire vpio-launch handed over (fd 4 + the UMEM memfd): the rings we mapped ourselves */
	bool adopted;
	void *ring_map[4];
	size_t ring_len[4];
	enum xdp_attach_mode attach_mode;
	bool attached; /* prog is on the interface: close() detaches it */
	int ifindex;
	int fd;
	uint32_t queue;
	bool zerocopy;
	uint8_t *area;
	uint64_t area_len;
	uint32_t frame_size;
	uint32_t frame_max; /* the vif's limit */
	int stats_map_fd;
	/* RX frames handed out by the last rx_burst (frame base addresses), given back by rx_release */
	uint32_t rx_held;
	uint64_t rx_addr[WIRE_BURST_MAX];
	/* free TX frames (base addresses), a stack; tx_reserve lends the top, tx_commit pops */
	uint32_t tx_nfree;
	uint32_t tx_reserved;
	uint64_t tx_free[TX_FRAMES];
	/* our counters (the kernel's are read by counters()) */
	uint64_t rx_drop_bad_desc, rx_drop_too_long, rx_drop_runt;
	uint64_t tx_drop_bad_len, tx_kick_retries, tx_kick_busy, rx_kicks, comp_bad, fill_lost;
};

/* The backend's state from the struct wire the pump holds (its first member). */
#define XDP_OF(w) ((struct wire_xdp *)(w))
#define XDP_OF_C(w) ((const struct wire_xdp *)(w))

/* wire_xdp.c: the data path's ops (its close and counters are wire_xdp_open.c's). */
extern const struct wire_ops wire_xdp_ops;
/* wire_xdp_open.c */
void wire_xdp_close(struct wire *w);
uint32_t wire_xdp_counters(const struct wire *w, struct wire_counter out[], uint32_t max);
/*
 * wire_xdp_probe.c: is an XDP program other than libxdp's dispatcher
 * attached to ifindex (ours attached alone counts too)? 1 with its id and
 * name, 0 when none or the dispatcher (libxdp can add to it).
 */
int wire_xdp_foreign_program(int ifindex, uint32_t *id, char name[BPF_OBJ_NAME_LEN]);

#endif /* VPIO_UPLINK_WIRE_XDP_INTERNAL_H */
