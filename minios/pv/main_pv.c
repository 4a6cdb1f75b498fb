/* SPDX-License-Identifier: MIT */
/*
 * main_pv.c - the minios guest as a Xen PV kernel: what src/main.c is for
 * host mode. Called by boot.c once the platform is up.
 *
 *   1. xenstore over the xenbus ring; data/minios-state = booting
 *   2. the configuration from the own directory's vpio/config (the
 *      toolstack writes it before unpausing; if absent, watched for up to
 *      PV_CONFIG_WAIT_MS), vpio/stats-interval (ms, optional); parsed and
 *      wired by the shared runtime
 *   3. data/minios-state = connecting; every vif the configuration names
 *      (device/vpio-vif/<n>) connected by the netfront core with the PV
 *      grant and event-channel ops; the runtime waits on the vifs' ports
 *   4. {"event":"ready",...}; data/minios-state = ready; the elements and a
 *      control thread (stats every MS ms, control/shutdown watched) run
 *   5. xl shutdown (control/shutdown = poweroff|halt|reboot): "final"
 *      stats, nf_disconnect of every vif, {"event":"closed","rc":N}, the
 *      request acknowledged (control/shutdown emptied), SCHEDOP_shutdown.
 * Console: the JSON lines of the host build (ready, stats, ping,
 * pktgen-done, final, closed, error), plus one "platform" line between
 * "final" and "closed" (after the vifs disconnected) with the scheduler,
 * grant and heap counters. A setup failure
 * prints {"event":"error","step":"..","rc":N}, sets data/minios-state =
 * error:<step> and crashes the domain (on_crash decides whether it stays).
 * The lines both builds print, the vif connection and the control thread's
 * timing are src/glue.c; this file is what is PV's own (xenstore, the
 * shutdown watch, the platform line, SCHEDOP_shutdown).
 */
#include <stdio.h>
#include <string.h>

#include "glue.h"
#include "mo_heap.h"
#include "pv.h"
#include "pv_nf.h"

#define PV_CONFIG_WAIT_MS 30000
#define PV_CONNECT_TIMEOUT_MS 30000 /* host mode's 10 s, stretched for the TCG lab */
#define EVQ_BYTES (8u * 1024u)

static struct mo_glue g;
static struct xs_handle xs;
static int xs_up;
static uint8_t evq[EVQ_BYTES];
static char config[XS_PAYLOAD_MAX + 1];
static unsigned int shutdown_reason = SHUTDOWN_poweroff;
static struct nf_grant_ops gops;
static struct nf_evtchn_ops eops;

static void emit_console(void *ctx, const char *line)
{
	(void)ctx;
	pv_console_write(line, strlen(line));
	pv_console_write("\n", 1);
}

static void set_state(const char *state)
{
	if (xs_up)
		(void)xs_write(&xs, XS_NO_TX, "data/minios-state", state, (uint32_t)strlen(state));
}

static PV_NORETURN void fail(const char *step, int rc)
{
	char line[160];

	mo_glue_emit_error(&g, step, rc);
	snprintf(line, sizeof(line), "error:%s", step);
	set_state(line);
	pv_shutdown(SHUTDOWN_crash);
}

/* vpio/config into config[]: read, or watched for until PV_CONFIG_WAIT_MS passed. 0 or -errno. */
static int read_config(void)
{
	uint64_t deadline = pv_time_ns() + (uint64_t)PV_CONFIG_WAIT_MS * 1000000ull;
	char path[64], token[16];
	int rc, wrc;

	rc = xs_read(&xs, XS_NO_TX, "vpio/config", config, sizeof(config), NULL);
	if (rc != -XS_ENOENT)
		return rc;
	pv_log("vpio/config not there yet: watching it");
	if ((rc = xs_watch(&xs, "vpio/config", "config")))
		return rc;
	for (;;) {
		uint64_t now = pv_time_ns();

		rc = xs_read(&xs, XS_NO_TX, "vpio/config", config, sizeof(config), NULL);
		if (rc != -XS_ENOENT)
			break;
		if (now >= deadline) {
			rc = -XS_ETIMEDOUT;
			break;
		}
		wrc = xs_wait_event(&xs, (int)((deadline - now + 999999) / 1000000), path, sizeof(path), token,
				    sizeof(token));
		if (wrc && wrc != -XS_ETIMEDOUT && wrc != -XS_EOVERFLOW) {
			rc = wrc;
			break;
		}
	}
	(void)xs_unwatch(&xs, "vpio/config", "config");
	return rc;
}

