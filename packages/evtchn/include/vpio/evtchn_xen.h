/* SPDX-License-Identifier: MIT */
/*
 * vpio/evtchn_xen.h - one end of a Xen event channel (xen driver): set up
 * with libxenevtchn (csrc/evtchn_xen.c, links -lxenevtchn), driven with
 * plain system calls on its descriptor (csrc/evtchn_xen_fd.c, libc and the
 * kernel's <xen/evtchn.h> only: what a data plane such as the switch
 * compiles without loading any Xen library).
 *
 * Each channel end owns its own xenevtchn handle, i.e. its own open file
 * description of /dev/xen/evtchn with exactly one port bound on it, so
 * every end is a pollable descriptor, as a host-mode end is:
 *
 *     frontend (domU)                               backend (dom0)
 *     evtchn_xen_alloc_unbound(&x, backend_domid)   evtchn_xen_bind_interdomain(&x, fe_domid, fe_port)
 *     x.fd ◀──── Xen: one channel, port ↔ port ────▶ x.fd
 *
 * The kernel driver (drivers/xen/evtchn.c) and what each operation is:
 *   notify    ioctl(fd, IOCTL_EVTCHN_NOTIFY, {port}): the hypervisor sets the
 *             peer's pending bit. Never blocks; there is no "coalesced"
 *             answer (a pending bit already set just stays set).
 *   wait      poll(fd, POLLIN): readable once the port fired.
 *   consume   read(fd) one evtchn_port_t (the port that fired; the kernel
 *             masked it when it fired), then write(fd) that port to
 *             unmask it. Until that write, further notifications only set
 *             the pending bit: they are not lost, they arrive as one more
 *             wake-up right after the unmask. So consume = "pending +
 *             unmask", and an end that is never consumed stays readable.
 * These are exactly libxenevtchn's Linux xenevtchn_notify/_pending/_unmask
 * (tools/libs/evtchn/linux.c). The descriptor is O_NONBLOCK (set at bind),
 * and consume polls before reading anyway (libxenevtchn warns that some
 * kernels block in read() despite O_NONBLOCK).
 *
 * A freshly bound interdomain port is pending once (Xen marks the new local
 * port pending so earlier notifications are not lost): callers tolerate one
 * spurious wake-up, as in host mode. When the peer closes its end, this
 * end's port becomes unbound on Xen's side: notify() still returns 0 (Xen
 * drops notifications on an unbound port) and nothing arrives any more; the
 * peer's death is learned from xenstore, not from the channel.
 *
 * Return values: 0, a documented count, or a negative errno.
 * Threading: an end belongs to one thread at a time; notify() may be called
 * from another thread concurrently (one ioctl).
 */
#ifndef VPIO_EVTCHN_XEN_H
#define VPIO_EVTCHN_XEN_H

#include <stdint.h>

#include "vpio/compiler.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The device every end opens (absent outside a Xen domain). */
#define EVTCHN_XEN_DEV_PATH "/dev/xen/evtchn"

/* One channel end. Fields are read-only to callers. */
struct evtchn_xen {
	void *xce;            /* xenevtchn_handle *, NULL when closed */
	int fd;               /* xenevtchn_fd(): poll POLLIN; -1 when closed */
	uint32_t port;        /* the local port */
	uint32_t remote_domid;
};

/* ---- set-up (csrc/evtchn_xen.c, libxenevtchn) --------------------------- */

/*
 * Frontend: opens a handle and allocates an unbound port that
 * `remote_domid` may bind (xenevtchn_bind_unbound_port). 0 and *x filled,
 * or:
 *   -EINVAL  remote_domid >= 0x7ff0, NULL x
 *   -ENOENT  no /dev/xen/evtchn (not a Xen domain, or xen-evtchn not loaded)
 *   -ENOSPC  no free port in this domain (Xen's max_event_channels)
 *   -errno   from open/ioctl/fcntl
 * Nothing stays open on failure.
 */
int evtchn_xen_alloc_unbound(struct evtchn_xen *x, uint32_t remote_domid);

/*
 * Backend: opens a handle and binds the port `remote_port` that
 * `remote_domid` offered to us (xenevtchn_bind_interdomain). The new local
 * port starts pending once. 0 and *x filled, or:
 *   -EINVAL  remote_domid >= 0x7ff0, remote_port 0, NULL x; also Xen's
 *            answer for a port that is not offered to us or already bound
 *   -ENOENT  no /dev/xen/evtchn
 *   -EPERM/-ESRCH/-ENOSPC/-errno  from the ioctl (no such domain, ...)
 */
int evtchn_xen_bind_interdomain(struct evtchn_xen *x, uint32_t remote_domid, uint32_t remote_port);

/*
 * Unbinds the port (xenevtchn_unbind) and closes the handle; x->fd = -1.
 * The peer's port becomes unbound. 0, 0 when already closed, or the
 * unbind's -errno (the handle is closed anyway).
 */
int evtchn_xen_close(struct evtchn_xen *x);

/* ---- the data path (csrc/evtchn_xen_fd.c, system calls only) ------------ */

/* Notifies the peer of `port` through `fd`. 0, or -errno (-EINVAL: port not bound on fd). */
int evtchn_xen_fd_notify(int fd, uint32_t port);

/*
 * Consumes what is pending on fd without blocking: reads each fired port
 * and unmasks it. n >= 0 ports consumed (0: none, a spurious wake-up);
 * -EFBIG the kernel's per-handle ring overflowed (cannot happen with one
 * port per handle; reset with IOCTL_EVTCHN_RESET), -EBADF, -errno.
 */
int evtchn_xen_fd_consume(int fd);

/* Waits until fd is readable or timeout_ms passes (-1: no limit; 0: look). 1, 0 (timeout), -errno. */
int evtchn_xen_fd_wait(int fd, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* VPIO_EVTCHN_XEN_H */
