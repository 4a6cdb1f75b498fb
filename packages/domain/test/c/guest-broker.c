// SPDX-License-Identifier: MIT
//
// guest-broker - the tenant the broker suites start in the sandbox, built
// on the guest library (vpio/guest.h) only. It prints "key=value" facts on
// stdout (flushed at once: the tests read them while it runs); SIGHUP is
// "next step" (vpio-launch forwards it to the guest), SIGTERM ends it.
//
//   share N PAGES GRANTEE ro|rw   share N regions, print refs=a,b,..; on
//                                 SIGHUP end them all (end=OK)
//   map GRANTER REFS ro|rw [hold] map REFS (a,b,..) contiguously, check each
//                                 page's stamp, probe write paths (ro), unmap
//                                 unless hold
//   claim                         broker requests naming another domid
//   badshare                      GRANT_SHARE with bad descriptors
//   limits DOM0REF                hit grantPages, eventChannels, mappedPages
//   offer REMOTE                  alloc unbound; echo notifications until the peer closes
//   bind REMOTE PORT ROUNDS       bind, then ROUNDS notify→wait round trips
//   hostile REMOTE PORT           bind, clear O_NONBLOCK, fill, drain at random
//   bystander                     PING every 5 ms; a last PING on SIGTERM
//   isolation VPIOD_PID OTHER_PID XS_PATH ABSTRACT   what it cannot reach
//   abstract NAME                 listen on an abstract socket and wait
//   holder DOM0REF DOM0PORT GRANTEE  hold grants, a mapping and channels; wait
//   @wait FILE                    open the session, print waiting=1, and on
//                                 SIGHUP read "MODE ARGS..." from FILE (the
//                                 test writes it once it knows the refs/ports)

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vpio/guest.h"

static volatile sig_atomic_t hups, terms;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hups++;
	else
		terms++;
}

static const char *ename(int e)
{
	static char buf[16];

	if (e < 0)
		e = -e;
	switch (e) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EACCES: return "EACCES";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case EMSGSIZE: return "EMSGSIZE";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EPIPE: return "EPIPE";
	case EPROTO: return "EPROTO";
	default:
		snprintf(buf, sizeof(buf), "E%d", e);
		return buf;
	}
}

