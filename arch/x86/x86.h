/*
 * x86.h - the x86 architecture hooks the VMM core calls. Everything here is
 * pure: it writes into guest memory (through vmm/memory.h) or fills plain
 * structs, and never calls KVM, so it is unit-testable on a fake memory.
 */
#ifndef ARCH_X86_X86_H
#define ARCH_X86_X86_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#include "arcvm.h"
#include "vmm/memory.h"

/* Facts read from a bzImage's setup header (Documentation/arch/x86/boot.rst). */
struct x86_bzimage {
	uint16_t version;          /* boot protocol version, e.g. 0x020f */
	uint8_t setup_sects;       /* 512-byte sectors of real-mode setup code */
	uint32_t setup_size;       /* (setup_sects + 1) * 512 */
	uint32_t kernel_offset;    /* file offset of the protected-mode code = setup_size */
	uint32_t kernel_size;      /* bytes of protected-mode code */
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;     /* max bytes of command line, NUL excluded */
	uint32_t kernel_alignment;
	uint8_t relocatable;
	uint16_t xloadflags;       /* XLF_KERNEL_64 (bit 0) needed for the 64-bit entry */
	uint64_t pref_address;
	uint32_t init_size;
	char version_string[128];  /* the kernel version, if the header points at one */
};

/* Validates and parses a bzImage. Fails with ARCVM_E_FORMAT and a message
 * naming the problem (too short, no "HdrS" magic, protocol too old for a
 * 64-bit entry, sizes that do not fit the file). */
int x86_bzimage_parse(const uint8_t *img, size_t len, struct x86_bzimage *out,
		      struct arcvm_error *err);

/* Where a loaded Linux kernel is entered. */
struct x86_linux_entry {
	uint64_t rip;          /* 64-bit entry point (GPA) */
	uint64_t boot_params;  /* GPA of the zero page, passed in RSI */
};

/* Loads a bzImage or an ELF64 vmlinux (told apart by magic), the optional
 * initrd and the command line into guest memory, and writes boot_params with
 * the e820 map. Errors: ARCVM_E_FORMAT for a foreign or truncated image,
 * ARCVM_E_INVALID for a command line longer than the kernel accepts or an
 * initrd that does not fit in RAM. */
int x86_load_linux(struct guest_mem *mem, const uint8_t *kernel, size_t kernel_len,
		   const uint8_t *initrd, size_t initrd_len, const char *cmdline,
		   struct x86_linux_entry *entry, struct arcvm_error *err);

/* e820 entry as in struct boot_params. */
struct x86_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;         /* 1 = RAM, 2 = reserved */
} __attribute__((packed));

/* Builds the e820 map for mem: low RAM to 640 KiB, reserved BIOS area,
 * RAM from 1 MiB, RAM above 4 GiB when present, then mem's reserved range
 * (which must lie above RAM) when set. Returns the entry count or a
 * negative code when `max` is too small. */
int x86_e820_build(const struct guest_mem *mem, struct x86_e820_entry *out, int max);

/* Writes the GDT and identity-mapped page tables (0..4 GiB, 2 MiB pages)
 * and fills sregs for 64-bit long mode (CR0.PE|PG, CR4.PAE, EFER.LME|LMA,
 * CS with L=1, flat data segments). Keeps sregs' other fields. */
int x86_setup_long_mode(struct guest_mem *mem, struct kvm_sregs *sregs, struct arcvm_error *err);

/* Adjusts KVM's supported CPUID list in place for vCPU `cpu` of `ncpus`:
 * APIC IDs, topology leaves (1, 4, 0xB), hypervisor bit. */
void x86_cpuid_setup(struct kvm_cpuid2 *cpuid, int cpu, int ncpus);

/* Writes an MP table (floating pointer + config table) describing ncpus
 * CPUs, the IOAPIC and ISA interrupts, in the EBDA. */
int x86_mptable_write(struct guest_mem *mem, int ncpus, struct arcvm_error *err);

/* A memory-mapped device the DSDT announces (virtio-mmio). */
struct x86_mmio_dev {
	uint64_t base;
	uint32_t size;
	uint32_t gsi;
};

/* Writes ACPI tables (RSDP, XSDT, FADT hardware-reduced with sleep and reset
 * registers from layout.h, DSDT with \_S5, COM1 and the virtio-mmio devices,
 * MADT) so the guest can power off, find its CPUs and bind its devices.
 * Hardware-reduced ACPI has no legacy PIC, so a device's interrupt exists
 * for Linux only when the DSDT describes the device. */
int x86_acpi_write(struct guest_mem *mem, int ncpus, const struct x86_mmio_dev *virtio,
		   int nvirtio, struct arcvm_error *err);

/* Initial MSR values for a vCPU at the Linux entry. Fills up to `max`
 * entries and returns how many. */
int x86_boot_msrs(struct kvm_msr_entry *out, int max);

#endif
