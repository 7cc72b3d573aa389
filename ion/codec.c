/* codec.c - values to and from bytes in the constant encoding
 * (docs/ionvm-bytecode.md, "Value encoding"), so an embedder can pass
 * arguments in and take a result out without knowing value internals. */
#include <stdlib.h>

#include "ion/ffi.h"
#include "ion/format.h"
#include "ion/func.h"
#include "ion/object.h"
#include "ion/str.h"
#include "ion/unit.h"
#include "ion/vm.h"

/* ---- bytes -> values (into the VM's result heap, which never collects) ---- */

static int to_value(struct ion_vm *vm, const struct ion_kconst *k, ion_value *out);

static int to_aggregate(struct ion_vm *vm, const struct ion_kconst *k, ion_value *out)
{
	struct ion_heap *h = &vm->result_heap;
	if (k->kind == ION_K_TUPLE) {
		struct ion_tuple *t = ion_tuple_new(h, k->n);
		if (!t)
			return ion_vm_fail(vm, ION_E_NOMEM, "out of memory");
		for (uint32_t i = 0; i < k->n; i++)
			if (to_value(vm, &k->items[i], &t->items[i]))
				return -1;
		*out = ion_box(ION_TAG_OBJ, t);
		return 0;
	}
	if (k->kind == ION_K_ARRAY) {
		struct ion_array *a = ion_array_new(h, k->n);
		if (!a)
			return ion_vm_fail(vm, ION_E_NOMEM, "out of memory");
		for (uint32_t i = 0; i < k->n; i++)
			if (to_value(vm, &k->items[i], &a->items[a->h.len++]))
				return -1;
		*out = ion_box(ION_TAG_OBJ, a);
		return 0;
	}
	struct ion_object *o = ion_object_new(h);
	if (!o || (k->s.len && !(o->type = ion_atom_intern(&vm->atoms, k->s.s, k->s.len))))
		return ion_vm_fail(vm, ION_E_NOMEM, "out of memory");
	for (uint32_t i = 0; i < k->n; i++) {
		ion_value v;
		struct ion_atom *key = ion_atom_intern(&vm->atoms, k->props[i].key.s, k->props[i].key.len);
		if (to_value(vm, &k->items[i], &v))
			return -1;
		if (!key || ion_obj_define(h, o, key, v, k->props[i].flags))
			return ion_vm_fail(vm, ION_E_NOMEM, "out of memory");
	}
	*out = ion_box(ION_TAG_OBJ, o);
	return 0;
}

static int to_value(struct ion_vm *vm, const struct ion_kconst *k, ion_value *out)
{
	switch (k->kind) {
	case ION_K_NIL: *out = ION_NIL; return 0;
	case ION_K_FALSE: *out = ION_FALSE; return 0;
	case ION_K_TRUE: *out = ION_TRUE; return 0;
	case ION_K_NUMBER: *out = ion_from_num_canon(k->num); return 0;
	case ION_K_STRING:
		*out = ion_gc_str(&vm->result_heap, k->s.s, k->s.len);
		return *out ? 0 : ion_vm_fail(vm, ION_E_NOMEM, "out of memory");
	case ION_K_ATOM: {
		struct ion_atom *a = ion_atom_intern(&vm->atoms, k->s.s, k->s.len);
		*out = a ? ion_atom_val(a) : 0;
		return a ? 0 : ion_vm_fail(vm, ION_E_NOMEM, "out of memory");
	}
	case ION_K_COMPLEX: {
		struct ion_complex *c = ion_complex_new(&vm->result_heap, k->num, k->im);
		*out = c ? ion_box(ION_TAG_OBJ, c) : 0;
		return c ? 0 : ion_vm_fail(vm, ION_E_NOMEM, "out of memory");
	}
	case ION_K_FUNCREF: {
		struct ion_class *c = ion_vm_find_class(vm, k->s.s, k->s.len);
		struct ion_func *f = c && c->linked ? ion_class_func(c, k->s2.s) : NULL;
		if (!f || f->nup)
			return ion_vm_fail(vm, ION_E_LINK, "no function %s.%s to pass", k->s.s, k->s2.s);
		*out = ion_box(ION_TAG_FUNC, f);
		return 0;
	}
	case ION_K_NATIVE: {
		const struct ion_native *n = ion_ffi_find(vm, k->s.s, k->s.len);
		if (!n)
			return ion_vm_fail(vm, ION_E_LINK, "unknown native '%s'", k->s.s);
		*out = ion_box(ION_TAG_NATIVE, n);
		return 0;
	}
	default:
		return to_aggregate(vm, k, out);
	}
}

