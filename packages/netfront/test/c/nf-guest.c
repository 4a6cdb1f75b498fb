/* SPDX-License-Identifier: MIT */
/*
 * nf-guest: a C test guest on the netfront core, in two host modes:
 *
 *   static (default)  inherits its demoted xenstore connection (fd
 *                     $VPIO_NF_XS_FD), its grant descriptors (VPIO_NF_GRANTS)
 *                     and its channel ends (VPIO_NF_EVTCHNS) from the scripted
 *                     dom0 of the tests (vpio/netfront_host.h);
 *   --broker          runs under `vpio run`: vpio/netfront_broker.h's session
 *                     (HELLO over $VPIO_CTRL_FD, grants and channels from
 *                     vpiod's brokers).
 *
 * It speaks JSON lines on stdout:
 *
 *   {"event":"connected","mac":"..","mtu":N,"txSlots":N,"rxSlots":N}    ("offload":0|1 added with --offload)
 *   {"event":"refused","error":"<backend error node>"}      (--garbage)
 *   {"event":"peers"}                                        (--auto: every peer heard)
 *   {"event":"done","sent":N,"received":N,"corrupt":N,"reordered":N,"foreign":N,...}
 *   {"event":"backend","connected":0|1,"state":N}             (--watch-backend: each check)
 *   {"event":"closed","rc":N}
 *   {"event":"error","step":"..","rc":N}
 *
 * Options: --devid N, --mode event|poll, --peer MAC (repeatable, up to
 * MAX_PEERS: traffic goes to each, and is expected from each), --count N
 * (packets to and from each peer), --size B, --garbage (first write garbage
 * channels into its own directory, report the backend's error node, then
 * connect properly), --garbage-only (the same, then linger unconnected),
 * --no-traffic, --offload (request NF_FEAT_OFFLOAD; report what was agreed),
 * --queues K (ask for K queues: "connected" then says how many it got, and
 * each queue gets its own traffic thread), --flows F (F flows per queue,
 * see below), --watch-backend (after connecting, and without --auto: until
 * "close" on stdin, poll stdin and the xenstore connection's descriptor;
 * whenever the latter is readable, or a line "check" arrives, call
 * nf_backend_check() and print a "backend" line; once it says the backend
 * is not Connected, disconnect at once, as a guest whose backend left does).
 *
 * Queues: with Q queues in use, thread q sends the sequence numbers s with
 * s % Q == q (to each peer) on queue q and receives on queue q whatever
 * the switch steers there; a receiver counts per peer across its threads.
 * "done" adds "queues": [{"sent":N,"received":N}, ...] (frames sent on and
 * received from each queue).
 *
 * Flows (--flows F > 1, or Q > 1): packets are IPv4/UDP (10.77.0.<mac byte
 * 5>, source port 10000 + f, destination port 20000, as TCP streams to one
 * server) so the switch's flow hash spreads them over a group's queues;
 * flow f = s % (Q * F); the receiver checks order per (peer, flow). Both
 * kinds of packet are understood whatever is sent.
 *
 * Driving: by default, after "connected" it waits for a line "go" on stdin
 * before traffic and for "close" before disconnecting. With --auto (no
 * stdin, as under `vpio run`; --broker implies it) it sends probe frames
 * (type 0x88b6) to every peer until it has heard from every peer (so each
 * peer is connected; a peer's data counts as hearing it, and is accounted),
 * prints "peers", runs the traffic, and disconnects; with --linger it stays
 * connected after the traffic (draining RX) until SIGTERM/SIGINT, then
 * disconnects cleanly.
 *
 * Packets: Ethernet header (dst = peer, src = own MAC, type 0x88b5), then
 * u32 sequence, u32 length, u32 FNV-1a of the rest, then a pattern derived
 * from the sequence. The receiver checks length, checksum and, per source
 * MAC, order; frames from a MAC that is not a peer count as "foreign".
 * Flow packets: Ethernet (type 0x0800), IPv4 (20 bytes, checksummed), UDP
 * (8 bytes, no checksum), then u32 sequence, u32 length, u32 FNV-1a of the
 * rest, u32 flow, the pattern.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vpio/netfront.h"
#include "vpio/netfront_broker.h"
#ifdef NF_GUEST_XEN
#include "vpio/netfront_xen.h" /* build/test/nf-guest-xen: --xen, a Linux PV domU's setup */
#endif
#include "vpio/netfront_host.h"
#include "vpio/xs_transport.h"

