/* routes.c - Firecracker's paths and methods on the VM controller (see routes.h). */
#include "api/routes.h"

#include <stdlib.h>
#include <string.h>

#include "api/fc_json.h"
#include "util/err.h"

/* A handler: `id` is the {id} part of the path (or NULL), `body` the parsed
 * JSON body of a PUT or PATCH (or NULL for a GET). On success it may set
 * out->body and out->status (default: 204 without a body). */
typedef int (*route_fn)(struct vmctl *c, const char *id, const cJSON *body,
			struct api_reply *out, struct arcvm_error *err);

struct route {
	const char *path;          /* exact; with has_id, the prefix before "/{id}" */
	bool has_id;
	route_fn get, put, patch;
};

static int reply_json(struct api_reply *out, cJSON *o, struct arcvm_error *err)
{
	out->body = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!out->body)
		return err_set(err, ARCVM_E_NOMEM, "out of memory for the response");
	out->status = 200;
	return 0;
}

static int get_instance(struct vmctl *c, const char *id, const cJSON *body,
			struct api_reply *out, struct arcvm_error *err)
{
	return reply_json(out, fcj_instance_info(c, API_VMM_VERSION), err);
}

static int get_version(struct vmctl *c, const char *id, const cJSON *body,
		       struct api_reply *out, struct arcvm_error *err)
{
	cJSON *o = cJSON_CreateObject();
	if (o && (!cJSON_AddStringToObject(o, "firecracker_version", API_FC_VERSION) ||
		  !cJSON_AddStringToObject(o, "arcvm_version", API_VMM_VERSION))) {
		cJSON_Delete(o);
		o = NULL;
	}
	return reply_json(out, o, err);
}

static int put_boot_source(struct vmctl *c, const char *id, const cJSON *body,
			   struct api_reply *out, struct arcvm_error *err)
{
	struct fc_boot_source b;
	int rc = fcj_boot_source(body, &b, err);
	return rc ? rc : vmctl_set_boot_source(c, &b, err);
}

static int get_machine(struct vmctl *c, const char *id, const cJSON *body,
		       struct api_reply *out, struct arcvm_error *err)
{
	return reply_json(out, fcj_machine_config_json(&c->machine), err);
}

static int set_machine(struct vmctl *c, const cJSON *body, bool patch, struct arcvm_error *err)
{
	struct fc_machine_config m;
	int rc = fcj_machine_config(body, patch, &c->machine, &m, err);
	return rc ? rc : vmctl_set_machine_config(c, &m, err);
}

static int put_machine(struct vmctl *c, const char *id, const cJSON *body,
		       struct api_reply *out, struct arcvm_error *err)
{
	return set_machine(c, body, false, err);
}

static int patch_machine(struct vmctl *c, const char *id, const cJSON *body,
			 struct api_reply *out, struct arcvm_error *err)
{
	return set_machine(c, body, true, err);
}

static int get_vm_config(struct vmctl *c, const char *id, const cJSON *body,
			 struct api_reply *out, struct arcvm_error *err)
{
	return reply_json(out, fcj_vm_config(c), err);
}

static int put_drive(struct vmctl *c, const char *id, const cJSON *body,
		     struct api_reply *out, struct arcvm_error *err)
{
	struct fc_drive d;
	int rc = fcj_drive(body, id, &d, err);
	return rc ? rc : vmctl_put_drive(c, &d, err);
}

static int patch_drive(struct vmctl *c, const char *id, const cJSON *body,
		       struct api_reply *out, struct arcvm_error *err)
{
	char *path;
	int rc = fcj_drive_patch(body, id, &path, err);
	if (!rc)
		rc = vmctl_update_drive(c, id, path, err);
	free(path);
	return rc;
}

static int put_vsock(struct vmctl *c, const char *id, const cJSON *body,
		     struct api_reply *out, struct arcvm_error *err)
{
	struct fc_vsock v;
	int rc = fcj_vsock(body, &v, err);
	return rc ? rc : vmctl_set_vsock(c, &v, err);
}

static int put_entropy(struct vmctl *c, const char *id, const cJSON *body,
		       struct api_reply *out, struct arcvm_error *err)
{
	int rc = fcj_entropy(body, err);
	return rc ? rc : vmctl_set_entropy(c, err);
}

static int put_network(struct vmctl *c, const char *id, const cJSON *body,
		       struct api_reply *out, struct arcvm_error *err)
{
	struct fc_net n;
	int rc = fcj_network(body, id, &n, err);
	return rc ? rc : vmctl_put_network(c, &n, err);
}

static int put_action(struct vmctl *c, const char *id, const cJSON *body,
		      struct api_reply *out, struct arcvm_error *err)
{
	enum fc_action a;
	int rc = fcj_action(body, &a, err);
	if (rc)
		return rc;
	switch (a) {
	case FC_ACTION_INSTANCE_START: return vmctl_start(c, err);
	case FC_ACTION_SEND_CTRL_ALT_DEL: return vmctl_send_ctrl_alt_del(c, err);
	case FC_ACTION_FLUSH_METRICS: return vmctl_flush_metrics(c, err);
	}
	return err_set(err, ARCVM_E_INVALID, "unknown action");
}

static int patch_vm(struct vmctl *c, const char *id, const cJSON *body,
		    struct api_reply *out, struct arcvm_error *err)
{
	bool pause;
	int rc = fcj_vm_state(body, &pause, err);
	return rc ? rc : pause ? vmctl_pause(c, err) : vmctl_resume(c, err);
}

static int put_snapshot_create(struct vmctl *c, const char *id, const cJSON *body,
			       struct api_reply *out, struct arcvm_error *err)
{
	struct fc_snapshot_create s;
	int rc = fcj_snapshot_create(body, &s, err);
	return rc ? rc : vmctl_snapshot_create(c, &s, err);
}

