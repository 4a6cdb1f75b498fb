/* SPDX-License-Identifier: MIT */
/*
 * server.c - the memif server object: its listening socket, the epoll set
 * over it and every control connection, the interface table, teardown and
 * counters. Single-threaded (see vpio/memif.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "memif_internal.h"

#define TAG_LISTEN ((uint64_t)0)

static int check_dir(const char *path)
{
	char copy[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;

	strcpy(copy, path); /* length checked by the caller */
	if (lstat(dirname(copy), &st) != 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return -EPERM;
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return -EPERM;
	return 0;
}

/* A socket file nobody listens on is stale and may go; anything else stays. */
static int clear_path(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0 || errno == EAGAIN)
		return -EADDRINUSE;
	return unlink(sa->sun_path) == 0 ? 0 : -errno;
}

static uint64_t monotonic_ms(void *user)
{
	struct timespec ts;

	(void)user;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int fill_defaults(struct vmif_server_config *c)
{
	if (c->socket_mode == 0)
		c->socket_mode = 0600;
	if (c->max_regions == 0)
		c->max_regions = 4;
	if (c->max_queue_pairs == 0)
		c->max_queue_pairs = 8;
	if (c->max_log2_ring_size == 0)
		c->max_log2_ring_size = 14;
	if (c->buf_size == 0)
		c->buf_size = 2048;
	if (c->max_region_bytes == 0)
		c->max_region_bytes = 256u << 20;
	if (c->max_channels == 0)
		c->max_channels = 16;
	if (c->handshake_timeout_ms == 0)
		c->handshake_timeout_ms = 5000;
	if (c->now_ms == NULL)
		c->now_ms = monotonic_ms;
	if (c->max_regions > VMIF_MAX_REGIONS_LIMIT || c->max_queue_pairs > VMIF_MAX_QP_LIMIT ||
	    c->max_log2_ring_size > VMIF_MAX_LOG2_RING_SIZE || c->buf_size < 64 || c->buf_size > 65536 ||
	    c->max_region_bytes > SIZE_MAX || (c->socket_mode & ~0777u))
		return -EINVAL;
	return 0;
}

/* Allocates srv with cfg's defaults filled in (socket_path may be NULL: adopted). */
static int server_alloc(struct vmif_server **out, const struct vmif_server_config *cfg)
{
	struct vmif_server *srv = calloc(1, sizeof(*srv));
	int rc;

	*out = NULL;
	if (srv == NULL)
		return -ENOMEM;
	srv->listen_fd = srv->epoll_fd = -1;
	srv->cfg = *cfg;
	rc = fill_defaults(&srv->cfg);
	if (rc) {
		free(srv);
		return rc;
	}
	strncpy(srv->name, cfg->name ? cfg->name : "vpio", sizeof(srv->name) - 1);
	srv->cfg.name = srv->name;
	*out = srv;
	return 0;
}

/* The epoll set over srv->listen_fd. 0 or -errno. */
static int server_watch(struct vmif_server *srv)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_LISTEN };

	srv->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->epoll_fd < 0 || epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->listen_fd, &ev) != 0)
		return -errno;
	return 0;
}

static void server_free(struct vmif_server *srv)
{
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->epoll_fd >= 0)
		close(srv->epoll_fd);
	free(srv);
}

int vmif_server_create(struct vmif_server **out, const struct vmif_server_config *cfg)
{
	struct vmif_server *srv;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int rc;

	*out = NULL;
	if (cfg->socket_path == NULL)
		return -EINVAL;
	if (strlen(cfg->socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	rc = server_alloc(&srv, cfg);
	if (rc)
		return rc;
	strcpy(sa.sun_path, cfg->socket_path);
	strcpy(srv->path, cfg->socket_path);
	srv->cfg.socket_path = srv->path;
	rc = check_dir(srv->path);
	if (rc == 0)
		rc = clear_path(&sa);
	if (rc)
		goto fail;
	srv->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (srv->listen_fd < 0)
		goto fail_errno;
	if (bind(srv->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto fail_errno;
	/* The directory is ours and closed to writers, so nobody can swap the
	 * file between bind and chmod. */
	if (chmod(srv->path, srv->cfg.socket_mode) != 0 || listen(srv->listen_fd, 16) != 0 ||
	    (rc = server_watch(srv)) != 0) {
		rc = rc ? rc : -errno;
		unlink(srv->path);
		goto fail;
	}
	*out = srv;
	return 0;

fail_errno:
	rc = -errno;
fail:
	server_free(srv);
	return rc;
}

int vmif_server_adopt(struct vmif_server **out, int fd, const struct vmif_server_config *cfg)
{
	struct vmif_server_config c = *cfg;
	struct vmif_server *srv;
	struct stat st;
	int domain = -1, type = -1, listening = 0, fl, rc;
	socklen_t len = sizeof(int);

	*out = NULL;
	if (fd < 0 || fstat(fd, &st) != 0)
		return -EBADF;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || (len = sizeof(int),
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len)) != 0 || (len = sizeof(int),
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len)) != 0)
		return -errno;
	if (domain != AF_UNIX || type != SOCK_SEQPACKET || !listening)
		return -EINVAL;
	c.socket_path = NULL; /* never unlinked by us: the caller made the file */
	rc = server_alloc(&srv, &c);
	if (rc)
		return rc;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
		rc = -errno;
		free(srv);
		return rc;
	}
	srv->listen_fd = fd;
	rc = server_watch(srv);
	if (rc) {
		srv->listen_fd = -1; /* still the caller's on failure */
		server_free(srv);
		return rc;
	}
	*out = srv;
	return 0;
}

