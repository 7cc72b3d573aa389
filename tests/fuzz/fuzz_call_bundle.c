/* fuzz_call_bundle.c - the CALL bundle decoder the guest agent runs on what
 * the host sends (guest/agent/proto.c). Properties: no crash or read past
 * the input; a bundle that decodes encodes back to the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest/agent/proto.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);  /* exactly size bytes for ASan */
	memcpy(copy, data, size);
	struct proto_call c;
	if (proto_decode_call(copy, size, &c) == 0) {
		uint8_t *again;
		size_t len;
		if (proto_encode_call(&c, &again, &len) || len != size || memcmp(again, copy, size))
			abort();
		free(again);
		proto_call_free(&c);
	}
	free(copy);
	return 0;
}