static int put_snapshot_load(struct vmctl *c, const char *id, const cJSON *body,
			     struct api_reply *out, struct arcvm_error *err)
{
	struct fc_snapshot_load s;
	int rc = fcj_snapshot_load(body, &s, err);
	return rc ? rc : vmctl_snapshot_load(c, &s, err);
}

static int put_logger(struct vmctl *c, const char *id, const cJSON *body,
		      struct api_reply *out, struct arcvm_error *err)
{
	struct fc_logger l;
	int rc = fcj_logger(body, &l, err);
	return rc ? rc : vmctl_set_logger(c, &l, err);
}

static int put_metrics(struct vmctl *c, const char *id, const cJSON *body,
		       struct api_reply *out, struct arcvm_error *err)
{
	char *path;
	int rc = fcj_metrics(body, &path, err);
	return rc ? rc : vmctl_set_metrics(c, path, err);
}

static const struct route routes[] = {
	{ "/", false, get_instance, NULL, NULL },
	{ "/version", false, get_version, NULL, NULL },
	{ "/boot-source", false, NULL, put_boot_source, NULL },
	{ "/machine-config", false, get_machine, put_machine, patch_machine },
	{ "/vm/config", false, get_vm_config, NULL, NULL },
	{ "/drives", true, NULL, put_drive, patch_drive },
	{ "/vsock", false, NULL, put_vsock, NULL },
	{ "/entropy", false, NULL, put_entropy, NULL },
	{ "/network-interfaces", true, NULL, put_network, NULL },
	{ "/actions", false, NULL, put_action, NULL },
	{ "/vm", false, NULL, NULL, patch_vm },
	{ "/snapshot/create", false, NULL, put_snapshot_create, NULL },
	{ "/snapshot/load", false, NULL, put_snapshot_load, NULL },
	{ "/logger", false, NULL, put_logger, NULL },
	{ "/metrics", false, NULL, put_metrics, NULL },
};

/* Matches path against a route; *id points into path for "/prefix/{id}". */
static bool matches(const struct route *r, const char *path, const char **id)
{
	*id = NULL;
	if (!r->has_id)
		return strcmp(path, r->path) == 0;
	size_t n = strlen(r->path);
	if (strncmp(path, r->path, n) != 0 || path[n] != '/' || !path[n + 1] ||
	    strchr(path + n + 1, '/'))
		return false;
	*id = path + n + 1;
	return true;
}

void api_reply_fault(struct api_reply *out, int status, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	out->status = status;
	out->body = NULL;
	if (o && cJSON_AddStringToObject(o, "fault_message", msg))
		out->body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
}

/* The path without a query string; false when it does not fit. */
static bool url_path(const char *url, char *path, size_t len)
{
	size_t n = strcspn(url, "?#");
	if (n >= len || n == 0)
		return false;
	memcpy(path, url, n);
	path[n] = '\0';
	/* "/machine-config/" names the same thing as "/machine-config". */
	if (n > 1 && path[n - 1] == '/')
		path[n - 1] = '\0';
	return true;
}

static route_fn pick(const struct route *r, enum api_method m)
{
	return m == API_GET ? r->get : m == API_PUT ? r->put : m == API_PATCH ? r->patch : NULL;
}

/* Where a route is found and its method exists: parse the body, run it. */
static void run_route(struct vmctl *c, route_fn fn, const char *id,
		      const struct api_request *req, struct api_reply *out)
{
	struct arcvm_error err = { 0 };
	cJSON *body = NULL;
	if (req->method != API_GET) {
		if (!req->body || req->body_len == 0) {
			api_reply_fault(out, 400, "the request needs a JSON body");
			return;
		}
		if (strlen(req->body) != req->body_len) {
			api_reply_fault(out, 400, "the JSON body holds a NUL byte");
			return;
		}
		/* The length covers the NUL, which must follow the value. */
		const char *end = NULL;
		body = cJSON_ParseWithLengthOpts(req->body, req->body_len + 1, &end, true);
		if (!body) {
			char msg[128];
			snprintf(msg, sizeof(msg), "malformed JSON body at byte %zu",
				 end ? (size_t)(end - req->body) : (size_t)0);
			api_reply_fault(out, 400, msg);
			return;
		}
	}
	*out = (struct api_reply){ .status = 204 };
	int rc = fn(c, id, body, out, &err);
	cJSON_Delete(body);
	if (rc) {
		free(out->body);
		api_reply_fault(out, rc == ARCVM_E_NOMEM ? 500 : 400,
				err.msg[0] ? err.msg : arcvm_code_name(rc));
	}
}

void api_route(struct vmctl *c, const struct api_request *req, struct api_reply *out)
{
	char path[API_HTTP_MAX_URL + 1];
	char msg[API_HTTP_MAX_URL + 128];
	*out = (struct api_reply){ 0 };
	if (!url_path(req->url, path, sizeof(path)) || path[0] != '/') {
		api_reply_fault(out, 400, "the request URL is not a path");
		return;
	}
	const struct route *found = NULL;
	const char *id = NULL;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]) && !found; i++)
		if (matches(&routes[i], path, &id))
			found = &routes[i];
	route_fn fn = found ? pick(found, req->method) : NULL;
	if (!found) {
		snprintf(msg, sizeof(msg), "no such resource: %s", path);
		api_reply_fault(out, 404, msg);
	} else if (!fn) {
		snprintf(msg, sizeof(msg), "method %s is not allowed on %s", req->method_name, path);
		api_reply_fault(out, 405, msg);
	} else {
		run_route(c, fn, id, req, out);
	}
	c->counters.api_requests++;
	if (out->status >= 400)
		c->counters.api_errors++;
}
