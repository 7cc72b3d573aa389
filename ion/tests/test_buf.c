/* test_buf.c - byte buffers: indexing, length, the buf.* natives, their
 * errors, external storage the GC must never free, and the refusal to copy
 * a buffer out of the VM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ion/tests/helpers.h"

#define NATIVES ".const 0 native(\"buf.new\")\n.const 1 native(\"buf.read\")\n" \
		".const 2 native(\"buf.write\")\n.const 3 native(\"buf.fill\")\n"

static void expect_result(const char *src, const char *want)
{
	char *got;
	int rc = th_run(src, "T", "main", &got, NULL);
	if (rc)
		fail_msg("run failed (%d): %s", rc, got);
	assert_string_equal(got, want);
	free(got);
}

static void expect_error(const char *src, const char *n1, const char *n2)
{
	char *got;
	int rc = th_run(src, "T", "main", &got, NULL);
	assert_int_equal(rc, ION_E_RUNTIME);
	if (!strstr(got, n1) || (n2 && !strstr(got, n2)))
		fail_msg("error report lacks '%s'/'%s': %s", n1, n2 ? n2 : "", got);
	free(got);
}

/* A program: R0 = buf.new(4), then body, returning R1. */
static char *prog(const char *consts, const char *body)
{
	static char src[4096];
	snprintf(src, sizeof src, ".class \"T\"\n" NATIVES "%s.func \"main\" arity 0 regs 8\n"
		 " load_const 7 0\n load_int 6 4\n call 0 7 6 1\n%s return_reg 1\n.end\n",
		 consts, body);
	return src;
}

static void test_index_and_len(void **s)
{
	/* new buffers are zeroed; b[1] = 200; {len, b[0], b[1], b} */
	expect_result(prog("", " load_int 2 1\n load_int 3 200\n set_index 0 2 3\n len 2 0\n"
			   " load_int 3 0\n get_index 3 0 3\n load_int 4 1\n get_index 4 0 4\n"
			   " move 5 0\n new_tuple 1 2 4\n"),
		      "{4, 0, 200, <buffer 4 bytes>}");
	expect_result(".class \"T\"\n" NATIVES ".func \"main\" arity 0 regs 3\n load_const 0 0\n"
		      " load_int 1 0\n call 2 0 1 1\n len 1 2\n return_reg 1\n.end\n", "0");
}

static void test_index_errors(void **s)
{
	expect_error(prog("", " load_int 2 4\n get_index 1 0 2\n"), "badindex",
		     "byte index 4 outside a buffer of 4 bytes");
	expect_error(prog("", " load_int 2 -1\n get_index 1 0 2\n"), "badindex", "byte index -1");
	expect_error(prog(".const 4 0.5\n", " load_const 2 4\n get_index 1 0 2\n"), "badindex",
		     "byte index 0.5");
	expect_error(prog(".const 4 \"x\"\n", " load_const 2 4\n get_index 1 0 2\n"), "badindex",
		     "index must be a number, not string");
	expect_error(prog("", " load_int 2 4\n set_index 0 2 2\n"), "badindex", "outside");
	expect_error(prog("", " load_int 2 0\n load_int 3 256\n set_index 0 2 3\n"), "badarg",
		     "integer 0..255, not 256");
	expect_error(prog("", " load_int 2 0\n load_int 3 -1\n set_index 0 2 3\n"), "badarg",
		     "integer 0..255, not -1");
	expect_error(prog(".const 4 \"A\"\n", " load_int 2 0\n load_const 3 4\n set_index 0 2 3\n"),
		     "badarg", "integer 0..255, not string");
}

static void test_read_write_fill(void **s)
{
	/* fill(b, 0, 4, 'z'); write(b, 1, "ab") = 2; read(b, 0, 4); read(b, 4, 0) */
	expect_result(prog(".const 4 \"ab\"\n",
			   " load_const 7 3\n move 2 0\n load_int 3 0\n load_int 4 4\n load_int 5 122\n"
			   " call 1 7 2 4\n"
			   " load_const 7 2\n move 2 0\n load_int 3 1\n load_const 4 4\n call 5 7 2 3\n"
			   " load_const 7 1\n move 2 0\n load_int 3 0\n load_int 4 4\n call 6 7 2 3\n"
			   " move 2 0\n load_int 3 4\n load_int 4 0\n call 7 7 2 3\n"
			   " move 3 5\n move 4 6\n move 5 7\n new_tuple 1 3 3\n"),
		      "{2, \"zabz\", \"\"}");
	/* a string read out is a copy: writing the buffer afterwards leaves it alone */
	expect_result(prog("", " load_const 7 3\n move 2 0\n load_int 3 0\n load_int 4 4\n"
			   " load_int 5 120\n call 1 7 2 4\n"
			   " load_const 7 1\n move 2 0\n load_int 3 0\n load_int 4 1\n"
			   " call 5 7 2 3\n load_int 3 0\n load_int 4 65\n set_index 0 3 4\n"
			   " get_index 6 0 3\n new_tuple 1 5 2\n"),
		      "{\"x\", 65}");
}