static void fact(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fact(const char *key, const char *fmt, ...)
{
	va_list ap;

	printf("%s=", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void wait_hup(unsigned n)
{
	while (hups < (sig_atomic_t)n && !terms)
		pause();
}

static void wait_term(void)
{
	while (!terms)
		pause();
}

static unsigned parse_refs(const char *s, uint32_t *refs)
{
	unsigned n = 0;

	while (*s && n < VPIO_GRANT_MAP_MAX_REFS) {
		char *end;
		refs[n++] = (uint32_t)strtoul(s, &end, 10);
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

static int mode_share(struct vpio_guest *g, int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned n = argc > 2 ? (unsigned)atoi(argv[2]) : 1, pages = argc > 3 ? (unsigned)atoi(argv[3]) : 1, i, p;
	uint32_t grantee = argc > 4 ? (uint32_t)atoi(argv[4]) : 0, refs[16];
	enum vgnt_access access = argc > 5 && strcmp(argv[5], "rw") == 0 ? VGNT_ACCESS_RW : VGNT_ACCESS_RO;
	struct vgnt_region r[16];
	char list[256] = "";
	size_t used = 0;
	int rc = 0;

	if (n > 16)
		n = 16;
	for (i = 0; i < n; i++) {
		rc = vpio_grant_share(g, (size_t)pages * (size_t)page, grantee, access, &r[i], &refs[i]);
		if (rc < 0) {
			fact("share", "%s", ename(rc));
			return 1;
		}
		for (p = 0; p < pages; p++)
			snprintf((char *)r[i].addr + (size_t)p * (size_t)page, 32, "d%u-g%u-p%u", g->domid, i, p);
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%u", i ? "," : "", refs[i]);
	}
	fact("share", "OK");
	fact("refs", "%s", list);
	wait_hup(1);
	if (terms)
		return 0;
	for (i = 0; i < n; i++) {
		rc = vpio_grant_end(g, refs[i]);
		if (rc < 0)
			break;
	}
	fact("end", "%s", ename(rc));
	wait_term();
	return 0;
}

static int mode_map(struct vpio_guest *g, int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	uint32_t granter = (uint32_t)atoi(argv[2]), refs[VPIO_GRANT_MAP_MAX_REFS];
	unsigned n = parse_refs(argv[3], refs);
	int writable = strcmp(argv[4], "rw") == 0, hold = argc > 5 && strcmp(argv[5], "hold") == 0;
	struct vpio_grant_mapping m;
	int rc = vpio_grant_map(g, granter, refs, n, writable, &m);

	fact("map", "%s", ename(rc));
	if (rc < 0)
		return 0;
	/* every page carries its granter's stamp, in order: contiguous */
	char stamps[512] = "";
	size_t used = 0;
	for (size_t off = 0; off < m.bytes && used < sizeof(stamps) - 40; off += (size_t)page)
		used += (size_t)snprintf(stamps + used, sizeof(stamps) - used, "%s%.31s", off ? "," : "", (char *)m.addr + off);
	fact("stamps", "%s", stamps);
	fact("bytes", "%zu", m.bytes);
	if (writable) {
		memcpy(m.addr, "written", 8);
		fact("write", "OK");
	} else {
		/* the kernel refuses every way to write a read-only grant */
		fact("mprotect_rw", "%s", mprotect(m.addr, (size_t)page, PROT_READ | PROT_WRITE) < 0 ? ename(errno) : "OK");
		struct vpio_grant_fds f;
		rc = vpio_grant_map_fds(g, granter, refs, 1, 0, &f);
		fact("map_fds", "%s", ename(rc));
		if (rc == 0) {
			char path[64];
			snprintf(path, sizeof(path), "/proc/self/fd/%d", f.fds[0]);
			int rw = open(path, O_RDWR | O_CLOEXEC);
			fact("reopen_open", "%s", rw < 0 ? ename(errno) : "OK");
			int fd = rw >= 0 ? rw : f.fds[0];
			void *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			fact("reopen_mmap_rw", "%s", p == MAP_FAILED ? ename(errno) : "OK");
			if (p != MAP_FAILED)
				munmap(p, (size_t)page);
			fact("reopen_pwrite", "%s", pwrite(fd, "x", 1, 0) < 0 ? ename(errno) : "OK");
			fact("ftruncate", "%s", ftruncate(fd, 0) < 0 ? ename(errno) : "OK");
			if (rw >= 0)
				close(rw);
			close(f.fds[0]);
			vpio_grant_unmap_handle(g, f.handle);
		}
	}
	if (hold) {
		fact("holding", "1");
		wait_term();
		return 0;
	}
	fact("unmap", "%s", ename(vpio_grant_unmap(g, &m)));
	return 0;
}

/* Raw requests whose `dom` names another domain: refused, whatever it is. */
static int mode_claim(struct vpio_guest *g)
{
	uint32_t others[3] = { 0, g->domid + 1, g->domid - 1 };
	struct vgnt_region r;
	uint32_t req[4], rep[4];
	int fds[2];
	unsigned nfds, i;
	int rc_share = 0, rc_alloc = 0, rc;

	rc = vgnt_host_share((size_t)sysconf(_SC_PAGESIZE), VGNT_ACCESS_RO, &r);
	if (rc < 0)
		return 1;
	for (i = 0; i < 3; i++) {
		req[0] = others[i];
		req[1] = 0;
		req[2] = 1;
		req[3] = 0;
		rc = vpio_guest_call(g, VPIO_CTRL_GRANT_SHARE, req, 16, &r.fd, 1, rep, sizeof(rep), NULL, NULL, 0, NULL);
		if (rc != -EPERM)
			rc_share = rc ? rc : 1;
		rc = vpio_guest_call(g, VPIO_CTRL_EVTCHN_ALLOC_UNBOUND, req, 8, NULL, 0, rep, sizeof(rep), NULL, fds, 2, &nfds);
		if (rc != -EPERM)
			rc_alloc = rc ? rc : 1;
	}
	fact("share_as_other", "%s", rc_share ? "ACCEPTED" : "EPERM");
	fact("alloc_as_other", "%s", rc_alloc ? "ACCEPTED" : "EPERM");
	/* its own domid (not DOMID_SELF) is fine */
	req[0] = g->domid;
	req[1] = 0;
	req[2] = 1;
	req[3] = 0;
	rc = vpio_guest_call(g, VPIO_CTRL_GRANT_SHARE, req, 16, &r.fd, 1, rep, sizeof(rep), NULL, NULL, 0, NULL);
	fact("share_as_self", "%s", ename(rc));
	nfds = 0;
	rc = vpio_guest_call(g, VPIO_CTRL_EVTCHN_ALLOC_UNBOUND, req, 8, NULL, 0, rep, sizeof(rep), NULL, fds, 2, &nfds);
	fact("alloc_as_self", "%s", ename(rc));
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	return 0;
}

static int mode_badshare(struct vpio_guest *g)
{
	long page = sysconf(_SC_PAGESIZE);
	uint32_t req[4] = { VPIO_DOMID_SELF, 0, 1, 0 }, rep[1];
	int fd, pfd[2], rc;

	/* unsealed memfd of the right size */
	fd = memfd_create("unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, page) < 0)
		return 1;
	rc = vpio_guest_call(g, VPIO_CTRL_GRANT_SHARE, req, 16, &fd, 1, rep, sizeof(rep), NULL, NULL, 0, NULL);
	fact("unsealed", "%s", ename(rc));
	/* size-sealed but no write seal, offered read-only */
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	rc = vpio_guest_call(g, VPIO_CTRL_GRANT_SHARE, req, 16, &fd, 1, rep, sizeof(rep), NULL, NULL, 0, NULL);
	fact("ro_without_write_seal", "%s", ename(rc));
	/* sealed rw region announced with the wrong size */
	req[2] = 2;
	req[3] = 1;
	rc = vpio_guest_call(g, VPIO_CTRL_GRANT_SHARE, req, 16, &fd, 1, rep, sizeof(rep), NULL, NULL, 0, NULL);
	fact("wrong_size", "%s", ename(rc));
	close(fd);
	req[2] = 1;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return 1;
	rc = vpio_guest_call(g, VPIO_CTRL_GRANT_SHARE, req, 16, &pfd[0], 1, rep, sizeof(rep), NULL, NULL, 0, NULL);
	fact("pipe", "%s", ename(rc));
	close(pfd[0]);
	close(pfd[1]);
	rc = vpio_guest_call(g, VPIO_CTRL_GRANT_SHARE, req, 16, NULL, 0, rep, sizeof(rep), NULL, NULL, 0, NULL);
	fact("no_fd", "%s", ename(rc));
	return 0;
}

static int mode_limits(struct vpio_guest *g, int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	uint32_t dom0ref = argc > 2 ? (uint32_t)atoi(argv[2]) : 0, ref, port;
	struct vgnt_region r1, r2;
	struct evtchn_end e1, e2;
	struct vpio_grant_mapping m;

	fact("share_2_pages", "%s", ename(vpio_grant_share(g, 2 * (size_t)page, 0, VGNT_ACCESS_RW, &r1, &ref)));
	fact("share_past_grant_pages", "%s", ename(vpio_grant_share(g, (size_t)page, 0, VGNT_ACCESS_RW, &r2, &ref)));
	fact("alloc_1", "%s", ename(vpio_evtchn_alloc_unbound(g, 0, &port, &e1)));
	fact("alloc_past_event_channels", "%s", ename(vpio_evtchn_alloc_unbound(g, 0, &port, &e2)));
	fact("map_past_mapped_pages", "%s", ename(vpio_grant_map(g, 0, &dom0ref, 1, 1, &m)));
	uint32_t many[VPIO_GRANT_MAP_MAX_REFS + 1] = { 0 };
	uint32_t req[3 + VPIO_GRANT_MAP_MAX_REFS + 1] = { 0, 0, VPIO_GRANT_MAP_MAX_REFS + 1 };
	(void)many;
	fact("map_17_refs", "%s",
	     ename(vpio_guest_call(g, VPIO_CTRL_GRANT_MAP, req, sizeof(req), NULL, 0, NULL, 0, NULL, NULL, 0, NULL)));
	return 0;
}

static int mode_offer(struct vpio_guest *g, int argc, char **argv)
{
	uint32_t remote = argc > 2 ? (uint32_t)atoi(argv[2]) : 0, port;
	struct evtchn_end e;
	int rc = vpio_evtchn_alloc_unbound(g, remote, &port, &e);
	long echoed = 0;

	fact("alloc", "%s", ename(rc));
	if (rc < 0)
		return 1;
	fact("port", "%u", port);
	for (;;) {
		rc = evtchn_wait(e.rx_fd, 100);
		if (rc < 0 || terms)
			break;
		if (rc == 0)
			continue;
		rc = evtchn_drain(e.rx_fd);
		if (rc < 0)
			break;
		if (rc > 0 && evtchn_notify(e.tx_fd) >= 0)
			echoed++;
	}
	fact("peer", "%s", ename(rc));
	fact("echoed", "%ld", echoed);
	return 0;
}

static int mode_bind(struct vpio_guest *g, int argc, char **argv)
{
	uint32_t remote = (uint32_t)atoi(argv[2]), rport = (uint32_t)atoi(argv[3]), port;
	long rounds = argc > 4 ? atol(argv[4]) : 0, done = 0;
	struct evtchn_end e;
	int rc = vpio_evtchn_bind_interdomain(g, remote, rport, &port, &e);

	fact("bind", "%s", ename(rc));
	if (rc < 0)
		return 0;
	fact("local_port", "%u", port);
	fact("pending_after_bind", "%d", evtchn_wait(e.rx_fd, 0));
	evtchn_drain(e.rx_fd);
	for (; done < rounds; done++) {
		evtchn_drain(e.rx_fd);
		if (evtchn_notify(e.tx_fd) < 0)
			break;
		rc = evtchn_wait(e.rx_fd, 5000);
		if (rc <= 0)
			break;
	}
	fact("rounds", "%ld", done);
	rc = vpio_evtchn_close(g, port, &e);
	fact("close", "%s", ename(rc));
	return 0;
}

static int mode_hostile(struct vpio_guest *g, char **argv)
{
	uint32_t remote = (uint32_t)atoi(argv[2]), rport = (uint32_t)atoi(argv[3]), port;
	struct evtchn_end e;
	unsigned char buf[256];
	long filled = 0;
	int rc = vpio_evtchn_bind_interdomain(g, remote, rport, &port, &e);

	fact("bind", "%s", ename(rc));
	if (rc < 0)
		return 0;
	while (evtchn_notify(e.tx_fd) == EVTCHN_SENT)
		filled++;
	fcntl(e.rx_fd, F_SETFL, fcntl(e.rx_fd, F_GETFL) & ~O_NONBLOCK);
	fcntl(e.tx_fd, F_SETFL, fcntl(e.tx_fd, F_GETFL) & ~O_NONBLOCK);
	fact("filled", "%ld", filled);
	srand((unsigned)getpid());
	while (!terms) {
		/* blocking reads of a few bytes at random: never a full drain */
		if (rand() % 4 == 0 && read(e.rx_fd, buf, (size_t)(1 + rand() % 3)) <= 0)
			break;
		usleep((useconds_t)(rand() % 500));
	}
	return 0;
}

static int mode_bystander(struct vpio_guest *g)
{
	long ok = 0, bad = 0;

	fact("ready", "1");
	while (!terms) {
		if (vpio_guest_ping(g, "alive", 5) == 0)
			ok++;
		else
			bad++;
		usleep(5000);
	}
	fact("final_ping", "%s", ename(vpio_guest_ping(g, "last", 4)));
	fact("pings_ok", "%ld", ok);
	fact("pings_bad", "%ld", bad);
	return 0;
}

static const char *try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return ename(errno);
	close(fd);
	return "OK";
}

static const char *try_list(const char *path)
{
	DIR *d = opendir(path);

	if (!d)
		return ename(errno);
	closedir(d);
	return "OK";
}

static const char *try_connect(const char *path, int abstract)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t len;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	if (abstract) {
		strncpy(a.sun_path + 1, path, sizeof(a.sun_path) - 2);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path));
	} else {
		strncpy(a.sun_path, path, sizeof(a.sun_path) - 1);
		len = sizeof(a);
	}
	rc = connect(s, (struct sockaddr *)&a, len);
	close(s);
	return rc < 0 ? ename(errno) : "OK";
}

static int mode_isolation(int argc, char **argv)
{
	char path[256];
	const char *vpiod = argv[2], *other = argv[3];

	(void)argc;
	snprintf(path, sizeof(path), "/proc/%s/mem", vpiod);
	fact("vpiod_mem", "%s", try_open(path, O_RDONLY));
	snprintf(path, sizeof(path), "/proc/%s/fd", vpiod);
	fact("vpiod_fd_dir", "%s", try_list(path));
	snprintf(path, sizeof(path), "/proc/%s/fd/0", vpiod);
	fact("vpiod_fd_0", "%s", try_open(path, O_RDONLY));
	snprintf(path, sizeof(path), "/proc/%s/map_files", other);
	fact("other_map_files", "%s", try_list(path));
	snprintf(path, sizeof(path), "/proc/%s/mem", other);
	fact("other_mem", "%s", try_open(path, O_RDONLY));
	/* the pid ns hides them; the host's own /proc is not mounted anywhere we can see */
	fact("self_map_files", "%s", try_list("/proc/self/map_files"));
	fact("xenstore_connect", "%s", try_connect(argv[4], 0));
	fact("abstract_connect", "%s", try_connect(argv[5], 1));
	return 0;
}

static int mode_abstract(const char *name)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strncpy(a.sun_path + 1, name, sizeof(a.sun_path) - 2);
	if (bind(s, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))) < 0 ||
	    listen(s, 4) < 0) {
		fact("listen", "%s", ename(errno));
		return 1;
	}
	fact("listen", "OK");
	fact("self_connect", "%s", try_connect(name, 1));
	wait_term();
	return 0;
}

