/* ops.c - the slow paths of value operations. */
#include <math.h>
#include <stdlib.h>

#include "ion/ffi.h"
#include "ion/object.h"
#include "ion/opcodes.h"
#include "ion/ops.h"
#include "ion/process.h"
#include "ion/str.h"
#include "ion/vm.h"

bool ion_values_equal(ion_value a, ion_value b)
{
	if (ion_is_num(a) || ion_is_num(b))
		return ion_is_num(a) && ion_is_num(b) && ion_num(a) == ion_num(b);
	if (a == b)
		return true;
	if (ion_is_str(a) && ion_is_str(b))
		return ion_str_eq(ion_as_str(a), ion_as_str(b));
	if (!ion_is_obj(a) || !ion_is_obj(b))
		return false;
	struct ion_gcobj *x = ion_as_obj(a), *y = ion_as_obj(b);
	if (x->type != y->type)
		return false;
	if (x->type == ION_O_COMPLEX) {
		const struct ion_complex *p = (void *)x, *q = (void *)y;
		return p->re == q->re && p->im == q->im;
	}
	if (x->type == ION_O_TUPLE && x->len == y->len) {
		for (uint32_t i = 0; i < x->len; i++)
			if (!ion_values_equal(((struct ion_tuple *)x)->items[i],
					      ((struct ion_tuple *)y)->items[i]))
				return false;
		return true;
	}
	return false;
}

ion_value ion_magic(ion_value v, struct ion_atom *name)
{
	if (!ion_is_otype(v, ION_O_OBJECT))
		return 0;
	struct ion_prop *p = ion_obj_lookup((struct ion_object *)ion_as_obj(v), name);
	return p ? p->val : 0;
}

static const char *kind_name(struct ion_proc *p, ion_value v)
{
	return ion_as_atom(ion_type_of(p, v))->name;
}

static int complex_parts(ion_value v, double *re, double *im)
{
	if (ion_is_num(v)) {
		*re = ion_num(v);
		*im = 0;
		return 1;
	}
	if (ion_is_otype(v, ION_O_COMPLEX)) {
		*re = ((struct ion_complex *)ion_as_obj(v))->re;
		*im = ((struct ion_complex *)ion_as_obj(v))->im;
		return 1;
	}
	return 0;
}

static int complex_op(struct ion_proc *p, unsigned op, ion_value a, ion_value b, ion_value *out)
{
	double ar, ai, br, bi, r, i;
	if (!complex_parts(a, &ar, &ai) || !complex_parts(b, &br, &bi))
		return 1;
	switch (op) {
	case ION_OP_add: r = ar + br; i = ai + bi; break;
	case ION_OP_sub: r = ar - br; i = ai - bi; break;
	case ION_OP_mul: r = ar * br - ai * bi; i = ar * bi + ai * br; break;
	case ION_OP_div: {
		double d = br * br + bi * bi;
		r = (ar * br + ai * bi) / d;
		i = (ai * br - ar * bi) / d;
		break;
	}
	case ION_OP_neg: r = -ar; i = -ai; break;
	default: return 1;
	}
	struct ion_complex *c = ion_complex_new(&p->heap, r, i);
	if (!c)
		return ion_proc_raise(p, "nomem", "out of memory");
	*out = ion_box(ION_TAG_OBJ, c);
	return 0;
}

static int string_op(struct ion_proc *p, unsigned op, ion_value a, ion_value b, ion_value *out)
{
	if (op == ION_OP_add && ion_is_str(a) && ion_is_str(b)) {
		const struct ion_str *x = ion_as_str(a), *y = ion_as_str(b);
		struct ion_str *s = ion_str_alloc((size_t)x->len + y->len);
		if (!s)
			return ion_proc_raise(p, "nomem", "string too long");
		memcpy(s->data, x->data, x->len);
		memcpy(s->data + x->len, y->data, y->len);
		if (ion_gc_adopt_str(&p->heap, s))
			return ion_proc_raise(p, "nomem", "out of memory");
		*out = ion_box(ION_TAG_STR, s);
		return 0;
	}
	if (op == ION_OP_mul && (ion_is_str(a) || ion_is_str(b)) && (ion_is_num(a) || ion_is_num(b))) {
		const struct ion_str *x = ion_as_str(ion_is_str(a) ? a : b);
		double n = floor(ion_num(ion_is_num(a) ? a : b));
		if (n < 0 || n != n)
			return ion_proc_raise(p, "badarith", "string repeated a negative number of times");
		if (n * x->len >= (double)ION_STR_MAX)
			return ion_proc_raise(p, "nomem", "string too long");
		size_t cnt = x->len ? (size_t)n : 0; /* "" * 1e300 is "" at once */
		struct ion_str *s = ion_str_alloc(cnt * x->len);
		if (!s)
			return ion_proc_raise(p, "nomem", "out of memory");
		for (size_t k = 0; k < cnt; k++)
			memcpy(s->data + k * x->len, x->data, x->len);
		if (ion_gc_adopt_str(&p->heap, s))
			return ion_proc_raise(p, "nomem", "out of memory");
		*out = ion_box(ION_TAG_STR, s);
		return 0;
	}
	return 1;
}

