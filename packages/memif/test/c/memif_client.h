/* SPDX-License-Identifier: MIT */
/*
 * memif_client.h - a small memif client for the tests: raw message and fd
 * sending for hostile cases, and an honest client (one sealed memfd region,
 * one C2S and one S2C ring) whose every step can be bent by a test.
 * Test code only; the server under test runs in the same thread, so each
 * client step is followed by vmif_server_step().
 */
#ifndef VPIO_MEMIF_TEST_CLIENT_H
#define VPIO_MEMIF_TEST_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "vpio/memif_abi.h"

/* Connects a SOCK_SEQPACKET socket to path; fd or -errno. */
int tc_dial(const char *path);
/* Sends len bytes of msg with nfds fds; bytes sent or -errno. */
int tc_send_raw(int sock, const void *msg, size_t len, const int *fds, int nfds);
/* Receives one message without waiting; its size, 0 on EOF, -EAGAIN when none. */
int tc_recv(int sock, struct vmif_msg *m);
/* A memfd of size bytes named name; seals added if seals != 0; fd or -errno. */
int tc_memfd(const char *name, size_t size, int seals);
/* Lines of /proc/self/maps containing needle. */
int tc_maps_count(const char *needle);

/* An honest client's state. */
struct tc {
	int sock;
	int region_fd;
	uint8_t *mem;
	size_t mem_size;
	unsigned log2;
	uint16_t ring_size;
	uint32_t buf_size;
	struct vmif_ring *c2s, *s2c;
	int c2s_efd, s2c_efd;
	uint16_t s2c_seen; /* next S2C slot to read */
};

/* Builds the region (sealed memfd named name) and rings, unconnected. */
int tc_init(struct tc *t, const char *name, unsigned log2, uint32_t buf_size);
/* Builds a message of type with the body given (may be NULL). */
void tc_msg(struct vmif_msg *m, uint16_t type);
void tc_msg_init(struct vmif_msg *m, uint32_t id, const char *secret);
void tc_msg_add_region(const struct tc *t, struct vmif_msg *m);
void tc_msg_add_ring(const struct tc *t, struct vmif_msg *m, int c2s);
/* Closes everything of t (socket, memfd, mapping, eventfds). */
void tc_fini(struct tc *t);

/* Client data path over the connected rings. */
/* Queues one packet on C2S; 0 or -ENOSPC. */
int tc_tx(struct tc *t, const void *data, uint32_t len);
/* Ends a C2S burst as a client respecting MASK_INT does: full barrier
 * after the head publish, then one eventfd write if the server's C2S
 * MASK_INT is clear. 1 when it wrote the eventfd, 0 when masked, -errno. */
int tc_kick(struct tc *t);
/* Offers every free S2C slot to the server (length = buf_size). */
void tc_refill(struct tc *t);
/* Reads one packet from S2C (gathering a NEXT chain); its length, or -EAGAIN. */
int tc_rx(struct tc *t, void *out, uint32_t cap);

#endif /* VPIO_MEMIF_TEST_CLIENT_H */
