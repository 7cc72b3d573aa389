/*
 * cmd_snapshot.c - `arcvm snapshot create`: a client of a running `arcvm api`
 * that snapshots its VM into a folder: pause if running (PATCH /vm), PUT
 * /snapshot/create with DIR/state and DIR/memory (the names of docs/snapshot.md),
 * and resume unless told to keep it paused.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/client.h"
#include "cli/cli.h"

#define SNAPSHOT_STATE_FILE "state"
#define SNAPSHOT_MEM_FILE "memory"
#define QUICK_TIMEOUT_MS 10000
#define SNAPSHOT_TIMEOUT_MS (10 * 60 * 1000)   /* writing guest memory may take a while */

static void create_usage(FILE *f)
{
	fputs("usage: arcvm snapshot create --socket PATH [--diff] [--keep-paused] DIR\n"
	      "Snapshots the VM of the `arcvm api` serving PATH into the folder DIR\n"
	      "(DIR/" SNAPSHOT_STATE_FILE " and DIR/" SNAPSHOT_MEM_FILE ", created if missing).\n"
	      "A running VM is paused for the snapshot and resumed afterwards.\n\n"
	      "  --socket PATH     the API socket of the running arcvm api\n"
	      "  --diff            a Diff snapshot (pages dirtied since the last one)\n"
	      "  --keep-paused     leave the VM paused afterwards\n", f);
}

/* One request; prints the fault message of a refusal. */
static int call(const char *sock, const char *method, const char *path, const char *json,
		int timeout_ms, struct api_response *resp)
{
	struct arcvm_error err;
	if (api_client_request(sock, method, path, json, timeout_ms, resp, &err)) {
		cli_error("%s", err.msg);
		return -1;
	}
	if (resp->status >= 200 && resp->status < 300)
		return 0;
	cJSON *o = resp->body ? cJSON_Parse(resp->body) : NULL;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "fault_message");
	cli_error("%s %s: %d: %s", method, path, resp->status,
		  cJSON_IsString(m) ? m->valuestring : resp->body ? resp->body : "(no message)");
	cJSON_Delete(o);
	api_response_free(resp);
	return -1;
}

/* The VM's state from GET /: "Running", "Paused" or "Not started". */
static int vm_state(const char *sock, char *state, size_t len)
{
	struct api_response r;
	if (call(sock, "GET", "/", NULL, QUICK_TIMEOUT_MS, &r))
		return -1;
	cJSON *o = r.body ? cJSON_Parse(r.body) : NULL;
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "state");
	int rc = cJSON_IsString(s) ? 0 : -1;
	if (rc)
		cli_error("GET / answered without a state");
	else
		snprintf(state, len, "%s", s->valuestring);
	cJSON_Delete(o);
	api_response_free(&r);
	return rc;
}

static int set_state(const char *sock, const char *state)
{
	char body[64];
	struct api_response r;
	snprintf(body, sizeof(body), "{\"state\": \"%s\"}", state);
	int rc = call(sock, "PATCH", "/vm", body, QUICK_TIMEOUT_MS, &r);
	if (!rc)
		api_response_free(&r);
	return rc;
}

static int create(const char *sock, const char *dir, bool diff)
{
	char state[PATH_MAX], mem[PATH_MAX];
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		cli_error("cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	char *abs = realpath(dir, NULL);
	if (!abs) {
		cli_error("cannot resolve %s: %s", dir, strerror(errno));
		return -1;
	}
	/* The server resolves relative paths from its own folder: send absolute ones. */
	snprintf(state, sizeof(state), "%s/" SNAPSHOT_STATE_FILE, abs);
	snprintf(mem, sizeof(mem), "%s/" SNAPSHOT_MEM_FILE, abs);
	free(abs);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "snapshot_type", diff ? "Diff" : "Full");
	cJSON_AddStringToObject(o, "snapshot_path", state);
	cJSON_AddStringToObject(o, "mem_file_path", mem);
	char *body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	struct api_response r;
	int rc = body ? call(sock, "PUT", "/snapshot/create", body, SNAPSHOT_TIMEOUT_MS, &r) : -1;
	free(body);
	if (!rc)
		api_response_free(&r);
	return rc;
}

int cli_snapshot_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, 0, 's' }, { "diff", no_argument, 0, 'd' },
		{ "keep-paused", no_argument, 0, 'k' }, { "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *sock = NULL;
	bool diff = false, keep_paused = false;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 's': sock = optarg; break;
		case 'd': diff = true; break;
		case 'k': keep_paused = true; break;
		case 'h': create_usage(stdout); return CLI_OK;
		default: create_usage(stderr); return CLI_USAGE;
		}
	}
	if (!sock) {
		cli_error("arcvm snapshot create needs --socket PATH, the socket of a running"
			  " `arcvm api` (snapshots are taken through its REST API)");
		return CLI_USAGE;
	}
	if (optind != argc - 1) {
		cli_error("usage: arcvm snapshot create --socket PATH [--diff] [--keep-paused] DIR");
		return CLI_USAGE;
	}
	char state[32];
	if (vm_state(sock, state, sizeof(state)))
		return CLI_ERROR;
	bool was_running = strcmp(state, "Running") == 0;
	if (!was_running && strcmp(state, "Paused") != 0) {
		cli_error("the VM is %s: there is nothing to snapshot", state);
		return CLI_ERROR;
	}
	if (was_running && set_state(sock, "Paused"))
		return CLI_ERROR;
	int rc = create(sock, argv[optind], diff);
	/* Resume even after a failed snapshot: the VM was running before us. */
	if (was_running && !keep_paused && set_state(sock, "Resumed"))
		rc = -1;
	return rc ? CLI_ERROR : CLI_OK;
}
