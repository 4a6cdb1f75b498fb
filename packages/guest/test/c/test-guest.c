// SPDX-License-Identifier: MIT
//
// test-guest - C unit tests of the guest library's control side over a real
// SOCK_SEQPACKET socketpair, the test playing vpiod's end: the framing
// (csrc/guest.c) and the request/reply matching of vpio_guest_call
// (csrc/guest_call.c). The brokers themselves are exercised end to end
// against a real vpiod by @vpio/domain's tests (guest-broker, guest-fuzz).

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vpio/guest.h"
#include "vpio/tap.h"

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

/* Answers queued before the call: a stale reply (with an fd that must be
 * closed), an unsolicited request, then the ERROR for the call's seq. */
static void t_call_matches_seq(void)
{
	int sv[2], pfd[2], before = tap_open_fds();
	struct vpio_guest g = { .xs_fd = -1 };
	struct vpio_ctrl_error e = { .err = ENOSPC, .req_type = VPIO_CTRL_PING };
	struct vpio_ctrl_hdr hdr;
	char payload[64];
	int fds[VPIO_CTRL_MAX_FDS];
	unsigned nfds;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	CHECK_EQ(pipe(pfd), 0);
	g.ctrl_fd = sv[0];
	CHECK_EQ(vpio_ctrl_send(sv[1], VPIO_CTRL_PING, VPIO_CTRL_F_REPLY, 0, "old", 3, &pfd[1], 1), 0);
	close(pfd[1]);
	CHECK_EQ(vpio_ctrl_send(sv[1], VPIO_CTRL_PING, 0, 1, "req", 3, NULL, 0), 0);
	CHECK_EQ(vpio_ctrl_send(sv[1], VPIO_CTRL_ERROR, VPIO_CTRL_F_REPLY, 1, &e, sizeof(e), NULL, 0), 0);
	CHECK_EQ(vpio_guest_ping(&g, "abc", 3), -ENOSPC);
	/* the request vpiod would have read */
	CHECK_EQ(vpio_ctrl_recv(sv[1], &hdr, payload, sizeof(payload), fds, VPIO_CTRL_MAX_FDS, &nfds), 0);
	CHECK_EQ(hdr.type, VPIO_CTRL_PING);
	CHECK_EQ(hdr.seq, 1);
	CHECK_EQ(hdr.flags, 0);
	CHECK_EQ(memcmp(payload, "abc", 3), 0);
	/* the stale reply's descriptor was closed: its pipe reads EOF */
	char c;
	CHECK_EQ(read(pfd[0], &c, 1), 0);
	close(pfd[0]);
	/* a matching echo: 0; a wrong echo: -EPROTO */
	CHECK_EQ(vpio_ctrl_send(sv[1], VPIO_CTRL_PING, VPIO_CTRL_F_REPLY, 2, "xyz", 3, NULL, 0), 0);
	CHECK_EQ(vpio_guest_ping(&g, "xyz", 3), 0);
	CHECK_EQ(vpio_ctrl_send(sv[1], VPIO_CTRL_PING, VPIO_CTRL_F_REPLY, 3, "xyZ", 3, NULL, 0), 0);
	CHECK_EQ(vpio_guest_ping(&g, "xyz", 3), -EPROTO);
	/* vpiod gone */
	close(sv[1]);
	CHECK(vpio_guest_ping(&g, "q", 1) < 0); /* -EPIPE or -ECONNRESET, never a hang */
	close(sv[0]);
	CHECK_EQ(tap_open_fds(), before);
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void set_ctrl_fd(int fd)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", fd);
	setenv("VPIO_CTRL_FD", v, 1);
}

/* A control socket whose other end never says HELLO: vpio_guest_open gives
 * up after $VPIO_HELLO_TIMEOUT_MS with -ETIMEDOUT and a message naming the
 * wait; it read nothing, so a HELLO that comes later still opens. */
