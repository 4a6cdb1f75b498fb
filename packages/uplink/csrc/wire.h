/* SPDX-License-Identifier: MIT */
/*
 * wire.h - the far side of vpio-uplink: a real wire behind one small ops
 * table, so the pump (pump.c) that moves frames between the vif's rings and
 * the wire never knows which kind of wire it is.
 *
 *            vif (netfront zero-copy rings)            wire (this table)
 *   RX ring ──copy──▶ tx_reserve()'d buffers ──tx_commit()──▶ the wire
 *   TX ring ◀──copy── rx_burst()'s frames    ──rx_release()
 *
 * A wire deals in Ethernet frames exactly as the vif sees them. A backend
 * that encapsulates (vxlan) or whose kernel strips tags (AF_PACKET's
 * tp_vlan_tci) does that inside the backend: rx_burst() hands out frames
 * plus, in wire_frame.vlan, a tag the pump inserts while copying; tx_commit()
 * gets the frame as the switch sent it (tagged, on a trunk port) and
 * rewrites it in place.
 *
 * Backends (one file each, csrc/wire_<kind>.c):
 *   wire_packet.c  --wire packet  AF_PACKET SOCK_RAW, TPACKET_V3 RX and TX rings
 *   wire_vxlan.c   --wire vxlan   a bound UDP socket, VXLAN (RFC 7348) over
 *                                 recvmmsg/sendmmsg; the vif is a VLAN trunk
 *   wire_xdp.c     --wire xdp     AF_XDP (written separately)
 *   wire_memif.c   --wire memif   a memif server (@vpio/memif) on the listening
 *                                 SOCK_SEQPACKET socket of vpio-launch --wire-memif
 *
 * ADDING A BACKEND: write csrc/wire_<kind>.c defining
 *     const struct wire_backend wire_<kind>_backend = { .kind = "<kind>", ... };
 * (every hook below filled in, rx_arm/rx_disarm optional; state in a struct
 * whose first member is a struct wire, allocated once in open()), declare
 * it at the bottom of this file, add &wire_<kind>_backend to wire_backends[]
 * in csrc/wire.c and the file to WIRE_SRCS in the Makefile. main.c needs
 * no change: --wire KIND finds the backend, every option main.c does not
 * know is offered to the backend's option() hook, --help prints its usage
 * text, the stats line prints its counters() by name.
 *
 * Rules for every backend (the data path's, STYLE.md "The C hot path"):
 *   - rx_burst/rx_release/tx_reserve/tx_commit: no allocation, no lock, no
 *     syscall per frame; at most one syscall per burst in each direction
 *     (the RX ring walk may need none, the TX flush one: send(), sendmmsg,
 *     a sendto() kick);
 *   - everything the kernel or the peer wrote is read once into a local and
 *     checked before use (a ring descriptor, a datagram header); a bad one
 *     is dropped and counted by reason, never trusted;
 *   - each drop has a counted reason, reported through counters().
 *
 * Threading: a struct wire belongs to one thread (the pump's); counters()
 * is called from that thread too (the stats line is printed by the loop).
 * Return values: counts as documented, else 0 or a negative errno.
 */
#ifndef VPIO_UPLINK_WIRE_H
#define VPIO_UPLINK_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* Frames per burst: the most a caller asks rx_burst / tx_reserve for at once. */
#define WIRE_BURST_MAX 64u
/* Size of the error buffers below (one line, no newline). */
#define WIRE_ERR_LEN 256u

/* One frame in place (in the backend's ring or buffers). */
struct wire_frame {
	uint8_t *data;
	/* RX: the frame's length. TX (tx_reserve): the buffer's capacity. */
	uint32_t len;
	/*
	 * RX only: a VLAN tag to insert after the two MAC addresses while copying
	 * the frame, as (TPID << 16) | TCI (TPID 0x8100 or 0x88a8); 0: none.
	 * Set by a backend whose kernel took the tag off (AF_PACKET) or that
	 * maps a VNI to a VID (vxlan). The pump counts a frame that no longer
	 * fits the vif's buffers with the tag as dropped (vif_tx_drop_size).
	 */
	uint32_t vlan;
};

