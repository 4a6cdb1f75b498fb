/* SPDX-License-Identifier: MIT */
/*
 * string.h - byte and string functions of the PV build's libc (see
 * minios/README.md, "The PV build's libc"). C11 semantics; memcpy, memmove,
 * memset, memcmp and strlen are also what GCC emits calls to on its own.
 */
#ifndef MO_LIBC_STRING_H
#define MO_LIBC_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
int bcmp(const void *a, const void *b, size_t n); /* clang emits it for memcmp() == 0 */
void *memchr(const void *s, int c, size_t n);

size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *hay, const char *needle);
size_t strspn(const char *s, const char *accept);
size_t strcspn(const char *s, const char *reject);
char *strpbrk(const char *s, const char *accept);

char *strcpy(char *restrict dst, const char *restrict src);
char *stpcpy(char *restrict dst, const char *restrict src);
char *strncpy(char *restrict dst, const char *restrict src, size_t n);
char *strcat(char *restrict dst, const char *restrict src);
char *strncat(char *restrict dst, const char *restrict src, size_t n);

/* malloc()ed copies; NULL when the heap has no room. */
char *strdup(const char *s);
char *strndup(const char *s, size_t n);

#endif /* MO_LIBC_STRING_H */