int ion_arith(struct ion_proc *p, unsigned op, ion_value a, ion_value b, ion_value *out,
	      ion_value *method)
{
	struct ion_vm *vm = p->vm;
	int rc = complex_op(p, op, a, b, out);
	if (rc <= 0)
		return rc;
	rc = string_op(p, op, a, b, out);
	if (rc <= 0)
		return rc;
	struct ion_atom *name = op == ION_OP_add ? vm->a.__add : op == ION_OP_sub ? vm->a.__sub :
				op == ION_OP_mul ? vm->a.__mul : op == ION_OP_div ? vm->a.__div : NULL;
	if (name && (*method = ion_magic(a, name)) != 0)
		return 1;
	static const char *const opn[] = { [ION_OP_add] = "+", [ION_OP_sub] = "-", [ION_OP_mul] = "*",
		[ION_OP_div] = "/", [ION_OP_mod] = "%", [ION_OP_pow] = "^", [ION_OP_neg] = "-",
		[ION_OP_add_imm] = "+" };
	if (op == ION_OP_neg)
		return ion_proc_raise(p, "badarith", "cannot negate %s", kind_name(p, a));
	return ion_proc_raise(p, "badarith", "cannot compute %s %s %s", kind_name(p, a),
			      op < sizeof opn / sizeof *opn && opn[op] ? opn[op] : "?", kind_name(p, b));
}

int ion_compare(struct ion_proc *p, ion_value a, ion_value b, int *out)
{
	if (ion_is_num(a) && ion_is_num(b)) {
		double x = ion_num(a), y = ion_num(b);
		*out = x < y ? -1 : x > y ? 1 : x == y ? 0 : 2;
		return 0;
	}
	if (ion_is_str(a) && ion_is_str(b)) {
		int c = ion_str_cmp(ion_as_str(a), ion_as_str(b));
		*out = c < 0 ? -1 : c > 0;
		return 0;
	}
	return ion_proc_raise(p, "badarith", "cannot compare %s with %s", kind_name(p, a),
			      kind_name(p, b));
}

struct ion_atom *ion_key_of(struct ion_proc *p, ion_value k)
{
	if (ion_is_atom(k))
		return ion_as_atom(k);
	if (ion_is_str(k)) {
		const struct ion_str *s = ion_as_str(k);
		struct ion_atom *a = s->len <= 255 ? ion_atom_intern(&p->vm->atoms, s->data, s->len) : NULL;
		if (!a)
			ion_proc_raise(p, "badprop", "property name of %u bytes", s->len);
		return a;
	}
	ion_proc_raise(p, "badprop", "a property name must be a string or atom, not %s", kind_name(p, k));
	return NULL;
}

int ion_prop_error(struct ion_proc *p, int code, const struct ion_atom *key)
{
	switch (code) {
	case ION_OBJ_READONLY: return ion_proc_raise(p, "badprop", "property '%s' is not writable", key->name);
	case ION_OBJ_FROZEN: return ion_proc_raise(p, "badprop", "cannot add '%s' to a frozen object", key->name);
	case ION_OBJ_NOTCONFIG: return ion_proc_raise(p, "badprop", "property '%s' is not configurable", key->name);
	case ION_OBJ_CYCLE: return ion_proc_raise(p, "badprop", "prototype chain would loop or exceed %d", ION_PROTO_MAX);
	default: return ion_proc_raise(p, "nomem", "out of memory");
	}
}

static int num_index(struct ion_proc *p, ion_value k, uint32_t len, uint32_t *out, int allow_end)
{
	if (!ion_is_num(k))
		return ion_proc_raise(p, "badindex", "index must be a number, not %s", kind_name(p, k));
	double d = ion_num(k);
	if (d != floor(d) || d < 0 || d >= (double)len + (allow_end ? 1 : 0))
		return 1;
	*out = (uint32_t)d;
	return 0;
}

/* A byte position of a buffer: 0 when k is an integer in [0, size), else
 * raises badindex (buffers are for exact bytes: no nil past the end). */
static int buffer_index(struct ion_proc *p, const struct ion_buffer *b, ion_value k, size_t *out)
{
	if (!ion_is_num(k))
		return ion_proc_raise(p, "badindex", "index must be a number, not %s", kind_name(p, k));
	double d = ion_num(k);
	if (d != floor(d) || d < 0 || d >= (double)b->size)
		return ion_proc_raise(p, "badindex", "byte index %g outside a buffer of %zu bytes",
				      d, b->size);
	*out = (size_t)d;
	return 0;
}

