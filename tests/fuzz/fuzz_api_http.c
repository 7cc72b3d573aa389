/*
 * fuzz_api_http.c - the API server's request parsing on arbitrary bytes:
 * the bounded HTTP layer (fed in two pieces, as a socket may deliver it,
 * with pipelined requests following one another) and every Firecracker
 * JSON object parser on each complete request's body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/fc_json.h"
#include "api/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_body(const struct api_request *r)
{
	if (!r->body)
		return;
	cJSON *o = cJSON_ParseWithLengthOpts(r->body, r->body_len + 1, NULL, true);
	struct arcvm_error err;
	struct fc_boot_source b;
	struct fc_machine_config base = { .vcpu_count = 1, .mem_size_mib = 128 }, m;
	struct fc_drive d;
	struct fc_vsock v;
	struct fc_logger l;
	struct fc_snapshot_create sc;
	struct fc_snapshot_load sl;
	enum fc_action a;
	struct fc_net n;
	char *path;
	bool pause;
	if (!fcj_boot_source(o, &b, &err))
		fc_boot_source_free(&b);
	fcj_machine_config(o, false, &base, &m, &err);
	fcj_machine_config(o, true, &base, &m, &err);
	if (!fcj_drive(o, "d1", &d, &err))
		fc_drive_free(&d);
	if (!fcj_drive(o, NULL, &d, &err))
		fc_drive_free(&d);
	if (!fcj_drive_patch(o, "d1", &path, &err))
		free(path);
	if (!fcj_vsock(o, &v, &err))
		fc_vsock_free(&v);
	fcj_entropy(o, &err);
	if (!fcj_network(o, "eth0", &n, &err))
		fc_net_free(&n);
	if (!fcj_network(o, NULL, &n, &err))
		fc_net_free(&n);
	if (!fcj_logger(o, &l, &err))
		fc_logger_free(&l);
	if (!fcj_metrics(o, &path, &err))
		free(path);
	fcj_action(o, &a, &err);
	fcj_vm_state(o, &pause, &err);
	if (!fcj_snapshot_create(o, &sc, &err))
		fc_snapshot_create_free(&sc);
	if (!fcj_snapshot_load(o, &sl, &err))
		fc_snapshot_load_free(&sl);
	cJSON_Delete(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_http h;
	api_http_init(&h);
	const char *p = (const char *)data;
	size_t split = size ? data[0] % (size + 1) : 0;
	size_t pieces[2] = { split, size - split };
	for (int i = 0; i < 2; i++) {
		size_t left = pieces[i];
		while (left > 0) {
			size_t used = api_http_feed(&h, p, left);
			p += used;
			left -= used;
			if (h.state == API_HTTP_DONE) {
				parse_body(&h.req);
				api_http_reset(&h);
			} else if (h.state == API_HTTP_ERROR) {
				api_http_reset(&h);
				goto out;
			} else if (used == 0) {
				goto out;
			}
		}
	}
out:
	api_http_eof(&h);
	api_http_reset(&h);
	return 0;
}
