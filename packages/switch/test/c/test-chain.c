/* SPDX-License-Identifier: MIT */
/*
 * test-chain.c - buffer chains and offload words through the switch
 * (standalone C, ASan + UBSan; one thread, vsw_poll_once(), manual clock).
 *
 * Ports: C1, C2 negotiated VRING_FEAT_CHAIN | VRING_FEAT_OFFLOAD (Linux
 * guests), P did not (a minios guest). The guest side writes slots by hand
 * through its vring_fe, as a hostile guest could.
 */
#include <string.h>

#include "harness.h"
#include "vpio/tap.h"

#define NS 1000000000ull
#define FEAT (VRING_FEAT_CHAIN | VRING_FEAT_OFFLOAD)

static uint64_t clk;

/* One fragment as the guest writes it at TX offset off (not yet published). */
static void put(struct tport *tp, uint32_t off, const uint8_t *data, uint16_t len, uint16_t flags,
		const struct vring_offload *o)
{
	struct vring_slot *s = &tp->tx.slots[(tp->tx.head + off) & tp->tx.mask];

	memcpy(vring_fe_buf(&tp->tx, s->buf_idx), data, len);
	s->len = len;
	s->flags = flags;
	if (o)
		s->u.offload = *o;
	else
		s->u.gref = 0;
}

static void publish(struct tport *tp, uint32_t n)
{
	tp->tx.head = (tp->tx.head + n) & tp->tx.mask;
	vring_fe_publish_nokick(&tp->tx);
}

/* A frame of len bytes: to dst from src, IPv4 EtherType, then a byte pattern from seed. */
static void frame(uint8_t *f, uint32_t len, const uint8_t dst[6], const uint8_t src[6], uint8_t seed)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	for (uint32_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i * 7);
}

/* Sends f[0, len) as a chain of 2048-byte fragments; returns the slots used. */
static uint32_t send_chain(struct tport *tp, const uint8_t *f, uint32_t len, const struct vring_offload *o)
{
	uint32_t off = 0, k = 0;

	while (off < len) {
		uint16_t n = (uint16_t)(len - off < 2048 ? len - off : 2048);

		put(tp, k, f + off, n, (uint16_t)((off + n < len ? VRING_F_MORE : 0) | (k == 0 && o ? VRING_F_OFFLOAD : 0)),
		    k == 0 ? o : NULL);
		off += n;
		k++;
	}
	publish(tp, k);
	return k;
}

/* Receives one packet (a chain or a single slot) into out; returns its length, 0 if none. *o gets the offload word. */
static uint32_t recv_chain(struct tport *tp, uint8_t *out, uint32_t *slots, uint16_t *first_flags, struct vring_offload *o)
{
	uint32_t avail = vring_fe_avail(&tp->rx), k = 0, len = 0;

	*slots = 0;
	while (k < avail) {
		struct vring_slot *s = &tp->rx.slots[(tp->rx.head + k) & tp->rx.mask];

		if (k == 0) {
			*first_flags = s->flags;
			if (s->flags & VRING_F_OFFLOAD)
				*o = s->u.offload;
		}
		memcpy(out + len, vring_fe_buf(&tp->rx, s->buf_idx), s->len);
		len += s->len;
		k++;
		if (!(s->flags & VRING_F_MORE))
			break;
	}
	tp->rx.head = (tp->rx.head + k) & tp->rx.mask;
	vring_fe_publish_nokick(&tp->rx);
	*slots = k;
	return len;
}

static uint8_t fbuf[70000], rbuf[70000];

static const struct vring_offload TSO = { .csum_start = 34, .csum_offset = 16, .gso_size = 1448,
					  .gso_type = VRING_GSO_TCPV4, .oflags = VRING_OFL_NEEDS_CSUM };

