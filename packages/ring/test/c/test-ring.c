/* SPDX-License-Identifier: MIT */
/*
 * test-ring - deterministic tests of vpio/ring.h, ring_be.h and ring_fe.h:
 * every validator at its boundaries (and exhaustively against a slot-walking
 * oracle for small rings), ring set-up and attach errors, both sides' bursts
 * over many laps of wrap-around, a hostile guest's heads and slots, and the
 * kick protocol's arm / needed / disarm logic, single-threaded.
 *
 * Output is TAP: "ok N - name" / "not ok N - name", diagnostics as "# ...",
 * the plan "1..N" last; the exit status is 1 if any case failed. Built with
 * ASan + UBSan (make test-bins): ring and pool memory are allocated at their
 * exact sizes, so any access past them aborts the program.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpio/ring.h"
#include "vpio/ring_be.h"
#include "vpio/ring_fe.h"
#include "vpio/tap.h"

/* ------------------------------------------------------------------------ */
/* Fixtures                                                                 */

struct port {
	struct vring_be be;
	struct vring_fe fe;
	void *ring;
	uint8_t *pool;
	uint32_t ring_bytes;
	uint64_t pool_bytes;
	uint32_t buf_size;
	uint64_t drops[VRING_VERDICT_COUNT];
};

/* Ring and pool at their exact sizes: ASan catches one byte past either. */
static void port_open(struct port *p, uint32_t kind, uint32_t num_slots, uint32_t buf_size, uint32_t nr_bufs,
		      uint32_t first_buf, uint32_t features)
{
	void *mem = NULL;
	int rc;

	memset(p, 0, sizeof(*p));
	p->ring_bytes = vring_ring_bytes(num_slots);
	if (posix_memalign(&mem, VP_CACHE_LINE, p->ring_bytes) != 0)
		abort();
	memset(mem, 0xa5, p->ring_bytes); /* never rely on zeroed memory */
	p->ring = mem;
	p->pool_bytes = (uint64_t)nr_bufs * buf_size;
	p->pool = malloc(p->pool_bytes);
	if (!p->pool)
		abort();
	memset(p->pool, 0x5a, p->pool_bytes);
	p->buf_size = buf_size;
	rc = vring_be_init(&p->be, p->ring, p->ring_bytes, p->pool, kind, num_slots, buf_size, nr_bufs, first_buf,
			   features);
	CHECK_EQ(rc, 0);
	rc = vring_fe_attach(&p->fe, p->ring, p->ring_bytes, p->pool, p->pool_bytes, kind);
	CHECK_EQ(rc, 0);
}

static void port_close(struct port *p)
{
	free(p->ring);
	free(p->pool);
}

static uint64_t drops_total(const struct port *p)
{
	uint64_t t = 0;
	unsigned i;

	for (i = 0; i < VRING_VERDICT_COUNT; i++)
		t += p->drops[i];
	return t;
}

/* A packet stamped with its sequence number; every byte depends on it. */
static uint16_t make_packet(uint8_t *buf, uint32_t seq, uint16_t len)
{
	uint16_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seq * 7u + i);
	memcpy(buf, &seq, sizeof(seq));
	return len;
}

static int packet_ok(const uint8_t *buf, uint32_t seq, uint16_t len)
{
	uint32_t got;
	uint16_t i;

	if (len < sizeof(seq))
		return 0;
	memcpy(&got, buf, sizeof(got));
	if (got != seq)
		return 0;
	for (i = sizeof(seq); i < len; i++)
		if (buf[i] != (uint8_t)(seq * 7u + i))
			return 0;
	return 1;
}

/* The length of packet `seq`: varies over [14, 14 + 113]. */
static uint16_t seq_len(uint32_t seq)
{
	return (uint16_t)(VRING_ETH_HLEN + (seq * 37u) % 114u);
}

/* ------------------------------------------------------------------------ */
/* Oracles: walk the ring slot by slot, no mask arithmetic                  */

static int in_window(uint32_t x, uint32_t from, uint32_t to, uint32_t num_slots)
{
	uint32_t i = from;

	if (x >= num_slots)
		return 0;
	for (;;) {
		if (i == x)
			return 1;
		if (i == to)
			return 0;
		i = i + 1 == num_slots ? 0 : i + 1;
	}
}

/* ------------------------------------------------------------------------ */
/* Layout and geometry                                                      */

static void t_layout(void)
{
	CHECK_EQ(sizeof(struct vring_slot), 16);
	CHECK_EQ(sizeof(struct vring_hdr), 320);
	CHECK_EQ(VRING_SLOTS_OFFSET, 320);
	CHECK_EQ(offsetof(struct vring_hdr, head) % VP_CACHE_LINE, 0);
	CHECK_EQ(offsetof(struct vring_hdr, tail) % VP_CACHE_LINE, 0);
	CHECK(offsetof(struct vring_hdr, tail) / VP_CACHE_LINE != offsetof(struct vring_hdr, head) / VP_CACHE_LINE);
	CHECK_EQ(vring_ring_bytes(64), 320 + 64 * 16);
	CHECK_EQ(vring_ring_bytes(4096), 320 + 4096 * 16);
	CHECK_EQ(offsetof(struct vring_slot, u.offload), offsetof(struct vring_slot, u.gref));
}

static void t_index_arith(void)
{
	CHECK_EQ(vring_next(63, 63), 0);
	CHECK_EQ(vring_next(0, 63), 1);
	CHECK_EQ(vring_dist(60, 3, 63), 7);
	CHECK_EQ(vring_dist(3, 60, 63), 57);
	CHECK_EQ(vring_dist(5, 5, 63), 0);
	CHECK(vring_is_pow2(64) && vring_is_pow2(1) && !vring_is_pow2(0) && !vring_is_pow2(96));
	CHECK(vring_is_pow2(0x80000000u) && !vring_is_pow2(0xffffffffu));
}

static void t_geometry(void)
{
	CHECK_EQ(vring_check_geometry(64, 2048, 1), 0);
	CHECK_EQ(vring_check_geometry(4096, 65535, 1), 0);
	CHECK_EQ(vring_check_geometry(32, 2048, 1), -VP_EINVAL);
	CHECK_EQ(vring_check_geometry(63, 2048, 1), -VP_EINVAL);
	CHECK_EQ(vring_check_geometry(65, 2048, 1), -VP_EINVAL);
	CHECK_EQ(vring_check_geometry(96, 2048, 1), -VP_EINVAL);
	CHECK_EQ(vring_check_geometry(8192, 2048, 1), -VP_EINVAL);
	CHECK_EQ(vring_check_geometry(0, 2048, 1), -VP_EINVAL);
	CHECK_EQ(vring_check_geometry(0x80000000u, 2048, 1), -VP_EINVAL);
	CHECK_EQ(vring_check_geometry(64, 63, 1), -VP_EINVAL);
	CHECK_EQ(vring_check_geometry(64, 64, 1), 0);
	CHECK_EQ(vring_check_geometry(64, 65536, 1), -VP_EINVAL);
	CHECK_EQ(vring_check_geometry(64, 2048, 0), -VP_EINVAL);
}

/* ------------------------------------------------------------------------ */
/* Index validators                                                         */

