/* vmctl.c - the one VM of an `arcvm api` process (see vmctl.h). */
#include "api/vmctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util/err.h"

#define DEFAULT_BOOT_ARGS "console=ttyS0 reboot=k panic=-1 pci=off"
#define VIRTIO_BLK_SERIAL_MAX 20   /* the guest sees a drive_id this short as the serial */

void fc_boot_source_free(struct fc_boot_source *b)
{
	free(b->kernel_image_path);
	free(b->boot_args);
	free(b->initrd_path);
	memset(b, 0, sizeof(*b));
}

void fc_drive_free(struct fc_drive *d)
{
	free(d->drive_id);
	free(d->path_on_host);
	memset(d, 0, sizeof(*d));
}

void fc_vsock_free(struct fc_vsock *v)
{
	free(v->uds_path);
	memset(v, 0, sizeof(*v));
}

void fc_net_free(struct fc_net *n)
{
	free(n->iface_id);
	free(n->host_dev_name);
	memset(n, 0, sizeof(*n));
}

void fc_logger_free(struct fc_logger *l)
{
	free(l->log_path);
	memset(l, 0, sizeof(*l));
}

void fc_snapshot_create_free(struct fc_snapshot_create *s)
{
	free(s->snapshot_path);
	free(s->mem_file_path);
	memset(s, 0, sizeof(*s));
}

void fc_snapshot_load_free(struct fc_snapshot_load *s)
{
	free(s->snapshot_path);
	free(s->mem_file_path);
	memset(s, 0, sizeof(*s));
}

int vmctl_init(struct vmctl *c, const char *instance_id, struct arcvm_error *err)
{
	memset(c, 0, sizeof(*c));
	c->instance_id = strdup(instance_id ? instance_id : "anonymous-instance");
	if (!c->instance_id)
		return err_set(err, ARCVM_E_NOMEM, "out of memory");
	c->machine = (struct fc_machine_config){ .vcpu_count = 1, .mem_size_mib = 128 };
	c->console_in_fd = 0;
	c->console_out_fd = 1;
	c->metrics_fd = -1;
	c->logger.level = FC_LOG_INFO;
	pthread_mutex_init(&c->log_lock, NULL);
	return 0;
}

void vmctl_free(struct vmctl *c)
{
	arcvm_vm_destroy(c->vm);
	c->vm = NULL;
	fc_boot_source_free(&c->boot);
	for (int i = 0; i < c->ndrives; i++)
		fc_drive_free(&c->drives[i]);
	fc_vsock_free(&c->vsock);
	for (int i = 0; i < c->nnets; i++)
		fc_net_free(&c->nets[i]);
	fc_logger_free(&c->logger);
	if (c->log_file)
		fclose(c->log_file);
	if (c->metrics_fd >= 0)
		close(c->metrics_fd);
	free(c->metrics_path);
	free(c->instance_id);
	pthread_mutex_destroy(&c->log_lock);
	memset(c, 0, sizeof(*c));
	c->metrics_fd = -1;
}

enum vmctl_state vmctl_state(const struct vmctl *c)
{
	if (!c->vm)
		return VMCTL_NOT_STARTED;
	switch (arcvm_vm_state(c->vm)) {
	case ARCVM_STATE_CREATED: return VMCTL_NOT_STARTED;
	case ARCVM_STATE_RUNNING: return VMCTL_RUNNING;
	case ARCVM_STATE_PAUSED: return VMCTL_PAUSED;
	case ARCVM_STATE_STOPPED: return VMCTL_STOPPED;
	}
	return VMCTL_STOPPED;
}

const char *vmctl_state_name(enum vmctl_state s)
{
	switch (s) {
	case VMCTL_NOT_STARTED: return "Not started";
	case VMCTL_RUNNING: return "Running";
	case VMCTL_PAUSED: return "Paused";
	case VMCTL_STOPPED: return "Stopped";
	}
	return "?";
}

/* Firecracker splits requests into those allowed before InstanceStart and
 * those allowed after; these two give the refusal for each. */
static int pre_boot_only(const struct vmctl *c, const char *what, struct arcvm_error *err)
{
	if (vmctl_state(c) == VMCTL_NOT_STARTED)
		return 0;
	return err_set(err, ARCVM_E_BAD_STATE, "%s is only allowed before the microVM starts"
		       " (it is %s)", what, vmctl_state_name(vmctl_state(c)));
}

