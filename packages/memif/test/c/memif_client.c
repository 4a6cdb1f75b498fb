/* SPDX-License-Identifier: MIT */
/* A small memif client for the tests; see memif_client.h. */
#include "memif_client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int tc_dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

int tc_send_raw(int sock, const void *msg, size_t len, const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(16 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	return n < 0 ? -errno : (int)n;
}

int tc_recv(int sock, struct vmif_msg *m)
{
	ssize_t n = recv(sock, m, sizeof(*m), MSG_DONTWAIT);

	return n < 0 ? -errno : (int)n;
}

int tc_memfd(const char *name, size_t size, int seals)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) != 0 || (seals && fcntl(fd, F_ADD_SEALS, seals) != 0)) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

int tc_maps_count(const char *needle)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

int tc_init(struct tc *t, const char *name, unsigned log2, uint32_t buf_size)
{
	size_t rb = (size_t)VMIF_RING_BYTES(log2);

	memset(t, 0, sizeof(*t));
	t->sock = t->c2s_efd = t->s2c_efd = -1;
	t->log2 = log2;
	t->ring_size = (uint16_t)(1u << log2);
	t->buf_size = buf_size;
	t->mem_size = 2 * rb + 2u * t->ring_size * buf_size;
	t->region_fd = tc_memfd(name, t->mem_size, F_SEAL_SHRINK | F_SEAL_GROW);
	if (t->region_fd < 0)
		return t->region_fd;
	t->mem = mmap(NULL, t->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, t->region_fd, 0);
	if (t->mem == MAP_FAILED)
		return -errno;
	t->c2s = (struct vmif_ring *)t->mem;
	t->s2c = (struct vmif_ring *)(t->mem + rb);
	for (unsigned r = 0; r < 2; r++) {
		struct vmif_ring *ring = r ? t->s2c : t->c2s;

		ring->cookie = VMIF_COOKIE;
		for (unsigned i = 0; i < t->ring_size; i++) {
			ring->desc[i].region = 0;
			ring->desc[i].offset = (uint32_t)(2 * rb + (r * t->ring_size + i) * (size_t)buf_size);
			ring->desc[i].length = buf_size;
		}
	}
	t->c2s_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	t->s2c_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return 0;
}

void tc_msg(struct vmif_msg *m, uint16_t type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
}

void tc_msg_init(struct vmif_msg *m, uint32_t id, const char *secret)
{
	tc_msg(m, VMIF_MSG_INIT);
	m->init.version = VMIF_VERSION;
	m->init.id = id;
	m->init.mode = VMIF_MODE_ETHERNET;
	if (secret)
		memcpy(m->init.secret, secret, strnlen(secret, VMIF_SECRET_SZ));
	memcpy(m->init.name, "tc", 2);
}

void tc_msg_add_region(const struct tc *t, struct vmif_msg *m)
{
	tc_msg(m, VMIF_MSG_ADD_REGION);
	m->add_region.index = 0;
	m->add_region.size = t->mem_size;
}

void tc_msg_add_ring(const struct tc *t, struct vmif_msg *m, int c2s)
{
	tc_msg(m, VMIF_MSG_ADD_RING);
	m->add_ring.flags = c2s ? VMIF_ADD_RING_FLAG_C2S : 0;
	m->add_ring.index = 0;
	m->add_ring.region = 0;
	m->add_ring.offset = c2s ? 0 : (uint32_t)VMIF_RING_BYTES(t->log2);
	m->add_ring.log2_ring_size = (uint8_t)t->log2;
}

void tc_fini(struct tc *t)
{
	if (t->sock >= 0)
		close(t->sock);
	if (t->mem && t->mem != MAP_FAILED)
		munmap(t->mem, t->mem_size);
	if (t->region_fd >= 0)
		close(t->region_fd);
	if (t->c2s_efd >= 0)
		close(t->c2s_efd);
	if (t->s2c_efd >= 0)
		close(t->s2c_efd);
	memset(t, 0, sizeof(*t));
	t->sock = t->region_fd = t->c2s_efd = t->s2c_efd = -1;
}

int tc_tx(struct tc *t, const void *data, uint32_t len)
{
	uint16_t head = t->c2s->head, tail = __atomic_load_n(&t->c2s->tail, __ATOMIC_ACQUIRE);
	struct vmif_desc *d;

	if ((uint16_t)(head - tail) >= t->ring_size || len > t->buf_size)
		return -ENOSPC;
	d = &t->c2s->desc[head & (t->ring_size - 1)];
	d->region = 0;
	d->offset = (uint32_t)(2 * VMIF_RING_BYTES(t->log2) + (head & (t->ring_size - 1)) * (size_t)t->buf_size);
	d->length = len;
	d->flags = 0;
	memcpy(t->mem + d->offset, data, len);
	__atomic_store_n(&t->c2s->head, (uint16_t)(head + 1), __ATOMIC_RELEASE);
	return 0;
}

int tc_kick(struct tc *t)
{
	uint64_t one = 1;

	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* pairs with the barrier in vmif_rx_arm */
	if (__atomic_load_n(&t->c2s->flags, __ATOMIC_RELAXED) & VMIF_RING_FLAG_MASK_INT)
		return 0;
	return write(t->c2s_efd, &one, sizeof(one)) == (ssize_t)sizeof(one) ? 1 : -errno;
}

void tc_refill(struct tc *t)
{
	uint16_t head = t->s2c->head;

	while ((uint16_t)(head - t->s2c_seen) < t->ring_size) {
		struct vmif_desc *d = &t->s2c->desc[head & (t->ring_size - 1)];

		d->region = 0;
		d->offset = (uint32_t)(2 * VMIF_RING_BYTES(t->log2) +
				       (t->ring_size + (head & (t->ring_size - 1))) * (size_t)t->buf_size);
		d->length = t->buf_size;
		d->flags = 0;
		head++;
	}
	__atomic_store_n(&t->s2c->head, head, __ATOMIC_RELEASE);
}

int tc_rx(struct tc *t, void *out, uint32_t cap)
{
	uint16_t tail = __atomic_load_n(&t->s2c->tail, __ATOMIC_ACQUIRE);
	uint32_t total = 0;

	if (tail == t->s2c_seen)
		return -EAGAIN;
	for (;;) {
		struct vmif_desc *d = &t->s2c->desc[t->s2c_seen & (t->ring_size - 1)];

		t->s2c_seen++;
		if (total + d->length <= cap)
			memcpy((uint8_t *)out + total, t->mem + d->offset, d->length);
		total += d->length;
		if (!(d->flags & VMIF_DESC_FLAG_NEXT) || t->s2c_seen == tail)
			break;
	}
	return (int)total;
}
