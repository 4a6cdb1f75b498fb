/* SPDX-License-Identifier: MIT */
/*
 * vxlan.h - the VXLAN codec of --wire vxlan (RFC 7348), the VID <-> VNI map
 * of the trunk port and the learning table (VNI, inner MAC) -> outer
 * address. Pure functions over caller-owned memory: no syscall, no
 * allocation, no clock (the caller passes `now`), so the tests drive them
 * with hostile bytes and a fake clock; wire_vxlan.c does the I/O.
 *
 * The VXLAN header (8 bytes, network order):
 *   byte 0     flags: 0x08 (I: the VNI is valid); every other bit reserved
 *   bytes 1-3  reserved (0)
 *   bytes 4-6  VNI (24 bits)
 *   byte 7     reserved (0)
 * As Linux's vxlan_rcv(), a datagram with a reserved bit set is malformed.
 *
 * The vif is a VLAN trunk: a frame from the switch carries an 802.1Q tag
 * whose VID picks the VNI; the tag is stripped before encapsulation and
 * put back (VID of the VNI, priority 0) on receive.
 *
 * Buffers on transmit: vx_encap() rewrites a tagged frame in place into a
 * VXLAN payload that starts 4 bytes before the frame (the tag's 4 bytes are
 * dropped, the header's 8 added), so every frame needs VX_TX_HEADROOM
 * writable bytes in front of it.
 */
#ifndef VPIO_UPLINK_VXLAN_H
#define VPIO_UPLINK_VXLAN_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define VX_HDR_LEN 8u
#define VX_FLAG_I 0x08u
#define VX_VNI_MAX 0xffffffu
#define VX_VID_MIN 1u
#define VX_VID_MAX 4094u
#define VX_ETH_HLEN 14u
#define VX_VLAN_HLEN 4u
#define VX_TPID_8021Q 0x8100u
#define VX_TPID_8021AD 0x88a8u
#define VX_TX_HEADROOM (VX_HDR_LEN - VX_VLAN_HLEN)
#define VX_DEFAULT_PORT 4789u

/* Why a received datagram was dropped (vx_decap). */
enum vx_rx_drop {
	VX_RX_OK = 0,
	VX_RX_SHORT,       /* shorter than the VXLAN header */
	VX_RX_NO_I_FLAG,   /* the I flag is clear */
	VX_RX_RESERVED,    /* a reserved bit is set (flags, the 24 bits after them, the byte after the VNI) */
	VX_RX_UNKNOWN_VNI, /* a VNI the map does not name */
	VX_RX_RUNT,        /* inner frame shorter than an Ethernet header (14) */
	VX_RX_TOO_LONG,    /* inner frame plus the tag longer than the vif's buffers (or truncated on receive) */
	VX_RX_TAGGED,      /* inner frame already carries an 802.1Q / 802.1ad tag */
	VX_RX_SRC_MCAST,   /* inner source MAC is a group address */
	VX_RX_NREASONS
};

/* Why a frame from the vif was not sent (vx_encap; the backend adds its own). */
enum vx_tx_drop {
	VX_TX_OK = 0,
	VX_TX_RUNT,        /* shorter than a tagged Ethernet header (18) */
	VX_TX_UNTAGGED,    /* no 802.1Q tag (untagged, or 802.1ad) */
	VX_TX_UNMAPPED,    /* a VID the map does not name (VID 0, a priority tag, included) */
	VX_TX_NREASONS
};

/* rx / tx drop reasons as counter names ("rx_drop_short", ...); index 0 is unused. */
extern const char *const vx_rx_drop_names[VX_RX_NREASONS];
extern const char *const vx_tx_drop_names[VX_TX_NREASONS];

/* ------------------------------------------------------------------------ */
/* VID <-> VNI                                                               */

#define VX_MAP_MAX VX_VID_MAX

struct vx_map {
	uint32_t vni_of[4096];        /* by VID: VNI + 1, 0 = unmapped */
	uint32_t n;                   /* pairs, sorted by VNI in by_vni */
	struct vx_pair {
		uint32_t vni;
		uint16_t vid;
	} by_vni[VX_MAP_MAX];
};

void vx_map_init(struct vx_map *m);

/*
 * Adds "VID:VNI[,VID:VNI...]" (decimal; VID in [1, 4094], VNI in [0,
 * 2^24 - 1]; each VID and each VNI at most once over all calls). 0, or
 * -EINVAL with err saying which pair and why (nothing of spec is added).
 */
int vx_map_add(struct vx_map *m, const char *spec, char *err, size_t err_len);

/* The VNI of vid (0 <= return <= VX_VNI_MAX), or -1 when unmapped. */
static inline int32_t vx_map_vni(const struct vx_map *m, uint32_t vid)
{
	return vid < 4096u && m->vni_of[vid] ? (int32_t)(m->vni_of[vid] - 1u) : -1;
}

/* The VID of vni, or -1 when unmapped (binary search). */
int32_t vx_map_vid(const struct vx_map *m, uint32_t vni);

