/*
 * mptable.c - the Intel MultiProcessor Specification 1.4 tables: a floating
 * pointer at the start of the EBDA (where the kernel's scan of the last KiB
 * of base memory finds it) and the configuration table right after it.
 *
 * The configuration table may run past the EBDA's KiB into the reserved
 * area up to X86_BIOS_START (e820 reserves all of [EBDA, 1 MiB)), which
 * leaves room for any CPU count the 8-bit APIC IDs allow.
 */
#include <string.h>

#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "util/err.h"

#define MP_SPEC_REV      4      /* 1.4 */
#define MP_LAPIC_VERSION 0x14   /* integrated xAPIC */
#define MP_IOAPIC_VERSION 0x11  /* what KVM's in-kernel IOAPIC reports */
#define MP_IOAPIC_PINS   24
#define MP_CPU_SIGNATURE 0x600  /* family 6; Linux reads CPUID instead */
#define MP_CPU_FEATURES  0x201  /* FPU | APIC */
#define MP_ISA_BUS       0

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };
#define MP_CPU_ENABLED 0x1
#define MP_CPU_BSP     0x2
#define MP_IOAPIC_ENABLED 0x1
#define MP_ALL_LAPICS  0xFF
/* IRQ flags 0: polarity and trigger conform to the bus (ISA: edge, high). */
#define MP_IRQ_CONFORMS 0

struct mpf_pointer {
	char signature[4];   /* "_MP_" */
	uint32_t physptr;    /* the configuration table */
	uint8_t length;      /* in 16-byte units: 1 */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature[5];  /* feature[0] 0: a configuration table is present */
} __attribute__((packed));

