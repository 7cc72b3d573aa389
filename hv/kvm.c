/*
 * kvm.c - the only caller of KVM ioctls. Each wrapper checks the result and
 * names the ioctl in its error, so callers never see a bare errno.
 */
#include "hv/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/err.h"

#define KVM_PATH "/dev/kvm"

static int xioctl(int fd, unsigned long req, void *arg)
{
	int rc;
	do {
		rc = ioctl(fd, req, arg);
	} while (rc < 0 && errno == EINTR);
	return rc;
}

static int ioctl_err(struct arcvm_error *err, const char *name)
{
	int e = errno;
	return err_errno(err, e == ENOMEM ? ARCVM_E_NOMEM : ARCVM_E_HYPERVISOR, e, "%s failed", name);
}

bool kvm_host_is_pvm(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}

/* Capabilities without which arcvm cannot run a guest at all. */
static const struct { int cap; const char *name; } required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
};

int kvm_open(struct kvm_sys *sys, struct arcvm_error *err)
{
	memset(sys, 0, sizeof(*sys));
	sys->fd = open(KVM_PATH, O_RDWR | O_CLOEXEC);
	if (sys->fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return err_set(err, ARCVM_E_HYPERVISOR, "%s does not exist: KVM is not available "
				       "on this host (load kvm_intel or kvm_amd, or enable "
				       "virtualization in the firmware)", KVM_PATH);
		if (e == EACCES || e == EPERM)
			return err_set(err, ARCVM_E_PERMISSION, "no permission to open %s: run as root "
				       "or add the user to the kvm group", KVM_PATH);
		return err_errno(err, ARCVM_E_HYPERVISOR, e, "cannot open %s", KVM_PATH);
	}
	int version = ioctl(sys->fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		err_set(err, ARCVM_E_HYPERVISOR, "KVM API version %d, arcvm needs %d", version,
			KVM_API_VERSION);
		goto fail;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(sys->fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			err_set(err, ARCVM_E_UNSUPPORTED, "this host's KVM lacks %s",
				required_caps[i].name);
			goto fail;
		}
	}
	sys->run_size = ioctl(sys->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sys->run_size < (int)sizeof(struct kvm_run)) {
		ioctl_err(err, "KVM_GET_VCPU_MMAP_SIZE");
		goto fail;
	}
	sys->pvm = kvm_host_is_pvm();
	return 0;
fail:
	close(sys->fd);
	sys->fd = -1;
	return err ? err->code : ARCVM_E_HYPERVISOR;
}

void kvm_close(struct kvm_sys *sys)
{
	if (sys->fd >= 0)
		close(sys->fd);
	sys->fd = -1;
}

int kvm_vm_create(const struct kvm_sys *sys, struct kvm_vmfd *vm, struct arcvm_error *err)
{
	vm->sys = sys;
	do {
		vm->fd = ioctl(sys->fd, KVM_CREATE_VM, 0);
	} while (vm->fd < 0 && errno == EINTR);
	if (vm->fd < 0)
		return ioctl_err(err, "KVM_CREATE_VM");
	return 0;
}

void kvm_vm_close(struct kvm_vmfd *vm)
{
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = -1;
}

int kvm_set_memory(struct kvm_vmfd *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *host,
		   uint32_t flags, struct arcvm_error *err)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};
	if (xioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return ioctl_err(err, "KVM_SET_USER_MEMORY_REGION");
	return 0;
}

int kvm_vm_check_cap(struct kvm_vmfd *vm, long cap)
{
	int n = ioctl(vm->fd, KVM_CHECK_EXTENSION, cap);
	return n > 0 ? n : 0;
}

int kvm_create_irqchip(struct kvm_vmfd *vm, struct arcvm_error *err)
{
	if (xioctl(vm->fd, KVM_CREATE_IRQCHIP, NULL) < 0)
		return ioctl_err(err, "KVM_CREATE_IRQCHIP");
	return 0;
}

int kvm_create_pit(struct kvm_vmfd *vm, struct arcvm_error *err)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (xioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0)
		return ioctl_err(err, "KVM_CREATE_PIT2");
	return 0;
}

int kvm_set_tss_addr(struct kvm_vmfd *vm, uint64_t addr, struct arcvm_error *err)
{
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, (unsigned long)addr) < 0)
		return ioctl_err(err, "KVM_SET_TSS_ADDR");
	return 0;
}

