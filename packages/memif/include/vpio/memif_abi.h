/* SPDX-License-Identifier: MIT */
/*
 * vpio/memif_abi.h - the memif wire format (protocol version 2.0), as DPDK's
 * net_memif, VPP and libmemif speak it. Written from the protocol's public
 * description; the sizes and offsets are pinned by static asserts below.
 *
 * Roles: the client (DPDK "role=client", historically "slave") owns all
 * shared memory; the server (us, historically "master") maps what the
 * client hands in and copies packets in and out of it.
 *
 * Control channel
 * ---------------
 * One SOCK_SEQPACKET Unix socket per connection; every message is exactly
 * VMIF_MSG_SIZE (128) bytes: a u16 type, then the body (packed, little
 * endian as the host), zero padding to 128.
 *
 *   server                                   client
 *   HELLO  (limits, versions) ───────────▶
 *                            ◀─────────── INIT        (version, id, mode, secret)
 *   ACK                       ───────────▶
 *                            ◀─────────── ADD_REGION  + 1 fd (memfd), one per region, index 0, 1, ...
 *   ACK                       ───────────▶
 *                            ◀─────────── ADD_RING    + 1 fd (eventfd), per ring and direction
 *   ACK                       ───────────▶
 *                            ◀─────────── CONNECT
 *   CONNECTED                 ───────────▶
 *   DISCONNECT (code, reason) ◀──────────▶ either side, any time; then close
 *
 * Shared memory
 * -------------
 * Regions are the client's memfds, indexed 0..n-1. Rings and buffers are
 * (region, offset) pairs inside them: shared memory holds offsets, never
 * pointers. One ring:
 *
 *   +------------------------------------------------------------+ offset
 *   | line 0   cookie (c), flags (rx side), head (c)              |
 *   | line 1   tail (s)                                           |
 *   +------------------------------------------------------------+ offset + 128
 *   | desc[0] | desc[1] | ...                | desc[2^log2 - 1]   |  16 bytes each
 *   +------------------------------------------------------------+
 *
 * (c) the client writes it, (s) the server writes it. head and tail are
 * free-running u16 counters; slot = index & (2^log2 - 1); the number of
 * slots between two counters is (u16)(to - from), which is never more than
 * the ring size. A server reads every client-written word once into a
 * local, validates the local and uses only the local.
 *
 *   C2S ring (client -> server, the server's RX):
 *     the client fills desc[head..] (region, offset, length, flags) and
 *     advances head; the server consumes [its private tail, head), then
 *     publishes tail. flags.MASK_INT is the server's: set = "do not write
 *     my eventfd, I poll".
 *   S2C ring (server -> client, the server's TX):
 *     the client offers empty buffers: desc[slot].region/offset/length
 *     (length = capacity) for [tail, head) and advances head; the server
 *     fills them at its private tail (writing length and flags, NEXT when a
 *     packet continues in the next slot) and publishes tail. flags.MASK_INT
 *     is the client's: clear = "write my eventfd when you publish".
 *
 * The eventfd a ring's ADD_RING carried is that ring's interrupt: the
 * producer writes it after publishing when the consumer's MASK_INT is clear.
 */
#ifndef VPIO_MEMIF_ABI_H
#define VPIO_MEMIF_ABI_H

#include <stddef.h>
#include <stdint.h>

#define VMIF_COOKIE 0x3E31F20u
#define VMIF_VERSION_MAJOR 2
#define VMIF_VERSION_MINOR 0
#define VMIF_VERSION ((VMIF_VERSION_MAJOR << 8) | VMIF_VERSION_MINOR)

#define VMIF_MSG_SIZE 128
#define VMIF_NAME_SZ 32
#define VMIF_SECRET_SZ 24
#define VMIF_REASON_SZ 96
#define VMIF_RING_HDR_SIZE 128
#define VMIF_DESC_SIZE 16
/* Free-running u16 counters distinguish at most 2^15 slots in flight. */
#define VMIF_MAX_LOG2_RING_SIZE 15

enum vmif_msg_type {
	VMIF_MSG_NONE = 0,
	VMIF_MSG_ACK = 1,
	VMIF_MSG_HELLO = 2,
	VMIF_MSG_INIT = 3,
	VMIF_MSG_ADD_REGION = 4,
	VMIF_MSG_ADD_RING = 5,
	VMIF_MSG_CONNECT = 6,
	VMIF_MSG_CONNECTED = 7,
	VMIF_MSG_DISCONNECT = 8,
};

/* INIT.mode: only Ethernet is spoken here. */
#define VMIF_MODE_ETHERNET 0

