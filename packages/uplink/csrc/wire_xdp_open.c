/* SPDX-License-Identifier: MIT */
/*
 * wire_xdp_open.c - the AF_XDP wire's control path: options, open (program
 * attach, UMEM, socket bind, XSKMAP insert; the order is explained at the
 * top of wire_xdp.c), close, and the counters the stats line prints.
 * Runs on the pump's thread, outside the data path: it may allocate and
 * make syscalls.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "vpio/xdp_vpio.h"
#include "wire_xdp_internal.h"

uint32_t wire_xdp_counters(const struct wire *w, struct wire_counter out[], uint32_t max)
{
	const struct wire_xdp *x = XDP_OF_C(w);
	struct xdp_statistics ks = { 0 };
	socklen_t kl = sizeof(ks);
	uint64_t redirected = 0, passed = 0;

	/* The kernel's own drop counters for this socket (not in st.rx_drops: those are ours). */
	if (getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, &ks, &kl) != 0)
		memset(&ks, 0, sizeof(ks));
	/* The program's per-CPU counters, summed (the map holds all the interface's queues). */
	if (x->stats_map_fd >= 0) {
		int ncpu = libbpf_num_possible_cpus();
		if (ncpu > 0 && ncpu <= 4096) {
			uint64_t vals[ncpu];
			uint32_t key = VPIO_XDP_STAT_REDIRECT;
			if (bpf_map_lookup_elem(x->stats_map_fd, &key, vals) == 0)
				for (int i = 0; i < ncpu; i++)
					redirected += vals[i];
			key = VPIO_XDP_STAT_PASS;
			if (bpf_map_lookup_elem(x->stats_map_fd, &key, vals) == 0)
				for (int i = 0; i < ncpu; i++)
					passed += vals[i];
		}
	}
	const struct wire_counter all[] = {
		{ "rx_drop_bad_desc", x->rx_drop_bad_desc },
		{ "rx_drop_too_long", x->rx_drop_too_long },
		{ "rx_drop_runt", x->rx_drop_runt },
		{ "tx_drop_bad_len", x->tx_drop_bad_len },
		{ "xsk_rx_dropped", ks.rx_dropped }, /* frame larger than a UMEM frame, ... */
		{ "xsk_rx_invalid_descs", ks.rx_invalid_descs },
		{ "xsk_rx_ring_full", ks.rx_ring_full },
		{ "xsk_rx_fill_ring_empty", ks.rx_fill_ring_empty_descs },
		{ "xsk_tx_invalid_descs", ks.tx_invalid_descs },
		{ "xsk_tx_ring_empty", ks.tx_ring_empty_descs },
		{ "xdp_redirected", redirected },
		{ "xdp_passed", passed },
		{ "tx_kicks", x->w.st.tx_flushes },
		{ "tx_kick_retries", x->tx_kick_retries },
		{ "tx_kick_busy", x->tx_kick_busy },
		{ "rx_kicks", x->rx_kicks },
		{ "comp_bad", x->comp_bad },
		{ "fill_lost", x->fill_lost },
		{ "tx_frames_free", x->tx_nfree },
		{ "zerocopy", x->zerocopy },
		{ "attach_native", x->attach_mode == XDP_MODE_NATIVE },
		{ "queue", x->queue },
	};
	uint32_t n = sizeof(all) / sizeof(all[0]);
	if (n > max)
		n = max;
	memcpy(out, all, n * sizeof(all[0]));
	return n;
}

/* ------------------------------------------------------------ control path */

/*
 * Detaches our program and nothing else. Through libxdp's dispatcher (bpffs
 * mounted at /sys/fs/bpf) xdp_program__detach() takes ours out of the
 * chain. Without bpffs libxdp attached ours alone (a "legacy" attachment),
 * and libxdp 1.3.1's detach of that leaks a program descriptor
 * (xdp-tools issue #343's kind), so we detach it with libbpf, replacing
 * exactly our program (XDP_FLAGS_REPLACE: someone else's is left alone).
 */
