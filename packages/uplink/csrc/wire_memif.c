// SPDX-License-Identifier: MIT
//
// wire_memif.c - --wire memif: a memif server (@vpio/memif) on the listening
// SOCK_SEQPACKET socket vpio-launch --wire-memif PATH made and passed at
// $VPIO_WIRE_FD (vmif_server_adopt). One interface (--id, --secret), one
// queue pair; one client at a time. A client that disconnects (or is
// refused) only takes the wire down: the server goes on listening, the
// tenant keeps running, frames from the vif are dropped (tx_drop_down)
// until the next client connects.
//
//   RX  rx_burst peeks at up to n packets of the C2S ring 0 (vmif_rx_peek):
//       a packet in one descriptor is handed out in place, in the client's
//       region (its descriptor read once into a local and validated by the
//       library), and the pump copies it straight into a vif slot: one copy
//       (the switch's is the second). A chained packet (NEXT) is gathered
//       into one of WIRE_BURST_MAX backend-owned buffers of frame_max bytes
//       (allocated once at open), then copied by the pump. rx_release
//       publishes the C2S tail (vmif_rx_release), after the pump's copies:
//       the client cannot reuse a buffer the pump is reading, and the region
//       stays mapped (only vmif_server_step, at the start of the next
//       rx_burst, unmaps). The pump reads each byte in place once, never
//       parses it there (wire.h: frames by length from our local).
//   TX  tx_reserve hands out WIRE_BURST_MAX fixed buffers; tx_commit copies
//       them into the client's S2C ring 0 with vmif_tx_burst (one tail store,
//       at most one eventfd write per burst). Frames the ring has no room for
//       are dropped and counted (tx_drop_no_room): the vif keeps moving.
//
// RX modes (--rx-mode). The C2S ring's MASK_INT is ours: set, the client
// never writes our eventfd; clear, it writes it after every burst (a
// syscall per burst on its side, and a wake-up on ours).
//   poll (default)  MASK_INT set for the whole connection; while a client is
//       connected the pump spins (rx_arm asks for timeout 0) and sees new
//       packets by looking at the ring, as a DPDK server does. Costs a core
//       while connected; moves the most packets and makes the client make
//       no syscall.
//   interrupt       the adaptive scheme: MASK_INT set while the pump is
//       busy; when it is about to sleep, rx_arm clears it, issues a full
//       barrier and re-checks the ring (vmif_rx_arm), and the pump sleeps
//       with the client's eventfd in poll_fd()'s set; rx_disarm sets it
//       again and reads the eventfd once. One client syscall per burst
//       only while we sleep; the sleep is bounded by MEMIF_ARMED_MS (a client
//       without a full barrier between its head store and its MASK_INT read,
//       as DPDK's net_memif, may rarely miss the clear).
// Interrupts received are the library's rx_kick_reads, interrupts sent (S2C,
// when the client's MASK_INT is clear; at most one per burst) its tx_kicks.
//
// Polling: poll_fd() is this backend's own epoll set over the server's fd
// (listening socket and control connection), the connected client's C2S
// interrupt eventfd (interrupt mode only) and a timerfd armed for the next
// handshake deadline, so the pump's single poll() sees all three. The
// control channel is served (vmif_server_step) in rx_burst when the wire is
// down, when the previous burst found nothing (in poll mode: every
// MEMIF_STEP_EVERY such bursts, as the pump spins), and every
// MEMIF_STEP_EVERY bursts otherwise: under load a hangup is noticed within
// that many bursts (the client's region stays mapped by us until then, so
// nothing reads freed memory).
//
// Concurrency: one thread (the pump's) owns everything; nothing is shared
// but the client's rings, which @vpio/memif reads once into locals and
// validates, and the packet bytes the pump copies out in place (read once,
// by a length from our local; the client may change them meanwhile, which
// only changes what it sent). Counters are the memif library's, plus ours.

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "vpio/memif.h"
#include "wire.h"

#define MEMIF_STEP_EVERY 256u
#define MEMIF_ARMED_MS 10
#define TAG_SERVER 1u
#define TAG_RX 2u
#define TAG_TIMER 3u

enum memif_rx_mode { MEMIF_RX_POLL, MEMIF_RX_INTERRUPT };

struct memif_opts {
	uint32_t id;
	char secret[25];
	int have_secret;
	enum memif_rx_mode rx_mode;
};

