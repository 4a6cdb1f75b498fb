/* SPDX-License-Identifier: MIT */
/*
 * test-vlan-offload.c - offload packets (checksum-partial, TSO super-frames)
 * across a VLAN tag change (standalone C, ASan + UBSan; one thread,
 * vsw_poll_once(), manual clock).
 *
 * Ports, all on VLAN 10: A (access, VRING_FEAT_CHAIN | VRING_FEAT_OFFLOAD:
 * a Linux guest), P (access, no features: a minios guest), T (trunk,
 * chains and offloads), U (trunk, no features: an uplink or VXLAN port),
 * and per case a few more. Every expectation is computed here, from the
 * frame the guest sent: the frame after the tag change (retag()), the
 * offload word with csum_start moved by 4, and every checksum summed byte
 * by byte (sum16()), independently of the switch's code.
 */
#include <string.h>

#include "harness.h"
#include "vpio/tap.h"

#define NS 1000000000ull
#define FEAT (VRING_FEAT_CHAIN | VRING_FEAT_OFFLOAD)
#define VID 10u
#define PCP 5u
#define PAYLOAD 20001u /* odd: the last segment ends on a half word */
#define MSS 1448u
#define TCP_HL 32u

static uint64_t clk;
static const uint16_t vids[] = { VID, 20 };

static struct tport_opts access_opts(uint32_t features)
{
	return (struct tport_opts){ .slots = 256, .vlan_mode = VSW_VLAN_ACCESS, .access_vid = VID, .worker = -1,
				    .features = features };
}

static struct tport_opts trunk_opts(uint32_t features, uint16_t native)
{
	return (struct tport_opts){ .slots = 256, .vlan_mode = VSW_VLAN_TRUNK, .native_vid = native, .trunk_vids = vids,
				    .n_trunk_vids = 2, .worker = -1, .features = features };
}

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

/* Sends f[0, len) as one slot or a chain of 2048-byte fragments; returns the slots used. */
static uint32_t send_pkt(struct tport *tp, const uint8_t *f, uint32_t len, const struct vring_offload *o)
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

