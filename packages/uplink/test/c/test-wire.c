// SPDX-License-Identifier: MIT
//
// test-wire.c - the backend list and every backend's descriptor check.

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vpio/tap.h"
#include "wire.h"

static void t_find(void)
{
	CHECK(wire_backend_find("packet") == &wire_packet_backend);
	CHECK(wire_backend_find("vxlan") == &wire_vxlan_backend);
	CHECK(wire_backend_find("tap") == NULL);
	CHECK(wire_backend_find("") == NULL);
	CHECK(strstr(wire_backend_kinds(), "packet") != NULL);
	CHECK(strstr(wire_backend_kinds(), "vxlan") != NULL);
	for (const struct wire_backend *const *b = wire_backends; *b; b++) {
		CHECK((*b)->option && (*b)->check_opts && (*b)->check_fd && (*b)->open && (*b)->free_opts);
		CHECK((*b)->usage != NULL && (*b)->launch_kind != NULL);
	}
}

static void t_check_fd(void)
{
	char err[WIRE_ERR_LEN];
	int udp = socket(AF_INET, SOCK_DGRAM, 0), udp6 = socket(AF_INET6, SOCK_DGRAM, 0);
	int tcp = socket(AF_INET, SOCK_STREAM, 0), sp[2], file = open("/dev/null", O_RDONLY);

	CHECK(udp >= 0 && tcp >= 0 && file >= 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sp), 0);
	CHECK_EQ(wire_vxlan_backend.check_fd(udp, err), 0);
	if (udp6 >= 0)
		CHECK_EQ(wire_vxlan_backend.check_fd(udp6, err), 0);
	CHECK(wire_vxlan_backend.check_fd(tcp, err) < 0);
	CHECK(strstr(err, "AF_INET SOCK_STREAM") != NULL);
	CHECK(wire_packet_backend.check_fd(udp, err) < 0);
	CHECK(strstr(err, "AF_PACKET") != NULL && strstr(err, "AF_INET SOCK_DGRAM") != NULL);
	CHECK(wire_packet_backend.check_fd(sp[0], err) < 0);
	CHECK(strstr(err, "AF_UNIX") != NULL);
	CHECK_EQ(wire_packet_backend.check_fd(file, err), -ENOTSOCK);
	CHECK(strstr(err, "not a socket") != NULL);
	CHECK_EQ(wire_vxlan_backend.check_fd(1000, err), -EBADF);
	close(udp), close(tcp), close(sp[0]), close(sp[1]), close(file);
	if (udp6 >= 0)
		close(udp6);
}

int main(void)
{
	tap_run("every backend is listed by its --wire KIND with every hook", t_find);
	tap_run("check_fd names what a descriptor is when it is not the wire's kind", t_check_fd);
	return tap_done();
}
