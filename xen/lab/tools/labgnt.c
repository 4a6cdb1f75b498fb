/* labgnt: the xenlab's grant-table and event-channel probe, from user space
 * through Xen's own libraries (libxengnttab/libxengntshr, libxenevtchn), in
 * the netfront/netback pattern: the guest offers, dom0 maps.
 *
 *   labgnt offer PEER [TIMEOUT_MS]           (frontend, e.g. a domU; PEER is usually 0)
 *       shares one page with domain PEER, allocates an unbound event channel
 *       for PEER, writes "ping" into the page, prints "REF PORT" on stdout,
 *       then waits for PEER's "pong" and event, writes "ack" and notifies back.
 *   labgnt accept DOMID REF PORT [TIMEOUT_MS] (backend, dom0)
 *       maps DOMID's grant REF, checks "ping", writes "pong", binds to
 *       DOMID:PORT, notifies, and waits for the "ack" (and its event).
 *   labgnt self DOMID [ROUNDS]                (both ends in one domain)
 *       shares a page with itself and maps it, binds a loopback channel and
 *       bounces ROUNDS notifications; prints the time per notification.
 *
 * Exit status: 0 ok, 1 a check or call failed (stderr says which), 2 usage.
 *
 * The shared page (struct lab_page) holds only strings; each side writes its
 * own field and then notifies. A notification is a hypercall, which orders
 * the writes before it; the explicit fences below say so for the reader.
 * Xen's EVTCHNOP_bind_interdomain marks the new local port pending, so the
 * backend sees one event before the peer sent any: every wait here loops
 * until the page shows what it waits for, counting events, never trusting
 * one event to mean one message.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <xenevtchn.h>
#include <xengnttab.h>

struct lab_page {
    char ping[64]; /* (fe) written before the offer is published */
    char pong[64]; /* (be) written before the backend's notify */
    char ack[64];  /* (fe) written after seeing pong, before the frontend's notify */
};

static const char *const PING = "ping-from-frontend";
static const char *const PONG = "pong-from-backend";
static const char *const ACK = "ack-from-frontend";

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Waits until field (NUL-terminated within 64 bytes) equals want, consuming
 * events on xe. Returns 0, or -ETIMEDOUT, or -errno of poll. *events counts
 * the events seen (spurious ones included). */
static int wait_field(xenevtchn_handle *xe, volatile char *field, const char *want, int timeout_ms,
                      int *events)
{
    double deadline = now_ms() + timeout_ms;
    for (;;) {
        /* pairs with the release fence before the peer's notify */
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        char copy[64];
        memcpy(copy, (const char *)field, sizeof copy);
        copy[sizeof copy - 1] = '\0';
        if (strcmp(copy, want) == 0)
            return 0;
        int left = (int)(deadline - now_ms());
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = xenevtchn_fd(xe), .events = POLLIN};
        int r = poll(&p, 1, left);
        if (r < 0 && errno != EINTR)
            return -errno;
        if (r > 0) {
            xenevtchn_port_or_error_t got = xenevtchn_pending(xe);
            if (got >= 0) {
                xenevtchn_unmask(xe, got);
                (*events)++;
            }
        }
    }
}

