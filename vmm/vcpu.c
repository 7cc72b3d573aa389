/* vcpu.c - the vCPU threads' run loop and exit dispatch (see vcpu.h). */
#include "vmm/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "util/err.h"
#include "vmm/vm.h"

#define VCPU_KICK_SIGNAL SIGUSR1
#define VCPU_STACK_SIZE (256u << 10)

static void vcpu_kick_handler(int sig)
{
	(void)sig;  /* only interrupts KVM_RUN; immediate_exit says why */
}

int vcpu_signal_init(struct arcvm_error *err)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = vcpu_kick_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return err_errno(err, ARCVM_E_IO, errno, "cannot install the vCPU kick signal handler");
	return 0;
}

static void vcpu_pio(struct vcpu *v)
{
	struct kvm_run *run = v->fd.run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	/* A string instruction (rep outsb...) arrives as count items. */
	for (uint32_t i = 0; i < run->io.count; i++)
		bus_dispatch(&v->vm->pio, run->io.port, is_write, data + i * run->io.size,
			     run->io.size);
}

static void vcpu_system_event(struct vcpu *v)
{
	switch (v->fd.run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_guest_exit(v->vm, ARCVM_EXIT_POWEROFF);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_guest_exit(v->vm, ARCVM_EXIT_REBOOT);
		break;
	case KVM_SYSTEM_EVENT_CRASH:
		vm_guest_exit(v->vm, ARCVM_EXIT_PANIC);
		break;
	default:
		vm_log(v->vm, ARCVM_LOG_WARN, "vCPU %d: unknown system event %u", v->fd.id,
		       v->fd.run->system_event.type);
		break;
	}
}

/* Logs where a vCPU died: for a kernel developer the registers at a triple
 * fault are the first thing to look at. */
static void vcpu_log_fault_state(struct vcpu *v)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	if (kvm_vcpu_get_regs(&v->fd, &r, NULL) || kvm_vcpu_get_sregs(&v->fd, &s, NULL))
		return;
	/* AMD's KVM resets the vCPU when it sees the shutdown, before we can
	 * read it: the reset vector in real mode says nothing about the fault. */
	if (r.rip == 0xfff0 && s.cs.selector == 0xf000 && !(s.cr0 & 1)) {
		vm_log(v->vm, ARCVM_LOG_ERROR, "vCPU %d triple-faulted (its registers are lost:"
		       " this KVM reset the vCPU at the shutdown)", v->fd.id);
		return;
	}
	vm_log(v->vm, ARCVM_LOG_ERROR,
	       "vCPU %d triple-faulted: rip=%#llx rsp=%#llx rflags=%#llx cs=%#x cr0=%#llx "
	       "cr2=%#llx cr3=%#llx cr4=%#llx efer=%#llx",
	       v->fd.id, (unsigned long long)r.rip, (unsigned long long)r.rsp,
	       (unsigned long long)r.rflags, s.cs.selector, (unsigned long long)s.cr0,
	       (unsigned long long)s.cr2, (unsigned long long)s.cr3, (unsigned long long)s.cr4,
	       (unsigned long long)s.efer);
}

/* Returns false when this vCPU must stop running. */
static bool vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->fd.run;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_pio(v);
		return true;
	case KVM_EXIT_MMIO:
		bus_dispatch(&v->vm->mmio, run->mmio.phys_addr, run->mmio.is_write, run->mmio.data,
			     run->mmio.len);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_HLT:
		vm_guest_exit(v->vm, ARCVM_EXIT_HALT);
		return false;
	case KVM_EXIT_SHUTDOWN:
		vcpu_log_fault_state(v);
		vm_guest_exit(v->vm, ARCVM_EXIT_TRIPLE_FAULT);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_system_event(v);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		vm_log(v->vm, ARCVM_LOG_ERROR, "vCPU %d: KVM could not enter the guest (reason 0x%llx)",
		       v->fd.id, (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		vm_log(v->vm, ARCVM_LOG_ERROR, "vCPU %d: KVM internal error, suberror %u", v->fd.id,
		       run->internal.suberror);
		break;
	default:
		vm_log(v->vm, ARCVM_LOG_ERROR, "vCPU %d: unhandled exit reason %u", v->fd.id,
		       run->exit_reason);
		break;
	}
	vm_guest_exit(v->vm, ARCVM_EXIT_ERROR);
	return false;
}

