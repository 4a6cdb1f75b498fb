// SPDX-License-Identifier: MIT
//
// vpio-linux-netfront - the Linux guest's network frontend.
//
//   vpio-linux-netfront [--devid N] [--mode event|poll] [--timeout-ms MS] [--offload on|off]
//                       [--queues N] -- COMMAND [ARGS...]                            (host mode)
//   vpio-linux-netfront --xen [--ifname NAME] [--ip A/P] [--ip6 A/P] [--wait-ms MS]
//                       [same options] [-- COMMAND [ARGS...]]                        (xen mode)
//
// Host mode: runs as a domain's guest started with a TAP device (vpio-launch
// --tap: fd $VPIO_TAP_FD, name $VPIO_TAP_NAME, already configured in the
// domain's own network namespace; with --tap-queues, $VPIO_TAP_QUEUES
// descriptors from $VPIO_TAP_FD on, one per queue of an IFF_MULTI_QUEUE
// device). It opens the host session (HELLO, xenstore, brokers:
// vpio/netfront_broker.h), connects vif N asking for as many queues as the
// TAP has (or --queues N of them), then starts COMMAND in the same sandbox
// and namespace and bridges TAP <-> vif, one thread per queue in use (TAP
// queue q <-> ring pair q; TAP queues beyond what the vif gave are closed,
// which detaches them), until COMMAND exits (its status becomes ours) or a
// SIGTERM/SIGINT arrives (forwarded to COMMAND). Then it disconnects
// cleanly (frontend Closing -> Closed) and prints its counters. SIGUSR1
// prints the counters at any time. SIGHUP is forwarded.
//
// Xen mode (--xen, or by default when /dev/xen/xenbus exists and no
// $VPIO_CTRL_FD was inherited: a Linux PV domU): the same program over
// another platform table (xen.c): xenstore through /dev/xen/xenbus, grants
// through gntdev, event channels through evtchn, and a TAP device it makes
// itself (--ifname, default eth0; --queues N queues), given the vif's MAC
// and MTU and the --ip/--ip6 addresses once Connected. COMMAND is optional
// there: without one it bridges until SIGTERM/SIGINT (exit 0). A Xen event
// channel does not report a backend that closed its end, so xen mode also
// watches the backend: when its state leaves Connected (Closing or Closed,
// as a toolstack detaching the vif or vpiod writes it, or its directory is
// removed) the netfront says so, stops and exits as for a failed data path.
//
// main.c never knows which: the platform (struct lnf_platform, lnf.h) gives
// the TAP's descriptors, the xenstore handle and ops, each channel's
// descriptor, and the TAP's configuration; the pump (pump.c) is the same.
//
// Output: counters as one JSON line on stdout (the domain's console), the
// vif's (every queue's summed) and then each queue's:
//   {"event":"linux-netfront","tap_rx":N,...,"tx_kicks":N,...,"queues":Q,"per_queue":[{"tap_rx":N,...},...]}
// Lifecycle lines go to stderr ("vpio-linux-netfront: ...").
//
// Exit status: COMMAND's (128+n when killed by signal n; xen mode without
// COMMAND: 0 when stopped by a signal); 64 usage; 69 no TAP descriptor
// (xen mode: no TAP device could be made, not a Xen guest, a module
// missing); 75 session/handshake failed (xen mode: also the vif never
// appeared); 70 the backend went away (a data path failed, or in xen mode
// the backend left Connected) before COMMAND ended, or without COMMAND
// (COMMAND then gets SIGTERM, and its status is not passed on).

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <inttypes.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lnf.h"
#include "vpio/netfront_zc.h"

#define EX_USAGE 64
#define EX_NOTAP 69
#define EX_DATAPATH 70
#define EX_CONNECT 75

static const struct lnf_platform *plat = &lnf_host_platform;
static struct nf_dev nf[LNF_MAX_QUEUES]; /* the vif's queues: nf[0] is the vif */
static struct lnf lq[LNF_MAX_QUEUES];    /* one per queue in use */
static struct lnf_shared shared = { .stop = 0, .stop_fd = -1 };
static uint32_t nq = 1;                  /* queues in use */
static pid_t child = -1;
static int child_status = -1; /* exit status to pass on, once reaped */
static int backend_gone;      /* queue 0's on_backend saw the backend leave Connected */

