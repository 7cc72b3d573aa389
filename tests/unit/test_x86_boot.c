/*
 * test_x86_boot.c - the Linux boot protocol loaders on a fake guest memory:
 * bzImage header validation, ELF64 vmlinux loading, the zero page (command
 * line, initrd placement, e820) and, when one is present, a real bzImage.
 *
 * Images are built here byte by byte from the offsets in boot.rst and the
 * ELF specification, not from the loader's own definitions.
 */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "arch/x86/layout.h"
#include "arch/x86/x86.h"
#include "tests/unit/x86_test_util.h"

#define MiB (1ull << 20)

/* ---- fake guest memory ---- */

struct fake {
	struct guest_mem mem;
	uint8_t *buf;
	uint64_t size;
};

static void fake_init(struct fake *f, uint64_t size, uint8_t fill)
{
	memset(&f->mem, 0, sizeof(f->mem));
	f->size = size;
	f->buf = calloc(1, size);
	assert_non_null(f->buf);
	if (fill)
		memset(f->buf, fill, size);
	assert_int_equal(mem_add_region(&f->mem, 0, f->buf, size, true, NULL), 0);
}

static void fake_free(struct fake *f)
{
	free(f->buf);
}

static void p16(uint8_t *p, size_t off, uint16_t v) { memcpy(p + off, &v, 2); }
static void p32(uint8_t *p, size_t off, uint32_t v) { memcpy(p + off, &v, 4); }
static void p64(uint8_t *p, size_t off, uint64_t v) { memcpy(p + off, &v, 8); }

/* ---- a synthetic bzImage (boot.rst offsets) ---- */

#define SETUP_SECTS   4
#define SETUP_BYTES   ((SETUP_SECTS + 1) * 512)
#define KERNEL_BYTES  0x10000u
#define IMG_BYTES     (SETUP_BYTES + KERNEL_BYTES)
#define PREF_ADDRESS  0x1000000ull
#define INIT_SIZE     0x800000u
#define VERSION_STR   "6.1.0-test (arcvm@unit) #1 SMP"

static uint8_t *make_bzimage(void)
{
	uint8_t *img = calloc(1, IMG_BYTES);
	assert_non_null(img);
	img[0x1F1] = SETUP_SECTS;
	p32(img, 0x1F4, KERNEL_BYTES / 16);          /* syssize */
	p16(img, 0x1FE, 0xAA55);                     /* boot_flag */
	img[0x200] = 0xEB;                           /* jmp short */
	img[0x201] = 0x6A;                           /* header ends at 0x26C */
	memcpy(img + 0x202, "HdrS", 4);
	p16(img, 0x206, 0x020F);                     /* protocol 2.15 */
	p16(img, 0x20E, 0x300 - 0x200);              /* kernel_version */
	memcpy(img + 0x300, VERSION_STR, sizeof(VERSION_STR));
	p32(img, 0x22C, 0x7FFFFFFF);                 /* initrd_addr_max */
	p32(img, 0x230, 0x200000);                   /* kernel_alignment */
	img[0x234] = 1;                              /* relocatable_kernel */
	p16(img, 0x236, 0x3);                        /* XLF_KERNEL_64 | above 4G */
	p32(img, 0x238, 2047);                       /* cmdline_size */
	p64(img, 0x258, PREF_ADDRESS);
	p32(img, 0x260, INIT_SIZE);
	p32(img, 0x264, 0x190);                      /* handover_offset */
	for (size_t i = 0; i < KERNEL_BYTES; i++)
		img[SETUP_BYTES + i] = (uint8_t)(i * 7 + 3);
	return img;
}

static void expect_format(const uint8_t *img, size_t len, const char *needle)
{
	struct x86_bzimage bz;
	struct arcvm_error err = { 0 };
	assert_int_equal(x86_bzimage_parse(img, len, &bz, &err), ARCVM_E_FORMAT);
	assert_int_equal(err.code, ARCVM_E_FORMAT);
	if (needle && !strstr(err.msg, needle))
		fail_msg("message \"%s\" does not mention \"%s\"", err.msg, needle);
}

