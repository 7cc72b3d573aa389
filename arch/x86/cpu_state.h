/*
 * cpu_state.h - the x86 vCPU and VM-wide state a snapshot carries, saved and
 * restored through hv/kvm.c as sections of a state file (docs/snapshot.md).
 *
 * Called on the controlling thread while every vCPU is parked (Paused) or
 * not yet started (restore); KVM serialises the vCPU ioctls itself.
 */
#ifndef ARCH_X86_CPU_STATE_H
#define ARCH_X86_CPU_STATE_H

#include <stdbool.h>

#include "arcvm.h"
#include "hv/kvm.h"
#include "util/snapbuf.h"

/* The MSRs to save: KVM's list, less those this vCPU cannot read. */
struct x86_msr_list {
	uint32_t *index;
	uint32_t n;
};

int x86_msr_list_get(const struct kvm_sys *sys, struct x86_msr_list *l, struct arcvm_error *err);
void x86_msr_list_free(struct x86_msr_list *l);

/* One "VCPU" section: registers, system registers, XSAVE, XCRs, debug
 * registers, pending events, MP state, the LAPIC (when lapic) and MSRs. */
int x86_vcpu_save(const struct kvm_sys *sys, struct kvm_vcpufd *v, bool lapic,
		  const struct x86_msr_list *msrs, struct snap_writer *w, struct arcvm_error *err);
int x86_vcpu_load(const struct kvm_sys *sys, struct kvm_vcpufd *v, bool lapic,
		  struct snap_reader *r, struct arcvm_error *err);

/* One "VMST" section: the KVM clock and, when irqchip, the PICs, the IOAPIC
 * and the PIT. */
int x86_vm_save(struct kvm_vmfd *vm, bool irqchip, struct snap_writer *w,
		struct arcvm_error *err);
int x86_vm_load(struct kvm_vmfd *vm, bool irqchip, struct snap_reader *r,
		struct arcvm_error *err);

#endif