static int post_boot_only(const struct vmctl *c, const char *what, struct arcvm_error *err)
{
	enum vmctl_state s = vmctl_state(c);
	if (s == VMCTL_RUNNING || s == VMCTL_PAUSED)
		return 0;
	return err_set(err, ARCVM_E_BAD_STATE, "%s is only allowed after the microVM started"
		       " (it is %s)", what, vmctl_state_name(s));
}

int vmctl_set_boot_source(struct vmctl *c, struct fc_boot_source *b, struct arcvm_error *err)
{
	int rc = pre_boot_only(c, "setting the boot source", err);
	if (!rc && access(b->kernel_image_path, R_OK) != 0)
		rc = err_errno(err, err_from_errno(errno), errno, "cannot read kernel image %s",
			       b->kernel_image_path);
	if (!rc && b->initrd_path && access(b->initrd_path, R_OK) != 0)
		rc = err_errno(err, err_from_errno(errno), errno, "cannot read initrd %s",
			       b->initrd_path);
	if (rc) {
		fc_boot_source_free(b);
		return rc;
	}
	fc_boot_source_free(&c->boot);
	c->boot = *b;
	memset(b, 0, sizeof(*b));
	c->have_boot_source = true;
	c->boot_resources_set = true;
	return 0;
}

int vmctl_set_machine_config(struct vmctl *c, const struct fc_machine_config *m,
			     struct arcvm_error *err)
{
	int rc = pre_boot_only(c, "changing the machine configuration", err);
	if (rc)
		return rc;
	c->machine = *m;
	c->boot_resources_set = true;
	return 0;
}

static int find_drive(const struct vmctl *c, const char *id)
{
	for (int i = 0; i < c->ndrives; i++)
		if (strcmp(c->drives[i].drive_id, id) == 0)
			return i;
	return -1;
}

int vmctl_put_drive(struct vmctl *c, struct fc_drive *d, struct arcvm_error *err)
{
	int rc = pre_boot_only(c, "adding or replacing a drive", err);
	int at = find_drive(c, d->drive_id);
	if (!rc && at < 0 && c->ndrives == ARCVM_MAX_DRIVES)
		rc = err_set(err, ARCVM_E_INVALID, "too many drives (at most %d)", ARCVM_MAX_DRIVES);
	for (int i = 0; !rc && d->is_root_device && i < c->ndrives; i++)
		if (i != at && c->drives[i].is_root_device)
			rc = err_set(err, ARCVM_E_INVALID, "drive '%s' is already the root device;"
				     " only one drive can be", c->drives[i].drive_id);
	if (!rc && access(d->path_on_host, d->is_read_only ? R_OK : R_OK | W_OK) != 0)
		rc = err_errno(err, err_from_errno(errno), errno, "cannot %s drive file %s",
			       d->is_read_only ? "read" : "read and write", d->path_on_host);
	if (rc) {
		fc_drive_free(d);
		return rc;
	}
	if (at < 0) {
		at = c->ndrives++;
	} else {
		fc_drive_free(&c->drives[at]);
	}
	c->drives[at] = *d;
	memset(d, 0, sizeof(*d));
	c->boot_resources_set = true;
	return 0;
}

int vmctl_set_vsock(struct vmctl *c, struct fc_vsock *v, struct arcvm_error *err)
{
	int rc = pre_boot_only(c, "configuring vsock", err);
	if (rc) {
		fc_vsock_free(v);
		return rc;
	}
	fc_vsock_free(&c->vsock);
	c->vsock = *v;
	memset(v, 0, sizeof(*v));
	c->have_vsock = true;
	c->boot_resources_set = true;
	return 0;
}

int vmctl_set_entropy(struct vmctl *c, struct arcvm_error *err)
{
	int rc = pre_boot_only(c, "adding the entropy device", err);
	if (!rc)
		c->entropy = c->boot_resources_set = true;
	return rc;
}

static int find_net(const struct vmctl *c, const char *id)
{
	for (int i = 0; i < c->nnets; i++)
		if (strcmp(c->nets[i].iface_id, id) == 0)
			return i;
	return -1;
}

/* Another interface (not the one at `at`) already uses n's TAP or MAC. As in
 * Firecracker, two interfaces cannot share either; user-mode NAT
 * interfaces are independent of each other and may be several. */
