/* SPDX-License-Identifier: MIT */
/*
 * control.c - the server's side of one memif control connection: a state
 * machine fed one 128-byte message at a time.
 *
 *   WAIT_INIT --INIT--> CONFIG --ADD_REGION/ADD_RING (ACK each)--> CONFIG
 *   CONFIG --CONNECT--> CONNECTED        any --DISCONNECT--> closed
 *   anything else, in any state --> refused: DISCONNECT(reason), closed
 *
 * The client is hostile. Every message is checked for its size, its type,
 * the state, the fds attached (exactly one on ADD_REGION and ADD_RING, none
 * elsewhere: every fd we do not keep is closed) and every field, before
 * anything is mapped or kept. A refusal sends DISCONNECT with a reason that
 * names the field, counts it, and tears the connection down (unmapping
 * what was mapped for it); other connections and interfaces are untouched.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "memif_internal.h"

#define MAX_FDS 8

static const char *const refusal_names[VMIF_REFUSE__COUNT] = {
	[VMIF_REFUSE_MSG_SIZE] = "msg-size",
	[VMIF_REFUSE_MSG_TYPE] = "msg-type",
	[VMIF_REFUSE_MSG_ORDER] = "msg-order",
	[VMIF_REFUSE_FD_MISSING] = "fd-missing",
	[VMIF_REFUSE_FD_EXTRA] = "fd-extra",
	[VMIF_REFUSE_VERSION] = "version",
	[VMIF_REFUSE_MODE] = "mode",
	[VMIF_REFUSE_ID] = "id",
	[VMIF_REFUSE_BUSY] = "busy",
	[VMIF_REFUSE_SECRET] = "secret",
	[VMIF_REFUSE_REGION_INDEX] = "region-index",
	[VMIF_REFUSE_REGION_SIZE] = "region-size",
	[VMIF_REFUSE_REGION_UNSEALED] = "region-unsealed",
	[VMIF_REFUSE_REGION_FD] = "region-fd",
	[VMIF_REFUSE_RING_INDEX] = "ring-index",
	[VMIF_REFUSE_RING_PARAM] = "ring-param",
	[VMIF_REFUSE_RING_FD] = "ring-fd",
	[VMIF_REFUSE_RING_COOKIE] = "ring-cookie",
	[VMIF_REFUSE_RINGS_MISSING] = "rings-missing",
	[VMIF_REFUSE_CHANNELS] = "channels",
	[VMIF_REFUSE_SEND] = "send",
	[VMIF_REFUSE_NOMEM] = "nomem",
	[VMIF_REFUSE_TIMEOUT] = "timeout",
};

const char *vmif_refusal_name(enum vmif_refusal r)
{
	return (unsigned)r < VMIF_REFUSE__COUNT ? refusal_names[r] : "?";
}

static const char *type_name(unsigned t)
{
	static const char *const names[] = { "NONE",	   "ACK",      "HELLO",	    "INIT",	  "ADD_REGION",
					     "ADD_RING", "CONNECT", "CONNECTED", "DISCONNECT" };
	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

/* Sends one message; 0 or -errno. Never blocks: a client that stops
 * reading fills its socket buffer and gets refused. */
static int send_msg(struct vmif_chan *ch, const struct vmif_msg *m)
{
	ssize_t n = send(ch->fd, m, sizeof(*m), MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n != (ssize_t)sizeof(*m))
		return n < 0 ? -errno : -EIO;
	ch->srv->c.msgs_tx++;
	return 0;
}

static void copy_name(uint8_t *dst, const char *src)
{
	size_t n = strnlen(src, VMIF_NAME_SZ - 1);

	memcpy(dst, src, n);
}

/* Sends an answer; on failure the channel is gone (-1): a client that
 * hung up is counted as such, one that stopped reading is refused. */
static int answer(struct vmif_chan *ch, const struct vmif_msg *m, const char *what)
{
	int rc = send_msg(ch, m);

	if (rc == 0)
		return 0;
	if (rc == -EPIPE || rc == -ECONNRESET) {
		ch->srv->c.client_hangups++;
		vmif_chan_close(ch);
	} else {
		vmif_chan_refuse(ch, VMIF_REFUSE_SEND, "cannot send %s: the client does not read", what);
	}
	return -1;
}

