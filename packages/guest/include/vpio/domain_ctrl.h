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
 *   0x0100-0x01ff  grant broker (below)
 *   0x0200-0x02ff  event channel broker (below)
 *
 * Broker requests (guest → vpiod; payloads are u32 LE fields, exactly as
 * long as listed, else EINVAL; the reply has the same type and flags REPLY):
 *
 *   0x0101 GRANT_SHARE  {dom, grantee, pages, access} + 1 fd: a memfd the
 *          guest created, mapped and sealed (vpio/grant_share.h order);
 *          vpiod checks it as vpio/grant.h's verify does and keeps it.
 *          → {ref}
 *   0x0102 GRANT_END    {ref}: no new mapping of ref (vpiod closes its
 *          descriptor); the guest keeps its own mapping. → {}
 *   0x0103 GRANT_MAP    {granter, flags, count, refs[count]}, 1 <= count
 *          <= VPIO_GRANT_MAP_MAX_REFS, flags VPIO_GRANT_MAP_WRITABLE: every
 *          ref must be granted by `granter` to the caller with that access.
 *          → {handle, count, pages[count]} + count fds (one per ref). The
 *          guest maps them (vpio/guest.h) and later sends UNMAP.
 *   0x0104 GRANT_UNMAP  {handle}: the pages leave the caller's mappedPages. → {}
 *   0x0201 EVTCHN_ALLOC_UNBOUND  {dom, remote}: a port offered to remote.
 *          → {port} + 2 fds {rx, tx}: the caller's own ends (pending once)
 *   0x0202 EVTCHN_BIND_INTERDOMAIN  {remote, remote_port}: binds a port
 *          remote offered to the caller. → {port} + 2 fds {rx, tx}
 *   0x0203 EVTCHN_CLOSE {port}: vpiod forgets the port; the guest closes
 *          its ends (the peer then sees EPIPE). → {}
 *
 * `dom` is Xen's: VPIO_DOMID_SELF or the caller's own domid; anything else
 * is EPERM (identity is the socket, never the message). Errors (ERROR.err):
 *   EINVAL  malformed payload (length, access, flags, pages or count 0)
 *   EPERM   another domid claimed; a ref granted to another domain or with
 *           another access; a port offered to another domain or bound
 *   ENOENT  no such ref (never granted, or ended) / handle / port
 *   ESRCH   the named domain is not alive
 *   EBADF   GRANT_SHARE without exactly one descriptor
 *   ENOSPC  a per-domain limit (grantPages, grants, mappedPages,
 *           eventChannels) would be exceeded
 *   E2BIG   more than VPIO_GRANT_MAP_MAX_REFS refs
 *   from the descriptor check of GRANT_SHARE: EPERM (size or write seal
 *   missing), EMSGSIZE (size != pages), EINVAL (not a memfd), EACCES (rw
 *   grant through a read-only descriptor); the descriptor is closed.
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
	VPIO_CTRL_GRANT_SHARE = 0x0101,
	VPIO_CTRL_GRANT_END = 0x0102,
	VPIO_CTRL_GRANT_MAP = 0x0103,
	VPIO_CTRL_GRANT_UNMAP = 0x0104,
	VPIO_CTRL_EVTCHN_ALLOC_UNBOUND = 0x0201,
	VPIO_CTRL_EVTCHN_BIND_INTERDOMAIN = 0x0202,
	VPIO_CTRL_EVTCHN_CLOSE = 0x0203,
};

#define VPIO_DOMID_SELF 0x7ff0u
#define VPIO_GRANT_MAP_WRITABLE 0x1u
#define VPIO_GRANT_MAP_MAX_REFS 16u

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

/* Waits for HELLO and returns the xenstore connection fd in *xs_fd.
 * Blocks until a message arrives (vpio_ctrl_hello_wait bounds the wait). */
int vpio_ctrl_hello(int fd, struct vpio_ctrl_hello *hello, int *xs_fd);

/* vpio_ctrl_hello waiting at most timeout_ms (-1: for ever) for the first
 * message: -ETIMEDOUT when none arrived in time (nothing was read). */
int vpio_ctrl_hello_wait(int fd, struct vpio_ctrl_hello *hello, int *xs_fd, int timeout_ms);

#endif