static void t_intact(void)
{
	struct vsw *sw = tp_switch(&clk, 0);
	struct tport a, b;
	struct tport_opts o = { .slots = 256, .vlan_mode = VSW_VLAN_ACCESS, .worker = -1, .features = FEAT };
	struct vsw_port_stats st;
	struct vring_offload got = { 0 };
	uint32_t slots = 0, len;
	uint16_t ff = 0;

	CHECK_EQ(tport_open(&a, sw, 1, &o), 0);
	CHECK_EQ(tport_open(&b, sw, 2, &o), 0);
	/* b first, so the switch knows its MAC */
	frame(fbuf, 60, a.mac, b.mac, 1);
	put(&b, 0, fbuf, 60, 0, NULL);
	publish(&b, 1);
	tp_poll_all(sw);
	CHECK_EQ(tport_drain(&a), 1);
	/* a 65000-byte TSO super-frame: 32 fragments, arrives whole with its offload word */
	frame(fbuf, 65000, b.mac, a.mac, 9);
	CHECK_EQ(send_chain(&a, fbuf, 65000, &TSO), 32);
	tp_poll_all(sw);
	len = recv_chain(&b, rbuf, &slots, &ff, &got);
	CHECK_EQ(len, 65000);
	CHECK_EQ(slots, 32);
	CHECK(memcmp(fbuf, rbuf, 65000) == 0);
	CHECK_EQ(ff, VRING_F_MORE | VRING_F_OFFLOAD);
	CHECK(memcmp(&got, &TSO, sizeof(got)) == 0);
	/* a chain with an empty middle fragment is one packet too */
	frame(fbuf, 3000, b.mac, a.mac, 3);
	put(&a, 0, fbuf, 1000, VRING_F_MORE, NULL);
	put(&a, 1, fbuf, 0, VRING_F_MORE, NULL);
	put(&a, 2, fbuf + 1000, 2000, 0, NULL);
	publish(&a, 3);
	tp_poll_all(sw);
	CHECK_EQ(recv_chain(&b, rbuf, &slots, &ff, &got), 3000);
	CHECK_EQ(slots, 2); /* re-cut to the destination's 2048-byte buffers */
	CHECK(memcmp(fbuf, rbuf, 3000) == 0);
	CHECK_EQ(vsw_port_stats(sw, a.id, &st), 0);
	for (uint32_t r = 1; r < VSW_DROP_COUNT; r++)
		CHECK_EQ(st.drops[r], 0);
	CHECK(tport_canaries_ok(&a) && tport_canaries_ok(&b));
	vsw_destroy(sw);
	tport_close(&a, 0);
	tport_close(&b, 0);
}

static void t_partial_chain_waits(void)
{
	struct vsw *sw = tp_switch(&clk, 0);
	struct tport a, b;
	struct tport_opts o = { .slots = 64, .vlan_mode = VSW_VLAN_ACCESS, .worker = -1, .features = FEAT };
	struct vring_offload got;
	uint32_t slots;
	uint16_t ff;

	CHECK_EQ(tport_open(&a, sw, 1, &o), 0);
	CHECK_EQ(tport_open(&b, sw, 2, &o), 0);
	frame(fbuf, 60, a.mac, b.mac, 1);
	put(&b, 0, fbuf, 60, 0, NULL);
	publish(&b, 1);
	tp_poll_all(sw);
	tport_drain(&a);
	frame(fbuf, 4000, b.mac, a.mac, 5);
	put(&a, 0, fbuf, 2048, VRING_F_MORE, NULL);
	publish(&a, 1); /* the end is not published yet */
	tp_poll_all(sw);
	CHECK_EQ(vring_fe_avail(&b.rx), 0);
	put(&a, 0, fbuf + 2048, 4000 - 2048, 0, NULL);
	publish(&a, 1);
	tp_poll_all(sw);
	CHECK_EQ(recv_chain(&b, rbuf, &slots, &ff, &got), 4000);
	CHECK(memcmp(fbuf, rbuf, 4000) == 0);
	vsw_destroy(sw);
	tport_close(&a, 0);
	tport_close(&b, 0);
}

static void t_all_or_nothing(void)
{
	struct vsw *sw = tp_switch(&clk, 0);
	struct tport a, b;
	struct tport_opts o = { .slots = 64, .vlan_mode = VSW_VLAN_ACCESS, .worker = -1, .features = FEAT };
	struct vsw_port_stats sb;
	struct vring_offload got;
	uint32_t slots, i, whole = 0;
	uint16_t ff;

	CHECK_EQ(tport_open(&a, sw, 1, &o), 0);
	CHECK_EQ(tport_open(&b, sw, 2, &o), 0);
	frame(fbuf, 60, a.mac, b.mac, 1);
	put(&b, 0, fbuf, 60, 0, NULL);
	publish(&b, 1);
	tp_poll_all(sw);
	tport_drain(&a);
	/* lossy b: 20 single frames wait in its RX ring (43 slots free); four 12-slot chains come in one round: three fit whole */
	for (i = 0; i < 20; i++) {
		frame(fbuf, 100, b.mac, a.mac, (uint8_t)i);
		put(&a, i, fbuf, 100, 0, NULL);
	}
	publish(&a, 20);
	tp_poll_all(sw);
	for (i = 0; i < 4; i++) {
		frame(fbuf, 12 * 2048, b.mac, a.mac, (uint8_t)i);
		CHECK_EQ(send_chain(&a, fbuf, 12 * 2048, NULL), 12);
	}
	tp_poll_all(sw);
	CHECK_EQ(vring_fe_avail(&b.rx), 20 + 36);
	for (i = 0; i < 20; i++)
		CHECK_EQ(recv_chain(&b, rbuf, &slots, &ff, &got), 100);
	for (i = 0; i < 3; i++) {
		frame(fbuf, 12 * 2048, b.mac, a.mac, (uint8_t)i);
		if (recv_chain(&b, rbuf, &slots, &ff, &got) == 12 * 2048 && slots == 12 && !memcmp(fbuf, rbuf, 12 * 2048))
			whole++;
	}
	CHECK_EQ(whole, 3);
	CHECK_EQ(vsw_port_stats(sw, b.id, &sb), 0);
	CHECK_EQ(sb.drops[VSW_DROP_RING_FULL], 1);
	vsw_destroy(sw);
	tport_close(&a, 0);
	tport_close(&b, 0);
}

