/*
 * elf.c - loading an uncompressed ELF64 kernel (vmlinux) for the 64-bit boot
 * protocol. Such a kernel has no setup header, so one is synthesized with
 * what the kernel reads from it at its 64-bit entry.
 *
 * The file is untrusted input: header and segment offsets and sizes are
 * checked against the file length and guest memory before any byte moves.
 */
#include <elf.h>
#include <string.h>

#include "arch/x86/boot.h"
#include "util/err.h"

/* What arch/x86/include/asm/setup.h gives a kernel without a bzImage header:
 * COMMAND_LINE_SIZE is 2048 bytes with the NUL; initrds stay below 2 GiB. */
#define ELF_CMDLINE_MAX      2047u
#define ELF_INITRD_ADDR_MAX  0x7fffffffu
#define ELF_KERNEL_ALIGNMENT 0x1000000u
#define ELF_BOOT_PROTOCOL    0x020fu

bool x86_elf_is_elf(const uint8_t *img, size_t len)
{
	return len >= SELFMAG && memcmp(img, ELFMAG, SELFMAG) == 0;
}

static int check_ehdr(const Elf64_Ehdr *eh, size_t len, struct arcvm_error *err)
{
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return err_set(err, ARCVM_E_FORMAT, "ELF kernel: not a little-endian ELF64 file");
	if (eh->e_machine != EM_X86_64)
		return err_set(err, ARCVM_E_FORMAT, "ELF kernel: machine %u is not x86-64",
			       eh->e_machine);
	if (eh->e_type != ET_EXEC)
		return err_set(err, ARCVM_E_FORMAT, "ELF kernel: type %u is not ET_EXEC",
			       eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0)
		return err_set(err, ARCVM_E_FORMAT,
			       "ELF kernel: no program headers (phnum %u, phentsize %u)",
			       eh->e_phnum, eh->e_phentsize);
	if (eh->e_phoff > len ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
		return err_set(err, ARCVM_E_FORMAT,
			       "ELF kernel: program headers run past the end of the file");
	return 0;
}

static int check_segment(const struct guest_mem *mem, const Elf64_Phdr *ph, int i,
			 size_t len, struct arcvm_error *err)
{
	if (ph->p_filesz > ph->p_memsz)
		return err_set(err, ARCVM_E_FORMAT,
			       "ELF kernel: segment %d has filesz 0x%llx > memsz 0x%llx", i,
			       (unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz);
	if (ph->p_offset > len || ph->p_filesz > len - ph->p_offset)
		return err_set(err, ARCVM_E_FORMAT,
			       "ELF kernel: segment %d (offset 0x%llx, 0x%llx bytes) runs past "
			       "the %zu-byte file", i, (unsigned long long)ph->p_offset,
			       (unsigned long long)ph->p_filesz, len);
	if (ph->p_memsz && !mem_ptr(mem, ph->p_paddr, ph->p_memsz))
		return err_set(err, ARCVM_E_FORMAT,
			       "ELF kernel: segment %d at [0x%llx, +0x%llx) lies outside guest "
			       "memory (RAM ends at 0x%llx)", i,
			       (unsigned long long)ph->p_paddr, (unsigned long long)ph->p_memsz,
			       (unsigned long long)mem_ram_end(mem));
	return 0;
}

/* Copies the file part of a checked segment and zeroes the rest (bss). */
static void load_segment(struct guest_mem *mem, const uint8_t *img, const Elf64_Phdr *ph)
{
	uint8_t *dst = mem_ptr(mem, ph->p_paddr, ph->p_memsz);

	if (!dst)
		return;  /* memsz 0: nothing to load */
	memcpy(dst, img + ph->p_offset, ph->p_filesz);
	memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
}

/*
 * The entry as a physical address. An e_entry inside a segment's virtual
 * range is translated through that segment; otherwise it must already be
 * physical and inside a segment, which is how Linux links vmlinux
 * (ENTRY(phys_startup_64)).
 */
static int entry_gpa(const Elf64_Phdr *ph, int n, uint64_t e_entry, uint64_t *rip,
		     struct arcvm_error *err)
{
	for (int i = 0; i < n; i++) {
		if (ph[i].p_type == PT_LOAD && e_entry >= ph[i].p_vaddr &&
		    e_entry - ph[i].p_vaddr < ph[i].p_memsz) {
			*rip = e_entry - ph[i].p_vaddr + ph[i].p_paddr;
			return 0;
		}
	}
	for (int i = 0; i < n; i++) {
		if (ph[i].p_type == PT_LOAD && e_entry >= ph[i].p_paddr &&
		    e_entry - ph[i].p_paddr < ph[i].p_memsz) {
			*rip = e_entry;
			return 0;
		}
	}
	return err_set(err, ARCVM_E_FORMAT,
		       "ELF kernel: entry 0x%llx is in no loadable segment",
		       (unsigned long long)e_entry);
}

/* The fields a kernel entered at startup_64 reads from a setup header. */
static void synthesize_header(struct setup_header *hdr)
{
	hdr->boot_flag = X86_BOOT_FLAG;
	hdr->header = X86_HDRS_MAGIC;
	hdr->version = ELF_BOOT_PROTOCOL;
	hdr->kernel_alignment = ELF_KERNEL_ALIGNMENT;
	hdr->cmdline_size = ELF_CMDLINE_MAX;
	hdr->initrd_addr_max = ELF_INITRD_ADDR_MAX;
}

/* Every segment is checked before the first byte is written, so a refused
 * file leaves guest memory untouched. */
int x86_elf_load(struct guest_mem *mem, const uint8_t *img, size_t len,
		 struct boot_params *bp, struct x86_kernel_info *ki,
		 struct arcvm_error *err)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	int rc, loads = 0;

	if (len < sizeof(eh))
		return err_set(err, ARCVM_E_FORMAT, "ELF kernel: file is %zu bytes, truncated", len);
	memcpy(&eh, img, sizeof(eh));
	if ((rc = check_ehdr(&eh, len, err)))
		return rc;
	if (eh.e_phnum > sizeof(ph) / sizeof(ph[0]))
		return err_set(err, ARCVM_E_FORMAT, "ELF kernel: %u program headers, at most %zu",
			       eh.e_phnum, sizeof(ph) / sizeof(ph[0]));
	memcpy(ph, img + eh.e_phoff, eh.e_phnum * sizeof(Elf64_Phdr));

	ki->end = 0;
	for (int i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if ((rc = check_segment(mem, &ph[i], i, len, err)))
			return rc;
		loads++;
		/* An empty segment's address was never checked: it sets no end. */
		if (ph[i].p_memsz && ph[i].p_paddr + ph[i].p_memsz > ki->end)
			ki->end = ph[i].p_paddr + ph[i].p_memsz;
	}
	if (loads == 0)
		return err_set(err, ARCVM_E_FORMAT, "ELF kernel: no PT_LOAD segment");
	if ((rc = entry_gpa(ph, eh.e_phnum, eh.e_entry, &ki->rip, err)))
		return rc;
	for (int i = 0; i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_LOAD)
			load_segment(mem, img, &ph[i]);

	synthesize_header(&bp->hdr);
	ki->cmdline_max = ELF_CMDLINE_MAX;
	ki->initrd_addr_max = ELF_INITRD_ADDR_MAX;
	return 0;
}
