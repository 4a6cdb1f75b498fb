/* SPDX-License-Identifier: MIT */
/*
 * test-grant - the host grant driver in C: sealing of shared regions, the
 * map side's refusals, and the read-only rule proven from a separate
 * (forked) process that reopens the descriptor read-write through
 * /proc/self/fd/N. TAP on stdout.
 * Built with ASan + UBSan (make test-bins); the harness is vpio/tap.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vpio/grant.h"
#include "vpio/grant_share.h"
#include "vpio/tap.h"

static long page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* Runs fn in a forked child; returns its exit status (0 = all checks held). */
static int in_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg));
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void t_share_rw_seals(void)
{
	struct vgnt_region r;
	int seals;

	CHECK_EQ(vgnt_host_share((size_t)page_size() * 2, VGNT_ACCESS_RW, &r), 0);
	seals = vgnt_host_seals(r.fd);
	CHECK_EQ(seals & VGNT_SEALS_SIZE, VGNT_SEALS_SIZE);
	CHECK_EQ(seals & (VGNT_SEAL_WRITE | VGNT_SEAL_FUTURE_WRITE), 0);
	CHECK_EQ(vgnt_host_verify(r.fd, r.bytes, VGNT_ACCESS_RW), 0);
	CHECK_EQ(vgnt_host_verify(r.fd, r.bytes, VGNT_ACCESS_RO), -EPERM);
	CHECK_EQ(ftruncate(r.fd, 0), -1);
	CHECK_EQ(errno, EPERM);
	vgnt_host_share_unmap(&r);
	vgnt_host_share_close_fd(&r);
}

static void t_share_ro_seals(void)
{
	struct vgnt_region r;
	int seals;

	CHECK_EQ(vgnt_host_share((size_t)page_size(), VGNT_ACCESS_RO, &r), 0);
	seals = vgnt_host_seals(r.fd);
	CHECK_EQ(seals & (VGNT_SEALS_SIZE | VGNT_SEAL_FUTURE_WRITE), VGNT_SEALS_SIZE | VGNT_SEAL_FUTURE_WRITE);
	/* the owner's mapping, made before the seal, stays writable */
	memset(r.addr, 0x5a, r.bytes);
	CHECK_EQ(((unsigned char *)r.addr)[r.bytes - 1], 0x5a);
	CHECK_EQ(vgnt_host_verify(r.fd, r.bytes, VGNT_ACCESS_RO), 0);
	CHECK_EQ(vgnt_host_verify(r.fd, r.bytes, VGNT_ACCESS_RW), -EPERM);
	vgnt_host_share_unmap(&r);
	vgnt_host_share_close_fd(&r);
}

static int child_maps_rw(void *arg)
{
	struct vgnt_region *r = arg;
	struct vgnt_map m;
	struct vgnt_ref ref = { .fd = r->fd };

	if (vgnt_host_map_ops.map(&ref, r->bytes, VGNT_ACCESS_RW, &m) != 0)
		return 1;
	if (((unsigned char *)m.addr)[10] != 0x11)
		return 2;
	((unsigned char *)m.addr)[20] = 0x22;
	return vgnt_host_map_ops.unmap(&m) == 0 && m.addr == NULL ? 0 : 3;
}

static void t_rw_shared_between_processes(void)
{
	struct vgnt_region r;

	CHECK_EQ(vgnt_host_share((size_t)page_size(), VGNT_ACCESS_RW, &r), 0);
	((unsigned char *)r.addr)[10] = 0x11;
	CHECK_EQ(in_child(child_maps_rw, &r), 0);
	CHECK_EQ(((unsigned char *)r.addr)[20], 0x22);
	vgnt_host_share_unmap(&r);
	vgnt_host_share_close_fd(&r);
}

