/*
 * vm.c - the VM lifecycle and its state machine:
 *   Created -> Running <-> Paused -> Stopped   (any -> Stopped by shutdown)
 * Invalid transitions fail with ARCVM_E_BAD_STATE.
 */
#include "vmm/vm.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "util/err.h"
#include "vmm/shared.h"

void vm_log(const struct arcvm_vm *vm, enum arcvm_log_level level, const char *fmt, ...)
{
	if (!vm->cfg.log)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vm->cfg.log(vm->cfg.log_opaque, level, msg);
}

static void vm_notify(struct arcvm_vm *vm)
{
	uint64_t one = 1;
	if (write(vm->eventfd, &one, sizeof(one)) < 0) {
		/* Only fails when the counter is saturated: already signalled. */
	}
}

static void vm_kick_all(struct arcvm_vm *vm)
{
	for (int i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
}

void vm_guest_exit(struct arcvm_vm *vm, enum arcvm_exit_reason reason)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->exit_reason == ARCVM_EXIT_NONE) {
		/* panic=-1 makes a panicking kernel reset: report the panic. */
		if (vm->panic_seen && reason == ARCVM_EXIT_REBOOT)
			reason = ARCVM_EXIT_PANIC;
		vm->exit_reason = reason;
	}
	atomic_store(&vm->stop, true);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	vm_kick_all(vm);
	vm_notify(vm);
}

void arcvm_vm_request_stop(struct arcvm_vm *vm)
{
	atomic_store(&vm->stop, true);
	vm_kick_all(vm);
	vm_notify(vm);
}

int arcvm_vm_send_ctrl_alt_del(struct arcvm_vm *vm, struct arcvm_error *err)
{
	pthread_mutex_lock(&vm->lock);
	enum arcvm_state s = vm->state;
	pthread_mutex_unlock(&vm->lock);
	if (s != ARCVM_STATE_RUNNING)
		return err_set(err, ARCVM_E_BAD_STATE, "Ctrl+Alt+Del needs a running VM");
	return i8042_ctrl_alt_del(vm->i8042, err);
}

static void platform_exit(void *opaque, enum arcvm_exit_reason reason)
{
	vm_guest_exit(opaque, reason);
}

/* UART tap: watches the console for the kernel's panic lines. */
static void console_tap(void *opaque, uint8_t byte)
{
	struct arcvm_vm *vm = opaque;
	if (byte != '\n') {
		if (byte != '\r' && vm->line_len < sizeof(vm->line) - 1)
			vm->line[vm->line_len++] = (char)byte;
		return;
	}
	vm->line[vm->line_len] = '\0';
	vm->line_len = 0;
	if (!vm->panic_seen && strstr(vm->line, "Kernel panic - not syncing")) {
		pthread_mutex_lock(&vm->lock);
		snprintf(vm->panic, sizeof(vm->panic), "%s", vm->line);
		vm->panic_seen = true;
		pthread_mutex_unlock(&vm->lock);
	} else if (vm->panic_seen && strstr(vm->line, "---[ end Kernel panic")) {
		/* Printed last; a kernel told not to reboot on panic would hang here. */
		vm_guest_exit(vm, ARCVM_EXIT_PANIC);
	} else if (strstr(vm->line, "reboot: System halted")) {
		/* A halted guest sits in HLT inside KVM's in-kernel LAPIC and never
		 * exits to us; the kernel's last words are how we learn of it. */
		vm_guest_exit(vm, ARCVM_EXIT_HALT);
	}
}

static void uart_set_irq(void *opaque, int level)
{
	struct arcvm_vm *vm = opaque;
	if (vm->irqchip)
		kvm_irq_line(&vm->vmfd, X86_COM1_IRQ, level, NULL);
}

static void i8042_set_irq(void *opaque, int level)
{
	struct arcvm_vm *vm = opaque;
	if (vm->irqchip)
		kvm_irq_line(&vm->vmfd, X86_I8042_IRQ, level, NULL);
}

