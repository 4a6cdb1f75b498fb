// SPDX-License-Identifier: MIT
//
// test-tpacket.c - the TPACKET_V3 RX block walk (csrc/tpacket.c) over
// blocks built by hand: a good block (tags the kernel took off included),
// and odd or hostile ones: a first packet outside the block, a packet count
// larger than what is there, headers and frames that reach past the block,
// next offsets that point outside or backwards, truncated frames, runts,
// frames too long for the vif; then random blocks. ASan + UBSan: the block
// is an exactly-sized allocation, so any read past it aborts.

#include <linux/if_packet.h>
#include <stdlib.h>

#include "tpacket.h"
#include "vpio/tap.h"

#define BS 4096u
#define FIRST 48u /* offset_to_first_pkt, as the kernel's (sizeof desc rounded) */

static uint8_t *blk;

static void new_block(uint32_t num, uint32_t first, uint32_t blk_len)
{
	struct tpacket_block_desc d;

	free(blk);
	blk = calloc(1, BS);
	memset(&d, 0, sizeof(d));
	d.version = TPACKET_V3;
	d.hdr.bh1.block_status = TP_STATUS_USER;
	d.hdr.bh1.num_pkts = num;
	d.hdr.bh1.offset_to_first_pkt = first;
	d.hdr.bh1.blk_len = blk_len;
	memcpy(blk, &d, sizeof(d));
}

/* A packet header at off: frame of snap bytes (tp_len len) at off + mac, the next at off + next. */
static void put(uint32_t off, uint32_t next, uint32_t snap, uint32_t len, uint16_t mac, uint32_t status, uint16_t tci,
		uint16_t tpid)
{
	struct tpacket3_hdr h;

	memset(&h, 0, sizeof(h));
	h.tp_next_offset = next;
	h.tp_snaplen = snap;
	h.tp_len = len;
	h.tp_status = status;
	h.tp_mac = mac;
	h.hv1.tp_vlan_tci = tci;
	h.hv1.tp_vlan_tpid = tpid;
	memcpy(blk + off, &h, sizeof(h));
	for (uint32_t i = 0; i < snap && off + mac + i < BS; i++)
		blk[off + mac + i] = (uint8_t)(off + i);
}

static void t_good(void)
{
	struct tp_cursor c;
	struct tp_frame f;

	new_block(3, FIRST, 1200);
	put(FIRST, 200, 60, 60, 80, TP_STATUS_USER, 0, 0);
	put(FIRST + 200, 400, 100, 100, 80, TP_STATUS_USER | TP_STATUS_VLAN_VALID, 0x2005, 0); /* PCP 1, VID 5 */
	put(FIRST + 600, 0, 300, 300, 80, TP_STATUS_USER | TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID, 7, 0x88a8);
	CHECK_EQ(tp_block_begin(&c, blk, BS), 3);
	CHECK_EQ(tp_block_next(&c, 2048, &f), 1);
	CHECK(f.data == blk + FIRST + 80);
	CHECK_EQ(f.len, 60);
	CHECK_EQ(f.vlan, 0);
	CHECK_EQ(tp_block_next(&c, 2048, &f), 1);
	CHECK_EQ(f.len, 100);
	CHECK_EQ(f.vlan, 0x81002005u);
	CHECK_EQ(tp_block_next(&c, 2048, &f), 1);
	CHECK(f.data == blk + FIRST + 600 + 80);
	CHECK_EQ(f.vlan, 0x88a80007u);
	CHECK_EQ(tp_block_next(&c, 2048, &f), 0);
	CHECK_EQ(tp_block_next(&c, 2048, &f), 0);
	/* an empty block */
	new_block(0, FIRST, 0);
	CHECK_EQ(tp_block_begin(&c, blk, BS), 0);
	CHECK_EQ(tp_block_next(&c, 2048, &f), 0);
}

