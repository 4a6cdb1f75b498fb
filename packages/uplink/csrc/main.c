// SPDX-License-Identifier: MIT
//
// vpio-uplink - a switch port's far end on a real wire.
//
//   vpio-uplink --wire packet|vxlan|memif [--devid N] [--mode event|poll] [--timeout-ms MS]
//               [--burst N] [--stats-interval MS] [--wire-fd N] [the wire's options]
//
// Runs as a vpio tenant (vpio-launch: the control socket at $VPIO_CTRL_FD)
// started with a wire socket vpio-launch made in the host's network
// namespace: $VPIO_WIRE_FD (the descriptor), $VPIO_WIRE_KIND (packet: an
// AF_PACKET socket bound to an interface; udp: a UDP socket bound to
// ADDR:PORT; memif: a Unix SOCK_SEQPACKET socket listening at a path),
// $VPIO_WIRE_NAME (the interface, ADDR:PORT or path; messages only).
// --wire-fd N takes descriptor N instead of $VPIO_WIRE_FD (and ignores
// $VPIO_WIRE_KIND). The descriptor must be what --wire says (checked with
// SO_DOMAIN/SO_TYPE before anything else happens).
//
// It opens the host session (HELLO, xenstore, brokers: vpio/netfront_broker.h,
// as linux-netfront's host mode), connects vif N (one queue, no offloads:
// every frame one slot), sets the wire up for the vif's buffer size and
// moves frames both ways (pump.c) until SIGTERM/SIGINT, then prints its
// counters, disconnects cleanly and exits 0.
//
// Output: one JSON line on stdout per stats event --
//   {"event":"stats","why":"sigusr1|interval|exit","wire":{"kind":"vxlan","name":..,"rx_frames":N,...,
//    <the backend's counters>},"vif":{"devid":N,"rx_packets":N,...}}
// at SIGUSR1, every --stats-interval MS and at exit. Lifecycle lines go to
// stderr ("vpio-uplink: ...").
//
// Exit status: 0 stopped by a signal; 64 usage (one line on stderr); 69 no
// wire descriptor, or not the kind --wire says; 75 session, handshake or
// wire setup failed; 70 the data path failed (the backend or the wire went
// away).

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "upl.h"
#include "vpio/netfront_broker.h"
#include "vpio/netfront_zc.h"

#define EX_USAGE 64
#define EX_NOWIRE 69
#define EX_DATAPATH 70
#define EX_CONNECT 75

static struct nf_session session;
static struct nf_dev nf;
static struct upl u;
static const struct wire_backend *backend;
static const char *wire_name;
static uint32_t devid;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vpio-uplink: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vpio-uplink --wire %s [--devid N] [--mode event|poll] [--timeout-ms MS] [--burst N]\n"
		"                   [--stats-interval MS] [--wire-fd N] [the wire's options]\n"
		"A vpio tenant: moves frames between vif N and the wire socket vpio-launch passed ($VPIO_WIRE_FD,\n"
		"$VPIO_WIRE_KIND packet|udp|memif, $VPIO_WIRE_NAME). Counters as one JSON line on stdout at SIGUSR1,\n"
		"every --stats-interval MS and at exit.\n"
		"  --wire KIND            packet: an AF_PACKET socket bound to an interface (TPACKET_V3 rings);\n"
		"                         vxlan: a bound UDP socket, VXLAN (RFC 7348), the vif a VLAN trunk;\n"
		"                         memif: a memif server on a listening Unix SOCK_SEQPACKET socket\n"
		"  --devid N              the vif (0)\n"
		"  --mode event|poll      sleep on event channels (event), or busy-poll (poll)\n"
		"  --timeout-ms MS        each handshake wait (10000)\n"
		"  --burst N              frames per burst, 1..%u (32)\n"
		"  --stats-interval MS    a stats line every MS ms (0: none)\n"
		"  --wire-fd N            the wire is descriptor N (instead of $VPIO_WIRE_FD)\n",
		wire_backend_kinds(), WIRE_BURST_MAX);
	for (const struct wire_backend *const *b = wire_backends; *b; b++)
		fputs((*b)->usage, f);
	fprintf(f, "Exit: 0 stopped by SIGTERM/SIGINT; 64 usage; 69 no wire descriptor or the wrong kind; 75 session,\n"
		   "handshake or wire setup failed; 70 the data path failed.\n");
}

