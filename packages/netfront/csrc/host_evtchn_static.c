/* SPDX-License-Identifier: MIT */
/*
 * host_evtchn_static.c - struct nf_evtchn_ops for host mode over inherited
 * channel ends (VPIO_NF_EVTCHNS), using @vpio/evtchn's C side. "alloc"
 * hands out the table's ports in order. See vpio/netfront_host.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vpio/evtchn.h"
#include "vpio/netfront_host.h"

static int parse_num(const char **p, char sep, unsigned long max, unsigned long *out)
{
	char *end;

	if (**p < '0' || **p > '9')
		return -EINVAL;
	*out = strtoul(*p, &end, 10);
	if (*out > max || (*end != sep && !(sep == ',' && *end == '\0')))
		return -EINVAL;
	*p = *end ? end + 1 : end;
	return 0;
}

int nf_host_evtchns_parse(struct nf_host_evtchns *e, const char *table)
{
	const char *p = table ? table : getenv("VPIO_NF_EVTCHNS");

	memset(e, 0, sizeof(*e));
	if (!p)
		return -ENOENT;
	while (*p) {
		unsigned long port, rx, tx;
		uint32_t i;

		if (e->n == NF_HOST_MAX_PORTS || parse_num(&p, ':', 131071, &port) || port == 0 ||
		    parse_num(&p, ':', 1u << 20, &rx) || parse_num(&p, ',', 1u << 20, &tx))
			return -EINVAL;
		for (i = 0; i < e->n; i++)
			if (e->e[i].port == port)
				return -EINVAL;
		e->e[e->n].port = (uint32_t)port;
		e->e[e->n].rx_fd = (int)rx;
		e->e[e->n].tx_fd = (int)tx;
		e->n++;
	}
	return 0;
}

static int find(struct nf_host_evtchns *e, uint32_t port)
{
	uint32_t i;

	for (i = 0; i < e->n; i++)
		if (e->e[i].port == port && e->e[i].used)
			return (int)i;
	return -1;
}

static int host_alloc(void *ctx, uint32_t remote, uint32_t *port)
{
	struct nf_host_evtchns *e = ctx;
	uint32_t i;

	(void)remote; /* host: the broker made each end for this guest and its backend */
	for (i = 0; i < e->n; i++) {
		if (!e->e[i].used && e->e[i].rx_fd >= 0) {
			e->e[i].used = 1;
			*port = e->e[i].port;
			return 0;
		}
	}
	return -ENOSPC;
}

static int host_notify(void *ctx, uint32_t port)
{
	int i = find(ctx, port), rc;

	if (i < 0)
		return -EINVAL;
	rc = evtchn_notify(((struct nf_host_evtchns *)ctx)->e[i].tx_fd);
	return rc < 0 ? rc : 0;
}

static int host_wait(void *ctx, uint32_t port, int timeout_ms)
{
	struct nf_host_evtchns *e = ctx;
	int i = find(e, port), rc;

	if (i < 0)
		return -EINVAL;
	rc = evtchn_wait(e->e[i].rx_fd, timeout_ms);
	if (rc <= 0)
		return rc;
	rc = evtchn_drain(e->e[i].rx_fd);
	return rc < 0 ? rc : 1;
}

static int host_close(void *ctx, uint32_t port)
{
	struct nf_host_evtchns *e = ctx;
	int i = find(e, port);

	if (i < 0)
		return -EINVAL;
	close(e->e[i].rx_fd);
	close(e->e[i].tx_fd);
	e->e[i].rx_fd = e->e[i].tx_fd = -1;
	e->e[i].used = 0;
	return 0;
}

void nf_host_evtchn_ops(struct nf_evtchn_ops *ops, struct nf_host_evtchns *e)
{
	ops->alloc = host_alloc;
	ops->notify = host_notify;
	ops->wait = host_wait;
	ops->close = host_close;
	ops->ctx = e;
}
