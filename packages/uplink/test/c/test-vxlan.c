// SPDX-License-Identifier: MIT
//
// test-vxlan.c - the VXLAN codec, the VID <-> VNI map and the learning
// table (csrc/vxlan.c) with hostile input: every drop reason, a datagram
// truncated at every length, every reserved bit, a full table, ageing on
// a fake clock. Built with ASan + UBSan: every buffer is exactly as long as
// the bytes it claims, so a read past it aborts.

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

#include "upl.h"
#include "vpio/tap.h"
#include "vxlan.h"

static struct vx_map map;

static void setup_map(void)
{
	char err[200];

	vx_map_init(&map);
	CHECK_EQ(vx_map_add(&map, "10:1000,20:2000", err, sizeof(err)), 0);
	CHECK_EQ(vx_map_add(&map, "4094:16777215", err, sizeof(err)), 0);
}

/* A good datagram: VXLAN header for vni + an untagged inner frame of inner bytes (malloc'd, exact size). */
static uint8_t *dgram(uint32_t vni, uint32_t inner, uint32_t *len)
{
	uint8_t *d = malloc(VX_HDR_LEN + inner);

	vx_hdr_write(d, vni);
	for (uint32_t i = 0; i < inner; i++)
		d[VX_HDR_LEN + i] = (uint8_t)(i * 7u + 3u);
	if (inner >= 14) {
		static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0xbb }, src[6] = { 0x02, 0, 0, 0, 0, 0xaa };
		memcpy(d + VX_HDR_LEN, dst, 6);
		memcpy(d + VX_HDR_LEN + 6, src, 6);
		d[VX_HDR_LEN + 12] = 0x08;
		d[VX_HDR_LEN + 13] = 0x00;
	}
	*len = VX_HDR_LEN + inner;
	return d;
}

static void t_map(void)
{
	char err[200];
	struct vx_map m;

	vx_map_init(&m);
	CHECK_EQ(vx_map_add(&m, "10:1000,20:2000", err, sizeof(err)), 0);
	CHECK_EQ(vx_map_vni(&m, 10), 1000);
	CHECK_EQ(vx_map_vni(&m, 20), 2000);
	CHECK_EQ(vx_map_vni(&m, 30), -1);
	CHECK_EQ(vx_map_vni(&m, 0), -1);
	CHECK_EQ(vx_map_vni(&m, 70000), -1);
	CHECK_EQ(vx_map_vid(&m, 1000), 10);
	CHECK_EQ(vx_map_vid(&m, 2000), 20);
	CHECK_EQ(vx_map_vid(&m, 1500), -1);
	CHECK_EQ(vx_map_add(&m, "1:0", err, sizeof(err)), 0); /* VNI 0 is a VNI */
	CHECK_EQ(vx_map_vid(&m, 0), 1);
	/* refused, and nothing of the refused spec added */
	const char *bad[] = { "", "10", "10:", ":10", "0:5", "4095:5", "4096:5", "a:5", "5:a", "5:16777216", "5:-1",
			      "30:3000,", "30:3000,,", "30:3000,30:3001", "30:3000,31:3000", "10:4000", "40:1000",
			      "30:3000,99999999999:1", " 30:3000", "30:3000 " };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = vx_map_add(&m, bad[i], err, sizeof(err));
		if (rc != -EINVAL)
			printf("# spec \"%s\" accepted\n", bad[i]);
		CHECK_EQ(rc, -EINVAL);
		CHECK(err[0] == '-');
	}
	CHECK_EQ(vx_map_vni(&m, 30), -1);
	CHECK_EQ(vx_map_vid(&m, 3000), -1);
	CHECK_EQ(m.n, 3);
}

static void t_map_full(void)
{
	static struct vx_map m;
	char spec[32], err[200];

	vx_map_init(&m);
	for (uint32_t vid = 1; vid <= VX_VID_MAX; vid++) {
		snprintf(spec, sizeof(spec), "%u:%u", vid, (vid * 4099u) % 16777216u);
		CHECK_EQ(vx_map_add(&m, spec, err, sizeof(err)), 0);
	}
	CHECK_EQ(m.n, VX_VID_MAX);
	for (uint32_t vid = 1; vid <= VX_VID_MAX; vid++) {
		CHECK_EQ(vx_map_vid(&m, (vid * 4099u) % 16777216u), vid);
		CHECK_EQ(vx_map_vni(&m, vid), (vid * 4099u) % 16777216u);
	}
	CHECK_EQ(vx_map_vid(&m, 1), -1);
}

