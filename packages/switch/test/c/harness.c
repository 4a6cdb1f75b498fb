/* SPDX-License-Identifier: MIT */
#include "harness.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vpio/ring_be.h"
#include "vpio/tap.h"

#define PAGE 4096u

struct vsw *tp_switch(uint64_t *clk, uint64_t aging_ns)
{
	struct vsw_config c = { .n_workers = 0, .mode = VSW_MODE_POLL, .clock = vsw_clock_manual, .clock_ctx = clk,
				.aging_ns = aging_ns, .hash_seed = 42 };
	struct vsw *sw = NULL;

	*clk = 1000ull * 1000000000ull;
	CHECK_EQ(vsw_create(&c, &sw), 0);
	return sw;
}

void tp_poll_all(struct vsw *sw)
{
	while (vsw_poll_once(sw) > 0)
		;
}

void tp_mac(uint8_t mac[6], uint32_t n)
{
	mac[0] = 0x02; /* locally administered unicast */
	mac[1] = 0x00;
	mac[2] = (uint8_t)(n >> 24);
	mac[3] = (uint8_t)(n >> 16);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

/* bytes rounded to pages, with one PROT_NONE page before and after */
static void *guarded(uint64_t bytes, void **map, uint64_t *map_bytes)
{
	uint64_t inner = (bytes + PAGE - 1) / PAGE * PAGE;
	uint8_t *m = mmap(NULL, inner + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return NULL;
	if (mprotect(m + PAGE, inner, PROT_READ | PROT_WRITE)) {
		munmap(m, inner + 2 * PAGE);
		return NULL;
	}
	*map = m;
	*map_bytes = inner + 2 * PAGE;
	return m + PAGE;
}

int tport_open(struct tport *tp, struct vsw *sw, uint32_t mac_n, const struct tport_opts *o)
{
	static const struct tport_opts defaults = { 0 };
	struct vring_be be;
	uint32_t slots;
	uint8_t *pool;
	int rc;

	if (!o)
		o = &defaults;
	slots = o->slots ? o->slots : 64;
	memset(tp, 0, sizeof(*tp));
	tp->sw = sw;
	tp->chan_tx[0] = tp->chan_tx[1] = tp->chan_rx[0] = tp->chan_rx[1] = -1;
	tp_mac(tp->mac, mac_n);
	tp->tx_bytes = vring_ring_bytes(slots);
	tp->rx_bytes = vring_ring_bytes(slots);
	tp->pool_bytes = (uint64_t)(2 * slots + 16) * 2048 + 2 * TP_CANARY_BYTES;
	tp->tx_mem = guarded(tp->tx_bytes, &tp->maps[0], &tp->map_bytes[0]);
	tp->rx_mem = guarded(tp->rx_bytes, &tp->maps[1], &tp->map_bytes[1]);
	pool = guarded(tp->pool_bytes, &tp->maps[2], &tp->map_bytes[2]);
	if (!tp->tx_mem || !tp->rx_mem || !pool)
		return -VP_ENOMEM;
	/* canary bytes before and after the pool the switch is given */
	memset(pool, TP_CANARY, TP_CANARY_BYTES);
	tp->pool_mem = pool + TP_CANARY_BYTES;
	memset(pool + TP_CANARY_BYTES + (uint64_t)(2 * slots + 16) * 2048, TP_CANARY, TP_CANARY_BYTES);
	tp->pool_bytes = (uint64_t)(2 * slots + 16) * 2048;

	rc = vring_be_init(&be, tp->tx_mem, (uint32_t)tp->tx_bytes, tp->pool_mem, VRING_KIND_TX, slots, 2048,
			   2 * slots + 16, 0, o ? o->features : 0);
	if (!rc)
		rc = vring_be_init(&be, tp->rx_mem, (uint32_t)tp->rx_bytes, tp->pool_mem, VRING_KIND_RX, slots, 2048,
				   2 * slots + 16, slots, o ? o->features : 0);
	if (!rc)
		rc = vring_fe_attach(&tp->tx, tp->tx_mem, tp->tx_bytes, tp->pool_mem, tp->pool_bytes, VRING_KIND_TX);
	if (!rc)
		rc = vring_fe_attach(&tp->rx, tp->rx_mem, tp->rx_bytes, tp->pool_mem, tp->pool_bytes, VRING_KIND_RX);
	if (rc)
		return rc;
	if (o->events && (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, tp->chan_tx) ||
			  socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, tp->chan_rx)))
		return -VP_ENOMEM;

	tp->cfg = (struct vsw_port_config){
		.tx_ring = tp->tx_mem, .tx_ring_bytes = tp->tx_bytes,
		.rx_ring = tp->rx_mem, .rx_ring_bytes = tp->rx_bytes,
		.pool = tp->pool_mem, .pool_bytes = tp->pool_bytes,
		.tx_slots = slots, .rx_slots = slots, .buf_size = 2048, .nr_bufs = 2 * slots + 16,
		.flags = o->flags, .vlan_mode = o->vlan_mode,
		.access_vid = o->access_vid ? o->access_vid : (o->vlan_mode == VSW_VLAN_ACCESS ? 1 : 0),
		.native_vid = o->native_vid, .trunk_vids = o->trunk_vids, .n_trunk_vids = o->n_trunk_vids,
		.rate_pps = o->rate_pps, .burst_pkts = o->burst_pkts, .rate_bps = o->rate_bps,
		.burst_bytes = o->burst_bytes, .flood_pps = o->flood_pps, .flood_burst = o->flood_burst,
		.max_macs = o->max_macs, .features = o->features,
		/* the switch waits on chan_tx[0] (the guest writes chan_tx[1]) and signals on it */
		.tx_wait_fd = tp->chan_tx[0], .tx_notify_fd = tp->chan_tx[0],
		.rx_wait_fd = tp->chan_rx[0], .rx_notify_fd = tp->chan_rx[0],
		.worker = o->worker, .group = o->group,
	};
	memcpy(tp->cfg.mac, tp->mac, 6);
	return vsw_port_add(sw, &tp->cfg, &tp->id);
}

