/*
 * snapshot.c - saving a paused VM to a state file and a memory file, and
 * building a new VM from them (docs/snapshot.md).
 *
 * A snapshot stops the I/O thread for its duration, so with the vCPUs parked
 * nothing changes guest memory or device state while they are copied; the
 * vCPUs finished any in-flight PIO/MMIO read when they parked (vcpu.c).
 * A restore rebuilds the machine from the config section, maps guest RAM
 * privately from the memory file (pages load on first touch), loads every
 * component's state and starts the threads parked: the VM is left Paused.
 */
#include "vmm/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libgen.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <zlib.h>

#include "arch/x86/cpu_state.h"
#include "util/err.h"
#include "vmm/vm.h"

#define TAG_MEML SNAP_TAG('M', 'E', 'M', 'L')
#define RUN_PAGES 256u   /* pages per write of a memory file */

static uint64_t bitmap_words(uint64_t npages)
{
	return (npages + 63) / 64;
}

static bool bit_test(const uint64_t *b, uint64_t i)
{
	return (b[i / 64] >> (i % 64)) & 1;
}

/* Atomic: the I/O thread may mark pages in the same bitmap (mem_mark_dirty). */
static void bit_set(uint64_t *b, uint64_t i)
{
	__atomic_fetch_or(&b[i / 64], 1ull << (i % 64), __ATOMIC_RELAXED);
}

static void layer_free(struct snap_layer *l)
{
	free(l->path);
	free(l->bitmap);
	l->path = NULL;
	l->bitmap = NULL;
}

static void layers_clear(struct vm_snap *s)
{
	for (int i = 0; i < s->nlayers; i++)
		layer_free(&s->layers[i]);
	s->nlayers = 0;
}

void vm_snapshot_free(struct arcvm_vm *vm)
{
	struct vm_snap *s = vm->snap;
	if (!s)
		return;
	layers_clear(s);
	snap_strings_free(&s->strings);
	free(s);
	vm->snap = NULL;
}

static int snap_state_get(struct arcvm_vm *vm, struct vm_snap **out, struct arcvm_error *err)
{
	if (!vm->snap) {
		struct vm_snap *s = calloc(1, sizeof(*s));
		if (!s)
			return err_set(err, ARCVM_E_NOMEM, "out of memory for snapshot bookkeeping");
		s->npages = vm->mem.ram_size / SNAP_PAGE;
		vm->snap = s;
	}
	*out = vm->snap;
	return 0;
}

/* Moves KVM's dirty logs (which reading clears) into vm->mem.dirty, which
 * already holds the pages the VMM's devices wrote; they stay there until a
 * snapshot has written those pages. */
static int collect_dirty(struct arcvm_vm *vm, struct arcvm_error *err)
{
	for (int i = 0; i < vm->mem.nregions; i++) {
		const struct mem_region *r = &vm->mem.regions[i];
		uint64_t pages = r->size / SNAP_PAGE, first = mem_file_offset(&vm->mem, i) / SNAP_PAGE;
		uint64_t *log = calloc(bitmap_words(pages) ? bitmap_words(pages) : 1, 8);
		if (!log)
			return err_set(err, ARCVM_E_NOMEM, "out of memory for the dirty log");
		int rc = kvm_get_dirty_log(&vm->vmfd, (uint32_t)i, log, err);
		for (uint64_t w = 0; !rc && w < bitmap_words(pages); w++)
			for (uint64_t b = log[w]; b; b &= b - 1)
				bit_set(vm->mem.dirty, first + w * 64 + (uint64_t)__builtin_ctzll(b));
		free(log);
		if (rc)
			return rc;
	}
	return 0;
}

static bool page_is_zero(const uint8_t *p)
{
	static const uint8_t zero[SNAP_PAGE];
	return memcmp(p, zero, SNAP_PAGE) == 0;
}

