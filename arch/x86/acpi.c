/*
 * acpi.c - the ACPI tables of a hardware-reduced platform (ACPI 6.0):
 * RSDP -> XSDT -> { FADT -> DSDT, MADT }.
 *
 * All of them sit in [X86_BIOS_START, X86_BIOS_END), which e820 reports
 * reserved; the RSDP first, 16-byte aligned, where the kernel's scan of
 * 0xE0000-0xFFFFF finds it. Hardware-reduced means no PM1/GPE blocks and
 * no SCI handler: the guest powers off by writing SLP_TYP|SLP_EN to the
 * sleep control register, and resets through the reset register.
 */
#include <stddef.h>
#include <string.h>

#include "arch/x86/boot.h"
#include "arch/x86/aml.h"
#include "arch/x86/layout.h"
#include "util/err.h"

#define ACPI_OEM_ID       "ARCVM "
#define ACPI_OEM_TABLE_ID "ARCVMTBL"
#define ACPI_CREATOR_ID   "ARCV"
#define ACPI_REV_RSDP  2   /* ACPI 2.0+ RSDP with the XSDT address */
#define ACPI_REV_XSDT  1
#define ACPI_REV_FADT  6   /* ACPI 6.0, minor version 0 */
#define ACPI_REV_DSDT  2   /* 64-bit AML integers */
#define ACPI_REV_MADT  5

/* FADT Flags and IA-PC boot architecture flags. */
#define FADT_RESET_REG_SUP     (1u << 10)
#define FADT_HW_REDUCED_ACPI   (1u << 20)
#define BOOT_ARCH_8042         (1u << 1)
#define BOOT_ARCH_VGA_ABSENT   (1u << 2)
#define BOOT_ARCH_CMOS_ABSENT  (1u << 5)
#define GAS_SYSTEM_IO   1
#define GAS_ACCESS_BYTE 1

/* MADT. */
#define MADT_PCAT_COMPAT  1u
#define MADT_LAPIC        0
#define MADT_IOAPIC       1
#define MADT_ISO          2
#define MADT_LAPIC_NMI    4
#define MADT_CPU_ENABLED  1u
#define MADT_ALL_CPUS     0xFF
/* MPS INTI flags: polarity in bits 1:0, trigger mode in bits 3:2. */
#define INTI_ACTIVE_HIGH  0x1
#define INTI_EDGE         0x4
#define ACPI_MAX_CPUS     254  /* 8-bit APIC IDs; 0xFF means "all CPUs" */

struct acpi_rsdp {
	char signature[8];     /* "RSD PTR " */
	uint8_t checksum;      /* over the first 20 bytes */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_addr;    /* 0: there is only an XSDT */
	uint32_t length;
	uint64_t xsdt_addr;
	uint8_t ext_checksum;  /* over all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

/* Generic Address Structure. */
struct acpi_gas {
	uint8_t space_id, bit_width, bit_offset, access_size;
	uint64_t address;
} __attribute__((packed));

struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl, dsdt;
	uint8_t reserved0, pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt, pm1b_evt, pm1a_cnt, pm1b_cnt, pm2_cnt, pm_tmr, gpe0, gpe1;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_len, gpe1_len;
	uint8_t gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl, x_dsdt;
	struct acpi_gas x_pm1a_evt, x_pm1b_evt, x_pm1a_cnt, x_pm1b_cnt, x_pm2_cnt, x_pm_tmr;
	struct acpi_gas x_gpe0, x_gpe1, sleep_control, sleep_status;
	uint64_t hypervisor_vendor;
} __attribute__((packed));

struct madt_lapic {
	uint8_t type, length, uid, apic_id;
	uint32_t flags;
} __attribute__((packed));
struct madt_ioapic {
	uint8_t type, length, id, reserved;
	uint32_t addr, gsi_base;
} __attribute__((packed));
struct madt_iso {
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));
struct madt_lapic_nmi {
	uint8_t type, length, uid;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");
_Static_assert(sizeof(struct acpi_header) == 36, "table header");
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS");
_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "FADT IAPC_BOOT_ARCH");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT Flags");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "FADT RESET_REG");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT");
_Static_assert(offsetof(struct acpi_fadt, sleep_control) == 244, "FADT SLEEP_CONTROL_REG");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT 6.0 length");
_Static_assert(sizeof(struct madt_lapic) == 8 && sizeof(struct madt_ioapic) == 12 &&
	       sizeof(struct madt_iso) == 10 && sizeof(struct madt_lapic_nmi) == 6,
	       "MADT entries");

