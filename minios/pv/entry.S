/* SPDX-License-Identifier: MIT */
/*
 * entry.S - how Xen enters the minios PV kernel (x86_64): the ELF notes the
 * domain builder reads, the entry point, the hypercall page, the one
 * hypercall trampoline every C wrapper goes through, and the exception
 * entry stubs. Written from the Xen public ABI (xen/elfnote.h, xen.h,
 * arch-x86/xen-x86_64.h).
 *
 * Entry state (xen.h "start of day"): rsi = start_info (virtual), rsp = a
 * small stack set up by the builder, the image mapped 1:1 from VIRT_BASE 0
 * (VA = pfn * 4096), event upcalls masked. _start sits alone in page 0,
 * which boot.c unmaps once C runs, so that NULL dereferences fault.
 */
#include <xen/elfnote.h>

#define NOTE(type, desc_directive, value)	\
	.pushsection .note.Xen, "a", @note;	\
	.balign 4;				\
	.long 4;				\
	.long 2f - 1f;				\
	.long type;				\
	.asciz "Xen";				\
	.balign 4;				\
1:	desc_directive value;			\
2:	.balign 4;				\
	.popsection

NOTE(XEN_ELFNOTE_GUEST_OS, .asciz, "vpio-minios")
NOTE(XEN_ELFNOTE_GUEST_VERSION, .asciz, "0.1")
NOTE(XEN_ELFNOTE_XEN_VERSION, .asciz, "xen-3.0")
NOTE(XEN_ELFNOTE_LOADER, .asciz, "generic")
NOTE(XEN_ELFNOTE_VIRT_BASE, .quad, 0)
NOTE(XEN_ELFNOTE_PADDR_OFFSET, .quad, 0)
NOTE(XEN_ELFNOTE_ENTRY, .quad, _start)
NOTE(XEN_ELFNOTE_HYPERCALL_PAGE, .quad, hypercall_page)

	.section .text.entry, "ax", @progbits
	.globl _start
_start:
	cld
	leaq	pv_boot_stack_top(%rip), %rsp
	movq	%rsi, %rdi		/* start_info */
	call	pv_boot			/* never returns */
1:	hlt
	jmp	1b

	/* Xen writes one 32-byte entry stub per hypercall number here. */
	.section .text.hypercall_page, "ax", @progbits
	.balign 4096
	.globl hypercall_page
hypercall_page:
	.fill 4096, 1, 0xcc

	.text
/*
 * long pv_hypercall(unsigned long nr, unsigned long a1, ..., unsigned long a5)
 * The SysV call puts nr, a1..a5 in rdi, rsi, rdx, rcx, r8, r9; Xen wants
 * a1..a5 in rdi, rsi, rdx, r10, r8 and the stub at hypercall_page + nr * 32.
 * Xen clobbers rcx and r11 (caller-saved anyway); the result is in rax.
 */
	.globl pv_hypercall
pv_hypercall:
	shlq	$5, %rdi
	leaq	hypercall_page(%rip), %rax
	addq	%rdi, %rax
	movq	%rsi, %rdi
	movq	%rdx, %rsi
	movq	%rcx, %rdx
	movq	%r8, %r10
	movq	%r9, %r8
	call	*%rax
	ret

/*
 * Exception entry. Xen bounces a trap onto the current (kernel) stack as
 * [rsp] rcx, r11, (error code,) rip, cs, rflags, rsp, ss. Every trap here
 * is fatal: pv_trap(vector, frame, has_error_code) prints and crashes the
 * domain, so nothing is saved and nothing returns.
 */
.macro TRAP vec, err
	.globl pv_trap_\vec
pv_trap_\vec:
	movq	%rsp, %rsi
	movq	$\vec, %rdi
	movq	$\err, %rdx
	andq	$-16, %rsp
	call	pv_trap
	ud2
.endm

TRAP 0, 0
TRAP 1, 0
TRAP 3, 0
TRAP 4, 0
TRAP 5, 0
TRAP 6, 0
TRAP 7, 0
TRAP 8, 1
TRAP 9, 0
TRAP 10, 1
TRAP 11, 1
TRAP 12, 1
TRAP 13, 1
TRAP 14, 1
TRAP 16, 0
TRAP 17, 1
TRAP 18, 0
TRAP 19, 0

/* Event upcalls stay masked; the callbacks exist only to report a surprise. */
	.globl pv_upcall_entry, pv_failsafe_entry
pv_upcall_entry:
	movq	%rsp, %rsi
	movq	$256, %rdi
	xorl	%edx, %edx
	andq	$-16, %rsp
	call	pv_trap
	ud2
pv_failsafe_entry:
	movq	%rsp, %rsi
	movq	$257, %rdi
	xorl	%edx, %edx
	andq	$-16, %rsp
	call	pv_trap
	ud2

/* The boot stack: pv_main and the scheduler loop keep running on it. */
	.bss
	.balign 16
	.globl pv_boot_stack, pv_boot_stack_top
pv_boot_stack:
	.skip 65536
pv_boot_stack_top:

	.section .note.GNU-stack, "", @progbits
