/* SPDX-License-Identifier: MIT */
/*
 * malloc.c - the heap (layout and checks: include/mo_heap.h): first fit over
 * one address-ordered free list, 16-byte blocks, immediate coalescing.
 *
 * Every block starts with a 16-byte header { size, tag }. size covers the
 * whole block, header included: a multiple of 16, at least MIN_BLOCK, so
 * the blocks tile [heap.lo, heap.hi) and mo_heap_check() can walk them.
 * tag = block address ^ size ^ KEY_USED or KEY_FREE: a header copied,
 * shifted or overwritten no longer matches its address. A free block keeps
 * the next free block (higher address) right after its header. A header
 * swallowed by a merge is left tagged KEY_GONE with size 0.
 *
 * Not reentrant (see mo_heap.h): one cooperative thread at a time.
 */
#include <mo_heap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 16u
#define HDR 16u
#define MIN_BLOCK 32u
#define KEY_USED ((uintptr_t)0x7573656475736564ull) /* "usedused" (truncated on 32-bit) */
#define KEY_FREE ((uintptr_t)0x6672656566726565ull) /* "freefree" */
#define KEY_GONE ((uintptr_t)0x676f6e65676f6e65ull) /* "gonegone": merged into the free block before it */

struct blk {
	size_t size;
	uintptr_t tag;
	struct blk *next; /* free blocks only: the next free block, in the payload */
};

_Static_assert(sizeof(size_t) + sizeof(uintptr_t) <= HDR, "the header fits in 16 bytes");
_Static_assert(sizeof(struct blk) <= MIN_BLOCK, "a free block holds its list link");

static struct {
	uintptr_t lo, hi;	/* the blocks tile [lo, hi); lo == hi: no heap */
	struct blk *free_list;	/* ascending addresses, never two adjacent */
	size_t free_bytes;	/* sum of free blocks' sizes */
	size_t used_blocks;
	unsigned long failed_allocs;
} heap;

static uintptr_t tag_for(const struct blk *b, size_t size, uintptr_t key)
{
	return (uintptr_t)b ^ size ^ key;
}

static void set_header(struct blk *b, size_t size, uintptr_t key)
{
	b->size = size;
	b->tag = tag_for(b, size, key);
}

static int has_key(const struct blk *b, uintptr_t key)
{
	return b->tag == tag_for(b, b->size, key);
}

/* A header merged into the free block before it: size 0, tagged gone, so a
 * second free of it is still told apart from a wild pointer (until that
 * memory is handed out again). */
static void wipe(struct blk *b)
{
	set_header(b, 0, KEY_GONE);
}