static void t_check_head_exhaustive(void)
{
	static const uint32_t extra[] = {64, 65, 127, 128, 0x7fffffffu, 0x80000000u, 0xffffffffu};
	const uint32_t n = 64;
	uint32_t hwcur, hwtail, head;
	unsigned e;
	long bad = 0;

	for (hwcur = 0; hwcur < n; hwcur++) {
		for (hwtail = 0; hwtail < n; hwtail++) {
			for (head = 0; head < n; head++) {
				int want = in_window(head, hwcur, hwtail, n);
				if ((vring_check_head(head, hwcur, hwtail, n) == VRING_OK) != want)
					bad++;
			}
			for (e = 0; e < sizeof(extra) / sizeof(extra[0]); e++)
				if (vring_check_head(extra[e], hwcur, hwtail, n) != VRING_DROP_HEAD)
					bad++;
		}
	}
	CHECK_EQ(bad, 0);
}

static void t_check_cur_exhaustive(void)
{
	const uint32_t n = 64;
	uint32_t head, hwtail, cur;
	long bad = 0;

	for (head = 0; head < n; head++)
		for (hwtail = 0; hwtail < n; hwtail++) {
			for (cur = 0; cur < n; cur++) {
				int want = in_window(cur, head, hwtail, n);
				if ((vring_check_cur(cur, head, hwtail, n) == VRING_OK) != want)
					bad++;
			}
			if (vring_check_cur(n, head, hwtail, n) != VRING_DROP_CUR ||
			    vring_check_cur(0xffffffffu, head, hwtail, n) != VRING_DROP_CUR)
				bad++;
		}
	CHECK_EQ(bad, 0);
}

static void t_check_head_boundaries(void)
{
	const uint32_t n = 4096;

	/* window [10, 20] */
	CHECK_EQ(vring_check_head(10, 10, 20, n), VRING_OK);
	CHECK_EQ(vring_check_head(20, 10, 20, n), VRING_OK);
	CHECK_EQ(vring_check_head(21, 10, 20, n), VRING_DROP_HEAD); /* hwtail + 1 */
	CHECK_EQ(vring_check_head(9, 10, 20, n), VRING_DROP_HEAD);  /* hwcur - 1 */
	CHECK_EQ(vring_check_head(n, 10, 20, n), VRING_DROP_HEAD);
	CHECK_EQ(vring_check_head(n + 10, 10, 20, n), VRING_DROP_HEAD); /* would fold onto hwcur under the mask */
	CHECK_EQ(vring_check_head(0xffffffffu, 10, 20, n), VRING_DROP_HEAD);
	/* window wrapping: [4090, 5] */
	CHECK_EQ(vring_check_head(4095, 4090, 5, n), VRING_OK);
	CHECK_EQ(vring_check_head(0, 4090, 5, n), VRING_OK);
	CHECK_EQ(vring_check_head(5, 4090, 5, n), VRING_OK);
	CHECK_EQ(vring_check_head(6, 4090, 5, n), VRING_DROP_HEAD);
	CHECK_EQ(vring_check_head(4089, 4090, 5, n), VRING_DROP_HEAD);
	/* empty window: only hwcur */
	CHECK_EQ(vring_check_head(7, 7, 7, n), VRING_OK);
	CHECK_EQ(vring_check_head(8, 7, 7, n), VRING_DROP_HEAD);
	CHECK_EQ(vring_check_head(6, 7, 7, n), VRING_DROP_HEAD);
	/* full TX window after set-up: [0, n - 1] */
	CHECK_EQ(vring_check_head(n - 1, 0, n - 1, n), VRING_OK);
}

static void t_check_cur_boundaries(void)
{
	const uint32_t n = 64;

	CHECK_EQ(vring_check_cur(30, 30, 40, n), VRING_OK);
	CHECK_EQ(vring_check_cur(40, 30, 40, n), VRING_OK);
	CHECK_EQ(vring_check_cur(41, 30, 40, n), VRING_DROP_CUR);
	CHECK_EQ(vring_check_cur(29, 30, 40, n), VRING_DROP_CUR);
	CHECK_EQ(vring_check_cur(n, 30, 40, n), VRING_DROP_CUR);
	CHECK_EQ(vring_check_cur(0xffffffffu, 30, 40, n), VRING_DROP_CUR);
	CHECK_EQ(vring_check_cur(0, 60, 2, n), VRING_OK);
	CHECK_EQ(vring_check_cur(3, 60, 2, n), VRING_DROP_CUR);
}

/* ------------------------------------------------------------------------ */
/* Slot and offload validators                                              */

static struct vring_slot mkslot(uint32_t buf_idx, uint16_t len, uint16_t flags)
{
	struct vring_slot s;

	memset(&s, 0, sizeof(s));
	s.buf_idx = buf_idx;
	s.len = len;
	s.flags = flags;
	return s;
}

static void t_check_slot_rules(void)
{
	struct vring_limits none = {2048, 100, 0};
	struct vring_limits all = {2048, 100, VRING_FEAT_CHAIN | VRING_FEAT_OFFLOAD};
	struct vring_slot s;

	s = mkslot(0, 60, 0);
	CHECK_EQ(vring_check_slot(&s, &none, 1), VRING_OK);
	s = mkslot(99, 2048, 0);
	CHECK_EQ(vring_check_slot(&s, &none, 1), VRING_OK); /* nr_bufs - 1, len == buf_size */
	s = mkslot(100, 60, 0);
	CHECK_EQ(vring_check_slot(&s, &none, 1), VRING_DROP_BUF_IDX); /* nr_bufs */
	s = mkslot(0xffffffffu, 60, 0);
	CHECK_EQ(vring_check_slot(&s, &none, 1), VRING_DROP_BUF_IDX);
	s = mkslot(0, 2049, 0);
	CHECK_EQ(vring_check_slot(&s, &none, 1), VRING_DROP_LEN_LONG); /* buf_size + 1 */
	s = mkslot(0, 0xffff, 0);
	CHECK_EQ(vring_check_slot(&s, &none, 1), VRING_DROP_LEN_LONG);
	s = mkslot(0, 0, 0);
	CHECK_EQ(vring_check_slot(&s, &none, 1), VRING_DROP_LEN_ZERO);
	CHECK_EQ(vring_check_slot(&s, &none, 0), VRING_DROP_LEN_ZERO);
	s = mkslot(0, 13, 0);
	CHECK_EQ(vring_check_slot(&s, &none, 1), VRING_DROP_LEN_SHORT);
	CHECK_EQ(vring_check_slot(&s, &none, 0), VRING_OK); /* later fragments may be short */
	s = mkslot(0, 14, 0);
	CHECK_EQ(vring_check_slot(&s, &none, 1), VRING_OK);
	/* flags */
	s = mkslot(0, 60, 0x0004);
	CHECK_EQ(vring_check_slot(&s, &all, 1), VRING_DROP_FLAGS);
	s = mkslot(0, 60, 0x8000);
	CHECK_EQ(vring_check_slot(&s, &all, 1), VRING_DROP_FLAGS);
	s = mkslot(0, 60, VRING_F_MORE);
	CHECK_EQ(vring_check_slot(&s, &none, 1), VRING_DROP_FLAGS); /* MORE without CHAIN */
	CHECK_EQ(vring_check_slot(&s, &all, 1), VRING_OK);
	s = mkslot(0, 60, VRING_F_OFFLOAD);
	CHECK_EQ(vring_check_slot(&s, &none, 1), VRING_DROP_FLAGS); /* OFFLOAD without the feature */
	CHECK_EQ(vring_check_slot(&s, &all, 1), VRING_OK);          /* all-zero offload word is valid */
	/* MORE and zero length */
	s = mkslot(0, 0, VRING_F_MORE);
	CHECK_EQ(vring_check_slot(&s, &all, 0), VRING_OK);
	CHECK_EQ(vring_check_slot(&s, &all, 1), VRING_DROP_LEN_SHORT);
	/* precedence: flags, then buf_idx, then len */
	s = mkslot(100, 0, 0x0004);
	CHECK_EQ(vring_check_slot(&s, &none, 1), VRING_DROP_FLAGS);
	s = mkslot(100, 0, 0);
	CHECK_EQ(vring_check_slot(&s, &none, 1), VRING_DROP_BUF_IDX);
	s = mkslot(0, 3000, 0);
	CHECK_EQ(vring_check_slot(&s, &none, 1), VRING_DROP_LEN_LONG);
}