static void detach_program(struct wire_xdp *x)
{
	__u32 flags = x->attach_mode == XDP_MODE_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
	__u32 id = 0;

	if (bpf_xdp_query_id(x->ifindex, (int)flags, &id) == 0 && id != 0 && id == xdp_program__id(x->prog)) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = xdp_program__fd(x->prog));
		bpf_xdp_detach(x->ifindex, flags | XDP_FLAGS_REPLACE, &o);
		return;
	}
	xdp_program__detach(x->prog, x->ifindex, x->attach_mode, 0);
}

void wire_xdp_close(struct wire *w)
{
	struct wire_xdp *x = XDP_OF(w);

	if (!x)
		return;
	for (int i = 0; i < 4; i++)
		if (x->ring_map[i])
			munmap(x->ring_map[i], x->ring_len[i]);
	if (x->adopted && x->fd >= 0)
		close(x->fd); /* vpio-launch's monitor detaches the program */
	if (x->xsk)
		xsk_socket__delete(x->xsk); /* closing the socket empties its XSKMAP slot */
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->stats_map_fd >= 0)
		close(x->stats_map_fd);
	if (x->prog) {
		if (x->attached)
			detach_program(x);
		xdp_program__close(x->prog);
	}
	if (x->area)
		munmap(x->area, x->area_len);
	free(x);
}


/* libbpf's and libxdp's messages: silent, unless VPIO_XDP_DEBUG is set (then on stderr, debug level too). */
static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return getenv("VPIO_XDP_DEBUG") ? vfprintf(stderr, fmt, ap) : 0;
}

static int print_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return getenv("VPIO_XDP_DEBUG") ? vfprintf(stderr, fmt, ap) : 0;
}

/* The default object: $VPIO_XDP_OBJ, else kernel/build/ of the repository this executable was built in. */
static void default_obj(char *buf, size_t len)
{
	const char *env = getenv("VPIO_XDP_OBJ");
	char exe[PATH_MAX - 64]; /* room for the suffix below */
	ssize_t n;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		snprintf(buf, len, "kernel/build/xdp_vpio.bpf.o");
		return;
	}
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	/* packages/uplink/build[/test] -> the repository root */
	char *p = strstr(exe, "/packages/uplink/build");
	if (p) {
		*p = '\0';
		snprintf(buf, len, "%s/kernel/build/xdp_vpio.bpf.o", exe);
	} else {
		snprintf(buf, len, "%s/../../../kernel/build/xdp_vpio.bpf.o", exe);
	}
}

static int attach_program(struct wire_xdp *x, const struct xdp_opts *op, char err[WIRE_ERR_LEN])
{
	static const enum xdp_attach_mode order[2] = { XDP_MODE_NATIVE, XDP_MODE_SKB };
	int rc = 0;

	x->prog = xdp_program__open_file(op->obj, "xdp", NULL);
	rc = (int)libxdp_get_error(x->prog);
	if (rc) {
		x->prog = NULL;
		snprintf(err, WIRE_ERR_LEN, "open XDP program %.160s: %s", op->obj, strerror(-rc));
		return rc;
	}
	rc = vpio_xdp_check_object(xdp_program__bpf_obj(x->prog), err, WIRE_ERR_LEN); /* @vpio/kernel's */
	if (rc)
		return rc;
	/*
	 * Another program attached without libxdp's dispatcher (or ours, alone,
	 * for another queue where bpffs or freplace programs are unavailable):
	 * libxdp would refuse with EBUSY after leaking descriptors (1.3.1); say
	 * so up front instead.
	 */
	char other[BPF_OBJ_NAME_LEN];
	uint32_t other_id;
	if (wire_xdp_foreign_program(x->ifindex, &other_id, other) == 1) {
		snprintf(err, WIRE_ERR_LEN,
			 "attach the XDP program: %.16s (id %u) is already attached without libxdp's dispatcher "
			 "(needs bpffs at /sys/fs/bpf and freplace programs)",
			 other, other_id);
		return -EBUSY;
	}
	for (int i = 0; i < 2; i++) {
		if ((op->attach == PREF_FIRST && i == 1) || (op->attach == PREF_SECOND && i == 0))
			continue;
		rc = xdp_program__attach(x->prog, x->ifindex, order[i], 0);
		if (rc == 0) {
			x->attach_mode = order[i];
			x->attached = true;
			break;
		}
	}
	if (rc) {
		char msg[128];
		libxdp_strerror(rc, msg, sizeof(msg));
		snprintf(err, WIRE_ERR_LEN, "attach the XDP program (%s): %s",
			 op->attach == PREF_FIRST ? "native" : op->attach == PREF_SECOND ? "generic" : "native, then generic", msg);
		xdp_program__close(x->prog);
		x->prog = NULL;
		return rc;
	}
	x->stats_map_fd = bpf_object__find_map_fd_by_name(xdp_program__bpf_obj(x->prog), VPIO_XDP_STATS_NAME);
	if (x->stats_map_fd >= 0)
		x->stats_map_fd = dup(x->stats_map_fd); /* ours to close, whatever libxdp does with the object */
	return 0;
}

