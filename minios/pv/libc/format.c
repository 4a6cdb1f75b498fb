/* SPDX-License-Identifier: MIT */
/*
 * format.c - snprintf and vsnprintf without floating point (stdio.h lists
 * what is supported). Output goes through a bounded sink that counts every
 * byte it was offered, so the return value is the untruncated length.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct sink {
	char *buf;
	size_t cap;    /* bytes buf may take, the NUL included */
	size_t stored; /* bytes stored in buf (at most cap - 1) */
	size_t len;    /* bytes offered so far, saturating at SIZE_MAX */
};

/* Bytes the buffer still takes before its NUL. */
static size_t room(const struct sink *o)
{
	return o->cap > 0 ? o->cap - 1 - o->stored : 0;
}

static void count(struct sink *o, size_t n)
{
	o->len = n > SIZE_MAX - o->len ? SIZE_MAX : o->len + n;
}

static void put(struct sink *o, const char *s, size_t n)
{
	size_t k = n < room(o) ? n : room(o);

	if (k > 0) {
		memcpy(o->buf + o->stored, s, k);
		o->stored += k;
	}
	count(o, n);
}

/* n copies of c; a huge width costs no time once the buffer is full. */
static void pad(struct sink *o, char c, size_t n)
{
	size_t k = n < room(o) ? n : room(o);

	if (k > 0) {
		memset(o->buf + o->stored, c, k);
		o->stored += k;
	}
	count(o, n);
}

enum {
	F_LEFT = 1,   /* '-' */
	F_ZERO = 2,   /* '0' */
	F_PLUS = 4,   /* '+' */
	F_SPACE = 8,  /* ' ' */
	F_ALT = 16,   /* '#' */
};

struct spec {
	unsigned flags;
	size_t width;
	int prec; /* -1: none */
};

/* s[0, n) padded to the width (spaces; strings and characters ignore '0'). */
static void put_padded(struct sink *o, const struct spec *sp, const char *s, size_t n)
{
	size_t fill = sp->width > n ? sp->width - n : 0;

	if (!(sp->flags & F_LEFT))
		pad(o, ' ', fill);
	put(o, s, n);
	if (sp->flags & F_LEFT)
		pad(o, ' ', fill);
}

/* An integer: [sign or 0x prefix][zeros to the precision]digits, padded. */
static void put_int(struct sink *o, const struct spec *sp, unsigned long long mag, int neg, unsigned base,
		    int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24]; /* 22 octal digits of a 64-bit value, and room to spare */
	size_t nd = 0, zeros = 0, len, fill;
	char prefix[2];
	size_t np = 0;

	for (unsigned long long v = mag; v; v /= base)
		buf[sizeof(buf) - ++nd] = digits[v % base];
	if (sp->prec < 0 && mag == 0)
		buf[sizeof(buf) - ++nd] = '0'; /* precision 0 prints no digit for 0 */
	if (sp->prec >= 0 && (size_t)sp->prec > nd)
		zeros = (size_t)sp->prec - nd;
	if (neg)
		prefix[np++] = '-';
	else if (sp->flags & F_PLUS)
		prefix[np++] = '+';
	else if (sp->flags & F_SPACE)
		prefix[np++] = ' ';
	if ((sp->flags & F_ALT) && base == 16 && mag != 0) {
		prefix[np++] = '0';
		prefix[np++] = upper ? 'X' : 'x';
	}
	if ((sp->flags & F_ALT) && base == 8 && zeros == 0 && (nd == 0 || buf[sizeof(buf) - nd] != '0'))
		zeros = 1; /* '#' with octal: the first digit is a 0 */
	len = np + zeros + nd;
	fill = sp->width > len ? sp->width - len : 0;
	if ((sp->flags & F_ZERO) && !(sp->flags & F_LEFT) && sp->prec < 0) {
		zeros += fill;
		fill = 0;
	}
	if (!(sp->flags & F_LEFT))
		pad(o, ' ', fill);
	put(o, prefix, np);
	pad(o, '0', zeros);
	put(o, buf + sizeof(buf) - nd, nd);
	if (sp->flags & F_LEFT)
		pad(o, ' ', fill);
}

/* A decimal count in a format ("%12d", "%.5s"): 0, or -1 when it exceeds INT_MAX. */
static int read_count(const char **f, int *out)
{
	long long v = 0;

	for (; **f >= '0' && **f <= '9'; (*f)++) {
		v = v * 10 + (**f - '0');
		if (v > INT_MAX)
			return -1;
	}
	*out = (int)v;
	return 0;
}

enum len_mod { L_NONE, L_HH, L_H, L_L, L_LL, L_Z, L_T, L_J };

static unsigned long long arg_unsigned(va_list *ap, enum len_mod lm)
{
	switch (lm) {
	case L_HH:
		return (unsigned char)va_arg(*ap, unsigned);
	case L_H:
		return (unsigned short)va_arg(*ap, unsigned);
	case L_L:
		return va_arg(*ap, unsigned long);
	case L_LL:
		return va_arg(*ap, unsigned long long);
	case L_Z:
	case L_T: /* the unsigned type of ptrdiff_t's width */
		return va_arg(*ap, size_t);
	case L_J:
		return va_arg(*ap, uintmax_t);
	default:
		return va_arg(*ap, unsigned);
	}
}