void lnf_say(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "vpio-linux-netfront: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vpio-linux-netfront [--devid N] [--mode event|poll] [--timeout-ms MS] [--offload on|off] [--queues N]\n"
		   "                           -- COMMAND [ARGS...]\n"
		   "       vpio-linux-netfront --xen [--ifname NAME] [--ip A/P] [--ip6 A/P] [--wait-ms MS] [the options above]\n"
		   "                           [-- COMMAND [ARGS...]]\n"
		   "Bridges the TAP device vpio-launch --tap made ($VPIO_TAP_FD, $VPIO_TAP_QUEUES queues) to vif N and runs COMMAND.\n"
		   "--queues N uses N of the TAP's queues (default all): one thread per queue, each with its own ring pair.\n"
		   "--xen (default when /dev/xen/xenbus exists and $VPIO_CTRL_FD is unset; --host forces host mode): a Linux\n"
		   "Xen PV guest: xenstore over /dev/xen/xenbus, gntdev + evtchn, a TAP device NAME (eth0) of its own with N\n"
		   "queues (1) given the vif's MAC and MTU and the addresses; waits up to --wait-ms (120000) for the vif;\n"
		   "COMMAND optional (without it: until SIGTERM).\n");
}

static long num(const char *opt, const char *s, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		lnf_say("usage: %s expects an integer in [%ld, %ld], got \"%s\"", opt, min, max, s);
		exit(EX_USAGE);
	}
	return v;
}

/* One set of counters as JSON members (no braces): a queue's, or the sum. */
static void print_set(const struct lnf_counters *c, const struct nf_stats *s)
{
	printf("\"tap_rx\":%" PRIu64 ",\"tap_rx_bytes\":%" PRIu64 ",\"tx_packets\":%" PRIu64 ",\"tx_batches\":%" PRIu64
	       ",\"tx_ring_full\":%" PRIu64 ",\"tx_drop_size\":%" PRIu64 ",\"rx_packets\":%" PRIu64 ",\"rx_batches\":%" PRIu64
	       ",\"tap_tx\":%" PRIu64 ",\"tap_tx_bytes\":%" PRIu64 ",\"tap_tx_errors\":%" PRIu64 ",\"tx_kicks\":%" PRIu64
	       ",\"rx_kicks\":%" PRIu64 ",\"tx_sleeps\":%" PRIu64 ",\"rx_sleeps\":%" PRIu64 ",\"tx_gso\":%" PRIu64
	       ",\"tx_csum\":%" PRIu64 ",\"tx_drop_hdr\":%" PRIu64 ",\"rx_gso\":%" PRIu64 ",\"rx_drop_bad\":%" PRIu64,
	       c->tap_rx, c->tap_rx_bytes, c->tx_packets, c->tx_batches, c->tx_ring_full, c->tx_drop_size, c->rx_packets,
	       c->rx_batches, c->tap_tx, c->tap_tx_bytes, c->tap_tx_errors, s->tx_kicks, s->rx_kicks, s->tx_sleeps,
	       s->rx_sleeps, c->tx_gso, c->tx_csum, c->tx_drop_hdr, c->rx_gso, c->rx_drop_bad);
}

/* A queue's counters now (each word read once, relaxed: its thread may be adding). */
static void snapshot(uint32_t q, struct lnf_counters *c, struct nf_stats *s)
{
	const uint64_t *from = (const uint64_t *)&lq[q].c;
	uint64_t *to = (uint64_t *)c;
	const struct nf_stats *ns = nf_stats(&nf[q]);

	for (size_t i = 0; i < sizeof(*c) / sizeof(uint64_t); i++)
		to[i] = lnf_get(&from[i]);
	s->tx_packets = lnf_get(&ns->tx_packets);
	s->rx_packets = lnf_get(&ns->rx_packets);
	s->tx_kicks = lnf_get(&ns->tx_kicks);
	s->rx_kicks = lnf_get(&ns->rx_kicks);
	s->tx_sleeps = lnf_get(&ns->tx_sleeps);
	s->rx_sleeps = lnf_get(&ns->rx_sleeps);
}