static void t_decap_good(void)
{
	uint32_t len;
	uint8_t *d = dgram(2000, 60, &len);
	struct vx_rx rx;

	setup_map();
	CHECK_EQ(vx_decap(&map, d, len, 0, 2048, &rx), VX_RX_OK);
	CHECK_EQ(rx.vni, 2000);
	CHECK_EQ(rx.vid, 20);
	CHECK_EQ(rx.len, 60);
	CHECK(rx.frame == d + 8);
	/* the largest inner frame that fits the vif's buffers with its tag, and one more byte */
	CHECK_EQ(vx_decap(&map, d, len, 0, 64, &rx), VX_RX_OK);
	CHECK_EQ(vx_decap(&map, d, len, 0, 63, &rx), VX_RX_TOO_LONG);
	CHECK_EQ(vx_decap(&map, d, len, 1, 2048, &rx), VX_RX_TOO_LONG); /* the kernel truncated it */
	free(d);
}

static void t_decap_every_length(void)
{
	uint32_t full;
	uint8_t *ref = dgram(1000, 64, &full);
	struct vx_rx rx;

	setup_map();
	/* the same datagram cut at every length, in an exactly-sized buffer each time */
	for (uint32_t len = 0; len <= full; len++) {
		uint8_t *d = malloc(len ? len : 1);
		enum vx_rx_drop want = len < 8 ? VX_RX_SHORT : len < 8 + 14 ? VX_RX_RUNT : VX_RX_OK;
		enum vx_rx_drop got;

		memcpy(d, ref, len);
		got = vx_decap(&map, d, len, 0, 2048, &rx);
		if (got != want)
			printf("# length %u: %d, expected %d\n", len, got, want);
		CHECK_EQ(got, want);
		if (got == VX_RX_OK)
			CHECK_EQ(rx.len, len - 8);
		free(d);
	}
	free(ref);
}

static void t_decap_reasons(void)
{
	uint32_t len;
	uint8_t *d = dgram(1000, 60, &len);
	struct vx_rx rx;

	setup_map();
	/* every bit of the header other than I and the VNI is reserved */
	for (uint32_t byte = 0; byte < 8; byte++) {
		if (byte >= 4 && byte <= 6)
			continue;
		for (uint32_t bit = 0; bit < 8; bit++) {
			uint8_t save = d[byte];

			d[byte] ^= (uint8_t)(1u << bit);
			CHECK_EQ(vx_decap(&map, d, len, 0, 2048, &rx), byte == 0 && bit == 3 ? VX_RX_NO_I_FLAG : VX_RX_RESERVED);
			d[byte] = save;
		}
	}
	d[0] = 0;
	CHECK_EQ(vx_decap(&map, d, len, 0, 2048, &rx), VX_RX_NO_I_FLAG);
	d[0] = 0xff;
	CHECK_EQ(vx_decap(&map, d, len, 0, 2048, &rx), VX_RX_RESERVED);
	vx_hdr_write(d, 1001);
	CHECK_EQ(vx_decap(&map, d, len, 0, 2048, &rx), VX_RX_UNKNOWN_VNI);
	vx_hdr_write(d, 0xffffff);
	CHECK_EQ(vx_decap(&map, d, len, 0, 2048, &rx), VX_RX_OK);
	CHECK_EQ(rx.vid, 4094);
	/* the inner frame already tagged */
	d[8 + 12] = 0x81, d[8 + 13] = 0x00;
	CHECK_EQ(vx_decap(&map, d, len, 0, 2048, &rx), VX_RX_TAGGED);
	d[8 + 12] = 0x88, d[8 + 13] = 0xa8;
	CHECK_EQ(vx_decap(&map, d, len, 0, 2048, &rx), VX_RX_TAGGED);
	d[8 + 12] = 0x86, d[8 + 13] = 0xdd;
	CHECK_EQ(vx_decap(&map, d, len, 0, 2048, &rx), VX_RX_OK);
	/* a group address as the source */
	d[8 + 6] |= 1;
	CHECK_EQ(vx_decap(&map, d, len, 0, 2048, &rx), VX_RX_SRC_MCAST);
	for (uint32_t i = 1; i < VX_RX_NREASONS; i++)
		CHECK(!strncmp(vx_rx_drop_names[i], "rx_drop_", 8));
	free(d);
}

