/*
 * test_x86_cpu.c - the vCPU's starting state: long-mode page tables walked
 * as the MMU walks them, the GDT read back as the CPU reads it, CPUID
 * topology per vCPU on a synthetic KVM CPUID list, and the boot MSRs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/layout.h"
#include "arch/x86/x86.h"
#include "tests/unit/x86_test_util.h"


/* ---- long mode ---- */

#define PTE_P  1ull
#define PTE_W  2ull
#define PTE_PS 0x80ull
#define ADDR_MASK 0x000ffffffffff000ull

/*
 * Translates a virtual address through 4-level paging as the MMU does;
 * returns 0 and the physical address, or -1 when some level is not present.
 * Requires every present level to be writable.
 */
static int walk(const uint8_t *mem, uint64_t cr3, uint64_t va, uint64_t *pa)
{
	uint64_t table = cr3 & ADDR_MASK;
	int shifts[] = { 39, 30, 21, 12 };

	for (int level = 0; level < 4; level++) {
		uint64_t e = g64(mem, table + ((va >> shifts[level]) & 511) * 8);
		if (!(e & PTE_P))
			return -1;
		assert_true(e & PTE_W);
		uint64_t page = 1ull << shifts[level];
		if (level > 0 && (e & PTE_PS)) {
			*pa = (e & ADDR_MASK & ~(page - 1)) | (va & (page - 1));
			return 0;
		}
		table = e & ADDR_MASK;
	}
	*pa = table | (va & 0xfff);
	return 0;
}

static struct kvm_sregs reset_sregs(void)
{
	struct kvm_sregs s;
	memset(&s, 0, sizeof(s));
	s.cr0 = 0x60000010;  /* the reset value: CD | NW | ET */
	s.apic_base = 0xFEE00900;
	return s;
}

static void test_long_mode_page_tables(void **state)
{
	struct guest_mem m;
	uint8_t *mem = fake_mem(&m, 16 * MiB);
	struct kvm_sregs s = reset_sregs();
	uint64_t pa;

	assert_int_equal(x86_setup_long_mode(&m, &s, NULL), 0);
	/* Identity over 0..4 GiB: RAM, the MMIO hole, the LAPIC, the last byte. */
	uint64_t probes[] = { 0, 0x1234, X86_KERNEL_ADDR + 0x200, 0x1FFFFF, 0x200000,
			      0x7654321, GiB + 5, 0xBFFFFFFF, X86_VIRTIO_MMIO_BASE,
			      X86_IOAPIC_ADDR, X86_LAPIC_ADDR + 0x30, 0xFFFFFFFF };
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		assert_int_equal(walk(mem, s.cr3, probes[i], &pa), 0);
		assert_int_equal(pa, probes[i]);
	}
	/* Every 2 MiB page, not only the probes. */
	for (uint64_t va = 0; va < 4 * GiB; va += 2 * MiB) {
		assert_int_equal(walk(mem, s.cr3, va + 0x1000, &pa), 0);
		assert_int_equal(pa, va + 0x1000);
	}
	/* Nothing above 4 GiB is mapped. */
	assert_int_equal(walk(mem, s.cr3, 4 * GiB, &pa), -1);
	assert_int_equal(walk(mem, s.cr3, 0xffffffff81000000ull, &pa), -1);
	free(mem);
}

/* Decodes a GDT descriptor's type/S/DPL/P/L/D/G bits. */
static void expect_desc(const uint8_t *mem, const struct kvm_sregs *s,
			const struct kvm_segment *seg)
{
	assert_true(seg->selector + 8u <= s->gdt.limit + 1u);
	uint64_t d = g64(mem, s->gdt.base + seg->selector);
	assert_int_equal((d >> 40) & 0xf, seg->type);
	assert_int_equal((d >> 44) & 1, seg->s);
	assert_int_equal((d >> 45) & 3, seg->dpl);
	assert_int_equal((d >> 47) & 1, seg->present);
	assert_int_equal((d >> 53) & 1, seg->l);
	assert_int_equal((d >> 54) & 1, seg->db);
	assert_int_equal((d >> 55) & 1, seg->g);
}

