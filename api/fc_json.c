/* fc_json.c - Firecracker's JSON objects, strictly parsed (see fc_json.h). */
#include "api/fc_json.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

enum fj_type { FJ_STRING, FJ_BOOL, FJ_UINT, FJ_OBJECT, FJ_NULL_ONLY, FJ_ANY };

/* One field an object may hold. FJ_NULL_ONLY: accepted only as null (or
 * absent), for Firecracker features arcvm does not have. FJ_ANY: the
 * object's parser checks the value itself. */
struct fj_field {
	const char *name;
	enum fj_type type;
	bool required;
};

static const char *type_name(enum fj_type t)
{
	static const char *const names[] = { "a string", "true or false", "a whole number",
					     "an object", "null (not supported by arcvm)", "any value" };
	return names[t];
}

static bool type_ok(const cJSON *v, enum fj_type t)
{
	switch (t) {
	case FJ_STRING: return cJSON_IsString(v);
	case FJ_BOOL: return cJSON_IsBool(v);
	case FJ_UINT:
		return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 4294967295.0 &&
		       v->valuedouble == (double)(uint64_t)v->valuedouble;
	case FJ_OBJECT: return cJSON_IsObject(v);
	case FJ_NULL_ONLY: return cJSON_IsNull(v);
	case FJ_ANY: return true;
	}
	return false;
}

static const struct fj_field *find_field(const struct fj_field *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].name, name) == 0)
			return &f[i];
	return NULL;
}

/* Lists the field names, for "unknown field" messages. */
static void known_list(const struct fj_field *f, size_t n, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", f[i].name);
}

/* Checks that `o` is an object whose every field is known, given once and of
 * the right type, and that the required ones are there. */
static int fj_check(const cJSON *o, const char *what, const struct fj_field *f, size_t n,
		    struct arcvm_error *err)
{
	if (!cJSON_IsObject(o))
		return err_set(err, ARCVM_E_INVALID, "%s: expected a JSON object", what);
	const cJSON *v;
	cJSON_ArrayForEach(v, o) {
		const struct fj_field *d = find_field(f, n, v->string);
		if (!d) {
			char known[256];
			known_list(f, n, known, sizeof(known));
			return err_set(err, ARCVM_E_INVALID, "%s: unknown field '%.64s' (known: %s)",
				       what, v->string, known);
		}
		for (const cJSON *w = o->child; w != v; w = w->next)
			if (strcmp(w->string, v->string) == 0)
				return err_set(err, ARCVM_E_INVALID, "%s: field '%s' is given twice",
					       what, d->name);
		if (!type_ok(v, d->type))
			return err_set(err, ARCVM_E_INVALID, "%s: field '%s' must be %s", what,
				       d->name, type_name(d->type));
	}
	for (size_t i = 0; i < n; i++)
		if (f[i].required && !cJSON_GetObjectItemCaseSensitive(o, f[i].name))
			return err_set(err, ARCVM_E_INVALID, "%s: missing required field '%s'",
				       what, f[i].name);
	return 0;
}

#define FJ_CHECK(o, what, fields, err) fj_check(o, what, fields, sizeof(fields) / sizeof(fields[0]), err)