static void t_bad_block(void)
{
	struct tp_cursor c;
	struct tp_frame f;

	new_block(1, BS, 100); /* first packet at the very end */
	CHECK_EQ(tp_block_begin(&c, blk, BS), -TP_DROP_BAD_BLOCK);
	CHECK_EQ(tp_block_next(&c, 2048, &f), 0);
	new_block(1, BS - 10, 100);
	CHECK_EQ(tp_block_begin(&c, blk, BS), -TP_DROP_BAD_BLOCK);
	new_block(1, 4, 100); /* inside the block descriptor */
	CHECK_EQ(tp_block_begin(&c, blk, BS), -TP_DROP_BAD_BLOCK);
	new_block(1, FIRST, BS + 1); /* claims more bytes than the block has */
	CHECK_EQ(tp_block_begin(&c, blk, BS), -TP_DROP_BAD_BLOCK);
	new_block(1, 0xffffffffu, 100);
	CHECK_EQ(tp_block_begin(&c, blk, BS), -TP_DROP_BAD_BLOCK);
}

static void t_bad_packets(void)
{
	struct tp_cursor c;
	struct tp_frame f;

	/* more packets claimed than chained: the last header says next = 0 */
	new_block(5, FIRST, 500);
	put(FIRST, 0, 60, 60, 80, TP_STATUS_USER, 0, 0);
	CHECK_EQ(tp_block_begin(&c, blk, BS), 5);
	CHECK_EQ(tp_block_next(&c, 2048, &f), -TP_DROP_BAD_HDR); /* its next offset cannot be followed */
	CHECK_EQ(tp_block_next(&c, 2048, &f), 0);                /* and the walk ends */

	/* the frame reaches past the block */
	new_block(1, FIRST, 500);
	put(FIRST, 0, BS, BS, 80, TP_STATUS_USER, 0, 0);
	CHECK_EQ(tp_block_begin(&c, blk, BS), 1);
	CHECK_EQ(tp_block_next(&c, 2048, &f), -TP_DROP_BAD_HDR);
	new_block(1, FIRST, 500);
	put(FIRST, 0, 60, 60, (uint16_t)(BS - FIRST - 59), TP_STATUS_USER, 0, 0); /* one byte over */
	tp_block_begin(&c, blk, BS);
	CHECK_EQ(tp_block_next(&c, 2048, &f), -TP_DROP_BAD_HDR);
	new_block(1, FIRST, 500);
	put(FIRST, 0, 60, 60, (uint16_t)(BS - FIRST - 60), TP_STATUS_USER, 0, 0); /* exactly at the end: fine */
	tp_block_begin(&c, blk, BS);
	CHECK_EQ(tp_block_next(&c, 2048, &f), 1);
	CHECK(f.data + f.len == blk + BS);
	new_block(1, FIRST, 500);
	put(FIRST, 0, 60, 60, 0xffff, TP_STATUS_USER, 0, 0);
	tp_block_begin(&c, blk, BS);
	CHECK_EQ(tp_block_next(&c, 2048, &f), -TP_DROP_BAD_HDR);
	new_block(1, FIRST, 500);
	put(FIRST, 0, 60, 60, 4, TP_STATUS_USER, 0, 0); /* the frame over its own header */
	tp_block_begin(&c, blk, BS);
	CHECK_EQ(tp_block_next(&c, 2048, &f), -TP_DROP_BAD_HDR);

	/* a next offset outside the block, backwards (0 < next < header), or leaving no room for a header */
	uint32_t nexts[] = { BS, 0xffffffffu, 8, BS - FIRST - 10 };
	for (size_t i = 0; i < sizeof(nexts) / sizeof(nexts[0]); i++) {
		new_block(2, FIRST, 500);
		put(FIRST, nexts[i], 60, 60, 80, TP_STATUS_USER, 0, 0);
		tp_block_begin(&c, blk, BS);
		CHECK_EQ(tp_block_next(&c, 2048, &f), -TP_DROP_BAD_HDR);
		CHECK_EQ(tp_block_next(&c, 2048, &f), 0);
	}
	/* a header at an odd offset */
	new_block(2, FIRST, 500);
	put(FIRST, 201, 60, 60, 80, TP_STATUS_USER, 0, 0);
	put(FIRST + 201, 0, 60, 60, 80, TP_STATUS_USER, 0, 0);
	tp_block_begin(&c, blk, BS);
	CHECK_EQ(tp_block_next(&c, 2048, &f), 1);
	CHECK_EQ(tp_block_next(&c, 2048, &f), -TP_DROP_BAD_HDR);
}

