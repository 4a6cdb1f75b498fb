// SPDX-License-Identifier: MIT
//
// memif-peer PATH - the wire suite's stand-in for a memif client
// (test/wire.test.ts 10.9): connects to the SOCK_SEQPACKET socket at PATH,
// sends one message carrying a memfd that holds "vpio-memif", and prints
// "reply=TEXT fds=N" for the answer (N descriptors came with it). Exit 1 on
// any failure, with the reason on stderr.
// memif-peer --stale PATH binds a socket at PATH without listening and
// exits: a stale socket file.

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char ctl[CMSG_SPACE(sizeof(int))], buf[64] = "";
	struct iovec iov = { .iov_base = "init", .iov_len = 4 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm;
	int s, mfd, nfds = 0;
	ssize_t n;

	if (argc == 3 && !strcmp(argv[1], "--stale") && strlen(argv[2]) < sizeof(sa.sun_path)) {
		strcpy(sa.sun_path, argv[2]);
		s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		return s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? perror("bind"), 1 : 0;
	}
	if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path))
		return fprintf(stderr, "usage: memif-peer PATH | --stale PATH\n"), 1;
	strcpy(sa.sun_path, argv[1]);
	s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return perror("connect"), 1;
	mfd = memfd_create("vpio-memif-peer", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0 || ftruncate(mfd, 4096) < 0 || pwrite(mfd, "vpio-memif", 10, 0) != 10)
		return perror("memfd"), 1;
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET, cm->cmsg_type = SCM_RIGHTS, cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &mfd, sizeof(int));
	if (sendmsg(s, &mh, 0) < 0)
		return perror("sendmsg"), 1;
	iov = (struct iovec){ .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	mh = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return perror("recvmsg"), 1;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			nfds++;
	printf("reply=%.*s fds=%d\n", (int)n, buf, nfds);
	return 0;
}