#define BURST 32
#define MAX_PEERS 4
#define MAX_FLOWS 64
#define TYPE_DATA 0xb5
#define TYPE_PROBE 0xb6
#define FLOW_HDR 42u      /* Ethernet + IPv4 + UDP */
#define FLOW_PAYLOAD 58u  /* FLOW_HDR + seq, len, fnv, flow */

static struct nf_dev vif[NF_MAX_QUEUES]; /* the vif's queues: vif[0] is what nf_connect got */
static struct nf_dev *const nf0 = &vif[0];
static struct xs_handle xs_static;
static struct xs_handle *xsh = &xs_static;
static struct nf_session session;
static uint8_t events[16 * XS_EVENT_RECORD_MAX];
static volatile sig_atomic_t stop;

/* Per peer: its MAC, whether it was heard, and (all queues together) the data received from it. */
static struct peer {
	uint8_t mac[6];
	int heard;
	uint32_t total_rx; /* atomic: every queue's thread adds */
} peers[MAX_PEERS];
static uint32_t npeers, count = 1000, size = 128, nq = 1, flows = 1, flow_format;

/* What one queue's thread sent and received (its own, summed at the end). */
struct acct {
	uint32_t sent[MAX_PEERS], received[MAX_PEERS], corrupt[MAX_PEERS], reordered[MAX_PEERS];
	uint32_t expect[MAX_PEERS];            /* 0x88b5 packets: the next sequence number */
	uint32_t next[MAX_PEERS][MAX_FLOWS];   /* flow packets: the lowest sequence number still in order */
	uint32_t foreign, frames_tx, frames_rx;
	uint64_t waits_timed_out;
	int failed;
};
static struct acct accts[NF_MAX_QUEUES];

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

static void build(uint8_t *pkt, uint32_t len, const uint8_t *dst, const uint8_t *src, uint32_t seq)
{
	uint32_t i;

	memcpy(pkt, dst, 6);
	memcpy(pkt + 6, src, 6);
	pkt[12] = 0x88;
	pkt[13] = TYPE_DATA;
	put32(pkt + 14, seq);
	put32(pkt + 18, len);
	for (i = 26; i < len; i++)
		pkt[i] = (uint8_t)(seq * 7 + i);
	put32(pkt + 22, fnv1a(pkt + 26, len - 26));
}