static void test_long_mode_registers(void **state)
{
	struct guest_mem m;
	uint8_t *mem = fake_mem(&m, 16 * MiB);
	struct kvm_sregs s = reset_sregs();

	assert_int_equal(x86_setup_long_mode(&m, &s, NULL), 0);
	assert_true(s.cr0 & 1);                 /* PE */
	assert_true(s.cr0 & (1ull << 31));      /* PG */
	assert_false(s.cr0 & (1ull << 30));     /* CD cleared: caches on */
	assert_false(s.cr0 & (1ull << 29));     /* NW */
	assert_true(s.cr4 & (1ull << 5));       /* PAE */
	assert_true(s.efer & (1ull << 8));      /* LME */
	assert_true(s.efer & (1ull << 10));     /* LMA */
	assert_int_equal(s.cr3, X86_PML4_ADDR);
	assert_int_equal(s.apic_base, 0xFEE00900);  /* untouched */

	/* boot.rst: CS is __BOOT_CS (0x10), data segments __BOOT_DS (0x18). */
	assert_int_equal(s.gdt.base, X86_GDT_ADDR);
	assert_int_equal(s.cs.selector, 0x10);
	assert_int_equal(s.cs.l, 1);
	assert_int_equal(s.cs.db, 0);
	assert_int_equal(s.cs.type, 0xb);
	assert_int_equal(s.cs.present, 1);
	assert_int_equal(s.cs.dpl, 0);
	expect_desc(mem, &s, &s.cs);
	const struct kvm_segment *data[] = { &s.ds, &s.es, &s.ss, &s.fs, &s.gs };
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(data[i]->selector, 0x18);
		assert_int_equal(data[i]->type, 3);
		assert_int_equal(data[i]->present, 1);
		assert_int_equal(data[i]->base, 0);
		assert_int_equal(data[i]->limit, 0xffffffff);
		expect_desc(mem, &s, data[i]);
	}
	/* A busy 64-bit TSS, as VMX requires of TR. */
	assert_int_equal(s.tr.type, 0xb);
	assert_int_equal(s.tr.present, 1);
	assert_int_equal(s.tr.s, 0);
	expect_desc(mem, &s, &s.tr);
	free(mem);
}

static void test_long_mode_needs_low_memory(void **state)
{
	struct guest_mem m;
	uint8_t *mem = fake_mem(&m, 0x9000);  /* ends where the PML4 would go */
	struct kvm_sregs s = reset_sregs();
	struct arcvm_error err = { 0 };

	assert_int_equal(x86_setup_long_mode(&m, &s, &err), ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "page tables"));
	assert_int_equal(s.cr0, 0x60000010);    /* sregs untouched on failure */
	free(mem);
}

/* ---- CPUID ---- */

struct cpuid_list {
	struct kvm_cpuid2 hdr;
	struct kvm_cpuid_entry2 e[32];
};

static struct kvm_cpuid_entry2 *leaf(struct cpuid_list *c, uint32_t fn, uint32_t index)
{
	for (uint32_t i = 0; i < c->hdr.nent; i++)
		if (c->e[i].function == fn && c->e[i].index == index)
			return &c->e[i];
	fail_msg("leaf 0x%x.%u missing", fn, index);
	return NULL;
}

static void add(struct cpuid_list *c, uint32_t fn, uint32_t index, uint32_t a, uint32_t b,
		uint32_t cx, uint32_t d)
{
	c->e[c->hdr.nent++] = (struct kvm_cpuid_entry2){
		.function = fn, .index = index, .eax = a, .ebx = b, .ecx = cx, .edx = d,
	};
}

/* Leaf 4 EAX of the host's L1d, L1i, L2 and L3 (2 threads share L1/L2,
 * 16 share L3; 8 cores). */
static const uint32_t cache_eax[4] = { 0x1C004121, 0x1C004122, 0x1C004143, 0x1C03C163 };

