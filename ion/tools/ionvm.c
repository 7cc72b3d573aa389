/* ionvm - runs an IonPack's entry point and prints the result.
 *   --debug             trace every instruction and scheduling decision (stderr)
 *   --reductions N      the time slice of each process, in reductions
 *   --max-reductions N  stop the run after N reductions in all (exit 1)
 *   --natives           list the FFI registry
 * Exit status: 0 success, 1 uncaught error/deadlock/limit, 2 usage or load error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ion/include/ion.h"

static void write_out(void *opaque, enum ion_stream s, const char *data, size_t len)
{
	fwrite(data, 1, len, s == ION_STDERR ? stderr : stdout);
	if (s == ION_STDERR)
		fflush(stderr);
}

static int usage(void)
{
	fprintf(stderr, "usage: ionvm [--debug] [--reductions N] [--max-reductions N] PACK.ionpack [args...]\n"
			"       ionvm --natives    (list the FFI registry)\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct ion_config cfg = { .write = write_out };
	int i = 1;
	if (argc == 2 && strcmp(argv[1], "--natives") == 0) {
		struct ion_vm *vm = ion_vm_new(&cfg);
		if (!vm)
			return 2;
		for (unsigned k = 0; ion_vm_native_at(vm, k); k++) {
			const struct ion_native *n = ion_vm_native_at(vm, k);
			printf("%-16s %2d  %s\n", n->name, n->arity, n->doc);
		}
		ion_vm_free(vm);
		return 0;
	}
	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (strcmp(argv[i], "--debug") == 0) {
			cfg.debug = ION_DEBUG_TRACE | ION_DEBUG_SCHED;
		} else if (strcmp(argv[i], "--max-reductions") == 0 && i + 1 < argc) {
			char *e;
			unsigned long long n = strtoull(argv[++i], &e, 10);
			if (*e || n == 0)
				return usage();
			cfg.max_reductions = n;
		} else if (strcmp(argv[i], "--reductions") == 0 && i + 1 < argc) {
			char *e;
			long n = strtol(argv[++i], &e, 10);
			if (*e || n < 1 || n > 100000000)
				return usage();
			cfg.reductions = (uint32_t)n;
		} else {
			return usage();
		}
	}
	if (i >= argc)
		return usage();
	struct ion_vm *vm = ion_vm_new(&cfg);
	if (!vm) {
		fprintf(stderr, "ionvm: out of memory\n");
		return 2;
	}
	int rc = ion_vm_load_pack_file(vm, argv[i]);
	if (rc) {
		fprintf(stderr, "ionvm: %s\n", ion_vm_error(vm));
		ion_vm_free(vm);
		return 2;
	}
	ion_value result;
	rc = ion_vm_run(vm, NULL, NULL, argc - i - 1, argv + i + 1, &result);
	fflush(stdout);
	if (rc) {
		fprintf(stderr, "ionvm: %s\n", ion_vm_error(vm));
		ion_vm_free(vm);
		return rc == ION_E_RUNTIME || rc == ION_E_DEADLOCK || rc == ION_E_LIMIT ? 1 : 2;
	}
	const char *text = ion_vm_result_text(vm);
	printf("%s\n", text ? text : "nil");
	ion_vm_free(vm);
	return 0;
}
