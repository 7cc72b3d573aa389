/*
 * test_x86_tables.c - the firmware tables a guest reads: the e820 map, the
 * MP table and the ACPI tables. The tables are found the way the kernel
 * finds them (a 16-byte-aligned scan for the signature) and parsed here
 * from the MP and ACPI specifications' layouts; when iasl is installed the
 * ACPI tables are also disassembled by it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "arch/x86/layout.h"
#include "arch/x86/x86.h"
#include "tests/unit/x86_test_util.h"


static uint8_t sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;
	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* ---- e820 ---- */

static void expect_entry(const struct x86_e820_entry *e, uint64_t addr, uint64_t size,
			 uint32_t type)
{
	assert_int_equal(e->addr, addr);
	assert_int_equal(e->size, size);
	assert_int_equal(e->type, type);
}

static void test_e820_256m(void **state)
{
	struct guest_mem m;
	struct x86_e820_entry e[16];

	assert_int_equal(mem_create_ram(&m, 256 * MiB, NULL), 0);
	assert_int_equal(x86_e820_build(&m, e, 16), 3);
	expect_entry(&e[0], 0, 0x9FC00, 1);
	expect_entry(&e[1], 0x9FC00, 0x100000 - 0x9FC00, 2);
	expect_entry(&e[2], 0x100000, 255 * MiB, 1);
	/* A table too small for the map is an error, not a truncated map. */
	assert_true(x86_e820_build(&m, e, 2) < 0);
	mem_destroy(&m);
}

static void test_e820_6g(void **state)
{
	struct guest_mem m;
	struct x86_e820_entry e[16];

	assert_int_equal(mem_create_ram(&m, 6 * GiB, NULL), 0);
	assert_int_equal(x86_e820_build(&m, e, 16), 4);
	expect_entry(&e[0], 0, 0x9FC00, 1);
	expect_entry(&e[1], 0x9FC00, 0x100000 - 0x9FC00, 2);
	expect_entry(&e[2], 0x100000, 3 * GiB - 1 * MiB, 1);
	expect_entry(&e[3], 4 * GiB, 3 * GiB, 1);
	uint64_t ram = 0;
	for (int i = 0; i < 4; i++)
		if (e[i].type == 1)
			ram += e[i].size;
	/* All RAM but the reserved BIOS area is reported. */
	assert_int_equal(ram, 6 * GiB - (0x100000 - 0x9FC00));
	mem_destroy(&m);
}

static void test_e820_skips_non_ram_regions(void **state)
{
	struct guest_mem m;
	struct x86_e820_entry e[16];
	uint8_t *low = fake_mem(&m, 64 * MiB);
	uint8_t dev[4096];

	/* A mapped device window is not RAM and must not appear. */
	assert_int_equal(mem_add_region(&m, X86_VIRTIO_MMIO_BASE, dev, sizeof(dev), false, NULL), 0);
	assert_int_equal(x86_e820_build(&m, e, 16), 3);
	expect_entry(&e[2], 0x100000, 63 * MiB, 1);
	free(low);
}

/* ---- MP table ---- */

/* Scans [start, end) on 16-byte boundaries like the kernel's smp_scan_config. */
static int64_t scan(const uint8_t *mem, uint64_t start, uint64_t end, const char *sig, size_t n)
{
	for (uint64_t a = start; a + n <= end; a += 16)
		if (memcmp(mem + a, sig, n) == 0)
			return (int64_t)a;
	return -1;
}

struct mp_counts {
	int cpus, bsp, buses, ioapics, intsrc, lint;
	uint8_t ioapic_id;
	int pin_of_irq[24];     /* -1: no entry */
	int lint_type[2];       /* type of the entry for LINT0/1, -1 when none */
};