/* ------------------------------------------------------------------------ */
/* The codec                                                                 */

/* A good received datagram: the inner frame, its VNI and the VID to tag it with. */
struct vx_rx {
	const uint8_t *frame; /* inside the datagram (d + VX_HDR_LEN) */
	uint32_t len;         /* inner frame bytes, without the tag */
	uint32_t vni;
	uint32_t vid;
};

/*
 * Checks datagram d (len bytes; truncated: the kernel cut it) against the
 * map and the vif's frame limit frame_max (the frame with its tag must
 * fit). Returns VX_RX_OK with *out filled, or the drop reason. Reads each
 * byte of d at most once into locals before deciding.
 */
enum vx_rx_drop vx_decap(const struct vx_map *m, const uint8_t *d, uint32_t len, int truncated, uint32_t frame_max,
			 struct vx_rx *out);

/* A frame made ready to send by vx_encap. */
struct vx_tx {
	uint8_t *dgram;       /* the UDP payload: VXLAN header + untagged inner frame */
	uint32_t len;
	uint32_t vni;
	const uint8_t *dst;   /* the inner destination MAC (inside dgram) */
};

/*
 * A tagged frame of len bytes at `frame` (VX_TX_HEADROOM writable bytes in
 * front of it) becomes a VXLAN payload in place: tag stripped, header
 * prepended. Returns VX_TX_OK with *out, or the drop reason (frame left as it was).
 */
enum vx_tx_drop vx_encap(const struct vx_map *m, uint8_t *frame, uint32_t len, struct vx_tx *out);

/* Writes the 8-byte VXLAN header for vni at h. */
void vx_hdr_write(uint8_t *h, uint32_t vni);

/* ------------------------------------------------------------------------ */
/* The learning table: (VNI, MAC) -> outer address                           */

/* An outer address: IPv4 or IPv6 (a v4-mapped one on an AF_INET6 socket), with its UDP port. */
struct vx_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} u;
	socklen_t len; /* sizeof(u.v4) or sizeof(u.v6) */
};

/* Equal family, address and port (flowinfo and scope ignored but scope id of link-local v6 compared). */
int vx_addr_eq(const struct vx_addr *a, const struct vx_addr *b);

/* Slots looked at from an entry's home slot: its whole neighbourhood. */
#define VX_FDB_PROBE 8u

struct vx_fdb_entry {
	uint64_t seen_ns;   /* 0: empty */
	uint32_t vni;
	uint8_t mac[6];
	struct vx_addr addr;
};

struct vx_fdb_stats {
	uint64_t learned;  /* new entries */
	uint64_t moved;    /* an entry's address changed (the MAC moved to another VTEP) */
	uint64_t full;     /* nothing learned: the neighbourhood held only live entries */
	uint64_t aged;     /* entries found expired (on lookup, or replaced by learning) */
};

struct vx_fdb {
	struct vx_fdb_entry *e; /* size entries, caller-owned */
	uint32_t mask;          /* size - 1 */
	uint64_t age_ns;        /* an entry not seen for this long is gone */
	struct vx_fdb_stats st;
};

/*
 * Prepares the table over `storage` (size entries, a power of two >=
 * VX_FDB_PROBE; zeroed here). 0 or -EINVAL.
 */
int vx_fdb_init(struct vx_fdb *f, struct vx_fdb_entry *storage, uint32_t size, uint64_t age_ns);

enum vx_learn {
	VX_LEARN_REFRESH = 0, /* known, same address: seen again */
	VX_LEARN_NEW,
	VX_LEARN_MOVED,
	VX_LEARN_FULL,        /* not learned (counted) */
};

/* Records that mac (unicast) was seen in vni behind `from` at now_ns (> 0). */
enum vx_learn vx_fdb_learn(struct vx_fdb *f, uint32_t vni, const uint8_t mac[6], const struct vx_addr *from,
			   uint64_t now_ns);

/* Where mac lives in vni, or NULL (unknown or aged out: the entry is then freed). */
const struct vx_addr *vx_fdb_lookup(struct vx_fdb *f, uint32_t vni, const uint8_t mac[6], uint64_t now_ns);

/* Live entries at now_ns (a scan: tests and stats only). */
uint32_t vx_fdb_count(const struct vx_fdb *f, uint64_t now_ns);

/*
 * Parses "ADDR[:PORT]" (IPv4 "10.0.0.1:4789", IPv6 "[fd00::1]:4789" or a
 * bare "fd00::1") with default_port, into *a; with v6_socket an IPv4
 * address becomes v4-mapped (the socket is AF_INET6). 0, or -EINVAL
 * (does not parse), -EAFNOSUPPORT (IPv6 on an IPv4 socket).
 */
int vx_addr_parse(const char *s, uint16_t default_port, int v6_socket, struct vx_addr *a);

/* "10.0.0.1:4789" / "[fd00::1]:4789" into buf. */
void vx_addr_format(const struct vx_addr *a, char *buf, size_t len);

#endif /* VPIO_UPLINK_VXLAN_H */