/*
 * DefinitionBlock body: Name (\_S5, Package (4) { SLP_TYP, SLP_TYP, 0, 0 })
 *   08                NameOp
 *   5C 5F 53 35 5F    RootChar '\' + NameSeg "_S5_"
 *   12                PackageOp
 *   08                PkgLength: 1-byte form (< 64), counts itself + the rest
 *   04                NumElements
 *   0A xx  0A xx      BytePrefix SLP_TYPa, BytePrefix SLP_TYPb
 *   00 00             ZeroOp, ZeroOp (reserved elements)
 */
static const uint8_t dsdt_aml[] = {
	0x08, 0x5C, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
	0x0A, X86_ACPI_S5_SLP_TYP, 0x0A, X86_ACPI_S5_SLP_TYP, 0x00, 0x00,
};

/* All tables are built in one host buffer that mirrors guest memory from
 * X86_BIOS_START, then written in one piece. */
#define ACPI_BUF_SIZE 8192
/* AML bytes of the DSDT: _S5, COM1 (~60), the keyboard (~60) and each virtio
 * device (~70). */
#define ACPI_DSDT_MAX 2048
/* The most the tables take, each rounded up to 16 bytes: RSDP, DSDT, FADT,
 * MADT with every CPU and four other entries, XSDT with two pointers. */
_Static_assert(48 + 48 + ACPI_DSDT_MAX + 288 + 44 + 8 + 8 * ACPI_MAX_CPUS + 12 + 2 * 10 + 6 +
	       16 + 52 <= ACPI_BUF_SIZE, "ACPI buffer holds the largest table set");
struct acpi_buf {
	uint8_t b[ACPI_BUF_SIZE];
	size_t len;
};

/* Reserves `len` bytes, 16-byte aligned, and returns their offset. */
static size_t reserve(struct acpi_buf *a, size_t len)
{
	size_t off = (a->len + 15) & ~(size_t)15;
	a->len = off + len;
	return off;
}

static uint64_t gpa_of(size_t off) { return X86_BIOS_START + off; }

static void fill_header(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = 1;
}

/* Checksums the table at off, whose header states its length. */
static void seal(struct acpi_buf *a, size_t off)
{
	struct acpi_header *h = (struct acpi_header *)(a->b + off);
	h->checksum = 0;
	h->checksum = x86_checksum(h, h->length);
}

/* COM1 as a PNP0501 UART with its ports and ISA IRQ. */
static void aml_com1(struct aml *aml)
{
	size_t dev = aml_device_begin(aml, "COM1");
	aml_name_eisaid(aml, "_HID", "PNP0501");
	aml_name_int(aml, "_UID", 0);
	size_t crs = aml_crs_begin(aml);
	aml_res_io(aml, X86_COM1_PORT, 8);
	aml_res_irq(aml, X86_COM1_IRQ);
	aml_crs_end(aml, crs);
	aml_end(aml, dev);
}

/* The i8042 as a PNP0303 keyboard controller: its data and command ports
 * and ISA IRQ 1. Linux's i8042 driver finds it through PNP; the IRQ entry is
 * what routes IRQ 1 to the IOAPIC in hardware-reduced mode, where Linux sets
 * up no legacy ISA interrupts by itself. */
static void aml_kbd(struct aml *aml)
{
	size_t dev = aml_device_begin(aml, "PS2K");
	aml_name_eisaid(aml, "_HID", "PNP0303");
	aml_name_int(aml, "_UID", 0);
	size_t crs = aml_crs_begin(aml);
	aml_res_io(aml, X86_I8042_PORT_DATA, 1);
	aml_res_io(aml, X86_I8042_PORT_CMD, 1);
	aml_res_irq(aml, X86_I8042_IRQ);
	aml_crs_end(aml, crs);
	aml_end(aml, dev);
}