static int pwrite_all(int fd, const uint8_t *p, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : ENOSPC;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Writes the pages of RAM a layer holds: those set in `pages`, or with
 * pages == NULL every page that is not all zeros. The rest stay holes. */
static int write_pages(struct arcvm_vm *vm, int fd, const uint64_t *pages)
{
	for (int i = 0; i < vm->mem.nregions; i++) {
		const struct mem_region *r = &vm->mem.regions[i];
		uint64_t n = r->size / SNAP_PAGE, first = mem_file_offset(&vm->mem, i) / SNAP_PAGE;
		uint64_t p = 0;
		while (p < n) {
			bool want = pages ? bit_test(pages, first + p) : !page_is_zero(r->host + p * SNAP_PAGE);
			if (!want) {
				p++;
				continue;
			}
			uint64_t run = 1;
			while (p + run < n && run < RUN_PAGES &&
			       (pages ? bit_test(pages, first + p + run) :
					!page_is_zero(r->host + (p + run) * SNAP_PAGE)))
				run++;
			int e = pwrite_all(fd, r->host + p * SNAP_PAGE, run * SNAP_PAGE,
					   (first + p) * SNAP_PAGE);
			if (e)
				return e;
			p += run;
		}
	}
	return 0;
}

/* The trailer: magic, u32 version 1, u32 0, u64 snapshot id, u64 RAM bytes,
 * u32 CRC-32 of the 32 bytes before it; zeros to SNAP_MEM_TRAILER. */
static void trailer_make(uint8_t *t, uint64_t id, uint64_t ram)
{
	memset(t, 0, SNAP_MEM_TRAILER);
	memcpy(t, SNAP_MEM_MAGIC, 8);
	uint32_t version = 1;
	memcpy(t + 8, &version, 4);
	memcpy(t + 16, &id, 8);
	memcpy(t + 24, &ram, 8);
	uint32_t c = (uint32_t)crc32(crc32(0, Z_NULL, 0), t, 32);
	memcpy(t + 32, &c, 4);
}

/* Writes a layer's memory file under a temporary name (put in tmp), synced;
 * snapshot_locked renames it once the state file is written too. */
static int write_memory(struct arcvm_vm *vm, const char *path, const struct snap_layer *l,
			char *tmp, size_t tmp_len, struct arcvm_error *err)
{
	int fd = snap_tmp_open(path, tmp, tmp_len, err);
	if (fd < 0)
		return fd;
	uint64_t ram = vm->mem.ram_size;
	int e = ftruncate(fd, (off_t)(ram + SNAP_MEM_TRAILER)) < 0 ? errno : 0;
	if (!e)
		e = write_pages(vm, fd, l->bitmap);
	if (!e) {
		uint8_t t[SNAP_MEM_TRAILER];
		trailer_make(t, l->id, ram);
		e = pwrite_all(fd, t, sizeof(t), ram);
	}
	if (e) {
		close(fd);
		unlink(tmp);
		return err_errno(err, ARCVM_E_IO, e, "cannot write snapshot memory %s", tmp);
	}
	return snap_tmp_finish(fd, tmp, err);
}

static void save_layers(const struct vm_snap *s, const struct snap_layer *top,
			struct snap_writer *w)
{
	snap_begin(w, TAG_MEML);
	snap_put_u64(w, s->npages);
	int n = top->bitmap ? s->nlayers + 1 : 1;
	snap_put_u32(w, (uint32_t)n);
	for (int i = 0; i < n; i++) {
		const struct snap_layer *l = top->bitmap && i < s->nlayers ? &s->layers[i] : top;
		snap_put_str(w, l->path);
		snap_put_u64(w, l->id);
		snap_put_u8(w, l->bitmap != NULL);
		if (l->bitmap)
			snap_put_blob(w, l->bitmap, (uint32_t)(bitmap_words(s->npages) * 8));
	}
	snap_end_section(w);
}

/* The state file: config, memory layers, VM-wide state, each vCPU, the
 * UART, each virtio device in slot order. */
static int write_state(struct arcvm_vm *vm, struct vm_snap *s, const struct snap_layer *top,
		       const char *path, char *tmp, size_t tmp_len, struct arcvm_error *err)
{
	struct x86_msr_list msrs;
	int rc = x86_msr_list_get(&vm->kvm, &msrs, err);
	if (rc)
		return rc;
	struct snap_writer w;
	snap_writer_init(&w);
	snap_config_save(&vm->cfg, &w);
	save_layers(s, top, &w);
	rc = x86_vm_save(&vm->vmfd, vm->irqchip, &w, err);
	for (int i = 0; !rc && i < vm->ncpus; i++)
		rc = x86_vcpu_save(&vm->kvm, &vm->vcpus[i].fd, vm->irqchip, &msrs, &w, err);
	if (!rc) {
		uart_save(vm->uart, &w);
		i8042_save(vm->i8042, &w);
		for (int i = 0; i < vm->nvirtio; i++)
			virtio_mmio_save(vm->virtio[i], &w);
		rc = snap_write_tmp(&w, path, tmp, tmp_len, err);
	}
	snap_writer_free(&w);
	x86_msr_list_free(&msrs);
	return rc;
}

static int check_snapshot_call(struct arcvm_vm *vm, enum arcvm_snapshot_type type,
			       const char *state_path, const char *mem_path, struct arcvm_error *err)
{
	if (vm->cfg.shared_size)
		return err_set(err, ARCVM_E_UNSUPPORTED,
			       "a VM with shared memory cannot be snapshotted: the region belongs "
			       "to the host and other VMs, not to this guest");
	if (vm->state != ARCVM_STATE_PAUSED)
		return err_set(err, ARCVM_E_BAD_STATE, "cannot snapshot a VM that is %s (pause it first)",
			       arcvm_state_name(vm->state));
	if (!state_path || !*state_path || !mem_path || !*mem_path)
		return err_set(err, ARCVM_E_INVALID, "a snapshot needs a state path and a memory path");
	if (type != ARCVM_SNAPSHOT_FULL && type != ARCVM_SNAPSHOT_DIFF)
		return err_set(err, ARCVM_E_INVALID, "unknown snapshot type %d", (int)type);
	/* virtio-net keeps no save/restore yet: a snapshot would come back
	 * without its interfaces (and with slirp's connections lost). */
	if (vm->cfg.nnets)
		return err_set(err, ARCVM_E_UNSUPPORTED, "cannot snapshot a VM with network"
			       " interfaces (virtio-net state is not saved yet)");
	if (type == ARCVM_SNAPSHOT_DIFF && !vm->cfg.track_dirty_pages)
		return err_set(err, ARCVM_E_UNSUPPORTED,
			       "a diff snapshot needs track_dirty_pages set before the VM starts");
	if (type == ARCVM_SNAPSHOT_DIFF && (!vm->snap || vm->snap->nlayers == 0))
		return err_set(err, ARCVM_E_BAD_STATE,
			       "a diff snapshot needs an earlier snapshot of this VM to build on");
	if (type == ARCVM_SNAPSHOT_DIFF && vm->snap->nlayers == SNAP_MAX_LAYERS)
		return err_set(err, ARCVM_E_UNSUPPORTED,
			       "%d diff snapshots are stacked already; take a full one",
			       SNAP_MAX_LAYERS - 1);
	return 0;
}

/* After a successful snapshot its memory file is the newest layer. */
static void push_layer(struct arcvm_vm *vm, struct vm_snap *s, struct snap_layer *top)
{
	if (!top->bitmap)
		layers_clear(s);
	s->layers[s->nlayers++] = *top;
	if (vm->mem.dirty)
		memset(vm->mem.dirty, 0, bitmap_words(s->npages) * 8);
	top->path = NULL;
	top->bitmap = NULL;
}

/* An absolute path for a file that may not exist yet: its folder resolved. */
static char *abs_path(const char *path)
{
	char *copy = strdup(path), *dir_real = NULL, *out = NULL;
	if (copy && (dir_real = realpath(dirname(copy), NULL))) {
		strcpy(copy, path);
		if (asprintf(&out, "%s/%s", dir_real, basename(copy)) < 0)
			out = NULL;
	}
	free(dir_real);
	free(copy);
	return out;
}

static uint64_t new_id(void)
{
	uint64_t id = 0;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id) || id == 0)
		id = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&id;
	return id;
}