struct memif_wire {
	struct wire w;
	struct vmif_server *srv;
	struct vmif_if *ifp;
	int ep;                  /* poll_fd(): the server's fd, the rx eventfd, the timer */
	int tfd;                 /* handshake deadline */
	int rx_watched;          /* the rx eventfd is in ep */
	int timer_armed;
	int idle;                /* the last rx_burst found nothing */
	int armed;               /* rx_arm cleared MASK_INT; rx_disarm sets it */
	enum memif_rx_mode rx_mode;
	uint32_t bursts, idle_bursts;
	uint32_t frame_max;
	uint8_t *rx_buf, *tx_buf;
	uint64_t refused_seen;   /* refusals already reported on stderr */
	uint64_t tx_drop_down;   /* vif frames dropped while no client was connected */
	uint64_t tx_drop_no_room;/* frames the S2C ring had no room for */
	uint64_t link_changes;   /* connects + disconnects seen by on_state */
	const char *name;
	uint32_t id;
};

static inline struct memif_wire *mw(struct wire *w)
{
	return (struct memif_wire *)w;
}

/* Called by vmif_server_step: watch the client's interrupt fd while it is connected. */
static void on_state(struct vmif_if *ifp, int connected, void *user)
{
	struct memif_wire *m = user;
	int fd = vmif_if_rx_fd(ifp, 0);

	m->link_changes++;
	m->armed = 0;
	if (connected && fd >= 0 && m->rx_mode == MEMIF_RX_INTERRUPT) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_RX };

		m->rx_watched = epoll_ctl(m->ep, EPOLL_CTL_ADD, fd, &ev) == 0;
	}
	if (connected) {
		fprintf(stderr, "vpio-uplink: memif %s: client \"%s\" connected (id %u, rx %s)\n", m->name,
			vmif_if_peer_name(ifp), (unsigned)m->id, m->rx_mode == MEMIF_RX_INTERRUPT ? "interrupt" : "poll");
	} else {
		if (m->rx_watched && fd >= 0)
			(void)epoll_ctl(m->ep, EPOLL_CTL_DEL, fd, NULL);
		m->rx_watched = 0;
		fprintf(stderr, "vpio-uplink: memif %s: client disconnected; listening\n", m->name);
	}
}

static uint64_t refusals(const struct vmif_server_counters *c)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < VMIF_REFUSE__COUNT; i++)
		n += c->refused[i];
	return n;
}

/* Serves the control channel; reports new refusals on stderr; arms the deadline timer. */
static int memif_step(struct memif_wire *m)
{
	struct vmif_server_counters sc;
	struct itimerspec its = { 0 };
	uint64_t expirations;
	int rc = vmif_server_step(m->srv), t;

	(void)!read(m->tfd, &expirations, sizeof(expirations)); /* non-blocking: clears a fired timer */
	if (rc < 0)
		return rc;
	vmif_server_counters(m->srv, &sc);
	if (refusals(&sc) != m->refused_seen) {
		m->refused_seen = refusals(&sc);
		fprintf(stderr, "vpio-uplink: memif %s: refused a client: %s\n", m->name, vmif_server_last_refusal(m->srv));
	}
	t = vmif_server_poll_timeout_ms(m->srv);
	if (t >= 0 || m->timer_armed) {
		if (t >= 0) {
			t = t ? t : 1;
			its.it_value.tv_sec = t / 1000;
			its.it_value.tv_nsec = (long)(t % 1000) * 1000000L;
		}
		(void)timerfd_settime(m->tfd, 0, &its, NULL);
		m->timer_armed = t >= 0;
	}
	return 0;
}

static void refresh_drops(struct memif_wire *m)
{
	struct vmif_if_counters c;

	vmif_if_counters(m->ifp, &c);
	m->w.st.rx_drops = c.rx_bad_head + c.rx_bad_region + c.rx_bad_offset + c.rx_bad_len + c.rx_bad_chain +
			   c.rx_too_big + c.rx_empty;
	m->w.st.tx_drops = c.tx_too_big + m->tx_drop_no_room + m->tx_drop_down;
}

/* ------------------------------------------------------------------------ */
/* The data path                                                            */

