// SPDX-License-Identifier: MIT
//
// grant-map-touch - time to map a granted 1024-page region and touch each
// page (read one byte per page), best of RUNS:
//   grant-map-touch RUNS → "map1_us=.. map4_us=.. anon_us=.."
// map1: one 1024-page grant, vgnt_host_map (verify + mmap) + touch.
// map4: four 256-page grants into one reserved range (what the guest library
//       does: PROT_NONE reserve, verify, MAP_FIXED each) + touch.
// anon: the baseline, an anonymous 1024-page mmap + touch (page faults only).
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vpio/grant.h"
#include "vpio/grant_share.h"

#define PAGES 1024

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static unsigned touch(const volatile unsigned char *p, size_t page)
{
	unsigned sum = 0;

	for (size_t i = 0; i < PAGES; i++)
		sum += p[i * page];
	return sum;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 20;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct vgnt_region one, four[4];
	double best1 = 1e18, best4 = 1e18, besta = 1e18;
	unsigned sink = 0;

	if (vgnt_host_share(PAGES * page, VGNT_ACCESS_RW, &one) < 0)
		return 1;
	for (int i = 0; i < 4; i++)
		if (vgnt_host_share(PAGES / 4 * page, VGNT_ACCESS_RW, &four[i]) < 0)
			return 1;
	for (int r = 0; r < runs; r++) {
		struct vgnt_map m;
		double t0 = now_us();
		if (vgnt_host_map(one.fd, PAGES * page, VGNT_ACCESS_RW, &m) < 0)
			return 1;
		sink += touch(m.addr, page);
		double t1 = now_us();
		vgnt_host_unmap(&m);
		best1 = t1 - t0 < best1 ? t1 - t0 : best1;

		t0 = now_us();
		char *base = mmap(NULL, PAGES * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		for (int i = 0; i < 4; i++) {
			if (vgnt_host_verify(four[i].fd, PAGES / 4 * page, VGNT_ACCESS_RW) < 0 ||
			    mmap(base + (size_t)i * PAGES / 4 * page, PAGES / 4 * page, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, four[i].fd, 0) == MAP_FAILED)
				return 1;
		}
		sink += touch((unsigned char *)base, page);
		t1 = now_us();
		munmap(base, PAGES * page);
		best4 = t1 - t0 < best4 ? t1 - t0 : best4;

		t0 = now_us();
		unsigned char *a = mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		sink += touch(a, page);
		t1 = now_us();
		munmap(a, PAGES * page);
		besta = t1 - t0 < besta ? t1 - t0 : besta;
	}
	printf("map1_us=%.1f\nmap4_us=%.1f\nanon_us=%.1f\nsink=%u\n", best1, best4, besta, sink);
	return 0;
}
