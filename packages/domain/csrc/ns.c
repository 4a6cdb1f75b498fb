// SPDX-License-Identifier: MIT
//
// ns.c - namespaces, the private /proc and the tenant identity of
// vpio-launch. Runs before the seccomp filter (which denies unshare, mount
// and setns to the tenant). See launch.h for the contract.

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "launch.h"

int launch_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	int err = n < 0 ? -errno : ((size_t)n != len ? -EIO : 0);
	close(fd);
	return err;
}

int ns_enter_user(uid_t uid, gid_t gid)
{
	uid_t outer_uid = getuid();
	gid_t outer_gid = getgid();
	char map[64];

	if (unshare(CLONE_NEWUSER) < 0)
		return -errno;
	/* An unprivileged writer must deny setgroups before writing gid_map. */
	int err = launch_write_file("/proc/self/setgroups", "deny");
	if (err < 0 && err != -ENOENT)
		return err;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)outer_uid);
	if ((err = launch_write_file("/proc/self/uid_map", map)) < 0)
		return err;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)outer_gid);
	return launch_write_file("/proc/self/gid_map", map);
}

int ns_unshare(void)
{
	if (unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
		return -errno;
	return 0;
}

int ns_mount_private(void)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	return 0;
}

int ns_mount_proc(void)
{
	/* Mounted over the host's /proc (not after detaching it: an
	 * unprivileged user namespace may mount procfs only while a fully
	 * visible one exists). The host's view is then unreachable. */
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible") == 0)
		return 0;
	/* Older kernels know only the numeric hidepid values. */
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	return 0;
}

int ns_drop_identity(uid_t uid, gid_t gid, int skip_groups, const char **step)
{
	if (!skip_groups && setgroups(0, NULL) < 0) {
		*step = "groups";
		return -errno;
	}
	if (setresgid(gid, gid, gid) < 0) {
		*step = "gid";
		return -errno;
	}
	if (setresuid(uid, uid, uid) < 0) {
		*step = "uid";
		return -errno;
	}
	return 0;
}
