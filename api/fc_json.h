/*
 * fc_json.h - Firecracker's JSON objects (the bodies of its REST API and the
 * sections of its --config-file) to and from arcvm's structs (api/vmctl.h).
 *
 * Parsing is strict, as Firecracker's is: an unknown field, a field of the
 * wrong type, a missing required field or a value out of range fails with
 * ARCVM_E_INVALID and a message naming the object and the field. Nothing is
 * left to free on failure. Values arcvm cannot honour (a rate limiter, a
 * CPU template, huge pages, ...) are refused, never silently ignored.
 */
#ifndef API_FC_JSON_H
#define API_FC_JSON_H

#include <cjson/cJSON.h>

#include "api/vmctl.h"

enum fc_action { FC_ACTION_INSTANCE_START, FC_ACTION_SEND_CTRL_ALT_DEL, FC_ACTION_FLUSH_METRICS };

int fcj_boot_source(const cJSON *o, struct fc_boot_source *out, struct arcvm_error *err);
/* PUT (all of vcpu_count and mem_size_mib required) or PATCH (any subset,
 * applied over `base`). */
int fcj_machine_config(const cJSON *o, bool patch, const struct fc_machine_config *base,
		       struct fc_machine_config *out, struct arcvm_error *err);
/* `path_id` is the {drive_id} of the URL (NULL in a config file); the body's
 * drive_id must match it. */
int fcj_drive(const cJSON *o, const char *path_id, struct fc_drive *out, struct arcvm_error *err);
/* PATCH /drives/{id}: drive_id and path_on_host. */
int fcj_drive_patch(const cJSON *o, const char *path_id, char **path_on_host,
		    struct arcvm_error *err);
int fcj_vsock(const cJSON *o, struct fc_vsock *out, struct arcvm_error *err);
int fcj_entropy(const cJSON *o, struct arcvm_error *err);
/* host_dev_name is a TAP device or FC_NET_USER; guest_mac is optional;
 * rate limiters are refused unless they limit nothing. */
int fcj_network(const cJSON *o, const char *path_id, struct fc_net *out, struct arcvm_error *err);
int fcj_logger(const cJSON *o, struct fc_logger *out, struct arcvm_error *err);
int fcj_metrics(const cJSON *o, char **metrics_path, struct arcvm_error *err);
int fcj_action(const cJSON *o, enum fc_action *out, struct arcvm_error *err);
/* PATCH /vm: *pause is true for "Paused", false for "Resumed". */
int fcj_vm_state(const cJSON *o, bool *pause, struct arcvm_error *err);
int fcj_snapshot_create(const cJSON *o, struct fc_snapshot_create *out, struct arcvm_error *err);
int fcj_snapshot_load(const cJSON *o, struct fc_snapshot_load *out, struct arcvm_error *err);

/* Responses; NULL when out of memory. */
cJSON *fcj_instance_info(const struct vmctl *c, const char *vmm_version);
cJSON *fcj_machine_config_json(const struct fc_machine_config *m);
/* GET /vm/config: every section, in the shape of a config file. */
cJSON *fcj_vm_config(const struct vmctl *c);

#endif
