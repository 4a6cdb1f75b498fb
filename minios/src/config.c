/* SPDX-License-Identifier: MIT */
/*
 * config.c - the configuration language (README.md "Configuration"):
 *
 *   config     := { statement }
 *   statement  := [ chain ] ";"            (the last ";" may be omitted)
 *   chain      := endpoint { "->" endpoint }
 *   endpoint   := [ "[" N "]" ] element [ "[" N "]" ]
 *   element    := NAME "::" CLASS [ "(" args ")" ]   declaration
 *               | CLASS "(" args ")"                 anonymous element
 *               | NAME                               a declared element, or an
 *                                                    anonymous CLASS without args
 *   comments   := "//" or "#" to the end of the line
 *
 * Every error is "config:LINE:COL: message" (1-based) at the token that is
 * wrong: unknown class, unknown element, duplicate name, bad argument (at
 * the argument), port out of range, output connected twice, unconnected
 * output (at the element's declaration), a cycle, a stray token.
 * Parsing allocates (elements, argument text); the data path never does.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "element.h"

enum tok { T_EOF, T_NAME, T_NUM, T_DCOLON, T_ARROW, T_LBRACK, T_RBRACK, T_LPAREN, T_SEMI, T_BAD };

struct lexer {
	const char *s;
	size_t pos;
	uint32_t line, col;
	/* the current token */
	enum tok t;
	char text[MO_NAME_MAX];
	uint32_t tline, tcol;
	size_t tstart;
};

