/* config.c - the JSON VM config file and share specs (see config.h). */
#include "cli/config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/drive_opt.h"

#define CONFIG_MAX_SIZE (1u << 20)

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* base_dir/path when path is relative (and base_dir is given), else a copy. */
static char *resolve(const char *path, const char *base_dir)
{
	char *out;
	if (path[0] == '/' || !base_dir)
		return strdup(path);
	if (asprintf(&out, "%s/%s", base_dir, path) < 0)
		return NULL;
	return out;
}

void cli_share_free(struct cli_share *s)
{
	free(s->host);
	free(s->guest);
	memset(s, 0, sizeof(*s));
}

static bool guest_path_ok(const char *g)
{
	return g[0] == '/' && !strpbrk(g, " \t\n\r,:");
}

int cli_parse_share(const char *spec, const char *base_dir, struct cli_share *out, char *err,
		    size_t errlen)
{
	memset(out, 0, sizeof(*out));
	char *s = strdup(spec), *host = NULL;
	if (!s)
		goto nomem;
	char *colon = strrchr(s, ':');
	if (colon && (strcmp(colon + 1, "ro") == 0 || strcmp(colon + 1, "rw") == 0)) {
		out->read_only = colon[1] == 'r' && colon[2] == 'o';
		*colon = '\0';
		colon = strrchr(s, ':');
	}
	if (!colon || colon == s) {
		set_err(err, errlen, "share '%s': expected HOST:GUEST[:ro|rw]", spec);
		goto bad;
	}
	*colon = '\0';
	if (!guest_path_ok(colon + 1)) {
		set_err(err, errlen, "share '%s': the guest path must be absolute, without spaces,"
		     " commas or colons", spec);
		goto bad;
	}
	host = resolve(s, base_dir);
	struct stat st;
	if (!host)
		goto nomem;
	if (stat(host, &st) || !S_ISDIR(st.st_mode)) {
		set_err(err, errlen, "share '%s': %s is not a folder", spec, host);
		goto bad;
	}
	out->host = realpath(host, NULL);
	out->guest = strdup(colon + 1);
	if (!out->host || !out->guest)
		goto nomem;
	free(host);
	free(s);
	return 0;
nomem:
	set_err(err, errlen, "share '%s': out of memory", spec);
bad:
	cli_share_free(out);
	free(host);
	free(s);
	return -1;
}

/* Context of one parse: where messages point and where paths resolve. */
struct parse {
	const char *file;
	char *dir;
	char *err;
	size_t errlen;
};