/* virtio-mmio devices, which Linux's virtio_mmio driver matches as LNRO0005. */
static void aml_virtio(struct aml *aml, const struct x86_mmio_dev *d, int i)
{
	char name[5] = { 'V', 'R', (char)('0' + i / 10), (char)('0' + i % 10), 0 };
	size_t dev = aml_device_begin(aml, name);
	aml_name_string(aml, "_HID", "LNRO0005");
	aml_name_int(aml, "_UID", (uint64_t)i);
	size_t crs = aml_crs_begin(aml);
	aml_res_mem32(aml, (uint32_t)d->base, d->size);
	aml_res_interrupt(aml, d->gsi, true);
	aml_crs_end(aml, crs);
	aml_end(aml, dev);
}

static int add_dsdt(struct acpi_buf *a, const struct x86_mmio_dev *virtio, int nvirtio,
		    size_t *out)
{
	uint8_t body[ACPI_DSDT_MAX];
	struct aml aml;
	aml_init(&aml, body, sizeof(body));
	aml_raw(&aml, dsdt_aml, sizeof(dsdt_aml));
	size_t sb = aml_scope_begin(&aml, "\\_SB_");
	aml_com1(&aml);
	aml_kbd(&aml);
	for (int i = 0; i < nvirtio; i++)
		aml_virtio(&aml, &virtio[i], i);
	aml_end(&aml, sb);
	if (aml.overflow)
		return -1;
	uint32_t len = (uint32_t)(sizeof(struct acpi_header) + aml.len);
	size_t off = reserve(a, len);
	fill_header((struct acpi_header *)(a->b + off), "DSDT", len, ACPI_REV_DSDT);
	memcpy(a->b + off + sizeof(struct acpi_header), body, aml.len);
	seal(a, off);
	*out = off;
	return 0;
}

static struct acpi_gas io_byte_reg(uint16_t port)
{
	return (struct acpi_gas){ .space_id = GAS_SYSTEM_IO, .bit_width = 8,
				  .access_size = GAS_ACCESS_BYTE, .address = port };
}

static size_t add_fadt(struct acpi_buf *a, size_t dsdt_off)
{
	size_t off = reserve(a, sizeof(struct acpi_fadt));
	struct acpi_fadt *f = (struct acpi_fadt *)(a->b + off);

	fill_header(&f->h, "FACP", sizeof(*f), ACPI_REV_FADT);
	f->dsdt = (uint32_t)gpa_of(dsdt_off);
	f->x_dsdt = gpa_of(dsdt_off);
	f->sci_int = X86_ACPI_SCI_IRQ;
	f->flags = FADT_HW_REDUCED_ACPI | FADT_RESET_REG_SUP;
	/* No VGA and no CMOS RTC to probe; an 8042 (devices/i8042.c, in the
	 * DSDT as PS2K). */
	f->iapc_boot_arch = BOOT_ARCH_VGA_ABSENT | BOOT_ARCH_CMOS_ABSENT | BOOT_ARCH_8042;
	f->reset_reg = io_byte_reg(X86_ACPI_RESET_PORT);
	f->reset_value = X86_ACPI_RESET_VALUE;
	f->minor_version = 0;
	f->sleep_control = io_byte_reg(X86_ACPI_SLEEP_CTL_PORT);
	f->sleep_status = io_byte_reg(X86_ACPI_SLEEP_STS_PORT);
	memcpy(&f->hypervisor_vendor, "ARCVM\0\0\0", 8);
	seal(a, off);
	return off;
}

static void madt_put(struct acpi_buf *a, const void *entry, size_t len)
{
	memcpy(a->b + a->len, entry, len);
	a->len += len;
}

