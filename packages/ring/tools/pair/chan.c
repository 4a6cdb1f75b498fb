/* SPDX-License-Identifier: MIT */
/*
 * vring-pair: the wake-up channel, host mode's event channel in miniature.
 * One pipe per direction, both ends non-blocking: the waker writes one byte
 * and treats a full pipe as "already signalled"; the sleeper polls its end,
 * then drains it completely. A byte is only a hint: the sleeper re-checks
 * the ring after every wake-up (ring.h, "Kicks"), so extra bytes cost a
 * spurious wake-up, never a lost packet.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "pair.h"

int pair_chan_open(struct pair_chan *c)
{
	int fds[2];

	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
		c->rd = c->wr = -1;
		return -errno;
	}
	c->rd = fds[0];
	c->wr = fds[1];
	return 0;
}

void pair_chan_close(struct pair_chan *c)
{
	if (c->rd >= 0)
		close(c->rd);
	if (c->wr >= 0)
		close(c->wr);
	c->rd = c->wr = -1;
}

int pair_chan_signal(int wr)
{
	const char b = 1;

	for (;;) {
		ssize_t n = write(wr, &b, 1);

		if (n == 1)
			return 1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		return n < 0 ? -errno : -EIO;
	}
}

int pair_chan_wait(int rd, int timeout_ms)
{
	struct pollfd p = { .fd = rd, .events = POLLIN };

	for (;;) {
		int n = poll(&p, 1, timeout_ms);

		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

long pair_chan_drain(int rd)
{
	char buf[64];
	long total = 0;

	for (;;) {
		ssize_t n = read(rd, buf, sizeof buf);

		if (n > 0) {
			total += n;
			continue;
		}
		if (n == 0)
			return total; /* writer gone: nothing more will come */
		if (errno == EINTR)
			continue;
		return errno == EAGAIN ? total : -errno;
	}
}
