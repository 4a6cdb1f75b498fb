/* SPDX-License-Identifier: MIT */
/*
 * xen-peer - the domU half of the xen drivers' lab test
 * (xen/tests/drivers.sh): a Linux PV guest's userspace, no kernel module,
 * using exactly what linux-netfront will use in xen mode:
 *   - the xenstore through /dev/xen/xenbus with @vpio/xenstore's C client
 *     and its fd transport (read, write, watch, a transaction);
 *   - netfront's xen grant ops (nf_xen_grant_ops: gntdev) to map dom0's
 *     multi-page region by its refs;
 *   - netfront's xen event-channel ops (nf_xen_evtchn_ops: one xenevtchn
 *     handle per port) to allocate two unbound ports dom0 binds.
 *
 * Protocol, all under this domain's data/vpio-test (D):
 *   dom0: shares N pages rw to us (page 0 control, pages 1.. a pattern),
 *         writes D/backend-id, D/npages, D/seed, D/refs/<c> (chunks of
 *         space-separated refs), then D/offer=1
 *   us:   watch D/offer; map; check the pattern; write the reply pattern
 *         into the last page; allocate ports ping (dom0 -> us) and pong
 *         (us -> dom0); one transaction: D/port-ping, D/port-pong,
 *         D/mapped=ok
 *   both: dom0 binds both and ping-pongs `rounds` times: it stores
 *         ctl.dom0_seq = i and notifies ping; we wait until we see i,
 *         store ctl.domu_seq = i and notify pong (wake-ups that find
 *         nothing new are counted as spurious)
 *   us:   D/pingpong; dom0 then unshares (we still map) and writes
 *         D/release=1; we check our mapping is still intact, unmap, close
 *         both ports, and write D/unmapped=ok
 * Every check prints "LAB PASS|FAIL name detail" and is written to
 * D/result/<name>; the exit status is the number of failures (2: usage or
 * not a Xen guest).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vpio/netfront_xen.h"
#include "vpio/xs.h"
#include "vpio/xs_transport.h"

#define D "data/vpio-test"
#define WAIT_MS 10000
#define MAX_REFS 8192
#define CTL_MAGIC 0x56505854u /* "TXPV" little-endian: 'VPXT' */
#define CTL_DOM0_SEQ 64       /* byte offsets in page 0 */
#define CTL_DOMU_SEQ 128
#define CTL_ROUNDS 192

static struct xs_handle xs;
static uint8_t evbuf[16384];
static int failures;

static void result(int ok, const char *name, const char *fmt, ...)
{
	char detail[256], path[128], val[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	printf("LAB %s %s %s\n", ok ? "PASS" : "FAIL", name, detail);
	fflush(stdout);
	if (!ok)
		failures++;
	snprintf(path, sizeof(path), D "/result/%s", name);
	snprintf(val, sizeof(val), "%s %s", ok ? "PASS" : "FAIL", detail);
	(void)xs_write(&xs, XS_NO_TX, path, val, (uint32_t)strlen(val));
}

static int read_str(const char *key, char *buf, uint32_t bytes)
{
	char path[128];

	snprintf(path, sizeof(path), D "/%s", key);
	return xs_read(&xs, XS_NO_TX, path, buf, bytes, NULL);
}

static int read_u32(const char *key, uint32_t *out)
{
	char buf[32];
	char *end;
	unsigned long v;
	int rc = read_str(key, buf, sizeof(buf));

	if (rc)
		return rc;
	v = strtoul(buf, &end, 10);
	if (end == buf || v > 0xffffffffUL)
		return -EPROTO;
	*out = (uint32_t)v;
	return 0;
}

static int write_str(uint32_t tx, const char *key, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), D "/%s", key);
	return xs_write(&xs, tx, path, val, (uint32_t)strlen(val));
}

/* Waits until D/<key> exists (watching it); 0, -ETIMEDOUT, or an xs errno. */
static int wait_key(const char *key, int timeout_ms, int *events)
{
	char path[128], epath[256], token[32], buf[64];
	int rc;

	snprintf(path, sizeof(path), D "/%s", key);
	if ((rc = xs_watch(&xs, path, key)))
		return rc;
	for (;;) {
		if (xs_read(&xs, XS_NO_TX, path, buf, sizeof(buf), NULL) == 0)
			break;
		rc = xs_wait_event(&xs, timeout_ms, epath, sizeof(epath), token, sizeof(token));
		if (rc == 0 && events)
			(*events)++;
		if (rc && rc != -XS_EOVERFLOW)
			break;
	}
	(void)xs_unwatch(&xs, path, key);
	return rc == -XS_ETIMEDOUT ? -ETIMEDOUT : (rc == -XS_EOVERFLOW ? 0 : rc);
}

