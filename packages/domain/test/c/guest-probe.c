// SPDX-License-Identifier: MIT
//
// guest-probe - the tenant the vitest suites start inside the sandbox. It
// reports what it sees as "key=value" lines on stdout (one fact per line);
// the tests decide what is right. Modes:
//
//   guest-probe report [DIR] [SOCKET] [PID]  identity, fds, /proc, syscalls,
//                                  whether DIR can be listed, SOCKET connected,
//                                  /proc/PID/mem opened
//   guest-probe xenstore           HELLO on the control socket, then xenstore
//                                  requests over the handed-in connection
//   guest-probe ping               PING on the control socket, print the reply
//   guest-probe forkbomb N         fork up to N sleepers, report how far it got
//   guest-probe alloc MIB          allocate and touch MIB MiB, 1 MiB at a time
//   guest-probe sleep [ignore-term]  wait to be stopped
//   guest-probe tap                a Linux guest's TAP (--tap): fds, the device
//                                  as configured, and what the tenant may not
//                                  change (another TAP, addresses, MTU, flags)

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <linux/if_tun.h>
#include <linux/io_uring.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vpio/domain_ctrl.h"
#include "vpio/xs.h"
#include "vpio/xs_transport.h"

static const char *ename(int e)
{
	switch (e) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOENT: return "ENOENT";
	case ENOSYS: return "ENOSYS";
	case EAGAIN: return "EAGAIN";
	case EINVAL: return "EINVAL";
	case ESRCH: return "ESRCH";
	case EBADF: return "EBADF";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ENOMEM: return "ENOMEM";
	case EPROTO: return "EPROTO";
	case EEXIST: return "EEXIST";
	default: {
		static char buf[16];
		snprintf(buf, sizeof(buf), "E%d", e);
		return buf;
	}
	}
}

/* errno of a raw syscall that is expected to fail ("OK" if it succeeded). */
#define SYSERR(...) (syscall(__VA_ARGS__) < 0 ? ename(errno) : "OK")

static void list_dir_numeric(const char *path, char *out, size_t bytes, int skip_fd)
{
	DIR *d = opendir(path);
	out[0] = '\0';
	if (!d) {
		snprintf(out, bytes, "%s", ename(errno));
		return;
	}
	struct dirent *e;
	size_t n = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		if (skip_fd >= 0 && atoi(e->d_name) == dirfd(d))
			continue;
		n += (size_t)snprintf(out + n, n < bytes ? bytes - n : 0, "%s%s", n ? "," : "", e->d_name);
	}
	closedir(d);
	(void)skip_fd;
}