static int key_error(struct parse *p, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int key_error(struct parse *p, const char *key, const char *fmt, ...)
{
	char what[CLI_ERRMSG];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	set_err(p->err, p->errlen, "%s: key '%s': %s", p->file, key, what);
	return -1;
}

static int take_string(struct parse *p, const cJSON *v, const char *key, char **out, bool is_path)
{
	if (!cJSON_IsString(v) || !v->valuestring[0])
		return key_error(p, key, "expected a non-empty string");
	*out = is_path ? resolve(v->valuestring, p->dir) : strdup(v->valuestring);
	return *out ? 0 : key_error(p, key, "out of memory");
}

static int take_path(struct parse *p, const cJSON *v, const char *key, char **out)
{
	if (take_string(p, v, key, out, true))
		return -1;
	if (access(*out, R_OK) != 0)
		return key_error(p, key, "cannot read %s: %s", *out, strerror(errno));
	return 0;
}

/* A JSON number that is a whole number in [lo, hi]. */
static bool whole_in(const cJSON *v, double lo, double hi)
{
	return cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble <= hi &&
	       v->valuedouble == (double)(int64_t)v->valuedouble;
}

static int take_vcpu(struct parse *p, const cJSON *v, struct cli_file_config *c)
{
	if (!whole_in(v, 1, ARCVM_MAX_CPUS))
		return key_error(p, "vcpu", "expected a whole number from 1 to %d", ARCVM_MAX_CPUS);
	c->cpus = (int)v->valuedouble;
	return 0;
}

static int take_ram(struct parse *p, const cJSON *v, struct cli_file_config *c)
{
	if (cJSON_IsString(v)) {
		struct arcvm_error e;
		if (arcvm_parse_size(v->valuestring, &c->mem, &e))
			return key_error(p, "ram", "%s", e.msg);
	} else if (whole_in(v, 0, 9.0e18)) {
		c->mem = (uint64_t)v->valuedouble;
	} else {
		return key_error(p, "ram", "expected a size such as \"4GB\" or a number of bytes");
	}
	if (c->mem == 0)
		return key_error(p, "ram", "guest memory must be larger than 0");
	return 0;
}

static int take_kernel(struct parse *p, const cJSON *v, struct cli_file_config *c)
{
	if (cJSON_IsString(v) && (strcmp(v->valuestring, "default") == 0 ||
				  strcmp(v->valuestring, CLI_BUILTIN_KERNEL) == 0))
		return 0;
	return take_path(p, v, "kernel", &c->kernel);
}

static int add_share(struct parse *p, const char *key, const char *spec, struct cli_file_config *c)
{
	char msg[CLI_ERRMSG];
	if (c->nshares == ARCVM_MAX_SHARES)
		return key_error(p, key, "too many shares (at most %d)", ARCVM_MAX_SHARES);
	if (cli_parse_share(spec, p->dir, &c->shares[c->nshares], msg, sizeof(msg)))
		return key_error(p, key, "%s", msg);
	c->nshares++;
	return 0;
}

/* A drive given as an object: {path, read_only, id, cache, root}. */
static int drive_object(struct parse *p, const cJSON *o, const char *key, struct arcvm_drive *d)
{
	const cJSON *f;
	cJSON_ArrayForEach(f, o) {
		const char *k = f->string;
		if (strcmp(k, "path") == 0 || strcmp(k, "id") == 0 || strcmp(k, "cache") == 0) {
			char *s = NULL;
			if (take_string(p, f, key, &s, strcmp(k, "path") == 0))
				return -1;
			if (k[0] == 'p') {
				d->path = s;
			} else if (k[0] == 'i') {
				d->id = s;
			} else {
				bool unsafe = strcmp(s, "unsafe") == 0;
				bool ok = unsafe || strcmp(s, "writeback") == 0;
				free(s);
				if (!ok)
					return key_error(p, key, "cache must be \"writeback\" or \"unsafe\"");
				d->cache = unsafe ? ARCVM_CACHE_UNSAFE : ARCVM_CACHE_WRITEBACK;
			}
		} else if (strcmp(k, "read_only") == 0 || strcmp(k, "root") == 0) {
			if (!cJSON_IsBool(f))
				return key_error(p, key, "%s must be true or false", k);
			*(k[0] == 'r' && k[1] == 'e' ? &d->read_only : &d->root) = cJSON_IsTrue(f);
		} else {
			return key_error(p, key, "unknown drive field '%s'", k);
		}
	}
	if (!d->path)
		return key_error(p, key, "a drive needs a \"path\"");
	return 0;
}

/* A drive string: "path=IMG,..." is a disk; "HOST:GUEST[:mode]" naming an
 * existing host folder is a share (the issue's `drives: ["./src:/src:rw"]`). */
static int drive_string(struct parse *p, const char *spec, const char *key,
			struct cli_file_config *c, struct arcvm_drive *d, bool *is_share)
{
	struct arcvm_error e;
	*is_share = strncmp(spec, "path=", 5) != 0;
	if (*is_share && !strchr(spec, ':'))
		return key_error(p, key, "expected \"path=IMG[,ro]\" (a disk) or"
				 " \"HOST:GUEST[:ro|rw]\" (a shared folder)");
	if (*is_share)
		return add_share(p, key, spec, c);
	if (cli_parse_drive(spec, d, &e))
		return key_error(p, key, "%s", e.msg);
	if (d->path[0] != '/') {
		char *abs = resolve(d->path, p->dir);
		if (!abs)
			return key_error(p, key, "out of memory");
		free((char *)d->path);
		d->path = abs;
	}
	return 0;
}

static int take_drives(struct parse *p, const cJSON *v, struct cli_file_config *c)
{
	if (!cJSON_IsArray(v))
		return key_error(p, "drives", "expected an array");
	const cJSON *item;
	int i = 0;
	cJSON_ArrayForEach(item, v) {
		char key[32];
		snprintf(key, sizeof(key), "drives[%d]", i++);
		if (c->ndrives == ARCVM_MAX_DRIVES)
			return key_error(p, key, "too many drives (at most %d)", ARCVM_MAX_DRIVES);
		struct arcvm_drive *d = &c->drives[c->ndrives];
		bool is_share = false;
		int rc = cJSON_IsString(item) ? drive_string(p, item->valuestring, key, c, d, &is_share)
			 : cJSON_IsObject(item) ? drive_object(p, item, key, d)
			 : key_error(p, key, "expected a string or an object");
		if (!is_share)
			c->ndrives++; /* counted even on failure, so cli_config_free frees it */
		if (rc)
			return -1;
		if (!is_share && access(d->path, R_OK) != 0)
			return key_error(p, key, "cannot read %s: %s", d->path, strerror(errno));
	}
	return 0;
}

static int take_shares(struct parse *p, const cJSON *v, struct cli_file_config *c)
{
	if (!cJSON_IsArray(v))
		return key_error(p, "shares", "expected an array of \"HOST:GUEST[:ro|rw]\" strings");
	const cJSON *item;
	int i = 0;
	cJSON_ArrayForEach(item, v) {
		char key[32];
		snprintf(key, sizeof(key), "shares[%d]", i++);
		if (!cJSON_IsString(item))
			return key_error(p, key, "expected a \"HOST:GUEST[:ro|rw]\" string");
		if (add_share(p, key, item->valuestring, c))
			return -1;
	}
	return 0;
}

static int take_env(struct parse *p, const cJSON *v, struct cli_file_config *c)
{
	if (!cJSON_IsObject(v))
		return key_error(p, "env", "expected an object of strings");
	const cJSON *item;
	cJSON_ArrayForEach(item, v) {
		char key[300];
		snprintf(key, sizeof(key), "env.%.256s", item->string);
		if (!item->string[0] || strchr(item->string, '='))
			return key_error(p, key, "a variable name cannot be empty or hold '='");
		if (!cJSON_IsString(item))
			return key_error(p, key, "expected a string");
		if (c->nenv == CLI_MAX_ENV)
			return key_error(p, key, "too many variables (at most %d)", CLI_MAX_ENV);
		if (asprintf(&c->env[c->nenv], "%s=%s", item->string, item->valuestring) < 0)
			return key_error(p, key, "out of memory");
		c->nenv++;
	}
	return 0;
}

/* "network": {"mode": "user"|"tap", "tap": NAME, "mac", "ip", "gateway",
 * "dns", "publish": ["[HOSTADDR:]HOSTPORT:GUESTPORT[/udp]", ...]}, turned
 * into the --net and --publish syntax so both share one parser. */
static int network_object(struct parse *p, const cJSON *o, struct cli_file_config *c)
{
	char spec[160] = "user", items[128] = "", msg[CLI_ERRMSG];
	const cJSON *f, *publish = NULL;
	cJSON_ArrayForEach(f, o) {
		const char *k = f->string;
		if (strcmp(k, "publish") == 0) {
			if (!cJSON_IsArray(f))
				return key_error(p, "network.publish", "expected an array of strings");
			publish = f;
			continue;
		}
		if (!cJSON_IsString(f) || !f->valuestring[0] || strchr(f->valuestring, ','))
			return key_error(p, "network", "%s must be a non-empty string without commas", k);
		const char *v = f->valuestring;
		size_t used = strlen(items);
		if (strcmp(k, "mode") == 0) {
			if (strcmp(v, "user") && strcmp(v, "tap"))
				return key_error(p, "network.mode", "expected \"user\" or \"tap\"");
			if (strcmp(v, "user") == 0)
				snprintf(spec, sizeof(spec), "user");
			else if (strncmp(spec, "tap=", 4) != 0)
				snprintf(spec, sizeof(spec), "tap=");
		} else if (strcmp(k, "tap") == 0) {
			snprintf(spec, sizeof(spec), "tap=%.40s", v);
		} else if (strcmp(k, "mac") == 0 || strcmp(k, "ip") == 0 || strcmp(k, "gateway") == 0 ||
			   strcmp(k, "dns") == 0) {
			snprintf(items + used, sizeof(items) - used, ",%s=%.40s",
				 strcmp(k, "gateway") == 0 ? "gw" : k, v);
		} else {
			return key_error(p, "network", "unknown field '%s' (known: mode, tap, mac, ip,"
					 " gateway, dns, publish)", k);
		}
	}
	size_t sl = strlen(spec);
	snprintf(spec + sl, sizeof(spec) - sl, "%s", items);
	if (cli_parse_net(spec, &c->net, msg, sizeof(msg)))
		return key_error(p, "network", "%s", msg);
	const cJSON *item;
	cJSON_ArrayForEach(item, publish) {
		if (!cJSON_IsString(item))
			return key_error(p, "network.publish", "expected strings");
		if (cli_parse_publish(item->valuestring, &c->net, msg, sizeof(msg)))
			return key_error(p, "network.publish", "%s", msg);
	}
	return 0;
}

static int take_network(struct parse *p, const cJSON *v, struct cli_file_config *c)
{
	char msg[CLI_ERRMSG];
	if (cJSON_IsObject(v))
		return network_object(p, v, c);
	if (!cJSON_IsBool(v))
		return key_error(p, "network", "expected true, false or an object");
	memset(&c->net, 0, sizeof(c->net));
	if (cJSON_IsTrue(v) && cli_parse_net(NULL, &c->net, msg, sizeof(msg)))
		return key_error(p, "network", "%s", msg);
	return 0;
}

/* "shared_mem": the --shared-mem syntax; a relative path= is the file's. */
static int take_shared_mem(struct parse *p, const cJSON *v, struct cli_file_config *c)
{
	char msg[CLI_ERRMSG];
	if (!cJSON_IsString(v))
		return key_error(p, "shared_mem", "expected a string \"SIZE[,path=FILE|,fd=N]\"");
	if (cli_parse_shm(v->valuestring, p->dir, &c->shm, msg, sizeof(msg)))
		return key_error(p, "shared_mem", "%s", msg);
	return 0;
}

static int take_key(struct parse *p, const cJSON *v, struct cli_file_config *c)
{
	const char *k = v->string;
	if (strcmp(k, "vcpu") == 0) return take_vcpu(p, v, c);
	if (strcmp(k, "ram") == 0) return take_ram(p, v, c);
	if (strcmp(k, "kernel") == 0) return take_kernel(p, v, c);
	if (strcmp(k, "initrd") == 0) return take_path(p, v, k, &c->initrd);
	if (strcmp(k, "cmdline") == 0) return take_string(p, v, k, &c->cmdline, false);
	if (strcmp(k, "drives") == 0) return take_drives(p, v, c);
	if (strcmp(k, "shares") == 0) return take_shares(p, v, c);
	if (strcmp(k, "network") == 0) return take_network(p, v, c);
	if (strcmp(k, "env") == 0) return take_env(p, v, c);
	if (strcmp(k, "shared_mem") == 0) return take_shared_mem(p, v, c);
	set_err(p->err, p->errlen, "%s: unknown key '%s' (known: vcpu, ram, kernel, initrd, cmdline,"
	     " drives, shares, network, env, shared_mem)", p->file, k);
	return -1;
}

/* Line and column (1-based) of byte `off` in text. */
static void position(const char *text, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && text[i]; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

int cli_config_parse(const char *text, const char *path, struct cli_file_config *out,
		     char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct parse p = { .file = path, .err = err, .errlen = errlen };
	char *copy = strdup(path);
	char *slash = copy ? strrchr(copy, '/') : NULL;
	if (slash)
		*(slash == copy ? slash + 1 : slash) = '\0';
	p.dir = slash ? copy : NULL;
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(text, &end, true);
	int rc = -1;
	if (!root) {
		int line, col;
		position(text, end ? (size_t)(end - text) : 0, &line, &col);
		set_err(err, errlen, "%s: malformed JSON at line %d, column %d", path, line, col);
	} else if (!cJSON_IsObject(root)) {
		set_err(err, errlen, "%s: expected a JSON object at the top", path);
	} else {
		const cJSON *v;
		rc = 0;
		cJSON_ArrayForEach(v, root)
			if ((rc = take_key(&p, v, out)))
				break;
	}
	cJSON_Delete(root);
	free(copy);
	if (rc)
		cli_config_free(out);
	return rc;
}

int cli_config_load(const char *path, struct cli_file_config *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	FILE *f = fopen(path, "re");
	if (!f) {
		set_err(err, errlen, "cannot open config %s: %s", path, strerror(errno));
		return -1;
	}
	char *text = malloc(CONFIG_MAX_SIZE + 1);
	size_t n = text ? fread(text, 1, CONFIG_MAX_SIZE + 1, f) : 0;
	bool bad = ferror(f);
	fclose(f);
	if (!text || bad || n > CONFIG_MAX_SIZE) {
		set_err(err, errlen, "cannot read config %s: %s", path,
		     n > CONFIG_MAX_SIZE ? "larger than 1 MiB" : "read error");
		free(text);
		return -1;
	}
	text[n] = '\0';
	int rc = cli_config_parse(text, path, out, err, errlen);
	free(text);
	return rc;
}

void cli_config_free(struct cli_file_config *c)
{
	free(c->kernel);
	free(c->initrd);
	free(c->cmdline);
	for (int i = 0; i < c->ndrives; i++)
		cli_drive_free(&c->drives[i]);
	for (int i = 0; i < c->nshares; i++)
		cli_share_free(&c->shares[i]);
	for (int i = 0; i < c->nenv; i++)
		free(c->env[i]);
	memset(c, 0, sizeof(*c));
}

const char *cli_share_tag(int i)
{
	static const char *const tags[ARCVM_MAX_SHARES] = {
		"share0", "share1", "share2", "share3", "share4", "share5", "share6", "share7",
	};
	return i >= 0 && i < ARCVM_MAX_SHARES ? tags[i] : NULL;
}

int cli_config_apply(struct cli_file_config *f, struct arcvm_config *cfg, char *err,
		     size_t errlen)
{
	if (cfg->ndrives + f->ndrives > ARCVM_MAX_DRIVES ||
	    cfg->nshares + f->nshares > ARCVM_MAX_SHARES) {
		set_err(err, errlen, "too many drives or shares (at most %d and %d)",
			ARCVM_MAX_DRIVES, ARCVM_MAX_SHARES);
		return -1;
	}
	if (f->cpus)
		cfg->cpus = f->cpus;
	if (f->mem)
		cfg->mem_size = f->mem;
	if (f->kernel)
		cfg->kernel_path = f->kernel;
	if (f->initrd)
		cfg->initrd_path = f->initrd;
	if (f->cmdline)
		cfg->cmdline = f->cmdline;
	if (cli_net_apply(&f->net, cfg, err, errlen))
		return -1;
	for (int i = 0; i < f->ndrives; i++) {
		cfg->drives[cfg->ndrives++] = f->drives[i];
		memset(&f->drives[i], 0, sizeof(f->drives[i]));
	}
	f->ndrives = 0;
	for (int i = 0; i < f->nshares; i++, cfg->nshares++)
		cfg->shares[cfg->nshares] = (struct arcvm_share){ .host_path = f->shares[i].host,
			.tag = cli_share_tag(cfg->nshares), .read_only = f->shares[i].read_only };
	return 0;
}

const char *cli_config_arg(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], "--config=", 9) == 0)
			return argv[i] + 9;
	}
	return NULL;
}