static const cJSON *get(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

/* A copy of string field `name`, or NULL when absent. Fails only for an
 * empty string or lack of memory. */
static int dup_str(const cJSON *o, const char *what, const char *name, char **out,
		   struct arcvm_error *err)
{
	const cJSON *v = get(o, name);
	*out = NULL;
	if (!v)
		return 0;
	if (!v->valuestring[0])
		return err_set(err, ARCVM_E_INVALID, "%s: field '%s' must not be empty", what, name);
	*out = strdup(v->valuestring);
	return *out ? 0 : err_set(err, ARCVM_E_NOMEM, "%s: out of memory", what);
}

static bool get_bool(const cJSON *o, const char *name, bool dflt)
{
	const cJSON *v = get(o, name);
	return v ? cJSON_IsTrue(v) : dflt;
}

/* Firecracker's ids: letters, digits and '_', at most 64 bytes. */
static int check_id(const char *what, const char *field, const char *id, struct arcvm_error *err)
{
	size_t n = strlen(id);
	if (n == 0 || n > 64)
		return err_set(err, ARCVM_E_INVALID, "%s: %s must be 1 to 64 characters", what, field);
	for (size_t i = 0; i < n; i++)
		if (!(id[i] == '_' || (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') ||
		      (id[i] >= 'A' && id[i] <= 'Z')))
			return err_set(err, ARCVM_E_INVALID,
				       "%s: %s '%.64s' may hold only letters, digits and '_'", what,
				       field, id);
	return 0;
}

static int id_matches(const char *what, const char *field, const char *body_id, const char *path_id,
		      struct arcvm_error *err)
{
	if (check_id(what, field, body_id, err))
		return ARCVM_E_INVALID;
	if (path_id && strcmp(body_id, path_id) != 0)
		return err_set(err, ARCVM_E_INVALID,
			       "%s: the %s in the body ('%.64s') differs from the one in the path"
			       " ('%.64s')", what, field, body_id, path_id);
	return 0;
}

int fcj_boot_source(const cJSON *o, struct fc_boot_source *out, struct arcvm_error *err)
{
	static const struct fj_field fields[] = {
		{ "kernel_image_path", FJ_STRING, true }, { "boot_args", FJ_STRING, false },
		{ "initrd_path", FJ_STRING, false },
	};
	memset(out, 0, sizeof(*out));
	int rc = FJ_CHECK(o, "boot-source", fields, err);
	if (!rc)
		rc = dup_str(o, "boot-source", "kernel_image_path", &out->kernel_image_path, err);
	if (!rc)
		rc = dup_str(o, "boot-source", "initrd_path", &out->initrd_path, err);
	if (!rc && get(o, "boot_args"))
		out->boot_args = strdup(get(o, "boot_args")->valuestring);
	if (!rc && get(o, "boot_args") && !out->boot_args)
		rc = err_set(err, ARCVM_E_NOMEM, "boot-source: out of memory");
	if (rc)
		fc_boot_source_free(out);
	return rc;
}

int fcj_machine_config(const cJSON *o, bool patch, const struct fc_machine_config *base,
		       struct fc_machine_config *out, struct arcvm_error *err)
{
	static const struct fj_field put_fields[] = {
		{ "vcpu_count", FJ_UINT, true }, { "mem_size_mib", FJ_UINT, true },
		{ "smt", FJ_BOOL, false }, { "track_dirty_pages", FJ_BOOL, false },
		{ "cpu_template", FJ_STRING, false }, { "huge_pages", FJ_STRING, false },
	};
	struct fj_field fields[6];
	memcpy(fields, put_fields, sizeof(fields));
	if (patch)
		fields[0].required = fields[1].required = false;
	int rc = FJ_CHECK(o, "machine-config", fields, err);
	if (rc)
		return rc;
	/* PUT replaces the whole object: unspecified fields take their defaults. */
	struct fc_machine_config m = patch ? *base : (struct fc_machine_config){ 0 };
	const cJSON *v;
	if ((v = get(o, "vcpu_count"))) {
		if (v->valuedouble < 1 || v->valuedouble > ARCVM_MAX_CPUS)
			return err_set(err, ARCVM_E_INVALID,
				       "machine-config: vcpu_count must be from 1 to %d", ARCVM_MAX_CPUS);
		m.vcpu_count = (int)v->valuedouble;
	}
	if ((v = get(o, "mem_size_mib"))) {
		if (v->valuedouble < 1 || v->valuedouble > (1u << 24))
			return err_set(err, ARCVM_E_INVALID,
				       "machine-config: mem_size_mib must be from 1 to 16777216");
		m.mem_size_mib = (uint32_t)v->valuedouble;
	}
	m.smt = get_bool(o, "smt", patch ? m.smt : false);
	if (m.smt)
		return err_set(err, ARCVM_E_INVALID,
			       "machine-config: smt=true is not supported (arcvm exposes no SMT"
			       " siblings)");
	m.track_dirty_pages = get_bool(o, "track_dirty_pages", patch ? m.track_dirty_pages : false);
	if ((v = get(o, "cpu_template")) && strcmp(v->valuestring, "None") != 0)
		return err_set(err, ARCVM_E_INVALID,
			       "machine-config: cpu_template '%.32s' is not supported (only \"None\")",
			       v->valuestring);
	if ((v = get(o, "huge_pages")) && strcmp(v->valuestring, "None") != 0)
		return err_set(err, ARCVM_E_INVALID,
			       "machine-config: huge_pages '%.32s' is not supported (only \"None\")",
			       v->valuestring);
	*out = m;
	return 0;
}

static const struct fj_field drive_fields[] = {
	{ "drive_id", FJ_STRING, true }, { "path_on_host", FJ_STRING, false },
	{ "is_root_device", FJ_BOOL, true }, { "is_read_only", FJ_BOOL, false },
	{ "cache_type", FJ_STRING, false }, { "partuuid", FJ_NULL_ONLY, false },
	{ "rate_limiter", FJ_NULL_ONLY, false }, { "io_engine", FJ_STRING, false },
	{ "socket", FJ_NULL_ONLY, false },
};

int fcj_drive(const cJSON *o, const char *path_id, struct fc_drive *out, struct arcvm_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc = FJ_CHECK(o, "drive", drive_fields, err);
	if (rc)
		return rc;
	const char *id = get(o, "drive_id")->valuestring;
	if ((rc = id_matches("drive", "drive_id", id, path_id, err)))
		return rc;
	if (!get(o, "path_on_host"))
		return err_set(err, ARCVM_E_INVALID, "drive: missing required field 'path_on_host'"
			       " (vhost-user drives are not supported)");
	const cJSON *v;
	out->cache = ARCVM_CACHE_UNSAFE;   /* Firecracker's default */
	if ((v = get(o, "cache_type"))) {
		if (strcmp(v->valuestring, "Writeback") == 0)
			out->cache = ARCVM_CACHE_WRITEBACK;
		else if (strcmp(v->valuestring, "Unsafe") != 0)
			return err_set(err, ARCVM_E_INVALID,
				       "drive: cache_type must be \"Unsafe\" or \"Writeback\"");
	}
	if ((v = get(o, "io_engine")) && strcmp(v->valuestring, "Sync") != 0)
		return err_set(err, ARCVM_E_INVALID,
			       "drive: io_engine '%.32s' is not supported (only \"Sync\")",
			       v->valuestring);
	out->is_root_device = get_bool(o, "is_root_device", false);
	out->is_read_only = get_bool(o, "is_read_only", false);
	out->drive_id = strdup(id);
	rc = out->drive_id ? dup_str(o, "drive", "path_on_host", &out->path_on_host, err)
			   : err_set(err, ARCVM_E_NOMEM, "drive: out of memory");
	if (rc)
		fc_drive_free(out);
	return rc;
}

int fcj_drive_patch(const cJSON *o, const char *path_id, char **path_on_host,
		    struct arcvm_error *err)
{
	static const struct fj_field fields[] = {
		{ "drive_id", FJ_STRING, true }, { "path_on_host", FJ_STRING, false },
		{ "rate_limiter", FJ_NULL_ONLY, false },
	};
	*path_on_host = NULL;
	int rc = FJ_CHECK(o, "drive update", fields, err);
	if (!rc)
		rc = id_matches("drive update", "drive_id", get(o, "drive_id")->valuestring, path_id,
				err);
	if (!rc && !get(o, "path_on_host"))
		rc = err_set(err, ARCVM_E_INVALID, "drive update: nothing to change (give"
			     " path_on_host; rate limiters are not supported)");
	if (!rc)
		rc = dup_str(o, "drive update", "path_on_host", path_on_host, err);
	return rc;
}

int fcj_vsock(const cJSON *o, struct fc_vsock *out, struct arcvm_error *err)
{
	static const struct fj_field fields[] = {
		{ "guest_cid", FJ_UINT, true }, { "uds_path", FJ_STRING, true },
		{ "vsock_id", FJ_STRING, false },   /* deprecated by Firecracker, accepted */
	};
	memset(out, 0, sizeof(*out));
	int rc = FJ_CHECK(o, "vsock", fields, err);
	if (rc)
		return rc;
	double cid = get(o, "guest_cid")->valuedouble;
	if (cid < 3)
		return err_set(err, ARCVM_E_INVALID, "vsock: guest_cid must be 3 or more (0-2 are"
			       " reserved)");
	out->guest_cid = (uint32_t)cid;
	return dup_str(o, "vsock", "uds_path", &out->uds_path, err);
}

int fcj_entropy(const cJSON *o, struct arcvm_error *err)
{
	static const struct fj_field fields[] = { { "rate_limiter", FJ_NULL_ONLY, false } };
	return FJ_CHECK(o, "entropy", fields, err);
}

/* Firecracker's rate limiter: {"bandwidth": {...}, "ops": {...}}, either
 * bucket optional. arcvm does not limit, so only a limiter that limits
 * nothing (null, {}, or both buckets null) is accepted. */
static int no_rate_limit(const cJSON *o, const char *what, const char *name,
			 struct arcvm_error *err)
{
	const cJSON *v = get(o, name), *b;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsObject(v)) {
		bool empty = true;
		cJSON_ArrayForEach(b, v)
			empty = empty && cJSON_IsNull(b) &&
				(!strcmp(b->string, "bandwidth") || !strcmp(b->string, "ops"));
		if (empty)
			return 0;
	}
	return err_set(err, ARCVM_E_UNSUPPORTED, "%s: %s: rate limiting is not supported by arcvm"
		       " (leave the field out or give null)", what, name);
}

/* A Linux interface name (at most 15 bytes; no '/', ':' or white space;
 * not "." or "..") for a TAP device, or FC_NET_USER. */
static int check_host_dev(const char *what, const char *s, struct arcvm_error *err)
{
	size_t n = strlen(s);
	if (strcmp(s, FC_NET_USER) == 0)
		return 0;
	bool ok = n >= 1 && n <= 15 && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
	for (size_t i = 0; ok && i < n; i++)
		ok = s[i] > ' ' && s[i] < 0x7f && s[i] != '/' && s[i] != ':';
	if (!ok)
		return err_set(err, ARCVM_E_INVALID, "%s: host_dev_name '%.64s' is neither a TAP"
			       " device name (1 to 15 bytes, no '/', ':' or spaces) nor \"%s\""
			       " (user-mode NAT)", what, s, FC_NET_USER);
	return 0;
}

static uint8_t hex_nibble(char ch)
{
	return (uint8_t)(isdigit((unsigned char)ch) ? ch - '0' : tolower((unsigned char)ch) - 'a' + 10);
}

/* "XX:XX:XX:XX:XX:XX", unicast (a NIC cannot have a group address). */
static int parse_mac(const char *what, const char *s, uint8_t mac[6], struct arcvm_error *err)
{
	bool ok = strlen(s) == 17;
	for (int i = 0; ok && i < 6; i++) {
		const char *p = s + 3 * i;
		ok = isxdigit((unsigned char)p[0]) && isxdigit((unsigned char)p[1]) &&
		     (i == 5 || p[2] == ':');
		if (ok)
			mac[i] = (uint8_t)(hex_nibble(p[0]) << 4 | hex_nibble(p[1]));
	}
	if (!ok)
		return err_set(err, ARCVM_E_INVALID, "%s: guest_mac '%.64s' is not a MAC address"
			       " (XX:XX:XX:XX:XX:XX)", what, s);
	if (mac[0] & 1)
		return err_set(err, ARCVM_E_INVALID, "%s: guest_mac %s is a multicast address, which"
			       " a network card cannot have", what, s);
	return 0;
}

int fcj_network(const cJSON *o, const char *path_id, struct fc_net *out, struct arcvm_error *err)
{
	static const char what[] = "network-interface";
	static const struct fj_field fields[] = {
		{ "iface_id", FJ_STRING, true }, { "host_dev_name", FJ_STRING, true },
		{ "guest_mac", FJ_STRING, false }, { "rx_rate_limiter", FJ_ANY, false },
		{ "tx_rate_limiter", FJ_ANY, false },
	};
	memset(out, 0, sizeof(*out));
	int rc = FJ_CHECK(o, what, fields, err);
	if (!rc)
		rc = id_matches(what, "iface_id", get(o, "iface_id")->valuestring, path_id, err);
	if (!rc)
		rc = check_host_dev(what, get(o, "host_dev_name")->valuestring, err);
	if (!rc && get(o, "guest_mac")) {
		rc = parse_mac(what, get(o, "guest_mac")->valuestring, out->guest_mac, err);
		out->has_mac = rc == 0;
	}
	if (!rc)
		rc = no_rate_limit(o, what, "rx_rate_limiter", err);
	if (!rc)
		rc = no_rate_limit(o, what, "tx_rate_limiter", err);
	if (!rc) {
		out->iface_id = strdup(get(o, "iface_id")->valuestring);
		out->host_dev_name = strdup(get(o, "host_dev_name")->valuestring);
		if (!out->iface_id || !out->host_dev_name)
			rc = err_set(err, ARCVM_E_NOMEM, "%s: out of memory", what);
	}
	if (rc)
		fc_net_free(out);
	return rc;
}

static int parse_level(const char *s, enum fc_log_level *out)
{
	static const struct { const char *name; enum fc_log_level level; } levels[] = {
		{ "Off", FC_LOG_OFF }, { "Error", FC_LOG_ERROR }, { "Warning", FC_LOG_WARN },
		{ "Warn", FC_LOG_WARN }, { "Info", FC_LOG_INFO }, { "Debug", FC_LOG_DEBUG },
		{ "Trace", FC_LOG_TRACE },
	};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcasecmp(s, levels[i].name) == 0) {
			*out = levels[i].level;
			return 0;
		}
	}
	return -1;
}

