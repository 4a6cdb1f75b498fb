// SPDX-License-Identifier: MIT
//
// host.c - host mode's platform (vpio run --linux): the TAP device
// vpio-launch --tap made in the domain's own network namespace (fd
// $VPIO_TAP_FD, $VPIO_TAP_QUEUES queue descriptors from it on) and the
// broker-backed session over $VPIO_CTRL_FD (vpio/netfront_broker.h: HELLO,
// the xenstore connection vpiod hands over, grants and channels through
// vpiod's brokers). The launcher already gave the TAP the vif's MAC, MTU
// and addresses; after connecting we only check the MAC.

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lnf.h"
#include "vpio/netfront_broker.h"

#define EX_USAGE 64
#define EX_NOTAP 69
#define EX_CONNECT 75

static struct nf_session session;

static int env_num(const char *name, const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		lnf_say("usage: %s expects an integer in [%ld, %ld], got \"%s\"", name, min, max, s);
		return EX_USAGE;
	}
	*out = v;
	return 0;
}

static int host_tap(const struct lnf_opts *o, int fds[LNF_MAX_QUEUES], uint32_t *n)
{
	const char *tap_env = getenv("VPIO_TAP_FD"), *queues_env = getenv("VPIO_TAP_QUEUES");
	long fd0 = -1, queues = 1;
	struct stat st;
	int rc;

	if (tap_env && (rc = env_num("VPIO_TAP_FD", tap_env, 3, 1 << 20, &fd0)))
		return rc;
	if (queues_env && (rc = env_num("VPIO_TAP_QUEUES", queues_env, 1, LNF_MAX_QUEUES, &queues)))
		return rc;
	if (o->want_queues > (uint32_t)queues) {
		lnf_say("usage: --queues %u, but the TAP has %ld queue(s) ($VPIO_TAP_QUEUES)", o->want_queues, queues);
		return EX_USAGE;
	}
	for (uint32_t q = 0; q < (uint32_t)queues; q++) {
		int fd = fd0 < 0 ? -1 : (int)fd0 + (int)q;

		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode)) {
			lnf_say("no TAP descriptor in $VPIO_TAP_FD%s (run me with vpio run --linux, or vpio-launch --tap)",
				q ? " + queue" : "");
			return EX_NOTAP;
		}
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
			lnf_say("TAP descriptor %d: %s", fd, strerror(errno));
			return EX_NOTAP;
		}
		fds[q] = fd;
	}
	*n = (uint32_t)queues;
	return 0;
}

static int host_open(const struct lnf_opts *o, struct nf_config *cfg)
{
	int rc = nf_session_open(&session);

	if (rc < 0) {
		lnf_say("session (HELLO, xenstore): %s", strerror(-rc));
		return EX_CONNECT;
	}
	nf_session_config(&session, cfg, o->devid, o->mode, o->timeout_ms);
	return 0;
}

static int host_port_fd(uint32_t port)
{
	return nf_broker_port_fd(&session.b, port);
}

static int host_backend_fd(void)
{
	return -1; /* a backend that goes away closes its channel ends: the data path fails (EPIPE) */
}

static int host_configure(const struct lnf_opts *o, const struct nf_dev *vif)
{
	const char *name = getenv("VPIO_TAP_NAME");
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	(void)o;
	if (s < 0 || !name) {
		if (s >= 0)
			close(s);
		return 0;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFHWADDR, &ifr) == 0 && memcmp(ifr.ifr_hwaddr.sa_data, nf_mac(vif), 6) != 0)
		lnf_say("warning: %s's MAC differs from vif's (the switch may drop what it sends)", name);
	close(s);
	return 0;
}

static void host_close(void)
{
	nf_session_close(&session);
}

const struct lnf_platform lnf_host_platform = {
	.name = "host",
	.command_optional = 0,
	.tap = host_tap,
	.open = host_open,
	.port_fd = host_port_fd,
	.backend_fd = host_backend_fd,
	.configure = host_configure,
	.close = host_close,
};