/* Writes both files under temporary names, then renames the memory file and
 * the state file into place: a failure before the renames leaves no file
 * under either final name; the memory trailer's id catches a state file and
 * a memory file that were not written together. */
static int snapshot_locked(struct arcvm_vm *vm, struct vm_snap *s, enum arcvm_snapshot_type type,
			   const char *state_path, const char *mem_path, struct arcvm_error *err)
{
	char mem_tmp[PATH_MAX + 32] = "", state_tmp[PATH_MAX + 32] = "";
	struct snap_layer top = { .id = new_id() };
	int rc = vm->mem.dirty ? collect_dirty(vm, err) : 0;
	if (!rc && type == ARCVM_SNAPSHOT_DIFF) {
		top.bitmap = malloc(bitmap_words(s->npages) * 8);
		if (!top.bitmap)
			rc = err_set(err, ARCVM_E_NOMEM, "out of memory for the dirty bitmap");
		else
			memcpy(top.bitmap, vm->mem.dirty, bitmap_words(s->npages) * 8);
	}
	if (!rc && !(top.path = abs_path(mem_path)))
		rc = err_errno(err, ARCVM_E_IO, errno, "cannot resolve the folder of %s", mem_path);
	if (!rc)
		rc = write_memory(vm, mem_path, &top, mem_tmp, sizeof(mem_tmp), err);
	if (!rc)
		rc = write_state(vm, s, &top, state_path, state_tmp, sizeof(state_tmp), err);
	if (rc && mem_tmp[0])
		unlink(mem_tmp);
	if (!rc && (rc = snap_tmp_rename(mem_tmp, mem_path, err)))
		unlink(state_tmp);
	if (!rc)
		rc = snap_tmp_rename(state_tmp, state_path, err);
	if (!rc)
		push_layer(vm, s, &top);
	layer_free(&top);
	return rc;
}

