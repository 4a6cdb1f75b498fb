// SPDX-License-Identifier: MIT
//
// guest.c - the guest side of the control socket (vpio/domain_ctrl.h):
// framing over SOCK_SEQPACKET with SCM_RIGHTS. libc only, no Node; tiny C
// guests link it. Little-endian hosts only (x86_64, aarch64), as the rest of
// vpio's shared formats.

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "vpio/domain_ctrl.h"

int vpio_ctrl_fd(void)
{
	const char *s = getenv("VPIO_CTRL_FD");
	if (!s || !*s)
		return VPIO_CTRL_FD_DEFAULT;
	char *end;
	long v = strtol(s, &end, 10);
	return (*end || v < 0 || v > 1 << 20) ? -EINVAL : (int)v;
}

int vpio_ctrl_recv(int fd, struct vpio_ctrl_hdr *hdr, void *payload, uint32_t payload_bytes, int *fds, unsigned max_fds,
		   unsigned *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VPIO_CTRL_MAX_FDS)];
		struct cmsghdr align;
	} cm;
	struct iovec iov[2] = { { hdr, sizeof(*hdr) }, { payload, payload_bytes } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2, .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		unsigned k = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		int *in = (int *)(void *)CMSG_DATA(c);
		for (unsigned i = 0; i < k; i++) {
			if (*nfds < max_fds)
				fds[(*nfds)++] = in[i];
			else
				close(in[i]);
		}
	}
	if ((size_t)n < sizeof(*hdr) || hdr->len != (uint32_t)((size_t)n - sizeof(*hdr)) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		for (unsigned i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
		return -EPROTO;
	}
	return 0;
}

int vpio_ctrl_send(int fd, uint16_t type, uint16_t flags, uint32_t seq, const void *payload, uint32_t len, const int *fds,
		   unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VPIO_CTRL_MAX_FDS)];
		struct cmsghdr align;
	} cm;
	struct vpio_ctrl_hdr hdr = { .type = type, .flags = flags, .seq = seq, .len = len, .rsvd = 0 };
	struct iovec iov[2] = { { &hdr, sizeof(hdr) }, { (void *)(uintptr_t)payload, len } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	if (len > VPIO_CTRL_PAYLOAD_MAX)
		return -EMSGSIZE;
	if (nfds > VPIO_CTRL_MAX_FDS)
		return -E2BIG;
	if (nfds) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

int vpio_ctrl_hello(int fd, struct vpio_ctrl_hello *hello, int *xs_fd)
{
	struct vpio_ctrl_hdr hdr;
	char payload[VPIO_CTRL_PAYLOAD_MAX];
	int fds[VPIO_CTRL_MAX_FDS];
	unsigned nfds;

	int err = vpio_ctrl_recv(fd, &hdr, payload, sizeof(payload), fds, VPIO_CTRL_MAX_FDS, &nfds);
	if (err < 0)
		return err;
	if (hdr.type != VPIO_CTRL_HELLO || hdr.len < sizeof(*hello) || nfds != 1) {
		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
		return -EPROTO;
	}
	memcpy(hello, payload, sizeof(*hello));
	*xs_fd = fds[0];
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vpio_ctrl_hello_wait(int fd, struct vpio_ctrl_hello *hello, int *xs_fd, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		int left = timeout_ms < 0 ? -1 : (int)(deadline - now_ms());
		int n;

		if (timeout_ms >= 0 && left < 0)
			left = 0;
		n = poll(&p, 1, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		if (p.revents & POLLNVAL)
			return -EBADF;
		/* readable, or hung up / failed: recvmsg reports which */
		return vpio_ctrl_hello(fd, hello, xs_fd);
	}
}
