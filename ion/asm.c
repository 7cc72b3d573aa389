/* asm.c - reading assembly text back into units (the inverse of disasm.c). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "ion/asm.h"
#include "ion/include/ion.h"

struct ap {
	const char *p, *end; /* the rest of the current line */
	int line;
	struct ion_unit *u;
	char *err;
	size_t errlen;
	int rc;
};

static int afail(struct ap *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int afail(struct ap *a, const char *fmt, ...)
{
	if (a->rc)
		return a->rc;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(a->err, a->errlen, "line %d: %s", a->line, msg);
	a->rc = ION_E_FORMAT;
	return a->rc;
}

static void ws(struct ap *a)
{
	while (a->p < a->end && (*a->p == ' ' || *a->p == '\t' || *a->p == '\r'))
		a->p++;
}

static int at_end(struct ap *a)
{
	ws(a);
	return a->p >= a->end || *a->p == ';';
}

static int peek(struct ap *a)
{
	ws(a);
	return a->p < a->end ? (unsigned char)*a->p : -1;
}

static int accept(struct ap *a, char c)
{
	if (peek(a) == c) {
		a->p++;
		return 1;
	}
	return 0;
}

static void expect(struct ap *a, char c)
{
	if (!accept(a, c))
		afail(a, "expected '%c'", c);
}

static int word(struct ap *a, const char *w)
{
	ws(a);
	size_t n = strlen(w);
	if ((size_t)(a->end - a->p) >= n && memcmp(a->p, w, n) == 0 &&
	    (a->p + n == a->end || !(isalnum((unsigned char)a->p[n]) || a->p[n] == '_'))) {
		a->p += n;
		return 1;
	}
	return 0;
}

static long integer(struct ap *a, long lo, long hi)
{
	ws(a);
	char *e;
	errno = 0;
	long v = a->p < a->end ? strtol(a->p, &e, 10) : 0;
	if (a->p >= a->end || e == a->p || e > a->end || errno) {
		afail(a, "expected an integer");
		return 0;
	}
	a->p = e;
	if (v < lo || v > hi)
		afail(a, "%ld out of range %ld..%ld", v, lo, hi);
	return v;
}

static double number(struct ap *a)
{
	ws(a);
	if (a->end - a->p >= 4 && memcmp(a->p, "f64(", 4) == 0) { /* exact bits */
		char *e;
		a->p += 4;
		unsigned long long bits = strtoull(a->p, &e, 16);
		if (e == a->p || e >= a->end || *e != ')') {
			afail(a, "expected f64(0x...)");
			return 0;
		}
		a->p = e + 1;
		double d;
		memcpy(&d, &bits, sizeof d);
		return d;
	}
	int neg = 0;
	const char *s = a->p;
	if (s < a->end && *s == '-') {
		neg = 1;
		s++;
	}
	if (a->end - s >= 3 && memcmp(s, "nan", 3) == 0) {
		a->p = s + 3;
		return neg ? -NAN : NAN;
	}
	if (a->end - s >= 3 && memcmp(s, "inf", 3) == 0) {
		a->p = s + 3;
		return neg ? -INFINITY : INFINITY;
	}
	char buf[64];
	size_t n = 0;
	while (a->p + n < a->end && n < sizeof buf - 1 && strchr("0123456789+-.eE", a->p[n]))
		n++;
	memcpy(buf, a->p, n);
	buf[n] = 0;
	char *e;
	double d = strtod(buf, &e);
	if (n == 0 || *e)
		afail(a, "expected a number");
	a->p += n;
	return d;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void qstr(struct ap *a, struct ion_bytes *out)
{
	expect(a, '"');
	if (a->rc)
		return;
	char *buf = malloc((size_t)(a->end - a->p) + 1);
	size_t n = 0;
	if (!buf) {
		afail(a, "out of memory");
		return;
	}
	while (a->p < a->end && *a->p != '"') {
		char c = *a->p++;
		if (c == '\\' && a->p < a->end) {
			char e = *a->p++;
			if (e == 'n') {
				c = '\n';
			} else if (e == 't') {
				c = '\t';
			} else if (e == 'x' && a->end - a->p >= 2 && hexval(a->p[0]) >= 0 && hexval(a->p[1]) >= 0) {
				c = (char)(hexval(a->p[0]) * 16 + hexval(a->p[1]));
				a->p += 2;
			} else {
				c = e;
			}
		}
		buf[n++] = c;
	}
	if (a->p >= a->end)
		afail(a, "unterminated string");
	else
		a->p++;
	if (!a->rc && ion_unit_bytes(a->u, out, buf, n))
		afail(a, "out of memory");
	free(buf);
}

/* ---- growable scratch lists, copied into the unit's arena when done ---- */

struct vec {
	void *p;
	size_t n, cap, size;
};

static void *vec_push(struct ap *a, struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		void *np = realloc(v->p, cap * v->size);
		if (!np) {
			afail(a, "out of memory");
			return NULL;
		}
		v->p = np;
		v->cap = cap;
	}
	void *slot = (char *)v->p + v->n++ * v->size;
	memset(slot, 0, v->size);
	return slot;
}

static void *vec_finish(struct ap *a, struct vec *v)
{
	void *out = NULL;
	if (!a->rc && v->n) {
		out = ion_unit_alloc(a->u, v->n * v->size);
		if (out)
			memcpy(out, v->p, v->n * v->size);
		else
			afail(a, "out of memory");
	}
	free(v->p);
	v->p = NULL;
	return out;
}

static void konst(struct ap *a, struct ion_kconst *k, int depth);

static void pat(struct ap *a, struct ion_kpat *p, int depth)
{
	if (depth > ION_NEST_MAX) {
		afail(a, "pattern nested too deep");
		return;
	}
	int c = peek(a);
	if (c == '_') {
		a->p++;
		p->tag = ION_PAT_WILD;
	} else if (c == '$') {
		a->p++;
		p->tag = ION_PAT_BIND;
		p->reg = (uint8_t)integer(a, 0, 255);
	} else if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		struct vec v = { .size = sizeof(struct ion_kpat) };
		a->p++;
		p->tag = c == '{' ? ION_PAT_TUPLE : ION_PAT_ARRAY;
		while (!a->rc && !accept(a, close)) {
			if (v.n && !accept(a, ','))
				afail(a, "expected ',' or '%c'", close);
			struct ion_kpat *it = a->rc ? NULL : vec_push(a, &v);
			if (it)
				pat(a, it, depth + 1);
		}
		p->n = (uint16_t)v.n;
		p->items = vec_finish(a, &v);
	} else {
		p->tag = ION_PAT_LIT;
		p->lit = ion_unit_alloc(a->u, sizeof *p->lit);
		if (!p->lit)
			afail(a, "out of memory");
		else
			konst(a, p->lit, depth + 1);
	}
}

