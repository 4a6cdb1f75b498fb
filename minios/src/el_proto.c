/* SPDX-License-Identifier: MIT */
/*
 * el_proto.c - the responders: ARPResponder, ICMPPingResponder and
 * ICMPv6Responder (neighbour discovery + echo). Each turns a request into
 * its reply in place (same buffer: a received packet leaves by buffer swap)
 * and pushes it to output 0; anything else is dropped and counted. Every
 * length, header field and checksum is checked before a reply is built.
 *
 *   ARPResponder(IP [MAC] [, DEV n])   MAC omitted or "auto": vif DEV's MAC
 *   ICMPPingResponder()                IPv4 echo request -> reply (MACs swapped)
 *   ICMPv6Responder(IP6 [MAC] [, DEV n])
 *       neighbour solicitation for IP6 -> advertisement (S and O set, with
 *       the target link-layer address option); echo request to IP6 ->
 *       reply (MACs swapped)
 */
#include <stdio.h>
#include <string.h>

#include "element.h"
#include "proto.h"

/* "ADDR [MAC]" in arg 0 (or ADDR in arg 0 and MAC in arg 1); MAC absent/auto -> from vif DEV at start. */
static int addr_mac_args(struct mo_element *el, struct mo_args *as, struct mo_err *err, int v6, uint32_t *ip4,
			 uint8_t ip6[16], uint8_t mac[6], int *mac_auto, int *dev)
{
	struct mo_arg *a = mo_arg_get(as, 0, v6 ? "IP6" : "IP"), *m;
	char addr[64];
	const char *sp;
	uint32_t devid = 0;
	int rc;

	if (!a)
		return mo_err_at(err, as, NULL, "missing argument %s", v6 ? "IP6" : "IP");
	sp = strpbrk(a->text, " \t");
	snprintf(addr, sizeof(addr), "%.*s", sp ? (int)(sp - a->text) : (int)strlen(a->text), a->text);
	if (v6 ? mo_parse_ip6(addr, ip6) : mo_parse_ip4(addr, ip4))
		return mo_err_at(err, as, a, "expected an %s address, found '%s'", v6 ? "IPv6" : "IPv4", addr);
	*mac_auto = 1;
	if (sp) {
		while (*sp == ' ' || *sp == '\t')
			sp++;
		if (strcmp(sp, "auto")) {
			if (mo_parse_mac(sp, mac))
				return mo_err_at(err, as, a, "expected a MAC address or 'auto' after the address, found '%s'",
						 sp);
			*mac_auto = 0;
		}
	} else if ((m = mo_arg_get(as, 1, "MAC"))) {
		if (strcmp(m->text, "auto")) {
			if (mo_parse_mac(m->text, mac))
				return mo_err_at(err, as, m, "MAC: expected xx:xx:xx:xx:xx:xx or 'auto', found '%s'", m->text);
			*mac_auto = 0;
		}
	}
	rc = mo_arg_u32(as, -1, "DEV", 0, 1023, 0, &devid, err);
	if (rc < 0)
		return -1;
	*dev = *mac_auto ? mo_rt_dev(el->rt, devid, NF_MODE_EVENT) : -1;
	return 0;
}

/* ---- ARPResponder ---- */

struct arp_resp {
	struct mo_element el;
	uint32_t ip;
	uint8_t mac[6];
	int mac_auto, dev;
	uint64_t replies, ignored;
	struct mo_pkt out[MO_BURST];
};

static int arp_configure(struct mo_element *el, struct mo_args *as, struct mo_err *err)
{
	struct arp_resp *r = (struct arp_resp *)el;

	return addr_mac_args(el, as, err, 0, &r->ip, NULL, r->mac, &r->mac_auto, &r->dev);
}

static int arp_start(struct mo_element *el)
{
	struct arp_resp *r = (struct arp_resp *)el;

	if (r->mac_auto)
		memcpy(r->mac, el->rt->devs[r->dev].mac, 6);
	return 0;
}

static const uint8_t arp_eth_ip4[6] = { 0x00, 0x01, 0x08, 0x00, 0x06, 0x04 }; /* htype 1, ptype IPv4, 6, 4 */

