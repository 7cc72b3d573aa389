/* ffi.h - native functions: the FFI registry the stdlib is built on.
 *
 * A native gets its arguments as values (in the caller's registers, so they
 * stay rooted), converts them with the helpers below, and stores one result.
 * It returns ION_NATIVE_OK, ION_NATIVE_ERROR after ion_proc_raise(), or
 * ION_NATIVE_WAIT after putting the process to sleep (process.sleep).
 */
#ifndef ION_FFI_H
#define ION_FFI_H

#include <stddef.h>

#include "ion/value.h"

struct ion_proc;
struct ion_vm;
struct ion_array;

enum { ION_NATIVE_OK = 0, ION_NATIVE_ERROR = -1, ION_NATIVE_WAIT = 1 };

typedef int (*ion_native_fn)(struct ion_proc *p, ion_value *args, int nargs, ion_value *out);

struct ion_native {
	const char *name;  /* module.function */
	int arity;         /* -1: variadic */
	const char *doc;   /* one line */
	ion_native_fn fn;
};

/* Adds a table of natives (terminated by a NULL name); the table must live as
 * long as the VM. A later entry with the same name replaces an earlier one. */
int ion_ffi_register(struct ion_vm *vm, const struct ion_native *table);
const struct ion_native *ion_ffi_find(const struct ion_vm *vm, const char *name, size_t len);
void ion_ffi_free(struct ion_vm *vm);

/* Conversion helpers: on a wrong type they raise badarg and return -1. */
int ion_arg_num(struct ion_proc *p, const ion_value *args, int i, double *out);
int ion_arg_str(struct ion_proc *p, const ion_value *args, int i, const char **s, size_t *len);
int ion_arg_array(struct ion_proc *p, const ion_value *args, int i, struct ion_array **out);
/* A new string value in p's heap; raises on out of memory (returns 0). */
ion_value ion_new_str(struct ion_proc *p, const char *s, size_t len);

/* The stdlib tables, registered by ion_vm_new in this order. */
extern const struct ion_native ion_stdlib_math[];
extern const struct ion_native ion_stdlib_io[];
extern const struct ion_native ion_stdlib_string[];
extern const struct ion_native ion_stdlib_array[];
extern const struct ion_native ion_stdlib_process[];

#endif
