/*
 * aml.h - a tiny writer of ACPI Machine Language: just the terms arcvm's
 * DSDT needs to describe its devices (scopes, devices, named integers and
 * strings, EISA IDs, and _CRS resource templates).
 *
 * Nested terms are opened with *_begin, which returns a mark, and closed
 * with aml_end(mark), which writes the PkgLength once the body is known.
 * Writing past the buffer sets `overflow` and writes nothing more.
 */
#ifndef ARCH_X86_AML_H
#define ARCH_X86_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t len;
	size_t cap;
	bool overflow;
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
void aml_raw(struct aml *a, const void *bytes, size_t n);

/* Scope (PATH) { ... }; path is a NameSeg with an optional leading '\'. */
size_t aml_scope_begin(struct aml *a, const char *path);
/* Device (NAME) { ... } */
size_t aml_device_begin(struct aml *a, const char *name);
void aml_end(struct aml *a, size_t mark);

void aml_name_int(struct aml *a, const char *name, uint64_t value);
void aml_name_string(struct aml *a, const char *name, const char *value);
/* Name (NAME, EISAID ("PNP0501")) */
void aml_name_eisaid(struct aml *a, const char *name, const char *id);

/* Name (_CRS, ResourceTemplate () { ... }) */
size_t aml_crs_begin(struct aml *a);
void aml_crs_end(struct aml *a, size_t mark);
void aml_res_io(struct aml *a, uint16_t port, uint8_t len);       /* IO (Decode16, ...) */
void aml_res_irq(struct aml *a, uint8_t irq);                     /* IRQNoFlags () {irq} */
void aml_res_mem32(struct aml *a, uint32_t base, uint32_t len);   /* Memory32Fixed (ReadWrite) */
void aml_res_interrupt(struct aml *a, uint32_t gsi, bool edge);   /* Interrupt (Consumer, ActiveHigh, Exclusive) */

#endif
