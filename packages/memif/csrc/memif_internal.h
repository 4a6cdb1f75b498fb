/* SPDX-License-Identifier: MIT */
/*
 * memif_internal.h - private state of the memif server, shared by its files:
 *   server.c    listening socket, epoll, accept, step, teardown, counters
 *   control.c   the per-connection state machine: receive, validate, answer
 *   region.c    mapping a client's region (seal checks), placing its rings
 *   datapath.c  rx/tx bursts over the mapped rings
 * Single-threaded: see vpio/memif.h "Threading and ownership".
 */
#ifndef VPIO_MEMIF_INTERNAL_H
#define VPIO_MEMIF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vpio/compiler.h"
#include "vpio/memif.h"

#define VMIF_MAX_REGIONS_LIMIT 256
#define VMIF_MAX_QP_LIMIT 256

struct vmif_region {
	uint8_t *base; /* NULL: not mapped */
	uint64_t size; /* the announced size, checked against fstat */
};

/* One ring as the server sees it: every field is a private copy. */
struct vmif_queue {
	struct vmif_ring *ring;   /* inside a mapped region, placement validated */
	int fd;                   /* the client's eventfd (ours to close), or -1 */
	uint16_t ring_size;       /* 2^log2 (log2 <= 15 fits) */
	uint16_t mask;
	uint16_t next;            /* C2S: next slot to consume; S2C: next slot to fill (= our tail) */
	uint8_t log2;
	uint8_t added;            /* ADD_RING seen for this index */
	uint8_t held;             /* C2S: vmif_rx_peek consumed slots whose tail is not published yet */
};

enum vmif_chan_state {
	VMIF_CHAN_WAIT_INIT,      /* HELLO sent */
	VMIF_CHAN_CONFIG,         /* INIT accepted: regions and rings may come */
	VMIF_CHAN_CONNECTED,      /* CONNECTED sent */
};

struct vmif_chan {
	struct vmif_server *srv;
	struct vmif_chan *next;
	int fd;
	enum vmif_chan_state state;
	struct vmif_if *ifp;      /* bound by INIT */
	uint64_t deadline_ms;     /* refused if not CONNECTED by then */
};

struct vmif_if {
	struct vmif_server *srv;
	struct vmif_if *next;
	uint32_t id;
	char name[VMIF_NAME_SZ];
	char secret[VMIF_SECRET_SZ + 1];
	int rx_poll;
	struct vmif_chan *chan;   /* the client's connection, or NULL */
	int connected;
	char peer_name[VMIF_NAME_SZ + 1];
	/* Per connection; reset on teardown. */
	unsigned n_regions;
	struct vmif_region regions[VMIF_MAX_REGIONS_LIMIT];
	unsigned n_rx, n_tx;      /* after CONNECT: C2S and S2C rings */
	struct vmif_queue rxq[VMIF_MAX_QP_LIMIT]; /* C2S */
	struct vmif_queue txq[VMIF_MAX_QP_LIMIT]; /* S2C */
	struct vmif_if_counters c;
};

struct vmif_server {
	int listen_fd;
	int epoll_fd;
	char path[108];
	struct vmif_server_config cfg;
	char name[VMIF_NAME_SZ];
	struct vmif_chan *chans;
	unsigned n_chans;
	struct vmif_if *ifs;
	struct vmif_server_counters c;
	char last_refusal[VMIF_REASON_SZ];
};

/* control.c */
/* 0, or -1 when the channel was refused (and freed). */
int vmif_chan_send_hello(struct vmif_chan *ch);
/* Reads and handles every pending message; returns how many. */
int vmif_chan_on_readable(struct vmif_chan *ch);
/* Sends DISCONNECT(reason), counts the refusal, closes the channel. */
void vmif_chan_refuse(struct vmif_chan *ch, enum vmif_refusal why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* server.c */
/* Unbinds and frees a channel, tearing its interface's connection down. */
void vmif_chan_close(struct vmif_chan *ch);
/* Unmaps regions and closes ring fds of ifp; calls on_state(0) first if connected. */
void vmif_if_reset(struct vmif_if *ifp);
struct vmif_if *vmif_server_find_if(struct vmif_server *srv, uint32_t id);

/* region.c: 0 or a refusal reason with a message written into why[]. */
int vmif_region_map(struct vmif_if *ifp, uint16_t index, uint64_t size, int fd, char *why, size_t why_len,
		    enum vmif_refusal *reason);
int vmif_ring_place(struct vmif_if *ifp, const struct vmif_msg_add_ring *ar, int fd, char *why, size_t why_len,
		    enum vmif_refusal *reason);
void vmif_regions_unmap(struct vmif_if *ifp);

#endif /* VPIO_MEMIF_INTERNAL_H */
