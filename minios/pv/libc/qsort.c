/* SPDX-License-Identifier: MIT */
/*
 * qsort.c - qsort as an in-place heapsort (O(n log n) worst case, constant
 * stack, not stable) and bsearch.
 */
#include <stdlib.h>

static void swap(unsigned char *a, unsigned char *b, size_t size)
{
	for (; size; size--, a++, b++) {
		unsigned char t = *a;

		*a = *b;
		*b = t;
	}
}

/* Restores the max-heap below root in base[0, n), n >= 1. */
static void sift_down(unsigned char *base, size_t size, size_t root, size_t n,
		      int (*cmp)(const void *, const void *))
{
	while (n >= 2 && root <= (n - 2) / 2) { /* root has a child: 2 * root + 1 <= n - 1 */
		size_t child = 2 * root + 1;

		if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0)
			child++;
		if (cmp(base + root * size, base + child * size) >= 0)
			return;
		swap(base + root * size, base + child * size, size);
		root = child;
	}
}

void qsort(void *base, size_t nmemb, size_t size, int (*cmp)(const void *, const void *))
{
	unsigned char *b = base;

	if (nmemb < 2 || size == 0)
		return;
	for (size_t i = nmemb / 2; i-- > 0;)
		sift_down(b, size, i, nmemb, cmp);
	for (size_t end = nmemb - 1; end > 0; end--) {
		swap(b, b + end * size, size); /* the largest left goes last */
		sift_down(b, size, 0, end, cmp);
	}
}

void *bsearch(const void *key, const void *base, size_t nmemb, size_t size,
	      int (*cmp)(const void *, const void *))
{
	const unsigned char *b = base;

	while (nmemb > 0) {
		const unsigned char *mid = b + (nmemb / 2) * size;
		int c = cmp(key, mid);

		if (c == 0)
			return (void *)(__UINTPTR_TYPE__)mid;
		if (c > 0) {
			b = mid + size;
			nmemb -= nmemb / 2 + 1;
		} else {
			nmemb /= 2;
		}
	}
	return NULL;
}
