/* SPDX-License-Identifier: MIT */
/*
 * vpio-xdp-probe IFNAME: prints one JSON line saying whether this process
 * could run `vpio-uplink --wire xdp` (or --wire packet) on IFNAME, and in
 * which mode, without changing anything (csrc/wire_xdp_probe.c):
 *   {"packet":true,"xdp":{"possible":true,"mode":"copy","attach":"native",
 *    "driver":"veth","features":7,"why":"..."}}
 * Exit 0 when the probe ran (whatever the verdict), 2 on a usage error.
 */
#include <stdio.h>
#include <string.h>
#include "wire_xdp.h"

int main(int argc, char **argv)
{
	struct wire_xdp_probe p;
	char line[1024];

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: vpio-xdp-probe IFNAME\n");
		return 2;
	}
	if (strlen(argv[1]) >= 16) {
		fprintf(stderr, "vpio-xdp-probe: interface name too long: %s\n", argv[1]);
		return 2;
	}
	wire_xdp_probe(argv[1], &p);
	wire_xdp_probe_json(&p, line, sizeof(line));
	puts(line);
	return 0;
}
