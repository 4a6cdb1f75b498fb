/* SPDX-License-Identifier: MIT */
/*
 * lnf.h - vpio-linux-netfront's internal interface: the bridge between the
 * guest's TAP device and its vif.
 *
 *   main.c   arguments, the session and handshake, the command it runs
 *            (fork/exec), signals (one signalfd), counters as JSON, teardown
 *   pump.c   one event loop, zero-copy on the ring side, per round:
 *              RX ring -> TAP   per received packet (a chain) one writev()
 *                               from the RX buffers, one nf_zc_rx_release
 *                               per burst of up to LNF_BURST
 *              TAP -> TX ring   per frame one readv() straight into reserved
 *                               TX buffers (a super-frame of up to 64 KiB
 *                               fills a chain of slots), up to LNF_BURST
 *                               frames, one nf_zc_tx_publish (at most one kick)
 *            and when neither moved anything: arm the RX ring (nf_zc_arm)
 *            and, if the TX ring is short, the TX ring; re-check; one poll()
 *            over the signalfd, the RX channel, the TX channel or the TAP
 *            (queue 0 also: the backend watch's descriptor, xen mode);
 *            disarm and consume what woke it.
 *   vnet.c   virtio_net_hdr <-> the ring's offload word (both ways, checked)
 *
 * With IFF_VNET_HDR (vpio-launch --tap-vnet-hdr) every TAP frame starts with
 * a struct lnf_vnet_hdr (TUNSETVNETHDRSZ 12). When the vif negotiated
 * NF_FEAT_OFFLOAD, TUNSETOFFLOAD turns on checksum offload and TSO4/6: the
 * kernel then hands over and accepts TCP super-frames up to 64 KiB.
 *
 * Queues: with a multi-queue vif and an IFF_MULTI_QUEUE TAP (vpio run
 * --linux --queues N), queue q is one struct lnf: TAP queue descriptor q
 * and the vif's ring pair q (nf_queue(nf, q)), moved by its own thread in
 * its own lnf_loop. Nothing mutable is shared on the fast path: each lnf
 * has its own counters, scratch and descriptors; the only shared word is
 * the stop flag (struct lnf_shared), read once per round, set once. Queue 0
 * runs on the main thread and alone takes signals (the signalfd) and, in
 * xen mode, the backend watch (the xenstore descriptor: a backend that
 * leaves Connected stops every queue); the others wake on the stop eventfd. Counters are relaxed atomics, so the
 * main thread sums them at any time (SIGUSR1) and at exit.
 */
#ifndef LNF_H
#define LNF_H

#include <stdint.h>

#include "vpio/netfront.h"

/* Queues one guest may use: the vif's and the TAP's limit. */
#define LNF_MAX_QUEUES NF_MAX_QUEUES

#define LNF_BURST 32u

struct lnf_counters {
	/* TAP -> TX ring */
	uint64_t tap_rx;          /* frames read from the TAP device */
	uint64_t tap_rx_bytes;
	uint64_t tx_packets;      /* frames enqueued on the TX ring */
	uint64_t tx_batches;      /* nf_tx_burst calls that enqueued something */
	uint64_t tx_ring_full;    /* times the TX ring was full: the pump waited for slots (backpressure, no drop) */
	uint64_t tx_drop_size;    /* frames shorter than 14 or longer than the vif's buffers: dropped */
	/* RX ring -> TAP */
	uint64_t rx_packets;      /* frames taken from the RX ring */
	uint64_t rx_batches;
	uint64_t tap_tx;          /* frames written to the TAP device */
	uint64_t tap_tx_bytes;
	uint64_t tap_tx_errors;   /* writes the TAP refused: dropped */
	/* offloads */
	uint64_t tx_gso;          /* super-frames (GSO) sent as chains */
	uint64_t tx_csum;         /* frames sent with the checksum left to the receiver (NEEDS_CSUM) */
	uint64_t tx_drop_hdr;     /* frames whose virtio_net_hdr has no ring equivalent: dropped */
	uint64_t rx_gso;          /* super-frames (GSO) written to the TAP */
	uint64_t rx_drop_bad;     /* received packets with a bad slot or offload word: released, not written */
};

