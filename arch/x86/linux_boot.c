/*
 * linux_boot.c - the Linux 64-bit boot protocol around a loaded kernel: the
 * zero page (struct boot_params) with the e820 map, the command line and the
 * initrd (Documentation/arch/x86/boot.rst).
 *
 * The zero page is built on the host and written to guest memory in one
 * piece at the end, so a failed load leaves no half-written zero page.
 */
#include <stddef.h>
#include <string.h>

#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "util/err.h"

/* The ABI offsets this file and bzimage.c depend on (boot.rst's zero page map). */
_Static_assert(sizeof(struct boot_params) == 4096, "zero page is one page");
_Static_assert(offsetof(struct boot_params, ext_ramdisk_image) == 0x0C0, "ext_ramdisk_image");
_Static_assert(offsetof(struct boot_params, ext_ramdisk_size) == 0x0C4, "ext_ramdisk_size");
_Static_assert(offsetof(struct boot_params, ext_cmd_line_ptr) == 0x0C8, "ext_cmd_line_ptr");
_Static_assert(offsetof(struct boot_params, e820_entries) == 0x1E8, "e820_entries");
_Static_assert(offsetof(struct boot_params, hdr) == 0x1F1, "setup header");
_Static_assert(offsetof(struct boot_params, hdr.boot_flag) == 0x1FE, "boot_flag");
_Static_assert(offsetof(struct boot_params, hdr.header) == 0x202, "HdrS");
_Static_assert(offsetof(struct boot_params, hdr.type_of_loader) == 0x210, "type_of_loader");
_Static_assert(offsetof(struct boot_params, hdr.cmd_line_ptr) == 0x228, "cmd_line_ptr");
_Static_assert(offsetof(struct boot_params, hdr.init_size) == 0x260, "init_size");
_Static_assert(offsetof(struct boot_params, e820_table) == 0x2D0, "e820_table");
_Static_assert(sizeof(struct boot_e820_entry) == sizeof(struct x86_e820_entry), "e820 entry");

#define PAGE_SIZE         0x1000ull
#define LOADER_UNDEFINED  0xFF    /* type_of_loader: a boot loader without an ID */
/* heap_end_ptr: end of the setup heap relative to the real-mode code, as
 * loaders that place setup at 0x90000 set it; only the 16-bit entry uses it. */
#define SETUP_HEAP_END    0xFE00

static int write_cmdline(struct guest_mem *mem, const char *cmdline,
			 const struct x86_kernel_info *ki, struct boot_params *bp,
			 struct arcvm_error *err)
{
	size_t len = strlen(cmdline);
	size_t max = ki->cmdline_max;

	if (max > X86_CMDLINE_MAX - 1)
		max = X86_CMDLINE_MAX - 1;  /* the room layout.h reserves */
	if (len > max)
		return err_set(err, ARCVM_E_INVALID,
			       "kernel command line is %zu bytes; the kernel accepts at most %zu",
			       len, max);
	if (mem_write(mem, X86_CMDLINE_ADDR, cmdline, len + 1))
		return err_set(err, ARCVM_E_INVALID, "no guest RAM for the command line");
	bp->hdr.cmd_line_ptr = (uint32_t)X86_CMDLINE_ADDR;
	bp->ext_cmd_line_ptr = (uint32_t)(X86_CMDLINE_ADDR >> 32);
	return 0;
}

/*
 * The highest page-aligned address in a RAM region where `len` bytes fit
 * inside [lo, hi); 0 when none does (0 is never a valid initrd address
 * because lo is above the kernel).
 */
static uint64_t highest_fit(const struct mem_region *r, uint64_t lo, uint64_t hi, uint64_t len)
{
	uint64_t start = r->gpa > lo ? r->gpa : lo;
	uint64_t end = r->gpa + r->size < hi ? r->gpa + r->size : hi;

	if (!r->is_ram || end <= start || end - start < len)
		return 0;
	uint64_t addr = (end - len) & ~(PAGE_SIZE - 1);
	return addr >= start ? addr : 0;
}

