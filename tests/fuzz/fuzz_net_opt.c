/* fuzz_net_opt.c - the --net and --publish parsers, and the guest command
 * line they produce, on arbitrary strings. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/net_opt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	struct cli_net n;
	char err[256], line[96];
	memset(&n, 0, sizeof(n));
	if (cli_parse_net(s, &n, err, sizeof(err)) == 0) {
		/* Whatever was accepted fits the guest's command line. */
		assert(cli_net_cmdline(&n, line, sizeof(line)) >= 0);
		assert(!strpbrk(line + 1, " \t\n"));
	}
	memset(&n, 0, sizeof(n));
	if (cli_parse_publish(s, &n, err, sizeof(err)) == 0)
		assert(n.net.nforwards == 1 && n.net.forwards[0].host_port &&
		       n.net.forwards[0].guest_port);
	free(s);
	return 0;
}