/* What every backend counts the same way (the pump prints them as wire_*). */
struct wire_stats {
	uint64_t rx_frames;    /* frames handed out by rx_burst (good ones only) */
	uint64_t rx_bytes;
	uint64_t rx_bursts;    /* rx_burst calls that handed out at least one frame */
	uint64_t rx_drops;     /* frames/datagrams dropped on receive: the sum of the backend's rx_drop_* reasons */
	uint64_t tx_frames;    /* frames handed to the wire by tx_commit (datagrams for vxlan: a flood counts each copy) */
	uint64_t tx_bytes;
	uint64_t tx_flushes;   /* tx_commit's syscalls (send, sendmmsg, a kick) */
	uint64_t tx_drops;     /* frames tx_commit dropped: the sum of the backend's tx_drop_* reasons */
	uint64_t tx_ring_full; /* tx_reserve calls that found fewer buffers than asked for */
};

/* One named counter of a backend (its drop reasons and anything else). */
struct wire_counter {
	const char *name; /* a JSON key: [a-z0-9_]+, static storage */
	uint64_t value;
};

struct wire;

struct wire_ops {
	/*
	 * Up to n (<= WIRE_BURST_MAX) received frames into f[], in place, good
	 * ones only (the backend drops and counts the rest). The frames stay
	 * valid until rx_release(), which must come before the next rx_burst.
	 * Returns the number handed out (0: nothing now), or -errno when the
	 * wire failed for good (the pump stops).
	 */
	int (*rx_burst)(struct wire *w, struct wire_frame f[], uint32_t n);
	/* Gives back everything the last rx_burst handed out (one kernel release per burst, if any). */
	void (*rx_release)(struct wire *w);
	/*
	 * Up to n (<= WIRE_BURST_MAX) free TX buffers into f[] (data, len =
	 * capacity). Returns how many; fewer than n counts wire_stats.tx_ring_full
	 * (the pump then waits for POLLOUT on poll_fd). Reserving again before
	 * tx_commit() hands out the same buffers.
	 */
	uint32_t (*tx_reserve)(struct wire *w, struct wire_frame f[], uint32_t n);
	/*
	 * The first n reserved buffers hold frames of lens[i] bytes (each at
	 * most the capacity; the pump never passes less than 14): hands them to
	 * the wire and flushes (one syscall for the burst; n == 0 flushes
	 * nothing). Buffers past n stay free. Returns the frames the backend
	 * accepted (dropped ones are counted by reason, not returned as errors),
	 * or -errno when the wire failed for good.
	 */
	int (*tx_commit)(struct wire *w, const uint32_t lens[], uint32_t n);
	/* The descriptor to poll: POLLIN when rx_burst may find frames, POLLOUT when tx_reserve may find buffers. */
	int (*poll_fd)(const struct wire *w);
	/*
	 * Optional (NULL: poll_fd()'s POLLIN alone says when frames arrive, as
	 * a kernel socket's does). The pump found nothing to move and is about
	 * to sleep in poll() waiting for POLLIN on poll_fd(), for at most
	 * *timeout_ms (-1: no limit). A wire whose peer signals only on request
	 * (memif's MASK_INT) asks for that signal here, re-checks its ring
	 * after a full barrier, and may lower *timeout_ms (0: it must be
	 * polled, the pump spins). Returns 1 (sleep; rx_disarm() follows the
	 * poll()), 0 (frames arrived meanwhile: nothing stays armed, the pump
	 * goes round again without sleeping), or -errno (the pump stops).
	 * Called only in the pump's event mode, once per idle round.
	 */
	int (*rx_arm)(struct wire *w, int *timeout_ms);
	/* After the poll() that followed rx_arm() returning 1: withdraws the request, consumes the wake-up. */
	void (*rx_disarm)(struct wire *w);
	/*
	 * The backend's own counters (drop reasons first), at most max of them,
	 * into out[]; returns how many (a backend has at most WIRE_COUNTERS_MAX).
	 */
	uint32_t (*counters)(const struct wire *w, struct wire_counter out[], uint32_t max);
	/* Unmaps, closes the descriptor, frees the state. */
	void (*close)(struct wire *w);
};