static long num(const char *opt, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		say("usage: %s expects an integer in [%ld, %ld], got \"%s\"", opt, min, max, s);
		exit(EX_USAGE);
	}
	return v;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void print_stats(const char *why)
{
	const struct wire_stats *ws = &u.w->st;
	const struct upl_counters *c = &u.c;
	const struct nf_stats *ns = nf_stats(&nf);
	struct wire_counter bc[WIRE_COUNTERS_MAX];
	uint32_t n = u.w->ops->counters(u.w, bc, WIRE_COUNTERS_MAX);

	printf("{\"event\":\"stats\",\"why\":\"%s\",\"wire\":{\"kind\":\"%s\",\"name\":", why, backend->kind);
	json_str(wire_name ? wire_name : "");
	printf(",\"rx_frames\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"rx_bursts\":%" PRIu64 ",\"rx_drops\":%" PRIu64
	       ",\"tx_frames\":%" PRIu64 ",\"tx_bytes\":%" PRIu64 ",\"tx_flushes\":%" PRIu64 ",\"tx_drops\":%" PRIu64
	       ",\"tx_ring_full\":%" PRIu64 ",\"errors\":%" PRIu64,
	       ws->rx_frames, ws->rx_bytes, ws->rx_bursts, ws->rx_drops, ws->tx_frames, ws->tx_bytes, ws->tx_flushes,
	       ws->tx_drops, ws->tx_ring_full, c->wire_errors);
	for (uint32_t i = 0; i < n; i++)
		printf(",\"%s\":%" PRIu64, bc[i].name, bc[i].value);
	printf("},\"vif\":{\"devid\":%u,\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"rx_batches\":%" PRIu64
	       ",\"rx_drop_bad\":%" PRIu64 ",\"rx_drop_size\":%" PRIu64 ",\"rx_wire_full\":%" PRIu64
	       ",\"tx_packets\":%" PRIu64 ",\"tx_bytes\":%" PRIu64 ",\"tx_batches\":%" PRIu64 ",\"tx_drop_size\":%" PRIu64
	       ",\"tx_ring_full\":%" PRIu64 ",\"tx_kicks\":%" PRIu64 ",\"rx_kicks\":%" PRIu64 ",\"tx_sleeps\":%" PRIu64
	       ",\"rx_sleeps\":%" PRIu64 "}}\n",
	       devid, c->vif_rx_packets, c->vif_rx_bytes, c->vif_rx_batches, c->vif_rx_drop_bad, c->vif_rx_drop_size,
	       c->wire_tx_full, c->vif_tx_packets, c->vif_tx_bytes, c->vif_tx_batches, c->vif_tx_drop_size,
	       c->vif_tx_full, ns->tx_kicks, ns->rx_kicks, ns->tx_sleeps, ns->rx_sleeps);
	fflush(stdout);
}

static void on_signals(struct upl *x)
{
	struct signalfd_siginfo si;

	while (read(x->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGUSR1)
			print_stats("sigusr1");
		else if (si.ssi_signo != SIGHUP)
			x->stop = 1; /* SIGTERM, SIGINT */
	}
}

static void on_timer(struct upl *x)
{
	uint64_t ticks;

	if (read(x->timer_fd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks))
		print_stats("interval");
}

