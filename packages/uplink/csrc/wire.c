// SPDX-License-Identifier: MIT
//
// wire.c - the list of wire backends (wire.h "ADDING A BACKEND") and the
// socket check every backend's check_fd() uses.

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "wire.h"
#ifndef VPIO_NO_XDP
#include "wire_xdp.h"
#endif

const struct wire_backend *const wire_backends[] = {
	&wire_packet_backend,
	&wire_vxlan_backend,
	&wire_memif_backend,
#ifndef VPIO_NO_XDP
	&wire_xdp_backend, /* csrc/wire_xdp*.c: built when libxdp's headers are present (Makefile) */
#endif
	NULL,
};

const struct wire_backend *wire_backend_find(const char *kind)
{
	for (const struct wire_backend *const *b = wire_backends; *b; b++)
		if (!strcmp((*b)->kind, kind))
			return *b;
	return NULL;
}

const char *wire_backend_kinds(void)
{
	static char kinds[128];

	if (!kinds[0]) {
		size_t n = 0;

		for (const struct wire_backend *const *b = wire_backends; *b && n < sizeof(kinds); b++)
			n += (size_t)snprintf(kinds + n, sizeof(kinds) - n, "%s%s", b == wire_backends ? "" : "|", (*b)->kind);
	}
	return kinds;
}

static const char *domain_name(int d)
{
	switch (d) {
	case AF_UNIX: return "AF_UNIX";
	case AF_INET: return "AF_INET";
	case AF_INET6: return "AF_INET6";
	case AF_PACKET: return "AF_PACKET";
	case AF_NETLINK: return "AF_NETLINK";
#ifdef AF_XDP
	case AF_XDP: return "AF_XDP";
#endif
	default: return NULL;
	}
}

static const char *type_name(int t)
{
	switch (t) {
	case SOCK_STREAM: return "SOCK_STREAM";
	case SOCK_DGRAM: return "SOCK_DGRAM";
	case SOCK_RAW: return "SOCK_RAW";
	case SOCK_SEQPACKET: return "SOCK_SEQPACKET";
	default: return NULL;
	}
}

int wire_sock_kind(int fd, int *domain, int *type, int *protocol, char *desc, size_t desc_len)
{
	socklen_t len = sizeof(int);
	struct stat st;
	const char *dn, *tn;

	*domain = *type = *protocol = -1;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(desc, desc_len, "not an open descriptor");
		return -EBADF;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(desc, desc_len, "not a socket (%s)",
			 S_ISREG(st.st_mode) ? "a regular file" : S_ISCHR(st.st_mode) ? "a character device"
				 : S_ISFIFO(st.st_mode) ? "a pipe" : S_ISDIR(st.st_mode) ? "a directory" : "another file type");
		return -ENOTSOCK;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, domain, &len) < 0)
		return -errno;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, type, &len) < 0)
		return -errno;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, protocol, &len) < 0)
		*protocol = -1;
	dn = domain_name(*domain);
	tn = type_name(*type);
	if (dn && tn)
		snprintf(desc, desc_len, "an %s %s socket", dn, tn);
	else
		snprintf(desc, desc_len, "a socket of domain %d, type %d", *domain, *type);
	return 0;
}