static int check_readable(const char *path, const char *what, struct arcvm_error *err)
{
	if (access(path, R_OK) == 0)
		return 0;
	int e = errno;
	if (e == ENOENT)
		return err_set(err, ARCVM_E_NOT_FOUND, "%s file %s does not exist", what, path);
	return err_errno(err, err_from_errno(e), e, "cannot read %s %s", what, path);
}

static int check_config(const struct arcvm_config *cfg, struct arcvm_error *err)
{
	if (cfg->mem_size == 0)
		return err_set(err, ARCVM_E_INVALID, "guest memory size must be greater than 0");
	if (cfg->cpus < 1 || cfg->cpus > ARCVM_MAX_CPUS)
		return err_set(err, ARCVM_E_INVALID, "vCPU count %d is out of range 1..%d", cfg->cpus,
			       ARCVM_MAX_CPUS);
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	if (pages > 0 && psize > 0 && cfg->mem_size > (uint64_t)pages * (uint64_t)psize)
		return err_set(err, ARCVM_E_INVALID,
			       "guest memory of %llu MiB is more than this host has (%llu MiB)",
			       (unsigned long long)(cfg->mem_size >> 20),
			       (unsigned long long)(((uint64_t)pages * (uint64_t)psize) >> 20));
	switch (cfg->boot) {
	case ARCVM_BOOT_LINUX:
		if (!cfg->kernel_path || !*cfg->kernel_path)
			return err_set(err, ARCVM_E_INVALID, "no kernel given");
		/* Before touching KVM, so a typo is reported as such on any host. */
		int rc = check_readable(cfg->kernel_path, "kernel", err);
		if (!rc && cfg->initrd_path)
			rc = check_readable(cfg->initrd_path, "initrd", err);
		return rc;
	case ARCVM_BOOT_RAW16:
	case ARCVM_BOOT_RAW64:
		if (!cfg->raw_image || cfg->raw_size == 0)
			return err_set(err, ARCVM_E_INVALID, "no raw image given");
		return 0;
	}
	return err_set(err, ARCVM_E_INVALID, "unknown boot mode %d", (int)cfg->boot);
}

static int vm_copy_config(struct arcvm_vm *vm, const struct arcvm_config *cfg,
			  struct arcvm_error *err)
{
	vm->cfg = *cfg;
	vm->cfg.kernel_path = cfg->kernel_path ? strdup(cfg->kernel_path) : NULL;
	vm->cfg.initrd_path = cfg->initrd_path ? strdup(cfg->initrd_path) : NULL;
	vm->cfg.cmdline = cfg->cmdline ? strdup(cfg->cmdline) : NULL;
	if ((cfg->kernel_path && !vm->cfg.kernel_path) ||
	    (cfg->initrd_path && !vm->cfg.initrd_path) || (cfg->cmdline && !vm->cfg.cmdline))
		return err_set(err, ARCVM_E_NOMEM, "out of memory copying the config");
	/* The raw image is loaded into guest memory during create, not kept. */
	return 0;
}

static int vm_setup_kvm(struct arcvm_vm *vm, struct arcvm_error *err)
{
	int rc = kvm_open(&vm->kvm, err);
	if (rc)
		return rc;
	if (vm->cfg.boot == ARCVM_BOOT_LINUX && vm->kvm.pvm && !vm->cfg.allow_pvm)
		return err_set(err, ARCVM_E_UNSUPPORTED,
			       "this host's /dev/kvm is PVM (kvm_pvm), which cannot boot an "
			       "unmodified Linux kernel: it would hang in early boot. Run arcvm on "
			       "a host with VT-x/AMD-V, or inside the test host (tests/testhost/run), "
			       "or pass --allow-pvm for a kernel built as a PVM guest");
	rc = kvm_vm_create(&vm->kvm, &vm->vmfd, err);
	if (rc)
		return rc;
	rc = kvm_set_tss_addr(&vm->vmfd, X86_TSS_ADDR, err);
	if (!rc)
		rc = kvm_set_identity_map_addr(&vm->vmfd, X86_IDENTITY_MAP_ADDR, err);
	/* Raw test guests run without an irqchip so that HLT exits to userspace,
	 * unless they ask for one to receive interrupts. */
	if (!rc && (vm->cfg.boot == ARCVM_BOOT_LINUX || vm->cfg.irqchip)) {
		rc = kvm_create_irqchip(&vm->vmfd, err);
		if (!rc)
			rc = kvm_create_pit(&vm->vmfd, err);
		vm->irqchip = rc == 0;
	}
	return rc;
}

