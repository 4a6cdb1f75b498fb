/* SPDX-License-Identifier: MIT */
/*
 * test-xdp-prog: the uplink XDP program (build/xdp_vpio.bpf.o) against its
 * contract in vpio/xdp_vpio.h, without any interface: the object's maps
 * match the header, the verifier accepts it, and BPF_PROG_TEST_RUN shows an
 * empty XSKMAP slot passes the frame to the stack (XDP_PASS) and counts it.
 * Needs CAP_BPF + CAP_NET_ADMIN (root); the vitest file skips otherwise.
 * The redirect into a real AF_XDP socket is tested with a veth pair by
 * packages/uplink (test/c/test-wire-xdp.c).
 *
 * Usage: test-xdp-prog [OBJECT]   (default build/xdp_vpio.bpf.o)
 */
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "vpio/tap.h"
#include "vpio/xdp_vpio.h"

static const char *obj_path = "build/xdp_vpio.bpf.o";
static struct bpf_object *obj;
static int prog_fd = -1;
static int nr_cpus;

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static void t_contract(void)
{
	obj = bpf_object__open_file(obj_path, NULL);
	CHECK(obj != NULL);
	if (!obj)
		return;
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, VPIO_XDP_PROG_NAME);
	CHECK(prog != NULL);
	if (prog) {
		CHECK_EQ(bpf_program__type(prog), BPF_PROG_TYPE_XDP);
		CHECK_STR(bpf_program__section_name(prog), "xdp");
	}
	struct bpf_map *xsks = bpf_object__find_map_by_name(obj, VPIO_XDP_XSKMAP_NAME);
	CHECK(xsks != NULL);
	if (xsks) {
		CHECK_EQ(bpf_map__type(xsks), BPF_MAP_TYPE_XSKMAP);
		CHECK_EQ(bpf_map__max_entries(xsks), VPIO_XDP_MAX_QUEUES);
		CHECK_EQ(bpf_map__key_size(xsks), 4);
	}
	struct bpf_map *stats = bpf_object__find_map_by_name(obj, VPIO_XDP_STATS_NAME);
	CHECK(stats != NULL);
	if (stats) {
		CHECK_EQ(bpf_map__type(stats), BPF_MAP_TYPE_PERCPU_ARRAY);
		CHECK_EQ(bpf_map__max_entries(stats), VPIO_XDP_STAT_COUNT);
		CHECK_EQ(bpf_map__value_size(stats), 8);
	}
	/* libxdp's dispatcher reads the run config from BTF: the object must carry it. */
	CHECK(bpf_object__btf(obj) != NULL);
}

static void t_load(void)
{
	CHECK(obj != NULL);
	if (!obj)
		return;
	int err = bpf_object__load(obj);
	if (err)
		printf("# bpf_object__load: %s\n", strerror(-err));
	CHECK_EQ(err, 0);
	prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, VPIO_XDP_PROG_NAME));
	CHECK(prog_fd >= 0);
}

/* Sums the per-CPU counter `stat`. */
static long long stat_sum(int stat)
{
	int fd = bpf_object__find_map_fd_by_name(obj, VPIO_XDP_STATS_NAME);
	__u32 key = (__u32)stat;
	__u64 vals[nr_cpus];
	long long sum = 0;

	if (fd < 0 || bpf_map_lookup_elem(fd, &key, vals) != 0)
		return -1;
	for (int i = 0; i < nr_cpus; i++)
		sum += (long long)vals[i];
	return sum;
}

static unsigned char frame[64] = {
	0x02, 0, 0, 0, 0, 0x02, /* dst */
	0x02, 0, 0, 0, 0, 0x01, /* src */
	0x88, 0xb5,             /* local experimental ethertype */
};

static void t_pass_without_socket(void)
{
	CHECK(prog_fd >= 0);
	if (prog_fd < 0)
		return;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame), .repeat = 100);
	long long before = stat_sum(VPIO_XDP_STAT_PASS);
	int err = bpf_prog_test_run_opts(prog_fd, &opts);
	CHECK_EQ(err, 0);
	CHECK_EQ(opts.retval, XDP_PASS);
	CHECK_EQ(stat_sum(VPIO_XDP_STAT_PASS) - before, 100);
	CHECK_EQ(stat_sum(VPIO_XDP_STAT_REDIRECT), 0);
}

/* The same through an explicit context: queue 0 of lo, whose XSKMAP slot is empty. */
static void t_pass_queue0_ctx(void)
{
	CHECK(prog_fd >= 0);
	if (prog_fd < 0)
		return;
	struct xdp_md ctx = { .data_end = sizeof(frame), .ingress_ifindex = if_nametoindex("lo"), .rx_queue_index = 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	CHECK(ctx.ingress_ifindex != 0);
	int err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err)
		printf("# bpf_prog_test_run_opts: %s\n", strerror(errno));
	CHECK_EQ(err, 0);
	CHECK_EQ(opts.retval, XDP_PASS);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		obj_path = argv[1];
	libbpf_set_print(quiet_print);
	nr_cpus = libbpf_num_possible_cpus();
	if (nr_cpus <= 0) {
		printf("Bail out! libbpf_num_possible_cpus: %d\n", nr_cpus);
		return 1;
	}
	tap_run("the object matches vpio/xdp_vpio.h: program xdp_vpio in section xdp, an XSKMAP of 64 queues, "
		"two per-CPU counters, BTF for libxdp",
		t_contract);
	tap_run("the verifier accepts the program", t_load);
	tap_run("with no socket in the XSKMAP every frame gets XDP_PASS and is counted as passed", t_pass_without_socket);
	tap_run("a frame on queue 0 of a real interface (lo) with an empty slot gets XDP_PASS", t_pass_queue0_ctx);
	bpf_object__close(obj);
	return tap_done();
}