/* UMEM + socket bound with `bind_flags`. On failure everything it made is gone again. */
static int make_socket(struct wire_xdp *x, const char *ifname, uint16_t bind_flags)
{
	struct xsk_umem_config uc = {
		.fill_size = FILL_SIZE,
		.comp_size = RING_SIZE,
		.frame_size = x->frame_size,
		.frame_headroom = 0,
		.flags = 0,
	};
	struct xsk_socket_config sc = {
		.rx_size = RX_RING_SIZE,
		.tx_size = RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD, /* never libxdp's own program */
		.xdp_flags = 0,
		.bind_flags = bind_flags,
	};
	int rc = xsk_umem__create(&x->umem, x->area, x->area_len, &x->fill, &x->comp, &uc);
	if (rc) {
		x->umem = NULL;
		return rc;
	}
	/*
	 * The kernel releases a closed socket's hold on the queue from a work
	 * item: right after a previous wire on this queue closed (a restart),
	 * bind can still say EBUSY for a moment. Retry for up to a second.
	 */
	for (int tries = 0; tries < 50; tries++) {
		rc = xsk_socket__create(&x->xsk, ifname, x->queue, x->umem, &x->rx, &x->tx, &sc);
		if (rc != -EBUSY)
			break;
		usleep(20000);
	}
	if (rc) {
		x->xsk = NULL;
		xsk_umem__delete(x->umem);
		x->umem = NULL;
		return rc;
	}
	x->fd = xsk_socket__fd(x->xsk);
	return 0;
}

/* A non-negative decimal environment variable, or -1. */
static long env_num(const char *name, long max)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	return errno || *end || n < 0 || n > max ? -1 : n;
}

/* Maps one of the socket's rings (len bytes at pgoff) into x->ring_map[i]. */
static void *map_ring(struct wire_xdp *x, int i, size_t len, off_t pgoff)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, x->fd, pgoff);

	if (p == MAP_FAILED)
		return NULL;
	x->ring_map[i] = p;
	x->ring_len[i] = len;
	return p;
}

#define RING_INIT(r, map, off, n, prod)                                                   \
	do {                                                                               \
		(r)->producer = (uint32_t *)((uint8_t *)(map) + (off).producer);            \
		(r)->consumer = (uint32_t *)((uint8_t *)(map) + (off).consumer);            \
		(r)->flags = (uint32_t *)((uint8_t *)(map) + (off).flags);                  \
		(r)->ring = (uint8_t *)(map) + (off).desc;                                  \
		(r)->mask = (n) - 1;                                                        \
		(r)->size = (n);                                                            \
		(r)->cached_prod = __atomic_load_n((r)->producer, __ATOMIC_ACQUIRE);        \
		(r)->cached_cons = __atomic_load_n((r)->consumer, __ATOMIC_ACQUIRE) + ((prod) ? (n) : 0); \
	} while (0)

/*
 * The wire vpio-launch made (vpio/xsk_handoff.h): o->fd is the bound AF_XDP
 * socket, $VPIO_WIRE_UMEM_FD the sealed UMEM memfd, the ring sizes are the
 * header's. We map the four rings and the UMEM; nothing else is possible
 * here (no capability, bind() refused by the sandbox), nor needed.
 */
