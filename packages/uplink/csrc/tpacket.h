/* SPDX-License-Identifier: MIT */
/*
 * tpacket.h - walking one TPACKET_V3 RX block (wire_packet.c): a pure
 * function of the block's bytes, so a hostile or odd block can be built in
 * a test. The kernel is not hostile, but the block is shared memory and a
 * wrong offset would make us read past the ring: every header is copied
 * into a local once and every offset and length checked against the block
 * before a frame is handed out.
 *
 *   block: struct tpacket_block_desc { version, offset_to_priv,
 *            hdr.bh1 { block_status, num_pkts, offset_to_first_pkt, blk_len, ... } }
 *          at offset_to_first_pkt: struct tpacket3_hdr { tp_next_offset, ..., tp_snaplen,
 *            tp_len, tp_status, tp_mac, ..., hv1 { tp_vlan_tci, tp_vlan_tpid } }, frame at + tp_mac;
 *          the next header at + tp_next_offset (0 on the last one).
 */
#ifndef VPIO_UPLINK_TPACKET_H
#define VPIO_UPLINK_TPACKET_H

#include <stdint.h>

/* Why a frame (or the rest of a block) was not handed out. */
enum tp_drop {
	TP_OK = 0,
	TP_DROP_BAD_BLOCK,   /* the block header is impossible (first packet or blk_len outside the block) */
	TP_DROP_BAD_HDR,     /* a packet header or its frame reaches outside the block, or a bad next offset:
	                      * this packet and the rest of the block are dropped */
	TP_DROP_TRUNCATED,   /* tp_snaplen < tp_len: the ring's frames were too small (TP_STATUS_COPY) */
	TP_DROP_RUNT,        /* shorter than an Ethernet header */
	TP_DROP_TOO_LONG,    /* longer than the vif's buffers take (with a tag to put back) */
	TP_NREASONS
};

/* Counter names of the reasons ("rx_drop_bad_block", ...); index 0 unused. */
extern const char *const tp_drop_names[TP_NREASONS];

/* The position in one block owned by user space (block_status & TP_STATUS_USER). */
struct tp_cursor {
	const uint8_t *block;
	uint32_t size;       /* tp_block_size */
	uint32_t left;       /* packets not yet looked at */
	uint32_t off;        /* offset of the next packet header */
};

/* One good frame. */
struct tp_frame {
	const uint8_t *data;
	uint32_t len;
	uint32_t vlan;       /* (TPID << 16) | TCI of a tag the kernel took off, or 0 (wire_frame.vlan) */
	uint32_t status;     /* tp_status (TP_STATUS_CSUMNOTREADY etc.) */
};

/*
 * Starts walking block (size bytes). Returns the packets it claims (0: an
 * empty block), or -TP_DROP_BAD_BLOCK (nothing can be walked: release it).
 */
int tp_block_begin(struct tp_cursor *c, const uint8_t *block, uint32_t size);

/*
 * The next packet: 1 and *f (a good frame), 0 when the block is done, or
 * -reason for a dropped packet (call again: the walk goes on, except after
 * -TP_DROP_BAD_HDR, which ends the block: the next call returns 0).
 * frame_max: the longest frame taken (a kernel-stripped tag counts 4 more).
 */
int tp_block_next(struct tp_cursor *c, uint32_t frame_max, struct tp_frame *f);

#endif /* VPIO_UPLINK_TPACKET_H */