static int memif_rx_burst(struct wire *w, struct wire_frame f[], uint32_t n)
{
	struct memif_wire *m = mw(w);
	struct vmif_buf bufs[WIRE_BURST_MAX];
	uint64_t bytes = 0;
	int got, rc;

	if (!vmif_if_connected(m->ifp) || ++m->bursts % MEMIF_STEP_EVERY == 0 ||
	    (m->idle && (m->rx_mode == MEMIF_RX_INTERRUPT || ++m->idle_bursts % MEMIF_STEP_EVERY == 0))) {
		if ((rc = memif_step(m)) < 0)
			return rc;
	}
	if (!vmif_if_connected(m->ifp)) {
		m->idle = 1;
		return 0;
	}
	if (n > WIRE_BURST_MAX)
		n = WIRE_BURST_MAX;
	for (uint32_t i = 0; i < n; i++)
		bufs[i] = (struct vmif_buf){ .data = m->rx_buf + (size_t)i * m->frame_max, .len = 0, .cap = m->frame_max };
	got = vmif_rx_peek(m->ifp, 0, bufs, n); /* in place, or gathered into rx_buf; tail held until rx_release */
	if (got < 0)
		got = 0; /* disconnected under us: the next step tears down */
	for (int i = 0; i < got; i++) {
		f[i] = (struct wire_frame){ .data = bufs[i].data, .len = bufs[i].len, .vlan = 0 };
		bytes += bufs[i].len;
	}
	m->idle = got == 0;
	if (got) {
		w->st.rx_frames += (uint64_t)got;
		w->st.rx_bytes += bytes;
		w->st.rx_bursts++;
	}
	refresh_drops(m);
	return got;
}

static void memif_rx_release(struct wire *w)
{
	struct memif_wire *m = mw(w);

	if (vmif_if_connected(m->ifp))
		(void)vmif_rx_release(m->ifp, 0); /* one tail store for everything the last burst peeked */
}

static uint32_t memif_tx_reserve(struct wire *w, struct wire_frame f[], uint32_t n)
{
	struct memif_wire *m = mw(w);

	if (n > WIRE_BURST_MAX)
		n = WIRE_BURST_MAX;
	for (uint32_t i = 0; i < n; i++)
		f[i] = (struct wire_frame){ .data = m->tx_buf + (size_t)i * m->frame_max, .len = m->frame_max, .vlan = 0 };
	return n;
}

static int memif_tx_commit(struct wire *w, const uint32_t lens[], uint32_t n)
{
	struct memif_wire *m = mw(w);
	struct vmif_buf bufs[WIRE_BURST_MAX];
	struct vmif_if_counters before, after;
	int k;

	if (n == 0)
		return 0;
	if (!vmif_if_connected(m->ifp)) {
		m->tx_drop_down += n;
		refresh_drops(m);
		return 0;
	}
	for (uint32_t i = 0; i < n; i++)
		bufs[i] = (struct vmif_buf){ .data = m->tx_buf + (size_t)i * m->frame_max, .len = lens[i], .cap = m->frame_max };
	vmif_if_counters(m->ifp, &before);
	k = vmif_tx_burst(m->ifp, 0, bufs, n);
	if (k < 0)
		k = 0;
	vmif_if_counters(m->ifp, &after);
	m->tx_drop_no_room += n - (uint32_t)k;
	k -= (int)(after.tx_too_big - before.tx_too_big);
	w->st.tx_frames += (uint64_t)k;
	w->st.tx_bytes += after.tx_bytes - before.tx_bytes;
	w->st.tx_flushes += after.tx_kicks - before.tx_kicks;
	refresh_drops(m);
	return k;
}

/* The pump is about to sleep (wire.h rx_arm). */
static int memif_rx_arm(struct wire *w, int *timeout_ms)
{
	struct memif_wire *m = mw(w);
	int rc;

	if (!vmif_if_connected(m->ifp))
		return 1; /* poll_fd() wakes us for the next client */
	if (m->rx_mode == MEMIF_RX_POLL) {
		*timeout_ms = 0; /* MASK_INT stays set: look at the ring again */
		return 1;
	}
	rc = vmif_rx_arm(m->ifp, 0); /* MASK_INT clear, full barrier, head re-read */
	if (rc <= 0)
		return rc == 0 ? 0 : 1; /* 0: packets arrived meanwhile; < 0 cannot be while connected */
	m->armed = 1;
	if (*timeout_ms < 0 || *timeout_ms > MEMIF_ARMED_MS)
		*timeout_ms = MEMIF_ARMED_MS;
	return 1;
}

