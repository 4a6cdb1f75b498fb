/* SPDX-License-Identifier: MIT */
/*
 * vring-pair: the one shared memfd.
 *
 *   +-----------------------+ 0
 *   | stats page(s)         |  struct pair_stats (stats.h)
 *   +-----------------------+ ring_off
 *   | ring region           |  vring_ring_bytes(slots), rounded up to pages
 *   +-----------------------+ pool_off
 *   | pool                  |  nr_bufs * buf_size (nr_bufs = slots)
 *   +-----------------------+ total (page aligned)
 *
 * The parent creates it; both peers find each part with pair_layout_of()
 * from their own command line, never from anything stored in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pair.h"
#include "stats.h"

static size_t page_round(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (n + pg - 1) / pg * pg;
}

void pair_layout_of(const struct pair_opts *o, struct pair_layout *l)
{
	l->nr_bufs = o->slots;
	l->stats_off = 0;
	l->stats_bytes = page_round(sizeof(struct pair_stats));
	l->ring_off = l->stats_off + l->stats_bytes;
	l->ring_bytes = page_round(vring_ring_bytes(o->slots));
	l->pool_off = l->ring_off + l->ring_bytes;
	l->pool_bytes = (size_t)l->nr_bufs * o->buf_size;
	l->total = page_round(l->pool_off + l->pool_bytes);
}

int pair_shm_create(const struct pair_layout *l)
{
	int fd = memfd_create("vring-pair", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int err;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)l->total) < 0)
		goto fail;
	/* the size is fixed for good: a peer can never SIGBUS the others */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		goto fail;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL) < 0)
		goto fail;
	return fd;
fail:
	err = errno;
	close(fd);
	return -err;
}

void *pair_shm_map(int fd, const struct pair_layout *l)
{
	void *p = mmap(NULL, l->total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

void pair_shm_unmap(void *base, const struct pair_layout *l)
{
	if (base)
		munmap(base, l->total);
}
