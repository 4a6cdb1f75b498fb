/* SPDX-License-Identifier: MIT */
/*
 * region.c - mapping a client's regions and placing its rings in them.
 *
 * A region is the client's memfd. We map it MAP_SHARED and read and write
 * it while the client runs; if the client could shrink the file afterwards,
 * our next access past the new end would raise SIGBUS in the server. So a
 * region is mapped only when the file is sealed against shrinking
 * (F_SEAL_SHRINK, which DPDK's net_memif adds to every region it creates)
 * and already holds the announced size. Everything else about the region
 * (its contents, the rings in it) stays hostile and is validated per use.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memif_internal.h"

#define REFUSE(r, ...)                                                                                 \
	do {                                                                                           \
		snprintf(why, why_len, __VA_ARGS__);                                                   \
		*reason = (r);                                                                         \
		return -1;                                                                             \
	} while (0)

int vmif_region_map(struct vmif_if *ifp, uint16_t index, uint64_t size, int fd, char *why, size_t why_len,
		    enum vmif_refusal *reason)
{
	const struct vmif_server_config *cfg = &ifp->srv->cfg;
	struct stat st;
	int seals;
	void *p;

	if (index != ifp->n_regions || index >= cfg->max_regions)
		REFUSE(VMIF_REFUSE_REGION_INDEX, "region index %u: expected %u (at most %u regions)", index,
		       ifp->n_regions, cfg->max_regions);
	if (size == 0 || size > cfg->max_region_bytes)
		REFUSE(VMIF_REFUSE_REGION_SIZE, "region %u size %llu: must be 1..%llu bytes", index,
		       (unsigned long long)size, (unsigned long long)cfg->max_region_bytes);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		REFUSE(VMIF_REFUSE_REGION_FD, "region %u: fd is not a memfd", index);
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		REFUSE(VMIF_REFUSE_REGION_UNSEALED,
		       "region %u cannot be sealed: a memif client must use a memfd (MFD_ALLOW_SEALING)", index);
	if (!(seals & F_SEAL_SHRINK))
		REFUSE(VMIF_REFUSE_REGION_UNSEALED,
		       "region %u is not sealed against shrinking: a memif client must seal it (memfd F_SEAL_SHRINK)",
		       index);
	if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
		REFUSE(VMIF_REFUSE_REGION_FD, "region %u is write-sealed: rings must be writable", index);
	/* Sealed against shrinking, so this size is a floor from now on. */
	if (st.st_size < 0 || (uint64_t)st.st_size < size)
		REFUSE(VMIF_REFUSE_REGION_SIZE, "region %u: file holds %lld bytes, %llu announced", index,
		       (long long)st.st_size, (unsigned long long)size);
	p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		REFUSE(VMIF_REFUSE_REGION_FD, "region %u: mmap failed: %s", index, strerror(errno));
	ifp->regions[index].base = p;
	ifp->regions[index].size = size;
	ifp->n_regions++;
	return 0;
}

/* Only an eventfd can be written without blocking forever by a full pipe. */
static int is_eventfd(int fd)
{
	char link[64], target[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[eventfd]") == 0;
}

int vmif_ring_place(struct vmif_if *ifp, const struct vmif_msg_add_ring *ar, int fd, char *why, size_t why_len,
		    enum vmif_refusal *reason)
{
	const struct vmif_server_config *cfg = &ifp->srv->cfg;
	uint16_t flags = ar->flags, index = ar->index, region = ar->region, hdr = ar->private_hdr_size;
	uint32_t offset = ar->offset;
	uint8_t log2 = ar->log2_ring_size;
	int c2s = (flags & VMIF_ADD_RING_FLAG_C2S) != 0;
	const char *dir = c2s ? "c2s" : "s2c";
	struct vmif_queue *q;
	struct vmif_region *r;

	if (flags & ~VMIF_ADD_RING_FLAG_C2S)
		REFUSE(VMIF_REFUSE_RING_PARAM, "ring flags 0x%x: only C2S (0x1) is defined", flags);
	if (index >= cfg->max_queue_pairs)
		REFUSE(VMIF_REFUSE_RING_INDEX, "%s ring %u: at most %u rings per direction", dir, index,
		       cfg->max_queue_pairs);
	q = c2s ? &ifp->rxq[index] : &ifp->txq[index];
	if (q->added)
		REFUSE(VMIF_REFUSE_RING_INDEX, "%s ring %u added twice", dir, index);
	if (log2 > cfg->max_log2_ring_size)
		REFUSE(VMIF_REFUSE_RING_PARAM, "%s ring %u: log2 size %u > %u", dir, index, log2,
		       cfg->max_log2_ring_size);
	if (hdr != 0)
		REFUSE(VMIF_REFUSE_RING_PARAM, "%s ring %u: private_hdr_size %u is not supported", dir, index, hdr);
	if (region >= ifp->n_regions)
		REFUSE(VMIF_REFUSE_RING_PARAM, "%s ring %u: region %u not added", dir, index, region);
	r = &ifp->regions[region];
	if (offset % 16 != 0)
		REFUSE(VMIF_REFUSE_RING_PARAM, "%s ring %u: offset %u not 16-byte aligned", dir, index, offset);
	if ((uint64_t)offset + VMIF_RING_BYTES(log2) > r->size)
		REFUSE(VMIF_REFUSE_RING_PARAM, "%s ring %u: %llu bytes at offset %u exceed region %u (%llu bytes)",
		       dir, index, (unsigned long long)VMIF_RING_BYTES(log2), offset, region,
		       (unsigned long long)r->size);
	if (!is_eventfd(fd))
		REFUSE(VMIF_REFUSE_RING_FD, "%s ring %u: interrupt fd is not an eventfd", dir, index);

	q->ring = (struct vmif_ring *)(r->base + offset);
	q->fd = fd;
	q->log2 = log2;
	q->ring_size = (uint16_t)(1u << log2);
	q->mask = (uint16_t)(q->ring_size - 1);
	q->next = 0;
	q->added = 1;
	return 0;
}

void vmif_regions_unmap(struct vmif_if *ifp)
{
	for (unsigned i = 0; i < ifp->n_regions; i++) {
		if (ifp->regions[i].base)
			munmap(ifp->regions[i].base, (size_t)ifp->regions[i].size);
		ifp->regions[i].base = NULL;
		ifp->regions[i].size = 0;
	}
	ifp->n_regions = 0;
}
