/* fuzz_ionc - libFuzzer target for the .ionc loader. The header's length and
 * CRC are patched to match the input so the fuzzer reaches the parser and
 * the verifier. Properties checked: no crash; whatever is accepted links or
 * fails with a message; and disassembling then assembling it gives back the
 * same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ion/asm.h"
#include "ion/include/ion.h"
#include "ion/unit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < ION_HEADER_SIZE || size > (1u << 20))
		return 0;
	uint8_t *d = malloc(size);
	memcpy(d, data, size);
	memcpy(d, "IONC", 4);
	uint32_t plen = (uint32_t)(size - ION_HEADER_SIZE), crc = ion_crc32(d + ION_HEADER_SIZE, plen);
	for (int i = 0; i < 4; i++) {
		d[12 + i] = (uint8_t)(plen >> (8 * i));
		d[16 + i] = (uint8_t)(crc >> (8 * i));
	}
	char err[1024];
	struct ion_unit *u;
	if (ion_unit_decode(d, size, &u, err, sizeof err) == 0) {
		struct ion_buf text = { 0 };
		ion_disasm_unit(u, &text);
		struct ion_asm_pack p;
		uint8_t *again;
		size_t len;
		if (ion_asm_parse(text.p, text.n, &p, err, sizeof err) != 0 ||
		    ion_unit_encode(p.units[0], &again, &len) != 0)
			abort();
		/* flags, minor version and reserved bits are normalised by the
		 * encoder; the payload must match exactly */
		if (len != size || memcmp(again + ION_HEADER_SIZE, d + ION_HEADER_SIZE, plen) != 0)
			abort();
		free(again);
		ion_asm_pack_free(&p);
		free(text.p);
		ion_unit_free(u);
		struct ion_vm *vm = ion_vm_new(NULL);
		if (ion_vm_load_class(vm, d, size) == 0 && ion_vm_link(vm) != 0 && !ion_vm_error(vm)[0])
			abort();
		ion_vm_free(vm);
	} else if (!err[0]) {
		abort();
	}
	free(d);
	return 0;
}
