/* SPDX-License-Identifier: MIT */
/*
 * wire_xdp.h - the AF_XDP wire (csrc/wire_xdp.c) and its probe
 * (csrc/wire_xdp_probe.c): what main.c, `vpio doctor` and the tests need
 * beyond the generic ops table of wire.h.
 *
 * The backend attaches vpio's own XDP program (kernel/build/xdp_vpio.bpf.o,
 * contract in kernel/include/vpio/xdp_vpio.h) to the interface through
 * libxdp, binds one AF_XDP socket to one rx queue, and puts the socket into
 * the program's XSKMAP at that queue: every frame of the queue then goes to
 * the socket, nothing else on the interface changes. It never loads
 * libxdp's built-in program (XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD).
 *
 * Privileges, step by step (Linux 6.18):
 *   load the program, create its maps     CAP_BPF (+ CAP_NET_ADMIN for XDP;
 *                                         CAP_PERFMON for libxdp's freplace
 *                                         dispatcher)
 *   attach it to / detach it from the NIC CAP_NET_ADMIN
 *   socket(AF_XDP)                        CAP_NET_RAW (also SO_BINDTODEVICE
 *                                         on it, which pins it to one NIC)
 *   XDP_UMEM_REG                          CAP_IPC_LOCK, or RLIMIT_MEMLOCK >=
 *                                         the UMEM (20 MiB with 2048-byte
 *                                         frames)
 *   ring setsockopts, bind(ifindex, queue) none: whoever holds the socket
 *   insert into the XSKMAP                none since Linux 6.5 for whoever
 *                                         holds the map's descriptor
 *   data path: mmap'ed rings, sendto /    none: whoever holds the bound
 *   recvfrom / poll kicks, XDP_STATISTICS socket
 * This backend does every step itself (a root or fully capable process):
 * when wire_opts.fd is -1 (root; the tests). A sandboxed uplink gets the
 * wire from vpio-launch --wire-xdp instead: the monitor does every step up
 * to and including bind and the XSKMAP insert (@vpio/kernel's
 * xsk_handoff.c) and hands over only the bound socket (wire_opts.fd) and
 * the UMEM's sealed memfd ($VPIO_WIRE_UMEM_FD); the backend then maps the
 * four rings and the UMEM itself (libxdp 1.3.1 cannot adopt a socket:
 * xsk_umem__create_with_fd() arrived in 1.4).
 */
#ifndef VPIO_UPLINK_WIRE_XDP_H
#define VPIO_UPLINK_WIRE_XDP_H

#include <stdbool.h>
#include <stdint.h>
#include "wire.h"

extern const struct wire_backend wire_xdp_backend;

/* How the backend got its socket and program onto the interface. */
struct wire_xdp_info {
	const char *bind;   /* "zerocopy" or "copy" */
	const char *attach; /* "native" or "generic" (libxdp's SKB mode) */
	uint32_t queue;      /* the rx/tx queue the socket is bound to */
	uint32_t frame_size; /* UMEM frame (chunk) size: 2048 or 4096 */
	uint32_t rx_frame_max; /* longest frame the kernel can place in a UMEM frame */
	uint32_t ifindex;
};

/* Fills *out for a wire opened by wire_xdp_backend. 0, or -EINVAL (not an AF_XDP wire). */
int wire_xdp_info(const struct wire *w, struct wire_xdp_info *out);

/*
 * The backend's options, as its option() hook would set them (tests and
 * callers that build options in C). Defaults: queue 0, bind "auto", attach
 * "auto", frame size chosen from frame_max, the object found next to the
 * executable (../../../kernel/build/xdp_vpio.bpf.o) or in $VPIO_XDP_OBJ.
 * Returns 0, or -1 with err (bad value).
 */
int wire_xdp_set_option(struct wire_opts *o, const char *name, const char *value, char err[WIRE_ERR_LEN]);

/* What wire_xdp_probe() found (all strings static or in the struct). */
struct wire_xdp_probe {
	bool packet;        /* an AF_PACKET raw socket could be opened (the packet wire would work) */
	bool possible;      /* an AF_XDP wire can be opened on this interface by this process */
	const char *mode;   /* "zerocopy", "copy" or "none" */
	const char *attach; /* "native", "generic" or "none" */
	char driver[32];    /* ethtool's driver name, "" when unknown */
	uint64_t xdp_features; /* NETDEV_XDP_ACT_* bits from the netdev netlink family; 0 unknown */
	bool features_known;
	uint32_t rx_queues;  /* active rx queues (ETHTOOL_GCHANNELS); 0 unknown */
	char why[256];      /* one line: why not possible, or what limits it (copy, generic) */
};

/*
 * Looks at ifname without changing anything: the interface, the kernel
 * (socket(AF_XDP) fails with EAFNOSUPPORT without CONFIG_XDP_SOCKETS), this
 * process's capabilities, the driver, its advertised XDP features, an XDP
 * program already attached outside libxdp. Returns 0 (the verdict is in
 * *out), or -EINVAL for a bad argument.
 */
int wire_xdp_probe(const char *ifname, struct wire_xdp_probe *out);

/* Writes *p as the probe's one-line JSON (no newline) into buf. Returns snprintf's count. */
int wire_xdp_probe_json(const struct wire_xdp_probe *p, char *buf, size_t len);

#endif /* VPIO_UPLINK_WIRE_XDP_H */
