/* fuzz_value - libFuzzer target for the value encoding as arcvm call
 * receives it from a (hostile) guest, and for the --arg literal parser.
 * Properties checked: no crash or out-of-bounds read; an encoding that
 * prints as a literal parses back to the same bytes; a literal that parses
 * prints and parses back to the same encoding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ion/include/ion.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_encoding(const uint8_t *enc, size_t len)
{
	char err[256];
	char *text = ion_literal_format(enc, len, err, sizeof err);
	if (!text)
		return;
	uint8_t *back;
	size_t blen;
	if (ion_literal_encode(text, strlen(text), &back, &blen, err, sizeof err))
		abort(); /* what we print must parse */
	/* NaNs print as nan whatever their payload: compare through text. */
	char *again = ion_literal_format(back, blen, err, sizeof err);
	if (!again || strcmp(again, text))
		abort();
	free(again);
	free(back);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 16))
		return 0;
	same_encoding(data, size);
	uint8_t *enc;
	size_t len;
	char err[256];
	if (ion_literal_encode((const char *)data, size, &enc, &len, err, sizeof err) == 0) {
		same_encoding(enc, len);
		free(enc);
	}
	return 0;
}