/* ---- values -> bytes ---- */

struct enc {
	struct ion_vm *vm;
	struct ion_buf b;
	int rc;
	int copy_only; /* refuse functions and natives (ion_vm_call_copy) */
};

static void put_le(struct enc *e, uint64_t v, int n)
{
	char b[8];
	for (int i = 0; i < n; i++)
		b[i] = (char)(v >> (8 * i));
	ion_buf_put(&e->b, b, (size_t)n);
}

static void put_f64(struct enc *e, double d)
{
	uint64_t v;
	memcpy(&v, &d, sizeof v);
	put_le(e, v, 8);
}

static void put_str16(struct enc *e, const char *s, size_t n)
{
	put_le(e, n, 2);
	ion_buf_put(&e->b, s, n);
}

static void enc_value(struct enc *e, ion_value v, int depth);

static void enc_items(struct enc *e, uint8_t tag, const ion_value *items, uint32_t n, int depth)
{
	put_le(e, tag, 1);
	put_le(e, n, 4);
	for (uint32_t i = 0; i < n && !e->rc; i++)
		enc_value(e, items[i], depth + 1);
}

static void enc_obj(struct enc *e, ion_value v, int depth)
{
	struct ion_gcobj *g = ion_as_obj(v);
	if (g->type == ION_O_TUPLE) {
		enc_items(e, ION_K_TUPLE, ((struct ion_tuple *)g)->items, g->len, depth);
	} else if (g->type == ION_O_ARRAY) {
		enc_items(e, ION_K_ARRAY, ((struct ion_array *)g)->items, g->len, depth);
	} else if (g->type == ION_O_COMPLEX) {
		put_le(e, ION_K_COMPLEX, 1);
		put_f64(e, ((struct ion_complex *)g)->re);
		put_f64(e, ((struct ion_complex *)g)->im);
	} else if (g->type == ION_O_OBJECT) {
		const struct ion_object *o = (const struct ion_object *)g;
		put_le(e, ION_K_OBJECT, 1);
		put_str16(e, o->type ? o->type->name : "", o->type ? o->type->len : 0);
		put_le(e, g->len, 4);
		for (uint32_t i = 0; i < g->len && !e->rc; i++) {
			put_str16(e, o->props[i].key->name, o->props[i].key->len);
			put_le(e, o->props[i].flags, 1);
			enc_value(e, o->props[i].val, depth + 1);
		}
	} else if (g->type == ION_O_BUFFER) {
		e->rc = ion_vm_fail(e->vm, ION_E_INVALID, "a buffer cannot be %s (buf.read copies "
				    "its bytes into a string)", e->copy_only ? "copied out of the VM" :
				    "encoded");
	} else {
		e->rc = ion_vm_fail(e->vm, ION_E_INVALID, e->copy_only ?
				    "a function cannot be copied out of the VM" :
				    "a closure cannot be encoded");
	}
}

static void enc_value(struct enc *e, ion_value v, int depth)
{
	if (depth > ION_NEST_MAX) {
		e->rc = ion_vm_fail(e->vm, ION_E_INVALID, "value nested deeper than %d (or cyclic)",
				    ION_NEST_MAX);
	} else if (ion_is_num(v)) {
		put_le(e, ION_K_NUMBER, 1);
		put_f64(e, ion_num(v));
	} else if (v == ION_NIL || ion_is_bool(v)) {
		put_le(e, v == ION_NIL ? ION_K_NIL : v == ION_TRUE ? ION_K_TRUE : ION_K_FALSE, 1);
	} else if (ion_is_str(v)) {
		put_le(e, ION_K_STRING, 1);
		put_le(e, ion_as_str(v)->len, 4);
		ion_buf_put(&e->b, ion_as_str(v)->data, ion_as_str(v)->len);
	} else if (ion_is_atom(v)) {
		put_le(e, ION_K_ATOM, 1);
		put_str16(e, ion_as_atom(v)->name, ion_as_atom(v)->len);
	} else if (e->copy_only && (ion_is_func(v) || ion_is_native(v))) {
		e->rc = ion_vm_fail(e->vm, ION_E_INVALID, "a function cannot be copied out of the VM");
	} else if (ion_is_func(v)) {
		const struct ion_func *f = ion_as_func(v);
		put_le(e, ION_K_FUNCREF, 1);
		put_str16(e, f->cls->name, strlen(f->cls->name));
		put_str16(e, f->name, strlen(f->name));
	} else if (ion_is_native(v)) {
		put_le(e, ION_K_NATIVE, 1);
		put_str16(e, ion_as_native(v)->name, strlen(ion_as_native(v)->name));
	} else if (ion_is_pid(v)) {
		e->rc = ion_vm_fail(e->vm, ION_E_INVALID, e->copy_only ?
				    "a pid cannot be copied out of the VM" : "a pid cannot be encoded");
	} else {
		enc_obj(e, v, depth);
	}
}

