/* SPDX-License-Identifier: MIT */
/*
 * switch.c - creating and destroying a switch, clocks. Control path only.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "sw_internal.h"

uint64_t vsw_clock_monotonic(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t vsw_clock_manual(void *ctx)
{
	return __atomic_load_n((const uint64_t *)ctx, __ATOMIC_ACQUIRE);
}

uint64_t vsw_now(const struct vsw *sw)
{
	return vsw_clock_now(sw);
}

uint32_t vsw_n_workers(const struct vsw *sw)
{
	return sw->nworkers;
}

int vsw_create(const struct vsw_config *cfg, struct vsw **out)
{
	struct vsw *sw;
	uint32_t i;
	int rc;

	if (!cfg || !out || cfg->n_workers > VSW_MAX_WORKERS ||
	    (cfg->mode != VSW_MODE_EVENT && cfg->mode != VSW_MODE_POLL) || (cfg->clock == vsw_clock_manual && !cfg->clock_ctx))
		return -VP_EINVAL;
	for (i = 0; cfg->cores && i < cfg->n_workers; i++)
		if (cfg->cores[i] < -1 || cfg->cores[i] >= CPU_SETSIZE)
			return -VP_EINVAL;
	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return -VP_ENOMEM;
	sw->cfg = *cfg;
	sw->cfg.cores = NULL;
	sw->clock = cfg->clock ? cfg->clock : vsw_clock_monotonic;
	sw->clock_ctx = cfg->clock_ctx;
	sw->aging_ns = cfg->aging_ns ? cfg->aging_ns : VSW_DEFAULT_AGING_NS;
	sw->seed = cfg->hash_seed;
	if (!sw->seed && getrandom(&sw->seed, sizeof(sw->seed), 0) != sizeof(sw->seed))
		sw->seed = vsw_clock_monotonic(NULL) ^ (uintptr_t)sw;
	sw->lookup = &vsw_learning_ops;
	sw->policy = &vsw_default_policy_ops;
	sw->nworkers = cfg->n_workers;
	vsw_groups_init(sw);
	sw->next_sweep_ns = vsw_clock_now(sw) + sw->aging_ns / 4;
	rc = vsw_learn_init(sw);
	if (!rc) {
		sw->workers = aligned_alloc(64, sizeof(*sw->workers) * (sw->nworkers + 1));
		rc = sw->workers ? 0 : -VP_ENOMEM;
		if (sw->workers)
			memset(sw->workers, 0, sizeof(*sw->workers) * (sw->nworkers + 1));
	}
	for (i = 0; !rc && i <= sw->nworkers; i++)
		rc = vsw_worker_alloc(&sw->workers[i], sw, i,
				      i < sw->nworkers && cfg->cores ? cfg->cores[i] : -1);
	if (!rc)
		rc = vsw_workers_start(sw);
	if (rc) {
		vsw_destroy(sw);
		return rc;
	}
	*out = sw;
	return 0;
}

void vsw_destroy(struct vsw *sw)
{
	uint32_t i;

	if (!sw)
		return;
	if (sw->workers) {
		vsw_workers_stop(sw);
		for (i = 0; i < VSW_MAX_PORTS; i++) {
			struct vsw_port *p = sw->ports[i];

			if (p) {
				vsw_cap_port_gone(p);
				vsw_lease_fini(p);
				free(p);
			}
		}
		for (i = 0; i <= sw->nworkers; i++)
			vsw_worker_free(&sw->workers[i]);
		free(sw->workers);
	}
	vsw_learn_fini(sw);
	free(sw);
}
