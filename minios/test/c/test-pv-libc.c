/* SPDX-License-Identifier: MIT */
/*
 * test-pv-libc: the PV build's libc (pv/libc) against glibc, in one process
 * (TAP, ASan + UBSan). The Makefile builds the libc's own sources with its
 * own headers and renames every symbol to mo_* (pv/libc/host-names.h), so
 * glibc is the oracle beside it: thousands of generated cases per function
 * (every supported printf conversion, flag, width and precision at every
 * buffer size; strto*; inet_pton; qsort; the string functions), then the
 * heap: stamped random alloc/realloc/free sequences, page allocations,
 * coalescing back to one block, and the panics on double free and
 * corrupted headers (mo_libc_panic, the kernel's, is defined here).
 *
 * The generator is seeded with PV_LIBC_SEED (default 1); a failure prints
 * the seed and the first few mismatches.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../pv/libc/include/mo_heap.h"
#include "vpio/tap.h"

/* The libc under test, renamed (pv/libc/host-names.h). */
extern int mo_errno;
void *mo_memcpy(void *restrict d, const void *restrict s, size_t n);
void *mo_memmove(void *d, const void *s, size_t n);
void *mo_memset(void *d, int c, size_t n);
int mo_memcmp(const void *a, const void *b, size_t n);
int mo_bcmp(const void *a, const void *b, size_t n);
void *mo_memchr(const void *s, int c, size_t n);
size_t mo_strlen(const char *s);
size_t mo_strnlen(const char *s, size_t max);
int mo_strcmp(const char *a, const char *b);
int mo_strncmp(const char *a, const char *b, size_t n);
char *mo_strchr(const char *s, int c);
char *mo_strrchr(const char *s, int c);
char *mo_strstr(const char *h, const char *n);
size_t mo_strspn(const char *s, const char *a);
size_t mo_strcspn(const char *s, const char *r);
char *mo_strpbrk(const char *s, const char *a);
char *mo_strcpy(char *restrict d, const char *restrict s);
char *mo_stpcpy(char *restrict d, const char *restrict s);
char *mo_strncpy(char *restrict d, const char *restrict s, size_t n);
char *mo_strcat(char *restrict d, const char *restrict s);
char *mo_strncat(char *restrict d, const char *restrict s, size_t n);
char *mo_strdup(const char *s);
char *mo_strndup(const char *s, size_t n);
void *mo_malloc(size_t n);
void *mo_calloc(size_t nmemb, size_t size);
void *mo_realloc(void *p, size_t n);
void mo_free(void *p);
void mo_qsort(void *base, size_t nmemb, size_t size, int (*cmp)(const void *, const void *));
void *mo_bsearch(const void *key, const void *base, size_t nmemb, size_t size,
		 int (*cmp)(const void *, const void *));
long mo_strtol(const char *restrict s, char **restrict end, int base);
unsigned long mo_strtoul(const char *restrict s, char **restrict end, int base);
long long mo_strtoll(const char *restrict s, char **restrict end, int base);
unsigned long long mo_strtoull(const char *restrict s, char **restrict end, int base);
int mo_abs(int v);
long mo_labs(long v);
long long mo_llabs(long long v);
int mo_snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...);
int mo_vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap);
int mo_inet_pton(int af, const char *restrict src, void *restrict dst);
uint32_t mo_htonl(uint32_t v);
uint16_t mo_htons(uint16_t v);
uint32_t mo_ntohl(uint32_t v);
uint16_t mo_ntohs(uint16_t v);
int mo_isalnum(int c), mo_isalpha(int c), mo_isblank(int c), mo_iscntrl(int c), mo_isdigit(int c);
int mo_isgraph(int c), mo_islower(int c), mo_isprint(int c), mo_ispunct(int c), mo_isspace(int c);
int mo_isupper(int c), mo_isxdigit(int c), mo_tolower(int c), mo_toupper(int c);

/* ------------------------------------------------------------------------ */
/* Harness: random numbers, mismatch reports, the kernel's panic             */

static uint64_t rng_seed, rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state; /* xorshift64* */

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static unsigned below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* Integers biased to the edges: 0, +-1, the limits, or random bits of a random width. */
static uint64_t edgy(void)
{
	static const uint64_t edges[] = { 0, 1, UINT64_MAX, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
					  0x7fffffff, 0x80000000u, 0xffffffffu, INT64_MAX, (uint64_t)INT64_MIN };

	if (below(3) == 0)
		return edges[below(sizeof(edges) / sizeof(edges[0]))];
	return rnd() >> below(64);
}

static int mismatches;

/* Prints a mismatch (the first 10 of a case) and fails the case. */
__attribute__((format(printf, 1, 2))) static void mismatch(const char *fmt, ...)
{
	va_list ap;

	tap_case_failed = 1;
	if (mismatches++ >= 10)
		return;
	printf("# mismatch (PV_LIBC_SEED=%llu): ", (unsigned long long)rng_seed);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout); /* kept if a sanitizer stops the program next */
}

static jmp_buf panic_jmp;
static int panic_armed;
static const char *panic_msg;

_Noreturn void mo_libc_panic(const char *msg)
{
	if (!panic_armed) {
		printf("# unexpected mo_libc_panic: %s\nBail out! heap corrupted\n", msg);
		fflush(stdout);
		exit(1);
	}
	panic_armed = 0;
	panic_msg = msg;
	longjmp(panic_jmp, 1);
}

/* Runs fn(arg); the message it panicked with, or NULL when it returned. */
static const char *panic_of(void (*fn)(void *), void *arg)
{
	panic_msg = NULL;
	panic_armed = 1;
	if (setjmp(panic_jmp) == 0) {
		fn(arg);
		panic_armed = 0;
	}
	return panic_msg;
}

static unsigned char arena[4u << 20] __attribute__((aligned(4096)));

static struct mo_heap_stats stats(void)
{
	struct mo_heap_stats st;

	mo_heap_get_stats(&st);
	return st;
}

/* A heap over the arena's first bytes, filled with garbage first (as memory
 * from the kernel may be: nothing may rely on zeroes or on earlier cases). */
static void fresh_heap(size_t bytes)
{
	memset(arena, 0xdb, bytes);
	mo_heap_init(arena, bytes);
}

/* ------------------------------------------------------------------------ */
/* snprintf / vsnprintf                                                       */

static size_t fmt_cases;

/* Formats fmt with the arguments through both libcs at every buffer size up
 * to the full length + 2 (and a large one): same return value, same bytes
 * written, nothing written past the size. */
