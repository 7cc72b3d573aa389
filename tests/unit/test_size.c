/* test_size.c - strict size parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arcvm.h"

static uint64_t parse_ok(const char *s)
{
	uint64_t v = 0xdead;
	struct arcvm_error err;
	int rc = arcvm_parse_size(s, &v, &err);
	if (rc)
		fail_msg("'%s' should parse: %s", s, err.msg);
	return v;
}

static void parse_bad(const char *s, const char *msg_part)
{
	uint64_t v = 0xdead;
	struct arcvm_error err;
	assert_int_equal(arcvm_parse_size(s, &v, &err), ARCVM_E_INVALID);
	assert_int_equal(err.code, ARCVM_E_INVALID);
	assert_int_equal(v, 0xdead);   /* untouched on failure */
	if (msg_part && !strstr(err.msg, msg_part))
		fail_msg("error for '%s' was '%s', expected it to mention '%s'", s, err.msg, msg_part);
}

static void test_units(void **state)
{
	assert_int_equal(parse_ok("512M"), 512ull << 20);
	assert_int_equal(parse_ok("4GB"), 4ull << 30);
	assert_int_equal(parse_ok("4GiB"), 4ull << 30);
	assert_int_equal(parse_ok("4g"), 4ull << 30);
	assert_int_equal(parse_ok("64K"), 64ull << 10);
	assert_int_equal(parse_ok("1T"), 1ull << 40);
	assert_int_equal(parse_ok("4096"), 4096);
	assert_int_equal(parse_ok("100B"), 100);
	assert_int_equal(parse_ok("0"), 0);
}

static void test_rejects_junk(void **state)
{
	parse_bad("", "empty");
	parse_bad("M", "expected a number");
	parse_bad("-1G", "expected a number");
	parse_bad(" 1G", "expected a number");
	parse_bad("1G ", "unknown unit");
	parse_bad("1.5G", "unknown unit");
	parse_bad("12X", "unknown unit");
	parse_bad("1GBB", "unknown unit");
	parse_bad("0x100", "unknown unit");
}

static void test_overflow(void **state)
{
	parse_ok("18446744073709551615");
	parse_bad("18446744073709551616", "too large");
	parse_bad("99999999999999999999999", "too large");
	parse_bad("16777216T", "too large");
	assert_int_equal(parse_ok("16777215T"), 16777215ull << 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_rejects_junk),
		cmocka_unit_test(test_overflow),
	};
	return cmocka_run_group_tests_name("size", tests, NULL, NULL);
}