int vmif_chan_send_hello(struct vmif_chan *ch)
{
	const struct vmif_server_config *cfg = &ch->srv->cfg;
	struct vmif_msg m;

	memset(&m, 0, sizeof(m));
	m.type = VMIF_MSG_HELLO;
	copy_name(m.hello.name, ch->srv->name);
	m.hello.min_version = VMIF_VERSION;
	m.hello.max_version = VMIF_VERSION;
	m.hello.max_region = (uint16_t)(cfg->max_regions - 1);
	m.hello.max_c2s_ring = (uint16_t)(cfg->max_queue_pairs - 1);
	m.hello.max_s2c_ring = (uint16_t)(cfg->max_queue_pairs - 1);
	m.hello.max_log2_ring_size = cfg->max_log2_ring_size;
	return answer(ch, &m, "HELLO");
}

void vmif_chan_refuse(struct vmif_chan *ch, enum vmif_refusal why, const char *fmt, ...)
{
	struct vmif_msg m;
	va_list ap;

	memset(&m, 0, sizeof(m));
	m.type = VMIF_MSG_DISCONNECT;
	m.disconnect.code = (uint32_t)why + 1;
	va_start(ap, fmt);
	vsnprintf((char *)m.disconnect.reason, VMIF_REASON_SZ, fmt, ap);
	va_end(ap);
	ch->srv->c.refused[why]++;
	snprintf(ch->srv->last_refusal, sizeof(ch->srv->last_refusal), "%s", (const char *)m.disconnect.reason);
	if (why != VMIF_REFUSE_SEND)
		(void)send_msg(ch, &m); /* best effort: the connection goes anyway */
	vmif_chan_close(ch);
}

static void close_fds(struct vmif_server *srv, int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		if (fds[i] >= 0) {
			close(fds[i]);
			srv->c.fds_closed++;
			fds[i] = -1;
		}
	}
}

static int send_ack(struct vmif_chan *ch)
{
	struct vmif_msg m;

	memset(&m, 0, sizeof(m));
	m.type = VMIF_MSG_ACK;
	return answer(ch, &m, "ACK");
}

/* Constant-time compare of the fixed-size secret fields. */
static int secret_ok(const struct vmif_if *ifp, const uint8_t *given)
{
	uint8_t want[VMIF_SECRET_SZ] = { 0 };
	unsigned diff = 0;

	memcpy(want, ifp->secret, strnlen(ifp->secret, VMIF_SECRET_SZ));
	for (unsigned i = 0; i < VMIF_SECRET_SZ; i++)
		diff |= (unsigned)(want[i] ^ given[i]);
	return diff == 0;
}

/* INIT: binds the channel to an interface. Returns 0, or -1 after refusing. */
static int on_init(struct vmif_chan *ch, const struct vmif_msg_init *in)
{
	struct vmif_if *ifp;
	uint16_t version = in->version;
	uint32_t id = in->id;

	if (version != VMIF_VERSION) {
		vmif_chan_refuse(ch, VMIF_REFUSE_VERSION, "memif version %u.%u not supported (need 2.0)", version >> 8,
				 version & 0xff);
		return -1;
	}
	if (in->mode != VMIF_MODE_ETHERNET) {
		vmif_chan_refuse(ch, VMIF_REFUSE_MODE, "interface mode %u: only ethernet (0) is supported", in->mode);
		return -1;
	}
	ifp = vmif_server_find_if(ch->srv, id);
	if (ifp == NULL) {
		vmif_chan_refuse(ch, VMIF_REFUSE_ID, "no interface with id %u", id);
		return -1;
	}
	if (ifp->chan != NULL) {
		vmif_chan_refuse(ch, VMIF_REFUSE_BUSY, "interface %u already has a client", id);
		return -1;
	}
	if (!secret_ok(ifp, in->secret)) {
		vmif_chan_refuse(ch, VMIF_REFUSE_SECRET, "wrong or missing secret for interface %u", id);
		return -1;
	}
	ifp->chan = ch;
	ch->ifp = ifp;
	memcpy(ifp->peer_name, in->name, VMIF_NAME_SZ);
	ifp->peer_name[VMIF_NAME_SZ] = '\0';
	ch->state = VMIF_CHAN_CONFIG;
	return send_ack(ch);
}