/* Guest RAM, anonymous or (mem_fd >= 0, restoring) a private view of a
 * memory file. Diff snapshots need KVM to log which pages the guest writes. */
static int vm_setup_memory(struct arcvm_vm *vm, int mem_fd, struct arcvm_error *err)
{
	int rc = mem_create_ram_file(&vm->mem, vm->cfg.mem_size, mem_fd, err);
	uint32_t flags = vm->cfg.track_dirty_pages ? KVM_MEM_LOG_DIRTY_PAGES : 0;
	if (!rc && flags && !(vm->mem.dirty = calloc((vm->cfg.mem_size / 4096 + 63) / 64, 8)))
		rc = err_set(err, ARCVM_E_NOMEM, "out of memory for the dirty page bitmap");
	for (int i = 0; !rc && i < vm->mem.nregions; i++) {
		const struct mem_region *r = &vm->mem.regions[i];
		rc = kvm_set_memory(&vm->vmfd, (uint32_t)i, r->gpa, r->size, r->host, flags, err);
	}
	return rc;
}

static int vm_setup_devices(struct arcvm_vm *vm, struct arcvm_error *err)
{
	int rc = io_loop_create(&vm->io, err);
	if (rc)
		return rc;
	/* With a virtio console, host input goes to hvc0 only. */
	bool virtio_con = vm->cfg.console == ARCVM_CONSOLE_VIRTIO;
	struct uart_config ucfg = {
		.in_fd = virtio_con ? -1 : vm->cfg.console_in_fd, .out_fd = vm->cfg.console_out_fd,
		.io = vm->io,
		.set_irq = uart_set_irq, .tap = console_tap, .opaque = vm,
	};
	rc = uart_create(&ucfg, &vm->uart, err);
	if (rc)
		return rc;
	vm->sink = (struct platform_sink){ .exit = platform_exit, .opaque = vm };
	struct i8042_config kcfg = { .sink = &vm->sink, .set_irq = i8042_set_irq, .irq_opaque = vm };
	rc = i8042_create(&kcfg, &vm->i8042, err);
	if (!rc)
		rc = bus_register(&vm->pio, X86_COM1_PORT, UART_PORT_COUNT, &uart_bus_ops, vm->uart,
				  "uart-com1", err);
	if (!rc)
		rc = bus_register(&vm->pio, X86_I8042_PORT_DATA, 1, &i8042_data_ops, vm->i8042,
				  "i8042-data", err);
	if (!rc)
		rc = bus_register(&vm->pio, X86_I8042_PORT_CMD, 1, &i8042_cmd_ops, vm->i8042,
				  "i8042-cmd", err);
	if (!rc)
		rc = bus_register(&vm->pio, X86_ACPI_SLEEP_CTL_PORT, ACPI_PM_PORT_COUNT, &acpi_pm_ops,
				  &vm->sink, "acpi-pm", err);
	if (!rc)
		rc = vm_setup_virtio(vm, err);
	return rc;
}

