/* SPDX-License-Identifier: MIT */
/*
 * vpio-xs - a debugging CLI over the C xenstore client (vpio/xs.h), so the
 * client's view of a daemon can be checked from a shell:
 *
 *   vpio-xs [--socket PATH] read PATH
 *   vpio-xs [--socket PATH] write PATH VALUE
 *   vpio-xs [--socket PATH] ls PATH
 *   vpio-xs [--socket PATH] rm PATH
 *   vpio-xs [--socket PATH] watch PATH [COUNT]
 *
 * Without --socket it finds the daemon as libxenstore does
 * ($XENSTORED_PATH, $XENSTORED_RUNDIR/socket, /var/run/xenstored/socket).
 * Exit status: 0, 1 when the daemon answered an error (printed with Xen's
 * name), 2 for a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpio/xs.h"

static const char usage[] = "usage: vpio-xs [--socket PATH] read PATH | write PATH VALUE | ls PATH | rm PATH |"
			    " watch PATH [COUNT]\n";

static int report(const char *what, const char *path, int r)
{
	const char *name = xs_errno_name(-r);

	fprintf(stderr, "vpio-xs: %s %s: %s (%d)\n", what, path, name ? name : strerror(-r), r);
	return 1;
}

int main(int argc, char **argv)
{
	static char value[XS_PAYLOAD_MAX + 1], events[16 * XS_EVENT_RECORD_MAX];
	static struct xs_handle h;
	struct xs_fd_transport ft;
	struct xs_transport t;
	const char *socket_path = NULL, *cmd, *path;
	uint32_t len;
	int argi = 1, r, rc = 0;

	if (argc > 2 && strcmp(argv[1], "--socket") == 0) {
		socket_path = argv[2];
		argi = 3;
	}
	if (argc - argi < 2) {
		fputs(usage, stderr);
		return 2;
	}
	cmd = argv[argi];
	path = argv[argi + 1];
	r = xs_fd_transport_connect(&ft, &t, socket_path);
	if (r < 0) {
		fprintf(stderr, "vpio-xs: cannot reach the daemon: %s\n", strerror(-r));
		return 1;
	}
	xs_open(&h, &t, events, sizeof(events));

	if (strcmp(cmd, "read") == 0 && argc - argi == 2) {
		r = xs_read(&h, XS_NO_TX, path, value, sizeof(value), &len);
		if (r < 0)
			rc = report("read", path, r);
		else
			printf("%.*s\n", (int)len, value);
	} else if (strcmp(cmd, "write") == 0 && argc - argi == 3) {
		r = xs_write(&h, XS_NO_TX, path, argv[argi + 2], (uint32_t)strlen(argv[argi + 2]));
		if (r < 0)
			rc = report("write", path, r);
	} else if (strcmp(cmd, "ls") == 0 && argc - argi == 2) {
		r = xs_directory(&h, XS_NO_TX, path, value, sizeof(value));
		if (r < 0) {
			rc = report("ls", path, r);
		} else {
			const char *name = value;

			for (int i = 0; i < r; i++, name = xs_dir_next(name))
				printf("%s\n", name);
		}
	} else if (strcmp(cmd, "rm") == 0 && argc - argi == 2) {
		r = xs_rm(&h, XS_NO_TX, path);
		if (r < 0)
			rc = report("rm", path, r);
	} else if (strcmp(cmd, "watch") == 0 && (argc - argi == 2 || argc - argi == 3)) {
		long count = argc - argi == 3 ? strtol(argv[argi + 2], NULL, 10) : -1;
		char epath[XS_PAYLOAD_MAX], token[XS_PAYLOAD_MAX];

		r = xs_watch(&h, path, "vpio-xs");
		if (r < 0)
			rc = report("watch", path, r);
		while (rc == 0 && count != 0) {
			r = xs_wait_event(&h, -1, epath, sizeof(epath), token, sizeof(token));
			if (r == -XS_EOVERFLOW) {
				printf("# events lost\n");
				continue;
			}
			if (r < 0) {
				rc = report("watch", path, r);
				break;
			}
			printf("%s\n", epath);
			fflush(stdout);
			if (count > 0)
				count--;
		}
	} else {
		fputs(usage, stderr);
		rc = 2;
	}
	xs_close(&h);
	return rc;
}
