/* fuzz_pack - libFuzzer target for IonPack loading (zip, manifest, classes,
 * linking): any input is loaded or refused with a message, never a crash. */
#include <stdint.h>
#include <stdlib.h>

#include "ion/include/ion.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ion_vm *vm = ion_vm_new(NULL);
	if (ion_vm_load_pack_mem(vm, data, size) != 0 && !ion_vm_error(vm)[0])
		abort();
	ion_vm_free(vm);
	return 0;
}
