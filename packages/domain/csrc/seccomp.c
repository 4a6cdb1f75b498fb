// SPDX-License-Identifier: MIT
//
// seccomp.c - the tenant's seccomp filter, classic BPF written by hand (no
// libseccomp). Layout of the program:
//
//   1. arch check: any other audit arch (e.g. i386 via int 0x80 on x86_64)
//      kills the process, so numbers below cannot be reinterpreted;
//   2. x86_64 only: syscall numbers with the x32 bit set get EPERM;
//   3. clone with any CLONE_NEW* flag gets EPERM (flags are the low word of
//      args[0]); clone3 gets ENOSYS, since its flags live in memory BPF cannot
//      read, and libc then falls back to clone;
//   4. ioctl with a request of the ioctl deny list gets EPERM;
//   5. every syscall of the deny list gets EPERM;
//   6. a wire tenant (SC_WIRE) also gets EPERM for bind(): the socket the
//      launcher bound for it (wire.c) lives in the host's network namespace,
//      and an AF_PACKET socket can be re-bound to any interface there with no
//      capability check; nothing else of such a tenant needs bind();
//      an AF_PACKET wire tenant (SC_WIRE_PACKET) also gets EPERM for every
//      send that could name a device: a packet socket sends to whatever
//      sll_ifindex a destination names, in the socket's (the host's)
//      namespace, whatever it is bound to (measured: SO_BINDTODEVICE does
//      not stop it), and BPF cannot read a msghdr's msg_name. So sendto()
//      only with dest_addr NULL, sendmmsg() never, and sendmsg() only on
//      fd 3, the control socket (the guest library's one sendmsg, which
//      passes descriptors), which therefore must stay fd 3: close(3),
//      close_range() from 3 or below, dup2()/dup3() onto 3, F_SETFD on 3
//      and FIOCLEX are refused too, so no other socket can take its number.
//      What remains sends only through the bound interface: send(),
//      sendto(fd, buf, len, flags, NULL, 0), write(), and the
//      PACKET_TX_RING flushed by send(fd, NULL, 0, flags);
//      a memif wire tenant (--wire-memif) gets SC_WIRE only: it accept4()s
//      on its listening socket, recvmsg()/sendmsg()s with SCM_RIGHTS and
//      mmap()s received memfds, none of which these rules touch;
//   7. everything else is allowed.
//
// The deny list: what lets a process reach another one's memory or the
// kernel's larger attack surfaces (ptrace, process_vm_*, kcmp, io_uring,
// bpf, perf_event_open, userfaultfd), leave its namespaces (unshare, setns)
// or change its mounts and keys (mount API, pivot_root, keyrings).

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launch.h"

#if defined(__x86_64__)
#define SC_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SC_ARCH AUDIT_ARCH_AARCH64
#else
#error "vpio-launch: add the audit arch of this machine to seccomp.c"
#endif

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

#define SC_NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | 0x00000080 /* CLONE_NEWTIME */)

/* A table, not code: a syscall this libc's headers lack is left out. */
static const long denied[] = {
	SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev, SYS_kcmp,
	SYS_bpf, SYS_perf_event_open, SYS_userfaultfd,
	SYS_unshare, SYS_setns,
	SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot,
	SYS_keyctl, SYS_add_key, SYS_request_key,
	SYS_open_by_handle_at, SYS_name_to_handle_at,
	SYS_kexec_load, SYS_init_module, SYS_finit_module, SYS_delete_module,
	SYS_swapon, SYS_swapoff, SYS_acct, SYS_quotactl, SYS_reboot,
#ifdef SYS_io_uring_setup
	SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register,
#endif
#ifdef SYS_fsopen
	SYS_open_tree, SYS_move_mount, SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick,
#endif
#ifdef SYS_mount_setattr
	SYS_mount_setattr,
#endif
#ifdef SYS_process_madvise
	SYS_process_madvise,
#endif
#ifdef SYS_pidfd_getfd
	SYS_pidfd_getfd,
#endif
};

#define N_DENIED (sizeof(denied) / sizeof(denied[0]))

