// SPDX-License-Identifier: MIT
//
// guest-fuzz - a hostile tenant: a structure-aware fuzzer of vpiod's control
// socket. `guest-fuzz COUNT SEED` sends COUNT messages built from the
// protocol (vpio/domain_ctrl.h): every type (and the ones around them),
// payload fields from boundary values (0, 1, DOMID_SELF, its own domid and
// its neighbours, DOMID_MAX and +1, refs/ports/handles it really holds,
// counts 0/16/17, 2^31, 2^32-1), lengths exact and off by one, broken
// headers (short, len mismatch, REPLY flag, reserved bits), oversized
// datagrams, and descriptors of every kind attached (sealed and unsealed
// memfds, pipes, sockets, 16 and 20 at once). It keeps its replies drained
// (closing what they carry) and every 32 messages checks vpiod still answers
// a PING. Prints what it reached: counts per reply errno and per type.

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vpio/guest.h"

static uint64_t rng;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static const uint16_t types[] = {
	0, VPIO_CTRL_HELLO, VPIO_CTRL_ERROR, VPIO_CTRL_PING, 4, 0x00ff, 0x0100,
	VPIO_CTRL_GRANT_SHARE, VPIO_CTRL_GRANT_END, VPIO_CTRL_GRANT_MAP, VPIO_CTRL_GRANT_UNMAP, 0x0105, 0x01ff, 0x0200,
	VPIO_CTRL_EVTCHN_ALLOC_UNBOUND, VPIO_CTRL_EVTCHN_BIND_INTERDOMAIN, VPIO_CTRL_EVTCHN_CLOSE, 0x0204, 0x02ff, 0x0300,
	0x7fff, 0xffff,
};
#define NTYPES (sizeof(types) / sizeof(types[0]))
/* the broker types, weighted up so most messages reach a handler */
static const uint16_t broker_types[] = {
	VPIO_CTRL_GRANT_SHARE, VPIO_CTRL_GRANT_END, VPIO_CTRL_GRANT_MAP, VPIO_CTRL_GRANT_UNMAP,
	VPIO_CTRL_EVTCHN_ALLOC_UNBOUND, VPIO_CTRL_EVTCHN_BIND_INTERDOMAIN, VPIO_CTRL_EVTCHN_CLOSE,
};

static uint32_t known[64]; /* refs, ports and handles vpiod gave us */
static unsigned nknown;
static uint32_t self_domid, peer_domid;

static uint32_t field(void)
{
	static const uint32_t edge[] = { 0, 1, 2, 7, 8, 15, 16, 17, 0x7ff0, 32751, 32752, 0x7fff, 0xffff, 0x10000,
					 0x7fffffff, 0x80000000u, 0xfffffffeu, 0xffffffffu };
	switch (rnd() % 6) {
	case 0: return edge[rnd() % (sizeof(edge) / sizeof(edge[0]))];
	case 1: return self_domid + (rnd() % 3) - 1;
	case 2: return peer_domid;
	case 3: return nknown ? known[rnd() % nknown] : 8;
	case 4: return rnd() % 4;
	default: return rnd();
	}
}

/* Descriptors of every kind; returns how many were made (the caller closes them). */
static unsigned make_fds(int *fds)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned kind = rnd() % 10, n = 0, want;
	int p[2];

	switch (kind) {
	case 0:
	case 1: { /* a sealed region, as GRANT_SHARE wants (sometimes rw) */
		struct vgnt_region r;
		if (vgnt_host_share((size_t)page * (1 + rnd() % 2), rnd() & 1 ? VGNT_ACCESS_RW : VGNT_ACCESS_RO, &r) == 0) {
			vgnt_host_share_unmap(&r);
			fds[n++] = r.fd;
		}
		break;
	}
	case 2: { /* unsealed, or shrinkable */
		int fd = memfd_create("fz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fd >= 0 && ftruncate(fd, page) == 0)
			fds[n++] = fd;
		else if (fd >= 0)
			close(fd);
		break;
	}
	case 3:
		if (pipe2(p, O_CLOEXEC) == 0) {
			fds[n++] = p[0];
			fds[n++] = p[1];
		}
		break;
	case 4:
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) == 0) {
			fds[n++] = p[0];
			fds[n++] = p[1];
		}
		break;
	case 5: /* many: 16 (the most a message takes) or 20 (too many) */
		want = rnd() & 1 ? 16 : 20;
		while (n < want) {
			int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				break;
			fds[n++] = fd;
		}
		break;
	default:
		break;
	}
	return n;
}

