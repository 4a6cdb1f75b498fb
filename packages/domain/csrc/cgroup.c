// SPDX-License-Identifier: MIT
//
// cgroup.c - the per-domain cgroup of vpio-launch: find where domain
// cgroups go, create one, write its limits, move the caller in.
//
// v2 (/sys/fs/cgroup is cgroup2): one directory under the root of the
// cgroup2 mount; the controllers cpu, memory and pids are enabled in the
// root's cgroup.subtree_control first. v1: one directory in each of the cpu,
// memory and pids hierarchies, under the caller's own cgroup there (read from
// /proc/self/cgroup), so a domain stays inside whatever limits its manager
// runs under. vpiod removes the directories after the domain died (it reads
// the same bases from `vpio-launch --check`).

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "launch.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CG_ROOT "/sys/fs/cgroup"

/* out = a "/" b; -ENAMETOOLONG when it does not fit. */
static int join(char *out, size_t bytes, const char *a, const char *b)
{
	int n = snprintf(out, bytes, "%s/%s", a, b);
	return (n < 0 || (size_t)n >= bytes) ? -ENAMETOOLONG : 0;
}

static int write_text(const char *dir, const char *file, const char *text)
{
	char path[640];

	if (join(path, sizeof(path), dir, file) < 0)
		return -ENAMETOOLONG;
	return launch_write_file(path, text);
}

static int file_exists(const char *dir, const char *file)
{
	char path[640];
	return join(path, sizeof(path), dir, file) == 0 && access(path, F_OK) == 0;
}

/* The caller's cgroup path in the v1 hierarchy whose controller list
 * contains `ctrl` (e.g. "cpu" matches "cpu,cpuacct" but not "cpuset"). */
static int own_v1_path(const char *ctrl, char *out, size_t bytes)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[1024];
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		char *nl = strchr(c2 + 1, '\n');
		if (nl)
			*nl = '\0';
		for (char *tok = strtok(c1 + 1, ","); tok; tok = strtok(NULL, ",")) {
			if (strcmp(tok, ctrl) == 0) {
				err = snprintf(out, bytes, "%s", c2 + 1) >= (int)bytes ? -ENAMETOOLONG : 0;
				goto done;
			}
		}
	}
done:
	fclose(f);
	return err;
}