static void test_bzimage_good(void **state)
{
	uint8_t *img = make_bzimage();
	struct x86_bzimage bz;
	struct arcvm_error err = { 0 };

	assert_int_equal(x86_bzimage_parse(img, IMG_BYTES, &bz, &err), 0);
	assert_int_equal(bz.version, 0x020F);
	assert_int_equal(bz.setup_sects, SETUP_SECTS);
	assert_int_equal(bz.setup_size, SETUP_BYTES);
	assert_int_equal(bz.kernel_offset, SETUP_BYTES);
	assert_int_equal(bz.kernel_size, KERNEL_BYTES);
	assert_int_equal(bz.cmdline_size, 2047);
	assert_int_equal(bz.initrd_addr_max, 0x7FFFFFFF);
	assert_int_equal(bz.pref_address, PREF_ADDRESS);
	assert_int_equal(bz.init_size, INIT_SIZE);
	assert_true(bz.relocatable);
	assert_true(bz.xloadflags & 1);
	assert_string_equal(bz.version_string, VERSION_STR);
	free(img);
}

static void test_bzimage_setup_sects_zero_means_four(void **state)
{
	uint8_t *img = make_bzimage();
	struct x86_bzimage bz;
	img[0x1F1] = 0;
	assert_int_equal(x86_bzimage_parse(img, IMG_BYTES, &bz, NULL), 0);
	assert_int_equal(bz.setup_size, 5 * 512);
	free(img);
}

static void test_bzimage_truncated(void **state)
{
	uint8_t *img = make_bzimage();
	/* Cut inside the boot sector, before "HdrS", inside the 2.12 fields,
	 * right at the end of the setup code, and inside the kernel. */
	size_t cuts[] = { 0, 1, 0x1FF, 0x204, 0x263, SETUP_BYTES,
			  SETUP_BYTES + KERNEL_BYTES - 16 };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		expect_format(img, cuts[i], NULL);
	expect_format(img, 0x100, "too short");
	expect_format(img, SETUP_BYTES + KERNEL_BYTES - 16, "truncated");
	/* setup_sects larger than the whole file. */
	img[0x1F1] = 200;
	expect_format(img, IMG_BYTES, "setup");
	free(img);
}

static void test_bzimage_garbage_and_foreign(void **state)
{
	uint8_t *img = malloc(IMG_BYTES);
	assert_non_null(img);
	srand(42);
	for (size_t i = 0; i < IMG_BYTES; i++)
		img[i] = (uint8_t)rand();
	img[0x1FE] = 0;  /* random bytes could, 1 time in 65536, hold the boot flag */
	expect_format(img, IMG_BYTES, "0xAA55");

	memcpy(img, "\x7f" "ELF", 4);
	expect_format(img, IMG_BYTES, "ELF");
	memcpy(img, "PK\x03\x04", 4);
	expect_format(img, IMG_BYTES, "zip");
	free(img);
}

static void test_bzimage_bad_magic_and_protocol(void **state)
{
	uint8_t *img = make_bzimage();

	memcpy(img + 0x202, "HdrZ", 4);
	expect_format(img, IMG_BYTES, "HdrS");
	memcpy(img + 0x202, "HdrS", 4);

	p16(img, 0x1FE, 0x55AA);
	expect_format(img, IMG_BYTES, "boot flag");
	p16(img, 0x1FE, 0xAA55);

	p16(img, 0x206, 0x020B);  /* 2.11: no xloadflags yet */
	expect_format(img, IMG_BYTES, "too old");
	p16(img, 0x206, 0x020F);

	p16(img, 0x236, 0x2);     /* no XLF_KERNEL_64: a 32-bit-only kernel */
	expect_format(img, IMG_BYTES, "XLF_KERNEL_64");
	p16(img, 0x236, 0x3);

	img[0x201] = 0x40;        /* header claims to end at 0x242 */
	expect_format(img, IMG_BYTES, "header ends");
	free(img);
}