/* A tagged frame of len bytes (VID vid, PCP pcp) with 4 bytes of headroom, in an exactly-sized buffer. */
static uint8_t *tagged(uint32_t vid, uint32_t pcp, uint32_t len, uint8_t **frame)
{
	uint8_t *b = malloc(VX_TX_HEADROOM + len), *f = b + VX_TX_HEADROOM;

	for (uint32_t i = 0; i < len; i++)
		f[i] = (uint8_t)(i * 13u + 1u);
	if (len >= 18) {
		f[0] = 0xff, f[1] = 0xff, f[2] = 0xff, f[3] = 0xff, f[4] = 0xff, f[5] = 0xff;
		f[12] = 0x81, f[13] = 0x00;
		f[14] = (uint8_t)(pcp << 5 | vid >> 8);
		f[15] = (uint8_t)vid;
	}
	*frame = f;
	return b;
}

static void t_encap(void)
{
	uint8_t *f, *b = tagged(20, 0, 100, &f), copy[100], back[200];
	struct vx_tx tx;
	struct vx_rx rx;

	setup_map();
	memcpy(copy, f, 100);
	CHECK_EQ(vx_encap(&map, f, 100, &tx), VX_TX_OK);
	CHECK_EQ(tx.vni, 2000);
	CHECK(tx.dgram == f - 4);
	CHECK_EQ(tx.len, 100 - 4 + 8);
	CHECK_EQ(tx.dgram[0], 0x08);
	CHECK_EQ(tx.dgram[4] << 16 | tx.dgram[5] << 8 | tx.dgram[6], 2000);
	CHECK(!memcmp(tx.dgram + 8, copy, 12));          /* the MACs */
	CHECK(!memcmp(tx.dgram + 8 + 12, copy + 16, 84)); /* the rest, without the tag */
	CHECK(tx.dst == tx.dgram + 8);
	/* and back: decap + the pump's tag insertion give the frame the switch sent */
	CHECK_EQ(vx_decap(&map, tx.dgram, tx.len, 0, 2048, &rx), VX_RX_SRC_MCAST); /* byte 6 of the test frame is odd */
	tx.dgram[8 + 6] = 0x02; /* a unicast source (the test frame's bytes are arbitrary) */
	copy[6] = 0x02;
	CHECK_EQ(vx_decap(&map, tx.dgram, tx.len, 0, 2048, &rx), VX_RX_OK);
	CHECK_EQ(rx.vid, 20);
	CHECK_EQ(upl_copy_tagged(back, rx.frame, rx.len, VX_TPID_8021Q << 16 | rx.vid), 100);
	CHECK(!memcmp(back, copy, 100));
	free(b);
}

static void t_encap_reasons(void)
{
	uint8_t *f, *b;
	struct vx_tx tx;

	setup_map();
	for (uint32_t len = 0; len < 18; len++) {
		b = tagged(10, 0, len, &f);
		CHECK_EQ(vx_encap(&map, f, len, &tx), VX_TX_RUNT);
		free(b);
	}
	b = tagged(10, 0, 18, &f);
	CHECK_EQ(vx_encap(&map, f, 18, &tx), VX_TX_OK); /* a tag and nothing after it: 14 bytes inside */
	CHECK_EQ(tx.len, 22);
	free(b);
	b = tagged(10, 7, 64, &f); /* PCP does not matter */
	CHECK_EQ(vx_encap(&map, f, 64, &tx), VX_TX_OK);
	free(b);
	b = tagged(30, 0, 64, &f);
	CHECK_EQ(vx_encap(&map, f, 64, &tx), VX_TX_UNMAPPED);
	free(b);
	b = tagged(0, 3, 64, &f); /* a priority tag: VID 0 */
	CHECK_EQ(vx_encap(&map, f, 64, &tx), VX_TX_UNMAPPED);
	free(b);
	b = tagged(10, 0, 64, &f);
	f[12] = 0x88, f[13] = 0xa8;
	CHECK_EQ(vx_encap(&map, f, 64, &tx), VX_TX_UNTAGGED);
	f[12] = 0x08, f[13] = 0x00;
	CHECK_EQ(vx_encap(&map, f, 64, &tx), VX_TX_UNTAGGED);
	f[14] = 0xff, f[15] = 0xff, f[12] = 0x81, f[13] = 0x00; /* VID 4095 */
	CHECK_EQ(vx_encap(&map, f, 64, &tx), VX_TX_UNMAPPED);
	free(b);
}