int vmif_server_fd(const struct vmif_server *srv)
{
	return srv->epoll_fd;
}

void vmif_server_counters(const struct vmif_server *srv, struct vmif_server_counters *out)
{
	*out = srv->c;
}

const char *vmif_server_last_refusal(const struct vmif_server *srv)
{
	return srv->last_refusal;
}

struct vmif_if *vmif_server_find_if(struct vmif_server *srv, uint32_t id)
{
	for (struct vmif_if *ifp = srv->ifs; ifp; ifp = ifp->next)
		if (ifp->id == id)
			return ifp;
	return NULL;
}

void vmif_if_reset(struct vmif_if *ifp)
{
	struct vmif_queue *qs[2] = { ifp->rxq, ifp->txq };

	if (ifp->connected && ifp->srv->cfg.on_state)
		ifp->srv->cfg.on_state(ifp, 0, ifp->srv->cfg.user);
	ifp->connected = 0;
	ifp->n_rx = ifp->n_tx = 0;
	for (unsigned d = 0; d < 2; d++) {
		for (unsigned i = 0; i < VMIF_MAX_QP_LIMIT; i++) {
			struct vmif_queue *q = &qs[d][i];

			if (q->added && q->fd >= 0)
				close(q->fd);
			memset(q, 0, sizeof(*q));
			q->fd = -1;
		}
	}
	vmif_regions_unmap(ifp);
	ifp->peer_name[0] = '\0';
}

void vmif_chan_close(struct vmif_chan *ch)
{
	struct vmif_server *srv = ch->srv;
	struct vmif_chan **pp;

	if (ch->ifp) {
		vmif_if_reset(ch->ifp);
		ch->ifp->chan = NULL;
	}
	epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, ch->fd, NULL);
	close(ch->fd);
	for (pp = &srv->chans; *pp; pp = &(*pp)->next) {
		if (*pp == ch) {
			*pp = ch->next;
			break;
		}
	}
	srv->n_chans--;
	free(ch);
}

/* Accepts every pending connection; returns how many. */
static int accept_all(struct vmif_server *srv)
{
	int n = 0;

	for (;;) {
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct vmif_chan *ch;
		struct epoll_event ev = { .events = EPOLLIN };

		if (fd < 0)
			return n; /* EAGAIN, or a connection that died in the backlog */
		n++;
		srv->c.accepted++;
		ch = calloc(1, sizeof(*ch));
		if (ch == NULL || srv->n_chans >= srv->cfg.max_channels) {
			struct vmif_msg m = { .type = VMIF_MSG_DISCONNECT };

			snprintf((char *)m.disconnect.reason, VMIF_REASON_SZ, "%s",
				 ch ? "too many memif connections" : "out of memory");
			srv->c.refused[ch ? VMIF_REFUSE_CHANNELS : VMIF_REFUSE_NOMEM]++;
			(void)send(fd, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL);
			free(ch);
			close(fd);
			continue;
		}
		ch->srv = srv;
		ch->fd = fd;
		ch->state = VMIF_CHAN_WAIT_INIT;
		ch->deadline_ms = srv->cfg.now_ms(srv->cfg.user) + srv->cfg.handshake_timeout_ms;
		ch->next = srv->chans;
		srv->chans = ch;
		srv->n_chans++;
		ev.data.ptr = ch;
		if (epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			vmif_chan_refuse(ch, VMIF_REFUSE_NOMEM, "server cannot watch this connection");
			continue;
		}
		(void)vmif_chan_send_hello(ch);
	}
}

/* Refuses every handshake past its deadline; returns how many. */
static int expire(struct vmif_server *srv)
{
	uint64_t now = srv->cfg.now_ms(srv->cfg.user);
	int n = 0;

	for (struct vmif_chan *ch = srv->chans, *next; ch; ch = next) {
		next = ch->next;
		if (ch->state != VMIF_CHAN_CONNECTED && now >= ch->deadline_ms) {
			vmif_chan_refuse(ch, VMIF_REFUSE_TIMEOUT, "handshake not completed within %u ms",
					 srv->cfg.handshake_timeout_ms);
			n++;
		}
	}
	return n;
}

