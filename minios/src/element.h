/* SPDX-License-Identifier: MIT */
/*
 * element.h - minios's Click-like packet elements and the runtime that
 * wires them (the "push" model): an element receives a batch of packet
 * references on an input port, may rewrite packets in place, and pushes
 * sub-batches to its outputs; a packet not pushed on is dropped. A batch
 * is at most MO_BURST references; nothing is allocated per packet.
 *
 * A packet reference names where the bytes live, so the sending end can
 * avoid copies: ORIG_RX (a received buffer of vif `dev`, RX offset `off`
 * from the ring head: ToNetfront on that vif swaps the buffer into a TX
 * slot), ORIG_TX (a TX buffer of vif `dev` reserved in place at TX offset
 * `off`, e.g. by Pktgen: committed where it lies) or ORIG_LOCAL (element
 * memory: copied into a TX buffer).
 *
 * The runtime (element graph, config, classes) is plain C over this
 * header, sched.h and vpio/netfront_zc.h; the host glue (main.c) connects
 * the vifs and provides the descriptors to wait on and the output line
 * sink, so a Xen PV build can reuse everything but main.c.
 */
#ifndef MINIOS_ELEMENT_H
#define MINIOS_ELEMENT_H

#include <stddef.h>
#include <stdint.h>

#include "sched.h"
#include "vpio/netfront_zc.h"

#define MO_BURST 256u
#define MO_MAX_ELEMENTS 128u
#define MO_MAX_OUT 16u
#define MO_MAX_DEVS 8u
#define MO_MAX_ARGS 32u
#define MO_NAME_MAX 48u

enum mo_origin { MO_ORIG_LOCAL = 0, MO_ORIG_RX = 1, MO_ORIG_TX = 2 };

struct mo_pkt {
	uint8_t *data;
	uint16_t len;
	uint8_t origin; /* enum mo_origin */
	uint8_t dev;    /* index into rt->devs (ORIG_RX / ORIG_TX) */
	uint32_t off;   /* ring offset from the head (ORIG_RX / ORIG_TX) */
};

/* One config argument: text (NUL-terminated, trimmed) and where it starts. */
struct mo_arg {
	char *text;
	uint32_t line, col;
	int used;
};

struct mo_args {
	struct mo_arg v[MO_MAX_ARGS];
	uint32_t n;
	uint32_t line, col; /* of the element declaration (errors about missing arguments) */
};

/* A config error: "config:LINE:COL: message". */
struct mo_err {
	uint32_t line, col;
	char msg[200];
};

struct mo_element;
struct mo_runtime;

/* A JSON object under construction (stats lines). */
struct mo_json {
	char *buf;
	size_t cap, len;
};

struct mo_class {
	const char *name;
	size_t size;   /* bytes of the element struct (starts with struct mo_element) */
	uint32_t nin;  /* inputs: 0 (a source) or 1 */
	uint32_t nout; /* outputs; configure() may change el->nout (Classifier) */
	/* Parses arguments (mo_arg_* helpers); 0, or -1 with *err filled. */
	int (*configure)(struct mo_element *el, struct mo_args *a, struct mo_err *err);
	/* After the vifs are connected: resolve MACs, spawn threads. 0 or -errno. */
	int (*start)(struct mo_element *el);
	/* A batch on input `port`; may rewrite packets and reorder p[]. */
	void (*push)(struct mo_element *el, uint32_t port, struct mo_pkt *p, uint32_t n);
	/* Class counters into the element's stats object. */
	void (*stats)(struct mo_element *el, struct mo_json *j);
};

struct mo_conn {
	struct mo_element *el;
	uint32_t port;
};

struct mo_element {
	const struct mo_class *cls;
	struct mo_runtime *rt;
	char name[MO_NAME_MAX];
	uint32_t line, col; /* declaration */
	uint32_t nin, nout;
	struct mo_conn out[MO_MAX_OUT];
	uint32_t in_conns;
	uint64_t in_pkts; /* packets pushed into this element */
	int visiting;     /* cycle check */
};

/* A vif the configuration uses. */
struct mo_dev {
	uint32_t devid;
	enum nf_mode mode;
	struct nf_dev *nf; /* set by the glue before start */
	int rx_fd, tx_fd;  /* descriptors to poll for the channels (-1: none) */
	uint8_t mac[6];
};