int kvm_set_identity_map_addr(struct kvm_vmfd *vm, uint64_t addr, struct arcvm_error *err)
{
	__u64 a = addr;
	if (xioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &a) < 0)
		return ioctl_err(err, "KVM_SET_IDENTITY_MAP_ADDR");
	return 0;
}

int kvm_irq_line(struct kvm_vmfd *vm, uint32_t gsi, int level, struct arcvm_error *err)
{
	struct kvm_irq_level l = { .irq = gsi, .level = (uint32_t)level };
	if (xioctl(vm->fd, KVM_IRQ_LINE, &l) < 0)
		return ioctl_err(err, "KVM_IRQ_LINE");
	return 0;
}

int kvm_signal_msi(struct kvm_vmfd *vm, uint64_t address, uint32_t data, bool *delivered,
		   struct arcvm_error *err)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)address, .address_hi = (uint32_t)(address >> 32),
		.data = data,
	};
	int n = xioctl(vm->fd, KVM_SIGNAL_MSI, &msi);
	if (n < 0)
		return ioctl_err(err, "KVM_SIGNAL_MSI");
	if (delivered)
		*delivered = n > 0;
	return 0;
}

int kvm_irqfd(struct kvm_vmfd *vm, int efd, uint32_t gsi, bool assign, struct arcvm_error *err)
{
	struct kvm_irqfd f = {
		.fd = (uint32_t)efd, .gsi = gsi, .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};
	if (xioctl(vm->fd, KVM_IRQFD, &f) < 0)
		return ioctl_err(err, "KVM_IRQFD");
	return 0;
}

int kvm_ioeventfd(struct kvm_vmfd *vm, int efd, uint64_t addr, uint32_t len, bool pio,
		  bool has_datamatch, uint64_t datamatch, bool assign, struct arcvm_error *err)
{
	struct kvm_ioeventfd e = {
		.datamatch = datamatch, .addr = addr, .len = len, .fd = efd,
		.flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0u) |
			 (has_datamatch ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0u) |
			 (assign ? 0u : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};
	if (xioctl(vm->fd, KVM_IOEVENTFD, &e) < 0)
		return ioctl_err(err, "KVM_IOEVENTFD");
	return 0;
}

int kvm_get_supported_cpuid(const struct kvm_sys *sys, struct kvm_cpuid2 **out,
			    struct arcvm_error *err)
{
	/* 256 entries hold every CPU seen so far, so one ioctl normally does. */
	for (int n = 256; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (size_t)n * sizeof(c->entries[0]));
		if (!c)
			return err_set(err, ARCVM_E_NOMEM, "out of memory for CPUID");
		c->nent = (uint32_t)n;
		if (xioctl(sys->fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			*out = c;
			return 0;
		}
		int e = errno;
		free(c);
		if (e != E2BIG)
			return err_errno(err, ARCVM_E_HYPERVISOR, e, "KVM_GET_SUPPORTED_CPUID failed");
	}
	return err_set(err, ARCVM_E_HYPERVISOR, "KVM_GET_SUPPORTED_CPUID: too many entries");
}

int kvm_vcpu_create(struct kvm_vmfd *vm, int id, struct kvm_vcpufd *vcpu, struct arcvm_error *err)
{
	vcpu->id = id;
	vcpu->run = NULL;
	vcpu->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (vcpu->fd < 0)
		return ioctl_err(err, "KVM_CREATE_VCPU");
	vcpu->run_size = vm->sys->run_size;
	void *run = mmap(NULL, (size_t)vcpu->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vcpu->fd, 0);
	if (run == MAP_FAILED) {
		int e = errno;
		close(vcpu->fd);
		vcpu->fd = -1;
		return err_errno(err, ARCVM_E_HYPERVISOR, e, "mmap of vCPU %d's kvm_run failed", id);
	}
	vcpu->run = run;
	return 0;
}

