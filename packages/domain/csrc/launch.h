/* SPDX-License-Identifier: MIT */
/*
 * launch.h - internal interface between the parts of vpio-launch.
 *
 *   launcher.c  argument parsing, the order of the steps, --check
 *   ns.c        namespaces, the private /proc, identity (uid/gid/groups)
 *   seccomp.c   the classic-BPF deny filter
 *   cgroup.c    per-domain cgroup: create, limit, join (v1 and v2)
 *   tap.c       a Linux guest's TAP device (--tap)
 *   wire.c      an uplink tenant's wire socket (--wire-packet, --wire-udp)
 *
 * Every function returns 0 or a negative errno; none prints. The caller
 * (launcher.c) turns a failure into the step's exit status and a one-line
 * message naming the step.
 */
#ifndef VPIO_LAUNCH_H
#define VPIO_LAUNCH_H

#include <stdint.h>
#include <sys/types.h>

/* Limits of one domain's cgroup. 0 means "leave the default". */
struct launch_limits {
	uint64_t memory_bytes;   /* memory.limit_in_bytes / memory.max (+ swap off) */
	uint32_t cpu_shares;     /* cpu.shares (v1) or the equivalent cpu.weight (v2) */
	uint32_t cpu_quota_us;   /* cpu.cfs_quota_us / cpu.max quota */
	uint32_t cpu_period_us;  /* cpu.cfs_period_us / cpu.max period (default 100000) */
	uint32_t max_pids;       /* pids.max (the launcher's own process counts) */
};

/* ---- ns.c ---- */

/* unshare() the user namespace and map `uid`/`gid` inside to the caller's
 * ids outside (the unprivileged path). Returns 0 or -errno. */
/* Writes `text` to an existing file (procfs, cgroupfs) in one write: 0 or -errno (-EIO if short). */
int launch_write_file(const char *path, const char *text);

int ns_enter_user(uid_t uid, gid_t gid);

/* unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC |
 * CLONE_NEWUTS). Children of the caller are then in the new pid ns. */
int ns_unshare(void);

/* Makes every mount private (no propagation back to the host). */
int ns_mount_private(void);

/* Mounts a fresh procfs of the current pid ns on /proc (nosuid, nodev,
 * noexec). Call from pid 1 of the new pid ns. */
int ns_mount_proc(void);

/* Drops supplementary groups, then gid, then uid (all three ids each).
 * `step` receives the name of the sub-step that failed. */
int ns_drop_identity(uid_t uid, gid_t gid, int skip_groups, const char **step);

/* ---- seccomp.c ---- */

/* Sets PR_SET_NO_NEW_PRIVS. */
int sc_no_new_privs(void);

/* sc_install() flags. */
#define SC_WIRE 1u        /* a wire tenant (--wire-*): bind() is denied too, so its inherited socket cannot be re-bound */
#define SC_WIRE_PACKET 2u /* an AF_PACKET wire tenant: SC_WIRE, and no sendmsg/sendmmsg, no sendto() with an address (seccomp.c) */

/* Installs the deny filter (see seccomp.c for the list), with `flags`
 * (SC_WIRE). Needs no-new-privs (or CAP_SYS_ADMIN). */
int sc_install(unsigned flags);

/* Number of syscalls the filter denies with EPERM (for --check output). */
unsigned sc_denied_count(void);

/* ---- tap.c ---- */

#include <netinet/in.h>

/* The Linux guest's TAP device (--tap NAME ...). have_* 0: leave the default. */
struct launch_tap {
	const char *name;        /* NULL: no TAP */
	uint8_t mac[6];
	int have_mac;
	uint32_t mtu;            /* 0: the kernel's default */
	struct in_addr addr;
	uint8_t prefix;
	int have_addr;
	struct in6_addr addr6;
	uint8_t prefix6;
	int have_addr6;
	int vnet_hdr;            /* IFF_VNET_HDR: frames carry a virtio_net_hdr (offloads: the guest's TUNSETOFFLOAD) */
	unsigned queues;         /* 1: one queue; 2..TAP_MAX_QUEUES: IFF_MULTI_QUEUE with that many queue descriptors */
	gid_t ping_gid;          /* net.ipv4.ping_group_range = "gid gid" */
};

#define TAP_MAX_QUEUES 8u

/*
 * In the domain's (already unshared) network namespace: lo up, ping group
 * range, IPv6 DAD off, then the TAP device (IFF_TAP | IFF_NO_PI, plus
 * IFF_VNET_HDR with vnet_hdr, plus IFF_MULTI_QUEUE with queues > 1: the
 * first TUNSETIFF makes the device and its queue 0, each further one on a
 * new /dev/net/tun descriptor attaches the next queue) with its MAC, MTU,
 * addresses, up. 0 and fds[0 .. t->queues) (O_CLOEXEC, queue order), or
 * -errno with *step naming the sub-step (nothing left open).
 */
int tap_setup(const struct launch_tap *t, int fds[TAP_MAX_QUEUES], const char **step);

/* "xx:xx:xx:xx:xx:xx", unicast: 0 or -EINVAL. */
int tap_parse_mac(const char *s, uint8_t mac[6]);