static void test_bzimage_version_string_bounds(void **state)
{
	uint8_t *img = make_bzimage();
	struct x86_bzimage bz;

	/* Pointer past the setup code: no string, and nothing read from there. */
	p16(img, 0x20E, 0xFFFF);
	assert_int_equal(x86_bzimage_parse(img, IMG_BYTES, &bz, NULL), 0);
	assert_string_equal(bz.version_string, "");

	/* An unterminated string at the end of the setup code stops there,
	 * not in the (non-zero) kernel bytes that follow. */
	memcpy(img + SETUP_BYTES - 5, "6.9.x", 5);
	p16(img, 0x20E, SETUP_BYTES - 5 - 0x200);
	assert_int_equal(x86_bzimage_parse(img, IMG_BYTES, &bz, NULL), 0);
	assert_string_equal(bz.version_string, "6.9.x");

	/* Pointer 0: the header names no version. */
	p16(img, 0x20E, 0);
	assert_int_equal(x86_bzimage_parse(img, IMG_BYTES, &bz, NULL), 0);
	assert_string_equal(bz.version_string, "");
	free(img);
}

/* ---- x86_load_linux with a bzImage ---- */

#define BP X86_BOOT_PARAMS_ADDR

static void test_load_bzimage_zero_page(void **state)
{
	struct fake f;
	uint8_t *img = make_bzimage();
	uint8_t initrd[3 * 4096 + 17];
	struct x86_linux_entry entry;
	struct arcvm_error err = { 0 };
	const char *cmdline = "console=ttyS0 reboot=k panic=-1";

	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i ^ 0x5A);
	fake_init(&f, 256 * MiB, 0);
	assert_int_equal(x86_load_linux(&f.mem, img, IMG_BYTES, initrd, sizeof(initrd), cmdline,
					&entry, &err), 0);
	const uint8_t *bp = f.buf + BP;

	/* Entry: the 64-bit entry is 0x200 past the protected-mode code. */
	assert_int_equal(entry.boot_params, BP);
	assert_int_equal(entry.rip, X86_KERNEL_ADDR + 0x200);
	assert_memory_equal(f.buf + X86_KERNEL_ADDR, img + SETUP_BYTES, KERNEL_BYTES);

	/* The setup header is the image's, plus the loader's fields. */
	assert_int_equal(g16(bp, 0x1FE), 0xAA55);
	assert_memory_equal(bp + 0x202, "HdrS", 4);
	assert_int_equal(g16(bp, 0x206), 0x020F);
	assert_int_equal(g32(bp, 0x230), 0x200000);
	assert_int_equal(g32(bp, 0x260), INIT_SIZE);
	assert_int_equal(g32(bp, 0x264), 0x190);  /* copied up to the header's end */
	assert_int_equal(bp[0x210], 0xFF);        /* type_of_loader */
	assert_true(bp[0x211] & 0x01);            /* LOADED_HIGH */
	assert_true(bp[0x211] & 0x80);            /* CAN_USE_HEAP */

	/* Command line. */
	assert_int_equal(g32(bp, 0x228), X86_CMDLINE_ADDR);
	assert_int_equal(g32(bp, 0x0C8), 0);
	assert_string_equal((const char *)f.buf + X86_CMDLINE_ADDR, cmdline);

	/* Initrd: page-aligned, above where the kernel decompresses
	 * (pref_address + init_size), inside RAM, contents intact. */
	uint64_t rd = g32(bp, 0x218) | ((uint64_t)g32(bp, 0x0C0) << 32);
	uint64_t rd_size = g32(bp, 0x21C) | ((uint64_t)g32(bp, 0x0C4) << 32);
	assert_int_equal(rd_size, sizeof(initrd));
	assert_int_equal(rd & 0xFFF, 0);
	assert_true(rd >= PREF_ADDRESS + INIT_SIZE);
	assert_true(rd + rd_size <= 256 * MiB);
	assert_true(rd + rd_size <= 0x7FFFFFFFull + 1);
	/* "As high as possible": no page-aligned spot above it fits. */
	assert_true(rd + 4096 + rd_size > 256 * MiB);
	assert_memory_equal(f.buf + rd, initrd, sizeof(initrd));

	/* e820 in the zero page. */
	assert_int_equal(bp[0x1E8], 3);
	assert_int_equal(g64(bp, 0x2D0 + 20 * 2), 1 * MiB);
	assert_int_equal(g64(bp, 0x2D0 + 20 * 2 + 8), 255 * MiB);
	assert_int_equal(g32(bp, 0x2D0 + 20 * 2 + 16), 1);
	fake_free(&f);
	free(img);
}

