/*
 * long_mode.c - the CPU state the Linux 64-bit boot protocol expects at
 * entry, also used for raw 64-bit test guests: a flat GDT, identity-mapped
 * page tables for 0..4 GiB and the control registers of long mode.
 *
 * boot.rst: "a GDT must be loaded with the descriptors for selector
 * __BOOT_CS(0x10) and __BOOT_DS(0x18)"; CS must be __BOOT_CS and the data
 * segments __BOOT_DS. The GDT therefore is:
 *   0x00 null, 0x08 flat 32-bit code, 0x10 64-bit code, 0x18 flat data,
 *   0x20 a 16-byte 64-bit TSS descriptor (TR must be a busy TSS for VMX).
 */
#include <string.h>

#include "arch/x86/layout.h"
#include "arch/x86/x86.h"
#include "util/err.h"

#define BOOT_CS32 0x08
#define BOOT_CS   0x10
#define BOOT_DS   0x18
#define BOOT_TSS  0x20
#define GDT_ENTRIES 6  /* the TSS descriptor takes two slots */

/* Descriptor flags as the kernel's GDT_ENTRY() packs them: bits 15..12 are
 * G, D/B, L, AVL; bits 7..0 are P, DPL, S, type. */
#define DESC_CODE64 0xA09Bu  /* G, L, P, S, execute/read accessed */
#define DESC_CODE32 0xC09Bu  /* G, D, P, S, execute/read accessed */
#define DESC_DATA   0xC093u  /* G, B, P, S, read/write accessed */
#define DESC_TSS64  0x008Bu  /* P, busy 64-bit TSS */
#define TSS_LIMIT   0x67u

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_PG (1ull << 31)
#define CR4_PAE        (1ull << 5)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

#define PTE_PRESENT  (1ull << 0)
#define PTE_WRITE    (1ull << 1)
#define PTE_LARGE    (1ull << 7)  /* in a PD entry: a 2 MiB page */
#define PAGE_SIZE    0x1000ull
#define LARGE_PAGE   0x200000ull
#define PT_ENTRIES   512
#define IDENTITY_PDS 4            /* 4 PDs x 1 GiB = 0..4 GiB */

_Static_assert(X86_PDPT_ADDR == X86_PML4_ADDR + PAGE_SIZE, "page tables are contiguous");
_Static_assert(X86_PD_ADDR == X86_PDPT_ADDR + PAGE_SIZE, "page tables are contiguous");

static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000u) << 32) | ((uint64_t)(base & 0x00ffffffu) << 16) |
	       (limit & 0xffffu) | ((uint64_t)(limit & 0xf0000u) << 32) |
	       ((uint64_t)(flags & 0xf0ffu) << 40);
}

/* The hidden part of a segment register as the CPU loads it from `desc`. */
static struct kvm_segment seg_from_desc(uint64_t desc, uint16_t selector)
{
	uint32_t limit = (uint32_t)((desc & 0xffff) | ((desc >> 32) & 0xf0000));
	struct kvm_segment s = {
		.base = ((desc >> 16) & 0xffffff) | ((desc >> 32) & 0xff000000),
		.selector = selector,
		.type = (desc >> 40) & 0xf,
		.s = (desc >> 44) & 1,
		.dpl = (desc >> 45) & 3,
		.present = (desc >> 47) & 1,
		.avl = (desc >> 52) & 1,
		.l = (desc >> 53) & 1,
		.db = (desc >> 54) & 1,
		.g = (desc >> 55) & 1,
	};
	s.limit = s.g ? (limit << 12) | 0xfff : limit;
	return s;
}