int vmif_server_poll_timeout_ms(const struct vmif_server *srv)
{
	uint64_t now = srv->cfg.now_ms(srv->cfg.user), first = UINT64_MAX;

	for (const struct vmif_chan *ch = srv->chans; ch; ch = ch->next)
		if (ch->state != VMIF_CHAN_CONNECTED && ch->deadline_ms < first)
			first = ch->deadline_ms;
	if (first == UINT64_MAX)
		return -1;
	return first <= now ? 0 : first - now > INT32_MAX ? INT32_MAX : (int)(first - now);
}

int vmif_server_step(struct vmif_server *srv)
{
	struct epoll_event evs[16];
	int total = expire(srv);

	/* Bounded: clients that keep talking get served on the next step. */
	for (unsigned round = 0; round < 64; round++) {
		int n = epoll_wait(srv->epoll_fd, evs, 16, 0);

		if (n < 0)
			return errno == EINTR ? total : -errno;
		if (n == 0)
			return total;
		/* A handler may free a channel that a later entry names: look
		 * each up in the live list before using it. */
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 == TAG_LISTEN) {
				total += accept_all(srv);
				continue;
			}
			for (struct vmif_chan *ch = srv->chans; ch; ch = ch->next) {
				if (ch == evs[i].data.ptr) {
					total += vmif_chan_on_readable(ch);
					break;
				}
			}
		}
	}
	return total;
}

int vmif_if_create(struct vmif_server *srv, const struct vmif_if_config *cfg, struct vmif_if **out)
{
	struct vmif_if *ifp;

	*out = NULL;
	if (cfg->secret && strlen(cfg->secret) > VMIF_SECRET_SZ)
		return -EINVAL;
	if (vmif_server_find_if(srv, cfg->id))
		return -EEXIST;
	ifp = calloc(1, sizeof(*ifp));
	if (ifp == NULL)
		return -ENOMEM;
	ifp->srv = srv;
	ifp->id = cfg->id;
	strncpy(ifp->name, cfg->name ? cfg->name : "vpio", sizeof(ifp->name) - 1);
	if (cfg->secret)
		strcpy(ifp->secret, cfg->secret);
	ifp->rx_poll = cfg->rx_poll != 0;
	for (unsigned i = 0; i < VMIF_MAX_QP_LIMIT; i++)
		ifp->rxq[i].fd = ifp->txq[i].fd = -1;
	ifp->next = srv->ifs;
	srv->ifs = ifp;
	*out = ifp;
	return 0;
}

static void disconnect_if(struct vmif_if *ifp, const char *reason)
{
	struct vmif_chan *ch = ifp->chan;
	struct vmif_msg m = { .type = VMIF_MSG_DISCONNECT };

	if (ch == NULL)
		return;
	snprintf((char *)m.disconnect.reason, VMIF_REASON_SZ, "%s", reason ? reason : "interface removed");
	(void)send(ch->fd, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL);
	vmif_chan_close(ch);
}

void vmif_if_destroy(struct vmif_if *ifp, const char *reason)
{
	struct vmif_server *srv = ifp->srv;

	disconnect_if(ifp, reason);
	for (struct vmif_if **pp = &srv->ifs; *pp; pp = &(*pp)->next) {
		if (*pp == ifp) {
			*pp = ifp->next;
			break;
		}
	}
	free(ifp);
}

void vmif_server_close(struct vmif_server *srv)
{
	if (srv == NULL)
		return;
	while (srv->ifs)
		vmif_if_destroy(srv->ifs, "server shutting down");
	while (srv->chans)
		vmif_chan_close(srv->chans);
	close(srv->epoll_fd);
	close(srv->listen_fd);
	if (srv->path[0])
		unlink(srv->path);
	free(srv);
}

int vmif_if_connected(const struct vmif_if *ifp)
{
	return ifp->connected;
}

unsigned vmif_if_num_rx_queues(const struct vmif_if *ifp)
{
	return ifp->connected ? ifp->n_rx : 0;
}

unsigned vmif_if_num_tx_queues(const struct vmif_if *ifp)
{
	return ifp->connected ? ifp->n_tx : 0;
}

int vmif_if_rx_fd(const struct vmif_if *ifp, unsigned qid)
{
	if (!ifp->connected)
		return -ENOTCONN;
	if (qid >= ifp->n_rx)
		return -EINVAL;
	return ifp->rxq[qid].fd;
}

const char *vmif_if_peer_name(const struct vmif_if *ifp)
{
	return ifp->peer_name;
}

void vmif_if_counters(const struct vmif_if *ifp, struct vmif_if_counters *out)
{
	*out = ifp->c;
}