static void test_load_initrd_respects_initrd_addr_max(void **state)
{
	struct fake f;
	uint8_t *img = make_bzimage();
	static uint8_t initrd[MiB];
	struct x86_linux_entry entry;

	p32(img, 0x22C, 0x1FFFFFF);  /* initrd must end at or below 32 MiB */
	fake_init(&f, 256 * MiB, 0);
	assert_int_equal(x86_load_linux(&f.mem, img, IMG_BYTES, initrd, sizeof(initrd), "",
					&entry, NULL), 0);
	uint64_t rd = g32(f.buf + BP, 0x218);
	assert_true(rd + sizeof(initrd) <= 32 * MiB);
	assert_true(rd >= PREF_ADDRESS + INIT_SIZE);
	assert_int_equal(rd & 0xFFF, 0);
	fake_free(&f);
	free(img);
}

static void test_load_initrd_too_big(void **state)
{
	struct fake f;
	uint8_t *img = make_bzimage();
	size_t len = 40 * MiB;
	uint8_t *initrd = calloc(1, len);
	struct x86_linux_entry entry;
	struct arcvm_error err = { 0 };

	/* 64 MiB of RAM, the kernel uses up to 24 MiB: 40 MiB fits exactly,
	 * 40 MiB + 1 page does not. */
	fake_init(&f, 64 * MiB, 0);
	assert_int_equal(x86_load_linux(&f.mem, img, IMG_BYTES, initrd, len, "", &entry, &err), 0);
	assert_int_equal(g32(f.buf + BP, 0x218), PREF_ADDRESS + INIT_SIZE);
	free(initrd);
	len += 4096;
	initrd = calloc(1, len);
	assert_int_equal(x86_load_linux(&f.mem, img, IMG_BYTES, initrd, len, "", &entry, &err),
			 ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "initrd"));
	free(initrd);
	fake_free(&f);
	free(img);
}

static void test_load_cmdline_limits(void **state)
{
	struct fake f;
	uint8_t *img = make_bzimage();
	char line[2049];
	struct x86_linux_entry entry;
	struct arcvm_error err = { 0 };

	fake_init(&f, 64 * MiB, 0);
	memset(line, 'a', 2047);
	line[2047] = '\0';
	assert_int_equal(x86_load_linux(&f.mem, img, IMG_BYTES, NULL, 0, line, &entry, &err), 0);
	assert_int_equal(strlen((const char *)f.buf + X86_CMDLINE_ADDR), 2047);

	line[2047] = 'b';
	line[2048] = '\0';
	assert_int_equal(x86_load_linux(&f.mem, img, IMG_BYTES, NULL, 0, line, &entry, &err),
			 ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "2048"));
	assert_non_null(strstr(err.msg, "2047"));

	/* The kernel's own cmdline_size rules. */
	p32(img, 0x238, 16);
	assert_int_equal(x86_load_linux(&f.mem, img, IMG_BYTES, NULL, 0, "0123456789abcdef",
					&entry, NULL), 0);
	assert_int_equal(x86_load_linux(&f.mem, img, IMG_BYTES, NULL, 0, "0123456789abcdefg",
					&entry, NULL), ARCVM_E_INVALID);
	fake_free(&f);
	free(img);
}

