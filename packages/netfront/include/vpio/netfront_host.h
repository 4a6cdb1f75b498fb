/* SPDX-License-Identifier: MIT */
/*
 * vpio/netfront_host.h - host-mode ops for the netfront core (libc; not
 * part of the freestanding core).
 *
 * "Static" variants: until vpiod's grant/evtchn broker hands descriptors
 * over the guest's control socket, a guest inherits them at known fd
 * numbers and learns which is which from two environment tables:
 *
 *   VPIO_NF_GRANTS="<ref>:<fd>,..."              a grant ref -> the memfd of that region
 *   VPIO_NF_EVTCHNS="<port>:<rx_fd>:<tx_fd>,..." a local port -> its channel end
 *
 * The broker-backed ops (asking vpiod for a ref's descriptor, allocating
 * channels through it) replace these next, as sibling files behind the same
 * struct nf_grant_ops / struct nf_evtchn_ops; the core does not change.
 *
 * Host grants are whole regions: map() takes exactly one ref (n == 1) and
 * maps it with @vpio/grant's checked map side (size and seals verified).
 */
#ifndef VPIO_NETFRONT_HOST_H
#define VPIO_NETFRONT_HOST_H

#include "vpio/netfront.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NF_HOST_MAX_GRANTS 32 /* 3 per queue: NF_MAX_QUEUES queues of one vif, and more */
#define NF_HOST_MAX_PORTS 32

struct nf_host_grants {
	uint32_t n;
	struct {
		uint32_t ref;
		int fd;
	} e[NF_HOST_MAX_GRANTS];
};

struct nf_host_evtchns {
	uint32_t n;
	struct {
		uint32_t port;
		int rx_fd, tx_fd;
		int used;
	} e[NF_HOST_MAX_PORTS];
};

/*
 * Parse a table (NULL: the environment variable). 0, -EINVAL (malformed,
 * duplicate, or too many entries), -ENOENT (variable not set).
 */
int nf_host_grants_parse(struct nf_host_grants *g, const char *table);
int nf_host_evtchns_parse(struct nf_host_evtchns *e, const char *table);

/* Ops tables over a parsed table (ctx = the table, which must outlive them). */
void nf_host_grant_ops(struct nf_grant_ops *ops, struct nf_host_grants *g);
void nf_host_evtchn_ops(struct nf_evtchn_ops *ops, struct nf_host_evtchns *e);

#ifdef __cplusplus
}
#endif

#endif /* VPIO_NETFRONT_HOST_H */
