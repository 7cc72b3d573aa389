/* fuzz_bzimage.c - the bzImage setup-header parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/x86.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct x86_bzimage img;
	struct arcvm_error err;
	x86_bzimage_parse(data, size, &img, &err);
	return 0;
}
