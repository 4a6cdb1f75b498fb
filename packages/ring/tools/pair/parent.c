/* SPDX-License-Identifier: MIT */
/*
 * vring-pair run: the parent. It plays the part of the backend's control
 * plane: one sealed memfd holding [stats][ring][pool], the ring initialised
 * with vring_be_init(), two wake-up channels ("data": producer -> consumer,
 * "space": consumer -> producer), each pre-signalled once as a freshly bound
 * port is (DESIGN.md), then two peers started with fork() + execv() of this
 * same binary with exactly fds 3 (memfd), 4 (wait end), 5 (kick end).
 *
 * Then it only watches: SIGCHLD (blocked, taken with sigtimedwait), the
 * progress timer and the stall watchdog. A peer that fails makes it kill
 * the other one; both die with it (PR_SET_PDEATHSIG).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"
#include "vpio/ring_be.h"

#define TICK_MAX_MS 50u

static const char *const role_names[2] = { "producer", "consumer" };

/* In the child: fds 3, 4, 5 and stdio, nothing else; then exec ourselves. */
static void child_exec(char **args, int shm, int wait_fd, int kick_fd, pid_t parent, const sigset_t *mask)
{
	int a, b, c;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(PAIR_EXIT_FAILED);
	/* move the three out of 3..5 first: they may sit on each other's targets */
	a = fcntl(shm, F_DUPFD_CLOEXEC, 10);
	b = fcntl(wait_fd, F_DUPFD_CLOEXEC, 10);
	c = fcntl(kick_fd, F_DUPFD_CLOEXEC, 10);
	if (a < 0 || b < 0 || c < 0)
		_exit(PAIR_EXIT_FAILED);
	/* dup2 leaves the targets without FD_CLOEXEC: exactly these survive execv */
	if (dup2(a, PAIR_FD_SHM) < 0 || dup2(b, PAIR_FD_WAIT) < 0 || dup2(c, PAIR_FD_KICK) < 0)
		_exit(PAIR_EXIT_FAILED);
	if (close_range(PAIR_FD_KICK + 1, ~0u, 0) < 0) {
		int fd;

		for (fd = PAIR_FD_KICK + 1; fd < 1024; fd++)
			close(fd);
	}
	sigprocmask(SIG_SETMASK, mask, NULL);
	execv("/proc/self/exe", args);
	_exit(127);
}

