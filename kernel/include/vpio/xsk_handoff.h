/* SPDX-License-Identifier: MIT */
/*
 * vpio/xsk_handoff.h - an AF_XDP wire made by a privileged process and
 * handed to a sandboxed one (kernel/csrc/xsk_handoff.c).
 *
 * The privileged side (vpio-launch's monitor: root, in vpiod's network
 * namespace) does every step that needs a capability or names an
 * interface:
 *   1. loads kernel/build/xdp_vpio.bpf.o, checks it against vpio/xdp_vpio.h
 *      and attaches it to the interface (native, else generic);
 *   2. makes the UMEM: a memfd of VPIO_XSK_FRAMES frames, sealed against
 *      shrinking and growing, registered (XDP_UMEM_REG pins its pages);
 *   3. makes the socket, sizes its four rings (the sizes below), binds it to
 *      (interface, queue) with XDP_USE_NEED_WAKEUP, zero-copy first, then
 *      copy mode;
 *   4. puts the socket into the program's XSKMAP at the queue.
 * The sandboxed side gets only the bound socket and the memfd. With them
 * it can mmap the four rings (allowed after bind: measured on Linux 6.18),
 * mmap the UMEM, fill, receive, send and kick; it cannot re-bind (the
 * launcher's seccomp filter refuses bind(), and a bound socket refuses
 * XDP_UMEM_REG and the ring options with EBUSY), name another interface or
 * touch the program. Closing the socket empties its XSKMAP slot: the queue's
 * frames pass to the stack again (XDP_PASS) until the program is detached,
 * which happens when the privileged side closes the program's BPF link or
 * dies.
 *
 * The contract between the two sides is this header: the ring sizes and the
 * UMEM layout below, the frame size (2048 or 4096) and the UMEM's length
 * (VPIO_XSK_FRAMES * frame size, which the receiver checks with fstat).
 *
 * UMEM layout (aligned chunks, no headroom):
 *   [0, VPIO_XSK_RX_FRAMES)                   frames lent to the kernel for RX
 *   [VPIO_XSK_RX_FRAMES, VPIO_XSK_FRAMES)     frames the user side sends from
 */
#ifndef VPIO_XSK_HANDOFF_H
#define VPIO_XSK_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VPIO_XSK_RX_FRAMES 8192u                          /* frames lent to the kernel for receiving */
#define VPIO_XSK_TX_FRAMES 2048u                          /* frames sent from */
#define VPIO_XSK_FRAMES (VPIO_XSK_RX_FRAMES + VPIO_XSK_TX_FRAMES)
#define VPIO_XSK_RX_RING VPIO_XSK_RX_FRAMES               /* the rx ring holds every RX frame */
#define VPIO_XSK_FILL_RING (2u * VPIO_XSK_RX_FRAMES)      /* room for every RX frame, never full */
#define VPIO_XSK_TX_RING 2048u
#define VPIO_XSK_COMP_RING 2048u

enum vpio_xsk_pref {
	VPIO_XSK_AUTO = 0,  /* bind: zero-copy, else copy; attach: native, else generic */
	VPIO_XSK_FIRST = 1, /* zero-copy only / native only */
	VPIO_XSK_SECOND = 2 /* copy only / generic only */
};

struct vpio_xsk_req {
	const char *ifname;
	const char *obj;      /* the XDP object (kernel/build/xdp_vpio.bpf.o) */
	uint32_t queue;       /* the rx/tx queue to bind */
	enum vpio_xsk_pref bind;
	enum vpio_xsk_pref attach;
	uint32_t frame_size;  /* 2048 or 4096 */
};

struct vpio_xsk {
	int sock;             /* the bound AF_XDP socket (O_CLOEXEC), or -1 */
	int umem;             /* the UMEM memfd (sealed, O_CLOEXEC), or -1 */
	uint64_t umem_len;
	uint32_t frame_size;
	uint32_t queue;
	int ifindex;
	bool zerocopy;        /* bound with XDP_ZEROCOPY (else XDP_COPY) */
	bool native;          /* program attached in driver mode (else generic/SKB) */
	/* the program and its BPF link (the attachment), kept by the privileged
	 * side until vpio_xsk_detach(); the program leaves the interface when the
	 * link's last descriptor closes, also when its holder is killed */
	struct bpf_object *obj;
	int prog_fd;
	int link_fd;
	uint32_t attach_flags;
};

struct bpf_object;

/*
 * The object's program and maps against vpio/xdp_vpio.h (names, types,
 * sizes), before anything touches an interface: 0, or -EPROTO with a
 * one-line reason ("... rebuild it (make -C kernel)").
 */
int vpio_xdp_check_object(struct bpf_object *obj, char *why, size_t why_len);

/*
 * The interface's active rx queues (ETHTOOL_GCHANNELS: rx + combined; a
 * driver without channels has one). 0 with *n set, or -errno.
 */
int vpio_xsk_rx_queues(const char *ifname, uint32_t *n);

/*
 * Steps 1-4 above. 0 with *x filled (x->sock and x->umem to hand over), or
 * -errno with a one-line reason in why; on failure nothing is left attached
 * or open. Refuses an interface that is missing, down, or has more than one
 * active rx queue (the other queues' frames would bypass the wire), and an
 * interface that has a foreign XDP program attached. A vpio program left
 * attached by a process that died is replaced.
 */
int vpio_xsk_setup(const struct vpio_xsk_req *r, struct vpio_xsk *x, char *why, size_t why_len);

/* Closes x->sock and x->umem (after handing them over); the program stays. */
void vpio_xsk_close_fds(struct vpio_xsk *x);

/* Detaches the program (closes its link) and frees it; from any network namespace. Idempotent. */
void vpio_xsk_detach(struct vpio_xsk *x);

#endif /* VPIO_XSK_HANDOFF_H */