int fcj_logger(const cJSON *o, struct fc_logger *out, struct arcvm_error *err)
{
	static const struct fj_field fields[] = {
		{ "log_path", FJ_STRING, false }, { "level", FJ_STRING, false },
		{ "show_level", FJ_BOOL, false }, { "show_log_origin", FJ_BOOL, false },
		{ "module", FJ_STRING, false },
	};
	memset(out, 0, sizeof(*out));
	out->level = FC_LOG_INFO;
	int rc = FJ_CHECK(o, "logger", fields, err);
	if (rc)
		return rc;
	const cJSON *v = get(o, "level");
	if (v && parse_level(v->valuestring, &out->level))
		return err_set(err, ARCVM_E_INVALID, "logger: level must be one of Off, Error,"
			       " Warning, Info, Debug, Trace");
	if (get(o, "module"))
		return err_set(err, ARCVM_E_INVALID, "logger: filtering by module is not supported");
	out->show_level = get_bool(o, "show_level", false);
	out->show_log_origin = get_bool(o, "show_log_origin", false);
	return dup_str(o, "logger", "log_path", &out->log_path, err);
}

int fcj_metrics(const cJSON *o, char **metrics_path, struct arcvm_error *err)
{
	static const struct fj_field fields[] = { { "metrics_path", FJ_STRING, true } };
	*metrics_path = NULL;
	int rc = FJ_CHECK(o, "metrics", fields, err);
	return rc ? rc : dup_str(o, "metrics", "metrics_path", metrics_path, err);
}