static void t_lossless_holds_chain(void)
{
	struct vsw *sw = tp_switch(&clk, 0);
	struct tport a, b;
	struct tport_opts o = { .slots = 64, .vlan_mode = VSW_VLAN_ACCESS, .worker = -1, .features = FEAT,
				.flags = VSW_PORT_LOSSLESS };
	struct vsw_port_stats sb;
	struct vring_offload got;
	uint32_t slots, i, got_n = 0;
	uint16_t ff;

	CHECK_EQ(tport_open(&a, sw, 1, &o), 0);
	CHECK_EQ(tport_open(&b, sw, 2, &o), 0);
	frame(fbuf, 60, a.mac, b.mac, 1);
	put(&b, 0, fbuf, 60, 0, NULL);
	publish(&b, 1);
	tp_poll_all(sw);
	tport_drain(&a);
	for (i = 0; i < 3; i++) {
		frame(fbuf, 20 * 2048, b.mac, a.mac, (uint8_t)i);
		send_chain(&a, fbuf, 20 * 2048, NULL);
	}
	tp_poll_all(sw); /* 63 free: three 20-slot chains fit; a fourth waits in a's TX ring */
	frame(fbuf, 20 * 2048, b.mac, a.mac, 3);
	send_chain(&a, fbuf, 20 * 2048, NULL);
	tp_poll_all(sw);
	CHECK_EQ(vring_fe_avail(&b.rx), 60);
	for (i = 0; i < 4; i++) {
		frame(fbuf, 20 * 2048, b.mac, a.mac, (uint8_t)i);
		if (recv_chain(&b, rbuf, &slots, &ff, &got) == 20 * 2048 && !memcmp(fbuf, rbuf, 20 * 2048))
			got_n++;
		tp_poll_all(sw);
	}
	CHECK_EQ(got_n, 4);
	CHECK_EQ(vsw_port_stats(sw, b.id, &sb), 0);
	CHECK_EQ(sb.drops[VSW_DROP_RING_FULL], 0);
	vsw_destroy(sw);
	tport_close(&a, 0);
	tport_close(&b, 0);
}