static void t_addr(void)
{
	struct vx_addr a, b;
	char s[64];

	CHECK_EQ(vx_addr_parse("10.1.2.3", 4789, 0, &a), 0);
	CHECK_EQ(a.u.sa.sa_family, AF_INET);
	CHECK_EQ(ntohs(a.u.v4.sin_port), 4789);
	vx_addr_format(&a, s, sizeof(s));
	CHECK_STR(s, "10.1.2.3:4789");
	CHECK_EQ(vx_addr_parse("10.1.2.3:5000", 4789, 0, &b), 0);
	CHECK(!vx_addr_eq(&a, &b));
	CHECK_EQ(vx_addr_parse("10.1.2.3:4789", 1, 0, &b), 0);
	CHECK(vx_addr_eq(&a, &b));
	CHECK_EQ(vx_addr_parse("10.1.2.3", 4789, 1, &a), 0); /* v4-mapped on an IPv6 socket */
	CHECK_EQ(a.u.sa.sa_family, AF_INET6);
	vx_addr_format(&a, s, sizeof(s));
	CHECK_STR(s, "[::ffff:10.1.2.3]:4789");
	CHECK_EQ(vx_addr_parse("[fd00::1]:4790", 4789, 1, &a), 0);
	vx_addr_format(&a, s, sizeof(s));
	CHECK_STR(s, "[fd00::1]:4790");
	CHECK_EQ(vx_addr_parse("fd00::1", 4789, 1, &a), 0);
	CHECK_EQ(ntohs(a.u.v6.sin6_port), 4789);
	CHECK_EQ(vx_addr_parse("[fd00::1]", 4789, 1, &a), 0);
	CHECK_EQ(vx_addr_parse("fd00::1", 4789, 0, &a), -EAFNOSUPPORT);
	const char *bad[] = { "", "10.1.2", "10.1.2.3:", "10.1.2.3:0", "10.1.2.3:65536", "10.1.2.3:x", "[fd00::1",
			      "[fd00::1]x", "[fd00::1]:", "[10.0.0.1]:5", "host.example:4789", "fd00::1::2",
			      "[fd00::1]:99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vx_addr_parse(bad[i], 4789, 1, &a) != -EINVAL)
			printf("# \"%s\" accepted\n", bad[i]);
		CHECK_EQ(vx_addr_parse(bad[i], 4789, 1, &a), -EINVAL);
	}
}

#define SEC 1000000000ull

static void mac_of(uint32_t i, uint8_t mac[6])
{
	mac[0] = 0x02, mac[1] = (uint8_t)(i >> 24), mac[2] = (uint8_t)(i >> 16), mac[3] = (uint8_t)(i >> 8);
	mac[4] = (uint8_t)i, mac[5] = 0x55;
}