static int mode_holder(struct vpio_guest *g, int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	uint32_t dom0ref = (uint32_t)atoi(argv[2]), dom0port = (uint32_t)atoi(argv[3]), grantee = (uint32_t)atoi(argv[4]);
	uint32_t ref, port;
	struct vgnt_region r;
	struct vpio_grant_mapping m;
	struct evtchn_end e1, e2;
	int rc = 0;

	(void)argc;
	for (int i = 0; i < 3 && rc == 0; i++)
		rc = vpio_grant_share(g, 4 * (size_t)page, grantee, VGNT_ACCESS_RW, &r, &ref);
	fact("shared", "%s", ename(rc));
	fact("mapped", "%s", ename(vpio_grant_map(g, 0, &dom0ref, 1, 1, &m)));
	fact("bound", "%s", ename(vpio_evtchn_bind_interdomain(g, 0, dom0port, &port, &e1)));
	fact("offered", "%s", ename(vpio_evtchn_alloc_unbound(g, 0, &port, &e2)));
	fact("ready", "1");
	wait_term();
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct vpio_guest g;
	const char *mode = argc > 1 ? argv[1] : "";
	int rc;

	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (strcmp(mode, "isolation") == 0 && argc > 5)
		return mode_isolation(argc, argv);
	if (strcmp(mode, "abstract") == 0 && argc > 2)
		return mode_abstract(argv[2]);
	rc = vpio_guest_open(&g);
	if (rc < 0) {
		fact("open", "%s", ename(rc));
		return 2;
	}
	fact("domid", "%u", g.domid);
	static char line[1024];
	static char *args[16];
	if (strcmp(mode, "@wait") == 0 && argc > 2) {
		FILE *f;
		char *save = NULL, *tok;

		fact("waiting", "1");
		wait_hup(1);
		hups = 0;
		f = fopen(argv[2], "re");
		if (!f || !fgets(line, sizeof(line), f)) {
			fact("args", "%s", ename(errno));
			return 2;
		}
		fclose(f);
		argc = 1;
		args[0] = argv[0];
		for (tok = strtok_r(line, " \n", &save); tok && argc < 15; tok = strtok_r(NULL, " \n", &save))
			args[argc++] = tok;
		args[argc] = NULL;
		argv = args;
		mode = argc > 1 ? argv[1] : "";
	}
	if (strcmp(mode, "share") == 0)
		return mode_share(&g, argc, argv);
	if (strcmp(mode, "map") == 0 && argc > 4)
		return mode_map(&g, argc, argv);
	if (strcmp(mode, "claim") == 0)
		return mode_claim(&g);
	if (strcmp(mode, "badshare") == 0)
		return mode_badshare(&g);
	if (strcmp(mode, "limits") == 0)
		return mode_limits(&g, argc, argv);
	if (strcmp(mode, "offer") == 0)
		return mode_offer(&g, argc, argv);
	if (strcmp(mode, "bind") == 0 && argc > 3)
		return mode_bind(&g, argc, argv);
	if (strcmp(mode, "hostile") == 0 && argc > 3)
		return mode_hostile(&g, argv);
	if (strcmp(mode, "bystander") == 0)
		return mode_bystander(&g);
	if (strcmp(mode, "holder") == 0 && argc > 4)
		return mode_holder(&g, argc, argv);
	fprintf(stderr, "guest-broker: bad mode %s\n", mode);
	return 64;
}
