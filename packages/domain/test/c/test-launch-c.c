// SPDX-License-Identifier: MIT
//
// test-launch-c - C unit tests of the launcher's seccomp filter (run in a
// forked child, since a filter cannot be removed) and of the guest side of
// the control-socket framing (csrc/guest.c) over a real socketpair.

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"
#include "vpio/domain_ctrl.h"
#include "vpio/tap.h"

/* Runs fn in a child under the filter; the child's exit status is the
 * number of failed expectations. */
static int under_filter(int (*fn)(void))
{
	pid_t p = fork();
	if (p == 0) {
		if (sc_no_new_privs() < 0 || sc_install() < 0)
			_exit(100);
		_exit(fn());
	}
	int status = 0;
	waitpid(p, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
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

static void t_ctrl_roundtrip(void)
{
	int sv[2], fds[VPIO_CTRL_MAX_FDS], pfd[2];
	struct vpio_ctrl_hdr hdr;
	char payload[VPIO_CTRL_PAYLOAD_MAX];
	unsigned nfds = 99;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	CHECK_EQ(pipe(pfd), 0);
	CHECK_EQ(vpio_ctrl_send(sv[0], VPIO_CTRL_PING, 0, 42, "hello", 5, &pfd[1], 1), 0);
	CHECK_EQ(vpio_ctrl_recv(sv[1], &hdr, payload, sizeof(payload), fds, VPIO_CTRL_MAX_FDS, &nfds), 0);
	CHECK_EQ(hdr.type, VPIO_CTRL_PING);
	CHECK_EQ(hdr.seq, 42);
	CHECK_EQ(hdr.len, 5);
	CHECK_EQ(memcmp(payload, "hello", 5), 0);
	CHECK_EQ(nfds, 1);
	CHECK_EQ(write(fds[0], "z", 1), 1); /* the passed fd is the pipe's write end */
	char c = 0;
	CHECK_EQ(read(pfd[0], &c, 1), 1);
	CHECK_EQ(c, 'z');
	CHECK(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
	close(fds[0]);
	close(pfd[0]);
	close(pfd[1]);
	close(sv[0]);
	close(sv[1]);
}

static void t_ctrl_malformed(void)
{
	int sv[2], fds[VPIO_CTRL_MAX_FDS];
	struct vpio_ctrl_hdr hdr = { .type = 1, .len = 100 };
	char payload[64];
	unsigned nfds;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	/* len says 100, datagram carries 0 payload bytes */
	CHECK_EQ(send(sv[0], &hdr, sizeof(hdr), 0), (long)sizeof(hdr));
	CHECK_EQ(vpio_ctrl_recv(sv[1], &hdr, payload, sizeof(payload), fds, VPIO_CTRL_MAX_FDS, &nfds), -EPROTO);
	/* shorter than a header */
	CHECK_EQ(send(sv[0], "abc", 3, 0), 3);
	CHECK_EQ(vpio_ctrl_recv(sv[1], &hdr, payload, sizeof(payload), fds, VPIO_CTRL_MAX_FDS, &nfds), -EPROTO);
	/* longer than the caller's buffer: truncated, refused */
	char big[200] = { 0 };
	CHECK_EQ(vpio_ctrl_send(sv[0], 5, 0, 1, big, sizeof(big), NULL, 0), 0);
	CHECK_EQ(vpio_ctrl_recv(sv[1], &hdr, payload, sizeof(payload), fds, VPIO_CTRL_MAX_FDS, &nfds), -EPROTO);
	CHECK_EQ(vpio_ctrl_send(sv[0], 5, 0, 1, big, VPIO_CTRL_PAYLOAD_MAX + 1, NULL, 0), -EMSGSIZE);
	close(sv[0]);
	CHECK_EQ(vpio_ctrl_recv(sv[1], &hdr, payload, sizeof(payload), fds, VPIO_CTRL_MAX_FDS, &nfds), -ECONNRESET);
	close(sv[1]);
}

int main(void)
{
	tap_run("seccomp denies ptrace, process_vm_*, bpf, perf, kcmp, unshare, setns, io_uring, userfaultfd, mount API, keyrings with EPERM", t_denied);
	tap_run("seccomp refuses clone with CLONE_NEW* flags (EPERM) and clone3 (ENOSYS) while fork works", t_clone);
	tap_run("seccomp leaves ordinary syscalls alone", t_allowed);
	tap_run("control framing: a message and its fd arrive intact, fd is O_CLOEXEC", t_ctrl_roundtrip);
	tap_run("control framing: short, lying and oversized datagrams are refused", t_ctrl_malformed);
	return tap_done();
}
