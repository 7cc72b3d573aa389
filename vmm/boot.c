/*
 * boot.c - puts the guest image into memory and gives each vCPU its first
 * state, through the architecture hooks in arch/x86/x86.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "arch/x86/x86.h"
#include "util/err.h"
#include "vmm/shared.h"
#include "vmm/vm.h"

#define DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=-1"

struct mapped_file {
	uint8_t *data;
	size_t len;
};

/* Maps a whole file read-only; `what` names it in errors ("kernel"). */
static int map_file(const char *path, const char *what, struct mapped_file *f,
		    struct arcvm_error *err)
{
	f->data = NULL;
	f->len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return err_set(err, ARCVM_E_NOT_FOUND, "%s file %s does not exist", what, path);
		return err_errno(err, err_from_errno(e), e, "cannot open %s %s", what, path);
	}
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0) {
		rc = err_errno(err, ARCVM_E_IO, errno, "cannot stat %s %s", what, path);
	} else if (!S_ISREG(st.st_mode)) {
		rc = err_set(err, ARCVM_E_INVALID, "%s %s is not a regular file", what, path);
	} else if (st.st_size == 0) {
		rc = err_set(err, ARCVM_E_FORMAT, "%s %s is empty", what, path);
	} else {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			rc = err_errno(err, ARCVM_E_IO, errno, "cannot read %s %s", what, path);
		else
			*f = (struct mapped_file){ .data = p, .len = (size_t)st.st_size };
	}
	close(fd);
	return rc;
}

static void unmap_file(struct mapped_file *f)
{
	if (f->data)
		munmap(f->data, f->len);
}

/* MP table and ACPI: the CPUs, the interrupt controllers and the devices. */
static int write_platform_tables(struct arcvm_vm *vm, struct arcvm_error *err)
{
	struct x86_mmio_dev virtio[X86_VIRTIO_MAX];
	int n = vm_virtio_acpi(vm, virtio);
	int rc = x86_mptable_write(&vm->mem, vm->cfg.cpus, err);
	return rc ? rc : x86_acpi_write(&vm->mem, vm->cfg.cpus, virtio, n, err);
}

static int load_linux(struct arcvm_vm *vm, struct arcvm_error *err)
{
	struct mapped_file kernel = { 0 }, initrd = { 0 };
	int rc = map_file(vm->cfg.kernel_path, "kernel", &kernel, err);
	if (!rc && vm->cfg.initrd_path)
		rc = map_file(vm->cfg.initrd_path, "initrd", &initrd, err);
	if (rc)
		goto out;
	char root[64], shm[64];
	vm_root_cmdline(vm, root, sizeof(root));
	vm_shared_cmdline(vm, shm, sizeof(shm));
	if (asprintf(&vm->cmdline, "%s%s%s", vm->cfg.cmdline ? vm->cfg.cmdline : DEFAULT_CMDLINE,
		     root, shm) < 0) {
		vm->cmdline = NULL;
		rc = err_set(err, ARCVM_E_NOMEM, "out of memory for the command line");
		goto out;
	}
	struct x86_linux_entry entry;
	rc = x86_load_linux(&vm->mem, kernel.data, kernel.len, initrd.data, initrd.len, vm->cmdline,
			    &entry, err);
	if (rc) {
		/* Name the file: the loader only knows bytes. */
		char inner[ARCVM_ERROR_MAX];
		snprintf(inner, sizeof(inner), "%s", err ? err->msg : "");
		err_set(err, rc, "%s: %s", vm->cfg.kernel_path, inner);
		goto out;
	}
	vm->entry_rip = entry.rip;
	vm->entry_rsi = entry.boot_params;
	rc = write_platform_tables(vm, err);
out:
	unmap_file(&initrd);
	unmap_file(&kernel);
	return rc;
}

static int load_raw(struct arcvm_vm *vm, struct arcvm_error *err)
{
	if (mem_write(&vm->mem, vm->cfg.raw_load_addr, vm->cfg.raw_image, vm->cfg.raw_size))
		return err_set(err, ARCVM_E_INVALID,
			       "raw image of %zu bytes at 0x%llx does not fit in guest memory",
			       vm->cfg.raw_size, (unsigned long long)vm->cfg.raw_load_addr);
	vm->entry_rip = vm->cfg.raw_entry ? vm->cfg.raw_entry : vm->cfg.raw_load_addr;
	if (vm->cfg.boot == ARCVM_BOOT_RAW16 && vm->entry_rip > 0xFFFFF)
		return err_set(err, ARCVM_E_INVALID, "real-mode entry 0x%llx is above 1 MiB",
			       (unsigned long long)vm->entry_rip);
	return 0;
}

