/*
 * vm_virtio.c - the VM's virtio devices: the explicit table of what a config
 * asks for (drives in order, shares, entropy, vsock, console, network), each attached to its own
 * virtio-mmio slot. Slot n sits at X86_VIRTIO_MMIO_BASE + n * SIZE on GSI
 * X86_VIRTIO_IRQ_BASE + n; the DSDT announces every slot to the guest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "util/err.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/net.h"
#include "virtio/p9.h"
#include "virtio/rng.h"
#include "virtio/vsock.h"
#include "vmm/vm.h"

/* Attaches dev to the next free slot; on failure dev is destroyed. */
static int vm_attach(struct arcvm_vm *vm, struct virtio_dev *dev, struct arcvm_error *err)
{
	if (vm->nvirtio == X86_VIRTIO_MAX) {
		dev->ops->destroy(dev);
		return err_set(err, ARCVM_E_INVALID, "too many virtio devices (max %d)",
			       X86_VIRTIO_MAX);
	}
	struct virtio_mmio_env env = {
		.mem = &vm->mem, .mmio_bus = &vm->mmio, .vm = &vm->vmfd, .io = vm->io,
	};
	int n = vm->nvirtio;
	int rc = virtio_mmio_attach(&env, dev, X86_VIRTIO_MMIO_BASE + (uint64_t)n * X86_VIRTIO_MMIO_SIZE,
				    (uint32_t)(X86_VIRTIO_IRQ_BASE + n), &vm->virtio[n], err);
	if (rc) {
		dev->ops->destroy(dev);
		return rc;
	}
	vm->nvirtio++;
	return 0;
}

static int vm_add_drives(struct arcvm_vm *vm, struct arcvm_error *err)
{
	for (int i = 0; i < vm->cfg.ndrives; i++) {
		struct virtio_dev *dev;
		int rc = vblk_create(&vm->cfg.drives[i], &dev, err);
		if (!rc)
			rc = vm_attach(vm, dev, err);
		if (rc)
			return rc;
	}
	return 0;
}

int vm_setup_virtio(struct arcvm_vm *vm, struct arcvm_error *err)
{
	if (vm->cfg.ndrives < 0 || vm->cfg.ndrives > ARCVM_MAX_DRIVES)
		return err_set(err, ARCVM_E_INVALID, "%d drives, at most %d", vm->cfg.ndrives,
			       ARCVM_MAX_DRIVES);
	if (vm->cfg.nshares < 0 || vm->cfg.nshares > ARCVM_MAX_SHARES)
		return err_set(err, ARCVM_E_INVALID, "%d shares, at most %d", vm->cfg.nshares,
			       ARCVM_MAX_SHARES);
	if (vm->cfg.nnets < 0 || vm->cfg.nnets > ARCVM_MAX_NETS)
		return err_set(err, ARCVM_E_INVALID, "%d network interfaces, at most %d",
			       vm->cfg.nnets, ARCVM_MAX_NETS);
	bool wants = vm->cfg.ndrives || vm->cfg.rng || vm->cfg.console == ARCVM_CONSOLE_VIRTIO ||
		     vm->cfg.vsock_uds_path || vm->cfg.nshares || vm->cfg.nnets;
	if (!wants)
		return 0;
	/* Interrupts are irqfds into the in-kernel irqchip, which raw boots lack
	 * unless they ask for one. */
	if (!vm->irqchip)
		return err_set(err, ARCVM_E_UNSUPPORTED, "virtio devices need an in-kernel irqchip "
			       "(a Linux boot, or config.irqchip for a raw one)");
	int rc = vm_add_drives(vm, err);
	struct virtio_dev *dev;
	for (int i = 0; !rc && i < vm->cfg.nshares; i++) {
		const struct arcvm_share *sh = &vm->cfg.shares[i];
		rc = vp9_create(sh->host_path, sh->tag, sh->read_only, &dev, err);
		if (!rc)
			rc = vm_attach(vm, dev, err);
	}
	if (!rc && vm->cfg.rng) {
		rc = vrng_create(&dev, err);
		if (!rc)
			rc = vm_attach(vm, dev, err);
	}
	if (!rc && vm->cfg.vsock_uds_path) {
		rc = vsock_create(vm->cfg.vsock_cid, vm->cfg.vsock_uds_path, &dev, err);
		if (!rc)
			rc = vm_attach(vm, dev, err);
	}
	if (!rc && vm->cfg.console == ARCVM_CONSOLE_VIRTIO) {
		rc = vcon_create(vm->cfg.console_in_fd, vm->cfg.console_out_fd, &dev, err);
		if (!rc)
			rc = vm_attach(vm, dev, err);
	}
	for (int i = 0; !rc && i < vm->cfg.nnets; i++) {
		rc = vnet_create(&vm->cfg.nets[i], i, vm->cfg.cpus, vm->cfg.log, vm->cfg.log_opaque,
				 &dev, err);
		if (!rc)
			rc = vm_attach(vm, dev, err);
	}
	return rc;
}

void vm_teardown_virtio(struct arcvm_vm *vm)
{
	for (int i = 0; i < ARCVM_MAX_DRIVES; i++) {
		free(vm->drive_paths[i]);
		vm->drive_paths[i] = NULL;
	}
	for (int i = 0; i < vm->nvirtio; i++)
		virtio_mmio_detach(vm->virtio[i]);
	vm->nvirtio = 0;
}

int vm_virtio_acpi(const struct arcvm_vm *vm, struct x86_mmio_dev *out)
{
	for (int i = 0; i < vm->nvirtio; i++)
		out[i] = (struct x86_mmio_dev){
			.base = X86_VIRTIO_MMIO_BASE + (uint64_t)i * X86_VIRTIO_MMIO_SIZE,
			.size = X86_VIRTIO_MMIO_SIZE,
			.gsi = (uint32_t)(X86_VIRTIO_IRQ_BASE + i),
		};
	return vm->nvirtio;
}

int arcvm_vm_drive_replace(struct arcvm_vm *vm, int index, const char *path,
			   struct arcvm_error *err)
{
	if (index < 0 || index >= vm->cfg.ndrives)
		return err_set(err, ARCVM_E_INVALID, "no drive %d (the VM has %d)", index,
			       vm->cfg.ndrives);
	if (vm->state == ARCVM_STATE_STOPPED)
		return err_set(err, ARCVM_E_BAD_STATE, "cannot change a drive of a stopped VM");
	char *copy = strdup(path);
	if (!copy)
		return err_set(err, ARCVM_E_NOMEM, "out of memory");
	/* Drives were attached first, in order: drive i is virtio slot i. */
	int rc = vblk_replace_image(virtio_mmio_dev(vm->virtio[index]), path, err);
	if (rc) {
		free(copy);
		return rc;
	}
	/* A snapshot records the image the drive has now. */
	free(vm->drive_paths[index]);
	vm->drive_paths[index] = copy;
	vm->cfg.drives[index].path = copy;
	return 0;
}

/* Drives come first, so drive i is /dev/vd('a' + i) in the guest. */
int vm_root_cmdline(const struct arcvm_vm *vm, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int i = 0; i < vm->cfg.ndrives; i++) {
		const struct arcvm_drive *d = &vm->cfg.drives[i];
		if (d->root)
			return snprintf(buf, len, " arcvm.root=/dev/vd%c%s", 'a' + i,
					d->read_only ? " arcvm.rootro=1" : "");
	}
	return 0;
}
