/* SPDX-License-Identifier: MIT */
/*
 * el_basic.c - Counter, Sink, EtherMirror, EtherRewrite, Classifier.
 *
 * Classifier(PATTERN, ...): output i gets the packets that match pattern i
 * and no earlier one; a pattern is "-" (everything) or space-separated
 * terms OFFSET/HEX[%MASK] that must all hold (Click's syntax): the bytes at
 * OFFSET, masked, equal HEX (an even number of hex digits, at most 16
 * bytes). A packet shorter than a term's end does not match it. Packets
 * matching nothing are dropped and counted.
 */
#include <string.h>

#include "element.h"
#include "proto.h"

/* ---- Counter ---- */

struct counter {
	struct mo_element el;
	uint64_t pkts, bytes;
};

static void counter_push(struct mo_element *el, uint32_t port, struct mo_pkt *p, uint32_t n)
{
	struct counter *c = (struct counter *)el;

	(void)port;
	c->pkts += n;
	for (uint32_t i = 0; i < n; i++)
		c->bytes += p[i].len;
	mo_push(el, 0, p, n);
}

static void counter_stats(struct mo_element *el, struct mo_json *j)
{
	struct counter *c = (struct counter *)el;

	mo_json_u64(j, "count", c->pkts);
	mo_json_u64(j, "bytes", c->bytes);
}

const struct mo_class mo_class_counter = {
	.name = "Counter", .size = sizeof(struct counter), .nin = 1, .nout = 1,
	.push = counter_push, .stats = counter_stats,
};

/* ---- Sink ---- */

struct sink {
	struct mo_element el;
	uint64_t pkts, bytes;
};

static void sink_push(struct mo_element *el, uint32_t port, struct mo_pkt *p, uint32_t n)
{
	struct sink *s = (struct sink *)el;

	(void)port;
	s->pkts += n;
	for (uint32_t i = 0; i < n; i++)
		s->bytes += p[i].len;
}

static void sink_stats(struct mo_element *el, struct mo_json *j)
{
	struct sink *s = (struct sink *)el;

	mo_json_u64(j, "dropped", s->pkts);
	mo_json_u64(j, "bytes", s->bytes);
}

const struct mo_class mo_class_sink = {
	.name = "Sink", .size = sizeof(struct sink), .nin = 1, .nout = 0, .push = sink_push, .stats = sink_stats,
};

/* ---- EtherMirror ---- */

struct mirror {
	struct mo_element el;
	uint64_t pkts;
};

static void mirror_push(struct mo_element *el, uint32_t port, struct mo_pkt *p, uint32_t n)
{
	(void)port;
	for (uint32_t i = 0; i < n; i++)
		eth_swap(p[i].data);
	((struct mirror *)el)->pkts += n;
	mo_push(el, 0, p, n);
}

static void mirror_stats(struct mo_element *el, struct mo_json *j)
{
	mo_json_u64(j, "mirrored", ((struct mirror *)el)->pkts);
}

const struct mo_class mo_class_ether_mirror = {
	.name = "EtherMirror", .size = sizeof(struct mirror), .nin = 1, .nout = 1,
	.push = mirror_push, .stats = mirror_stats,
};

/* ---- EtherRewrite(SRC, DST) ---- */

struct rewrite {
	struct mo_element el;
	uint8_t src[6], dst[6];
	int src_auto;
	int dev;
	uint64_t pkts;
};

static int rewrite_configure(struct mo_element *el, struct mo_args *as, struct mo_err *err)
{
	struct rewrite *r = (struct rewrite *)el;
	uint32_t devid = 0;
	int rc = mo_arg_mac(as, 0, "SRC", 1, r->src, err);

	if (rc < 0)
		return -1;
	r->src_auto = rc == 1;
	rc = mo_arg_mac(as, 1, "DST", 1, r->dst, err);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return mo_err_at(err, as, NULL, "DST: a MAC address is required ('auto' is for SRC only)");
	if (mo_arg_u32(as, -1, "DEV", 0, 1023, 0, &devid, err) < 0)
		return -1;
	r->dev = -1;
	if (r->src_auto)
		r->dev = mo_rt_dev(el->rt, devid, NF_MODE_EVENT);
	return 0;
}

static int rewrite_start(struct mo_element *el)
{
	struct rewrite *r = (struct rewrite *)el;

	if (r->src_auto)
		memcpy(r->src, el->rt->devs[r->dev].mac, 6);
	return 0;
}

static void rewrite_push(struct mo_element *el, uint32_t port, struct mo_pkt *p, uint32_t n)
{
	struct rewrite *r = (struct rewrite *)el;

	(void)port;
	for (uint32_t i = 0; i < n; i++) {
		memcpy(p[i].data, r->dst, 6);
		memcpy(p[i].data + 6, r->src, 6);
	}
	r->pkts += n;
	mo_push(el, 0, p, n);
}

static void rewrite_stats(struct mo_element *el, struct mo_json *j)
{
	mo_json_u64(j, "rewritten", ((struct rewrite *)el)->pkts);
}

const struct mo_class mo_class_ether_rewrite = {
	.name = "EtherRewrite", .size = sizeof(struct rewrite), .nin = 1, .nout = 1,
	.configure = rewrite_configure, .start = rewrite_start, .push = rewrite_push, .stats = rewrite_stats,
};

/* ---- Classifier ---- */

#define CL_MAX_TERMS 8u
#define CL_MAX_BYTES 16u