int cg_find_bases(struct cg_bases *b)
{
	static const char *const v1[] = { "cpu", "memory", "pids" };
	struct statfs st;

	memset(b, 0, sizeof(*b));
	if (statfs(CG_ROOT, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC) {
		b->mode = CG_V2;
		b->n = 1;
		snprintf(b->ctrl[0], sizeof(b->ctrl[0]), "unified");
		snprintf(b->dir[0], sizeof(b->dir[0]), "%s", CG_ROOT);
		return 0;
	}
	b->mode = CG_V1;
	for (unsigned i = 0; i < 3; i++) {
		char own[256], dir[512];
		snprintf(dir, sizeof(dir), CG_ROOT "/%s", v1[i]);
		if (access(dir, F_OK) < 0)
			return -ENOENT;
		int err = own_v1_path(v1[i], own, sizeof(own));
		if (err < 0)
			return err;
		snprintf(b->ctrl[i], sizeof(b->ctrl[i]), "%s", v1[i]);
		if (snprintf(b->dir[i], sizeof(b->dir[i]), "%s%s", dir, strcmp(own, "/") == 0 ? "" : own) >= (int)sizeof(b->dir[i]))
			return -ENAMETOOLONG;
		b->n = i + 1;
	}
	return 0;
}

static int limit_v1(const char *ctrl, const char *dir, const struct launch_limits *lim, const char **step)
{
	char v[64];
	int err = 0;

	if (strcmp(ctrl, "memory") == 0 && lim->memory_bytes) {
		snprintf(v, sizeof(v), "%" PRIu64, lim->memory_bytes);
		*step = "memory.limit_in_bytes";
		if ((err = write_text(dir, "memory.limit_in_bytes", v)) < 0)
			return err;
		/* With swap accounting, memory+swap gets the same cap (no escape to swap). */
		if (file_exists(dir, "memory.memsw.limit_in_bytes")) {
			*step = "memory.memsw.limit_in_bytes";
			if ((err = write_text(dir, "memory.memsw.limit_in_bytes", v)) < 0)
				return err;
		}
	} else if (strcmp(ctrl, "pids") == 0 && lim->max_pids) {
		snprintf(v, sizeof(v), "%u", lim->max_pids);
		*step = "pids.max";
		err = write_text(dir, "pids.max", v);
	} else if (strcmp(ctrl, "cpu") == 0) {
		if (lim->cpu_shares) {
			snprintf(v, sizeof(v), "%u", lim->cpu_shares);
			*step = "cpu.shares";
			if ((err = write_text(dir, "cpu.shares", v)) < 0)
				return err;
		}
		if (lim->cpu_quota_us) {
			snprintf(v, sizeof(v), "%u", lim->cpu_period_us ? lim->cpu_period_us : 100000);
			*step = "cpu.cfs_period_us";
			if ((err = write_text(dir, "cpu.cfs_period_us", v)) < 0)
				return err;
			snprintf(v, sizeof(v), "%u", lim->cpu_quota_us);
			*step = "cpu.cfs_quota_us";
			err = write_text(dir, "cpu.cfs_quota_us", v);
		}
	}
	return err;
}

static int limit_v2(const char *dir, const struct launch_limits *lim, const char **step)
{
	char v[64];
	int err;

	if (lim->memory_bytes) {
		snprintf(v, sizeof(v), "%" PRIu64, lim->memory_bytes);
		*step = "memory.max";
		if ((err = write_text(dir, "memory.max", v)) < 0)
			return err;
		if (file_exists(dir, "memory.swap.max")) {
			*step = "memory.swap.max";
			if ((err = write_text(dir, "memory.swap.max", "0")) < 0)
				return err;
		}
	}
	if (lim->max_pids) {
		snprintf(v, sizeof(v), "%u", lim->max_pids);
		*step = "pids.max";
		if ((err = write_text(dir, "pids.max", v)) < 0)
			return err;
	}
	if (lim->cpu_shares) {
		/* The kernel's own shares→weight conversion (v1 2..262144 → 1..10000). */
		uint64_t s = lim->cpu_shares < 2 ? 2 : lim->cpu_shares;
		snprintf(v, sizeof(v), "%" PRIu64, 1 + ((s - 2) * 9999) / 262142);
		*step = "cpu.weight";
		if ((err = write_text(dir, "cpu.weight", v)) < 0)
			return err;
	}
	if (lim->cpu_quota_us) {
		snprintf(v, sizeof(v), "%u %u", lim->cpu_quota_us, lim->cpu_period_us ? lim->cpu_period_us : 100000);
		*step = "cpu.max";
		if ((err = write_text(dir, "cpu.max", v)) < 0)
			return err;
	}
	return 0;
}

static void remove_dirs(const struct cg_bases *b, const char *name, unsigned n)
{
	char path[640];
	for (unsigned i = 0; i < n; i++) {
		if (join(path, sizeof(path), b->dir[i], name) == 0)
			rmdir(path);
	}
}

static int create_dirs(const struct cg_bases *b, const char *name, unsigned *made, const char **step)
{
	char path[640];

	if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	if (b->mode == CG_V2) {
		/* Enabling an already enabled controller is a no-op. */
		*step = "cgroup.subtree_control";
		int err = write_text(b->dir[0], "cgroup.subtree_control", "+cpu +memory +pids");
		if (err < 0)
			return err;
	}
	for (*made = 0; *made < b->n; (*made)++) {
		*step = b->ctrl[*made];
		if (join(path, sizeof(path), b->dir[*made], name) < 0)
			return -ENAMETOOLONG;
		if (mkdir(path, 0755) < 0)
			return -errno;
	}
	return 0;
}

int cg_create_join(const struct cg_bases *b, const char *name, const struct launch_limits *lim, const char **step)
{
	char path[640];
	unsigned made = 0;
	int err;

	*step = "mkdir";
	if (b->mode == CG_NONE)
		return -ENOENT;
	if ((err = create_dirs(b, name, &made, step)) < 0)
		goto fail;
	for (unsigned i = 0; i < b->n; i++) {
		if ((err = join(path, sizeof(path), b->dir[i], name)) < 0)
			goto fail;
		err = b->mode == CG_V2 ? limit_v2(path, lim, step) : limit_v1(b->ctrl[i], path, lim, step);
		if (err < 0)
			goto fail;
	}
	for (unsigned i = 0; i < b->n; i++) {
		if ((err = join(path, sizeof(path), b->dir[i], name)) < 0)
			goto fail;
		*step = "cgroup.procs";
		if ((err = write_text(path, "cgroup.procs", "0")) < 0)
			goto fail;
	}
	return 0;
fail:
	remove_dirs(b, name, made);
	return err;
}

int cg_probe(const struct cg_bases *b, const char *name, const char **step)
{
	unsigned made = 0;
	int err = create_dirs(b, name, &made, step);
	remove_dirs(b, name, made);
	return err;
}