void kvm_vcpu_close(struct kvm_vcpufd *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, (size_t)vcpu->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

/* The vCPU state accessors differ only in the request and its name. */
#define VCPU_IOCTL(fn, req, type)                                                  \
	int fn(struct kvm_vcpufd *vcpu, type arg, struct arcvm_error *err)         \
	{                                                                          \
		if (xioctl(vcpu->fd, req, (void *)arg) < 0)                        \
			return ioctl_err(err, #req);                               \
		return 0;                                                          \
	}

VCPU_IOCTL(kvm_vcpu_set_cpuid, KVM_SET_CPUID2, const struct kvm_cpuid2 *)
VCPU_IOCTL(kvm_vcpu_get_regs, KVM_GET_REGS, struct kvm_regs *)
VCPU_IOCTL(kvm_vcpu_set_regs, KVM_SET_REGS, const struct kvm_regs *)
VCPU_IOCTL(kvm_vcpu_get_sregs, KVM_GET_SREGS, struct kvm_sregs *)
VCPU_IOCTL(kvm_vcpu_set_sregs, KVM_SET_SREGS, const struct kvm_sregs *)
VCPU_IOCTL(kvm_vcpu_set_fpu, KVM_SET_FPU, const struct kvm_fpu *)
VCPU_IOCTL(kvm_vcpu_set_lapic, KVM_SET_LAPIC, const struct kvm_lapic_state *)
VCPU_IOCTL(kvm_vcpu_get_lapic, KVM_GET_LAPIC, struct kvm_lapic_state *)
VCPU_IOCTL(kvm_vcpu_get_xcrs, KVM_GET_XCRS, struct kvm_xcrs *)
VCPU_IOCTL(kvm_vcpu_set_xcrs, KVM_SET_XCRS, const struct kvm_xcrs *)
VCPU_IOCTL(kvm_vcpu_get_events, KVM_GET_VCPU_EVENTS, struct kvm_vcpu_events *)
VCPU_IOCTL(kvm_vcpu_set_events, KVM_SET_VCPU_EVENTS, const struct kvm_vcpu_events *)
VCPU_IOCTL(kvm_vcpu_get_debugregs, KVM_GET_DEBUGREGS, struct kvm_debugregs *)
VCPU_IOCTL(kvm_vcpu_set_debugregs, KVM_SET_DEBUGREGS, const struct kvm_debugregs *)

/* The VM-wide state accessors, likewise. */
#define VM_IOCTL(fn, req, type)                                                    \
	int fn(struct kvm_vmfd *vm, type arg, struct arcvm_error *err)             \
	{                                                                          \
		if (xioctl(vm->fd, req, (void *)arg) < 0)                          \
			return ioctl_err(err, #req);                               \
		return 0;                                                          \
	}

VM_IOCTL(kvm_get_irqchip, KVM_GET_IRQCHIP, struct kvm_irqchip *)
VM_IOCTL(kvm_set_irqchip, KVM_SET_IRQCHIP, const struct kvm_irqchip *)
VM_IOCTL(kvm_get_pit, KVM_GET_PIT2, struct kvm_pit_state2 *)
VM_IOCTL(kvm_set_pit, KVM_SET_PIT2, const struct kvm_pit_state2 *)
VM_IOCTL(kvm_get_clock, KVM_GET_CLOCK, struct kvm_clock_data *)
VM_IOCTL(kvm_set_clock, KVM_SET_CLOCK, const struct kvm_clock_data *)

int kvm_check_extension(const struct kvm_sys *sys, int cap)
{
	int n = ioctl(sys->fd, KVM_CHECK_EXTENSION, cap);
	return n < 0 ? 0 : n;
}

int kvm_get_msr_index_list(const struct kvm_sys *sys, uint32_t **out, uint32_t *n,
			   struct arcvm_error *err)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };
	/* The first call fails with E2BIG and says how many there are. */
	if (ioctl(sys->fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return ioctl_err(err, "KVM_GET_MSR_INDEX_LIST");
	struct kvm_msr_list *l = calloc(1, sizeof(*l) + probe.nmsrs * sizeof(l->indices[0]));
	if (!l)
		return err_set(err, ARCVM_E_NOMEM, "out of memory for the MSR list");
	l->nmsrs = probe.nmsrs;
	if (xioctl(sys->fd, KVM_GET_MSR_INDEX_LIST, l) < 0) {
		free(l);
		return ioctl_err(err, "KVM_GET_MSR_INDEX_LIST");
	}
	uint32_t *idx = malloc((l->nmsrs ? l->nmsrs : 1) * sizeof(*idx));
	if (!idx) {
		free(l);
		return err_set(err, ARCVM_E_NOMEM, "out of memory for the MSR list");
	}
	memcpy(idx, l->indices, l->nmsrs * sizeof(*idx));
	*out = idx;
	*n = l->nmsrs;
	free(l);
	return 0;
}

int kvm_vcpu_get_msrs(struct kvm_vcpufd *vcpu, struct kvm_msrs *msrs, struct arcvm_error *err)
{
	int n = ioctl(vcpu->fd, KVM_GET_MSRS, msrs);
	if (n < 0)
		return ioctl_err(err, "KVM_GET_MSRS");
	return n;
}

size_t kvm_xsave_size(const struct kvm_sys *sys)
{
	int n = kvm_check_extension(sys, KVM_CAP_XSAVE2);
	return n > (int)sizeof(struct kvm_xsave) ? (size_t)n : sizeof(struct kvm_xsave);
}

int kvm_vcpu_get_xsave(struct kvm_vcpufd *vcpu, struct kvm_xsave *xs, size_t size,
		       struct arcvm_error *err)
{
	/* Past 4 KiB (AMX), only KVM_GET_XSAVE2 returns the whole area. */
	unsigned long req = size > sizeof(struct kvm_xsave) ? KVM_GET_XSAVE2 : KVM_GET_XSAVE;
	if (xioctl(vcpu->fd, req, xs) < 0)
		return ioctl_err(err, req == KVM_GET_XSAVE ? "KVM_GET_XSAVE" : "KVM_GET_XSAVE2");
	return 0;
}

int kvm_vcpu_set_xsave(struct kvm_vcpufd *vcpu, const struct kvm_xsave *xs,
		       struct arcvm_error *err)
{
	if (xioctl(vcpu->fd, KVM_SET_XSAVE, (void *)xs) < 0)
		return ioctl_err(err, "KVM_SET_XSAVE");
	return 0;
}

int kvm_vcpu_get_mp_state(struct kvm_vcpufd *vcpu, uint32_t *state, struct arcvm_error *err)
{
	struct kvm_mp_state s;
	if (xioctl(vcpu->fd, KVM_GET_MP_STATE, &s) < 0)
		return ioctl_err(err, "KVM_GET_MP_STATE");
	*state = s.mp_state;
	return 0;
}

int kvm_get_dirty_log(struct kvm_vmfd *vm, uint32_t slot, uint64_t *bitmap,
		      struct arcvm_error *err)
{
	struct kvm_dirty_log l = { .slot = slot, .dirty_bitmap = bitmap };
	if (xioctl(vm->fd, KVM_GET_DIRTY_LOG, &l) < 0)
		return ioctl_err(err, "KVM_GET_DIRTY_LOG");
	return 0;
}

int kvm_vcpu_set_msrs(struct kvm_vcpufd *vcpu, const struct kvm_msrs *msrs, struct arcvm_error *err)
{
	int n = ioctl(vcpu->fd, KVM_SET_MSRS, msrs);
	if (n < 0)
		return ioctl_err(err, "KVM_SET_MSRS");
	if ((uint32_t)n != msrs->nmsrs)
		return err_set(err, ARCVM_E_HYPERVISOR, "KVM_SET_MSRS set %d of %u MSRs (MSR 0x%x refused)",
			       n, msrs->nmsrs, msrs->entries[n].index);
	return 0;
}

int kvm_vcpu_put_msrs(struct kvm_vcpufd *vcpu, const struct kvm_msrs *msrs,
		      struct arcvm_error *err)
{
	int n = ioctl(vcpu->fd, KVM_SET_MSRS, msrs);
	if (n < 0)
		return ioctl_err(err, "KVM_SET_MSRS");
	return n;
}

int kvm_vcpu_set_mp_state(struct kvm_vcpufd *vcpu, uint32_t state, struct arcvm_error *err)
{
	struct kvm_mp_state s = { .mp_state = state };
	if (xioctl(vcpu->fd, KVM_SET_MP_STATE, &s) < 0)
		return ioctl_err(err, "KVM_SET_MP_STATE");
	return 0;
}

int kvm_vcpu_run(struct kvm_vcpufd *vcpu)
{
	if (ioctl(vcpu->fd, KVM_RUN, 0) < 0)
		return -errno;
	return 0;
}
