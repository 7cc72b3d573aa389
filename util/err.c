/* err.c - typed errors with messages. */
#include "util/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int err_vset(struct arcvm_error *err, int code, int errnum, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (errnum && n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(errnum));
	return code;
}

int err_set(struct arcvm_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(err, code, 0, fmt, ap);
	va_end(ap);
	return code;
}

int err_errno(struct arcvm_error *err, int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(err, code, errnum, fmt, ap);
	va_end(ap);
	return code;
}

int err_from_errno(int errnum)
{
	switch (errnum) {
	case ENOENT: return ARCVM_E_NOT_FOUND;
	case EACCES: case EPERM: return ARCVM_E_PERMISSION;
	case ENOMEM: return ARCVM_E_NOMEM;
	case EBUSY: case EAGAIN: return ARCVM_E_BUSY;
	case EINVAL: return ARCVM_E_INVALID;
	default: return ARCVM_E_IO;
	}
}

const char *arcvm_code_name(int code)
{
	switch (code) {
	case ARCVM_OK: return "ARCVM_OK";
	case ARCVM_E_INVALID: return "ARCVM_E_INVALID";
	case ARCVM_E_UNSUPPORTED: return "ARCVM_E_UNSUPPORTED";
	case ARCVM_E_BAD_STATE: return "ARCVM_E_BAD_STATE";
	case ARCVM_E_HYPERVISOR: return "ARCVM_E_HYPERVISOR";
	case ARCVM_E_IO: return "ARCVM_E_IO";
	case ARCVM_E_NOMEM: return "ARCVM_E_NOMEM";
	case ARCVM_E_FORMAT: return "ARCVM_E_FORMAT";
	case ARCVM_E_PERMISSION: return "ARCVM_E_PERMISSION";
	case ARCVM_E_NOT_FOUND: return "ARCVM_E_NOT_FOUND";
	case ARCVM_E_BUSY: return "ARCVM_E_BUSY";
	default: return "ARCVM_E_UNKNOWN";
	}
}
