/* config_file.c - Firecracker's --config-file format (see config_file.h). */
#include "api/config_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fc_json.h"
#include "util/err.h"

static const char *const sections[] = {
	"boot-source", "drives", "machine-config", "vsock", "entropy", "logger", "metrics",
	"network-interfaces", "balloon", "mmds-config",
};

static int check_sections(const cJSON *root, const char *name, struct arcvm_error *err)
{
	const cJSON *v;
	cJSON_ArrayForEach(v, root) {
		bool known = false;
		for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
			known |= strcmp(v->string, sections[i]) == 0;
		if (!known)
			return err_set(err, ARCVM_E_INVALID, "%s: unknown section '%.64s' (known:"
				       " boot-source, drives, machine-config, vsock, entropy, logger,"
				       " metrics, network-interfaces)", name, v->string);
		if ((strcmp(v->string, "balloon") == 0 || strcmp(v->string, "mmds-config") == 0) &&
		    !cJSON_IsNull(v))
			return err_set(err, ARCVM_E_INVALID, "%s: section '%s' is not supported by"
				       " arcvm", name, v->string);
	}
	return 0;
}

/* Prefixes err's message with the file name and section. */
static int in_section(int rc, const char *name, const char *section, struct arcvm_error *err)
{
	if (rc && err) {
		char msg[ARCVM_ERROR_MAX];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		err_set(err, rc, "%s: %s: %s", name, section, msg);
	}
	return rc;
}

static int apply_logging(struct vmctl *c, const cJSON *root, const char *name,
			 struct arcvm_error *err)
{
	const cJSON *v;
	int rc = 0;
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "logger")) && !cJSON_IsNull(v)) {
		struct fc_logger l;
		rc = fcj_logger(v, &l, err);
		rc = in_section(rc ? rc : vmctl_set_logger(c, &l, err), name, "logger", err);
	}
	if (!rc && (v = cJSON_GetObjectItemCaseSensitive(root, "metrics")) && !cJSON_IsNull(v)) {
		char *path;
		rc = fcj_metrics(v, &path, err);
		rc = in_section(rc ? rc : vmctl_set_metrics(c, path, err), name, "metrics", err);
	}
	return rc;
}

static int apply_drives(struct vmctl *c, const cJSON *v, const char *name, struct arcvm_error *err)
{
	if (!cJSON_IsArray(v))
		return err_set(err, ARCVM_E_INVALID, "%s: drives: expected an array", name);
	const cJSON *item;
	cJSON_ArrayForEach(item, v) {
		struct fc_drive d;
		int rc = fcj_drive(item, NULL, &d, err);
		if (rc || (rc = vmctl_put_drive(c, &d, err)))
			return in_section(rc, name, "drives", err);
	}
	return 0;
}

static int apply_boot(struct vmctl *c, const cJSON *root, const char *name, struct arcvm_error *err)
{
	const cJSON *v;
	int rc = 0;
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "boot-source"))) {
		struct fc_boot_source b;
		rc = fcj_boot_source(v, &b, err);
		rc = in_section(rc ? rc : vmctl_set_boot_source(c, &b, err), name, "boot-source", err);
	}
	if (!rc && (v = cJSON_GetObjectItemCaseSensitive(root, "drives")))
		rc = apply_drives(c, v, name, err);
	if (!rc && (v = cJSON_GetObjectItemCaseSensitive(root, "machine-config"))) {
		struct fc_machine_config m;
		rc = fcj_machine_config(v, false, &c->machine, &m, err);
		rc = in_section(rc ? rc : vmctl_set_machine_config(c, &m, err), name,
				"machine-config", err);
	}
	if (!rc && (v = cJSON_GetObjectItemCaseSensitive(root, "vsock")) && !cJSON_IsNull(v)) {
		struct fc_vsock s;
		rc = fcj_vsock(v, &s, err);
		rc = in_section(rc ? rc : vmctl_set_vsock(c, &s, err), name, "vsock", err);
	}
	if (!rc && (v = cJSON_GetObjectItemCaseSensitive(root, "entropy")) && !cJSON_IsNull(v)) {
		rc = fcj_entropy(v, err);
		rc = in_section(rc ? rc : vmctl_set_entropy(c, err), name, "entropy", err);
	}
	if (!rc && (v = cJSON_GetObjectItemCaseSensitive(root, "network-interfaces"))) {
		const cJSON *item;
		if (!cJSON_IsArray(v))
			return err_set(err, ARCVM_E_INVALID, "%s: network-interfaces: expected an"
				       " array", name);
		cJSON_ArrayForEach(item, v) {
			struct fc_net n;
			rc = fcj_network(item, NULL, &n, err);
			rc = in_section(rc ? rc : vmctl_put_network(c, &n, err), name,
					"network-interfaces", err);
			if (rc)
				break;
		}
	}
	if (!rc && !c->have_boot_source)
		rc = err_set(err, ARCVM_E_INVALID, "%s: the 'boot-source' section is required", name);
	return rc;
}

int api_config_text_apply(struct vmctl *c, const char *text, const char *name,
			  struct arcvm_error *err)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(text, &end, true);
	int rc;
	if (!root)
		rc = err_set(err, ARCVM_E_INVALID, "%s: malformed JSON at byte %zu", name,
			     end ? (size_t)(end - text) : (size_t)0);
	else if (!cJSON_IsObject(root))
		rc = err_set(err, ARCVM_E_INVALID, "%s: expected a JSON object at the top", name);
	else if (!(rc = check_sections(root, name, err)) && !(rc = apply_logging(c, root, name, err)))
		rc = apply_boot(c, root, name, err);
	cJSON_Delete(root);
	return rc;
}

int api_config_file_apply(struct vmctl *c, const char *path, struct arcvm_error *err)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return err_errno(err, err_from_errno(errno), errno, "cannot open config file %s",
				 path);
	char *text = malloc(API_CONFIG_FILE_MAX + 1);
	size_t n = text ? fread(text, 1, API_CONFIG_FILE_MAX + 1, f) : 0;
	bool bad = ferror(f);
	fclose(f);
	int rc;
	if (!text) {
		rc = err_set(err, ARCVM_E_NOMEM, "out of memory reading %s", path);
	} else if (bad || n > API_CONFIG_FILE_MAX) {
		rc = err_set(err, bad ? ARCVM_E_IO : ARCVM_E_INVALID, "cannot read config file %s: %s",
			     path, bad ? "read error" : "larger than 1 MiB");
	} else {
		text[n] = '\0';
		rc = api_config_text_apply(c, text, path, err);
	}
	free(text);
	return rc;
}