static void konst_list(struct ap *a, struct ion_kconst *k, char close, int depth)
{
	struct vec v = { .size = sizeof(struct ion_kconst) };
	while (!a->rc && !accept(a, close)) {
		if (v.n && !accept(a, ','))
			afail(a, "expected ',' or '%c'", close);
		struct ion_kconst *it = a->rc ? NULL : vec_push(a, &v);
		if (it)
			konst(a, it, depth + 1);
	}
	k->n = (uint32_t)v.n;
	k->items = vec_finish(a, &v);
}

static void konst_object(struct ap *a, struct ion_kconst *k, int depth)
{
	struct vec keys = { .size = sizeof(struct ion_kprop) }, vals = { .size = sizeof(struct ion_kconst) };
	k->kind = ION_K_OBJECT;
	qstr(a, &k->s);
	expect(a, '{');
	while (!a->rc && !accept(a, '}')) {
		if (keys.n && !accept(a, ','))
			afail(a, "expected ',' or '}'");
		struct ion_kprop *kp = a->rc ? NULL : vec_push(a, &keys);
		struct ion_kconst *kv = kp ? vec_push(a, &vals) : NULL;
		if (!kv)
			break;
		qstr(a, &kp->key);
		expect(a, '/');
		kp->flags = (uint8_t)integer(a, 0, 7);
		expect(a, ':');
		konst(a, kv, depth + 1);
	}
	k->n = (uint32_t)keys.n;
	k->props = vec_finish(a, &keys);
	k->items = vec_finish(a, &vals);
}

