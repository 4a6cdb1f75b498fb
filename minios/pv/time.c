/* SPDX-License-Identifier: MIT */
/*
 * time.c - Xen system time (ns since the host booted, monotonic) from
 * vCPU 0's pvclock in shared_info: system_time at tsc_timestamp plus the
 * TSC delta scaled by tsc_to_system_mul / 2^32 after tsc_shift. Xen
 * updates the record with an odd version while it writes: read until the
 * version is even and unchanged. SCHEDOP_poll timeouts use the same clock.
 */
#include "pv.h"

#include "vpio/compiler.h"

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

uint64_t pv_time_ns(void)
{
	const volatile struct vcpu_time_info *t = &pv_shared->vcpu_info[0].time;
	uint32_t v;
	uint64_t ns;

	do {
		uint64_t delta;
		uint32_t mul;
		int8_t shift;

		v = t->version;
		__atomic_thread_fence(__ATOMIC_ACQUIRE); /* the fields after the version; pairs with Xen's update */
		delta = rdtsc() - t->tsc_timestamp;
		mul = t->tsc_to_system_mul;
		shift = t->tsc_shift;
		if (shift >= 0)
			delta <<= shift;
		else
			delta >>= -shift;
		ns = t->system_time + (uint64_t)(((unsigned __int128)delta * mul) >> 32);
		__atomic_thread_fence(__ATOMIC_ACQUIRE); /* the fields before the re-read of the version */
	} while ((v & 1) || v != t->version);
	return ns;
}