static void put16be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A flow packet: IPv4/UDP with ports of flow f, then seq, len, fnv, flow, the pattern. */
static void build_flow(uint8_t *pkt, uint32_t len, const uint8_t *dst, const uint8_t *src, uint32_t seq, uint32_t f)
{
	uint32_t i, sum = 0;

	memcpy(pkt, dst, 6);
	memcpy(pkt + 6, src, 6);
	pkt[12] = 0x08;
	pkt[13] = 0x00;
	memset(pkt + 14, 0, 20);
	pkt[14] = 0x45;
	put16be(pkt + 16, len - 14);
	pkt[22] = 64;
	pkt[23] = 17;
	pkt[26] = 10, pkt[27] = 77, pkt[28] = 0, pkt[29] = src[5];
	pkt[30] = 10, pkt[31] = 77, pkt[32] = 0, pkt[33] = dst[5];
	for (i = 14; i < 34; i += 2)
		sum += (uint32_t)pkt[i] << 8 | pkt[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16be(pkt + 24, ~sum & 0xffff);
	put16be(pkt + 34, 10000 + f);
	put16be(pkt + 36, 20000); /* one destination port, source ports by flow: as TCP streams to one server */
	put16be(pkt + 38, len - 34);
	put16be(pkt + 40, 0);
	put32(pkt + FLOW_HDR, seq);
	put32(pkt + FLOW_HDR + 4, len);
	put32(pkt + FLOW_HDR + 12, f);
	for (i = FLOW_PAYLOAD; i < len; i++)
		pkt[i] = (uint8_t)(seq * 7 + i);
	put32(pkt + FLOW_HDR + 8, fnv1a(pkt + FLOW_PAYLOAD, len - FLOW_PAYLOAD));
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

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* A hostile guest's move: garbage channels and state=Connected, then the backend's verdict. */
static void write_garbage(uint32_t devid)
{
	char path[128], be[160], val[300], p2[224], tok[32];
	uint32_t len;
	int rc;

	snprintf(path, sizeof(path), VIF_PATH_DEVICE_VIF_RELATIVE "%u/backend", devid);
	if ((rc = xs_read(xsh, XS_NO_TX, path, be, sizeof(be), NULL)))
		fail("garbage-read-backend", rc);
	/* wait for InitWait, so the backend is past publishing */
	snprintf(p2, sizeof(p2), "%s/state", be);
	if ((rc = xs_watch(xsh, be, "garbage")))
		fail("garbage-watch", rc);
	for (;;) {
		if (xs_read(xsh, XS_NO_TX, p2, val, sizeof(val), NULL) == 0 && strcmp(val, "2") == 0)
			break;
		if ((rc = xs_wait_event(xsh, 10000, p2, sizeof(p2), tok, sizeof(tok))) && rc != -XS_EOVERFLOW)
			fail("garbage-wait-initwait", rc);
		snprintf(p2, sizeof(p2), "%s/state", be);
	}
	snprintf(path, sizeof(path), VIF_PATH_DEVICE_VIF_RELATIVE "%u/event-channel-tx", devid);
	xs_write(xsh, XS_NO_TX, path, "garbage", 7);
	snprintf(path, sizeof(path), VIF_PATH_DEVICE_VIF_RELATIVE "%u/event-channel-rx", devid);
	xs_write(xsh, XS_NO_TX, path, "\x01\x02-1", 4);
	snprintf(path, sizeof(path), VIF_PATH_DEVICE_VIF_RELATIVE "%u/zzz-junk", devid);
	xs_write(xsh, XS_NO_TX, path, "\xff\xfe", 2);
	snprintf(path, sizeof(path), VIF_PATH_DEVICE_VIF_RELATIVE "%u/state", devid);
	xs_write(xsh, XS_NO_TX, path, "4", 1);
	snprintf(p2, sizeof(p2), "%s/error", be);
	for (;;) {
		if (xs_read(xsh, XS_NO_TX, p2, val, sizeof(val), &len) == 0)
			break;
		if ((rc = xs_wait_event(xsh, 10000, path, sizeof(path), tok, sizeof(tok))) && rc != -XS_EOVERFLOW)
			fail("garbage-wait-error", rc);
	}
	xs_unwatch(xsh, be, "garbage");
	while (xs_pending_events(xsh))
		xs_wait_event(xsh, 0, path, sizeof(path), tok, sizeof(tok));
	printf("{\"event\":\"refused\",\"error\":\"");
	for (uint32_t i = 0; i < len; i++) {
		if (val[i] == '"' || val[i] == '\\')
			putchar('\\');
		putchar(val[i] >= 0x20 && val[i] <= 0x7e ? val[i] : '?');
	}
	printf("\"}\n");
	fflush(stdout);
}

/* Accounts one received frame in a: a probe or data from a peer (the peer is heard), or foreign. */
static void account(struct acct *a, const uint8_t *p, uint16_t len)
{
	uint32_t i, pi = MAX_PEERS;
	int flow = len >= FLOW_PAYLOAD && p[12] == 0x08 && p[13] == 0x00 && p[23] == 17;

	for (i = 0; i < npeers && len >= 14; i++)
		if (!memcmp(p + 6, peers[i].mac, 6))
			pi = i;
	if (pi == MAX_PEERS || (!flow && (p[12] != 0x88 || (p[13] != TYPE_DATA && p[13] != TYPE_PROBE)))) {
		a->foreign++;
		return;
	}
	__atomic_store_n(&peers[pi].heard, 1, __ATOMIC_RELAXED);
	if (!flow && p[13] == TYPE_PROBE)
		return;
	a->received[pi]++;
	__atomic_fetch_add(&peers[pi].total_rx, 1, __ATOMIC_RELAXED);
	if (flow) {
		uint32_t seq = get32(p + FLOW_HDR), f = get32(p + FLOW_HDR + 12);

		if (len != size || get32(p + FLOW_HDR + 4) != size || f >= MAX_FLOWS ||
		    get32(p + FLOW_HDR + 8) != fnv1a(p + FLOW_PAYLOAD, size - FLOW_PAYLOAD)) {
			a->corrupt[pi]++;
			return;
		}
		if (seq < a->next[pi][f])
			a->reordered[pi]++;
		a->next[pi][f] = seq + 1;
		return;
	}
	if (len != size || get32(p + 18) != size || get32(p + 22) != fnv1a(p + 26, size - 26)) {
		a->corrupt[pi]++;
		return;
	}
	if (get32(p + 14) != a->expect[pi])
		a->reordered[pi]++;
	a->expect[pi] = get32(p + 14) + 1;
}

static uint32_t receive_some(struct nf_dev *q, struct acct *a)
{
	uint8_t rxbuf[BURST][2048];
	void *bufs[BURST];
	uint16_t lens[BURST];
	uint32_t k, got;

	for (k = 0; k < BURST; k++)
		bufs[k] = rxbuf[k];
	got = nf_rx_burst(q, bufs, lens, BURST);
	for (k = 0; k < got; k++)
		account(a, rxbuf[k], lens[k]);
	a->frames_rx += got;
	return got;
}

/* Every queue's RX, each into its own queue's accounting (one thread). */
static uint32_t receive_all(void)
{
	uint32_t q, got = 0;

	for (q = 0; q < nq; q++)
		got += receive_some(&vif[q], &accts[q]);
	return got;
}

/*
 * --auto: probe every peer not heard yet (every 2 ms) until each is heard,
 * so each one is connected before traffic goes to it. A peer's data counts
 * as hearing it, so a peer that heard us first and went straight to traffic
 * is accounted for, never dropped.
 */
static void meet_peers(void)
{
	uint8_t probe[MAX_PEERS][60];
	uint64_t t0 = now_ms(), last = 0;
	uint32_t i;

	for (;;) {
		uint32_t heard = 0;

		for (i = 0; i < npeers; i++)
			heard += (uint32_t)__atomic_load_n(&peers[i].heard, __ATOMIC_RELAXED);
		if (heard == npeers)
			break;
		if (now_ms() - t0 > 15000)
			fail("meet-peers", -ETIMEDOUT);
		if (now_ms() - last >= 2) {
			for (i = 0; i < npeers; i++) {
				const void *pkt = probe[i];
				uint16_t len = sizeof(probe[i]);

				if (peers[i].heard)
					continue;
				memset(probe[i], 0, sizeof(probe[i]));
				memcpy(probe[i], peers[i].mac, 6);
				memcpy(probe[i] + 6, nf_mac(nf0), 6);
				probe[i][12] = 0x88;
				probe[i][13] = TYPE_PROBE;
				(void)nf_tx_burst(nf0, &pkt, &len, 1, NF_TX_KICK);
			}
			last = now_ms();
		}
		if (!receive_all())
			(void)nf_rx_wait(nf0, 1);
	}
	/* one more probe to each: a peer still meeting hears us even if we send no data (count 0) */
	for (i = 0; i < npeers; i++) {
		const void *pkt = probe[i];
		uint16_t len = sizeof(probe[i]);

		memset(probe[i], 0, sizeof(probe[i]));
		memcpy(probe[i], peers[i].mac, 6);
		memcpy(probe[i] + 6, nf_mac(nf0), 6);
		probe[i][12] = 0x88;
		probe[i][13] = TYPE_PROBE;
		for (t0 = now_ms(); nf_tx_burst(nf0, &pkt, &len, 1, NF_TX_KICK) == 0;)
			if (now_ms() - t0 > 5000 || nf_tx_wait(nf0, 5) < 0)
				fail("meet-last-probe", -ETIMEDOUT);
	}
	printf("{\"event\":\"peers\"}\n");
	fflush(stdout);
}

/*
 * One queue's traffic (its own thread with Q > 1): sequence numbers s with
 * s % Q == q to each peer on queue q, round robin over the peers still owed
 * some; receives what the switch steers to queue q; runs until its share is
 * sent and every peer's data (on whichever queue) has arrived, or stalls.
 */
static void *traffic_queue(void *arg)
{
	struct nf_dev *q = arg;
	struct acct *a = &accts[q->queue];
	uint8_t txbuf[BURST][2048];
	const void *pkts[BURST];
	uint16_t lens[BURST];
	uint64_t last = now_ms();
	uint32_t i, k, rr = 0, idle, me = q->queue;
	uint32_t seqs[BURST], who[BURST], next[MAX_PEERS];
	int rc;

	for (k = 0; k < BURST; k++)
		pkts[k] = txbuf[k];
	for (;;) {
		uint32_t n = 0, got, done_rx = 0, done_tx = 0;

		for (i = 0; i < npeers; i++) {
			done_rx += __atomic_load_n(&peers[i].total_rx, __ATOMIC_RELAXED) >= count;
			done_tx += me + a->sent[i] * nq >= count;
		}
		if (done_rx == npeers && done_tx == npeers)
			break;
		for (i = 0; i < npeers; i++)
			next[i] = me + a->sent[i] * nq;
		for (idle = 0; n < BURST && idle < npeers; rr = (rr + 1) % npeers) {
			if (next[rr] >= count) {
				idle++;
				continue;
			}
			idle = 0;
			if (flow_format)
				build_flow(txbuf[n], size, peers[rr].mac, nf_mac(q), next[rr], next[rr] % (nq * flows));
			else
				build(txbuf[n], size, peers[rr].mac, nf_mac(q), next[rr]);
			lens[n] = (uint16_t)size;
			seqs[n] = next[rr];
			next[rr] += nq;
			who[n++] = rr;
		}
		if (n)
			n = nf_tx_burst(q, pkts, lens, n, NF_TX_KICK);
		for (k = 0; k < n; k++)
			a->sent[who[k]] = (seqs[k] - me) / nq + 1;
		a->frames_tx += n;
		got = receive_some(q, a);
		if (n || got) {
			last = now_ms();
			continue;
		}
		if (now_ms() - last > 10000)
			break; /* stalled: report what we have */
		rc = done_rx < npeers ? nf_rx_wait(q, 5) : nf_tx_wait(q, 5);
		if (rc < 0) {
			a->failed = rc;
			break;
		}
		if (rc == 0)
			a->waits_timed_out++;
	}
	/* let the switch take everything we queued before anyone disconnects */
	for (uint64_t t0 = now_ms(); nf_tx_space(q) != nf_tx_slots(q) - 1 && now_ms() - t0 < 5000;)
		nf_tx_wait(q, 5);
	return NULL;
}

/*
 * --watch-backend: checks the backend now, then whenever the xenstore
 * descriptor is readable or stdin says "check", until it is gone or stdin
 * says "close". Prints a "backend" line per check.
 */
static void watch_backend(int xs_fd)
{
	char line[64];
	size_t n = 0;
	int check = 1;

	for (;;) {
		struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = xs_fd, .events = POLLIN } };

		if (check) {
			uint32_t st = 0;
			int rc = nf_backend_check(nf0, &st);

			if (rc < 0)
				fail("backend-check", rc);
			printf("{\"event\":\"backend\",\"connected\":%d,\"state\":%u}\n", rc, st);
			fflush(stdout);
			if (rc == 0)
				return;
			check = 0;
		}
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail("poll", -errno);
		}
		if (p[1].revents)
			check = 1;
		if (p[0].revents) {
			char c;
			ssize_t r = read(0, &c, 1);

			if (r <= 0)
				fail("stdin-close", -EPIPE);
			if (c != '\n') {
				if (n + 1 < sizeof(line))
					line[n++] = c;
				continue;
			}
			line[n] = '\0';
			n = 0;
			if (!strcmp(line, "close"))
				return;
			if (!strcmp(line, "check"))
				check = 1;
		}
	}
}

