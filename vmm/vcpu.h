/*
 * vcpu.h - vCPU threads: each runs KVM_RUN in a loop and hands PIO/MMIO
 * exits to the VM's buses; everything else about the exit is reported to
 * the VM. A vCPU is stopped by setting immediate_exit and a signal.
 */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include <pthread.h>
#include <stdbool.h>

#include "arcvm.h"
#include "hv/kvm.h"

struct arcvm_vm;

struct vcpu {
	struct kvm_vcpufd fd;
	struct arcvm_vm *vm;
	pthread_t thread;
	bool started;
};

/* Installs the (empty) signal handler used to kick vCPUs out of KVM_RUN. */
int vcpu_signal_init(struct arcvm_error *err);
int vcpu_start(struct vcpu *v, struct arcvm_error *err);
/* Makes the vCPU leave KVM_RUN soon; async-signal-safe. */
void vcpu_kick(struct vcpu *v);
void vcpu_join(struct vcpu *v);

#endif
