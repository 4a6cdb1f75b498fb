/* SPDX-License-Identifier: MIT */
/*
 * test-evtchn - the host event-channel driver between real processes:
 * a forked child and its parent ping-pong 100,000 notifications with no
 * lost wake-up, a side that never drains cannot block its notifier, a
 * closed side is seen by the other, no descriptor is shared between the
 * sides and none leaks; the same for the single-waiter path
 * (struct evtchn_waiter: a blocking recv instead of poll + recv). TAP via vpio/tap.h; ASan + UBSan.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vpio/evtchn.h"
#include "vpio/evtchn_pair.h"
#include "vpio/tap.h"

#define ROUNDS 100000
#define WAIT_MS 5000 /* a lost wake-up shows as this timeout */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void t_fresh_pair_pending_once(void)
{
	struct evtchn_end a, b;

	CHECK_EQ(evtchn_host_pair(&a, &b), 0);
	CHECK_EQ(evtchn_wait(a.rx_fd, 0), 1);
	CHECK_EQ(evtchn_wait(b.rx_fd, 0), 1);
	CHECK_EQ(evtchn_drain(a.rx_fd), 1);
	CHECK_EQ(evtchn_drain(b.rx_fd), 1);
	CHECK_EQ(evtchn_wait(a.rx_fd, 0), 0);
	CHECK_EQ(evtchn_drain(a.rx_fd), 0);
	evtchn_host_close_end(&a);
	evtchn_host_close_end(&b);
}

static void t_notify_wait_drain(void)
{
	struct evtchn_end a, b;
	long long t0;

	CHECK_EQ(evtchn_host_pair(&a, &b), 0);
	evtchn_drain(b.rx_fd);
	t0 = now_ms();
	CHECK_EQ(evtchn_wait(b.rx_fd, 50), 0);
	CHECK(now_ms() - t0 >= 45);
	CHECK_EQ(evtchn_notify(a.tx_fd), EVTCHN_SENT);
	CHECK_EQ(evtchn_notify(a.tx_fd), EVTCHN_SENT);
	CHECK_EQ(evtchn_wait(b.rx_fd, WAIT_MS), 1);
	CHECK_EQ(evtchn_drain(b.rx_fd), 2);
	/* the direction B→A is separate: A saw only its initial pending */
	CHECK_EQ(evtchn_drain(a.rx_fd), 1);
	evtchn_host_close_end(&a);
	evtchn_host_close_end(&b);
}

static void t_no_shared_description(void)
{
	struct evtchn_end a, b;
	struct stat s[4];
	int i, j;

	CHECK_EQ(evtchn_host_pair(&a, &b), 0);
	CHECK_EQ(fstat(a.rx_fd, &s[0]), 0);
	CHECK_EQ(fstat(a.tx_fd, &s[1]), 0);
	CHECK_EQ(fstat(b.rx_fd, &s[2]), 0);
	CHECK_EQ(fstat(b.tx_fd, &s[3]), 0);
	for (i = 0; i < 4; i++)
		for (j = i + 1; j < 4; j++)
			CHECK(s[i].st_ino != s[j].st_ino);
	/* clearing O_NONBLOCK on B's end leaves A's end non-blocking */
	CHECK_EQ(fcntl(b.rx_fd, F_SETFL, 0), 0);
	CHECK(fcntl(a.tx_fd, F_GETFL) & O_NONBLOCK);
	/* a side cannot write into its receive end */
	CHECK_EQ(evtchn_notify(b.rx_fd), -EPIPE);
	evtchn_host_close_end(&a);
	evtchn_host_close_end(&b);
}

/* Shared between parent and child: the sequence each side stamps. The
 * parent stamps odd numbers, the child even ones; each stamp is followed by
 * a notify, and each side waits for the other's next stamp. */
struct pingpong {
	uint32_t seq;
};

/* Set by the waiter variant of the ping-pong: sleep through
 * evtchn_waiter_wait() on this process's rx end instead. */
static struct evtchn_waiter *pp_waiter;

/* Waits until pp->seq == want: drain first, re-check, then sleep
 * (spurious wake-ups are fine). 0, or -1 on a lost wake-up or an error. */