static int xdp_adopt(const struct wire_opts *o, struct wire_xdp *x, char err[WIRE_ERR_LEN])
{
	struct xdp_mmap_offsets off;
	struct xdp_options xo = { 0 };
	socklen_t len = sizeof(off);
	struct stat st;
	long umem = env_num("VPIO_WIRE_UMEM_FD", 1 << 20), q = env_num("VPIO_XDP_QUEUE", VPIO_XDP_MAX_QUEUES - 1);
	const char *attach = getenv("VPIO_XDP_ATTACH");
	int rc, seals;

	x->adopted = true;
	x->fd = o->fd;
	x->queue = q < 0 ? 0 : (uint32_t)q;
	x->attach_mode = attach && !strcmp(attach, "generic") ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	if (umem < 0 || fstat((int)umem, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, WIRE_ERR_LEN, "no UMEM: $VPIO_WIRE_UMEM_FD must name the memfd vpio-launch --wire-xdp passed");
		return -EBADF;
	}
	seals = fcntl((int)umem, F_GET_SEALS);
	x->frame_size = (uint32_t)((uint64_t)st.st_size / VPIO_XSK_FRAMES);
	x->area_len = (uint64_t)st.st_size;
	if ((x->frame_size != 2048 && x->frame_size != 4096) || x->area_len != (uint64_t)VPIO_XSK_FRAMES * x->frame_size ||
	    seals < 0 || !(seals & F_SEAL_SHRINK)) {
		snprintf(err, WIRE_ERR_LEN, "the UMEM memfd (%lld bytes, seals %#x) is not %u frames of 2048 or 4096 bytes, sealed",
			 (long long)st.st_size, seals < 0 ? 0 : (unsigned)seals, VPIO_XSK_FRAMES);
		close((int)umem);
		return -EINVAL;
	}
	if (o->frame_max + XDP_PACKET_HEADROOM > x->frame_size) {
		snprintf(err, WIRE_ERR_LEN, "frames of %u bytes do not fit the %u-byte UMEM frames vpio-launch made (--wire-xdp-frame-size 4096)",
			 o->frame_max, x->frame_size);
		close((int)umem);
		return -EMSGSIZE;
	}
	x->area = mmap(NULL, x->area_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, (int)umem, 0);
	rc = x->area == MAP_FAILED ? -errno : 0;
	close((int)umem);
	if (rc) {
		x->area = NULL;
		snprintf(err, WIRE_ERR_LEN, "map the UMEM: %s", strerror(-rc));
		return rc;
	}
	if (getsockopt(x->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &len) < 0 || len != sizeof(off)) {
		rc = -errno ? -errno : -EPROTO;
		snprintf(err, WIRE_ERR_LEN, "XDP_MMAP_OFFSETS: %s", strerror(-rc));
		return rc;
	}
	void *fr = map_ring(x, 0, off.fr.desc + FILL_SIZE * sizeof(uint64_t), XDP_UMEM_PGOFF_FILL_RING);
	void *cr = fr ? map_ring(x, 1, off.cr.desc + RING_SIZE * sizeof(uint64_t), XDP_UMEM_PGOFF_COMPLETION_RING) : NULL;
	void *rx = cr ? map_ring(x, 2, off.rx.desc + RX_RING_SIZE * sizeof(struct xdp_desc), XDP_PGOFF_RX_RING) : NULL;
	void *tx = rx ? map_ring(x, 3, off.tx.desc + RING_SIZE * sizeof(struct xdp_desc), XDP_PGOFF_TX_RING) : NULL;
	if (!tx) {
		rc = -errno;
		snprintf(err, WIRE_ERR_LEN, "map the AF_XDP rings: %s", strerror(-rc));
		return rc;
	}
	RING_INIT(&x->fill, fr, off.fr, FILL_SIZE, 1);
	RING_INIT(&x->comp, cr, off.cr, RING_SIZE, 0);
	RING_INIT(&x->rx, rx, off.rx, RX_RING_SIZE, 0);
	RING_INIT(&x->tx, tx, off.tx, RING_SIZE, 1);
	len = sizeof(xo);
	if (getsockopt(x->fd, SOL_XDP, XDP_OPTIONS, &xo, &len) == 0)
		x->zerocopy = (xo.flags & XDP_OPTIONS_ZEROCOPY) != 0;
	return 0;
}