static void check_fmt(const char *fmt, ...)
{
	char g[1024], m[1024];
	va_list ap, aq;
	int rg, rm;

	va_start(ap, fmt);
	va_copy(aq, ap);
	rg = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	va_copy(aq, ap);
	rm = mo_vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	fmt_cases++;
	if (rg != rm || rg < 0 || rg > 900) {
		mismatch("\"%s\": glibc returns %d, mo %d", fmt, rg, rm);
		va_end(ap);
		return;
	}
	for (size_t n = 0; n <= (size_t)rg + 2 || n == sizeof(g) - 8; n = n == (size_t)rg + 2 ? sizeof(g) - 8 : n + 1) {
		memset(g, 0xa5, sizeof(g));
		memset(m, 0xa5, sizeof(m));
		va_copy(aq, ap);
		rg = vsnprintf(g, n, fmt, aq);
		va_end(aq);
		va_copy(aq, ap);
		rm = mo_vsnprintf(m, n, fmt, aq);
		va_end(aq);
		if (rg != rm || memcmp(g, m, sizeof(g)) != 0) {
			mismatch("\"%s\" size %zu: glibc %d \"%.*s\", mo %d \"%.*s\"", fmt, n, rg,
				 (int)(n ? strnlen(g, n) : 0), g, rm, (int)(n ? strnlen(m, n) : 0), m);
			break;
		}
		if (n == sizeof(g) - 8)
			break;
	}
	va_end(ap);
}

