// SPDX-License-Identifier: MIT
//
// launcher.c - vpio-launch: starts one domain's guest inside its sandbox.
//
//   vpio-launch --domid N --uid U --gid G [--cgroup NAME] [limits]
//               [--ctrl-fd FD] [--userns] [--skip STEP]...
//               [--tap NAME [--tap-mac MAC] [--tap-mtu N] [--tap-addr A/P] [--tap-addr6 A/P] [--tap-vnet-hdr]
//                           [--tap-queues N]]
//               [--wire-packet IFNAME | --wire-udp ADDR:PORT | --wire-memif PATH [--wire-memif-mode MODE]]
//               -- GUEST ARGV...
//   vpio-launch --check     probe which steps this machine supports
//
// Process tree and order of the steps (each failing step exits with its own
// status, see enum step, and prints one line "vpio-launch: STEP: reason"):
//
//   vpiod
//    └─ vpio-launch (the "monitor": host namespaces, stays root, holds nothing)
//         1 ctrl-fd       the control socket is moved to fd 3
//         2 cgroup        create <base>/NAME, write limits, join (children inherit)
//        19 wire          (--wire-* only) still root and in vpiod's network namespace:
//                         the AF_PACKET socket bound to IFNAME, or the UDP socket bound
//                         to ADDR:PORT, or the SOCK_SEQPACKET socket listening at PATH
//                         (wire.c), moved to fd 4; the guest inherits it
//         3 userns        (not root, or --userns) new user ns mapping U/G to us
//         4 namespaces    unshare pid, mount, net, ipc, uts
//         5 fork          ──► pid 1 of the new pid ns (the "init"):
//                              6 pdeathsig      SIGKILL when the monitor dies
//                              7 mount-private  no propagation to the host
//                              8 proc           this pid ns's own /proc
//                              9 close-fds      all but 0, 1, 2, 3 (and 4 with --wire-*)
//                             18 tap            (--tap only) lo up, ping group, the TAP
//                                               device configured, its fd at 4 (tap.c);
//                                               with --tap-queues N, queue q's at 4 + q
//                             10 no-new-privs
//                             11 groups, 12 gid, 13 uid   the tenant identity
//                                (pdeathsig armed again: a credential change clears it)
//                             14 seccomp        the deny filter (seccomp.c); a wire tenant's
//                                               also denies bind() (its socket stays as bound)
//                                               and, for AF_PACKET, sends that name a device
//                             15 guest-fork     ──► pid 2: 16 environment,
//                                                          17 exec the guest
//                              init then closes fd 3 (and 4), forwards SIGTERM/SIGINT/
//                              SIGHUP to the guest, reaps orphans, and exits
//                              with the guest's status (128+signal if killed).
//         the monitor closes fd 3, forwards the same signals to init, and
//         exits with init's status (--wire-memif: after unlinking the socket
//         file it made, wire_close()). vpiod watches the monitor through a pidfd.
//
// When vpiod dies (even by SIGKILL) the monitor gets SIGKILL (its pdeathsig,
// step 0); when the monitor is SIGKILLed, init gets SIGKILL (pdeathsig) and the
// kernel kills everything left in the pid namespace; vpiod also kills every
// process left in the domain's cgroup before removing it.

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"

#define IFNAMSIZ_ 16 /* IFNAMSIZ, without <net/if.h> here */
#define TAP_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

#define CTRL_FD 3
#define TAP_FD 4 /* --tap: the TAP device's descriptor (queue 0's), announced in $VPIO_TAP_FD; queue q's at TAP_FD + q ($VPIO_TAP_QUEUES) */
#define WIRE_FD 4 /* --wire-*: the wire socket, announced in $VPIO_WIRE_FD ($VPIO_WIRE_KIND, $VPIO_WIRE_NAME); never beside a TAP */
#define UMEM_FD 5 /* --wire-xdp: the UMEM memfd, announced in $VPIO_WIRE_UMEM_FD */

/* Exit statuses, one per step. A guest's own status passes through
 * unchanged, so vpiod tells them apart by the "vpio-launch:" line too. */
enum step {
	ST_USAGE = 64,
	ST_CTRL_FD = 101,
	ST_CGROUP,
	ST_USERNS,
	ST_NAMESPACES,
	ST_FORK,
	ST_PDEATHSIG,
	ST_MOUNT_PRIVATE,
	ST_PROC,
	ST_CLOSE_FDS,
	ST_NO_NEW_PRIVS,
	ST_GROUPS,
	ST_GID,
	ST_UID,
	ST_SECCOMP,
	ST_GUEST_FORK,
	ST_ENVIRONMENT,
	ST_EXEC,
	ST_TAP,
	ST_WIRE,
};

struct config {
	long domid;
	long uid, gid;
	int ctrl_fd;
	int userns;
	const char *cgroup;
	struct launch_limits lim;
	struct launch_tap tap;
	struct launch_wire wire;
	int xdp_fd;              /* --wire-xdp: the bound socket, above 9 in the monitor (run_init moves it to 4) */
	unsigned skip;           /* bit (step - ST_CTRL_FD) set: skip that step (vpiod --insecure) */
	char **argv;
};