static pid_t spawn(enum pair_role role, int argc, char **argv, int first, int shm, int wait_fd, int kick_fd,
		   const sigset_t *mask)
{
	pid_t parent = getpid(), pid;
	char **args = calloc((size_t)(argc - first) + 3, sizeof *args);
	int i, n = 0;

	if (!args)
		return -ENOMEM;
	args[n++] = (char *)"vring-pair";
	args[n++] = (char *)role_names[role];
	for (i = first; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		child_exec(args, shm, wait_fd, kick_fd, parent, mask);
	free(args);
	return pid < 0 ? -errno : pid;
}

static void kill_and_reap(pid_t pid[2], struct pair_outcome *out)
{
	int r;

	for (r = 0; r < 2; r++) {
		if (pid[r] > 0 && !out->exited[r]) {
			kill(pid[r], SIGKILL);
			while (waitpid(pid[r], &out->status[r], 0) < 0 && errno == EINTR)
				;
			out->exited[r] = 1;
		}
	}
}

static void describe_exit(char *buf, size_t n, enum pair_role r, int status)
{
	if (WIFSIGNALED(status))
		snprintf(buf, n, "%s killed by signal %d (%s)", role_names[r], WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, n, "%s exited with status %d (see stderr)", role_names[r], WEXITSTATUS(status));
}

/* Watch both peers to the end. Returns the exit status of `run`. */
static int supervise(const struct pair_opts *o, struct pair_stats *st, const struct vring_hdr *h, pid_t pid[2],
		     const sigset_t *chld)
{
	struct pair_outcome out;
	uint64_t t0 = pair_now_ns(), last_move = t0, last_count = 0;
	uint64_t next_progress = o->progress_ms ? t0 + (uint64_t)o->progress_ms * 1000000u : UINT64_MAX;
	char what[160];
	int r;

	memset(&out, 0, sizeof out);
	for (;;) {
		uint64_t now, count, wait_ns;
		struct timespec ts;

		for (r = 0; r < 2; r++) {
			if (out.exited[r] || waitpid(pid[r], &out.status[r], WNOHANG) <= 0)
				continue;
			out.exited[r] = 1;
			if (!WIFEXITED(out.status[r]) || WEXITSTATUS(out.status[r]) != 0) {
				describe_exit(what, sizeof what, (enum pair_role)r, out.status[r]);
				kill_and_reap(pid, &out);
				pair_report_error(o, st, h, what);
				return PAIR_EXIT_FAILED;
			}
		}
		if (out.exited[0] && out.exited[1])
			return pair_report_result(o, st, &out) ? PAIR_EXIT_OK : PAIR_EXIT_NOT_OK;
		now = pair_now_ns();
		count = PAIR_LOAD(st->ctr[PAIR_PRODUCER].packets) + PAIR_LOAD(st->ctr[PAIR_CONSUMER].packets);
		if (count != last_count) {
			last_count = count;
			last_move = now;
		} else if (now - last_move >= (uint64_t)o->stall_ms * 1000000u) {
			kill_and_reap(pid, &out);
			snprintf(what, sizeof what, "stalled: no packet moved for %u ms", o->stall_ms);
			pair_report_error(o, st, h, what);
			return PAIR_EXIT_STALL;
		}
		if (now >= next_progress) {
			pair_report_progress(o, st, h, (now - t0) / 1000000u);
			next_progress += (uint64_t)o->progress_ms * 1000000u;
			if (next_progress <= now) /* we fell behind: no burst of stale lines */
				next_progress = now + (uint64_t)o->progress_ms * 1000000u;
		}
		wait_ns = (uint64_t)TICK_MAX_MS * 1000000u;
		if (next_progress - now < wait_ns)
			wait_ns = next_progress - now;
		ts.tv_sec = (time_t)(wait_ns / 1000000000u);
		ts.tv_nsec = (long)(wait_ns % 1000000000u);
		sigtimedwait(chld, NULL, &ts); /* SIGCHLD, timeout or EINTR: all mean "look again" */
	}
}

int pair_run(const struct pair_opts *o, int argc, char **argv, int first)
{
	struct pair_layout lay;
	struct pair_chan data = { -1, -1 }, space = { -1, -1 };
	struct vring_be be;
	struct pair_stats *st;
	uint8_t *base = NULL;
	sigset_t chld, old;
	pid_t pid[2] = { -1, -1 };
	int fd, rc, status = PAIR_EXIT_FAILED;
	const char *step;

	pair_layout_of(o, &lay);
	step = "memfd_create";
	fd = pair_shm_create(&lay);
	if (fd < 0) {
		rc = fd;
		goto fail;
	}
	step = "mmap";
	base = pair_shm_map(fd, &lay);
	if (!base) {
		rc = -errno;
		goto fail;
	}
	st = (struct pair_stats *)(base + lay.stats_off);
	st->magic = PAIR_STATS_MAGIC;
	step = "vring_be_init";
	rc = vring_be_init(&be, base + lay.ring_off, (uint32_t)lay.ring_bytes, base + lay.pool_off,
			   o->dir == PAIR_DIR_TX ? VRING_KIND_TX : VRING_KIND_RX, o->slots, o->buf_size, lay.nr_bufs,
			   0, 0);
	if (rc)
		goto fail;
	step = "pipe2";
	if ((rc = pair_chan_open(&data)) < 0 || (rc = pair_chan_open(&space)) < 0)
		goto fail;
	/* a freshly bound port is left pending once, on purpose (DESIGN.md) */
	step = "pre-signalling the channels";
	if ((rc = pair_chan_signal(data.wr)) < 0 || (rc = pair_chan_signal(space.wr)) < 0)
		goto fail;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	step = "fork";
	/* producer sleeps on "space" and kicks "data"; the consumer the other way round */
	pid[PAIR_PRODUCER] = spawn(PAIR_PRODUCER, argc, argv, first, fd, space.rd, data.wr, &old);
	if (pid[PAIR_PRODUCER] > 0)
		pid[PAIR_CONSUMER] = spawn(PAIR_CONSUMER, argc, argv, first, fd, data.rd, space.wr, &old);
	pair_chan_close(&data);
	pair_chan_close(&space);
	close(fd);
	fd = -1;
	if (pid[PAIR_PRODUCER] < 0 || pid[PAIR_CONSUMER] < 0) {
		struct pair_outcome out;

		rc = pid[PAIR_PRODUCER] < 0 ? pid[PAIR_PRODUCER] : pid[PAIR_CONSUMER];
		memset(&out, 0, sizeof out);
		kill_and_reap(pid, &out);
		sigprocmask(SIG_SETMASK, &old, NULL);
		goto fail;
	}
	status = supervise(o, st, (const struct vring_hdr *)(base + lay.ring_off), pid, &chld);
	sigprocmask(SIG_SETMASK, &old, NULL);
	pair_shm_unmap(base, &lay);
	return status;
fail:
	fprintf(stderr, "vring-pair run: %s: %s\n", step, strerror(rc < 0 ? -rc : rc));
	pair_chan_close(&data);
	pair_chan_close(&space);
	if (fd >= 0)
		close(fd);
	pair_shm_unmap(base, &lay);
	return PAIR_EXIT_FAILED;
}
