/*
 * kvm.h - typed, checked wrapper over /dev/kvm. This file's .c is the only
 * place in arcvm that issues KVM ioctls. Each call names the ioctl that failed
 * in its error message.
 */
#ifndef HV_KVM_H
#define HV_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arcvm.h"

struct kvm_sys {
	int fd;            /* /dev/kvm */
	int run_size;      /* bytes of each vCPU's mmap'd struct kvm_run */
	bool pvm;          /* the host's KVM is PVM (kvm_pvm), see kvm_host_is_pvm() */
};

/* A VM file descriptor with the host facts it was created against. */
struct kvm_vmfd {
	int fd;
	const struct kvm_sys *sys;
};

struct kvm_vcpufd {
	int fd;
	int id;
	struct kvm_run *run;   /* mmap of run_size bytes */
	int run_size;
};

/* Opens /dev/kvm, checks the API version and the capabilities arcvm needs. */
int kvm_open(struct kvm_sys *sys, struct arcvm_error *err);
void kvm_close(struct kvm_sys *sys);
bool kvm_host_is_pvm(void);

int kvm_vm_create(const struct kvm_sys *sys, struct kvm_vmfd *vm, struct arcvm_error *err);
void kvm_vm_close(struct kvm_vmfd *vm);

/* Maps host memory at guest physical address gpa in memory slot `slot`. */
int kvm_set_memory(struct kvm_vmfd *vm, uint32_t slot, uint64_t gpa, uint64_t size,
		   void *host, uint32_t flags, struct arcvm_error *err);

/* KVM_CHECK_EXTENSION on the VM: > 0 when supported (some caps give a count,
 * e.g. KVM_CAP_NR_MEMSLOTS), 0 when not. */
int kvm_vm_check_cap(struct kvm_vmfd *vm, long cap);

/* x86 platform: in-kernel IOAPIC/PIC/LAPIC, PIT, TSS and identity map addresses. */
int kvm_create_irqchip(struct kvm_vmfd *vm, struct arcvm_error *err);
int kvm_create_pit(struct kvm_vmfd *vm, struct arcvm_error *err);
int kvm_set_tss_addr(struct kvm_vmfd *vm, uint64_t addr, struct arcvm_error *err);
int kvm_set_identity_map_addr(struct kvm_vmfd *vm, uint64_t addr, struct arcvm_error *err);

/* Raises or lowers GSI line `gsi` on the in-kernel irqchip. */
int kvm_irq_line(struct kvm_vmfd *vm, uint32_t gsi, int level, struct arcvm_error *err);
/* Sends one MSI through the in-kernel irqchip. *delivered (optional) is
 * false when no LAPIC accepted it. */
int kvm_signal_msi(struct kvm_vmfd *vm, uint64_t address, uint32_t data, bool *delivered,
		   struct arcvm_error *err);
/* Wires eventfd `efd` to GSI `gsi`: each write to it pulses the line. */
int kvm_irqfd(struct kvm_vmfd *vm, int efd, uint32_t gsi, bool assign, struct arcvm_error *err);
/* Makes guest writes of `len` bytes to `addr` (MMIO, or PIO when `pio`) signal
 * eventfd `efd` in the kernel, without an exit to userspace. When
 * has_datamatch, only writes of value `datamatch` do. */
int kvm_ioeventfd(struct kvm_vmfd *vm, int efd, uint64_t addr, uint32_t len, bool pio,
		  bool has_datamatch, uint64_t datamatch, bool assign, struct arcvm_error *err);

/* Returns the CPUID leaves KVM supports, malloc'd; caller frees. */
int kvm_get_supported_cpuid(const struct kvm_sys *sys, struct kvm_cpuid2 **out,
			    struct arcvm_error *err);

int kvm_vcpu_create(struct kvm_vmfd *vm, int id, struct kvm_vcpufd *vcpu,
		    struct arcvm_error *err);
void kvm_vcpu_close(struct kvm_vcpufd *vcpu);
int kvm_vcpu_set_cpuid(struct kvm_vcpufd *vcpu, const struct kvm_cpuid2 *cpuid,
		       struct arcvm_error *err);
int kvm_vcpu_get_regs(struct kvm_vcpufd *vcpu, struct kvm_regs *regs, struct arcvm_error *err);
int kvm_vcpu_set_regs(struct kvm_vcpufd *vcpu, const struct kvm_regs *regs,
		      struct arcvm_error *err);
int kvm_vcpu_get_sregs(struct kvm_vcpufd *vcpu, struct kvm_sregs *sregs,
		       struct arcvm_error *err);
int kvm_vcpu_set_sregs(struct kvm_vcpufd *vcpu, const struct kvm_sregs *sregs,
		       struct arcvm_error *err);