static void arp_push(struct mo_element *el, uint32_t port, struct mo_pkt *p, uint32_t n)
{
	struct arp_resp *r = (struct arp_resp *)el;
	uint32_t k = 0;

	(void)port;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *f = p[i].data, *a = f + ETH_HLEN;

		if (p[i].len < ETH_HLEN + ARP_LEN || eth_type(f) != ETH_P_ARP || memcmp(a, arp_eth_ip4, 6) ||
		    be16(a + 6) != 1 || be32(a + 24) != r->ip || (a[8] & 1)) {
			r->ignored++;
			continue;
		}
		/* reply: target = the asker, sender = us */
		memcpy(a + 18, a + 8, 10); /* tha, tpa = sha, spa */
		memcpy(a + 8, r->mac, 6);
		put32(a + 14, r->ip);
		put16(a + 6, 2);
		memcpy(f, a + 18, 6);
		memcpy(f + 6, r->mac, 6);
		p[i].len = ETH_HLEN + ARP_LEN;
		r->out[k++] = p[i];
	}
	r->replies += k;
	mo_push(el, 0, r->out, k);
}

static void arp_stats(struct mo_element *el, struct mo_json *j)
{
	struct arp_resp *r = (struct arp_resp *)el;

	mo_json_u64(j, "replies", r->replies);
	mo_json_u64(j, "ignored", r->ignored);
}

const struct mo_class mo_class_arp_responder = {
	.name = "ARPResponder", .size = sizeof(struct arp_resp), .nin = 1, .nout = 1,
	.configure = arp_configure, .start = arp_start, .push = arp_push, .stats = arp_stats,
};

/* ---- ICMPPingResponder ---- */

struct ping_resp {
	struct mo_element el;
	uint64_t replies, ignored, bad_csum;
	struct mo_pkt out[MO_BURST];
};

static void icmp_push(struct mo_element *el, uint32_t port, struct mo_pkt *p, uint32_t n)
{
	struct ping_resp *r = (struct ping_resp *)el;
	uint32_t k = 0;

	(void)port;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *f = p[i].data, *ip = f + ETH_HLEN, *ic;
		uint32_t hl = ip4_hlen(f, p[i].len), tot, t;

		if (!hl || ip[9] != IP_PROTO_ICMP || (be16(ip + 6) & 0x3fff) || be16(ip + 2) < hl + 8 ||
		    ip[hl] != ICMP_ECHO_REQUEST || ip[hl + 1] != 0) {
			r->ignored++;
			continue;
		}
		tot = be16(ip + 2);
		ic = ip + hl;
		if (inet_csum(ip, hl) || inet_csum(ic, tot - hl)) {
			r->bad_csum++;
			continue;
		}
		for (t = 0; t < 4; t++) { /* swap addresses */
			uint8_t b = ip[12 + t];

			ip[12 + t] = ip[16 + t];
			ip[16 + t] = b;
		}
		ip[8] = 64;
		put16(ip + 10, 0);
		put16(ip + 10, inet_csum(ip, hl));
		ic[0] = ICMP_ECHO_REPLY;
		put16(ic + 2, 0);
		put16(ic + 2, inet_csum(ic, tot - hl));
		eth_swap(f);
		p[i].len = (uint16_t)(ETH_HLEN + tot); /* no trailing padding */
		r->out[k++] = p[i];
	}
	r->replies += k;
	mo_push(el, 0, r->out, k);
}

static void icmp_stats(struct mo_element *el, struct mo_json *j)
{
	struct ping_resp *r = (struct ping_resp *)el;

	mo_json_u64(j, "replies", r->replies);
	mo_json_u64(j, "ignored", r->ignored);
	mo_json_u64(j, "badChecksum", r->bad_csum);
}

const struct mo_class mo_class_icmp_ping_responder = {
	.name = "ICMPPingResponder", .size = sizeof(struct ping_resp), .nin = 1, .nout = 1,
	.push = icmp_push, .stats = icmp_stats,
};

/* ---- ICMPv6Responder ---- */

struct icmp6_resp {
	struct mo_element el;
	uint8_t ip6[16];
	uint8_t mac[6];
	int mac_auto, dev;
	uint64_t adverts, replies, ignored, bad;
	struct mo_pkt out[MO_BURST];
};

static int icmp6_configure(struct mo_element *el, struct mo_args *as, struct mo_err *err)
{
	struct icmp6_resp *r = (struct icmp6_resp *)el;

	return addr_mac_args(el, as, err, 1, NULL, r->ip6, r->mac, &r->mac_auto, &r->dev);
}