static void memif_rx_disarm(struct wire *w)
{
	struct memif_wire *m = mw(w);

	if (!m->armed)
		return;
	m->armed = 0;
	(void)vmif_rx_disarm(m->ifp, 0); /* MASK_INT set, the kick (if any) read and counted */
}

static int memif_poll_fd(const struct wire *w)
{
	return ((const struct memif_wire *)w)->ep;
}

static uint32_t memif_counters(const struct wire *w, struct wire_counter out[], uint32_t max)
{
	const struct memif_wire *m = (const struct memif_wire *)w;
	struct vmif_if_counters c;
	struct vmif_server_counters s;
	uint32_t n = 0;

	vmif_if_counters(m->ifp, &c);
	vmif_server_counters(m->srv, &s);
#define PUT(nm, val)                                                                                                   \
	do {                                                                                                           \
		if (n < max)                                                                                           \
			out[n++] = (struct wire_counter){ nm, val };                                                   \
	} while (0)
	PUT("rx_drop_bad_head", c.rx_bad_head);
	PUT("rx_drop_bad_region", c.rx_bad_region);
	PUT("rx_drop_bad_offset", c.rx_bad_offset);
	PUT("rx_drop_bad_len", c.rx_bad_len);
	PUT("rx_drop_bad_chain", c.rx_bad_chain);
	PUT("rx_drop_too_big", c.rx_too_big);
	PUT("rx_drop_empty", c.rx_empty);
	PUT("tx_drop_too_big", c.tx_too_big);
	PUT("tx_drop_no_room", m->tx_drop_no_room);
	PUT("tx_drop_down", m->tx_drop_down);
	PUT("connected", (uint64_t)vmif_if_connected(m->ifp));
	PUT("memif_rx_pkts", c.rx_pkts);
	PUT("memif_rx_bytes", c.rx_bytes);
	PUT("memif_tx_pkts", c.tx_pkts);
	PUT("memif_tx_bytes", c.tx_bytes);
	PUT("tx_bad_head", c.tx_bad_head);
	PUT("tx_bad_region", c.tx_bad_region);
	PUT("tx_bad_offset", c.tx_bad_offset);
	PUT("tx_bad_len", c.tx_bad_len);
	PUT("tx_no_room", c.tx_no_room);
	PUT("tx_kicks", c.tx_kicks);
	PUT("tx_kicks_skipped", c.tx_kicks_skipped);
	PUT("rx_kick_reads", c.rx_kick_reads);
	PUT("rx_interrupt_mode", (uint64_t)(m->rx_mode == MEMIF_RX_INTERRUPT));
	PUT("rx_arms", c.rx_arms);
	PUT("rx_arm_races", c.rx_arm_races);
	PUT("accepted", s.accepted);
	PUT("connects", s.connected);
	PUT("client_disconnects", s.client_disconnects);
	PUT("client_hangups", s.client_hangups);
	PUT("msgs_rx", s.msgs_rx);
	PUT("msgs_tx", s.msgs_tx);
	PUT("fds_closed", s.fds_closed);
	PUT("refused", refusals(&s));
	for (unsigned i = 0; i < VMIF_REFUSE__COUNT; i++) {
		/* "refused_" + the library's stable name, '-' as '_': static storage per reason */
		static char names[VMIF_REFUSE__COUNT][40];

		if (!names[i][0]) {
			snprintf(names[i], sizeof(names[i]), "refused_%s", vmif_refusal_name((enum vmif_refusal)i));
			for (char *p = names[i]; *p; p++)
				if (*p == '-')
					*p = '_';
		}
		PUT(names[i], s.refused[i]);
	}
#undef PUT
	return n;
}

static void memif_close(struct wire *w)
{
	struct memif_wire *m = mw(w);

	vmif_server_close(m->srv); /* on_state(0) first: ep still open */
	if (m->ep >= 0)
		close(m->ep);
	if (m->tfd >= 0)
		close(m->tfd);
	free(m->rx_buf);
	free(m->tx_buf);
	free(m);
}