static int vm_setup_vcpus(struct arcvm_vm *vm, struct arcvm_error *err)
{
	vm->vcpus = calloc((size_t)vm->cfg.cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return err_set(err, ARCVM_E_NOMEM, "out of memory for vCPUs");
	for (int i = 0; i < vm->cfg.cpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		v->vm = vm;
		v->fd.fd = -1;
		int rc = kvm_vcpu_create(&vm->vmfd, i, &v->fd, err);
		if (rc)
			return rc;
		vm->ncpus = i + 1;
		rc = vm_setup_vcpu(vm, v, err);
		if (rc)
			return rc;
	}
	return 0;
}

int vm_alloc(const struct arcvm_config *cfg, struct arcvm_vm **out, struct arcvm_error *err)
{
	*out = NULL;
	struct arcvm_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return err_set(err, ARCVM_E_NOMEM, "out of memory for the VM");
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	vm->kvm.fd = vm->vmfd.fd = -1;
	vm->state = ARCVM_STATE_CREATED;
	vm->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int rc = 0;
	if (vm->eventfd < 0)
		rc = err_errno(err, ARCVM_E_IO, errno, "eventfd failed");
	if (!rc)
		rc = vm_copy_config(vm, cfg, err);
	if (rc) {
		arcvm_vm_destroy(vm);
		return rc;
	}
	*out = vm;
	return 0;
}

int vm_build(struct arcvm_vm *vm, int mem_fd, struct arcvm_error *err)
{
	int rc;
	if ((rc = vcpu_signal_init(err)) || (rc = vm_setup_kvm(vm, err)) ||
	    (rc = vm_setup_memory(vm, mem_fd, err)) || (rc = vm_setup_shared(vm, err)) ||
	    (rc = vm_setup_devices(vm, err)))
		return rc;
	/* A restored guest's memory already holds its kernel and tables. */
	if (!vm->restoring && (rc = vm_load_guest(vm, err)))
		return rc;
	return vm_setup_vcpus(vm, err);
}

int arcvm_vm_create(const struct arcvm_config *cfg, struct arcvm_vm **out,
		    struct arcvm_error *err)
{
	*out = NULL;
	int rc = check_config(cfg, err);
	if (rc)
		return rc;
	struct arcvm_vm *vm;
	if ((rc = vm_alloc(cfg, &vm, err)))
		return rc;
	if ((rc = vm_build(vm, -1, err))) {
		arcvm_vm_destroy(vm);
		return rc;
	}
	*out = vm;
	return 0;
}

/* Starts the I/O thread, the console input and the vCPU threads. */
static int vm_start_threads(struct arcvm_vm *vm, struct arcvm_error *err)
{
	int rc = io_loop_start(vm->io, err);
	if (!rc)
		rc = uart_start_input(vm->uart, err);
	for (int i = 0; !rc && i < vm->ncpus; i++)
		rc = vcpu_start(&vm->vcpus[i], err);
	return rc;
}

int arcvm_vm_boot(struct arcvm_vm *vm, struct arcvm_error *err)
{
	if (vm->state != ARCVM_STATE_CREATED)
		return err_set(err, ARCVM_E_BAD_STATE, "cannot boot a VM that is %s",
			       arcvm_state_name(vm->state));
	int rc = vm_start_threads(vm, err);
	pthread_mutex_lock(&vm->lock);
	vm->state = ARCVM_STATE_RUNNING;
	pthread_mutex_unlock(&vm->lock);
	if (rc)
		arcvm_vm_shutdown(vm, NULL);   /* undo the threads that did start */
	return rc;
}

int vm_start_paused(struct arcvm_vm *vm, struct arcvm_error *err)
{
	/* Each vCPU thread parks at its first pause point, before any KVM_RUN
	 * enters the guest. */
	vm->pause_requested = true;
	int rc = vm_start_threads(vm, err);
	pthread_mutex_lock(&vm->lock);
	vm->state = ARCVM_STATE_RUNNING;
	while (!rc && vm->vcpus_paused < vm->ncpus && !atomic_load(&vm->stop))
		pthread_cond_wait(&vm->cond, &vm->lock);
	if (!rc && !atomic_load(&vm->stop))
		vm->state = ARCVM_STATE_PAUSED;
	pthread_mutex_unlock(&vm->lock);
	if (!rc && vm->state != ARCVM_STATE_PAUSED)
		rc = err_set(err, ARCVM_E_BAD_STATE, "the restored VM stopped before it ran");
	if (rc)
		arcvm_vm_shutdown(vm, NULL);
	return rc;
}

/* Joins every thread once stop is set, and enters Stopped. */
static void vm_finish(struct arcvm_vm *vm)
{
	if (vm->state == ARCVM_STATE_STOPPED)
		return;
	atomic_store(&vm->stop, true);
	pthread_mutex_lock(&vm->lock);
	vm->pause_requested = false;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	vm_kick_all(vm);
	for (int i = 0; i < vm->ncpus; i++)
		vcpu_join(&vm->vcpus[i]);
	if (vm->io)
		io_loop_stop(vm->io);
	pthread_mutex_lock(&vm->lock);
	if (vm->exit_reason == ARCVM_EXIT_NONE)
		vm->exit_reason = ARCVM_EXIT_STOPPED;
	vm->state = ARCVM_STATE_STOPPED;
	pthread_mutex_unlock(&vm->lock);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int arcvm_vm_wait(struct arcvm_vm *vm, int timeout_ms, enum arcvm_exit_reason *reason,
		  struct arcvm_error *err)
{
	if (vm->state == ARCVM_STATE_CREATED)
		return err_set(err, ARCVM_E_BAD_STATE, "cannot wait for a VM that was never booted");
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	while (!atomic_load(&vm->stop)) {
		int left = -1;
		if (deadline >= 0) {
			int64_t d = deadline - now_ms();
			if (d <= 0)
				return err_set(err, ARCVM_E_BUSY, "the VM is still running after %d ms",
					       timeout_ms);
			left = (int)d;
		}
		struct pollfd p = { .fd = vm->eventfd, .events = POLLIN };
		if (poll(&p, 1, left) > 0) {
			uint64_t v;
			if (read(vm->eventfd, &v, sizeof(v)) < 0) {
				/* EAGAIN: another waiter consumed it; stop is re-checked. */
			}
		}
	}
	vm_finish(vm);
	if (reason)
		*reason = vm->exit_reason;
	return 0;
}

int arcvm_vm_pause(struct arcvm_vm *vm, struct arcvm_error *err)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->state != ARCVM_STATE_RUNNING || atomic_load(&vm->stop)) {
		enum arcvm_state s = vm->state;
		pthread_mutex_unlock(&vm->lock);
		return err_set(err, ARCVM_E_BAD_STATE, "cannot pause a VM that is %s",
			       atomic_load(&vm->stop) ? "stopping" : arcvm_state_name(s));
	}
	vm->pause_requested = true;
	pthread_mutex_unlock(&vm->lock);
	vm_kick_all(vm);
	pthread_mutex_lock(&vm->lock);
	while (vm->vcpus_paused < vm->ncpus && !atomic_load(&vm->stop))
		pthread_cond_wait(&vm->cond, &vm->lock);
	bool stopped = atomic_load(&vm->stop);
	if (!stopped)
		vm->state = ARCVM_STATE_PAUSED;
	pthread_mutex_unlock(&vm->lock);
	if (stopped)
		return err_set(err, ARCVM_E_BAD_STATE, "the guest stopped while being paused");
	return 0;
}