static int await_seq(const struct evtchn_end *e, struct pingpong *pp, uint32_t want)
{
	if (pp_waiter) {
		/* the waiter's sleep drains too: re-check, then sleep+drain; a
		 * stamp after the re-check left a byte, so the sleep returns */
		for (;;) {
			if (__atomic_load_n(&pp->seq, __ATOMIC_ACQUIRE) == want)
				return 0;
			if (evtchn_waiter_wait(pp_waiter, WAIT_MS) <= 0)
				return -1;
		}
	}
	for (;;) {
		if (evtchn_drain(e->rx_fd) < 0)
			return -1;
		if (__atomic_load_n(&pp->seq, __ATOMIC_ACQUIRE) == want)
			return 0;
		if (evtchn_wait(e->rx_fd, WAIT_MS) != 1)
			return -1;
	}
}

static int stamp(const struct evtchn_end *e, struct pingpong *pp, uint32_t seq)
{
	__atomic_store_n(&pp->seq, seq, __ATOMIC_RELEASE);
	return evtchn_notify(e->tx_fd) < 0 ? -1 : 0;
}

static void pingpong_processes(int use_waiter)
{
	struct evtchn_end a, b;
	struct evtchn_waiter w;
	struct pingpong *pp;
	uint32_t k;
	int status;
	long long t0;
	pid_t pid;

	pp = mmap(NULL, sizeof(*pp), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(pp != MAP_FAILED);
	if (pp == MAP_FAILED)
		return;
	pp->seq = 0;
	CHECK_EQ(evtchn_host_pair(&a, &b), 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		evtchn_host_close_end(&a); /* the child is side B only */
		if (use_waiter) {
			if (evtchn_waiter_init(&w, b.rx_fd) < 0)
				_exit(11);
			pp_waiter = &w;
		}
		for (k = 0; k < ROUNDS / 2; k++)
			if (await_seq(&b, pp, 2 * k + 1) < 0 || stamp(&b, pp, 2 * k + 2) < 0)
				_exit(10);
		_exit(0);
	}
	evtchn_host_close_end(&b);
	if (use_waiter) {
		CHECK_EQ(evtchn_waiter_init(&w, a.rx_fd), 0);
		pp_waiter = &w;
	}
	t0 = now_ms();
	for (k = 0; k < ROUNDS / 2; k++) {
		if (stamp(&a, pp, 2 * k + 1) < 0 || await_seq(&a, pp, 2 * k + 2) < 0) {
			printf("# lost wake-up or error at seq %u\n", 2 * k + 1);
			tap_case_failed = 1;
			kill(pid, SIGKILL);
			break;
		}
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	CHECK_EQ(pp->seq, ROUNDS);
	printf("# %d notifications in %lld ms\n", ROUNDS, now_ms() - t0);
	pp_waiter = NULL;
	evtchn_host_close_end(&a);
	munmap(pp, sizeof(*pp));
}

static void t_pingpong_processes(void)
{
	pingpong_processes(0);
}

static void t_pingpong_processes_waiter(void)
{
	pingpong_processes(1);
}

static void t_waiter_wait_drains(void)
{
	struct evtchn_end a, b;
	struct evtchn_waiter w;
	long long t0;

	CHECK_EQ(evtchn_host_pair(&a, &b), 0);
	CHECK_EQ(evtchn_waiter_init(&w, b.rx_fd), 0);
	/* B's own end is blocking now; A's ends are untouched */
	CHECK(!(fcntl(b.rx_fd, F_GETFL) & O_NONBLOCK));
	CHECK(fcntl(a.tx_fd, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(a.rx_fd, F_GETFL) & O_NONBLOCK);
	/* pending once, drained by the wait; then nothing: 0 */
	CHECK_EQ(evtchn_waiter_wait(&w, WAIT_MS), 1);
	CHECK_EQ(evtchn_waiter_wait(&w, 0), 0);
	t0 = now_ms();
	CHECK_EQ(evtchn_waiter_wait(&w, 50), 0);
	CHECK(now_ms() - t0 >= 45);
	CHECK_EQ(evtchn_notify(a.tx_fd), EVTCHN_SENT);
	CHECK_EQ(evtchn_notify(a.tx_fd), EVTCHN_SENT);
	CHECK_EQ(evtchn_waiter_wait(&w, -1), 2);
	/* a timeout, then no timeout: the cached SO_RCVTIMEO follows */
	CHECK_EQ(evtchn_notify(a.tx_fd), EVTCHN_SENT);
	CHECK_EQ(evtchn_waiter_wait(&w, 30), 1);
	CHECK_EQ(evtchn_notify(a.tx_fd), EVTCHN_SENT);
	CHECK_EQ(evtchn_waiter_wait(&w, -1), 1);
	/* the stateless calls still never block on the now-blocking end */
	CHECK_EQ(evtchn_drain(b.rx_fd), 0);
	CHECK_EQ(evtchn_wait(b.rx_fd, 0), 0);
	evtchn_host_close_end(&a);
	evtchn_host_close_end(&b);
}

static void t_waiter_full_link(void)
{
	struct evtchn_end a, b;
	struct evtchn_waiter w;
	unsigned char bytes[200] = { 0 };
	int sent = 1, rc, sv[2]; /* the initial pending one */

	CHECK_EQ(evtchn_host_pair(&a, &b), 0);
	CHECK_EQ(evtchn_waiter_init(&w, b.rx_fd), 0);
	while ((rc = evtchn_notify(a.tx_fd)) == EVTCHN_SENT)
		sent++;
	CHECK_EQ(rc, EVTCHN_COALESCED); /* full: counts as signalled */
	CHECK_EQ(evtchn_waiter_wait(&w, WAIT_MS), sent);
	CHECK_EQ(evtchn_waiter_wait(&w, 0), 0);
	evtchn_host_close_end(&a);
	evtchn_host_close_end(&b);
	/* more than one recv buffer queued (a link with a larger send
	 * buffer): the blocking recv, then the non-blocking drain */
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_EQ(send(sv[0], bytes, sizeof(bytes), 0), (ssize_t)sizeof(bytes));
	CHECK_EQ(evtchn_waiter_init(&w, sv[1]), 0);
	CHECK_EQ(evtchn_waiter_wait(&w, WAIT_MS), (int)sizeof(bytes));
	CHECK_EQ(evtchn_waiter_wait(&w, 0), 0);
	close(sv[0]);
	close(sv[1]);
}

static void t_waiter_close_and_fallback(void)
{
	struct evtchn_end a, b;
	struct evtchn_waiter w;
	long long t0;
	int fd[2];

	signal(SIGPIPE, SIG_DFL);
	CHECK_EQ(evtchn_host_pair(&a, &b), 0);
	CHECK_EQ(evtchn_waiter_init(&w, a.rx_fd), 0);
	CHECK_EQ(evtchn_waiter_wait(&w, WAIT_MS), 1);
	/* re-flagged non-blocking behind the waiter's back: still sleeps
	 * (poll fallback) for the whole timeout, still wakes on a notify */
	CHECK_EQ(fcntl(a.rx_fd, F_SETFL, O_NONBLOCK), 0);
	t0 = now_ms();
	CHECK_EQ(evtchn_waiter_wait(&w, 50), 0);
	CHECK(now_ms() - t0 >= 45);
	CHECK_EQ(evtchn_notify(b.tx_fd), EVTCHN_SENT);
	CHECK_EQ(evtchn_waiter_wait(&w, WAIT_MS), 1);
	CHECK_EQ(evtchn_waiter_init(&w, a.rx_fd), 0);
	/* pending notifications first, then the close */
	CHECK_EQ(evtchn_notify(b.tx_fd), EVTCHN_SENT);
	evtchn_host_close_end(&b);
	CHECK_EQ(evtchn_waiter_wait(&w, WAIT_MS), 1);
	CHECK_EQ(evtchn_waiter_wait(&w, WAIT_MS), -EPIPE);
	CHECK_EQ(evtchn_waiter_wait(&w, -1), -EPIPE);
	evtchn_host_close_end(&a);
	/* bad ends */
	CHECK_EQ(evtchn_waiter_init(&w, -1), -EBADF);
	CHECK_EQ(evtchn_waiter_wait(&w, 0), -EBADF);
	CHECK_EQ(pipe(fd), 0);
	CHECK_EQ(evtchn_waiter_init(&w, fd[0]), -ENOTSOCK);
	close(fd[0]);
	close(fd[1]);
}

static void t_full_link_never_blocks(void)
{
	struct evtchn_end a, b;
	int i, sent = 0, coalesced = 0, rc;

	CHECK_EQ(evtchn_host_pair(&a, &b), 0);
	/* the tenant (B) never drains, and even makes its end blocking; a
	 * hostile A-side flag change cannot make notify block either */
	CHECK_EQ(fcntl(b.rx_fd, F_SETFL, 0), 0);
	CHECK_EQ(fcntl(a.tx_fd, F_SETFL, 0), 0);
	alarm(10); /* a blocking notify would hang: fail loudly instead */
	for (i = 0; i < 100000; i++) {
		rc = evtchn_notify(a.tx_fd);
		if (rc == EVTCHN_SENT)
			sent++;
		else if (rc == EVTCHN_COALESCED)
			coalesced++;
		else
			CHECK_EQ(rc, 0);
	}
	alarm(0);
	CHECK(sent > 0);
	CHECK(coalesced > 90000);
	printf("# %d sent, %d coalesced\n", sent, coalesced);
	/* one drain takes everything; the link works again after it */
	CHECK_EQ(evtchn_drain(b.rx_fd), sent + 1);
	CHECK_EQ(evtchn_notify(a.tx_fd), EVTCHN_SENT);
	evtchn_host_close_end(&a);
	evtchn_host_close_end(&b);
}

static void t_close_seen_by_peer(void)
{
	struct evtchn_end a, b;

	signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill the program */
	CHECK_EQ(evtchn_host_pair(&a, &b), 0);
	CHECK_EQ(evtchn_notify(b.tx_fd), EVTCHN_SENT);
	evtchn_host_close_end(&b);
	/* pending notifications first, then the close */
	CHECK_EQ(evtchn_wait(a.rx_fd, 0), 1);
	CHECK_EQ(evtchn_drain(a.rx_fd), 2);
	CHECK_EQ(evtchn_wait(a.rx_fd, WAIT_MS), 1);
	CHECK_EQ(evtchn_drain(a.rx_fd), -EPIPE);
	CHECK_EQ(evtchn_notify(a.tx_fd), -EPIPE);
	evtchn_host_close_end(&a);
}

static void t_close_seen_across_processes(void)
{
	struct evtchn_end a, b;
	int status;
	pid_t pid;

	CHECK_EQ(evtchn_host_pair(&a, &b), 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		evtchn_host_close_end(&a);
		_exit(0); /* dies holding side B */
	}
	evtchn_host_close_end(&b);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	evtchn_drain(a.rx_fd);
	CHECK_EQ(evtchn_wait(a.rx_fd, WAIT_MS), 1);
	CHECK_EQ(evtchn_drain(a.rx_fd), -EPIPE);
	CHECK_EQ(evtchn_notify(a.tx_fd), -EPIPE);
	evtchn_host_close_end(&a);
}

static void t_bad_descriptors(void)
{
	CHECK_EQ(evtchn_notify(-1), -EBADF);
	CHECK_EQ(evtchn_wait(-1, 0), -EBADF);
	CHECK_EQ(evtchn_drain(-1), -EBADF);
	CHECK_EQ(evtchn_wait(100000, 0), -EBADF);
}

static void t_no_fd_leak(void)
{
	int before = tap_open_fds(), i;
	struct evtchn_end a, b;

	for (i = 0; i < 1000; i++) {
		if (evtchn_host_pair(&a, &b) != 0) {
			CHECK_EQ(i, -1);
			break;
		}
		evtchn_notify(a.tx_fd);
		evtchn_host_close_end(&b);
		evtchn_host_close_end(&a);
	}
	CHECK_EQ(tap_open_fds(), before);
}

int main(void)
{
	tap_run("a fresh pair is pending once on each side", t_fresh_pair_pending_once);
	tap_run("notify, wait (with timeout) and drain count notifications per direction", t_notify_wait_drain);
	tap_run("the sides share no file description; a side cannot write its receive end",
		t_no_shared_description);
	tap_run("a forked child and its parent ping-pong 100000 notifications with no lost wake-up",
		t_pingpong_processes);
	tap_run("the same ping-pong with both sides sleeping in evtchn_waiter_wait (blocking recv)",
		t_pingpong_processes_waiter);
	tap_run("evtchn_waiter_wait: times out with 0, returns the count drained, leaves the peer's ends alone",
		t_waiter_wait_drains);
	tap_run("evtchn_waiter_wait drains a full link, and more than one recv buffer", t_waiter_full_link);
	tap_run("evtchn_waiter_wait: a non-blocking end falls back to poll; a closed peer gives EPIPE",
		t_waiter_close_and_fallback);
	tap_run("a side that never drains cannot block its notifier: notify coalesces", t_full_link_never_blocks);
	tap_run("closing one side is seen by the other after its pending notifications", t_close_seen_by_peer);
	tap_run("a peer process that exits is seen as closed", t_close_seen_across_processes);
	tap_run("bad descriptors give EBADF", t_bad_descriptors);
	tap_run("creating and closing 1000 pairs leaks no descriptor", t_no_fd_leak);
	return tap_done();
}