static uint8_t pattern_byte(size_t i, uint32_t seed)
{
	return (uint8_t)((i / NF_PAGE_BYTES) * 131u + i * 7u + seed);
}

static int read_refs(uint32_t n, uint32_t *refs)
{
	static char buf[XS_PAYLOAD_MAX + 1];
	uint32_t have = 0, chunk;
	char key[32];

	for (chunk = 0; have < n; chunk++) {
		char *p = buf, *end;
		int rc;

		snprintf(key, sizeof(key), "refs/%u", chunk);
		if ((rc = read_str(key, buf, sizeof(buf))))
			return rc;
		while (*p && have < n) {
			unsigned long v = strtoul(p, &end, 10);

			if (end == p || v > 0xffffffffUL)
				return -EPROTO;
			refs[have++] = (uint32_t)v;
			p = end;
			while (*p == ' ')
				p++;
		}
		if (chunk > MAX_REFS)
			return -EPROTO;
	}
	return 0;
}

static uint32_t load32(const volatile void *p)
{
	return __atomic_load_n((const volatile uint32_t *)p, __ATOMIC_SEQ_CST);
}

static void store32(volatile void *p, uint32_t v)
{
	__atomic_store_n((volatile uint32_t *)p, v, __ATOMIC_SEQ_CST);
}

static int maps_mention(const char *what)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, what))
			n++;
	fclose(f);
	return n;
}

static int fds_on(const char *dev)
{
	char link[64], target[128];
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++) {
		ssize_t len;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (strcmp(target, dev) == 0)
			n++;
	}
	return n;
}

