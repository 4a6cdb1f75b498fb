/* SPDX-License-Identifier: MIT */
/*
 * evtchn_xen_fd.c - the data path of a Xen event-channel end
 * (vpio/evtchn_xen.h): notify, consume and wait as system calls on the
 * end's own /dev/xen/evtchn descriptor, byte for byte what libxenevtchn's
 * Linux backend does, so a data plane can drive ends without loading
 * libxenevtchn. Uses only libc and the kernel's <xen/evtchn.h>.
 *
 * Concurrency: stateless. consume() on one descriptor from two threads at
 * once would split the fired ports between them: one consumer per end.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

typedef uint16_t domid_t; /* <xen/evtchn.h> (the kernel's uapi) uses it without defining it */
#include <xen/evtchn.h>

#include "vpio/evtchn_xen.h"

VP_STATIC_ASSERT(sizeof(uint32_t) == 4, "evtchn_port_t is 32 bits on the wire");

int evtchn_xen_fd_notify(int fd, uint32_t port)
{
	struct ioctl_evtchn_notify n = { .port = port };

	if (fd < 0)
		return -EBADF;
	return ioctl(fd, IOCTL_EVTCHN_NOTIFY, &n) < 0 ? -errno : 0;
}

int evtchn_xen_fd_wait(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	if (fd < 0)
		return -EBADF;
	do
		r = poll(&p, 1, timeout_ms < 0 ? -1 : timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r > 0 && (p.revents & POLLNVAL))
		return -EBADF;
	return r > 0 ? 1 : 0;
}

int evtchn_xen_fd_consume(int fd)
{
	uint32_t ports[16];
	ssize_t n;
	size_t i;
	int r;

	/* One pass, never a loop: a fired port stays masked until we unmask
	 * it, so one read returns every port that fired; what fires after the
	 * unmask is the next wake-up's. */
	do {
		r = evtchn_xen_fd_wait(fd, 0); /* never read() unless readable: see the header */
		if (r <= 0)
			return r;
		n = read(fd, ports, sizeof(ports));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	if (n == 0 || (size_t)n % sizeof(ports[0]))
		return -EIO;
	for (i = 0; i < (size_t)n / sizeof(ports[0]); i++) {
		/* unmask: the kernel masked the port when it fired */
		if (write(fd, &ports[i], sizeof(ports[i])) != (ssize_t)sizeof(ports[i]))
			return errno ? -errno : -EIO;
	}
	return (int)i;
}