static int report(int argc, char **argv)
{
	char buf[1024];
	const char *dir = argc > 2 ? argv[2] : NULL;
	const char *sock = argc > 3 ? argv[3] : NULL;
	const char *pid = argc > 4 ? argv[4] : NULL;

	printf("domid=%s\n", getenv("VPIO_DOMID") ? getenv("VPIO_DOMID") : "");
	printf("ctrl_fd=%s\n", getenv("VPIO_CTRL_FD") ? getenv("VPIO_CTRL_FD") : "");
	list_dir_numeric("/proc/self/fd", buf, sizeof(buf), 1);
	printf("fds=%s\n", buf);
	int type = 0;
	socklen_t len = sizeof(type);
	printf("fd3_type=%s\n", getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ? ename(errno) : type == SOCK_SEQPACKET ? "seqpacket" : "other");
	printf("pid=%d\n", (int)getpid());
	list_dir_numeric("/proc", buf, sizeof(buf), -1);
	printf("proc_pids=%s\n", buf);
	printf("uid=%u\ngid=%u\ngroups=%d\n", (unsigned)getuid(), (unsigned)getgid(), getgroups(0, NULL));
	printf("no_new_privs=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	FILE *st = fopen("/proc/self/status", "re");
	while (st && fgets(buf, sizeof(buf), st))
		if (strncmp(buf, "Seccomp:", 8) == 0)
			printf("seccomp=%d\n", atoi(buf + 8));
	if (st)
		fclose(st);

	/* pid 1 is the sandbox's init: same uid, so only the filter stops these */
	char byte;
	struct iovec local = { &byte, 1 }, remote = { (void *)0x400000, 1 };
	printf("ptrace=%s\n", SYSERR(SYS_ptrace, 16 /* PTRACE_ATTACH */, 1, 0, 0));
	printf("process_vm_readv=%s\n", SYSERR(SYS_process_vm_readv, 1, &local, 1, &remote, 1, 0));
	printf("process_vm_writev=%s\n", SYSERR(SYS_process_vm_writev, 1, &local, 1, &remote, 1, 0));
	printf("kcmp=%s\n", SYSERR(SYS_kcmp, 1, getpid(), 0, 0, 0));
	printf("bpf=%s\n", SYSERR(SYS_bpf, 0, NULL, 0));
	printf("perf_event_open=%s\n", SYSERR(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	printf("unshare=%s\n", SYSERR(SYS_unshare, CLONE_NEWUSER));
	printf("setns=%s\n", SYSERR(SYS_setns, -1, 0));
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	printf("io_uring_setup=%s\n", SYSERR(SYS_io_uring_setup, 4, &p));
	printf("userfaultfd=%s\n", SYSERR(SYS_userfaultfd, 0));
	printf("mount=%s\n", SYSERR(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL));
	printf("keyctl=%s\n", SYSERR(SYS_keyctl, 0, 0, 0, 0, 0));
	/* clone(CLONE_NEWUSER): a namespace must not come in through clone either */
	long c = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
	if (c == 0)
		_exit(0);
	if (c > 0)
		waitpid((pid_t)c, NULL, 0);
	printf("clone_newuser=%s\n", c < 0 ? ename(errno) : "OK");
	printf("clone3=%s\n", SYSERR(SYS_clone3, NULL, 0));

	struct if_nameindex *ifs = if_nameindex();
	size_t n = 0;
	buf[0] = '\0';
	for (struct if_nameindex *i = ifs; i && i->if_index; i++)
		n += (size_t)snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0, "%s%s", n ? "," : "", i->if_name);
	if (ifs)
		if_freenameindex(ifs);
	printf("net_ifaces=%s\n", buf);

	if (dir) {
		DIR *d = opendir(dir);
		printf("read_dir=%s\n", d ? "OK" : ename(errno));
		if (d)
			closedir(d);
	}
	if (sock) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		printf("connect_socket=%s\n", connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 ? ename(errno) : "OK");
		close(s);
	}
	if (pid) {
		snprintf(buf, sizeof(buf), "/proc/%s/mem", pid);
		int fd = open(buf, O_RDONLY);
		printf("open_dom0_mem=%s\n", fd < 0 ? ename(errno) : "OK");
		snprintf(buf, sizeof(buf), "/proc/%s/fd", pid);
		DIR *d = opendir(buf);
		printf("list_dom0_fds=%s\n", d ? "OK" : ename(errno));
	}
	return 0;
}

static int xenstore(void)
{
	static struct xs_handle h;
	static uint8_t events[8 * XS_EVENT_RECORD_MAX];
	struct xs_fd_transport ft;
	struct xs_transport t;
	struct vpio_ctrl_hello hello;
	char path[128], val[64];
	int xs_fd, err;
	uint32_t len;

	if ((err = vpio_ctrl_hello(vpio_ctrl_fd(), &hello, &xs_fd)) < 0) {
		printf("hello=%s\n", ename(-err));
		return 1;
	}
	printf("hello=OK\nhello_abi=%u\nhello_domid=%u\n", hello.abi, hello.domid);
	if ((err = xs_fd_transport_adopt(&ft, &t, xs_fd, 1)) < 0 || (err = xs_open(&h, &t, events, sizeof(events))) < 0) {
		printf("xs_open=%s\n", ename(-err));
		return 1;
	}
	err = xs_read(&h, XS_NO_TX, "name", val, sizeof(val), &len);
	printf("read_name=%s\n", err < 0 ? ename(-err) : val);
	snprintf(path, sizeof(path), "/local/domain/%u/data/probe", hello.domid);
	printf("write_home=%s\n", ename(-xs_write(&h, XS_NO_TX, path, "1", 1)));
	printf("write_name=%s\n", ename(-xs_write(&h, XS_NO_TX, "name", "evil", 4)));
	printf("write_dom0=%s\n", ename(-xs_write(&h, XS_NO_TX, "/local/domain/0/probe", "1", 1)));
	printf("write_root=%s\n", ename(-xs_write(&h, XS_NO_TX, "/vpio-probe", "1", 1)));
	snprintf(path, sizeof(path), "/local/domain/%u/data/probe", hello.domid == 1 ? 2 : 1);
	printf("write_other=%s\n", ename(-xs_write(&h, XS_NO_TX, path, "1", 1)));
	printf("introduce=%s\n", ename(-xs_request(&h, XS_INTRODUCE, XS_NO_TX, "9\0" "0\0" "1", 6, val, sizeof(val), &len)));
	printf("demote=%s\n", ename(-xs_request(&h, XS_CONTROL, XS_NO_TX, "vpio-demote\0" "0", 14, val, sizeof(val), &len)));
	xs_close(&h);
	return 0;
}

static int ping(void)
{
	int fd = vpio_ctrl_fd(), fds[VPIO_CTRL_MAX_FDS], err;
	struct vpio_ctrl_hello hello;
	struct vpio_ctrl_hdr hdr;
	char payload[VPIO_CTRL_PAYLOAD_MAX];
	unsigned nfds;

	if ((err = vpio_ctrl_hello(fd, &hello, &fds[0])) < 0) {
		printf("hello=%s\n", ename(-err));
		return 1;
	}
	close(fds[0]);
	printf("send=%s\n", ename(-vpio_ctrl_send(fd, VPIO_CTRL_PING, 0, 77, "abc", 3, NULL, 0)));
	err = vpio_ctrl_recv(fd, &hdr, payload, sizeof(payload), fds, VPIO_CTRL_MAX_FDS, &nfds);
	printf("reply=%s type=%u flags=%u seq=%u len=%u\n", ename(-err), hdr.type, hdr.flags, hdr.seq, hdr.len);
	/* an unknown type gets ERROR ENOSYS; an attached fd is not kept */
	int spare = dup(1);
	printf("send_unknown=%s\n", ename(-vpio_ctrl_send(fd, 0x7777, 0, 78, NULL, 0, &spare, 1)));
	err = vpio_ctrl_recv(fd, &hdr, payload, sizeof(payload), fds, VPIO_CTRL_MAX_FDS, &nfds);
	struct vpio_ctrl_error e;
	memcpy(&e, payload, sizeof(e));
	printf("error=%s type=%u seq=%u err=%s req_type=%u\n", ename(-err), hdr.type, hdr.seq, ename((int)e.err), e.req_type);
	return 0;
}

static int forkbomb(long max)
{
	long made = 0;
	int err = 0;
	for (; made < max; made++) {
		pid_t p = fork();
		if (p < 0) {
			err = errno;
			break;
		}
		if (p == 0) {
			pause();
			_exit(0);
		}
	}
	printf("forked=%ld\nfork_error=%s\n", made, ename(err));
	fflush(stdout);
	kill(0, SIGKILL);
	return 0;
}

static int alloc(long mib)
{
	for (long i = 0; i < mib; i++) {
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			printf("mmap_failed_at=%ld\n", i);
			return 1;
		}
		memset(p, (int)i, 1 << 20);
	}
	printf("allocated=%ld\n", mib);
	return 0;
}

