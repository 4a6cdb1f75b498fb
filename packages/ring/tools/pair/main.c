/* SPDX-License-Identifier: MIT */
/*
 * vring-pair: command line. `run` is what people and the TS harness call;
 * `producer` and `consumer` are the peers `run` starts with the same
 * options (and the fds of pair.h). Every bad option is one line on stderr
 * naming the flag and what was expected, and exit status 2.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pair.h"

static const char usage_text[] =
	"usage: vring-pair run [options]\n"
	"\n"
	"Two processes move packets through one vpio ring (ring.h, ring_fe.h, ring_be.h)\n"
	"over a sealed memfd, with pipes as wake-up channels. Prints JSON lines on stdout:\n"
	"{\"type\":\"progress\",...} every --progress-ms, then one {\"type\":\"result\",...}.\n"
	"\n"
	"  --dir tx|rx            tx: guest produces, backend consumes (default);\n"
	"                         rx: backend produces, guest consumes\n"
	"  --wait event|poll      event: spin, then sleep with the kick protocol (default);\n"
	"                         poll: busy-poll, never sleep or signal\n"
	"  --spin N               empty polls before sleeping in event mode (default 2000)\n"
	"  --burst N              packets per burst, 1..1024 (default 32)\n"
	"  --len N                bytes per packet, 14..buf-size (default 64)\n"
	"  --slots N              ring slots, power of two 64..4096 (default 1024)\n"
	"  --buf-size N           bytes per buffer, 64..65535 (default 2048)\n"
	"  --packets N            packets to send (default 10000000)\n"
	"  --seconds S            send for S seconds instead (with --packets: whichever first)\n"
	"  --verify, --no-verify  stamp and check every packet (default on)\n"
	"  --inject-skip SEQ      producer skips sequence number SEQ (expect lost = 1)\n"
	"  --inject-corrupt SEQ   producer flips a payload byte of SEQ after the checksum\n"
	"  --inject-dup SEQ       producer sends SEQ twice (expect dup_or_reordered = 1)\n"
	"  --producer-sleep P     probability per batch (0..1) of a random 0..200 us nap\n"
	"  --consumer-sleep P     the same for the consumer\n"
	"  --seed N               PRNG seed for the naps (default 1)\n"
	"  --cpu-producer N       pin the producer to CPU N (default: not pinned)\n"
	"  --cpu-consumer N       pin the consumer to CPU N\n"
	"  --progress-ms N        a progress line every N ms (default 0: none)\n"
	"  --stall-ms N           kill both peers when no packet moved for N ms (default 10000)\n"
	"  --help                 this text\n"
	"\n"
	"Exit status: 0 ok, 1 ran but not ok (see the result), 2 usage error,\n"
	"3 stalled, 4 a peer or the setup failed.\n";

const char *pair_dir_name(enum pair_dir d)
{
	return d == PAIR_DIR_RX ? "rx" : "tx";
}

const char *pair_wait_name(enum pair_wait w)
{
	return w == PAIR_WAIT_POLL ? "poll" : "event";
}

static int bad(const char *flag, const char *expected, const char *got)
{
	if (got)
		fprintf(stderr, "vring-pair: %s: expected %s, got '%s'\n", flag, expected, got);
	else
		fprintf(stderr, "vring-pair: %s: expected %s\n", flag, expected);
	return -1;
}

static int parse_u64(const char *flag, const char *s, uint64_t min, uint64_t max, const char *what,
		     uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s)
		return bad(flag, what, NULL);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || s[0] == '+' || v < min || v > max)
		return bad(flag, what, s);
	*out = v;
	return 0;
}

static int parse_u32(const char *flag, const char *s, uint32_t min, uint32_t max, const char *what,
		     uint32_t *out)
{
	uint64_t v;

	if (parse_u64(flag, s, min, max, what, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_double(const char *flag, const char *s, double min, double max, int min_open,
			const char *what, double *out)
{
	char *end;
	double v;

	if (!s)
		return bad(flag, what, NULL);
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < min || v > max || (min_open && v == min))
		return bad(flag, what, s);
	*out = v;
	return 0;
}

static int parse_cpu(const char *flag, const char *s, int *out)
{
	uint64_t v;

	if (parse_u64(flag, s, 0, 1023, "a CPU number in [0, 1023]", &v))
		return -1;
	*out = (int)v;
	return 0;
}

static void defaults(struct pair_opts *o)
{
	memset(o, 0, sizeof *o);
	o->dir = PAIR_DIR_TX;
	o->wait = PAIR_WAIT_EVENT;
	o->spin = 2000;
	o->burst = 32;
	o->len = 64;
	o->slots = VRING_DEFAULT_SLOTS;
	o->buf_size = VRING_DEFAULT_BUF_SIZE;
	o->packets = 10000000;
	o->verify = 1;
	o->inject_skip = o->inject_corrupt = o->inject_dup = PAIR_NO_SEQ;
	o->seed = 1;
	o->cpu_producer = o->cpu_consumer = PAIR_NO_CPU;
	o->stall_ms = 10000;
}

/* One option at argv[*i] (its value, if any, at argv[*i + 1]). 0, 1 (help) or -1. */
static int parse_one(int argc, char **argv, int *i, struct pair_opts *o)
{
	const char *f = argv[*i];
	const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	const uint64_t seq_max = UINT64_MAX - 1;
	int rc;

	if (!strcmp(f, "--help") || !strcmp(f, "-h"))
		return 1;
	if (!strcmp(f, "--verify") || !strcmp(f, "--no-verify")) {
		o->verify = !strcmp(f, "--verify");
		return 0;
	}
	if (strncmp(f, "--", 2) != 0)
		return bad(f, "an option starting with --", NULL);
	(*i)++; /* every other option takes a value */
	if (!strcmp(f, "--dir")) {
		if (v && !strcmp(v, "tx"))
			o->dir = PAIR_DIR_TX;
		else if (v && !strcmp(v, "rx"))
			o->dir = PAIR_DIR_RX;
		else
			return bad(f, "tx or rx", v);
		return 0;
	}
	if (!strcmp(f, "--wait")) {
		if (v && !strcmp(v, "event"))
			o->wait = PAIR_WAIT_EVENT;
		else if (v && !strcmp(v, "poll"))
			o->wait = PAIR_WAIT_POLL;
		else
			return bad(f, "event or poll", v);
		return 0;
	}
	if (!strcmp(f, "--spin"))
		return parse_u32(f, v, 0, 100000000, "an integer in [0, 100000000]", &o->spin);
	if (!strcmp(f, "--burst"))
		return parse_u32(f, v, 1, PAIR_MAX_BURST, "an integer in [1, 1024]", &o->burst);
	if (!strcmp(f, "--len"))
		return parse_u32(f, v, VRING_ETH_HLEN, VRING_MAX_BUF_SIZE, "an integer in [14, 65535]", &o->len);
	if (!strcmp(f, "--slots")) {
		rc = parse_u32(f, v, VRING_MIN_SLOTS, VRING_MAX_SLOTS,
			       "a power of two in [64, 4096]", &o->slots);
		if (!rc && !vring_is_pow2(o->slots))
			return bad(f, "a power of two in [64, 4096]", v);
		return rc;
	}
	if (!strcmp(f, "--buf-size"))
		return parse_u32(f, v, VRING_MIN_BUF_SIZE, VRING_MAX_BUF_SIZE, "an integer in [64, 65535]",
				 &o->buf_size);
	if (!strcmp(f, "--packets")) {
		o->packets_set = 1;
		return parse_u64(f, v, 1, (uint64_t)1 << 53, "an integer in [1, 2^53]", &o->packets);
	}
	if (!strcmp(f, "--seconds"))
		return parse_double(f, v, 0, 86400, 1, "a number of seconds in (0, 86400]", &o->seconds);
	if (!strcmp(f, "--inject-skip"))
		return parse_u64(f, v, 0, seq_max, "a sequence number", &o->inject_skip);
	if (!strcmp(f, "--inject-corrupt"))
		return parse_u64(f, v, 0, seq_max, "a sequence number", &o->inject_corrupt);
	if (!strcmp(f, "--inject-dup"))
		return parse_u64(f, v, 0, seq_max, "a sequence number", &o->inject_dup);
	if (!strcmp(f, "--producer-sleep"))
		return parse_double(f, v, 0, 1, 0, "a probability in [0, 1]", &o->producer_sleep);
	if (!strcmp(f, "--consumer-sleep"))
		return parse_double(f, v, 0, 1, 0, "a probability in [0, 1]", &o->consumer_sleep);
	if (!strcmp(f, "--seed"))
		return parse_u64(f, v, 0, UINT64_MAX, "an unsigned 64-bit integer", &o->seed);
	if (!strcmp(f, "--cpu-producer"))
		return parse_cpu(f, v, &o->cpu_producer);
	if (!strcmp(f, "--cpu-consumer"))
		return parse_cpu(f, v, &o->cpu_consumer);
	if (!strcmp(f, "--progress-ms"))
		return parse_u32(f, v, 0, 3600000, "an integer in [0, 3600000]", &o->progress_ms);
	if (!strcmp(f, "--stall-ms"))
		return parse_u32(f, v, 100, 3600000, "an integer in [100, 3600000]", &o->stall_ms);
	return bad(f, "a known option (see --help)", NULL);
}

