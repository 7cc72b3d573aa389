/* stdlib_object.c - object.*: freezing, own keys and property descriptors. */
#include "ion/ffi.h"
#include "ion/object.h"
#include "ion/ops.h"
#include "ion/process.h"
#include "ion/vm.h"

static int object_arg(struct ion_proc *p, const ion_value *a, int i, struct ion_object **out)
{
	if (!ion_is_otype(a[i], ION_O_OBJECT))
		return ion_proc_raise(p, "badarg", "argument %d must be an object", i + 1);
	*out = (struct ion_object *)ion_as_obj(a[i]);
	return 0;
}

static int o_freeze(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	struct ion_object *o = NULL;
	if (object_arg(p, a, 0, &o))
		return ION_NATIVE_ERROR;
	o->h.flags |= ION_OF_FROZEN;
	*out = a[0];
	return ION_NATIVE_OK;
}

static int o_is_frozen(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	struct ion_object *o = NULL;
	if (object_arg(p, a, 0, &o))
		return ION_NATIVE_ERROR;
	*out = ion_bool(o->h.flags & ION_OF_FROZEN);
	return ION_NATIVE_OK;
}

/* Enumerable own keys, in definition order, as atoms. */
static int o_keys(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	struct ion_object *o = NULL;
	if (object_arg(p, a, 0, &o))
		return ION_NATIVE_ERROR;
	struct ion_array *arr = ion_array_new(&p->heap, o->h.len);
	if (!arr)
		return ion_proc_raise(p, "nomem", "out of memory");
	for (uint32_t i = 0; i < o->h.len; i++)
		if (o->props[i].flags & ION_P_ENUMERABLE)
			arr->items[arr->h.len++] = ion_atom_val(o->props[i].key);
	*out = ion_box(ION_TAG_OBJ, arr);
	return ION_NATIVE_OK;
}

/* {writable, enumerable, configurable} of an own property, or nil. */
static int o_describe(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	struct ion_object *o = NULL;
	if (object_arg(p, a, 0, &o))
		return ION_NATIVE_ERROR;
	struct ion_atom *key = ion_key_of(p, a[1]);
	if (!key)
		return ION_NATIVE_ERROR;
	struct ion_prop *pr = ion_obj_own(o, key);
	if (!pr) {
		*out = ION_NIL;
		return ION_NATIVE_OK;
	}
	struct ion_tuple *t = ion_tuple_new(&p->heap, 3);
	if (!t)
		return ion_proc_raise(p, "nomem", "out of memory");
	t->items[0] = ion_bool(pr->flags & ION_P_WRITABLE);
	t->items[1] = ion_bool(pr->flags & ION_P_ENUMERABLE);
	t->items[2] = ion_bool(pr->flags & ION_P_CONFIGURABLE);
	*out = ion_box(ION_TAG_OBJ, t);
	return ION_NATIVE_OK;
}

/* A new object whose prototype is the argument (an object or nil). */
static int o_create(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	if (a[0] != ION_NIL && !ion_is_otype(a[0], ION_O_OBJECT))
		return ion_proc_raise(p, "badarg", "a prototype must be an object or nil");
	struct ion_object *o = ion_object_new(&p->heap);
	if (!o)
		return ion_proc_raise(p, "nomem", "out of memory");
	o->proto = a[0];
	*out = ion_box(ION_TAG_OBJ, o);
	return ION_NATIVE_OK;
}

const struct ion_native ion_stdlib_object[] = {
	{ "object.freeze", 1, "forbid new properties; returns the object", o_freeze },
	{ "object.is_frozen", 1, "whether the object is frozen", o_is_frozen },
	{ "object.keys", 1, "array of the enumerable own keys, as atoms", o_keys },
	{ "object.describe", 2, "{writable, enumerable, configurable} of an own property, or nil", o_describe },
	{ "object.create", 1, "a new object with the given prototype", o_create },
	{ NULL, 0, NULL, NULL }
};