static void test_load_ram_too_small_for_kernel(void **state)
{
	struct fake f;
	uint8_t *img = make_bzimage();
	struct x86_linux_entry entry;
	struct arcvm_error err = { 0 };

	/* It decompresses into [16 MiB, 24 MiB): 20 MiB of RAM is not enough. */
	fake_init(&f, 20 * MiB, 0);
	assert_int_equal(x86_load_linux(&f.mem, img, IMG_BYTES, NULL, 0, "", &entry, &err),
			 ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "RAM"));
	fake_free(&f);
	free(img);
}

static void test_load_foreign_kernel(void **state)
{
	struct fake f;
	uint8_t junk[4096] = { 'M', 'Z' };
	struct x86_linux_entry entry;
	struct arcvm_error err = { 0 };

	fake_init(&f, 64 * MiB, 0);
	assert_int_equal(x86_load_linux(&f.mem, junk, sizeof(junk), NULL, 0, "", &entry, &err),
			 ARCVM_E_FORMAT);
	fake_free(&f);
}

/* ---- ELF64 vmlinux ---- */

#define SEG_A_PADDR 0x1000000ull
#define SEG_A_VADDR 0xffffffff81000000ull
#define SEG_A_SIZE  0x3000u
#define SEG_B_PADDR 0x1200000ull
#define SEG_B_VADDR 0xffffffff81200000ull
#define SEG_B_FILE  0x1000u
#define SEG_B_MEM   0x5000u
#define ELF_DATA    0x1000u  /* file offset of segment A */
#define ELF_BYTES   (ELF_DATA + SEG_A_SIZE + SEG_B_FILE)

static uint8_t *make_elf(uint64_t entry)
{
	/* Slack after the file, so tests may grow it. */
	uint8_t *img = calloc(1, ELF_BYTES + SEG_B_MEM);
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph[3] = { { 0 } };

	assert_non_null(img);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = entry;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 3;
	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = ELF_DATA, .p_vaddr = SEG_A_VADDR,
			      .p_paddr = SEG_A_PADDR, .p_filesz = SEG_A_SIZE, .p_memsz = SEG_A_SIZE };
	ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 0, .p_filesz = 4 };
	ph[2] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = ELF_DATA + SEG_A_SIZE,
			      .p_vaddr = SEG_B_VADDR, .p_paddr = SEG_B_PADDR,
			      .p_filesz = SEG_B_FILE, .p_memsz = SEG_B_MEM };
	memcpy(img, &eh, sizeof(eh));
	memcpy(img + sizeof(eh), ph, sizeof(ph));
	for (size_t i = ELF_DATA; i < ELF_BYTES; i++)
		img[i] = (uint8_t)(i * 13 + 1);
	return img;
}

static Elf64_Phdr *elf_phdr(uint8_t *img, int i)
{
	return (Elf64_Phdr *)(img + sizeof(Elf64_Ehdr) + (size_t)i * sizeof(Elf64_Phdr));
}

