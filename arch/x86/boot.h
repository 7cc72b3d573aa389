/*
 * boot.h - private to arch/x86: what the two kernel image loaders (bzimage.c,
 * elf.c) hand to linux_boot.c, which writes the zero page around them, and
 * the interrupt wiring the MP table (mptable.c) and ACPI (acpi.c) both state.
 *
 * struct boot_params comes from the kernel's UAPI header <asm/bootparam.h>
 * (linux-libc-dev): it is the boot protocol ABI itself. The offsets this code
 * relies on are pinned by static asserts in linux_boot.c.
 */
#ifndef ARCH_X86_BOOT_H
#define ARCH_X86_BOOT_H

#include <asm/bootparam.h>

#include "arch/x86/x86.h"

/* What a loaded kernel image tells the rest of the loader. */
struct x86_kernel_info {
	uint64_t rip;              /* 64-bit entry point (GPA) */
	uint64_t end;              /* first byte above all memory the kernel uses
				    * while it boots; the initrd goes above it */
	uint32_t cmdline_max;      /* bytes of command line, NUL excluded */
	uint32_t initrd_addr_max;  /* highest byte the initrd may occupy */
};

/* "HdrS", the setup header magic, read as a little-endian u32. */
#define X86_HDRS_MAGIC 0x53726448u
#define X86_BOOT_FLAG  0xAA55u

/* Copies a validated bzImage's protected-mode code into guest memory and its
 * setup header into bp->hdr (the rest of *bp is left as it was). Fails with
 * ARCVM_E_FORMAT for a bad image, ARCVM_E_INVALID when RAM cannot hold it. */
int x86_bzimage_load(struct guest_mem *mem, const uint8_t *img, size_t len,
		     struct boot_params *bp, struct x86_kernel_info *ki,
		     struct arcvm_error *err);

/* True when img starts with the ELF magic. */
bool x86_elf_is_elf(const uint8_t *img, size_t len);

/* Loads an ELF64 x86-64 executable (a vmlinux) segment by segment at the
 * segments' physical addresses and fills bp->hdr with a synthesized setup
 * header.
 * Fails with ARCVM_E_FORMAT for a malformed file or a segment outside guest
 * memory. */
int x86_elf_load(struct guest_mem *mem, const uint8_t *img, size_t len,
		 struct boot_params *bp, struct x86_kernel_info *ki,
		 struct arcvm_error *err);

/*
 * The IOAPIC pin of ISA IRQ0 (the PIT). KVM's default GSI routing, which
 * the VMM keeps, sends GSI n to IOAPIC pin n, and the in-kernel PIT raises
 * GSI 0; so IRQ0 is on pin 0 and neither table states an IRQ0 -> 2 override.
 * A VMM that routes GSI 0 to pin 2 (as QEMU does) changes this one value.
 */
#define X86_IRQ0_PIN 0

/* The byte that makes `len` bytes at p sum to zero mod 256 when stored in a
 * checksum field that currently holds 0 (MP and ACPI tables alike). */
static inline uint8_t x86_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return (uint8_t)(0 - sum);
}

#endif
