/*
 * e820.c - the BIOS memory map a Linux guest reads from its zero page,
 * derived from the RAM regions of the guest memory.
 *
 * [X86_EBDA_START, 1 MiB) is always reported reserved: the MP table and the
 * ACPI tables live there, and the kernel must not reuse that memory.
 * mem->reserved_gpa/size (shared memory, above all RAM) is reported reserved
 * too, so the kernel neither uses it as RAM nor places devices there, and
 * /dev/mem may map it (docs/shared-memory.md).
 */
#include "arch/x86/layout.h"
#include "arch/x86/x86.h"

#define E820_RAM      1
#define E820_RESERVED 2

struct e820_out {
	struct x86_e820_entry *e;
	int n, max;
};

/* Appends [start, end) unless empty; merges with a touching entry of the
 * same type. Returns -1 when the table is full. */
static int add(struct e820_out *o, uint64_t start, uint64_t end, uint32_t type)
{
	if (end <= start)
		return 0;
	if (o->n > 0) {
		struct x86_e820_entry *last = &o->e[o->n - 1];
		if (last->type == type && last->addr + last->size == start) {
			last->size += end - start;
			return 0;
		}
	}
	if (o->n == o->max)
		return -1;
	o->e[o->n++] = (struct x86_e820_entry){ .addr = start, .size = end - start, .type = type };
	return 0;
}

/* The RAM region with the lowest gpa above `after` (or at it when
 * `inclusive`), or NULL; regions are few, so a scan per step is fine. */
static const struct mem_region *next_ram(const struct guest_mem *mem, uint64_t after,
					 bool inclusive)
{
	const struct mem_region *best = NULL;

	for (int i = 0; i < mem->nregions; i++) {
		const struct mem_region *r = &mem->regions[i];
		if (!r->is_ram || r->gpa < after || (!inclusive && r->gpa == after))
			continue;
		if (!best || r->gpa < best->gpa)
			best = r;
	}
	return best;
}

/* Adds one RAM region in ascending order, cutting out the reserved BIOS
 * area. Regions never overlap (mem_add_region refuses it). */
static int add_region(struct e820_out *o, const struct mem_region *r, bool *bios_done)
{
	uint64_t start = r->gpa, end = r->gpa + r->size;

	if (!*bios_done && end > X86_EBDA_START) {
		if (add(o, start, end < X86_EBDA_START ? end : X86_EBDA_START, E820_RAM) ||
		    add(o, X86_EBDA_START, X86_BIOS_END, E820_RESERVED))
			return -1;
		*bios_done = true;
		if (start < X86_BIOS_END)
			start = X86_BIOS_END;
	}
	return add(o, start, end, E820_RAM);
}

int x86_e820_build(const struct guest_mem *mem, struct x86_e820_entry *out, int max)
{
	struct e820_out o = { .e = out, .n = 0, .max = max };
	bool bios_done = false;
	const struct mem_region *r = next_ram(mem, 0, true);

	for (; r; r = next_ram(mem, r->gpa, false)) {
		if (!bios_done && r->gpa >= X86_BIOS_END) {
			if (add(&o, X86_EBDA_START, X86_BIOS_END, E820_RESERVED))
				return ARCVM_E_INVALID;
			bios_done = true;
		}
		if (add_region(&o, r, &bios_done))
			return ARCVM_E_INVALID;
	}
	if (!bios_done && add(&o, X86_EBDA_START, X86_BIOS_END, E820_RESERVED))
		return ARCVM_E_INVALID;
	if (mem->reserved_size) {
		/* Callers place it above RAM, so the map stays sorted. */
		if (mem->reserved_gpa < mem_ram_end(mem))
			return ARCVM_E_INVALID;
		if (add(&o, mem->reserved_gpa, mem->reserved_gpa + mem->reserved_size,
			E820_RESERVED))
			return ARCVM_E_INVALID;
	}
	return o.n;
}
