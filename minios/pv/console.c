/* SPDX-License-Identifier: MIT */
/*
 * console.c - output on the PV console ring (xen/io/console.h), the page
 * and channel of start_info->console.domU. We produce into out[] and
 * advance out_prod; xenconsoled in dom0 consumes and advances out_cons.
 * Input (in[]) is ignored. A full ring waits on the console channel (the
 * daemon notifies when it consumed); a daemon that makes no progress for
 * PV_CONSOLE_STALL_NS loses the rest of the output rather than hanging the
 * guest. Single vCPU, no upcalls: no locking.
 */
#include "pv.h"

#include "vpio/compiler.h"

#define PV_CONSOLE_STALL_NS 2000000000ull

static struct xencons_interface *cons;
static uint32_t cons_port;

void pv_console_init(void)
{
	if (!pv_start_info->console.domU.mfn)
		return;
	cons = pv_mfn_to_va(pv_start_info->console.domU.mfn);
	cons_port = pv_start_info->console.domU.evtchn;
}

void pv_console_write(const char *s, size_t n)
{
	uint64_t stall_since = 0;

	if (!cons)
		return;
	while (n) {
		XENCONS_RING_IDX prod = cons->out_prod; /* ours */
		XENCONS_RING_IDX c = VP_READ_ONCE(cons->out_cons);
		uint32_t space, k;

		vp_mb(); /* read out_cons before reusing the slots it frees; pairs with the daemon's update */
		space = (uint32_t)sizeof(cons->out) - (uint32_t)(prod - c);
		if (space > sizeof(cons->out)) {
			cons = NULL; /* the daemon wrote nonsense: stop using the ring */
			return;
		}
		if (!space) {
			uint64_t now = pv_time_ns();

			(void)pv_evtchn_send(cons_port);
			if (!stall_since)
				stall_since = now;
			else if (now - stall_since > PV_CONSOLE_STALL_NS)
				return;
			(void)pv_poll(&cons_port, 1, now + 10000000ull);
			(void)pv_evtchn_consume(cons_port);
			continue;
		}
		stall_since = 0;
		for (k = 0; k < space && k < n; k++)
			cons->out[MASK_XENCONS_IDX(prod + k, cons->out)] = s[k];
		/* the bytes before the index; pairs with the daemon's read barrier after reading out_prod */
		vp_store_release(&cons->out_prod, prod + k);
		s += k;
		n -= k;
	}
	(void)pv_evtchn_send(cons_port);
}

void pv_puts(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	pv_console_write(s, n);
}

void pv_put_u64(uint64_t v)
{
	char b[21];
	int i = 20;

	b[i] = 0;
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	pv_puts(b + i);
}

void pv_put_hex(uint64_t v)
{
	char b[19];
	int i;

	b[0] = '0';
	b[1] = 'x';
	for (i = 0; i < 16; i++)
		b[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 0xf];
	b[18] = 0;
	pv_puts(b);
}

void pv_log(const char *msg)
{
	pv_puts("minios: ");
	pv_puts(msg);
	pv_puts("\n");
}
