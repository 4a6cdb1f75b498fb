// SPDX-License-Identifier: MIT
//
// vxlan.c - the VXLAN codec, the VID <-> VNI map and the learning table
// (vxlan.h). Pure: no syscall, no allocation, no clock, no lock; one
// thread (the pump's) owns each table.

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vxlan.h"

const char *const vx_rx_drop_names[VX_RX_NREASONS] = {
	[VX_RX_OK] = "rx_ok",
	[VX_RX_SHORT] = "rx_drop_short",
	[VX_RX_NO_I_FLAG] = "rx_drop_no_i_flag",
	[VX_RX_RESERVED] = "rx_drop_reserved",
	[VX_RX_UNKNOWN_VNI] = "rx_drop_unknown_vni",
	[VX_RX_RUNT] = "rx_drop_runt",
	[VX_RX_TOO_LONG] = "rx_drop_too_long",
	[VX_RX_TAGGED] = "rx_drop_inner_tagged",
	[VX_RX_SRC_MCAST] = "rx_drop_src_multicast",
};

const char *const vx_tx_drop_names[VX_TX_NREASONS] = {
	[VX_TX_OK] = "tx_ok",
	[VX_TX_RUNT] = "tx_drop_runt",
	[VX_TX_UNTAGGED] = "tx_drop_untagged",
	[VX_TX_UNMAPPED] = "tx_drop_unmapped_vid",
};

/* ------------------------------------------------------------------------ */
/* VID <-> VNI                                                               */

void vx_map_init(struct vx_map *m)
{
	memset(m, 0, sizeof(*m));
}

static int parse_uint(const char *s, size_t n, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 8)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10u + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct vx_pair *x = a, *y = b;
	return x->vni < y->vni ? -1 : x->vni > y->vni;
}

int vx_map_add(struct vx_map *m, const char *spec, char *err, size_t err_len)
{
	struct vx_pair add[VX_MAP_MAX];
	uint32_t n = 0;
	const char *p = spec;

	for (;;) {
		const char *end = strchr(p, ','), *colon;
		size_t len = end ? (size_t)(end - p) : strlen(p);
		uint32_t vid, vni;

		colon = memchr(p, ':', len);
		if (!colon) {
			snprintf(err, err_len, "--vni expects VID:VNI[,VID:VNI...], got \"%.*s\" in \"%s\"", (int)len, p, spec);
			return -EINVAL;
		}
		if (parse_uint(p, (size_t)(colon - p), 4095, &vid) < 0 || vid < VX_VID_MIN || vid > VX_VID_MAX) {
			snprintf(err, err_len, "--vni: VID \"%.*s\" is not in [%u, %u]", (int)(colon - p), p, VX_VID_MIN,
				 VX_VID_MAX);
			return -EINVAL;
		}
		if (parse_uint(colon + 1, len - (size_t)(colon + 1 - p), VX_VNI_MAX, &vni) < 0) {
			snprintf(err, err_len, "--vni: VNI \"%.*s\" is not in [0, %u]", (int)(len - (size_t)(colon + 1 - p)),
				 colon + 1, VX_VNI_MAX);
			return -EINVAL;
		}
		if (m->vni_of[vid] || vx_map_vid(m, vni) >= 0) {
			snprintf(err, err_len, "--vni: %s %u is mapped twice", m->vni_of[vid] ? "VID" : "VNI",
				 m->vni_of[vid] ? vid : vni);
			return -EINVAL;
		}
		for (uint32_t i = 0; i < n; i++) {
			if (add[i].vid == vid || add[i].vni == vni) {
				snprintf(err, err_len, "--vni: %s %u is mapped twice", add[i].vid == vid ? "VID" : "VNI",
					 add[i].vid == vid ? vid : vni);
				return -EINVAL;
			}
		}
		add[n++] = (struct vx_pair){ .vni = vni, .vid = (uint16_t)vid };
		if (!end)
			break;
		p = end + 1;
	}
	for (uint32_t i = 0; i < n; i++) {
		m->vni_of[add[i].vid] = add[i].vni + 1u;
		m->by_vni[m->n++] = add[i];
	}
	qsort(m->by_vni, m->n, sizeof(m->by_vni[0]), cmp_pair);
	return 0;
}

int32_t vx_map_vid(const struct vx_map *m, uint32_t vni)
{
	uint32_t lo = 0, hi = m->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2u;

		if (m->by_vni[mid].vni == vni)
			return m->by_vni[mid].vid;
		if (m->by_vni[mid].vni < vni)
			lo = mid + 1u;
		else
			hi = mid;
	}
	return -1;
}

/* ------------------------------------------------------------------------ */
/* The codec                                                                 */

static inline uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

void vx_hdr_write(uint8_t *h, uint32_t vni)
{
	h[0] = VX_FLAG_I;
	h[1] = h[2] = h[3] = 0;
	h[4] = (uint8_t)(vni >> 16);
	h[5] = (uint8_t)(vni >> 8);
	h[6] = (uint8_t)vni;
	h[7] = 0;
}

