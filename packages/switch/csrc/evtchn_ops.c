/* SPDX-License-Identifier: MIT */
/*
 * evtchn_ops.c - the two kinds of event-channel ends a port can have
 * (switch.h "Channel kinds"), as op pairs chosen once at vsw_port_add():
 *
 *   host  consume = evtchn_drain(fd)            (recv every queued byte)
 *         notify  = evtchn_notify(fd)           (one byte, MSG_DONTWAIT)
 *   xen   consume = evtchn_xen_fd_consume(fd)   (read the fired port, write it back: unmask)
 *         notify  = evtchn_xen_fd_notify(fd, port) (IOCTL_EVTCHN_NOTIFY)
 *
 * Both never block and are called only from the existing kick/wake paths
 * (one call per wake-up or per kick), so a host port costs exactly the
 * system calls it did before. Results are ignored on purpose: a full host
 * link is already signalled, a closed peer has nobody to wake, and a xen
 * notify can only fail on a port that is being unbound (the control plane
 * learns a peer's death from xenstore, not from here).
 *
 * Concurrency: stateless; one consumer per wait fd (the serving worker).
 */
#include "sw_internal.h"
#include "vpio/evtchn.h"
#include "vpio/evtchn_xen.h"

static void host_consume(int fd)
{
	(void)evtchn_drain(fd);
}

static void host_notify(int fd, uint32_t port)
{
	(void)port;
	(void)evtchn_notify(fd);
}

static void xen_consume(int fd)
{
	(void)evtchn_xen_fd_consume(fd);
}

static void xen_notify(int fd, uint32_t port)
{
	(void)evtchn_xen_fd_notify(fd, port);
}

const struct vsw_evtchn_ops vsw_evtchn_host = { .consume = host_consume, .notify = host_notify };
const struct vsw_evtchn_ops vsw_evtchn_xen = { .consume = xen_consume, .notify = xen_notify };