static void test_range_errors(void **s)
{
	expect_error(prog(".const 4 \"abc\"\n", " load_const 7 2\n move 2 0\n load_int 3 2\n"
			  " load_const 4 4\n call 1 7 2 3\n"), "badindex", "bytes 2..5 outside a buffer of 4 bytes");
	expect_error(prog("", " load_const 7 1\n move 2 0\n load_int 3 1\n load_int 4 4\n"
			  " call 1 7 2 3\n"), "badindex", "bytes 1..5 outside");
	expect_error(prog("", " load_const 7 3\n move 2 0\n load_int 3 0\n load_int 4 1\n"
			  " load_int 5 256\n call 1 7 2 4\n"), "badarg", "argument 4 must be an integer");
	expect_error(prog(".const 4 0.5\n", " load_const 7 1\n move 2 0\n load_const 3 4\n"
			  " load_int 4 1\n call 1 7 2 3\n"), "badarg", "argument 2 must be an integer");
	expect_error(prog(".const 4 \"abc\"\n", " load_const 7 1\n load_const 2 4\n load_int 3 0\n"
			  " load_int 4 1\n call 1 7 2 3\n"), "badarg", "argument 1 must be a buffer, not string");
	expect_error(".class \"T\"\n" NATIVES ".func \"main\" arity 0 regs 3\n load_const 0 0\n"
		     " load_int 1 -1\n call 2 0 1 1\n return_reg 2\n.end\n", "badarg", "integer");
}

/* ---- external storage ---- */

static unsigned char ext[64];

static int host_ext(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	*out = ion_new_buffer_external(p, ext, sizeof ext);
	return *out ? ION_NATIVE_OK : ION_NATIVE_ERROR;
}

static const struct ion_native ext_natives[] = {
	{ "host.ext", 0, "the test's external bytes", host_ext },
	{ NULL, 0, NULL, NULL }
};

static struct ion_vm *ext_vm(const char *text)
{
	struct ion_vm *vm = ion_vm_new(NULL);
	assert_non_null(vm);
	assert_int_equal(ion_vm_register_natives(vm, ext_natives), 0);
	size_t len;
	uint8_t *d = th_encode(text, &len);
	assert_int_equal(ion_vm_load_class(vm, d, len), 0);
	free(d);
	assert_int_equal(ion_vm_link(vm), 0);
	return vm;
}

/* main: b = host.ext(); b[0] += 1; b[63] = 7; then 2000 rounds of garbage
 * (tuples and strings, each round dropping the previous one) so the
 * collector runs with the buffer live and after it is dead; returns b. */
static const char ext_src[] =
	".class \"T\"\n.const 0 native(\"host.ext\")\n.const 1 native(\"buf.read\")\n"
	".func \"main\" arity 0 regs 9\n"
	" 0: load_const 0 0\n 1: call 0 0 0 0\n 2: load_int 1 0\n 3: get_index 2 0 1\n"
	" 4: add_imm 2 2 1\n 5: set_index 0 1 2\n 6: load_int 1 63\n 7: load_int 2 7\n"
	" 8: set_index 0 1 2\n 9: load_int 3 0\n 10: load_int 4 2000\n"
	" 11: load_const 5 1\n 12: move 6 0\n 13: load_int 7 0\n 14: new_tuple 1 6 2\n"
	" 15: load_int 8 8\n 16: call 2 5 6 3\n 17: add_imm 3 3 1\n 18: jump_lt 3 4 11\n"
	" 19: return_reg 0\n.end\n"
	".func \"drop\" arity 0 regs 1\n load_const 0 0\n call 0 0 0 0\n load_int 0 1\n"
	" return_reg 0\n.end\n";

static void test_external_in_place(void **s)
{
	memset(ext, 0, sizeof ext);
	ext[0] = 41;
	struct ion_vm *vm = ext_vm(ext_src);
	ion_value r;
	if (ion_vm_run(vm, "T", "main", 0, NULL, &r))
		fail_msg("%s", ion_vm_error(vm));
	assert_string_equal(ion_vm_result_text(vm), "<buffer 64 bytes, external>");
	/* the writes went straight to the embedder's bytes */
	assert_int_equal(ext[0], 42);
	assert_int_equal(ext[63], 7);
	/* a dropped external buffer is collected without touching its storage
	 * (free() of a static array would abort) */
	if (ion_vm_run(vm, "T", "drop", 0, NULL, &r))
		fail_msg("%s", ion_vm_error(vm));
	if (ion_vm_run(vm, "T", "main", 0, NULL, &r))
		fail_msg("%s", ion_vm_error(vm));
	assert_int_equal(ext[0], 43);
	ion_vm_free(vm);
	assert_int_equal(ext[0], 43);
}

