// SPDX-License-Identifier: MIT
//
// wire_packet.c - --wire packet (skeleton: the interface is in wire.h; the data path follows).

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"

static int packet_option(struct wire_opts *o, const char *name, const char *value, char err[WIRE_ERR_LEN])
{
	(void)o, (void)name, (void)value, (void)err;
	return 0;
}

static int packet_check_opts(const struct wire_opts *o, char err[WIRE_ERR_LEN])
{
	(void)o, (void)err;
	return 0;
}

static int packet_check_fd(int fd, char err[WIRE_ERR_LEN])
{
	int d, t, p, rc;
	char desc[96];

	rc = wire_sock_kind(fd, &d, &t, &p, desc, sizeof(desc));
	if (rc < 0 || d != AF_PACKET || t != SOCK_RAW) {
		snprintf(err, WIRE_ERR_LEN, "--wire packet needs an AF_PACKET SOCK_RAW socket, but descriptor %d is %s", fd, desc);
		return rc < 0 ? rc : -EPROTOTYPE;
	}
	return 0;
}

static int packet_open(const struct wire_opts *o, struct wire **out, char err[WIRE_ERR_LEN])
{
	(void)out;
	close(o->fd);
	snprintf(err, WIRE_ERR_LEN, "--wire packet: not implemented yet");
	return -ENOSYS;
}

static void packet_free_opts(struct wire_opts *o)
{
	(void)o;
}

const struct wire_backend wire_packet_backend = {
	.kind = "packet",
	.launch_kind = "packet",
	.usage = "",
	.option = packet_option,
	.check_opts = packet_check_opts,
	.check_fd = packet_check_fd,
	.open = packet_open,
	.free_opts = packet_free_opts,
};