/* What KVM_GET_SUPPORTED_CPUID might say on a host with 8 SMT threads. */
static void make_cpuid(struct cpuid_list *c, const char vendor[12])
{
	uint32_t v[3];
	memset(c, 0, sizeof(*c));
	memcpy(v, vendor, 12);
	add(c, 0, 0, 0x1F, v[0], v[2], v[1]);
	add(c, 1, 0, 0x000906EA, 0x00100800, 0x7FFAFBFF, 0xBFEBFBFF);
	for (uint32_t i = 0; i < 4; i++)
		add(c, 4, i, cache_eax[i], 0, 0, 0);
	add(c, 4, 4, 0, 0, 0, 0);            /* end of the list */
	for (uint32_t fn = 0xB; fn <= 0x1F; fn += 0x14)
		for (uint32_t i = 0; i < 3; i++)
			add(c, fn, i, 1, 2, 0x100, 7);
	add(c, 0x40000000, 0, 0x40000001, 0x4B4D564B, 0x564B4D56, 0x4D);  /* "KVMKVMKVM" */
	add(c, 0x80000008, 0, 0x3030, 0, 0x7007, 0);
	add(c, 0x8000001E, 0, 9, 0x0105, 0x0101, 0);
}

static uint32_t bits_for(int n)
{
	uint32_t b = 0;
	while ((1 << b) < n)
		b++;
	return b;
}

static void check_topology(const char vendor[12], int ncpus)
{
	uint64_t seen_ids = 0;

	for (int cpu = 0; cpu < ncpus; cpu++) {
		struct cpuid_list c;
		make_cpuid(&c, vendor);
		struct kvm_cpuid_entry2 kvm = *leaf(&c, 0x40000000, 0);
		x86_cpuid_setup(&c.hdr, cpu, ncpus);

		struct kvm_cpuid_entry2 *f = leaf(&c, 1, 0);
		assert_int_equal(f->ebx >> 24, cpu);                  /* initial APIC ID */
		assert_int_equal((f->ebx >> 16) & 0xff, ncpus);
		assert_int_equal(f->ebx & 0xffff, 0x0800);            /* CLFLUSH size kept */
		assert_true(f->ecx & (1u << 31));                     /* hypervisor */
		assert_int_equal(!!(f->edx & (1u << 28)), ncpus > 1); /* HTT */

		/* 0xB and 0x1F: SMT level of 1 thread, core level of ncpus. */
		for (uint32_t fn = 0xB; fn <= 0x1F; fn += 0x14) {
			struct kvm_cpuid_entry2 *smt = leaf(&c, fn, 0), *core = leaf(&c, fn, 1);
			assert_int_equal(smt->ebx, 1);
			assert_int_equal((smt->ecx >> 8) & 0xff, 1);
			assert_int_equal(smt->eax & 0x1f, 0);
			assert_int_equal(core->ebx, ncpus);
			assert_int_equal((core->ecx >> 8) & 0xff, 2);
			uint32_t shift = core->eax & 0x1f;
			assert_true((1u << shift) >= (uint32_t)ncpus);  /* every core has an ID */
			assert_true(shift == 0 || (1u << (shift - 1)) < (uint32_t)ncpus);
			assert_int_equal(smt->edx, cpu);
			assert_int_equal(core->edx, cpu);
			assert_int_equal(cpu >> shift, 0);              /* all in package 0 */
			assert_int_equal((leaf(&c, fn, 2)->ecx >> 8) & 0xff, 0);  /* end */
		}
		seen_ids |= 1ull << (f->ebx >> 24);

		/* Leaf 4: cores per package; L1/L2 private, L3 shared by all. */
		for (uint32_t i = 0; i < 4; i++) {
			uint32_t a = leaf(&c, 4, i)->eax;
			assert_int_equal(a >> 26, ncpus - 1);
			assert_int_equal((a >> 14) & 0xfff, i < 3 ? 0 : ncpus - 1);
			assert_int_equal(a & 0x3fff, cache_eax[i] & 0x3fff);  /* type, level kept */
		}
		assert_int_equal(leaf(&c, 4, 4)->eax, 0);

		/* KVM's own leaves pass through untouched. */
		assert_memory_equal(leaf(&c, 0x40000000, 0), &kvm, sizeof(kvm));
	}
	/* Distinct APIC IDs, 0..ncpus-1. */
	assert_int_equal(seen_ids, ncpus == 64 ? UINT64_MAX : (1ull << ncpus) - 1);
}