static struct vring_offload mkofl(uint16_t cs, uint16_t co, uint16_t gs, uint8_t gt, uint8_t of)
{
	struct vring_offload o;

	o.csum_start = cs;
	o.csum_offset = co;
	o.gso_size = gs;
	o.gso_type = gt;
	o.oflags = of;
	return o;
}

static void t_check_offload_rules(void)
{
	struct vring_offload o;

	o = mkofl(0, 0, 0, VRING_GSO_NONE, 0);
	CHECK_EQ(vring_check_offload(&o, 60), VRING_OK);
	o = mkofl(34, 16, 0, VRING_GSO_NONE, VRING_OFL_NEEDS_CSUM);
	CHECK_EQ(vring_check_offload(&o, 52), VRING_OK); /* 34 + 16 + 2 == len */
	CHECK_EQ(vring_check_offload(&o, 51), VRING_DROP_OFFLOAD);
	o = mkofl(0xffff, 0xffff, 0, VRING_GSO_NONE, VRING_OFL_NEEDS_CSUM);
	CHECK_EQ(vring_check_offload(&o, 65535), VRING_DROP_OFFLOAD); /* no u16 wrap-around */
	o = mkofl(1, 0, 0, VRING_GSO_NONE, 0);
	CHECK_EQ(vring_check_offload(&o, 60), VRING_DROP_OFFLOAD); /* csum fields without NEEDS_CSUM */
	o = mkofl(0, 1, 0, VRING_GSO_NONE, 0);
	CHECK_EQ(vring_check_offload(&o, 60), VRING_DROP_OFFLOAD);
	o = mkofl(0, 0, 0, VRING_GSO_NONE, 0x02);
	CHECK_EQ(vring_check_offload(&o, 60), VRING_DROP_OFFLOAD); /* unknown oflags */
	o = mkofl(0, 0, 0, VRING_GSO_NONE, 0x80);
	CHECK_EQ(vring_check_offload(&o, 60), VRING_DROP_OFFLOAD);
	o = mkofl(0, 0, 1, VRING_GSO_NONE, 0);
	CHECK_EQ(vring_check_offload(&o, 60), VRING_DROP_OFFLOAD); /* gso_size without gso */
	o = mkofl(34, 16, 1448, VRING_GSO_TCPV4, VRING_OFL_NEEDS_CSUM);
	CHECK_EQ(vring_check_offload(&o, 1514), VRING_OK);
	o = mkofl(0, 0, 1448, VRING_GSO_TCPV4, 0);
	CHECK_EQ(vring_check_offload(&o, 1514), VRING_DROP_OFFLOAD); /* gso needs NEEDS_CSUM */
	o = mkofl(34, 16, 1448, VRING_GSO_MAX_TYPE + 1, VRING_OFL_NEEDS_CSUM);
	CHECK_EQ(vring_check_offload(&o, 1514), VRING_DROP_OFFLOAD);
	o = mkofl(34, 16, VRING_GSO_SIZE_MIN, VRING_GSO_UDP_L4, VRING_OFL_NEEDS_CSUM);
	CHECK_EQ(vring_check_offload(&o, 1514), VRING_OK);
	o.gso_size = VRING_GSO_SIZE_MIN - 1;
	CHECK_EQ(vring_check_offload(&o, 1514), VRING_DROP_OFFLOAD);
	o.gso_size = VRING_GSO_SIZE_MAX;
	CHECK_EQ(vring_check_offload(&o, 1514), VRING_OK);
	o.gso_size = VRING_GSO_SIZE_MAX + 1;
	CHECK_EQ(vring_check_offload(&o, 1514), VRING_DROP_OFFLOAD);
}

static void t_check_slot_offload(void)
{
	struct vring_limits all = {2048, 100, VRING_FEAT_CHAIN | VRING_FEAT_OFFLOAD};
	struct vring_slot s = mkslot(0, 60, VRING_F_OFFLOAD);

	s.u.offload = mkofl(50, 10, 0, VRING_GSO_NONE, VRING_OFL_NEEDS_CSUM); /* 62 > 60 */
	CHECK_EQ(vring_check_slot(&s, &all, 1), VRING_DROP_OFFLOAD);
	CHECK_EQ(vring_check_slot(&s, &all, 0), VRING_OK); /* only a first slot carries the word */
	s.flags = VRING_F_OFFLOAD | VRING_F_MORE;
	CHECK_EQ(vring_check_slot(&s, &all, 1), VRING_OK); /* a chain's word is checked on the total */
	s.flags = VRING_F_OFFLOAD;
	s.len = 62;
	CHECK_EQ(vring_check_slot(&s, &all, 1), VRING_OK);
	s.flags = 0; /* without the flag the same bytes are just a gref */
	s.u.gref = 0xffffffffffffffffull;
	CHECK_EQ(vring_check_slot(&s, &all, 1), VRING_OK);
}

/* ------------------------------------------------------------------------ */
/* Set-up and attach                                                        */

