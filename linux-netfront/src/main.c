// SPDX-License-Identifier: MIT
//
// vpio-linux-netfront - the Linux guest's network frontend (host mode).
//
//   vpio-linux-netfront [--devid N] [--mode event|poll] [--timeout-ms MS] -- COMMAND [ARGS...]
//
// Runs as a domain's guest started with a TAP device (vpio-launch --tap:
// fd $VPIO_TAP_FD, name $VPIO_TAP_NAME, already configured in the domain's
// own network namespace). It opens the host session (HELLO, xenstore,
// brokers: vpio/netfront_broker.h), connects vif N, then starts COMMAND in
// the same sandbox and namespace and bridges TAP <-> vif until COMMAND
// exits (its status becomes ours) or a SIGTERM/SIGINT arrives (forwarded to
// COMMAND). Then it disconnects cleanly (frontend Closing -> Closed) and
// prints its counters. SIGUSR1 prints the counters at any time. SIGHUP is
// forwarded.
//
// Output: counters as one JSON line on stdout (the domain's console):
//   {"event":"linux-netfront","tap_rx":N,...,"tx_kicks":N,...}
// Lifecycle lines go to stderr ("vpio-linux-netfront: ...").
//
// Exit status: COMMAND's (128+n when killed by signal n); 64 usage; 69
// no TAP descriptor; 75 session/handshake failed; 70 the data path failed
// (the backend went away) before COMMAND ended.

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lnf.h"
#include "vpio/netfront_broker.h"
#include "vpio/netfront_zc.h"

#define EX_USAGE 64
#define EX_NOTAP 69
#define EX_DATAPATH 70
#define EX_CONNECT 75

static struct nf_session session;
static struct nf_dev nf;
static struct lnf l;
static pid_t child = -1;
static int child_status = -1; /* exit status to pass on, once reaped */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
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
	fprintf(f, "usage: vpio-linux-netfront [--devid N] [--mode event|poll] [--timeout-ms MS] [--offload on|off] -- COMMAND [ARGS...]\n"
		   "Bridges the TAP device vpio-launch --tap made ($VPIO_TAP_FD) to vif N and runs COMMAND.\n");
}

static long num(const char *opt, const char *s, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		say("usage: %s expects an integer in [%ld, %ld], got \"%s\"", opt, min, max, s);
		exit(EX_USAGE);
	}
	return v;
}

static void print_counters(const char *why)
{
	const struct nf_stats *s = nf_stats(&nf);
	const struct lnf_counters *c = &l.c;

	printf("{\"event\":\"linux-netfront\",\"why\":\"%s\",\"tap_rx\":%" PRIu64 ",\"tap_rx_bytes\":%" PRIu64
	       ",\"tx_packets\":%" PRIu64 ",\"tx_batches\":%" PRIu64 ",\"tx_ring_full\":%" PRIu64
	       ",\"tx_drop_size\":%" PRIu64 ",\"rx_packets\":%" PRIu64 ",\"rx_batches\":%" PRIu64 ",\"tap_tx\":%" PRIu64
	       ",\"tap_tx_bytes\":%" PRIu64 ",\"tap_tx_errors\":%" PRIu64 ",\"tx_kicks\":%" PRIu64 ",\"rx_kicks\":%" PRIu64
	       ",\"tx_sleeps\":%" PRIu64 ",\"rx_sleeps\":%" PRIu64 ",\"offload\":%d,\"tx_gso\":%" PRIu64
	       ",\"tx_csum\":%" PRIu64 ",\"tx_drop_hdr\":%" PRIu64 ",\"rx_gso\":%" PRIu64 ",\"rx_drop_bad\":%" PRIu64 "}\n",
	       why, lnf_get(&c->tap_rx), lnf_get(&c->tap_rx_bytes), lnf_get(&c->tx_packets), lnf_get(&c->tx_batches),
	       lnf_get(&c->tx_ring_full), lnf_get(&c->tx_drop_size), lnf_get(&c->rx_packets), lnf_get(&c->rx_batches),
	       lnf_get(&c->tap_tx), lnf_get(&c->tap_tx_bytes), lnf_get(&c->tap_tx_errors),
	       lnf_get(&s->tx_kicks), lnf_get(&s->rx_kicks), lnf_get(&s->tx_sleeps), lnf_get(&s->rx_sleeps), l.offload,
	       lnf_get(&c->tx_gso), lnf_get(&c->tx_csum), lnf_get(&c->tx_drop_hdr), lnf_get(&c->rx_gso),
	       lnf_get(&c->rx_drop_bad));
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
		lnf_set_stop(&l);
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
			lnf_set_stop(x);
			break;
		}
	}
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

static void check_mac(const char *name)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0 || !name)
		return;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFHWADDR, &ifr) == 0 && memcmp(ifr.ifr_hwaddr.sa_data, nf_mac(&nf), 6) != 0)
		say("warning: %s's MAC differs from vif's (the switch may drop what it sends)", name);
	close(s);
}