static long long arg_signed(va_list *ap, enum len_mod lm)
{
	switch (lm) {
	case L_HH:
		return (signed char)va_arg(*ap, int);
	case L_H:
		return (short)va_arg(*ap, int);
	case L_L:
		return va_arg(*ap, long);
	case L_LL:
		return va_arg(*ap, long long);
	case L_Z: /* the signed type of size_t's width */
	case L_T:
		return va_arg(*ap, ptrdiff_t);
	case L_J:
		return va_arg(*ap, intmax_t);
	default:
		return va_arg(*ap, int);
	}
}

static unsigned flag_of(char c)
{
	switch (c) {
	case '-': return F_LEFT;
	case '0': return F_ZERO;
	case '+': return F_PLUS;
	case ' ': return F_SPACE;
	case '#': return F_ALT;
	default: return 0;
	}
}

enum { CONV_UNSUPPORTED = -1, CONV_OVERFLOW = -2 };

/*
 * One conversion; *f is past the '%'. Returns 0; CONV_UNSUPPORTED when the
 * conversion is unknown here or the format ends inside it; CONV_OVERFLOW
 * when a width or precision exceeds INT_MAX. Nothing more is read after
 * either.
 */
static int convert(struct sink *o, const char **f, va_list *ap)
{
	struct spec sp = { 0, 0, -1 };
	enum len_mod lm = L_NONE;
	int n;

	for (unsigned fl; (fl = flag_of(**f)) != 0; (*f)++)
		sp.flags |= fl;
	if (**f == '*') {
		(*f)++;
		n = va_arg(*ap, int);
		if (n < 0) {
			sp.flags |= F_LEFT;
			sp.width = -(size_t)n; /* n == INT_MIN too */
		} else {
			sp.width = (size_t)n;
		}
	} else if (read_count(f, &n) == 0) {
		sp.width = (size_t)n;
	} else {
		return CONV_OVERFLOW;
	}
	if (**f == '.') {
		(*f)++;
		if (**f == '*') {
			(*f)++;
			n = va_arg(*ap, int);
			sp.prec = n < 0 ? -1 : n; /* negative: as if none */
		} else if (read_count(f, &sp.prec) != 0) {
			return CONV_OVERFLOW;
		}
	}
	switch (**f) {
	case 'h':
		lm = (*f)[1] == 'h' ? L_HH : L_H;
		break;
	case 'l':
		lm = (*f)[1] == 'l' ? L_LL : L_L;
		break;
	case 'z':
		lm = L_Z;
		break;
	case 't':
		lm = L_T;
		break;
	case 'j':
		lm = L_J;
		break;
	default:
		break;
	}
	if (lm == L_HH || lm == L_LL)
		*f += 2;
	else if (lm != L_NONE)
		*f += 1;
	switch (**f) {
	case 'd':
	case 'i': {
		long long v = arg_signed(ap, lm);

		put_int(o, &sp, v < 0 ? -(unsigned long long)v : (unsigned long long)v, v < 0, 10, 0);
		break;
	}
	case 'u':
		sp.flags &= ~(unsigned)(F_PLUS | F_SPACE);
		put_int(o, &sp, arg_unsigned(ap, lm), 0, 10, 0);
		break;
	case 'o':
	case 'x':
	case 'X':
		sp.flags &= ~(unsigned)(F_PLUS | F_SPACE);
		put_int(o, &sp, arg_unsigned(ap, lm), 0, **f == 'o' ? 8 : 16, **f == 'X');
		break;
	case 'p': {
		void *p;

		if (lm != L_NONE)
			return CONV_UNSUPPORTED;
		p = va_arg(*ap, void *);
		if (p == NULL) {
			put_padded(o, &sp, "(nil)", 5);
		} else {
			sp.flags = (sp.flags & ~(unsigned)(F_PLUS | F_SPACE)) | F_ALT;
			put_int(o, &sp, (uintptr_t)p, 0, 16, 0);
		}
		break;
	}
	case 'c': {
		char c;

		if (lm != L_NONE)
			return CONV_UNSUPPORTED; /* %lc: wide */
		c = (char)va_arg(*ap, int);
		put_padded(o, &sp, &c, 1);
		break;
	}
	case 's': {
		const char *s;

		if (lm != L_NONE)
			return CONV_UNSUPPORTED; /* %ls: wide */
		s = va_arg(*ap, const char *);
		if (s == NULL) /* as glibc: "(null)", or nothing when the precision cuts it */
			s = sp.prec >= 0 && sp.prec < 6 ? "" : "(null)";
		put_padded(o, &sp, s, sp.prec >= 0 ? strnlen(s, (size_t)sp.prec) : strlen(s));
		break;
	}
	case '%':
		put(o, "%", 1);
		break;
	default: /* floating point, %n, L, the end of the format, ... */
		return CONV_UNSUPPORTED;
	}
	(*f)++;
	return 0;
}

int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
{
	struct sink o = { buf, size, 0, 0 };
	const char *f = fmt;
	va_list aq;
	int rc;

	va_copy(aq, ap);
	while (*f) {
		const char *lit = f, *spec;

		while (*f && *f != '%')
			f++;
		put(&o, lit, (size_t)(f - lit));
		if (!*f)
			break;
		spec = f++;
		rc = convert(&o, &f, &aq);
		if (rc == CONV_UNSUPPORTED)
			put(&o, spec, strnlen(spec, (size_t)(f - spec) + 1)); /* the spec as far as it was read */
		if (rc == CONV_OVERFLOW)
			count(&o, SIZE_MAX); /* as glibc: -1, EOVERFLOW */
		if (rc != 0)
			break;
	}
	va_end(aq);
	if (size > 0)
		buf[o.stored] = '\0';
	if (o.len > INT_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	return (int)o.len;
}

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