#define WIRE_COUNTERS_MAX 64u

/* The head of every backend's state. */
struct wire {
	const struct wire_ops *ops;
	const struct wire_backend *backend;
	struct wire_stats st;
};

/* What main.c hands a backend's open(). */
struct wire_opts {
	int fd;              /* the wire's descriptor ($VPIO_WIRE_FD or --wire-fd): the backend owns it from open() on */
	const char *name;    /* $VPIO_WIRE_NAME (the interface, or addr:port), or NULL: for messages */
	uint32_t frame_max;  /* the longest frame the vif's buffers take (nf_buf_size); longer ones are dropped */
	void *priv;          /* the backend's own options: its option() hook allocates them, free_opts() frees them */
};

struct wire_backend {
	const char *kind;    /* --wire KIND */
	/* $VPIO_WIRE_KIND this backend takes (vpio-launch's word: "packet", "udp", ...) */
	const char *launch_kind;
	/* --help lines for its options: "  --opt ARG   text\n" each ("" when none) */
	const char *usage;
	/*
	 * One command-line option main.c does not know: name is argv[i] ("--vni"),
	 * value argv[i + 1] or NULL at the end. Returns the number of arguments
	 * used (1 a flag, 2 with its value), 0 not this backend's option, or -1
	 * bad (err says why, one line).
	 */
	int (*option)(struct wire_opts *o, const char *name, const char *value, char err[WIRE_ERR_LEN]);
	/* After all options: what is missing or inconsistent. 0, or -1 with err. */
	int (*check_opts)(const struct wire_opts *o, char err[WIRE_ERR_LEN]);
	/*
	 * Is fd the kind of socket this backend needs (getsockopt SO_DOMAIN,
	 * SO_TYPE, SO_PROTOCOL)? 0, or -errno with err saying what fd is instead.
	 */
	int (*check_fd)(int fd, char err[WIRE_ERR_LEN]);
	/*
	 * Sets the wire up on o->fd (rings, socket options), taking ownership of
	 * the descriptor (closed on failure too). 0 and *out, or -errno with err
	 * naming the failed step.
	 */
	int (*open)(const struct wire_opts *o, struct wire **out, char err[WIRE_ERR_LEN]);
	/* Frees o->priv (NULL is fine). */
	void (*free_opts)(struct wire_opts *o);
};

/* csrc/wire.c: the backend for --wire KIND, or NULL. */
const struct wire_backend *wire_backend_find(const char *kind);
/* csrc/wire.c: the known KINDs, for messages ("packet|vxlan"). */
const char *wire_backend_kinds(void);
/* csrc/wire.c: every backend, NULL-terminated (--help). */
extern const struct wire_backend *const wire_backends[];

/*
 * csrc/wire.c: fd's SO_DOMAIN, SO_TYPE and SO_PROTOCOL (-1 each when not a
 * socket), and a description for messages ("an AF_INET SOCK_DGRAM socket",
 * "not a socket (a regular file)"). 0, or -errno (not a socket: -ENOTSOCK,
 * bad fd: -EBADF).
 */
int wire_sock_kind(int fd, int *domain, int *type, int *protocol, char *desc, size_t desc_len);

extern const struct wire_backend wire_packet_backend;
extern const struct wire_backend wire_vxlan_backend;
extern const struct wire_backend wire_memif_backend;

#endif /* VPIO_UPLINK_WIRE_H */