int arcvm_vm_resume(struct arcvm_vm *vm, struct arcvm_error *err)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->state != ARCVM_STATE_PAUSED) {
		enum arcvm_state s = vm->state;
		pthread_mutex_unlock(&vm->lock);
		return err_set(err, ARCVM_E_BAD_STATE, "cannot resume a VM that is %s",
			       arcvm_state_name(s));
	}
	vm->pause_requested = false;
	vm->state = ARCVM_STATE_RUNNING;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

int arcvm_vm_shutdown(struct arcvm_vm *vm, struct arcvm_error *err)
{
	vm_finish(vm);
	return 0;
}

void arcvm_vm_destroy(struct arcvm_vm *vm)
{
	if (!vm)
		return;
	vm_finish(vm);
	for (int i = 0; i < vm->ncpus; i++)
		kvm_vcpu_close(&vm->vcpus[i].fd);
	free(vm->vcpus);
	free(vm->cpuid);
	vm_teardown_virtio(vm);   /* after the I/O thread stopped, before the loop is freed */
	io_loop_destroy(vm->io);
	uart_destroy(vm->uart);
	i8042_destroy(vm->i8042);
	free(vm->mem.dirty);
	mem_destroy(&vm->mem);
	kvm_vm_close(&vm->vmfd);
	vm_regions_destroy(vm);         /* after the VM let go of their slots */
	kvm_close(&vm->kvm);
	if (vm->eventfd >= 0)
		close(vm->eventfd);
	free((char *)vm->cfg.kernel_path);
	free((char *)vm->cfg.initrd_path);
	free((char *)vm->cfg.cmdline);
	free(vm->cmdline);
	vm_snapshot_free(vm);
	pthread_cond_destroy(&vm->cond);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

enum arcvm_state arcvm_vm_state(const struct arcvm_vm *vm)
{
	return vm->state;
}

const struct arcvm_config *arcvm_vm_config(const struct arcvm_vm *vm)
{
	return &vm->cfg;
}

const char *arcvm_vm_panic_message(const struct arcvm_vm *vm)
{
	return vm->panic_seen ? vm->panic : NULL;
}

bool arcvm_host_is_pvm(void)
{
	return kvm_host_is_pvm();
}

static void user_handler_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct vm_user_handler *h = opaque;
	h->fn(h->opaque, h->base + off, false, data, len);
}