static void print_counters(const char *why)
{
	struct lnf_counters per[LNF_MAX_QUEUES], sum;
	struct nf_stats st[LNF_MAX_QUEUES], ssum;

	memset(&sum, 0, sizeof(sum));
	memset(&ssum, 0, sizeof(ssum));
	for (uint32_t q = 0; q < nq; q++) {
		snapshot(q, &per[q], &st[q]);
		for (size_t i = 0; i < sizeof(sum) / sizeof(uint64_t); i++)
			((uint64_t *)&sum)[i] += ((const uint64_t *)&per[q])[i];
		ssum.tx_kicks += st[q].tx_kicks, ssum.rx_kicks += st[q].rx_kicks;
		ssum.tx_sleeps += st[q].tx_sleeps, ssum.rx_sleeps += st[q].rx_sleeps;
	}
	printf("{\"event\":\"linux-netfront\",\"why\":\"%s\",", why);
	print_set(&sum, &ssum);
	printf(",\"offload\":%d,\"queues\":%u,\"per_queue\":[", lq[0].offload, nq);
	for (uint32_t q = 0; q < nq; q++) {
		printf("%s{", q ? "," : "");
		print_set(&per[q], &st[q]);
		printf("}");
	}
	printf("]}\n");
	fflush(stdout);
}

static void reap(void)
{
	int status;
	pid_t p;

	while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
		if (p != child)
			continue;
		child_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		child = -1;
		lnf_set_stop(&shared);
	}
}

static void on_signals(struct lnf *x)
{
	struct signalfd_siginfo si;

	while (read(x->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD: reap(); break;
		case SIGUSR1: print_counters("sigusr1"); break;
		case SIGHUP:
			if (child > 0)
				kill(child, SIGHUP);
			break;
		default: /* SIGTERM, SIGINT: stop, and stop COMMAND too */
			if (child > 0)
				kill(child, (int)si.ssi_signo);
			lnf_set_stop(x->sh);
			break;
		}
	}
}

/* A xenbus state's name (vpio/vif_proto.h numbering). */
static const char *state_name(uint32_t st)
{
	static const char *const names[] = { "Unknown", "Initialising", "InitWait", "Initialised", "Connected",
					     "Closing", "Closed", "Reconfiguring", "Reconfigured" };

	return st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

/*
 * Queue 0's loop: the backend watch's descriptor was readable (and once
 * before the loops start). Still Connected: nothing. Gone: say so, stop
 * every queue; main() then disconnects and exits EX_DATAPATH. A xenstore
 * connection that failed cannot tell any more: say so, stop watching, keep
 * bridging (the data path itself is fine).
 */
static void on_backend(struct lnf *x)
{
	const char *be = nf_backend_path(nf);
	uint32_t st = 0;
	int rc = nf_backend_check(nf, &st);

	if (rc == 1)
		return;
	if (rc < 0) {
		lnf_say("%s mode: xenstore: %s: no longer watching backend %s", plat->name, strerror(-rc), be);
		x->be_fd = -1;
		return;
	}
	if (st == NF_BACKEND_GONE)
		lnf_say("%s mode: backend %s is gone (its state node or directory was removed): disconnecting", plat->name, be);
	else if (st == NF_BACKEND_GARBLED)
		lnf_say("%s mode: backend %s wrote a state that does not parse: disconnecting", plat->name, be);
	else
		lnf_say("%s mode: backend %s went %s (state %u): disconnecting", plat->name, be, state_name(st), st);
	backend_gone = 1;
	lnf_set_stop(x->sh);
}

/* COMMAND in the same sandbox: no descriptor but 0, 1, 2; the default signal mask. */
static pid_t start_command(char **argv, const sigset_t *old_mask)
{
	pid_t p = fork();
	if (p != 0)
		return p;
	sigprocmask(SIG_SETMASK, old_mask, NULL);
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3u, ~0u, 0) < 0)
#endif
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
	unsetenv("VPIO_CTRL_FD");
	unsetenv("VPIO_TAP_FD");
	execvp(argv[0], argv);
	fprintf(stderr, "vpio-linux-netfront: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Waits up to ms for COMMAND to end, then kills it. */
static void finish_command(int ms)
{
	for (int waited = 0; child > 0 && waited < ms; waited += 10) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		reap();
		if (child > 0)
			nanosleep(&ts, NULL);
	}
	if (child > 0) {
		kill(child, SIGKILL);
		int status;
		if (waitpid(child, &status, 0) == child)
			child_status = 128 + SIGKILL;
		child = -1;
	}
}