/* ADD_RING.flags */
#define VMIF_ADD_RING_FLAG_C2S 1u

/* vmif_ring.flags */
#define VMIF_RING_FLAG_MASK_INT 1u

/* vmif_desc.flags */
#define VMIF_DESC_FLAG_NEXT 1u

/* server -> client: limits. max_* are the highest index allowed, not counts. */
struct vmif_msg_hello {
	uint8_t name[VMIF_NAME_SZ];
	uint16_t min_version;
	uint16_t max_version;
	uint16_t max_region;
	uint16_t max_s2c_ring;
	uint16_t max_c2s_ring;
	uint8_t max_log2_ring_size;
} __attribute__((packed));

/* client -> server: which interface, which version. */
struct vmif_msg_init {
	uint16_t version;
	uint32_t id;
	uint8_t mode;
	uint8_t secret[VMIF_SECRET_SZ];
	uint8_t name[VMIF_NAME_SZ];
} __attribute__((packed));

/* client -> server, with the region's fd (SCM_RIGHTS). */
struct vmif_msg_add_region {
	uint16_t index;
	uint64_t size;
} __attribute__((packed));

/* client -> server, with the ring's interrupt eventfd (SCM_RIGHTS). */
struct vmif_msg_add_ring {
	uint16_t flags;
	uint16_t index;
	uint16_t region;
	uint32_t offset;
	uint8_t log2_ring_size;
	uint16_t private_hdr_size;
} __attribute__((packed));

struct vmif_msg_connect {
	uint8_t if_name[VMIF_NAME_SZ];
} __attribute__((packed));

struct vmif_msg_connected {
	uint8_t if_name[VMIF_NAME_SZ];
} __attribute__((packed));

struct vmif_msg_disconnect {
	uint32_t code;
	uint8_t reason[VMIF_REASON_SZ];
} __attribute__((packed));

struct vmif_msg {
	uint16_t type;
	union {
		struct vmif_msg_hello hello;
		struct vmif_msg_init init;
		struct vmif_msg_add_region add_region;
		struct vmif_msg_add_ring add_ring;
		struct vmif_msg_connect connect;
		struct vmif_msg_connected connected;
		struct vmif_msg_disconnect disconnect;
		uint8_t raw[VMIF_MSG_SIZE - 2];
	};
} __attribute__((packed));

struct vmif_desc {
	uint16_t flags;    /* NEXT: the packet continues in the next slot */
	uint16_t region;   /* region index holding the buffer */
	uint32_t length;   /* bytes in the buffer (S2C before filling: capacity) */
	uint32_t offset;   /* buffer offset inside that region */
	uint32_t metadata; /* unused by vpio */
};

struct vmif_ring {
	uint32_t cookie; /* (c) VMIF_COOKIE */
	uint16_t flags;  /* (consumer of this ring) VMIF_RING_FLAG_MASK_INT */
	uint16_t head;   /* (c) */
	uint8_t pad0[56];
	uint16_t tail;   /* (s) */
	uint8_t pad1[62];
	struct vmif_desc desc[];
};

_Static_assert(sizeof(struct vmif_msg) == VMIF_MSG_SIZE, "memif messages are 128 bytes");
_Static_assert(sizeof(struct vmif_msg_hello) == 43, "HELLO body");
_Static_assert(sizeof(struct vmif_msg_init) == 63, "INIT body");
_Static_assert(offsetof(struct vmif_msg_init, secret) == 7, "INIT.secret");
_Static_assert(sizeof(struct vmif_msg_add_region) == 10, "ADD_REGION body");
_Static_assert(sizeof(struct vmif_msg_add_ring) == 13, "ADD_RING body");
_Static_assert(offsetof(struct vmif_msg_add_ring, log2_ring_size) == 10, "ADD_RING.log2");
_Static_assert(sizeof(struct vmif_msg_disconnect) == 100, "DISCONNECT body");
_Static_assert(sizeof(struct vmif_desc) == VMIF_DESC_SIZE, "descriptors are 16 bytes");
_Static_assert(offsetof(struct vmif_ring, head) == 6, "ring head");
_Static_assert(offsetof(struct vmif_ring, tail) == 64, "ring tail on its own cache line");
_Static_assert(offsetof(struct vmif_ring, desc) == VMIF_RING_HDR_SIZE, "descriptors after two lines");

/* Bytes of one ring with 2^log2 descriptors. */
#define VMIF_RING_BYTES(log2) (VMIF_RING_HDR_SIZE + ((uint64_t)VMIF_DESC_SIZE << (log2)))

#endif /* VPIO_MEMIF_ABI_H */
