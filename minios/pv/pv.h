/* SPDX-License-Identifier: MIT */
/*
 * pv.h - the Xen PV platform layer of minios (x86_64): boot state, the
 * hypercall trampoline, console, clock, event channels, page tables and the
 * grant window. Everything here runs on one vCPU with event upcalls masked:
 * nothing is interrupt-driven, waiting is SCHEDOP_poll on event-channel
 * ports with an absolute Xen system-time deadline, and pending bits are
 * consumed by the waiter itself (atomic test-and-clear).
 *
 * Files: entry.S (ELF notes, entry, hypercall page, trap stubs), boot.c
 * (start of day), console.c, traps.c, time.c, evtchn.c, mm.c (page-table
 * walk, L1 tables for the grant window), gnttab.c (nf_grant_ops),
 * nf_evtchn.c (nf_evtchn_ops), switch.S + sched_pv.c (the scheduler's
 * platform half, src/sched_plat.h; the core is src/sched.c), xs_pv.c
 * (xenstore over the xenbus ring), main_pv.c (the guest: config from
 * xenstore, the shutdown watch; the rest is src/glue.c); pv_nf.h declares
 * what plugs into the shared cores.
 *
 * Return values: 0 or a negative errno (Xen's numbering, the same as
 * Linux's and VP_E*), or a documented count.
 */
#ifndef MINIOS_PV_H
#define MINIOS_PV_H

#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/sched.h>
#include <xen/io/console.h>

#define PV_PAGE 4096ul
#define PV_NORETURN __attribute__((noreturn))

/* Boot state (boot.c). start_info is the builder's page; shared_info is mapped at a reserved page. */
extern start_info_t *pv_start_info;
extern shared_info_t *pv_shared;
/* Xen system time when pv_boot() had shared_info (boot-to-ready figures). */
extern uint64_t pv_boot_ns;
/* The image's end (linker script): heap and page-table pages lie below, the grant window far above. */
extern char _text[], _etext[], _end[];

/* The hypercall trampoline (entry.S): Xen's return value (0 or -errno, or op-specific). */
long pv_hypercall(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3, unsigned long a4,
		  unsigned long a5);

/* ---- console (console.c): the xencons ring of start_info->console.domU ---- */
void pv_console_init(void);
/* Writes all n bytes (waits on the console channel while the ring is full). */
void pv_console_write(const char *s, size_t n);
void pv_puts(const char *s); /* no newline added */
void pv_put_u64(uint64_t v);
void pv_put_hex(uint64_t v);
/* A line on the console: "minios: " + msg + "\n" (no formatting, usable anywhere). */
void pv_log(const char *msg);

/* ---- traps and shutdown (traps.c) ---- */
void pv_traps_init(void);
/* SCHEDOP_shutdown; never returns (loops on the hypercall if Xen refuses). */
PV_NORETURN void pv_shutdown(unsigned int reason);
/* Prints "minios: panic: msg" and crashes the domain (on_crash decides what stays). */
PV_NORETURN void pv_panic(const char *msg);

/* ---- clock (time.c): Xen system time of vCPU 0 (ns since the host booted) ---- */
uint64_t pv_time_ns(void);

/* ---- event channels (evtchn.c) ---- */
int pv_evtchn_alloc_unbound(uint32_t remote_domid, uint32_t *port);
int pv_evtchn_send(uint32_t port);
int pv_evtchn_close(uint32_t port);
/* The pending bit of port, without clearing it: 1 or 0. */
int pv_evtchn_pending(uint32_t port);
/* Atomically clears port's pending bit: 1 if it was set, else 0. */
int pv_evtchn_consume(uint32_t port);
/*
 * SCHEDOP_poll: blocks until one of ports[0..n) is pending (n <= 128; n 0:
 * only the deadline) or Xen system time reaches deadline_ns (UINT64_MAX:
 * none). Consumes nothing. 0, or Xen's -errno (-VP_EINVAL: n > 128).
 */
int pv_poll(const uint32_t *ports, uint32_t n, uint64_t deadline_ns);
/*
 * Waits for port to be pending and consumes it, polling the hypervisor
 * directly (no scheduler): 1 consumed, 0 timed out (timeout_ms -1: none).
 */
int pv_evtchn_wait_direct(uint32_t port, int timeout_ms);

/* ---- page tables (mm.c) ---- */
/* pfn -> mfn (start_info->mfn_list) and mfn -> pfn (the M2P table Xen maps read-only). */
uint64_t pv_pfn_to_mfn(uint64_t pfn);
uint64_t pv_mfn_to_pfn(uint64_t mfn);
/* The virtual address of a machine frame of this domain (VIRT_BASE 0: VA = pfn * 4096). */
void *pv_mfn_to_va(uint64_t mfn);
/* update_va_mapping(va, pte, UVMF_INVLPG | UVMF_LOCAL); pte 0 unmaps. 0 or -errno. */
int pv_set_pte(uintptr_t va, uint64_t pte);
/*
 * Makes sure L1 tables exist for [va, va + bytes) (inside the L2 table that
 * maps the image: VA < 1 GiB): each missing one is a zeroed heap page,
 * remapped read-only and hooked into the L2 entry with MMU_NORMAL_PT_UPDATE.
 * 0, -VP_ENOMEM (no heap page), -VP_EINVAL (outside the image's L2),
 * -VP_EEXIST (an L1 there that mm.c did not build: the builder's mappings
 * reach into the range), or -errno.
 */
int pv_mm_ensure_l1(uintptr_t va, uint64_t bytes);
/* L1 tables built so far (each one heap page, never given back). */
uint32_t pv_mm_l1_pages(void);

/*
 * Waits until port is pending and consumes it: from a thread of s, by
 * blocking that thread (mo_wait); otherwise (s NULL or not running) with
 * SCHEDOP_poll directly. 1 consumed, 0 timed out (timeout_ms -1: none).
 * sched_pv.c.
 */
struct mo_sched;
int mo_pv_port_wait(struct mo_sched *s, uint32_t port, int timeout_ms);

/* Entry of the guest proper (main_pv.c), called by pv_boot once the platform is up. */
PV_NORETURN void pv_main(void);

#endif /* MINIOS_PV_H */