static void t_be_init(void)
{
	struct port p;
	uint32_t i;
	int bad = 0;

	port_open(&p, VRING_KIND_TX, 64, 2048, 200, 10, VRING_FEAT_CHAIN);
	CHECK_EQ(p.be.hdr->magic, VRING_MAGIC);
	CHECK_EQ(p.be.hdr->abi_version, VRING_ABI_VERSION);
	CHECK_EQ(p.be.hdr->kind, VRING_KIND_TX);
	CHECK_EQ(p.be.hdr->num_slots, 64);
	CHECK_EQ(p.be.hdr->buf_size, 2048);
	CHECK_EQ(p.be.hdr->nr_bufs, 200);
	CHECK_EQ(p.be.hdr->features, VRING_FEAT_CHAIN);
	CHECK_EQ(p.be.hdr->head, 0);
	CHECK_EQ(p.be.hdr->cur, 0);
	CHECK_EQ(p.be.hdr->tail, 63);
	CHECK_EQ(p.be.hwcur, 0);
	CHECK_EQ(p.be.hwtail, 63);
	CHECK_EQ(p.be.hdr->fe_need_kick, 0);
	CHECK_EQ(p.be.hdr->be_need_kick, 0);
	for (i = 0; i < 64; i++) {
		const struct vring_slot *s = &vring_slots(p.be.hdr)[i];
		if (s->buf_idx != 10 + i || s->len || s->flags || s->u.gref)
			bad++;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(vring_fe_avail(&p.fe), 63);
	port_close(&p);

	port_open(&p, VRING_KIND_RX, 128, 64, 128, 0, 0);
	CHECK_EQ(p.be.hdr->tail, 0);
	CHECK_EQ(p.be.hwtail, 0);
	CHECK_EQ(vring_fe_avail(&p.fe), 0);
	port_close(&p);
}

static void t_be_init_errors(void)
{
	struct vring_be be;
	uint32_t bytes = vring_ring_bytes(64);
	void *mem = NULL;

	if (posix_memalign(&mem, VP_CACHE_LINE, bytes) != 0)
		abort();
	memset(mem, 0, bytes);
	CHECK_EQ(vring_be_init(&be, mem, bytes, NULL, 0, 64, 2048, 64, 0, 0), -VP_EINVAL);
	CHECK_EQ(vring_be_init(&be, mem, bytes, NULL, 3, 64, 2048, 64, 0, 0), -VP_EINVAL);
	CHECK_EQ(vring_be_init(&be, mem, bytes, NULL, VRING_KIND_TX, 96, 2048, 96, 0, 0), -VP_EINVAL);
	CHECK_EQ(vring_be_init(&be, mem, bytes, NULL, VRING_KIND_TX, 64, 63, 64, 0, 0), -VP_EINVAL);
	CHECK_EQ(vring_be_init(&be, mem, bytes, NULL, VRING_KIND_TX, 64, 2048, 0, 0, 0), -VP_EINVAL);
	CHECK_EQ(vring_be_init(&be, mem, bytes, NULL, VRING_KIND_TX, 64, 2048, 64, 0, 0x4), -VP_EINVAL);
	CHECK_EQ(vring_be_init(&be, mem, bytes - 1, NULL, VRING_KIND_TX, 64, 2048, 64, 0, 0), -VP_ERANGE);
	CHECK_EQ(vring_be_init(&be, mem, bytes, NULL, VRING_KIND_TX, 64, 2048, 63, 0, 0), -VP_ERANGE);
	CHECK_EQ(vring_be_init(&be, mem, bytes, NULL, VRING_KIND_TX, 64, 2048, 100, 37, 0), -VP_ERANGE);
	CHECK_EQ(vring_be_init(&be, mem, bytes, NULL, VRING_KIND_TX, 64, 2048, 100, 101, 0), -VP_ERANGE);
	CHECK_EQ(vring_be_init(&be, mem, bytes, NULL, VRING_KIND_TX, 64, 2048, 100, 0xffffffffu, 0), -VP_ERANGE);
	/* a refused set-up writes nothing */
	CHECK_EQ(((struct vring_hdr *)mem)->magic, 0);
	CHECK_EQ(vring_be_init(&be, mem, bytes, NULL, VRING_KIND_TX, 64, 2048, 100, 36, 0), 0);
	free(mem);
}

static void t_fe_attach_errors(void)
{
	struct port p;
	struct vring_fe fe;
	struct vring_hdr *h;

	port_open(&p, VRING_KIND_TX, 64, 2048, 64, 0, 0);
	h = p.be.hdr;
	CHECK_EQ(vring_fe_attach(&fe, p.ring, VRING_SLOTS_OFFSET - 1, p.pool, p.pool_bytes, VRING_KIND_TX),
		 -VP_ERANGE);
	CHECK_EQ(vring_fe_attach(&fe, p.ring, p.ring_bytes - 1, p.pool, p.pool_bytes, VRING_KIND_TX), -VP_ERANGE);
	CHECK_EQ(vring_fe_attach(&fe, p.ring, p.ring_bytes, p.pool, p.pool_bytes - 1, VRING_KIND_TX), -VP_ERANGE);
	CHECK_EQ(vring_fe_attach(&fe, p.ring, p.ring_bytes, p.pool, p.pool_bytes, VRING_KIND_RX), -VP_EINVAL);
	h->magic = 0x12345678u;
	CHECK_EQ(vring_fe_attach(&fe, p.ring, p.ring_bytes, p.pool, p.pool_bytes, VRING_KIND_TX), -VP_EPROTO);
	h->magic = VRING_MAGIC;
	h->abi_version = VRING_ABI_VERSION + 1;
	CHECK_EQ(vring_fe_attach(&fe, p.ring, p.ring_bytes, p.pool, p.pool_bytes, VRING_KIND_TX),
		 -VP_EPROTONOSUPPORT);
	h->abi_version = 0;
	CHECK_EQ(vring_fe_attach(&fe, p.ring, p.ring_bytes, p.pool, p.pool_bytes, VRING_KIND_TX),
		 -VP_EPROTONOSUPPORT);
	h->abi_version = VRING_ABI_VERSION;
	h->num_slots = 100;
	CHECK_EQ(vring_fe_attach(&fe, p.ring, p.ring_bytes, p.pool, p.pool_bytes, VRING_KIND_TX), -VP_EINVAL);
	h->num_slots = 128; /* valid geometry, but more than the memory holds */
	CHECK_EQ(vring_fe_attach(&fe, p.ring, p.ring_bytes, p.pool, p.pool_bytes, VRING_KIND_TX), -VP_ERANGE);
	h->num_slots = 64;
	h->buf_size = 4096; /* the pool is too small for it */
	CHECK_EQ(vring_fe_attach(&fe, p.ring, p.ring_bytes, p.pool, p.pool_bytes, VRING_KIND_TX), -VP_ERANGE);
	h->buf_size = 2048;
	h->head = 64;
	CHECK_EQ(vring_fe_attach(&fe, p.ring, p.ring_bytes, p.pool, p.pool_bytes, VRING_KIND_TX), -VP_EINVAL);
	h->head = 0;
	h->tail = 0xffffffffu;
	CHECK_EQ(vring_fe_attach(&fe, p.ring, p.ring_bytes, p.pool, p.pool_bytes, VRING_KIND_TX), -VP_EINVAL);
	h->tail = 63;
	CHECK_EQ(vring_fe_attach(&fe, p.ring, p.ring_bytes, p.pool, p.pool_bytes, VRING_KIND_TX), 0);
	CHECK_EQ(fe.num_slots, 64);
	CHECK_EQ(fe.head, 0);
	CHECK_EQ(fe.tail_cache, 63);
	port_close(&p);
}

/* ------------------------------------------------------------------------ */
/* Bursts over many laps                                                    */

#define MAXB 80

static void t_tx_laps(void)
{
	static const uint32_t sizes[] = {64, 128};
	unsigned k;

	for (k = 0; k < 2; k++) {
		struct port p;
		uint32_t n = sizes[k], next_tx = 0, next_rx = 0, step = 0, bad = 0;
		static uint8_t bufs[MAXB][256], out[MAXB][2048];
		const void *src[MAXB];
		void *dst[MAXB];
		uint16_t lens[MAXB], olens[MAXB];
		int kick;
		uint32_t i;

		port_open(&p, VRING_KIND_TX, n, 2048, 2 * n, n, 0);
		for (i = 0; i < MAXB; i++) {
			src[i] = bufs[i];
			dst[i] = out[i];
		}
		while (next_rx < 40 * n) {
			uint32_t want = 1 + (step * 13u) % MAXB, got, free_before, inflight = next_tx - next_rx;

			free_before = vring_fe_avail(&p.fe);
			if (free_before != n - 1 - inflight)
				bad++;
			for (i = 0; i < want; i++)
				lens[i] = make_packet(bufs[i], next_tx + i, seq_len(next_tx + i));
			got = vring_fe_tx_burst(&p.fe, src, lens, want, &kick);
			if (got != (want < free_before ? want : free_before))
				bad++;
			next_tx += got;
			if (next_tx - next_rx > n - 1)
				bad++; /* one slot stays empty */
			want = 1 + (step * 7u) % MAXB;
			got = vring_be_tx_burst(&p.be, dst, olens, want, p.drops, &kick);
			if (got != (want < next_tx - next_rx ? want : next_tx - next_rx))
				bad++;
			for (i = 0; i < got; i++)
				if (olens[i] != seq_len(next_rx + i) || !packet_ok(out[i], next_rx + i, olens[i]))
					bad++;
			next_rx += got;
			if (p.be.hwcur != p.fe.head && next_tx == next_rx)
				bad++;
			step++;
		}
		CHECK_EQ(bad, 0);
		CHECK_EQ(drops_total(&p), 0);
		CHECK(next_rx >= 40 * n);
		port_close(&p);
	}
}

static void t_rx_laps(void)
{
	static const uint32_t sizes[] = {64, 128};
	unsigned k;

	for (k = 0; k < 2; k++) {
		struct port p;
		uint32_t n = sizes[k], next_tx = 0, next_rx = 0, step = 0, bad = 0;
		static uint8_t bufs[MAXB][256], out[MAXB][2048];
		const void *src[MAXB];
		void *dst[MAXB];
		uint16_t lens[MAXB], olens[MAXB];
		int kick;
		uint32_t i;

		port_open(&p, VRING_KIND_RX, n, 2048, n, 0, 0);
		for (i = 0; i < MAXB; i++) {
			src[i] = bufs[i];
			dst[i] = out[i];
		}
		while (next_rx < 40 * n) {
			uint32_t want = 1 + (step * 11u) % MAXB, got, space = n - 1 - (next_tx - next_rx);

			for (i = 0; i < want; i++)
				lens[i] = make_packet(bufs[i], next_tx + i, seq_len(next_tx + i));
			got = vring_be_rx_burst(&p.be, src, lens, want, p.drops, &kick);
			if (got != (want < space ? want : space))
				bad++;
			next_tx += got;
			if (vring_fe_avail(&p.fe) != next_tx - next_rx)
				bad++;
			want = 1 + (step * 5u) % MAXB;
			got = vring_fe_rx_burst(&p.fe, dst, olens, want, &kick);
			if (got != (want < next_tx - next_rx ? want : next_tx - next_rx))
				bad++;
			for (i = 0; i < got; i++)
				if (olens[i] != seq_len(next_rx + i) || !packet_ok(out[i], next_rx + i, olens[i]))
					bad++;
			next_rx += got;
			step++;
		}
		CHECK_EQ(bad, 0);
		CHECK_EQ(drops_total(&p), 0);
		port_close(&p);
	}
}

static void t_tx_full_and_empty(void)
{
	struct port p;
	static uint8_t pkt[64], out[64][2048];
	const void *src[64];
	void *dst[64];
	uint16_t lens[64], olens[64];
	int kick;
	uint32_t i;

	port_open(&p, VRING_KIND_TX, 64, 2048, 64, 0, 0);
	for (i = 0; i < 64; i++) {
		src[i] = pkt;
		lens[i] = 60;
		dst[i] = out[i];
	}
	CHECK_EQ(vring_be_tx_burst(&p.be, dst, olens, 64, p.drops, &kick), 0); /* empty */
	CHECK_EQ(vring_fe_tx_burst(&p.fe, src, lens, 64, &kick), 63);         /* one slot stays empty */
	CHECK_EQ(vring_fe_tx_burst(&p.fe, src, lens, 1, &kick), 0);           /* full */
	CHECK_EQ(vring_fe_avail(&p.fe), 0);
	CHECK_EQ(vring_be_tx_burst(&p.be, dst, olens, 64, p.drops, &kick), 63);
	CHECK_EQ(vring_fe_avail(&p.fe), 63);
	CHECK_EQ(p.be.hwcur, 63);
	CHECK_EQ(p.be.hwtail, 62);
	CHECK_EQ(p.be.hdr->tail, 62);
	CHECK_EQ(vring_be_tx_burst(&p.be, dst, olens, 0, p.drops, &kick), 0); /* n == 0 */
	CHECK_EQ(drops_total(&p), 0);
	port_close(&p);
}

static void t_rx_full_and_empty(void)
{
	struct port p;
	static uint8_t pkt[64], out[64][2048];
	const void *src[64];
	void *dst[64];
	uint16_t lens[64], olens[64];
	int kick;
	uint32_t i;

	port_open(&p, VRING_KIND_RX, 64, 2048, 64, 0, 0);
	for (i = 0; i < 64; i++) {
		src[i] = pkt;
		lens[i] = 60;
		dst[i] = out[i];
	}
	CHECK_EQ(vring_fe_rx_burst(&p.fe, dst, olens, 64, &kick), 0);
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 64, p.drops, &kick), 63);
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 64, p.drops, &kick), 0); /* slot head - 1 stays empty */
	CHECK_EQ(p.be.hwtail, 63);
	CHECK_EQ(vring_fe_rx_burst(&p.fe, dst, olens, 10, &kick), 10);
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 64, p.drops, &kick), 10);
	CHECK_EQ(vring_fe_rx_burst(&p.fe, dst, olens, 64, &kick), 63);
	CHECK_EQ(drops_total(&p), 0);
	port_close(&p);
}

