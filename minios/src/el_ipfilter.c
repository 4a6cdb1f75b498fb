/* SPDX-License-Identifier: MIT */
/*
 * el_ipfilter.c - IPFilter(RULE, ...): first matching rule decides; allowed
 * packets go to output 0, denied ones and those no rule matches are dropped
 * (counted per rule and as "nomatch").
 *
 *   rule := ("allow" | "deny") term { "&&" term }
 *   term := ["!"] ( "all"
 *                 | ["src" | "dst"] ADDR[/LEN]          IPv4 address or prefix
 *                 | "proto" (tcp | udp | icmp | N)  |  tcp | udp | icmp
 *                 | ["src" | "dst"] "port" N[-M] )      TCP/UDP ports
 *   "src"/"dst" omitted: either side matches.
 * Frames that are not well-formed IPv4 (too short, bad IHL or total
 * length) satisfy only "all"; port terms are false for other protocols and
 * for non-first fragments. Rule text is validated when the configuration
 * is read; packets only walk a compiled array.
 */
#include <stdio.h>
#include <string.h>

#include "element.h"
#include "proto.h"

#define IPF_MAX_RULES 16u
#define IPF_MAX_TERMS 8u

enum ipf_kind { IPF_ALL, IPF_ADDR, IPF_PROTO, IPF_PORT };
enum ipf_dir { IPF_EITHER = 0, IPF_SRC, IPF_DST };

struct ipf_term {
	uint8_t kind, dir, neg, proto;
	uint32_t addr, mask;
	uint16_t plo, phi;
};

struct ipf_rule {
	int allow;
	uint32_t nterms;
	struct ipf_term t[IPF_MAX_TERMS];
};

struct ipfilter {
	struct mo_element el;
	uint32_t nrules;
	struct ipf_rule r[IPF_MAX_RULES];
	uint64_t hits[IPF_MAX_RULES], nomatch;
	struct mo_pkt out[MO_BURST];
};

/* Next word of *s (up to whitespace) into w; 0 at the end. */
static size_t word(const char **s, char *w, size_t cap)
{
	size_t n;

	while (**s == ' ' || **s == '\t')
		(*s)++;
	n = strcspn(*s, " \t");
	if (n >= cap)
		n = cap - 1;
	memcpy(w, *s, n);
	w[n] = '\0';
	*s += strcspn(*s, " \t");
	return n;
}

static int parse_proto(const char *w, uint8_t *proto)
{
	uint32_t v;

	if (!strcmp(w, "tcp"))
		*proto = IP_PROTO_TCP;
	else if (!strcmp(w, "udp"))
		*proto = IP_PROTO_UDP;
	else if (!strcmp(w, "icmp"))
		*proto = IP_PROTO_ICMP;
	else if (!mo_parse_u32(w, 0, 255, &v))
		*proto = (uint8_t)v;
	else
		return -1;
	return 0;
}

static int parse_ports(const char *w, uint16_t *lo, uint16_t *hi)
{
	char a[8];
	const char *dash = strchr(w, '-');
	uint32_t l, h;

	if (!dash)
		return mo_parse_u32(w, 0, 65535, &l) ? -1 : (*lo = *hi = (uint16_t)l, 0);
	if ((size_t)(dash - w) >= sizeof(a))
		return -1;
	memcpy(a, w, (size_t)(dash - w));
	a[dash - w] = '\0';
	if (mo_parse_u32(a, 0, 65535, &l) || mo_parse_u32(dash + 1, 0, 65535, &h) || l > h)
		return -1;
	*lo = (uint16_t)l;
	*hi = (uint16_t)h;
	return 0;
}

static int parse_rule(const char *s, struct ipf_rule *r, char *why, size_t whylen)
{
	char w[48];

	word(&s, w, sizeof(w));
	if (!strcmp(w, "allow"))
		r->allow = 1;
	else if (!strcmp(w, "deny"))
		r->allow = 0;
	else
		return snprintf(why, whylen, "a rule starts with 'allow' or 'deny', found '%s'", w), -1;
	for (;;) {
		struct ipf_term *t;

		if (r->nterms >= IPF_MAX_TERMS)
			return snprintf(why, whylen, "more than %u terms in one rule", IPF_MAX_TERMS), -1;
		t = &r->t[r->nterms++];
		memset(t, 0, sizeof(*t));
		if (!word(&s, w, sizeof(w)))
			return snprintf(why, whylen, "a term is missing"), -1;
		if (!strcmp(w, "!")) {
			t->neg = 1;
			word(&s, w, sizeof(w));
		} else if (w[0] == '!') {
			t->neg = 1;
			memmove(w, w + 1, strlen(w));
		}
		if (!strcmp(w, "src") || !strcmp(w, "dst")) {
			t->dir = w[0] == 's' ? IPF_SRC : IPF_DST;
			word(&s, w, sizeof(w));
		}
		if (!strcmp(w, "all") && !t->dir) {
			t->kind = IPF_ALL;
		} else if (!strcmp(w, "port")) {
			t->kind = IPF_PORT;
			word(&s, w, sizeof(w));
			if (parse_ports(w, &t->plo, &t->phi))
				return snprintf(why, whylen, "expected a port or range N-M, found '%s'", w), -1;
		} else if ((!strcmp(w, "proto") || !strcmp(w, "tcp") || !strcmp(w, "udp") || !strcmp(w, "icmp")) &&
			   !t->dir) {
			t->kind = IPF_PROTO;
			if (!strcmp(w, "proto"))
				word(&s, w, sizeof(w));
			if (parse_proto(w, &t->proto))
				return snprintf(why, whylen, "expected tcp, udp, icmp or a number 0-255, found '%s'", w), -1;
		} else {
			uint32_t plen;

			t->kind = IPF_ADDR;
			if (mo_parse_ip4_prefix(w, &t->addr, &plen))
				return snprintf(why, whylen, "unknown term or bad IPv4 address/prefix '%s'", w), -1;
			t->mask = plen ? 0xffffffffu << (32 - plen) : 0;
		}
		if (!word(&s, w, sizeof(w)))
			return 0;
		if (strcmp(w, "&&"))
			return snprintf(why, whylen, "expected '&&' between terms, found '%s'", w), -1;
	}
}

