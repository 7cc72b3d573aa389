/*
 * vmctl.h - the VM controller behind `arcvm api`: the one VM an API process
 * owns (as with Firecracker), the configuration gathered before it starts,
 * and every action on it. Requests arrive already parsed (api/fc_json.h);
 * the controller checks that the VM's state allows them and turns them into
 * libarcvm calls. It knows nothing of HTTP: a refused request comes back as
 * an arcvm_error whose message the caller shows the client.
 *
 * Threads: one, the API server's, except that libarcvm's threads log through
 * vmctl_lib_log: the logger's settings and file are under log_lock.
 */
#ifndef API_VMCTL_H
#define API_VMCTL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "arcvm.h"

/* Firecracker's objects, as arcvm keeps them. Strings are owned (malloc). */
struct fc_boot_source {
	char *kernel_image_path;
	char *boot_args;           /* NULL: arcvm's default command line */
	char *initrd_path;
};

struct fc_machine_config {
	int vcpu_count;
	uint32_t mem_size_mib;
	bool smt;
	bool track_dirty_pages;
};

struct fc_drive {
	char *drive_id;
	char *path_on_host;
	bool is_root_device;
	bool is_read_only;
	enum arcvm_cache cache;    /* cache_type "Unsafe" (Firecracker's default) or "Writeback" */
};

struct fc_vsock {
	uint32_t guest_cid;
	char *uds_path;
};

/* host_dev_name naming user-mode NAT (libslirp) instead of a TAP device: a
 * ':' can never be in a Linux interface name, so no TAP is shadowed. */
#define FC_NET_USER "arcvm:user"

struct fc_net {
	char *iface_id;
	char *host_dev_name;       /* a TAP device, or FC_NET_USER */
	bool has_mac;
	uint8_t guest_mac[6];
};

enum fc_log_level { FC_LOG_OFF, FC_LOG_ERROR, FC_LOG_WARN, FC_LOG_INFO, FC_LOG_DEBUG, FC_LOG_TRACE };

struct fc_logger {
	char *log_path;            /* NULL: stderr */
	enum fc_log_level level;
	bool show_level;
	bool show_log_origin;
};

struct fc_snapshot_create {
	enum arcvm_snapshot_type type;
	char *snapshot_path;
	char *mem_file_path;
};

struct fc_snapshot_load {
	char *snapshot_path;
	char *mem_file_path;       /* mem_backend.backend_path or the older mem_file_path */
	bool enable_diff_snapshots;
	bool resume_vm;
};

enum vmctl_state { VMCTL_NOT_STARTED, VMCTL_RUNNING, VMCTL_PAUSED, VMCTL_STOPPED };

/* Counters FlushMetrics writes. */
struct vmctl_metrics {
	uint64_t api_requests;
	uint64_t api_errors;
	uint64_t instance_starts;
	uint64_t pauses, resumes;
	uint64_t snapshots_created, snapshots_loaded;
	uint64_t drive_updates;
	uint64_t flushes;
};

struct vmctl {
	char *instance_id;
	struct arcvm_vm *vm;
	bool allow_pvm;
	int console_in_fd, console_out_fd;
	/* Called once the VM exists and runs or is paused (start, snapshot load). */
	void (*on_vm)(void *opaque, struct arcvm_vm *vm);
	void *on_vm_opaque;

	bool have_boot_source;
	struct fc_boot_source boot;
	struct fc_machine_config machine;
	struct fc_drive drives[ARCVM_MAX_DRIVES];
	int ndrives;
	bool have_vsock;
	struct fc_vsock vsock;
	bool entropy;
	struct fc_net nets[ARCVM_MAX_NETS];   /* the guest's eth0, eth1... in this order */
	int nnets;
	bool boot_resources_set;   /* anything but logger/metrics configured: no snapshot load */

	pthread_mutex_t log_lock;
	bool have_logger;
	struct fc_logger logger;
	FILE *log_file;            /* NULL: stderr */
	char *metrics_path;
	int metrics_fd;            /* -1: PUT /metrics not done */
	struct vmctl_metrics counters;
};

/* Defaults: 1 vCPU, 128 MiB (Firecracker's), console on fds 0/1, no devices. */
int vmctl_init(struct vmctl *c, const char *instance_id, struct arcvm_error *err);
/* Stops and frees the VM if any, and everything else. */
void vmctl_free(struct vmctl *c);

enum vmctl_state vmctl_state(const struct vmctl *c);
/* Firecracker's names: "Not started", "Running", "Paused" (and "Stopped"). */
const char *vmctl_state_name(enum vmctl_state s);

/* Pre-boot configuration. Each takes ownership of the strings in its
 * argument on success and on failure (they are freed). */
int vmctl_set_boot_source(struct vmctl *c, struct fc_boot_source *b, struct arcvm_error *err);
int vmctl_set_machine_config(struct vmctl *c, const struct fc_machine_config *m,
			     struct arcvm_error *err);
/* PUT /drives/{id}: adds the drive, or replaces the one with the same id. */
int vmctl_put_drive(struct vmctl *c, struct fc_drive *d, struct arcvm_error *err);
int vmctl_set_vsock(struct vmctl *c, struct fc_vsock *v, struct arcvm_error *err);
int vmctl_set_entropy(struct vmctl *c, struct arcvm_error *err);
/* PUT /network-interfaces/{id}: adds the interface, or replaces the one with
 * the same id (which keeps its place). Refused: more than ARCVM_MAX_NETS, a
 * TAP device or a guest MAC another interface already has. */
int vmctl_put_network(struct vmctl *c, struct fc_net *n, struct arcvm_error *err);

/* Logger and metrics: once each, before or after start. */
int vmctl_set_logger(struct vmctl *c, struct fc_logger *l, struct arcvm_error *err);
int vmctl_set_metrics(struct vmctl *c, char *metrics_path, struct arcvm_error *err);
/* Writes one JSON line of counters to the metrics file. */
int vmctl_flush_metrics(struct vmctl *c, struct arcvm_error *err);

/* Actions. */
int vmctl_start(struct vmctl *c, struct arcvm_error *err);
int vmctl_pause(struct vmctl *c, struct arcvm_error *err);
int vmctl_resume(struct vmctl *c, struct arcvm_error *err);
int vmctl_send_ctrl_alt_del(struct vmctl *c, struct arcvm_error *err);
/* PATCH /drives/{id} after start: points the drive at another file. */
int vmctl_update_drive(struct vmctl *c, const char *drive_id, const char *path,
		       struct arcvm_error *err);
int vmctl_snapshot_create(struct vmctl *c, struct fc_snapshot_create *s, struct arcvm_error *err);
int vmctl_snapshot_load(struct vmctl *c, struct fc_snapshot_load *s, struct arcvm_error *err);

/* When the guest has ended the VM: true, with the reason. Never blocks. */
bool vmctl_poll_exit(struct vmctl *c, enum arcvm_exit_reason *reason);

/* Logs a line to the PUT /logger file, or stderr, when `level` passes. */
void vmctl_log(struct vmctl *c, enum fc_log_level level, const char *origin, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The library's log callback; opaque is the struct vmctl. */
void vmctl_lib_log(void *opaque, enum arcvm_log_level level, const char *msg);

void fc_boot_source_free(struct fc_boot_source *b);
void fc_drive_free(struct fc_drive *d);
void fc_vsock_free(struct fc_vsock *v);
void fc_net_free(struct fc_net *n);
void fc_logger_free(struct fc_logger *l);
void fc_snapshot_create_free(struct fc_snapshot_create *s);
void fc_snapshot_load_free(struct fc_snapshot_load *s);

#endif
