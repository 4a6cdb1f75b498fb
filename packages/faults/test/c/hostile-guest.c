/* SPDX-License-Identifier: MIT */
/*
 * hostile-guest: a tenant of `vpio run` that attacks what it legitimately
 * holds, structure-aware (STYLE.md section 5), for a bounded time:
 *
 *   hostile-guest ring SECONDS SEED [--peer MAC]...
 *       maps its vif normally (nf_session + nf_connect), then writes
 *       boundary and random values into its TX and RX ring indices (head,
 *       cur, and the backend's own tail and line 0: magic, num_slots,
 *       buf_size, nr_bufs, features), its slots (buf_idx, len, flags, the
 *       offload word), the kick flags, rewrites pool buffers (frames to the
 *       peers, frames spoofing the peers' MACs, broadcasts, random bytes),
 *       hands over well-formed slot ranges now and then so packets do pass
 *       validation, and kicks both channels.
 *
 *   hostile-guest xs SECONDS SEED [--other DOMID]...
 *       hostile xenstore requests on its own connection: every message type
 *       (dom0-only ones, unknown ones), paths that are empty, relative,
 *       too long, with bad characters, dom0's and other domains' (their
 *       vif directories), its own vif directory filled with garbage and
 *       state flips, values up to the payload limit, permission changes
 *       naming other domains, watch floods, transactions opened and never
 *       ended, ended twice, unknown transaction ids; finally raw malformed
 *       frames on the socket (a length past the limit, a short header).
 *
 * Both print one JSON line at the end:
 *   {"event":"done","mode":"ring"|"xs","inputs":N,...}
 * and {"event":"error","step":"..","rc":N} when setup fails.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vpio/netfront.h"
#include "vpio/netfront_broker.h"
#include "vpio/vif_proto.h" /* the vif paths: the fuzzer must hit the directories netback really uses */

#define MAX_PEERS 8

static struct nf_session session;
static struct nf_dev nf;
static uint64_t rng;
static volatile sig_atomic_t stop;
static uint8_t peers[MAX_PEERS][6];
static uint32_t npeers, others[MAX_PEERS], nothers;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void fail(const char *step, int rc)
{
	printf("{\"event\":\"error\",\"step\":\"%s\",\"rc\":%d}\n", step, rc);
	fflush(stdout);
	exit(3);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* A boundary value around `hint` and `size`, a fixed edge, or random. */
static uint32_t pick32(uint32_t hint, uint32_t size)
{
	static const uint32_t fixed[] = { 0, 1, 13, 14, 15, 63, 64, 255, 256, 2047, 2048, 2049, 4095, 4096, 65535, 65536,
					  0x7fffffff, 0x80000000u, 0xfffffffeu, 0xffffffffu };
	uint32_t r = rnd();

	switch (r % 5) {
	case 0: return fixed[(r >> 8) % (sizeof(fixed) / sizeof(fixed[0]))];
	case 1: return hint + ((r >> 8) % 3) - 1;
	case 2: return size + ((r >> 8) % 3) - 1;
	case 3: return rnd() ^ (rnd() << 16);
	default: return (r >> 8) % (size ? size : 1);
	}
}

/* ------------------------------------------------------------------------ */
/* ring                                                                      */

static void frame(uint8_t *buf, uint32_t len)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint32_t r = rnd(), i;
	const uint8_t *peer = npeers ? peers[r % npeers] : bcast;

	switch ((r >> 8) % 5) {
	case 0: /* to a peer from its own MAC */
		memcpy(buf, peer, 6);
		memcpy(buf + 6, nf_mac(&nf), 6);
		break;
	case 1: /* spoofing a peer (the MAC lock must drop it) */
		memcpy(buf, (r & 0x10000) ? bcast : peer, 6);
		memcpy(buf + 6, npeers ? peers[(r >> 17) % npeers] : bcast, 6);
		break;
	case 2: /* broadcast, and a VLAN tag */
		memcpy(buf, bcast, 6);
		memcpy(buf + 6, nf_mac(&nf), 6);
		buf[12] = 0x81, buf[13] = 0x00, buf[14] = (uint8_t)(r >> 20), buf[15] = (uint8_t)(r >> 12);
		return;
	case 3: /* a peer's own frame format with a bad checksum */
		memcpy(buf, peer, 6);
		memcpy(buf + 6, nf_mac(&nf), 6);
		buf[12] = 0x88, buf[13] = 0xb5;
		for (i = 14; i + 4 <= len; i += 4) {
			uint32_t v = rnd();

			memcpy(buf + i, &v, 4);
		}
		return;
	default:
		for (i = 0; i + 4 <= len; i += 4) {
			uint32_t v = rnd();

			memcpy(buf + i, &v, 4);
		}
		return;
	}
	buf[12] = 0x88, buf[13] = 0xb7;
}

