/*
 * bzimage.c - validating a bzImage's setup header and loading its
 * protected-mode code for the 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst).
 *
 * The image is untrusted input: every offset read from it is checked against
 * the file length before use.
 */
#include <string.h>

#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "util/err.h"

/* Setup header field offsets in the image file. */
#define HDR_SETUP_SECTS     0x1F1
#define HDR_SYSSIZE         0x1F4
#define HDR_BOOT_FLAG       0x1FE
#define HDR_JUMP_OFFSET     0x201  /* header length is 0x202 + this byte */
#define HDR_MAGIC           0x202
#define HDR_VERSION         0x206
#define HDR_KERNEL_VERSION  0x20E
#define HDR_INITRD_ADDR_MAX 0x22C
#define HDR_KERNEL_ALIGN    0x230
#define HDR_RELOCATABLE     0x234
#define HDR_XLOADFLAGS      0x236
#define HDR_CMDLINE_SIZE    0x238
#define HDR_PREF_ADDRESS    0x258
#define HDR_INIT_SIZE       0x260
#define HDR_MIN_END         0x264  /* end of init_size: the last field read */
#define HDR_MAX_END         0x290  /* boot_params places _pad7 / EDID after hdr */

/* 2.12 is the first protocol version with xloadflags (XLF_KERNEL_64). */
#define MIN_VERSION 0x020c

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Names a well-known format the file is instead of a bzImage, for a message
 * that helps the user; "" when unknown. */
static const char *foreign_format(const uint8_t *img, size_t len)
{
	if (len >= 4 && memcmp(img, "\x7f" "ELF", 4) == 0)
		return " (this is an ELF file, e.g. a vmlinux)";
	if (len >= 2 && img[0] == 0x1f && img[1] == 0x8b)
		return " (this is a gzip file)";
	if (len >= 4 && memcmp(img, "PK\x03\x04", 4) == 0)
		return " (this is a zip file)";
	if (len >= 2 && memcmp(img, "MZ", 2) == 0)
		return " (a PE/EFI file without a Linux setup header)";
	return "";
}

/* Copies the NUL-terminated version string the header points at, which
 * boot.rst places in the setup code: reading stops at `len`, the end of the
 * setup code, so an unterminated string is cut short there. */
static void read_version_string(const uint8_t *img, size_t len, char *out, size_t outlen)
{
	size_t off = (size_t)rd16(img + HDR_KERNEL_VERSION) + 0x200;
	size_t n = 0;

	out[0] = '\0';
	if (rd16(img + HDR_KERNEL_VERSION) == 0)
		return;
	while (off + n < len && n + 1 < outlen && img[off + n] != '\0') {
		uint8_t c = img[off + n];
		out[n] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		n++;
	}
	out[n] = '\0';
}

static int check_magic(const uint8_t *img, size_t len, struct arcvm_error *err)
{
	if (len < HDR_MIN_END)
		return err_set(err, ARCVM_E_FORMAT,
			       "bzImage: file is %zu bytes, too short for a setup header "
			       "(needs %d)%s", len, HDR_MIN_END, foreign_format(img, len));
	if (rd16(img + HDR_BOOT_FLAG) != X86_BOOT_FLAG)
		return err_set(err, ARCVM_E_FORMAT,
			       "bzImage: no boot flag 0xAA55 at offset 0x1FE%s",
			       foreign_format(img, len));
	if (rd32(img + HDR_MAGIC) != X86_HDRS_MAGIC)
		return err_set(err, ARCVM_E_FORMAT,
			       "bzImage: no \"HdrS\" magic at offset 0x202%s",
			       foreign_format(img, len));
	return 0;
}