int arcvm_vm_snapshot(struct arcvm_vm *vm, enum arcvm_snapshot_type type, const char *state_path,
		      const char *mem_path, struct arcvm_error *err)
{
	int rc = check_snapshot_call(vm, type, state_path, mem_path, err);
	struct vm_snap *s = NULL;
	if (!rc)
		rc = snap_state_get(vm, &s, err);
	if (rc)
		return rc;
	io_loop_stop(vm->io);
	rc = snapshot_locked(vm, s, type, state_path, mem_path, err);
	struct arcvm_error ioerr;
	if (io_loop_start(vm->io, &ioerr) && !rc)
		rc = err_set(err, ioerr.code, "after the snapshot: %s", ioerr.msg);
	return rc;
}

void arcvm_restore_init(struct arcvm_restore *r)
{
	memset(r, 0, sizeof(*r));
	r->console_in_fd = 0;
	r->console_out_fd = 1;
}

/* Reads the MEML section into s->layers; `mem_path` replaces the top
 * layer's path when given. */
static int load_layers(struct snap_reader *r, struct vm_snap *s, const char *mem_path,
		       struct arcvm_error *err)
{
	struct snap_reader m;
	int rc = snap_section(r, TAG_MEML, "memory layers", &m, err);
	if (rc)
		return rc;
	uint64_t npages = snap_get_u64(&m);
	uint32_t n = snap_get_u32(&m);
	if (npages != s->npages || n < 1 || n > SNAP_MAX_LAYERS)
		snap_reject(&m);
	uint64_t bytes = bitmap_words(s->npages) * 8;
	for (uint32_t i = 0; !m.bad && i < n; i++) {
		struct snap_layer *l = &s->layers[s->nlayers++];
		char buf[SNAP_STR_MAX];
		const char *path = snap_get_str(&m, buf);
		l->id = snap_get_u64(&m);
		bool diff = snap_get_bool(&m);
		/* Layer 0 is a full memory file; every later one a diff. */
		if (!path || diff != (i > 0) || bytes > SNAP_MAX_STATE) {
			snap_reject(&m);
			break;
		}
		l->path = i == n - 1 && mem_path ? abs_path(mem_path) : strdup(path);
		if (diff && (l->bitmap = malloc(bytes ? bytes : 8)))
			snap_get_blob(&m, l->bitmap, (uint32_t)bytes);
		if (!l->path || (diff && !l->bitmap))
			return err_set(err, ARCVM_E_NOMEM, "out of memory for the memory layers");
	}
	return snap_done(&m, "memory layers", err);
}