static volatile pid_t forward_to;

static void forward_signal(int sig)
{
	if (forward_to > 0)
		kill(forward_to, sig);
}

static void fail(enum step st, const char *name, int neg_errno, const char *fmt, ...)
{
	char extra[256] = "";
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(extra, sizeof(extra), fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "vpio-launch: %s: %s%s%s\n", name, neg_errno ? strerror(-neg_errno) : "", neg_errno && extra[0] ? ": " : "", extra);
	_exit(st);
}

static int skipped(const struct config *c, enum step st)
{
	return (c->skip >> (st - ST_CTRL_FD)) & 1u;
}

static int close_extra_fds(int keep_max)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)keep_max + 1, ~0U, 0) == 0)
		return 0;
	if (errno != ENOSYS)
		return -errno;
#endif
	for (int fd = keep_max + 1; fd < 65536; fd++)
		close(fd);
	return 0;
}

/* Waits for `child`, forwarding the usual termination signals to it, and
 * reaping anything else (init's duty). Returns the exit status to pass on. */
static int wait_forwarding(pid_t child)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward_signal;
	sigemptyset(&sa.sa_mask);
	forward_to = child;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	for (;;) {
		int status;
		pid_t p = waitpid(-1, &status, 0);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			return 70; /* EX_SOFTWARE: no child left without seeing ours */
		}
		if (p != child)
			continue;
		if (WIFEXITED(status))
			return WEXITSTATUS(status);
		if (WIFSIGNALED(status))
			return 128 + WTERMSIG(status);
	}
}

static void set_env_num(const char *key, long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%ld", v);
	if (setenv(key, buf, 1) < 0)
		fail(ST_ENVIRONMENT, "environment", -errno, "%s", key);
}

/* pid 1 of the domain's pid namespace. Never returns. */
static void run_init(const struct config *c)
{
	const char *sub = NULL;
	int err;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail(ST_PDEATHSIG, "pdeathsig", -errno, NULL);
	if (!skipped(c, ST_MOUNT_PRIVATE) && (err = ns_mount_private()) < 0)
		fail(ST_MOUNT_PRIVATE, "mount-private", err, NULL);
	if (!skipped(c, ST_PROC) && (err = ns_mount_proc()) < 0)
		fail(ST_PROC, "proc", err, NULL);
	if (c->wire.kind == WIRE_XDP) {
		/* the socket and the UMEM, from above 9 to 4 and 5 (over whatever of libbpf's sat there in this copy) */
		if (dup2(c->xdp_fd, WIRE_FD) < 0 || dup2(c->wire.umem_fd, UMEM_FD) < 0 || fcntl(WIRE_FD, F_SETFD, 0) < 0 ||
		    fcntl(UMEM_FD, F_SETFD, 0) < 0)
			fail(ST_WIRE, "wire", -errno, "dup2");
	}
	if ((err = close_extra_fds(c->wire.kind == WIRE_XDP ? UMEM_FD : c->wire.kind ? WIRE_FD : CTRL_FD)) < 0)
		fail(ST_CLOSE_FDS, "close-fds", err, NULL);
	if (c->tap.name) {
		int fds[TAP_MAX_QUEUES];
		if ((err = tap_setup(&c->tap, fds, &sub)) < 0)
			fail(ST_TAP, "tap", err, "%s: %s", c->tap.name, sub);
		/* queue q's descriptor to TAP_FD + q; a later queue's descriptor sitting on that
		 * number is moved out of the way first, so none is closed before it was moved */
		for (unsigned q = 0; q < c->tap.queues; q++) {
			int want = TAP_FD + (int)q;
			if (fds[q] == want)
				continue;
			for (unsigned r = q + 1; r < c->tap.queues; r++) /* a later queue's fd sits where this one goes: move it away first */
				if (fds[r] == want && (fds[r] = fcntl(want, F_DUPFD_CLOEXEC, TAP_FD + (int)TAP_MAX_QUEUES)) < 0)
					fail(ST_TAP, "tap", -errno, "F_DUPFD");
			if (dup2(fds[q], want) < 0 || close(fds[q]) < 0)
				fail(ST_TAP, "tap", -errno, "dup2");
		}
		for (unsigned q = 0; q < c->tap.queues; q++)
			if (fcntl(TAP_FD + (int)q, F_SETFD, 0) < 0) /* inherited by the guest */
				fail(ST_TAP, "tap", -errno, "F_SETFD");
	}
	if (!skipped(c, ST_NO_NEW_PRIVS) && (err = sc_no_new_privs()) < 0)
		fail(ST_NO_NEW_PRIVS, "no-new-privs", err, NULL);
	if (!skipped(c, ST_UID) && (err = ns_drop_identity((uid_t)c->uid, (gid_t)c->gid, c->userns, &sub)) < 0)
		fail(strcmp(sub, "groups") == 0 ? ST_GROUPS : strcmp(sub, "gid") == 0 ? ST_GID : ST_UID, sub, err, "%ld", strcmp(sub, "gid") == 0 ? c->gid : c->uid);
	/* The identity change above cleared the parent-death signal (the kernel
	 * resets it on every credential change), so init would have survived
	 * its monitor: arm it again, still before the seccomp filter. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail(ST_PDEATHSIG, "pdeathsig", -errno, "after the identity change");
	if (!skipped(c, ST_SECCOMP) && (err = sc_install(c->wire.kind == WIRE_PACKET ? SC_WIRE_PACKET : c->wire.kind ? SC_WIRE : 0)) < 0)
		fail(ST_SECCOMP, "seccomp", err, NULL);

	pid_t guest = fork();
	if (guest < 0)
		fail(ST_GUEST_FORK, "guest-fork", -errno, NULL);
	if (guest == 0) {
		set_env_num("VPIO_DOMID", c->domid);
		set_env_num("VPIO_CTRL_FD", CTRL_FD);
		if (c->tap.name) {
			set_env_num("VPIO_TAP_FD", TAP_FD);
			set_env_num("VPIO_TAP_QUEUES", (long)c->tap.queues);
			if (setenv("VPIO_TAP_NAME", c->tap.name, 1) < 0)
				fail(ST_ENVIRONMENT, "environment", -errno, "VPIO_TAP_NAME");
		}
		if (c->wire.kind) {
			set_env_num("VPIO_WIRE_FD", WIRE_FD);
			if (setenv("VPIO_WIRE_KIND", wire_kind_name(c->wire.kind), 1) < 0 || setenv("VPIO_WIRE_NAME", c->wire.name, 1) < 0)
				fail(ST_ENVIRONMENT, "environment", -errno, "VPIO_WIRE_KIND");
		}
		if (c->wire.kind == WIRE_XDP) {
			set_env_num("VPIO_WIRE_UMEM_FD", UMEM_FD);
			set_env_num("VPIO_XDP_QUEUE", (long)c->wire.xdp_queue);
			if (setenv("VPIO_XDP_ATTACH", c->wire.xdp_native ? "native" : "generic", 1) < 0)
				fail(ST_ENVIRONMENT, "environment", -errno, "VPIO_XDP_ATTACH");
		}
		execvp(c->argv[0], c->argv);
		fail(ST_EXEC, "exec", -errno, "%s", c->argv[0]);
	}
	close(CTRL_FD);
	for (unsigned q = 0; c->tap.name && q < c->tap.queues; q++)
		close(TAP_FD + (int)q); /* the device lives as long as the guest's descriptors */
	if (c->wire.kind)
		close(WIRE_FD); /* the guest holds the only other descriptor */
	if (c->wire.kind == WIRE_XDP)
		close(UMEM_FD);
	_exit(wait_forwarding(guest));
}

