/* SPDX-License-Identifier: MIT */
/*
 * vpio/tap.h - the TAP harness of vpio's C test programs (test builds only).
 *
 *   static void t_something(void) { CHECK_EQ(f(1), 2); }
 *   int main(void) { tap_run("f doubles", t_something); return tap_done(); }
 *
 * Each case prints "ok N - name" or "not ok N - name", failed checks print
 * "# file:line: ..." diagnostics before it, tap_done() prints the plan
 * "1..N" last and returns the exit status (1 if any case failed).
 * @vpio/devkit/c-tests turns every such line into its own vitest case.
 * Link csrc/tap.c into the program.
 */
#ifndef VPIO_TAP_H
#define VPIO_TAP_H

#include <stdio.h>
#include <string.h>

/* Set by the CHECK macros when the running case failed. */
extern int tap_case_failed;

/* Runs one case and prints its TAP line. */
void tap_run(const char *name, void (*fn)(void));

/* Prints the plan; returns 0 if every case passed, else 1. */
int tap_done(void);

/* Descriptors this process has open (for leak checks), or -1. */
int tap_open_fds(void);

#define CHECK(cond)                                                                                  \
	do {                                                                                         \
		if (!(cond)) {                                                                       \
			printf("# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);             \
			tap_case_failed = 1;                                                         \
		}                                                                                    \
	} while (0)

#define CHECK_EQ(a, b)                                                                               \
	do {                                                                                         \
		long long a_ = (long long)(a), b_ = (long long)(b);                                   \
		if (a_ != b_) {                                                                      \
			printf("# %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, a_, \
			       #b, b_);                                                              \
			tap_case_failed = 1;                                                         \
		}                                                                                    \
	} while (0)

#define CHECK_STR(a, b)                                                                              \
	do {                                                                                         \
		const char *a_ = (a), *b_ = (b);                                                     \
		if (strcmp(a_, b_) != 0) {                                                           \
			printf("# %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, a_, b_); \
			tap_case_failed = 1;                                                         \
		}                                                                                    \
	} while (0)

#endif /* VPIO_TAP_H */