static void t_frame_reasons(void)
{
	struct tp_cursor c;
	struct tp_frame f;

	new_block(5, FIRST, 2000);
	put(FIRST, 200, 60, 1500, 80, TP_STATUS_USER | TP_STATUS_COPY, 0, 0);   /* truncated by the ring */
	put(FIRST + 200, 200, 13, 13, 80, TP_STATUS_USER, 0, 0);                /* runt */
	put(FIRST + 400, 200, 100, 100, 80, TP_STATUS_USER, 0, 0);              /* fits 100 exactly */
	put(FIRST + 600, 200, 100, 100, 80, TP_STATUS_USER | TP_STATUS_VLAN_VALID, 9, 0); /* + tag: 104 > 100 */
	put(FIRST + 800, 0, 101, 101, 80, TP_STATUS_USER, 0, 0);                /* too long */
	CHECK_EQ(tp_block_begin(&c, blk, BS), 5);
	CHECK_EQ(tp_block_next(&c, 100, &f), -TP_DROP_TRUNCATED);
	CHECK_EQ(tp_block_next(&c, 100, &f), -TP_DROP_RUNT);
	CHECK_EQ(tp_block_next(&c, 100, &f), 1);
	CHECK_EQ(tp_block_next(&c, 100, &f), -TP_DROP_TOO_LONG);
	CHECK_EQ(tp_block_next(&c, 100, &f), -TP_DROP_TOO_LONG);
	CHECK_EQ(tp_block_next(&c, 100, &f), 0);
	for (uint32_t i = 1; i < TP_NREASONS; i++)
		CHECK(!strncmp(tp_drop_names[i], "rx_drop_", 8));
}

static void t_random(void)
{
	struct tp_cursor c;
	struct tp_frame f;
	uint32_t seed = 12345, frames = 0, walks = 0;

	/* random headers (plausible offsets mixed with garbage): every frame handed out lies inside the block */
	for (uint32_t iter = 0; iter < 20000; iter++) {
		seed = seed * 1103515245u + 12345u;
		new_block(1 + (seed % 40u), seed % 9u ? FIRST : FIRST + (seed >> 8) % 64u, (seed >> 4) % (BS + 16));
		for (uint32_t off = FIRST; off + 48 <= BS;) {
			seed = seed * 1103515245u + 12345u;
			uint32_t snap = (seed >> 3) % 300u, len = seed % 7u ? snap : (seed >> 5) % 300u;
			uint16_t mac = seed % 11u ? 64u : (uint16_t)(seed >> 16);
			uint32_t next = seed % 13u ? (64u + snap + 15u) & ~15u : seed >> 4;

			put(off, next, snap, len, mac, TP_STATUS_USER, 0, 0);
			if (next < 16u || next > BS)
				break;
			off += next;
		}
		if (tp_block_begin(&c, blk, BS) < 0)
			continue;
		walks++;
		for (uint32_t guard = 0; guard < 1000; guard++) {
			int r = tp_block_next(&c, 2048, &f);

			if (r == 0)
				break;
			CHECK(guard < 999);
			if (r == 1) {
				frames++;
				CHECK(f.data >= blk && f.data + f.len <= blk + BS);
				CHECK(f.len >= 14);
			}
		}
	}
	printf("# %u blocks walked, %u frames handed out\n", walks, frames);
	CHECK(walks > 1000);
	CHECK(frames > 100);
}

int main(void)
{
	tap_run("a good block: every frame in place, the tags the kernel took off given back", t_good);
	tap_run("a block whose first packet or length lies outside it is dropped whole", t_bad_block);
	tap_run("headers or frames past the block, bad next offsets: that packet and the rest dropped", t_bad_packets);
	tap_run("truncated, runt and too-long frames are dropped by reason, the walk goes on", t_frame_reasons);
	tap_run("random blocks: every frame handed out lies inside the block, every walk ends", t_random);
	free(blk);
	return tap_done();
}