static int ipf_configure(struct mo_element *el, struct mo_args *as, struct mo_err *err)
{
	struct ipfilter *f = (struct ipfilter *)el;
	char why[120];

	if (!as->n)
		return mo_err_at(err, as, NULL, "IPFilter needs at least one rule");
	if (as->n > IPF_MAX_RULES)
		return mo_err_at(err, as, &as->v[IPF_MAX_RULES], "more than %u rules", IPF_MAX_RULES);
	for (uint32_t i = 0; i < as->n; i++) {
		as->v[i].used = 1;
		if (parse_rule(as->v[i].text, &f->r[i], why, sizeof(why)))
			return mo_err_at(err, as, &as->v[i], "rule %u: %s", i, why);
	}
	f->nrules = as->n;
	return 0;
}

struct ipf_pkt {
	int ip;
	uint8_t proto;
	uint32_t src, dst;
	int ports;
	uint16_t sport, dport;
};

static void ipf_parse(const struct mo_pkt *q, struct ipf_pkt *k)
{
	uint32_t hl = ip4_hlen(q->data, q->len);
	const uint8_t *ip = q->data + ETH_HLEN;

	memset(k, 0, sizeof(*k));
	if (!hl)
		return;
	k->ip = 1;
	k->proto = ip[9];
	k->src = be32(ip + 12);
	k->dst = be32(ip + 16);
	if ((k->proto == IP_PROTO_TCP || k->proto == IP_PROTO_UDP) && !(be16(ip + 6) & 0x1fff) &&
	    be16(ip + 2) >= hl + 4) {
		k->ports = 1;
		k->sport = be16(ip + hl);
		k->dport = be16(ip + hl + 2);
	}
}

static int term_match(const struct ipf_term *t, const struct ipf_pkt *k)
{
	int m = 0;

	switch (t->kind) {
	case IPF_ALL:
		m = 1;
		break;
	case IPF_ADDR:
		m = k->ip && ((t->dir != IPF_DST && (k->src & t->mask) == t->addr) ||
			      (t->dir != IPF_SRC && (k->dst & t->mask) == t->addr));
		break;
	case IPF_PROTO:
		m = k->ip && k->proto == t->proto;
		break;
	case IPF_PORT:
		m = k->ports && ((t->dir != IPF_DST && k->sport >= t->plo && k->sport <= t->phi) ||
				 (t->dir != IPF_SRC && k->dport >= t->plo && k->dport <= t->phi));
		break;
	default:
		break;
	}
	return t->neg ? !m : m;
}

static void ipf_push(struct mo_element *el, uint32_t port, struct mo_pkt *p, uint32_t n)
{
	struct ipfilter *f = (struct ipfilter *)el;
	uint32_t i, r, k = 0;

	(void)port;
	for (i = 0; i < n; i++) {
		struct ipf_pkt key;

		ipf_parse(&p[i], &key);
		for (r = 0; r < f->nrules; r++) {
			uint32_t t;

			for (t = 0; t < f->r[r].nterms && term_match(&f->r[r].t[t], &key); t++)
				;
			if (t == f->r[r].nterms)
				break;
		}
		if (r == f->nrules) {
			f->nomatch++;
			continue;
		}
		f->hits[r]++;
		if (f->r[r].allow)
			f->out[k++] = p[i];
	}
	mo_push(el, 0, f->out, k);
}

static void ipf_stats(struct mo_element *el, struct mo_json *j)
{
	struct ipfilter *f = (struct ipfilter *)el;

	mo_json_raw(j, ",\"hits\":[");
	for (uint32_t r = 0; r < f->nrules; r++)
		mo_json_raw(j, "%s%llu", r ? "," : "", (unsigned long long)f->hits[r]);
	mo_json_raw(j, "]");
	mo_json_u64(j, "nomatch", f->nomatch);
}

const struct mo_class mo_class_ipfilter = {
	.name = "IPFilter", .size = sizeof(struct ipfilter), .nin = 1, .nout = 1,
	.configure = ipf_configure, .push = ipf_push, .stats = ipf_stats,
};
