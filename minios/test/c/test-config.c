/* SPDX-License-Identifier: MIT */
/*
 * test-config: the configuration language (TAP, ASan + UBSan). Every error
 * must name its line and column; the shipped configs must parse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "element.h"
#include "vpio/tap.h"

static struct mo_sched sched;

static int parse(struct mo_runtime *rt, const char *text, struct mo_err *err)
{
	mo_sched_init(&sched);
	mo_rt_init(rt, &sched);
	return mo_rt_configure(rt, text, err);
}

/* The config fails at line:col with a message containing want. */
static void expect_err(const char *text, uint32_t line, uint32_t col, const char *want)
{
	struct mo_runtime rt;
	struct mo_err err;
	int rc = parse(&rt, text, &err);

	CHECK_EQ(rc, -1);
	if (rc == -1) {
		if (err.line != line || err.col != col || !strstr(err.msg, want)) {
			printf("# config: %s\n# got config:%u:%u: %s\n# want config:%u:%u: ...%s...\n", text, err.line,
			       err.col, err.msg, line, col, want);
			tap_case_failed = 1;
		}
	}
	mo_rt_fini(&rt);
}

static void t_grammar(void)
{
	struct mo_runtime rt;
	struct mo_err err;
	struct mo_element *c, *s;

	CHECK_EQ(parse(&rt,
		       "// a comment\n"
		       "src :: FromNetfront(0, MODE poll, BURST 32);  # another\n"
		       "cls :: Classifier(12/0806, // ARP\n"
		       "                  -);\n"
		       "src -> cls;\n"
		       "cls[0] -> c :: Counter -> s :: Sink;\n"
		       "cls[1] -> [0]s\n",
		       &err),
		 0);
	if (err.msg[0])
		printf("# %u:%u %s\n", err.line, err.col, err.msg);
	CHECK_EQ(rt.nels, 4);
	c = mo_rt_find(&rt, "c");
	s = mo_rt_find(&rt, "s");
	CHECK(c && s);
	CHECK(mo_rt_find(&rt, "cls")->out[1].el == s);
	CHECK(c && c->out[0].el == s);
	CHECK_EQ(mo_rt_find(&rt, "cls")->nout, 2);
	CHECK_EQ(rt.ndevs, 1);
	CHECK_EQ(rt.devs[0].mode, NF_MODE_POLL);
	mo_rt_fini(&rt);
}

static void t_anonymous(void)
{
	struct mo_runtime rt;
	struct mo_err err;

	CHECK_EQ(parse(&rt, "FromNetfront(3) -> EtherMirror -> Counter() -> ToNetfront(3);;", &err), 0);
	CHECK_EQ(rt.nels, 4);
	CHECK(mo_rt_find(&rt, "EtherMirror@2") != NULL);
	CHECK_EQ(rt.ndevs, 1);
	CHECK_EQ(rt.devs[0].devid, 3);
	mo_rt_fini(&rt);
}

static void t_errors(void)
{
	expect_err("a :: Foo;", 1, 6, "unknown class 'Foo'");
	expect_err("FromNetfront(0) -> x;", 1, 20, "unknown element 'x'");
	expect_err("c :: Counter;\nc :: Counter;", 2, 1, "duplicate element name 'c'");
	expect_err("FromNetfront(0) -> c :: Counter;", 1, 20, "output 0 of 'c' (Counter) is not connected");
	expect_err("FromNetfront(0) -> Counter -> [1]Sink;", 1, 31, "input port 1 out of range");
	expect_err("s :: FromNetfront(0);\ns[1] -> Sink;", 2, 2, "output port 1 out of range");
	expect_err("s :: FromNetfront(0) -> Sink;\ns -> Sink;", 2, 3, "already connected");
	expect_err("FromNetfront(0, MODE fast) -> Sink;", 1, 22, "MODE: expected 'event' or 'poll'");
	expect_err("FromNetfront(x) -> Sink;", 1, 14, "DEVID: expected an integer");
	expect_err("FromNetfront(0) -> Sink;\nSink(1);", 2, 6, "unexpected argument '1'");
	expect_err("x :: Counter\n  -> y :: Counter -> x;\nFromNetfront(0) -> x;", 1, 1, "cycle");
	expect_err("FromNetfront(0) -> Sink(", 1, 24, "'(' is never closed");
	expect_err("FromNetfront(0) -> Sink $", 1, 25, "expected '->' or ';'");
	expect_err("FromNetfront(0) -> ;", 1, 20, "expected an element");
	expect_err("", 1, 1, "no elements");
	expect_err("a :: ;", 1, 6, "expected a class name");
	expect_err("[0]Sink;", 1, 1, "input port needs a '->'");
	expect_err("FromNetfront(0)[0];", 1, 16, "output port needs a '->'");
	expect_err("FromNetfront(0) -> Classifier(12/08x0, -) -> Sink;", 1, 31, "bad pattern term '12/08x0'");
}

