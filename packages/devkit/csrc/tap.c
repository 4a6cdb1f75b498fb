/* SPDX-License-Identifier: MIT */
/* The TAP harness of vpio's C test programs; see vpio/tap.h. */
#include "vpio/tap.h"

int tap_case_failed;
static int n_cases, n_failed;

void tap_run(const char *name, void (*fn)(void))
{
	tap_case_failed = 0;
	fn();
	n_cases++;
	if (tap_case_failed)
		n_failed++;
	printf("%s %d - %s\n", tap_case_failed ? "not ok" : "ok", n_cases, name);
	fflush(stdout);
}

int tap_done(void)
{
	printf("1..%d\n", n_cases);
	fflush(stdout);
	return n_failed ? 1 : 0;
}
