/* SPDX-License-Identifier: MIT */
/*
 * xsk_handoff.c - the privileged half of an AF_XDP wire (vpio/xsk_handoff.h):
 * attach vpio's XDP program, make a sealed memfd UMEM and a bound AF_XDP
 * socket, insert it into the program's XSKMAP. Control path only (runs once
 * per wire, in vpio-launch's monitor); plain libbpf and raw AF_XDP socket
 * options, no libxdp (libxdp 1.3.1 cannot hand a socket over).
 */
/* _GNU_SOURCE (memfd_create, F_ADD_SEALS) comes from the build flags (devkit c.mk) */
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vpio/xdp_vpio.h"
#include "vpio/xsk_handoff.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9 /* Linux 6.17: frames one copy-mode sendto() may send (default 32) */
#endif

static void say(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* libbpf's messages: silent unless VPIO_XDP_DEBUG is set. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return getenv("VPIO_XDP_DEBUG") ? vfprintf(stderr, fmt, ap) : 0;
}

int vpio_xsk_rx_queues(const char *ifname, uint32_t *n)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	if (ioctl(s, SIOCETHTOOL, &ifr) == 0)
		*n = ch.rx_count + ch.combined_count ? ch.rx_count + ch.combined_count : 1;
	else if (errno == EOPNOTSUPP)
		*n = 1; /* no channels: one queue */
	else
		err = -errno;
	close(s);
	return err;
}

int vpio_xdp_check_object(struct bpf_object *obj, char *why, size_t len)
{
	struct bpf_map *xsks = bpf_object__find_map_by_name(obj, VPIO_XDP_XSKMAP_NAME);
	struct bpf_map *stats = bpf_object__find_map_by_name(obj, VPIO_XDP_STATS_NAME);

	if (!bpf_object__find_program_by_name(obj, VPIO_XDP_PROG_NAME) || !xsks || !stats ||
	    bpf_map__type(xsks) != BPF_MAP_TYPE_XSKMAP || bpf_map__max_entries(xsks) != VPIO_XDP_MAX_QUEUES ||
	    bpf_map__type(stats) != BPF_MAP_TYPE_PERCPU_ARRAY || bpf_map__max_entries(stats) != VPIO_XDP_STAT_COUNT) {
		say(why, len, "%s does not match vpio/xdp_vpio.h (ABI %d): rebuild it (make -C kernel)", bpf_object__name(obj),
		    VPIO_XDP_ABI_VERSION);
		return -EPROTO;
	}
	return 0;
}

/*
 * What is attached to ifindex now: 0 nothing; 1 a program, with *flags the
 * mode it is attached in and its name; -errno.
 */
static int attached(int ifindex, uint32_t *flags, uint32_t *id, char name[BPF_OBJ_NAME_LEN])
{
	static const uint32_t modes[2] = { XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };

	for (int i = 0; i < 2; i++) {
		uint32_t pid = 0;
		int rc = bpf_xdp_query_id(ifindex, (int)modes[i], &pid);

		if (rc < 0)
			return rc;
		if (pid == 0)
			continue;
		struct bpf_prog_info info;
		uint32_t ilen = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(pid);

		memset(&info, 0, sizeof(info));
		name[0] = '\0';
		if (fd >= 0) {
			if (bpf_obj_get_info_by_fd(fd, &info, &ilen) == 0)
				snprintf(name, BPF_OBJ_NAME_LEN, "%s", info.name);
			close(fd);
		}
		*flags = modes[i];
		*id = pid;
		return 1;
	}
	return 0;
}

