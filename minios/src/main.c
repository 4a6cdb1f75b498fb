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
 * This file is the host-specific part (argv, the signalfd, the host
 * session); the console lines, the vif connection and the control thread's
 * timing are glue.c, shared with the PV build's pv/main_pv.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "glue.h"
#include "vpio/netfront_broker.h"

#define CONFIG_MAX (256u * 1024u)

static struct nf_session session;
static struct mo_glue g;
static int sig_fd = -1;

static void emit_stdout(void *ctx, const char *line)
{
	(void)ctx;
	fputs(line, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

static void fail(const char *step, int rc)
{
	mo_glue_emit_error(&g, step, rc);
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

static void vif_config(struct mo_glue *gl, const struct mo_dev *d, struct nf_config *cfg)
{
	(void)gl;
	nf_session_config(&session, cfg, d->devid, d->mode, 10000);
}

static int port_fd(struct mo_glue *gl, uint32_t port)
{
	(void)gl;
	return nf_broker_port_fd(&session.b, port);
}

/* The stop request is SIGTERM or SIGINT, read from the signalfd. */
static int wait_stop(struct mo_glue *gl, uint64_t deadline_ns)
{
	struct signalfd_siginfo si;

	return mo_wait(&gl->sched, &sig_fd, 1, deadline_ns) == 0 && read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si);
}

static const struct mo_glue_ops host_ops = { .vif_config = vif_config, .port_fd = port_fd, .wait_stop = wait_stop };

int main(int argc, char **argv)
{
	const char *path = NULL, *text = NULL, *step;
	char *owned = NULL, pid[16];
	int check = 0, rc, status;
	struct mo_err err;
	sigset_t set;

	mo_glue_init(&g, &host_ops, emit_stdout);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-e") && i + 1 < argc) {
			text = argv[++i];
		} else if (!strcmp(argv[i], "--stats-interval") && i + 1 < argc) {
			if (mo_parse_u32(argv[++i], 1, 3600000, &g.stats_ms)) {
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
	if (mo_rt_configure(&g.rt, text, &err)) {
		fprintf(stderr, "config:%u:%u: %s\n", err.line, err.col, err.msg);
		return 2;
	}
	free(owned);
	if (check) {
		printf("{\"event\":\"config-ok\",\"elements\":%u,\"devices\":%u}\n", g.rt.nels, g.rt.ndevs);
		mo_rt_fini(&g.rt);
		return 0;
	}

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) || (sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		fail("signalfd", -errno);
	if ((rc = nf_session_open(&session)))
		fail("session-open", rc);
	if ((rc = mo_glue_connect(&g, &step)))
		fail(step, rc);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	mo_glue_emit_ready(&g, "pid", pid);
	if ((rc = mo_glue_start(&g, &step)))
		fail(step, rc);
	if ((rc = mo_sched_run(&g.sched)))
		fail("run", rc);
	status = mo_glue_disconnect(&g);
	mo_glue_emit_closed(&g, status);
	nf_session_close(&session);
	mo_sched_fini(&g.sched);
	mo_rt_fini(&g.rt);
	return status ? 3 : 0;
}