struct cl_term {
	uint16_t off;
	uint8_t n;
	uint8_t val[CL_MAX_BYTES], mask[CL_MAX_BYTES];
};

struct cl_pattern {
	uint32_t nterms; /* 0: "-", matches everything */
	struct cl_term t[CL_MAX_TERMS];
};

struct classifier {
	struct mo_element el;
	uint32_t npat;
	struct cl_pattern pat[MO_MAX_OUT];
	uint64_t hits[MO_MAX_OUT], nomatch;
	struct mo_pkt scratch[MO_MAX_OUT][MO_BURST];
};

static int hexdig(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex bytes from s[0..len); the count, or -1. */
static int hexbytes(const char *s, size_t len, uint8_t *out)
{
	if (len == 0 || len % 2 || len / 2 > CL_MAX_BYTES)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		int h = hexdig(s[i]), l = hexdig(s[i + 1]);

		if (h < 0 || l < 0)
			return -1;
		out[i / 2] = (uint8_t)(h << 4 | l);
	}
	return (int)(len / 2);
}

static int parse_term(const char *s, size_t len, struct cl_term *t)
{
	const char *slash = memchr(s, '/', len), *pct;
	uint32_t off = 0;
	size_t vlen;
	int n;

	if (!slash || slash == s)
		return -1;
	for (const char *q = s; q < slash; q++) {
		if (*q < '0' || *q > '9')
			return -1;
		off = off * 10 + (uint32_t)(*q - '0');
		if (off > 65535)
			return -1;
	}
	pct = memchr(slash + 1, '%', len - (size_t)(slash + 1 - s));
	vlen = (size_t)((pct ? pct : s + len) - (slash + 1));
	n = hexbytes(slash + 1, vlen, t->val);
	if (n < 0)
		return -1;
	memset(t->mask, 0xff, sizeof(t->mask));
	if (pct && hexbytes(pct + 1, (size_t)(s + len - pct - 1), t->mask) != n)
		return -1;
	for (int i = 0; i < n; i++)
		t->val[i] &= t->mask[i];
	t->off = (uint16_t)off;
	t->n = (uint8_t)n;
	return 0;
}

static int cl_configure(struct mo_element *el, struct mo_args *as, struct mo_err *err)
{
	struct classifier *c = (struct classifier *)el;

	if (as->n == 0)
		return mo_err_at(err, as, NULL, "Classifier needs at least one pattern");
	if (as->n > MO_MAX_OUT)
		return mo_err_at(err, as, &as->v[MO_MAX_OUT], "more than %u patterns", MO_MAX_OUT);
	for (uint32_t i = 0; i < as->n; i++) {
		struct mo_arg *a = &as->v[i];
		struct cl_pattern *p = &c->pat[i];
		const char *s = a->text;

		a->used = 1;
		if (!strcmp(s, "-"))
			continue;
		while (*s) {
			size_t len = strcspn(s, " \t");

			if (p->nterms >= CL_MAX_TERMS)
				return mo_err_at(err, as, a, "more than %u terms in one pattern", CL_MAX_TERMS);
			if (parse_term(s, len, &p->t[p->nterms++]))
				return mo_err_at(err, as, a,
						 "bad pattern term '%.*s': expected OFFSET/HEX[%%MASK] (even hex digits, at most %u bytes)",
						 (int)len, s, CL_MAX_BYTES);
			s += len;
			while (*s == ' ' || *s == '\t')
				s++;
		}
	}
	c->npat = as->n;
	el->nout = as->n;
	return 0;
}

static int cl_match(const struct cl_pattern *p, const struct mo_pkt *q)
{
	for (uint32_t t = 0; t < p->nterms; t++) {
		const struct cl_term *m = &p->t[t];

		if ((uint32_t)m->off + m->n > q->len)
			return 0;
		for (uint32_t b = 0; b < m->n; b++)
			if ((q->data[m->off + b] & m->mask[b]) != m->val[b])
				return 0;
	}
	return 1;
}

static void cl_push(struct mo_element *el, uint32_t port, struct mo_pkt *p, uint32_t n)
{
	struct classifier *c = (struct classifier *)el;
	uint32_t cnt[MO_MAX_OUT] = { 0 }, i, k;

	(void)port;
	for (i = 0; i < n; i++) {
		for (k = 0; k < c->npat; k++)
			if (cl_match(&c->pat[k], &p[i]))
				break;
		if (k == c->npat) {
			c->nomatch++;
			continue;
		}
		c->scratch[k][cnt[k]++] = p[i];
	}
	for (k = 0; k < c->npat; k++) {
		c->hits[k] += cnt[k];
		mo_push(el, k, c->scratch[k], cnt[k]);
	}
}

static void cl_stats(struct mo_element *el, struct mo_json *j)
{
	struct classifier *c = (struct classifier *)el;

	mo_json_raw(j, ",\"hits\":[");
	for (uint32_t k = 0; k < c->npat; k++)
		mo_json_raw(j, "%s%llu", k ? "," : "", (unsigned long long)c->hits[k]);
	mo_json_raw(j, "]");
	mo_json_u64(j, "nomatch", c->nomatch);
}

const struct mo_class mo_class_classifier = {
	.name = "Classifier", .size = sizeof(struct classifier), .nin = 1, .nout = 1,
	.configure = cl_configure, .push = cl_push, .stats = cl_stats,
};