static int check_trailer(int fd, const struct snap_layer *l, uint64_t ram,
			 struct arcvm_error *err)
{
	uint8_t t[SNAP_MEM_TRAILER], want[SNAP_MEM_TRAILER];
	if (pread(fd, t, sizeof(t), (off_t)ram) != (ssize_t)sizeof(t))
		return err_errno(err, ARCVM_E_IO, errno, "cannot read snapshot memory %s", l->path);
	trailer_make(want, l->id, ram);
	if (memcmp(t, SNAP_MEM_MAGIC, 8) != 0)
		return err_set(err, ARCVM_E_FORMAT, "%s is not an arcvm snapshot memory file "
			       "(bad trailer magic)", l->path);
	if (memcmp(t, want, 40) != 0)
		return err_set(err, ARCVM_E_FORMAT,
			       "snapshot memory file %s does not belong to this state file (its "
			       "snapshot id, RAM size or trailer checksum differ): was it replaced by "
			       "another snapshot?", l->path);
	return 0;
}

static int open_layer(const struct snap_layer *l, uint64_t ram_size, struct arcvm_error *err)
{
	int fd = open(l->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return err_set(err, ARCVM_E_NOT_FOUND, "snapshot memory file %s does not exist",
				       l->path);
		return err_errno(err, err_from_errno(e), e, "cannot open snapshot memory %s", l->path);
	}
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		rc = err_set(err, ARCVM_E_FORMAT, "snapshot memory %s is not a regular file", l->path);
	else if ((uint64_t)st.st_size < ram_size + SNAP_MEM_TRAILER)
		rc = err_set(err, ARCVM_E_FORMAT,
			     "snapshot memory file %s is shorter (%lld bytes) than the %llu MiB of RAM "
			     "the state declares plus its trailer", l->path, (long long)st.st_size,
			     (unsigned long long)(ram_size >> 20));
	else
		rc = check_trailer(fd, l, ram_size, err);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/* Copies a diff layer's pages over the RAM mapped from the layers below. */
static int apply_layer(struct arcvm_vm *vm, const struct snap_layer *l, struct arcvm_error *err)
{
	int fd = open_layer(l, vm->mem.ram_size, err);
	if (fd < 0)
		return fd;
	int rc = 0;
	for (int i = 0; !rc && i < vm->mem.nregions; i++) {
		const struct mem_region *r = &vm->mem.regions[i];
		uint64_t n = r->size / SNAP_PAGE, first = mem_file_offset(&vm->mem, i) / SNAP_PAGE;
		for (uint64_t p = 0; !rc && p < n; p++) {
			if (!bit_test(l->bitmap, first + p))
				continue;
			ssize_t got = pread(fd, r->host + p * SNAP_PAGE, SNAP_PAGE,
					    (off_t)((first + p) * SNAP_PAGE));
			if (got != (ssize_t)SNAP_PAGE)
				rc = err_errno(err, ARCVM_E_IO, got < 0 ? errno : EIO,
					       "cannot read snapshot memory %s", l->path);
		}
	}
	close(fd);
	return rc;
}

/* Loads every component's state in the order write_state saved it. */
static int load_components(struct arcvm_vm *vm, struct snap_reader *r, struct arcvm_error *err)
{
	int rc = x86_vm_load(&vm->vmfd, vm->irqchip, r, err);
	for (int i = 0; !rc && i < vm->ncpus; i++)
		rc = x86_vcpu_load(&vm->kvm, &vm->vcpus[i].fd, vm->irqchip, r, err);
	if (!rc)
		rc = uart_load(vm->uart, r, err);
	if (!rc)
		rc = i8042_load(vm->i8042, r, err);
	for (int i = 0; !rc && i < vm->nvirtio; i++)
		rc = virtio_mmio_load(vm->virtio[i], r, err);
	if (!rc && r->off != r->len)
		rc = err_set(err, ARCVM_E_FORMAT, "snapshot state has %zu bytes after its last section",
			     r->len - r->off);
	return rc;
}

/* The machine as the config section describes it, host side from `req`. */
static int restore_vm(const struct arcvm_restore *req, struct snap_reader *r,
		      struct arcvm_vm **out, struct arcvm_error *err)
{
	struct vm_snap *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(err, ARCVM_E_NOMEM, "out of memory for snapshot bookkeeping");
	struct arcvm_config cfg;
	int rc = snap_config_load(r, &cfg, &s->strings, err);
	if (rc) {
		snap_strings_free(&s->strings);
		free(s);
		return rc;
	}
	cfg.console_in_fd = req->console_in_fd;
	cfg.console_out_fd = req->console_out_fd;
	cfg.allow_pvm = req->allow_pvm;
	cfg.log = req->log;
	cfg.log_opaque = req->log_opaque;
	if (req->vsock_uds_path)
		cfg.vsock_uds_path = req->vsock_uds_path;
	struct arcvm_vm *vm;
	if ((rc = vm_alloc(&cfg, &vm, err))) {
		snap_strings_free(&s->strings);
		free(s);
		return rc;
	}
	vm->restoring = true;
	vm->snap = s;
	s->npages = cfg.mem_size / SNAP_PAGE;
	rc = load_layers(r, s, req->mem_path, err);
	int fd = rc ? -1 : open_layer(&s->layers[0], cfg.mem_size, err);
	if (fd < 0 && !rc)
		rc = fd;
	if (!rc)
		rc = vm_build(vm, fd, err);
	if (fd >= 0)
		close(fd);   /* the mapping holds the file */
	for (int i = 1; !rc && i < s->nlayers; i++)
		rc = apply_layer(vm, &s->layers[i], err);
	if (!rc)
		rc = load_components(vm, r, err);
	if (rc) {
		arcvm_vm_destroy(vm);
		return rc;
	}
	*out = vm;
	return 0;
}

int arcvm_vm_restore(const struct arcvm_restore *req, struct arcvm_vm **out,
		     struct arcvm_error *err)
{
	*out = NULL;
	if (!req || !req->state_path)
		return err_set(err, ARCVM_E_INVALID, "restoring needs a state file");
	uint8_t *buf;
	size_t len;
	int rc = snap_read_file(req->state_path, &buf, &len, err);
	if (rc)
		return rc;
	struct snap_reader r;
	struct arcvm_vm *vm = NULL;
	rc = snap_open(buf, len, &r, err);
	if (!rc)
		rc = restore_vm(req, &r, &vm, err);
	free(buf);
	if (!rc)
		rc = vm_start_paused(vm, err);
	if (rc) {
		arcvm_vm_destroy(vm);
		return rc;
	}
	*out = vm;
	return 0;
}