static void run(struct config *c)
{
	struct stat st;
	const char *sub = "";
	int err;

	/* 0: die with vpiod. Without this a SIGKILLed vpiod left the monitor
	 * (reparented to the host's init) and so init and the guest running.
	 * Read the parent first: if it died before prctl(), getppid() changed. */
	pid_t parent = getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail(ST_PDEATHSIG, "pdeathsig", -errno, "monitor");
	if (getppid() != parent)
		fail(ST_PDEATHSIG, "pdeathsig", 0, "the parent (vpiod) is already gone");

	/* 1: the control socket, at fd 3 */
	if (fstat(c->ctrl_fd, &st) < 0)
		fail(ST_CTRL_FD, "ctrl-fd", -errno, "fd %d", c->ctrl_fd);
	if (!S_ISSOCK(st.st_mode))
		fail(ST_CTRL_FD, "ctrl-fd", 0, "fd %d is not a socket", c->ctrl_fd);
	if (c->ctrl_fd != CTRL_FD) {
		if (dup2(c->ctrl_fd, CTRL_FD) < 0)
			fail(ST_CTRL_FD, "ctrl-fd", -errno, "dup2");
		close(c->ctrl_fd);
	}
	if (fcntl(CTRL_FD, F_SETFD, 0) < 0) /* inherited across exec */
		fail(ST_CTRL_FD, "ctrl-fd", -errno, "F_SETFD");

	/* 2: the cgroup, joined by the monitor so every descendant is in it */
	if (!skipped(c, ST_CGROUP)) {
		struct cg_bases b;
		if (!c->cgroup)
			fail(ST_CGROUP, "cgroup", 0, "--cgroup NAME is required (or --skip cgroup)");
		if ((err = cg_find_bases(&b)) < 0)
			fail(ST_CGROUP, "cgroup", err, "no cpu/memory/pids hierarchy");
		if ((err = cg_create_join(&b, c->cgroup, &c->lim, &sub)) < 0)
			fail(ST_CGROUP, "cgroup", err, "%s/%s: %s", b.dir[0], c->cgroup, sub);
	}

	/* 19: the wire, made here: root, in vpiod's network namespace, before the domain gets its own */
	if (c->wire.kind) {
		char why[160];
		int fd = wire_open(&c->wire, why, sizeof(why));
		if (fd < 0)
			fail(ST_WIRE, "wire", 0, "%s", why);
		if (c->wire.kind == WIRE_XDP)
			c->xdp_fd = fd; /* stays above 9 here: run_init moves it (libbpf's descriptors may be at 4 and 5) */
		else if (fd != WIRE_FD && (dup2(fd, WIRE_FD) < 0 || close(fd) < 0))
			fail(ST_WIRE, "wire", -errno, "dup2");
		if (c->wire.kind != WIRE_XDP && fcntl(WIRE_FD, F_SETFD, 0) < 0) /* inherited by init and the guest */
			fail(ST_WIRE, "wire", -errno, "F_SETFD");
	}

	/* 3, 4: namespaces */
	if (c->userns && (err = ns_enter_user((uid_t)c->uid, (gid_t)c->gid)) < 0)
		fail(ST_USERNS, "userns", err, NULL);
	if (!skipped(c, ST_NAMESPACES) && (err = ns_unshare()) < 0)
		fail(ST_NAMESPACES, "namespaces", err, NULL);

	/* 5: init */
	pid_t init = fork();
	if (init < 0)
		fail(ST_FORK, "fork", -errno, NULL);
	if (init == 0)
		run_init(c);
	close(CTRL_FD);
	if (c->wire.kind == WIRE_XDP) {
		close(c->xdp_fd); /* the monitor keeps only the program (and its maps), for wire_close */
		close(c->wire.umem_fd);
	} else if (c->wire.kind) {
		close(WIRE_FD); /* the monitor holds nothing (memif: but the socket file's directory, for wire_close) */
	}
	err = wait_forwarding(init);
	wire_close(&c->wire);
	_exit(err);
}