/* ------------------------------------------------------------------------ */
/* Hostile guest                                                            */

static void t_tx_bad_head(void)
{
	/*
	 * On TX the backend's window [hwcur, hwtail] is always the whole ring but
	 * one slot short of wrapping (hwtail == hwcur - 1 after every release), so
	 * every head < num_slots is inside it: only out-of-range heads are bad
	 * here. Windows with a gap are tested on RX (t_rx_bad_head).
	 */
	static const uint32_t heads[] = {64, 65, 64 + 10, 0xffffffffu, 0x80000000u};
	struct port p;
	static uint8_t pkt[64], out[64][2048];
	const void *src[64];
	void *dst[64];
	uint16_t lens[64], olens[64];
	int kick;
	uint32_t i, tail_before, hwcur_before;
	unsigned k;

	port_open(&p, VRING_KIND_TX, 64, 2048, 64, 0, 0);
	for (i = 0; i < 64; i++) {
		src[i] = pkt;
		lens[i] = 60;
		dst[i] = out[i];
	}
	/* Move the window to [54, 10] (wrapped): queue 54, drain them, queue 20. */
	CHECK_EQ(vring_fe_tx_burst(&p.fe, src, lens, 54, &kick), 54);
	CHECK_EQ(vring_be_tx_burst(&p.be, dst, olens, 64, p.drops, &kick), 54);
	CHECK_EQ(vring_fe_tx_burst(&p.fe, src, lens, 20, &kick), 20);
	CHECK_EQ(p.fe.head, 10);
	CHECK_EQ(p.be.hwtail, 53);
	tail_before = p.be.hdr->tail;
	hwcur_before = p.be.hwcur;
	for (k = 0; k < sizeof(heads) / sizeof(heads[0]); k++) {
		memset(p.drops, 0, sizeof(p.drops));
		p.be.hdr->head = heads[k];
		CHECK_EQ(vring_be_tx_burst(&p.be, dst, olens, 64, p.drops, &kick), 0);
		CHECK_EQ(p.drops[VRING_DROP_HEAD], 1);
		CHECK_EQ(drops_total(&p), 1);
		CHECK_EQ(p.be.hwcur, hwcur_before);
		CHECK_EQ(p.be.hdr->tail, tail_before);
		CHECK_EQ(kick, 0);
	}
	/* hwtail == hwcur - 1 is inside: it hands over all 63 slots (the guest's own loss) */
	CHECK_EQ(vring_check_head(53, p.be.hwcur, p.be.hwtail, 64), VRING_OK);
	/* a bad cur with a good head */
	memset(p.drops, 0, sizeof(p.drops));
	p.be.hdr->head = 10;
	p.be.hdr->cur = 9;
	CHECK_EQ(vring_be_tx_burst(&p.be, dst, olens, 64, p.drops, &kick), 0);
	CHECK_EQ(p.drops[VRING_DROP_CUR], 1);
	p.be.hdr->cur = 64;
	CHECK_EQ(vring_be_tx_burst(&p.be, dst, olens, 64, p.drops, &kick), 0);
	CHECK_EQ(p.drops[VRING_DROP_CUR], 2);
	/* repaired: everything is delivered */
	memset(p.drops, 0, sizeof(p.drops));
	p.be.hdr->cur = 10;
	CHECK_EQ(vring_be_tx_burst(&p.be, dst, olens, 64, p.drops, &kick), 20);
	CHECK_EQ(drops_total(&p), 0);
	port_close(&p);
}

