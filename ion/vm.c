/* vm.c - creating and freeing a VM, its error slot and output, and runs. */
#include <stdio.h>
#include <stdlib.h>

#include "ion/ffi.h"
#include "ion/format.h"
#include "ion/func.h"
#include "ion/interp.h"
#include "ion/process.h"
#include "ion/sched.h"
#include "ion/unit.h"
#include "ion/vm.h"

int ion_vm_fail(struct ion_vm *vm, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(vm->err, sizeof vm->err, fmt, ap);
	va_end(ap);
	return code;
}

const char *ion_vm_error(const struct ion_vm *vm) { return vm->err; }

const char *ion_vm_result_text(const struct ion_vm *vm) { return vm->result_text; }

void ion_vm_write(struct ion_vm *vm, enum ion_stream s, const char *data, size_t len)
{
	if (vm->cfg.write)
		vm->cfg.write(vm->cfg.write_opaque, s, data, len);
}

void ion_vm_printf(struct ion_vm *vm, enum ion_stream s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0)
		ion_vm_write(vm, s, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

struct ion_vm *ion_vm_new(const struct ion_config *cfg)
{
	struct ion_vm *vm = calloc(1, sizeof *vm);
	if (!vm)
		return NULL;
	if (cfg)
		vm->cfg = *cfg;
	vm->sched.budget = vm->cfg.reductions ? vm->cfg.reductions : 2000;
	ion_heap_init(&vm->result_heap, &vm->gc_epoch, NULL, NULL);
	if (ion_atoms_init(&vm->atoms))
		goto fail;
#define ION_ATOM_INIT(n) if (!(vm->a.n = ion_atom_intern(&vm->atoms, #n, strlen(#n)))) goto fail;
	ION_COMMON_ATOMS(ION_ATOM_INIT)
#undef ION_ATOM_INIT
	const struct ion_native *const tables[] = { ion_stdlib_math, ion_stdlib_io, ion_stdlib_string,
						    ion_stdlib_array, ion_stdlib_process,
						    ion_stdlib_object, ion_stdlib_buf };
	for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
		if (ion_ffi_register(vm, tables[i]))
			goto fail;
	return vm;
fail:
	ion_vm_free(vm);
	return NULL;
}

static void manifest_free(struct ion_vm *vm)
{
	for (uint32_t i = 0; i < vm->nmanifest; i++) {
		free(vm->manifest[i].key);
		free(vm->manifest[i].value);
	}
	free(vm->manifest);
	vm->manifest = NULL;
	vm->nmanifest = 0;
}

void ion_vm_free(struct ion_vm *vm)
{
	if (!vm)
		return;
	ion_sched_destroy(vm);
	ion_heap_destroy(&vm->result_heap);
	free(vm->result_text);
	ion_link_free_classes(vm);
	ion_ffi_free(vm);
	manifest_free(vm);
	if (vm->atoms.buckets)
		ion_atoms_free(&vm->atoms);
	free(vm);
}

void ion_vm_on_class(struct ion_vm *vm, ion_class_fn fn, void *opaque)
{
	vm->on_class = fn;
	vm->on_class_opaque = opaque;
}

const char *ion_vm_manifest(const struct ion_vm *vm, const char *key)
{
	for (uint32_t i = 0; i < vm->nmanifest; i++)
		if (strcmp(vm->manifest[i].key, key) == 0)
			return vm->manifest[i].value;
	return NULL;
}

int ion_vm_load_class(struct ion_vm *vm, const void *data, size_t len)
{
	struct ion_unit *u;
	int rc = ion_unit_decode(data, len, &u, vm->err, sizeof vm->err);
	if (rc)
		return rc;
	return ion_link_add_unit(vm, u);
}

int ion_vm_link(struct ion_vm *vm) { return ion_link_all(vm); }

static int find_entry(struct ion_vm *vm, const char *cls, const char *fn, struct ion_func **out)
{
	if (!cls)
		cls = ion_vm_manifest(vm, "main-class");
	if (!fn)
		fn = ion_vm_manifest(vm, "entry-point");
	if (!cls || !fn)
		return ion_vm_fail(vm, ION_E_INVALID, "no entry point given and no manifest loaded");
	struct ion_class *c = ion_vm_find_class(vm, cls, strlen(cls));
	if (!c || !c->linked)
		return ion_vm_fail(vm, ION_E_LINK, "entry class %s not loaded", cls);
	struct ion_func *f = ion_class_func(c, fn);
	if (!f)
		return ion_vm_fail(vm, ION_E_LINK, "entry point %s.%s not found", cls, fn);
	if (f->nup || f->arity > 1)
		return ion_vm_fail(vm, ION_E_LINK, "entry point %s.%s must take 0 or 1 arguments and "
				   "no upvalues", cls, fn);
	*out = f;
	return 0;
}

static int make_args(struct ion_vm *vm, struct ion_func *f, int argc, char **argv, ion_value *args)
{
	if (f->arity == 0) {
		if (argc)
			return ion_vm_fail(vm, ION_E_INVALID, "%s.%s takes no arguments, %d given",
					   f->cls->name, f->name, argc);
		return 0;
	}
	struct ion_array *a = ion_array_new(&vm->result_heap, (uint32_t)argc);
	if (!a)
		return ion_vm_fail(vm, ION_E_NOMEM, "out of memory");
	for (int i = 0; i < argc; i++) {
		ion_value s = ion_gc_str(&vm->result_heap, argv[i], strlen(argv[i]));
		if (!s)
			return ion_vm_fail(vm, ION_E_NOMEM, "out of memory");
		a->items[a->h.len++] = s;
	}
	args[0] = ion_box(ION_TAG_OBJ, a);
	return 0;
}

/* The main process ended: keep its result (and text) or report its error. */
static int finish(struct ion_vm *vm, struct ion_proc *main, ion_value *result)
{
	struct ion_buf b = { 0 };
	if (main->reason == ion_atom_val(vm->a.normal)) {
		main->state = ION_P_RUNNING; /* __tostring may run on it */
		ion_format_value(main, &b, main->result, 1);
		free(vm->result_text);
		vm->result_text = b.p;
		ion_value r = ION_NIL;
		if (ion_gc_copy(&vm->result_heap, main->result, &r))
			return ion_vm_fail(vm, ION_E_NOMEM, "out of memory keeping the result");
		if (result)
			*result = r;
		return 0;
	}
	ion_format_value(NULL, &b, main->reason, 0);
	ion_vm_fail(vm, ION_E_RUNTIME, "uncaught error in <pid %u>: %s\n%s", ion_pid_slot(main->pid),
		    b.p ? b.p : "?", main->trace ? main->trace : "");
	free(b.p);
	return ION_E_RUNTIME;
}

/* Spawns f(args) as the first process and runs until it ends. */
int ion_vm_run_func(struct ion_vm *vm, struct ion_func *f, const ion_value *args, uint32_t nargs,
		    ion_value *result)
{
	struct ion_proc *main;
	int rc = ion_sched_spawn(vm, NULL, ion_box(ION_TAG_FUNC, f), args, nargs, &main);
	if (rc)
		return ion_vm_fail(vm, rc, "cannot start the main process");
	vm->sched.spent = 0;
	rc = ion_sched_run(vm, main);
	if (rc == ION_E_DEADLOCK) {
		ion_vm_fail(vm, rc, "deadlock: every process waits in receive without a timeout");
	} else if (rc == ION_E_LIMIT) {
		ion_vm_fail(vm, rc, "the run exceeded its limit of %llu reductions",
			    (unsigned long long)vm->cfg.max_reductions);
	} else {
		rc = finish(vm, main, result);
	}
	vm->sched.main = NULL;
	if (main->state != ION_P_DEAD)
		ion_sched_exit(vm, main, ion_atom_val(vm->a.killed)); /* frees it */
	else
		ion_proc_free(main);
	/* A run owns every process it started: end the rest with it. */
	uint32_t budget = vm->sched.budget;
	ion_sched_destroy(vm);
	vm->sched.budget = budget;
	return rc;
}

void ion_vm_reset_results(struct ion_vm *vm)
{
	ion_heap_destroy(&vm->result_heap);
	ion_heap_init(&vm->result_heap, &vm->gc_epoch, NULL, NULL);
}

int ion_vm_run(struct ion_vm *vm, const char *cls, const char *fn, int argc, char **argv,
	       ion_value *result)
{
	struct ion_func *f = NULL;
	ion_value args[1] = { ION_NIL };
	ion_vm_reset_results(vm);
	int rc = find_entry(vm, cls, fn, &f);
	if (rc || (rc = make_args(vm, f, argc, argv, args)))
		return rc;
	return ion_vm_run_func(vm, f, args, f->arity, result);
}

char *ion_vm_format(struct ion_vm *vm, ion_value v)
{
	struct ion_buf b = { 0 };
	ion_format_value(NULL, &b, v, 1);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p ? b.p : strdup("");
}
