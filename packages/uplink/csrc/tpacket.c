// SPDX-License-Identifier: MIT
//
// tpacket.c - the TPACKET_V3 RX block walk (tpacket.h). Pure; one thread.

#include <linux/if_packet.h>
#include <stddef.h>
#include <string.h>

#include "tpacket.h"

const char *const tp_drop_names[TP_NREASONS] = {
	[TP_OK] = "rx_ok",
	[TP_DROP_BAD_BLOCK] = "rx_drop_bad_block",
	[TP_DROP_BAD_HDR] = "rx_drop_bad_hdr",
	[TP_DROP_TRUNCATED] = "rx_drop_truncated",
	[TP_DROP_RUNT] = "rx_drop_runt",
	[TP_DROP_TOO_LONG] = "rx_drop_too_long",
};

int tp_block_begin(struct tp_cursor *c, const uint8_t *block, uint32_t size)
{
	struct tpacket_block_desc d;

	memcpy(&d, block, sizeof(d)); /* read once */
	c->block = block;
	c->size = size;
	c->left = 0;
	c->off = 0;
	if (d.hdr.bh1.num_pkts == 0)
		return 0;
	if (d.hdr.bh1.blk_len > size || d.hdr.bh1.offset_to_first_pkt < sizeof(d) ||
	    d.hdr.bh1.offset_to_first_pkt > size - sizeof(struct tpacket3_hdr))
		return -TP_DROP_BAD_BLOCK;
	c->left = d.hdr.bh1.num_pkts;
	c->off = d.hdr.bh1.offset_to_first_pkt;
	return (int)(c->left > 0x7fffffffu ? 0x7fffffffu : c->left);
}

int tp_block_next(struct tp_cursor *c, uint32_t frame_max, struct tp_frame *f)
{
	struct tpacket3_hdr h;
	uint32_t room, off = c->off, tag;

	if (c->left == 0)
		return 0;
	c->left--;
	if ((uint64_t)off + sizeof(h) > c->size || (off & 3u)) {
		c->left = 0;
		return -TP_DROP_BAD_HDR;
	}
	memcpy(&h, c->block + off, sizeof(h)); /* read once */
	room = c->size - off;
	if (h.tp_mac < sizeof(h) || h.tp_mac > room || h.tp_snaplen > room - h.tp_mac ||
	    (c->left && (h.tp_next_offset < sizeof(h) || h.tp_next_offset > room - sizeof(h)))) {
		c->left = 0; /* where the next one is cannot be trusted either */
		return -TP_DROP_BAD_HDR;
	}
	c->off = off + h.tp_next_offset;
	if (h.tp_snaplen < h.tp_len)
		return -TP_DROP_TRUNCATED;
	if (h.tp_snaplen < 14u)
		return -TP_DROP_RUNT;
	tag = 0;
	if (h.tp_status & TP_STATUS_VLAN_VALID)
		tag = (uint32_t)((h.tp_status & TP_STATUS_VLAN_TPID_VALID) && h.hv1.tp_vlan_tpid ? h.hv1.tp_vlan_tpid : 0x8100u)
			      << 16 | h.hv1.tp_vlan_tci;
	if (h.tp_snaplen + (tag ? 4u : 0u) > frame_max)
		return -TP_DROP_TOO_LONG;
	f->data = c->block + off + h.tp_mac;
	f->len = h.tp_snaplen;
	f->vlan = tag;
	f->status = h.tp_status;
	return 1;
}
