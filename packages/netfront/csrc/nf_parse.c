/* SPDX-License-Identifier: MIT */
/*
 * nf_parse.c - strict parsers for what the backend writes into xenstore,
 * and the string helpers of the core. The rules are @vpio/vif's parse.ts:
 * decimal digits only, no sign, no spaces, no leading zero (except "0"),
 * at most 2^32 - 1. Freestanding: no libc.
 */
#include "nf_internal.h"

int nf_parse_u32(const char *s, uint32_t len, uint32_t *out)
{
	uint64_t v = 0;
	uint32_t i;

	if (len == 0 || len > 10 || (len > 1 && s[0] == '0'))
		return -VP_EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -VP_EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > 0xffffffffull)
		return -VP_EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_range(const char *s, uint32_t len, uint32_t min, uint32_t max, uint32_t *out)
{
	uint32_t v;

	if (nf_parse_u32(s, len, &v) || v < min || v > max)
		return -VP_EINVAL;
	*out = v;
	return 0;
}

int nf_parse_state(const char *s, uint32_t len, uint32_t *out)
{
	return parse_range(s, len, VIF_STATE_UNKNOWN, VIF_STATE_RECONFIGURED, out);
}

int nf_backend_verdict(const char *s, uint32_t len, int present, uint32_t *state)
{
	uint32_t st;

	if (!present)
		st = NF_BACKEND_GONE;
	else if (nf_parse_state(s, len, &st))
		st = NF_BACKEND_GARBLED;
	*state = st;
	return st == VIF_STATE_CONNECTED;
}

int nf_parse_slots(const char *s, uint32_t len, uint32_t *out)
{
	uint32_t v;

	if (parse_range(s, len, VIF_LIMIT_MIN_SLOTS, VIF_LIMIT_MAX_SLOTS, &v) || (v & (v - 1)) != 0)
		return -VP_EINVAL;
	*out = v;
	return 0;
}

int nf_parse_ref_count(const char *s, uint32_t len, uint32_t *out)
{
	return parse_range(s, len, 1, VIF_LIMIT_MAX_RING_REFS, out);
}

int nf_parse_queue_count(const char *s, uint32_t len, uint32_t *out)
{
	return parse_range(s, len, 1, VIF_LIMIT_MAX_QUEUES, out);
}

int nf_parse_gref(const char *s, uint32_t len, uint32_t *out)
{
	return parse_range(s, len, 8, 0xffffffffu, out);
}

int nf_parse_port(const char *s, uint32_t len, uint32_t *out)
{
	return parse_range(s, len, 1, VIF_LIMIT_MAX_PORT, out);
}

int nf_parse_mtu(const char *s, uint32_t len, uint32_t *out)
{
	return parse_range(s, len, VIF_LIMIT_MIN_MTU, VIF_LIMIT_MAX_MTU, out);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int nf_parse_mac(const char *s, uint32_t len, uint8_t mac[6])
{
	uint8_t m[6];
	int i;

	if (len != 17)
		return -VP_EINVAL;
	for (i = 0; i < 6; i++) {
		int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			return -VP_EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	if (m[0] & 1) /* group bit: not a unicast address */
		return -VP_EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = m[i];
	return 0;
}

void nf_zero(void *p, uint64_t bytes)
{
	uint8_t *b = (uint8_t *)p;

	while (bytes--)
		*b++ = 0;
}

uint32_t nf_strlen(const char *s)
{
	uint32_t n = 0;

	while (s[n])
		n++;
	return n;
}

void nf_str_init(struct nf_str *s, char *buf, uint32_t cap)
{
	s->buf = buf;
	s->cap = cap;
	s->len = 0;
	s->overflow = 0;
	if (cap)
		buf[0] = '\0';
}

static void add_char(struct nf_str *s, char c)
{
	if (s->len + 1 >= s->cap) {
		s->overflow = 1;
		return;
	}
	s->buf[s->len++] = c;
	s->buf[s->len] = '\0';
}

void nf_str_add(struct nf_str *s, const char *text)
{
	while (*text)
		add_char(s, *text++);
}

void nf_str_add_u32(struct nf_str *s, uint32_t v)
{
	char digits[10];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		add_char(s, digits[--n]);
}

void nf_str_add_shown(struct nf_str *s, const char *text, uint32_t len, uint32_t max)
{
	uint32_t i;

	add_char(s, '"');
	for (i = 0; i < len && i < max; i++)
		add_char(s, text[i] >= 0x20 && text[i] <= 0x7e && text[i] != '"' && text[i] != '\\' ? text[i] : '?');
	if (len > max)
		nf_str_add(s, "...");
	add_char(s, '"');
}