static int ring_mode(uint64_t deadline)
{
	struct nf_config cfg;
	struct vring_fe *tx = &nf.tx, *rx = &nf.rx;
	uint64_t inputs = 0, kicks = 0, handed = 0;
	uint32_t ns, nb, bs;
	int rc;

	nf_session_config(&session, &cfg, 0, NF_MODE_EVENT, 10000);
	if ((rc = nf_connect(&nf, &cfg)))
		fail("connect", rc);
	ns = tx->num_slots, nb = tx->nr_bufs, bs = tx->buf_size;
	printf("{\"event\":\"connected\",\"slots\":%u,\"bufs\":%u}\n", ns, nb);
	fflush(stdout);
	while (now_ms() < deadline && !stop) {
		for (int k = 0; k < 256; k++) {
			uint32_t r = rnd(), i = r % ns;
			struct vring_hdr *h = (r & 0x100) ? tx->hdr : rx->hdr;
			struct vring_slot *s = (r & 0x100) ? &tx->slots[i] : &rx->slots[i];

			switch ((r >> 12) % 10) {
			case 0: /* the guest's own indices */
				VP_WRITE_ONCE(h->head, pick32(VP_READ_ONCE(h->tail), ns));
				VP_WRITE_ONCE(h->cur, pick32(VP_READ_ONCE(h->tail), ns));
				break;
			case 1: /* the backend's tail and line 0: it must never read them back */
				switch (rnd() % 6) {
				case 0: VP_WRITE_ONCE(h->tail, pick32(VP_READ_ONCE(h->head), ns)); break;
				case 1: VP_WRITE_ONCE(h->num_slots, pick32(ns, ns)); break;
				case 2: VP_WRITE_ONCE(h->buf_size, pick32(bs, bs)); break;
				case 3: VP_WRITE_ONCE(h->nr_bufs, pick32(nb, nb)); break;
				case 4: VP_WRITE_ONCE(h->features, rnd()); break;
				default: VP_WRITE_ONCE(h->magic, rnd()); break;
				}
				break;
			case 2: /* slot fields */
				VP_WRITE_ONCE(s->len, (uint16_t)pick32(14, bs));
				VP_WRITE_ONCE(s->buf_idx, pick32(nb, nb));
				VP_WRITE_ONCE(s->flags, (uint16_t)pick32(1, 4));
				break;
			case 3: /* the offload word (and the gref it shares storage with) */
				s->u.offload.csum_start = (uint16_t)pick32(14, bs);
				s->u.offload.csum_offset = (uint16_t)pick32(16, bs);
				s->u.offload.gso_size = (uint16_t)pick32(16, 9216);
				s->u.offload.gso_type = (uint8_t)rnd();
				s->u.offload.oflags = (uint8_t)rnd();
				VP_WRITE_ONCE(s->flags, (uint16_t)(rnd() % 4));
				break;
			case 4: /* kick flags */
				VP_WRITE_ONCE(h->fe_need_kick, pick32(1, 2));
				VP_WRITE_ONCE(h->be_need_kick, pick32(1, 2));
				break;
			case 5:
			case 6: /* rewrite a pool buffer */
				frame(nf.pool + (uint64_t)(rnd() % nb) * bs, 60 + rnd() % (bs - 60));
				break;
			default: { /* well-formed slots handed over, so packets pass validation and race the rewrites */
				uint32_t head = VP_READ_ONCE(tx->hdr->head) % ns, n = 1 + rnd() % 32, j;

				for (j = 0; j < n; j++) {
					struct vring_slot *t = &tx->slots[(head + j) % ns];
					uint32_t b = rnd() % nb, len = 60 + rnd() % (bs - 60);

					frame(nf.pool + (uint64_t)b * bs, len);
					VP_WRITE_ONCE(t->buf_idx, b);
					VP_WRITE_ONCE(t->len, (uint16_t)len);
					VP_WRITE_ONCE(t->flags, 0);
				}
				vp_store_release(&tx->hdr->head, (head + n) % ns);
				VP_WRITE_ONCE(tx->hdr->cur, (head + n) % ns);
				/* give RX slots back too, so this port is a live destination */
				VP_WRITE_ONCE(rx->hdr->head, VP_READ_ONCE(rx->hdr->tail) % ns);
				VP_WRITE_ONCE(rx->hdr->cur, VP_READ_ONCE(rx->hdr->tail) % ns);
				handed += n;
				break;
			}
			}
			inputs++;
		}
		/* kick both channels (the backend must not trust the kick either) */
		if (nf.eops.notify(nf.eops.ctx, nf.tx_port) == 0)
			kicks++;
		if (nf.eops.notify(nf.eops.ctx, nf.rx_port) == 0)
			kicks++;
		usleep(200);
	}
	printf("{\"event\":\"done\",\"mode\":\"ring\",\"inputs\":%llu,\"handedOver\":%llu,\"kicks\":%llu}\n",
	       (unsigned long long)inputs, (unsigned long long)handed, (unsigned long long)kicks);
	fflush(stdout);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* xs                                                                        */

static struct {
	uint64_t inputs, ok, raw, events;
	uint64_t errs[160];
	int dead;
	uint64_t dead_at; /* inputs when the connection died (0: alive until the raw frames) */
} xs_st;

static char big[4200];

/* A hostile path. */
static const char *xs_path(char *buf, size_t n)
{
	uint32_t self = session.g.domid, other = nothers ? others[rnd() % nothers] : 0, r = rnd();
	static const char *const fixed[] = { "", "/", "relative", "data", "data/x", VIF_PATH_DEVICE_VIF_RELATIVE "0/state", VIF_PATH_DEVICE_VIF_RELATIVE "0/event-channel-tx",
					     VIF_PATH_DEVICE_VIF_RELATIVE "0/tx-ring-ref0", VIF_PATH_DEVICE_VIF_RELATIVE "0/zzz", "/local/domain/0", "/local/domain/0/backend",
					     "@releaseDomain", "@introduceDomain", "@other", "/tool", "a//b", "trailing/", "/local/domain/32752",
					     "/local/domain/-1", VIF_PATH_DEVICE_VIF_RELATIVE "0/../../../0", "bad\x01char", "sp ace" };

	switch (r % 6) {
	case 0:
	case 1: return fixed[(r >> 8) % (sizeof(fixed) / sizeof(fixed[0]))];
	case 2: snprintf(buf, n, VIF_PATH_LOCAL_DOMAIN "%u" VIF_PATH_DEVICE_VIF "0/%s", other, (r & 0x100) ? "state" : "event-channel-rx"); return buf;
	case 3: snprintf(buf, n, VIF_PATH_LOCAL_DOMAIN "0" VIF_PATH_BACKEND_VIF "%u/0/%s", (r & 0x200) ? self : other, (r & 0x100) ? "state" : "mac"); return buf;
	case 4: snprintf(buf, n, "/local/domain/%u/data/%u", (r & 0x100) ? self : other, rnd() % 64); return buf;
	default: { /* long: around the 3072 path limit */
		uint32_t len = (r & 0x100) ? 3072 - 1 + rnd() % 3 : 200 + rnd() % 3000;

		if (len >= n)
			len = (uint32_t)n - 1;
		memset(buf, 'a', len);
		buf[0] = 'd';
		buf[len] = '\0';
		return buf;
	}
	}
}

static void account(int rc)
{
	xs_st.inputs++;
	if (rc == 0)
		xs_st.ok++;
	else if (-rc > 0 && -rc < 160)
		xs_st.errs[-rc]++;
	if (session.xs.dead && !xs_st.dead) {
		xs_st.dead = session.xs.dead;
		xs_st.dead_at = xs_st.inputs;
	}
}

static void drain_events(void)
{
	char p[XS_PAYLOAD_MAX], t[64];

	while (xs_pending_events(&session.xs)) {
		if (xs_wait_event(&session.xs, 0, p, sizeof(p), t, sizeof(t)) != 0)
			break;
		xs_st.events++;
	}
}

static int xs_mode(uint64_t deadline)
{
	struct xs_handle *h = &session.xs;
	static char path[4100], payload[XS_PAYLOAD_MAX + 8], reply[XS_PAYLOAD_MAX];
	uint32_t txs[64], ntx = 0, self = session.g.domid, watches = 0;

	memset(big, 'v', sizeof(big));
	printf("{\"event\":\"started\",\"domid\":%u}\n", self);
	fflush(stdout);
	while (now_ms() < deadline && !h->dead && !stop) {
		uint32_t r = rnd(), tx = (r & 0x80000) && ntx ? txs[rnd() % ntx] : ((r & 0x40000) ? rnd() % 8 : XS_NO_TX);
		const char *p = xs_path(path, sizeof(path));
		uint32_t vlen = (r & 0x1000) ? pick32(64, 4096) % 4097 : rnd() % 16, plen = (uint32_t)strlen(p);
		int rc;

		switch ((r >> 8) % 16) {
		case 0: account(xs_read(h, tx, p, reply, sizeof(reply), NULL)); break;
		case 1:
		case 2: account(xs_write(h, tx, p, big, vlen)); break;
		case 3: { /* its own vif directory: garbage and state flips */
			static const char *const keys[] = { "state", "event-channel-tx", "event-channel-rx", "tx-ring-ref0", "backend", "backend-id",
							    "feature-netmap", "request-rx-copy", "mac" };
			static const char *const vals[] = { "1", "2", "3", "4", "5", "6", "7", "-1", "4294967296", "garbage", "", "0x10" };

			snprintf(path, sizeof(path), VIF_PATH_DEVICE_VIF_RELATIVE "0/%s", keys[rnd() % 9]);
			account(xs_write(h, tx, path, vals[r % 12], (uint32_t)strlen(vals[r % 12])));
			break;
		}
		case 4: account(xs_mkdir(h, tx, p)); break;
		case 5: account(xs_rm(h, tx, p)); break;
		case 6: account(xs_directory(h, tx, p, reply, sizeof(reply))); break;
		case 7: { /* permissions: give a node to another domain, or claim one */
			uint32_t o = nothers ? others[rnd() % nothers] : 0;
			int n = snprintf(payload, sizeof(payload), "%s%c%c%u%c%c%u%c", p, 0, "nrwbx"[rnd() % 5], (r & 0x100) ? o : self, 0,
					 "rwb"[rnd() % 3], rnd() % 3 ? 0 : o, 0);

			account(xs_request(h, XS_SET_PERMS, tx, payload, (uint32_t)n, NULL, 0, NULL));
			break;
		}
		case 8: /* watch flood (with distinct tokens), and unwatch */
			for (int k = 0; k < 32; k++) {
				char tok[32];

				snprintf(tok, sizeof(tok), "t%u", watches++);
				account((r & 0x100) ? xs_unwatch(h, p, tok) : xs_watch(h, (k & 1) ? "device" : p, tok));
			}
			break;
		case 9: { /* transactions opened and never ended, ended twice, unknown ids */
			uint32_t id;

			if ((r & 0x300) && ntx < 64) {
				rc = xs_transaction_start(h, &id);
				account(rc);
				if (rc == 0)
					txs[ntx++] = id;
			} else {
				id = ntx && (r & 0x400) ? txs[rnd() % ntx] : pick32(ntx, 64);
				account(xs_transaction_end(h, id, (int)(r & 1)));
			}
			break;
		}
		case 10: { /* dom0-only and unknown types, with a plausible payload */
			static const uint32_t types[] = { XS_CONTROL, XS_INTRODUCE, XS_RELEASE, XS_RESUME, XS_SET_TARGET, XS_RESET_WATCHES,
							  XS_IS_DOMAIN_INTRODUCED, XS_GET_DOMAIN_PATH, XS_WATCH_EVENT, XS_ERROR, XS_DIRECTORY_PART,
							  20, 23, 99, 0x7fffffff, 0xffffffffu };
			int n = snprintf(payload, sizeof(payload), "%u%c%u%c%u%c", nothers ? others[0] : 0, 0, rnd() % 8, 0, rnd(), 0);

			account(xs_request(h, types[rnd() % 16], tx, payload, (uint32_t)n, reply, sizeof(reply), NULL));
			break;
		}
		case 11: { /* a payload without its NULs, or only NULs, or the full 4096 */
			uint32_t n = (r & 0x100) ? plen : XS_PAYLOAD_MAX;

			memcpy(payload, p, plen);
			if (n > plen)
				memset(payload + plen, (r & 0x200) ? 0 : 'x', n - plen);
			account(xs_request(h, (r & 0x400) ? XS_WRITE : XS_READ, tx, payload, n, reply, sizeof(reply), NULL));
			break;
		}
		case 12: /* a write storm on its own data dir (watch events for everyone watching) */
			for (int k = 0; k < 16; k++) {
				snprintf(path, sizeof(path), "data/storm%u", rnd() % 8);
				account(xs_write(h, XS_NO_TX, path, big, rnd() % 64));
			}
			break;
		case 13: account(xs_get_domain_path(h, pick32(self, 32752), reply, sizeof(reply))); break;
		default: account(xs_read(h, tx, p, reply, (r & 0x100) ? 1 : sizeof(reply), NULL)); break;
		}
		drain_events();
	}
	/* raw malformed frames: a payload length past the limit; the daemon must close only this connection */
	int dead_before_raw = h->dead;

	if (!h->dead) {
		uint32_t hdr[4] = { XS_READ, 1, 0, XS_PAYLOAD_MAX + 1 };

		if (write(session.g.xs_fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr))
			xs_st.raw++, xs_st.inputs++;
		account(xs_read(h, XS_NO_TX, "data", reply, sizeof(reply), NULL));
	}
	printf("{\"event\":\"done\",\"mode\":\"xs\",\"inputs\":%llu,\"ok\":%llu,\"events\":%llu,\"raw\":%llu,\"openTx\":%u,\"dead\":%d,\"deadAt\":%llu,\"deadBeforeRaw\":%d,\"errnos\":{",
	       (unsigned long long)xs_st.inputs, (unsigned long long)xs_st.ok, (unsigned long long)xs_st.events,
	       (unsigned long long)xs_st.raw, ntx, xs_st.dead, (unsigned long long)xs_st.dead_at, dead_before_raw);
	for (int i = 0, first = 1; i < 160; i++)
		if (xs_st.errs[i]) {
			printf("%s\"%d\":%llu", first ? "" : ",", i, (unsigned long long)xs_st.errs[i]);
			first = 0;
		}
	printf("}}\n");
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t deadline;
	int rc, i;

	if (argc < 4 || (strcmp(argv[1], "ring") && strcmp(argv[1], "xs")))
		fail("usage", -EINVAL);
	deadline = now_ms() + (uint64_t)strtoul(argv[2], NULL, 10) * 1000;
	rng = strtoull(argv[3], NULL, 10) | 1;
	for (i = 4; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--peer") && npeers < MAX_PEERS) {
			if (nf_parse_mac(argv[i + 1], (uint32_t)strlen(argv[i + 1]), peers[npeers]))
				fail("usage-peer", -EINVAL);
			npeers++;
		} else if (!strcmp(argv[i], "--other") && nothers < MAX_PEERS) {
			others[nothers++] = (uint32_t)strtoul(argv[i + 1], NULL, 10);
		} else {
			fail("usage", -EINVAL);
		}
	}
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	if ((rc = nf_session_open(&session)))
		fail("session-open", rc);
	rc = !strcmp(argv[1], "ring") ? ring_mode(deadline) : xs_mode(deadline);
	/* no clean disconnect: the platform tears the vif down when the domain ends */
	_exit(rc);
}