/* ---- --check: each probe runs in a child so the launcher stays clean ---- */

typedef int (*probe_fn)(void);

static int probe_in_child(probe_fn fn, int *child_err)
{
	pid_t p = fork();
	if (p < 0)
		return -errno;
	if (p == 0) {
		int e = fn();
		_exit(e < 0 ? (-e & 0xff) : 0);
	}
	int status;
	while (waitpid(p, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	*child_err = WIFEXITED(status) ? -WEXITSTATUS(status) : -EINTR;
	return 0;
}

static int probe_namespaces(void)
{
	return ns_unshare();
}

static int probe_userns(void)
{
	return ns_enter_user(getuid(), getgid());
}

static int probe_proc_init(void)
{
	int err = ns_mount_private();
	return err < 0 ? err : ns_mount_proc();
}

static int probe_proc(void)
{
	int err = ns_unshare(), child_err = 0;
	if (err < 0)
		return err;
	err = probe_in_child(probe_proc_init, &child_err);
	return err < 0 ? err : child_err;
}

static int probe_identity(void)
{
	const char *sub;
	return ns_drop_identity(0x70000 + 32767, 0x70000 + 32767, 0, &sub);
}

static int probe_seccomp(void)
{
	int err = sc_no_new_privs();
	if (err < 0 || (err = sc_install(0)) < 0)
		return err;
	/* The filter must really answer EPERM. */
	if (syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0) == 0 || errno != EPERM)
		return -ENOSYS;
	if (syscall(SYS_unshare, 0) == 0 || errno != EPERM)
		return -ENOSYS;
	return 0;
}

static int probe_pidfd(void)
{
#ifdef SYS_pidfd_open
	long fd = syscall(SYS_pidfd_open, getpid(), 0);
	if (fd < 0)
		return -errno;
	close((int)fd);
	return 0;
#else
	return -ENOSYS;
#endif
}

static int report(const char *step, int err, const char *detail)
{
	if (err == 0)
		printf("ok %s%s%s\n", step, detail ? " " : "", detail ? detail : "");
	else
		printf("missing %s: %s\n", step, detail && err == -EINVAL ? detail : strerror(-err));
	return err == 0 ? 0 : 1;
}

static int run_check(void)
{
	static const struct {
		const char *name;
		probe_fn fn;
		int root_only, user_only;
	} probes[] = {
		{ "namespaces", probe_namespaces, 1, 0 },
		{ "userns", probe_userns, 0, 1 },
		{ "proc", probe_proc, 1, 0 },
		{ "identity", probe_identity, 1, 0 },
		{ "seccomp", probe_seccomp, 0, 0 },
		{ "pidfd", probe_pidfd, 0, 0 },
	};
	int root = geteuid() == 0, missing = 0;
	char detail[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("mode %s\n", root ? "root" : "user");
	for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		if ((probes[i].root_only && !root) || (probes[i].user_only && root))
			continue;
		int child_err = 0, err = probe_in_child(probes[i].fn, &child_err);
		detail[0] = '\0';
		if (probes[i].fn == probe_seccomp)
			snprintf(detail, sizeof(detail), "%u-denied", sc_denied_count());
		missing |= report(probes[i].name, err < 0 ? err : child_err, detail[0] ? detail : NULL);
	}
	/* no-new-privs is a plain prctl; test it in a child too */
	{
		int child_err = 0, err = probe_in_child(sc_no_new_privs, &child_err);
		missing |= report("no-new-privs", err < 0 ? err : child_err, NULL);
	}
	/* cgroup: find the bases, create and remove a probe directory */
	{
		struct cg_bases b;
		const char *sub = "";
		char name[64];
		int err = cg_find_bases(&b);
		if (err == 0) {
			snprintf(name, sizeof(name), "vpio-probe-%ld", (long)getpid());
			err = cg_probe(&b, name, &sub);
		}
		if (err == 0) {
			printf("cgroup-mode %s\n", b.mode == CG_V2 ? "v2" : "v1");
			for (unsigned i = 0; i < b.n; i++)
				printf("cgroup-base %s %s\n", b.ctrl[i], b.dir[i]);
		}
		missing |= report("cgroup", err, NULL);
	}
	return missing ? 1 : 0;
}

/* ---- arguments ---- */

static const char *const step_names[] = {
	"ctrl-fd", "cgroup", "userns", "namespaces", "fork", "pdeathsig", "mount-private", "proc",
	"close-fds", "no-new-privs", "groups", "gid", "uid", "seccomp", "guest-fork", "environment", "exec",
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vpio-launch --domid N --uid U --gid G [--cgroup NAME] [--memory-bytes B]\n"
		"                   [--cpu-shares S] [--cpu-quota-us Q] [--cpu-period-us P] [--max-pids N]\n"
		"                   [--ctrl-fd FD] [--userns] [--skip STEP]...\n"
		"                   [--tap NAME [--tap-mac MAC] [--tap-mtu N] [--tap-addr A.B.C.D/P] [--tap-addr6 X::Y/P]\n"
		"                    [--tap-vnet-hdr] [--tap-queues N]]\n"
		"                   [--wire-packet IFNAME | --wire-udp A.B.C.D:PORT|[X::Y]:PORT\n"
		"                    | --wire-memif PATH [--wire-memif-mode MODE]\n"
		"                    | --wire-xdp IFNAME [--wire-xdp-obj PATH] [--wire-xdp-queue N] [--wire-xdp-bind auto|zerocopy|copy]\n"
		"                      [--wire-xdp-attach auto|native|generic] [--wire-xdp-frame-size 2048|4096]]\n"
		"                   -- GUEST [ARGS...]\n"
		"       vpio-launch --check\n"
		"Steps --skip accepts (vpiod --insecure only): cgroup namespaces mount-private proc\n"
		"no-new-privs uid seccomp.\n"
		"--tap creates TAP device NAME in the domain's network namespace (needs namespaces)\n"
		"and hands its descriptor to the guest as fd 4 ($VPIO_TAP_FD, $VPIO_TAP_NAME);\n"
		"--tap-queues N (1..8) makes it IFF_MULTI_QUEUE with queue q's descriptor at 4 + q ($VPIO_TAP_QUEUES).\n"
		"--wire-packet makes an AF_PACKET socket bound to IFNAME (which must exist and be up; root),\n"
		"--wire-udp a UDP socket bound to ADDR:PORT, both in this (vpiod's) network namespace before the\n"
		"domain gets its own; the guest gets it as fd 4 ($VPIO_WIRE_FD, $VPIO_WIRE_KIND packet|udp,\n"
		"$VPIO_WIRE_NAME) and cannot bind(); a packet guest sends only through IFNAME (send(), write(),\n"
		"its TX ring: no sendto() with an address, no sendmsg/sendmmsg). Not with --tap.\n"
		"--wire-memif makes a SOCK_SEQPACKET Unix socket listening at PATH (absolute; its directory must\n"
		"be root's and not group/other-writable; a stale socket file is replaced, a live one refused;\n"
		"mode 0600 or --wire-memif-mode, octal) for a memif server tenant ($VPIO_WIRE_KIND memif); the\n"
		"file is unlinked when the domain exits.\n"
		"--wire-xdp attaches vpio's XDP program (--wire-xdp-obj, default $VPIO_XDP_OBJ) to IFNAME (native,\n"
		"else generic), binds an AF_XDP socket with a sealed memfd UMEM to its queue (zero-copy, else copy;\n"
		"IFNAME must have one active rx queue) and puts it in the program's XSKMAP; the guest gets the\n"
		"socket as fd 4 and the UMEM as fd 5 ($VPIO_WIRE_KIND xdp, $VPIO_WIRE_UMEM_FD, $VPIO_XDP_QUEUE,\n"
		"$VPIO_XDP_ATTACH) and cannot bind(); the program is detached when the domain exits.\n");
}

