/* format.c - printing values. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "ion/format.h"
#include "ion/func.h"
#include "ion/interp.h"
#include "ion/ffi.h"
#include "ion/object.h"
#include "ion/ops.h"
#include "ion/process.h"
#include "ion/str.h"
#include "ion/vm.h"

#define FORMAT_DEPTH_MAX 16

void ion_buf_put(struct ion_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
}

void ion_buf_puts(struct ion_buf *b, const char *s) { ion_buf_put(b, s, strlen(s)); }

void ion_buf_printf(struct ion_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		ion_buf_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void ion_format_number(struct ion_buf *b, double d)
{
	char tmp[64];
	if (d != d) {
		ion_buf_puts(b, "nan");
	} else if (isinf(d)) {
		ion_buf_puts(b, d > 0 ? "inf" : "-inf");
	} else if (d == floor(d) && fabs(d) < 9007199254740992.0) {
		snprintf(tmp, sizeof tmp, "%.0f", d == 0 ? 0.0 : d);
		ion_buf_puts(b, tmp);
	} else {
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(tmp, sizeof tmp, "%.*g", prec, d);
			if (strtod(tmp, NULL) == d)
				break;
		}
		ion_buf_puts(b, tmp);
	}
}

static void put_quoted(struct ion_buf *b, const struct ion_str *s)
{
	ion_buf_put(b, "\"", 1);
	for (uint32_t i = 0; i < s->len; i++) {
		char c = s->data[i];
		if (c == '"' || c == '\\')
			ion_buf_put(b, "\\", 1);
		ion_buf_put(b, &c, 1);
	}
	ion_buf_put(b, "\"", 1);
}

static void format_list(struct ion_proc *p, struct ion_buf *b, const ion_value *items, uint32_t n,
			const char *open, const char *close, int depth);
static void format_at(struct ion_proc *p, struct ion_buf *b, ion_value v, int top, int depth);

/* __tostring on the chain: its string result, when a process can run it. */
static int format_tostring(struct ion_proc *p, struct ion_buf *b, ion_value v)
{
	ion_value m = p ? ion_magic(v, p->vm->a.__tostring) : 0, out;
	if (!m)
		return 0;
	if (ion_proc_push_root(p, v))
		return 0;
	int rc = ion_interp_call(p, m, &v, 1, &out);
	ion_proc_pop_root(p);
	if (rc || !ion_is_str(out))
		return 0;
	ion_buf_put(b, ion_as_str(out)->data, ion_as_str(out)->len);
	return 1;
}

static void format_object(struct ion_proc *p, struct ion_buf *b, ion_value v, int depth)
{
	const struct ion_object *o = (const struct ion_object *)ion_as_obj(v);
	if (format_tostring(p, b, v))
		return;
	ion_buf_puts(b, "#");
	if (o->type)
		ion_buf_puts(b, o->type->name);
	ion_buf_puts(b, "{");
	int first = 1;
	for (uint32_t i = 0; i < o->h.len; i++) {
		if (!(o->props[i].flags & ION_P_ENUMERABLE))
			continue;
		if (!first)
			ion_buf_puts(b, ", ");
		first = 0;
		ion_buf_puts(b, o->props[i].key->name);
		ion_buf_puts(b, ": ");
		format_at(p, b, o->props[i].val, 0, depth + 1);
	}
	ion_buf_puts(b, "}");
}

static void format_obj(struct ion_proc *p, struct ion_buf *b, ion_value v, int depth)
{
	struct ion_gcobj *o = ion_as_obj(v);
	switch (o->type) {
	case ION_O_TUPLE:
		format_list(p, b, ((struct ion_tuple *)o)->items, o->len, "{", "}", depth);
		break;
	case ION_O_ARRAY:
		format_list(p, b, ((struct ion_array *)o)->items, o->len, "[", "]", depth);
		break;
	case ION_O_COMPLEX: {
		const struct ion_complex *c = (const struct ion_complex *)o;
		ion_format_number(b, c->re);
		if (!(c->im < 0) && !signbit(c->im))
			ion_buf_puts(b, "+");
		ion_format_number(b, c->im);
		ion_buf_puts(b, "i");
		break;
	}
	case ION_O_CLOSURE: {
		const struct ion_func *fn = ((struct ion_closure *)o)->fn;
		ion_buf_printf(b, "<function %s.%s/%u>", fn->cls->name, fn->name, fn->arity);
		break;
	}
	case ION_O_BUFFER:
		ion_buf_printf(b, "<buffer %zu bytes%s>", ((struct ion_buffer *)o)->size,
			       o->flags & ION_OF_EXTERNAL ? ", external" : "");
		break;
	default:
		format_object(p, b, v, depth);
	}
}

static void format_at(struct ion_proc *p, struct ion_buf *b, ion_value v, int top, int depth)
{
	if (depth > FORMAT_DEPTH_MAX) {
		ion_buf_puts(b, "...");
	} else if (ion_is_num(v)) {
		ion_format_number(b, ion_num(v));
	} else if (v == ION_NIL) {
		ion_buf_puts(b, "nil");
	} else if (ion_is_bool(v)) {
		ion_buf_puts(b, v == ION_TRUE ? "true" : "false");
	} else if (ion_is_str(v)) {
		if (top)
			ion_buf_put(b, ion_as_str(v)->data, ion_as_str(v)->len);
		else
			put_quoted(b, ion_as_str(v));
	} else if (ion_is_atom(v)) {
		ion_buf_puts(b, ion_as_atom(v)->name);
	} else if (ion_is_func(v)) {
		const struct ion_func *fn = ion_as_func(v);
		ion_buf_printf(b, "<function %s.%s/%u>", fn->cls->name, fn->name, fn->arity);
	} else if (ion_is_native(v)) {
		ion_buf_printf(b, "<native %s/%d>", ion_as_native(v)->name, ion_as_native(v)->arity);
	} else if (ion_is_pid(v)) {
		ion_buf_printf(b, "<pid %u>", ion_pid_slot(v));
	} else {
		format_obj(p, b, v, depth);
	}
}

static void format_list(struct ion_proc *p, struct ion_buf *b, const ion_value *items, uint32_t n,
			const char *open, const char *close, int depth)
{
	ion_buf_puts(b, open);
	for (uint32_t i = 0; i < n; i++) {
		if (i)
			ion_buf_puts(b, ", ");
		format_at(p, b, items[i], 0, depth + 1);
	}
	ion_buf_puts(b, close);
}

void ion_format_value(struct ion_proc *p, struct ion_buf *b, ion_value v, int top)
{
	format_at(p, b, v, top, 0);
}
