/* test_literal.c - the literal syntax of arcvm call (ion_literal_encode /
 * ion_literal_format), values through ion_vm_call_copy, and encodings that
 * are truncated or mutated: the decoder side must refuse them cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ion/tests/helpers.h"

static const char src[] =
	".class \"T\"\n"
	".func \"echo\" arity 1 regs 1\n return_reg 0\n.end\n"
	".func \"two\" arity 2 regs 2\n return_reg 1\n.end\n"
	".func \"fref\" arity 0 regs 1\n load_const 0 0\n return_reg 0\n.end\n"
	".const 0 func(\"T\", \"echo\")\n";

/* Each is printed back exactly as written (the canonical form). */
static const char *const canonical[] = {
	"nil", "true", "false", "42", "-3", "0", "-0", "0.1", "1e+300", "-2.5",
	"nan", "inf", "-inf", "\"\"", "\"caf\xc3\xa9 \\xc3\"", "\"hi \\\"there\\\"\"", "\"\\x00\\xff\\n\\t\\\\\"",
	"ok", "'two words'", "'nil'", "1+2i", "0-1.5i", "inf+nani", "{}", "[]",
	"{1, ok, \"s\"}", "[1, [2, [3]], {}]", "#{}", "#{x: 1, y: 2}",
	"#Point{x: 1.5, tags: [ok, nil, true], z: 1-2i}",
	"#{ro/e: 1, hidden/w: 2, none/: 3, \"odd key\": 4}",
	"{#{a: {[\"\\x01\"]}}, -0+0i}",
};

static void test_canonical_roundtrip(void **s)
{
	for (size_t i = 0; i < sizeof canonical / sizeof *canonical; i++) {
		uint8_t *enc;
		size_t len;
		char err[256];
		if (ion_literal_encode(canonical[i], strlen(canonical[i]), &enc, &len, err, sizeof err))
			fail_msg("%s: %s", canonical[i], err);
		char *text = ion_literal_format(enc, len, err, sizeof err);
		if (!text)
			fail_msg("%s: %s", canonical[i], err);
		assert_string_equal(text, canonical[i]);
		free(text);
		free(enc);
	}
}

/* Other spellings of the same values. */
static void test_spellings(void **s)
{
	static const char *const pairs[][2] = {
		{ " [ 1 ,2 ] ", "[1, 2]" }, { "1.0", "1" }, { "+7", "7" }, { "1E3", "1000" },
		{ "'ok'", "ok" }, { "\"a\\'b\"", "\"a'b\"" }, { "#{x/wec: 1}", "#{x: 1}" },
		{ "#{\"k\": 1}", "#{k: 1}" }, { "\"\\x41\"", "\"A\"" }, { "-nan", "nan" },
		{ "\"\xc2\x9b[2J\"", "\"\\xc2\\x9b[2J\"" },  /* a C1 CSI is escaped */
	};
	for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
		uint8_t *enc;
		size_t len;
		char err[256];
		if (ion_literal_encode(pairs[i][0], strlen(pairs[i][0]), &enc, &len, err, sizeof err))
			fail_msg("%s: %s", pairs[i][0], err);
		char *text = ion_literal_format(enc, len, err, sizeof err);
		assert_non_null(text);
		assert_string_equal(text, pairs[i][1]);
		free(text);
		free(enc);
	}
}

