/*
 * ion.h - the public embedding API of IonVM (libion.a).
 *
 * A `struct ion_vm` is one self-contained VM: its atoms, loaded classes, FFI
 * registry, processes and scheduler. There is no global state, so several VMs
 * may live in one program; one VM is driven by one thread at a time.
 * The library never exits and never prints: program output (io.print, traces)
 * goes through the write callback of the config. Calls that can fail return 0
 * or a negative ION_E_* code, and ion_vm_error() names what failed.
 */
#ifndef ION_H
#define ION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ion_code {
	ION_OK = 0,
	ION_E_INVALID = -1, /* a bad argument */
	ION_E_NOMEM = -2,   /* out of memory */
	ION_E_FORMAT = -3,  /* malformed, truncated or unverifiable bytecode/pack */
	ION_E_IO = -4,      /* a file could not be read */
	ION_E_LINK = -5,    /* an unknown class, function or native */
	ION_E_RUNTIME = -6, /* the process ended with an uncaught error */
	ION_E_DEADLOCK = -7, /* every process waits forever: nothing can happen */
	ION_E_LIMIT = -8     /* the run spent its max_reductions */
};

/* A value: a NaN-boxed 64-bit word (see ion/value.h). Values that point
 * into a process heap are valid only while that process lives; the result
 * of ion_vm_run lives until the next run or ion_vm_free. */
typedef uint64_t ion_value;

enum ion_stream { ION_STDOUT = 1, ION_STDERR = 2 };
typedef void (*ion_write_fn)(void *opaque, enum ion_stream stream, const char *data, size_t len);

enum ion_debug_flags {
	ION_DEBUG_TRACE = 1, /* every instruction executed */
	ION_DEBUG_SCHED = 2  /* every scheduling decision */
};

struct ion_config {
	ion_write_fn write;   /* NULL: output is discarded */
	void *write_opaque;
	uint32_t reductions;  /* budget per time slice; 0 = default (2000) */
	unsigned debug;       /* enum ion_debug_flags */
	uint64_t max_reductions; /* per run, over all processes; 0 = unlimited */
};

struct ion_vm;

struct ion_vm *ion_vm_new(const struct ion_config *config);
void ion_vm_free(struct ion_vm *vm);

/* The message of the last failure (never NULL). */
const char *ion_vm_error(const struct ion_vm *vm);

/* Loads a pack (zip) from a file or memory; classes are verified and linked. */
int ion_vm_load_pack_file(struct ion_vm *vm, const char *path);
int ion_vm_load_pack_mem(struct ion_vm *vm, const void *data, size_t len);
/* Loads one .ionc class (verified, not yet linked), then ion_vm_link(). */
int ion_vm_load_class(struct ion_vm *vm, const void *data, size_t len);
int ion_vm_link(struct ion_vm *vm);

/* Runs Class.function as the first process with string arguments (arity 1:
 * one array of strings; arity 0: argc must be 0) until that process ends.
 * Class/function NULL: the pack manifest's main class and entry point.
 * On ION_E_RUNTIME, ion_vm_error() holds the error and the stack trace. */
int ion_vm_run(struct ion_vm *vm, const char *cls, const char *fn,
	       int argc, char **argv, ion_value *result);

/* Values as bytes, for passing arguments in and results out (arcvm call):
 * the constant encoding of docs/ionvm-bytecode.md ("Value encoding").
 * ion_vm_call_encoded runs Class.fn with the items of an encoded tuple or
 * array as arguments and returns the encoded result (malloc'd) in *out.
 * Closures, pids and buffers cannot be encoded (ION_E_INVALID). */
int ion_vm_call_encoded(struct ion_vm *vm, const char *cls, const char *fn,
			const void *args, size_t len, uint8_t **out, size_t *outlen);
int ion_vm_encode(struct ion_vm *vm, ion_value v, uint8_t **out, size_t *len);
/* The same for values that cross a machine boundary (arcvm call): a
 * function or native among the arguments or in the result is refused
 * (ION_E_INVALID) instead of being passed by name. */
int ion_vm_call_copy(struct ion_vm *vm, const char *cls, const char *fn,
		     const void *args, size_t len, uint8_t **out, size_t *outlen);

