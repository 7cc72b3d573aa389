/* shm_opt.c - --shared-mem and the "shared_mem" config key (see shm_opt.h). */
#include "cli/shm_opt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int shm_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int shm_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int shm_fd_number(const char *s, int *out)
{
	if (*s < '0' || *s > '9')
		return -1;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

static int shm_item(const char *item, const char *base_dir, const char *spec,
		      struct cli_shm *out, char *err, size_t errlen)
{
	if (strncmp(item, "path=", 5) == 0) {
		const char *p = item + 5;
		if (!*p || out->path[0])
			return shm_fail(err, errlen, "bad --shared-mem '%s': path= needs one file name",
				    spec);
		int n = p[0] != '/' && base_dir ?
			snprintf(out->path, sizeof(out->path), "%s/%s", base_dir, p) :
			snprintf(out->path, sizeof(out->path), "%s", p);
		if (n < 0 || (size_t)n >= sizeof(out->path))
			return shm_fail(err, errlen, "bad --shared-mem '%s': the path is too long", spec);
		return 0;
	}
	if (strncmp(item, "fd=", 3) == 0) {
		if (out->fd >= 0 || shm_fd_number(item + 3, &out->fd))
			return shm_fail(err, errlen, "bad --shared-mem '%s': fd= needs one descriptor "
				    "number", spec);
		return 0;
	}
	return shm_fail(err, errlen, "bad --shared-mem '%s': unknown item '%s' (expected path=FILE "
		    "or fd=N)", spec, item);
}

int cli_parse_shm(const char *spec, const char *base_dir, struct cli_shm *out, char *err,
		  size_t errlen)
{
	*out = (struct cli_shm){ .fd = -1 };
	if (!spec || !*spec)
		return shm_fail(err, errlen, "bad --shared-mem: expected SIZE[,path=FILE|,fd=N]");
	char *copy = strdup(spec);
	if (!copy)
		return shm_fail(err, errlen, "out of memory");
	char *save = NULL;
	char *size = strtok_r(copy, ",", &save);
	struct arcvm_error aerr;
	int rc = 0;
	if (!size || arcvm_parse_size(size, &out->size, &aerr))
		rc = shm_fail(err, errlen, "bad --shared-mem '%s': %s", spec,
			  size ? aerr.msg : "expected a size first");
	else if (out->size == 0 || (out->size & 4095))
		rc = shm_fail(err, errlen, "bad --shared-mem '%s': the size must be a non-zero multiple "
			  "of 4 KiB", spec);
	for (char *it = rc ? NULL : strtok_r(NULL, ",", &save); it && !rc;
	     it = strtok_r(NULL, ",", &save))
		rc = shm_item(it, base_dir, spec, out, err, errlen);
	/* strtok_r skips empty items: ",," or a trailing ',' would pass unseen. */
	if (!rc && (strstr(spec, ",,") || spec[strlen(spec) - 1] == ','))
		rc = shm_fail(err, errlen, "bad --shared-mem '%s': empty item", spec);
	if (!rc && out->path[0] && out->fd >= 0)
		rc = shm_fail(err, errlen, "bad --shared-mem '%s': give path= or fd=, not both", spec);
	free(copy);
	if (rc)
		*out = (struct cli_shm){ .fd = -1 };
	else
		out->enabled = true;
	return rc;
}

int cli_shm_apply(const struct cli_shm *s, struct arcvm_config *cfg, int *owned, char *err,
		  size_t errlen)
{
	*owned = -1;
	if (!s->enabled)
		return 0;
	if (s->fd >= 0) {
		struct stat st;
		if (fstat(s->fd, &st) < 0)
			return shm_fail(err, errlen, "--shared-mem fd=%d: not an open descriptor", s->fd);
		if (!S_ISREG(st.st_mode))
			return shm_fail(err, errlen, "--shared-mem fd=%d: not a regular file or memfd",
				    s->fd);
		if ((uint64_t)st.st_size < s->size)
			return shm_fail(err, errlen, "--shared-mem fd=%d holds %lld bytes, fewer than the "
				    "%llu asked for", s->fd, (long long)st.st_size,
				    (unsigned long long)s->size);
		cfg->shared_fd = s->fd;
		cfg->shared_size = s->size;
		return 0;
	}
	struct arcvm_error aerr;
	if (arcvm_alloc_shared(s->size, s->path[0] ? s->path : NULL, owned, &aerr))
		return shm_fail(err, errlen, "--shared-mem: %s", aerr.msg);
	cfg->shared_fd = *owned;
	cfg->shared_size = s->size;
	return 0;
}