static void t_fdb(void)
{
	static struct vx_fdb_entry mem[64];
	struct vx_fdb f;
	struct vx_addr a, b;
	uint8_t m[6];

	CHECK_EQ(vx_fdb_init(&f, mem, 48, SEC), -EINVAL); /* not a power of two */
	CHECK_EQ(vx_fdb_init(&f, mem, 4, SEC), -EINVAL);  /* smaller than a neighbourhood */
	CHECK_EQ(vx_fdb_init(&f, mem, 64, 0), -EINVAL);
	CHECK_EQ(vx_fdb_init(&f, mem, 64, 300 * SEC), 0);
	vx_addr_parse("10.0.0.1", 4789, 0, &a);
	vx_addr_parse("10.0.0.2", 4789, 0, &b);
	mac_of(1, m);
	CHECK(vx_fdb_lookup(&f, 1000, m, 1) == NULL);
	CHECK_EQ(vx_fdb_learn(&f, 1000, m, &a, 10), VX_LEARN_NEW);
	CHECK(vx_fdb_lookup(&f, 1000, m, 11) != NULL && vx_addr_eq(vx_fdb_lookup(&f, 1000, m, 11), &a));
	CHECK(vx_fdb_lookup(&f, 2000, m, 11) == NULL); /* per VNI */
	CHECK_EQ(vx_fdb_learn(&f, 1000, m, &a, 20), VX_LEARN_REFRESH);
	CHECK_EQ(vx_fdb_learn(&f, 1000, m, &b, 30), VX_LEARN_MOVED);
	CHECK(vx_addr_eq(vx_fdb_lookup(&f, 1000, m, 31), &b));
	CHECK_EQ(vx_fdb_learn(&f, 2000, m, &a, 40), VX_LEARN_NEW);
	CHECK_EQ(vx_fdb_count(&f, 41), 2);
	CHECK_EQ(f.st.learned, 2);
	CHECK_EQ(f.st.moved, 1);
	/* ageing: seen at 30, gone 300 s later; the lookup frees the entry */
	CHECK(vx_fdb_lookup(&f, 1000, m, 30 + 300 * SEC - 1) != NULL);
	CHECK(vx_fdb_lookup(&f, 1000, m, 30 + 300 * SEC) == NULL);
	CHECK_EQ(f.st.aged, 1);
	CHECK_EQ(vx_fdb_count(&f, 30 + 300 * SEC), 1); /* VNI 2000's entry, seen at 40, lives 10 ns longer */
	CHECK_EQ(vx_fdb_count(&f, 40 + 300 * SEC), 0);
}

static void t_fdb_full(void)
{
	static struct vx_fdb_entry mem[64];
	struct vx_fdb f;
	struct vx_addr a;
	uint8_t m[6];
	uint32_t learned = 0, full = 0;

	CHECK_EQ(vx_fdb_init(&f, mem, 64, 10 * SEC), 0);
	vx_addr_parse("[fd00::9]:4789", 4789, 1, &a);
	/* 1000 MACs into 64 entries: every learn either lands or counts as full, nothing is overwritten */
	for (uint32_t i = 0; i < 1000; i++) {
		mac_of(i, m);
		enum vx_learn r = vx_fdb_learn(&f, 7, m, &a, SEC + i);
		learned += r == VX_LEARN_NEW;
		full += r == VX_LEARN_FULL;
	}
	CHECK_EQ(learned + full, 1000);
	CHECK(learned <= 64 && learned >= 32);
	CHECK_EQ(f.st.full, full);
	CHECK_EQ(vx_fdb_count(&f, SEC + 1000), learned);
	/* every learned MAC is found; the ones that did not fit are not */
	uint32_t found = 0;
	for (uint32_t i = 0; i < 1000; i++) {
		mac_of(i, m);
		found += vx_fdb_lookup(&f, 7, m, SEC + 1000) != NULL;
	}
	CHECK_EQ(found, learned);
	/* once they age out, new MACs get their place */
	mac_of(5000, m);
	CHECK_EQ(vx_fdb_learn(&f, 7, m, &a, SEC + 11 * SEC), VX_LEARN_NEW);
	CHECK_EQ(vx_fdb_count(&f, SEC + 11 * SEC), 1);
	CHECK(f.st.aged >= 1);
}

int main(void)
{
	tap_run("the VID:VNI map parses lists and refuses bad or duplicate pairs atomically", t_map);
	tap_run("the map holds all 4094 VIDs and finds each VNI", t_map_full);
	tap_run("decap accepts a good datagram and bounds the inner frame by the vif's buffers with the tag", t_decap_good);
	tap_run("decap of a datagram cut at every length: short, runt, then good", t_decap_every_length);
	tap_run("decap drops every reserved bit, a missing I flag, an unknown VNI, a tagged inner frame, a group source", t_decap_reasons);
	tap_run("encap strips the tag, prepends the VNI's header, and decap + tag insertion give the frame back", t_encap);
	tap_run("encap drops runts at every length, untagged and 802.1ad frames, unmapped and priority-tag VIDs", t_encap_reasons);
	tap_run("outer addresses: IPv4, [IPv6]:port, bare IPv6, v4-mapped, and garbage refused", t_addr);
	tap_run("the learning table learns per VNI, refreshes, follows a move, ages out on the clock given", t_fdb);
	tap_run("a full learning table counts what it cannot learn, keeps live entries, reuses aged ones", t_fdb_full);
	return tap_done();
}
