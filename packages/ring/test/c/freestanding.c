/* SPDX-License-Identifier: MIT */
/*
 * freestanding.c - proves the ring core builds with -ffreestanding -nostdinc
 * (no libc headers) and links against nothing but what a freestanding GCC
 * target provides (memcpy and friends). Each function below instantiates
 * one helper, so every static inline of the three headers is compiled.
 * c-programs.test.ts checks `nm -u` of the object.
 */
#include "vpio/ring.h"
#include "vpio/ring_be.h"
#include "vpio/ring_fe.h"

int fs_be_init(struct vring_be *be, void *ring, uint32_t ring_bytes, void *pool, uint32_t kind, uint32_t n);
uint32_t fs_be_tx(struct vring_be *be, void *const dst[], uint16_t lens[], uint32_t n, uint64_t drops[],
		  int *kick);
uint32_t fs_be_rx(struct vring_be *be, const void *const src[], const uint16_t lens[], uint32_t n,
		  uint64_t drops[], int *kick);
int fs_be_sleep(struct vring_be *be);
int fs_fe_attach(struct vring_fe *fe, void *ring, uint64_t ring_bytes, void *pool, uint64_t pool_bytes,
		 uint32_t kind);
uint32_t fs_fe_tx(struct vring_fe *fe, const void *const src[], const uint16_t lens[], uint32_t n, int *kick);
uint32_t fs_fe_rx(struct vring_fe *fe, void *const dst[], uint16_t lens[], uint32_t n, int *kick);
int fs_fe_sleep(struct vring_fe *fe);
enum vring_verdict fs_check(const struct vring_slot *s, const struct vring_limits *l, uint32_t head,
			    uint32_t hwcur, uint32_t hwtail, uint32_t num_slots);

int fs_be_init(struct vring_be *be, void *ring, uint32_t ring_bytes, void *pool, uint32_t kind, uint32_t n)
{
	return vring_be_init(be, ring, ring_bytes, pool, kind, n, VRING_DEFAULT_BUF_SIZE, 2 * n, 0, 0);
}

uint32_t fs_be_tx(struct vring_be *be, void *const dst[], uint16_t lens[], uint32_t n, uint64_t drops[],
		  int *kick)
{
	return vring_be_tx_burst(be, dst, lens, n, drops, kick);
}

uint32_t fs_be_rx(struct vring_be *be, const void *const src[], const uint16_t lens[], uint32_t n,
		  uint64_t drops[], int *kick)
{
	return vring_be_rx_burst(be, src, lens, n, drops, kick);
}

int fs_be_sleep(struct vring_be *be)
{
	int r = vring_be_prepare_sleep(be);

	if (r)
		vring_be_woken(be);
	return r;
}

int fs_fe_attach(struct vring_fe *fe, void *ring, uint64_t ring_bytes, void *pool, uint64_t pool_bytes,
		 uint32_t kind)
{
	return vring_fe_attach(fe, ring, ring_bytes, pool, pool_bytes, kind);
}

uint32_t fs_fe_tx(struct vring_fe *fe, const void *const src[], const uint16_t lens[], uint32_t n, int *kick)
{
	return vring_fe_tx_burst(fe, src, lens, n, kick);
}

uint32_t fs_fe_rx(struct vring_fe *fe, void *const dst[], uint16_t lens[], uint32_t n, int *kick)
{
	return vring_fe_rx_burst(fe, dst, lens, n, kick);
}

int fs_fe_sleep(struct vring_fe *fe)
{
	int r = vring_fe_prepare_sleep(fe);

	if (r)
		vring_fe_woken(fe);
	return r + (int)vring_fe_avail_cached(fe, 1);
}

enum vring_verdict fs_check(const struct vring_slot *s, const struct vring_limits *l, uint32_t head,
			    uint32_t hwcur, uint32_t hwtail, uint32_t num_slots)
{
	enum vring_verdict v = vring_check_head(head, hwcur, hwtail, num_slots);

	if (v == VRING_OK)
		v = vring_check_cur(head, head, hwtail, num_slots);
	if (v == VRING_OK)
		v = vring_check_slot(s, l, 1);
	if (v == VRING_OK && vring_check_geometry(num_slots, l->buf_size, l->nr_bufs))
		v = VRING_DROP_HEAD;
	return v;
}