enum vx_rx_drop vx_decap(const struct vx_map *m, const uint8_t *d, uint32_t len, int truncated, uint32_t frame_max,
			 struct vx_rx *out)
{
	uint8_t h[VX_HDR_LEN];
	uint32_t vni, inner, type;
	int32_t vid;

	if (len < VX_HDR_LEN)
		return VX_RX_SHORT;
	memcpy(h, d, VX_HDR_LEN); /* read once */
	if (!(h[0] & VX_FLAG_I))
		return VX_RX_NO_I_FLAG;
	if ((h[0] & (uint8_t)~VX_FLAG_I) || h[1] || h[2] || h[3] || h[7])
		return VX_RX_RESERVED;
	vni = (uint32_t)h[4] << 16 | (uint32_t)h[5] << 8 | h[6];
	vid = vx_map_vid(m, vni);
	if (vid < 0)
		return VX_RX_UNKNOWN_VNI;
	inner = len - VX_HDR_LEN;
	if (truncated || inner + VX_VLAN_HLEN > frame_max)
		return VX_RX_TOO_LONG;
	if (inner < VX_ETH_HLEN)
		return VX_RX_RUNT;
	type = be16(d + VX_HDR_LEN + 12);
	if (type == VX_TPID_8021Q || type == VX_TPID_8021AD)
		return VX_RX_TAGGED;
	if (d[VX_HDR_LEN + 6] & 1u)
		return VX_RX_SRC_MCAST;
	out->frame = d + VX_HDR_LEN;
	out->len = inner;
	out->vni = vni;
	out->vid = (uint32_t)vid;
	return VX_RX_OK;
}

enum vx_tx_drop vx_encap(const struct vx_map *m, uint8_t *frame, uint32_t len, struct vx_tx *out)
{
	uint32_t tci;
	int32_t vni;
	uint8_t *h;

	if (len < VX_ETH_HLEN + VX_VLAN_HLEN)
		return VX_TX_RUNT;
	if (be16(frame + 12) != VX_TPID_8021Q)
		return VX_TX_UNTAGGED;
	tci = be16(frame + 14);
	vni = vx_map_vni(m, tci & 0xfffu);
	if (vni < 0)
		return VX_TX_UNMAPPED;
	/* strip the tag: the MACs move 4 bytes up, over it; the header goes in front of them */
	memmove(frame + VX_VLAN_HLEN, frame, 12);
	h = frame + VX_VLAN_HLEN - VX_HDR_LEN;
	vx_hdr_write(h, (uint32_t)vni);
	out->dgram = h;
	out->len = len - VX_VLAN_HLEN + VX_HDR_LEN;
	out->vni = (uint32_t)vni;
	out->dst = h + VX_HDR_LEN;
	return VX_TX_OK;
}

/* ------------------------------------------------------------------------ */
/* Outer addresses                                                           */

int vx_addr_eq(const struct vx_addr *a, const struct vx_addr *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return 0;
	if (a->u.sa.sa_family == AF_INET)
		return a->u.v4.sin_port == b->u.v4.sin_port && a->u.v4.sin_addr.s_addr == b->u.v4.sin_addr.s_addr;
	return a->u.v6.sin6_port == b->u.v6.sin6_port && a->u.v6.sin6_scope_id == b->u.v6.sin6_scope_id &&
	       !memcmp(&a->u.v6.sin6_addr, &b->u.v6.sin6_addr, sizeof(a->u.v6.sin6_addr));
}

int vx_addr_parse(const char *s, uint16_t default_port, int v6_socket, struct vx_addr *a)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL;
	size_t hl;
	uint32_t p = default_port;
	struct in_addr v4;
	struct in6_addr v6;

	memset(a, 0, sizeof(*a));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || (close[1] && close[1] != ':'))
			return -EINVAL;
		hl = (size_t)(close - s - 1);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hl);
		host[hl] = 0;
		if (close[1] == ':')
			port = close + 2;
		if (inet_pton(AF_INET6, host, &v6) != 1)
			return -EINVAL;
	} else {
		const char *colon = strchr(s, ':');

		if (colon && strchr(colon + 1, ':')) { /* a bare IPv6 address */
			if (strlen(s) >= sizeof(host) || inet_pton(AF_INET6, s, &v6) != 1)
				return -EINVAL;
			snprintf(host, sizeof(host), "%s", s);
		} else {
			hl = colon ? (size_t)(colon - s) : strlen(s);
			if (hl >= sizeof(host))
				return -EINVAL;
			memcpy(host, s, hl);
			host[hl] = 0;
			if (colon)
				port = colon + 1;
			if (inet_pton(AF_INET, host, &v4) != 1)
				return -EINVAL;
			goto ipv4;
		}
	}
	if (port && (parse_uint(port, strlen(port), 65535, &p) < 0 || p == 0))
		return -EINVAL;
	if (!v6_socket)
		return -EAFNOSUPPORT;
	a->u.v6.sin6_family = AF_INET6;
	a->u.v6.sin6_addr = v6;
	a->u.v6.sin6_port = htons((uint16_t)p);
	a->len = sizeof(a->u.v6);
	return 0;
