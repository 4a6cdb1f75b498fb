// SPDX-License-Identifier: MIT
//
// guest_call.c - the guest library's session (vpio/guest.h): HELLO (a
// bounded wait: VPIO_GUEST_HELLO_TIMEOUT_MS or $VPIO_HELLO_TIMEOUT_MS), and
// the request/reply round trip every broker call is built on. libc only.
//
// Concurrency: one thread per struct vpio_guest; replies are matched by seq
// and stale ones (an abandoned earlier call) are skipped, their fds closed.

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vpio/guest.h"

int vpio_guest_hello_timeout_ms(void)
{
	const char *s = getenv(VPIO_GUEST_HELLO_TIMEOUT_ENV);
	char *end;
	long v;

	if (!s || !*s)
		return VPIO_GUEST_HELLO_TIMEOUT_MS;
	errno = 0;
	v = strtol(s, &end, 10);
	return (*end || errno || v < 1 || v > 86400000) ? -EINVAL : (int)v;
}

int vpio_guest_open(struct vpio_guest *g)
{
	int timeout_ms = vpio_guest_hello_timeout_ms();

	g->ctrl_fd = -1;
	g->xs_fd = -1;
	g->domid = 0;
	g->seq = 0;
	if (timeout_ms < 0)
		return timeout_ms;
	return vpio_guest_open_timeout(g, timeout_ms);
}

int vpio_guest_open_timeout(struct vpio_guest *g, int timeout_ms)
{
	struct vpio_ctrl_hello hello;
	int fd = vpio_ctrl_fd(), xs, rc;

	g->ctrl_fd = -1;
	g->xs_fd = -1;
	g->domid = 0;
	g->seq = 0;
	if (fd < 0)
		return fd;
	rc = vpio_ctrl_hello_wait(fd, &hello, &xs, timeout_ms < 0 ? -1 : timeout_ms);
	if (rc < 0)
		return rc;
	g->ctrl_fd = fd;
	g->xs_fd = xs;
	g->domid = hello.domid;
	return 0;
}

#define STR_(x) #x
#define STR(x) STR_(x)

const char *vpio_guest_open_strerror(int rc)
{
	switch (rc) {
	case -ETIMEDOUT:
		return "timed out waiting for HELLO from vpiod on the control socket ($VPIO_CTRL_FD, default fd 3): "
		       "nothing arrived within $VPIO_HELLO_TIMEOUT_MS (default " STR(VPIO_GUEST_HELLO_TIMEOUT_MS) " ms); "
		       "was this started by `vpio run`?";
	case -EINVAL:
		return "bad $VPIO_CTRL_FD (a descriptor number) or $VPIO_HELLO_TIMEOUT_MS (milliseconds, 1..86400000)";
	case -EBADF:
	case -ENOTSOCK:
		return "no control socket on $VPIO_CTRL_FD (default fd 3); was this started by `vpio run`?";
	case -ECONNRESET:
		return "the control socket closed before HELLO (vpiod gone)";
	case -EPROTO:
		return "the first message on the control socket is not a HELLO with one descriptor";
	default:
		return strerror(-rc);
	}
}

void vpio_guest_close(struct vpio_guest *g)
{
	if (g->xs_fd >= 0)
		close(g->xs_fd);
	g->xs_fd = -1;
}

static void close_all(const int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
}

int vpio_guest_call(struct vpio_guest *g, uint16_t type, const void *req, uint32_t req_len, const int *fds,
		    unsigned nfds, void *rep, uint32_t rep_cap, uint32_t *rep_len, int *rfds, unsigned max_rfds,
		    unsigned *nrfds)
{
	struct vpio_ctrl_hdr hdr;
	unsigned char payload[VPIO_CTRL_PAYLOAD_MAX];
	int got[VPIO_CTRL_MAX_FDS];
	unsigned ngot, i;
	uint32_t seq = ++g->seq;
	int rc;

	if (nrfds)
		*nrfds = 0;
	if (rep_len)
		*rep_len = 0;
	rc = vpio_ctrl_send(g->ctrl_fd, type, 0, seq, req, req_len, fds, nfds);
	if (rc < 0)
		return rc;
	for (;;) {
		rc = vpio_ctrl_recv(g->ctrl_fd, &hdr, payload, sizeof(payload), got, VPIO_CTRL_MAX_FDS, &ngot);
		if (rc == -EPROTO)
			continue; /* a malformed datagram is not our reply */
		if (rc < 0)
			return rc;
		if (!(hdr.flags & VPIO_CTRL_F_REPLY) || hdr.seq != seq) {
			close_all(got, ngot); /* unsolicited, or a stale reply */
			continue;
		}
		if (hdr.type == VPIO_CTRL_ERROR) {
			struct vpio_ctrl_error e;

			close_all(got, ngot);
			if (hdr.len < sizeof(e))
				return -EPROTO;
			memcpy(&e, payload, sizeof(e));
			return e.err > 0 && e.err < 4096 ? -(int)e.err : -EPROTO;
		}
		if (hdr.type != type) {
			close_all(got, ngot);
			return -EPROTO;
		}
		if (rep && rep_cap)
			memcpy(rep, payload, hdr.len < rep_cap ? hdr.len : rep_cap);
		if (rep_len)
			*rep_len = hdr.len;
		for (i = 0; i < ngot; i++) {
			if (rfds && nrfds && i < max_rfds)
				rfds[(*nrfds)++] = got[i];
			else
				close(got[i]);
		}
		return 0;
	}
}

int vpio_guest_ping(struct vpio_guest *g, const void *data, uint32_t len)
{
	unsigned char echo[VPIO_CTRL_PAYLOAD_MAX];
	uint32_t got;
	int rc;

	if (len > VPIO_CTRL_PAYLOAD_MAX)
		return -EMSGSIZE;
	rc = vpio_guest_call(g, VPIO_CTRL_PING, data, len, NULL, 0, echo, sizeof(echo), &got, NULL, 0, NULL);
	if (rc < 0)
		return rc;
	return got == len && (len == 0 || memcmp(echo, data, len) == 0) ? 0 : -EPROTO;
}