/*
 * ioctl requests the tun driver serves to whoever holds an attached TAP
 * descriptor, without a capability check: a Linux guest (vpio-launch --tap)
 * must not make its device outlive it, hand it to another owner or group,
 * change its link type, or change the MAC its launcher set (the switch's MAC
 * lock on the vif is the enforcement point; this keeps the TAP honest too).
 * TUNSETIFF and TUNSETQUEUE are refused too: the launcher attaches every
 * queue the guest gets (--tap-queues) and the guest needs no other. The tun
 * driver lets anyone in the namespace attach one more queue to an existing
 * IFF_MULTI_QUEUE device with no owner or group set (TUNSETIFF on a fresh
 * /dev/net/tun descriptor, no capability needed; measured), and detach or
 * re-attach its own (TUNSETQUEUE): denied, the queue set stays what the
 * launcher made. Every other use of the request numbers needs CAP_NET_ADMIN
 * anyway.
 */
static const uint32_t denied_ioctls[] = {
	TUNSETPERSIST, TUNSETOWNER, TUNSETGROUP, TUNSETLINK, SIOCSIFHWADDR, TUNSETIFF, TUNSETQUEUE,
};

#define N_DENIED_IOCTLS (sizeof(denied_ioctls) / sizeof(denied_ioctls[0]))

unsigned sc_denied_count(void)
{
	return (unsigned)N_DENIED;
}

int sc_no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

#define LD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define LD_ARG(i, hi) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[i]) + ((hi) ? 4 : 0))
#define JEQ(k, jt, jf) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (jt), (jf))
#define ALLOW RET(SECCOMP_RET_ALLOW)
#define DENY RET(SECCOMP_RET_ERRNO | EPERM)

#define CTRL_FD 3 /* vpio-launch's control socket (launcher.c) */
#define SC_WIRE_PACKET_RULES 41

/*
 * The AF_PACKET wire tenant's rules (step 6 above), entered with A = the
 * syscall number; every block either falls through to the next (another
 * syscall) or returns. Returns the number of instructions written
 * (SC_WIRE_PACKET_RULES). The fd of each call is the low word of its arg.
 */
static unsigned wire_packet_rules(struct sock_filter *p)
{
	unsigned n = 0;

	p[n++] = (struct sock_filter)JEQ(SYS_sendmmsg, 0, 1);
	p[n++] = (struct sock_filter)DENY;
	/* sendto: only with dest_addr (args[4], both halves) NULL */
	p[n++] = (struct sock_filter)JEQ(SYS_sendto, 0, 6);
	p[n++] = (struct sock_filter)LD_ARG(4, 0);
	p[n++] = (struct sock_filter)JEQ(0, 0, 2);
	p[n++] = (struct sock_filter)LD_ARG(4, 1);
	p[n++] = (struct sock_filter)JEQ(0, 1, 0);
	p[n++] = (struct sock_filter)DENY;
	p[n++] = (struct sock_filter)ALLOW;
	/* sendmsg: only on the control socket */
	p[n++] = (struct sock_filter)JEQ(SYS_sendmsg, 0, 4);
	p[n++] = (struct sock_filter)LD_ARG(0, 0);
	p[n++] = (struct sock_filter)JEQ(CTRL_FD, 0, 1);
	p[n++] = (struct sock_filter)ALLOW;
	p[n++] = (struct sock_filter)DENY;
	/* close(3), dup2(x, 3), dup3(x, 3, f): the control socket keeps fd 3 */
	p[n++] = (struct sock_filter)JEQ(SYS_close, 0, 4);
	p[n++] = (struct sock_filter)LD_ARG(0, 0);
	p[n++] = (struct sock_filter)JEQ(CTRL_FD, 0, 1);
	p[n++] = (struct sock_filter)DENY;
	p[n++] = (struct sock_filter)ALLOW;
#ifdef SYS_dup2
	p[n++] = (struct sock_filter)JEQ(SYS_dup2, 0, 4);
#else
	p[n++] = (struct sock_filter)JEQ(0xffffffffu, 0, 4);
#endif
	p[n++] = (struct sock_filter)LD_ARG(1, 0);
	p[n++] = (struct sock_filter)JEQ(CTRL_FD, 0, 1);
	p[n++] = (struct sock_filter)DENY;
	p[n++] = (struct sock_filter)ALLOW;
	p[n++] = (struct sock_filter)JEQ(SYS_dup3, 0, 4);
	p[n++] = (struct sock_filter)LD_ARG(1, 0);
	p[n++] = (struct sock_filter)JEQ(CTRL_FD, 0, 1);
	p[n++] = (struct sock_filter)DENY;
	p[n++] = (struct sock_filter)ALLOW;
	/* fcntl(3, F_SETFD, ...): no close-on-exec on it */
	p[n++] = (struct sock_filter)JEQ(SYS_fcntl, 0, 6);
	p[n++] = (struct sock_filter)LD_ARG(0, 0);
	p[n++] = (struct sock_filter)JEQ(CTRL_FD, 0, 3);
	p[n++] = (struct sock_filter)LD_ARG(1, 0);
	p[n++] = (struct sock_filter)JEQ(F_SETFD, 0, 1);
	p[n++] = (struct sock_filter)DENY;
	p[n++] = (struct sock_filter)ALLOW;
	/* close_range(first, ...): only from above fd 3 */
#ifdef SYS_close_range
	p[n++] = (struct sock_filter)JEQ(SYS_close_range, 0, 4);
#else
	p[n++] = (struct sock_filter)JEQ(436 /* close_range, every arch since 5.9 */, 0, 4);
#endif
	p[n++] = (struct sock_filter)LD_ARG(0, 0);
	p[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, CTRL_FD, 0, 1);
	p[n++] = (struct sock_filter)ALLOW;
	p[n++] = (struct sock_filter)DENY;
	return n;
}

