/* helpers.c - see helpers.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ion/asm.h"
#include "ion/tests/helpers.h"

static void capture(void *opaque, enum ion_stream s, const char *data, size_t len)
{
	struct th_out *o = opaque;
	char **p = s == ION_STDERR ? &o->err : &o->out;
	size_t *n = s == ION_STDERR ? &o->nerr : &o->nout;
	char *np = realloc(*p, *n + len + 1);
	assert_non_null(np);
	memcpy(np + *n, data, len);
	*n += len;
	np[*n] = 0;
	*p = np;
}

void th_out_free(struct th_out *o)
{
	free(o->out);
	free(o->err);
	memset(o, 0, sizeof *o);
}

struct ion_vm *th_vm(const char *text, struct th_out *cap, uint32_t reductions)
{
	struct ion_config cfg = { .write = cap ? capture : NULL, .write_opaque = cap,
				  .reductions = reductions };
	struct ion_vm *vm = ion_vm_new(&cfg);
	assert_non_null(vm);
	struct ion_asm_pack pack;
	char err[1024];
	int rc = ion_asm_parse(text, strlen(text), &pack, err, sizeof err);
	if (rc)
		fail_msg("assembly: %s", err);
	for (size_t i = 0; i < pack.nunits; i++) {
		uint8_t *data;
		size_t len;
		assert_int_equal(ion_unit_encode(pack.units[i], &data, &len), 0);
		rc = ion_vm_load_class(vm, data, len);
		free(data);
		if (rc)
			fail_msg("load: %s", ion_vm_error(vm));
	}
	ion_asm_pack_free(&pack);
	if (ion_vm_link(vm))
		fail_msg("link: %s", ion_vm_error(vm));
	return vm;
}

int th_run(const char *text, const char *cls, const char *fn, char **text_out, struct th_out *cap)
{
	struct ion_vm *vm = th_vm(text, cap, 0);
	ion_value r;
	int rc = ion_vm_run(vm, cls, fn, 0, NULL, &r);
	if (text_out) {
		*text_out = rc == 0 ? strdup(ion_vm_result_text(vm)) : strdup(ion_vm_error(vm));
		assert_non_null(*text_out);
	}
	ion_vm_free(vm);
	return rc;
}

uint8_t *th_encode(const char *text, size_t *len)
{
	struct ion_asm_pack pack;
	char err[1024];
	if (ion_asm_parse(text, strlen(text), &pack, err, sizeof err))
		fail_msg("assembly: %s", err);
	assert_int_equal(pack.nunits, 1);
	uint8_t *data;
	assert_int_equal(ion_unit_encode(pack.units[0], &data, len), 0);
	ion_asm_pack_free(&pack);
	return data;
}

uint32_t th_rand(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}
