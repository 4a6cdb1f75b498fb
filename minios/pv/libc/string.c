/* SPDX-License-Identifier: MIT */
/*
 * string.c - byte and string functions. memcpy, memmove and memset move
 * aligned machine words where both sides allow it and bytes elsewhere; the
 * rest go byte by byte (configuration parsing, not the packet path).
 *
 * Built with -fno-builtin -fno-tree-loop-distribute-patterns (see the
 * Makefile) so GCC cannot turn these loops back into calls to themselves.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef uintptr_t __attribute__((__may_alias__)) word_t;
#define WORD sizeof(word_t)
#define MISALIGNED(p) ((uintptr_t)(p) & (WORD - 1))

/* Forwards, words where d and s share their alignment: safe for d <= s
 * even when the ranges overlap (each word is read before it is written
 * over), hence no restrict here. */
static void copy_fwd(unsigned char *d, const unsigned char *s, size_t n)
{
	if (MISALIGNED(d) == MISALIGNED(s)) {
		for (; n && MISALIGNED(d); n--)
			*d++ = *s++;
		for (; n >= WORD; n -= WORD, d += WORD, s += WORD)
			*(word_t *)(void *)d = *(const word_t *)(const void *)s;
	}
	for (; n; n--)
		*d++ = *s++;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	copy_fwd(dst, src, n);
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if ((uintptr_t)d - (uintptr_t)s >= n) { /* d below s, or apart: forwards */
		copy_fwd(d, s, n);
		return dst;
	}
	/* d inside [s, s + n): backwards */
	d += n;
	s += n;
	if (MISALIGNED(d) == MISALIGNED(s)) {
		for (; n && MISALIGNED(d); n--)
			*--d = *--s;
		for (; n >= WORD; n -= WORD) {
			d -= WORD;
			s -= WORD;
			*(word_t *)(void *)d = *(const word_t *)(const void *)s;
		}
	}
	for (; n; n--)
		*--d = *--s;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	word_t w = (word_t)-1 / 0xff * (unsigned char)c; /* c in every byte */

	for (; n && MISALIGNED(d); n--)
		*d++ = (unsigned char)c;
	for (; n >= WORD; n -= WORD, d += WORD)
		*(word_t *)(void *)d = w;
	for (; n; n--)
		*d++ = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

int bcmp(const void *a, const void *b, size_t n)
{
	return memcmp(a, b, n);
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (; n; n--, p++)
		if (*p == (unsigned char)c)
			return (void *)(uintptr_t)p;
	return NULL;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

	for (; *x && *x == *y; x++, y++)
		;
	return *x < *y ? -1 : *x > *y;
}

int strncmp(const char *a, const char *b, size_t n)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

	for (; n; n--, x++, y++) {
		if (*x != *y)
			return *x < *y ? -1 : 1;
		if (!*x)
			break;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)(uintptr_t)s;
		if (!*s)
			return NULL;
	}
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)(uintptr_t)last;
	}
}

char *strstr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return (char *)(uintptr_t)hay;
	for (; *hay; hay++)
		if (*hay == *needle && strncmp(hay, needle, n) == 0)
			return (char *)(uintptr_t)hay;
	return NULL;
}

/* in_set: c is one of the bytes of set (never the terminating NUL). */
static int in_set(char c, const char *set)
{
	for (; *set; set++)
		if (*set == c)
			return 1;
	return 0;
}

size_t strspn(const char *s, const char *accept)
{
	size_t n = 0;

	while (s[n] && in_set(s[n], accept))
		n++;
	return n;
}

size_t strcspn(const char *s, const char *reject)
{
	size_t n = 0;

	while (s[n] && !in_set(s[n], reject))
		n++;
	return n;
}

char *strpbrk(const char *s, const char *accept)
{
	s += strcspn(s, accept);
	return *s ? (char *)(uintptr_t)s : NULL;
}

char *stpcpy(char *restrict dst, const char *restrict src)
{
	while ((*dst = *src++) != '\0')
		dst++;
	return dst;
}

char *strcpy(char *restrict dst, const char *restrict src)
{
	stpcpy(dst, src);
	return dst;
}

char *strncpy(char *restrict dst, const char *restrict src, size_t n)
{
	size_t i = 0;

	for (; i < n && src[i]; i++)
		dst[i] = src[i];
	for (; i < n; i++)
		dst[i] = '\0';
	return dst;
}

char *strcat(char *restrict dst, const char *restrict src)
{
	stpcpy(dst + strlen(dst), src);
	return dst;
}

char *strncat(char *restrict dst, const char *restrict src, size_t n)
{
	char *d = dst + strlen(dst);

	for (; n && *src; n--)
		*d++ = *src++;
	*d = '\0';
	return dst;
}

char *strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = malloc(len + 1);

	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

char *strdup(const char *s)
{
	return strndup(s, SIZE_MAX);
}