static int net_clash(const struct vmctl *c, const struct fc_net *n, int at,
		     struct arcvm_error *err)
{
	for (int i = 0; i < c->nnets; i++) {
		const struct fc_net *o = &c->nets[i];
		if (i == at)
			continue;
		if (strcmp(n->host_dev_name, FC_NET_USER) != 0 &&
		    strcmp(o->host_dev_name, n->host_dev_name) == 0)
			return err_set(err, ARCVM_E_INVALID, "network interface '%s' already uses"
				       " host device %s", o->iface_id, n->host_dev_name);
		if (n->has_mac && o->has_mac && memcmp(n->guest_mac, o->guest_mac, 6) == 0)
			return err_set(err, ARCVM_E_INVALID, "network interface '%s' already has"
				       " that guest_mac", o->iface_id);
	}
	return 0;
}

int vmctl_put_network(struct vmctl *c, struct fc_net *n, struct arcvm_error *err)
{
	int rc = pre_boot_only(c, "adding or replacing a network interface", err);
	int at = find_net(c, n->iface_id);
	if (!rc && at < 0 && c->nnets == ARCVM_MAX_NETS)
		rc = err_set(err, ARCVM_E_INVALID, "too many network interfaces (at most %d)",
			     ARCVM_MAX_NETS);
	if (!rc)
		rc = net_clash(c, n, at, err);
	if (rc) {
		fc_net_free(n);
		return rc;
	}
	if (at < 0)
		at = c->nnets++;
	else
		fc_net_free(&c->nets[at]);
	c->nets[at] = *n;
	memset(n, 0, sizeof(*n));
	c->boot_resources_set = true;
	return 0;
}

static const char *level_name(enum fc_log_level l)
{
	static const char *const names[] = { "OFF", "ERROR", "WARN", "INFO", "DEBUG", "TRACE" };
	return names[l];
}