/* Rings 0..n-1 must all be present, and nothing past them. */
static int count_rings(const struct vmif_queue *q, unsigned max, unsigned *n)
{
	unsigned i = 0;

	while (i < max && q[i].added)
		i++;
	*n = i;
	for (unsigned j = i; j < max; j++)
		if (q[j].added)
			return -1;
	return i > 0 ? 0 : -1;
}

static int on_connect(struct vmif_chan *ch)
{
	struct vmif_if *ifp = ch->ifp;
	unsigned max = ch->srv->cfg.max_queue_pairs, n_rx, n_tx;
	struct vmif_msg m;

	if (count_rings(ifp->rxq, max, &n_rx) != 0 || count_rings(ifp->txq, max, &n_tx) != 0) {
		vmif_chan_refuse(ch, VMIF_REFUSE_RINGS_MISSING,
				 "CONNECT needs c2s and s2c rings numbered from 0 without gaps");
		return -1;
	}
	for (unsigned i = 0; i < n_rx + n_tx; i++) {
		struct vmif_queue *q = i < n_rx ? &ifp->rxq[i] : &ifp->txq[i - n_rx];

		if (VP_READ_ONCE(q->ring->cookie) != VMIF_COOKIE) {
			vmif_chan_refuse(ch, VMIF_REFUSE_RING_COOKIE, "%s ring %u has no memif cookie",
					 i < n_rx ? "c2s" : "s2c", i < n_rx ? i : i - n_rx);
			return -1;
		}
	}
	/* Our words of each ring: tails from 0 (the client resets its heads
	 * on CONNECTED), and on C2S our interrupt mask. */
	for (unsigned i = 0; i < n_rx; i++) {
		ifp->rxq[i].next = 0;
		ifp->rxq[i].held = 0;
		VP_WRITE_ONCE(ifp->rxq[i].ring->flags, (uint16_t)(ifp->rx_poll ? VMIF_RING_FLAG_MASK_INT : 0));
		vp_store_release(&ifp->rxq[i].ring->tail, (uint16_t)0);
	}
	for (unsigned i = 0; i < n_tx; i++) {
		ifp->txq[i].next = 0;
		vp_store_release(&ifp->txq[i].ring->tail, (uint16_t)0);
	}
	ifp->n_rx = n_rx;
	ifp->n_tx = n_tx;

	memset(&m, 0, sizeof(m));
	m.type = VMIF_MSG_CONNECTED;
	copy_name(m.connected.if_name, ifp->name);
	if (answer(ch, &m, "CONNECTED") != 0)
		return -1;
	ch->state = VMIF_CHAN_CONNECTED;
	ifp->connected = 1;
	ch->srv->c.connected++;
	if (ch->srv->cfg.on_state)
		ch->srv->cfg.on_state(ifp, 1, ch->srv->cfg.user);
	return 0;
}

/* Which messages a state accepts, and whether each carries one fd. */
static int expected(enum vmif_chan_state st, unsigned type)
{
	switch (type) {
	case VMIF_MSG_INIT:
		return st == VMIF_CHAN_WAIT_INIT;
	case VMIF_MSG_ADD_REGION:
	case VMIF_MSG_ADD_RING:
	case VMIF_MSG_CONNECT:
		return st == VMIF_CHAN_CONFIG;
	case VMIF_MSG_DISCONNECT:
		return 1;
	default: /* ACK, HELLO, CONNECTED: server-to-client only */
		return 0;
	}
}

static const char *state_name(enum vmif_chan_state st)
{
	return st == VMIF_CHAN_WAIT_INIT ? "before INIT" : st == VMIF_CHAN_CONFIG ? "while configuring" : "after CONNECT";
}

/*
 * Handles one received message with its fds (which it owns: each is kept
 * or closed). Returns 0 to go on reading, -1 when the channel is gone.
 */