static void test_elf_two_segments_and_bss(void **state)
{
	struct fake f;
	uint8_t *img = make_elf(SEG_A_VADDR + 0x100);
	uint8_t initrd[8192];
	struct x86_linux_entry entry;
	struct arcvm_error err = { 0 };

	memset(initrd, 0x77, sizeof(initrd));
	fake_init(&f, 64 * MiB, 0xCC);  /* so a bss left unzeroed shows */
	assert_int_equal(x86_load_linux(&f.mem, img, ELF_BYTES, initrd, sizeof(initrd),
					"root=/dev/vda", &entry, &err), 0);
	/* A virtual e_entry is translated through its segment. */
	assert_int_equal(entry.rip, SEG_A_PADDR + 0x100);
	assert_int_equal(entry.boot_params, BP);
	assert_memory_equal(f.buf + SEG_A_PADDR, img + ELF_DATA, SEG_A_SIZE);
	assert_memory_equal(f.buf + SEG_B_PADDR, img + ELF_DATA + SEG_A_SIZE, SEG_B_FILE);
	for (uint64_t a = SEG_B_PADDR + SEG_B_FILE; a < SEG_B_PADDR + SEG_B_MEM; a++)
		if (f.buf[a] != 0)
			fail_msg("bss byte at 0x%llx is 0x%02x", (unsigned long long)a, f.buf[a]);
	assert_int_equal(f.buf[SEG_B_PADDR + SEG_B_MEM], 0xCC);  /* and no further */

	/* The synthesized setup header. */
	const uint8_t *bp = f.buf + BP;
	assert_int_equal(g16(bp, 0x1FE), 0xAA55);
	assert_memory_equal(bp + 0x202, "HdrS", 4);
	assert_int_equal(g16(bp, 0x206), 0x020F);
	assert_int_equal(bp[0x210], 0xFF);
	assert_int_equal(g32(bp, 0x230), 0x1000000);
	assert_int_equal(g32(bp, 0x228), X86_CMDLINE_ADDR);
	assert_string_equal((const char *)f.buf + X86_CMDLINE_ADDR, "root=/dev/vda");
	uint64_t rd = g32(bp, 0x218);
	assert_int_equal(g32(bp, 0x21C), sizeof(initrd));
	assert_true(rd >= SEG_B_PADDR + SEG_B_MEM);
	assert_int_equal(rd & 0xFFF, 0);
	assert_memory_equal(f.buf + rd, initrd, sizeof(initrd));
	fake_free(&f);
	free(img);
}

static void test_elf_empty_segment_sets_no_end(void **state)
{
	/* A PT_LOAD with memsz 0 far above RAM loads nothing; the initrd
	 * must still go right above the real segments' end. */
	struct fake f;
	uint8_t *img = make_elf(SEG_A_VADDR);
	uint8_t initrd[4096] = { 1 };
	struct x86_linux_entry entry;
	struct arcvm_error err = { 0 };

	*elf_phdr(img, 1) = (Elf64_Phdr){ .p_type = PT_LOAD, .p_paddr = 0x80000000ull };
	fake_init(&f, 64 * MiB, 0);
	assert_int_equal(x86_load_linux(&f.mem, img, ELF_BYTES, initrd, sizeof(initrd), "",
					&entry, &err), 0);
	uint32_t rd = g32(f.buf + BP, 0x218);
	assert_true(rd >= SEG_B_PADDR + SEG_B_MEM);
	assert_memory_equal(f.buf + rd, initrd, sizeof(initrd));
	fake_free(&f);
	free(img);
}

static void test_elf_physical_entry(void **state)
{
	/* Linux links vmlinux with ENTRY(phys_startup_64): e_entry is physical. */
	struct fake f;
	uint8_t *img = make_elf(SEG_A_PADDR);
	struct x86_linux_entry entry;

	fake_init(&f, 64 * MiB, 0);
	assert_int_equal(x86_load_linux(&f.mem, img, ELF_BYTES, NULL, 0, "", &entry, NULL), 0);
	assert_int_equal(entry.rip, SEG_A_PADDR);
	fake_free(&f);
	free(img);
}

static void expect_elf_refused(uint8_t *img, size_t len, const char *needle)
{
	struct fake f;
	struct x86_linux_entry entry;
	struct arcvm_error err = { 0 };

	fake_init(&f, 64 * MiB, 0xCC);
	assert_int_equal(x86_load_linux(&f.mem, img, len, NULL, 0, "", &entry, &err),
			 ARCVM_E_FORMAT);
	if (!strstr(err.msg, needle))
		fail_msg("message \"%s\" does not mention \"%s\"", err.msg, needle);
	/* Refused before any segment was written. */
	assert_int_equal(f.buf[SEG_A_PADDR], 0xCC);
	fake_free(&f);
}