/* Every RX frame to the fill ring, every TX frame onto the free stack. */
static int prime_frames(struct wire_xdp *x, char err[WIRE_ERR_LEN])
{
	uint32_t idx;

	if (xsk_ring_prod__reserve(&x->fill, RX_FRAMES, &idx) != RX_FRAMES) {
		snprintf(err, WIRE_ERR_LEN, "fill ring: no room for %u frames", RX_FRAMES);
		return -ENOSPC;
	}
	for (uint32_t i = 0; i < RX_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = (uint64_t)i * x->frame_size;
	xsk_ring_prod__submit(&x->fill, RX_FRAMES);
	for (uint32_t i = 0; i < TX_FRAMES; i++)
		x->tx_free[x->tx_nfree++] = (uint64_t)(RX_FRAMES + TX_FRAMES - 1 - i) * x->frame_size;
	return 0;
}

static int xdp_open(const struct wire_opts *o, struct wire **out, char err[WIRE_ERR_LEN])
{
	const struct xdp_opts *op = o->priv;
	struct xdp_opts defaults = { .queue = 0, .bind = PREF_AUTO, .attach = PREF_AUTO };
	int rc;

	*out = NULL;
	if (o->fd >= 0) {
		struct wire_xdp *a = calloc(1, sizeof(*a));
		if (!a) {
			close(o->fd);
			snprintf(err, WIRE_ERR_LEN, "allocate the AF_XDP wire: %s", strerror(ENOMEM));
			return -ENOMEM;
		}
		a->w.ops = &wire_xdp_ops;
		a->w.backend = &wire_xdp_backend;
		a->stats_map_fd = -1;
		a->frame_max = o->frame_max;
		a->ifindex = o->name ? (int)if_nametoindex(o->name) : 0; /* 0 in the sandbox's own namespace: messages only */
		rc = xdp_adopt(o, a, err);
		if (rc == 0)
			rc = prime_frames(a, err);
		if (rc) {
			wire_xdp_close(&a->w);
			return rc;
		}
		*out = &a->w;
		return 0;
	}
	if (!op) {
		default_obj(defaults.obj, sizeof(defaults.obj));
		op = &defaults;
	}
	if (!o->name || !*o->name) {
		snprintf(err, WIRE_ERR_LEN, "no interface: set VPIO_WIRE_NAME");
		return -EINVAL;
	}
	libbpf_set_print(print_libbpf);
	libxdp_set_print(print_libxdp);

	struct wire_xdp *x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, WIRE_ERR_LEN, "allocate the AF_XDP wire: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	x->w.ops = &wire_xdp_ops;
	x->w.backend = &wire_xdp_backend;
	x->fd = -1;
	x->stats_map_fd = -1;
	x->queue = op->queue;
	x->frame_max = o->frame_max;
	x->ifindex = (int)if_nametoindex(o->name);
	if (x->ifindex == 0) {
		rc = -errno;
		snprintf(err, WIRE_ERR_LEN, "interface %s: %s", o->name, strerror(errno));
		goto fail;
	}
	/* A UMEM frame holds XDP_PACKET_HEADROOM (256) plus the frame, in copy mode too. */
	x->frame_size = op->frame_size ? op->frame_size : (o->frame_max + XDP_PACKET_HEADROOM <= 2048 ? 2048 : 4096);
	if (o->frame_max + XDP_PACKET_HEADROOM > x->frame_size) {
		rc = -EMSGSIZE;
		snprintf(err, WIRE_ERR_LEN, "frames of %u bytes do not fit a %u-byte UMEM frame (multi-buffer AF_XDP is not supported)",
			 o->frame_max, x->frame_size);
		goto fail;
	}
	x->area_len = (uint64_t)(RX_FRAMES + TX_FRAMES) * x->frame_size;
	/*
	 * Shared, not private: the kernel pins these pages, and a private
	 * mapping's pinned pages are copied for a forked child, which would
	 * then read stale frames (a handed-over data path needs the same pages).
	 */
	x->area = mmap(NULL, x->area_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		rc = -errno;
		snprintf(err, WIRE_ERR_LEN, "map the UMEM (%llu bytes): %s", (unsigned long long)x->area_len, strerror(errno));
		goto fail;
	}

	/* 1. our program, before the socket: meanwhile the queue's frames pass to the stack */
	rc = attach_program(x, op, err);
	if (rc)
		goto fail;

	/* 2+3. UMEM and socket: zero-copy first, copy mode on a fresh socket when the driver refuses */
	rc = -EOPNOTSUPP;
	if (op->bind != PREF_SECOND) {
		rc = make_socket(x, o->name, XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP);
		x->zerocopy = rc == 0;
	}
	if (rc && op->bind != PREF_FIRST)
		rc = make_socket(x, o->name, XDP_COPY | XDP_USE_NEED_WAKEUP);
	if (rc) {
		snprintf(err, WIRE_ERR_LEN, "bind an AF_XDP socket to %s queue %u (%s): %s", o->name, x->queue,
			 op->bind == PREF_FIRST ? "zerocopy" : op->bind == PREF_SECOND ? "copy" : "zerocopy, then copy",
			 strerror(-rc));
		goto fail;
	}
	/* Copy mode sends at most 32 frames per sendto() unless told more (Linux >= 6.17; older ones refuse: fine). */
	unsigned int budget = RING_SIZE;
	(void)setsockopt(x->fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget, sizeof(budget));

	/* the fill ring gets every RX frame; the TX frames start free */
	if ((rc = prime_frames(x, err)) != 0)
		goto fail;

	/* 4. the socket into our XSKMAP at its queue: the queue's frames come here from now on */
	int map_fd = bpf_object__find_map_fd_by_name(xdp_program__bpf_obj(x->prog), VPIO_XDP_XSKMAP_NAME);
	rc = map_fd < 0 ? map_fd : xsk_socket__update_xskmap(x->xsk, map_fd);
	if (rc) {
		snprintf(err, WIRE_ERR_LEN, "put the socket into %s[%u]: %s", VPIO_XDP_XSKMAP_NAME, x->queue, strerror(-rc));
		goto fail;
	}
	*out = &x->w;
	return 0;
fail:
	wire_xdp_close(&x->w);
	return rc;
}

int wire_xdp_info(const struct wire *w, struct wire_xdp_info *out)
{
	if (!w || w->backend != &wire_xdp_backend || !out)
		return -EINVAL;
	const struct wire_xdp *x = XDP_OF_C(w);
	out->bind = x->zerocopy ? "zerocopy" : "copy";
	out->attach = x->attach_mode == XDP_MODE_NATIVE ? "native" : "generic";
	out->queue = x->queue;
	out->frame_size = x->frame_size;
	out->rx_frame_max = x->frame_size - XDP_PACKET_HEADROOM;
	out->ifindex = (uint32_t)x->ifindex;
	return 0;
}

/* ----------------------------------------------------------------- options */

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max || s[0] == '-')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int wire_xdp_set_option(struct wire_opts *o, const char *name, const char *value, char err[WIRE_ERR_LEN])
{
	struct xdp_opts *op = o->priv;

	if (!op) {
		op = calloc(1, sizeof(*op));
		if (!op) {
			snprintf(err, WIRE_ERR_LEN, "out of memory");
			return -1;
		}
		default_obj(op->obj, sizeof(op->obj));
		o->priv = op;
	}
	if (!value) {
		snprintf(err, WIRE_ERR_LEN, "%s needs a value", name);
		return -1;
	}
	if (strcmp(name, "--xdp-queue") == 0) {
		if (parse_u32(value, VPIO_XDP_MAX_QUEUES - 1, &op->queue) == 0)
			return 0;
		snprintf(err, WIRE_ERR_LEN, "--xdp-queue: expected 0..%d, got \"%s\"", VPIO_XDP_MAX_QUEUES - 1, value);
	} else if (strcmp(name, "--xdp-bind") == 0) {
		op->bind = !strcmp(value, "zerocopy") ? PREF_FIRST : !strcmp(value, "copy") ? PREF_SECOND : PREF_AUTO;
		if (op->bind != PREF_AUTO || !strcmp(value, "auto"))
			return 0;
		snprintf(err, WIRE_ERR_LEN, "--xdp-bind: expected auto|zerocopy|copy, got \"%s\"", value);
	} else if (strcmp(name, "--xdp-attach") == 0) {
		op->attach = !strcmp(value, "native") ? PREF_FIRST : !strcmp(value, "generic") ? PREF_SECOND : PREF_AUTO;
		if (op->attach != PREF_AUTO || !strcmp(value, "auto"))
			return 0;
		snprintf(err, WIRE_ERR_LEN, "--xdp-attach: expected auto|native|generic, got \"%s\"", value);
	} else if (strcmp(name, "--xdp-frame-size") == 0) {
		if (parse_u32(value, 4096, &op->frame_size) == 0 && (op->frame_size == 2048 || op->frame_size == 4096))
			return 0;
		snprintf(err, WIRE_ERR_LEN, "--xdp-frame-size: expected 2048 or 4096, got \"%s\"", value);
	} else if (strcmp(name, "--xdp-obj") == 0) {
		if (strlen(value) < sizeof(op->obj)) {
			snprintf(op->obj, sizeof(op->obj), "%s", value);
			return 0;
		}
		snprintf(err, WIRE_ERR_LEN, "--xdp-obj: path too long");
	} else {
		snprintf(err, WIRE_ERR_LEN, "unknown option %s", name);
	}
	return -1;
}