static const char *const strings[] = { "", "a", "hello", "h\xc3\xa9llo w\xc3\xb6rld", "tab\tand\nnewline",
				       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" };

/* Calls check_fmt with the width and precision '*' arguments the format takes, then v. */
#define CALL_STARS(T, v)                                                                 \
	do {                                                                             \
		if (star_w && star_p)                                                    \
			check_fmt(fmt, sw, sp, (T)(v));                                  \
		else if (star_w)                                                         \
			check_fmt(fmt, sw, (T)(v));                                      \
		else if (star_p)                                                         \
			check_fmt(fmt, sp, (T)(v));                                      \
		else                                                                     \
			check_fmt(fmt, (T)(v));                                          \
	} while (0)

/* One random conversion with random flags, width, precision and length. */
static void random_format(void)
{
	static const char convs[] = "diuxXocsp%";
	static const char *const lens[] = { "", "hh", "h", "l", "ll", "z", "t", "j" };
	char conv = convs[below(sizeof(convs) - 1)], fmt[96];
	const char *flagset = "", *len = "";
	int star_w = 0, star_p = 0, sw = 0, sp = 0, o = 0;
	uint64_t v = edgy();

	switch (conv) {
	case 'd': case 'i': flagset = "-+ 0"; break;
	case 'u': flagset = "-0+ "; break;
	case 'x': case 'X': case 'o': flagset = "-0# +"; break;
	case 'p': flagset = "-0"; break;
	case 'c': case 's': flagset = "-"; break;
	default: break;
	}
	if (strchr("diuxXo", conv))
		len = lens[below(8)];
	o += snprintf(fmt + o, sizeof(fmt) - (size_t)o, "%s%%", below(2) ? "" : below(2) ? "v=" : "%%[");
	for (const char *f = flagset; *f; f++)
		if (below(3) == 0)
			fmt[o++] = *f;
	if (conv != '%') {
		switch (below(4)) {
		case 0: o += snprintf(fmt + o, sizeof(fmt) - (size_t)o, "%u", below(26)); break;
		case 1: o += snprintf(fmt + o, sizeof(fmt) - (size_t)o, "%u", below(300)); break;
		case 2: fmt[o++] = '*'; star_w = 1; sw = (int)below(61) - 30; break;
		default: break;
		}
	}
	if (conv != '%' && conv != 'c') {
		switch (below(5)) {
		case 0: fmt[o++] = '.'; break;
		case 1: o += snprintf(fmt + o, sizeof(fmt) - (size_t)o, ".%u", below(26)); break;
		case 2: fmt[o++] = '.'; fmt[o++] = '*'; star_p = 1; sp = (int)below(40) - 6; break;
		default: break;
		}
	}
	snprintf(fmt + o, sizeof(fmt) - (size_t)o, "%s%c%s", len, conv, below(2) ? "" : "]!");

	if (conv == '%') {
		check_fmt(fmt);
	} else if (conv == 'c') {
		CALL_STARS(int, below(256));
	} else if (conv == 's') {
		CALL_STARS(const char *, strings[below(sizeof(strings) / sizeof(strings[0]))]);
	} else if (conv == 'p') {
		void *ptrs[] = { NULL, (void *)1, (void *)(uintptr_t)0xdeadbeef, (void *)UINTPTR_MAX, fmt };

		CALL_STARS(void *, ptrs[below(5)]);
	} else if (conv == 'd' || conv == 'i') {
		if (!strcmp(len, "l"))
			CALL_STARS(long, v);
		else if (!strcmp(len, "ll"))
			CALL_STARS(long long, v);
		else if (!strcmp(len, "z") || !strcmp(len, "t"))
			CALL_STARS(ptrdiff_t, v);
		else if (!strcmp(len, "j"))
			CALL_STARS(intmax_t, v);
		else
			CALL_STARS(int, v);
	} else {
		if (!strcmp(len, "l"))
			CALL_STARS(unsigned long, v);
		else if (!strcmp(len, "ll"))
			CALL_STARS(unsigned long long, v);
		else if (!strcmp(len, "z") || !strcmp(len, "t"))
			CALL_STARS(size_t, v);
		else if (!strcmp(len, "j"))
			CALL_STARS(uintmax_t, v);
		else
			CALL_STARS(unsigned, v);
	}
}

static void t_snprintf_random(void)
{
	mismatches = 0;
	fmt_cases = 0;
	for (int i = 0; i < 12000; i++)
		random_format();
	printf("# %zu random formats, each at every buffer size\n", fmt_cases);
	CHECK(fmt_cases == 12000);
}

static void t_snprintf_minios_formats(void)
{
	unsigned long long big = 18446744073709551615ull;

	mismatches = 0;
	/* the shapes minios's sources use (%.1f excepted: see stdio.h) */
	check_fmt("config:%u:%u: %s", 12u, 7u, "unknown class 'Foo'");
	check_fmt("bad pattern term '%.*s': expected OFFSET/HEX[%%MASK] (even hex digits, at most %u bytes)", 5,
		  "12/0800%ffff", 64u);
	check_fmt("{\"event\":\"ping\",\"element\":\"%s\",\"family\":%d,\"resolved\":%s,\"sent\":%llu,\"received\":%llu}",
		  "ping", 6, "true", big, 0ull);
	check_fmt("%s%c%zu", "k", ':', (size_t)SIZE_MAX);
	check_fmt("%d %i %u %x %X %o %c %s %p %%", INT_MIN, -1, UINT_MAX, 0xabcdu, 0xabcdu, 8u, 'q', "s",
		  (void *)arena);
	check_fmt("%ld %lu %lld %llu %lx %llx %zd %zu %hhd %hu", LONG_MIN, ULONG_MAX, LLONG_MIN, big, ULONG_MAX, big,
		  (ptrdiff_t)-5, (size_t)5, 300, 70000);
	check_fmt("[%-8s|%8s|%08d|%-08d|%+.3d|% 05d|%#o|%#x|%#X|%.0d|%.0u|%#.0o]", "ab", "cd", -42, 42, 7, 9, 8u,
		  255u, 255u, 0, 0u, 0u);
	check_fmt("%*d|%-*d|%.*d|%*.*s|%.*s", -6, 1, 6, 2, -3, 3, 8, 2, "xyz", -1, "all");
	check_fmt("%s|%10s|%.3s|%.8s", (char *)NULL, (char *)NULL, (char *)NULL, (char *)NULL);
	check_fmt("%5p|%-12p|%p", (void *)NULL, (void *)NULL, (void *)NULL);
	CHECK_EQ(mo_snprintf(NULL, 0, "%s=%u", "key", 12345u), 9);
}

static void t_snprintf_unsupported(void)
{
	char buf[64];

	/* floating point, %n, wide characters: the spec is copied and the output ends there */
	CHECK_EQ(mo_snprintf(buf, sizeof(buf), "p50=%.1f us, n=%d", 1.5, 3), 8);
	CHECK_STR(buf, "p50=%.1f");
	CHECK_EQ(mo_snprintf(buf, sizeof(buf), "a%gb", 2.0), 3);
	CHECK_STR(buf, "a%g");
	CHECK_EQ(mo_snprintf(buf, sizeof(buf), "x%ny", (int *)NULL), 3);
	CHECK_STR(buf, "x%n");
	CHECK_EQ(mo_snprintf(buf, sizeof(buf), "%ls|%lc", (void *)L"w", 1), 3);
	CHECK_STR(buf, "%ls");
	CHECK_EQ(mo_snprintf(buf, sizeof(buf), "%5.2Lf", 1.0L), 5);
	CHECK_STR(buf, "%5.2L"); /* read as far as the unknown L */
	CHECK_EQ(mo_snprintf(buf, sizeof(buf), "trailing %"), 10);
	CHECK_STR(buf, "trailing %");
	CHECK_EQ(mo_snprintf(buf, 4, "%f", 1.0), 2);
	CHECK_STR(buf, "%f");
}

static void t_snprintf_overflow(void)
{
	mo_errno = 0;
	CHECK_EQ(mo_snprintf(NULL, 0, "%*d%*d", INT_MAX, 1, INT_MAX, 1), -1);
	CHECK_EQ(mo_errno, EOVERFLOW);
	CHECK_EQ(mo_snprintf(NULL, 0, "%*d", INT_MAX, 1), INT_MAX);
	CHECK_EQ(mo_snprintf(NULL, 0, "%*d", INT_MIN, 1), -1); /* width 2^31 */
	mo_errno = 0;
	CHECK_EQ(mo_snprintf(NULL, 0, "%2147483648d", 1), -1); /* glibc: -1 too */
	CHECK_EQ(mo_errno, EOVERFLOW);
	CHECK_EQ(mo_snprintf(NULL, 0, "%.2147483648s", "a"), -1);
	{
		char buf[16];

		CHECK_EQ(mo_snprintf(buf, sizeof(buf), "ab%2147483648d", 1), -1);
		CHECK_STR(buf, "ab"); /* what came before, terminated */
		CHECK_EQ(mo_snprintf(buf, 4, "abcdef%*d", INT_MAX, 1), -1);
		CHECK_STR(buf, "abc");
	}
}

/* ------------------------------------------------------------------------ */
/* strtol family                                                              */

static void random_number_text(char *s, size_t cap)
{
	static const char *const spaces[] = { "", "", " ", "\t", "\n \v\f\r" };
	static const char *const signs[] = { "", "", "+", "-", "--", "+-" };
	static const char *const prefixes[] = { "", "", "0", "0x", "0X", "0x0", "x" };
	static const char *const tails[] = { "", "", " ", "x", "g", "-", "Z", "!" };
	static const char *const bigs[] = { "18446744073709551615", "18446744073709551616", "9223372036854775807",
					    "9223372036854775808", "4294967295", "99999999999999999999999",
					    "7fffffffffffffff", "8000000000000000", "ffffffffffffffff",
					    "10000000000000000", "1777777777777777777777", "2000000000000000000000" };
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFXYZ";
	size_t o = (size_t)snprintf(s, cap, "%s%s%s", spaces[below(5)], signs[below(6)], prefixes[below(7)]);

	if (below(4) == 0) {
		o += (size_t)snprintf(s + o, cap - o, "%s", bigs[below(sizeof(bigs) / sizeof(bigs[0]))]);
	} else {
		for (unsigned n = below(25); n > 0 && o + 1 < cap; n--)
			s[o++] = digits[below(sizeof(digits) - 1)];
		s[o] = '\0';
	}
	snprintf(s + o, cap - o, "%s", tails[below(8)]);
}

#define CHECK_STRTO(fn, fmtspec)                                                                     \
	do {                                                                                         \
		char *ge = NULL, *me = NULL;                                                         \
		errno = 0;                                                                           \
		mo_errno = 0;                                                                        \
		__typeof__(fn(s, &ge, base)) gv = fn(s, &ge, base), mv = mo_##fn(s, &me, base);     \
		if (gv != mv || ge != me || errno != mo_errno)                                       \
			mismatch(#fn "(\"%s\", %d): glibc " fmtspec " end %td errno %d, mo " fmtspec \
				 " end %td errno %d", s, base, gv, ge - s, errno, mv, me - s, mo_errno);   \
	} while (0)

static void t_strtol(void)
{
	static const int bases[] = { 0, 0, 2, 8, 10, 10, 16, 16, 36 };
	char s[96];
	unsigned n = 0;

	mismatches = 0;
	for (; n < 40000; n++) {
		int base = n % 5 == 4 ? 2 + (int)below(35) : bases[below(sizeof(bases) / sizeof(bases[0]))];

		random_number_text(s, sizeof(s));
		CHECK_STRTO(strtol, "%ld");
		CHECK_STRTO(strtoul, "%lu");
		CHECK_STRTO(strtoll, "%lld");
		CHECK_STRTO(strtoull, "%llu");
	}
	/* a bad base: 0 and EINVAL (glibc leaves *end alone, so only those are compared) */
	for (int base = -2; base <= 40; base += 1) {
		if (base == 0 || (base >= 2 && base <= 36))
			continue;
		errno = 0;
		mo_errno = 0;
		CHECK_EQ(mo_strtol("123", NULL, base), strtol("123", NULL, base));
		CHECK_EQ(mo_errno, errno);
		CHECK_EQ(mo_errno, EINVAL);
	}
	printf("# %u strings x 4 functions\n", n);
}

/* ------------------------------------------------------------------------ */
/* inet_pton and byte order                                                   */

static unsigned pton_valid, pton_invalid;

static void check_pton(int af, const char *s)
{
	unsigned char g[16], m[16];
	int rg, rm;

	memset(g, 0x5a, sizeof(g));
	memset(m, 0x5a, sizeof(m));
	rg = inet_pton(af, s, g);
	rm = mo_inet_pton(af, s, m);
	if (rg != rm || memcmp(g, m, sizeof(g)) != 0)
		mismatch("inet_pton(%s, \"%s\"): glibc %d, mo %d", af == AF_INET ? "AF_INET" : "AF_INET6", s, rg,
			 rm);
	if (rg == 1)
		pton_valid++;
	else
		pton_invalid++;
}

/* Deletes, inserts, replaces or doubles one character of s (cap bytes). */
static void mutate(char *s, size_t cap, const char *alphabet)
{
	size_t len = strlen(s), at = len ? below((unsigned)len + 1) : 0;

	switch (below(4)) {
	case 0:
		if (at < len)
			memmove(s + at, s + at + 1, len - at);
		break;
	case 1:
	case 3:
		if (len + 2 < cap) {
			memmove(s + at + 1, s + at, len - at + 1);
			s[at] = below(4) == 3 && at < len ? s[at + 1] : alphabet[below((unsigned)strlen(alphabet))];
		}
		break;
	default:
		if (at < len)
			s[at] = alphabet[below((unsigned)strlen(alphabet))];
		break;
	}
}

static void t_inet_pton4(void)
{
	static const char *const fixed[] = { "0.0.0.0", "255.255.255.255", "256.0.0.1", "1.2.3", "1.2.3.4.5",
					     "01.2.3.4", "1.2.3.04", "1.2.3.0", "1..2.3", ".1.2.3.4", "1.2.3.4.",
					     " 1.2.3.4", "1.2.3.4 ", "0x1.2.3.4", "1.2.3.-4", "", "1", "10.0.0.1",
					     "192.168.001.1", "1.2.3.4/24", "1.2.3.1000", "00.1.2.3" };
	char s[64];

	mismatches = 0;
	pton_valid = pton_invalid = 0;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check_pton(AF_INET, fixed[i]);
	for (int i = 0; i < 30000; i++) {
		if (i % 3 == 0) { /* random text */
			size_t n = below(18);

			for (size_t k = 0; k < n; k++)
				s[k] = "0123456789.."[below(12)];
			s[n] = '\0';
		} else { /* four octets, some too big or zero-padded, then maybe one mutation */
			size_t o = 0;

			for (int k = 0; k < 4; k++)
				o += (size_t)snprintf(s + o, sizeof(s) - o, k ? ".%s%u" : "%s%u",
						      below(8) == 0 ? "0" : "", below(10) == 0 ? below(400) : below(256));
			if (i % 3 == 2)
				mutate(s, sizeof(s), "0123456789. ax+");
		}
		check_pton(AF_INET, s);
	}
	printf("# %u valid, %u invalid\n", pton_valid, pton_invalid);
	CHECK(pton_valid > 5000 && pton_invalid > 5000);
}

/* A random IPv6 text: eight groups, maybe an IPv4 tail, maybe one run compressed to "::". */
static void random_ip6(char *s, size_t cap)
{
	unsigned groups[8], ngroups = below(4) == 0 ? 6 : 8; /* 6: the last 32 bits as IPv4 */
	int run_at = -1, run_len = 0;
	size_t o = 0;

	for (unsigned i = 0; i < 8; i++)
		groups[i] = below(3) == 0 ? 0 : below(2) ? below(0x10000) : below(16);
	if (below(3) != 0) {
		run_at = (int)below(ngroups);
		run_len = 1 + (int)below(ngroups - (unsigned)run_at);
	}
	for (int i = 0; i < (int)ngroups; i++) {
		if (i == run_at) {
			o += (size_t)snprintf(s + o, cap - o, "::");
			i += run_len - 1;
			continue;
		}
		if (i > 0 && i != run_at + run_len)
			s[o++] = ':';
		o += (size_t)snprintf(s + o, cap - o, below(2) ? (below(4) ? "%x" : "%04x") : "%X", groups[i]);
	}
	if (ngroups == 6) {
		if (o > 0 && s[o - 1] != ':')
			s[o++] = ':';
		o += (size_t)snprintf(s + o, cap - o, "%u.%u.%u.%u", below(256), below(256), below(3) ? below(256) : 0,
				      below(20) ? below(256) : 256 + below(10));
	}
	s[o] = '\0';
}

static void t_inet_pton6(void)
{
	static const char *const fixed[] = {
		"::", "::1", "1::", "1::2", ":::", "1:::2", "::1::", ":1::", "1::2:", "1:2:3:4:5:6:7:8",
		"1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
		"1:2:3:4:5:6:7", "12345::", "ffff::FFFF", "::ffff:10.0.0.1", "::10.0.0.1", "1.2.3.4",
		"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::ffff:1.2.3", "::ffff:1.2.3.4.5", "::ffff:01.2.3.4",
		"::1.2.3.4:5", "::a.2.3.4", "fe80::1%eth0", "", ":", "1", "::g", "0:0:0:0:0:0:0:0", "::0:0:0:0:0:0:0",
		"00000::", "0000::", "1::2::3", "::ffff:256.1.1.1", "::.1.2.3", "1::1.2.3.4", "::1234:1.2.3.4",
		"2001:db8::ff00:42:8329", "2001:0db8:0000:0000:0000:ff00:0042:8329",
	};
	char s[80];

	mismatches = 0;
	pton_valid = pton_invalid = 0;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check_pton(AF_INET6, fixed[i]);
	for (int i = 0; i < 40000; i++) {
		if (i % 4 == 0) {
			size_t n = below(42);

			for (size_t k = 0; k < n; k++)
				s[k] = "0123456789abcdefABCDEF:::.."[below(27)];
			s[n] = '\0';
		} else {
			random_ip6(s, sizeof(s));
			if (i % 4 == 3)
				mutate(s, sizeof(s), "0123456789abcdefABCDEF::.g ");
		}
		check_pton(AF_INET6, s);
	}
	printf("# %u valid, %u invalid\n", pton_valid, pton_invalid);
	CHECK(pton_valid > 10000 && pton_invalid > 10000);
}

static void t_inet_pton_family(void)
{
	unsigned char buf[16];

	mo_errno = 0;
	CHECK_EQ(mo_inet_pton(AF_UNIX, "1.2.3.4", buf), -1);
	CHECK_EQ(mo_errno, EAFNOSUPPORT);
	for (int i = 0; i < 1000; i++) {
		uint32_t v = (uint32_t)rnd();

		CHECK_EQ(mo_htonl(v), htonl(v));
		CHECK_EQ(mo_ntohl(v), ntohl(v));
		CHECK_EQ(mo_htons((uint16_t)v), htons((uint16_t)v));
		CHECK_EQ(mo_ntohs((uint16_t)v), ntohs((uint16_t)v));
	}
}

/* ------------------------------------------------------------------------ */
/* ctype, string functions                                                    */

static void t_ctype(void)
{
	static int (*const mine[])(int) = { mo_isalnum, mo_isalpha, mo_isblank, mo_iscntrl, mo_isdigit,
					   mo_isgraph, mo_islower, mo_isprint, mo_ispunct, mo_isspace,
					   mo_isupper, mo_isxdigit };
	static const char *const names[] = { "isalnum", "isalpha", "isblank", "iscntrl", "isdigit", "isgraph",
					     "islower", "isprint", "ispunct", "isspace", "isupper", "isxdigit" };

	mismatches = 0;
	for (int c = EOF; c <= 255; c++) {
		const int theirs[] = { isalnum(c), isalpha(c), isblank(c), iscntrl(c), isdigit(c), isgraph(c),
				       islower(c), isprint(c), ispunct(c), isspace(c), isupper(c), isxdigit(c) };

		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (!!theirs[k] != !!mine[k](c))
				mismatch("%s(%d): glibc %d, mo %d", names[k], c, !!theirs[k], !!mine[k](c));
		if (tolower(c) != mo_tolower(c) || toupper(c) != mo_toupper(c))
			mismatch("tolower/toupper(%d)", c);
	}
}

static void t_mem_copy_set(void)
{
	unsigned char src[320], g[320], m[320];

	mismatches = 0;
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)rnd();
	for (int i = 0; i < 20000; i++) {
		size_t so = below(24), d = below(24), n = below(i % 10 ? 64 : 280);
		int c = (int)below(0x300) - 0x100;

		memset(g, 0x11, sizeof(g));
		memset(m, 0x11, sizeof(m));
		if (mo_memcpy(m + d, src + so, n) != m + d)
			mismatch("memcpy's return");
		memcpy(g + d, src + so, n);
		if (memcmp(g, m, sizeof(g)) != 0)
			mismatch("memcpy(dst+%zu, src+%zu, %zu)", d, so, n);
		if (mo_memset(m + d, c, n) != m + d)
			mismatch("memset's return");
		memset(g + d, c, n);
		if (memcmp(g, m, sizeof(g)) != 0)
			mismatch("memset(dst+%zu, %d, %zu)", d, c, n);
		/* memmove within one buffer: overlapping either way, or apart */
		memcpy(g, src, sizeof(g));
		memcpy(m, src, sizeof(m));
		if (mo_memmove(m + d, m + so, n) != m + d)
			mismatch("memmove's return");
		memmove(g + d, g + so, n);
		if (memcmp(g, m, sizeof(g)) != 0)
			mismatch("memmove(buf+%zu, buf+%zu, %zu)", d, so, n);
	}
}

