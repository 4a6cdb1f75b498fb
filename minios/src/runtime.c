/* SPDX-License-Identifier: MIT */
/*
 * runtime.c - the element graph around config.c: class lookup, the vif
 * table, argument helpers, start, stats as JSON lines. Setup code only:
 * nothing here runs per packet.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "element.h"

void mo_rt_init(struct mo_runtime *rt, struct mo_sched *sched)
{
	*rt = (struct mo_runtime){ .sched = sched, .now_ns = mo_clock_ns };
}

struct mo_element *mo_rt_find(struct mo_runtime *rt, const char *name)
{
	for (uint32_t i = 0; i < rt->nels; i++)
		if (!strcmp(rt->els[i]->name, name))
			return rt->els[i];
	return NULL;
}

const struct mo_class *mo_class_find(const struct mo_runtime *rt, const char *name)
{
	const struct mo_class *const *c;

	for (c = mo_builtin_classes; *c; c++)
		if (!strcmp((*c)->name, name))
			return *c;
	for (c = rt->extra_classes; c && *c; c++)
		if (!strcmp((*c)->name, name))
			return *c;
	return NULL;
}

int mo_rt_dev(struct mo_runtime *rt, uint32_t devid, enum nf_mode mode)
{
	uint32_t i;

	for (i = 0; i < rt->ndevs; i++) {
		if (rt->devs[i].devid == devid) {
			if (mode == NF_MODE_POLL)
				rt->devs[i].mode = NF_MODE_POLL; /* one poller makes the vif a polled one */
			return (int)i;
		}
	}
	if (rt->ndevs >= MO_MAX_DEVS)
		return -1;
	rt->devs[i] = (struct mo_dev){ .devid = devid, .mode = mode, .rx_fd = -1, .tx_fd = -1 };
	rt->ndevs++;
	return (int)i;
}

uint64_t mo_now(const struct mo_runtime *rt)
{
	return rt->now_ns(rt->now_ctx);
}

void mo_emit(struct mo_runtime *rt, const char *line)
{
	if (rt->emit)
		rt->emit(rt->emit_ctx, line);
}

int mo_rt_start(struct mo_runtime *rt)
{
	for (uint32_t i = 0; i < rt->nels; i++) {
		struct mo_element *el = rt->els[i];
		int rc = el->cls->start ? el->cls->start(el) : 0;

		if (rc)
			return rc;
	}
	return 0;
}

