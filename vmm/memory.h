/*
 * memory.h - guest physical memory: the RAM layout and the one bounds-checked
 * way to reach guest memory from the host. Every other file that touches
 * guest memory goes through mem_ptr()/mem_read()/mem_write().
 *
 * Layout: RAM starts at GPA 0. RAM above MEM_HOLE_START (3 GiB) continues at
 * 4 GiB, leaving a 1 GiB hole below 4 GiB for MMIO devices, the IOAPIC and
 * the LAPIC.
 *
 * Thread safety: the region table is fixed before the vCPUs start; the
 * accessors are then safe from any thread (they do not lock; guest memory
 * itself may change under the caller, so copy before validating).
 */
#ifndef VMM_MEMORY_H
#define VMM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arcvm.h"

#define MEM_HOLE_START 0xC0000000ull   /* 3 GiB */
#define MEM_HOLE_END   0x100000000ull  /* 4 GiB */
#define MEM_MAX_REGIONS 16

struct mem_region {
	uint64_t gpa;      /* first guest physical address */
	uint64_t size;     /* bytes */
	uint8_t *host;     /* host virtual address of gpa */
	bool owned;        /* munmap on mem_destroy */
	bool is_ram;       /* part of guest RAM (listed in e820) */
};

struct guest_mem {
	struct mem_region regions[MEM_MAX_REGIONS];
	int nregions;
	uint64_t ram_size;   /* total bytes of RAM across RAM regions */
	/* A range above RAM that the e820 map reports reserved (the shared
	 * memory region, vmm/shared.c); reserved_size 0: none. Not RAM, and not
	 * reachable through the accessors below. */
	uint64_t reserved_gpa, reserved_size;
	/* With dirty tracking (diff snapshots): one bit per 4 KiB page of RAM,
	 * numbered as in a memory file (RAM regions end to end), for the pages
	 * the VMM itself writes (KVM logs the guest's). Owned by the VM. */
	uint64_t *dirty;
};

/* Allocates ram_size bytes of anonymous memory laid out around the hole.
 * Fails with ARCVM_E_INVALID for 0, ARCVM_E_NOMEM when the host cannot map it. */
int mem_create_ram(struct guest_mem *m, uint64_t ram_size, struct arcvm_error *err);

/* Like mem_create_ram, but when fd >= 0 the RAM is a private (copy-on-write)
 * mapping of that file, RAM regions laid end to end from offset 0: guest
 * writes never reach the file. The caller checked the file is long enough. */
int mem_create_ram_file(struct guest_mem *m, uint64_t ram_size, int fd, struct arcvm_error *err);

/* Where RAM region `region` starts in a memory file (RAM regions end to end). */
uint64_t mem_file_offset(const struct guest_mem *m, int region);

/* Adds an existing host buffer at gpa (used by tests for a fake guest memory,
 * and for mapped regions). Refuses overlaps and wrap-around. */
int mem_add_region(struct guest_mem *m, uint64_t gpa, void *host, uint64_t size, bool is_ram,
		   struct arcvm_error *err);

void mem_destroy(struct guest_mem *m);

/* Host pointer to [gpa, gpa+len) if the whole range lies inside one region,
 * else NULL. Overflow-safe for any gpa and len the guest may supply. */
void *mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Copies between guest memory and a host buffer. Return 0, or -1 when any
 * byte of the range is outside guest memory (nothing is copied then). */
int mem_read(const struct guest_mem *m, uint64_t gpa, void *dst, size_t len);
int mem_write(const struct guest_mem *m, uint64_t gpa, const void *src, size_t len);

/* Marks [gpa, gpa+len) written by the host, when m->dirty is set. Any
 * thread; ranges outside RAM are ignored. */
void mem_mark_dirty(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Highest RAM address + 1 (the end of the last RAM region). */
uint64_t mem_ram_end(const struct guest_mem *m);

#endif