struct stats {
	unsigned long sent, send_err, replies, errors[256], by_type[8];
	unsigned long fds_back;
};

static void note_reply(struct stats *st, const struct vpio_ctrl_hdr *h, const unsigned char *payload, const int *fds,
		       unsigned nfds)
{
	st->replies++;
	st->fds_back += nfds;
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	if (h->type == VPIO_CTRL_ERROR && h->len >= 4) {
		uint32_t e;
		memcpy(&e, payload, 4);
		st->errors[e < 256 ? e : 255]++;
		return;
	}
	if (h->type >= 0x0101 && h->type <= 0x0104)
		st->by_type[h->type - 0x0101]++;
	else if (h->type >= 0x0201 && h->type <= 0x0203)
		st->by_type[4 + h->type - 0x0201]++;
	/* learn refs, ports and handles (the first u32 of every broker reply) */
	if (h->len >= 4 && h->type != VPIO_CTRL_PING && nknown < 64) {
		uint32_t v;
		memcpy(&v, payload, 4);
		known[nknown++] = v;
	} else if (h->len >= 4 && h->type != VPIO_CTRL_PING) {
		/* not rnd(): how many replies arrived so far depends on timing, the message stream must not */
		memcpy(&known[st->replies % 64], payload, 4);
	}
}

static void drain_replies(int ctrl, struct stats *st, int timeout_ms, uint32_t want_seq, int *got_want)
{
	struct vpio_ctrl_hdr h;
	static unsigned char payload[VPIO_CTRL_PAYLOAD_MAX];
	int fds[VPIO_CTRL_MAX_FDS];
	unsigned nfds;

	for (;;) {
		struct pollfd p = { .fd = ctrl, .events = POLLIN };
		if (poll(&p, 1, timeout_ms) <= 0)
			return;
		if (vpio_ctrl_recv(ctrl, &h, payload, sizeof(payload), fds, VPIO_CTRL_MAX_FDS, &nfds) < 0)
			continue;
		note_reply(st, &h, payload, fds, nfds);
		if (got_want && h.type == VPIO_CTRL_PING && h.seq == want_seq) {
			*got_want = 1;
			return;
		}
	}
}

/* Waits for the reply to `seq` (others are noted as usual); returns its type, its first word in *word. */
static int wait_reply(int ctrl, struct stats *st, uint32_t seq, uint32_t *word)
{
	struct vpio_ctrl_hdr h;
	static unsigned char payload[VPIO_CTRL_PAYLOAD_MAX];
	int fds[VPIO_CTRL_MAX_FDS];
	unsigned nfds;

	for (;;) {
		struct pollfd p = { .fd = ctrl, .events = POLLIN };
		if (poll(&p, 1, 5000) <= 0)
			return -1;
		if (vpio_ctrl_recv(ctrl, &h, payload, sizeof(payload), fds, VPIO_CTRL_MAX_FDS, &nfds) < 0)
			continue;
		note_reply(st, &h, payload, fds, nfds);
		if (h.seq == seq) {
			if (word && h.len >= 4)
				memcpy(word, payload, 4);
			return h.type;
		}
	}
}

/*
 * One well-formed round of every broker operation, each waited for (share to
 * ourselves, map, unmap, end; alloc a port for the peer, close it), so every
 * run reaches each handler's success path whatever the timing of the replies
 * to the random stream, and gives back what it took so limits never fill.
 */
