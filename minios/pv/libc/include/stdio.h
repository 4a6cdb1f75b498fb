/* SPDX-License-Identifier: MIT */
/*
 * stdio.h - formatting only: a PV kernel has no files. Its console output
 * formats with vsnprintf() into a buffer and writes that to the console
 * ring itself.
 *
 * Conversions: d i u o x X c s p %; flags - 0 + space #; width and
 * precision, also as *; length hh h l ll z t j. %p prints as %#lx
 * ("(nil)" for NULL), %s of NULL as "(null)", as glibc does.
 * Not supported: floating point (a, e, f, g: the PV build has no FPU/SSE
 * state, -mgeneral-regs-only), %n, wide characters (%lc, %ls), L. An
 * unsupported or incomplete conversion is copied as is and ends the output:
 * its argument cannot be skipped safely, so later ones are not read.
 *
 * Both return the length the whole output would have had (C99), or -1 when
 * that, or a width or precision in the format, exceeds INT_MAX (errno =
 * EOVERFLOW). The output is truncated to size - 1 bytes and always
 * NUL-terminated when size > 0; buf may be NULL when size is 0.
 */
#ifndef MO_LIBC_STDIO_H
#define MO_LIBC_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#define EOF (-1)

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
	__attribute__((__format__(__printf__, 3, 4)));
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
	__attribute__((__format__(__printf__, 3, 0)));

#endif /* MO_LIBC_STDIO_H */