int fcj_action(const cJSON *o, enum fc_action *out, struct arcvm_error *err)
{
	static const struct fj_field fields[] = { { "action_type", FJ_STRING, true } };
	int rc = FJ_CHECK(o, "action", fields, err);
	if (rc)
		return rc;
	const char *a = get(o, "action_type")->valuestring;
	if (strcmp(a, "InstanceStart") == 0)
		*out = FC_ACTION_INSTANCE_START;
	else if (strcmp(a, "SendCtrlAltDel") == 0)
		*out = FC_ACTION_SEND_CTRL_ALT_DEL;
	else if (strcmp(a, "FlushMetrics") == 0)
		*out = FC_ACTION_FLUSH_METRICS;
	else
		return err_set(err, ARCVM_E_INVALID, "action: unknown action_type '%.32s' (known:"
			       " InstanceStart, SendCtrlAltDel, FlushMetrics)", a);
	return 0;
}

int fcj_vm_state(const cJSON *o, bool *pause, struct arcvm_error *err)
{
	static const struct fj_field fields[] = { { "state", FJ_STRING, true } };
	int rc = FJ_CHECK(o, "vm", fields, err);
	if (rc)
		return rc;
	const char *s = get(o, "state")->valuestring;
	if (strcmp(s, "Paused") != 0 && strcmp(s, "Resumed") != 0)
		return err_set(err, ARCVM_E_INVALID, "vm: state must be \"Paused\" or \"Resumed\"");
	*pause = s[0] == 'P';
	return 0;
}