int pair_parse(int argc, char **argv, int first, struct pair_opts *o)
{
	int i, rc;

	defaults(o);
	for (i = first; i < argc; i++) {
		rc = parse_one(argc, argv, &i, o);
		if (rc)
			return rc;
	}
	if (o->len > o->buf_size)
		return bad("--len", "at most --buf-size bytes", NULL);
	if (!o->verify && (o->inject_skip != PAIR_NO_SEQ || o->inject_corrupt != PAIR_NO_SEQ ||
			   o->inject_dup != PAIR_NO_SEQ))
		return bad("--inject-*", "--verify (injected faults are only seen by the verifier)", NULL);
	if (o->seconds > 0 && !o->packets_set)
		o->packets = UINT64_MAX; /* time decides */
	return 0;
}

int main(int argc, char **argv)
{
	struct pair_opts o;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "vring-pair: expected a command: run, or --help\n");
		return PAIR_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(argv[1], "run") && strcmp(argv[1], "producer") && strcmp(argv[1], "consumer")) {
		fprintf(stderr, "vring-pair: %s: expected a command: run (or --help)\n", argv[1]);
		return PAIR_EXIT_USAGE;
	}
	rc = pair_parse(argc, argv, 2, &o);
	if (rc == 1) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (rc)
		return PAIR_EXIT_USAGE;
	if (!strcmp(argv[1], "run"))
		return pair_run(&o, argc, argv, 2);
	return pair_peer_main(&o, strcmp(argv[1], "producer") ? PAIR_CONSUMER : PAIR_PRODUCER);
}