static int sign(long v)
{
	return (v > 0) - (v < 0);
}

/* A random string over a small alphabet (so that searches hit), high bytes included. */
static void random_string(char *s, size_t maxlen)
{
	size_t n = below((unsigned)maxlen + 1);

	for (size_t i = 0; i < n; i++)
		s[i] = "abcab\x80\xff"[below(7)];
	s[n] = '\0';
}

static long off(const void *p, const void *base)
{
	return p ? (const char *)p - (const char *)base : -1;
}

static void t_str_search_compare(void)
{
	char a[48], b[48], set[8];

	mismatches = 0;
	for (int i = 0; i < 30000; i++) {
		size_t n = below(50);
		int c = (int)below(6) == 0 ? 0 : (int)(unsigned char)"abc\x80\xff"[below(5)] + (below(2) ? 0 : 0x100);

		random_string(a, 40);
		random_string(b, 40);
		random_string(set, 4);
		if (below(3) == 0) /* a common prefix makes the comparisons go deeper */
			memcpy(b, a, strlen(a) < strlen(b) ? strlen(a) : strlen(b));
		if (sign(memcmp(a, b, 41)) != sign(mo_memcmp(a, b, 41)) ||
		    !!memcmp(a, b, n % 41) != !!mo_bcmp(a, b, n % 41))
			mismatch("memcmp/bcmp(\"%s\", \"%s\")", a, b);
		if (sign(strcmp(a, b)) != sign(mo_strcmp(a, b)) || sign(strncmp(a, b, n)) != sign(mo_strncmp(a, b, n)))
			mismatch("strcmp/strncmp(\"%s\", \"%s\", %zu)", a, b, n);
		if (strlen(a) != mo_strlen(a) || strnlen(a, n) != mo_strnlen(a, n))
			mismatch("strlen/strnlen(\"%s\", %zu)", a, n);
		if (off(memchr(a, c, n % 41), a) != off(mo_memchr(a, c, n % 41), a) ||
		    off(strchr(a, c), a) != off(mo_strchr(a, c), a) || off(strrchr(a, c), a) != off(mo_strrchr(a, c), a))
			mismatch("memchr/strchr/strrchr(\"%s\", %d)", a, c);
		if (off(strstr(a, set), a) != off(mo_strstr(a, set), a))
			mismatch("strstr(\"%s\", \"%s\")", a, set);
		if (strspn(a, set) != mo_strspn(a, set) || strcspn(a, set) != mo_strcspn(a, set) ||
		    off(strpbrk(a, set), a) != off(mo_strpbrk(a, set), a))
			mismatch("strspn/strcspn/strpbrk(\"%s\", \"%s\")", a, set);
	}
}

