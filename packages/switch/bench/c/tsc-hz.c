// SPDX-License-Identifier: MIT
// tsc-hz - prints the TSC frequency (ticks per second against CLOCK_MONOTONIC over 200 ms).

#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void)
{
	double t0 = now(), t1;
	uint64_t c0 = __rdtsc(), c1;

	do {
		t1 = now();
	} while (t1 - t0 < 0.2);
	c1 = __rdtsc();
	printf("tsc_hz=%.0f\n", (double)(c1 - c0) / (t1 - t0));
	return 0;
}