static void madt_entries(struct acpi_buf *a, int ncpus)
{
	for (int i = 0; i < ncpus; i++) {
		struct madt_lapic l = { .type = MADT_LAPIC, .length = sizeof(l), .uid = (uint8_t)i,
					.apic_id = (uint8_t)i, .flags = MADT_CPU_ENABLED };
		madt_put(a, &l, sizeof(l));
	}
	struct madt_ioapic io = { .type = MADT_IOAPIC, .length = sizeof(io), .id = (uint8_t)ncpus,
				  .addr = (uint32_t)X86_IOAPIC_ADDR, .gsi_base = 0 };
	madt_put(a, &io, sizeof(io));
	if (X86_IRQ0_PIN != 0) {
		struct madt_iso timer = { .type = MADT_ISO, .length = sizeof(timer),
					  .source = 0, .gsi = X86_IRQ0_PIN };
		madt_put(a, &timer, sizeof(timer));
	}
	/* Without an override Linux sets the SCI's GSI level-triggered, active
	 * low; here it is a plain ISA-style edge GSI, which a virtio device
	 * signalling through an irqfd can share (there is no SCI handler in
	 * hardware-reduced mode). */
	struct madt_iso sci = { .type = MADT_ISO, .length = sizeof(sci),
				.source = X86_ACPI_SCI_IRQ, .gsi = X86_ACPI_SCI_IRQ,
				.flags = INTI_ACTIVE_HIGH | INTI_EDGE };
	madt_put(a, &sci, sizeof(sci));
	struct madt_lapic_nmi nmi = { .type = MADT_LAPIC_NMI, .length = sizeof(nmi),
				      .uid = MADT_ALL_CPUS, .lint = 1 };
	madt_put(a, &nmi, sizeof(nmi));
}

static size_t add_madt(struct acpi_buf *a, int ncpus)
{
	size_t off = reserve(a, sizeof(struct acpi_header) + 8);
	uint32_t lapic = (uint32_t)X86_LAPIC_ADDR, flags = MADT_PCAT_COMPAT;

	memcpy(a->b + off + sizeof(struct acpi_header), &lapic, 4);
	memcpy(a->b + off + sizeof(struct acpi_header) + 4, &flags, 4);
	madt_entries(a, ncpus);
	fill_header((struct acpi_header *)(a->b + off), "APIC", (uint32_t)(a->len - off),
		    ACPI_REV_MADT);
	seal(a, off);
	return off;
}

static size_t add_xsdt(struct acpi_buf *a, const size_t *tables, int n)
{
	uint32_t len = sizeof(struct acpi_header) + 8u * (uint32_t)n;
	size_t off = reserve(a, len);

	fill_header((struct acpi_header *)(a->b + off), "XSDT", len, ACPI_REV_XSDT);
	for (int i = 0; i < n; i++) {
		uint64_t gpa = gpa_of(tables[i]);
		memcpy(a->b + off + sizeof(struct acpi_header) + 8 * i, &gpa, 8);
	}
	seal(a, off);
	return off;
}

static void add_rsdp(struct acpi_buf *a, size_t xsdt_off)
{
	struct acpi_rsdp *r = (struct acpi_rsdp *)a->b;  /* reserved first, at offset 0 */

	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, ACPI_OEM_ID, 6);
	r->revision = ACPI_REV_RSDP;
	r->length = sizeof(*r);
	r->xsdt_addr = gpa_of(xsdt_off);
	r->checksum = x86_checksum(r, 20);
	r->ext_checksum = x86_checksum(r, sizeof(*r));
}

int x86_acpi_write(struct guest_mem *mem, int ncpus, const struct x86_mmio_dev *virtio,
		   int nvirtio, struct arcvm_error *err)
{
	struct acpi_buf a;
	size_t tables[2];

	if (ncpus < 1 || ncpus > ACPI_MAX_CPUS)
		return err_set(err, ARCVM_E_INVALID, "ACPI: %d CPUs, the MADT describes 1 to %d",
			       ncpus, ACPI_MAX_CPUS);
	if (nvirtio < 0 || nvirtio > X86_VIRTIO_MAX)
		return err_set(err, ARCVM_E_INVALID, "ACPI: %d virtio devices, at most %d", nvirtio,
			       X86_VIRTIO_MAX);
	memset(&a, 0, sizeof(a));
	reserve(&a, sizeof(struct acpi_rsdp));
	size_t dsdt;
	if (add_dsdt(&a, virtio, nvirtio, &dsdt))
		return err_set(err, ARCVM_E_INVALID, "ACPI: the DSDT does not fit");
	tables[0] = add_fadt(&a, dsdt);
	tables[1] = add_madt(&a, ncpus);
	add_rsdp(&a, add_xsdt(&a, tables, 2));
	if (mem_write(mem, X86_BIOS_START, a.b, a.len))
		return err_set(err, ARCVM_E_INVALID, "ACPI: no guest RAM for the tables at 0x%llx",
			       (unsigned long long)X86_BIOS_START);
	return 0;
}
