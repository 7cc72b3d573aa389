/*
 * shared.c - zero-copy shared memory (cfg.shared_fd/shared_size): the
 * memory itself (arcvm_alloc_shared), where it goes in the guest's physical
 * address space, and how the guest learns of it. The mapping is an ordinary
 * arcvm_map_region region; this file only picks its place and announces it.
 *
 * The VMM never reads or writes the region's bytes: whatever the guest (or
 * another VM sharing it) leaves there is data for the guest and the host
 * program, never input to arcvm. See docs/shared-memory.md.
 *
 * Thread: the controlling thread, while the VM is being created.
 */
#include "vmm/shared.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "util/err.h"
#include "vmm/vm.h"

#define SHM_PAGE 4096ull

static int check_size(uint64_t size, struct arcvm_error *err)
{
	if (size == 0)
		return err_set(err, ARCVM_E_INVALID, "shared memory size must be greater than 0");
	if (size & (SHM_PAGE - 1))
		return err_set(err, ARCVM_E_INVALID,
			       "shared memory size %llu is not a multiple of 4 KiB",
			       (unsigned long long)size);
	if (size > (uint64_t)INT64_MAX)
		return err_set(err, ARCVM_E_INVALID, "shared memory size %llu is too large",
			       (unsigned long long)size);
	return 0;
}

/* Gives fd at least `size` bytes; a longer file is left alone, since
 * another process may be using its tail. */
static int ensure_size(int fd, uint64_t size, const char *what, struct arcvm_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return err_errno(err, ARCVM_E_IO, errno, "cannot stat %s", what);
	if (!S_ISREG(st.st_mode))
		return err_set(err, ARCVM_E_INVALID, "%s is not a regular file", what);
	if ((uint64_t)st.st_size >= size)
		return 0;
	if (ftruncate(fd, (off_t)size) < 0) {
		int e = errno;
		return err_errno(err, e == EFBIG ? ARCVM_E_INVALID : err_from_errno(e), e,
				 "cannot size %s to %llu bytes", what, (unsigned long long)size);
	}
	return 0;
}

int arcvm_alloc_shared(uint64_t size, const char *path, int *out, struct arcvm_error *err)
{
	*out = -1;
	int rc = check_size(size, err);
	if (rc)
		return rc;
	if (path && !*path)
		return err_set(err, ARCVM_E_INVALID, "shared memory path is empty");
	int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)
		      : memfd_create("arcvm-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		int e = errno;
		if (!path)
			return err_errno(err, err_from_errno(e), e, "cannot create a memfd");
		if (e == ENOENT)
			return err_set(err, ARCVM_E_NOT_FOUND,
				       "shared memory path %s: its folder does not exist", path);
		if (e == EISDIR)
			return err_set(err, ARCVM_E_INVALID,
				       "shared memory path %s is a folder, not a file", path);
		return err_errno(err, err_from_errno(e), e, "cannot open shared memory file %s",
				 path);
	}
	char what[256];
	snprintf(what, sizeof(what), "shared memory file %s", path ? path : "(memfd)");
	if ((rc = ensure_size(fd, size, what, err))) {
		close(fd);
		return rc;
	}
	/* Whoever else gets the memfd cannot shrink it under the guest (whose
	 * next access to a missing page would end the VM with an error). */
	if (!path && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
		rc = err_errno(err, ARCVM_E_IO, errno, "cannot seal the shared memfd");
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

uint64_t shared_place(uint64_t ram_end)
{
	uint64_t base = ram_end > MEM_HOLE_END ? ram_end : MEM_HOLE_END;
	return (base + X86_SHM_ALIGN - 1) & ~(X86_SHM_ALIGN - 1);
}

int vm_setup_shared(struct arcvm_vm *vm, struct arcvm_error *err)
{
	uint64_t size = vm->cfg.shared_size;
	if (size == 0)
		return 0;
	int rc = check_size(size, err);
	if (rc)
		return rc;
	uint64_t gpa = shared_place(mem_ram_end(&vm->mem));
	struct arcvm_region r = { .gpa = gpa, .size = size, .fd = vm->cfg.shared_fd };
	if ((rc = arcvm_map_region(vm, &r, err))) {
		char inner[ARCVM_ERROR_MAX];
		snprintf(inner, sizeof(inner), "%s", err ? err->msg : "");
		return err_set(err, rc, "shared memory: %s", inner);
	}
	vm->shared_gpa = gpa;
	vm->mem.reserved_gpa = gpa;
	vm->mem.reserved_size = size;
	/* arcvm keeps its own mapping; the descriptor is the caller's. */
	vm->cfg.shared_fd = -1;
	return 0;
}

int vm_shared_cmdline(const struct arcvm_vm *vm, char *buf, size_t len)
{
	buf[0] = '\0';
	if (!vm->cfg.shared_size)
		return 0;
	return snprintf(buf, len, " arcvm.shm=0x%llx@0x%llx",
			(unsigned long long)vm->cfg.shared_size, (unsigned long long)vm->shared_gpa);
}

int arcvm_shared_region(const struct arcvm_vm *vm, uint64_t *gpa, uint64_t *size,
			struct arcvm_error *err)
{
	if (!vm->cfg.shared_size)
		return err_set(err, ARCVM_E_NOT_FOUND, "this VM has no shared memory");
	*gpa = vm->shared_gpa;
	*size = vm->cfg.shared_size;
	return 0;
}