static int ifr_ioctl(int s, unsigned long req, const char *name, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
	return ioctl(s, req, ifr) < 0 ? errno : 0;
}

static int tap(void)
{
	const char *name = getenv("VPIO_TAP_NAME") ? getenv("VPIO_TAP_NAME") : "";
	char buf[1024], addr[INET6_ADDRSTRLEN];
	struct ifreq ifr;
	int s;

	printf("tap_fd=%s\ntap_name=%s\n", getenv("VPIO_TAP_FD") ? getenv("VPIO_TAP_FD") : "", name);
	list_dir_numeric("/proc/self/fd", buf, sizeof(buf), 1);
	printf("fds=%s\n", buf);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	ssize_t n = readlink("/proc/self/fd/4", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	printf("fd4=%s\n", buf);
	memset(&ifr, 0, sizeof(ifr));
	printf("fd4_iff=%s\n", ioctl(4, TUNGETIFF, &ifr) < 0 ? ename(errno) : ifr.ifr_name);
	printf("fd4_flags=%s\n", (ifr.ifr_flags & (IFF_TAP | IFF_NO_PI)) == (IFF_TAP | IFF_NO_PI) ? "tap,no_pi" : "other");
	printf("fd4_multi_queue=%d\n", !!(ifr.ifr_flags & IFF_MULTI_QUEUE));
	{
		/* a multi-queue TAP: queue q at fd 4 + q, each attached to the same device */
		const char *qs = getenv("VPIO_TAP_QUEUES");
		int nq = qs ? atoi(qs) : 0;

		printf("tap_queues=%s\n", qs ? qs : "");
		for (int q = 1; q < nq; q++) {
			struct ifreq qr;

			memset(&qr, 0, sizeof(qr));
			printf("fd%d_iff=%s\n", 4 + q, ioctl(4 + q, TUNGETIFF, &qr) < 0 ? ename(errno) : qr.ifr_name);
			printf("fd%d_multi_queue=%d\n", 4 + q, !!(qr.ifr_flags & IFF_MULTI_QUEUE));
		}
	}

	struct if_nameindex *ifs = if_nameindex();
	size_t k = 0;
	buf[0] = '\0';
	for (struct if_nameindex *i = ifs; i && i->if_index; i++)
		k += (size_t)snprintf(buf + k, k < sizeof(buf) ? sizeof(buf) - k : 0, "%s%s", k ? "," : "", i->if_name);
	if (ifs)
		if_freenameindex(ifs);
	printf("net_ifaces=%s\n", buf);

	if (ifr_ioctl(s, SIOCGIFHWADDR, name, &ifr) == 0) {
		const unsigned char *m = (const unsigned char *)ifr.ifr_hwaddr.sa_data;
		printf("mac=%02x:%02x:%02x:%02x:%02x:%02x\n", m[0], m[1], m[2], m[3], m[4], m[5]);
	}
	if (ifr_ioctl(s, SIOCGIFMTU, name, &ifr) == 0)
		printf("mtu=%d\n", ifr.ifr_mtu);
	if (ifr_ioctl(s, SIOCGIFFLAGS, name, &ifr) == 0)
		printf("up=%d\n", !!(ifr.ifr_flags & IFF_UP));
	if (ifr_ioctl(s, SIOCGIFFLAGS, "lo", &ifr) == 0)
		printf("lo_up=%d\n", !!(ifr.ifr_flags & IFF_UP));
	if (ifr_ioctl(s, SIOCGIFADDR, name, &ifr) == 0)
		printf("ipv4=%s\n", inet_ntop(AF_INET, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, addr, sizeof(addr)));
	if (ifr_ioctl(s, SIOCGIFNETMASK, name, &ifr) == 0)
		printf("netmask=%s\n", inet_ntop(AF_INET, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, addr, sizeof(addr)));
	FILE *f = fopen("/proc/net/if_inet6", "re");
	k = 0;
	buf[0] = '\0';
	char hex[40], dev[32];
	unsigned idx, plen, scope, flags;
	while (f && fscanf(f, "%32s %x %x %x %x %31s", hex, &idx, &plen, &scope, &flags, dev) == 6) {
		struct in6_addr a6;
		if (strcmp(dev, name) != 0 || scope != 0)
			continue;
		for (int i = 0; i < 16; i++) {
			unsigned byte;
			sscanf(hex + 2 * i, "%2x", &byte);
			a6.s6_addr[i] = (unsigned char)byte;
		}
		k += (size_t)snprintf(buf + k, k < sizeof(buf) ? sizeof(buf) - k : 0, "%s%s/%u", k ? "," : "",
				      inet_ntop(AF_INET6, &a6, addr, sizeof(addr)), plen);
	}
	if (f)
		fclose(f);
	printf("ipv6=%s\n", buf);
	f = fopen("/proc/sys/net/ipv4/ping_group_range", "re");
	if (f && fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		for (char *c = buf; *c; c++)
			if (*c == '\t')
				*c = ' ';
		printf("ping_group_range=%s\n", buf);
	}
	if (f)
		fclose(f);
	int icmp = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	printf("icmp_socket=%s\n", icmp < 0 ? ename(errno) : "OK");

	/* what the tenant must not do */
	int t2 = open("/dev/net/tun", O_RDWR);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "evil0");
	printf("new_tap=%s\n", t2 < 0 ? ename(errno) : ioctl(t2, TUNSETIFF, &ifr) < 0 ? ename(errno) : "OK");
	printf("retap_fd4=%s\n", ioctl(4, TUNSETIFF, &ifr) < 0 ? ename(errno) : "OK");
	printf("persist_fd4=%s\n", ioctl(4, TUNSETPERSIST, 1) < 0 ? ename(errno) : "OK");
	/* a multi-queue TAP: no queue may be detached or added by the tenant */
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_DETACH_QUEUE;
	printf("detach_queue_fd4=%s\n", ioctl(4, TUNSETQUEUE, &ifr) < 0 ? ename(errno) : "OK");
	{
		int t3 = open("/dev/net/tun", O_RDWR);

		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE;
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		printf("attach_queue=%s\n", t3 < 0 ? ename(errno) : ioctl(t3, TUNSETIFF, &ifr) < 0 ? ename(errno) : "OK");
		if (t3 >= 0)
			close(t3);
	}
	ifr_ioctl(s, 0, name, &ifr);
	((struct sockaddr_in *)&ifr.ifr_addr)->sin_family = AF_INET;
	inet_pton(AF_INET, "10.66.66.66", &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr);
	printf("set_addr=%s\n", ioctl(s, SIOCSIFADDR, &ifr) < 0 ? ename(errno) : "OK");
	ifr_ioctl(s, 0, name, &ifr);
	ifr.ifr_mtu = 1280;
	printf("set_mtu=%s\n", ioctl(s, SIOCSIFMTU, &ifr) < 0 ? ename(errno) : "OK");
	ifr_ioctl(s, 0, name, &ifr);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, "\x02\x66\x66\x66\x66\x66", 6);
	printf("set_mac=%s\n", ioctl(s, SIOCSIFHWADDR, &ifr) < 0 ? ename(errno) : "OK");
	ifr_ioctl(s, 0, name, &ifr);
	printf("set_down=%s\n", ioctl(s, SIOCSIFFLAGS, &ifr) < 0 ? ename(errno) : "OK");
	printf("packet_socket=%s\n", socket(AF_PACKET, SOCK_RAW, 0) < 0 ? ename(errno) : "OK");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *mode = argc > 1 ? argv[1] : "report";
	if (strcmp(mode, "report") == 0)
		return report(argc, argv);
	if (strcmp(mode, "xenstore") == 0)
		return xenstore();
	if (strcmp(mode, "ping") == 0)
		return ping();
	if (strcmp(mode, "tap") == 0)
		return tap();
	if (strcmp(mode, "forkbomb") == 0)
		return forkbomb(argc > 2 ? atol(argv[2]) : 1000);
	if (strcmp(mode, "alloc") == 0)
		return alloc(argc > 2 ? atol(argv[2]) : 64);
	if (strcmp(mode, "sleep") == 0) {
		if (argc > 2 && strcmp(argv[2], "ignore-term") == 0)
			signal(SIGTERM, SIG_IGN);
		printf("sleeping\n");
		for (;;)
			pause();
	}
	fprintf(stderr, "guest-probe: unknown mode %s\n", mode);
	return 2;
}
