/* SPDX-License-Identifier: MIT */
/*
 * stdlib.h - the PV build's libc: the heap (over the region the kernel gives
 * mo_heap_init(), see mo_heap.h), sorting and searching, number parsing.
 * No exit(), abort(), getenv() or rand(): a PV kernel has no process to
 * leave and no environment; it stops itself with mo_libc_panic().
 */
#ifndef MO_LIBC_STDLIB_H
#define MO_LIBC_STDLIB_H

#include <stddef.h>

/* 16-byte aligned; NULL (and mo_heap_failed_allocs() counts it) when the
 * heap has no room. malloc(0) returns a unique pointer. free() and realloc()
 * call mo_libc_panic() on a pointer that is not a live allocation (double
 * free, corrupted block header, pointer from elsewhere). realloc(p, 0) frees
 * p and returns NULL; a failed realloc() leaves p untouched. */
void *malloc(size_t n);
void *calloc(size_t nmemb, size_t size);
void *realloc(void *p, size_t n);
void free(void *p);

/* In-place heapsort: O(n log n), no recursion, not stable. */
void qsort(void *base, size_t nmemb, size_t size, int (*cmp)(const void *, const void *));
void *bsearch(const void *key, const void *base, size_t nmemb, size_t size,
	      int (*cmp)(const void *, const void *));

/* C11 semantics in the "C" locale: leading white space, sign, base 0 (0x/0
 * prefixes) or 2..36; out of range: the type's limit and errno = ERANGE;
 * a bad base: 0 and errno = EINVAL. */
long strtol(const char *restrict s, char **restrict end, int base);
unsigned long strtoul(const char *restrict s, char **restrict end, int base);
long long strtoll(const char *restrict s, char **restrict end, int base);
unsigned long long strtoull(const char *restrict s, char **restrict end, int base);

int abs(int v);
long labs(long v);
long long llabs(long long v);

#endif /* MO_LIBC_STDLIB_H */