/* Queue q's thread (q > 0): its loop, then the others stop too. */
static void *queue_thread(void *arg)
{
	struct lnf *x = arg;

	x->result = lnf_loop(x);
	lnf_set_stop(x->sh);
	return NULL;
}

int main(int argc, char **argv)
{
	struct lnf_opts o = { .devid = 0, .want_queues = 0, .mode = NF_MODE_EVENT, .timeout_ms = -1, .wait_ms = 120000,
			      .ifname = "eth0", .ip = NULL, .ip6 = NULL };
	uint32_t tap_queues = 1, q;
	int i, rc, status, want_offload = 1, tap_fds[LNF_MAX_QUEUES], vnet_hdr = 0, xen = -1, xen_only = 0;
	pthread_t threads[LNF_MAX_QUEUES];
	uint32_t started = 1;
	int failed = 0; /* the backend went away (a queue's data path failed, or the watch saw it leave) */
	sigset_t mask, old_mask;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--xen") || !strcmp(a, "--host")) {
			xen = !strcmp(a, "--xen");
			continue;
		}
		if (i + 1 >= argc) {
			usage(stderr);
			return EX_USAGE;
		}
		if (!strcmp(a, "--devid"))
			o.devid = (uint32_t)num("--devid", argv[++i], 0, 65535);
		else if (!strcmp(a, "--timeout-ms"))
			o.timeout_ms = (int)num("--timeout-ms", argv[++i], 1, 600000);
		else if (!strcmp(a, "--queues"))
			o.want_queues = (uint32_t)num("--queues", argv[++i], 1, LNF_MAX_QUEUES);
		else if (!strcmp(a, "--wait-ms"))
			o.wait_ms = (int)num("--wait-ms", argv[++i], 0, 3600000), xen_only = 1;
		else if (!strcmp(a, "--ifname"))
			o.ifname = argv[++i], xen_only = 1;
		else if (!strcmp(a, "--ip") || !strcmp(a, "--ip6")) {
			const char *v = argv[++i];
			uint8_t addr[16];
			uint32_t prefix;
			int v6 = !strcmp(a, "--ip6");

			if (lnf_parse_prefix(v6 ? AF_INET6 : AF_INET, v, addr, &prefix) < 0) {
				lnf_say("usage: %s expects an %s address with its prefix length (A/P), got \"%s\"", a,
					v6 ? "IPv6" : "IPv4", v);
				return EX_USAGE;
			}
			*(v6 ? &o.ip6 : &o.ip) = v;
			xen_only = 1;
		} else if (!strcmp(a, "--offload")) {
			const char *m = argv[++i];
			if (strcmp(m, "on") && strcmp(m, "off")) {
				lnf_say("usage: --offload expects on or off, got \"%s\"", m);
				return EX_USAGE;
			}
			want_offload = !strcmp(m, "on");
		} else if (!strcmp(a, "--mode")) {
			const char *m = argv[++i];
			if (strcmp(m, "event") && strcmp(m, "poll")) {
				lnf_say("usage: --mode expects event or poll, got \"%s\"", m);
				return EX_USAGE;
			}
			o.mode = strcmp(m, "poll") ? NF_MODE_EVENT : NF_MODE_POLL;
		} else {
			usage(stderr);
			return EX_USAGE;
		}
	}
	/* the platform: chosen once, here (auto: a Xen guest's userspace, no launcher's control socket) */
	if (xen < 0)
		xen = !getenv("VPIO_CTRL_FD") && lnf_xen_present();
	plat = xen ? &lnf_xen_platform : &lnf_host_platform;
	if (xen_only && !xen) {
		lnf_say("usage: --ifname, --ip, --ip6 and --wait-ms are for xen mode (--xen); in host mode the launcher"
			" configures the TAP");
		return EX_USAGE;
	}
	if (o.timeout_ms < 0)
		o.timeout_ms = xen ? 60000 : 10000; /* a real dom0's toolstack may take its time (TCG: seconds) */
	if (i >= argc && !plat->command_optional) {
		lnf_say("usage: a COMMAND after -- is required");
		return EX_USAGE;
	}
	if ((rc = plat->tap(&o, tap_fds, &tap_queues)))
		return rc;

	/* signals through one signalfd, blocked before the child and the queue threads exist */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &old_mask);
	lq[0].sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (lq[0].sig_fd < 0) {
		lnf_say("signalfd: %s", strerror(errno));
		return EX_CONNECT;
	}
	shared.stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (shared.stop_fd < 0) {
		lnf_say("eventfd: %s", strerror(errno));
		return EX_CONNECT;
	}

	/* IFF_VNET_HDR (the launcher's choice): every frame carries a header, of our size (the device's: once) */
	{
		struct ifreq ifr;
		int sz = (int)sizeof(struct lnf_vnet_hdr);

		memset(&ifr, 0, sizeof(ifr));
		if (ioctl(tap_fds[0], TUNGETIFF, &ifr) < 0) {
			lnf_say("TAP descriptor: TUNGETIFF: %s", strerror(errno));
			return EX_NOTAP;
		}
		if (tap_queues > 1 && !(ifr.ifr_flags & IFF_MULTI_QUEUE)) {
			lnf_say("TAP descriptor: $VPIO_TAP_QUEUES is %u but the device is not IFF_MULTI_QUEUE", tap_queues);
			return EX_NOTAP;
		}
		if (ifr.ifr_flags & IFF_VNET_HDR) {
			if (ioctl(tap_fds[0], TUNSETVNETHDRSZ, &sz) < 0) {
				lnf_say("TAP descriptor: TUNSETVNETHDRSZ: %s", strerror(errno));
				return EX_NOTAP;
			}
			vnet_hdr = sz;
		}
	}

	struct nf_config cfg;
	if ((rc = plat->open(&o, &cfg)))
		return rc;
	if (vnet_hdr && want_offload)
		cfg.features = NF_FEAT_OFFLOAD;
	cfg.queues = o.want_queues ? o.want_queues : tap_queues;
	if ((rc = nf_connect(nf, &cfg)) < 0) {
		lnf_say("vif %u: connect: %s", o.devid, strerror(-rc));
		plat->close();
		return EX_CONNECT;
	}
	nq = nf_queue_count(nf);
	/* TAP queues nobody will read: closing a queue's descriptor detaches it, so the kernel stops steering to it */
	for (q = nq; q < tap_queues; q++)
		close(tap_fds[q]);

	uint32_t buf_size = nf_buf_size(nf), tx_slots_max = 1;
	int offload = 0;
	if (nf_features(nf) & NF_FEAT_OFFLOAD) {
		/* TSO only when a 64 KiB super-frame fits one chain of this vif's buffers */
		uint32_t k = (LNF_SUPER_MAX + buf_size - 1) / buf_size;
		int tso = k <= LNF_CHAIN_MAX && k < nf_tx_slots(nf);
		unsigned flags = TUN_F_CSUM | (tso ? TUN_F_TSO4 | TUN_F_TSO6 : 0u);

		if (ioctl(tap_fds[0], TUNSETOFFLOAD, flags) < 0) {
			lnf_say("TAP descriptor: TUNSETOFFLOAD: %s (offloads stay off)", strerror(errno));
		} else {
			offload = 1;
			if (tso)
				tx_slots_max = k;
		}
	}
	for (q = 0; q < nq; q++) {
		struct lnf *x = &lq[q];

		x->nf = nf_queue(nf, q);
		x->queue = q;
		x->tap_fd = tap_fds[q];
		if (q)
			x->sig_fd = -1;
		x->be_fd = q ? -1 : plat->backend_fd();
		x->on_backend = on_backend;
		x->buf_size = buf_size;
		x->vnet_hdr = (uint32_t)vnet_hdr;
		x->offload = offload;
		x->tx_slots_max = tx_slots_max;
		x->sh = &shared;
		x->on_signals = on_signals;
		x->rx_fd = plat->port_fd(nf_zc_rx_port(x->nf));
		x->tx_fd = plat->port_fd(nf_zc_tx_port(x->nf));
		if (o.mode == NF_MODE_EVENT && (x->rx_fd < 0 || x->tx_fd < 0)) {
			lnf_say("vif %u: no descriptor for queue %u's event channels", o.devid, q);
			nf_disconnect(nf);
			plat->close();
			return EX_CONNECT;
		}
	}
	{
		const uint8_t *m = nf_mac(nf);
		lnf_say("vif %u connected: mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u, %u/%u slots, %s mode, offloads %s, %u queue%s%s",
		    o.devid, m[0], m[1], m[2], m[3], m[4], m[5], nf_mtu(nf), nf_tx_slots(nf), nf_rx_slots(nf),
		    o.mode == NF_MODE_POLL ? "poll" : "event", offload ? (tx_slots_max > 1 ? "csum+tso" : "csum") : "off", nq,
		    nq == 1 ? "" : "s", nq < tap_queues ? " (fewer than the TAP's: the vif offers no more)" : "");
	}
	if ((rc = plat->configure(&o, nf))) {
		nf_disconnect(nf);
		plat->close();
		return rc;
	}

	/* the backend may have left already (the watch's events from the handshake are still queued) */
	if (lq[0].be_fd >= 0)
		on_backend(&lq[0]);

	fflush(stdout);
	if (i < argc && !lnf_stopped(&lq[0]) && (child = start_command(argv + i, &old_mask)) < 0) {
		lnf_say("fork: %s", strerror(errno));
		child_status = EX_CONNECT;
	} else {
		/* queues 1..nq-1 on their own threads (signals stay blocked there), queue 0 here */
		for (; started < nq; started++) {
			if ((rc = pthread_create(&threads[started], NULL, queue_thread, &lq[started])) != 0) {
				lnf_say("queue %u: thread: %s", started, strerror(rc));
				lq[0].result = -rc;
				lnf_set_stop(&shared);
				break;
			}
		}
		if (!lnf_stopped(&lq[0]))
			lq[0].result = lnf_loop(&lq[0]);
		lnf_set_stop(&shared);
		for (q = 1; q < started; q++)
			pthread_join(threads[q], NULL);
		failed = backend_gone;
		for (q = 0; q < nq; q++) {
			if (lq[q].result < 0) {
				lnf_say("data path failed (queue %u): %s", q, strerror(-lq[q].result));
				failed = 1;
			}
		}
		reap();
		if (i >= argc) /* no COMMAND (xen mode): a signal stopped us (0), or the backend went away */
			child_status = failed ? EX_DATAPATH : 0;
		else if (child_status >= 0)
			failed = 0; /* COMMAND had ended first: its status stands */
	}
	print_counters("exit");
	rc = nf_disconnect(nf);
	if (rc < 0)
		lnf_say("disconnect: %s", strerror(-rc));
	plat->close();
	if (child > 0)
		kill(child, SIGTERM); /* we stop first (a data-path failure), or SIGTERM was forwarded already */
	finish_command(1000);
	status = failed ? EX_DATAPATH : child_status >= 0 ? child_status : EX_DATAPATH;
	lnf_say("exit %d", status);
	return status;
}
