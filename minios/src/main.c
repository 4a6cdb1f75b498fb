/* SPDX-License-Identifier: MIT */
/*
 * main.c - the host-mode glue of minios: a guest started by `vpio run`.
 *
 *   vpio-minios CONFIG_FILE [--stats-interval MS]
 *   vpio-minios -e 'CONFIG TEXT' [--stats-interval MS]
 *   vpio-minios --check (CONFIG_FILE | -e TEXT)   parse and wire only, exit 0/2
 *
 * Reads and wires the configuration (errors "config:LINE:COL: message" on
 * stderr, exit 2), opens the host session (control socket, xenstore,
 * broker ops: vpio/netfront_broker.h), connects every vif the
 * configuration names, starts the elements and runs the scheduler. Console:
 * JSON lines on stdout --
 *   {"event":"ready","devices":[{"devid":0,"mac":"..","txSlots":N,"rxSlots":N,"mode":"event"}],"elements":N}
 *   {"event":"stats","elements":{...}}          every MS ms with --stats-interval
 *   {"event":"ping",...} {"event":"pktgen-done",...}   from the elements
 *   {"event":"final","elements":{...}}           on SIGTERM/SIGINT, then
 *   {"event":"closed","rc":N}                    after nf_disconnect of every vif
 *   {"event":"error","step":"..","rc":N}         on a setup failure (exit 3)
 * This file is the only host-specific part; the runtime, scheduler and
 * elements are reused as they are by other builds.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "element.h"
#include "vpio/netfront_broker.h"

#define MIN_BUF_SIZE 128u /* elements may grow a reply up to 128 bytes in place */
#define CONFIG_MAX (256u * 1024u)

static struct nf_session session;
static struct nf_dev vifs[MO_MAX_DEVS];
static struct mo_sched sched;
static struct mo_runtime rt;
static int sig_fd = -1;
static uint32_t stats_ms;

static void emit_stdout(void *ctx, const char *line)
{
	(void)ctx;
	fputs(line, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

static void fail(const char *step, int rc)
{
	printf("{\"event\":\"error\",\"step\":\"%s\",\"rc\":%d}\n", step, rc);
	fflush(stdout);
	exit(3);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vpio-minios (CONFIG_FILE | -e 'CONFIG TEXT') [--stats-interval MS] [--check]\n"
		   "  Runs a Click-like element configuration as a vpio guest (see minios/README.md).\n"
		   "  --check  parse and wire the configuration only (exit 0, or 2 with config:LINE:COL: message)\n");
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(CONFIG_MAX + 1);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, CONFIG_MAX + 1, f);
	fclose(f);
	if (n > CONFIG_MAX) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* The control thread: stats every stats_ms, and the clean stop on SIGTERM/SIGINT. */
static void control_thread(void *arg)
{
	uint64_t next = stats_ms ? mo_clock_ns(NULL) + (uint64_t)stats_ms * 1000000ull : MO_NO_DEADLINE;

	(void)arg;
	for (;;) {
		int r = mo_wait(&sched, &sig_fd, 1, next);

		if (r == 0) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				rt.stopping = 1;
				mo_rt_emit_stats(&rt, "final");
				mo_sched_stop(&sched);
				return;
			}
			continue;
		}
		mo_rt_emit_stats(&rt, "stats");
		next += (uint64_t)stats_ms * 1000000ull;
	}
}

static void emit_ready(void)
{
	char line[1024];
	size_t n = 0;

	n += (size_t)snprintf(line + n, sizeof(line) - n, "{\"event\":\"ready\",\"devices\":[");
	for (uint32_t i = 0; i < rt.ndevs && n < sizeof(line); i++) {
		const uint8_t *m = rt.devs[i].mac;

		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      "%s{\"devid\":%u,\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"txSlots\":%u,\"rxSlots\":%u,"
				      "\"mode\":\"%s\"}",
				      i ? "," : "", rt.devs[i].devid, m[0], m[1], m[2], m[3], m[4], m[5],
				      nf_tx_slots(rt.devs[i].nf), nf_rx_slots(rt.devs[i].nf),
				      rt.devs[i].mode == NF_MODE_POLL ? "poll" : "event");
	}
	if (n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, "],\"elements\":%u,\"pid\":%d}", rt.nels, (int)getpid());
	emit_stdout(NULL, line);
}

int main(int argc, char **argv)
{
	const char *path = NULL, *text = NULL;
	char *owned = NULL;
	int check = 0, rc, status = 0;
	struct mo_err err;
	sigset_t set;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-e") && i + 1 < argc) {
			text = argv[++i];
		} else if (!strcmp(argv[i], "--stats-interval") && i + 1 < argc) {
			if (mo_parse_u32(argv[++i], 1, 3600000, &stats_ms)) {
				fprintf(stderr, "vpio-minios: --stats-interval: expected milliseconds in [1, 3600000]\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "--check")) {
			check = 1;
		} else if (argv[i][0] != '-' && !path && !text) {
			path = argv[i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!path && !text) {
		usage(stderr);
		return 2;
	}
	if (path) {
		owned = read_file(path);
		if (!owned) {
			fprintf(stderr, "vpio-minios: %s: %s\n", path, strerror(errno));
			return 2;
		}
		text = owned;
	}
	mo_sched_init(&sched);
	mo_rt_init(&rt, &sched);
	rt.emit = emit_stdout;
	if (mo_rt_configure(&rt, text, &err)) {
		fprintf(stderr, "config:%u:%u: %s\n", err.line, err.col, err.msg);
		return 2;
	}
	free(owned);
	if (check) {
		printf("{\"event\":\"config-ok\",\"elements\":%u,\"devices\":%u}\n", rt.nels, rt.ndevs);
		mo_rt_fini(&rt);
		return 0;
	}

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) || (sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		fail("signalfd", -errno);
	if ((rc = nf_session_open(&session)))
		fail("session-open", rc);
	for (uint32_t i = 0; i < rt.ndevs; i++) {
		struct mo_dev *d = &rt.devs[i];
		struct nf_config cfg;

		nf_session_config(&session, &cfg, d->devid, d->mode, 10000);
		if ((rc = nf_connect(&vifs[i], &cfg)))
			fail("connect", rc);
		if (nf_buf_size(&vifs[i]) < MIN_BUF_SIZE)
			fail("buf-size", -EINVAL);
		d->nf = &vifs[i];
		memcpy(d->mac, nf_mac(&vifs[i]), 6);
		d->rx_fd = nf_broker_port_fd(&session.b, nf_zc_rx_port(&vifs[i]));
		d->tx_fd = nf_broker_port_fd(&session.b, nf_zc_tx_port(&vifs[i]));
	}
	emit_ready();
	if (!mo_thread_spawn(&sched, "control", control_thread, NULL, 64 * 1024))
		fail("spawn", -errno);
	if ((rc = mo_rt_start(&rt)))
		fail("start", rc);
	if ((rc = mo_sched_run(&sched)))
		fail("run", rc);
	for (uint32_t i = 0; i < rt.ndevs; i++) {
		rc = nf_disconnect(&vifs[i]);
		if (rc && !status)
			status = rc;
	}
	printf("{\"event\":\"closed\",\"rc\":%d}\n", status);
	fflush(stdout);
	nf_session_close(&session);
	mo_sched_fini(&sched);
	mo_rt_fini(&rt);
	return status ? 3 : 0;
}
