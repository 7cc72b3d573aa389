/* fuzz_linux_load.c - loading arbitrary bytes as a kernel (bzImage or ELF)
 * into a small guest memory: nothing may be written outside it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "arch/x86/x86.h"

#define FUZZ_RAM (64u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	if (!ram)
		ram = malloc(FUZZ_RAM);
	struct guest_mem mem = { 0 };
	mem_add_region(&mem, 0, ram, FUZZ_RAM, true, NULL);
	static const uint8_t initrd[4096];
	struct x86_linux_entry entry;
	struct arcvm_error err;
	x86_load_linux(&mem, data, size, initrd, sizeof(initrd), "console=ttyS0", &entry, &err);
	return 0;
}