/* The literal text form of copyable values (docs/ionvm-call.md): nil true
 * false, 42 -1.5e3 nan -inf, 1+2i, "bytes\x00", atoms ok / 'any atom',
 * {tuple}, [array], #Type{key: v, key/we: v}. ion_literal_encode parses
 * text strictly into the value encoding (malloc'd *out); on a syntax error
 * it returns ION_E_INVALID with err naming the offset and the problem.
 * ion_literal_format prints an encoded value in the same syntax (malloc'd,
 * NUL-terminated), or returns NULL with err set when the bytes are not a
 * well-formed copyable value (functions included). Neither needs a VM. */
int ion_literal_encode(const char *text, size_t len, uint8_t **out, size_t *outlen,
		       char *err, size_t errlen);
char *ion_literal_format(const void *enc, size_t len, char *err, size_t errlen);

/* Called with the bytes of each class file as ion_vm_load_pack_* reads it
 * (after the class decoded and verified), so an embedder can forward a
 * pack's classes elsewhere (arcvm call ships them to its guest). A non-zero
 * return fails the load with ION_E_NOMEM. NULL removes the callback. */
typedef int (*ion_class_fn)(void *opaque, const char *name, const void *data, size_t len);
void ion_vm_on_class(struct ion_vm *vm, ion_class_fn fn, void *opaque);

/* Display form of the last successful run's result, computed while its
 * process still lived (so __tostring methods ran); NULL before any run. */
const char *ion_vm_result_text(const struct ion_vm *vm);

/* Display form of a value (docs/ionvm-bytecode.md); the caller frees it. */
char *ion_vm_format(struct ion_vm *vm, ion_value v);

/* Manifest fields of the loaded pack (NULL when no pack is loaded). */
const char *ion_vm_manifest(const struct ion_vm *vm, const char *key);

/* ---- the FFI: natives an embedder adds next to the stdlib ----
 * A native receives its arguments (read them before calling back into the
 * VM: the array may move), stores one result in *out and returns
 * ION_NATIVE_OK, or ION_NATIVE_ERROR after ion_proc_raise(). Values it
 * creates belong to the calling process. */
struct ion_proc;
enum { ION_NATIVE_OK = 0, ION_NATIVE_ERROR = -1, ION_NATIVE_WAIT = 1 };
typedef int (*ion_native_fn)(struct ion_proc *p, ion_value *args, int nargs, ion_value *out);

struct ion_native {
	const char *name;  /* "module.function" */
	int arity;         /* -1: variadic */
	const char *doc;   /* one line */
	ion_native_fn fn;
};

/* Adds a table ending with a NULL name; it must outlive the VM. Register
 * before loading classes (natives are resolved when classes are linked);
 * a name already present is replaced. */
int ion_vm_register_natives(struct ion_vm *vm, const struct ion_native *table);
/* The i-th registered native (stdlib first), NULL past the end. */
const struct ion_native *ion_vm_native_at(const struct ion_vm *vm, unsigned i);

/* Conversions at the boundary: on a wrong kind they raise badarg and return -1. */
int ion_arg_num(struct ion_proc *p, const ion_value *args, int i, double *out);
int ion_arg_str(struct ion_proc *p, const ion_value *args, int i, const char **s, size_t *len);
/* A new string in the process's heap; 0 (after raising nomem) on failure. */
ion_value ion_new_str(struct ion_proc *p, const char *s, size_t len);
ion_value ion_make_number(double d);
ion_value ion_make_bool(int b);
/* A buffer (buf.* natives) over the embedder's bytes [data, data + size),
 * which the VM reads and writes in place and never frees: they must stay
 * mapped until ion_vm_free. Copies into other processes' heaps (messages,
 * spawn) view the same bytes; it cannot cross ion_vm_call_copy/encode.
 * 0 (after raising) on failure. */
ion_value ion_new_buffer_external(struct ion_proc *p, void *data, size_t size);
/* Records an error {kind, message} for the running process; returns ION_NATIVE_ERROR. */
int ion_proc_raise(struct ion_proc *p, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif
