/*
 * shm_opt.h - the shared-memory option of `arcvm run` and `arcvm exec` and
 * the config file's "shared_mem" key (docs/cli.md, docs/shared-memory.md):
 *   --shared-mem SIZE[,path=FILE|,fd=N]
 * SIZE alone: a fresh memfd only this VM sees. path=FILE: that file (e.g.
 * /dev/shm/NAME), created when missing, so other processes and VMs naming it
 * share the bytes. fd=N: an open descriptor inherited from the caller.
 */
#ifndef CLI_SHM_OPT_H
#define CLI_SHM_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arcvm.h"

struct cli_shm {
	bool enabled;
	uint64_t size;            /* > 0, a multiple of 4 KiB */
	char path[1024];          /* "" unless path= */
	int fd;                   /* -1 unless fd= */
};

/* Parses a --shared-mem value; relative paths are resolved against base_dir
 * when it is set (a config file's folder). Returns 0, or -1 with a message
 * naming the bad item. */
int cli_parse_shm(const char *spec, const char *base_dir, struct cli_shm *out, char *err,
		  size_t errlen);

/* Creates or opens the memory (arcvm_alloc_shared, or checks fd=N) and sets
 * cfg->shared_fd and shared_size. *owned gets a descriptor the caller closes
 * once the VM is created (-1 for fd=N, which stays the caller's). Does
 * nothing unless enabled. 0, or -1 with a message. */
int cli_shm_apply(const struct cli_shm *s, struct arcvm_config *cfg, int *owned, char *err,
		  size_t errlen);

#endif