static int encode(struct ion_vm *vm, ion_value v, int copy_only, uint8_t **out, size_t *len)
{
	struct enc e = { .vm = vm, .copy_only = copy_only };
	enc_value(&e, v, 0);
	if (!e.rc && e.b.oom)
		e.rc = ion_vm_fail(vm, ION_E_NOMEM, "out of memory");
	if (e.rc) {
		free(e.b.p);
		return e.rc;
	}
	*out = (uint8_t *)e.b.p;
	*len = e.b.n;
	return 0;
}

int ion_vm_encode(struct ion_vm *vm, ion_value v, uint8_t **out, size_t *len)
{
	return encode(vm, v, 0, out, len);
}

/* The first function or native inside a decoded value, or NULL. */
static const struct ion_kconst *find_function(const struct ion_kconst *k)
{
	if (k->kind == ION_K_FUNCREF || k->kind == ION_K_NATIVE)
		return k;
	if (k->kind == ION_K_TUPLE || k->kind == ION_K_ARRAY || k->kind == ION_K_OBJECT)
		for (uint32_t i = 0; i < k->n; i++) {
			const struct ion_kconst *f = find_function(&k->items[i]);
			if (f)
				return f;
		}
	return NULL;
}

static int call_encoded(struct ion_vm *vm, const char *cls, const char *fn, int copy_only,
			const void *args, size_t len, uint8_t **out, size_t *outlen)
{
	struct ion_class *c = cls ? ion_vm_find_class(vm, cls, strlen(cls)) : NULL;
	struct ion_func *f = c && c->linked && fn ? ion_class_func(c, fn) : NULL;
	if (!f || f->nup)
		return ion_vm_fail(vm, ION_E_LINK, "no function %s.%s to call", cls ? cls : "?",
				   fn ? fn : "?");
	struct ion_unit *u = ion_unit_new();
	struct ion_kconst k;
	char err[512];
	if (!u)
		return ion_vm_fail(vm, ION_E_NOMEM, "out of memory");
	int rc = ion_unit_decode_value(u, args, len, &k, err, sizeof err);
	if (rc) {
		ion_unit_free(u);
		return ion_vm_fail(vm, rc, "arguments: %s", err);
	}
	ion_value tuple, result;
	ion_vm_reset_results(vm);
	if (k.kind != ION_K_TUPLE && k.kind != ION_K_ARRAY)
		rc = ion_vm_fail(vm, ION_E_INVALID, "arguments must be an encoded tuple or array");
	else if (copy_only && find_function(&k))
		rc = ion_vm_fail(vm, ION_E_INVALID, "argument %s: a function cannot be copied into the VM",
				 find_function(&k)->s.s);
	else if (k.n != f->arity)
		rc = ion_vm_fail(vm, ION_E_INVALID, "%s.%s takes %u arguments, %u given", cls, fn,
				 f->arity, k.n);
	else
		rc = to_value(vm, &k, &tuple);
	ion_unit_free(u);
	if (rc)
		return rc;
	const ion_value *items = k.kind == ION_K_TUPLE ? ((struct ion_tuple *)ion_as_obj(tuple))->items :
						       ((struct ion_array *)ion_as_obj(tuple))->items;
	rc = ion_vm_run_func(vm, f, items, f->arity, &result);
	return rc ? rc : encode(vm, result, copy_only, out, outlen);
}

int ion_vm_call_encoded(struct ion_vm *vm, const char *cls, const char *fn,
			const void *args, size_t len, uint8_t **out, size_t *outlen)
{
	return call_encoded(vm, cls, fn, 0, args, len, out, outlen);
}

int ion_vm_call_copy(struct ion_vm *vm, const char *cls, const char *fn,
		     const void *args, size_t len, uint8_t **out, size_t *outlen)
{
	return call_encoded(vm, cls, fn, 1, args, len, out, outlen);
}