struct mpc_header {
	char signature[4];   /* "PCMP" */
	uint16_t length;     /* header + entries */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oem_ptr;
	uint16_t oem_size;
	uint16_t entry_count;
	uint32_t lapic_addr;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mpc_processor {
	uint8_t type, apic_id, apic_version, flags;
	uint32_t signature, features, reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type, bus_id;
	char bus_type[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type, apic_id, apic_version, flags;
	uint32_t addr;
} __attribute__((packed));

/* Both interrupt entry kinds: I/O (dst = IOAPIC id, pin) and local (dst =
 * LAPIC id, LINTn). */
struct mpc_irq {
	uint8_t type, irq_type;
	uint16_t flags;
	uint8_t src_bus, src_irq, dst_id, dst_pin;
} __attribute__((packed));

_Static_assert(sizeof(struct mpf_pointer) == 16, "MP floating pointer");
_Static_assert(sizeof(struct mpc_header) == 44, "MP configuration table header");
_Static_assert(sizeof(struct mpc_processor) == 20, "MP processor entry");
_Static_assert(sizeof(struct mpc_bus) == 8 && sizeof(struct mpc_ioapic) == 8 &&
	       sizeof(struct mpc_irq) == 8, "MP 8-byte entries");

/* APIC IDs 0..ncpus-1 and the IOAPIC's ncpus must stay below 0xFF, the
 * broadcast ID. */
#define MP_MAX_CPUS 254
#define MP_TABLE_ADDR (X86_EBDA_START + sizeof(struct mpf_pointer))

/* A cursor over the host buffer the configuration table is built in. */
struct mp_buf {
	uint8_t *p;
	size_t len;
	uint16_t entries;
};

static void put(struct mp_buf *b, const void *entry, size_t len)
{
	memcpy(b->p + b->len, entry, len);
	b->len += len;
	b->entries++;
}

static void put_irq(struct mp_buf *b, uint8_t type, uint8_t irq_type, uint8_t src_irq,
		    uint8_t dst_id, uint8_t dst_pin)
{
	struct mpc_irq e = {
		.type = type, .irq_type = irq_type, .flags = MP_IRQ_CONFORMS,
		.src_bus = MP_ISA_BUS, .src_irq = src_irq, .dst_id = dst_id, .dst_pin = dst_pin,
	};
	put(b, &e, sizeof(e));
}

/* ISA IRQs 0-15 and the virtio GSIs above 15, each to its IOAPIC pin. */
static void put_io_irqs(struct mp_buf *b, uint8_t ioapic_id)
{
	unsigned last = X86_VIRTIO_IRQ_BASE + X86_VIRTIO_MAX - 1;

	if (last >= MP_IOAPIC_PINS)
		last = MP_IOAPIC_PINS - 1;
	if (last < 15)
		last = 15;
	for (unsigned irq = 0; irq <= last; irq++) {
		unsigned pin = irq == 0 ? X86_IRQ0_PIN : irq;
		if (irq >= 16 && irq < X86_VIRTIO_IRQ_BASE)
			continue;
		if (irq != 0 && X86_IRQ0_PIN != 0 && irq == X86_IRQ0_PIN)
			continue;  /* that pin is IRQ0's */
		put_irq(b, MP_INTSRC, MP_INT, (uint8_t)irq, ioapic_id, (uint8_t)pin);
	}
}

static void build_entries(struct mp_buf *b, int ncpus)
{
	uint8_t ioapic_id = (uint8_t)ncpus;

	for (int i = 0; i < ncpus; i++) {
		struct mpc_processor cpu = {
			.type = MP_PROCESSOR, .apic_id = (uint8_t)i,
			.apic_version = MP_LAPIC_VERSION,
			.flags = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0),
			.signature = MP_CPU_SIGNATURE, .features = MP_CPU_FEATURES,
		};
		put(b, &cpu, sizeof(cpu));
	}
	struct mpc_bus bus = { .type = MP_BUS, .bus_id = MP_ISA_BUS };
	memcpy(bus.bus_type, "ISA   ", 6);
	put(b, &bus, sizeof(bus));
	struct mpc_ioapic io = {
		.type = MP_IOAPIC, .apic_id = ioapic_id, .apic_version = MP_IOAPIC_VERSION,
		.flags = MP_IOAPIC_ENABLED, .addr = (uint32_t)X86_IOAPIC_ADDR,
	};
	put(b, &io, sizeof(io));
	put_io_irqs(b, ioapic_id);
	/* The 8259's output on every LAPIC's LINT0 (virtual wire), NMI on LINT1. */
	put_irq(b, MP_LINTSRC, MP_EXTINT, 0, MP_ALL_LAPICS, 0);
	put_irq(b, MP_LINTSRC, MP_NMI, 0, MP_ALL_LAPICS, 1);
}

int x86_mptable_write(struct guest_mem *mem, int ncpus, struct arcvm_error *err)
{
	uint8_t table[sizeof(struct mpc_header) + MP_MAX_CPUS * sizeof(struct mpc_processor) +
		      (4 + MP_IOAPIC_PINS) * 8];
	struct mp_buf b = { .p = table, .len = sizeof(struct mpc_header) };
	struct mpc_header h = { .spec_rev = MP_SPEC_REV, .lapic_addr = (uint32_t)X86_LAPIC_ADDR };
	struct mpf_pointer fp = { .physptr = (uint32_t)MP_TABLE_ADDR, .length = 1,
				  .spec_rev = MP_SPEC_REV };

	if (ncpus < 1 || ncpus > MP_MAX_CPUS)
		return err_set(err, ARCVM_E_INVALID,
			       "MP table: %d CPUs, the table describes 1 to %d", ncpus, MP_MAX_CPUS);
	build_entries(&b, ncpus);
	if (MP_TABLE_ADDR + b.len > X86_BIOS_START)
		return err_set(err, ARCVM_E_INVALID, "MP table of %zu bytes for %d CPUs does not "
			       "fit below 0x%llx", b.len, ncpus, (unsigned long long)X86_BIOS_START);

	memcpy(h.signature, "PCMP", 4);
	memcpy(h.oem, "ARCVM   ", 8);
	memcpy(h.product, "ARCVM MICRO ", 12);
	h.length = (uint16_t)b.len;
	h.entry_count = b.entries;
	memcpy(table, &h, sizeof(h));
	table[offsetof(struct mpc_header, checksum)] = x86_checksum(table, b.len);

	memcpy(fp.signature, "_MP_", 4);
	fp.checksum = x86_checksum(&fp, sizeof(fp));
	if (mem_write(mem, X86_EBDA_START, &fp, sizeof(fp)) ||
	    mem_write(mem, MP_TABLE_ADDR, table, b.len))
		return err_set(err, ARCVM_E_INVALID, "MP table: no guest RAM at 0x%llx",
			       (unsigned long long)X86_EBDA_START);
	return 0;
}