static int handle(struct vmif_chan *ch, const struct vmif_msg *m, int *fds, int n_fds)
{
	struct vmif_server *srv = ch->srv;
	unsigned type = m->type;
	int wants_fd = type == VMIF_MSG_ADD_REGION || type == VMIF_MSG_ADD_RING;
	enum vmif_refusal reason;
	char why[VMIF_REASON_SZ];

	if (type == VMIF_MSG_NONE || type > VMIF_MSG_DISCONNECT) {
		close_fds(srv, fds, n_fds);
		vmif_chan_refuse(ch, VMIF_REFUSE_MSG_TYPE, "unknown message type %u", type);
		return -1;
	}
	if (!expected(ch->state, type)) {
		close_fds(srv, fds, n_fds);
		vmif_chan_refuse(ch, VMIF_REFUSE_MSG_ORDER, "unexpected %s %s", type_name(type), state_name(ch->state));
		return -1;
	}
	if (wants_fd && n_fds == 0) {
		vmif_chan_refuse(ch, VMIF_REFUSE_FD_MISSING, "%s without its fd", type_name(type));
		return -1;
	}
	if (n_fds > (wants_fd ? 1 : 0)) {
		close_fds(srv, fds, n_fds);
		vmif_chan_refuse(ch, VMIF_REFUSE_FD_EXTRA, "%s with %d fds attached (%d expected)", type_name(type),
				 n_fds, wants_fd);
		return -1;
	}

	switch (type) {
	case VMIF_MSG_INIT:
		return on_init(ch, &m->init);
	case VMIF_MSG_ADD_REGION: {
		struct vmif_msg_add_region ar = m->add_region;
		int rc = vmif_region_map(ch->ifp, ar.index, ar.size, fds[0], why, sizeof(why), &reason);

		close(fds[0]); /* the mapping keeps the memory; we need no fd */
		if (rc != 0) {
			srv->c.fds_closed++;
			vmif_chan_refuse(ch, reason, "%s", why);
			return -1;
		}
		return send_ack(ch);
	}
	case VMIF_MSG_ADD_RING: {
		struct vmif_msg_add_ring ar = m->add_ring;

		if (vmif_ring_place(ch->ifp, &ar, fds[0], why, sizeof(why), &reason) != 0) {
			close_fds(srv, fds, 1);
			vmif_chan_refuse(ch, reason, "%s", why);
			return -1;
		}
		return send_ack(ch); /* the queue owns the fd now */
	}
	case VMIF_MSG_CONNECT:
		return on_connect(ch);
	case VMIF_MSG_DISCONNECT:
		srv->c.client_disconnects++;
		vmif_chan_close(ch);
		return -1;
	}
	return 0;
}

int vmif_chan_on_readable(struct vmif_chan *ch)
{
	int handled = 0;

	for (;;) {
		union {
			struct vmif_msg m;
			uint8_t bytes[VMIF_MSG_SIZE + 1];
		} buf;
		union {
			char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { .iov_base = &buf, .iov_len = sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
				     .msg_controllen = sizeof(ctl.buf) };
		int fds[MAX_FDS * 2], n_fds = 0;
		ssize_t n;

		n = recvmsg(ch->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return handled;
		if (n <= 0) { /* EOF or a reset: the client is gone */
			ch->srv->c.client_hangups++;
			vmif_chan_close(ch);
			return handled + 1;
		}
		handled++;
		ch->srv->c.msgs_rx++;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k && n_fds < (int)(sizeof(fds) / sizeof(fds[0])); i++)
				memcpy(&fds[n_fds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
		}
		if (mh.msg_flags & MSG_CTRUNC) {
			close_fds(ch->srv, fds, n_fds);
			vmif_chan_refuse(ch, VMIF_REFUSE_FD_EXTRA, "more than %d fds attached to one message", MAX_FDS);
			return handled;
		}
		if (n != VMIF_MSG_SIZE || (mh.msg_flags & MSG_TRUNC)) {
			close_fds(ch->srv, fds, n_fds);
			vmif_chan_refuse(ch, VMIF_REFUSE_MSG_SIZE, "message of %zd bytes (memif messages are %d)", n,
					 VMIF_MSG_SIZE);
			return handled;
		}
		if (handle(ch, &buf.m, fds, n_fds) != 0)
			return handled;
	}
}
