/*
 * vpio/xdp_vpio.h: the contract between the uplink XDP program
 * (kernel/src/xdp_vpio.bpf.c) and the user space that loads it
 * (packages/uplink/csrc/wire_xdp.c, the probe, the tests).
 *
 * The program redirects every frame that arrives on rx queue Q of the
 * interface it is attached to into the AF_XDP socket stored at index Q of
 * the XSKMAP named VPIO_XDP_XSKMAP_NAME. A queue whose slot is empty, or a
 * queue index >= VPIO_XDP_MAX_QUEUES, gets XDP_PASS: the kernel stack sees
 * the frame as if no program were attached (nothing is lost while no socket
 * is bound, e.g. between attach and bind, or after the socket closed).
 *
 * Statistics: a per-CPU array named VPIO_XDP_STATS_NAME of
 * VPIO_XDP_STAT_COUNT __u64 counters, indexed by enum vpio_xdp_stat; user
 * space sums the per-CPU values. Written by the program only (the kernel
 * side); user space reads them. Counting is best effort: the program never
 * fails a frame because a counter could not be found.
 *
 * This header is included by both the BPF program (clang -target bpf) and
 * user-space C: only constants and an enum, no types from either side.
 * Changing a name, a size or an index is an ABI change for both sides: bump
 * VPIO_XDP_ABI_VERSION. The loader checks what it can see in the object
 * (each map's name, type and size) before attaching it.
 */
#ifndef VPIO_XDP_VPIO_H
#define VPIO_XDP_VPIO_H

#define VPIO_XDP_ABI_VERSION 1

/* The program (its function name; its ELF section is "xdp"). */
#define VPIO_XDP_PROG_NAME "xdp_vpio"
#define VPIO_XDP_XSKMAP_NAME "vpio_xsks"
#define VPIO_XDP_STATS_NAME "vpio_xdp_stats"

/* XSKMAP size: rx queues 0 .. VPIO_XDP_MAX_QUEUES - 1 can be steered. */
#define VPIO_XDP_MAX_QUEUES 64

enum vpio_xdp_stat {
	VPIO_XDP_STAT_REDIRECT = 0, /* handed to the queue's AF_XDP socket */
	VPIO_XDP_STAT_PASS = 1,     /* no socket on the queue: given to the stack */
	VPIO_XDP_STAT_COUNT = 2,
};

#endif /* VPIO_XDP_VPIO_H */