static void put_field(volatile char *field, const char *s)
{
    memcpy((char *)field, s, strlen(s) + 1);
    /* pairs with the acquire fence in the peer's wait_field() */
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static int offer(uint32_t peer, int timeout_ms)
{
    xengntshr_handle *gs = xengntshr_open(NULL, 0);
    xenevtchn_handle *xe = xenevtchn_open(NULL, 0);
    if (!gs || !xe) {
        fprintf(stderr, "labgnt offer: open gntshr/evtchn: %s\n", strerror(errno));
        return 1;
    }
    uint32_t ref;
    struct lab_page *pg = xengntshr_share_pages(gs, peer, 1, &ref, 1 /* writable */);
    if (!pg) {
        fprintf(stderr, "labgnt offer: share_pages to dom%u: %s\n", peer, strerror(errno));
        return 1;
    }
    memset(pg, 0, 4096);
    put_field(pg->ping, PING);
    xenevtchn_port_or_error_t port = xenevtchn_bind_unbound_port(xe, peer);
    if (port < 0) {
        fprintf(stderr, "labgnt offer: bind_unbound_port for dom%u: %s\n", peer, strerror(errno));
        return 1;
    }
    printf("%u %d\n", ref, port);
    fflush(stdout);
    int events = 0;
    int r = wait_field(xe, pg->pong, PONG, timeout_ms, &events);
    if (r < 0) {
        fprintf(stderr, "labgnt offer: no pong from dom%u (%s, %d events)\n", peer, strerror(-r), events);
        return 1;
    }
    put_field(pg->ack, ACK);
    if (xenevtchn_notify(xe, port) < 0) {
        fprintf(stderr, "labgnt offer: notify port %d: %s\n", port, strerror(errno));
        return 1;
    }
    fprintf(stderr, "labgnt offer: ok: dom%u mapped ref %u, wrote pong, notified port %d (%d events); acked\n",
            peer, ref, port, events);
    /* the backend unmaps after it saw the ack; keep the grant until then */
    struct pollfd p = {.fd = -1};
    poll(&p, 0, 500);
    xengntshr_unshare(gs, pg, 1);
    xenevtchn_unbind(xe, port);
    return 0;
}

static int accept_(uint32_t dom, uint32_t ref, uint32_t port, int timeout_ms)
{
    xengnttab_handle *gt = xengnttab_open(NULL, 0);
    xenevtchn_handle *xe = xenevtchn_open(NULL, 0);
    if (!gt || !xe) {
        fprintf(stderr, "labgnt accept: open gnttab/evtchn: %s\n", strerror(errno));
        return 1;
    }
    struct lab_page *pg = xengnttab_map_grant_ref(gt, dom, ref, PROT_READ | PROT_WRITE);
    if (!pg) {
        fprintf(stderr, "labgnt accept: map dom%u ref %u: %s\n", dom, ref, strerror(errno));
        return 1;
    }
    char ping[64];
    memcpy(ping, pg->ping, sizeof ping);
    ping[sizeof ping - 1] = '\0';
    if (strcmp(ping, PING) != 0) {
        fprintf(stderr, "labgnt accept: page of dom%u ref %u says '%s', not '%s'\n", dom, ref, ping, PING);
        return 1;
    }
    put_field(pg->pong, PONG);
    xenevtchn_port_or_error_t lp = xenevtchn_bind_interdomain(xe, dom, port);
    if (lp < 0) {
        fprintf(stderr, "labgnt accept: bind_interdomain dom%u:%u: %s\n", dom, port, strerror(errno));
        return 1;
    }
    if (xenevtchn_notify(xe, lp) < 0) {
        fprintf(stderr, "labgnt accept: notify local port %d: %s\n", lp, strerror(errno));
        return 1;
    }
    int events = 0;
    int r = wait_field(xe, pg->ack, ACK, timeout_ms, &events);
    if (r < 0) {
        fprintf(stderr, "labgnt accept: no ack from dom%u (%s, %d events)\n", dom, strerror(-r), events);
        return 1;
    }
    printf("labgnt accept: ok: mapped dom%u ref %u ('%s'), wrote pong, local port %d <-> dom%u:%u, "
           "ack after %d event(s)\n", dom, ref, ping, lp, dom, port, events);
    xengnttab_unmap(gt, pg, 1);
    xenevtchn_unbind(xe, lp);
    return 0;
}

static int self(uint32_t me, int rounds)
{
    xengntshr_handle *gs = xengntshr_open(NULL, 0);
    xengnttab_handle *gt = xengnttab_open(NULL, 0);
    xenevtchn_handle *xe = xenevtchn_open(NULL, 0);
    if (!gs || !gt || !xe) {
        fprintf(stderr, "labgnt self: open: %s\n", strerror(errno));
        return 1;
    }
    uint32_t ref;
    char *a = xengntshr_share_pages(gs, me, 1, &ref, 1);
    char *b = a ? xengnttab_map_grant_ref(gt, me, ref, PROT_READ | PROT_WRITE) : NULL;
    if (!b) {
        fprintf(stderr, "labgnt self: share/map ref to dom%u: %s\n", me, strerror(errno));
        return 1;
    }
    strcpy(a, "share->map");
    strcpy(b + 2048, "map->share");
    int gnt_ok = strcmp(b, "share->map") == 0 && strcmp(a + 2048, "map->share") == 0;
    xenevtchn_port_or_error_t pa = xenevtchn_bind_unbound_port(xe, me);
    xenevtchn_port_or_error_t pb = pa < 0 ? -1 : xenevtchn_bind_interdomain(xe, me, pa);
    if (pb < 0) {
        fprintf(stderr, "labgnt self: loopback channel: %s\n", strerror(errno));
        return 1;
    }
    /* drain the event bind_interdomain marks pending on pb */
    struct pollfd p = {.fd = xenevtchn_fd(xe), .events = POLLIN};
    while (poll(&p, 1, 50) == 1) {
        xenevtchn_port_or_error_t got = xenevtchn_pending(xe);
        if (got < 0)
            break;
        xenevtchn_unmask(xe, got);
    }
    int bounced = 0;
    double t0 = now_ms();
    for (int i = 0; i < rounds; i++) {
        if (xenevtchn_notify(xe, i % 2 ? pb : pa) < 0)
            break;
        if (poll(&p, 1, 1000) != 1)
            break;
        xenevtchn_port_or_error_t got = xenevtchn_pending(xe);
        xenevtchn_unmask(xe, got);
        if (got == (i % 2 ? pa : pb))
            bounced++;
    }
    double us = rounds ? (now_ms() - t0) * 1e3 / rounds : 0;
    printf("labgnt self: grant ref %u %s; channel %d<->%d bounced %d/%d (%.0f us/notify)\n", ref,
           gnt_ok ? "ok" : "MISMATCH", pa, pb, bounced, rounds, us);
    xengnttab_unmap(gt, b, 1);
    xengntshr_unshare(gs, a, 1);
    return gnt_ok && bounced == rounds ? 0 : 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: labgnt offer PEER [TIMEOUT_MS]\n"
                    "       labgnt accept DOMID REF PORT [TIMEOUT_MS]\n"
                    "       labgnt self DOMID [ROUNDS]\n");
    return 2;
}

static int num(const char *s, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *s == '\0' || *end != '\0' || v < 0 || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    long a = 0, b = 0, c = 0, t = 30000;
    if (argc >= 3 && argc <= 4 && strcmp(argv[1], "offer") == 0) {
        if (num(argv[2], 0x7fef, &a) || (argc == 4 && num(argv[3], 3600000, &t)))
            return usage();
        return offer((uint32_t)a, (int)t);
    }
    if (argc >= 5 && argc <= 6 && strcmp(argv[1], "accept") == 0) {
        if (num(argv[2], 0x7fef, &a) || num(argv[3], UINT32_MAX, &b) || num(argv[4], UINT32_MAX, &c) ||
            (argc == 6 && num(argv[5], 3600000, &t)))
            return usage();
        return accept_((uint32_t)a, (uint32_t)b, (uint32_t)c, (int)t);
    }
    if (argc >= 3 && argc <= 4 && strcmp(argv[1], "self") == 0) {
        b = 1000;
        if (num(argv[2], 0x7fef, &a) || (argc == 4 && num(argv[3], 1000000, &b)))
            return usage();
        return self((uint32_t)a, (int)b);
    }
    return usage();
}