int fcj_snapshot_create(const cJSON *o, struct fc_snapshot_create *out, struct arcvm_error *err)
{
	static const struct fj_field fields[] = {
		{ "snapshot_type", FJ_STRING, false }, { "snapshot_path", FJ_STRING, true },
		{ "mem_file_path", FJ_STRING, true }, { "version", FJ_STRING, false },
	};
	memset(out, 0, sizeof(*out));
	int rc = FJ_CHECK(o, "snapshot-create", fields, err);
	if (rc)
		return rc;
	const cJSON *v = get(o, "snapshot_type");
	out->type = ARCVM_SNAPSHOT_FULL;
	if (v && strcmp(v->valuestring, "Diff") == 0)
		out->type = ARCVM_SNAPSHOT_DIFF;
	else if (v && strcmp(v->valuestring, "Full") != 0)
		return err_set(err, ARCVM_E_INVALID,
			       "snapshot-create: snapshot_type must be \"Full\" or \"Diff\"");
	if (get(o, "version"))
		return err_set(err, ARCVM_E_INVALID, "snapshot-create: writing an older snapshot"
			       " version is not supported (drop 'version')");
	rc = dup_str(o, "snapshot-create", "snapshot_path", &out->snapshot_path, err);
	if (!rc)
		rc = dup_str(o, "snapshot-create", "mem_file_path", &out->mem_file_path, err);
	if (rc)
		fc_snapshot_create_free(out);
	return rc;
}

