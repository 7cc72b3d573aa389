/* vm.h - the VM context: what one struct ion_vm owns. Files that need the
 * scheduler or the registry include this; value-level code does not. */
#ifndef ION_VM_H
#define ION_VM_H

#include <stdarg.h>
#include <stdint.h>

#include "ion/include/ion.h"
#include "ion/gc.h"
#include "ion/sched.h"
#include "ion/str.h"
#include "ion/value.h"

struct ion_class;
struct ion_native;

/* Atoms the VM itself uses, interned once at creation. */
#define ION_COMMON_ATOMS(X) \
	X(normal) X(EXIT) X(DOWN) X(error) X(noproc) X(killed) X(ok) \
	X(badarith) X(badarg) X(badcall) X(badarity) X(badprop) X(badindex) X(badmatch) \
	X(nomem) X(nil) X(boolean) X(number) X(string) X(atom) X(complex) X(tuple) \
	X(array) X(buffer) X(object) X(function) X(native) X(pid) X(reference) X(timeout) \
	X(__add) X(__sub) X(__mul) X(__div) X(__eq) X(__tostring) X(__call)

struct ion_common_atoms {
#define ION_ATOM_FIELD(n) struct ion_atom *n;
	ION_COMMON_ATOMS(ION_ATOM_FIELD)
#undef ION_ATOM_FIELD
};

struct ion_manifest_entry {
	char *key, *value;
};

struct ion_vm {
	struct ion_config cfg;
	char err[2048];
	struct ion_atoms atoms;
	struct ion_common_atoms a;
	uint32_t gc_epoch;
	uint64_t next_ref;

	struct ion_class **classes;
	uint32_t nclasses;

	const struct ion_native **natives;
	uint32_t nnatives, capnatives;

	struct ion_manifest_entry *manifest;
	uint32_t nmanifest;
	ion_class_fn on_class;       /* ion_vm_on_class: sees each pack class's bytes */
	void *on_class_opaque;

	struct ion_sched sched;

	struct ion_heap result_heap; /* keeps the last run's result alive */
	char *result_text;
};

int ion_vm_fail(struct ion_vm *vm, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ion_vm_write(struct ion_vm *vm, enum ion_stream s, const char *data, size_t len);
void ion_vm_printf(struct ion_vm *vm, enum ion_stream s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline ion_value ion_atom_val(struct ion_atom *a) { return ion_box(ION_TAG_ATOM, a); }

/* Runs f(args) as a run's first process (vm.c). */
struct ion_func;
int ion_vm_run_func(struct ion_vm *vm, struct ion_func *f, const ion_value *args, uint32_t nargs,
		    ion_value *result);

/* Drops the previous run's result and arguments (the result heap). */
void ion_vm_reset_results(struct ion_vm *vm);

/* Class loading and linking (link.c). */
int ion_link_add_unit(struct ion_vm *vm, struct ion_unit *u);
int ion_link_all(struct ion_vm *vm);
void ion_link_free_classes(struct ion_vm *vm);
struct ion_class *ion_vm_find_class(struct ion_vm *vm, const char *name, size_t len);

/* Pack reading (pack.c). */
int ion_pack_load(struct ion_vm *vm, const void *data, size_t len, const char *what);
int ion_pack_parse_manifest(struct ion_vm *vm, const char *text, size_t len);

#endif