/* The wire's descriptor: --wire-fd, else $VPIO_WIRE_FD (whose $VPIO_WIRE_KIND must match --wire). */
static int wire_fd(long opt_fd)
{
	const char *env = getenv("VPIO_WIRE_FD"), *kind = getenv("VPIO_WIRE_KIND");
	char *end;
	long fd;

	if (opt_fd >= 0)
		return (int)opt_fd;
	if (!env) {
		say("no wire: $VPIO_WIRE_FD is not set (start me with vpio uplink / vpio vxlan, or vpio-launch"
		    " --wire-packet IFNAME / --wire-udp ADDR:PORT / --wire-memif PATH; or give --wire-fd N)");
		exit(EX_NOWIRE);
	}
	errno = 0;
	fd = strtol(env, &end, 10);
	if (errno || end == env || *end || fd < 0 || fd > (1 << 20)) {
		say("no wire: $VPIO_WIRE_FD is \"%s\", not a descriptor number", env);
		exit(EX_NOWIRE);
	}
	if (kind && strcmp(kind, backend->launch_kind)) {
		say("--wire %s needs a %s wire, but vpio-launch passed a %s one ($VPIO_WIRE_KIND=%s)", backend->kind,
		    backend->launch_kind, kind, kind);
		exit(EX_NOWIRE);
	}
	return (int)fd;
}

