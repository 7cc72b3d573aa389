/*
 * layout.h - where arcvm puts things in an x86 guest's physical memory and
 * I/O space. One table, so no two files pick the same address.
 */
#ifndef ARCH_X86_LAYOUT_H
#define ARCH_X86_LAYOUT_H

/* Low memory (below 1 MiB). */
#define X86_GDT_ADDR          0x0500ull   /* boot GDT: null, 0x08 code32, 0x10 code64, 0x18 data, 0x20 TSS */
#define X86_BOOT_PARAMS_ADDR  0x7000ull   /* Linux zero page (struct boot_params) */
#define X86_PML4_ADDR         0x9000ull   /* long-mode page tables: PML4 */
#define X86_PDPT_ADDR         0xA000ull   /*   PDPT */
#define X86_PD_ADDR           0xB000ull   /*   4 PDs, 2 MiB pages, identity map 0..4 GiB */
#define X86_BOOT_STACK_ADDR   0x8FF0ull   /* initial RSP for raw 64-bit guests */
#define X86_CMDLINE_ADDR      0x20000ull  /* kernel command line */
#define X86_CMDLINE_MAX       0x10000ull  /* bytes reserved for it, NUL included */
#define X86_EBDA_START        0x9FC00ull  /* MP table lives here */
#define X86_LOW_RAM_END       0xA0000ull  /* 640 KiB: VGA/BIOS hole follows */
#define X86_BIOS_START        0xE0000ull  /* ACPI tables (RSDP found by scan here) */
#define X86_BIOS_END          0x100000ull
#define X86_KERNEL_ADDR       0x100000ull /* bzImage protected-mode code */

/* MMIO hole (see vmm/memory.h): devices. */
#define X86_VIRTIO_MMIO_BASE  0xD0000000ull
#define X86_VIRTIO_MMIO_SIZE  0x1000ull
#define X86_VIRTIO_MAX        16
#define X86_IOAPIC_ADDR       0xFEC00000ull
#define X86_LAPIC_ADDR        0xFEE00000ull
#define X86_TSS_ADDR          0xFFFBD000ull  /* KVM_SET_TSS_ADDR: 3 pages */
#define X86_IDENTITY_MAP_ADDR 0xFFFFC000ull  /* KVM_SET_IDENTITY_MAP_ADDR: 1 page */
#define X86_IOAPIC_SIZE       0x1000ull
#define X86_LAPIC_SIZE        0x1000ull
#define X86_TSS_SIZE          0x3000ull
#define X86_IDENTITY_MAP_SIZE 0x1000ull

/* Shared memory (vmm/shared.c) starts at the first multiple of this at or
 * above both the end of RAM and 4 GiB: outside the MMIO hole, above every
 * RAM byte, so the e820 map lists it last as reserved. */
#define X86_SHM_ALIGN         0x40000000ull  /* 1 GiB */

/* Interrupts (GSIs on the in-kernel IOAPIC). */
#define X86_COM1_IRQ          4
#define X86_VIRTIO_IRQ_BASE   5   /* device n uses X86_VIRTIO_IRQ_BASE + n */
#define X86_ACPI_SCI_IRQ      9
#define X86_IOAPIC_PINS       24  /* GSIs 0..23 reach the in-kernel IOAPIC */
#define X86_MSI_ADDR_BASE     0xFEE00000ull  /* MSI writes land in the LAPIC's window */
#define X86_MSI_ADDR_SIZE     0x100000ull

/* Port I/O. */
#define X86_PIC_MASTER_PORT   0x20   /* in-kernel (with an irqchip): 2 ports each */
#define X86_PIT_PORT          0x40   /*   4 ports */
#define X86_PIT_SPEAKER_PORT  0x61   /*   1 port (KVM_PIT_SPEAKER_DUMMY) */
#define X86_PIC_SLAVE_PORT    0xA0
#define X86_ELCR_PORT         0x4D0  /*   2 ports: edge/level control */
#define X86_COM1_PORT         0x3F8
#define X86_I8042_PORT_DATA   0x60
#define X86_I8042_PORT_CMD    0x64
#define X86_I8042_IRQ         1
/* ACPI hardware-reduced sleep and reset registers (FADT points here). */
#define X86_ACPI_SLEEP_CTL_PORT 0x600  /* write (SLP_TYP << 2) | SLP_EN (bit 5) */
#define X86_ACPI_SLEEP_STS_PORT 0x601
#define X86_ACPI_RESET_PORT     0x602  /* write X86_ACPI_RESET_VALUE to reset */
#define X86_ACPI_RESET_VALUE    0x01
#define X86_ACPI_S5_SLP_TYP     5      /* the SLP_TYP the DSDT's \_S5 names */

#endif