static int attach_program(const struct vpio_xsk_req *r, struct vpio_xsk *x, char *why, size_t len)
{
	static const uint32_t order[2] = { XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };
	struct bpf_program *prog;
	char other[BPF_OBJ_NAME_LEN];
	uint32_t oflags = 0, oid = 0;
	int rc;

	libbpf_set_print(quiet);
	x->obj = bpf_object__open_file(r->obj, NULL);
	if (!x->obj) {
		rc = -errno;
		say(why, len, "XDP program %.160s: %s (make -C kernel builds it)", r->obj, strerror(-rc));
		return rc;
	}
	if ((rc = vpio_xdp_check_object(x->obj, why, len)) != 0)
		return rc;
	if ((rc = bpf_object__load(x->obj)) != 0) {
		say(why, len, "load the XDP program %.160s: %s%s", r->obj, strerror(-rc),
		    rc == -EPERM ? " (needs CAP_BPF and CAP_NET_ADMIN)" : "");
		return rc;
	}
	prog = bpf_object__find_program_by_name(x->obj, VPIO_XDP_PROG_NAME);
	x->prog_fd = bpf_program__fd(prog);

	rc = attached(x->ifindex, &oflags, &oid, other);
	if (rc < 0) {
		say(why, len, "%s: query its XDP program: %s", r->ifname, strerror(-rc));
		return rc;
	}
	if (rc == 1) {
		if (strcmp(other, VPIO_XDP_PROG_NAME) != 0) {
			say(why, len, "%s already has an XDP program attached (%s, id %u): vpio does not replace it", r->ifname,
			    other[0] ? other : "unnamed", oid);
			return -EBUSY;
		}
		/*
		 * Ours, attached the old way (netlink, not a link: by `ip link
		 * set xdp` or a vpio before links), which outlives its loader:
		 * its XSKMAP slots emptied when the sockets closed, so it only
		 * passes frames on. Replace it.
		 */
		(void)bpf_xdp_detach(x->ifindex, (int)oflags, NULL);
	}
	rc = -EOPNOTSUPP;
	for (int i = 0; i < 2; i++) {
		if ((r->attach == VPIO_XSK_FIRST && i == 1) || (r->attach == VPIO_XSK_SECOND && i == 0))
			continue;
		/*
		 * A BPF link, not a netlink attachment: the program stays exactly
		 * as long as the link's descriptor, so it goes when the holder
		 * closes it or dies (SIGKILL too), from any network namespace
		 * (the monitor moves to the domain's own right after this).
		 */
		LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = order[i]);
		rc = bpf_link_create(x->prog_fd, x->ifindex, BPF_XDP, &lo);
		if (rc >= 0) {
			x->link_fd = rc;
			x->attach_flags = order[i];
			x->native = i == 0;
			return 0;
		}
		rc = -errno;
	}
	say(why, len, "%s: attach the XDP program (%s): %s", r->ifname,
	    r->attach == VPIO_XSK_FIRST ? "native" : r->attach == VPIO_XSK_SECOND ? "generic" : "native, then generic",
	    strerror(-rc));
	return rc;
}

