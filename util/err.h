/* err.h - filling a struct arcvm_error; the bottom floor every library file uses. */
#ifndef UTIL_ERR_H
#define UTIL_ERR_H

#include "arcvm.h"

/*
 * Sets err (when not NULL) to `code` and a printf-style message, and returns
 * `code`, so a failure path reads `return err_set(err, ARCVM_E_IO, "...")`.
 */
int err_set(struct arcvm_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like err_set, appending ": strerror(errnum)". */
int err_errno(struct arcvm_error *err, int code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Maps an errno from a host call to the closest ARCVM_E_* code. */
int err_from_errno(int errnum);

#endif