static const struct wire_ops memif_ops = {
	.rx_burst = memif_rx_burst,
	.rx_release = memif_rx_release,
	.tx_reserve = memif_tx_reserve,
	.tx_commit = memif_tx_commit,
	.poll_fd = memif_poll_fd,
	.rx_arm = memif_rx_arm,
	.rx_disarm = memif_rx_disarm,
	.counters = memif_counters,
	.close = memif_close,
};

/* ------------------------------------------------------------------------ */
/* Options and setup                                                         */

static struct memif_opts *opts_of(struct wire_opts *o, char err[WIRE_ERR_LEN])
{
	if (!o->priv && !(o->priv = calloc(1, sizeof(struct memif_opts))))
		snprintf(err, WIRE_ERR_LEN, "out of memory");
	return o->priv;
}

static int memif_option(struct wire_opts *o, const char *name, const char *value, char err[WIRE_ERR_LEN])
{
	struct memif_opts *mo;

	if (strcmp(name, "--id") && strcmp(name, "--secret") && strcmp(name, "--rx-mode"))
		return 0;
	if (!value) {
		snprintf(err, WIRE_ERR_LEN, "%s expects a value", name);
		return -1;
	}
	if (!(mo = opts_of(o, err)))
		return -1;
	if (!strcmp(name, "--rx-mode")) {
		if (strcmp(value, "poll") && strcmp(value, "interrupt")) {
			snprintf(err, WIRE_ERR_LEN, "--rx-mode expects poll or interrupt, got \"%s\"", value);
			return -1;
		}
		mo->rx_mode = strcmp(value, "poll") ? MEMIF_RX_INTERRUPT : MEMIF_RX_POLL;
		return 2;
	}
	if (!strcmp(name, "--id")) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(value, &end, 10);
		if (errno || end == value || *end || value[0] == '-' || v > UINT32_MAX) {
			snprintf(err, WIRE_ERR_LEN, "--id expects an integer in [0, 4294967295], got \"%s\"", value);
			return -1;
		}
		mo->id = (uint32_t)v;
		return 2;
	}
	if (!value[0] || strlen(value) > 24) {
		snprintf(err, WIRE_ERR_LEN, "--secret expects 1..24 bytes, got %zu", strlen(value));
		return -1;
	}
	strcpy(mo->secret, value);
	mo->have_secret = 1;
	return 2;
}

/*
 * The secret may come from $VPIO_MEMIF_SECRET instead of --secret (what vpio
 * memif add does): a process's environment is readable by its own uid and
 * root only, its command line by everyone.
 */
static const char *env_secret(void)
{
	const char *s = getenv("VPIO_MEMIF_SECRET");

	return s && s[0] ? s : NULL;
}

static int memif_check_opts(const struct wire_opts *o, char err[WIRE_ERR_LEN])
{
	const char *s = env_secret();

	(void)o;
	if (s && strlen(s) > 24) {
		snprintf(err, WIRE_ERR_LEN, "$VPIO_MEMIF_SECRET expects 1..24 bytes, got %zu", strlen(s));
		return -1;
	}
	return 0;
}

static int memif_check_fd(int fd, char err[WIRE_ERR_LEN])
{
	int d, t, p, listening = 0, rc;
	socklen_t len = sizeof(listening);
	char desc[96];

	rc = wire_sock_kind(fd, &d, &t, &p, desc, sizeof(desc));
	if (rc == 0 && d == AF_UNIX && t == SOCK_SEQPACKET &&
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening)
		return 0;
	snprintf(err, WIRE_ERR_LEN, "--wire memif needs a listening AF_UNIX SOCK_SEQPACKET socket (vpio-launch --wire-memif PATH), but descriptor %d is %s%s",
		 fd, desc, rc == 0 && d == AF_UNIX && t == SOCK_SEQPACKET ? " that is not listening" : "");
	return rc < 0 ? rc : -EPROTOTYPE;
}