int vm_load_guest(struct arcvm_vm *vm, struct arcvm_error *err)
{
	return vm->cfg.boot == ARCVM_BOOT_LINUX ? load_linux(vm, err) : load_raw(vm, err);
}

/* Each vCPU gets its own copy of KVM's leaves, adjusted for its APIC ID. */
static int setup_cpuid(struct arcvm_vm *vm, struct vcpu *v, struct arcvm_error *err)
{
	if (!vm->cpuid) {
		int rc = kvm_get_supported_cpuid(&vm->kvm, &vm->cpuid, err);
		if (rc)
			return rc;
	}
	size_t size = sizeof(*vm->cpuid) + vm->cpuid->nent * sizeof(vm->cpuid->entries[0]);
	struct kvm_cpuid2 *cpuid = malloc(size);
	if (!cpuid)
		return err_set(err, ARCVM_E_NOMEM, "out of memory for CPUID");
	memcpy(cpuid, vm->cpuid, size);
	x86_cpuid_setup(cpuid, v->fd.id, vm->cfg.cpus);
	int rc = kvm_vcpu_set_cpuid(&v->fd, cpuid, err);
	free(cpuid);
	return rc;
}

static int setup_msrs(struct vcpu *v, struct arcvm_error *err)
{
	enum { MAX_BOOT_MSRS = 32 };
	struct kvm_msrs *msrs = calloc(1, sizeof(*msrs) + MAX_BOOT_MSRS * sizeof(msrs->entries[0]));
	if (!msrs)
		return err_set(err, ARCVM_E_NOMEM, "out of memory for MSRs");
	msrs->nmsrs = (uint32_t)x86_boot_msrs(msrs->entries, MAX_BOOT_MSRS);
	int rc = kvm_vcpu_set_msrs(&v->fd, msrs, err);
	free(msrs);
	return rc;
}

static int setup_fpu(struct vcpu *v, struct arcvm_error *err)
{
	struct kvm_fpu fpu;
	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;     /* x87 default control word */
	fpu.mxcsr = 0x1f80;  /* SSE: all exceptions masked */
	return kvm_vcpu_set_fpu(&v->fd, &fpu, err);
}

/* The boot vCPU's registers; application processors wait for INIT/SIPI. */
static int setup_boot_regs(struct arcvm_vm *vm, struct vcpu *v, struct arcvm_error *err)
{
	struct kvm_sregs sregs;
	int rc = kvm_vcpu_get_sregs(&v->fd, &sregs, err);
	if (rc)
		return rc;
	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;   /* bit 1 is reserved and always set */
	regs.rip = vm->entry_rip;
	if (vm->cfg.boot == ARCVM_BOOT_RAW16) {
		/* Real mode: CS selects the entry's 64 KiB segment, IP the rest. */
		sregs.cs.selector = (uint16_t)((vm->entry_rip >> 4) & 0xF000);
		sregs.cs.base = (uint64_t)sregs.cs.selector << 4;
		regs.rip = vm->entry_rip - sregs.cs.base;
	} else {
		rc = x86_setup_long_mode(&vm->mem, &sregs, err);
		if (rc)
			return rc;
		regs.rsi = vm->entry_rsi;
		regs.rsp = X86_BOOT_STACK_ADDR;
	}
	rc = kvm_vcpu_set_sregs(&v->fd, &sregs, err);
	if (!rc)
		rc = kvm_vcpu_set_regs(&v->fd, &regs, err);
	return rc;
}

int vm_setup_vcpu(struct arcvm_vm *vm, struct vcpu *v, struct arcvm_error *err)
{
	int rc = setup_cpuid(vm, v, err);
	if (vm->restoring)
		return rc;   /* the snapshot holds the rest */
	if (!rc && vm->cfg.boot == ARCVM_BOOT_LINUX)
		rc = setup_msrs(v, err);
	if (!rc)
		rc = setup_fpu(v, err);
	if (!rc && v->fd.id == 0)
		rc = setup_boot_regs(vm, v, err);
	return rc;
}