/* struct virtio_net_hdr_v1 (12 bytes, little-endian on the TAP of a little-endian host) */
struct lnf_vnet_hdr {
	uint8_t flags;            /* LNF_VNET_F_* */
	uint8_t gso_type;         /* LNF_VNET_GSO_* */
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};
#define LNF_VNET_F_NEEDS_CSUM 1u
#define LNF_VNET_F_DATA_VALID 2u
#define LNF_VNET_GSO_NONE 0u
#define LNF_VNET_GSO_TCPV4 1u
#define LNF_VNET_GSO_TCPV6 4u
#define LNF_VNET_GSO_UDP_L4 5u
#define LNF_VNET_GSO_ECN 0x80u

/* Longest frame a TSO TAP hands over: a 64 KiB IP packet + Ethernet header. */
#define LNF_SUPER_MAX (65535u + 14u)
/* Most slots one packet may take (the switch's VSW_CHAIN_MAX). */
#define LNF_CHAIN_MAX 64u

/* What every queue's loop shares: stopping. */
struct lnf_shared {
	int stop;                 /* set once (a signal, COMMAND's exit, a queue's data path failing) */
	int stop_fd;              /* eventfd, written when stop is set: wakes every queue's poll() */
};

/* One queue: a TAP queue descriptor and the vif's ring pair of the same index. */
struct lnf {
	struct nf_dev *nf;        /* this queue's handle (nf_queue(vif, queue)) */
	uint32_t queue;
	int tap_fd;               /* O_NONBLOCK */
	int sig_fd;               /* queue 0: the signalfd (TERM, INT, HUP, USR1, CHLD); other queues -1 */
	int be_fd;                /* queue 0: readable when the backend may have changed (xen: the xenstore
	                           * connection carrying the core's backend watch); -1: none (host mode, queues > 0) */
	int rx_fd, tx_fd;         /* the RX and TX event channels' descriptors (nf_broker_port_fd) */
	uint32_t buf_size;
	uint32_t vnet_hdr;        /* bytes of virtio_net_hdr per TAP frame: 0 or sizeof(struct lnf_vnet_hdr) */
	int offload;              /* the vif negotiated NF_FEAT_OFFLOAD (and the TAP has vnet headers) */
	uint32_t tx_slots_max;    /* TX slots reserved per read: the longest frame the TAP may hand over */
	struct lnf_shared *sh;
	int result;               /* what lnf_loop returned (a thread's) */
	struct lnf_counters c;
	/* where the bytes of a frame longer than the reserved buffers land: seen, then dropped */
	uint8_t tx_overflow[2048];
	/* main.c's signal handler, called by queue 0's loop whenever sig_fd is readable */
	void (*on_signals)(struct lnf *l);
	/* main.c's backend check (nf_backend_check), called by queue 0's loop whenever be_fd is readable;
	 * it stops every queue when the backend left, and sets be_fd to -1 when it can no longer tell */
	void (*on_backend)(struct lnf *l);
};

/*
 * The data path of one queue: both directions in one loop until stop is set
 * (0) or the TAP or the backend fails (-errno: a read error, a channel
 * closed). Any thread; one lnf per thread.
 */
int lnf_loop(struct lnf *l);

/* Sets the shared stop flag and wakes every queue's loop (idempotent, any thread). */
void lnf_set_stop(struct lnf_shared *sh);

/*
 * vnet.c. The TAP's header of a frame of len bytes as the ring's offload
 * word: 1 (use *o), 0 (a plain frame: no offload word), -1 (nothing the ring
 * can carry: an unknown flag or GSO type, ECN, or a word vring_check_offload
 * refuses for len; drop the frame).
 */
int lnf_vnet_to_offload(const struct lnf_vnet_hdr *h, uint32_t len, struct vring_offload *o);

/*
 * The TAP header for a received packet: *o already checked against its
 * length (nf_zc_rx_peek_pkt) or NULL for a plain frame; first/first_len is
 * the first fragment (hdr_len is read from its TCP header when it is there).
 */
void lnf_offload_to_vnet(const struct vring_offload *o, const uint8_t *first, uint32_t first_len, uint32_t len,
			 struct lnf_vnet_hdr *h);