static void read_stats_interval(void)
{
	char v[32];
	int rc = xs_read(&xs, XS_NO_TX, "vpio/stats-interval", v, sizeof(v), NULL);

	if (rc == -XS_ENOENT)
		return;
	if (rc || mo_parse_u32(v, 1, 3600000, &g.stats_ms))
		fail("stats-interval", rc ? rc : -VP_EINVAL);
}

/* The toolstack's request in control/shutdown: 1 (stop, reason set), 0 (none), or -errno. */
static int shutdown_requested(void)
{
	char v[32];
	int rc = xs_read(&xs, XS_NO_TX, "control/shutdown", v, sizeof(v), NULL);

	if (rc == -XS_ENOENT)
		return 0;
	if (rc)
		return rc;
	if (!strcmp(v, "poweroff") || !strcmp(v, "halt")) {
		shutdown_reason = SHUTDOWN_poweroff;
		return 1;
	}
	if (!strcmp(v, "reboot")) {
		shutdown_reason = SHUTDOWN_reboot;
		return 1;
	}
	return 0; /* "" (acknowledged), or a request minios does not do (suspend) */
}

static void platform_line(void)
{
	const struct pv_gnttab_stats *gs = pv_gnttab_stats();
	struct mo_heap_stats h;
	char line[640];

	mo_heap_get_stats(&h);
	snprintf(line, sizeof(line),
		 "{\"event\":\"platform\",\"sched\":{\"threads\":%u,\"switches\":%llu,\"polls\":%llu,\"sleeps\":%llu},"
		 "\"grants\":{\"maps\":%llu,\"mapCalls\":%llu,\"pagesMapped\":%llu,\"mapErrors\":%llu,\"unmapCalls\":%llu,"
		 "\"pagesUnmapped\":%llu,\"unmapErrors\":%llu,\"windowFull\":%llu,\"l1Pages\":%u,\"liveMaps\":%u},"
		 "\"heap\":{\"bytes\":%llu,\"free\":%llu,\"largestFree\":%llu,\"failed\":%lu},\"memPages\":%lu}",
		 g.sched.nthreads, (unsigned long long)g.sched.switches, (unsigned long long)g.sched.polls,
		 (unsigned long long)g.sched.sleeps, (unsigned long long)gs->map_requests,
		 (unsigned long long)gs->map_calls, (unsigned long long)gs->pages_mapped, (unsigned long long)gs->map_errors,
		 (unsigned long long)gs->unmap_calls, (unsigned long long)gs->pages_unmapped,
		 (unsigned long long)gs->unmap_errors, (unsigned long long)gs->window_full, pv_mm_l1_pages(),
		 pv_gnttab_live_maps(), (unsigned long long)h.heap_bytes, (unsigned long long)h.free_bytes,
		 (unsigned long long)h.largest_free, h.failed_allocs, pv_start_info->nr_pages);
	emit_console(NULL, line);
}

static void vif_config(struct mo_glue *gl, const struct mo_dev *d, struct nf_config *cfg)
{
	(void)gl;
	*cfg = (struct nf_config){ .devid = d->devid, .xs = &xs, .grant = &gops, .evtchn = &eops, .mode = d->mode,
				   .timeout_ms = PV_CONNECT_TIMEOUT_MS };
}