static void test_elf_refusals(void **state)
{
	uint8_t *img = make_elf(SEG_A_VADDR);

	elf_phdr(img, 2)->p_paddr = 0x10000000;  /* 256 MiB, in a 64 MiB guest */
	expect_elf_refused(img, ELF_BYTES, "outside guest memory");
	elf_phdr(img, 2)->p_paddr = SEG_B_PADDR;

	elf_phdr(img, 2)->p_filesz = SEG_B_FILE + 1;  /* one byte past the file */
	expect_elf_refused(img, ELF_BYTES, "past");
	elf_phdr(img, 2)->p_filesz = SEG_B_MEM + 1;   /* also more than memsz */
	expect_elf_refused(img, ELF_BYTES + SEG_B_MEM, "filesz");
	elf_phdr(img, 2)->p_filesz = SEG_B_FILE;

	expect_elf_refused(img, ELF_BYTES - 1, "past");   /* the file is cut short */
	expect_elf_refused(img, 40, "truncated");

	((Elf64_Ehdr *)img)->e_entry = 0x12345;       /* in no segment */
	expect_elf_refused(img, ELF_BYTES, "entry");
	((Elf64_Ehdr *)img)->e_entry = SEG_A_VADDR;

	((Elf64_Ehdr *)img)->e_machine = EM_AARCH64;
	expect_elf_refused(img, ELF_BYTES, "x86-64");
	((Elf64_Ehdr *)img)->e_machine = EM_X86_64;

	((Elf64_Ehdr *)img)->e_phoff = ELF_BYTES - 8;  /* headers past the end */
	expect_elf_refused(img, ELF_BYTES, "program headers");
	free(img);
}

/* ---- hostile images: random corruption of the headers ---- */

/* Flips random bytes in the first `span` bytes of a good image, loads it,
 * and requires a clean refusal or a load whose entry lies in guest RAM.
 * Under `make asan` this also proves no read or write goes out of bounds. */
static void mutate_and_load(const uint8_t *good, size_t len, size_t span, unsigned seed)
{
	struct fake f;
	uint8_t *img = malloc(len);
	struct x86_linux_entry entry;
	static uint8_t initrd[4096];

	fake_init(&f, 64 * MiB, 0);
	srand(seed);
	for (int round = 0; round < 3000; round++) {
		memcpy(img, good, len);
		int flips = 1 + rand() % 4;
		for (int i = 0; i < flips; i++)
			img[(size_t)rand() % span] = (uint8_t)rand();
		size_t cut = rand() % 8 ? len : (size_t)rand() % len;  /* sometimes truncate */
		struct arcvm_error err = { 0 };
		int rc = x86_load_linux(&f.mem, img, cut, initrd, sizeof(initrd), "x", &entry, &err);
		if (rc == 0) {
			assert_non_null(mem_ptr(&f.mem, entry.rip, 1));
			assert_int_equal(entry.boot_params, BP);
		} else if (rc != ARCVM_E_FORMAT && rc != ARCVM_E_INVALID) {
			fail_msg("round %d: unexpected code %d (%s)", round, rc, err.msg);
		} else if (err.msg[0] == '\0') {
			fail_msg("round %d: refusal %d without a message", round, rc);
		}
	}
	free(img);
	fake_free(&f);
}

static void test_corrupted_bzimage_headers(void **state)
{
	uint8_t *img = make_bzimage();
	/* A 24 MiB kernel footprint fits in 64 MiB only with pref_address 16 MiB;
	 * keep the good image loadable so the mutations start from a success. */
	struct fake f;
	struct x86_linux_entry entry;
	fake_init(&f, 64 * MiB, 0);
	assert_int_equal(x86_load_linux(&f.mem, img, IMG_BYTES, NULL, 0, "", &entry, NULL), 0);
	fake_free(&f);
	mutate_and_load(img, IMG_BYTES, 0x300, 1);
	free(img);
}

static void test_corrupted_elf_headers(void **state)
{
	uint8_t *img = make_elf(SEG_A_VADDR);
	mutate_and_load(img, ELF_BYTES, sizeof(Elf64_Ehdr) + 3 * sizeof(Elf64_Phdr), 2);
	free(img);
}

/* ---- a real kernel, when the guest image build has fetched one ---- */

/* Maps the file named by $env, else `fallback`; NULL (after printing why)
 * when there is none. */