int sc_install(unsigned flags)
{
	/* prologue (arch, x32, clone, clone3) + 2 per denied ioctl (FIOCLEX too) and syscall + the wire rules + allow */
	struct sock_filter prog[16 + 3 + 2 * (N_DENIED_IOCTLS + 1) + 2 * N_DENIED + 2 + SC_WIRE_PACKET_RULES];
	unsigned n_ioctls = N_DENIED_IOCTLS + ((flags & SC_WIRE_PACKET) ? 1 : 0);
	unsigned n = 0;

	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SC_ARCH, 1, 0);
	prog[n++] = (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS);
	prog[n++] = (struct sock_filter)LD_NR;
#if defined(__x86_64__)
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1);
	prog[n++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | EPERM);
#endif
	/* clone: low 32 bits of args[0] (little-endian) hold the CLONE_NEW* flags */
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 4);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SC_NS_FLAGS, 0, 1);
	prog[n++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | EPERM);
	prog[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
#ifdef SYS_clone3
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1);
	prog[n++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | ENOSYS);
#endif
	/* ioctl: the request is the low 32 bits of args[1] */
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, 2 + 2 * n_ioctls);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]));
	for (unsigned i = 0; i < n_ioctls; i++) {
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, i < N_DENIED_IOCTLS ? denied_ioctls[i] : (uint32_t)FIOCLEX, 0, 1);
		prog[n++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | EPERM);
	}
	prog[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
	for (unsigned i = 0; i < N_DENIED; i++) {
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied[i], 0, 1);
		prog[n++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | EPERM);
	}
	if (flags & (SC_WIRE | SC_WIRE_PACKET)) {
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_bind, 0, 1);
		prog[n++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | EPERM);
	}
	if (flags & SC_WIRE_PACKET && wire_packet_rules(prog + n) != SC_WIRE_PACKET_RULES)
		return -EINVAL; /* the table above and its count disagree: a bug, never a partial filter */
	if (flags & SC_WIRE_PACKET)
		n += SC_WIRE_PACKET_RULES;
	prog[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);

	struct sock_fprog fprog = { .len = (unsigned short)n, .filter = prog };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0) {
		if (errno != ENOSYS)
			return -errno;
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0)
			return -errno;
	}
	return 0;
}