static void konst_match(struct ap *a, struct ion_kconst *k, int depth)
{
	struct vec pats = { .size = sizeof(struct ion_kpat) }, tg = { .size = sizeof(uint16_t) };
	k->kind = ION_K_MATCH;
	expect(a, '(');
	while (!a->rc && !accept(a, ')')) {
		if (pats.n && !accept(a, ','))
			afail(a, "expected ',' or ')'");
		struct ion_kpat *p = a->rc ? NULL : vec_push(a, &pats);
		uint16_t *t = p ? vec_push(a, &tg) : NULL;
		if (!t)
			break;
		pat(a, p, depth + 1);
		expect(a, '-');
		expect(a, '>');
		*t = (uint16_t)integer(a, 0, 65535);
	}
	k->n = (uint32_t)pats.n;
	k->pats = vec_finish(a, &pats);
	k->targets = vec_finish(a, &tg);
}

static void konst(struct ap *a, struct ion_kconst *k, int depth)
{
	if (depth > ION_NEST_MAX) {
		afail(a, "constant nested too deep");
		return;
	}
	int c = peek(a);
	if (c == '"') {
		k->kind = ION_K_STRING;
		qstr(a, &k->s);
	} else if (c == ':') {
		a->p++;
		k->kind = ION_K_ATOM;
		qstr(a, &k->s);
	} else if (c == '{' || c == '[') {
		a->p++;
		k->kind = c == '{' ? ION_K_TUPLE : ION_K_ARRAY;
		konst_list(a, k, c == '{' ? '}' : ']', depth);
	} else if (c == '#') {
		a->p++;
		konst_object(a, k, depth);
	} else if (word(a, "nil")) {
		k->kind = ION_K_NIL;
	} else if (word(a, "false")) {
		k->kind = ION_K_FALSE;
	} else if (word(a, "true")) {
		k->kind = ION_K_TRUE;
	} else if (word(a, "complex")) {
		k->kind = ION_K_COMPLEX;
		expect(a, '(');
		k->num = number(a);
		expect(a, ',');
		k->im = number(a);
		expect(a, ')');
	} else if (word(a, "func")) {
		k->kind = ION_K_FUNCREF;
		expect(a, '(');
		qstr(a, &k->s);
		expect(a, ',');
		qstr(a, &k->s2);
		expect(a, ')');
	} else if (word(a, "native")) {
		k->kind = ION_K_NATIVE;
		expect(a, '(');
		qstr(a, &k->s);
		expect(a, ')');
	} else if (word(a, "match")) {
		konst_match(a, k, depth);
	} else {
		k->kind = ION_K_NUMBER;
		k->num = number(a);
	}
}

/* ---- lines and sections ---- */

struct asm_state {
	struct ap a;
	struct ion_asm_pack *out;
	struct vec consts, funcs, code, upk, upi;
	int in_func;
};

static void finish_func(struct asm_state *s)
{
	struct ap *a = &s->a;
	struct ion_kfunc *f = (struct ion_kfunc *)s->funcs.p + s->funcs.n - 1;
	f->ncode = (uint32_t)s->code.n;
	f->nup = (uint16_t)s->upk.n;
	f->code = vec_finish(a, &s->code);
	f->upkind = vec_finish(a, &s->upk);
	f->upidx = vec_finish(a, &s->upi);
	s->code = (struct vec){ .size = 8 };
	s->upk = (struct vec){ .size = 1 };
	s->upi = (struct vec){ .size = 2 };
	s->in_func = 0;
}