static void test_cpuid_intel(void **state)
{
	int counts[] = { 1, 2, 3, 4, 5, 8, 13, ARCVM_MAX_CPUS };
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		check_topology("GenuineIntel", counts[i]);
}

static void test_cpuid_amd(void **state)
{
	check_topology("AuthenticAMD", 3);
	for (int cpu = 0; cpu < 6; cpu++) {
		struct cpuid_list c;
		make_cpuid(&c, "AuthenticAMD");
		x86_cpuid_setup(&c.hdr, cpu, 6);
		uint32_t ecx = leaf(&c, 0x80000008, 0)->ecx;
		assert_int_equal(ecx & 0xff, 5);                  /* NC: cores - 1 */
		assert_int_equal((ecx >> 12) & 0xf, bits_for(6)); /* ApicIdCoreIdSize */
		assert_int_equal(ecx & 0xf0000, 0);               /* other bits kept */
		struct kvm_cpuid_entry2 *t = leaf(&c, 0x8000001E, 0);
		assert_int_equal(t->eax, cpu);                    /* extended APIC ID */
		assert_int_equal(t->ebx & 0xff, cpu);             /* core ID */
		assert_int_equal((t->ebx >> 8) & 0xff, 0);        /* 1 thread per core */
	}
	/* On Intel the AMD leaves are left as KVM gave them. */
	struct cpuid_list c;
	make_cpuid(&c, "GenuineIntel");
	x86_cpuid_setup(&c.hdr, 1, 6);
	assert_int_equal(leaf(&c, 0x80000008, 0)->ecx, 0x7007);
	assert_int_equal(leaf(&c, 0x8000001E, 0)->eax, 9);
}

/* ---- MSRs ---- */

static void test_boot_msrs(void **state)
{
	struct kvm_msr_entry e[64];
	int n = x86_boot_msrs(e, 64);
	int found_mtrr = 0, found_misc = 0, found_lstar = 0;

	assert_true(n > 0 && n < 64);
	for (int i = 0; i < n; i++) {
		assert_int_not_equal(e[i].index, 0x10);           /* not the TSC */
		for (int j = 0; j < i; j++)
			assert_int_not_equal(e[i].index, e[j].index);
		if (e[i].index == 0x2FF) {
			found_mtrr = 1;
			assert_int_equal(e[i].data, (1u << 11) | 6);  /* enabled, write-back */
		} else if (e[i].index == 0x1A0) {
			found_misc = 1;
			assert_true(e[i].data & 1);                   /* fast strings */
		} else if (e[i].index == 0xC0000082) {
			found_lstar = 1;
			assert_int_equal(e[i].data, 0);
		}
	}
	assert_true(found_mtrr && found_misc && found_lstar);
	/* A short array gets a prefix of the list, never more than it holds. */
	struct kvm_msr_entry few[4];
	memset(few, 0xAB, sizeof(few));
	assert_int_equal(x86_boot_msrs(few, 3), 3);
	assert_int_equal(few[0].index, e[0].index);
	assert_int_equal(few[3].index, 0xABABABAB);
	assert_int_equal(x86_boot_msrs(few, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_mode_page_tables),
		cmocka_unit_test(test_long_mode_registers),
		cmocka_unit_test(test_long_mode_needs_low_memory),
		cmocka_unit_test(test_cpuid_intel),
		cmocka_unit_test(test_cpuid_amd),
		cmocka_unit_test(test_boot_msrs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
