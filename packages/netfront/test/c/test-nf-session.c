// SPDX-License-Identifier: MIT
//
// test-nf-session - nf_session_open against a control socket that never
// says HELLO: fd 3 is one end of a SOCK_SEQPACKET socketpair whose other end
// this test holds and never writes. The call must give up within the HELLO
// wait (vpio/guest.h: 10 s, or $VPIO_HELLO_TIMEOUT_MS) with -ETIMEDOUT,
// leave the session closed and no descriptor behind, instead of blocking for
// ever as it did.

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vpio/netfront_broker.h"
#include "vpio/tap.h"

static struct nf_session session; /* large: static */
static int peer = -1;             /* vpiod's end: held open, never written */

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* nf_session_open with fd 3 silent: its return value, *ms how long it took. */
static int open_silent(long *ms)
{
	struct timespec t0;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = nf_session_open(&session);
	*ms = elapsed_ms(&t0);
	return rc;
}

static void t_default_wait(void)
{
	int before = tap_open_fds();
	long ms;

	unsetenv("VPIO_HELLO_TIMEOUT_MS");
	CHECK_EQ(open_silent(&ms), -ETIMEDOUT);
	CHECK(ms >= VPIO_GUEST_HELLO_TIMEOUT_MS - 50 && ms < VPIO_GUEST_HELLO_TIMEOUT_MS + 5000);
	CHECK_EQ(session.open, 0);
	nf_session_close(&session); /* harmless on a session that never opened */
	CHECK_EQ(tap_open_fds(), before);
}

static void t_env_wait(void)
{
	int before = tap_open_fds();
	long ms;

	setenv("VPIO_HELLO_TIMEOUT_MS", "300", 1);
	CHECK_EQ(open_silent(&ms), -ETIMEDOUT);
	CHECK(ms >= 290 && ms < 3000);
	CHECK_EQ(session.open, 0);
	CHECK_EQ(tap_open_fds(), before);
	CHECK(strstr(vpio_guest_open_strerror(-ETIMEDOUT), "HELLO") != NULL);
	/* fd 3 is still the control socket: nothing closed or read it */
	CHECK_EQ(fcntl(3, F_GETFD) >= 0, 1);
	unsetenv("VPIO_HELLO_TIMEOUT_MS");
}

int main(void)
{
	int sv[2];

	unsetenv("VPIO_CTRL_FD"); /* the default: fd 3 */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) || dup2(sv[0], 3) != 3)
		return 1;
	if (sv[0] != 3)
		close(sv[0]);
	peer = sv[1];
	tap_run("nf_session_open on a silent fd 3 gives up after the default 10 s HELLO wait with -ETIMEDOUT", t_default_wait);
	tap_run("nf_session_open on a silent fd 3 gives up after $VPIO_HELLO_TIMEOUT_MS with -ETIMEDOUT", t_env_wait);
	close(peer);
	return tap_done();
}
