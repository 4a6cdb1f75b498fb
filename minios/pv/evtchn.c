/* SPDX-License-Identifier: MIT */
/*
 * evtchn.c - event channels without upcalls: the 2-level ABI's pending
 * bitmap in shared_info is tested and cleared here (lock-prefixed atomics:
 * Xen sets bits from other CPUs), waiting is SCHEDOP_poll. The per-port
 * mask bits are left alone: Xen wakes a poller whether or not the port is
 * masked, and with the vCPU's upcall mask set no upcall is ever delivered.
 */
#include "pv.h"

#include "vpio/compiler.h"

#define BITS (8u * sizeof(xen_ulong_t))
#define NR_PORTS (BITS * BITS) /* the 2-level ABI on a 64-bit guest: 4096 ports */

int pv_evtchn_alloc_unbound(uint32_t remote_domid, uint32_t *port)
{
	struct evtchn_alloc_unbound op = { .dom = DOMID_SELF, .remote_dom = (domid_t)remote_domid };
	long rc = pv_hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, (unsigned long)&op, 0, 0, 0);

	if (rc)
		return (int)rc;
	if (op.port >= NR_PORTS) {
		(void)pv_evtchn_close(op.port); /* beyond the 2-level bitmap we watch */
		return -VP_ENOSPC;
	}
	*port = op.port;
	return 0;
}

int pv_evtchn_send(uint32_t port)
{
	struct evtchn_send op = { .port = port };

	return (int)pv_hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&op, 0, 0, 0);
}

int pv_evtchn_close(uint32_t port)
{
	struct evtchn_close op = { .port = port };
	int rc = (int)pv_hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_close, (unsigned long)&op, 0, 0, 0);

	if (port < NR_PORTS)
		(void)pv_evtchn_consume(port); /* a later owner of the number starts clean */
	return rc;
}

int pv_evtchn_pending(uint32_t port)
{
	xen_ulong_t w;

	if (port >= NR_PORTS)
		return 0;
	w = __atomic_load_n(&pv_shared->evtchn_pending[port / BITS], __ATOMIC_ACQUIRE);
	return (int)((w >> (port % BITS)) & 1);
}

int pv_evtchn_consume(uint32_t port)
{
	xen_ulong_t bit, old;

	if (port >= NR_PORTS)
		return 0;
	bit = (xen_ulong_t)1 << (port % BITS);
	/* pairs with Xen's set_bit when it raises the event: what the peer wrote before notifying is visible after */
	old = __atomic_fetch_and(&pv_shared->evtchn_pending[port / BITS], ~bit, __ATOMIC_SEQ_CST);
	return (old & bit) != 0;
}

int pv_poll(const uint32_t *ports, uint32_t n, uint64_t deadline_ns)
{
	struct sched_poll p = { .nr_ports = n, .timeout = deadline_ns == UINT64_MAX ? 0 : (deadline_ns ? deadline_ns : 1) };

	if (n > 128)
		return -VP_EINVAL;
	set_xen_guest_handle(p.ports, (evtchn_port_t *)(uintptr_t)ports);
	return (int)pv_hypercall(__HYPERVISOR_sched_op, SCHEDOP_poll, (unsigned long)&p, 0, 0, 0);
}

int pv_evtchn_wait_direct(uint32_t port, int timeout_ms)
{
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : pv_time_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		if (pv_evtchn_consume(port))
			return 1;
		if (timeout_ms == 0 || (deadline != UINT64_MAX && pv_time_ns() >= deadline))
			return 0;
		(void)pv_poll(&port, 1, deadline);
	}
}
