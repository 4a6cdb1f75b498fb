/* SPDX-License-Identifier: MIT */
/* The core's strict parsers at their boundaries (the rules of @vpio/vif's parse.ts). */
#include <string.h>

#include "nf_internal.h"
#include "vpio/tap.h"

#define P(fn, s, out) fn((s), (uint32_t)strlen(s), (out))
#define P2(s, present, out) nf_backend_verdict((s), (uint32_t)strlen(s), (present), (out))

static void test_u32(void)
{
	uint32_t v = 0;

	CHECK_EQ(P(nf_parse_u32, "0", &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(P(nf_parse_u32, "4294967295", &v), 0);
	CHECK_EQ(v, 4294967295u);
	CHECK_EQ(P(nf_parse_u32, "4294967296", &v), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_u32, "99999999999", &v), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_u32, "", &v), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_u32, "007", &v), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_u32, "-1", &v), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_u32, "+1", &v), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_u32, " 1", &v), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_u32, "1 ", &v), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_u32, "0x10", &v), -VP_EINVAL);
	CHECK_EQ(nf_parse_u32("12\0", 3, &v), -VP_EINVAL);
}

static void test_slots(void)
{
	uint32_t v, n, ok = 0;
	char buf[8];

	for (n = 0; n <= 8192; n++) {
		int len = 0;
		uint32_t m = n;
		char tmp[8];

		do
			tmp[len++] = (char)('0' + m % 10);
		while ((m /= 10));
		for (int i = 0; i < len; i++)
			buf[i] = tmp[len - 1 - i];
		if (nf_parse_slots(buf, (uint32_t)len, &v) == 0) {
			CHECK_EQ(v, n);
			ok++;
		}
	}
	CHECK_EQ(ok, 7); /* 64, 128, ..., 4096 */
}

static void test_ranges(void)
{
	uint32_t v;

	CHECK_EQ(P(nf_parse_state, "8", &v), 0);
	CHECK_EQ(P(nf_parse_state, "9", &v), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_ref_count, "0", &v), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_ref_count, "17", &v), 0);
	CHECK_EQ(P(nf_parse_ref_count, "18", &v), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_queue_count, "0", &v), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_queue_count, "1", &v), 0);
	CHECK_EQ(P(nf_parse_queue_count, "8", &v), 0);
	CHECK_EQ(v, 8u);
	CHECK_EQ(P(nf_parse_queue_count, "9", &v), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_queue_count, "02", &v), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_gref, "7", &v), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_gref, "8", &v), 0);
	CHECK_EQ(P(nf_parse_port, "0", &v), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_port, "131071", &v), 0);
	CHECK_EQ(P(nf_parse_port, "131072", &v), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_mtu, "67", &v), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_mtu, "65535", &v), 0);
}

static void test_mac(void)
{
	uint8_t m[6] = { 0 };

	CHECK_EQ(P(nf_parse_mac, "02:AB:cd:00:00:01", m), 0);
	CHECK_EQ(m[1], 0xab);
	CHECK_EQ(m[5], 1);
	CHECK_EQ(P(nf_parse_mac, "03:00:00:00:00:01", m), -VP_EINVAL); /* multicast */
	CHECK_EQ(P(nf_parse_mac, "02-00-00-00-00-01", m), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_mac, "02:00:00:00:00", m), -VP_EINVAL);
	CHECK_EQ(P(nf_parse_mac, "02:00:00:00:00:0g", m), -VP_EINVAL);
}

static void test_backend_verdict(void)
{
	static const char *const not_connected[] = { "0", "1", "2", "3", "5", "6", "7", "8" };
	static const char *const garbled[] = { "", "9", "04", "4 ", " 4", "-4", "4\n", "Connected", "44", "0x4" };
	uint32_t st = 0, i;

	CHECK_EQ(P2("4", 1, &st), 1);
	CHECK_EQ(st, VIF_STATE_CONNECTED);
	for (i = 0; i < sizeof(not_connected) / sizeof(not_connected[0]); i++) {
		st = 4;
		CHECK_EQ(P2(not_connected[i], 1, &st), 0);
		CHECK_EQ(st, (uint32_t)(not_connected[i][0] - '0'));
	}
	CHECK_EQ(P2("5", 1, &st), 0);
	CHECK_EQ(st, VIF_STATE_CLOSING);
	for (i = 0; i < sizeof(garbled) / sizeof(garbled[0]); i++) {
		st = 4;
		CHECK_EQ(P2(garbled[i], 1, &st), 0);
		CHECK_EQ(st, NF_BACKEND_GARBLED);
	}
	CHECK_EQ(nf_backend_verdict("4\0", 2, 1, &st), 0); /* an embedded NUL is not "4" */
	CHECK_EQ(st, NF_BACKEND_GARBLED);
	/* no node (or its directory removed): gone, whatever the buffer holds */
	CHECK_EQ(P2("4", 0, &st), 0);
	CHECK_EQ(st, NF_BACKEND_GONE);
	CHECK_EQ(nf_backend_verdict("", 0, 0, &st), 0);
	CHECK_EQ(st, NF_BACKEND_GONE);
}

static void test_shown(void)
{
	char buf[64];
	struct nf_str s;

	nf_str_init(&s, buf, sizeof(buf));
	nf_str_add(&s, "x: got ");
	nf_str_add_shown(&s, "a\x01\"b", 4, 32);
	CHECK_STR(buf, "x: got \"a??b\"");
	nf_str_init(&s, buf, 8);
	nf_str_add(&s, "0123456789");
	CHECK(s.overflow);
	CHECK_STR(buf, "0123456");
}

int main(void)
{
	tap_run("decimal u32: digits only, no sign, spaces or leading zero, overflow refused", test_u32);
	tap_run("ring sizes: exactly the powers of two 64..4096", test_slots);
	tap_run("state, ref count, gref, port and MTU ranges at their boundaries", test_ranges);
	tap_run("MAC: xx:xx:xx:xx:xx:xx, either case, unicast only", test_mac);
	tap_run("backend state verdict: only \"4\" is Connected; other states, garbage and a missing node are not", test_backend_verdict);
	tap_run("error texts: garbage shown printable and quoted, bounded strings", test_shown);
	return tap_done();
}
