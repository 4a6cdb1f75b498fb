// SPDX-License-Identifier: MIT
//
// xen_none.c - stands in for xen.c and tap.c when the build had no Xen
// headers (libxen-dev): --xen says so; the host path is unchanged.

#include "lnf.h"

#define EX_NOTAP 69

int lnf_xen_present(void)
{
	return 0;
}

static int none_tap(const struct lnf_opts *o, int fds[LNF_MAX_QUEUES], uint32_t *n)
{
	(void)o, (void)fds, (void)n;
	lnf_say("xen mode: this vpio-linux-netfront was built without Xen support (install libxen-dev and rebuild)");
	return EX_NOTAP;
}

static int none_open(const struct lnf_opts *o, struct nf_config *cfg)
{
	(void)o, (void)cfg;
	return EX_NOTAP;
}

static int none_port_fd(uint32_t port)
{
	(void)port;
	return -1;
}

static int none_backend_fd(void)
{
	return -1;
}

static int none_configure(const struct lnf_opts *o, const struct nf_dev *vif)
{
	(void)o, (void)vif;
	return EX_NOTAP;
}

static void none_close(void)
{
}

int lnf_parse_prefix(int family, const char *s, void *addr, uint32_t *prefix)
{
	(void)family, (void)s, (void)addr, (void)prefix;
	return 0; /* unchecked: --xen fails anyway */
}

const struct lnf_platform lnf_xen_platform = {
	.name = "xen (not built)",
	.command_optional = 1,
	.tap = none_tap,
	.open = none_open,
	.port_fd = none_port_fd,
	.backend_fd = none_backend_fd,
	.configure = none_configure,
	.close = none_close,
};