static void parse_mp(const uint8_t *mem, int ncpus, struct mp_counts *c)
{
	int64_t fp = scan(mem, X86_EBDA_START, X86_EBDA_START + 1024, "_MP_", 4);
	assert_true(fp >= 0);
	assert_int_equal(mem[fp + 8], 1);                 /* length in paragraphs */
	assert_int_equal(sum8(mem + fp, 16), 0);
	uint32_t t = g32(mem, (size_t)fp + 4);
	assert_memory_equal(mem + t, "PCMP", 4);
	uint16_t len = g16(mem, t + 4);
	assert_int_equal(sum8(mem + t, len), 0);
	assert_true(t + len <= X86_BIOS_START);
	assert_int_equal(g32(mem, t + 36), X86_LAPIC_ADDR);

	memset(c, 0, sizeof(*c));
	memset(c->pin_of_irq, -1, sizeof(c->pin_of_irq));
	c->lint_type[0] = c->lint_type[1] = -1;
	size_t off = t + 44;
	int entries = 0;
	while (off < t + len) {
		const uint8_t *e = mem + off;
		entries++;
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], c->cpus);          /* APIC IDs 0..n-1 in order */
			assert_true(e[3] & 1);                    /* enabled */
			if (e[3] & 2) {
				c->bsp++;
				assert_int_equal(e[1], 0);
			}
			c->cpus++;
			off += 20;
			continue;
		case 1: c->buses++; assert_memory_equal(e + 2, "ISA   ", 6); break;
		case 2:
			c->ioapics++;
			c->ioapic_id = e[1];
			assert_int_equal(g32(e, 4), X86_IOAPIC_ADDR);
			break;
		case 3:
			c->intsrc++;
			assert_int_equal(e[6], c->ioapic_id);
			assert_int_equal(c->pin_of_irq[e[5]], -1); /* one entry per source IRQ */
			c->pin_of_irq[e[5]] = e[7];
			break;
		case 4:
			c->lint++;
			assert_int_equal(e[6], 0xFF);             /* every LAPIC */
			c->lint_type[e[7] & 1] = e[1];
			break;
		default:
			fail_msg("unknown MP entry type %u", e[0]);
		}
		off += 8;
	}
	assert_int_equal(off, t + len);
	assert_int_equal(g16(mem, t + 34), entries);      /* entry count */
	assert_int_equal(c->cpus, ncpus);
}

static void check_mp(int ncpus)
{
	struct guest_mem m;
	uint8_t *mem = fake_mem(&m, 16 * MiB);
	struct mp_counts c;

	assert_int_equal(x86_mptable_write(&m, ncpus, NULL), 0);
	parse_mp(mem, ncpus, &c);
	assert_int_equal(c.bsp, 1);
	assert_int_equal(c.buses, 1);
	assert_int_equal(c.ioapics, 1);
	assert_int_equal(c.ioapic_id, ncpus);
	/* Every ISA IRQ but the cascade reaches the IOAPIC; IRQ0 (the PIT)
	 * on some pin no other IRQ uses. */
	for (int irq = 1; irq < 16; irq++)
		if (irq != 2)
			assert_int_equal(c.pin_of_irq[irq], irq);
	assert_true(c.pin_of_irq[0] >= 0);
	for (int irq = 1; irq < 24; irq++)
		if (irq != c.pin_of_irq[0])
			assert_int_not_equal(c.pin_of_irq[irq], c.pin_of_irq[0]);
	/* Every virtio device's GSI (up to the 24 IOAPIC pins) has its pin. */
	for (int gsi = X86_VIRTIO_IRQ_BASE; gsi < X86_VIRTIO_IRQ_BASE + X86_VIRTIO_MAX && gsi < 24;
	     gsi++)
		assert_int_equal(c.pin_of_irq[gsi], gsi);
	assert_int_equal(c.lint_type[0], 3);  /* ExtINT on LINT0 */
	assert_int_equal(c.lint_type[1], 1);  /* NMI on LINT1 */
	free(mem);
}

static void test_mptable_counts(void **state)
{
	check_mp(1);
	check_mp(2);
	check_mp(8);
	check_mp(ARCVM_MAX_CPUS);
}

static void test_mptable_refuses(void **state)
{
	struct guest_mem m;
	uint8_t *mem = fake_mem(&m, 16 * MiB);
	struct arcvm_error err = { 0 };

	assert_int_equal(x86_mptable_write(&m, 0, &err), ARCVM_E_INVALID);
	assert_int_equal(x86_mptable_write(&m, 255, &err), ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "255"));
	free(mem);
	/* No memory at the EBDA. */
	uint8_t high[4096];
	memset(&m, 0, sizeof(m));
	assert_int_equal(mem_add_region(&m, 0x200000, high, sizeof(high), true, NULL), 0);
	assert_int_equal(x86_mptable_write(&m, 1, &err), ARCVM_E_INVALID);
}

/* ---- ACPI ---- */

struct acpi_found {
	uint64_t rsdp, xsdt, fadt, dsdt, madt;
};

/* Checks the header of the table at gpa: signature, checksum; returns its length. */
static uint32_t table_at(const uint8_t *mem, uint64_t gpa, const char *sig)
{
	assert_true(gpa >= X86_BIOS_START && gpa < X86_BIOS_END);
	if (memcmp(mem + gpa, sig, 4) != 0)
		fail_msg("expected %s at 0x%llx, found %.4s", sig, (unsigned long long)gpa,
			 (const char *)mem + gpa);
	uint32_t len = g32(mem, gpa + 4);
	assert_true(len >= 36 && gpa + len <= X86_BIOS_END);
	assert_int_equal(sum8(mem + gpa, len), 0);
	return len;
}

static void find_acpi(const uint8_t *mem, struct acpi_found *f)
{
	memset(f, 0, sizeof(*f));
	int64_t r = scan(mem, X86_BIOS_START, X86_BIOS_END, "RSD PTR ", 8);
	assert_true(r >= 0);
	f->rsdp = (uint64_t)r;
	assert_int_equal(sum8(mem + r, 20), 0);
	assert_int_equal(mem[r + 15], 2);                 /* revision: has an XSDT */
	assert_int_equal(g32(mem, r + 20), 36);
	assert_int_equal(sum8(mem + r, 36), 0);
	f->xsdt = g64(mem, r + 24);
	uint32_t xlen = table_at(mem, f->xsdt, "XSDT");
	assert_int_equal((xlen - 36) % 8, 0);
	for (uint32_t off = 36; off < xlen; off += 8) {
		uint64_t t = g64(mem, f->xsdt + off);
		if (memcmp(mem + t, "FACP", 4) == 0)
			f->fadt = t;
		else if (memcmp(mem + t, "APIC", 4) == 0)
			f->madt = t;
		else
			fail_msg("unexpected table %.4s in the XSDT", (const char *)mem + t);
	}
	assert_int_not_equal(f->fadt, 0);
	assert_int_not_equal(f->madt, 0);
}

static void expect_io_gas(const uint8_t *gas, uint16_t port)
{
	assert_int_equal(gas[0], 1);      /* System I/O */
	assert_int_equal(gas[1], 8);      /* 8 bits wide */
	assert_int_equal(gas[3], 1);      /* byte access */
	assert_int_equal(g64(gas, 4), port);
}

static void check_fadt_dsdt(const uint8_t *mem, struct acpi_found *f)
{
	const uint8_t *fadt = mem + f->fadt;
	uint32_t len = table_at(mem, f->fadt, "FACP");
	assert_int_equal(len, 276);
	assert_true(fadt[8] >= 5);                      /* revision */
	uint32_t flags = g32(fadt, 112);
	assert_true(flags & (1u << 20));                /* HW_REDUCED_ACPI */
	assert_true(flags & (1u << 10));                /* RESET_REG_SUP */
	assert_int_equal(g16(fadt, 46), X86_ACPI_SCI_IRQ);
	assert_true(g16(fadt, 109) & (1u << 2));        /* no VGA */
	assert_true(g16(fadt, 109) & (1u << 5));        /* no CMOS RTC */
	expect_io_gas(fadt + 116, X86_ACPI_RESET_PORT);
	assert_int_equal(fadt[128], X86_ACPI_RESET_VALUE);
	expect_io_gas(fadt + 244, X86_ACPI_SLEEP_CTL_PORT);
	expect_io_gas(fadt + 256, X86_ACPI_SLEEP_STS_PORT);

	f->dsdt = g64(fadt, 140);                       /* X_DSDT */
	uint32_t dlen = table_at(mem, f->dsdt, "DSDT");
	/* Name (\_S5, Package (4) { typ, typ, 0, 0 }), encoded by hand from
	 * the ACPI spec's AML grammar: NameOp, RootChar, NameSeg, PackageOp,
	 * PkgLength, NumElements, BytePrefix x2, ZeroOp x2. */
	const uint8_t s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04,
			       0x0A, X86_ACPI_S5_SLP_TYP, 0x0A, X86_ACPI_S5_SLP_TYP, 0x00, 0x00 };
	assert_true(dlen > 36 + sizeof(s5));   /* devices follow in \_SB */
	assert_memory_equal(mem + f->dsdt + 36, s5, sizeof(s5));
}

static void check_madt(const uint8_t *mem, const struct acpi_found *f, int ncpus)
{
	const uint8_t *madt = mem + f->madt;
	uint32_t len = table_at(mem, f->madt, "APIC");
	int cpus = 0, ioapics = 0, nmis = 0;

	assert_int_equal(g32(madt, 36), X86_LAPIC_ADDR);
	assert_true(g32(madt, 40) & 1);                 /* PCAT_COMPAT */
	for (uint32_t off = 44; off < len; off += madt[off + 1]) {
		const uint8_t *e = madt + off;
		assert_true(e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[3], cpus);           /* APIC ID */
			assert_true(g32(e, 4) & 1);             /* enabled */
			cpus++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(g32(e, 4), X86_IOAPIC_ADDR);
			assert_int_equal(g32(e, 8), 0);         /* GSI base */
			assert_true(e[2] >= ncpus);             /* no clash with a LAPIC ID */
			ioapics++;
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0);              /* ISA */
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xFF);           /* all processors */
			assert_int_equal(e[5], 1);              /* LINT1 */
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
	}
	assert_int_equal(cpus, ncpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(nmis, 1);
}

static void check_acpi(int ncpus)
{
	struct guest_mem m;
	uint8_t *mem = fake_mem(&m, 16 * MiB);
	struct acpi_found f;

	assert_int_equal(x86_acpi_write(&m, ncpus, NULL, 0, NULL), 0);
	find_acpi(mem, &f);
	assert_int_equal(f.rsdp, X86_BIOS_START);
	check_fadt_dsdt(mem, &f);
	check_madt(mem, &f, ncpus);
	free(mem);
}

static void test_acpi_tables(void **state)
{
	check_acpi(1);
	check_acpi(3);
	check_acpi(ARCVM_MAX_CPUS);
}

static void test_acpi_refuses(void **state)
{
	struct guest_mem m;
	uint8_t *mem = fake_mem(&m, 16 * MiB);

	assert_int_equal(x86_acpi_write(&m, 0, NULL, 0, NULL), ARCVM_E_INVALID);
	assert_int_equal(x86_acpi_write(&m, 255, NULL, 0, NULL), ARCVM_E_INVALID);
	free(mem);
}