static void test_syntax_errors(void **s)
{
	static const char *const bad[][2] = {
		{ "", "expected a value, found the end" }, { "[1, 2", "expected ',' or ']'" },
		{ "[1 2]", "expected ',' or ']'" }, { "\"abc", "unterminated string" },
		{ "\"\\q\"", "unknown escape \\q" }, { "\"\\x4\"", "two hex digits" },
		{ "1.", "digit must follow" }, { "1e", "exponent needs digits" },
		{ "1+2", "ends with 'i'" }, { "1 2", "unexpected text after the value" },
		{ "#{x 1}", "expected ':'" }, { "#{x/q: 1}", "expected ':'" },
		{ "#{x/ww: 1}", "given twice" }, { "#{: 1}", "expected a property name" },
		{ "#{\"\": 1}", "cannot be empty" }, { "''", "atom cannot be empty" },
		{ "#P", "expected '{'" }, { "@", "unexpected '@'" }, { "{1,}", "unexpected '}'" },
		{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "nested deeper" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		uint8_t *enc = NULL;
		size_t len;
		char err[256] = "";
		int rc = ion_literal_encode(bad[i][0], strlen(bad[i][0]), &enc, &len, err, sizeof err);
		if (rc != ION_E_INVALID || !strstr(err, bad[i][1]))
			fail_msg("'%s': rc %d, message '%s' (wanted '%s')", bad[i][0], rc, err, bad[i][1]);
		assert_null(enc);
	}
	char err[256];
	uint8_t *enc;
	size_t len;
	char atom[300];
	memset(atom, 'a', sizeof atom);
	assert_int_equal(ion_literal_encode(atom, sizeof atom, &enc, &len, err, sizeof err),
			 ION_E_INVALID);
	assert_non_null(strstr(err, "atom longer than 255"));
}

/* Every prefix of a valid encoding, and random byte flips, are refused or
 * printed without reading outside the buffer (run under ASan in
 * test-ion-asan). Functions in an encoding are refused by the printer. */
static void test_hostile_encodings(void **s)
{
	const char *text = canonical[sizeof canonical / sizeof *canonical - 1];
	uint8_t *enc;
	size_t len;
	char err[256];
	assert_int_equal(ion_literal_encode(text, strlen(text), &enc, &len, err, sizeof err), 0);
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, enc, n);
		assert_null(ion_literal_format(copy, n, err, sizeof err));
		free(copy);
	}
	uint32_t seed = 12345;
	for (int round = 0; round < 2000; round++) {
		uint8_t *copy = malloc(len);
		memcpy(copy, enc, len);
		copy[th_rand(&seed) % len] ^= (uint8_t)(1u << (th_rand(&seed) % 8));
		free(ion_literal_format(copy, len, err, sizeof err));
		free(copy);
	}
	free(enc);
	static const uint8_t funcref[] = { 10, 1, 0, 'T', 4, 0, 'e', 'c', 'h', 'o' };
	assert_null(ion_literal_format(funcref, sizeof funcref, err, sizeof err));
	assert_non_null(strstr(err, "function is not a copyable value"));
	static const uint8_t huge[] = { 8, 0xff, 0xff, 0xff, 0x00 };
	assert_null(ion_literal_format(huge, sizeof huge, err, sizeof err));
	assert_non_null(strstr(err, "too large"));
}

/* Every literal goes through a function in the VM and back unchanged. */
static void test_call_copy_roundtrip(void **s)
{
	struct ion_vm *vm = th_vm(src, NULL, 0);
	for (size_t i = 0; i < sizeof canonical / sizeof *canonical; i++) {
		char args[512], err[256];
		snprintf(args, sizeof args, "[%s]", canonical[i]);
		uint8_t *enc, *out;
		size_t len, outlen;
		assert_int_equal(ion_literal_encode(args, strlen(args), &enc, &len, err, sizeof err), 0);
		if (ion_vm_call_copy(vm, "T", "echo", enc, len, &out, &outlen))
			fail_msg("%s: %s", canonical[i], ion_vm_error(vm));
		char *text = ion_literal_format(out, outlen, err, sizeof err);
		assert_non_null(text);
		assert_string_equal(text, canonical[i]);
		free(text);
		free(out);
		free(enc);
	}
	ion_vm_free(vm);
}

static void test_call_copy_refuses_functions(void **s)
{
	struct ion_vm *vm = th_vm(src, NULL, 0);
	uint8_t *out = NULL;
	size_t outlen;
	static const uint8_t none[] = { 7, 0, 0, 0, 0 };
	assert_int_equal(ion_vm_call_copy(vm, "T", "fref", none, sizeof none, &out, &outlen),
			 ION_E_INVALID);
	assert_non_null(strstr(ion_vm_error(vm), "a function cannot be copied out of the VM"));
	/* The same call passes the funcref by name through ion_vm_call_encoded. */
	assert_int_equal(ion_vm_call_encoded(vm, "T", "fref", none, sizeof none, &out, &outlen), 0);
	free(out);
	out = NULL;
	static const uint8_t arg[] = { 7, 1, 0, 0, 0, 10, 1, 0, 'T', 4, 0, 'e', 'c', 'h', 'o' };
	assert_int_equal(ion_vm_call_copy(vm, "T", "echo", arg, sizeof arg, &out, &outlen),
			 ION_E_INVALID);
	assert_non_null(strstr(ion_vm_error(vm), "a function cannot be copied into the VM"));
	static const uint8_t native[] = { 7, 2, 0, 0, 0, 0, 11, 8, 0, 'i', 'o', '.', 'p', 'r', 'i', 'n', 't' };
	assert_int_equal(ion_vm_call_copy(vm, "T", "two", native, sizeof native, &out, &outlen),
			 ION_E_INVALID);
	assert_null(out);
	ion_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_roundtrip), cmocka_unit_test(test_spellings),
		cmocka_unit_test(test_syntax_errors), cmocka_unit_test(test_hostile_encodings),
		cmocka_unit_test(test_call_copy_roundtrip),
		cmocka_unit_test(test_call_copy_refuses_functions),
	};
	return cmocka_run_group_tests_name("ion_literal", tests, NULL, NULL);
}