static int check_protocol(const uint8_t *img, struct arcvm_error *err)
{
	uint16_t version = rd16(img + HDR_VERSION);
	unsigned hdr_end = 0x202u + img[HDR_JUMP_OFFSET];

	if (version < MIN_VERSION)
		return err_set(err, ARCVM_E_FORMAT,
			       "bzImage: boot protocol %u.%02u is too old for the 64-bit "
			       "entry (needs 2.12)", version >> 8, version & 0xff);
	if (!(rd16(img + HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return err_set(err, ARCVM_E_FORMAT,
			       "bzImage: xloadflags lack XLF_KERNEL_64 (not a 64-bit kernel)");
	if (hdr_end < HDR_MIN_END)
		return err_set(err, ARCVM_E_FORMAT,
			       "bzImage: setup header ends at 0x%x, before the fields of "
			       "protocol 2.12 (0x%x)", hdr_end, HDR_MIN_END);
	return 0;
}

static int check_sizes(const uint8_t *img, size_t len, struct x86_bzimage *out,
		       struct arcvm_error *err)
{
	uint64_t sys_bytes = (uint64_t)rd32(img + HDR_SYSSIZE) * 16;

	if (out->setup_size >= len)
		return err_set(err, ARCVM_E_FORMAT,
			       "bzImage: setup code (%u bytes) leaves no kernel in a %zu-byte "
			       "file (truncated?)", out->setup_size, len);
	if (0x202u + img[HDR_JUMP_OFFSET] > out->setup_size)
		return err_set(err, ARCVM_E_FORMAT,
			       "bzImage: setup header runs past the setup code");
	out->kernel_offset = out->setup_size;
	if (len - out->setup_size > UINT32_MAX)
		return err_set(err, ARCVM_E_FORMAT, "bzImage: kernel larger than 4 GiB");
	out->kernel_size = (uint32_t)(len - out->setup_size);
	if (sys_bytes > out->kernel_size)
		return err_set(err, ARCVM_E_FORMAT,
			       "bzImage: header says %llu bytes of kernel, file has %u "
			       "(truncated)", (unsigned long long)sys_bytes, out->kernel_size);
	if (out->relocatable && (out->kernel_alignment == 0 ||
				 (out->kernel_alignment & (out->kernel_alignment - 1))))
		return err_set(err, ARCVM_E_FORMAT,
			       "bzImage: kernel_alignment 0x%x is not a power of two",
			       out->kernel_alignment);
	return 0;
}

int x86_bzimage_parse(const uint8_t *img, size_t len, struct x86_bzimage *out,
		      struct arcvm_error *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_magic(img, len, err)) || (rc = check_protocol(img, err)))
		return rc;
	out->version = rd16(img + HDR_VERSION);
	out->setup_sects = img[HDR_SETUP_SECTS];
	/* boot.rst: a setup_sects of 0 means 4, for ancient images. */
	out->setup_size = ((out->setup_sects ? out->setup_sects : 4u) + 1u) * 512u;
	out->initrd_addr_max = rd32(img + HDR_INITRD_ADDR_MAX);
	out->cmdline_size = rd32(img + HDR_CMDLINE_SIZE);
	out->kernel_alignment = rd32(img + HDR_KERNEL_ALIGN);
	out->relocatable = img[HDR_RELOCATABLE];
	out->xloadflags = rd16(img + HDR_XLOADFLAGS);
	out->pref_address = rd64(img + HDR_PREF_ADDRESS);
	out->init_size = rd32(img + HDR_INIT_SIZE);
	if ((rc = check_sizes(img, len, out, err)))
		return rc;
	read_version_string(img, out->setup_size, out->version_string, sizeof(out->version_string));
	return 0;
}

/*
 * Where the decompressor will run: boot.rst's 64-bit entry aligns the load
 * address up to kernel_alignment but never goes below pref_address
 * (LOAD_PHYSICAL_ADDR); a non-relocatable kernel always runs at
 * pref_address. It then needs init_size bytes from there.
 */
static int kernel_end(const struct x86_bzimage *bz, uint64_t load, uint64_t *end,
		      struct arcvm_error *err)
{
	uint64_t run = bz->pref_address;

	if (bz->relocatable) {
		uint64_t a = bz->kernel_alignment;
		uint64_t aligned = (load + a - 1) & ~(a - 1);
		if (aligned > run)
			run = aligned;
	}
	if (__builtin_add_overflow(run, (uint64_t)bz->init_size, end))
		return err_set(err, ARCVM_E_FORMAT,
			       "bzImage: pref_address 0x%llx + init_size overflows",
			       (unsigned long long)bz->pref_address);
	if (*end < load + bz->kernel_size)
		*end = load + bz->kernel_size;
	return 0;
}

/*
 * The protected-mode code always goes to X86_KERNEL_ADDR (1 MiB), like
 * QEMU and kvmtool do: the 64-bit entry of a relocatable kernel moves itself
 * to an aligned address, and a non-relocatable one to pref_address, so
 * loading low costs nothing and keeps the copy clear of where it decompresses.
 */
int x86_bzimage_load(struct guest_mem *mem, const uint8_t *img, size_t len,
		     struct boot_params *bp, struct x86_kernel_info *ki,
		     struct arcvm_error *err)
{
	struct x86_bzimage bz;
	uint64_t load = X86_KERNEL_ADDR;
	size_t hdr_end;
	int rc;

	if ((rc = x86_bzimage_parse(img, len, &bz, err)))
		return rc;
	if ((rc = kernel_end(&bz, load, &ki->end, err)))
		return rc;
	if (!mem_ptr(mem, load, ki->end - load))
		return err_set(err, ARCVM_E_INVALID,
			       "guest RAM too small for the kernel: it needs [0x%llx, 0x%llx)",
			       (unsigned long long)load, (unsigned long long)ki->end);
	if (mem_write(mem, load, img + bz.kernel_offset, bz.kernel_size))
		return err_set(err, ARCVM_E_INVALID, "bzImage: kernel does not fit in RAM");

	/* boot.rst: the header is 0x202 + img[0x201] bytes from offset 0;
	 * boot_params has room for it up to 0x290. */
	hdr_end = 0x202u + img[HDR_JUMP_OFFSET];
	if (hdr_end > HDR_MAX_END)
		hdr_end = HDR_MAX_END;
	memcpy((uint8_t *)bp + HDR_SETUP_SECTS, img + HDR_SETUP_SECTS,
	       hdr_end - HDR_SETUP_SECTS);
	bp->hdr.code32_start = (uint32_t)load;

	ki->rip = load + 0x200;  /* startup_64 is 0x200 past startup_32 */
	ki->cmdline_max = bz.cmdline_size;
	ki->initrd_addr_max = bz.initrd_addr_max;
	return 0;
}