/* The initrd goes as high as it can below initrd_addr_max and the 32-bit
 * hole, above everything the kernel uses while it boots, so the
 * decompressor never overwrites it. */
static int place_initrd(struct guest_mem *mem, const uint8_t *initrd, size_t len,
			const struct x86_kernel_info *ki, struct boot_params *bp,
			struct arcvm_error *err)
{
	uint64_t lo = (ki->end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	uint64_t hi = (uint64_t)ki->initrd_addr_max + 1;
	uint64_t best = 0;

	if (hi > MEM_HOLE_START)
		hi = MEM_HOLE_START;
	for (int i = 0; i < mem->nregions; i++) {
		uint64_t a = highest_fit(&mem->regions[i], lo, hi, len);
		if (a > best)
			best = a;
	}
	if (best == 0 || mem_write(mem, best, initrd, len))
		return err_set(err, ARCVM_E_INVALID,
			       "initrd of %zu bytes does not fit in guest RAM between the "
			       "kernel's end 0x%llx and 0x%llx", len,
			       (unsigned long long)lo, (unsigned long long)hi);
	bp->hdr.ramdisk_image = (uint32_t)best;
	bp->ext_ramdisk_image = (uint32_t)(best >> 32);
	bp->hdr.ramdisk_size = (uint32_t)len;
	bp->ext_ramdisk_size = (uint32_t)((uint64_t)len >> 32);
	return 0;
}

static int write_e820(const struct guest_mem *mem, struct boot_params *bp,
		      struct arcvm_error *err)
{
	struct x86_e820_entry map[E820_MAX_ENTRIES_ZEROPAGE];
	int n = x86_e820_build(mem, map, E820_MAX_ENTRIES_ZEROPAGE);

	if (n < 0)
		return err_set(err, ARCVM_E_INVALID, "guest memory map has more than %d entries",
			       E820_MAX_ENTRIES_ZEROPAGE);
	memcpy(bp->e820_table, map, (size_t)n * sizeof(map[0]));
	bp->e820_entries = (uint8_t)n;
	return 0;
}

int x86_load_linux(struct guest_mem *mem, const uint8_t *kernel, size_t kernel_len,
		   const uint8_t *initrd, size_t initrd_len, const char *cmdline,
		   struct x86_linux_entry *entry, struct arcvm_error *err)
{
	struct boot_params bp;
	struct x86_kernel_info ki;
	int rc;

	memset(&bp, 0, sizeof(bp));
	memset(&ki, 0, sizeof(ki));
	if (x86_elf_is_elf(kernel, kernel_len))
		rc = x86_elf_load(mem, kernel, kernel_len, &bp, &ki, err);
	else
		rc = x86_bzimage_load(mem, kernel, kernel_len, &bp, &ki, err);
	if (rc)
		return rc;

	bp.hdr.type_of_loader = LOADER_UNDEFINED;
	bp.hdr.loadflags |= LOADED_HIGH | CAN_USE_HEAP;
	bp.hdr.heap_end_ptr = SETUP_HEAP_END;
	if ((rc = write_cmdline(mem, cmdline ? cmdline : "", &ki, &bp, err)))
		return rc;
	if (initrd && initrd_len && (rc = place_initrd(mem, initrd, initrd_len, &ki, &bp, err)))
		return rc;
	if ((rc = write_e820(mem, &bp, err)))
		return rc;
	if (mem_write(mem, X86_BOOT_PARAMS_ADDR, &bp, sizeof(bp)))
		return err_set(err, ARCVM_E_INVALID, "no guest RAM for the zero page at 0x%llx",
			       (unsigned long long)X86_BOOT_PARAMS_ADDR);
	entry->rip = ki.rip;
	entry->boot_params = X86_BOOT_PARAMS_ADDR;
	return 0;
}
