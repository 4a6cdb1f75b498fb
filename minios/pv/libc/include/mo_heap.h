/* SPDX-License-Identifier: MIT */
/*
 * mo_heap.h - the heap behind malloc() in the PV build, and the one symbol
 * the libc needs from the kernel.
 *
 * The kernel hands one region over at boot with mo_heap_init(); malloc(),
 * calloc(), realloc(), free(), strdup() and the page allocations below all
 * carve it. First fit over one free list kept in address order; a freed
 * block merges with free neighbours at once, so a heap whose allocations
 * were all freed is one free block of mo_heap_stats().heap_bytes again.
 *
 *   region:  | hdr | payload ... | hdr | payload | hdr | free ...        |
 *            ^ base rounded up to 16                     region end rounded down ^
 *   hdr (16 bytes): size of the whole block (header included, multiple of
 *   16, at least 32) and a tag = block address ^ size ^ (used or free key).
 *   A free block keeps the next free block's address in its payload.
 *
 * free()/realloc()/mo_heap_free_pages() check the tag before they touch
 * anything: a free tag is a double free (so is the "gone" tag a header
 * keeps after merging into the free block before it, until that memory is
 * handed out again), any other mismatch a corrupted header or a pointer
 * that malloc never returned; both call mo_libc_panic(). An overrun that
 * rewrites the next block's header is caught when that block is freed, or
 * by mo_heap_check().
 *
 * Not reentrant: one thread of a cooperative scheduler at a time. Do not
 * call it from an event-channel upcall that may interrupt a thread.
 */
#ifndef MO_LIBC_MO_HEAP_H
#define MO_LIBC_MO_HEAP_H

#include <stddef.h>

#define MO_PAGE_SIZE 4096u

/* Provided by the kernel, not by the libc: prints msg and stops. Called on
 * heap corruption (double free, bad header, pointer not from the heap). */
_Noreturn void mo_libc_panic(const char *msg);

/* Gives [base, base + bytes) to the heap, dropping whatever it held before.
 * base is rounded up and the end down to 16 bytes; a region too small for
 * one block (32 bytes) leaves an empty heap on which every allocation fails. */
void mo_heap_init(void *base, size_t bytes);

/* npages * MO_PAGE_SIZE bytes at a MO_PAGE_SIZE-aligned address (page tables,
 * thread stacks), not zeroed; NULL for npages == 0 or when no free block
 * holds an aligned run that long (counted as a failed allocation). */
void *mo_heap_alloc_pages(size_t npages);

/* Frees what mo_heap_alloc_pages() returned (free() does too); NULL: no-op.
 * Panics on a pointer that is not page-aligned or not a live allocation. */
void mo_heap_free_pages(void *p);

/* Bytes in free blocks, their 16-byte headers included. */
size_t mo_heap_free_bytes(void);

/* Allocations that returned NULL for want of room (or of size overflow)
 * since mo_heap_init(). */
unsigned long mo_heap_failed_allocs(void);

struct mo_heap_stats {
	size_t heap_bytes;   /* the managed region, after alignment */
	size_t free_bytes;   /* = mo_heap_free_bytes() */
	size_t free_blocks;  /* 1 when nothing is allocated (0 on a full heap) */
	size_t largest_free; /* the largest free block, header included */
	size_t used_blocks;  /* live allocations */
	unsigned long failed_allocs;
};

void mo_heap_get_stats(struct mo_heap_stats *st);

/* Walks every block in address order and checks each header, the free list
 * (address order, no two free blocks adjacent) and the free byte count;
 * calls mo_libc_panic() at the first inconsistency. For debug builds and
 * tests: O(blocks). */
void mo_heap_check(void);

#endif /* MO_LIBC_MO_HEAP_H */