void vmctl_log(struct vmctl *c, enum fc_log_level level, const char *origin, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct timespec ts;
	struct tm tm;
	char when[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	pthread_mutex_lock(&c->log_lock);
	if (level <= c->logger.level && c->logger.level != FC_LOG_OFF) {
		FILE *f = c->log_file ? c->log_file : stderr;
		fprintf(f, "%s.%09ld [%s%s%s%s%s] %s\n", when, ts.tv_nsec, c->instance_id,
			c->logger.show_level ? ":" : "", c->logger.show_level ? level_name(level) : "",
			c->logger.show_log_origin ? ":" : "", c->logger.show_log_origin ? origin : "",
			msg);
		fflush(f);
	}
	pthread_mutex_unlock(&c->log_lock);
}

void vmctl_lib_log(void *opaque, enum arcvm_log_level level, const char *msg)
{
	static const enum fc_log_level map[] = { FC_LOG_ERROR, FC_LOG_WARN, FC_LOG_INFO,
						 FC_LOG_DEBUG };
	vmctl_log(opaque, map[level], "libarcvm", "%s", msg);
}

int vmctl_set_logger(struct vmctl *c, struct fc_logger *l, struct arcvm_error *err)
{
	FILE *f = NULL;
	int rc = 0;
	if (c->have_logger)
		rc = err_set(err, ARCVM_E_BAD_STATE, "the logger is already configured");
	if (!rc && l->log_path) {
		/* Append, as Firecracker does; a named pipe must not block us. */
		int fd = open(l->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK,
			      0644);
		f = fd >= 0 ? fdopen(fd, "a") : NULL;
		if (!f) {
			rc = err_errno(err, err_from_errno(errno), errno, "cannot open log file %s",
				       l->log_path);
			if (fd >= 0)
				close(fd);
		}
	}
	if (rc) {
		fc_logger_free(l);
		return rc;
	}
	pthread_mutex_lock(&c->log_lock);
	c->logger = *l;
	c->log_file = f;
	pthread_mutex_unlock(&c->log_lock);
	memset(l, 0, sizeof(*l));
	c->have_logger = true;
	return 0;
}

int vmctl_set_metrics(struct vmctl *c, char *metrics_path, struct arcvm_error *err)
{
	int rc = 0;
	if (c->metrics_path)
		rc = err_set(err, ARCVM_E_BAD_STATE, "metrics are already configured");
	int fd = -1;
	if (!rc) {
		fd = open(metrics_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
		if (fd < 0)
			rc = err_errno(err, err_from_errno(errno), errno,
				       "cannot open metrics file %s", metrics_path);
	}
	if (rc) {
		free(metrics_path);
		return rc;
	}
	c->metrics_path = metrics_path;
	c->metrics_fd = fd;
	return 0;
}

int vmctl_flush_metrics(struct vmctl *c, struct arcvm_error *err)
{
	if (c->metrics_fd < 0)
		return err_set(err, ARCVM_E_BAD_STATE, "metrics are not configured (PUT /metrics"
			       " first)");
	c->counters.flushes++;
	const struct vmctl_metrics *m = &c->counters;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	char line[1024];
	int n = snprintf(line, sizeof(line),
		"{\"utc_time_ms\":%llu,\"state\":\"%s\","
		"\"api_server\":{\"requests\":%llu,\"errors\":%llu},"
		"\"vmm\":{\"instance_starts\":%llu,\"pauses\":%llu,\"resumes\":%llu,"
		"\"snapshots_created\":%llu,\"snapshots_loaded\":%llu,\"metrics_flushes\":%llu},"
		"\"block\":{\"drives\":%d,\"drive_updates\":%llu}}\n",
		(unsigned long long)tv.tv_sec * 1000ull + (unsigned long long)tv.tv_usec / 1000,
		vmctl_state_name(vmctl_state(c)), (unsigned long long)m->api_requests,
		(unsigned long long)m->api_errors, (unsigned long long)m->instance_starts,
		(unsigned long long)m->pauses, (unsigned long long)m->resumes,
		(unsigned long long)m->snapshots_created, (unsigned long long)m->snapshots_loaded,
		(unsigned long long)m->flushes, c->ndrives, (unsigned long long)m->drive_updates);
	if (write(c->metrics_fd, line, (size_t)n) != n)
		return err_errno(err, ARCVM_E_IO, errno, "cannot write metrics to %s",
				 c->metrics_path);
	return 0;
}

/* The kernel command line: the boot args, the modules flag arcvm's
 * initramfs needs for virtio devices, and Firecracker's root= for the root
 * drive (drive i is /dev/vd('a' + i)). */
static char *build_cmdline(const struct vmctl *c)
{
	char root[64] = "";
	for (int i = 0; i < c->ndrives; i++)
		if (c->drives[i].is_root_device)
			snprintf(root, sizeof(root), " root=/dev/vd%c %s", 'a' + i,
				 c->drives[i].is_read_only ? "ro" : "rw");
	bool virtio = c->ndrives || c->have_vsock || c->entropy || c->nnets;
	char *s;
	if (asprintf(&s, "%s%s%s", c->boot.boot_args ? c->boot.boot_args : DEFAULT_BOOT_ARGS,
		     virtio ? " arcvm.modules=1" : "", root) < 0)
		return NULL;
	return s;
}

static void fill_config(const struct vmctl *c, struct arcvm_config *cfg)
{
	arcvm_config_init(cfg);
	cfg->cpus = c->machine.vcpu_count;
	cfg->mem_size = (uint64_t)c->machine.mem_size_mib << 20;
	cfg->kernel_path = c->boot.kernel_image_path;
	cfg->initrd_path = c->boot.initrd_path;
	cfg->console_in_fd = c->console_in_fd;
	cfg->console_out_fd = c->console_out_fd;
	cfg->allow_pvm = c->allow_pvm;
	cfg->rng = c->entropy;
	cfg->track_dirty_pages = c->machine.track_dirty_pages;
	if (c->have_vsock) {
		cfg->vsock_uds_path = c->vsock.uds_path;
		cfg->vsock_cid = c->vsock.guest_cid;
	}
	for (int i = 0; i < c->ndrives; i++) {
		const struct fc_drive *d = &c->drives[i];
		cfg->drives[i] = (struct arcvm_drive){
			.path = d->path_on_host, .read_only = d->is_read_only,
			.root = d->is_root_device, .cache = d->cache,
			.id = strlen(d->drive_id) <= VIRTIO_BLK_SERIAL_MAX ? d->drive_id : NULL,
		};
	}
	cfg->ndrives = c->ndrives;
	for (int i = 0; i < c->nnets; i++) {
		const struct fc_net *n = &c->nets[i];
		struct arcvm_net *an = &cfg->nets[i];
		bool user = strcmp(n->host_dev_name, FC_NET_USER) == 0;
		an->mode = user ? ARCVM_NET_USER : ARCVM_NET_TAP;
		an->tap_name = user ? NULL : n->host_dev_name;
		if (n->has_mac)
			memcpy(an->mac, n->guest_mac, sizeof(an->mac));
	}
	cfg->nnets = c->nnets;
	cfg->log = vmctl_lib_log;
	cfg->log_opaque = (void *)c;
}

int vmctl_start(struct vmctl *c, struct arcvm_error *err)
{
	int rc = pre_boot_only(c, "InstanceStart", err);
	if (rc)
		return rc;
	if (!c->have_boot_source)
		return err_set(err, ARCVM_E_INVALID, "cannot start the microVM without a boot"
			       " source (PUT /boot-source first)");
	struct arcvm_config cfg;
	fill_config(c, &cfg);
	char *cmdline = build_cmdline(c);
	if (!cmdline)
		return err_set(err, ARCVM_E_NOMEM, "out of memory");
	cfg.cmdline = cmdline;
	rc = arcvm_vm_create(&cfg, &c->vm, err);
	free(cmdline);
	if (!rc)
		rc = arcvm_vm_boot(c->vm, err);
	if (rc) {
		arcvm_vm_destroy(c->vm);
		c->vm = NULL;
		return rc;
	}
	c->counters.instance_starts++;
	if (c->on_vm)
		c->on_vm(c->on_vm_opaque, c->vm);
	vmctl_log(c, FC_LOG_INFO, "vmctl", "microVM started: %d vCPU(s), %u MiB, %d drive(s),"
		  " %d network interface(s)", c->machine.vcpu_count, c->machine.mem_size_mib,
		  c->ndrives, c->nnets);
	return 0;
}

int vmctl_pause(struct vmctl *c, struct arcvm_error *err)
{
	int rc = post_boot_only(c, "pausing", err);
	if (rc || vmctl_state(c) == VMCTL_PAUSED)
		return rc;   /* pausing a paused microVM changes nothing, as in Firecracker */
	rc = arcvm_vm_pause(c->vm, err);
	if (!rc)
		c->counters.pauses++;
	return rc;
}

int vmctl_resume(struct vmctl *c, struct arcvm_error *err)
{
	int rc = post_boot_only(c, "resuming", err);
	if (rc || vmctl_state(c) == VMCTL_RUNNING)
		return rc;
	rc = arcvm_vm_resume(c->vm, err);
	if (!rc)
		c->counters.resumes++;
	return rc;
}

int vmctl_send_ctrl_alt_del(struct vmctl *c, struct arcvm_error *err)
{
	int rc = post_boot_only(c, "SendCtrlAltDel", err);
	if (rc)
		return rc;
	return arcvm_vm_send_ctrl_alt_del(c->vm, err);
}

int vmctl_update_drive(struct vmctl *c, const char *drive_id, const char *path,
		       struct arcvm_error *err)
{
	int rc = post_boot_only(c, "updating a drive", err);
	if (rc)
		return rc;
	int i = find_drive(c, drive_id);
	if (i < 0)
		return err_set(err, ARCVM_E_NOT_FOUND, "no drive '%.64s'", drive_id);
	char *copy = strdup(path);
	if (!copy)
		return err_set(err, ARCVM_E_NOMEM, "out of memory");
	rc = arcvm_vm_drive_replace(c->vm, i, path, err);
	if (rc) {
		free(copy);
		return rc;
	}
	free(c->drives[i].path_on_host);
	c->drives[i].path_on_host = copy;
	c->counters.drive_updates++;
	vmctl_log(c, FC_LOG_INFO, "vmctl", "drive %s now backed by %s", drive_id, path);
	return 0;
}

static int lib_snapshot(struct arcvm_vm *vm, const struct fc_snapshot_create *s,
			struct arcvm_error *err)
{
	return arcvm_vm_snapshot(vm, s->type, s->snapshot_path, s->mem_file_path, err);
}

/* The restored VM keeps the drives, vsock and console of the snapshot; only
 * the host side (console fds, logging) comes from this process. */
static int lib_restore(struct vmctl *c, const struct fc_snapshot_load *s, struct arcvm_error *err)
{
	struct arcvm_restore r;
	arcvm_restore_init(&r);
	r.state_path = s->snapshot_path;
	r.mem_path = s->mem_file_path;
	r.console_in_fd = c->console_in_fd;
	r.console_out_fd = c->console_out_fd;
	r.allow_pvm = c->allow_pvm;
	r.log = vmctl_lib_log;
	r.log_opaque = c;
	return arcvm_vm_restore(&r, &c->vm, err);
}

int vmctl_snapshot_create(struct vmctl *c, struct fc_snapshot_create *s, struct arcvm_error *err)
{
	int rc = post_boot_only(c, "creating a snapshot", err);
	if (!rc && vmctl_state(c) != VMCTL_PAUSED)
		rc = err_set(err, ARCVM_E_BAD_STATE, "creating a snapshot needs a paused microVM"
			     " (PATCH /vm {\"state\": \"Paused\"} first)");
	if (!rc && s->type == ARCVM_SNAPSHOT_DIFF && !c->machine.track_dirty_pages)
		rc = err_set(err, ARCVM_E_INVALID, "a Diff snapshot needs track_dirty_pages in the"
			     " machine config (or enable_diff_snapshots when loading)");
	if (!rc)
		rc = lib_snapshot(c->vm, s, err);
	if (!rc) {
		c->counters.snapshots_created++;
		vmctl_log(c, FC_LOG_INFO, "vmctl", "snapshot written to %s and %s",
			  s->snapshot_path, s->mem_file_path);
	}
	fc_snapshot_create_free(s);
	return rc;
}

/* After a load, the controller's view of the configuration is the
 * snapshot's, so GET /machine-config, GET /vm/config and PATCH /drives see
 * the VM as it is. A drive the snapshot names without an id (its id was too
 * long to be a serial) is called "drive<N>". */
static int adopt_restored_config(struct vmctl *c, struct arcvm_error *err)
{
	const struct arcvm_config *cfg = arcvm_vm_config(c->vm);
	c->machine.vcpu_count = cfg->cpus;
	c->machine.mem_size_mib = (uint32_t)(cfg->mem_size >> 20);
	c->machine.track_dirty_pages = cfg->track_dirty_pages;
	c->entropy = cfg->rng;
	for (int i = 0; i < cfg->ndrives && i < ARCVM_MAX_DRIVES; i++) {
		const struct arcvm_drive *d = &cfg->drives[i];
		struct fc_drive *f = &c->drives[c->ndrives];
		*f = (struct fc_drive){ .is_root_device = d->root, .is_read_only = d->read_only,
					.cache = d->cache, .path_on_host = strdup(d->path) };
		if (d->id && d->id[0])
			f->drive_id = strdup(d->id);
		else if (asprintf(&f->drive_id, "drive%d", i) < 0)
			f->drive_id = NULL;
		c->ndrives++;
		if (!f->drive_id || !f->path_on_host)
			return err_set(err, ARCVM_E_NOMEM, "out of memory");
	}
	if (cfg->vsock_uds_path) {
		c->vsock.guest_cid = cfg->vsock_cid;
		c->vsock.uds_path = strdup(cfg->vsock_uds_path);
		c->have_vsock = c->vsock.uds_path != NULL;
	}
	return 0;
}

int vmctl_snapshot_load(struct vmctl *c, struct fc_snapshot_load *s, struct arcvm_error *err)
{
	int rc = pre_boot_only(c, "loading a snapshot", err);
	if (!rc && c->boot_resources_set)
		rc = err_set(err, ARCVM_E_BAD_STATE, "loading a snapshot is only allowed before"
			     " any boot resource (boot source, machine config, drives, vsock,"
			     " entropy) is configured");
	if (!rc)
		rc = lib_restore(c, s, err);
	if (!rc)
		rc = adopt_restored_config(c, err);
	if (!rc) {
		c->counters.snapshots_loaded++;
		if (c->on_vm)
			c->on_vm(c->on_vm_opaque, c->vm);
		vmctl_log(c, FC_LOG_INFO, "vmctl", "snapshot loaded from %s", s->snapshot_path);
		if (s->resume_vm)
			rc = vmctl_resume(c, err);
	}
	fc_snapshot_load_free(s);
	return rc;
}

bool vmctl_poll_exit(struct vmctl *c, enum arcvm_exit_reason *reason)
{
	/* A zero timeout only looks: ARCVM_E_BUSY while the guest runs. */
	return vmctl_state(c) != VMCTL_NOT_STARTED && arcvm_vm_wait(c->vm, 0, reason, NULL) == 0;
}