static int memif_open(const struct wire_opts *o, struct wire **out, char err[WIRE_ERR_LEN])
{
	const struct memif_opts *mo = o->priv;
	struct memif_wire *m = calloc(1, sizeof(*m));
	struct epoll_event ev = { .events = EPOLLIN };
	int rc;

	if (m)
		m->ep = m->tfd = -1;
	if (!m) {
		close(o->fd);
		snprintf(err, WIRE_ERR_LEN, "--wire memif: out of memory");
		return -ENOMEM;
	}
	m->w.ops = &memif_ops;
	m->w.backend = &wire_memif_backend;
	m->name = o->name ? o->name : "wire";
	m->frame_max = o->frame_max;
	m->id = mo ? mo->id : 0;
	m->rx_mode = mo ? mo->rx_mode : MEMIF_RX_POLL;
	m->ep = epoll_create1(EPOLL_CLOEXEC);
	m->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	m->rx_buf = malloc((size_t)m->frame_max * WIRE_BURST_MAX);
	m->tx_buf = malloc((size_t)m->frame_max * WIRE_BURST_MAX);
	if (m->ep < 0 || m->tfd < 0 || !m->rx_buf || !m->tx_buf || m->frame_max < 64) {
		rc = m->frame_max < 64 ? -EINVAL : m->ep < 0 || m->tfd < 0 ? -errno : -ENOMEM;
		snprintf(err, WIRE_ERR_LEN, "--wire memif: %s", m->frame_max < 64 ? "the vif's buffers are too small" : strerror(-rc));
		goto fail;
	}
	rc = vmif_server_adopt(&m->srv, o->fd,
			       &(struct vmif_server_config){ .name = "vpio-uplink", .buf_size = m->frame_max > 65536 ? 65536 : m->frame_max,
							     .max_queue_pairs = 1, .on_state = on_state, .user = m });
	if (rc < 0) {
		snprintf(err, WIRE_ERR_LEN, "--wire memif: adopting descriptor %d: %s", o->fd, strerror(-rc));
		goto fail;
	}
	/* rx_poll: MASK_INT set from connect in both modes; interrupt mode clears it only around a sleep */
	const char *secret = mo && mo->have_secret ? mo->secret : env_secret(); /* --secret wins */
	rc = vmif_if_create(m->srv, &(struct vmif_if_config){ .id = mo ? mo->id : 0, .name = "vpio-uplink",
							      .secret = secret,
							      .rx_poll = 1 },
			    &m->ifp);
	if (rc < 0) {
		snprintf(err, WIRE_ERR_LEN, "--wire memif: interface: %s", strerror(-rc));
		goto fail;
	}
	ev.data.u64 = TAG_SERVER;
	if (epoll_ctl(m->ep, EPOLL_CTL_ADD, vmif_server_fd(m->srv), &ev) < 0 ||
	    (ev.data.u64 = TAG_TIMER, epoll_ctl(m->ep, EPOLL_CTL_ADD, m->tfd, &ev)) < 0) {
		rc = -errno;
		snprintf(err, WIRE_ERR_LEN, "--wire memif: epoll: %s", strerror(-rc));
		goto fail;
	}
	fprintf(stderr, "vpio-uplink: memif %s: listening (id %u%s, rx %s)\n", m->name, mo ? mo->id : 0,
		secret ? ", with a secret" : "", m->rx_mode == MEMIF_RX_INTERRUPT ? "interrupt" : "poll");
	*out = &m->w;
	return 0;
fail:
	if (!m->srv)
		close(o->fd);
	memif_close(&m->w);
	return rc;
}

static void memif_free_opts(struct wire_opts *o)
{
	free(o->priv);
	o->priv = NULL;
}

const struct wire_backend wire_memif_backend = {
	.kind = "memif",
	.launch_kind = "memif",
	.usage = "  --id N                 memif: the interface id a client asks for (0)\n"
		 "  --secret S             memif: the secret a client must send (1..24 bytes; none by default;\n"
		 "                         $VPIO_MEMIF_SECRET says it without showing it in the process list)\n"
		 "  --rx-mode poll|interrupt\n"
		 "                         memif: how packets from the client are noticed (poll). poll: the client\n"
		 "                         never writes our eventfd (MASK_INT set) and the pump spins while a client\n"
		 "                         is connected (a core; no client syscall per burst, as between two DPDK\n"
		 "                         ports); interrupt: the pump polls while busy and asks for one eventfd\n"
		 "                         write only before it sleeps (an idle port costs no CPU; a wake-up costs\n"
		 "                         a syscall on each side). Poll wants a core of its own; where the port\n"
		 "                         shares its cores with the switch and the client, interrupt does better\n",
	.option = memif_option,
	.check_opts = memif_check_opts,
	.check_fd = memif_check_fd,
	.open = memif_open,
	.free_opts = memif_free_opts,
};
