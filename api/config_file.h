/*
 * config_file.h - Firecracker's --config-file: one JSON object whose
 * sections are the bodies of the API's PUT requests ("boot-source",
 * "drives", "machine-config", "vsock", "entropy", "logger", "metrics",
 * "network-interfaces"), applied to a VM controller in that order as if
 * they had been sent. Unlike arcvm's own config (cli/config.h, `--config`),
 * relative paths are taken as they are, from the current folder, as
 * Firecracker does.
 */
#ifndef API_CONFIG_FILE_H
#define API_CONFIG_FILE_H

#include "api/vmctl.h"

#define API_CONFIG_FILE_MAX (1u << 20)

/* Parses `text` (from the file `name`, for messages) into c. */
int api_config_text_apply(struct vmctl *c, const char *text, const char *name,
			  struct arcvm_error *err);
/* Reads the file at path (at most 1 MiB) and applies it. */
int api_config_file_apply(struct vmctl *c, const char *path, struct arcvm_error *err);

#endif