/* "ADDR/PREFIX" of AF_INET (prefix 1..32) or AF_INET6 (0..128): 0 or -EINVAL. */
int tap_parse_prefix(int family, const char *s, void *addr, uint8_t *prefix);

/* ---- wire.c ---- */

#include <sys/socket.h>

enum wire_kind { WIRE_NONE = 0, WIRE_PACKET, WIRE_UDP, WIRE_MEMIF, WIRE_XDP };

#ifndef VPIO_NO_XDP
#include "vpio/xsk_handoff.h" /* @vpio/kernel: the privileged half of an AF_XDP wire */
#endif

/* An uplink tenant's wire (--wire-packet IFNAME, --wire-udp ADDR:PORT, --wire-memif PATH or --wire-xdp IFNAME). */
struct launch_wire {
	enum wire_kind kind;
	const char *name;               /* packet: the interface; udp: the ADDR:PORT text; memif: the path ($VPIO_WIRE_NAME) */
	struct sockaddr_storage addr;   /* udp: the parsed address */
	socklen_t addrlen;
	unsigned mode;                  /* memif: the socket file's mode (--wire-memif-mode, default 0600) */
	/* memif, set by wire_open(): the socket file's directory (an O_PATH fd
	 * above 9, kept by the monitor), its base name and inode, for
	 * wire_close() to unlink exactly that file; dir_fd -1 otherwise. */
	int dir_fd;
	const char *base;
	unsigned long ino;
	/* xdp: the request (--wire-xdp-queue, -bind, -attach, -obj, -frame-size) as the
	 * enum vpio_xsk_pref values 0 auto, 1 zerocopy/native, 2 copy/generic */
	unsigned xdp_queue, xdp_bind, xdp_attach, xdp_frame;
	const char *xdp_obj;
	/* xdp, set by wire_open(): the UMEM memfd (above 9, O_CLOEXEC; the socket is
	 * wire_open()'s result, also above 9), the attach mode, and the program,
	 * which the monitor keeps until wire_close() detaches it */
	int umem_fd;
	int xdp_native, xdp_zerocopy;
#ifndef VPIO_NO_XDP
	struct vpio_xsk xsk;
#endif
};

/* "the kind's word" as $VPIO_WIRE_KIND and --wire-KIND say it: packet, udp, memif, xdp. */
const char *wire_kind_name(enum wire_kind k);

/* "a.b.c.d:PORT" or "[ipv6]:PORT", PORT 1..65535: 0 or -EINVAL. */
int wire_parse_udp(const char *s, struct sockaddr_storage *ss, socklen_t *len);

/*
 * In the monitor (root, vpiod's network namespace): the wire socket,
 * created, bound and (packet) made promiscuous, O_CLOEXEC. Returns the
 * descriptor, or -errno with a one-line reason in `why` (-ENODEV: no such
 * interface; -ENETDOWN: it is down; -EPERM: not root; -EADDRINUSE,
 * -EADDRNOTAVAIL: the UDP address). xdp: the bound AF_XDP socket, moved
 * above 9 (the monitor's libbpf descriptors may sit at 4 and 5, where the
 * guest's wire and UMEM go: run_init() moves them there), and w->umem_fd.
 */
int wire_open(struct launch_wire *w, char *why, size_t why_bytes);

/*
 * In the monitor after the domain is gone: memif unlinks the socket file
 * wire_open() made, if it is still that inode, through the directory fd (so
 * the monitor's own mount namespace does not matter) and closes that fd.
 * A monitor killed by SIGKILL leaves the file; the next wire_open() at the
 * same path replaces it as stale. xdp: detaches the program if it is still
 * the one attached (a killed monitor leaves it; the next --wire-xdp on that
 * interface replaces it). Other kinds: nothing.
 */
void wire_close(struct launch_wire *w);

/* ---- cgroup.c ---- */

enum cg_mode { CG_NONE = 0, CG_V1 = 1, CG_V2 = 2 };

#define CG_MAX_BASES 3

/* Where domain cgroups go: one base directory per hierarchy that carries
 * cpu, memory or pids (v1), or the one cgroup2 directory (v2). */
struct cg_bases {
	enum cg_mode mode;
	unsigned n;
	char ctrl[CG_MAX_BASES][16];   /* "cpu", "memory", "pids", or "unified" */
	char dir[CG_MAX_BASES][512];
};

/* Finds the bases: v2 when /sys/fs/cgroup is cgroup2, else the v1
 * hierarchies cpu, memory and pids, each at the caller's own cgroup (so a
 * domain never escapes the limits its manager runs under). Returns 0,
 * -ENOENT when a controller is missing, -ENAMETOOLONG. */
int cg_find_bases(struct cg_bases *b);

/* Creates <base>/<name> in every base, writes the limits, and moves the
 * caller into it. `name` must be a single path component. On failure the
 * directories created so far are removed and *step names the file. */
int cg_create_join(const struct cg_bases *b, const char *name, const struct launch_limits *lim, const char **step);

/* Creates and removes a probe cgroup (for --check). */
int cg_probe(const struct cg_bases *b, const char *name, const char **step);

#endif
