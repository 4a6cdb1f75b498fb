/* SPDX-License-Identifier: MIT */
/*
 * evtchn_host.c - notify, wait and drain on one side's descriptors (host
 * driver of vpio/evtchn.h).
 *
 * Concurrency: stateless. Two threads of one side may call these on the
 * same descriptors: notify is one send, drain loops recv until EAGAIN, and
 * a notification raced by a drain is either drained or left pending.
 * Nothing here blocks except evtchn_wait(), and only up to its timeout.
 */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
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
