/* fuzz_shm_opt.c - the --shared-mem / "shared_mem" parser on arbitrary
 * strings, with and without a config file's folder for relative paths. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/shm_opt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	struct cli_shm m;
	char err[256];
	for (int i = 0; i < 2; i++) {
		if (cli_parse_shm(s, i ? "/etc/vm" : NULL, &m, err, sizeof(err)) == 0) {
			/* What is accepted is a usable request, one source at most. */
			assert(m.enabled && m.size && !(m.size & 4095));
			assert(!(m.path[0] && m.fd >= 0));
			assert(strlen(m.path) < sizeof(m.path));
		} else {
			assert(!m.enabled && err[0]);
		}
	}
	free(s);
	return 0;
}