static uint8_t *map_optional(const char *env, const char *fallback, size_t *len,
			     const char **path)
{
	*path = getenv(env) ? getenv(env) : fallback;
	int fd = open(*path, O_RDONLY);
	if (fd < 0) {
		printf("[  SKIP    ] no %s (set %s or build the guest image)\n", *path, env);
		return NULL;
	}
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	uint8_t *img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	assert_true(img != MAP_FAILED);
	*len = (size_t)st.st_size;
	return img;
}

static void test_real_bzimage(void **state)
{
	const char *path;
	size_t len;
	uint8_t *img = map_optional("ARCVM_TEST_BZIMAGE", "build/guest/vmlinuz", &len, &path);
	if (!img)
		skip();

	struct x86_bzimage bz;
	struct arcvm_error err = { 0 };
	if (x86_bzimage_parse(img, len, &bz, &err))
		fail_msg("%s: %s", path, err.msg);
	printf("[  INFO    ] %s: protocol %x, kernel %s\n", path, bz.version, bz.version_string);
	assert_true(bz.version >= 0x020C);
	assert_true(bz.version_string[0] >= '0' && bz.version_string[0] <= '9');
	assert_int_equal(bz.kernel_offset + bz.kernel_size, len);

	struct fake f;
	struct x86_linux_entry entry;
	fake_init(&f, 512 * MiB, 0);
	if (x86_load_linux(&f.mem, img, len, NULL, 0, "console=ttyS0", &entry, &err))
		fail_msg("%s: %s", path, err.msg);
	assert_int_equal(entry.rip, X86_KERNEL_ADDR + 0x200);
	assert_memory_equal(f.buf + X86_KERNEL_ADDR, img + bz.kernel_offset, bz.kernel_size);
	fake_free(&f);
	munmap(img, len);
}

static void test_real_vmlinux(void **state)
{
	const char *path;
	size_t len;
	uint8_t *img = map_optional("ARCVM_TEST_VMLINUX", "build/guest/vmlinux", &len, &path);
	if (!img)
		skip();

	Elf64_Ehdr eh;
	assert_true(len >= sizeof(eh));
	memcpy(&eh, img, sizeof(eh));
	struct fake f;
	struct x86_linux_entry entry;
	struct arcvm_error err = { 0 };
	fake_init(&f, 512 * MiB, 0);
	if (x86_load_linux(&f.mem, img, len, NULL, 0, "console=ttyS0", &entry, &err))
		fail_msg("%s: %s", path, err.msg);
	/* Linux's e_entry is already physical (phys_startup_64). */
	assert_int_equal(entry.rip, eh.e_entry);
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, img + eh.e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD)
			assert_memory_equal(f.buf + ph.p_paddr, img + ph.p_offset, ph.p_filesz);
	}
	fake_free(&f);
	munmap(img, len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bzimage_good),
		cmocka_unit_test(test_bzimage_setup_sects_zero_means_four),
		cmocka_unit_test(test_bzimage_truncated),
		cmocka_unit_test(test_bzimage_garbage_and_foreign),
		cmocka_unit_test(test_bzimage_bad_magic_and_protocol),
		cmocka_unit_test(test_bzimage_version_string_bounds),
		cmocka_unit_test(test_load_bzimage_zero_page),
		cmocka_unit_test(test_load_initrd_respects_initrd_addr_max),
		cmocka_unit_test(test_load_initrd_too_big),
		cmocka_unit_test(test_load_cmdline_limits),
		cmocka_unit_test(test_load_ram_too_small_for_kernel),
		cmocka_unit_test(test_load_foreign_kernel),
		cmocka_unit_test(test_elf_two_segments_and_bss),
		cmocka_unit_test(test_elf_physical_entry),
		cmocka_unit_test(test_elf_empty_segment_sets_no_end),
		cmocka_unit_test(test_elf_refusals),
		cmocka_unit_test(test_corrupted_bzimage_headers),
		cmocka_unit_test(test_corrupted_elf_headers),
		cmocka_unit_test(test_real_bzimage),
		cmocka_unit_test(test_real_vmlinux),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
