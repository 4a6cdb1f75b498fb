/* SPDX-License-Identifier: MIT */
/*
 * glue.h - what the two mains of minios share: src/main.c (a host process
 * started by `vpio run`) and pv/main_pv.c (a Xen PV kernel). Both read a
 * configuration, connect its vifs, print the same JSON lines and run the
 * runtime with a control thread that emits stats and stops cleanly; they
 * differ in where the configuration, the vifs' transport and the stop
 * request come from, which each main plugs in through mo_glue_ops.
 *
 * Console lines written here (through rt.emit, one line each, no newline):
 *   {"event":"ready","devices":[{"devid":0,"mac":"..","txSlots":N,"rxSlots":N,"mode":"event"}],"elements":N,"<id>":<v>}
 *   {"event":"stats","elements":{...}}   every stats_ms (0: never)
 *   {"event":"final","elements":{...}}   when a stop was asked for
 *   {"event":"closed","rc":N}
 *   {"event":"error","step":"..","rc":N}
 * One thread (the scheduler's): no locks.
 */
#ifndef MINIOS_GLUE_H
#define MINIOS_GLUE_H

#include <stdint.h>

#include "element.h"

#define MO_MIN_BUF_SIZE 128u /* elements may grow a reply up to 128 bytes in place */

struct mo_glue;

/* The build's part. */
struct mo_glue_ops {
	/* The nf_config for vif d: its devid and mode, the build's transport, the handshake limit. */
	void (*vif_config)(struct mo_glue *g, const struct mo_dev *d, struct nf_config *cfg);
	/* What the runtime waits on for event channel `port` of a connected vif (host: a descriptor; PV: the port). */
	int (*port_fd)(struct mo_glue *g, uint32_t port);
	/*
	 * From the control thread: waits until a stop is asked for (returns 1)
	 * or until deadline_ns (MO_NO_DEADLINE: none) or something else woke it
	 * (returns 0). Reports its own errors (mo_glue_emit_error).
	 */
	int (*wait_stop)(struct mo_glue *g, uint64_t deadline_ns);
};

struct mo_glue {
	struct mo_sched sched;
	struct mo_runtime rt;
	struct nf_dev vifs[MO_MAX_DEVS];
	uint32_t stats_ms; /* stats line period, 0: none */
	const struct mo_glue_ops *ops;
};

/* An empty scheduler and runtime whose console is emit(NULL, line). */
void mo_glue_init(struct mo_glue *g, const struct mo_glue_ops *ops, void (*emit)(void *ctx, const char *line));

/*
 * Connects every vif the configuration names (ops->vif_config), checks its
 * buffers hold MO_MIN_BUF_SIZE bytes, and gives the runtime its MAC and
 * channel descriptors (ops->port_fd). 0, or the failing step's -errno with
 * *step "connect" (nf_connect's error) or "buf-size" (-EINVAL).
 */
int mo_glue_connect(struct mo_glue *g, const char **step);

/* The "ready" line; it ends with "id_key":id_json (host: "pid":123; PV: "domid":5). */
void mo_glue_emit_ready(struct mo_glue *g, const char *id_key, const char *id_json);

/*
 * Spawns the control thread (stats every stats_ms; on ops->wait_stop's 1:
 * rt.stopping, the "final" line, mo_sched_stop) and starts the elements.
 * 0, or -errno with *step "spawn" or "start".
 */
int mo_glue_start(struct mo_glue *g, const char **step);

/* nf_disconnect of every connected vif: 0, or the first error. */
int mo_glue_disconnect(struct mo_glue *g);

void mo_glue_emit_closed(struct mo_glue *g, int status);
void mo_glue_emit_error(struct mo_glue *g, const char *step, int rc);

#endif /* MINIOS_GLUE_H */