static void guided_round(int ctrl, struct stats *st, uint32_t i)
{
	uint32_t pl[4], ref = 0, handle = 0, port = 0, seq = 0xd0000000u | ((i & 0xfffff) << 3);
	struct vgnt_region r;

	if (vgnt_host_share((size_t)sysconf(_SC_PAGESIZE), VGNT_ACCESS_RW, &r) != 0)
		return;
	vgnt_host_share_unmap(&r);
	pl[0] = VPIO_DOMID_SELF;
	pl[1] = self_domid;
	pl[2] = 1;
	pl[3] = 1;
	vpio_ctrl_send(ctrl, VPIO_CTRL_GRANT_SHARE, 0, seq, pl, sizeof(pl), &r.fd, 1);
	close(r.fd);
	if (wait_reply(ctrl, st, seq, &ref) == VPIO_CTRL_GRANT_SHARE) {
		pl[0] = VPIO_DOMID_SELF;
		pl[1] = 1; /* writable */
		pl[2] = 1;
		pl[3] = ref;
		vpio_ctrl_send(ctrl, VPIO_CTRL_GRANT_MAP, 0, seq + 1, pl, sizeof(pl), NULL, 0);
		if (wait_reply(ctrl, st, seq + 1, &handle) == VPIO_CTRL_GRANT_MAP) {
			vpio_ctrl_send(ctrl, VPIO_CTRL_GRANT_UNMAP, 0, seq + 2, &handle, 4, NULL, 0);
			wait_reply(ctrl, st, seq + 2, NULL);
		}
		vpio_ctrl_send(ctrl, VPIO_CTRL_GRANT_END, 0, seq + 3, &ref, 4, NULL, 0);
		wait_reply(ctrl, st, seq + 3, NULL);
	}
	pl[0] = VPIO_DOMID_SELF;
	pl[1] = peer_domid;
	vpio_ctrl_send(ctrl, VPIO_CTRL_EVTCHN_ALLOC_UNBOUND, 0, seq + 4, pl, 8, NULL, 0);
	if (wait_reply(ctrl, st, seq + 4, &port) == VPIO_CTRL_EVTCHN_ALLOC_UNBOUND) {
		vpio_ctrl_send(ctrl, VPIO_CTRL_EVTCHN_CLOSE, 0, seq + 5, &port, 4, NULL, 0);
		wait_reply(ctrl, st, seq + 5, NULL);
	}
}