/* Bytes of the block that serves a payload of n bytes; 0 when n is too big. */
static size_t block_size(size_t n)
{
	size_t need;

	if (n > SIZE_MAX - HDR - ALIGN)
		return 0;
	need = (n + HDR + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	return need < MIN_BLOCK ? MIN_BLOCK : need;
}

/* The live block of payload pointer p; panics on anything else. */
static struct blk *live_block(void *p)
{
	uintptr_t u = (uintptr_t)p;
	struct blk *b;

	if (u % ALIGN != 0 || u < heap.lo + HDR || u >= heap.hi)
		mo_libc_panic("heap: free/realloc of a pointer outside the heap or not 16-byte aligned");
	b = (struct blk *)(u - HDR);
	if (has_key(b, KEY_FREE) || (b->size == 0 && has_key(b, KEY_GONE)))
		mo_libc_panic("heap: double free");
	if (!has_key(b, KEY_USED) || b->size < MIN_BLOCK || b->size % ALIGN != 0 || b->size > heap.hi - (u - HDR))
		mo_libc_panic("heap: corrupted block header, or a pointer malloc did not return");
	return b;
}

/* Puts [b, b + size) on the free list, merged with free neighbours. */
static void release(struct blk *b, size_t size)
{
	uintptr_t start = (uintptr_t)b, end = start + size;
	struct blk **link = &heap.free_list, *prev = NULL, *next;

	while ((next = *link) != NULL && (uintptr_t)next < start) {
		prev = next;
		link = &next->next;
	}
	if ((prev != NULL && (uintptr_t)prev + prev->size > start) || (next != NULL && (uintptr_t)next < end))
		mo_libc_panic("heap: a freed block overlaps a free one (corrupted heap)");
	heap.free_bytes += size;
	if (next != NULL && (uintptr_t)next == end) { /* merge with the block after */
		size += next->size;
		next = next->next;
		wipe((struct blk *)end);
	}
	if (prev != NULL && (uintptr_t)prev + prev->size == start) { /* merge into the block before */
		set_header(prev, prev->size + size, KEY_FREE);
		prev->next = next;
		wipe(b);
	} else {
		set_header(b, size, KEY_FREE);
		b->next = next;
		*link = b;
	}
}

/*
 * First fit: the first free block holding `need` bytes whose payload can
 * start at a multiple of align (16, or a page). What is left in front (at
 * least MIN_BLOCK) and behind (if at least MIN_BLOCK, else it stays in the
 * block) remains free.
 */
static void *carve(size_t need, uintptr_t align)
{
	struct blk **link = &heap.free_list, *b;

	for (; (b = *link) != NULL; link = &b->next) {
		uintptr_t start = (uintptr_t)b, end = start + b->size, at = start;
		size_t tail;
		struct blk *after = b->next, *u;

		if (align > ALIGN) {
			uintptr_t payload = start + HDR;

			at = payload + (-payload & (align - 1)) - HDR;
			if (at != start && at - start < MIN_BLOCK)
				at += align; /* a 16-byte gap cannot be a block */
		}
		if (at > end || end - at < need)
			continue;
		tail = end - at - need;
		if (tail < MIN_BLOCK) {
			need += tail;
			tail = 0;
		}
		if (at > start) { /* the gap in front stays free, b->next is rewritten below */
			set_header(b, at - start, KEY_FREE);
			link = &b->next;
		}
		if (tail > 0) {
			struct blk *t = (struct blk *)(at + need);

			set_header(t, tail, KEY_FREE);
			t->next = after;
			*link = t;
		} else {
			*link = after;
		}
		u = (struct blk *)at;
		set_header(u, need, KEY_USED);
		heap.free_bytes -= need;
		heap.used_blocks++;
		return (void *)(at + HDR);
	}
	heap.failed_allocs++;
	return NULL;
}

/* Cuts live block b down to `need` bytes, freeing the rest if it makes a block. */
static void shrink(struct blk *b, size_t need)
{
	size_t rest = b->size - need;

	if (rest >= MIN_BLOCK) {
		set_header(b, need, KEY_USED);
		release((struct blk *)((uintptr_t)b + need), rest);
	}
}

static void free_block(struct blk *b)
{
	heap.used_blocks--;
	release(b, b->size);
}

void mo_heap_init(void *base, size_t bytes)
{
	uintptr_t lo = ((uintptr_t)base + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1);
	uintptr_t hi = ((uintptr_t)base + bytes) & ~(uintptr_t)(ALIGN - 1);
	struct blk *b;

	memset(&heap, 0, sizeof(heap));
	if (hi <= lo || hi - lo < MIN_BLOCK)
		return; /* no heap: every allocation fails */
	heap.lo = lo;
	heap.hi = hi;
	b = (struct blk *)lo;
	set_header(b, hi - lo, KEY_FREE);
	b->next = NULL;
	heap.free_list = b;
	heap.free_bytes = hi - lo;
}

void *malloc(size_t n)
{
	size_t need = block_size(n);

	if (need == 0) {
		heap.failed_allocs++;
		return NULL;
	}
	return carve(need, ALIGN);
}

void *calloc(size_t nmemb, size_t size)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size) {
		heap.failed_allocs++;
		return NULL;
	}
	p = malloc(nmemb * size);
	if (p != NULL)
		memset(p, 0, nmemb * size);
	return p;
}