static void t_hello_times_out(void)
{
	int sv[2], pfd[2], before = tap_open_fds();
	struct vpio_guest g;
	struct vpio_ctrl_hello hello = { .abi = VPIO_CTRL_ABI, .domid = 7 };
	struct timespec t0;
	long ms;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	set_ctrl_fd(sv[0]);
	setenv("VPIO_HELLO_TIMEOUT_MS", "300", 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(vpio_guest_open(&g), -ETIMEDOUT);
	ms = elapsed_ms(&t0);
	CHECK(ms >= 290 && ms < 3000);
	CHECK_EQ(g.ctrl_fd, -1);
	CHECK_EQ(g.xs_fd, -1);
	CHECK(strstr(vpio_guest_open_strerror(-ETIMEDOUT), "timed out waiting for HELLO") != NULL);
	CHECK(strstr(vpio_guest_open_strerror(-ETIMEDOUT), "VPIO_HELLO_TIMEOUT_MS (default 10000 ms)") != NULL);
	/* an explicit wait of 0: at once */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(vpio_guest_open_timeout(&g, 0), -ETIMEDOUT);
	CHECK(elapsed_ms(&t0) < 200);
	/* HELLO arrives: the session opens with its domid and xenstore fd */
	CHECK_EQ(pipe(pfd), 0);
	CHECK_EQ(vpio_ctrl_send(sv[1], VPIO_CTRL_HELLO, 0, 0, &hello, sizeof(hello), &pfd[1], 1), 0);
	close(pfd[1]);
	CHECK_EQ(vpio_guest_open(&g), 0);
	CHECK_EQ(g.ctrl_fd, sv[0]);
	CHECK_EQ(g.domid, 7u);
	CHECK(g.xs_fd >= 0);
	vpio_guest_close(&g);
	CHECK_EQ(g.xs_fd, -1);
	close(pfd[0]);
	/* vpiod gone before HELLO: -ECONNRESET at once, not the whole wait */
	close(sv[1]);
	setenv("VPIO_HELLO_TIMEOUT_MS", "5000", 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(vpio_guest_open(&g), -ECONNRESET);
	CHECK(elapsed_ms(&t0) < 2000);
	close(sv[0]);
	unsetenv("VPIO_HELLO_TIMEOUT_MS");
	unsetenv("VPIO_CTRL_FD");
	CHECK_EQ(tap_open_fds(), before);
}

/* The wait: 10 s unless $VPIO_HELLO_TIMEOUT_MS is a number of ms in range;
 * a bad value is refused before anything is read. */
static void t_hello_timeout_setting(void)
{
	struct vpio_guest g;

	unsetenv("VPIO_HELLO_TIMEOUT_MS");
	CHECK_EQ(vpio_guest_hello_timeout_ms(), VPIO_GUEST_HELLO_TIMEOUT_MS);
	CHECK_EQ(VPIO_GUEST_HELLO_TIMEOUT_MS, 10000);
	setenv("VPIO_HELLO_TIMEOUT_MS", "", 1);
	CHECK_EQ(vpio_guest_hello_timeout_ms(), 10000);
	setenv("VPIO_HELLO_TIMEOUT_MS", "2500", 1);
	CHECK_EQ(vpio_guest_hello_timeout_ms(), 2500);
	const char *bad[] = { "0", "-1", "10s", "86400001", "99999999999999999999" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("VPIO_HELLO_TIMEOUT_MS", bad[i], 1);
		CHECK_EQ(vpio_guest_hello_timeout_ms(), -EINVAL);
	}
	CHECK_EQ(vpio_guest_open(&g), -EINVAL);
	CHECK_EQ(g.ctrl_fd, -1);
	CHECK(strstr(vpio_guest_open_strerror(-EINVAL), "$VPIO_HELLO_TIMEOUT_MS") != NULL);
	unsetenv("VPIO_HELLO_TIMEOUT_MS");
}

int main(void)
{
	tap_run("control framing: a message and its fd arrive intact, fd is O_CLOEXEC", t_ctrl_roundtrip);
	tap_run("control framing: short, lying and oversized datagrams are refused", t_ctrl_malformed);
	tap_run("vpio_guest_call skips stale and unsolicited messages (closing their fds) and returns the ERROR's errno", t_call_matches_seq);
	tap_run("vpio_guest_open gives up on a silent control socket after $VPIO_HELLO_TIMEOUT_MS with -ETIMEDOUT", t_hello_times_out);
	tap_run("the HELLO wait is 10 s unless $VPIO_HELLO_TIMEOUT_MS says otherwise; a bad value is -EINVAL", t_hello_timeout_setting);
	return tap_done();
}