int main(void)
{
	static uint32_t refs[MAX_REFS];
	static struct nf_xen_evtchns ev;
	struct xs_fd_transport ft;
	struct xs_transport tr;
	struct nf_grant_ops gops;
	struct nf_evtchn_ops eops;
	const char *missing = nf_xen_missing_device();
	uint32_t domid = 0, backend = 0, npages = 0, seed = 0, rounds = 0, ping = 0, pong = 0, tx, i;
	uint32_t spurious = 0, pong_wakes = 0, bad = 0;
	void *addr = NULL, *dummy = NULL;
	uint8_t *mem;
	size_t bytes, off;
	char buf[64];
	int rc, events = 0, ok;

	if (missing) {
		fprintf(stderr, "xen-peer: %s is missing: not a Xen PV guest (or its module is not loaded)\n", missing);
		return 2;
	}
	if ((rc = xs_fd_transport_connect(&ft, &tr, "/dev/xen/xenbus")) || (rc = xs_open(&xs, &tr, evbuf, sizeof(evbuf)))) {
		fprintf(stderr, "xen-peer: opening /dev/xen/xenbus: %d\n", rc);
		return 2;
	}
	rc = xs_read(&xs, XS_NO_TX, "domid", buf, sizeof(buf), NULL);
	domid = rc == 0 ? (uint32_t)strtoul(buf, NULL, 10) : 0;
	result(rc == 0 && domid > 0, "xenbus-read", "domid=%s over /dev/xen/xenbus (rc %d)", rc == 0 ? buf : "?", rc);

	/* 1. wait for the offer (a watch through the xenbus device) */
	rc = wait_key("offer", 120000, &events);
	result(rc == 0 && events >= 1, "xenbus-watch", "offer seen after %d watch event(s) (rc %d)", events, rc);
	if (rc)
		goto out;
	if ((rc = read_u32("backend-id", &backend)) || (rc = read_u32("npages", &npages)) || (rc = read_u32("seed", &seed)) ||
	    (rc = read_u32("rounds", &rounds)) || npages < 2 || npages > MAX_REFS || (rc = read_refs(npages, refs))) {
		result(0, "offer-parse", "rc %d npages %u", rc, npages);
		goto out;
	}

	/* 2. map through netfront's xen grant ops */
	nf_xen_grant_ops(&gops);
	bytes = (size_t)npages * NF_PAGE_BYTES;
	rc = gops.map(gops.ctx, backend, refs, npages, bytes - NF_PAGE_BYTES, 1, &dummy);
	result(rc == -EPROTO, "map-refuses-short-bytes", "bytes != n pages -> %d (expect %d)", rc, -EPROTO);
	rc = gops.map(gops.ctx, backend, refs, npages, bytes, 1, &addr);
	if (rc) {
		result(0, "map", "%u refs of domain %u: %d", npages, backend, rc);
		goto out;
	}
	mem = addr;
	for (off = NF_PAGE_BYTES, bad = 0; off < bytes; off++)
		if (mem[off] != pattern_byte(off, seed))
			bad++;
	result(load32(mem) == CTL_MAGIC && bad == 0, "map-pattern",
	       "%u pages (%zu bytes) of domain %u mapped contiguously, magic %#x, %u bad bytes", npages, bytes,
	       backend, load32(mem), bad);
	result(maps_mention("/dev/xen/gntdev") == 1 && fds_on("/dev/xen/gntdev") == 0, "map-no-descriptor",
	       "one gntdev mapping, %d gntdev descriptors open", fds_on("/dev/xen/gntdev"));
	/* reply: the last page, in the pattern of seed + 1 */
	for (off = bytes - NF_PAGE_BYTES; off < bytes; off++)
		mem[off] = pattern_byte(off, seed + 1);

	/* 3. two unbound ports through netfront's xen evtchn ops, published in one transaction */
	nf_xen_evtchns_init(&ev);
	nf_xen_evtchn_ops(&eops, &ev);
	if ((rc = eops.alloc(eops.ctx, backend, &ping)) || (rc = eops.alloc(eops.ctx, backend, &pong))) {
		result(0, "evtchn-alloc", "%d", rc);
		goto close;
	}
	result(ping != pong && nf_xen_port_fd(&ev, ping) >= 0 && nf_xen_port_fd(&ev, ping) != nf_xen_port_fd(&ev, pong),
	       "evtchn-alloc", "ports %u/%u, descriptors %d/%d", ping, pong, nf_xen_port_fd(&ev, ping),
	       nf_xen_port_fd(&ev, pong));
	for (i = 0; i < 5; i++) {
		char p1[16], p2[16];

		snprintf(p1, sizeof(p1), "%u", ping);
		snprintf(p2, sizeof(p2), "%u", pong);
		if ((rc = xs_transaction_start(&xs, &tx)))
			break;
		if ((rc = write_str(tx, "port-ping", p1)) || (rc = write_str(tx, "port-pong", p2)) ||
		    (rc = write_str(tx, "mapped", "ok"))) {
			xs_transaction_end(&xs, tx, 0);
			break;
		}
		rc = xs_transaction_end(&xs, tx, 1);
		if (rc != -XS_EAGAIN)
			break;
	}
	result(rc == 0, "xenbus-transaction", "ports and mapped=ok in one transaction (rc %d)", rc);
	if (rc)
		goto close;

	/* 4. ping-pong: wait for dom0's seq i on ping, answer i on pong */
	for (i = 1; i <= rounds; i++) {
		while (load32(mem + CTL_DOM0_SEQ) < i) {
			rc = eops.wait(eops.ctx, ping, WAIT_MS);
			if (rc <= 0)
				break;
			if (load32(mem + CTL_DOM0_SEQ) < i)
				spurious++;
		}
		if (load32(mem + CTL_DOM0_SEQ) < i)
			break;
		if (eops.wait(eops.ctx, pong, 0) > 0) /* dom0 never notifies pong */
			pong_wakes++;
		store32(mem + CTL_DOMU_SEQ, i);
		if ((rc = eops.notify(eops.ctx, pong)))
			break;
	}
	ok = i > rounds;
	result(ok, "pingpong-domU", "%u/%u rounds, %u spurious wake-ups (rc %d)", i - 1, rounds, spurious, rc);
	result(pong_wakes == 0, "evtchn-per-port-fd", "the pong descriptor woke %u times for ping notifications",
	       pong_wakes);
	snprintf(buf, sizeof(buf), "%s %u", ok ? "ok" : "fail", i - 1);
	write_str(XS_NO_TX, "pingpong", buf);

	/* 5. dom0 unshares while we still map: our mapping stays intact */
	rc = wait_key("release", WAIT_MS * 3, NULL);
	if (rc == 0) {
		for (off = NF_PAGE_BYTES, bad = 0; off < bytes - NF_PAGE_BYTES; off++)
			if (mem[off] != pattern_byte(off, seed))
				bad++;
		result(bad == 0 && load32(mem) == CTL_MAGIC, "still-mapped-after-release",
		       "dom0 released; our mapping reads %u bad bytes", bad);
	} else {
		result(0, "still-mapped-after-release", "no release from dom0 (rc %d)", rc);
	}
close:
	rc = ping ? eops.close(eops.ctx, ping) : 0;
	if (pong) {
		int crc = eops.close(eops.ctx, pong);

		rc = rc ? rc : crc;
	}
	nf_xen_evtchns_fini(&ev);
	{
		int urc = gops.unmap(gops.ctx, addr, bytes);

		rc = rc ? rc : urc;
	}
	ok = rc == 0 && maps_mention("/dev/xen/gntdev") == 0 && fds_on("/dev/xen/evtchn") == 0;
	result(ok, "domU-teardown", "unmapped and closed: %d gntdev mappings, %d evtchn descriptors left (rc %d)",
	       maps_mention("/dev/xen/gntdev"), fds_on("/dev/xen/evtchn"), rc);
	write_str(XS_NO_TX, "unmapped", ok ? "ok" : "fail");
out:
	printf("xen-peer: %d failure(s)\n", failures);
	xs_close(&xs);
	return failures;
}