void free(void *p)
{
	if (p != NULL)
		free_block(live_block(p));
}

void *realloc(void *p, size_t n)
{
	struct blk *b, *nb;
	size_t need;
	uintptr_t after;
	void *q;

	if (p == NULL)
		return malloc(n);
	b = live_block(p);
	if (n == 0) {
		free_block(b);
		return NULL;
	}
	need = block_size(n);
	if (need == 0) {
		heap.failed_allocs++;
		return NULL;
	}
	if (need <= b->size) {
		shrink(b, need);
		return p;
	}
	after = (uintptr_t)b + b->size;
	nb = (struct blk *)after;
	if (after < heap.hi && has_key(nb, KEY_FREE) && b->size + nb->size >= need) {
		struct blk **link = &heap.free_list; /* grow into the free block after: unlink it */

		while (*link != NULL && *link != nb)
			link = &(*link)->next;
		if (*link == NULL)
			mo_libc_panic("heap: a free block missing from the free list (corrupted heap)");
		*link = nb->next;
		heap.free_bytes -= nb->size;
		set_header(b, b->size + nb->size, KEY_USED);
		wipe(nb);
		shrink(b, need);
		return p;
	}
	q = carve(need, ALIGN);
	if (q == NULL)
		return NULL;
	memcpy(q, p, b->size - HDR); /* the old payload: smaller than the new one */
	free_block(b);
	return q;
}

void *mo_heap_alloc_pages(size_t npages)
{
	if (npages == 0)
		return NULL;
	if (npages > (SIZE_MAX - 2 * MO_PAGE_SIZE) / MO_PAGE_SIZE) {
		heap.failed_allocs++;
		return NULL;
	}
	return carve(block_size(npages * MO_PAGE_SIZE), MO_PAGE_SIZE);
}

void mo_heap_free_pages(void *p)
{
	if (p == NULL)
		return;
	if ((uintptr_t)p % MO_PAGE_SIZE != 0)
		mo_libc_panic("heap: mo_heap_free_pages of a pointer that is not page-aligned");
	free_block(live_block(p));
}

size_t mo_heap_free_bytes(void)
{
	return heap.free_bytes;
}

unsigned long mo_heap_failed_allocs(void)
{
	return heap.failed_allocs;
}

void mo_heap_get_stats(struct mo_heap_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->heap_bytes = heap.hi - heap.lo;
	st->free_bytes = heap.free_bytes;
	st->used_blocks = heap.used_blocks;
	st->failed_allocs = heap.failed_allocs;
	for (const struct blk *b = heap.free_list; b != NULL; b = b->next) {
		st->free_blocks++;
		if (b->size > st->largest_free)
			st->largest_free = b->size;
	}
}

void mo_heap_check(void)
{
	const struct blk *expect_free = heap.free_list;
	size_t free_bytes = 0, used = 0;
	int prev_free = 0;

	for (uintptr_t at = heap.lo; at < heap.hi;) {
		const struct blk *b = (const struct blk *)at;

		if (b->size < MIN_BLOCK || b->size % ALIGN != 0 || b->size > heap.hi - at)
			mo_libc_panic("heap check: a block size out of bounds (corrupted header)");
		if (has_key(b, KEY_FREE)) {
			if (b != expect_free)
				mo_libc_panic("heap check: a free block that is not next on the free list");
			if (prev_free)
				mo_libc_panic("heap check: two adjacent free blocks (not merged)");
			free_bytes += b->size;
			expect_free = b->next;
			prev_free = 1;
		} else if (has_key(b, KEY_USED)) {
			used++;
			prev_free = 0;
		} else {
			mo_libc_panic("heap check: corrupted block header");
		}
		at += b->size;
	}
	if (expect_free != NULL)
		mo_libc_panic("heap check: the free list holds a block the walk did not meet");
	if (free_bytes != heap.free_bytes || used != heap.used_blocks)
		mo_libc_panic("heap check: free byte or block counters disagree with the blocks");
}
