/* SPDX-License-Identifier: MIT */
/*
 * xs_transport_fd.c - the xenstore transport over a file descriptor: a unix
 * socket to the daemon (found as libxenstore finds it), a xenbus device
 * node, or an fd inherited from the domain layer. Unlike the client core
 * this file uses libc; a PV guest swaps it for a ring-page transport.
 *
 * send() blocks until the whole message is written (retrying short writes
 * and EINTR); recv() never blocks (MSG_DONTWAIT on sockets, poll(0) first
 * on other fds); wait() is poll(POLLIN). SIGPIPE is avoided with
 * MSG_NOSIGNAL on sockets.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vpio/xs_transport.h"

static int fd_send(void *ctx, const void *buf, size_t len)
{
	struct xs_fd_transport *ft = ctx;
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(ft->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == ENOTSOCK)
			n = write(ft->fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				/* a non-blocking inherited fd: wait for room */
				struct pollfd pfd = { .fd = ft->fd, .events = POLLOUT };

				if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
					return -errno;
				continue;
			}
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static long fd_recv(void *ctx, void *buf, size_t len)
{
	struct xs_fd_transport *ft = ctx;
	ssize_t n;

	for (;;) {
		n = recv(ft->fd, buf, len, MSG_DONTWAIT);
		if (n < 0 && errno == ENOTSOCK) {
			struct pollfd pfd = { .fd = ft->fd, .events = POLLIN };
			int r = poll(&pfd, 1, 0);

			if (r == 0)
				return 0;
			n = r < 0 ? -1 : read(ft->fd, buf, len);
		}
		if (n > 0)
			return (long)n;
		if (n == 0)
			return -EPIPE; /* the daemon closed the connection */
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -errno;
	}
}

static int fd_wait(void *ctx, int timeout_ms)
{
	struct xs_fd_transport *ft = ctx;
	struct pollfd pfd = { .fd = ft->fd, .events = POLLIN };
	int r;

	do
		r = poll(&pfd, 1, timeout_ms < 0 ? -1 : timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r > 0 ? 1 : 0; /* POLLHUP/POLLERR count as readable: recv() reports them */
}

static void fd_close(void *ctx)
{
	struct xs_fd_transport *ft = ctx;

	if (ft->owned && ft->fd >= 0)
		close(ft->fd);
	ft->fd = -1;
}

static const struct xs_transport_ops fd_ops = {
	.send = fd_send,
	.recv = fd_recv,
	.wait = fd_wait,
	.close = fd_close,
};

int xs_fd_transport_adopt(struct xs_fd_transport *ft, struct xs_transport *t, int fd, int take_ownership)
{
	if (!ft || !t)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	ft->fd = fd;
	ft->owned = take_ownership ? 1 : 0;
	t->ops = &fd_ops;
	t->ctx = ft;
	return 0;
}

int xs_fd_transport_connect(struct xs_fd_transport *ft, struct xs_transport *t, const char *path)
{
	char fallback[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct sockaddr_un sun;
	struct stat st;
	int fd, err;

	if (!ft || !t)
		return -EINVAL;
	if (!path) {
		const char *env = getenv("XENSTORED_PATH");
		const char *rundir = getenv("XENSTORED_RUNDIR");

		if (env && *env) {
			path = env;
		} else if (rundir && *rundir) {
			if ((size_t)snprintf(fallback, sizeof(fallback), "%s/socket", rundir) >= sizeof(fallback))
				return -ENAMETOOLONG;
			path = fallback;
		} else {
			path = "/var/run/xenstored/socket";
		}
	}
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode)) {
		/* libxenstore: anything but a socket is a xenbus device node */
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		return xs_fd_transport_adopt(ft, t, fd, 1);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return xs_fd_transport_adopt(ft, t, fd, 1);
}