static void t_str_copy(void)
{
	char src[48], g[128], m[128], *gp, *mp;

	mismatches = 0;
	fresh_heap(1u << 20);
	for (int i = 0; i < 20000; i++) {
		size_t n = below(50);

		random_string(src, 40);
		memset(g, 0x33, sizeof(g));
		memset(m, 0x33, sizeof(m));
		random_string(g, 30);
		memcpy(m, g, strlen(g) + 1);
		switch (i % 6) {
		case 0: gp = strcpy(g, src); mp = mo_strcpy(m, src); break;
		case 1: gp = stpcpy(g, src); mp = mo_stpcpy(m, src); break;
		case 2: gp = strncpy(g, src, n); mp = mo_strncpy(m, src, n); break;
		case 3: gp = strcat(g, src); mp = mo_strcat(m, src); break;
		case 4: gp = strncat(g, src, n); mp = mo_strncat(m, src, n); break;
		default:
			gp = n % 2 ? strndup(src, n) : strdup(src);
			mp = n % 2 ? mo_strndup(src, n) : mo_strdup(src);
			if (gp == NULL || mp == NULL || strcmp(gp, mp) != 0 || ((uintptr_t)mp & 15) != 0)
				mismatch("strdup/strndup(\"%s\", %zu)", src, n);
			free(gp);
			mo_free(mp);
			continue;
		}
		if (memcmp(g, m, sizeof(g)) != 0 || gp - g != mp - m)
			mismatch("copy #%d of \"%s\" (n %zu)", i % 6, src, n);
	}
	CHECK_EQ(stats().used_blocks, 0);
	CHECK_EQ(stats().free_blocks, 1);
}

static void t_abs(void)
{
	for (int i = 0; i < 1000; i++) {
		long long v = (long long)edgy();

		if (v == LLONG_MIN)
			continue;
		CHECK_EQ(mo_llabs(v), llabs(v));
		if (v >= LONG_MIN + 1 && v <= LONG_MAX)
			CHECK_EQ(mo_labs((long)v), labs((long)v));
		if (v >= INT_MIN + 1 && v <= INT_MAX)
			CHECK_EQ(mo_abs((int)v), abs((int)v));
	}
}