static int icmp6_start(struct mo_element *el)
{
	struct icmp6_resp *r = (struct icmp6_resp *)el;

	if (r->mac_auto)
		memcpy(r->mac, el->rt->devs[r->dev].mac, 6);
	return 0;
}

/* 0 for a frame that is not ours to answer; else the ICMPv6 type. */
static int icmp6_check(struct icmp6_resp *r, const struct mo_pkt *q)
{
	const uint8_t *f = q->data, *ip = f + ETH_HLEN, *ic = ip + IP6_HLEN;
	uint32_t plen;

	if (q->len < ETH_HLEN + IP6_HLEN + 8 || eth_type(f) != ETH_P_IPV6 || (ip[0] >> 4) != 6 ||
	    ip[6] != IP_PROTO_ICMPV6)
		return 0;
	plen = be16(ip + 4);
	if (plen < 8 || ETH_HLEN + IP6_HLEN + plen > q->len)
		return 0;
	if (ic[0] == ICMP6_NS && ic[1] == 0 && plen >= 24 && ip[7] == 255 && !memcmp(ic + 8, r->ip6, 16))
		return ICMP6_NS;
	if (ic[0] == ICMP6_ECHO_REQUEST && ic[1] == 0 && !memcmp(ip + 24, r->ip6, 16))
		return ICMP6_ECHO_REQUEST;
	return 0;
}

static void icmp6_push(struct mo_element *el, uint32_t port, struct mo_pkt *p, uint32_t n)
{
	struct icmp6_resp *r = (struct icmp6_resp *)el;
	static const uint8_t unspec[16];
	uint32_t k = 0;

	(void)port;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *f = p[i].data, *ip = f + ETH_HLEN, *ic = ip + IP6_HLEN;
		int type = icmp6_check(r, &p[i]);
		uint32_t plen;

		if (!type) {
			r->ignored++;
			continue;
		}
		plen = be16(ip + 4);
		if (ip6_csum(ip, ic, plen, IP_PROTO_ICMPV6)) {
			r->bad++;
			continue;
		}
		if (type == ICMP6_NS) {
			if (!memcmp(ip + 8, unspec, 16)) { /* duplicate address detection: not answered here */
				r->ignored++;
				continue;
			}
			/* NA: to the solicitor, from our address, S|O, target = us, option 2 = our MAC */
			memcpy(ip + 24, ip + 8, 16);
			memcpy(ip + 8, r->ip6, 16);
			put16(ip + 4, 32);
			ip[7] = 255;
			ic[0] = ICMP6_NA;
			ic[1] = 0;
			put32(ic + 4, 0x60000000u);
			memcpy(ic + 8, r->ip6, 16);
			ic[24] = 2;
			ic[25] = 1;
			memcpy(ic + 26, r->mac, 6);
			put16(ic + 2, 0);
			put16(ic + 2, ip6_csum(ip, ic, 32, IP_PROTO_ICMPV6));
			memcpy(f, f + 6, 6);
			memcpy(f + 6, r->mac, 6);
			p[i].len = ETH_HLEN + IP6_HLEN + 32;
			r->adverts++;
		} else {
			uint8_t t[16];

			memcpy(t, ip + 8, 16);
			memcpy(ip + 8, ip + 24, 16);
			memcpy(ip + 24, t, 16);
			ip[7] = 64;
			ic[0] = ICMP6_ECHO_REPLY;
			put16(ic + 2, 0);
			put16(ic + 2, ip6_csum(ip, ic, plen, IP_PROTO_ICMPV6));
			eth_swap(f);
			p[i].len = (uint16_t)(ETH_HLEN + IP6_HLEN + plen);
			r->replies++;
		}
		r->out[k++] = p[i];
	}
	mo_push(el, 0, r->out, k);
}

static void icmp6_stats(struct mo_element *el, struct mo_json *j)
{
	struct icmp6_resp *r = (struct icmp6_resp *)el;

	mo_json_u64(j, "adverts", r->adverts);
	mo_json_u64(j, "replies", r->replies);
	mo_json_u64(j, "ignored", r->ignored);
	mo_json_u64(j, "badChecksum", r->bad);
}

const struct mo_class mo_class_icmp6_responder = {
	.name = "ICMPv6Responder", .size = sizeof(struct icmp6_resp), .nin = 1, .nout = 1,
	.configure = icmp6_configure, .start = icmp6_start, .push = icmp6_push, .stats = icmp6_stats,
};
