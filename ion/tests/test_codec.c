/* test_codec.c - encoded arguments in, encoded results out
 * (ion_vm_call_encoded / ion_vm_encode), as arcvm call will use them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ion/tests/helpers.h"

static const char src[] =
	".class \"T\"\n.const 0 func(\"\", \"inner\")\n"
	".func \"pair\" arity 2 regs 3\n new_tuple 2 0 2\n move 0 1\n move 1 2\n"
	" new_tuple 2 0 2\n return_reg 2\n.end\n"
	".func \"echo\" arity 1 regs 1\n return_reg 0\n.end\n"
	".func \"apply\" arity 2 regs 3\n call 2 0 1 1\n return_reg 2\n.end\n"
	".func \"dbl\" arity 1 regs 1\n add 0 0 0\n return_reg 0\n.end\n"
	".func \"mk\" arity 0 regs 2\n closure 0 0\n return_reg 0\n.end\n"
	".func \"inner\" arity 0 regs 1\n .upval reg 1\n get_upval 0 0\n return_reg 0\n.end\n";

/* A small writer for the documented encoding. */
struct w {
	uint8_t b[512];
	size_t n;
};
static void u8(struct w *w, unsigned v) { w->b[w->n++] = (uint8_t)v; }
static void le(struct w *w, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		u8(w, (unsigned)(v >> (8 * i)) & 0xFF);
}
static void num(struct w *w, double d)
{
	uint64_t v;
	memcpy(&v, &d, 8);
	u8(w, 3);
	le(w, v, 8);
}
static void str(struct w *w, const char *s)
{
	u8(w, 4);
	le(w, strlen(s), 4);
	memcpy(w->b + w->n, s, strlen(s));
	w->n += strlen(s);
}
static void s16(struct w *w, const char *s)
{
	le(w, strlen(s), 2);
	memcpy(w->b + w->n, s, strlen(s));
	w->n += strlen(s);
}

static struct ion_vm *vm_with_src(void)
{
	return th_vm(src, NULL, 0);
}

static void test_call_encoded(void **s)
{
	struct ion_vm *vm = vm_with_src();
	struct w in = { .n = 0 }, want = { .n = 0 };
	u8(&in, 7); le(&in, 2, 4); num(&in, 3); str(&in, "hi");
	/* pair(3, "hi") = {"hi", {3, "hi"}} */
	u8(&want, 7); le(&want, 2, 4); str(&want, "hi");
	u8(&want, 7); le(&want, 2, 4); num(&want, 3); str(&want, "hi");
	uint8_t *out;
	size_t len;
	int rc = ion_vm_call_encoded(vm, "T", "pair", in.b, in.n, &out, &len);
	if (rc)
		fail_msg("%s", ion_vm_error(vm));
	assert_int_equal(len, want.n);
	assert_memory_equal(out, want.b, len);
	free(out);
	ion_vm_free(vm);
}

/* Every encodable kind comes back unchanged through an identity function. */
static void test_echo_roundtrip(void **s)
{
	struct ion_vm *vm = vm_with_src();
	struct w v = { .n = 0 }, in = { .n = 0 };
	u8(&v, 9); s16(&v, "Point"); le(&v, 3, 4);                 /* object */
	s16(&v, "x"); u8(&v, 7); num(&v, 1.5);
	s16(&v, "tags"); u8(&v, 1); u8(&v, 8); le(&v, 3, 4);      /* array */
	u8(&v, 5); s16(&v, "ok"); u8(&v, 0); u8(&v, 2);           /* atom, nil, true */
	s16(&v, "z"); u8(&v, 6); u8(&v, 6);                        /* complex */
	le(&v, 0x3FF0000000000000ull, 8); le(&v, 0xC000000000000000ull, 8);
	u8(&in, 8); le(&in, 1, 4);
	memcpy(in.b + in.n, v.b, v.n);
	in.n += v.n;
	uint8_t *out;
	size_t len;
	if (ion_vm_call_encoded(vm, "T", "echo", in.b, in.n, &out, &len))
		fail_msg("%s", ion_vm_error(vm));
	assert_int_equal(len, v.n);
	assert_memory_equal(out, v.b, len);
	free(out);
	ion_vm_free(vm);
}

static void test_funcref_argument(void **s)
{
	struct ion_vm *vm = vm_with_src();
	struct w in = { .n = 0 }, want = { .n = 0 };
	u8(&in, 7); le(&in, 2, 4); u8(&in, 10); s16(&in, "T"); s16(&in, "dbl"); num(&in, 21);
	num(&want, 42);
	uint8_t *out;
	size_t len;
	if (ion_vm_call_encoded(vm, "T", "apply", in.b, in.n, &out, &len))
		fail_msg("%s", ion_vm_error(vm));
	assert_int_equal(len, want.n);
	assert_memory_equal(out, want.b, len);
	free(out);
	ion_vm_free(vm);
}

static void test_encoded_errors(void **s)
{
	struct ion_vm *vm = vm_with_src();
	uint8_t *out = NULL;
	size_t len;
	struct w in = { .n = 0 };
	u8(&in, 7); le(&in, 1, 4); num(&in, 1);
	assert_int_equal(ion_vm_call_encoded(vm, "T", "pair", in.b, in.n, &out, &len), ION_E_INVALID);
	assert_non_null(strstr(ion_vm_error(vm), "takes 2 arguments, 1 given"));
	assert_int_equal(ion_vm_call_encoded(vm, "T", "pair", in.b, in.n - 3, &out, &len), ION_E_FORMAT);
	assert_non_null(strstr(ion_vm_error(vm), "truncated"));
	struct w one = { .n = 0 };
	num(&one, 1);
	assert_int_equal(ion_vm_call_encoded(vm, "T", "echo", one.b, one.n, &out, &len), ION_E_INVALID);
	struct w none = { .n = 0 };
	u8(&none, 7); le(&none, 0, 4);
	assert_int_equal(ion_vm_call_encoded(vm, "T", "mk", none.b, none.n, &out, &len), ION_E_INVALID);
	assert_non_null(strstr(ion_vm_error(vm), "closure cannot be encoded"));
	assert_int_equal(ion_vm_call_encoded(vm, "T", "nope", none.b, none.n, &out, &len), ION_E_LINK);
	assert_null(out);
	ion_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_encoded), cmocka_unit_test(test_echo_roundtrip),
		cmocka_unit_test(test_funcref_argument), cmocka_unit_test(test_encoded_errors),
	};
	return cmocka_run_group_tests_name("ion_codec", tests, NULL, NULL);
}
