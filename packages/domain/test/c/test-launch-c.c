// SPDX-License-Identifier: MIT
//
// test-launch-c - C unit tests of the launcher's seccomp filter (run in a
// forked child, since a filter cannot be removed). The guest side of the
// control framing is tested in @vpio/guest (test/c/test-guest.c).

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"
#include "vpio/tap.h"

/* Runs fn in a child under the filter; the child's exit status is the
 * number of failed expectations. */
static int under_filter_flags(int (*fn)(void), unsigned flags)
{
	pid_t p = fork();
	if (p == 0) {
		if (sc_no_new_privs() < 0 || sc_install(flags) < 0)
			_exit(100);
		_exit(fn());
	}
	int status = 0;
	waitpid(p, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

static int under_filter(int (*fn)(void))
{
	return under_filter_flags(fn, 0);
}

static int expect_errno(long r, int e)
{
	return (r == -1 && errno == e) ? 0 : 1;
}

static int denied_syscalls(void)
{
	int bad = 0;
	bad += expect_errno(syscall(SYS_ptrace, 0, 0, 0, 0), EPERM);
	bad += expect_errno(syscall(SYS_process_vm_readv, getppid(), NULL, 0, NULL, 0, 0), EPERM);
	bad += expect_errno(syscall(SYS_process_vm_writev, getppid(), NULL, 0, NULL, 0, 0), EPERM);
	bad += expect_errno(syscall(SYS_bpf, 0, NULL, 0), EPERM);
	bad += expect_errno(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), EPERM);
	bad += expect_errno(syscall(SYS_kcmp, getpid(), getpid(), 0, 0, 0), EPERM);
	bad += expect_errno(syscall(SYS_unshare, 0), EPERM);
	bad += expect_errno(syscall(SYS_setns, -1, 0), EPERM);
	bad += expect_errno(syscall(SYS_io_uring_setup, 1, NULL), EPERM);
	bad += expect_errno(syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0), EPERM);
	bad += expect_errno(syscall(SYS_io_uring_register, -1, 0, NULL, 0), EPERM);
	bad += expect_errno(syscall(SYS_userfaultfd, 0), EPERM);
	bad += expect_errno(syscall(SYS_mount, NULL, NULL, NULL, 0, NULL), EPERM);
	bad += expect_errno(syscall(SYS_umount2, "/", 0), EPERM);
	bad += expect_errno(syscall(SYS_pivot_root, "/", "/"), EPERM);
	bad += expect_errno(syscall(SYS_keyctl, 0, 0, 0, 0, 0), EPERM);
	bad += expect_errno(syscall(SYS_add_key, NULL, NULL, NULL, 0, 0), EPERM);
	bad += expect_errno(syscall(SYS_request_key, NULL, NULL, NULL, 0), EPERM);
	return bad;
}

static int clone_rules(void)
{
	int bad = 0;
	bad += expect_errno(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), EPERM);
	bad += expect_errno(syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0), EPERM);
	bad += expect_errno(syscall(SYS_clone3, NULL, 0), ENOSYS);
	/* a plain fork still works (libc falls back from clone3 to clone) */
	pid_t p = fork();
	if (p == 0)
		_exit(7);
	int status = 0;
	if (p < 0 || waitpid(p, &status, 0) != p || !WIFEXITED(status) || WEXITSTATUS(status) != 7)
		bad++;
	return bad;
}

static int allowed_syscalls(void)
{
	int bad = 0;
	int fds[2];
	bad += pipe(fds) == 0 ? 0 : 1;
	bad += write(fds[1], "x", 1) == 1 ? 0 : 1;
	bad += getpid() > 0 ? 0 : 1;
	bad += socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) == 0 ? 0 : 1;
	return bad;
}

/* The TAP owner's requests are refused before the driver sees them (EPERM,
 * not the EBADF/ENOTTY a pipe would give); others still reach the driver. */
static int tap_ioctls(void)
{
	int bad = 0, fds[2];
	if (pipe(fds) < 0)
		return 1;
	bad += expect_errno(ioctl(fds[0], TUNSETPERSIST, 1), EPERM);
	bad += expect_errno(ioctl(fds[0], TUNSETOWNER, 0), EPERM);
	bad += expect_errno(ioctl(fds[0], TUNSETGROUP, 0), EPERM);
	bad += expect_errno(ioctl(fds[0], TUNSETLINK, 0), EPERM);
	bad += expect_errno(ioctl(fds[0], SIOCSIFHWADDR, NULL), EPERM);
	bad += expect_errno(ioctl(fds[0], TUNGETIFF, NULL), ENOTTY);
	int n = 0;
	bad += ioctl(fds[0], FIONREAD, &n) == 0 ? 0 : 1;
	return bad;
}

static void t_tap_ioctls(void)
{
	CHECK_EQ(under_filter(tap_ioctls), 0);
}

static void t_denied(void)
{
	CHECK_EQ(under_filter(denied_syscalls), 0);
}

static void t_clone(void)
{
	CHECK_EQ(under_filter(clone_rules), 0);
}

static void t_allowed(void)
{
	CHECK_EQ(under_filter(allowed_syscalls), 0);
}

/* A wire tenant's filter (SC_WIRE): bind() refused on any socket, while what an
 * uplink does with its inherited socket stays allowed (sockets, setsockopt,
 * sendmmsg/recvmmsg, mmap). The real AF_PACKET/UDP use is test/wire.test.ts. */