static void finish_class(struct asm_state *s)
{
	struct ap *a = &s->a;
	if (!a->u)
		return;
	if (s->in_func)
		afail(a, "function without .end");
	a->u->nk = (uint32_t)s->consts.n;
	a->u->nf = (uint32_t)s->funcs.n;
	a->u->k = vec_finish(a, &s->consts);
	a->u->f = vec_finish(a, &s->funcs);
	s->consts = (struct vec){ .size = sizeof(struct ion_kconst) };
	s->funcs = (struct vec){ .size = sizeof(struct ion_kfunc) };
	a->u = NULL;
}

static void start_class(struct asm_state *s)
{
	struct ap *a = &s->a;
	finish_class(s);
	struct ion_asm_pack *o = s->out;
	struct ion_unit **nu = realloc(o->units, (o->nunits + 1) * sizeof *nu);
	struct ion_unit *u = nu ? ion_unit_new() : NULL;
	if (nu)
		o->units = nu;
	if (!u) {
		afail(a, "out of memory");
		return;
	}
	o->units[o->nunits++] = u;
	u->minor = ION_FORMAT_MINOR;
	a->u = u;
	qstr(a, &u->name);
}

static void manifest_line(struct asm_state *s)
{
	struct ap *a = &s->a;
	struct ion_unit *keep = a->u, *tmp = ion_unit_new();
	struct ion_bytes k = { 0 }, v = { 0 };
	if (!tmp) {
		afail(a, "out of memory");
		return;
	}
	a->u = tmp; /* strings are parsed into a scratch arena, then copied */
	qstr(a, &k);
	qstr(a, &v);
	a->u = keep;
	struct ion_asm_pack *o = s->out;
	char **nk = a->rc ? NULL : realloc(o->keys, (o->nmanifest + 1) * sizeof *nk);
	if (nk)
		o->keys = nk;
	char **nv = nk ? realloc(o->values, (o->nmanifest + 1) * sizeof *nv) : NULL;
	if (nv)
		o->values = nv;
	if (nv) {
		o->keys[o->nmanifest] = strdup(k.s);
		o->values[o->nmanifest] = strdup(v.s);
		o->nmanifest++;
	} else {
		afail(a, "bad .manifest line");
	}
	ion_unit_free(tmp);
}

static void func_line(struct asm_state *s)
{
	struct ap *a = &s->a;
	struct ion_kfunc *f = vec_push(a, &s->funcs);
	if (!f)
		return;
	qstr(a, &f->name);
	if (!word(a, "arity"))
		afail(a, "expected 'arity'");
	f->arity = (uint8_t)integer(a, 0, 255);
	if (!word(a, "regs"))
		afail(a, "expected 'regs'");
	f->nregs = (uint16_t)integer(a, 0, 65535);
	s->in_func = 1;
}

static void insn_line(struct asm_state *s)
{
	struct ap *a = &s->a;
	ws(a);
	if (a->p < a->end && isdigit((unsigned char)*a->p)) {
		long idx = integer(a, 0, 65535);
		expect(a, ':');
		if (!a->rc && (size_t)idx != s->code.n)
			afail(a, "instruction index %ld, expected %zu", idx, s->code.n);
	}
	ws(a);
	const char *n = a->p;
	while (a->p < a->end && (isalnum((unsigned char)*a->p) || *a->p == '_'))
		a->p++;
	int op = ion_op_lookup(n, (size_t)(a->p - n));
	if (op < 0) {
		afail(a, "unknown instruction '%.*s'", (int)(a->p - n), n);
		return;
	}
	long f[4] = { 0 };
	for (int i = 0; i < 4 && !a->rc; i++) {
		int m = ion_op_modes[op][i];
		if (m == ION_MODE_X)
			continue;
		f[i] = m == ION_MODE_I ? integer(a, -32768, 32767) & 0xFFFF : integer(a, 0, i ? 65535 : 255);
	}
	uint64_t *w = a->rc ? NULL : vec_push(a, &s->code);
	if (w)
		*w = ION_INSN_MAKE(op, f[0], f[1], f[2], f[3]);
}

