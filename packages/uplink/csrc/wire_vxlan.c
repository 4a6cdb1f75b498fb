// SPDX-License-Identifier: MIT
//
// wire_vxlan.c - --wire vxlan (skeleton: the interface is in wire.h; the data path follows).

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"

static int vxlan_option(struct wire_opts *o, const char *name, const char *value, char err[WIRE_ERR_LEN])
{
	(void)o, (void)name, (void)value, (void)err;
	return 0;
}

static int vxlan_check_opts(const struct wire_opts *o, char err[WIRE_ERR_LEN])
{
	(void)o, (void)err;
	return 0;
}

static int vxlan_check_fd(int fd, char err[WIRE_ERR_LEN])
{
	int d, t, p, rc;
	char desc[96];

	rc = wire_sock_kind(fd, &d, &t, &p, desc, sizeof(desc));
	if (rc < 0 || (d != AF_INET && d != AF_INET6) || t != SOCK_DGRAM) {
		snprintf(err, WIRE_ERR_LEN, "--wire vxlan needs an AF_INET or AF_INET6 SOCK_DGRAM (UDP) socket, but descriptor %d is %s", fd, desc);
		return rc < 0 ? rc : -EPROTOTYPE;
	}
	return 0;
}

static int vxlan_open(const struct wire_opts *o, struct wire **out, char err[WIRE_ERR_LEN])
{
	(void)out;
	close(o->fd);
	snprintf(err, WIRE_ERR_LEN, "--wire vxlan: not implemented yet");
	return -ENOSYS;
}

static void vxlan_free_opts(struct wire_opts *o)
{
	(void)o;
}

const struct wire_backend wire_vxlan_backend = {
	.kind = "vxlan",
	.launch_kind = "udp",
	.usage = "",
	.option = vxlan_option,
	.check_opts = vxlan_check_opts,
	.check_fd = vxlan_check_fd,
	.open = vxlan_open,
	.free_opts = vxlan_free_opts,
};