static void t_tx_bad_slots(void)
{
	struct port p;
	static uint8_t pkts[16][64], out[16][2048];
	const void *src[16];
	void *dst[16];
	uint16_t lens[16], olens[16];
	int kick;
	uint32_t i;
	struct vring_slot *s;

	port_open(&p, VRING_KIND_TX, 64, 256, 64, 0, VRING_FEAT_OFFLOAD);
	for (i = 0; i < 16; i++) {
		lens[i] = make_packet(pkts[i], i, 60);
		src[i] = pkts[i];
		dst[i] = out[i];
	}
	CHECK_EQ(vring_fe_tx_burst(&p.fe, src, lens, 16, &kick), 16);
	s = p.be.slots;
	s[1].len = 0;
	s[2].len = 13;
	s[3].len = 257; /* buf_size + 1 */
	s[4].buf_idx = 64; /* nr_bufs */
	s[5].flags = 0x0100;
	s[6].flags = VRING_F_MORE; /* CHAIN not negotiated */
	s[7].flags = VRING_F_OFFLOAD;
	s[7].u.offload = mkofl(0, 0, 5, VRING_GSO_NONE, 0); /* gso_size without gso */
	s[8].buf_idx = 0xffffffffu;
	CHECK_EQ(vring_be_tx_burst(&p.be, dst, olens, 16, p.drops, &kick), 8);
	CHECK_EQ(p.drops[VRING_DROP_LEN_ZERO], 1);
	CHECK_EQ(p.drops[VRING_DROP_LEN_SHORT], 1);
	CHECK_EQ(p.drops[VRING_DROP_LEN_LONG], 1);
	CHECK_EQ(p.drops[VRING_DROP_BUF_IDX], 2);
	CHECK_EQ(p.drops[VRING_DROP_FLAGS], 2);
	CHECK_EQ(p.drops[VRING_DROP_OFFLOAD], 1);
	/* the good ones, in order: 0, 9..15 */
	CHECK(packet_ok(out[0], 0, olens[0]));
	for (i = 1; i < 8; i++)
		CHECK(packet_ok(out[i], 8 + i, olens[i]));
	/* every slot was consumed and given back */
	CHECK_EQ(p.be.hwcur, 16);
	CHECK_EQ(vring_fe_avail(&p.fe), 63);
	port_close(&p);
}

static void t_tx_burst_limit_with_drops(void)
{
	struct port p;
	static uint8_t pkt[64], out[8][2048];
	const void *src[8];
	void *dst[8];
	uint16_t lens[8], olens[8];
	int kick;
	uint32_t i;

	port_open(&p, VRING_KIND_TX, 64, 2048, 64, 0, 0);
	for (i = 0; i < 8; i++) {
		src[i] = pkt;
		lens[i] = 60;
		dst[i] = out[i];
	}
	CHECK_EQ(vring_fe_tx_burst(&p.fe, src, lens, 8, &kick), 8);
	p.be.slots[0].len = 0;
	p.be.slots[1].len = 0;
	/* n counts delivered packets, not slots: 2 drops + 2 packets consume 4 slots */
	CHECK_EQ(vring_be_tx_burst(&p.be, dst, olens, 2, p.drops, &kick), 2);
	CHECK_EQ(p.be.hwcur, 4);
	CHECK_EQ(p.drops[VRING_DROP_LEN_ZERO], 2);
	port_close(&p);
}

static void t_rx_foreign_buf(void)
{
	struct port p;
	static uint8_t pkt[64], out[8][2048];
	const void *src[8];
	void *dst[8];
	uint16_t lens[8], olens[8];
	int kick;
	uint32_t i;

	port_open(&p, VRING_KIND_RX, 64, 2048, 64, 0, 0);
	for (i = 0; i < 8; i++) {
		src[i] = pkt;
		lens[i] = make_packet(pkt, 1, 60);
		dst[i] = out[i];
	}
	p.be.slots[3].buf_idx = 64; /* a guest swapped in a foreign index */
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 8, p.drops, &kick), 3);
	CHECK_EQ(p.drops[VRING_DROP_BUF_IDX], 1);
	CHECK_EQ(p.be.hwtail, 3);
	CHECK_EQ(vring_fe_avail(&p.fe), 3); /* no gap: the guest sees 3 packets */
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 8, p.drops, &kick), 0);
	CHECK_EQ(p.drops[VRING_DROP_BUF_IDX], 2);
	p.be.slots[3].buf_idx = 3;
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 8, p.drops, &kick), 8);
	CHECK_EQ(vring_fe_rx_burst(&p.fe, dst, olens, 8, &kick), 8);
	port_close(&p);
}

static void t_rx_bad_head(void)
{
	struct port p;
	static uint8_t pkt[64], out[64][2048];
	const void *src[64];
	void *dst[64];
	uint16_t lens[64], olens[64];
	int kick;
	uint32_t i;

	port_open(&p, VRING_KIND_RX, 64, 2048, 64, 0, 0);
	for (i = 0; i < 64; i++) {
		src[i] = pkt;
		lens[i] = 60;
		dst[i] = out[i];
	}
	/* window [4, 12]: 12 published, 4 consumed */
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 12, p.drops, &kick), 12);
	CHECK_EQ(vring_fe_rx_burst(&p.fe, dst, olens, 4, &kick), 4);
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 0, p.drops, &kick), 0);
	CHECK_EQ(p.be.hwcur, 4);
	CHECK_EQ(p.be.hwtail, 12);
	p.be.hdr->head = 13; /* hwtail + 1: gives back a slot it never had */
	/* counted, and the burst goes on with the last valid head */
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 8, p.drops, &kick), 8);
	CHECK_EQ(p.drops[VRING_DROP_HEAD], 1);
	CHECK_EQ(p.be.hwcur, 4);
	p.be.hdr->head = 3; /* hwcur - 1: takes back a slot it gave */
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 8, p.drops, &kick), 8);
	CHECK_EQ(p.drops[VRING_DROP_HEAD], 2);
	p.be.hdr->head = 64;
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 8, p.drops, &kick), 8);
	p.be.hdr->head = 0xffffffffu;
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 64, p.drops, &kick), 63 - 8 - 24);
	CHECK_EQ(p.drops[VRING_DROP_HEAD], 4);
	CHECK_EQ(p.be.hwcur, 4);
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 8, p.drops, &kick), 0); /* full as of hwcur 4 */
	/* a bad cur with a good head is counted the same way */
	p.be.hdr->head = 10;
	p.be.hdr->cur = 9;
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 8, p.drops, &kick), 0);
	CHECK_EQ(p.drops[VRING_DROP_CUR], 1);
	CHECK_EQ(p.be.hwcur, 4);
	p.be.hdr->cur = 10;
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 8, p.drops, &kick), 6);
	CHECK_EQ(p.be.hwcur, 10);
	port_close(&p);
}