/* The grantee of a read-only grant tries every way to write it. */
static int child_attacks_ro(void *arg)
{
	struct vgnt_region *r = arg;
	struct vgnt_map m;
	char path[64];
	int fd2;
	void *p;
	unsigned char b = 0x66;

	if (vgnt_host_map(r->fd, r->bytes, VGNT_ACCESS_RO, &m) != 0)
		return 10;
	if (((volatile unsigned char *)m.addr)[0] != 0x5a)
		return 11;
	/* mprotect of the read-only mapping to writable */
	if (mprotect(m.addr, m.bytes, PROT_READ | PROT_WRITE) == 0)
		return 12;
	/* a writable shared mapping of the granted descriptor itself */
	p = mmap(NULL, r->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (p != MAP_FAILED)
		return 13;
	/* reopen read-write through /proc: open may succeed, writing may not */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", r->fd);
	fd2 = open(path, O_RDWR);
	if (fd2 >= 0) {
		p = mmap(NULL, r->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
		if (p != MAP_FAILED)
			return 14;
		if (errno != EPERM)
			return 15;
		if (pwrite(fd2, &b, 1, 0) != -1 || errno != EPERM)
			return 16;
		/* the map side refuses to map it writable, too */
		if (vgnt_host_verify(fd2, r->bytes, VGNT_ACCESS_RW) != -EPERM)
			return 17;
		close(fd2);
	} else if (errno != EACCES && errno != EPERM) {
		return 18;
	}
	if (((volatile unsigned char *)m.addr)[0] != 0x5a)
		return 19;
	vgnt_host_unmap(&m);
	return 0;
}

static void t_ro_grantee_cannot_write(void)
{
	struct vgnt_region r;

	CHECK_EQ(vgnt_host_share((size_t)page_size(), VGNT_ACCESS_RO, &r), 0);
	memset(r.addr, 0x5a, r.bytes);
	CHECK_EQ(in_child(child_attacks_ro, &r), 0);
	CHECK_EQ(((unsigned char *)r.addr)[0], 0x5a);
	vgnt_host_share_unmap(&r);
	vgnt_host_share_close_fd(&r);
}

static void t_unsealed_refused(void)
{
	struct vgnt_map m = { 0 };
	size_t n = (size_t)page_size();
	int fd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	CHECK_EQ(ftruncate(fd, (off_t)n), 0);
	CHECK_EQ(vgnt_host_verify(fd, n, VGNT_ACCESS_RW), -EPERM);
	CHECK_EQ(vgnt_host_map(fd, n, VGNT_ACCESS_RW, &m), -EPERM);
	CHECK_EQ(m.addr == NULL, 1);
	/* size fixed but F_SEAL_SEAL missing: still refused (the rule is all
	 * three, so the owner cannot add F_SEAL_WRITE games later) */
	CHECK_EQ(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
	CHECK_EQ(vgnt_host_verify(fd, n, VGNT_ACCESS_RW), -EPERM);
	CHECK_EQ(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL), 0);
	CHECK_EQ(vgnt_host_verify(fd, n, VGNT_ACCESS_RW), 0);
	close(fd);
	/* a memfd created without MFD_ALLOW_SEALING carries F_SEAL_SEAL only */
	fd = memfd_create("t", MFD_CLOEXEC);
	CHECK_EQ(ftruncate(fd, (off_t)n), 0);
	CHECK_EQ(vgnt_host_verify(fd, n, VGNT_ACCESS_RW), -EPERM);
	close(fd);
}

static void t_size_mismatch_refused(void)
{
	struct vgnt_region r;
	struct vgnt_map m = { 0 };

	CHECK_EQ(vgnt_host_share((size_t)page_size() * 2, VGNT_ACCESS_RW, &r), 0);
	CHECK_EQ(vgnt_host_map(r.fd, (size_t)page_size(), VGNT_ACCESS_RW, &m), -EMSGSIZE);
	CHECK_EQ(vgnt_host_map(r.fd, (size_t)page_size() * 3, VGNT_ACCESS_RW, &m), -EMSGSIZE);
	CHECK_EQ(m.addr == NULL, 1);
	vgnt_host_share_unmap(&r);
	vgnt_host_share_close_fd(&r);
}

static void t_not_a_memfd_refused(void)
{
	int p[2];
	char tmpl[] = "/tmp/vpio-grant-XXXXXX";
	int fd;

	CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
	CHECK_EQ(vgnt_host_verify(p[0], 4096, VGNT_ACCESS_RO), -EINVAL);
	close(p[0]);
	close(p[1]);
	fd = mkstemp(tmpl);
	CHECK_EQ(fd >= 0, 1);
	unlink(tmpl);
	CHECK_EQ(ftruncate(fd, 4096), 0);
	CHECK_EQ(vgnt_host_verify(fd, 4096, VGNT_ACCESS_RW), -EINVAL);
	close(fd);
	CHECK_EQ(vgnt_host_verify(-1, 4096, VGNT_ACCESS_RW), -EBADF);
	CHECK_EQ(vgnt_host_verify(1000000, 4096, VGNT_ACCESS_RW), -EBADF);
}

static void t_rw_needs_rw_descriptor(void)
{
	struct vgnt_region r;
	char path[64];
	int fd2;

	CHECK_EQ(vgnt_host_share((size_t)page_size(), VGNT_ACCESS_RW, &r), 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", r.fd);
	fd2 = open(path, O_RDONLY | O_CLOEXEC);
	CHECK_EQ(fd2 >= 0, 1);
	CHECK_EQ(vgnt_host_verify(fd2, r.bytes, VGNT_ACCESS_RW), -EACCES);
	close(fd2);
	vgnt_host_share_unmap(&r);
	vgnt_host_share_close_fd(&r);
}

static void t_bad_arguments(void)
{
	struct vgnt_region r;

	CHECK_EQ(vgnt_host_share(0, VGNT_ACCESS_RW, &r), -EINVAL);
	CHECK_EQ(vgnt_host_share(100, VGNT_ACCESS_RW, &r), -EINVAL);
	CHECK_EQ(vgnt_host_share((size_t)page_size(), (enum vgnt_access)7, &r), -EINVAL);
}

static void t_no_fd_leak(void)
{
	int before = tap_open_fds(), i;
	struct vgnt_region r;
	struct vgnt_map m;

	for (i = 0; i < 200; i++) {
		if (vgnt_host_share((size_t)page_size(), i & 1 ? VGNT_ACCESS_RO : VGNT_ACCESS_RW, &r) != 0) {
			CHECK_EQ(i, -1);
			break;
		}
		CHECK_EQ(vgnt_host_map(r.fd, r.bytes, r.access, &m), 0);
		CHECK_EQ(vgnt_host_share_close_fd(&r), 0);
		CHECK_EQ(vgnt_host_share_close_fd(&r), 0);
		CHECK_EQ(vgnt_host_unmap(&m), 0);
		CHECK_EQ(vgnt_host_share_unmap(&r), 0);
	}
	/* failed calls leave nothing behind either */
	CHECK_EQ(vgnt_host_share(3, VGNT_ACCESS_RO, &r), -EINVAL);
	CHECK_EQ(tap_open_fds(), before);
}

int main(void)
{
	tap_run("a read-write region has its size sealed and no write seal", t_share_rw_seals);
	tap_run("a read-only region is FUTURE_WRITE-sealed after the owner's writable mapping", t_share_ro_seals);
	tap_run("a read-write grant is shared with a forked grantee in both directions", t_rw_shared_between_processes);
	tap_run("the grantee of a read-only grant cannot write it: mprotect, mmap, /proc reopen, pwrite",
		    t_ro_grantee_cannot_write);
	tap_run("an unsealed memfd (or one without F_SEAL_SEAL) is refused with EPERM", t_unsealed_refused);
	tap_run("a region whose size differs from the promise is refused with EMSGSIZE", t_size_mismatch_refused);
	tap_run("a pipe, a regular file or a bad descriptor is refused", t_not_a_memfd_refused);
	tap_run("a read-write grant through a read-only descriptor is refused with EACCES", t_rw_needs_rw_descriptor);
	tap_run("sharing rejects zero, unaligned sizes and bad access values", t_bad_arguments);
	tap_run("share, map, close and unmap 200 times leak no descriptor", t_no_fd_leak);
	return tap_done();
}