static int xdp_option(struct wire_opts *o, const char *name, const char *value, char err[WIRE_ERR_LEN])
{
	if (strncmp(name, "--xdp-", 6) != 0)
		return 0;
	return wire_xdp_set_option(o, name, value, err) == 0 ? 2 : -1;
}

static int xdp_check_opts(const struct wire_opts *o, char err[WIRE_ERR_LEN])
{
	const struct xdp_opts *op = o->priv;

	if (!o->name || !*o->name) {
		snprintf(err, WIRE_ERR_LEN, "--wire xdp needs the interface in VPIO_WIRE_NAME");
		return -1;
	}
	if (op && access(op->obj, R_OK) != 0) {
		snprintf(err, WIRE_ERR_LEN, "XDP program %.160s: %s (make -C kernel builds it)", op->obj, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Two ways to get the wire: a descriptor (the bound AF_XDP socket vpio-launch
 * --wire-xdp made, with the UMEM memfd in $VPIO_WIRE_UMEM_FD: xdp_adopt) or
 * none (-1: this process does every step itself; root, tests).
 */
static int xdp_check_fd(int fd, char err[WIRE_ERR_LEN])
{
	int domain = -1;
	socklen_t len = sizeof(domain);

	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_XDP)
		return 0;
	snprintf(err, WIRE_ERR_LEN, "--wire xdp needs an AF_XDP socket (vpio-launch --wire-xdp); descriptor %d is %s", fd,
		 domain >= 0 ? "another kind of socket" : errno == ENOTSOCK ? "not a socket" : strerror(errno));
	return -EPROTOTYPE;
}

static void xdp_free_opts(struct wire_opts *o)
{
	free(o->priv);
	o->priv = NULL;
}

const struct wire_backend wire_xdp_backend = {
	.kind = "xdp",
	.launch_kind = "xdp",
	.usage = "  --xdp-queue N          the NIC rx/tx queue to bind (default 0)\n"
		 "  --xdp-bind MODE        auto|zerocopy|copy (default auto: zerocopy, else copy)\n"
		 "  --xdp-attach MODE      auto|native|generic (default auto: native, else generic)\n"
		 "  --xdp-frame-size N     UMEM frame size, 2048 or 4096 (default: from the vif's frame size)\n"
		 "  --xdp-obj PATH         the XDP program (default $VPIO_XDP_OBJ or kernel/build/xdp_vpio.bpf.o)\n",
	.option = xdp_option,
	.check_opts = xdp_check_opts,
	.check_fd = xdp_check_fd,
	.open = xdp_open,
	.free_opts = xdp_free_opts,
};
