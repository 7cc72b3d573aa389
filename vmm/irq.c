/*
 * irq.c - arcvm_inject_irq: a library user's interrupts, through the
 * in-kernel irqchip. Callable from any thread: KVM serialises its irqchip
 * itself, and the VM's state is read under its lock.
 */
#include "arch/x86/layout.h"
#include "util/err.h"
#include "vmm/vm.h"

static int check_msi(const struct arcvm_irq *irq, struct arcvm_error *err)
{
	if (irq->msi_address < X86_MSI_ADDR_BASE ||
	    irq->msi_address - X86_MSI_ADDR_BASE >= X86_MSI_ADDR_SIZE)
		return err_set(err, ARCVM_E_INVALID,
			       "MSI address 0x%llx is outside the LAPIC's window 0x%llx..0x%llx",
			       (unsigned long long)irq->msi_address,
			       (unsigned long long)X86_MSI_ADDR_BASE,
			       (unsigned long long)(X86_MSI_ADDR_BASE + X86_MSI_ADDR_SIZE - 1));
	if (irq->msi_data >> 16)
		return err_set(err, ARCVM_E_INVALID,
			       "MSI data 0x%x sets reserved bits 31:16", irq->msi_data);
	return 0;
}

int arcvm_inject_irq(struct arcvm_vm *vm, const struct arcvm_irq *irq, struct arcvm_error *err)
{
	if (!vm->irqchip)
		return err_set(err, ARCVM_E_UNSUPPORTED,
			       "the VM has no in-kernel irqchip to inject into (a raw boot needs "
			       "config.irqchip)");
	pthread_mutex_lock(&vm->lock);
	enum arcvm_state s = vm->state;
	pthread_mutex_unlock(&vm->lock);
	if (s == ARCVM_STATE_STOPPED)
		return err_set(err, ARCVM_E_BAD_STATE, "cannot inject an interrupt into a stopped VM");
	switch (irq->kind) {
	case ARCVM_IRQ_LINE:
		if (irq->gsi >= X86_IOAPIC_PINS)
			return err_set(err, ARCVM_E_INVALID, "GSI %u is not an IOAPIC pin (0..%d)",
				       irq->gsi, X86_IOAPIC_PINS - 1);
		return kvm_irq_line(&vm->vmfd, irq->gsi, irq->level ? 1 : 0, err);
	case ARCVM_IRQ_MSI: {
		int rc = check_msi(irq, err);
		if (rc)
			return rc;
		if (!kvm_vm_check_cap(&vm->vmfd, KVM_CAP_SIGNAL_MSI))
			return err_set(err, ARCVM_E_UNSUPPORTED,
				       "this host's KVM lacks KVM_CAP_SIGNAL_MSI");
		return kvm_signal_msi(&vm->vmfd, irq->msi_address, irq->msi_data, NULL, err);
	}
	}
	return err_set(err, ARCVM_E_INVALID, "unknown interrupt kind %d", (int)irq->kind);
}