/* Receives one packet (a chain or a single slot) into out; returns its length, 0 if none. */
static uint32_t recv_pkt(struct tport *tp, uint8_t *out, uint32_t *slots, uint16_t *first_flags, struct vring_offload *o)
{
	uint32_t avail = vring_fe_avail(&tp->rx), k = 0, len = 0;

	*slots = 0;
	*first_flags = 0;
	memset(o, 0, sizeof(*o));
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

static uint32_t rd16(const uint8_t *b)
{
	return (uint32_t)b[0] << 8 | b[1];
}

static uint32_t rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The test's own checksum: RFC 1071, byte by byte from b (b[0] the high byte of the first word). */
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

enum kind { TCP4, TCP6, UDP4, UDP6 };

/* Ethernet header length of frame f: 18 when it carries an 802.1Q tag. */
static uint32_t l2of(const uint8_t *f)
{
	return rd16(f + 12) == 0x8100 ? 18 : 14;
}

/* The pseudo-header sum (unfolded, without the L4 length) of the IP header at f + l3. */
static uint32_t pseudo(const uint8_t *f, uint32_t l3, uint32_t proto)
{
	return f[l3] >> 4 == 4 ? sum16(proto, f + l3 + 12, 8) : sum16(proto, f + l3 + 8, 32);
}

/*
 * A frame dst<-src, tagged with VID|PCP when tagged: Ethernet, IPv4 (20
 * bytes) or IPv6 (40), then TCP with options (TCP_HL) or UDP (8), payload
 * bytes from a pattern. gso: a TSO super-frame (TCP only: flags
 * CWR|ACK|PSH|FIN, seq 0xfffff000, IPv4 id 0xfffe, a bogus checksum field);
 * else a checksum-partial packet whose checksum field holds the
 * pseudo-header sum, as Linux sends it. *o gets the offload word.
 */
static uint32_t mkframe(uint8_t *f, int tagged, enum kind kd, int gso, uint32_t payload, const uint8_t dst[6],
			const uint8_t src[6], struct vring_offload *o)
{
	int v6 = kd == TCP6 || kd == UDP6, tcp = kd == TCP4 || kd == TCP6;
	uint32_t l2 = tagged ? 18 : 14, l3 = l2, l4 = l3 + (v6 ? 40 : 20), th = tcp ? TCP_HL : 8, hl = l4 + th, i;
	uint32_t ipl = th + payload;

	memset(f, 0, hl);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	if (tagged) {
		f[12] = 0x81;
		f[14] = (uint8_t)(PCP << 5 | VID >> 8);
		f[15] = (uint8_t)VID;
	}
	f[l2 - 2] = v6 ? 0x86 : 0x08;
	f[l2 - 1] = v6 ? 0xdd : 0x00;
	if (v6) {
		f[l3] = 0x60;
		f[l3 + 4] = (uint8_t)(ipl >> 8);
		f[l3 + 5] = (uint8_t)ipl;
		f[l3 + 6] = tcp ? 6 : 17;
		f[l3 + 7] = 64;
		for (i = 0; i < 32; i++)
			f[l3 + 8 + i] = (uint8_t)(0xfe - i * 3);
	} else {
		f[l3] = 0x45;
		f[l3 + 2] = (uint8_t)((20 + ipl) >> 8);
		f[l3 + 3] = (uint8_t)(20 + ipl);
		f[l3 + 4] = 0xff; /* id 0xfffe */
		f[l3 + 5] = 0xfe;
		f[l3 + 6] = 0x40; /* DF */
		f[l3 + 8] = 64;
		f[l3 + 9] = tcp ? 6 : 17;
		memcpy(f + l3 + 12, (const uint8_t[]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8);
		f[l3 + 10] = 0; /* the header checksum, filled below */
		i = ~fold(sum16(0, f + l3, 20)) & 0xffff;
		f[l3 + 10] = (uint8_t)(i >> 8);
		f[l3 + 11] = (uint8_t)i;
	}
	f[l4 + 0] = 0x13; /* ports 5001 -> 443 */
	f[l4 + 1] = 0x89;
	f[l4 + 2] = 0x01;
	f[l4 + 3] = 0xbb;
	if (tcp) {
		memcpy(f + l4 + 4, (const uint8_t[]){ 0xff, 0xff, 0xf0, 0x00, 0x12, 0x34, 0x56, 0x78 }, 8); /* seq, ack */
		f[l4 + 12] = (uint8_t)(TCP_HL / 4) << 4;
		f[l4 + 13] = gso ? 0x80 | 0x10 | 0x08 | 0x01 : 0x10 | 0x08;
		f[l4 + 14] = 0xff;
		memcpy(f + l4 + 20, (const uint8_t[]){ 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 }, 12);
	} else {
		f[l4 + 4] = (uint8_t)(ipl >> 8);
		f[l4 + 5] = (uint8_t)ipl;
	}
	for (i = 0; i < payload; i++)
		f[hl + i] = (uint8_t)(i * 13 + (i >> 8));
	i = gso ? 0xdead : fold(pseudo(f, l3, tcp ? 6 : 17) + ipl);
	f[l4 + (tcp ? 16 : 6)] = (uint8_t)(i >> 8);
	f[l4 + (tcp ? 17 : 7)] = (uint8_t)i;
	*o = (struct vring_offload){ .csum_start = (uint16_t)l4, .csum_offset = tcp ? 16 : 6, .oflags = VRING_OFL_NEEDS_CSUM };
	if (gso) {
		o->gso_size = MSS;
		o->gso_type = v6 ? VRING_GSO_TCPV6 : VRING_GSO_TCPV4;
	}
	return hl + payload;
}

/* Frame f (len bytes) as a port with tag tag_out (0 or 4) should receive it: the tag pushed, kept or popped. */
static uint32_t retag(uint8_t *out, const uint8_t *f, uint32_t len, uint32_t tag_out)
{
	uint32_t tin = l2of(f) - 14, o = 12;

	memcpy(out, f, 12);
	if (tag_out) {
		out[12] = 0x81;
		out[13] = 0x00;
		out[14] = (uint8_t)((tin ? f[14] & 0xe0 : 0) | VID >> 8);
		out[15] = (uint8_t)VID;
		o = 16;
	}
	memcpy(out + o, f + 12 + tin, len - 12 - tin);
	return len - tin + tag_out;
}

static uint8_t fbuf[70000], want[70000], rbuf[70000];

/* The ports of a case, with every MAC learned (each sends one frame first). */
struct lab {
	struct vsw *sw;
	struct tport p[6];
	uint32_t n;
};

static void lab_open(struct lab *l, const struct tport_opts *opts, uint32_t n)
{
	uint32_t i;

	l->sw = tp_switch(&clk, 0);
	l->n = n;
	for (i = 0; i < n; i++)
		CHECK_EQ(tport_open(&l->p[i], l->sw, i + 1, &opts[i]), 0);
	for (i = 0; i < n; i++) {
		uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
		uint32_t len = tp_frame(fbuf, bc, l->p[i].mac, opts[i].vlan_mode == VSW_VLAN_TRUNK && !opts[i].native_vid ? (int)VID : -1,
					0, 0, 64);

		CHECK_EQ(tport_send(&l->p[i], fbuf, (uint16_t)len), 1);
		tp_poll_all(l->sw);
	}
	for (i = 0; i < n; i++)
		tport_drain(&l->p[i]);
}

static void lab_close(struct lab *l)
{
	uint32_t i;

	for (i = 0; i < l->n; i++)
		CHECK(tport_canaries_ok(&l->p[i]));
	vsw_destroy(l->sw);
	for (i = 0; i < l->n; i++)
		tport_close(&l->p[i], 0);
}

static void stats(struct lab *l, uint32_t i, struct vsw_port_stats *s)
{
	CHECK_EQ(vsw_port_stats(l->sw, l->p[i].id, s), 0);
}

/* No drop of any reason on port i. */
static void no_drops(struct lab *l, uint32_t i)
{
	struct vsw_port_stats s;

	stats(l, i, &s);
	for (uint32_t r = 1; r < VSW_DROP_COUNT; r++) {
		if (s.drops[r])
			printf("# port %u %s: %llu\n", i, vsw_drop_name(r), (unsigned long long)s.drops[r]);
		CHECK_EQ(s.drops[r], 0);
	}
}

/*
 * A port with offloads receives frame f across a tag change: one packet of
 * the retagged bytes (tag_out), the offload word with csum_start moved by
 * the change and the rest as sent, re-cut into 2048-byte slots.
 */
static void expect_ofl(struct tport *d, const uint8_t *f, uint32_t len, const struct vring_offload *o, uint32_t tag_out)
{
	uint32_t wl = retag(want, f, len, tag_out), slots, got;
	int32_t delta = (int32_t)tag_out - (int32_t)(l2of(f) - 14);
	struct vring_offload ro;
	uint16_t ff;

	got = recv_pkt(d, rbuf, &slots, &ff, &ro);
	CHECK_EQ(got, wl);
	CHECK(memcmp(rbuf, want, wl) == 0);
	CHECK_EQ(slots, (wl + 2047) / 2048);
	CHECK(ff & VRING_F_OFFLOAD);
	CHECK_EQ(ro.csum_start, (uint32_t)((int32_t)o->csum_start + delta));
	CHECK_EQ(ro.csum_offset, o->csum_offset);
	CHECK_EQ(ro.gso_size, o->gso_size);
	CHECK_EQ(ro.gso_type, o->gso_type);
	CHECK_EQ(ro.oflags, o->oflags);
	if (tag_out) /* the tag: VID 10, the source tag's PCP or 0 */
		CHECK_EQ(rd16(rbuf + 14), (l2of(f) == 18 ? PCP << 13 : 0) | VID);
	else
		CHECK(rd16(rbuf + 12) != 0x8100);
}

/*
 * A port without offloads receives checksum-partial frame f across a tag
 * change: one frame (slots: its chain length at 2048 bytes per slot), the
 * retagged bytes with the checksum field the only difference, and that
 * checksum right: over the pseudo-header and the L4 bytes as received.
 */
static void expect_filled(struct tport *d, const uint8_t *f, uint32_t len, const struct vring_offload *o, uint32_t tag_out)
{
	uint32_t wl = retag(want, f, len, tag_out), slots, got, l3 = 14 + tag_out;
	uint32_t cs = o->csum_start - (l2of(f) - 14) + tag_out, cf = cs + o->csum_offset;
	struct vring_offload ro;
	uint16_t ff;

	got = recv_pkt(d, rbuf, &slots, &ff, &ro);
	CHECK_EQ(got, wl);
	CHECK_EQ(slots, (wl + 2047) / 2048);
	CHECK_EQ(ff & VRING_F_OFFLOAD, 0);
	CHECK(memcmp(rbuf, want, cf) == 0 && memcmp(rbuf + cf + 2, want + cf + 2, wl - cf - 2) == 0);
	if (o->csum_start == 34 || o->csum_start == 38 || o->csum_start == 54 || o->csum_start == 58) {
		/* a real L4 header: pseudo-header + L4 length + L4 bytes sum to all ones */
		uint32_t proto = o->csum_offset == 16 ? 6 : 17;

		CHECK_EQ(fold(sum16(pseudo(rbuf, l3, proto) + (wl - cs), rbuf + cs, wl - cs)), 0xffff);
	} else {
		/* any other range: the seed the sender left in the field + the bytes from csum_start on: all ones */
		CHECK_EQ(fold(rd16(want + cf) + sum16(0, rbuf + cs, wl - cs)), 0xffff);
	}
	if (tag_out)
		CHECK_EQ(rd16(rbuf + 14), (l2of(f) == 18 ? PCP << 13 : 0) | VID);
	else
		CHECK(rd16(rbuf + 12) != 0x8100);
}

/*
 * A port without offloads receives TSO super-frame f (len bytes) across a
 * tag change as MSS segments, each checked against an independent reading
 * of the retagged super-frame: length, tag, IP lengths, IPv4 id and header
 * checksum, TCP seq, flags and checksum; the payloads concatenated equal
 * f's. Returns the segments that passed.
 */
static uint32_t expect_segments(struct tport *p, const uint8_t *f, uint32_t len, uint32_t tag_out)
{
	static uint8_t bufs[64 * 2048], cat[PAYLOAD];
	uint16_t lens[64];
	uint32_t sl = retag(want, f, len, tag_out), l3 = 14 + tag_out, v6 = want[l3] >> 4 == 6;
	uint32_t l4 = l3 + (v6 ? 40 : 20), hl = l4 + TCP_HL, payload = sl - hl, nseg = (payload + MSS - 1) / MSS;
	uint32_t n = tport_recv(p, bufs, lens, 64), k, ok = 0, at = 0;

	CHECK_EQ(n, nseg);
	for (k = 0; k < n; k++) {
		const uint8_t *g = bufs + (uint64_t)k * 2048;
		uint32_t plen = payload - k * MSS < MSS ? payload - k * MSS : MSS, tl = TCP_HL + plen, good = 1;
		uint8_t want_fl = 0x10 | (k == 0 ? 0x80 : 0) | (k + 1 == n ? 0x08 | 0x01 : 0);

		good &= lens[k] == hl + plen;
		good &= memcmp(g, want, l3) == 0; /* MACs, tag (or none), EtherType */
		if (tag_out)
			good &= rd16(g + 12) == 0x8100 && rd16(g + 14) == ((l2of(f) == 18 ? PCP << 13 : 0) | VID);
		else
			good &= rd16(g + 12) != 0x8100;
		if (v6) {
			good &= rd16(g + l3 + 4) == tl;
			good &= memcmp(g + l3, want + l3, 4) == 0 && memcmp(g + l3 + 6, want + l3 + 6, 34) == 0;
		} else {
			good &= rd16(g + l3 + 2) == 20 + tl;
			good &= rd16(g + l3 + 4) == ((0xfffe + k) & 0xffff);
			good &= fold(sum16(0, g + l3, 20)) == 0xffff;
			good &= memcmp(g + l3 + 12, want + l3 + 12, 8) == 0;
		}
		good &= fold(sum16(pseudo(g, l3, 6) + tl, g + l4, tl)) == 0xffff;
		good &= rd32(g + l4 + 4) == 0xfffff000u + k * MSS;
		good &= g[l4 + 13] == want_fl;
		good &= memcmp(g + l4 + 18, want + l4 + 18, TCP_HL - 18) == 0;
		if (at + plen <= sizeof(cat))
			memcpy(cat + at, g + hl, plen);
		at += plen;
		if (good)
			ok++;
		else
			printf("# segment %u of %u wrong\n", k, n);
	}
	CHECK_EQ(at, payload);
	CHECK(memcmp(cat, want + hl, payload) == 0);
	return ok;
}

/* Access (A, offloads) -> trunk with offloads (T): tag pushed, csum_start + 4, chains re-cut. */
static void t_push_ofl(void)
{
	struct tport_opts opts[2] = { access_opts(FEAT), trunk_opts(FEAT, 0) };
	struct lab l;
	struct vsw_port_stats st;
	struct vring_offload o;
	uint32_t len, npk = 0;
	enum kind kd;

	lab_open(&l, opts, 2);
	for (kd = TCP4; kd <= UDP6; kd++) { /* checksum-partial, one slot */
		len = mkframe(fbuf, 0, kd, 0, 999, l.p[1].mac, l.p[0].mac, &o);
		send_pkt(&l.p[0], fbuf, len, &o);
		tp_poll_all(l.sw);
		expect_ofl(&l.p[1], fbuf, len, &o, 4);
		npk++;
	}
	for (kd = TCP4; kd <= TCP6; kd++) { /* TSO chains */
		len = mkframe(fbuf, 0, kd, 1, PAYLOAD, l.p[1].mac, l.p[0].mac, &o);
		CHECK_EQ(send_pkt(&l.p[0], fbuf, len, &o), (len + 2047) / 2048);
		tp_poll_all(l.sw);
		expect_ofl(&l.p[1], fbuf, len, &o, 4);
		npk++;
	}
	/* a TSO frame of 2046 bytes: one source slot, two once tagged */
	len = mkframe(fbuf, 0, TCP4, 1, 2046 - 66, l.p[1].mac, l.p[0].mac, &o);
	CHECK_EQ(send_pkt(&l.p[0], fbuf, len, &o), 1);
	tp_poll_all(l.sw);
	expect_ofl(&l.p[1], fbuf, len, &o, 4);
	npk++;
	CHECK_EQ(vring_fe_avail(&l.p[1].rx), 0);
	stats(&l, 1, &st);
	CHECK_EQ(st.out_packets, npk + 1); /* + the learning broadcast */
	no_drops(&l, 0);
	no_drops(&l, 1);
	lab_close(&l);
}

/* Trunk with offloads (T, tagged frames) -> access with offloads (A): tag popped, csum_start - 4. */
static void t_pop_ofl(void)
{
	struct tport_opts opts[2] = { access_opts(FEAT), trunk_opts(FEAT, 0) };
	struct lab l;
	struct vring_offload o;
	uint32_t len;
	enum kind kd;

	lab_open(&l, opts, 2);
	for (kd = TCP4; kd <= UDP6; kd++) {
		len = mkframe(fbuf, 1, kd, 0, 1200, l.p[0].mac, l.p[1].mac, &o);
		send_pkt(&l.p[1], fbuf, len, &o);
		tp_poll_all(l.sw);
		expect_ofl(&l.p[0], fbuf, len, &o, 0);
	}
	for (kd = TCP4; kd <= TCP6; kd++) {
		len = mkframe(fbuf, 1, kd, 1, PAYLOAD, l.p[0].mac, l.p[1].mac, &o);
		send_pkt(&l.p[1], fbuf, len, &o);
		tp_poll_all(l.sw);
		expect_ofl(&l.p[0], fbuf, len, &o, 0);
	}
	CHECK_EQ(vring_fe_avail(&l.p[0].rx), 0);
	no_drops(&l, 0);
	no_drops(&l, 1);
	lab_close(&l);
}

/*
 * Access (A) -> trunk without offloads (U, an uplink), and trunk (T) ->
 * access without offloads (P): checksums completed, TSO segmented, each
 * result tagged / untagged.
 */
static void t_fill_and_segment(void)
{
	struct tport_opts opts[4] = { access_opts(FEAT), trunk_opts(0, 0), trunk_opts(FEAT, 0), access_opts(0) };
	struct lab l;
	struct vsw_port_stats st;
	struct vring_offload o;
	uint32_t len, nseg = (PAYLOAD + MSS - 1) / MSS, dir;
	enum kind kd;

	opts[1].slots = opts[3].slots = 64;
	lab_open(&l, opts, 4);
	for (dir = 0; dir < 2; dir++) {
		struct tport *s = dir ? &l.p[2] : &l.p[0], *d = dir ? &l.p[3] : &l.p[1];
		uint32_t tag_out = dir ? 0 : 4;

		for (kd = TCP4; kd <= UDP6; kd++) {
			len = mkframe(fbuf, (int)dir, kd, 0, kd == UDP6 ? 1401 : 1000, d->mac, s->mac, &o);
			send_pkt(s, fbuf, len, &o);
			tp_poll_all(l.sw);
			expect_filled(d, fbuf, len, &o, tag_out);
		}
		for (kd = TCP4; kd <= TCP6; kd++) {
			len = mkframe(fbuf, (int)dir, kd, 1, PAYLOAD, d->mac, s->mac, &o);
			send_pkt(s, fbuf, len, &o);
			tp_poll_all(l.sw);
			CHECK_EQ(expect_segments(d, fbuf, len, tag_out), nseg);
		}
		stats(&l, dir ? 3 : 1, &st);
		CHECK_EQ(st.gso_segments, 2 * nseg);
		CHECK_EQ(st.out_packets, 4 + 2 + 3); /* a super-frame counts once; + the learning broadcasts */
		CHECK_EQ(vring_fe_avail(&d->rx), 0);
	}
	for (uint32_t i = 0; i < 4; i++)
		no_drops(&l, i);
	lab_close(&l);
}

/*
 * Trunk to trunk: an untagged frame of T's native VLAN 10 to N (no native
 * VLAN: tag pushed) and a tagged one from N to T2 (same VID: the tag is
 * kept, written anew, offsets unchanged); and a checksum-partial chain with
 * an odd csum_start to a trunk that has chains but no offloads (C): the
 * checksum summed across slots that start at odd distances from it.
 */
static void t_trunk_to_trunk(void)
{
	struct tport_opts opts[4] = { trunk_opts(FEAT, VID), trunk_opts(FEAT, 0), trunk_opts(FEAT, 0),
				      trunk_opts(VRING_FEAT_CHAIN, 0) };
	struct lab l;
	struct vring_offload o;
	uint32_t len;

	lab_open(&l, opts, 4);
	len = mkframe(fbuf, 0, TCP4, 1, PAYLOAD, l.p[1].mac, l.p[0].mac, &o);
	send_pkt(&l.p[0], fbuf, len, &o);
	tp_poll_all(l.sw);
	expect_ofl(&l.p[1], fbuf, len, &o, 4);
	len = mkframe(fbuf, 1, TCP6, 1, PAYLOAD, l.p[2].mac, l.p[1].mac, &o);
	send_pkt(&l.p[1], fbuf, len, &o);
	tp_poll_all(l.sw);
	expect_ofl(&l.p[2], fbuf, len, &o, 4);
	/* UDP over IPv4 as 5000 bytes, checksum from byte 35 (odd) of the untagged frame: 39 once tagged */
	len = mkframe(fbuf, 0, UDP4, 0, 5000 - 42, l.p[3].mac, l.p[0].mac, &o);
	o.csum_start = 35;
	send_pkt(&l.p[0], fbuf, len, &o);
	/* the same with the checksum field across the first slot boundary: 2043 + 4 + 1 = 2048 */
	o.csum_start = 2043 - 6;
	send_pkt(&l.p[0], fbuf, len, &o);
	tp_poll_all(l.sw);
	o.csum_start = 35;
	expect_filled(&l.p[3], fbuf, len, &o, 4);
	o.csum_start = 2043 - 6;
	expect_filled(&l.p[3], fbuf, len, &o, 4);
	for (uint32_t i = 0; i < 4; i++)
		no_drops(&l, i);
	lab_close(&l);
}

/*
 * Offload words that pass at the source but not once shifted: dropped,
 * counted "offload" on the sender, nothing delivered, nothing counted on
 * the destinations; the same words without a tag change still arrive.
 */
static void t_hostile_shift(void)
{
	struct tport_opts opts[5] = { access_opts(FEAT), trunk_opts(FEAT, 0), trunk_opts(0, 0), access_opts(0),
				      access_opts(FEAT) };
	struct lab l;
	struct vsw_port_stats sa, st;
	struct vring_offload o, ro;
	uint32_t len, ca = 0, ct = 0, slots, i;
	uint16_t ff;

	opts[2].slots = opts[3].slots = 64;
	lab_open(&l, opts, 5);
	/* A -> T: the checksum range starts inside the MACs (csum_start 12) or at the EtherType (12 + 1) */
	len = mkframe(fbuf, 0, UDP4, 0, 500, l.p[1].mac, l.p[0].mac, &o);
	o.csum_start = 12;
	send_pkt(&l.p[0], fbuf, len, &o), ca++;
	o.csum_start = 13;
	send_pkt(&l.p[0], fbuf, len, &o), ca++;
	/* A -> U (no offloads): the same, the switch would fill a checksum over bytes that moved */
	memcpy(fbuf, l.p[2].mac, 6);
	o.csum_start = 12;
	send_pkt(&l.p[0], fbuf, len, &o), ca++;
	/* A -> U: a super-frame whose segments fit 2048 bytes untagged (66 + 1982) but not tagged */
	len = mkframe(fbuf, 0, TCP4, 1, PAYLOAD, l.p[2].mac, l.p[0].mac, &o);
	o.gso_size = 2048 - 66;
	send_pkt(&l.p[0], fbuf, len, &o), ca++;
	/* A -> T: a chain of VSW_FRAME_MAX (65554) bytes that a pushed tag would make longer */
	len = mkframe(fbuf, 0, TCP4, 0, 65554 - 66, l.p[1].mac, l.p[0].mac, &o);
	fbuf[14 + 2] = fbuf[14 + 3] = 0xff; /* (the IPv4 length cannot say it: only the frame's length counts) */
	send_pkt(&l.p[0], fbuf, len, &o), ca++;
	tp_poll_all(l.sw);
	/* T -> A: a tagged frame whose checksum range starts in the tag (16) or at the EtherType (16 + 1) */
	len = mkframe(fbuf, 1, TCP4, 0, 500, l.p[0].mac, l.p[1].mac, &o);
	o.csum_start = 16;
	send_pkt(&l.p[1], fbuf, len, &o), ct++;
	o.csum_start = 17;
	send_pkt(&l.p[1], fbuf, len, &o), ct++;
	/* T -> P (no offloads): the same */
	memcpy(fbuf, l.p[3].mac, 6);
	o.csum_start = 14;
	send_pkt(&l.p[1], fbuf, len, &o), ct++;
	tp_poll_all(l.sw);
	for (i = 0; i < 4; i++)
		CHECK_EQ(vring_fe_avail(&l.p[i].rx), 0);
	stats(&l, 0, &sa);
	stats(&l, 1, &st);
	CHECK_EQ(sa.drops[VSW_DROP_OFFLOAD], ca);
	CHECK_EQ(st.drops[VSW_DROP_OFFLOAD], ct);
	for (i = 2; i < 5; i++)
		no_drops(&l, i);
	/* without a tag change (A -> A2, both VLAN 10 access) the odd word from A is delivered as it is */
	len = mkframe(fbuf, 0, UDP4, 0, 500, l.p[4].mac, l.p[0].mac, &o);
	o.csum_start = 12;
	send_pkt(&l.p[0], fbuf, len, &o);
	tp_poll_all(l.sw);
	CHECK_EQ(recv_pkt(&l.p[4], rbuf, &slots, &ff, &ro), len);
	CHECK(memcmp(rbuf, fbuf, len) == 0);
	CHECK_EQ(ro.csum_start, 12);
	stats(&l, 0, &sa);
	CHECK_EQ(sa.drops[VSW_DROP_OFFLOAD], ca);
	lab_close(&l);
}

int main(void)
{
	tap_run("access -> trunk with offloads: checksum-partial TCP/UDP v4/v6 and TSO chains tagged, csum_start + 4",
		t_push_ofl);
	tap_run("trunk -> access with offloads: the tag popped, csum_start - 4, TSO chains re-cut", t_pop_ofl);
	tap_run("access -> trunk and trunk -> access without offloads: checksums filled, TSO segmented, tagged / untagged",
		t_fill_and_segment);
	tap_run("trunk -> trunk: native VLAN pushed, tag kept; an odd csum_start filled across chain slots",
		t_trunk_to_trunk);
	tap_run("offload words that do not survive the shift are dropped, counted offload on the sender only",
		t_hostile_shift);
	return tap_done();
}
