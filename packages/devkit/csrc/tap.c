/* SPDX-License-Identifier: MIT */
/* The TAP harness of vpio's C test programs; see vpio/tap.h. */
#include "vpio/tap.h"

#include <dirent.h>

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

int tap_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}
