/* ffi.c - the native registry and argument conversion helpers. */
#include <stdlib.h>

#include "ion/ffi.h"
#include "ion/gc.h"
#include "ion/object.h"
#include "ion/ops.h"
#include "ion/process.h"
#include "ion/str.h"
#include "ion/vm.h"

int ion_ffi_register(struct ion_vm *vm, const struct ion_native *table)
{
	for (const struct ion_native *n = table; n->name; n++) {
		uint32_t i;
		for (i = 0; i < vm->nnatives; i++)
			if (strcmp(vm->natives[i]->name, n->name) == 0)
				break;
		if (i == vm->nnatives) {
			if (vm->nnatives == vm->capnatives) {
				uint32_t cap = vm->capnatives ? vm->capnatives * 2 : 64;
				const struct ion_native **nn = realloc(vm->natives, cap * sizeof *nn);
				if (!nn)
					return ion_vm_fail(vm, ION_E_NOMEM, "out of memory");
				vm->natives = nn;
				vm->capnatives = cap;
			}
			vm->nnatives++;
		}
		vm->natives[i] = n;
	}
	return 0;
}

int ion_vm_register_natives(struct ion_vm *vm, const struct ion_native *table)
{
	if (!table)
		return ion_vm_fail(vm, ION_E_INVALID, "no native table");
	return ion_ffi_register(vm, table);
}

const struct ion_native *ion_vm_native_at(const struct ion_vm *vm, unsigned i)
{
	return i < vm->nnatives ? vm->natives[i] : NULL;
}

ion_value ion_make_number(double d) { return ion_from_num_canon(d); }
ion_value ion_make_bool(int b) { return ion_bool(b != 0); }

const struct ion_native *ion_ffi_find(const struct ion_vm *vm, const char *name, size_t len)
{
	for (uint32_t i = 0; i < vm->nnatives; i++)
		if (strlen(vm->natives[i]->name) == len && memcmp(vm->natives[i]->name, name, len) == 0)
			return vm->natives[i];
	return NULL;
}

void ion_ffi_free(struct ion_vm *vm)
{
	free(vm->natives);
	vm->natives = NULL;
	vm->nnatives = vm->capnatives = 0;
}

static const char *kind(struct ion_proc *p, ion_value v)
{
	return ion_as_atom(ion_type_of(p, v))->name;
}

int ion_arg_num(struct ion_proc *p, const ion_value *args, int i, double *out)
{
	if (!ion_is_num(args[i]))
		return ion_proc_raise(p, "badarg", "argument %d must be a number, not %s", i + 1,
				      kind(p, args[i]));
	*out = ion_num(args[i]);
	return 0;
}

int ion_arg_str(struct ion_proc *p, const ion_value *args, int i, const char **s, size_t *len)
{
	if (ion_is_atom(args[i])) {
		*s = ion_as_atom(args[i])->name;
		*len = ion_as_atom(args[i])->len;
		return 0;
	}
	if (!ion_is_str(args[i]))
		return ion_proc_raise(p, "badarg", "argument %d must be a string, not %s", i + 1,
				      kind(p, args[i]));
	*s = ion_as_str(args[i])->data;
	*len = ion_as_str(args[i])->len;
	return 0;
}

int ion_arg_array(struct ion_proc *p, const ion_value *args, int i, struct ion_array **out)
{
	if (!ion_is_otype(args[i], ION_O_ARRAY))
		return ion_proc_raise(p, "badarg", "argument %d must be an array, not %s", i + 1,
				      kind(p, args[i]));
	*out = (struct ion_array *)ion_as_obj(args[i]);
	return 0;
}

ion_value ion_new_buffer_external(struct ion_proc *p, void *data, size_t size)
{
	if (size > ION_BUFFER_MAX) {
		ion_proc_raise(p, "badarg", "a buffer of %zu bytes is too large", size);
		return 0;
	}
	struct ion_buffer *b = ion_buffer_external(&p->heap, data, size);
	if (!b) {
		ion_proc_raise(p, "nomem", "out of memory");
		return 0;
	}
	return ion_box(ION_TAG_OBJ, b);
}

ion_value ion_new_str(struct ion_proc *p, const char *s, size_t len)
{
	ion_value v = ion_gc_str(&p->heap, s, len);
	if (!v)
		ion_proc_raise(p, "nomem", "out of memory");
	return v;
}