static void upval_line(struct asm_state *s)
{
	struct ap *a = &s->a;
	uint8_t kind = word(a, "reg") ? 0 : word(a, "up") ? 1 : 2;
	if (kind == 2) {
		afail(a, "expected 'reg' or 'up'");
		return;
	}
	uint8_t *k = vec_push(a, &s->upk);
	uint16_t *i = k ? vec_push(a, &s->upi) : NULL;
	if (i) {
		*k = kind;
		*i = (uint16_t)integer(a, 0, 65535);
	}
}

static void line(struct asm_state *s)
{
	struct ap *a = &s->a;
	if (at_end(a))
		return;
	if (word(a, ".manifest")) {
		manifest_line(s);
	} else if (word(a, ".class")) {
		start_class(s);
	} else if (!a->u) {
		afail(a, "expected .class or .manifest");
	} else if (word(a, ".const")) {
		long idx = integer(a, 0, 65534);
		struct ion_kconst *k = (!a->rc && (size_t)idx == s->consts.n) ? vec_push(a, &s->consts) : NULL;
		if (k)
			konst(a, k, 0);
		else
			afail(a, "constant index %ld, expected %zu", idx, s->consts.n);
	} else if (word(a, ".func")) {
		if (s->in_func)
			afail(a, ".func inside a function");
		func_line(s);
	} else if (!s->in_func) {
		afail(a, "instruction outside a function");
	} else if (word(a, ".upval")) {
		upval_line(s);
	} else if (word(a, ".end")) {
		finish_func(s);
	} else {
		insn_line(s);
	}
	if (!a->rc && !at_end(a))
		afail(a, "unexpected text '%.20s'", a->p);
}

void ion_asm_pack_free(struct ion_asm_pack *p)
{
	for (size_t i = 0; i < p->nmanifest; i++) {
		free(p->keys[i]);
		free(p->values[i]);
	}
	for (size_t i = 0; i < p->nunits; i++)
		ion_unit_free(p->units[i]);
	free(p->keys);
	free(p->values);
	free(p->units);
	memset(p, 0, sizeof *p);
}

int ion_asm_parse(const char *text, size_t len, struct ion_asm_pack *out, char *err, size_t errlen)
{
	struct asm_state s = { .a = { .err = err, .errlen = errlen }, .out = out,
		.consts = { .size = sizeof(struct ion_kconst) }, .funcs = { .size = sizeof(struct ion_kfunc) },
		.code = { .size = 8 }, .upk = { .size = 1 }, .upi = { .size = 2 } };
	memset(out, 0, sizeof *out);
	const char *p = text, *end = text + len;
	while (p < end && !s.a.rc) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		s.a.p = p;
		s.a.end = nl ? nl : end;
		s.a.line++;
		line(&s);
		p = nl ? nl + 1 : end;
	}
	if (!s.a.rc)
		finish_class(&s);
	free(s.consts.p);
	free(s.funcs.p);
	free(s.code.p);
	free(s.upk.p);
	free(s.upi.p);
	for (size_t i = 0; i < out->nunits && !s.a.rc; i++) {
		char verr[512];
		if (ion_unit_verify(out->units[i], verr, sizeof verr)) {
			snprintf(err, errlen, "%s", verr);
			s.a.rc = ION_E_FORMAT;
		}
	}
	if (s.a.rc)
		ion_asm_pack_free(out);
	return s.a.rc;
}
