/* SPDX-License-Identifier: MIT */
/*
 * strtol.c - strtol, strtoul, strtoll, strtoull: one scanner, four ranges.
 * "C" locale: white space is " \t\n\v\f\r", digits 0-9 then a-z/A-Z.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

/* The value of digit c in bases up to 36, or 36 when c is none. */
static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 36;
}

struct scan {
	unsigned long long mag; /* the magnitude, clamped to the sign's limit */
	int neg;		/* a '-' was read */
	int clamped;		/* the magnitude exceeded the sign's limit (errno = ERANGE set) */
};

/*
 * Scans [space][sign][prefix]digits from s in base (0: from the prefix);
 * *end (if end) gets the first byte after the digits, or s itself when
 * there are none (or the base is bad: errno = EINVAL then).
 */
static struct scan scan(const char *s, char **end, int base, unsigned long long max_pos,
			unsigned long long max_neg)
{
	struct scan r = { 0, 0, 0 };
	const char *p = s;
	unsigned long long max;
	int any = 0, d;

	if (base < 0 || base == 1 || base > 36) {
		errno = EINVAL;
		if (end)
			*end = (char *)(uintptr_t)s;
		return r;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		r.neg = *p++ == '-';
	if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && digit_value(p[2]) < 16) {
		p += 2; /* "0x" counts only when a hex digit follows; else "0" is the number */
		base = 16;
	} else if (base == 0) {
		base = p[0] == '0' ? 8 : 10;
	}
	max = r.neg ? max_neg : max_pos;
	for (; (d = digit_value(*p)) < base; p++) {
		any = 1;
		if (r.clamped)
			continue;
		if (r.mag > (max - (unsigned)d) / (unsigned)base) {
			r.clamped = 1;
			r.mag = max;
			errno = ERANGE;
		} else {
			r.mag = r.mag * (unsigned)base + (unsigned)d;
		}
	}
	if (end)
		*end = (char *)(uintptr_t)(any ? p : s);
	return r;
}

unsigned long long strtoull(const char *restrict s, char **restrict end, int base)
{
	struct scan r = scan(s, end, base, ULLONG_MAX, ULLONG_MAX);

	if (r.clamped)
		return ULLONG_MAX;
	return r.neg ? -r.mag : r.mag;
}

unsigned long strtoul(const char *restrict s, char **restrict end, int base)
{
	struct scan r = scan(s, end, base, ULONG_MAX, ULONG_MAX);

	if (r.clamped)
		return ULONG_MAX;
	return r.neg ? -(unsigned long)r.mag : (unsigned long)r.mag;
}

long long strtoll(const char *restrict s, char **restrict end, int base)
{
	struct scan r = scan(s, end, base, LLONG_MAX, (unsigned long long)LLONG_MAX + 1);

	if (!r.neg)
		return (long long)r.mag;
	return r.mag > (unsigned long long)LLONG_MAX ? LLONG_MIN : -(long long)r.mag;
}

long strtol(const char *restrict s, char **restrict end, int base)
{
	struct scan r = scan(s, end, base, LONG_MAX, (unsigned long long)LONG_MAX + 1);

	if (!r.neg)
		return (long)r.mag;
	return r.mag > (unsigned long long)LONG_MAX ? LONG_MIN : -(long)r.mag;
}
