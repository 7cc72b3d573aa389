/*
 * shared.h - zero-copy shared memory: placing cfg.shared_fd in the guest's
 * physical address space and announcing it (docs/shared-memory.md).
 */
#ifndef VMM_SHARED_H
#define VMM_SHARED_H

#include <stddef.h>
#include <stdint.h>

#include "arcvm.h"

/* The guest-physical address of shared memory for a guest whose RAM ends
 * at ram_end: the first X86_SHM_ALIGN boundary at or above both ram_end and
 * 4 GiB. */
uint64_t shared_place(uint64_t ram_end);

/* Maps cfg.shared_fd (when cfg.shared_size > 0) as a region at its place
 * and has the e820 map report it reserved. After guest RAM exists, before
 * the guest is loaded. Fails like arcvm_map_region, the message prefixed
 * with "shared memory: ". */
int vm_setup_shared(struct arcvm_vm *vm, struct arcvm_error *err);

/* " arcvm.shm=0xSIZE@0xGPA" for the kernel command line, or "". */
int vm_shared_cmdline(const struct arcvm_vm *vm, char *buf, size_t len);

#endif