/* ------------------------------------------------------------------------ */
/* Guest-side robustness                                                    */

static void t_fe_tx_stops(void)
{
	struct port p;
	static uint8_t pkt[4096];
	const void *src[4] = {pkt, pkt, pkt, pkt};
	uint16_t lens[4] = {60, 13, 60, 60};
	int kick;

	port_open(&p, VRING_KIND_TX, 64, 2048, 64, 0, 0);
	CHECK_EQ(vring_fe_tx_burst(&p.fe, src, lens, 4, &kick), 1); /* stops at len 13 */
	lens[1] = 2049;
	CHECK_EQ(vring_fe_tx_burst(&p.fe, src, lens, 4, &kick), 1); /* and at buf_size + 1 */
	lens[1] = 2048;
	p.fe.slots[p.fe.head + 2].buf_idx = 64; /* a bad swap: never written through */
	CHECK_EQ(vring_fe_tx_burst(&p.fe, src, lens, 4, &kick), 2);
	CHECK_EQ(p.fe.head, 4);
	port_close(&p);
}

static void t_fe_rx_bad_slot(void)
{
	struct port p;
	static uint8_t pkt[64], out[4][2048];
	const void *src[4] = {pkt, pkt, pkt, pkt};
	void *dst[4] = {out[0], out[1], out[2], out[3]};
	uint16_t lens[4] = {60, 60, 60, 60}, olens[4];
	int kick;

	port_open(&p, VRING_KIND_RX, 64, 2048, 64, 0, 0);
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 4, p.drops, &kick), 4);
	p.be.slots[1].len = 2049;
	p.be.slots[2].buf_idx = 64;
	CHECK_EQ(vring_fe_rx_burst(&p.fe, dst, olens, 4, &kick), 4);
	CHECK_EQ(olens[0], 60);
	CHECK_EQ(olens[1], 0);
	CHECK_EQ(olens[2], 0);
	CHECK_EQ(olens[3], 60);
	port_close(&p);
}

/* ------------------------------------------------------------------------ */
/* Kicks                                                                    */

static void t_kick_rx_guest_sleeps(void)
{
	struct port p;
	static uint8_t pkt[64], out[4][2048];
	const void *src[1] = {pkt};
	void *dst[4] = {out[0], out[1], out[2], out[3]};
	uint16_t lens[1] = {60}, olens[4];
	int kick = -1;

	port_open(&p, VRING_KIND_RX, 64, 2048, 64, 0, 0);
	CHECK_EQ(vring_fe_prepare_sleep(&p.fe), 1); /* empty: may sleep */
	CHECK_EQ(p.fe.hdr->fe_need_kick, 1);
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 1, p.drops, &kick), 1);
	CHECK_EQ(kick, 1);
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 1, p.drops, &kick), 1);
	CHECK_EQ(kick, 1); /* still armed: one signal per burst until the guest wakes */
	vring_fe_woken(&p.fe);
	CHECK_EQ(p.fe.hdr->fe_need_kick, 0);
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 1, p.drops, &kick), 1);
	CHECK_EQ(kick, 0);
	/* packets pending: the re-check sees them, disarms and refuses to sleep */
	CHECK_EQ(vring_fe_prepare_sleep(&p.fe), 0);
	CHECK_EQ(p.fe.hdr->fe_need_kick, 0);
	CHECK_EQ(vring_fe_rx_burst(&p.fe, dst, olens, 4, &kick), 3);
	CHECK_EQ(kick, 0);
	/* an empty burst neither publishes nor kicks */
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 0, p.drops, &kick), 0);
	CHECK_EQ(kick, 0);
	port_close(&p);
}

static void t_kick_tx_backend_sleeps(void)
{
	struct port p;
	static uint8_t pkt[64], out[4][2048];
	const void *src[1] = {pkt};
	void *dst[4] = {out[0], out[1], out[2], out[3]};
	uint16_t lens[1] = {60}, olens[4];
	int kick = -1;

	port_open(&p, VRING_KIND_TX, 64, 2048, 64, 0, 0);
	CHECK_EQ(vring_be_prepare_sleep(&p.be), 1);
	CHECK_EQ(p.be.hdr->be_need_kick, 1);
	CHECK_EQ(vring_fe_tx_burst(&p.fe, src, lens, 1, &kick), 1);
	CHECK_EQ(kick, 1);
	vring_be_woken(&p.be);
	CHECK_EQ(vring_fe_tx_burst(&p.fe, src, lens, 1, &kick), 1);
	CHECK_EQ(kick, 0);
	CHECK_EQ(vring_be_prepare_sleep(&p.be), 0); /* work pending */
	CHECK_EQ(p.be.hdr->be_need_kick, 0);
	CHECK_EQ(vring_be_tx_burst(&p.be, dst, olens, 4, p.drops, &kick), 2);
	CHECK_EQ(kick, 0);
	/* a bad head: nothing usable, the backend may sleep */
	p.be.hdr->head = 0xffffffffu;
	CHECK_EQ(vring_be_prepare_sleep(&p.be), 1);
	port_close(&p);
}

static void t_kick_tx_guest_waits_for_slots(void)
{
	struct port p;
	static uint8_t pkt[64], out[64][2048];
	const void *src[64];
	void *dst[64];
	uint16_t lens[64], olens[64];
	int kick;
	uint32_t i;

	port_open(&p, VRING_KIND_TX, 64, 2048, 64, 0, 0);
	for (i = 0; i < 64; i++) {
		src[i] = pkt;
		lens[i] = 60;
		dst[i] = out[i];
	}
	CHECK_EQ(vring_fe_prepare_sleep(&p.fe), 0); /* 63 free slots: no sleep */
	CHECK_EQ(vring_fe_tx_burst(&p.fe, src, lens, 64, &kick), 63);
	CHECK_EQ(vring_fe_prepare_sleep(&p.fe), 1); /* full: wait for slots */
	CHECK_EQ(vring_be_tx_burst(&p.be, dst, olens, 1, p.drops, &kick), 1);
	CHECK_EQ(kick, 1);
	vring_fe_woken(&p.fe);
	CHECK_EQ(vring_be_tx_burst(&p.be, dst, olens, 1, p.drops, &kick), 1);
	CHECK_EQ(kick, 0);
	port_close(&p);
}

static void t_kick_rx_backend_waits_for_space(void)
{
	struct port p;
	static uint8_t pkt[64], out[64][2048];
	const void *src[64];
	void *dst[64];
	uint16_t lens[64], olens[64];
	int kick;
	uint32_t i;

	port_open(&p, VRING_KIND_RX, 64, 2048, 64, 0, 0);
	for (i = 0; i < 64; i++) {
		src[i] = pkt;
		lens[i] = 60;
		dst[i] = out[i];
	}
	CHECK_EQ(vring_be_prepare_sleep(&p.be), 0); /* space: a lossless port would not sleep */
	CHECK_EQ(vring_be_rx_burst(&p.be, src, lens, 64, p.drops, &kick), 63);
	CHECK_EQ(vring_be_prepare_sleep(&p.be), 1); /* full */
	CHECK_EQ(vring_fe_rx_burst(&p.fe, dst, olens, 5, &kick), 5);
	CHECK_EQ(kick, 1);
	vring_be_woken(&p.be);
	CHECK_EQ(vring_fe_rx_burst(&p.fe, dst, olens, 5, &kick), 5);
	CHECK_EQ(kick, 0);
	port_close(&p);
}

