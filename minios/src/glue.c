/* SPDX-License-Identifier: MIT */
/*
 * glue.c - the part of the host and PV mains that is the same (glue.h):
 * vif connection, the console's ready/closed/error lines, the control
 * thread's stats timing and clean stop. Built into both images.
 */
#include "glue.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void mo_glue_init(struct mo_glue *g, const struct mo_glue_ops *ops, void (*emit)(void *ctx, const char *line))
{
	memset(g, 0, sizeof(*g));
	g->ops = ops;
	mo_sched_init(&g->sched);
	mo_rt_init(&g->rt, &g->sched);
	g->rt.emit = emit;
}

int mo_glue_connect(struct mo_glue *g, const char **step)
{
	for (uint32_t i = 0; i < g->rt.ndevs; i++) {
		struct mo_dev *d = &g->rt.devs[i];
		struct nf_dev *nf = &g->vifs[i];
		struct nf_config cfg;
		int rc;

		g->ops->vif_config(g, d, &cfg);
		*step = "connect";
		if ((rc = nf_connect(nf, &cfg)))
			return rc;
		*step = "buf-size";
		if (nf_buf_size(nf) < MO_MIN_BUF_SIZE)
			return -EINVAL;
		d->nf = nf;
		memcpy(d->mac, nf_mac(nf), 6);
		d->rx_fd = g->ops->port_fd(g, nf_zc_rx_port(nf));
		d->tx_fd = g->ops->port_fd(g, nf_zc_tx_port(nf));
	}
	return 0;
}

void mo_glue_emit_ready(struct mo_glue *g, const char *id_key, const char *id_json)
{
	const struct mo_runtime *rt = &g->rt;
	char line[1024];
	size_t n = 0;

	n += (size_t)snprintf(line + n, sizeof(line) - n, "{\"event\":\"ready\",\"devices\":[");
	for (uint32_t i = 0; i < rt->ndevs && n < sizeof(line); i++) {
		const uint8_t *m = rt->devs[i].mac;

		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      "%s{\"devid\":%u,\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"txSlots\":%u,\"rxSlots\":%u,"
				      "\"mode\":\"%s\"}",
				      i ? "," : "", rt->devs[i].devid, m[0], m[1], m[2], m[3], m[4], m[5],
				      nf_tx_slots(rt->devs[i].nf), nf_rx_slots(rt->devs[i].nf),
				      rt->devs[i].mode == NF_MODE_POLL ? "poll" : "event");
	}
	if (n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, "],\"elements\":%u,\"%s\":%s}", rt->nels, id_key, id_json);
	mo_emit(&g->rt, line);
}

/* Stats every stats_ms until a stop is asked for; then "final" and the scheduler stops. */
static void control_thread(void *arg)
{
	struct mo_glue *g = arg;
	uint64_t period = (uint64_t)g->stats_ms * 1000000ull;
	uint64_t next = g->stats_ms ? g->sched.now_ns(g->sched.now_ctx) + period : MO_NO_DEADLINE;

	while (!g->ops->wait_stop(g, next)) {
		if (next != MO_NO_DEADLINE && g->sched.now_ns(g->sched.now_ctx) >= next) {
			mo_rt_emit_stats(&g->rt, "stats");
			next += period;
		}
	}
	g->rt.stopping = 1;
	mo_rt_emit_stats(&g->rt, "final");
	mo_sched_stop(&g->sched);
}

int mo_glue_start(struct mo_glue *g, const char **step)
{
	*step = "spawn";
	if (!mo_thread_spawn(&g->sched, "control", control_thread, g, 64 * 1024))
		return -errno;
	*step = "start";
	return mo_rt_start(&g->rt);
}

int mo_glue_disconnect(struct mo_glue *g)
{
	int status = 0;

	for (uint32_t i = 0; i < g->rt.ndevs; i++) {
		int rc = g->rt.devs[i].nf ? nf_disconnect(g->rt.devs[i].nf) : 0;

		if (rc && !status)
			status = rc;
	}
	return status;
}

void mo_glue_emit_closed(struct mo_glue *g, int status)
{
	char line[64];

	snprintf(line, sizeof(line), "{\"event\":\"closed\",\"rc\":%d}", status);
	mo_emit(&g->rt, line);
}

void mo_glue_emit_error(struct mo_glue *g, const char *step, int rc)
{
	char line[160];

	snprintf(line, sizeof(line), "{\"event\":\"error\",\"step\":\"%s\",\"rc\":%d}", step, rc);
	mo_emit(&g->rt, line);
}
