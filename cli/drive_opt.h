/*
 * drive_opt.h - the --drive option of the arcvm command:
 *   path=IMG[,ro][,cache=unsafe|writeback][,id=NAME][,root=1]
 */
#ifndef CLI_DRIVE_OPT_H
#define CLI_DRIVE_OPT_H

#include "arcvm.h"

/*
 * Parses `spec` strictly into *out: path is required and non-empty; ro is a
 * bare flag; cache is unsafe or writeback (default writeback); id is 1..20
 * printable bytes (the guest sees it as the disk serial); root is 0 or 1. An
 * unknown key, an empty item, a repeated key or a bad value fails with
 * ARCVM_E_INVALID naming the key; a path cannot contain a comma.
 *
 * On success out->path and out->id (or NULL) are malloc'd copies the caller
 * frees with cli_drive_free(); spec is not referenced afterwards. On failure
 * *out is left zeroed and nothing is allocated.
 */
int cli_parse_drive(const char *spec, struct arcvm_drive *out, struct arcvm_error *err);

/* Frees the strings cli_parse_drive allocated and zeroes *d. */
void cli_drive_free(struct arcvm_drive *d);

#endif
