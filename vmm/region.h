/*
 * region.h - memory regions a library user maps into the guest
 * (arcvm_map_region), and the checks that keep them, guest RAM, arcvm's
 * device windows and exit handlers from overlapping.
 *
 * Ownership: the controlling thread alone changes the table, and only while
 * no vCPU runs (Created or Paused). vCPU threads never read it: the guest
 * reaches a region through its KVM slot, and a write to a read-only region
 * comes back as an MMIO exit on the bus. Devices never see regions at all
 * (they reach guest memory through vmm/memory.c, which holds only RAM), so
 * unmapping cannot pull memory from under the I/O thread.
 */
#ifndef VMM_REGION_H
#define VMM_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arcvm.h"

/* Region i uses KVM slot VM_REGION_SLOT_BASE + i; RAM uses the slots below. */
#define VM_REGION_SLOT_BASE 64

struct vm_region {
	bool used;
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;        /* host address of gpa */
	void *map;            /* arcvm's own mapping of the caller's fd, or NULL */
	uint32_t flags;       /* ARCVM_REGION_* */
};

struct vm_regions {
	struct vm_region r[ARCVM_MAX_REGIONS];
};

/* Sets *out to the host address of [gpa, gpa+len) when it lies inside guest
 * RAM or inside one region. Fails with ARCVM_E_INVALID ("not in guest
 * memory"), or ARCVM_E_PERMISSION for a write into a read-only region. */
int vm_guest_ptr(struct arcvm_vm *vm, uint64_t gpa, uint64_t len, bool write, void **out,
		 struct arcvm_error *err);

/* Refuses an exit handler range that arcvm already serves or that the guest
 * reaches as memory (see arcvm_exit_handler in arcvm.h). */
int vm_check_handler_range(struct arcvm_vm *vm, enum arcvm_space space, uint64_t base,
			   uint64_t len, struct arcvm_error *err);

/* Unmaps every region's arcvm-owned mapping; the KVM slots go with the VM. */
void vm_regions_destroy(struct arcvm_vm *vm);

#endif