/* A raw datagram: header fields as given, any payload length. */
static int send_raw(int ctrl, const void *buf, size_t len, const int *fds, unsigned nfds)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 32)];
		struct cmsghdr align;
	} cm;
	struct iovec iov = { (void *)(uintptr_t)buf, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.b;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	return sendmsg(ctrl, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int main(int argc, char **argv)
{
	static unsigned char buf[VPIO_CTRL_HDR_BYTES + 2 * VPIO_CTRL_PAYLOAD_MAX];
	struct vpio_guest g;
	struct stats st;
	unsigned long count = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000, i, pings_ok = 0, pings = 0;
	int fds[32], rc;

	memset(&st, 0, sizeof(st));
	rng = argc > 2 ? strtoull(argv[2], NULL, 10) | 1 : 0x9e3779b97f4a7c15ull;
	peer_domid = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 0;
	rc = vpio_guest_open(&g);
	if (rc < 0) {
		printf("open=%d\n", rc);
		return 2;
	}
	self_domid = g.domid;
	for (i = 0; i < count; i++) {
		struct vpio_ctrl_hdr *h = (struct vpio_ctrl_hdr *)buf;
		uint32_t *pl = (uint32_t *)(buf + VPIO_CTRL_HDR_BYTES);
		unsigned nf = 0, words, k;
		size_t len;

		h->type = rnd() % 4 ? broker_types[rnd() % 7] : types[rnd() % NTYPES];
		h->flags = rnd() % 16 == 0 ? (uint16_t)rnd() : 0;
		h->seq = (uint32_t)i;
		h->rsvd = rnd() % 16 == 0 ? rnd() : 0;
		/* payload: the type's field count, sometimes off by one word or a byte */
		words = h->type == VPIO_CTRL_GRANT_SHARE ? 4 : h->type == VPIO_CTRL_EVTCHN_ALLOC_UNBOUND || h->type == VPIO_CTRL_EVTCHN_BIND_INTERDOMAIN ? 2 : 1;
		if (h->type == VPIO_CTRL_GRANT_MAP) {
			uint32_t n = rnd() % 5 == 0 ? field() : 1 + rnd() % 17;
			pl[0] = field();
			pl[1] = rnd() % 4 ? rnd() % 2 : field();
			pl[2] = n;
			words = 3 + (n <= 17 ? n : rnd() % 20);
			for (k = 3; k < words; k++)
				pl[k] = field();
		} else {
			for (k = 0; k < words; k++)
				pl[k] = field();
		}
		/* half the time, a well-formed request that can succeed, to reach deeper states */
		int structured = rnd() % 2;
		if (structured && h->type == VPIO_CTRL_GRANT_SHARE) {
			pl[0] = rnd() % 2 ? VPIO_DOMID_SELF : self_domid;
			pl[1] = rnd() % 2 ? self_domid : peer_domid;
			pl[2] = 1 + rnd() % 2;
			pl[3] = rnd() % 2;
		} else if (structured && h->type == VPIO_CTRL_GRANT_MAP) {
			pl[0] = rnd() % 2 ? VPIO_DOMID_SELF : self_domid;
		} else if (structured && h->type == VPIO_CTRL_EVTCHN_ALLOC_UNBOUND) {
			pl[0] = VPIO_DOMID_SELF;
			pl[1] = rnd() % 2 ? self_domid : peer_domid;
		} else if (structured && h->type == VPIO_CTRL_EVTCHN_BIND_INTERDOMAIN) {
			pl[0] = rnd() % 2 ? VPIO_DOMID_SELF : self_domid;
		}
		len = words * 4;
		switch (rnd() % 12) {
		case 0: len = len ? len - 1 : 0; break;
		case 1: len += 1 + rnd() % 4; break;
		case 2: len = rnd() % (VPIO_CTRL_PAYLOAD_MAX + 1); break;
		default: break;
		}
		if (len > words * 4)
			memset((unsigned char *)pl + words * 4, (int)rnd(), len - words * 4);
		h->len = (uint32_t)len;
		if (structured && h->type == VPIO_CTRL_GRANT_SHARE && rnd() % 8) {
			struct vgnt_region r;
			size_t bytes = (size_t)pl[2] * (size_t)sysconf(_SC_PAGESIZE);
			if (vgnt_host_share(bytes, pl[3] ? VGNT_ACCESS_RW : VGNT_ACCESS_RO, &r) == 0) {
				vgnt_host_share_unmap(&r);
				fds[nf++] = r.fd;
			}
		} else if (rnd() % 3 == 0) {
			nf = make_fds(fds);
		}
		switch (rnd() % 24) {
		case 0: /* shorter than a header */
			rc = send_raw(g.ctrl_fd, buf, rnd() % VPIO_CTRL_HDR_BYTES, fds, nf);
			break;
		case 1: /* len says more than was sent: truncated */
			h->len = (uint32_t)len + 1 + rnd() % 64;
			rc = send_raw(g.ctrl_fd, buf, VPIO_CTRL_HDR_BYTES + len, fds, nf);
			break;
		case 2: /* oversized: past the payload maximum */
			h->len = VPIO_CTRL_PAYLOAD_MAX + 1 + rnd() % VPIO_CTRL_PAYLOAD_MAX;
			rc = send_raw(g.ctrl_fd, buf, VPIO_CTRL_HDR_BYTES + h->len, fds, nf);
			break;
		default:
			rc = send_raw(g.ctrl_fd, buf, VPIO_CTRL_HDR_BYTES + len, fds, nf);
			break;
		}
		for (k = 0; k < nf; k++)
			close(fds[k]);
		if (rc < 0)
			st.send_err++;
		else
			st.sent++;
		drain_replies(g.ctrl_fd, &st, 0, 0, NULL);
		if (i % 32 == 31) {
			int got = 0;
			uint32_t seq = 0xf0000000u | (uint32_t)i;
			pings++;
			vpio_ctrl_send(g.ctrl_fd, VPIO_CTRL_PING, 0, seq, "sync", 4, NULL, 0);
			drain_replies(g.ctrl_fd, &st, 5000, seq, &got);
			pings_ok += (unsigned long)got;
		}
		if (i == 0 || i % 1000 == 999)
			guided_round(g.ctrl_fd, &st, (uint32_t)i);
	}
	drain_replies(g.ctrl_fd, &st, 200, 0, NULL);
	printf("sent=%lu\nsend_err=%lu\nreplies=%lu\nfds_back=%lu\npings=%lu\npings_ok=%lu\n", st.sent, st.send_err,
	       st.replies, st.fds_back, pings, pings_ok);
	printf("ok_share=%lu\nok_end=%lu\nok_map=%lu\nok_unmap=%lu\nok_alloc=%lu\nok_bind=%lu\nok_close=%lu\n", st.by_type[0],
	       st.by_type[1], st.by_type[2], st.by_type[3], st.by_type[4], st.by_type[5], st.by_type[6]);
	for (i = 0; i < 256; i++)
		if (st.errors[i])
			printf("errno_%lu=%lu\n", i, st.errors[i]);
	g.seq = 0xe0000000u; /* past every seq the fuzz used */
	rc = vpio_guest_ping(&g, "end", 3);
	printf("final_ping=%s\n", rc == 0 ? "OK" : "FAIL");
	return 0;
}
