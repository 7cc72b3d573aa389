/* helpers.h - shared test scaffolding: VMs built from assembly text, output
 * captured in memory, and byte mutation for the fuzz-style tests. */
#ifndef ION_TEST_HELPERS_H
#define ION_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "ion/include/ion.h"

struct th_out {
	char *out, *err;
	size_t nout, nerr;
};

/* A VM whose output goes to `cap` (may be NULL), with text's classes
 * loaded and linked; fails the test on any error. */
struct ion_vm *th_vm(const char *text, struct th_out *cap, uint32_t reductions);
/* Assembles text and runs Class.fn; returns the ion_vm_run code and the
 * result's display text (malloc'd, or NULL) in *text_out. */
int th_run(const char *text, const char *cls, const char *fn, char **text_out, struct th_out *cap);
/* The .ionc bytes of the only class in text. */
uint8_t *th_encode(const char *text, size_t *len);
void th_out_free(struct th_out *o);
/* xorshift, so mutation tests are reproducible */
uint32_t th_rand(uint32_t *state);

#endif