static int set_err(struct mo_err *err, uint32_t line, uint32_t col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int set_err(struct mo_err *err, uint32_t line, uint32_t col, const char *fmt, ...)
{
	va_list ap;

	err->line = line;
	err->col = col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static void advance(struct lexer *lx)
{
	if (lx->s[lx->pos] == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	lx->pos++;
}

static void skip_space(struct lexer *lx)
{
	for (;;) {
		char c = lx->s[lx->pos];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			advance(lx);
		} else if (c == '#' || (c == '/' && lx->s[lx->pos + 1] == '/')) {
			while (lx->s[lx->pos] && lx->s[lx->pos] != '\n')
				advance(lx);
		} else {
			return;
		}
	}
}

static void next(struct lexer *lx)
{
	char c;

	skip_space(lx);
	lx->tline = lx->line;
	lx->tcol = lx->col;
	lx->tstart = lx->pos;
	lx->text[0] = '\0';
	c = lx->s[lx->pos];
	if (!c) {
		lx->t = T_EOF;
		return;
	}
	if (isalpha((unsigned char)c) || c == '_' || isdigit((unsigned char)c)) {
		size_t n = 0;
		int digits = 1;

		while (isalnum((unsigned char)lx->s[lx->pos]) || lx->s[lx->pos] == '_') {
			if (!isdigit((unsigned char)lx->s[lx->pos]))
				digits = 0;
			if (n + 1 < sizeof(lx->text))
				lx->text[n] = lx->s[lx->pos];
			n++;
			advance(lx);
		}
		lx->text[n < sizeof(lx->text) ? n : sizeof(lx->text) - 1] = '\0';
		lx->t = n >= sizeof(lx->text) ? T_BAD : digits ? T_NUM : T_NAME;
		if (n >= sizeof(lx->text))
			snprintf(lx->text, sizeof(lx->text), "name too long");
		return;
	}
	advance(lx);
	switch (c) {
	case ':':
		if (lx->s[lx->pos] == ':') {
			advance(lx);
			lx->t = T_DCOLON;
			return;
		}
		break;
	case '-':
		if (lx->s[lx->pos] == '>') {
			advance(lx);
			lx->t = T_ARROW;
			return;
		}
		break;
	case '[':
		lx->t = T_LBRACK;
		return;
	case ']':
		lx->t = T_RBRACK;
		return;
	case '(':
		lx->t = T_LPAREN;
		return;
	case ';':
		lx->t = T_SEMI;
		return;
	default:
		break;
	}
	lx->t = T_BAD;
	snprintf(lx->text, sizeof(lx->text), "%c", c);
}

static const char *tok_name(const struct lexer *lx)
{
	static char buf[MO_NAME_MAX + 8];

	switch (lx->t) {
	case T_EOF:
		return "end of input";
	case T_DCOLON:
		return "'::'";
	case T_ARROW:
		return "'->'";
	case T_LBRACK:
		return "'['";
	case T_RBRACK:
		return "']'";
	case T_LPAREN:
		return "'('";
	case T_SEMI:
		return "';'";
	default:
		snprintf(buf, sizeof(buf), "'%s'", lx->text);
		return buf;
	}
}

/*
 * After '(' : splits the text up to the matching ')' into trimmed arguments
 * (commas separate; comments run to the end of the line and are left out).
 */
static int read_args(struct lexer *lx, struct mo_args *as, struct mo_err *err)
{
	uint32_t oline = lx->tline, ocol = lx->tcol;
	char buf[512];

	as->n = 0;
	for (;;) {
		uint32_t aline = 0, acol = 0;
		size_t n = 0;
		char c;

		for (;;) {
			c = lx->s[lx->pos];
			if (c == '#' || (c == '/' && lx->s[lx->pos + 1] == '/')) {
				while (lx->s[lx->pos] && lx->s[lx->pos] != '\n')
					advance(lx);
				continue;
			}
			if (!c || c == ',' || c == ')' || c == '(')
				break;
			if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
				if (n && buf[n - 1] != ' ' && n + 1 < sizeof(buf))
					buf[n++] = ' '; /* runs of white space become one space */
			} else {
				if (!n) {
					aline = lx->line;
					acol = lx->col;
				}
				if (n + 1 >= sizeof(buf))
					return set_err(err, aline, acol, "argument longer than %zu bytes", sizeof(buf) - 1);
				buf[n++] = c;
			}
			advance(lx);
		}
		if (!c)
			return set_err(err, oline, ocol, "'(' is never closed");
		if (c == '(')
			return set_err(err, lx->line, lx->col, "'(' inside an argument list");
		while (n && buf[n - 1] == ' ')
			n--;
		if (!n) {
			if (c == ')' && as->n == 0) { /* () */
				advance(lx);
				return 0;
			}
			return set_err(err, lx->line, lx->col, "empty argument");
		}
		if (as->n >= MO_MAX_ARGS)
			return set_err(err, aline, acol, "more than %u arguments", MO_MAX_ARGS);
		as->v[as->n].text = strndup(buf, n);
		if (!as->v[as->n].text)
			return set_err(err, aline, acol, "out of memory");
		as->v[as->n].line = aline;
		as->v[as->n].col = acol;
		as->v[as->n].used = 0;
		as->n++;
		advance(lx); /* ',' or ')' */
		if (c == ')')
			return 0;
	}
}

static void free_args(struct mo_args *as)
{
	for (uint32_t i = 0; i < as->n; i++)
		free(as->v[i].text);
	as->n = 0;
}

static struct mo_element *instantiate(struct mo_runtime *rt, const char *name, const struct mo_class *cls,
				      struct mo_args *as, uint32_t line, uint32_t col, struct mo_err *err)
{
	struct mo_element *el;

	if (rt->nels >= MO_MAX_ELEMENTS) {
		set_err(err, line, col, "more than %u elements", MO_MAX_ELEMENTS);
		return NULL;
	}
	el = calloc(1, cls->size);
	if (!el) {
		set_err(err, line, col, "out of memory");
		return NULL;
	}
	el->cls = cls;
	el->rt = rt;
	snprintf(el->name, sizeof(el->name), "%s", name);
	el->line = line;
	el->col = col;
	el->nin = cls->nin;
	el->nout = cls->nout;
	as->line = line;
	as->col = col;
	rt->els[rt->nels++] = el; /* owned by rt from here, also on error */
	if (cls->configure && cls->configure(el, as, err))
		return NULL;
	if (mo_args_check(as, err))
		return NULL;
	if (el->nout > MO_MAX_OUT) {
		set_err(err, line, col, "%s has more than %u outputs", cls->name, MO_MAX_OUT);
		return NULL;
	}
	return el;
}

/* element := NAME "::" CLASS [ "(" args ")" ] | CLASS "(" args ")" | NAME; the current token is the NAME. */
static struct mo_element *parse_element(struct mo_runtime *rt, struct lexer *lx, uint32_t *anon, struct mo_err *err)
{
	char name[MO_NAME_MAX];
	uint32_t line = lx->tline, col = lx->tcol;
	struct mo_args as = { .n = 0 };
	const struct mo_class *cls;
	struct mo_element *el;

	if (lx->t != T_NAME) {
		set_err(err, lx->tline, lx->tcol, "expected an element, found %s", tok_name(lx));
		return NULL;
	}
	snprintf(name, sizeof(name), "%s", lx->text);
	next(lx);
	if (lx->t == T_DCOLON) {
		next(lx);
		if (lx->t != T_NAME) {
			set_err(err, lx->tline, lx->tcol, "expected a class name after '::', found %s", tok_name(lx));
			return NULL;
		}
		if (mo_rt_find(rt, name)) {
			set_err(err, line, col, "duplicate element name '%s'", name);
			return NULL;
		}
		cls = mo_class_find(rt, lx->text);
		if (!cls) {
			set_err(err, lx->tline, lx->tcol, "unknown class '%s'", lx->text);
			return NULL;
		}
		next(lx);
		if (lx->t == T_LPAREN) {
			if (read_args(lx, &as, err)) {
				free_args(&as);
				return NULL;
			}
			next(lx);
		}
		el = instantiate(rt, name, cls, &as, line, col, err);
		free_args(&as);
		return el;
	}
	if (lx->t != T_LPAREN) {
		el = mo_rt_find(rt, name);
		if (el)
			return el;
	}
	cls = mo_class_find(rt, name);
	if (!cls) {
		set_err(err, line, col, "unknown element '%s' (declare it with 'name :: Class(...)' first)", name);
		return NULL;
	}
	if (lx->t == T_LPAREN) {
		if (read_args(lx, &as, err)) {
			free_args(&as);
			return NULL;
		}
		next(lx);
	}
	{
		char aname[MO_NAME_MAX];

		snprintf(aname, sizeof(aname), "%s@%u", cls->name, ++*anon);
		el = instantiate(rt, aname, cls, &as, line, col, err);
	}
	free_args(&as);
	return el;
}

static int parse_port(struct lexer *lx, uint32_t *port, struct mo_err *err)
{
	uint32_t line, col;

	next(lx); /* past '[' */
	line = lx->tline;
	col = lx->tcol;
	if (lx->t != T_NUM || mo_parse_u32(lx->text, 0, MO_MAX_OUT - 1, port))
		return set_err(err, line, col, "expected a port number in [0, %u], found %s", MO_MAX_OUT - 1, tok_name(lx));
	next(lx);
	if (lx->t != T_RBRACK)
		return set_err(err, lx->tline, lx->tcol, "expected ']', found %s", tok_name(lx));
	next(lx);
	return 0;
}

static int connect(struct mo_element *from, uint32_t out, uint32_t oline, uint32_t ocol, struct mo_element *to,
		   uint32_t in, uint32_t iline, uint32_t icol, struct mo_err *err)
{
	if (out >= from->nout)
		return set_err(err, oline, ocol, "output port %u out of range: '%s' (%s) has %u output%s", out, from->name,
			       from->cls->name, from->nout, from->nout == 1 ? "" : "s");
	if (in >= to->nin)
		return set_err(err, iline, icol, "input port %u out of range: '%s' (%s) has %u input%s", in, to->name,
			       to->cls->name, to->nin, to->nin == 1 ? "" : "s");
	if (from->out[out].el)
		return set_err(err, oline, ocol, "output %u of '%s' is already connected (to '%s')", out, from->name,
			       from->out[out].el->name);
	from->out[out].el = to;
	from->out[out].port = in;
	to->in_conns++;
	return 0;
}

static int has_cycle(struct mo_element *el)
{
	if (el->visiting == 1)
		return 1;
	if (el->visiting == 2)
		return 0;
	el->visiting = 1;
	for (uint32_t i = 0; i < el->nout; i++)
		if (el->out[i].el && has_cycle(el->out[i].el))
			return 1;
	el->visiting = 2;
	return 0;
}

static int parse_statement(struct mo_runtime *rt, struct lexer *lx, uint32_t *anon, struct mo_err *err)
{
	struct mo_element *prev = NULL;
	uint32_t prev_out = 0, oline = 0, ocol = 0;

	for (;;) {
		uint32_t in = 0, iline = lx->tline, icol = lx->tcol;
		struct mo_element *el;

		if (lx->t == T_LBRACK) {
			if (!prev)
				return set_err(err, iline, icol, "an input port needs a '->' before it");
			if (parse_port(lx, &in, err))
				return -1;
		}
		el = parse_element(rt, lx, anon, err);
		if (!el)
			return -1;
		if (prev && connect(prev, prev_out, oline, ocol, el, in, iline, icol, err))
			return -1;
		prev_out = 0;
		oline = lx->tline;
		ocol = lx->tcol;
		if (lx->t == T_LBRACK) {
			if (parse_port(lx, &prev_out, err))
				return -1;
			if (lx->t != T_ARROW)
				return set_err(err, oline, ocol, "an output port needs a '->' after it");
		}
		if (lx->t == T_SEMI || lx->t == T_EOF)
			return 0;
		if (lx->t != T_ARROW)
			return set_err(err, lx->tline, lx->tcol, "expected '->' or ';', found %s", tok_name(lx));
		next(lx);
		prev = el;
	}
}

int mo_rt_configure(struct mo_runtime *rt, const char *text, struct mo_err *err)
{
	struct lexer lx = { .s = text, .line = 1, .col = 1 };
	uint32_t anon = 0, i, k;

	memset(err, 0, sizeof(*err));
	next(&lx);
	while (lx.t != T_EOF) {
		if (lx.t == T_SEMI) {
			next(&lx);
			continue;
		}
		if (lx.t == T_BAD)
			return set_err(err, lx.tline, lx.tcol, "unexpected %s", tok_name(&lx));
		if (parse_statement(rt, &lx, &anon, err))
			return -1;
		if (lx.t == T_SEMI)
			next(&lx);
	}
	if (!rt->nels)
		return set_err(err, lx.tline, lx.tcol, "no elements");
	for (i = 0; i < rt->nels; i++) {
		struct mo_element *el = rt->els[i];

		for (k = 0; k < el->nout; k++)
			if (!el->out[k].el)
				return set_err(err, el->line, el->col, "output %u of '%s' (%s) is not connected", k, el->name,
					       el->cls->name);
		if (el->nin && !el->in_conns)
			return set_err(err, el->line, el->col, "input of '%s' (%s) is not connected", el->name,
				       el->cls->name);
	}
	for (i = 0; i < rt->nels; i++)
		if (has_cycle(rt->els[i]))
			return set_err(err, rt->els[i]->line, rt->els[i]->col, "'%s' is part of a cycle (push paths must end)",
				       rt->els[i]->name);
	return 0;
}
