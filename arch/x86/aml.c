/* aml.c - ACPI Machine Language writer (see aml.h and ACPI 6.x chapter 20). */
#include "arch/x86/aml.h"

#include <string.h>

#define AML_ZERO      0x00
#define AML_ONE       0x01
#define AML_NAME      0x08
#define AML_BYTE      0x0A
#define AML_WORD      0x0B
#define AML_DWORD     0x0C
#define AML_STRING    0x0D
#define AML_QWORD     0x0E
#define AML_SCOPE     0x10
#define AML_BUFFER    0x11
#define AML_EXT       0x5B
#define AML_DEVICE    0x82   /* after AML_EXT */
#define AML_ROOT      0x5C   /* '\' */
#define PKGLEN_MAX    4      /* bytes a PkgLength may take */

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	*a = (struct aml){ .buf = buf, .cap = cap };
}

void aml_raw(struct aml *a, const void *bytes, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->buf + a->len, bytes, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_raw(a, &b, 1);
}

static void aml_le(struct aml *a, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

/* A NameSeg is exactly four characters; shorter names are padded with '_'. */
static void aml_nameseg(struct aml *a, const char *name)
{
	char seg[4] = { '_', '_', '_', '_' };
	for (int i = 0; i < 4 && name[i]; i++)
		seg[i] = name[i];
	aml_raw(a, seg, 4);
}

static void aml_int(struct aml *a, uint64_t v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO);
	} else if (v == 1) {
		aml_byte(a, AML_ONE);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE);
		aml_le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD);
		aml_le(a, v, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD);
		aml_le(a, v, 8);
	}
}

/* Reserves room for the largest PkgLength; aml_end shrinks it. */
static size_t aml_pkg_begin(struct aml *a)
{
	size_t mark = a->len;
	aml_le(a, 0, PKGLEN_MAX);
	return mark;
}

void aml_end(struct aml *a, size_t mark)
{
	if (a->overflow)
		return;
	size_t body = a->len - mark - PKGLEN_MAX;
	/* The encoded length counts its own bytes. */
	int n = body + 1 < 0x40 ? 1 : body + 2 < 0x1000 ? 2 : body + 3 < 0x100000 ? 3 : 4;
	size_t total = body + (size_t)n;
	uint8_t enc[PKGLEN_MAX];
	if (n == 1) {
		enc[0] = (uint8_t)total;
	} else {
		enc[0] = (uint8_t)(((n - 1) << 6) | (total & 0x0f));
		for (int i = 1; i < n; i++)
			enc[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	memmove(a->buf + mark + n, a->buf + mark + PKGLEN_MAX, body);
	memcpy(a->buf + mark, enc, (size_t)n);
	a->len = mark + (size_t)n + body;
}

size_t aml_scope_begin(struct aml *a, const char *path)
{
	aml_byte(a, AML_SCOPE);
	size_t mark = aml_pkg_begin(a);
	if (path[0] == '\\') {
		aml_byte(a, AML_ROOT);
		path++;
	}
	aml_nameseg(a, path);
	return mark;
}

size_t aml_device_begin(struct aml *a, const char *name)
{
	aml_byte(a, AML_EXT);
	aml_byte(a, AML_DEVICE);
	size_t mark = aml_pkg_begin(a);
	aml_nameseg(a, name);
	return mark;
}

void aml_name_int(struct aml *a, const char *name, uint64_t value)
{
	aml_byte(a, AML_NAME);
	aml_nameseg(a, name);
	aml_int(a, value);
}

void aml_name_string(struct aml *a, const char *name, const char *value)
{
	aml_byte(a, AML_NAME);
	aml_nameseg(a, name);
	aml_byte(a, AML_STRING);
	aml_raw(a, value, strlen(value) + 1);
}

/* "PNP0501": three letters in 5 bits each, then four hex digits. */
void aml_name_eisaid(struct aml *a, const char *name, const char *id)
{
	unsigned c1 = (unsigned)id[0] & 0x1f, c2 = (unsigned)id[1] & 0x1f, c3 = (unsigned)id[2] & 0x1f;
	uint8_t b[4];
	b[0] = (uint8_t)((c1 << 2) | (c2 >> 3));
	b[1] = (uint8_t)(((c2 & 7) << 5) | c3);
	unsigned hex = 0;
	for (int i = 3; i < 7; i++) {
		char ch = id[i];
		hex = (hex << 4) | (unsigned)(ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
	}
	b[2] = (uint8_t)(hex >> 8);
	b[3] = (uint8_t)hex;
	aml_byte(a, AML_NAME);
	aml_nameseg(a, name);
	aml_byte(a, AML_DWORD);
	aml_raw(a, b, 4);
}

/* Buffer sizes are written as a WordConst so the size can be patched. */
size_t aml_crs_begin(struct aml *a)
{
	aml_byte(a, AML_NAME);
	aml_nameseg(a, "_CRS");
	aml_byte(a, AML_BUFFER);
	size_t mark = aml_pkg_begin(a);
	aml_byte(a, AML_WORD);
	aml_le(a, 0, 2);
	return mark;
}

void aml_crs_end(struct aml *a, size_t mark)
{
	static const uint8_t end_tag[] = { 0x79, 0x00 };
	aml_raw(a, end_tag, sizeof(end_tag));
	if (a->overflow)
		return;
	size_t size = a->len - (mark + PKGLEN_MAX + 3);
	a->buf[mark + PKGLEN_MAX + 1] = (uint8_t)size;
	a->buf[mark + PKGLEN_MAX + 2] = (uint8_t)(size >> 8);
	aml_end(a, mark);
}

void aml_res_io(struct aml *a, uint16_t port, uint8_t len)
{
	uint8_t d[] = { 0x47, 0x01, (uint8_t)port, (uint8_t)(port >> 8), (uint8_t)port,
			(uint8_t)(port >> 8), 0x01, len };
	aml_raw(a, d, sizeof(d));
}

void aml_res_irq(struct aml *a, uint8_t irq)
{
	uint16_t mask = (uint16_t)(1u << (irq & 15));
	uint8_t d[] = { 0x22, (uint8_t)mask, (uint8_t)(mask >> 8) };
	aml_raw(a, d, sizeof(d));
}

void aml_res_mem32(struct aml *a, uint32_t base, uint32_t len)
{
	uint8_t d[] = { 0x86, 0x09, 0x00, 0x01 };
	aml_raw(a, d, sizeof(d));
	aml_le(a, base, 4);
	aml_le(a, len, 4);
}

void aml_res_interrupt(struct aml *a, uint32_t gsi, bool edge)
{
	/* Flags: bit 0 consumer, bit 1 edge-triggered; active-high, exclusive. */
	uint8_t d[] = { 0x89, 0x06, 0x00, (uint8_t)(0x01 | (edge ? 0x02 : 0)), 0x01 };
	aml_raw(a, d, sizeof(d));
	aml_le(a, gsi, 4);
}