void mo_rt_fini(struct mo_runtime *rt)
{
	for (uint32_t i = 0; i < rt->nels; i++)
		free(rt->els[i]);
	rt->nels = 0;
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                       */

void mo_json_init(struct mo_json *j, char *buf, size_t cap)
{
	j->buf = buf;
	j->cap = cap;
	j->len = 0;
	buf[0] = '\0';
}

void mo_json_raw(struct mo_json *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (j->len >= j->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(j->buf + j->len, j->cap - j->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		j->len += (size_t)n;
	if (j->len >= j->cap)
		j->len = j->cap - 1; /* truncated: still NUL-terminated */
}

void mo_json_u64(struct mo_json *j, const char *key, uint64_t v)
{
	mo_json_raw(j, ",\"%s\":%llu", key, (unsigned long long)v);
}

void mo_json_str(struct mo_json *j, const char *key, const char *v)
{
	mo_json_raw(j, ",\"%s\":\"%s\"", key, v); /* keys and values are ours: names are [A-Za-z0-9_@] */
}

void mo_rt_emit_stats(struct mo_runtime *rt, const char *event)
{
	static char buf[32768];
	struct mo_json j;

	mo_json_init(&j, buf, sizeof(buf));
	mo_json_raw(&j, "{\"event\":\"%s\",\"elements\":{", event);
	for (uint32_t i = 0; i < rt->nels; i++) {
		struct mo_element *el = rt->els[i];

		mo_json_raw(&j, "%s\"%s\":{\"class\":\"%s\"", i ? "," : "", el->name, el->cls->name);
		if (el->nin)
			mo_json_u64(&j, "in", el->in_pkts);
		if (el->cls->stats)
			el->cls->stats(el, &j);
		mo_json_raw(&j, "}");
	}
	mo_json_raw(&j, "}}");
	mo_emit(rt, buf);
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                  */

int mo_err_at(struct mo_err *err, const struct mo_args *as, const struct mo_arg *a, const char *fmt, ...)
{
	va_list ap;

	err->line = a ? a->line : as->line;
	err->col = a ? a->col : as->col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* "KEY value": returns the value when the first word is exactly key. */
static char *kw_value(char *text, const char *key)
{
	size_t k = strlen(key);

	if (strncmp(text, key, k) || (text[k] != ' ' && text[k] != '\t'))
		return NULL;
	text += k;
	while (*text == ' ' || *text == '\t')
		text++;
	return text;
}

static int is_keyword(const char *text)
{
	const char *p = text;

	while ((*p >= 'A' && *p <= 'Z') || *p == '_' || (p > text && *p >= '0' && *p <= '9'))
		p++;
	return p > text + 1 && (*p == ' ' || *p == '\t');
}

struct mo_arg *mo_arg_get(struct mo_args *as, int idx, const char *key)
{
	static struct mo_arg kwarg[MO_MAX_ARGS]; /* the value part of a keyword argument (setup only) */
	uint32_t i;
	int pos = 0;

	if (key) {
		for (i = 0; i < as->n; i++) {
			char *v = kw_value(as->v[i].text, key);

			if (v) {
				as->v[i].used = 1;
				kwarg[i] = as->v[i];
				kwarg[i].col += (uint32_t)(v - as->v[i].text);
				kwarg[i].text = v;
				return &kwarg[i];
			}
		}
	}
	if (idx < 0)
		return NULL;
	for (i = 0; i < as->n; i++) {
		if (is_keyword(as->v[i].text))
			continue;
		if (pos++ == idx) {
			as->v[i].used = 1;
			return &as->v[i];
		}
	}
	return NULL;
}

int mo_args_check(struct mo_args *as, struct mo_err *err)
{
	for (uint32_t i = 0; i < as->n; i++)
		if (!as->v[i].used)
			return mo_err_at(err, as, &as->v[i], "unexpected argument '%s'", as->v[i].text);
	return 0;
}

int mo_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > 0xffffffffull)
			return -1;
	}
	if (v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
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

int mo_parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int h = hexval(s[0]), l = h < 0 ? -1 : hexval(s[1]);

		if (h < 0 || l < 0 || s[2] != (i == 5 ? '\0' : ':'))
			return -1;
		mac[i] = (uint8_t)(h << 4 | l);
		s += 3;
	}
	return 0;
}

int mo_parse_ip4(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*ip = ntohl(a.s_addr);
	return 0;
}

int mo_parse_ip4_prefix(const char *s, uint32_t *ip, uint32_t *plen)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (mo_parse_ip4(buf, ip))
		return -1;
	*plen = 32;
	if (slash && mo_parse_u32(slash + 1, 0, 32, plen))
		return -1;
	if (*plen < 32 && (*ip & (*plen ? 0xffffffffu >> *plen : 0xffffffffu)))
		return -1; /* host bits set: say what you mean */
	return 0;
}

int mo_parse_ip6(const char *s, uint8_t ip[16])
{
	return inet_pton(AF_INET6, s, ip) == 1 ? 0 : -1;
}

int mo_arg_u32(struct mo_args *as, int idx, const char *key, uint32_t min, uint32_t max, int required,
	       uint32_t *out, struct mo_err *err)
{
	struct mo_arg *a = mo_arg_get(as, idx, key);

	if (!a)
		return required ? mo_err_at(err, as, NULL, "missing argument %s", key) : 1;
	if (mo_parse_u32(a->text, min, max, out))
		return mo_err_at(err, as, a, "%s: expected an integer in [%u, %u], found '%s'", key, min, max, a->text);
	return 0;
}

int mo_arg_mac(struct mo_args *as, int idx, const char *key, int required, uint8_t mac[6], struct mo_err *err)
{
	struct mo_arg *a = mo_arg_get(as, idx, key);

	if (!a)
		return required ? mo_err_at(err, as, NULL, "missing argument %s", key) : 1;
	if (!strcmp(a->text, "auto"))
		return 1;
	if (mo_parse_mac(a->text, mac))
		return mo_err_at(err, as, a, "%s: expected a MAC address xx:xx:xx:xx:xx:xx or 'auto', found '%s'", key,
				 a->text);
	return 0;
}

int mo_arg_ip4(struct mo_args *as, int idx, const char *key, int required, uint32_t *ip, struct mo_err *err)
{
	struct mo_arg *a = mo_arg_get(as, idx, key);

	if (!a)
		return required ? mo_err_at(err, as, NULL, "missing argument %s", key) : 1;
	if (mo_parse_ip4(a->text, ip))
		return mo_err_at(err, as, a, "%s: expected an IPv4 address, found '%s'", key, a->text);
	return 0;
}
