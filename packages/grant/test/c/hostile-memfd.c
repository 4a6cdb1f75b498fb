/* SPDX-License-Identifier: MIT */
/*
 * hostile-memfd BYTES SEALS - plays a tenant handing a region in: creates a
 * memfd of BYTES bytes with exactly the seals SEALS (a number, F_SEAL_* bits;
 * 0 = unsealed), prints "<pid> <fd>\n" so the test can open
 * /proc/<pid>/fd/<fd>, then waits until its stdin closes. With a third
 * argument "shrink" it truncates the memfd to 0 when a line arrives on stdin
 * (what a hostile owner would do under a mapper) and prints the result.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char line[64];
	long bytes;
	int seals, fd;

	if (argc < 3)
		return 2;
	bytes = strtol(argv[1], NULL, 0);
	seals = (int)strtol(argv[2], NULL, 0);
	fd = memfd_create("hostile", MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, bytes) < 0)
		return 3;
	if (seals != 0 && fcntl(fd, F_ADD_SEALS, seals) < 0)
		return 4;
	printf("%d %d\n", (int)getpid(), fd);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (argc > 3 && strcmp(argv[3], "shrink") == 0) {
			printf("%s\n", ftruncate(fd, 0) == 0 ? "shrunk" : strerror(errno));
			fflush(stdout);
		}
	}
	return 0;
}