/* mem_backend: {backend_type: "File", backend_path}. */
static int mem_backend(const cJSON *o, char **path, struct arcvm_error *err)
{
	static const struct fj_field fields[] = {
		{ "backend_type", FJ_STRING, true }, { "backend_path", FJ_STRING, true },
	};
	int rc = FJ_CHECK(o, "snapshot-load: mem_backend", fields, err);
	if (rc)
		return rc;
	if (strcmp(get(o, "backend_type")->valuestring, "File") != 0)
		return err_set(err, ARCVM_E_INVALID, "snapshot-load: mem_backend.backend_type must"
			       " be \"File\" (\"Uffd\" is not supported)");
	return dup_str(o, "snapshot-load: mem_backend", "backend_path", path, err);
}

int fcj_snapshot_load(const cJSON *o, struct fc_snapshot_load *out, struct arcvm_error *err)
{
	static const struct fj_field fields[] = {
		{ "snapshot_path", FJ_STRING, true }, { "mem_file_path", FJ_STRING, false },
		{ "mem_backend", FJ_OBJECT, false }, { "enable_diff_snapshots", FJ_BOOL, false },
		{ "track_dirty_pages", FJ_BOOL, false }, { "resume_vm", FJ_BOOL, false },
	};
	memset(out, 0, sizeof(*out));
	int rc = FJ_CHECK(o, "snapshot-load", fields, err);
	if (rc)
		return rc;
	const cJSON *mb = get(o, "mem_backend");
	if (!!mb == !!get(o, "mem_file_path"))
		return err_set(err, ARCVM_E_INVALID, "snapshot-load: give exactly one of"
			       " mem_backend and mem_file_path");
	rc = dup_str(o, "snapshot-load", "snapshot_path", &out->snapshot_path, err);
	if (!rc)
		rc = mb ? mem_backend(mb, &out->mem_file_path, err)
			: dup_str(o, "snapshot-load", "mem_file_path", &out->mem_file_path, err);
	out->enable_diff_snapshots = get_bool(o, "enable_diff_snapshots", false) ||
				     get_bool(o, "track_dirty_pages", false);
	out->resume_vm = get_bool(o, "resume_vm", false);
	if (rc)
		fc_snapshot_load_free(out);
	return rc;
}