void tport_close(struct tport *tp, int detach)
{
	int i;

	if (detach)
		vsw_port_remove(tp->sw, tp->id);
	for (i = 0; i < 3; i++)
		if (tp->maps[i])
			munmap(tp->maps[i], tp->map_bytes[i]);
	for (i = 0; i < 2; i++) {
		if (tp->chan_tx[i] >= 0)
			close(tp->chan_tx[i]);
		if (tp->chan_rx[i] >= 0)
			close(tp->chan_rx[i]);
	}
	memset(tp, 0, sizeof(*tp));
}

int tport_canaries_ok(const struct tport *tp)
{
	const uint8_t *lo = (const uint8_t *)tp->pool_mem - TP_CANARY_BYTES;
	const uint8_t *hi = (const uint8_t *)tp->pool_mem + tp->pool_bytes;
	uint32_t i;

	for (i = 0; i < TP_CANARY_BYTES; i++)
		if (lo[i] != TP_CANARY || hi[i] != TP_CANARY)
			return 0;
	return 1;
}

static uint32_t sum32(const uint8_t *p, uint32_t n)
{
	uint32_t h = 2166136261u, i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

uint16_t tp_frame(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], int vid, uint32_t flow, uint32_t seq,
		  uint16_t len)
{
	uint32_t o = 12, i;
	uint8_t *pl;

	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	if (vid >= 0) {
		buf[12] = 0x81;
		buf[13] = 0;
		buf[14] = (uint8_t)(vid >> 8);
		buf[15] = (uint8_t)vid;
		o = 16;
	}
	buf[o] = 0x88;
	buf[o + 1] = 0xb5;
	o += 2;
	if (len < o + 14)
		len = (uint16_t)(o + 14);
	pl = buf + o;
	put32(pl, flow);
	put32(pl + 4, seq);
	pl[8] = (uint8_t)((len - o - 14) >> 8); /* data bytes after the stamp: independent of a tag */
	pl[9] = (uint8_t)(len - o - 14);
	for (i = o + 14; i < len; i++)
		buf[i] = (uint8_t)(seq * 7 + i);
	put32(pl + 10, sum32(buf + o + 14, len - o - 14) ^ flow ^ seq);
	return len;
}

int tp_frame_check(const uint8_t *buf, uint16_t len, uint32_t *flow, uint32_t *seq)
{
	uint32_t o = 12;
	const uint8_t *pl;

	if (len >= 16 && buf[12] == 0x81 && buf[13] == 0)
		o = 16;
	if (len < o + 16 || buf[o] != 0x88 || buf[o + 1] != 0xb5)
		return 0;
	pl = buf + o + 2;
	o += 2;
	if ((uint32_t)(pl[8] << 8 | pl[9]) != (uint32_t)len - o - 14)
		return 0;
	*flow = get32(pl);
	*seq = get32(pl + 4);
	return get32(pl + 10) == (sum32(buf + o + 14, len - o - 14) ^ *flow ^ *seq);
}

int tport_send(struct tport *tp, const uint8_t *frame, uint16_t len)
{
	const void *src[1] = { frame };
	int kick = 0;
	uint32_t n = vring_fe_tx_burst(&tp->tx, src, &len, 1, tp->chan_tx[1] >= 0 ? &kick : NULL);

	if (kick)
		(void)!write(tp->chan_tx[1], "k", 1);
	return (int)n;
}

uint32_t tport_send_n(struct tport *tp, const uint8_t dst[6], uint32_t n, uint32_t flow, uint32_t first_seq)
{
	uint8_t f[2048];
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint16_t len = tp_frame(f, dst, tp->mac, -1, flow, first_seq + i, (uint16_t)(60 + (first_seq + i) % 200));

		if (!tport_send(tp, f, len))
			break;
	}
	return i;
}

uint32_t tport_recv(struct tport *tp, uint8_t *bufs, uint16_t *lens, uint32_t max)
{
	void *dst[64];
	uint32_t got = 0;

	while (got < max) {
		uint32_t want = max - got < 64 ? max - got : 64, i, n;
		int kick = 0;

		for (i = 0; i < want; i++)
			dst[i] = bufs + (uint64_t)(got + i) * 2048;
		n = vring_fe_rx_burst(&tp->rx, dst, lens + got, want, tp->chan_rx[1] >= 0 ? &kick : NULL);
		if (kick)
			(void)!write(tp->chan_rx[1], "k", 1);
		got += n;
		if (n < want)
			break;
	}
	return got;
}

uint32_t tport_drain(struct tport *tp)
{
	static __thread uint8_t bufs[64 * 2048];
	uint16_t lens[64];
	uint32_t total = 0, n;

	while ((n = tport_recv(tp, bufs, lens, 64)) > 0)
		total += n;
	return total;
}
