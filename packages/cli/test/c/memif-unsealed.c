// SPDX-License-Identifier: MIT
//
// memif-unsealed PATH - a hostile memif client for test/memif-e2e.test.ts:
// HELLO, INIT (id 0), then ADD_REGION with a memfd that is not sealed (the
// client could shrink it under the server's mapping). Prints the server's
// answer: "disconnect=REASON", or "answer=TYPE". Built with @vpio/memif's
// test client (packages/memif/test/c/memif_client.c).

#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include "memif_client.h"

static int next(int s, struct vmif_msg *m)
{
	struct pollfd p = { .fd = s, .events = POLLIN };

	return poll(&p, 1, 3000) == 1 ? tc_recv(s, m) : -1;
}

int main(int argc, char **argv)
{
	struct vmif_msg m;
	int s, fd;

	if (argc != 2)
		return fprintf(stderr, "usage: memif-unsealed PATH\n"), 2;
	s = tc_dial(argv[1]);
	if (s < 0 || next(s, &m) != VMIF_MSG_SIZE || m.type != VMIF_MSG_HELLO)
		return fprintf(stderr, "no HELLO from %s\n", argv[1]), 1;
	tc_msg_init(&m, 0, NULL);
	if (tc_send_raw(s, &m, sizeof(m), NULL, 0) < 0 || next(s, &m) != VMIF_MSG_SIZE || m.type != VMIF_MSG_ACK)
		return fprintf(stderr, "INIT not acknowledged\n"), 1;
	fd = tc_memfd("vpio-unsealed", 1 << 20, 0);
	tc_msg(&m, VMIF_MSG_ADD_REGION);
	m.add_region.index = 0;
	m.add_region.size = 1 << 20;
	if (fd < 0 || tc_send_raw(s, &m, sizeof(m), &fd, 1) < 0 || next(s, &m) != VMIF_MSG_SIZE)
		return fprintf(stderr, "no answer to ADD_REGION\n"), 1;
	if (m.type == VMIF_MSG_DISCONNECT)
		printf("disconnect=%.96s\n", (const char *)m.disconnect.reason);
	else
		printf("answer=%u\n", (unsigned)m.type);
	close(fd);
	close(s);
	return 0;
}