static void test_refused_across_the_boundary(void **s)
{
	static const uint8_t none[] = { 7, 0, 0, 0, 0 }; /* the empty tuple */
	uint8_t *out = NULL;
	size_t len = 0;
	struct ion_vm *vm = ext_vm(ext_src);
	assert_int_equal(ion_vm_call_copy(vm, "T", "main", none, sizeof none, &out, &len),
			 ION_E_INVALID);
	assert_non_null(strstr(ion_vm_error(vm), "a buffer cannot be copied out of the VM"));
	assert_null(out);
	assert_int_equal(ion_vm_call_encoded(vm, "T", "main", none, sizeof none, &out, &len),
			 ION_E_INVALID);
	assert_non_null(strstr(ion_vm_error(vm), "a buffer cannot be encoded"));
	ion_vm_free(vm);

	/* an owned buffer inside a tuple too */
	vm = th_vm(".class \"T\"\n.const 0 native(\"buf.new\")\n.func \"main\" arity 0 regs 2\n"
		   " load_const 0 0\n load_int 1 3\n call 1 0 1 1\n new_tuple 0 1 1\n return_reg 0\n"
		   ".end\n", NULL, 0);
	assert_int_equal(ion_vm_call_copy(vm, "T", "main", none, sizeof none, &out, &len),
			 ION_E_INVALID);
	assert_non_null(strstr(ion_vm_error(vm), "a buffer cannot be copied out of the VM"));
	ion_vm_free(vm);
}

/* A buffer sent to another process: an owned one arrives as a copy of the
 * bytes, an external one as another view of the same bytes. */
static void test_sent_to_a_process(void **s)
{
	memset(ext, 0, sizeof ext);
	/* echo: receive {from, b}; b[0] = 9; send b back */
	static const char src[] =
		".class \"T\"\n.const 0 native(\"host.ext\")\n.const 1 native(\"buf.new\")\n"
		".const 2 func(\"\", \"echo\")\n.const 3 native(\"process.self\")\n"
		".func \"echo\" arity 0 regs 4\n receive 0\n load_int 1 0\n get_index 2 0 1\n"
		" load_int 1 1\n get_index 3 0 1\n load_int 1 0\n load_int 2 9\n set_index 3 1 2\n"
		" load_int 1 0\n get_index 1 0 1\n send 1 3\n return_nil\n.end\n"
		".func \"main\" arity 0 regs 8\n"
		" load_const 0 1\n load_int 1 1\n call 0 0 1 1\n"      /* R0 = buf.new(1) */
		" load_const 1 0\n call 1 1 0 0\n"                      /* R1 = host.ext() */
		" load_const 2 3\n call 2 2 0 0\n"                      /* R2 = self() */
		" load_const 3 2\n load_nil 4\n spawn 3 3 4\n"          /* R3 = spawn(echo) */
		" move 4 2\n move 5 0\n new_tuple 6 4 2\n send 3 6\n receive 6\n"
		" load_const 3 2\n load_nil 4\n spawn 3 3 4\n"
		" move 4 2\n move 5 1\n new_tuple 7 4 2\n send 3 7\n receive 7\n"
		" load_int 3 0\n get_index 4 0 3\n get_index 5 6 3\n"  /* own copy 0, echoed 9 */
		" get_index 6 1 3\n new_tuple 0 4 3\n return_reg 0\n.end\n";
	struct ion_vm *vm = ext_vm(src);
	ion_value r;
	if (ion_vm_run(vm, "T", "main", 0, NULL, &r))
		fail_msg("%s", ion_vm_error(vm));
	assert_string_equal(ion_vm_result_text(vm), "{0, 9, 9}");
	assert_int_equal(ext[0], 9);
	ion_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_and_len), cmocka_unit_test(test_index_errors),
		cmocka_unit_test(test_read_write_fill), cmocka_unit_test(test_range_errors),
		cmocka_unit_test(test_external_in_place),
		cmocka_unit_test(test_refused_across_the_boundary),
		cmocka_unit_test(test_sent_to_a_process),
	};
	return cmocka_run_group_tests_name("ion_buf", tests, NULL, NULL);
}