static void traffic(void)
{
	pthread_t th[NF_MAX_QUEUES];
	uint32_t i, q, sent = 0, received = 0, corrupt = 0, reordered = 0, foreign = 0;
	uint64_t tx_kicks = 0, rx_kicks = 0, rx_sleeps = 0, waits_timed_out = 0;

	for (q = 1; q < nq; q++)
		if (pthread_create(&th[q], NULL, traffic_queue, &vif[q]))
			fail("thread", -errno);
	traffic_queue(nf0);
	for (q = 1; q < nq; q++)
		pthread_join(th[q], NULL);
	for (q = 0; q < nq; q++) {
		const struct acct *a = &accts[q];
		const struct nf_stats *st = nf_stats(&vif[q]);

		if (a->failed)
			fail("wait", a->failed);
		for (i = 0; i < npeers; i++) {
			sent += a->sent[i];
			received += a->received[i];
			corrupt += a->corrupt[i];
			reordered += a->reordered[i];
		}
		foreign += a->foreign;
		waits_timed_out += a->waits_timed_out;
		tx_kicks += st->tx_kicks;
		rx_kicks += st->rx_kicks;
		rx_sleeps += st->rx_sleeps;
	}
	printf("{\"event\":\"done\",\"sent\":%u,\"received\":%u,\"corrupt\":%u,\"reordered\":%u,\"foreign\":%u,"
	       "\"txKicks\":%llu,\"rxKicks\":%llu,\"rxSleeps\":%llu,\"waitsTimedOut\":%llu,\"queues\":[",
	       sent, received, corrupt, reordered, foreign, (unsigned long long)tx_kicks, (unsigned long long)rx_kicks,
	       (unsigned long long)rx_sleeps, (unsigned long long)waits_timed_out);
	for (q = 0; q < nq; q++)
		printf("%s{\"sent\":%u,\"received\":%u}", q ? "," : "", accts[q].frames_tx, accts[q].frames_rx);
	printf("]}\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	uint32_t devid = 0, i, want_queues = 1;
	int garbage = 0, garbage_only = 0, do_traffic = 1, broker = 0, autom = 0, linger = 0, want_offload = 0, rc, xs_fd, xen = 0;
	int watch = 0;
	enum nf_mode mode = NF_MODE_EVENT;
	struct nf_host_grants grants;
	struct nf_host_evtchns chans;
	struct nf_grant_ops gops;
	struct nf_evtchn_ops eops;
	struct xs_fd_transport ft = { .fd = -1, .owned = 0 };
	struct xs_transport t;
	struct nf_config cfg;
	struct sigaction sa;
	const char *env;

	for (i = 1; i < (uint32_t)argc; i++) {
		const char *a = argv[i], *v = i + 1 < (uint32_t)argc ? argv[i + 1] : "";

		if (!strcmp(a, "--devid"))
			devid = (uint32_t)atoi(v), i++;
		else if (!strcmp(a, "--mode"))
			mode = strcmp(v, "poll") ? NF_MODE_EVENT : NF_MODE_POLL, i++;
		else if (!strcmp(a, "--peer")) {
			if (npeers == MAX_PEERS || parse_mac(v, peers[npeers].mac))
				fail("usage-peer", -EINVAL);
			npeers++, i++;
		} else if (!strcmp(a, "--count"))
			count = (uint32_t)atoi(v), i++;
		else if (!strcmp(a, "--size"))
			size = (uint32_t)atoi(v), i++;
		else if (!strcmp(a, "--garbage"))
			garbage = 1;
		else if (!strcmp(a, "--garbage-only"))
			garbage = garbage_only = 1;
		else if (!strcmp(a, "--no-traffic"))
			do_traffic = 0;
		else if (!strcmp(a, "--offload"))
			want_offload = 1;
		else if (!strcmp(a, "--broker"))
			broker = autom = 1; /* no stdin under `vpio run` */
		else if (!strcmp(a, "--auto"))
			autom = 1;
		else if (!strcmp(a, "--linger"))
			linger = 1;
		else if (!strcmp(a, "--watch-backend"))
			watch = 1;
		else if (!strcmp(a, "--queues"))
			want_queues = (uint32_t)atoi(v), i++;
		else if (!strcmp(a, "--flows"))
			flows = (uint32_t)atoi(v), i++;
		else if (!strcmp(a, "--xen"))
			xen = 1; /* nf-guest-xen only: xenstore over /dev/xen/xenbus, gntdev, evtchn */
		else
			fail("usage", -EINVAL);
	}
	if (size < 26 || size > 2048)
		fail("usage-size", -EINVAL);
	if (want_queues < 1 || want_queues > NF_MAX_QUEUES || flows < 1 || flows * want_queues > MAX_FLOWS)
		fail("usage-queues", -EINVAL);
	flow_format = flows > 1 || want_queues > 1;
	if (flow_format && size < FLOW_PAYLOAD)
		fail("usage-size", -EINVAL);
	if (npeers == 0) {
		static const uint8_t dflt[6] = { 0x02, 0, 0, 0, 0, 0x02 };

		memcpy(peers[0].mac, dflt, 6);
		npeers = 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (xen) {
#ifdef NF_GUEST_XEN
		static struct nf_xen_evtchns xen_chans;

		if (nf_xen_missing_device())
			fail("xen-device", -ENOENT);
		if ((rc = xs_fd_transport_connect(&ft, &t, "/dev/xen/xenbus")) || (rc = xs_open(xsh, &t, events, sizeof(events))))
			fail("xs-open", rc);
		nf_xen_grant_ops(&gops);
		nf_xen_evtchns_init(&xen_chans);
		nf_xen_evtchn_ops(&eops, &xen_chans);
		cfg = (struct nf_config){ .devid = devid, .xs = xsh, .grant = &gops, .evtchn = &eops, .mode = mode,
					  .timeout_ms = 60000 };
#else
		fail("usage-xen", -EINVAL); /* the host build links no Xen library */
#endif
	} else if (broker) {
		if ((rc = nf_session_open(&session)))
			fail("session-open", rc);
		xsh = &session.xs;
		nf_session_config(&session, &cfg, devid, mode, 10000);
	} else {
		env = getenv("VPIO_NF_XS_FD");
		xs_fd = env ? atoi(env) : -1;
		if ((rc = xs_fd_transport_adopt(&ft, &t, xs_fd, 1)) || (rc = xs_open(xsh, &t, events, sizeof(events))))
			fail("xs-open", rc);
		if ((rc = nf_host_grants_parse(&grants, NULL)))
			fail("grants-env", rc);
		if ((rc = nf_host_evtchns_parse(&chans, NULL)))
			fail("evtchns-env", rc);
		nf_host_grant_ops(&gops, &grants);
		nf_host_evtchn_ops(&eops, &chans);
		cfg = (struct nf_config){ .devid = devid, .xs = xsh, .grant = &gops, .evtchn = &eops, .mode = mode,
					  .timeout_ms = 10000 };
	}
	if (garbage)
		write_garbage(devid);
	while (garbage_only && !stop)
		pause();
	if (garbage_only)
		return 0;
	if (want_offload)
		cfg.features = NF_FEAT_OFFLOAD;
	cfg.queues = want_queues;
	if ((rc = nf_connect(nf0, &cfg)))
		fail("connect", rc);
	nq = nf_queue_count(nf0);
	for (i = 0; i < nq; i++)
		if (nf_queue(nf0, i) != &vif[i])
			fail("queue-handle", -EINVAL);
	{
		const uint8_t *m = nf_mac(nf0);

		printf("{\"event\":\"connected\",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"mtu\":%u,\"txSlots\":%u,"
		       "\"rxSlots\":%u",
		       m[0], m[1], m[2], m[3], m[4], m[5], nf_mtu(nf0), nf_tx_slots(nf0), nf_rx_slots(nf0));
		if (want_offload)
			printf(",\"offload\":%u", (nf_features(nf0) & NF_FEAT_OFFLOAD) ? 1u : 0u);
		if (want_queues > 1)
			printf(",\"queues\":%u", nq);
		printf("}\n");
		fflush(stdout);
	}
	if (do_traffic) {
		if (autom)
			meet_peers();
		else if (wait_line("go"))
			fail("stdin-go", -EPIPE);
		traffic();
	}
	if (watch && !broker && !autom) {
		watch_backend(ft.fd);
	} else if (linger) {
		while (!stop)
			if (!receive_all())
				(void)nf_rx_wait(nf0, nq > 1 ? 5 : 50);
	} else if (!autom && wait_line("close")) {
		fail("stdin-close", -EPIPE);
	}
	rc = nf_disconnect(nf0);
	printf("{\"event\":\"closed\",\"rc\":%d}\n", rc);
	fflush(stdout);
	if (broker)
		nf_session_close(&session);
	else
		xs_close(xsh);
	return rc ? 3 : 0;
}