static void build_gdt(uint64_t gdt[GDT_ENTRIES])
{
	memset(gdt, 0, GDT_ENTRIES * sizeof(gdt[0]));
	gdt[BOOT_CS32 / 8] = gdt_entry(DESC_CODE32, 0, 0xfffff);
	gdt[BOOT_CS / 8] = gdt_entry(DESC_CODE64, 0, 0xfffff);
	gdt[BOOT_DS / 8] = gdt_entry(DESC_DATA, 0, 0xfffff);
	gdt[BOOT_TSS / 8] = gdt_entry(DESC_TSS64, 0, TSS_LIMIT);
	/* gdt[BOOT_TSS / 8 + 1]: upper half of the TSS base, 0. */
}

#define PT_BYTES ((2 + IDENTITY_PDS) * PAGE_SIZE)

static void put64(uint8_t *table, uint64_t index, uint64_t value)
{
	memcpy(table + index * 8, &value, 8);
}

/* PML4[0] -> PDPT; PDPT[0..3] -> the 4 PDs; each PD maps 1 GiB in 2 MiB
 * pages. `pt` is the guest's memory at X86_PML4_ADDR, PT_BYTES long. */
static void build_page_tables(uint8_t *pt)
{
	uint8_t *pml4 = pt, *pdpt = pt + PAGE_SIZE, *pd = pt + 2 * PAGE_SIZE;

	memset(pt, 0, PT_BYTES);
	put64(pml4, 0, X86_PDPT_ADDR | PTE_PRESENT | PTE_WRITE);
	for (uint64_t i = 0; i < IDENTITY_PDS; i++)
		put64(pdpt, i, (X86_PD_ADDR + i * PAGE_SIZE) | PTE_PRESENT | PTE_WRITE);
	for (uint64_t j = 0; j < IDENTITY_PDS * PT_ENTRIES; j++)
		put64(pd, j, (j * LARGE_PAGE) | PTE_PRESENT | PTE_WRITE | PTE_LARGE);
}

static void fill_sregs(const uint64_t gdt[GDT_ENTRIES], struct kvm_sregs *sregs)
{
	struct kvm_segment data = seg_from_desc(gdt[BOOT_DS / 8], BOOT_DS);

	sregs->gdt.base = X86_GDT_ADDR;
	sregs->gdt.limit = GDT_ENTRIES * 8 - 1;
	/* An empty IDT: any exception before the guest loads its own becomes
	 * a triple fault, which the VMM reports, instead of running garbage. */
	sregs->idt.base = 0;
	sregs->idt.limit = 0;
	sregs->cs = seg_from_desc(gdt[BOOT_CS / 8], BOOT_CS);
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
	sregs->tr = seg_from_desc(gdt[BOOT_TSS / 8], BOOT_TSS);
	sregs->ldt = (struct kvm_segment){ .limit = 0xffff, .type = 2, .present = 1 };

	/* Set, not OR-ed: the reset value of CR0 has CD and NW, which would
	 * leave the guest running uncached. OSFXSR lets compiled test guests
	 * use SSE; Linux sets its own CR4 soon after entry. */
	sregs->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_PG;
	sregs->cr3 = X86_PML4_ADDR;
	sregs->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs->efer |= EFER_LME | EFER_LMA;
}

int x86_setup_long_mode(struct guest_mem *mem, struct kvm_sregs *sregs, struct arcvm_error *err)
{
	uint64_t gdt[GDT_ENTRIES];
	uint8_t *pt = mem_ptr(mem, X86_PML4_ADDR, PT_BYTES);

	build_gdt(gdt);
	if (mem_write(mem, X86_GDT_ADDR, gdt, sizeof(gdt)))
		return err_set(err, ARCVM_E_INVALID, "no guest RAM for the GDT at 0x%llx",
			       (unsigned long long)X86_GDT_ADDR);
	if (!pt)
		return err_set(err, ARCVM_E_INVALID,
			       "no guest RAM for the page tables at [0x%llx, 0x%llx)",
			       (unsigned long long)X86_PML4_ADDR,
			       (unsigned long long)(X86_PML4_ADDR + PT_BYTES));
	build_page_tables(pt);
	fill_sregs(gdt, sregs);
	return 0;
}