static int port_fd(struct mo_glue *gl, uint32_t port)
{
	(void)gl;
	return (int)port; /* the scheduler waits on event-channel ports */
}

/*
 * The stop request: control/shutdown (watched). The key is read once before
 * the first wait: nf_connect drains the handle's watch events (its own and
 * ours), so one written during the handshake shows only in the key.
 */
static int wait_stop(struct mo_glue *gl, uint64_t deadline_ns)
{
	static int looked;
	uint64_t now = pv_time_ns();
	int timeout = deadline_ns == MO_NO_DEADLINE ? -1 : deadline_ns <= now ? 0 : (int)((deadline_ns - now + 999999) / 1000000);
	char path[64], token[16];
	int rc, req;

	if (!looked) {
		looked = 1;
		if (shutdown_requested() == 1)
			return 1;
	}
	rc = xs_wait_event(&xs, timeout, path, sizeof(path), token, sizeof(token));
	if (rc == 0 || rc == -XS_EOVERFLOW) {
		req = shutdown_requested();
		if (req < 0)
			mo_glue_emit_error(gl, "control-shutdown", req);
		return req == 1;
	}
	if (rc != -XS_ETIMEDOUT) {
		mo_glue_emit_error(gl, "xenstore-watch", rc);
		mo_sleep_until(&gl->sched, pv_time_ns() + 1000000000ull); /* do not spin on a broken handle */
	}
	return 0;
}

static const struct mo_glue_ops pv_ops = { .vif_config = vif_config, .port_fd = port_fd, .wait_stop = wait_stop };

void pv_main(void)
{
	struct mo_err err;
	char line[320], domid[16] = "0";
	const char *step;
	int rc, status;
	uint64_t t_config, t_connect;

	mo_glue_init(&g, &pv_ops, emit_console);
	pv_nf_grant_ops(&gops);
	pv_nf_evtchn_ops(&eops, &g.sched);
	if ((rc = pv_xs_open(&xs, &g.sched, evq, sizeof(evq))))
		fail("xenstore", rc);
	xs_up = 1;
	set_state("booting");
	if ((rc = read_config()))
		fail("config-read", rc);
	read_stats_interval();
	if (mo_rt_configure(&g.rt, config, &err)) {
		snprintf(line, sizeof(line), "config:%u:%u: %s", err.line, err.col, err.msg);
		emit_console(NULL, line);
		fail("config", -VP_EINVAL);
	}
	/* watched from now on, so a shutdown during the handshake is not lost (the event waits in evq) */
	if ((rc = xs_watch(&xs, "control/shutdown", "shutdown")))
		fail("watch-shutdown", rc);
	set_state("connecting");
	t_config = pv_time_ns();
	if ((rc = mo_glue_connect(&g, &step)))
		fail(step, rc);
	t_connect = pv_time_ns();
	(void)xs_read(&xs, XS_NO_TX, "domid", domid, sizeof(domid), NULL);
	mo_glue_emit_ready(&g, "domid", domid);
	snprintf(line, sizeof(line), "minios: boot -> ready %llu ms (xenstore and configuration %llu ms, %u vif(s) connected in %llu ms)",
		 (unsigned long long)((t_connect - pv_boot_ns) / 1000000), (unsigned long long)((t_config - pv_boot_ns) / 1000000),
		 g.rt.ndevs, (unsigned long long)((t_connect - t_config) / 1000000));
	emit_console(NULL, line);
	if ((rc = mo_glue_start(&g, &step)))
		fail(step, rc);
	set_state("ready");
	if ((rc = mo_sched_run(&g.sched)))
		fail("run", rc);
	status = mo_glue_disconnect(&g);
	platform_line();
	mo_glue_emit_closed(&g, status);
	set_state(status ? "closed:error" : "closed");
	(void)xs_write(&xs, XS_NO_TX, "control/shutdown", "", 0); /* acknowledged */
	pv_shutdown(shutdown_reason);
}