int kvm_vcpu_set_fpu(struct kvm_vcpufd *vcpu, const struct kvm_fpu *fpu, struct arcvm_error *err);
int kvm_vcpu_set_msrs(struct kvm_vcpufd *vcpu, const struct kvm_msrs *msrs,
		      struct arcvm_error *err);
int kvm_vcpu_set_lapic(struct kvm_vcpufd *vcpu, const struct kvm_lapic_state *lapic,
		       struct arcvm_error *err);
int kvm_vcpu_get_lapic(struct kvm_vcpufd *vcpu, struct kvm_lapic_state *lapic,
		       struct arcvm_error *err);
int kvm_vcpu_set_mp_state(struct kvm_vcpufd *vcpu, uint32_t state, struct arcvm_error *err);

/* Snapshot state. KVM_CHECK_EXTENSION's answer, 0 when unsupported. */
int kvm_check_extension(const struct kvm_sys *sys, int cap);
/* The MSRs KVM saves and restores for a guest, malloc'd; caller frees. */
int kvm_get_msr_index_list(const struct kvm_sys *sys, uint32_t **out, uint32_t *n,
			   struct arcvm_error *err);
/* Reads msrs->nmsrs MSRs; returns how many KVM read (it stops at the first it
 * cannot), or a negative ARCVM_E_* code. */
int kvm_vcpu_get_msrs(struct kvm_vcpufd *vcpu, struct kvm_msrs *msrs, struct arcvm_error *err);
/* Writes msrs->nmsrs MSRs; returns how many KVM wrote (it stops at the first
 * it refuses), or a negative ARCVM_E_* code. */
int kvm_vcpu_put_msrs(struct kvm_vcpufd *vcpu, const struct kvm_msrs *msrs,
		      struct arcvm_error *err);
/* Bytes of a vCPU's XSAVE area (4 KiB, or more with KVM_CAP_XSAVE2). */
size_t kvm_xsave_size(const struct kvm_sys *sys);
int kvm_vcpu_get_xsave(struct kvm_vcpufd *vcpu, struct kvm_xsave *xs, size_t size,
		       struct arcvm_error *err);
int kvm_vcpu_set_xsave(struct kvm_vcpufd *vcpu, const struct kvm_xsave *xs,
		       struct arcvm_error *err);
int kvm_vcpu_get_xcrs(struct kvm_vcpufd *vcpu, struct kvm_xcrs *x, struct arcvm_error *err);
int kvm_vcpu_set_xcrs(struct kvm_vcpufd *vcpu, const struct kvm_xcrs *x, struct arcvm_error *err);
int kvm_vcpu_get_events(struct kvm_vcpufd *vcpu, struct kvm_vcpu_events *e,
			struct arcvm_error *err);
int kvm_vcpu_set_events(struct kvm_vcpufd *vcpu, const struct kvm_vcpu_events *e,
			struct arcvm_error *err);
int kvm_vcpu_get_debugregs(struct kvm_vcpufd *vcpu, struct kvm_debugregs *d,
			   struct arcvm_error *err);
int kvm_vcpu_set_debugregs(struct kvm_vcpufd *vcpu, const struct kvm_debugregs *d,
			   struct arcvm_error *err);
int kvm_vcpu_get_mp_state(struct kvm_vcpufd *vcpu, uint32_t *state, struct arcvm_error *err);

/* In-kernel PIC/IOAPIC (chip_id 0, 1: PIC master, slave; 2: IOAPIC), PIT, clock. */
int kvm_get_irqchip(struct kvm_vmfd *vm, struct kvm_irqchip *c, struct arcvm_error *err);
int kvm_set_irqchip(struct kvm_vmfd *vm, const struct kvm_irqchip *c, struct arcvm_error *err);
int kvm_get_pit(struct kvm_vmfd *vm, struct kvm_pit_state2 *p, struct arcvm_error *err);
int kvm_set_pit(struct kvm_vmfd *vm, const struct kvm_pit_state2 *p, struct arcvm_error *err);
int kvm_get_clock(struct kvm_vmfd *vm, struct kvm_clock_data *c, struct arcvm_error *err);
int kvm_set_clock(struct kvm_vmfd *vm, const struct kvm_clock_data *c, struct arcvm_error *err);
/* Copies slot's dirty-page bitmap (one bit per 4 KiB page) into bitmap and
 * clears it in KVM; the slot must have KVM_MEM_LOG_DIRTY_PAGES. */
int kvm_get_dirty_log(struct kvm_vmfd *vm, uint32_t slot, uint64_t *bitmap,
		      struct arcvm_error *err);

/* One KVM_RUN. Returns 0 after an exit (see vcpu->run->exit_reason), -EINTR
 * when interrupted by a signal or immediate_exit, or another negative errno. */
int kvm_vcpu_run(struct kvm_vcpufd *vcpu);

#endif