ipv4:
	if (port && (parse_uint(port, strlen(port), 65535, &p) < 0 || p == 0))
		return -EINVAL;
	if (v6_socket) {
		a->u.v6.sin6_family = AF_INET6;
		a->u.v6.sin6_addr.s6_addr[10] = 0xff;
		a->u.v6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&a->u.v6.sin6_addr.s6_addr[12], &v4, 4);
		a->u.v6.sin6_port = htons((uint16_t)p);
		a->len = sizeof(a->u.v6);
	} else {
		a->u.v4.sin_family = AF_INET;
		a->u.v4.sin_addr = v4;
		a->u.v4.sin_port = htons((uint16_t)p);
		a->len = sizeof(a->u.v4);
	}
	return 0;
}

void vx_addr_format(const struct vx_addr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (a->u.sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &a->u.v4.sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(a->u.v4.sin_port));
	} else if (a->u.sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &a->u.v6.sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(a->u.v6.sin6_port));
	} else {
		snprintf(buf, len, "(none)");
	}
}

/* ------------------------------------------------------------------------ */
/* The learning table: open addressing, a fixed neighbourhood per key        */

int vx_fdb_init(struct vx_fdb *f, struct vx_fdb_entry *storage, uint32_t size, uint64_t age_ns)
{
	if (!storage || size < VX_FDB_PROBE || (size & (size - 1u)) || age_ns == 0)
		return -EINVAL;
	memset(storage, 0, (size_t)size * sizeof(*storage));
	memset(f, 0, sizeof(*f));
	f->e = storage;
	f->mask = size - 1u;
	f->age_ns = age_ns;
	return 0;
}

static uint32_t fdb_hash(uint32_t vni, const uint8_t mac[6])
{
	uint64_t k = (uint64_t)mac[0] << 40 | (uint64_t)mac[1] << 32 | (uint64_t)mac[2] << 24 | (uint64_t)mac[3] << 16 |
		     (uint64_t)mac[4] << 8 | mac[5];

	k ^= (uint64_t)vni << 17;
	k *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)(k >> 32);
}

static int fdb_live(const struct vx_fdb *f, const struct vx_fdb_entry *e, uint64_t now)
{
	return e->seen_ns && now - e->seen_ns < f->age_ns;
}

static int fdb_match(const struct vx_fdb_entry *e, uint32_t vni, const uint8_t mac[6])
{
	return e->seen_ns && e->vni == vni && !memcmp(e->mac, mac, 6);
}

enum vx_learn vx_fdb_learn(struct vx_fdb *f, uint32_t vni, const uint8_t mac[6], const struct vx_addr *from,
			   uint64_t now_ns)
{
	uint32_t home = fdb_hash(vni, mac), free_slot = UINT32_MAX;

	for (uint32_t i = 0; i < VX_FDB_PROBE; i++) {
		struct vx_fdb_entry *e = &f->e[(home + i) & f->mask];

		if (fdb_match(e, vni, mac)) {
			enum vx_learn r = VX_LEARN_REFRESH;

			if (!fdb_live(f, e, now_ns)) {
				f->st.aged++;
				f->st.learned++;
				r = VX_LEARN_NEW;
			} else if (!vx_addr_eq(&e->addr, from)) {
				f->st.moved++;
				r = VX_LEARN_MOVED;
			}
			if (r != VX_LEARN_REFRESH)
				e->addr = *from;
			e->seen_ns = now_ns;
			return r;
		}
		if (free_slot == UINT32_MAX && !fdb_live(f, e, now_ns))
			free_slot = (home + i) & f->mask;
	}
	if (free_slot == UINT32_MAX) {
		f->st.full++;
		return VX_LEARN_FULL;
	}
	if (f->e[free_slot].seen_ns)
		f->st.aged++; /* an expired entry makes room */
	f->e[free_slot].vni = vni;
	memcpy(f->e[free_slot].mac, mac, 6);
	f->e[free_slot].addr = *from;
	f->e[free_slot].seen_ns = now_ns;
	f->st.learned++;
	return VX_LEARN_NEW;
}

const struct vx_addr *vx_fdb_lookup(struct vx_fdb *f, uint32_t vni, const uint8_t mac[6], uint64_t now_ns)
{
	uint32_t home = fdb_hash(vni, mac);

	for (uint32_t i = 0; i < VX_FDB_PROBE; i++) {
		struct vx_fdb_entry *e = &f->e[(home + i) & f->mask];

		if (fdb_match(e, vni, mac)) {
			if (fdb_live(f, e, now_ns))
				return &e->addr;
			e->seen_ns = 0;
			f->st.aged++;
			return NULL;
		}
	}
	return NULL;
}

uint32_t vx_fdb_count(const struct vx_fdb *f, uint64_t now_ns)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i <= f->mask; i++)
		n += (uint32_t)fdb_live(f, &f->e[i], now_ns);
	return n;
}
