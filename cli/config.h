/*
 * config.h - the VM config file (JSON) of `arcvm exec --config` and
 * `arcvm run --config`, and the share spec HOST:GUEST[:ro|rw]. The keys are
 * described in docs/cli.md. Nothing here prints or exits: errors come back
 * as a message in the caller's buffer naming the file and the key.
 */
#ifndef CLI_CONFIG_H
#define CLI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arcvm.h"
#include "cli/net_opt.h"
#include "cli/shm_opt.h"

#define CLI_ERRMSG 512
#define CLI_MAX_ENV 256

/* A host folder and where the guest mounts it. */
struct cli_share {
	char *host;       /* absolute, resolved (realpath) */
	char *guest;      /* absolute guest path, no whitespace or ':' */
	bool read_only;
};

struct cli_file_config {
	int cpus;                 /* 0 when the file does not say */
	uint64_t mem;             /* 0 when the file does not say */
	char *kernel;             /* NULL: not given or the built-in image */
	char *initrd;
	char *cmdline;
	struct arcvm_drive drives[ARCVM_MAX_DRIVES];
	int ndrives;
	struct cli_share shares[ARCVM_MAX_SHARES];
	int nshares;
	struct cli_net net;       /* "network": true, or an object */
	struct cli_shm shm;       /* "shared_mem": "SIZE[,path=FILE|,fd=N]" */
	char *env[CLI_MAX_ENV];   /* "K=V" */
	int nenv;
};

/*
 * Parses a share spec HOST:GUEST[:ro|rw] (default rw). HOST is resolved
 * against base_dir when relative (NULL: the current folder) and must be an
 * existing folder; GUEST must be absolute and hold no whitespace or ','.
 * Returns 0, or -1 with a message in err; *out is then left zeroed.
 */
int cli_parse_share(const char *spec, const char *base_dir, struct cli_share *out, char *err,
		    size_t errlen);
void cli_share_free(struct cli_share *s);

/* Parses the JSON text of a config file; `path` names it in messages and its
 * folder is where relative paths are resolved. Returns 0, or -1 with a
 * message in err and *out left empty (nothing to free). */
int cli_config_parse(const char *text, const char *path, struct cli_file_config *out,
		     char *err, size_t errlen);
/* Reads and parses the file at path. */
int cli_config_load(const char *path, struct cli_file_config *out, char *err, size_t errlen);
void cli_config_free(struct cli_file_config *c);

/* Moves what the file says into cfg: cpus, mem, kernel, initrd, cmdline,
 * network and shares are borrowed from f (which must outlive cfg); drives are moved (cfg
 * owns them afterwards, freed with cli_drive_free). env is left for the
 * caller. Fails, with a message, only when cfg has no room left. */
int cli_config_apply(struct cli_file_config *f, struct arcvm_config *cfg, char *err,
		     size_t errlen);

/* The 9p mount tag of the i-th share: "share0".."share7". */
const char *cli_share_tag(int i);

/* The value of --config FILE (or --config=FILE) in argv before any "--",
 * or NULL: the file is read before the other options, which override it. */
const char *cli_config_arg(int argc, char **argv);

/* The built-in name for the default guest kernel ("default" also works). */
#define CLI_BUILTIN_KERNEL "linux-lts"

#endif
