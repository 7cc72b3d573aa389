/* drive_opt.c - parsing of the --drive option; see drive_opt.h. */
#include "cli/drive_opt.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define DRIVE_ID_MAX 20   /* virtio-blk serial bytes */

enum { SEEN_PATH = 1, SEEN_RO = 2, SEEN_CACHE = 4, SEEN_ID = 8, SEEN_ROOT = 16 };

static int mark(unsigned *seen, unsigned bit, const char *key, struct arcvm_error *err)
{
	if (*seen & bit)
		return err_set(err, ARCVM_E_INVALID, "drive: %s given twice", key);
	*seen |= bit;
	return 0;
}

static int parse_id(const char *v, struct arcvm_drive *out, struct arcvm_error *err)
{
	size_t n = strlen(v);
	if (n == 0 || n > DRIVE_ID_MAX)
		return err_set(err, ARCVM_E_INVALID, "drive: id must be 1..%d bytes", DRIVE_ID_MAX);
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)v[i]))
			return err_set(err, ARCVM_E_INVALID, "drive: id has a non-printable byte");
	out->id = strdup(v);
	return out->id ? 0 : err_set(err, ARCVM_E_NOMEM, "drive: out of memory");
}

/* One "key=value" (value NULL for a bare word). */
static int parse_item(char *key, const char *v, unsigned *seen, struct arcvm_drive *out,
		      struct arcvm_error *err)
{
	if (strcmp(key, "ro") == 0) {
		if (v)
			return err_set(err, ARCVM_E_INVALID, "drive: ro takes no value");
		out->read_only = true;
		return mark(seen, SEEN_RO, key, err);
	}
	if (!v)
		return err_set(err, ARCVM_E_INVALID, "drive: unknown flag \"%s\"", key);
	if (strcmp(key, "path") == 0) {
		if (mark(seen, SEEN_PATH, key, err) < 0)
			return ARCVM_E_INVALID;
		if (!*v)
			return err_set(err, ARCVM_E_INVALID, "drive: path is empty");
		out->path = strdup(v);
		return out->path ? 0 : err_set(err, ARCVM_E_NOMEM, "drive: out of memory");
	}
	if (strcmp(key, "cache") == 0) {
		if (mark(seen, SEEN_CACHE, key, err) < 0)
			return ARCVM_E_INVALID;
		if (strcmp(v, "writeback") == 0)
			out->cache = ARCVM_CACHE_WRITEBACK;
		else if (strcmp(v, "unsafe") == 0)
			out->cache = ARCVM_CACHE_UNSAFE;
		else
			return err_set(err, ARCVM_E_INVALID,
				       "drive: cache must be unsafe or writeback, not \"%s\"", v);
		return 0;
	}
	if (strcmp(key, "id") == 0)
		return mark(seen, SEEN_ID, key, err) < 0 ? ARCVM_E_INVALID : parse_id(v, out, err);
	if (strcmp(key, "root") == 0) {
		if (mark(seen, SEEN_ROOT, key, err) < 0)
			return ARCVM_E_INVALID;
		if (strcmp(v, "1") != 0 && strcmp(v, "0") != 0)
			return err_set(err, ARCVM_E_INVALID, "drive: root must be 0 or 1, not \"%s\"", v);
		out->root = v[0] == '1';
		return 0;
	}
	return err_set(err, ARCVM_E_INVALID, "drive: unknown key \"%s\"", key);
}

static int parse_all(const char *spec, char *s, struct arcvm_drive *out, struct arcvm_error *err)
{
	unsigned seen = 0;
	char *item = s;
	for (;;) {
		char *comma = strchr(item, ',');
		if (comma)
			*comma = '\0';
		if (!*item)
			return err_set(err, ARCVM_E_INVALID, "drive: empty item in \"%s\"", spec);
		char *eq = strchr(item, '=');
		if (eq)
			*eq = '\0';
		int rc = parse_item(item, eq ? eq + 1 : NULL, &seen, out, err);
		if (rc < 0)
			return rc;
		if (!comma)
			break;
		item = comma + 1;
	}
	if (!(seen & SEEN_PATH))
		return err_set(err, ARCVM_E_INVALID, "drive: path is missing");
	return 0;
}

int cli_parse_drive(const char *spec, struct arcvm_drive *out, struct arcvm_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!spec || !*spec)
		return err_set(err, ARCVM_E_INVALID, "drive: empty option");
	char *s = strdup(spec);
	if (!s)
		return err_set(err, ARCVM_E_NOMEM, "drive: out of memory");
	out->cache = ARCVM_CACHE_WRITEBACK;
	int rc = parse_all(spec, s, out, err);
	free(s);
	if (rc < 0)
		cli_drive_free(out);
	return rc;
}

void cli_drive_free(struct arcvm_drive *d)
{
	free((char *)d->path);
	free((char *)d->id);
	memset(d, 0, sizeof(*d));
}
