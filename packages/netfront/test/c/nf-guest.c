/* SPDX-License-Identifier: MIT */
/*
 * nf-guest: a C test guest on the netfront core (host static ops).
 *
 * Inherits its demoted xenstore connection (fd $VPIO_NF_XS_FD), its grant
 * descriptors (VPIO_NF_GRANTS) and its channel ends (VPIO_NF_EVTCHNS) from
 * the scripted dom0 of the tests, and speaks JSON lines on stdout:
 *
 *   {"event":"connected","mac":"..","mtu":N,"txSlots":N,"rxSlots":N}
 *   {"event":"refused","error":"<backend error node>"}      (--garbage)
 *   {"event":"done","sent":N,"received":N,"corrupt":N,"reordered":N,...}
 *   {"event":"closed","rc":N}
 *   {"event":"error","step":"..","rc":N}
 *
 * Options: --devid N, --mode event|poll, --peer MAC, --count N (packets
 * each way), --size B, --garbage (first write garbage channels into its
 * own directory, report the backend's error node, then connect properly),
 * --no-traffic. After "connected" it waits for a line "go" on stdin before
 * traffic, and for "close" before disconnecting.
 *
 * Packets: Ethernet header (dst = peer, src = own MAC, type 0x88b5), then
 * u32 sequence, u32 length, u32 FNV-1a of the rest, then a pattern derived
 * from the sequence. The receiver checks length, checksum and order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vpio/netfront.h"
#include "vpio/netfront_host.h"
#include "vpio/xs_transport.h"

#define BURST 32

static struct nf_dev nf;
static struct xs_handle xs;
static uint8_t events[16 * XS_EVENT_RECORD_MAX];

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t fnv1a(const uint8_t *p, uint32_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void build(uint8_t *pkt, uint32_t size, const uint8_t *dst, const uint8_t *src, uint32_t seq)
{
	uint32_t i;

	memcpy(pkt, dst, 6);
	memcpy(pkt + 6, src, 6);
	pkt[12] = 0x88;
	pkt[13] = 0xb5;
	put32(pkt + 14, seq);
	put32(pkt + 18, size);
	for (i = 26; i < size; i++)
		pkt[i] = (uint8_t)(seq * 7 + i);
	put32(pkt + 22, fnv1a(pkt + 26, size - 26));
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	return nf_parse_mac(s, (uint32_t)strlen(s), mac);
}

static int wait_line(const char *want)
{
	char line[64];
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t r = read(0, &c, 1);

		if (r <= 0)
			return -1;
		if (c == '\n') {
			line[n] = '\0';
			if (strcmp(line, want) == 0)
				return 0;
			n = 0;
		} else if (n + 1 < sizeof(line)) {
			line[n++] = c;
		}
	}
}

static void fail(const char *step, int rc)
{
	printf("{\"event\":\"error\",\"step\":\"%s\",\"rc\":%d}\n", step, rc);
	fflush(stdout);
	exit(3);
}

/* A hostile guest's move: garbage channels and state=Connected, then the backend's verdict. */
static void write_garbage(uint32_t devid)
{
	char path[128], be[160], val[300], p2[224], tok[32];
	uint32_t len;
	int rc;

	snprintf(path, sizeof(path), "device/vif/%u/backend", devid);
	if ((rc = xs_read(&xs, XS_NO_TX, path, be, sizeof(be), NULL)))
		fail("garbage-read-backend", rc);
	/* wait for InitWait, so the backend is past publishing */
	snprintf(p2, sizeof(p2), "%s/state", be);
	if ((rc = xs_watch(&xs, be, "garbage")))
		fail("garbage-watch", rc);
	for (;;) {
		if (xs_read(&xs, XS_NO_TX, p2, val, sizeof(val), NULL) == 0 && strcmp(val, "2") == 0)
			break;
		if ((rc = xs_wait_event(&xs, 10000, p2, sizeof(p2), tok, sizeof(tok))) && rc != -XS_EOVERFLOW)
			fail("garbage-wait-initwait", rc);
		snprintf(p2, sizeof(p2), "%s/state", be);
	}
	snprintf(path, sizeof(path), "device/vif/%u/event-channel-tx", devid);
	xs_write(&xs, XS_NO_TX, path, "garbage", 7);
	snprintf(path, sizeof(path), "device/vif/%u/event-channel-rx", devid);
	xs_write(&xs, XS_NO_TX, path, "\x01\x02-1", 4);
	snprintf(path, sizeof(path), "device/vif/%u/zzz-junk", devid);
	xs_write(&xs, XS_NO_TX, path, "\xff\xfe", 2);
	snprintf(path, sizeof(path), "device/vif/%u/state", devid);
	xs_write(&xs, XS_NO_TX, path, "4", 1);
	snprintf(p2, sizeof(p2), "%s/error", be);
	for (;;) {
		if (xs_read(&xs, XS_NO_TX, p2, val, sizeof(val), &len) == 0)
			break;
		if ((rc = xs_wait_event(&xs, 10000, path, sizeof(path), tok, sizeof(tok))) && rc != -XS_EOVERFLOW)
			fail("garbage-wait-error", rc);
	}
	xs_unwatch(&xs, be, "garbage");
	while (xs_pending_events(&xs))
		xs_wait_event(&xs, 0, path, sizeof(path), tok, sizeof(tok));
	printf("{\"event\":\"refused\",\"error\":\"");
	for (uint32_t i = 0; i < len; i++) {
		if (val[i] == '"' || val[i] == '\\')
			putchar('\\');
		putchar(val[i] >= 0x20 && val[i] <= 0x7e ? val[i] : '?');
	}
	printf("\"}\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	uint32_t devid = 0, count = 1000, size = 128, i;
	int garbage = 0, traffic = 1, rc, xs_fd;
	enum nf_mode mode = NF_MODE_EVENT;
	uint8_t peer[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	struct nf_host_grants grants;
	struct nf_host_evtchns chans;
	struct nf_grant_ops gops;
	struct nf_evtchn_ops eops;
	struct xs_fd_transport ft;
	struct xs_transport t;
	struct nf_config cfg;
	const char *env;

	for (i = 1; i < (uint32_t)argc; i++) {
		const char *a = argv[i], *v = i + 1 < (uint32_t)argc ? argv[i + 1] : "";

		if (!strcmp(a, "--devid"))
			devid = (uint32_t)atoi(v), i++;
		else if (!strcmp(a, "--mode"))
			mode = strcmp(v, "poll") ? NF_MODE_EVENT : NF_MODE_POLL, i++;
		else if (!strcmp(a, "--peer")) {
			if (parse_mac(v, peer))
				fail("usage-peer", -EINVAL);
			i++;
		} else if (!strcmp(a, "--count"))
			count = (uint32_t)atoi(v), i++;
		else if (!strcmp(a, "--size"))
			size = (uint32_t)atoi(v), i++;
		else if (!strcmp(a, "--garbage"))
			garbage = 1;
		else if (!strcmp(a, "--no-traffic"))
			traffic = 0;
		else
			fail("usage", -EINVAL);
	}
	if (size < 26 || size > 2048)
		fail("usage-size", -EINVAL);
	env = getenv("VPIO_NF_XS_FD");
	xs_fd = env ? atoi(env) : -1;
	if ((rc = xs_fd_transport_adopt(&ft, &t, xs_fd, 1)) || (rc = xs_open(&xs, &t, events, sizeof(events))))
		fail("xs-open", rc);
	if ((rc = nf_host_grants_parse(&grants, NULL)))
		fail("grants-env", rc);
	if ((rc = nf_host_evtchns_parse(&chans, NULL)))
		fail("evtchns-env", rc);
	nf_host_grant_ops(&gops, &grants);
	nf_host_evtchn_ops(&eops, &chans);
	if (garbage)
		write_garbage(devid);
	cfg = (struct nf_config){ .devid = devid, .xs = &xs, .grant = &gops, .evtchn = &eops, .mode = mode,
				  .timeout_ms = 10000 };
	if ((rc = nf_connect(&nf, &cfg)))
		fail("connect", rc);
	{
		const uint8_t *m = nf_mac(&nf);

		printf("{\"event\":\"connected\",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"mtu\":%u,\"txSlots\":%u,"
		       "\"rxSlots\":%u}\n",
		       m[0], m[1], m[2], m[3], m[4], m[5], nf_mtu(&nf), nf_tx_slots(&nf), nf_rx_slots(&nf));
		fflush(stdout);
	}
	if (traffic) {
		static uint8_t txbuf[BURST][2048], rxbuf[BURST][2048];
		const void *pkts[BURST];
		void *bufs[BURST];
		uint16_t lens[BURST];
		uint32_t sent = 0, received = 0, corrupt = 0, reordered = 0, expect = 0;
		uint64_t last = now_ms(), waits_timed_out = 0;

		if (wait_line("go"))
			fail("stdin-go", -EPIPE);
		for (i = 0; i < BURST; i++)
			pkts[i] = txbuf[i], bufs[i] = rxbuf[i];
		while (sent < count || received < count) {
			uint32_t n = 0, got, k;

			if (sent < count) {
				n = count - sent < BURST ? count - sent : BURST;
				for (k = 0; k < n; k++) {
					build(txbuf[k], size, peer, nf_mac(&nf), sent + k);
					lens[k] = (uint16_t)size;
				}
				n = nf_tx_burst(&nf, pkts, lens, n, NF_TX_KICK);
				sent += n;
			}
			got = nf_rx_burst(&nf, bufs, lens, BURST);
			for (k = 0; k < got; k++) {
				const uint8_t *p = rxbuf[k];

				if (lens[k] != size || get32(p + 18) != size || get32(p + 22) != fnv1a(p + 26, size - 26)) {
					corrupt++;
					continue;
				}
				if (get32(p + 14) != expect)
					reordered++;
				expect = get32(p + 14) + 1;
			}
			received += got;
			if (n || got) {
				last = now_ms();
				continue;
			}
			if (now_ms() - last > 10000)
				break; /* stalled: report what we have */
			rc = received < count ? nf_rx_wait(&nf, 5) : nf_tx_wait(&nf, 5);
			if (rc < 0)
				fail("wait", rc);
			if (rc == 0)
				waits_timed_out++;
		}
		/* let the switch take everything we queued before anyone disconnects */
		for (uint64_t t0 = now_ms(); nf_tx_space(&nf) != nf_tx_slots(&nf) - 1 && now_ms() - t0 < 5000;)
			nf_tx_wait(&nf, 5);
		printf("{\"event\":\"done\",\"sent\":%u,\"received\":%u,\"corrupt\":%u,\"reordered\":%u,\"txKicks\":%llu,"
		       "\"rxKicks\":%llu,\"rxSleeps\":%llu,\"waitsTimedOut\":%llu}\n",
		       sent, received, corrupt, reordered, (unsigned long long)nf_stats(&nf)->tx_kicks,
		       (unsigned long long)nf_stats(&nf)->rx_kicks, (unsigned long long)nf_stats(&nf)->rx_sleeps,
		       (unsigned long long)waits_timed_out);
		fflush(stdout);
	}
	if (wait_line("close"))
		fail("stdin-close", -EPIPE);
	rc = nf_disconnect(&nf);
	printf("{\"event\":\"closed\",\"rc\":%d}\n", rc);
	fflush(stdout);
	xs_close(&xs);
	return rc ? 3 : 0;
}
