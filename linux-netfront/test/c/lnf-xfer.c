// SPDX-License-Identifier: MIT
//
// lnf-xfer - a TCP file transfer for the Linux-guest tests (no internet, no
// netcat needed inside the sandbox):
//
//   lnf-xfer serve PORT FILE        accept one connection, send FILE, close
//   lnf-xfer get ADDR PORT OUT      connect (retrying for up to 15 s), write
//                                   everything received to OUT
//
// Prints "sent=N" / "received=N" on stdout; exit 0 on success.

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 16];

static int die(const char *what)
{
	fprintf(stderr, "lnf-xfer: %s: %s\n", what, strerror(errno));
	return 1;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w, n -= (size_t)w;
	}
	return 0;
}

static int serve(int port, const char *file)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port), .sin6_addr = IN6ADDR_ANY_INIT };
	int one = 1, s = socket(AF_INET6, SOCK_STREAM, 0), fd = open(file, O_RDONLY);
	long long sent = 0;

	if (s < 0 || fd < 0)
		return die("socket/open");
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0)
		return die("bind/listen");
	printf("listening=%d\n", port);
	fflush(stdout);
	int c = accept(s, NULL, NULL);
	if (c < 0)
		return die("accept");
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0)
			return die("read");
		if (r == 0)
			break;
		if (write_all(c, buf, (size_t)r) < 0)
			return die("send");
		sent += r;
	}
	shutdown(c, SHUT_WR);
	while (read(c, buf, sizeof(buf)) > 0) /* until the client closes: everything arrived */
		;
	printf("sent=%lld\n", sent);
	return 0;
}

static int get(const char *addr, int port, const char *out)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	long long received = 0;
	int s = -1, fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET, a4->sin_port = htons((uint16_t)port), len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6, a6->sin6_port = htons((uint16_t)port), len = sizeof(*a6);
	} else {
		fprintf(stderr, "lnf-xfer: bad address %s\n", addr);
		return 2;
	}
	if (fd < 0)
		return die("open");
	for (int tries = 0;; tries++) {
		s = socket(ss.ss_family, SOCK_STREAM, 0);
		if (s >= 0 && connect(s, (struct sockaddr *)&ss, len) == 0)
			break;
		if (tries >= 150)
			return die("connect");
		close(s);
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	for (;;) {
		ssize_t r = read(s, buf, sizeof(buf));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return die("recv");
		}
		if (r == 0)
			break;
		if (write_all(fd, buf, (size_t)r) < 0)
			return die("write");
		received += r;
	}
	close(fd);
	printf("received=%lld\n", received);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(atoi(argv[2]), argv[3]);
	if (argc == 5 && !strcmp(argv[1], "get"))
		return get(argv[2], atoi(argv[3]), argv[4]);
	fprintf(stderr, "usage: lnf-xfer serve PORT FILE | lnf-xfer get ADDR PORT OUT\n");
	return 2;
}