int ion_get_index(struct ion_proc *p, ion_value c, ion_value k, ion_value *out)
{
	uint32_t i;
	int rc;
	*out = ION_NIL;
	if (ion_is_otype(c, ION_O_ARRAY) || ion_is_otype(c, ION_O_TUPLE)) {
		struct ion_gcobj *o = ion_as_obj(c);
		if ((rc = num_index(p, k, o->len, &i, 0)) != 0)
			return rc < 0 ? rc : 0;
		*out = o->type == ION_O_ARRAY ? ((struct ion_array *)o)->items[i] :
						((struct ion_tuple *)o)->items[i];
		return 0;
	}
	if (ion_is_otype(c, ION_O_BUFFER)) {
		const struct ion_buffer *b = (const struct ion_buffer *)ion_as_obj(c);
		size_t at;
		if (buffer_index(p, b, k, &at))
			return ION_NATIVE_ERROR;
		/* One load: another VM may change shared bytes at any moment. */
		*out = ion_from_num(((volatile const uint8_t *)b->data)[at]);
		return 0;
	}
	if (ion_is_str(c)) {
		const struct ion_str *s = ion_as_str(c);
		if ((rc = num_index(p, k, s->len, &i, 0)) != 0)
			return rc < 0 ? rc : 0;
		*out = ion_new_str(p, s->data + i, 1);
		return *out ? 0 : ION_NATIVE_ERROR;
	}
	if (ion_is_otype(c, ION_O_OBJECT)) {
		struct ion_atom *key = ion_key_of(p, k);
		if (!key)
			return ION_NATIVE_ERROR;
		struct ion_prop *pr = ion_obj_lookup((struct ion_object *)ion_as_obj(c), key);
		*out = pr ? pr->val : ION_NIL;
		return 0;
	}
	return ion_proc_raise(p, "badindex", "cannot index %s", kind_name(p, c));
}

int ion_set_index(struct ion_proc *p, ion_value c, ion_value k, ion_value v)
{
	if (ion_is_otype(c, ION_O_ARRAY)) {
		struct ion_array *a = (struct ion_array *)ion_as_obj(c);
		uint32_t i;
		int rc = num_index(p, k, a->h.len, &i, 1);
		if (rc > 0)
			return ion_proc_raise(p, "badindex", "index out of range (length %u)", a->h.len);
		if (rc < 0)
			return rc;
		if (i == a->h.len)
			return ion_array_push(&p->heap, a, v) ? ion_proc_raise(p, "nomem", "out of memory") : 0;
		a->items[i] = v;
		return 0;
	}
	if (ion_is_otype(c, ION_O_OBJECT)) {
		struct ion_atom *key = ion_key_of(p, k);
		if (!key)
			return ION_NATIVE_ERROR;
		int rc = ion_obj_set(&p->heap, (struct ion_object *)ion_as_obj(c), key, v);
		return rc ? ion_prop_error(p, rc, key) : 0;
	}
	if (ion_is_otype(c, ION_O_BUFFER)) {
		struct ion_buffer *b = (struct ion_buffer *)ion_as_obj(c);
		size_t at;
		if (buffer_index(p, b, k, &at))
			return ION_NATIVE_ERROR;
		if (!ion_is_num(v))
			return ion_proc_raise(p, "badarg", "a buffer holds bytes: an integer 0..255, "
					      "not %s", kind_name(p, v));
		double d = ion_num(v);
		if (d != floor(d) || d < 0 || d > 255)
			return ion_proc_raise(p, "badarg", "a buffer holds bytes: an integer 0..255, "
					      "not %g", d);
		((volatile uint8_t *)b->data)[at] = (uint8_t)d;
		return 0;
	}
	return ion_proc_raise(p, "badindex", "cannot assign an index of %s", kind_name(p, c));
}

int ion_len(struct ion_proc *p, ion_value v, ion_value *out)
{
	if (ion_is_str(v))
		*out = ion_from_num(ion_as_str(v)->len);
	else if (ion_is_otype(v, ION_O_BUFFER))
		*out = ion_from_num((double)((struct ion_buffer *)ion_as_obj(v))->size);
	else if (ion_is_otype(v, ION_O_ARRAY) || ion_is_otype(v, ION_O_TUPLE) ||
		 ion_is_otype(v, ION_O_OBJECT))
		*out = ion_from_num(ion_as_obj(v)->len);
	else
		return ion_proc_raise(p, "badarg", "%s has no length", kind_name(p, v));
	return 0;
}

ion_value ion_type_of(struct ion_proc *p, ion_value v)
{
	const struct ion_common_atoms *a = &p->vm->a;
	struct ion_atom *t;
	if (ion_is_num(v))
		t = a->number;
	else if (v == ION_NIL)
		t = a->nil;
	else if (ion_is_bool(v))
		t = a->boolean;
	else if (ion_is_str(v))
		t = a->string;
	else if (ion_is_atom(v))
		t = a->atom;
	else if (ion_is_func(v))
		t = a->function;
	else if (ion_is_native(v))
		t = a->native;
	else if (ion_is_pid(v))
		t = a->pid;
	else {
		struct ion_gcobj *o = ion_as_obj(v);
		switch (o->type) {
		case ION_O_TUPLE: t = a->tuple; break;
		case ION_O_ARRAY: t = a->array; break;
		case ION_O_CLOSURE: t = a->function; break;
		case ION_O_COMPLEX: t = a->complex; break;
		case ION_O_BUFFER: t = a->buffer; break;
		default: {
			struct ion_object *ob = (struct ion_object *)o;
			t = ob->type ? ob->type : a->object;
		}
		}
	}
	return ion_atom_val(t);
}