static long num_arg(const char *opt, const char *s, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "vpio-launch: usage: %s expects an integer in [%ld, %ld], got \"%s\"\n", opt, min, max, s);
		exit(ST_USAGE);
	}
	return v;
}

int main(int argc, char **argv)
{
	enum { O_CHECK = 1000, O_DOMID, O_UID, O_GID, O_CGROUP, O_MEM, O_SHARES, O_QUOTA, O_PERIOD, O_PIDS, O_CTRL, O_USERNS, O_SKIP, O_HELP,
	       O_TAP, O_TAP_MAC, O_TAP_MTU, O_TAP_ADDR, O_TAP_ADDR6, O_TAP_VNET_HDR, O_TAP_QUEUES, O_WIRE_PACKET, O_WIRE_UDP, O_WIRE_MEMIF, O_WIRE_MEMIF_MODE,
	       O_WIRE_XDP, O_WIRE_XDP_OBJ, O_WIRE_XDP_QUEUE, O_WIRE_XDP_BIND, O_WIRE_XDP_ATTACH, O_WIRE_XDP_FRAME };
	static const struct option opts[] = {
		{ "check", no_argument, NULL, O_CHECK },      { "domid", required_argument, NULL, O_DOMID },
		{ "uid", required_argument, NULL, O_UID },      { "gid", required_argument, NULL, O_GID },
		{ "cgroup", required_argument, NULL, O_CGROUP }, { "memory-bytes", required_argument, NULL, O_MEM },
		{ "cpu-shares", required_argument, NULL, O_SHARES }, { "cpu-quota-us", required_argument, NULL, O_QUOTA },
		{ "cpu-period-us", required_argument, NULL, O_PERIOD }, { "max-pids", required_argument, NULL, O_PIDS },
		{ "ctrl-fd", required_argument, NULL, O_CTRL }, { "userns", no_argument, NULL, O_USERNS },
		{ "skip", required_argument, NULL, O_SKIP },    { "help", no_argument, NULL, O_HELP },
		{ "tap", required_argument, NULL, O_TAP },      { "tap-mac", required_argument, NULL, O_TAP_MAC },
		{ "tap-mtu", required_argument, NULL, O_TAP_MTU }, { "tap-addr", required_argument, NULL, O_TAP_ADDR },
		{ "tap-addr6", required_argument, NULL, O_TAP_ADDR6 }, { "tap-vnet-hdr", no_argument, NULL, O_TAP_VNET_HDR },
		{ "tap-queues", required_argument, NULL, O_TAP_QUEUES },
		{ "wire-packet", required_argument, NULL, O_WIRE_PACKET }, { "wire-udp", required_argument, NULL, O_WIRE_UDP },
		{ "wire-memif", required_argument, NULL, O_WIRE_MEMIF }, { "wire-memif-mode", required_argument, NULL, O_WIRE_MEMIF_MODE },
		{ "wire-xdp", required_argument, NULL, O_WIRE_XDP }, { "wire-xdp-obj", required_argument, NULL, O_WIRE_XDP_OBJ },
		{ "wire-xdp-queue", required_argument, NULL, O_WIRE_XDP_QUEUE }, { "wire-xdp-bind", required_argument, NULL, O_WIRE_XDP_BIND },
		{ "wire-xdp-attach", required_argument, NULL, O_WIRE_XDP_ATTACH }, { "wire-xdp-frame-size", required_argument, NULL, O_WIRE_XDP_FRAME },
		{ NULL, 0, NULL, 0 },
	};
	struct config c = { .domid = -1, .uid = -1, .gid = -1, .ctrl_fd = CTRL_FD, .xdp_fd = -1, .tap = { .queues = 1 } };
	int opt, tap_opts = 0, memif_mode = 0, xdp_opts = 0;

	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (opt) {
		case O_CHECK: return run_check();
		case O_HELP: usage(stdout); return 0;
		case O_DOMID: c.domid = num_arg("--domid", optarg, 1, 32751); break;
		case O_UID: c.uid = num_arg("--uid", optarg, 1, 0x7fffffff); break;
		case O_GID: c.gid = num_arg("--gid", optarg, 1, 0x7fffffff); break;
		case O_CGROUP: c.cgroup = optarg; break;
		case O_MEM: c.lim.memory_bytes = (uint64_t)num_arg("--memory-bytes", optarg, 1 << 20, 0x7fffffffffffffffL); break;
		case O_SHARES: c.lim.cpu_shares = (uint32_t)num_arg("--cpu-shares", optarg, 2, 262144); break;
		case O_QUOTA: c.lim.cpu_quota_us = (uint32_t)num_arg("--cpu-quota-us", optarg, 1000, 1000000000); break;
		case O_PERIOD: c.lim.cpu_period_us = (uint32_t)num_arg("--cpu-period-us", optarg, 1000, 1000000); break;
		case O_PIDS: c.lim.max_pids = (uint32_t)num_arg("--max-pids", optarg, 3, 4194304); break;
		case O_CTRL: c.ctrl_fd = (int)num_arg("--ctrl-fd", optarg, 0, 1 << 20); break;
		case O_USERNS: c.userns = 1; break;
		case O_SKIP: {
			unsigned i;
			for (i = 0; i < sizeof(step_names) / sizeof(step_names[0]); i++)
				if (strcmp(optarg, step_names[i]) == 0)
					break;
			if (i == sizeof(step_names) / sizeof(step_names[0])) {
				fprintf(stderr, "vpio-launch: usage: unknown step \"%s\" for --skip\n", optarg);
				return ST_USAGE;
			}
			c.skip |= 1u << i;
			break;
		}
		case O_TAP: {
			size_t n = strlen(optarg);
			if (n == 0 || n >= IFNAMSIZ_ || strspn(optarg, TAP_NAME_CHARS) != n || strcmp(optarg, "lo") == 0 ||
			    strcmp(optarg, ".") == 0 || strcmp(optarg, "..") == 0) {
				fprintf(stderr, "vpio-launch: usage: --tap expects 1..15 characters of [A-Za-z0-9_.-] (not lo), got \"%s\"\n", optarg);
				return ST_USAGE;
			}
			c.tap.name = optarg;
			break;
		}
		case O_TAP_MAC:
			if (tap_parse_mac(optarg, c.tap.mac) < 0) {
				fprintf(stderr, "vpio-launch: usage: --tap-mac expects a unicast xx:xx:xx:xx:xx:xx, got \"%s\"\n", optarg);
				return ST_USAGE;
			}
			c.tap.have_mac = 1, tap_opts = 1;
			break;
		case O_TAP_VNET_HDR: c.tap.vnet_hdr = 1, tap_opts = 1; break;
		case O_TAP_QUEUES: c.tap.queues = (unsigned)num_arg("--tap-queues", optarg, 1, TAP_MAX_QUEUES), tap_opts = 1; break;
		case O_TAP_MTU: c.tap.mtu = (uint32_t)num_arg("--tap-mtu", optarg, 68, 65535), tap_opts = 1; break;
		case O_TAP_ADDR:
			if (tap_parse_prefix(AF_INET, optarg, &c.tap.addr, &c.tap.prefix) < 0) {
				fprintf(stderr, "vpio-launch: usage: --tap-addr expects A.B.C.D/PREFIX (1..32), got \"%s\"\n", optarg);
				return ST_USAGE;
			}
			c.tap.have_addr = 1, tap_opts = 1;
			break;
		case O_TAP_ADDR6:
			if (tap_parse_prefix(AF_INET6, optarg, &c.tap.addr6, &c.tap.prefix6) < 0) {
				fprintf(stderr, "vpio-launch: usage: --tap-addr6 expects an IPv6 ADDR/PREFIX (0..128), got \"%s\"\n", optarg);
				return ST_USAGE;
			}
			c.tap.have_addr6 = 1, tap_opts = 1;
			break;
		case O_WIRE_PACKET:
		case O_WIRE_XDP: {
			size_t n = strlen(optarg);
			const char *flag = opt == O_WIRE_XDP ? "--wire-xdp" : "--wire-packet";
			if (c.wire.kind) {
				fprintf(stderr, "vpio-launch: usage: one --wire-packet, --wire-udp, --wire-memif or --wire-xdp\n");
				return ST_USAGE;
			}
			if (n == 0 || n >= IFNAMSIZ_ || strspn(optarg, TAP_NAME_CHARS) != n || strcmp(optarg, ".") == 0 || strcmp(optarg, "..") == 0) {
				fprintf(stderr, "vpio-launch: usage: %s expects an interface name of 1..15 characters of [A-Za-z0-9_.-], got \"%s\"\n", flag, optarg);
				return ST_USAGE;
			}
			c.wire.kind = opt == O_WIRE_XDP ? WIRE_XDP : WIRE_PACKET, c.wire.name = optarg;
			break;
		}
		case O_WIRE_XDP_OBJ: c.wire.xdp_obj = optarg, xdp_opts = 1; break;
		case O_WIRE_XDP_QUEUE: c.wire.xdp_queue = (unsigned)num_arg("--wire-xdp-queue", optarg, 0, 63), xdp_opts = 1; break;
		case O_WIRE_XDP_BIND:
		case O_WIRE_XDP_ATTACH: {
			const char *first = opt == O_WIRE_XDP_BIND ? "zerocopy" : "native", *second = opt == O_WIRE_XDP_BIND ? "copy" : "generic";
			unsigned v = !strcmp(optarg, "auto") ? 0 : !strcmp(optarg, first) ? 1 : !strcmp(optarg, second) ? 2 : 3;
			if (v == 3) {
				fprintf(stderr, "vpio-launch: usage: --wire-xdp-%s expects auto, %s or %s, got \"%s\"\n",
					opt == O_WIRE_XDP_BIND ? "bind" : "attach", first, second, optarg);
				return ST_USAGE;
			}
			*(opt == O_WIRE_XDP_BIND ? &c.wire.xdp_bind : &c.wire.xdp_attach) = v, xdp_opts = 1;
			break;
		}
		case O_WIRE_XDP_FRAME:
			c.wire.xdp_frame = (unsigned)num_arg("--wire-xdp-frame-size", optarg, 2048, 4096), xdp_opts = 1;
			if (c.wire.xdp_frame != 2048 && c.wire.xdp_frame != 4096) {
				fprintf(stderr, "vpio-launch: usage: --wire-xdp-frame-size expects 2048 or 4096, got \"%s\"\n", optarg);
				return ST_USAGE;
			}
			break;
		case O_WIRE_UDP:
			if (c.wire.kind) {
				fprintf(stderr, "vpio-launch: usage: one --wire-packet, --wire-udp, --wire-memif or --wire-xdp\n");
				return ST_USAGE;
			}
			if (wire_parse_udp(optarg, &c.wire.addr, &c.wire.addrlen) < 0) {
				fprintf(stderr, "vpio-launch: usage: --wire-udp expects A.B.C.D:PORT or [IPV6]:PORT (port 1..65535), got \"%s\"\n", optarg);
				return ST_USAGE;
			}
			c.wire.kind = WIRE_UDP, c.wire.name = optarg;
			break;
		case O_WIRE_MEMIF:
			if (c.wire.kind) {
				fprintf(stderr, "vpio-launch: usage: one --wire-packet, --wire-udp, --wire-memif or --wire-xdp\n");
				return ST_USAGE;
			}
			if (optarg[0] != '/' || strlen(optarg) >= 108 || optarg[strlen(optarg) - 1] == '/') {
				fprintf(stderr, "vpio-launch: usage: --wire-memif expects an absolute file path of at most 107 bytes, got \"%s\"\n", optarg);
				return ST_USAGE;
			}
			c.wire.kind = WIRE_MEMIF, c.wire.name = optarg;
			break;
		case O_WIRE_MEMIF_MODE: {
			char *end;
			errno = 0;
			unsigned long m = strtoul(optarg, &end, 8);
			if (errno || end == optarg || *end || m > 0777 || (m & 0600) != 0600 || (m & 0111)) {
				fprintf(stderr, "vpio-launch: usage: --wire-memif-mode expects an octal mode with rw for the owner and no x bits (0600, 0660, 0666), got \"%s\"\n", optarg);
				return ST_USAGE;
			}
			c.wire.mode = (unsigned)m, memif_mode = 1;
			break;
		}
		default: usage(stderr); return ST_USAGE;
		}
	}
	if (c.wire.kind && c.tap.name) {
		fprintf(stderr, "vpio-launch: usage: --tap and --wire-%s exclude each other (both would be fd 4)\n", wire_kind_name(c.wire.kind));
		return ST_USAGE;
	}
	if (xdp_opts && c.wire.kind != WIRE_XDP) {
		fprintf(stderr, "vpio-launch: usage: --wire-xdp-obj, -queue, -bind, -attach and -frame-size need --wire-xdp IFNAME\n");
		return ST_USAGE;
	}
	if (c.wire.kind == WIRE_XDP && !c.wire.xdp_obj && !(c.wire.xdp_obj = getenv("VPIO_XDP_OBJ"))) {
		fprintf(stderr, "vpio-launch: usage: --wire-xdp needs the XDP program: --wire-xdp-obj PATH or $VPIO_XDP_OBJ (kernel/build/xdp_vpio.bpf.o)\n");
		return ST_USAGE;
	}
	if (memif_mode && c.wire.kind != WIRE_MEMIF) {
		fprintf(stderr, "vpio-launch: usage: --wire-memif-mode needs --wire-memif PATH\n");
		return ST_USAGE;
	}
	if (c.wire.kind && skipped(&c, ST_NAMESPACES)) {
		fprintf(stderr, "vpio-launch: usage: --wire-* needs the domain's own network namespace (not --skip namespaces)\n");
		return ST_USAGE;
	}
	if (tap_opts && !c.tap.name) {
		fprintf(stderr, "vpio-launch: usage: --tap-mac, --tap-mtu, --tap-addr, --tap-addr6, --tap-vnet-hdr and --tap-queues need --tap NAME\n");
		return ST_USAGE;
	}
	if (c.domid < 0 || c.uid < 0 || c.gid < 0 || optind >= argc) {
		fprintf(stderr, "vpio-launch: usage: --domid, --uid, --gid and a guest command are required\n");
		return ST_USAGE;
	}
	if (geteuid() != 0 && !skipped(&c, ST_USERNS))
		c.userns = 1;
	/* Without its own mount and pid namespace, /proc must stay the host's. */
	if (skipped(&c, ST_NAMESPACES))
		c.skip |= (1u << (ST_MOUNT_PRIVATE - ST_CTRL_FD)) | (1u << (ST_PROC - ST_CTRL_FD));
	if (c.tap.name && skipped(&c, ST_NAMESPACES)) {
		fprintf(stderr, "vpio-launch: usage: --tap needs the domain's own network namespace (not --skip namespaces)\n");
		return ST_USAGE;
	}
	c.tap.ping_gid = (gid_t)c.gid;
	c.argv = argv + optind;
	run(&c);
	return 0;
}
