/* fuzz_drive_opt.c - the --drive option parser on arbitrary strings. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/drive_opt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	struct arcvm_drive d;
	struct arcvm_error err;
	if (cli_parse_drive(s, &d, &err) == 0)
		cli_drive_free(&d);
	free(s);
	return 0;
}