/* ------------------------------------------------------------------------ */
/* qsort, bsearch                                                             */

static size_t elem_size;

static int cmp_bytes(const void *a, const void *b)
{
	return memcmp(a, b, elem_size);
}

static int cmp_key(const void *a, const void *b) /* the first byte only: ties */
{
	return *(const unsigned char *)a - *(const unsigned char *)b;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void t_qsort(void)
{
	static const size_t sizes[] = { 1, 2, 3, 4, 8, 12, 16, 24, 100 };
	static unsigned char g[600 * 100], m[600 * 100 + 200];

	mismatches = 0;
	for (int i = 0; i < 1500; i++) {
		size_t n = i < 20 ? (size_t)i : below(600), total;
		unsigned shape = below(5), range = below(2) ? 4 : 256;

		elem_size = sizes[below(sizeof(sizes) / sizeof(sizes[0]))];
		total = n * elem_size;
		for (size_t k = 0; k < total; k++)
			g[k] = (unsigned char)below(range);
		if (shape == 1) /* already sorted */
			qsort(g, n, elem_size, cmp_bytes);
		if (shape == 2) /* reversed */
			for (size_t k = 0; k < n / 2; k++)
				for (size_t j = 0; j < elem_size; j++) {
					unsigned char t = g[k * elem_size + j];

					g[k * elem_size + j] = g[(n - 1 - k) * elem_size + j];
					g[(n - 1 - k) * elem_size + j] = t;
				}
		if (shape == 3) /* all equal */
			memset(g, 7, total);
		memcpy(m, g, total);
		memset(m + total, 0xee, 200); /* a fence: nothing past the array is read into it */
		if (i % 2) {
			qsort(g, n, elem_size, cmp_bytes);
			mo_qsort(m, n, elem_size, cmp_bytes);
			if (memcmp(g, m, total) != 0)
				mismatch("qsort of %zu elements of %zu bytes (shape %u)", n, elem_size, shape);
		} else { /* key-only comparator: sorted by key and a permutation of the input */
			mo_qsort(m, n, elem_size, cmp_key);
			for (size_t k = 1; k < n; k++)
				if (m[(k - 1) * elem_size] > m[k * elem_size])
					mismatch("qsort by key: %zu elements of %zu bytes unsorted at %zu", n, elem_size, k);
			qsort(g, n, elem_size, cmp_bytes);
			qsort(m, n, elem_size, cmp_bytes);
			if (memcmp(g, m, total) != 0)
				mismatch("qsort by key lost or duplicated an element (%zu x %zu bytes)", n, elem_size);
		}
		for (size_t k = total; k < total + 200; k++)
			if (m[k] != 0xee)
				mismatch("qsort of %zu x %zu bytes wrote past the array", n, elem_size);
	}
	/* what the Pinger sorts: RTTs as uint64_t */
	{
		uint64_t a[1000], b[1000];

		for (size_t k = 0; k < 1000; k++)
			a[k] = b[k] = edgy();
		qsort(a, 1000, sizeof(a[0]), cmp_u64);
		mo_qsort(b, 1000, sizeof(b[0]), cmp_u64);
		CHECK(memcmp(a, b, sizeof(a)) == 0);
	}
}

static void t_bsearch(void)
{
	uint64_t a[300];

	mismatches = 0;
	for (int i = 0; i < 300; i++) {
		size_t n = below(300);

		for (size_t k = 0; k < n; k++)
			a[k] = 3 * k + 1; /* distinct, sorted */
		for (uint64_t key = 0; key < 3 * n + 3; key++)
			if (bsearch(&key, a, n, sizeof(a[0]), cmp_u64) != mo_bsearch(&key, a, n, sizeof(a[0]), cmp_u64))
				mismatch("bsearch(%llu) in %zu elements", (unsigned long long)key, n);
	}
}

/* ------------------------------------------------------------------------ */
/* The heap                                                                   */

static void t_heap_basics(void)
{
	struct mo_heap_stats st;
	void *p[64];
	unsigned char *z;

	fresh_heap(1u << 20);
	st = stats();
	CHECK_EQ(st.heap_bytes, 1u << 20);
	CHECK_EQ(st.free_bytes, 1u << 20);
	CHECK_EQ(mo_heap_free_bytes(), 1u << 20);
	CHECK_EQ(st.free_blocks, 1);
	CHECK_EQ(st.largest_free, 1u << 20);
	for (int i = 0; i < 64; i++) {
		p[i] = mo_malloc((size_t)i * 7);
		CHECK(p[i] != NULL);
		CHECK_EQ((uintptr_t)p[i] % 16, 0);
		CHECK((unsigned char *)p[i] >= arena && (unsigned char *)p[i] < arena + (1u << 20));
		for (int k = 0; k < i; k++)
			CHECK(p[k] != p[i]); /* malloc(0) too is unique */
		memset(p[i], i, (size_t)i * 7);
	}
	for (int i = 0; i < 64; i++)
		for (int k = 0; k < i * 7; k++)
			CHECK_EQ(((unsigned char *)p[i])[k], i);
	mo_heap_check();
	CHECK_EQ(stats().used_blocks, 64);
	z = mo_calloc(100, 33);
	CHECK(z != NULL);
	for (int k = 0; k < 3300; k++)
		CHECK_EQ(z[k], 0);
	mo_free(z);
	mo_free(NULL);
	for (int i = 0; i < 64; i += 2)
		mo_free(p[i]);
	mo_heap_check();
	for (int i = 1; i < 64; i += 2)
		mo_free(p[i]);
	st = stats();
	CHECK_EQ(st.used_blocks, 0);
	CHECK_EQ(st.free_blocks, 1);
	CHECK_EQ(st.free_bytes, 1u << 20);
	CHECK_EQ(st.failed_allocs, 0);
}

struct slot {
	unsigned char *p;
	size_t n;
	unsigned stamp;
	int pages;
};

static int stamp_ok(const struct slot *s, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (s->p[k] != (unsigned char)(s->stamp + k * 7))
			return 0;
	return 1;
}

static void stamp(struct slot *s)
{
	s->stamp = (unsigned)rnd();
	for (size_t k = 0; k < s->n; k++)
		s->p[k] = (unsigned char)(s->stamp + k * 7);
}

static size_t random_size(void)
{
	unsigned r = below(100);

	return r < 70 ? below(65) : r < 95 ? 65 + below(960) : 1025 + below(16384);
}

static void t_heap_stress(void)
{
	static struct slot slots[512];
	unsigned long failed = 0, nulls = 0, moved = 0, in_place = 0;
	struct mo_heap_stats st;
	unsigned ops = 0;

	mismatches = 0;
	fresh_heap(192u << 10); /* about what 512 slots of random_size() hold: fills up now and then */
	memset(slots, 0, sizeof(slots));
	for (; ops < 200000; ops++) {
		struct slot *s = &slots[below(512)];
		unsigned r = below(100);

		if (s->p == NULL) {
			s->n = random_size();
			s->pages = r < 3;
			if (s->pages) {
				s->n = (1 + below(3)) * MO_PAGE_SIZE;
				s->p = mo_heap_alloc_pages(s->n / MO_PAGE_SIZE);
			} else {
				s->p = r < 20 ? mo_calloc(1, s->n) : mo_malloc(s->n);
			}
			if (s->p == NULL) {
				nulls++;
				if (mo_heap_failed_allocs() != ++failed)
					mismatch("a NULL that mo_heap_failed_allocs() did not count");
				continue;
			}
			if ((uintptr_t)s->p % (s->pages ? MO_PAGE_SIZE : 16) != 0)
				mismatch("allocation %p misaligned", (void *)s->p);
			if (r >= 3 && r < 20)
				for (size_t k = 0; k < s->n; k++)
					if (s->p[k] != 0)
						mismatch("calloc(1, %zu) not zeroed at %zu", s->n, k);
			stamp(s);
		} else if (!stamp_ok(s, s->n)) {
			mismatch("block %p (%zu bytes) lost its stamp", (void *)s->p, s->n);
			s->p = NULL;
		} else if (r < 45 || s->pages) {
			if (s->pages && r < 50)
				mo_heap_free_pages(s->p);
			else
				mo_free(s->p);
			s->p = NULL;
		} else if (r < 90) {
			size_t n = random_size();
			unsigned char *q = mo_realloc(s->p, n);

			if (q == NULL && n > 0) {
				nulls++;
				if (mo_heap_failed_allocs() != ++failed)
					mismatch("a failed realloc that mo_heap_failed_allocs() did not count");
				continue; /* the old block stays, stamp intact (checked next time) */
			}
			moved += q != s->p;
			in_place += q == s->p;
			s->p = q;
			if (n == 0) { /* realloc(p, 0) freed it */
				CHECK(q == NULL);
				continue;
			}
			if (!stamp_ok(s, n < s->n ? n : s->n))
				mismatch("realloc to %zu lost the contents", n);
			s->n = n;
			stamp(s);
		}
		if (ops % 997 == 0)
			mo_heap_check();
	}
	mo_heap_check();
	st = stats();
	printf("# %u ops: %lu NULL (heap full), %lu realloc moved, %lu in place, %zu blocks live\n", ops, nulls,
	       moved, in_place, st.used_blocks);
	CHECK(nulls > 0 && moved > 0 && in_place > 0);
	for (int i = 0; i < 512; i++) {
		if (slots[i].p && !stamp_ok(&slots[i], slots[i].n))
			mismatch("block %d lost its stamp", i);
		mo_free(slots[i].p);
	}
	mo_heap_check();
	st = stats();
	CHECK_EQ(st.used_blocks, 0);
	CHECK_EQ(st.free_blocks, 1);
	CHECK_EQ(st.free_bytes, st.heap_bytes);
	CHECK_EQ(st.largest_free, 192u << 10);
}

static void t_heap_pages(void)
{
	void *pages[40], *small[40];
	struct mo_heap_stats st;

	fresh_heap(1u << 20);
	for (int i = 0; i < 40; i++) {
		small[i] = mo_malloc(1 + below(200));
		pages[i] = mo_heap_alloc_pages(1 + (size_t)(i % 3));
		CHECK(pages[i] != NULL && small[i] != NULL);
		CHECK_EQ((uintptr_t)pages[i] % MO_PAGE_SIZE, 0);
		memset(pages[i], 0xee, (1 + (size_t)(i % 3)) * MO_PAGE_SIZE);
	}
	mo_heap_check();
	CHECK(mo_heap_alloc_pages(0) == NULL);
	CHECK(mo_heap_alloc_pages(SIZE_MAX / 2) == NULL);
	CHECK(mo_heap_alloc_pages(1000) == NULL); /* 4 MB from a 1 MB heap */
	CHECK_EQ(mo_heap_failed_allocs(), 2);
	/* the gaps left in front of the pages serve small allocations */
	st = stats();
	CHECK(st.free_blocks > 10);
	for (int i = 0; i < 40; i += 2) {
		mo_heap_free_pages(pages[i]);
		mo_free(small[i + 1]);
	}
	mo_heap_check();
	for (int i = 1; i < 40; i += 2) {
		mo_free(pages[i]); /* free() takes page allocations too */
		mo_free(small[i - 1]);
	}
	st = stats();
	CHECK_EQ(st.free_blocks, 1);
	CHECK_EQ(st.free_bytes, 1u << 20);
	/* the whole heap as pages, but for the header in front */
	CHECK(mo_heap_alloc_pages((1u << 20) / MO_PAGE_SIZE) == NULL);
	CHECK(mo_heap_alloc_pages((1u << 20) / MO_PAGE_SIZE - 1) != NULL);
}

static void t_heap_realloc(void)
{
	unsigned char *a, *b, *c, *d;
	size_t before;

	fresh_heap(1u << 20);
	a = mo_malloc(100);
	b = mo_malloc(100);
	c = mo_malloc(100);
	memset(a, 'a', 100);
	mo_free(b);
	CHECK(mo_realloc(a, 200) == a); /* grows into b's free block */
	for (int k = 0; k < 100; k++)
		CHECK_EQ(a[k], 'a');
	before = mo_heap_free_bytes();
	CHECK(mo_realloc(a, 20) == a); /* shrinks in place, the rest is free again */
	CHECK(mo_heap_free_bytes() > before);
	mo_heap_check();
	d = mo_realloc(a, 5000); /* c is in the way: moves */
	CHECK(d != a && d != NULL);
	for (int k = 0; k < 20; k++)
		CHECK_EQ(d[k], 'a');
	CHECK(mo_realloc(d, SIZE_MAX - 8) == NULL); /* fails; d stays */
	CHECK_EQ(d[0], 'a');
	CHECK(mo_realloc(d, 1u << 21) == NULL);
	CHECK_EQ(mo_heap_failed_allocs(), 2);
	CHECK(mo_realloc(d, 0) == NULL); /* frees */
	a = mo_realloc(NULL, 10);	 /* mallocs */
	CHECK(a != NULL);
	mo_free(a);
	mo_free(c);
	mo_heap_check();
	CHECK_EQ(stats().free_blocks, 1);
	CHECK_EQ(stats().used_blocks, 0);
}

static void t_heap_exhaustion(void)
{
	void *p;

	fresh_heap(4096);
	CHECK(mo_malloc(5000) == NULL);
	CHECK(mo_malloc(SIZE_MAX) == NULL);
	CHECK(mo_calloc(SIZE_MAX / 2, 3) == NULL);
	CHECK(mo_heap_alloc_pages(1) == NULL); /* a page needs 4096 + 16 bytes */
	CHECK_EQ(mo_heap_failed_allocs(), 4);
	p = mo_malloc(4096 - 16); /* exactly the whole heap */
	CHECK(p != NULL);
	CHECK_EQ(mo_heap_free_bytes(), 0);
	CHECK_EQ(stats().free_blocks, 0);
	CHECK(mo_malloc(0) == NULL);
	CHECK(mo_strdup("x") == NULL);
	CHECK_EQ(mo_heap_failed_allocs(), 6);
	mo_free(p);
	CHECK_EQ(mo_heap_free_bytes(), 4096);
	/* a region too small for one block is an empty heap; an unaligned one is trimmed to 16 bytes */
	mo_heap_init(arena, 31);
	CHECK_EQ(stats().heap_bytes, 0);
	CHECK(mo_malloc(1) == NULL);
	mo_heap_init(arena + 3, 1000);
	CHECK_EQ(stats().heap_bytes, 976);
	CHECK_EQ(stats().failed_allocs, 0);
	p = mo_malloc(1);
	CHECK((unsigned char *)p == arena + 32);
	mo_free(p);
	mo_heap_check();
}

static void do_free(void *p)
{
	mo_free(p);
}

static void do_realloc(void *p)
{
	(void)mo_realloc(p, 64);
}

static void do_free_pages(void *p)
{
	mo_heap_free_pages(p);
}

static void do_check(void *unused)
{
	(void)unused;
	mo_heap_check();
}

static int says(const char *msg, const char *what)
{
	if (msg != NULL && strstr(msg, what) != NULL)
		return 1;
	printf("# panic message \"%s\", expected one with \"%s\"\n", msg ? msg : "(none)", what);
	return 0;
}

static void t_heap_double_free(void)
{
	unsigned char *a, *b, *c;

	fresh_heap(1u << 20);
	a = mo_malloc(100);
	b = mo_malloc(100);
	c = mo_malloc(100);
	mo_free(b);
	CHECK(says(panic_of(do_free, b), "double free")); /* b's neighbours are live: its free tag is there */
	CHECK(says(panic_of(do_realloc, b), "double free"));
	mo_free(a); /* a absorbs b: b's header is only a "gone" mark now */
	CHECK(says(panic_of(do_free, b), "double free"));
	CHECK(says(panic_of(do_free, a), "double free"));
	mo_free(c);
	CHECK(says(panic_of(do_free, c), "double free")); /* merged into a's block */
	CHECK(says(panic_of(do_realloc, c), "double free"));
	mo_heap_check();
	CHECK_EQ(stats().free_blocks, 1);
}

static void t_heap_corruption(void)
{
	unsigned char *a, *b, *pg, local[32];

	fresh_heap(1u << 20);
	a = mo_malloc(32);
	b = mo_malloc(32);
	CHECK(says(panic_of(do_free, local + 16), "outside the heap"));
	CHECK(says(panic_of(do_free, a + 1), "not 16-byte aligned"));
	CHECK(says(panic_of(do_free, a + 16), "corrupted block header")); /* inside a block */
	CHECK(says(panic_of(do_realloc, local), "outside the heap"));
	/* an overrun of a rewrites b's header: mo_heap_check and free(b) see it */
	memset(a, 'x', 32 + 16);
	CHECK(says(panic_of(do_check, NULL), "heap check"));
	CHECK(says(panic_of(do_free, b), "corrupted block header"));
	/* a flipped size bit in a live header */
	fresh_heap(1u << 20);
	a = mo_malloc(64);
	((size_t *)(void *)a)[-2] ^= 0x20;
	CHECK(says(panic_of(do_free, a), "corrupted block header"));
	/* page frees insist on page alignment */
	fresh_heap(1u << 20);
	a = mo_malloc(64);
	pg = mo_heap_alloc_pages(1);
	CHECK(says(panic_of(do_free_pages, a), "not page-aligned"));
	CHECK(says(panic_of(do_free_pages, pg + MO_PAGE_SIZE), "corrupted block header"));
	mo_heap_free_pages(pg);
	CHECK(says(panic_of(do_free_pages, pg), "double free"));
	mo_free(a);
	mo_heap_check();
}

int main(void)
{
	const char *seed = getenv("PV_LIBC_SEED");

	rng_seed = seed ? strtoull(seed, NULL, 0) : 1;
	if (rng_seed == 0)
		rng_seed = 1;
	rng_state = rng_seed;
	printf("# PV_LIBC_SEED=%llu\n", (unsigned long long)rng_seed);
	tap_run("snprintf matches glibc: every conversion, flag, width, precision, length, at every buffer size",
		t_snprintf_random);
	tap_run("snprintf matches glibc on the formats minios uses, NULL strings and pointers", t_snprintf_minios_formats);
	tap_run("snprintf: an unsupported conversion (%f, %n, %ls, %L) is copied and ends the output",
		t_snprintf_unsupported);
	tap_run("snprintf: a result or width beyond INT_MAX returns -1 with EOVERFLOW", t_snprintf_overflow);
	tap_run("strtol/strtoul/strtoll/strtoull match glibc: value, end and errno, every base", t_strtol);
	tap_run("inet_pton(AF_INET) matches glibc on valid and invalid text", t_inet_pton4);
	tap_run("inet_pton(AF_INET6) matches glibc: '::' forms, IPv4 tails, invalid text", t_inet_pton6);
	tap_run("inet_pton of another family is -1 with EAFNOSUPPORT; byte order matches glibc", t_inet_pton_family);
	tap_run("ctype classifies every byte and EOF as glibc's C locale does", t_ctype);
	tap_run("memcpy, memset, memmove (overlapping either way) match glibc at every alignment", t_mem_copy_set);
	tap_run("mem/str compare and search functions match glibc on random strings with high bytes",
		t_str_search_compare);
	tap_run("strcpy, stpcpy, strncpy, strcat, strncat, strdup, strndup match glibc", t_str_copy);
	tap_run("abs, labs, llabs match glibc", t_abs);
	tap_run("qsort sorts as glibc's does (sizes 1-100 bytes, ties, sorted, reversed, equal)", t_qsort);
	tap_run("bsearch finds what glibc's finds", t_bsearch);
	tap_run("heap: 16-byte aligned unique blocks, calloc zeroes, all freed is one block again", t_heap_basics);
	tap_run("heap: 200k random malloc/calloc/realloc/free/page ops keep every stamp; all freed is one block",
		t_heap_stress);
	tap_run("heap: page allocations are page-aligned, mix with malloc and coalesce back", t_heap_pages);
	tap_run("heap: realloc grows into a free neighbour, shrinks in place, moves with its contents",
		t_heap_realloc);
	tap_run("heap: exhaustion returns NULL and counts it; tiny and unaligned regions", t_heap_exhaustion);
	tap_run("heap: a double free calls mo_libc_panic", t_heap_double_free);
	tap_run("heap: foreign pointers, overruns and corrupted headers call mo_libc_panic", t_heap_corruption);
	return tap_done();
}
