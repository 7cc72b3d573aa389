/* ffi.h - native functions: the FFI registry the stdlib is built on.
 *
 * The native interface itself is public (ion.h). A native's arguments are
 * values in the caller's registers, so they stay rooted. ION_NATIVE_WAIT
 * (internal) means the native put the process to sleep (process.sleep).
 */
#ifndef ION_FFI_H
#define ION_FFI_H

#include <stddef.h>

#include "ion/value.h"

struct ion_proc;
struct ion_vm;
struct ion_array;

/* ion_vm_register_natives (ion.h) is the public face of this. */
int ion_ffi_register(struct ion_vm *vm, const struct ion_native *table);
const struct ion_native *ion_ffi_find(const struct ion_vm *vm, const char *name, size_t len);
void ion_ffi_free(struct ion_vm *vm);

/* More conversions (ion.h has numbers and strings). */
int ion_arg_array(struct ion_proc *p, const ion_value *args, int i, struct ion_array **out);

/* The stdlib tables, registered by ion_vm_new in this order. */
extern const struct ion_native ion_stdlib_math[];
extern const struct ion_native ion_stdlib_io[];
extern const struct ion_native ion_stdlib_string[];
extern const struct ion_native ion_stdlib_array[];
extern const struct ion_native ion_stdlib_process[];
extern const struct ion_native ion_stdlib_object[];
extern const struct ion_native ion_stdlib_buf[];

#endif
