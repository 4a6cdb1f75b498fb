/* SPDX-License-Identifier: MIT */
/* vring-pair: the parent's JSON lines on stdout (report.c). */
#ifndef VRING_PAIR_REPORT_H
#define VRING_PAIR_REPORT_H

#include "pair.h"
#include "stats.h"

/* What the parent knows at the end besides the stats page. */
struct pair_outcome {
	int exited[2]; /* [role] reaped */
	int status[2]; /* [role] wait status */
};

/* Packets in flight, from the shared header's indices (read relaxed). */
uint32_t pair_ring_used(const struct pair_opts *o, const struct vring_hdr *h);

void pair_report_progress(const struct pair_opts *o, const struct pair_stats *st, const struct vring_hdr *h,
			  uint64_t t_ms);
/* The result line. Returns 1 if the run is ok. */
int pair_report_result(const struct pair_opts *o, const struct pair_stats *st, const struct pair_outcome *out);
/* {"type":"error","error":<what>, counters of both sides, ring indices}. */
void pair_report_error(const struct pair_opts *o, const struct pair_stats *st, const struct vring_hdr *h,
		       const char *what);

#endif /* VRING_PAIR_REPORT_H */