/* After a PIO or MMIO read exit, the value we answered sits in kvm_run until
 * the next KVM_RUN copies it into the guest's register. A paused vCPU must
 * not hold it there, or a snapshot taken now would lose it (the restored
 * guest would run the read again, a second read with side effects for a
 * device register): one KVM_RUN with immediate_exit set completes the
 * instruction and returns without entering the guest. */
static void vcpu_complete_io(struct vcpu *v)
{
	v->fd.run->immediate_exit = 1;
	int rc = kvm_vcpu_run(&v->fd);
	v->fd.run->immediate_exit = 0;
	if (rc < 0 && rc != -EINTR && rc != -EAGAIN)
		vm_log(v->vm, ARCVM_LOG_WARN, "vCPU %d: completing I/O before a pause failed: %s",
		       v->fd.id, strerror(-rc));
}

/* Parks this vCPU while the VM is paused. The pending I/O is completed
 * under the same look at pause_requested that parks the vCPU: a pause
 * requested between two separate looks would park it with a read still in
 * kvm_run. */
static void vcpu_pause_point(struct vcpu *v)
{
	struct arcvm_vm *vm = v->vm;
	bool io_done = false;
	pthread_mutex_lock(&vm->lock);
	while (vm->pause_requested && !atomic_load(&vm->stop)) {
		if (!io_done) {
			pthread_mutex_unlock(&vm->lock);  /* KVM_RUN outside the lock */
			vcpu_complete_io(v);
			io_done = true;
			pthread_mutex_lock(&vm->lock);
			continue;
		}
		vm->vcpus_paused++;
		pthread_cond_broadcast(&vm->cond);
		while (vm->pause_requested && !atomic_load(&vm->stop))
			pthread_cond_wait(&vm->cond, &vm->lock);
		vm->vcpus_paused--;
	}
	pthread_mutex_unlock(&vm->lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct arcvm_vm *vm = v->vm;
	while (!atomic_load(&vm->stop)) {
		vcpu_pause_point(v);
		if (atomic_load(&vm->stop))
			break;
		int rc = kvm_vcpu_run(&v->fd);
		if (rc == -EINTR || rc == -EAGAIN) {
			/* Kicked: clear the request, then look at stop/pause again. */
			v->fd.run->immediate_exit = 0;
			continue;
		}
		if (rc < 0) {
			vm_log(vm, ARCVM_LOG_ERROR, "vCPU %d: KVM_RUN failed: %s", v->fd.id,
			       strerror(-rc));
			vm_guest_exit(vm, ARCVM_EXIT_ERROR);
			break;
		}
		if (!vcpu_handle_exit(v))
			break;
	}
	return NULL;
}

int vcpu_start(struct vcpu *v, struct arcvm_error *err)
{
	/* The thread starts with the kick signal unblocked whatever the caller's mask. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, &old);
	/* The run loop needs little stack; a small one is cheaper to create and
	 * to give back at exit than glibc's 8 MiB default. */
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, VCPU_STACK_SIZE);
	int rc = pthread_create(&v->thread, &attr, vcpu_thread, v);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return err_errno(err, ARCVM_E_IO, rc, "cannot start vCPU %d's thread", v->fd.id);
	char name[16];
	snprintf(name, sizeof(name), "arcvm-vcpu%d", v->fd.id);
	pthread_setname_np(v->thread, name);
	v->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (v->fd.run)
		v->fd.run->immediate_exit = 1;
	if (v->started)
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *v)
{
	if (v->started)
		pthread_join(v->thread, NULL);
	v->started = false;
}