int main(int argc, char **argv)
{
	enum nf_mode mode = NF_MODE_EVENT;
	uint32_t devid = 0;
	int timeout_ms = 10000, i, rc, status, want_offload = 1;
	sigset_t mask, old_mask;
	struct stat st;

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
		if (i + 1 >= argc) {
			usage(stderr);
			return EX_USAGE;
		}
		if (!strcmp(a, "--devid"))
			devid = (uint32_t)num("--devid", argv[++i], 0, 65535);
		else if (!strcmp(a, "--timeout-ms"))
			timeout_ms = (int)num("--timeout-ms", argv[++i], 1, 600000);
		else if (!strcmp(a, "--offload")) {
			const char *m = argv[++i];
			if (strcmp(m, "on") && strcmp(m, "off")) {
				say("usage: --offload expects on or off, got \"%s\"", m);
				return EX_USAGE;
			}
			want_offload = !strcmp(m, "on");
		} else if (!strcmp(a, "--mode")) {
			const char *m = argv[++i];
			if (strcmp(m, "event") && strcmp(m, "poll")) {
				say("usage: --mode expects event or poll, got \"%s\"", m);
				return EX_USAGE;
			}
			mode = strcmp(m, "poll") ? NF_MODE_EVENT : NF_MODE_POLL;
		} else {
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (i >= argc) {
		say("usage: a COMMAND after -- is required");
		return EX_USAGE;
	}
	const char *tap_env = getenv("VPIO_TAP_FD");
	l.tap_fd = tap_env ? (int)num("VPIO_TAP_FD", tap_env, 3, 1 << 20) : -1;
	if (l.tap_fd < 0 || fstat(l.tap_fd, &st) < 0 || !S_ISCHR(st.st_mode)) {
		say("no TAP descriptor in $VPIO_TAP_FD (run me with vpio run --linux, or vpio-launch --tap)");
		return EX_NOTAP;
	}
	if (fcntl(l.tap_fd, F_SETFL, fcntl(l.tap_fd, F_GETFL) | O_NONBLOCK) < 0 || fcntl(l.tap_fd, F_SETFD, FD_CLOEXEC) < 0) {
		say("TAP descriptor: %s", strerror(errno));
		return EX_NOTAP;
	}

	/* signals through one signalfd, blocked before the child exists */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &old_mask);
	l.sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l.sig_fd < 0) {
		say("signalfd: %s", strerror(errno));
		return EX_CONNECT;
	}
	l.on_signals = on_signals;
	l.nf = &nf;

	/* IFF_VNET_HDR (the launcher's choice): every frame carries a header, of our size */
	{
		struct ifreq ifr;
		int sz = (int)sizeof(struct lnf_vnet_hdr);

		memset(&ifr, 0, sizeof(ifr));
		if (ioctl(l.tap_fd, TUNGETIFF, &ifr) < 0) {
			say("TAP descriptor: TUNGETIFF: %s", strerror(errno));
			return EX_NOTAP;
		}
		if (ifr.ifr_flags & IFF_VNET_HDR) {
			if (ioctl(l.tap_fd, TUNSETVNETHDRSZ, &sz) < 0) {
				say("TAP descriptor: TUNSETVNETHDRSZ: %s", strerror(errno));
				return EX_NOTAP;
			}
			l.vnet_hdr = (uint32_t)sz;
		}
	}

	struct nf_config cfg;
	if ((rc = nf_session_open(&session)) < 0) {
		say("session (HELLO, xenstore): %s", strerror(-rc));
		return EX_CONNECT;
	}
	nf_session_config(&session, &cfg, devid, mode, timeout_ms);
	if (l.vnet_hdr && want_offload)
		cfg.features = NF_FEAT_OFFLOAD;
	if ((rc = nf_connect(&nf, &cfg)) < 0) {
		say("vif %u: connect: %s", devid, strerror(-rc));
		nf_session_close(&session);
		return EX_CONNECT;
	}
	l.buf_size = nf_buf_size(&nf);
	l.tx_slots_max = 1;
	if (nf_features(&nf) & NF_FEAT_OFFLOAD) {
		/* TSO only when a 64 KiB super-frame fits one chain of this vif's buffers */
		uint32_t k = (LNF_SUPER_MAX + l.buf_size - 1) / l.buf_size;
		int tso = k <= LNF_CHAIN_MAX && k < nf_tx_slots(&nf);
		unsigned flags = TUN_F_CSUM | (tso ? TUN_F_TSO4 | TUN_F_TSO6 : 0u);

		if (ioctl(l.tap_fd, TUNSETOFFLOAD, flags) < 0) {
			say("TAP descriptor: TUNSETOFFLOAD: %s (offloads stay off)", strerror(errno));
		} else {
			l.offload = 1;
			if (tso)
				l.tx_slots_max = k;
		}
	}
	{
		const uint8_t *m = nf_mac(&nf);
		say("vif %u connected: mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u, %u/%u slots, %s mode, offloads %s", devid,
		    m[0], m[1], m[2], m[3], m[4], m[5], nf_mtu(&nf), nf_tx_slots(&nf), nf_rx_slots(&nf),
		    mode == NF_MODE_POLL ? "poll" : "event",
		    l.offload ? (l.tx_slots_max > 1 ? "csum+tso" : "csum") : "off");
	}
	check_mac(getenv("VPIO_TAP_NAME"));
	l.rx_fd = nf_broker_port_fd(&session.b, nf_zc_rx_port(&nf));
	l.tx_fd = nf_broker_port_fd(&session.b, nf_zc_tx_port(&nf));
	if (mode == NF_MODE_EVENT && (l.rx_fd < 0 || l.tx_fd < 0)) {
		say("vif %u: no descriptor for its event channels", devid);
		nf_disconnect(&nf);
		nf_session_close(&session);
		return EX_CONNECT;
	}

	fflush(stdout);
	child = start_command(argv + i, &old_mask);
	if (child < 0) {
		say("fork: %s", strerror(errno));
		child_status = EX_CONNECT;
	} else if ((rc = lnf_loop(&l)) < 0) {
		say("data path failed: %s", strerror(-rc));
	}
	print_counters("exit");
	rc = nf_disconnect(&nf);
	if (rc < 0)
		say("disconnect: %s", strerror(-rc));
	nf_session_close(&session);
	if (child > 0)
		kill(child, SIGTERM); /* we stop first (a data-path failure), or SIGTERM was forwarded already */
	finish_command(1000);
	status = child_status >= 0 ? child_status : EX_DATAPATH;
	say("exit %d", status);
	return status;
}
