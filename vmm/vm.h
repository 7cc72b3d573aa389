/*
 * vm.h - the VM object behind struct arcvm_vm, shared by the vmm/ files.
 *
 * Ownership: the controlling thread (the one calling arcvm_vm_*) creates and
 * destroys everything and moves the state machine. vCPU threads read the
 * buses and memory (fixed once booted) and report guest exits through
 * vm_guest_exit(). `lock` guards state, exit_reason and the pause handshake.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "arcvm.h"
#include "arch/x86/layout.h"
#include "arch/x86/x86.h"
#include "devices/platform.h"
#include "devices/i8042.h"
#include "devices/uart.h"
#include "hv/kvm.h"
#include "io/loop.h"
#include "vmm/bus.h"
#include "vmm/memory.h"
#include "vmm/region.h"
#include "virtio/mmio.h"
#include "vmm/vcpu.h"

#define VM_MAX_USER_HANDLERS 16
#define VM_PANIC_LINE_MAX 256

/* A library user's exit handler, adapted to the bus. */
struct vm_user_handler {
	arcvm_io_fn fn;
	void *opaque;
	uint64_t base;
};

struct arcvm_vm {
	struct arcvm_config cfg;        /* strings point into owned copies below */
	char *cmdline;                  /* the full command line given to the kernel */

	struct kvm_sys kvm;
	struct kvm_vmfd vmfd;
	struct guest_mem mem;
	struct bus pio;
	struct bus mmio;
	struct io_loop *io;
	struct uart *uart;
	struct i8042 *i8042;
	struct virtio_mmio *virtio[X86_VIRTIO_MAX];
	int nvirtio;
	char *drive_paths[ARCVM_MAX_DRIVES]; /* owned paths of drives replaced since create */
	struct platform_sink sink;
	bool irqchip;                   /* in-kernel IOAPIC/PIC/LAPIC exist */

	uint64_t entry_rip;             /* where the boot vCPU starts */
	uint64_t entry_rsi;             /* Linux: the zero page's GPA */

	struct vcpu *vcpus;
	int ncpus;
	struct kvm_cpuid2 *cpuid;       /* KVM's supported leaves, fetched once per VM */

	pthread_mutex_t lock;
	pthread_cond_t cond;            /* vCPUs reached pause; resume requested */
	enum arcvm_state state;
	enum arcvm_exit_reason exit_reason;
	atomic_bool stop;               /* all vCPUs must leave KVM_RUN and return */
	bool pause_requested;
	int vcpus_paused;
	int eventfd;                    /* written when the VM should be looked at */

	struct vm_user_handler handlers[VM_MAX_USER_HANDLERS];
	int nhandlers;
	struct vm_regions regions;      /* arcvm_map_region's; controlling thread only */
	uint64_t shared_gpa;            /* where cfg.shared_size bytes of shared memory sit */

	bool restoring;                 /* built from a snapshot: no guest image, no boot state */
	struct vm_snap *snap;           /* vmm/snapshot.c: memory layers and dirty pages */

	char line[VM_PANIC_LINE_MAX];   /* console line being assembled */
	size_t line_len;
	char panic[VM_PANIC_LINE_MAX];  /* first "Kernel panic" line, if any */
	bool panic_seen;
};

/* A vCPU or device saw the guest end the VM; the first reason wins.
 * Safe from any thread except a signal handler. */
void vm_guest_exit(struct arcvm_vm *vm, enum arcvm_exit_reason reason);

/* Reports through the config's log callback, if any. */
void vm_log(const struct arcvm_vm *vm, enum arcvm_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* vmm/vm_virtio.c: attaches the virtio devices the config asks for, before
 * the guest is loaded (the ACPI tables list them). */
int vm_setup_virtio(struct arcvm_vm *vm, struct arcvm_error *err);
void vm_teardown_virtio(struct arcvm_vm *vm);
/* Fills out[] (X86_VIRTIO_MAX entries) with the attached devices; returns the count. */
int vm_virtio_acpi(const struct arcvm_vm *vm, struct x86_mmio_dev *out);
/* " arcvm.root=/dev/vdX" for the root drive, or "". */
int vm_root_cmdline(const struct arcvm_vm *vm, char *buf, size_t len);

/* Allocates a VM in state Created with a copy of cfg; nothing else is set up. */
int vm_alloc(const struct arcvm_config *cfg, struct arcvm_vm **out, struct arcvm_error *err);
/* Sets up KVM, memory (a private view of mem_fd when >= 0), devices and
 * vCPUs; loads the guest unless vm->restoring. */
int vm_build(struct arcvm_vm *vm, int mem_fd, struct arcvm_error *err);
/* Starts every thread with the vCPUs parked: Created -> Paused. */
int vm_start_paused(struct arcvm_vm *vm, struct arcvm_error *err);

/* vmm/snapshot.c: frees what the VM remembers of its snapshots. */
void vm_snapshot_free(struct arcvm_vm *vm);

/* vmm/boot.c: loads the guest image and sets up the vCPUs' initial state. */
int vm_load_guest(struct arcvm_vm *vm, struct arcvm_error *err);
int vm_setup_vcpu(struct arcvm_vm *vm, struct vcpu *v, struct arcvm_error *err);

#endif