/* ---- ACPI through iasl, when installed ---- */

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return NULL;
	char *buf = calloc(1, 1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* Disassembles one table with iasl -d and returns the .dsl text. */
static char *iasl_disassemble(const char *dir, const char *name, const uint8_t *table)
{
	char path[512], cmd[1200];
	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(table, 1, g32(table, 4), fp), g32(table, 4));
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d %s.dat > %s.log 2>&1", dir, name, name);
	if (system(cmd) != 0)
		fail_msg("iasl -d %s failed: see %s/%s.log", name, dir, name);
	snprintf(path, sizeof(path), "%s/%s.dsl", dir, name);
	char *dsl = slurp(path);
	assert_non_null(dsl);
	if (strstr(dsl, "Incorrect checksum"))
		fail_msg("iasl: incorrect checksum in %s", name);
	return dsl;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void expect_in(const char *dsl, const char *needle)
{
	if (!strstr(dsl, needle))
		fail_msg("iasl output lacks \"%s\"", needle);
}

static void test_acpi_iasl(void **state)
{
	if (system("command -v iasl > /dev/null 2>&1") != 0) {
		printf("[  SKIP    ] iasl not installed (Debian package acpica-tools); the "
		       "checksum and layout checks above still ran\n");
		skip();
	}
	struct guest_mem m;
	uint8_t *mem = fake_mem(&m, 16 * MiB);
	struct acpi_found f;
	char dir[] = "/tmp/arcvm-acpi-XXXXXX", line[64];
	const int ncpus = 4;

	assert_non_null(mkdtemp(dir));
	const struct x86_mmio_dev virtio[2] = {
		{ .base = 0xD0000000, .size = 0x1000, .gsi = 5 },
		{ .base = 0xD0001000, .size = 0x1000, .gsi = 6 },
	};
	assert_int_equal(x86_acpi_write(&m, ncpus, virtio, 2, NULL), 0);
	find_acpi(mem, &f);
	check_fadt_dsdt(mem, &f);

	char *dsdt = iasl_disassemble(dir, "dsdt", mem + f.dsdt);
	expect_in(dsdt, "Name (\\_S5, Package (0x04)");
	expect_in(dsdt, "Device (COM1)");
	expect_in(dsdt, "EisaId (\"PNP0501\")");
	expect_in(dsdt, "0x03F8,             // Range Minimum");
	expect_in(dsdt, "IRQNoFlags ()");
	expect_in(dsdt, "{4}");
	assert_int_equal(count(dsdt, "\"LNRO0005\""), 2);
	expect_in(dsdt, "Device (VR01)");
	expect_in(dsdt, "0xD0001000,         // Address Base");
	expect_in(dsdt, "0x00000006,");
	snprintf(line, sizeof(line), "0x%02X, ", X86_ACPI_S5_SLP_TYP);
	assert_int_equal(count(dsdt, line), 2);
	char *fadt = iasl_disassemble(dir, "facp", mem + f.fadt);
	expect_in(fadt, "Hardware Reduced (V5) : 1");
	expect_in(fadt, "Reset Register Supported (V2) : 1");
	snprintf(line, sizeof(line), "Address : %016X", X86_ACPI_SLEEP_CTL_PORT);
	expect_in(fadt, line);
	char *madt = iasl_disassemble(dir, "apic", mem + f.madt);
	assert_int_equal(count(madt, "[Processor Local APIC]"), ncpus);
	assert_int_equal(count(madt, "[I/O APIC]"), 1);
	char *xsdt = iasl_disassemble(dir, "xsdt", mem + f.xsdt);

	free(xsdt);
	free(madt);
	free(fadt);
	free(dsdt);
	snprintf(line, sizeof(line), "rm -rf %s", dir);
	assert_int_equal(system(line), 0);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e820_256m),
		cmocka_unit_test(test_e820_6g),
		cmocka_unit_test(test_e820_skips_non_ram_regions),
		cmocka_unit_test(test_mptable_counts),
		cmocka_unit_test(test_mptable_refuses),
		cmocka_unit_test(test_acpi_tables),
		cmocka_unit_test(test_acpi_refuses),
		cmocka_unit_test(test_acpi_iasl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