static void user_handler_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct vm_user_handler *h = opaque;
	h->fn(h->opaque, h->base + off, true, (void *)data, len);
}

static const struct bus_ops user_handler_ops = {
	.read = user_handler_read, .write = user_handler_write,
};

int arcvm_exit_handler(struct arcvm_vm *vm, enum arcvm_space space, uint64_t base, uint64_t len,
		       arcvm_io_fn fn, void *opaque, struct arcvm_error *err)
{
	/* While Paused every vCPU is parked, so none reads the bus as it changes
	 * (a restored VM starts Paused and needs its handlers again). */
	if (vm->state != ARCVM_STATE_CREATED && vm->state != ARCVM_STATE_PAUSED)
		return err_set(err, ARCVM_E_BAD_STATE,
			       "exit handlers must be added before boot or while paused");
	if (!fn)
		return err_set(err, ARCVM_E_INVALID, "exit handler function is NULL");
	int rc = vm_check_handler_range(vm, space, base, len, err);
	if (rc)
		return rc;
	if (vm->nhandlers == VM_MAX_USER_HANDLERS)
		return err_set(err, ARCVM_E_INVALID, "too many exit handlers (max %d)",
			       VM_MAX_USER_HANDLERS);
	struct vm_user_handler *h = &vm->handlers[vm->nhandlers];
	*h = (struct vm_user_handler){ .fn = fn, .opaque = opaque, .base = base };
	struct bus *bus = space == ARCVM_SPACE_PIO ? &vm->pio : &vm->mmio;
	rc = bus_register(bus, base, len, &user_handler_ops, h, "user-handler", err);
	if (!rc)
		vm->nhandlers++;
	return rc;
}

int arcvm_vcpu_get_regs(struct arcvm_vm *vm, int cpu, struct arcvm_regs *out,
			struct arcvm_error *err)
{
	if (cpu < 0 || cpu >= vm->ncpus)
		return err_set(err, ARCVM_E_INVALID, "no vCPU %d (the VM has %d)", cpu, vm->ncpus);
	if (vm->state == ARCVM_STATE_RUNNING)
		return err_set(err, ARCVM_E_BAD_STATE, "registers can only be read while not running");
	struct kvm_regs r;
	int rc = kvm_vcpu_get_regs(&vm->vcpus[cpu].fd, &r, err);
	if (rc)
		return rc;
	*out = (struct arcvm_regs){
		.rax = r.rax, .rbx = r.rbx, .rcx = r.rcx, .rdx = r.rdx, .rsi = r.rsi, .rdi = r.rdi,
		.rsp = r.rsp, .rbp = r.rbp, .r8 = r.r8, .r9 = r.r9, .r10 = r.r10, .r11 = r.r11,
		.r12 = r.r12, .r13 = r.r13, .r14 = r.r14, .r15 = r.r15, .rip = r.rip,
		.rflags = r.rflags,
	};
	return 0;
}