static void t_kick_words(void)
{
	uint32_t w = 0;

	vring_kick_arm(&w);
	CHECK_EQ(w, 1);
	CHECK(vring_kick_needed(&w));
	vring_kick_disarm(&w);
	CHECK_EQ(w, 0);
	CHECK(!vring_kick_needed(&w));
	w = 0xdeadbeefu; /* any nonzero word means "kick me" */
	CHECK(vring_kick_needed(&w));
}

/* Polling peers pass kick = NULL: every burst still moves and publishes. */
static void t_kick_null_polling(void)
{
	struct port tx, rx;
	static uint8_t pkt[64], out[4][2048];
	const void *src[2] = {pkt, pkt};
	void *dst[4] = {out[0], out[1], out[2], out[3]};
	uint16_t lens[2] = {60, 61}, olens[4];

	memset(pkt, 0xab, sizeof(pkt));
	port_open(&tx, VRING_KIND_TX, 64, 2048, 64, 0, 0);
	tx.be.hdr->be_need_kick = 1; /* even an armed peer gets no kick check */
	CHECK_EQ(vring_fe_tx_burst(&tx.fe, src, lens, 2, NULL), 2);
	CHECK_EQ(tx.be.hdr->head, 2);
	CHECK_EQ(vring_be_tx_burst(&tx.be, dst, olens, 4, tx.drops, NULL), 2);
	CHECK_EQ(olens[1], 61);
	CHECK_EQ(out[1][60], 0xab);
	CHECK_EQ(tx.be.hdr->tail, 1); /* slots 0 and 1 given back */
	port_close(&tx);

	port_open(&rx, VRING_KIND_RX, 64, 2048, 64, 0, 0);
	CHECK_EQ(vring_be_rx_burst(&rx.be, src, lens, 2, rx.drops, NULL), 2);
	CHECK_EQ(rx.be.hdr->tail, 2);
	CHECK_EQ(vring_fe_rx_burst(&rx.fe, dst, olens, 4, NULL), 2);
	CHECK_EQ(rx.be.hdr->head, 2);
	CHECK_EQ(olens[0], 60);
	port_close(&rx);
}

/* adopt: the private state another process's vring_be_init() would have left. */
static void t_be_adopt(void)
{
	struct port p;
	struct vring_be a;

	port_open(&p, VRING_KIND_TX, 128, 2048, 256, 0, VRING_FEAT_CHAIN);
	p.be.hdr->tail = 5; /* hostile: adopt must not read the shared header */
	CHECK_EQ(vring_be_adopt(&a, p.ring, p.pool, VRING_KIND_TX, 128, 2048, 256, VRING_FEAT_CHAIN), 0);
	CHECK(a.hdr == p.be.hdr && a.slots == p.be.slots && a.pool == p.be.pool);
	CHECK_EQ(a.hwcur, 0);
	CHECK_EQ(a.hwtail, 127);
	CHECK_EQ(a.mask, 127);
	CHECK_EQ(a.lim.nr_bufs, 256);
	CHECK_EQ(a.lim.features, VRING_FEAT_CHAIN);
	CHECK_EQ(vring_be_adopt(&a, p.ring, p.pool, VRING_KIND_RX, 128, 2048, 256, 0), 0);
	CHECK_EQ(a.hwtail, 0);
	CHECK_EQ(vring_be_adopt(&a, p.ring, p.pool, 3, 128, 2048, 256, 0), -VP_EINVAL);
	CHECK_EQ(vring_be_adopt(&a, p.ring, p.pool, VRING_KIND_TX, 100, 2048, 256, 0), -VP_EINVAL);
	CHECK_EQ(vring_be_adopt(&a, p.ring, p.pool, VRING_KIND_TX, 128, 2048, 256, 0x80), -VP_EINVAL);
	port_close(&p);
}

int main(void)
{
	tap_run("layout: slot 16 bytes, header 320, lines apart", t_layout);
	tap_run("index arithmetic: next, dist, pow2", t_index_arith);
	tap_run("geometry: slot counts, buffer sizes, empty pool", t_geometry);
	tap_run("check_head equals the slot-walking oracle for every index of a 64-slot ring", t_check_head_exhaustive);
	tap_run("check_cur equals the slot-walking oracle for every index of a 64-slot ring", t_check_cur_exhaustive);
	tap_run("check_head boundaries: hwtail+1, hwcur-1, num_slots, 2^32-1, wrapped windows", t_check_head_boundaries);
	tap_run("check_cur boundaries", t_check_cur_boundaries);
	tap_run("check_slot: buf_idx, len, flags and features at their limits, rule order", t_check_slot_rules);
	tap_run("check_offload: checksum span, unknown flags, gso type and size limits", t_check_offload_rules);
	tap_run("check_slot applies the offload word only to a first, unchained, flagged slot", t_check_slot_offload);
	tap_run("be_init writes the header and slots, TX gives the guest num_slots-1", t_be_init);
	tap_run("be_init rejects bad kinds, geometry, features, short memory, too few buffers", t_be_init_errors);
	tap_run("be_adopt rebuilds the private state from the caller's values, never the shared header", t_be_adopt);
	tap_run("fe_attach: ERANGE, EPROTO, EPROTONOSUPPORT, EINVAL (kind, geometry, indices)", t_fe_attach_errors);
	tap_run("TX bursts over 40 laps of 64- and 128-slot rings keep order and content", t_tx_laps);
	tap_run("RX bursts over 40 laps of 64- and 128-slot rings keep order and content", t_rx_laps);
	tap_run("TX: empty, exactly num_slots-1 in flight, then full", t_tx_full_and_empty);
	tap_run("RX: the backend never fills slot head-1", t_rx_full_and_empty);
	tap_run("TX: a bad head or cur is counted and consumes nothing", t_tx_bad_head);
	tap_run("TX: bad slots are dropped by reason, good ones delivered in order", t_tx_bad_slots);
	tap_run("TX: the burst limit counts delivered packets, not dropped slots", t_tx_burst_limit_with_drops);
	tap_run("RX: a foreign buf_idx stops the burst without a gap", t_rx_foreign_buf);
	tap_run("RX: a bad head is counted and the last valid head is used", t_rx_bad_head);
	tap_run("fe TX burst stops at a bad length or a bad buf_idx", t_fe_tx_stops);
	tap_run("fe RX burst never copies a bad len or buf_idx", t_fe_rx_bad_slot);
	tap_run("kick: guest sleeping on RX is kicked until it wakes", t_kick_rx_guest_sleeps);
	tap_run("kick: backend sleeping on TX is kicked until it wakes", t_kick_tx_backend_sleeps);
	tap_run("kick: guest waiting for TX slots is kicked on release", t_kick_tx_guest_waits_for_slots);
	tap_run("kick: lossless backend waiting for RX space is kicked", t_kick_rx_backend_waits_for_space);
	tap_run("kick words: arm, needed, disarm", t_kick_words);
	tap_run("kick = NULL (polling peers): bursts move and publish without a kick check", t_kick_null_polling);
	return tap_done();
}