struct mo_runtime {
	struct mo_sched *sched;
	struct mo_element *els[MO_MAX_ELEMENTS];
	uint32_t nels;
	struct mo_dev devs[MO_MAX_DEVS];
	uint32_t ndevs;
	int stopping;
	uint64_t (*now_ns)(void *ctx); /* injectable clock for Pinger/Pktgen */
	void *now_ctx;
	void (*emit)(void *ctx, const char *line); /* one JSON line, no newline */
	void *emit_ctx;
	const struct mo_class *const *extra_classes; /* NULL-terminated, searched after the built-ins (tests) */
};

/* ------------------------------------------------------------------------ */
/* Runtime                                                                    */

void mo_rt_init(struct mo_runtime *rt, struct mo_sched *sched);
/* Parses and wires a configuration (config.c); 0, or -1 with *err filled. */
int mo_rt_configure(struct mo_runtime *rt, const char *text, struct mo_err *err);
/* Calls every element's start() (vifs connected); 0 or the first -errno. */
int mo_rt_start(struct mo_runtime *rt);
/* Writes {"event":"stats","elements":{...}} through rt->emit. */
void mo_rt_emit_stats(struct mo_runtime *rt, const char *event);
/* Frees the elements. */
void mo_rt_fini(struct mo_runtime *rt);
struct mo_element *mo_rt_find(struct mo_runtime *rt, const char *name);
const struct mo_class *mo_class_find(const struct mo_runtime *rt, const char *name);
/* The runtime's index of vif devid (registered on first use with mode), or -1 when full. */
int mo_rt_dev(struct mo_runtime *rt, uint32_t devid, enum nf_mode mode);
uint64_t mo_now(const struct mo_runtime *rt);
void mo_emit(struct mo_runtime *rt, const char *line);

/* Pushes n packets to output `out` of el (n may be 0). */
static inline void mo_push(struct mo_element *el, uint32_t out, struct mo_pkt *p, uint32_t n)
{
	struct mo_conn *c = &el->out[out];

	if (n && c->el) {
		c->el->in_pkts += n;
		c->el->cls->push(c->el, c->port, p, n);
	}
}

/* ------------------------------------------------------------------------ */
/* Argument helpers (configure)                                               */

/* Sets *err at arg a (or at the declaration when a is NULL); returns -1. */
int mo_err_at(struct mo_err *err, const struct mo_args *as, const struct mo_arg *a, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * The argument given as keyword KEY ("KEY value": the value) or else the
 * idx-th positional argument (idx < 0: keyword only). NULL when absent.
 * Marks it used; mo_args_check() reports any argument left unused.
 */
struct mo_arg *mo_arg_get(struct mo_args *as, int idx, const char *key);
int mo_args_check(struct mo_args *as, struct mo_err *err);

int mo_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
int mo_parse_mac(const char *s, uint8_t mac[6]);
int mo_parse_ip4(const char *s, uint32_t *ip);                 /* host byte order */
int mo_parse_ip4_prefix(const char *s, uint32_t *ip, uint32_t *plen); /* a.b.c.d[/n] */
int mo_parse_ip6(const char *s, uint8_t ip[16]);

/* Required/optional typed arguments: 0, 1 (absent, optional) or -1 (*err set). */
int mo_arg_u32(struct mo_args *as, int idx, const char *key, uint32_t min, uint32_t max, int required,
	       uint32_t *out, struct mo_err *err);
int mo_arg_mac(struct mo_args *as, int idx, const char *key, int required, uint8_t mac[6], struct mo_err *err);
int mo_arg_ip4(struct mo_args *as, int idx, const char *key, int required, uint32_t *ip, struct mo_err *err);

/* ------------------------------------------------------------------------ */
/* JSON helpers                                                               */

void mo_json_init(struct mo_json *j, char *buf, size_t cap);
void mo_json_raw(struct mo_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mo_json_u64(struct mo_json *j, const char *key, uint64_t v);
void mo_json_str(struct mo_json *j, const char *key, const char *v);

/* The built-in classes (NULL-terminated). */
extern const struct mo_class *const mo_builtin_classes[];

#endif /* MINIOS_ELEMENT_H */