static void t_unconnected_classifier(void)
{
	/* two patterns, only output 0 connected */
	expect_err("src :: FromNetfront(0);\ncls :: Classifier(12/0800, -);\nsrc -> cls -> Sink;", 2, 1,
		   "output 1 of 'cls' (Classifier) is not connected");
	expect_err("Sink;\n\n   x :: Counter -> Sink;", 1, 1, "input of 'Sink@1' (Sink) is not connected");
}

static void t_arg_errors(void)
{
	expect_err("FromNetfront(0) -> IPFilter(allow src 10.0.0.0/33) -> Sink;", 1, 29, "rule 0");
	expect_err("FromNetfront(0) -> IPFilter(allow udp,\n   permit all) -> Sink;", 2, 4, "rule 1: a rule starts with");
	expect_err("FromNetfront(0) -> IPFilter(allow udp && dst port 99999) -> Sink;", 1, 29, "expected a port");
	expect_err("FromNetfront(0) -> IPFilter(allow udp tcp) -> Sink;", 1, 29, "expected '&&'");
	expect_err("FromNetfront(0) -> IPFilter(allow src 10.0.0.1/8) -> Sink;", 1, 29, "bad IPv4");
	expect_err("FromNetfront(0) -> ARPResponder(10.0.0.256) -> Sink;", 1, 33, "expected an IPv4 address");
	expect_err("FromNetfront(0) -> ARPResponder(10.0.0.1 zz:00) -> Sink;", 1, 33, "expected a MAC address");
	expect_err("FromNetfront(0) -> ICMPv6Responder(fd00::g) -> Sink;", 1, 36, "expected an IPv6 address");
	expect_err("Pktgen(auto, 02:00:00:00:00:02, 10.0.0.1, 10.0.0.2, 59, 0, 0, 8) -> Sink;", 1, 53,
		   "LEN: expected an integer in [60, 1514]");
	expect_err("Pktgen(auto, auto, 10.0.0.1, 10.0.0.2, 60, 0, 0, 8) -> Sink;", 1, 1, "DST_MAC: a MAC address is required");
	expect_err("Pktgen(auto, 02:00:00:00:00:02, 10.0.0.1, 10.0.0.2, 60, 0, 0, 8, DPORT 0) -> Sink;", 1, 72,
		   "DPORT: expected an integer in [1, 65535], found '0'");
	expect_err("Pktgen(auto, 02:00:00:00:00:02, 10.0.0.1) -> Sink;", 1, 1, "missing argument DST_IP");
	expect_err("FromNetfront(0) -> p :: Pinger(10.0.0.1, fd00::1) -> Sink;", 1, 42, "DST_IP: expected an IPv4");
	expect_err("FromNetfront(0) -> p :: Pinger(10.0.0.1, 10.0.0.2, auto, 0) -> Sink;", 1, 58, "INTERVAL");
	expect_err("FromNetfront(0) -> EtherRewrite(SRC auto, DST 1:2:3) -> Sink;", 1, 47, "DST: expected a MAC");
	expect_err("FromNetfront(0) -> Classifier() -> Sink;", 1, 20, "at least one pattern");
	expect_err("FromNetfront(0) -> Classifier(12/0800,, -) -> Sink;", 1, 39, "empty argument");
}

static void t_shipped(void)
{
	/* each with the number of vifs it drives */
	static const struct {
		const char *file;
		uint32_t ndevs;
	} files[] = {
		{ "configs/firewall.click", 1 }, { "configs/mirror.click", 1 },
		{ "configs/pktgen.click", 1 }, { "configs/sink.click", 1 },
		{ "configs/ping-responder.click", 1 }, { "configs/pinger.click", 1 },
		{ "configs/bridge-firewall.click", 2 },
	};

	for (unsigned i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		static char text[65536];
		struct mo_runtime rt;
		struct mo_err err;
		FILE *f = fopen(files[i].file, "r");
		size_t n;

		CHECK(f != NULL);
		if (!f)
			continue;
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
		if (parse(&rt, text, &err)) {
			printf("# %s:%u:%u: %s\n", files[i].file, err.line, err.col, err.msg);
			tap_case_failed = 1;
		}
		CHECK_EQ(rt.ndevs, files[i].ndevs);
		mo_rt_fini(&rt);
	}
}

int main(void)
{
	tap_run("declarations, connections, ports, comments and keyword arguments wire the graph", t_grammar);
	tap_run("anonymous elements get Class@N names; repeated ';' are fine", t_anonymous);
	tap_run("grammar errors name line and column (unknown class/element, duplicate, ports, cycle, syntax)",
		t_errors);
	tap_run("unconnected outputs and inputs are reported at the element's declaration", t_unconnected_classifier);
	tap_run("bad element arguments are reported at the argument", t_arg_errors);
	tap_run("every shipped config in configs/ parses", t_shipped);
	return tap_done();
}