static void t_plain_port(void)
{
	struct vsw *sw = tp_switch(&clk, 0);
	struct tport a, p;
	struct tport_opts oa = { .slots = 64, .vlan_mode = VSW_VLAN_ACCESS, .worker = -1, .features = FEAT };
	struct tport_opts op = { .slots = 64, .vlan_mode = VSW_VLAN_ACCESS, .worker = -1 };
	struct vring_offload csum = { .csum_start = 34, .csum_offset = 6, .oflags = VRING_OFL_NEEDS_CSUM };
	struct vsw_port_stats sa, sp;
	uint8_t f[2048];
	uint16_t lens[4];
	uint64_t sum = 0;

	CHECK_EQ(tport_open(&a, sw, 1, &oa), 0);
	CHECK_EQ(tport_open(&p, sw, 2, &op), 0);
	frame(fbuf, 60, a.mac, p.mac, 1);
	CHECK_EQ(tport_send(&p, fbuf, 60), 1);
	tp_poll_all(sw);
	tport_drain(&a);
	/* a TSO chain whose bytes are no IPv4/TCP header cannot be segmented for p: dropped, counted "offload" on a */
	frame(fbuf, 10000, p.mac, a.mac, 2);
	send_chain(&a, fbuf, 10000, &TSO);
	/* a checksum-offload UDP datagram does, with its checksum filled in */
	frame(fbuf, 100, p.mac, a.mac, 3);
	memset(fbuf + 34 + 6, 0, 2); /* the pseudo-header sum, here 0 */
	put(&a, 0, fbuf, 100, VRING_F_OFFLOAD, &csum);
	publish(&a, 1);
	tp_poll_all(sw);
	CHECK_EQ(tport_recv(&p, f, lens, 4), 1);
	CHECK_EQ(lens[0], 100);
	CHECK_EQ(p.rx.slots[(p.rx.head - 1) & p.rx.mask].flags, 0);
	for (uint32_t i = 34; i < 100; i += 2)
		sum += (uint32_t)f[i] << 8 | f[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	CHECK_EQ(sum, 0xffff); /* the data with its checksum sums to all ones */
	CHECK_EQ(vsw_port_stats(sw, a.id, &sa), 0);
	CHECK_EQ(vsw_port_stats(sw, p.id, &sp), 0);
	CHECK_EQ(sa.drops[VSW_DROP_OFFLOAD], 1);
	for (uint32_t r = 1; r < VSW_DROP_COUNT; r++)
		CHECK_EQ(sp.drops[r], 0);
	vsw_destroy(sw);
	tport_close(&a, 0);
	tport_close(&p, 0);
}

/* ---- software segmentation (TSO super-frames to ports without offloads) ---- */

#define PAYLOAD 20001u /* odd: the last segment ends on a half word */
#define MSS 1448u
#define TCP_HL 32u /* 20 + 12 bytes of options (timestamps): the header runs past the switch's 64-byte copy */
#define TH_FIN 0x01
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_CWR 0x80

static uint32_t rd16(const uint8_t *b)
{
	return (uint32_t)b[0] << 8 | b[1];
}

static uint32_t rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The test's own checksum: RFC 1071, byte by byte, independent of the switch's. */
static uint32_t sum16(uint32_t sum, const uint8_t *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		sum += i & 1 ? b[i] : (uint32_t)b[i] << 8;
	return sum;
}

static uint32_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/*
 * A TCP super-frame dst<-src: Ethernet, IPv4 (20 bytes) or IPv6 (40), TCP
 * with options (TCP_HL), payload bytes from a pattern; flags CWR|ACK|PSH|FIN,
 * seq 0xfffff000 (wraps), IPv4 id 0xfffe (wraps), and a bogus checksum field
 * (the switch must not trust it). *o gets the offload word. Returns its length.
 */
static uint32_t tcp_super(uint8_t *f, int v6, uint32_t payload, const uint8_t dst[6], const uint8_t src[6],
			  struct vring_offload *o)
{
	uint32_t l4 = v6 ? 54 : 34, hl = l4 + TCP_HL, i;

	memset(f, 0, hl);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = v6 ? 0x86 : 0x08;
	f[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		f[14] = 0x60;
		f[18] = (uint8_t)((TCP_HL + payload) >> 8); /* as a sender would: the whole length */
		f[19] = (uint8_t)(TCP_HL + payload);
		f[20] = 6;
		f[21] = 64;
		for (i = 0; i < 32; i++)
			f[22 + i] = (uint8_t)(0xfe - i * 3); /* source and destination addresses */
	} else {
		f[14] = 0x45;
		f[18] = 0xff; /* id 0xfffe */
		f[19] = 0xfe;
		f[20] = 0x40; /* DF */
		f[22] = 64;
		f[23] = 6;
		memcpy(f + 26, (const uint8_t[]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8);
	}
	f[l4 + 0] = 0x13; /* ports 5001 -> 443 */
	f[l4 + 1] = 0x89;
	f[l4 + 2] = 0x01;
	f[l4 + 3] = 0xbb;
	memcpy(f + l4 + 4, (const uint8_t[]){ 0xff, 0xff, 0xf0, 0x00, 0x12, 0x34, 0x56, 0x78 }, 8); /* seq, ack */
	f[l4 + 12] = (uint8_t)(TCP_HL / 4) << 4;
	f[l4 + 13] = TH_CWR | TH_ACK | TH_PSH | TH_FIN;
	f[l4 + 14] = 0xff;
	f[l4 + 16] = 0xde; /* bogus */
	f[l4 + 17] = 0xad;
	memcpy(f + l4 + 20, (const uint8_t[]){ 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 }, 12); /* NOP NOP timestamps */
	for (i = 0; i < payload; i++)
		f[hl + i] = (uint8_t)(i * 13 + (i >> 8));
	*o = (struct vring_offload){ .csum_start = (uint16_t)l4, .csum_offset = 16, .gso_size = MSS,
				     .gso_type = v6 ? VRING_GSO_TCPV6 : VRING_GSO_TCPV4, .oflags = VRING_OFL_NEEDS_CSUM };
	return hl + payload;
}

/*
 * Receives the segments of super-frame sf (length sflen) at port p and checks
 * each against an independent reading: length, IP lengths, IPv4 id and header
 * checksum, TCP seq, flags and checksum, the rest of the header unchanged;
 * the payloads concatenated equal sf's. Returns the segments that passed.
 */
static uint32_t check_segments(struct tport *p, const uint8_t *sf, uint32_t sflen, int v6)
{
	static uint8_t bufs[64 * 2048], cat[PAYLOAD];
	uint16_t lens[64];
	uint32_t l4 = v6 ? 54 : 34, hl = l4 + TCP_HL, payload = sflen - hl, nseg = (payload + MSS - 1) / MSS;
	uint32_t n = tport_recv(p, bufs, lens, 64), k, ok = 0, at = 0;

	CHECK_EQ(n, nseg);
	for (k = 0; k < n; k++) {
		const uint8_t *g = bufs + (uint64_t)k * 2048;
		uint32_t plen = payload - k * MSS < MSS ? payload - k * MSS : MSS, tl = TCP_HL + plen, sum, good = 1;
		uint8_t want_fl = TH_ACK | (k == 0 ? TH_CWR : 0) | (k + 1 == n ? TH_PSH | TH_FIN : 0);

		good &= lens[k] == hl + plen;
		good &= memcmp(g, sf, 14) == 0; /* Ethernet */
		if (v6) {
			good &= rd16(g + 18) == tl;
			good &= memcmp(g + 14, sf + 14, 4) == 0 && memcmp(g + 20, sf + 20, 34) == 0;
			sum = sum16(0, g + 22, 32);
		} else {
			good &= rd16(g + 16) == 20 + tl;
			good &= rd16(g + 18) == ((0xfffe + k) & 0xffff);
			good &= fold(sum16(0, g + 14, 20)) == 0xffff; /* header checksum valid */
			good &= memcmp(g + 14, sf + 14, 2) == 0 && memcmp(g + 20, sf + 20, 4) == 0 && memcmp(g + 26, sf + 26, 8) == 0;
			sum = sum16(0, g + 26, 8);
		}
		sum = fold(sum16(sum + 6 + tl, g + l4, tl)); /* pseudo-header + TCP header + payload */
		good &= sum == 0xffff;
		good &= rd32(g + l4 + 4) == 0xfffff000u + k * MSS;
		good &= g[l4 + 13] == want_fl;
		good &= memcmp(g + l4, sf + l4, 4) == 0 && memcmp(g + l4 + 8, sf + l4 + 8, 5) == 0 &&
			memcmp(g + l4 + 14, sf + l4 + 14, 2) == 0 && memcmp(g + l4 + 18, sf + l4 + 18, TCP_HL - 18) == 0;
		if (at + plen <= sizeof(cat))
			memcpy(cat + at, g + hl, plen);
		at += plen;
		if (good)
			ok++;
		else
			printf("# segment %u of %u wrong\n", k, n);
	}
	CHECK_EQ(at, payload);
	CHECK(memcmp(cat, sf + hl, payload) == 0);
	return ok;
}

/* Ports a (offloads) and p (none, opts op); p's MAC learned. */
static struct vsw *gso_pair(struct tport *a, struct tport *p, const struct tport_opts *op)
{
	struct vsw *sw = tp_switch(&clk, 0);
	struct tport_opts oa = { .slots = 256, .vlan_mode = VSW_VLAN_ACCESS, .worker = -1, .features = FEAT };

	CHECK_EQ(tport_open(a, sw, 1, &oa), 0);
	CHECK_EQ(tport_open(p, sw, 2, op), 0);
	frame(fbuf, 60, a->mac, p->mac, 1);
	CHECK_EQ(tport_send(p, fbuf, 60), 1);
	tp_poll_all(sw);
	CHECK_EQ(tport_drain(a), 1);
	return sw;
}

static void t_gso_segments(void)
{
	struct tport a, p;
	struct tport_opts op = { .slots = 64, .vlan_mode = VSW_VLAN_ACCESS, .worker = -1 };
	struct vsw *sw = gso_pair(&a, &p, &op);
	struct vsw_port_stats sa, sp;
	struct vring_offload o;
	uint32_t len, v6, nseg = (PAYLOAD + MSS - 1) / MSS;

	for (v6 = 0; v6 < 2; v6++) {
		len = tcp_super(fbuf, (int)v6, PAYLOAD, p.mac, a.mac, &o);
		CHECK_EQ(send_chain(&a, fbuf, len, &o), (len + 2047) / 2048);
		tp_poll_all(sw);
		CHECK_EQ(check_segments(&p, fbuf, len, (int)v6), nseg);
	}
	/* payload that fits one segment: one frame, all flags kept */
	len = tcp_super(fbuf, 0, 999, p.mac, a.mac, &o);
	put(&a, 0, fbuf, (uint16_t)len, VRING_F_OFFLOAD, &o);
	publish(&a, 1);
	tp_poll_all(sw);
	CHECK_EQ(check_segments(&p, fbuf, len, 0), 1);
	CHECK_EQ(vsw_port_stats(sw, a.id, &sa), 0);
	CHECK_EQ(vsw_port_stats(sw, p.id, &sp), 0);
	CHECK_EQ(sp.gso_segments, 2 * nseg + 1);
	CHECK_EQ(sp.out_packets, 3); /* a super-frame counts once (fwd_pairs = out_packets + drops) */
	CHECK_EQ(sa.fwd_pairs, 3);
	for (uint32_t r = 1; r < VSW_DROP_COUNT; r++)
		CHECK_EQ(sa.drops[r] + sp.drops[r], 0);
	CHECK(tport_canaries_ok(&a) && tport_canaries_ok(&p));
	vsw_destroy(sw);
	tport_close(&a, 0);
	tport_close(&p, 0);
}

/* Fills p's RX ring with n small frames from a (p is not draining). */
static void fill_rx(struct vsw *sw, struct tport *a, struct tport *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		frame(fbuf, 100, p->mac, a->mac, (uint8_t)i);
		put(a, i, fbuf, 100, 0, NULL);
	}
	publish(a, n);
	tp_poll_all(sw);
	CHECK_EQ(vring_fe_avail(&p->rx), n);
}

static void t_gso_lossy_full(void)
{
	struct tport a, p;
	struct tport_opts op = { .slots = 64, .vlan_mode = VSW_VLAN_ACCESS, .worker = -1 };
	struct vsw *sw = gso_pair(&a, &p, &op);
	struct vsw_port_stats sp;
	struct vring_offload o;
	uint32_t len;

	fill_rx(sw, &a, &p, 55); /* 8 slots free, the super-frame needs 14 */
	len = tcp_super(fbuf, 0, PAYLOAD, p.mac, a.mac, &o);
	send_chain(&a, fbuf, len, &o);
	tp_poll_all(sw);
	CHECK_EQ(vring_fe_avail(&p.rx), 55); /* not one segment of it */
	CHECK_EQ(vring_fe_avail(&a.tx), 255); /* consumed */
	CHECK_EQ(vsw_port_stats(sw, p.id, &sp), 0);
	CHECK_EQ(sp.drops[VSW_DROP_RING_FULL], 1); /* the super-frame, once */
	CHECK_EQ(sp.gso_segments, 0);
	CHECK_EQ(tport_drain(&p), 55);
	/* and with room it arrives */
	send_chain(&a, fbuf, len, &o);
	tp_poll_all(sw);
	CHECK_EQ(check_segments(&p, fbuf, len, 0), (PAYLOAD + MSS - 1) / MSS);
	vsw_destroy(sw);
	tport_close(&a, 0);
	tport_close(&p, 0);
}

static void t_gso_lossless_holds(void)
{
	struct tport a, p;
	struct tport_opts op = { .slots = 64, .vlan_mode = VSW_VLAN_ACCESS, .worker = -1, .flags = VSW_PORT_LOSSLESS };
	struct vsw *sw = gso_pair(&a, &p, &op);
	struct vsw_port_stats sa, sp;
	struct vring_offload o;
	uint32_t len;

	fill_rx(sw, &a, &p, 55);
	len = tcp_super(fbuf, 1, PAYLOAD, p.mac, a.mac, &o);
	send_chain(&a, fbuf, len, &o);
	tp_poll_all(sw);
	CHECK_EQ(vring_fe_avail(&p.rx), 55);
	CHECK(vring_fe_avail(&a.tx) < 255); /* held in a's TX ring */
	CHECK_EQ(vsw_port_stats(sw, a.id, &sa), 0);
	CHECK(sa.held >= 1);
	CHECK_EQ(tport_drain(&p), 55);
	tp_poll_all(sw);
	CHECK_EQ(check_segments(&p, fbuf, len, 1), (PAYLOAD + MSS - 1) / MSS);
	CHECK_EQ(vsw_port_stats(sw, p.id, &sp), 0);
	CHECK_EQ(sp.drops[VSW_DROP_RING_FULL], 0);
	CHECK_EQ(sp.gso_segments, (PAYLOAD + MSS - 1) / MSS);
	vsw_destroy(sw);
	tport_close(&a, 0);
	tport_close(&p, 0);
}

/* Super-frames the switch cannot segment for p: dropped whole, counted "offload" on the sender; nothing leaks. */
static void t_gso_refused(void)
{
	struct tport a, p, b;
	struct tport_opts op = { .slots = 64, .vlan_mode = VSW_VLAN_ACCESS, .worker = -1 };
	struct tport_opts ob = { .slots = 256, .vlan_mode = VSW_VLAN_ACCESS, .worker = -1, .features = FEAT };
	struct vsw *sw = gso_pair(&a, &p, &op);
	struct vsw_port_stats sa, sp;
	struct vring_offload o, got;
	uint32_t len, cases = 0, slots;
	uint16_t ff;

	CHECK_EQ(tport_open(&b, sw, 3, &ob), 0);
	frame(fbuf, 60, a.mac, b.mac, 1);
	put(&b, 0, fbuf, 60, 0, NULL);
	publish(&b, 1);
	tp_poll_all(sw);
	CHECK_EQ(tport_drain(&a), 1);
	CHECK_EQ(tport_drain(&p), 1); /* flooded: a's MAC was not learned then */
#define GSO_BAD(v6, stmt)                                          \
	do {                                                       \
		len = tcp_super(fbuf, v6, PAYLOAD, p.mac, a.mac, &o); \
		stmt;                                              \
		send_chain(&a, fbuf, len, &o);                     \
		cases++;                                           \
	} while (0)
	GSO_BAD(0, o.gso_size = 2000);               /* header + gso_size beyond p's 2048-byte buffers */
	GSO_BAD(0, o.gso_size = 16);                 /* 1250 segments: more than half p's ring */
	GSO_BAD(0, fbuf[14] = 0x46);                 /* IHL says 24, csum_start says 20 */
	GSO_BAD(0, fbuf[14] = 0x55);                 /* not IPv4 */
	GSO_BAD(0, fbuf[23] = 17);                   /* protocol UDP */
	GSO_BAD(0, fbuf[20] = 0x20);                 /* IPv4 fragment (MF) */
	GSO_BAD(0, fbuf[34 + 12] = 0x40);            /* TCP data offset 4 */
	GSO_BAD(1, fbuf[20] = 0);                    /* IPv6 hop-by-hop header: not segmented */
	GSO_BAD(1, o.csum_start = 62);               /* IPv6 extension header before TCP */
	GSO_BAD(0, o.gso_type = VRING_GSO_UDP_L4; o.csum_offset = 6); /* UDP segmentation: not in the switch */
#undef GSO_BAD
	/* a TCP data offset of 15 whose header would run past a 60-byte frame */
	len = tcp_super(fbuf, 0, 0, p.mac, a.mac, &o);
	fbuf[34 + 12] = 0xf0;
	put(&a, 0, fbuf, 60, VRING_F_OFFLOAD, &o);
	publish(&a, 1);
	cases++;
	tp_poll_all(sw);
	CHECK_EQ(vring_fe_avail(&p.rx), 0);
	CHECK_EQ(vsw_port_stats(sw, a.id, &sa), 0);
	CHECK_EQ(vsw_port_stats(sw, p.id, &sp), 0);
	CHECK_EQ(sa.drops[VSW_DROP_OFFLOAD], cases);
	CHECK_EQ(sp.gso_segments, 0);
	/* the same unsegmentable super-frame (IPv6 extension header) still reaches a port with offloads, whole */
	len = tcp_super(fbuf, 1, PAYLOAD, b.mac, a.mac, &o);
	fbuf[20] = 0;
	send_chain(&a, fbuf, len, &o);
	tp_poll_all(sw);
	CHECK_EQ(recv_chain(&b, rbuf, &slots, &ff, &got), len);
	CHECK(memcmp(rbuf, fbuf, len) == 0);
	CHECK(tport_canaries_ok(&a) && tport_canaries_ok(&p) && tport_canaries_ok(&b));
	vsw_destroy(sw);
	tport_close(&a, 0);
	tport_close(&p, 0);
	tport_close(&b, 0);
}

/* Every malformed field, each on its own packet from hostile port h: dropped whole, counted on h only. */
static void t_malformed(void)
{
	struct vsw *sw = tp_switch(&clk, 0);
	struct tport h, b, plain;
	struct tport_opts o = { .slots = 256, .vlan_mode = VSW_VLAN_ACCESS, .worker = -1, .features = FEAT };
	struct tport_opts op = { .slots = 64, .vlan_mode = VSW_VLAN_ACCESS, .worker = -1 };
	struct vsw_port_stats sh, sb;
	struct vring_offload bad;
	uint64_t total = 0;
	uint32_t i, k, cases = 0;

	CHECK_EQ(tport_open(&h, sw, 1, &o), 0);
	CHECK_EQ(tport_open(&b, sw, 2, &o), 0);
	CHECK_EQ(tport_open(&plain, sw, 3, &op), 0);
	frame(fbuf, 60, h.mac, b.mac, 1);
	put(&b, 0, fbuf, 60, 0, NULL);
	publish(&b, 1);
	tp_poll_all(sw);
	tport_drain(&h);
	frame(fbuf, 9000, b.mac, h.mac, 4);

#define OFL_CASE(field, value)                                   \
	do {                                                     \
		bad = TSO;                                       \
		bad.field = value;                               \
		send_chain(&h, fbuf, 9000, &bad);                \
		cases++;                                         \
	} while (0)
	OFL_CASE(csum_start, 9000 - 16 - 1);  /* csum_start + csum_offset + 2 > length */
	OFL_CASE(csum_offset, 9000);          /* the same through the offset */
	OFL_CASE(csum_offset, 6);             /* TCP GSO with a UDP checksum offset */
	OFL_CASE(csum_start, 20);             /* inside the Ethernet/IP header */
	OFL_CASE(gso_size, 8);                /* below VRING_GSO_SIZE_MIN */
	OFL_CASE(gso_size, 60000);            /* above VRING_GSO_SIZE_MAX */
	OFL_CASE(gso_type, 9);                /* unknown type */
	OFL_CASE(gso_type, VRING_GSO_TCPV6);  /* v6 type on an IPv4 frame */
	OFL_CASE(oflags, 0x80);               /* unknown flag */
	OFL_CASE(oflags, 0);                  /* GSO without the checksum */
#undef OFL_CASE
	/* fragments: a bad buf_idx in the middle, a too-long one, the offload flag on a later fragment */
	for (k = 0; k < 3; k++) {
		send_chain(&h, fbuf, 9000, NULL);
		struct vring_slot *s = &h.tx.slots[(h.tx.head - 3) & h.tx.mask];
		if (k == 0)
			s->buf_idx = 1u << 30;
		else if (k == 1)
			s->len = 4000;
		else
			s->flags |= VRING_F_OFFLOAD;
		cases++;
	}
	/* a chain with no end within VSW_CHAIN_MAX (64) slots: 70 slots all with MORE, then one without
	 * (10 bytes each: what follows the first 64 is a chain too short for an Ethernet header) */
	for (i = 0; i < 70; i++)
		put(&h, i, fbuf, 10, VRING_F_MORE, NULL);
	put(&h, 70, fbuf, 10, 0, NULL);
	publish(&h, 71);
	cases++;
	tp_poll_all(sw);
	CHECK_EQ(vring_fe_avail(&b.rx), 0); /* nothing malformed arrived */
	/* a chain from a port that did not negotiate chains (its second slot then stands alone: it may flood) */
	frame(fbuf, 4000, b.mac, plain.mac, 4);
	put(&plain, 0, fbuf, 2048, VRING_F_MORE, NULL);
	put(&plain, 1, fbuf + 2048, 4000 - 2048, 0, NULL);
	publish(&plain, 2);
	tp_poll_all(sw);
	CHECK_EQ(vsw_port_stats(sw, h.id, &sh), 0);
	CHECK_EQ(vsw_port_stats(sw, b.id, &sb), 0);
	for (i = 1; i < VSW_DROP_COUNT; i++) {
		if (sh.drops[i])
			printf("# h %s: %llu\n", vsw_drop_name(i), (unsigned long long)sh.drops[i]);
		total += sh.drops[i];
		CHECK_EQ(sb.drops[i], 0);
	}
	CHECK_EQ(sh.drops[VSW_DROP_OFFLOAD], 10);
	CHECK_EQ(sh.drops[VSW_DROP_BUF_IDX], 1);
	CHECK_EQ(sh.drops[VSW_DROP_LEN_LONG], 1);
	CHECK(total >= cases);   /* each chain counted once; the overlong one may split in two */
	CHECK_EQ(vsw_port_stats(sw, plain.id, &sb), 0);
	CHECK(sb.drops[VSW_DROP_FLAGS] >= 1);
	CHECK(tport_canaries_ok(&h) && tport_canaries_ok(&b));
	vsw_destroy(sw);
	tport_close(&h, 0);
	tport_close(&b, 0);
	tport_close(&plain, 0);
}

int main(void)
{
	tap_run("a 32-fragment TSO chain arrives whole, re-cut, with its offload word", t_intact);
	tap_run("a chain whose end is not published waits for it", t_partial_chain_waits);
	tap_run("a lossy destination gets whole chains only (all-or-nothing), the rest counted ring-full", t_all_or_nothing);
	tap_run("a lossless destination holds a chain that does not fit until it fits", t_lossless_holds_chain);
	tap_run("a port without offloads: an unsegmentable GSO frame dropped as offload, checksum filled in", t_plain_port);
	tap_run("TCPv4 and TCPv6 super-frames reach a port without offloads as MSS segments: lengths, ids, seq, flags, checksums",
		t_gso_segments);
	tap_run("a super-frame whose segments do not fit a lossy ring is dropped whole, counted ring_full once", t_gso_lossy_full);
	tap_run("a lossless port without offloads holds a super-frame until all its segments fit", t_gso_lossless_holds);
	tap_run("super-frames the switch cannot segment are dropped as offload on the sender, still whole to offload ports",
		t_gso_refused);
	tap_run("every malformed offload field and fragment drops the whole chain, counted on the hostile port only",
		t_malformed);
	return tap_done();
}