int main(int argc, char **argv)
{
	struct wire_opts wo = { .fd = -1, .name = NULL, .frame_max = 0, .priv = NULL };
	char err[WIRE_ERR_LEN];
	enum nf_mode mode = NF_MODE_EVENT;
	int timeout_ms = 10000, rc, status = 0;
	long opt_fd = -1, stats_ms = 0;
	uint32_t burst = 32;
	struct nf_config cfg;
	sigset_t mask;
	const char *kind = NULL;

	/* first pass: --help and --wire (the backend decides which options exist) */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--wire") && i + 1 < argc)
			kind = argv[++i];
	}
	if (!kind) {
		say("usage: --wire %s is required (--help lists the options)", wire_backend_kinds());
		return EX_USAGE;
	}
	if (!(backend = wire_backend_find(kind))) {
		say("usage: --wire expects %s, got \"%s\"", wire_backend_kinds(), kind);
		return EX_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int used;

		if (!strcmp(a, "--wire")) {
			i++;
			continue;
		}
		if (!strcmp(a, "--devid") || !strcmp(a, "--mode") || !strcmp(a, "--timeout-ms") || !strcmp(a, "--burst") ||
		    !strcmp(a, "--stats-interval") || !strcmp(a, "--wire-fd")) {
			if (!v) {
				say("usage: %s expects a value", a);
				return EX_USAGE;
			}
			i++;
			if (!strcmp(a, "--devid"))
				devid = (uint32_t)num(a, v, 0, 65535);
			else if (!strcmp(a, "--timeout-ms"))
				timeout_ms = (int)num(a, v, 1, 600000);
			else if (!strcmp(a, "--burst"))
				burst = (uint32_t)num(a, v, 1, WIRE_BURST_MAX);
			else if (!strcmp(a, "--stats-interval"))
				stats_ms = num(a, v, 0, 3600000);
			else if (!strcmp(a, "--wire-fd"))
				opt_fd = num(a, v, 0, 1 << 20);
			else if (!strcmp(v, "event") || !strcmp(v, "poll"))
				mode = strcmp(v, "poll") ? NF_MODE_EVENT : NF_MODE_POLL;
			else {
				say("usage: --mode expects event or poll, got \"%s\"", v);
				return EX_USAGE;
			}
			continue;
		}
		used = backend->option(&wo, a, v, err);
		if (used < 0) {
			say("usage: %s", err);
			backend->free_opts(&wo);
			return EX_USAGE;
		}
		if (used == 0) {
			say("usage: unknown option \"%s\" for --wire %s (--help lists the options)", a, backend->kind);
			backend->free_opts(&wo);
			return EX_USAGE;
		}
		i += used - 1;
	}
	/* the wire's name before check_opts: a backend may need it there (xdp: the interface) */
	wire_name = opt_fd >= 0 ? NULL : getenv("VPIO_WIRE_NAME");
	wo.name = wire_name;
	if (backend->check_opts(&wo, err) < 0) {
		say("usage: %s", err);
		backend->free_opts(&wo);
		return EX_USAGE;
	}

	/* the wire's descriptor, checked before anything else is set up */
	wo.fd = wire_fd(opt_fd);
	{
		const char *ctrl = getenv("VPIO_CTRL_FD");

		if (wo.fd == (ctrl && *ctrl ? atoi(ctrl) : VPIO_CTRL_FD_DEFAULT)) {
			say("the wire descriptor %d is the control socket's ($VPIO_CTRL_FD, default %d)", wo.fd,
			    VPIO_CTRL_FD_DEFAULT);
			backend->free_opts(&wo);
			return EX_NOWIRE;
		}
	}
	if (backend->check_fd(wo.fd, err) < 0) {
		say("%s", err);
		backend->free_opts(&wo);
		return EX_NOWIRE;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	u.sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	u.timer_fd = -1;
	if (u.sig_fd < 0) {
		say("signalfd: %s", strerror(errno));
		backend->free_opts(&wo);
		return EX_CONNECT;
	}
	if (stats_ms > 0) {
		struct itimerspec its = { .it_interval = { stats_ms / 1000, (stats_ms % 1000) * 1000000 },
					  .it_value = { stats_ms / 1000, (stats_ms % 1000) * 1000000 } };

		u.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (u.timer_fd < 0 || timerfd_settime(u.timer_fd, 0, &its, NULL) < 0) {
			say("timerfd: %s", strerror(errno));
			backend->free_opts(&wo);
			return EX_CONNECT;
		}
	}

	/* the vif: the host session and the handshake, as linux-netfront's host mode */
	if ((rc = nf_session_open(&session)) < 0) {
		say("session (HELLO, xenstore): %s (am I started by vpio-launch? $VPIO_CTRL_FD)", strerror(-rc));
		backend->free_opts(&wo);
		return EX_CONNECT;
	}
	nf_session_config(&session, &cfg, devid, mode, timeout_ms);
	if ((rc = nf_connect(&nf, &cfg)) < 0) {
		say("vif %u: connect: %s", devid, strerror(-rc));
		nf_session_close(&session);
		backend->free_opts(&wo);
		return EX_CONNECT;
	}
	u.nf = &nf;
	u.buf_size = nf_buf_size(&nf);
	u.burst = burst;
	u.on_signals = on_signals;
	u.on_timer = on_timer;
	u.rx_fd = nf_broker_port_fd(&session.b, nf_zc_rx_port(&nf));
	u.tx_fd = nf_broker_port_fd(&session.b, nf_zc_tx_port(&nf));
	if (mode == NF_MODE_EVENT && (u.rx_fd < 0 || u.tx_fd < 0)) {
		say("vif %u: no descriptor for its event channels", devid);
		status = EX_CONNECT;
		goto out_vif;
	}

	/* the wire, for frames as long as the vif's buffers */
	wo.frame_max = u.buf_size;
	rc = backend->open(&wo, &u.w, err);
	backend->free_opts(&wo);
	if (rc < 0) {
		say("%s", err);
		status = EX_CONNECT;
		goto out_vif;
	}
	{
		const uint8_t *m = nf_mac(&nf);
		say("vif %u connected: mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u, %u/%u slots of %u bytes, %s mode; wire %s%s%s",
		    devid, m[0], m[1], m[2], m[3], m[4], m[5], nf_mtu(&nf), nf_tx_slots(&nf), nf_rx_slots(&nf), u.buf_size,
		    mode == NF_MODE_POLL ? "poll" : "event", backend->kind, wire_name ? " " : "", wire_name ? wire_name : "");
	}

	rc = upl_loop(&u);
	if (rc < 0) {
		say("data path failed: %s", strerror(-rc));
		status = EX_DATAPATH;
	}
	print_stats("exit");
	u.w->ops->close(u.w);
out_vif:
	if ((rc = nf_disconnect(&nf)) < 0)
		say("disconnect: %s", strerror(-rc));
	nf_session_close(&session);
	say("exit %d", status);
	return status;
}