static int wire_rules(void)
{
	int bad = 0, fds[2], one = 1;
	struct sockaddr_in any = { .sin_family = AF_INET };
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	bad += s >= 0 ? 0 : 1;
	bad += expect_errno(bind(s, (struct sockaddr *)&any, sizeof(any)), EPERM);
	bad += setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 ? 0 : 1;
	bad += socketpair(AF_UNIX, SOCK_DGRAM, 0, fds) == 0 ? 0 : 1;
	struct mmsghdr m;
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	memset(&m, 0, sizeof(m));
	m.msg_hdr.msg_iov = &iov;
	m.msg_hdr.msg_iovlen = 1;
	bad += sendmmsg(fds[0], &m, 1, 0) == 1 ? 0 : 1;
	char buf[4];
	iov.iov_base = buf, iov.iov_len = sizeof(buf);
	bad += recvmmsg(fds[1], &m, 1, 0, NULL) == 1 ? 0 : 1;
	bad += mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED ? 0 : 1;
	bad += expect_errno(syscall(SYS_ptrace, 0, 0, 0, 0), EPERM); /* the usual list still applies */
	return bad;
}

/* Without SC_WIRE, bind() is an ordinary call. */
static int bind_allowed(void)
{
	struct sockaddr_in any = { .sin_family = AF_INET };
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	return s >= 0 && bind(s, (struct sockaddr *)&any, sizeof(any)) == 0 ? 0 : 1;
}

/* An AF_PACKET wire tenant (SC_WIRE_PACKET): sends that could name a device
 * (sendto with an address, sendmmsg, sendmsg but on fd 3) refused, and fd 3
 * (the control socket) can be neither closed, replaced nor made
 * close-on-exec; send() and sendto() without an address, recvmmsg and the
 * rest allowed. Runs with fd 3 a socketpair end, as in the sandbox. */
static int wire_packet_rules(void)
{
	int bad = 0, fds[2], ctrl[2];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr = { htonl(0x7f000001) } };
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, fds) < 0 || socketpair(AF_UNIX, SOCK_DGRAM, 0, ctrl) < 0)
		return 100;
	bad += send(fds[0], "a", 1, 0) == 1 ? 0 : 1;
	bad += sendto(fds[0], "b", 1, 0, NULL, 0) == 1 ? 0 : 1;
	bad += write(fds[0], "c", 1) == 1 ? 0 : 1;
	bad += expect_errno(sendto(fds[0], "d", 1, 0, (struct sockaddr *)&to, sizeof(to)), EPERM);
	struct mmsghdr m;
	struct iovec iov = { .iov_base = "e", .iov_len = 1 };
	memset(&m, 0, sizeof(m));
	m.msg_hdr.msg_iov = &iov;
	m.msg_hdr.msg_iovlen = 1;
	bad += expect_errno(sendmsg(fds[0], &m.msg_hdr, 0), EPERM);
	bad += expect_errno(sendmmsg(fds[0], &m, 1, 0), EPERM);
	char buf[4];
	iov.iov_base = buf, iov.iov_len = sizeof(buf);
	bad += recvmmsg(fds[1], &m, 1, 0, NULL) == 1 ? 0 : 1;
	struct sockaddr_in any = { .sin_family = AF_INET };
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	bad += expect_errno(bind(s, (struct sockaddr *)&any, sizeof(any)), EPERM);
	/* fd 3: sendmsg allowed there (the control protocol), and it stays put */
	bad += expect_errno(syscall(SYS_dup2, ctrl[0], 3), EPERM);
	bad += expect_errno(dup3(ctrl[0], 3, 0), EPERM);
	bad += expect_errno(fcntl(3, F_SETFD, FD_CLOEXEC), EPERM);
	bad += expect_errno(ioctl(3, FIOCLEX), EPERM);
	bad += expect_errno(syscall(SYS_close_range, 3, 3, 0), EPERM);
	bad += expect_errno(syscall(SYS_close_range, 0, ~0U, 0), EPERM);
	bad += expect_errno(close(3), EPERM);
	iov.iov_base = "f", iov.iov_len = 1;
	bad += sendmsg(3, &m.msg_hdr, 0) == 1 ? 0 : 1;
	bad += fcntl(fds[0], F_SETFD, FD_CLOEXEC) == 0 ? 0 : 1; /* other descriptors: as usual */
	bad += close(fds[0]) == 0 ? 0 : 1;
	bad += syscall(SYS_close_range, 10, ~0U, 0) == 0 ? 0 : 1;
	return bad;
}

static void t_wire(void)
{
	CHECK_EQ(under_filter_flags(wire_rules, SC_WIRE), 0);
	/* fd 3 must exist before the filter (dup2 onto 3 is refused after) */
	pid_t p = fork();
	if (p == 0) {
		int sp[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) < 0 || dup2(sp[0], 3) < 0 || sc_no_new_privs() < 0 || sc_install(SC_WIRE_PACKET) < 0)
			_exit(100);
		_exit(wire_packet_rules());
	}
	int status = 0;
	waitpid(p, &status, 0);
	CHECK_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status), 0);
	CHECK_EQ(under_filter(bind_allowed), 0);
}

int main(void)
{
	tap_run("seccomp denies ptrace, process_vm_*, bpf, perf, kcmp, unshare, setns, io_uring, userfaultfd, mount API, keyrings with EPERM", t_denied);
	tap_run("seccomp refuses clone with CLONE_NEW* flags (EPERM) and clone3 (ENOSYS) while fork works", t_clone);
	tap_run("seccomp leaves ordinary syscalls alone", t_allowed);
	tap_run("seccomp refuses the TAP owner's ioctls (persist, owner, group, link, MAC) and no others", t_tap_ioctls);
	tap_run("a wire tenant's filter refuses bind() and leaves sockets, sendmmsg, recvmmsg, mmap alone; an AF_PACKET one's also every send that could name a device, and fd 3 stays the control socket", t_wire);
	return tap_done();
}