/* The sealed memfd UMEM of VPIO_XSK_FRAMES frames, mapped at *area. */
static int make_umem(struct vpio_xsk *x, void **area, char *why, size_t len)
{
	x->umem_len = (uint64_t)VPIO_XSK_FRAMES * x->frame_size;
	x->umem = memfd_create("vpio-xsk-umem", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (x->umem < 0) {
		int rc = -errno;
		say(why, len, "memfd_create: %s", strerror(-rc));
		return rc;
	}
	if (ftruncate(x->umem, (off_t)x->umem_len) < 0 ||
	    fcntl(x->umem, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		int rc = -errno;
		say(why, len, "size and seal the UMEM memfd: %s", strerror(-rc));
		return rc;
	}
	*area = mmap(NULL, x->umem_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, x->umem, 0);
	if (*area == MAP_FAILED) {
		int rc = -errno;
		*area = NULL;
		say(why, len, "map the UMEM (%llu bytes): %s", (unsigned long long)x->umem_len, strerror(-rc));
		return rc;
	}
	return 0;
}

static int setopt(int s, int name, uint32_t v)
{
	return setsockopt(s, SOL_XDP, name, &v, sizeof(v)) < 0 ? -errno : 0;
}

/* A socket with the UMEM registered, rings sized, bound with flags. -errno and nothing open on failure. */
static int make_socket(struct vpio_xsk *x, void *area, uint16_t flags)
{
	struct xdp_umem_reg reg = {
		.addr = (uint64_t)(uintptr_t)area,
		.len = x->umem_len,
		.chunk_size = x->frame_size,
		.headroom = 0,
	};
	struct sockaddr_xdp sa = {
		.sxdp_family = AF_XDP,
		.sxdp_ifindex = (uint32_t)x->ifindex,
		.sxdp_queue_id = x->queue,
		.sxdp_flags = flags,
	};
	int s = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0), rc;

	if (s < 0)
		return -errno;
	if (setsockopt(s, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = setopt(s, XDP_UMEM_FILL_RING, VPIO_XSK_FILL_RING)) || (rc = setopt(s, XDP_UMEM_COMPLETION_RING, VPIO_XSK_COMP_RING)) ||
	    (rc = setopt(s, XDP_RX_RING, VPIO_XSK_RX_RING)) || (rc = setopt(s, XDP_TX_RING, VPIO_XSK_TX_RING)))
		goto fail;
	/*
	 * The kernel releases a closed socket's hold on the queue from a work
	 * item: right after a previous wire on this queue closed (a restart),
	 * bind can still say EBUSY for a moment. Retry for up to a second.
	 */
	for (int tries = 0; tries < 50; tries++) {
		rc = bind(s, (const struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
		if (rc != -EBUSY)
			break;
		usleep(20000);
	}
	if (rc)
		goto fail;
	/* copy mode sends at most 32 frames per sendto() unless told more (Linux >= 6.17; older ones refuse: fine) */
	(void)setopt(s, XDP_MAX_TX_SKB_BUDGET, VPIO_XSK_TX_RING);
	return s;
fail:
	close(s);
	return rc;
}

int vpio_xsk_setup(const struct vpio_xsk_req *r, struct vpio_xsk *x, char *why, size_t len)
{
	struct ifreq ifr;
	uint32_t nq = 0;
	void *area = NULL;
	int rc, s;

	memset(x, 0, sizeof(*x));
	x->sock = x->umem = x->prog_fd = x->link_fd = -1;
	x->queue = r->queue;
	x->frame_size = r->frame_size ? r->frame_size : 2048;
	if ((x->frame_size != 2048 && x->frame_size != 4096) || !r->ifname || !r->obj) {
		say(why, len, "bad AF_XDP request (frame size %u: 2048 or 4096)", x->frame_size);
		return -EINVAL;
	}
	x->ifindex = (int)if_nametoindex(r->ifname);
	if (x->ifindex == 0) {
		rc = errno == ENODEV || errno == ENXIO ? -ENODEV : -errno;
		say(why, len, rc == -ENODEV ? "no interface %s" : "interface %s: %s", r->ifname, strerror(-rc));
		return rc;
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", r->ifname);
	rc = s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ? -errno : 0;
	if (s >= 0)
		close(s);
	if (rc) {
		say(why, len, "interface %s: SIOCGIFFLAGS: %s", r->ifname, strerror(-rc));
		return rc;
	}
	if (!(ifr.ifr_flags & IFF_UP)) {
		say(why, len, "interface %s is down (ip link set %s up)", r->ifname, r->ifname);
		return -ENETDOWN;
	}
	if ((rc = vpio_xsk_rx_queues(r->ifname, &nq)) < 0) {
		say(why, len, "interface %s: ETHTOOL_GCHANNELS: %s", r->ifname, strerror(-rc));
		return rc;
	}
	if (nq > 1) {
		say(why, len,
		    "%s has %u rx queues; the AF_XDP wire serves one queue: ethtool -L %s rx 1 (or combined 1), or --mode packet",
		    r->ifname, nq, r->ifname);
		return -EXFULL;
	}
	if (r->queue >= nq) {
		say(why, len, "%s has no rx queue %u (it has %u)", r->ifname, r->queue, nq);
		return -EINVAL;
	}
	/* 1. the program: until step 4 the queue's frames meet an empty slot and pass to the stack */
	if ((rc = attach_program(r, x, why, len)) != 0)
		goto fail;
	/* 2. the UMEM */
	if ((rc = make_umem(x, &area, why, len)) != 0)
		goto fail;
	/* 3. the socket: zero-copy first, copy mode on a fresh socket when the driver refuses */
	rc = -EOPNOTSUPP;
	if (r->bind != VPIO_XSK_SECOND) {
		rc = make_socket(x, area, XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP);
		x->zerocopy = rc >= 0;
	}
	if (rc < 0 && r->bind != VPIO_XSK_FIRST)
		rc = make_socket(x, area, XDP_COPY | XDP_USE_NEED_WAKEUP);
	if (rc < 0) {
		say(why, len, "bind an AF_XDP socket to %s queue %u (%s): %s%s", r->ifname, r->queue,
		    r->bind == VPIO_XSK_FIRST ? "zerocopy" : r->bind == VPIO_XSK_SECOND ? "copy" : "zerocopy, then copy", strerror(-rc),
		    rc == -EPERM ? " (needs CAP_NET_RAW, and CAP_IPC_LOCK or a RLIMIT_MEMLOCK above the UMEM)" : "");
		goto fail;
	}
	x->sock = rc;
	/*
	 * The registration pinned the pages; the receiver maps the memfd
	 * itself. Our mapping is not needed any more.
	 */
	munmap(area, x->umem_len);
	area = NULL;
	/* 4. the socket into the XSKMAP at its queue: the queue's frames go to it from now on */
	int map_fd = bpf_object__find_map_fd_by_name(x->obj, VPIO_XDP_XSKMAP_NAME);
	uint32_t key = x->queue;
	rc = map_fd < 0 ? map_fd : bpf_map_update_elem(map_fd, &key, &x->sock, BPF_ANY) < 0 ? -errno : 0;
	if (rc) {
		say(why, len, "put the socket into %s[%u]: %s", VPIO_XDP_XSKMAP_NAME, x->queue, strerror(-rc));
		goto fail;
	}
	return 0;
fail:
	if (area)
		munmap(area, x->umem_len);
	vpio_xsk_close_fds(x);
	vpio_xsk_detach(x);
	return rc;
}

void vpio_xsk_close_fds(struct vpio_xsk *x)
{
	if (x->sock >= 0)
		close(x->sock);
	if (x->umem >= 0)
		close(x->umem);
	x->sock = x->umem = -1;
}

void vpio_xsk_detach(struct vpio_xsk *x)
{
	if (x->link_fd >= 0)
		close(x->link_fd); /* the last reference to the link: the program leaves the interface */
	x->link_fd = -1;
	if (x->obj)
		bpf_object__close(x->obj);
	x->obj = NULL;
	x->prog_fd = -1;
	x->attach_flags = 0;
}
