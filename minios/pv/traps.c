/* SPDX-License-Identifier: MIT */
/*
 * traps.c - the virtual IDT (HYPERVISOR_set_trap_table) and shutdown.
 * Every exception is fatal: the handler prints the vector, rip, error code,
 * cr2 (page faults: Xen stores it in vcpu_info.arch.cr2) and rsp on the
 * console, then SCHEDOP_shutdown(SHUTDOWN_crash). The event and failsafe
 * callbacks are registered only to report a surprise the same way: event
 * upcalls stay masked (boot.c) and nothing reloads segments.
 */
#include "pv.h"

#include <xen/callback.h>

#include "mo_heap.h"

#define TRAPS(X)                                                                                                \
	X(0, "divide error") X(1, "debug") X(3, "int3") X(4, "overflow") X(5, "bounds") X(6, "invalid opcode") \
	X(7, "device not available (FPU/SSE used)") X(8, "double fault") X(9, "coprocessor overrun")          \
	X(10, "invalid TSS") X(11, "segment not present") X(12, "stack fault") X(13, "general protection")    \
	X(14, "page fault") X(16, "x87 error") X(17, "alignment check") X(18, "machine check")                \
	X(19, "SIMD error")

#define DECL(v, name) extern char pv_trap_##v[];
TRAPS(DECL)
#undef DECL
extern char pv_upcall_entry[], pv_failsafe_entry[];

static const char *trap_name(unsigned long vec)
{
	switch (vec) {
#define NAME(v, name) \
	case v:       \
		return name;
		TRAPS(NAME)
#undef NAME
	case 256:
		return "unexpected event upcall";
	case 257:
		return "failsafe callback";
	default:
		return "?";
	}
}

void pv_traps_init(void)
{
	static trap_info_t table[] = {
#define ENTRY(v, name) { .vector = v, .flags = (v == 3 ? 3 : 0), .cs = FLAT_KERNEL_CS, .address = (unsigned long)pv_trap_##v },
		TRAPS(ENTRY)
#undef ENTRY
		{ 0, 0, 0, 0 },
	};
	static struct callback_register cbs[] = {
		{ .type = CALLBACKTYPE_event, .address = (unsigned long)pv_upcall_entry },
		{ .type = CALLBACKTYPE_failsafe, .address = (unsigned long)pv_failsafe_entry },
	};
	unsigned int i;

	if (pv_hypercall(__HYPERVISOR_set_trap_table, (unsigned long)table, 0, 0, 0, 0))
		pv_panic("set_trap_table failed");
	for (i = 0; i < sizeof(cbs) / sizeof(cbs[0]); i++)
		if (pv_hypercall(__HYPERVISOR_callback_op, CALLBACKOP_register, (unsigned long)&cbs[i], 0, 0, 0))
			pv_panic("callback_op register failed");
}

void pv_trap(unsigned long vec, const unsigned long *frame, unsigned long has_err);

void pv_trap(unsigned long vec, const unsigned long *frame, unsigned long has_err)
{
	static int nested;
	const unsigned long *f = frame + 2; /* above Xen's saved rcx, r11 */
	unsigned long err = has_err ? *f++ : 0;

	if (nested++)
		pv_shutdown(SHUTDOWN_crash); /* faulted while reporting a fault */
	pv_puts("minios: trap ");
	pv_put_u64(vec);
	pv_puts(" (");
	pv_puts(trap_name(vec));
	pv_puts(") rip=");
	pv_put_hex(f[0]);
	pv_puts(" err=");
	pv_put_hex(err);
	pv_puts(" cr2=");
	pv_put_hex(pv_shared ? pv_shared->vcpu_info[0].arch.cr2 : 0);
	pv_puts(" rsp=");
	pv_put_hex(f[3]);
	pv_puts("\n{\"event\":\"error\",\"step\":\"trap\",\"rc\":-14}\n");
	pv_shutdown(SHUTDOWN_crash);
}

void pv_shutdown(unsigned int reason)
{
	struct sched_shutdown sd = { .reason = reason };

	for (;;)
		(void)pv_hypercall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, (unsigned long)&sd, 0, 0, 0);
}

void pv_panic(const char *msg)
{
	pv_puts("minios: panic: ");
	pv_puts(msg);
	pv_puts("\n");
	pv_shutdown(SHUTDOWN_crash);
}

/* The libc's hook (mo_heap.h): heap corruption. */
void mo_libc_panic(const char *msg)
{
	pv_panic(msg);
}
