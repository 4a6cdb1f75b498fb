/* SPDX-License-Identifier: MIT */
/*
 * switch.S - the context switch of the PV scheduler (sched_pv.c).
 *
 * void mo_plat_ctx_switch(mo_ctx_t *save, mo_ctx_t *load)   (src/sched_plat.h)
 *   pushes the SysV callee-saved registers (rbp, rbx, r12-r15) on the
 *   current stack, stores rsp in save->rsp, loads load->rsp, pops the same
 *   registers from there and returns on the loaded stack. Everything else is
 *   caller-saved, and there is no FPU/SSE state (the build uses none).
 *
 * mo_ctx_start: where a new thread's first switch "returns" to;
 *   sched_pv.c (mo_plat_ctx_init) leaves the thread in r12 of the initial
 *   frame; mo_thread_main (sched_pv.c) runs it.
 */
	.text
	.globl mo_plat_ctx_switch, mo_ctx_start
mo_plat_ctx_switch:
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, (%rdi)
	movq	(%rsi), %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret

mo_ctx_start:
	movq	%r12, %rdi
	andq	$-16, %rsp
	call	mo_thread_main	/* never returns */
	ud2

	.section .note.GNU-stack, "", @progbits
