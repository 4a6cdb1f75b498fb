/* SPDX-License-Identifier: MIT */
/*
 * evtchn_host.c - notify, wait and drain on one side's descriptors (host
 * driver of vpio/evtchn.h).
 *
 * Concurrency: stateless. Two threads of one side may call these on the
 * same descriptors: notify is one send, drain loops recv until EAGAIN, and
 * a notification raced by a drain is either drained or left pending.
 * Nothing here blocks except evtchn_wait() and evtchn_waiter_wait(), and
 * only up to their timeout. evtchn_waiter_wait() assumes one waiter per rx
 * end (its blocking recv is both the sleep and the drain); the state it
 * needs (the receive timeout set on the socket) lives in the caller's
 * struct evtchn_waiter.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "vpio/evtchn.h"

int evtchn_notify(int tx_fd)
{
	static const unsigned char one = 1;
	ssize_t n;

	for (;;) {
		n = send(tx_fd, &one, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == 1)
			return EVTCHN_SENT;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return EVTCHN_COALESCED;
		return n < 0 ? -errno : -EIO;
	}
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int evtchn_wait(int rx_fd, int timeout_ms)
{
	long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	struct pollfd p = { .fd = rx_fd, .events = POLLIN };
	int left = timeout_ms, rc;

	if (rx_fd < 0)
		return -EBADF;
	for (;;) {
		rc = poll(&p, 1, left);
		if (rc > 0) {
			if (p.revents & POLLNVAL)
				return -EBADF;
			return 1; /* POLLIN, POLLHUP or POLLERR: drain() tells which */
		}
		if (rc == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
		if (timeout_ms > 0) {
			long long rem = deadline - now_ms();
			left = rem > 0 ? (int)rem : 0;
		}
	}
}

int evtchn_drain(int rx_fd)
{
	unsigned char buf[64];
	int total = 0;
	ssize_t n;

	for (;;) {
		n = recv(rx_fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			total = total > 0x7fffffff - (int)n ? 0x7fffffff : total + (int)n;
			/* a short read of a stream socket took everything queued: skip
			 * the recv that would only say EAGAIN (a byte arriving now stays
			 * pending for the next wait, so no wake-up is lost) */
			if ((size_t)n < sizeof(buf))
				return total;
			continue;
		}
		if (n == 0) /* the peer closed; report what was pending first */
			return total > 0 ? total : -EPIPE;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return total;
		return -errno;
	}
}

int evtchn_waiter_init(struct evtchn_waiter *w, int rx_fd)
{
	struct timeval tv = { 0, 0 }; /* 0: no receive timeout */
	int fl;

	w->rx_fd = -1;
	w->timeo_ms = -1;
	if (rx_fd < 0)
		return -EBADF;
	fl = fcntl(rx_fd, F_GETFL);
	if (fl < 0)
		return -errno;
	if (setsockopt(rx_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	if ((fl & O_NONBLOCK) && fcntl(rx_fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return -errno;
	w->rx_fd = rx_fd;
	return 0;
}

/* Sets the socket's receive timeout to timeout_ms (> 0, or -1: none) if it
 * is not that already. */
static int waiter_set_timeo(struct evtchn_waiter *w, int timeout_ms)
{
	struct timeval tv = { 0, 0 };

	if (w->timeo_ms == timeout_ms)
		return 0;
	if (timeout_ms > 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
	}
	if (setsockopt(w->rx_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	w->timeo_ms = timeout_ms;
	return 0;
}

int evtchn_waiter_wait(struct evtchn_waiter *w, int timeout_ms)
{
	unsigned char buf[64];
	long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	int rc, left;
	ssize_t n;

	if (w->rx_fd < 0)
		return -EBADF;
	if (timeout_ms == 0)
		return evtchn_drain(w->rx_fd);
	rc = waiter_set_timeo(w, timeout_ms < 0 ? -1 : timeout_ms);
	if (rc < 0)
		return rc;
	n = recv(w->rx_fd, buf, sizeof(buf), 0); /* sleeps (the end is blocking) */
	if (n > 0) {
		/* a short read of a stream socket took everything queued (as in
		 * evtchn_drain()); a full one may have left more: drain it */
		if ((size_t)n < sizeof(buf))
			return (int)n;
		rc = evtchn_drain(w->rx_fd);
		return rc > 0x7fffffff - (int)n ? 0x7fffffff : (int)n + (rc > 0 ? rc : 0);
	}
	if (n == 0)
		return -EPIPE;
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return -errno;
	/* The receive timeout expired, a signal came, or the end is
	 * non-blocking again: poll for whatever time is left, then drain. */
	left = -1;
	if (timeout_ms > 0) {
		long long rem = deadline - now_ms();
		left = rem > 0 ? (int)rem : 0;
	}
	rc = evtchn_wait(w->rx_fd, left);
	if (rc <= 0)
		return rc;
	return evtchn_drain(w->rx_fd);
}