/*
 * Where the TAP, the xenstore and the grant/evtchn ops come from: one table,
 * chosen once at start (main.c), so the pump and the handshake never know.
 *   host.c  host mode (vpio run --linux): the TAP vpio-launch made
 *           ($VPIO_TAP_FD), the broker session over $VPIO_CTRL_FD
 *   xen.c   xen mode (a Linux PV domU): xenstore over /dev/xen/xenbus,
 *           gntdev/evtchn (vpio/netfront_xen.h); waits for the vif; its own
 *           TAP (tap.c), given the vif's MAC and MTU after connecting
 * Functions returning int give 0 or the exit status to stop with (having
 * said why on stderr).
 */
struct lnf_opts {
	uint32_t devid;
	uint32_t want_queues;     /* --queues (0: as many as the TAP has / 1 when we make the TAP) */
	enum nf_mode mode;
	int timeout_ms;           /* each handshake wait */
	int wait_ms;              /* xen: how long the vif may take to appear in our xenstore directory */
	const char *ifname;       /* xen: the TAP device to create (eth0) */
	const char *ip, *ip6;     /* xen: A/P addresses for it, or NULL */
};

struct lnf_platform {
	const char *name;         /* "host", "xen" */
	int command_optional;     /* without COMMAND: run until SIGTERM/SIGINT */
	/* the TAP's queue descriptors (O_NONBLOCK, FD_CLOEXEC) into fds[0..*n) */
	int (*tap)(const struct lnf_opts *o, int fds[LNF_MAX_QUEUES], uint32_t *n);
	/* the session: the xenstore handle and the ops tables, into *cfg */
	int (*open)(const struct lnf_opts *o, struct nf_config *cfg);
	/* the descriptor to poll for local event-channel `port` (-1: unknown) */
	int (*port_fd)(uint32_t port);
	/*
	 * The descriptor that polls readable when the backend may have changed
	 * (xen: the xenstore connection, whose watch on the backend directory the
	 * core keeps while connected), or -1 when the data path itself reports a
	 * backend that went away (host: a closed channel fails the notify).
	 */
	int (*backend_fd)(void);
	/* after nf_connect: the TAP takes the vif's identity (host: checks the MAC; xen: MAC, MTU, addresses, up) */
	int (*configure)(const struct lnf_opts *o, const struct nf_dev *vif);
	void (*close)(void);
};

/* main.c: "vpio-linux-netfront: " + the message + a newline, on stderr. */
void lnf_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

extern const struct lnf_platform lnf_host_platform;
extern const struct lnf_platform lnf_xen_platform;

/* 1 when this looks like a Xen guest's userspace (/dev/xen/xenbus exists), 0 otherwise. */
int lnf_xen_present(void);

/*
 * tap.c (xen mode). Creates TAP device `name` with n queues (IFF_TAP |
 * IFF_NO_PI | IFF_VNET_HDR, IFF_MULTI_QUEUE when n > 1): the descriptors
 * into fds (O_NONBLOCK, FD_CLOEXEC). 0 or -errno with *step naming what failed.
 */
int lnf_tap_create(const char *name, uint32_t n, int fds[LNF_MAX_QUEUES], const char **step);

/*
 * Gives the (down) device `name` the MAC and MTU (0: keep), IPv4 and IPv6
 * addresses "A/P" (NULL: none; IPv6 duplicate address detection off) and
 * brings it and lo up. 0 or -errno (-EINVAL: an address that does not
 * parse) with *step naming what failed.
 */
int lnf_tap_configure(const char *name, const uint8_t mac[6], uint32_t mtu, const char *ip, const char *ip6,
		      const char **step);

/* "A/P" (family AF_INET or AF_INET6): the address into addr (in_addr / in6_addr), the prefix length into *prefix. 0 or -EINVAL. */
int lnf_parse_prefix(int family, const char *s, void *addr, uint32_t *prefix);

static inline void lnf_add(uint64_t *ctr, uint64_t v)
{
	__atomic_fetch_add(ctr, v, __ATOMIC_RELAXED);
}

static inline uint64_t lnf_get(const uint64_t *ctr)
{
	return __atomic_load_n(ctr, __ATOMIC_RELAXED);
}

static inline int lnf_stopped(const struct lnf *l)
{
	return __atomic_load_n(&l->sh->stop, __ATOMIC_ACQUIRE);
}

#endif
