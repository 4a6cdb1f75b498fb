/* SPDX-License-Identifier: MIT */
/*
 * nf_internal.h - helpers shared by the netfront core's files (not public).
 * Freestanding: no libc.
 */
#ifndef NF_INTERNAL_H
#define NF_INTERNAL_H

#include "vpio/netfront.h"

/* What nf_dev holds, for undo in reverse order. */
#define NF_HAVE_WATCH 0x01u
#define NF_HAVE_TX_RING 0x02u
#define NF_HAVE_RX_RING 0x04u
#define NF_HAVE_POOL 0x08u
#define NF_HAVE_TX_PORT 0x10u
#define NF_HAVE_RX_PORT 0x20u

#define NF_WATCH_TOKEN "vpio-netfront"

/* A bounded string builder: appends, remembers overflow. */
struct nf_str {
	char *buf;
	uint32_t cap, len;
	int overflow;
};

void nf_str_init(struct nf_str *s, char *buf, uint32_t cap);
void nf_str_add(struct nf_str *s, const char *text);
void nf_str_add_u32(struct nf_str *s, uint32_t v);
/* Appends at most max bytes of text (len bytes), printable ASCII only ('?' otherwise). */
void nf_str_add_shown(struct nf_str *s, const char *text, uint32_t len, uint32_t max);
uint32_t nf_strlen(const char *s);
void nf_zero(void *p, uint64_t bytes);

/*
 * nf_parse.c: the backend's `state` value (len bytes; present 0: no such
 * node) as nf_backend_check() judges it: 1 Connected; 0 not, with *state
 * the state, NF_BACKEND_GONE (absent) or NF_BACKEND_GARBLED (does not parse).
 */
int nf_backend_verdict(const char *s, uint32_t len, int present, uint32_t *state);

/* The data path may run (connected, not failed). */
static inline int nf_connected(const struct nf_dev *nf)
{
	return nf && nf->state == NF_STATE_CONNECTED;
}

/* Notifies the backend on `port`, counting it: 1, or the op's -errno (the vif is FAILED then). */
static inline int nf_notify(struct nf_dev *nf, uint32_t port, uint64_t *counter)
{
	int rc = nf->eops.notify(nf->eops.ctx, port);

	if (rc < 0) {
		nf->state = NF_STATE_FAILED;
		return rc;
	}
	(*counter)++;
	return 1;
}

#endif /* NF_INTERNAL_H */
