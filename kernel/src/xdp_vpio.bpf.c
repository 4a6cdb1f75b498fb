// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * xdp_vpio: the uplink XDP program. Steers every frame of an rx queue to
 * the AF_XDP socket bound to that queue; falls back to XDP_PASS.
 *
 * Contract (map names, sizes, counter indices): vpio/xdp_vpio.h.
 *
 * bpf_redirect_map(map, key, flags): when the XSKMAP slot `key` holds a
 * socket it returns XDP_REDIRECT and the frame goes to that socket's rx
 * ring; when the slot is empty (or key is out of range) it returns the low
 * bits of `flags`, here XDP_PASS, so the frame continues into the kernel
 * stack instead of being dropped. A full rx ring or a missing fill buffer
 * is a drop counted by the socket (XDP_STATISTICS), not something the
 * program can see or undo.
 *
 * Concurrency: runs in the driver's NAPI context, one instance per CPU at a
 * time; the statistics are a per-CPU array, so no atomics are needed.
 *
 * Loaded through libxdp (packages/uplink/csrc/wire_xdp.c): the run config
 * below lets libxdp's dispatcher chain it with other programs on the same
 * interface; XDP_PASS continues the chain (the default chain-call action).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <xdp/xdp_helpers.h>
#include "vpio/xdp_vpio.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, VPIO_XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} vpio_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VPIO_XDP_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} vpio_xdp_stats SEC(".maps");

struct {
	__uint(priority, 20);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(xdp_vpio);

static __always_inline void count(__u32 stat)
{
	__u64 *n = bpf_map_lookup_elem(&vpio_xdp_stats, &stat);

	if (n)
		*n += 1;
}

SEC("xdp")
int xdp_vpio(struct xdp_md *ctx)
{
	long act = bpf_redirect_map(&vpio_xsks, ctx->rx_queue_index, XDP_PASS);

	count(act == XDP_REDIRECT ? VPIO_XDP_STAT_REDIRECT : VPIO_XDP_STAT_PASS);
	return (int)act;
}

char _license[] SEC("license") = "Dual MIT/GPL";
