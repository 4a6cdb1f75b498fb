/* SPDX-License-Identifier: MIT */
/*
 * vpio/domain_ctrl.h - the control socket between vpiod and a guest.
 *
 * Every guest inherits exactly one control socket, at fd 3
 * ($VPIO_CTRL_FD). It is an AF_UNIX SOCK_SEQPACKET socket: its identity.
 * vpiod knows which domain is on the other end because it made the pair;
 * nothing a guest sends can name another domid (messages carry none).
 *
 * Framing: one datagram = one message; file descriptors travel with it as
 * SCM_RIGHTS ancillary data.
 *
 *     0        2        4                 8                 12        16
 *     +--------+--------+-----------------+-----------------+---------+----------
 *     | type   | flags  | seq             | len             | rsvd=0  | payload (len bytes)
 *     +--------+--------+-----------------+-----------------+---------+----------
 *     all fields little-endian; len == datagram size - 16; len <= VPIO_CTRL_PAYLOAD_MAX
 *
 *   type   what the message is (table below); ranges are reserved per user
 *   flags  VPIO_CTRL_F_REPLY on answers; other bits must be 0
 *   seq    chosen by the requester, echoed in the reply
 *
 * Types:
 *   0x0001 HELLO   vpiod → guest, first message, unsolicited. Payload
 *                  struct vpio_ctrl_hello; one fd: the guest's xenstore
 *                  connection (SOCK_STREAM), already tagged with its domid
 *                  in the daemon (it can never act as dom0).
 *   0x0002 ERROR   reply to a request that failed. Payload struct
 *                  vpio_ctrl_error: a positive errno (ENOSYS: unknown type;
 *                  EPROTO: malformed; EMSGSIZE: too long; E2BIG: too many fds).
 *   0x0003 PING    guest → vpiod; the reply (flags REPLY, same type and seq)
 *                  echoes the payload. Liveness checks and tests.
 *   0x0100-0x01ff  reserved: grant broker (@vpio/grant host driver)
 *   0x0200-0x02ff  reserved: event channel broker (@vpio/evtchn host driver)
 *
 * vpiod closes at once every fd a guest attaches to a message that does not
 * take one, answers every request with either its reply or ERROR, and
 * never blocks on a guest: a guest that does not read its replies loses
 * them (the socket buffer is the only queue).
 */
#ifndef VPIO_DOMAIN_CTRL_H
#define VPIO_DOMAIN_CTRL_H

#include <stdint.h>

#define VPIO_CTRL_FD_DEFAULT 3
#define VPIO_CTRL_HDR_BYTES 16u
#define VPIO_CTRL_PAYLOAD_MAX 4096u
#define VPIO_CTRL_MAX_FDS 16u
#define VPIO_CTRL_ABI 1u

#define VPIO_CTRL_F_REPLY 0x0001u

enum vpio_ctrl_type {
	VPIO_CTRL_HELLO = 0x0001,
	VPIO_CTRL_ERROR = 0x0002,
	VPIO_CTRL_PING = 0x0003,
	VPIO_CTRL_GRANT_FIRST = 0x0100,
	VPIO_CTRL_GRANT_LAST = 0x01ff,
	VPIO_CTRL_EVTCHN_FIRST = 0x0200,
	VPIO_CTRL_EVTCHN_LAST = 0x02ff,
};

struct vpio_ctrl_hdr {
	uint16_t type;
	uint16_t flags;
	uint32_t seq;
	uint32_t len;
	uint32_t rsvd;
};

struct vpio_ctrl_hello {
	uint32_t abi;    /* VPIO_CTRL_ABI */
	uint32_t domid;  /* informative: the same as $VPIO_DOMID */
};

struct vpio_ctrl_error {
	uint32_t err;      /* positive errno */
	uint16_t req_type; /* the type of the failed request */
	uint16_t rsvd;
};

/* ---- guest side (csrc/guest.c, libc) ----
 * Each returns 0 or a negative errno. */

/* The control fd from $VPIO_CTRL_FD (default 3). */
int vpio_ctrl_fd(void);

/* Receives one message into hdr/payload (payload_bytes capacity) and up to
 * `max_fds` descriptors (O_CLOEXEC) into fds; *nfds gets their number.
 * Blocks. -EPROTO on a malformed message, -ECONNRESET on EOF. */
int vpio_ctrl_recv(int fd, struct vpio_ctrl_hdr *hdr, void *payload, uint32_t payload_bytes, int *fds, unsigned max_fds,
		   unsigned *nfds);

/* Sends one message with `nfds` descriptors. */
int vpio_ctrl_send(int fd, uint16_t type, uint16_t flags, uint32_t seq, const void *payload, uint32_t len, const int *fds,
		   unsigned nfds);

/* Waits for HELLO and returns the xenstore connection fd in *xs_fd. */
int vpio_ctrl_hello(int fd, struct vpio_ctrl_hello *hello, int *xs_fd);

#endif