cJSON *fcj_instance_info(const struct vmctl *c, const char *vmm_version)
{
	cJSON *o = cJSON_CreateObject();
	if (o && (!cJSON_AddStringToObject(o, "id", c->instance_id) ||
		  !cJSON_AddStringToObject(o, "state", vmctl_state_name(vmctl_state(c))) ||
		  !cJSON_AddStringToObject(o, "vmm_version", vmm_version) ||
		  !cJSON_AddStringToObject(o, "app_name", "arcvm"))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *fcj_machine_config_json(const struct fc_machine_config *m)
{
	cJSON *o = cJSON_CreateObject();
	if (o && (!cJSON_AddNumberToObject(o, "vcpu_count", m->vcpu_count) ||
		  !cJSON_AddNumberToObject(o, "mem_size_mib", m->mem_size_mib) ||
		  !cJSON_AddBoolToObject(o, "smt", m->smt) ||
		  !cJSON_AddBoolToObject(o, "track_dirty_pages", m->track_dirty_pages) ||
		  !cJSON_AddStringToObject(o, "huge_pages", "None"))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Adds s as a string, or null when s is NULL. */
static bool add_str(cJSON *o, const char *name, const char *s)
{
	return s ? cJSON_AddStringToObject(o, name, s) != NULL : cJSON_AddNullToObject(o, name) != NULL;
}

static cJSON *boot_source_json(const struct vmctl *c)
{
	if (!c->have_boot_source)
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject();
	if (o && (!add_str(o, "kernel_image_path", c->boot.kernel_image_path) ||
		  !add_str(o, "initrd_path", c->boot.initrd_path) ||
		  !add_str(o, "boot_args", c->boot.boot_args))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *drive_json(const struct fc_drive *d)
{
	cJSON *o = cJSON_CreateObject();
	if (o && (!add_str(o, "drive_id", d->drive_id) ||
		  !add_str(o, "path_on_host", d->path_on_host) ||
		  !cJSON_AddBoolToObject(o, "is_root_device", d->is_root_device) ||
		  !cJSON_AddBoolToObject(o, "is_read_only", d->is_read_only) ||
		  !add_str(o, "cache_type", d->cache == ARCVM_CACHE_UNSAFE ? "Unsafe" : "Writeback") ||
		  !add_str(o, "io_engine", "Sync"))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *vsock_json(const struct vmctl *c)
{
	if (!c->have_vsock)
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject();
	if (o && (!cJSON_AddNumberToObject(o, "guest_cid", c->vsock.guest_cid) ||
		  !add_str(o, "uds_path", c->vsock.uds_path))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *net_json(const struct fc_net *n)
{
	cJSON *o = cJSON_CreateObject();
	char mac[18];
	const uint8_t *m = n->guest_mac;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
	if (o && (!add_str(o, "iface_id", n->iface_id) ||
		  !add_str(o, "host_dev_name", n->host_dev_name) ||
		  (n->has_mac && !add_str(o, "guest_mac", mac)))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static bool add_item(cJSON *o, const char *name, cJSON *item)
{
	return item && cJSON_AddItemToObject(o, name, item);
}

cJSON *fcj_vm_config(const struct vmctl *c)
{
	cJSON *o = cJSON_CreateObject(), *drives = cJSON_CreateArray(), *nets = cJSON_CreateArray();
	bool ok = o && drives && nets && add_item(o, "boot-source", boot_source_json(c));
	for (int i = 0; ok && i < c->ndrives; i++)
		ok = cJSON_AddItemToArray(drives, drive_json(&c->drives[i]));
	if (ok) {
		ok = cJSON_AddItemToObject(o, "drives", drives);
		drives = NULL;
	}
	ok = ok && add_item(o, "machine-config", fcj_machine_config_json(&c->machine)) &&
	     cJSON_AddNullToObject(o, "balloon");
	for (int i = 0; ok && i < c->nnets; i++)
		ok = cJSON_AddItemToArray(nets, net_json(&c->nets[i]));
	if (ok) {
		ok = cJSON_AddItemToObject(o, "network-interfaces", nets);
		nets = NULL;
	}
	ok = ok && add_item(o, "vsock", vsock_json(c));
	if (ok && c->have_logger) {
		cJSON *l = cJSON_AddObjectToObject(o, "logger");
		ok = l && add_str(l, "log_path", c->logger.log_path) &&
		     cJSON_AddBoolToObject(l, "show_level", c->logger.show_level) &&
		     cJSON_AddBoolToObject(l, "show_log_origin", c->logger.show_log_origin);
	} else if (ok) {
		ok = cJSON_AddNullToObject(o, "logger");
	}
	if (ok && c->metrics_path) {
		cJSON *m = cJSON_AddObjectToObject(o, "metrics");
		ok = m && add_str(m, "metrics_path", c->metrics_path);
	} else if (ok) {
		ok = cJSON_AddNullToObject(o, "metrics");
	}
	ok = ok && cJSON_AddNullToObject(o, "mmds-config") &&
	     add_item(o, "entropy", c->entropy ? cJSON_CreateObject() : cJSON_CreateNull());
	if (!ok) {
		cJSON_Delete(drives);
		cJSON_Delete(nets);
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
