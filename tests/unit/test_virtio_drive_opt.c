/* test_virtio_drive_opt.c - the --drive option parser (cli/drive_opt.c).
 * cli/ is not part of libarcvm, so the unit under test is compiled in here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli/drive_opt.c"

static void test_minimal(void **state)
{
	struct arcvm_drive d;
	assert_int_equal(cli_parse_drive("path=disk.img", &d, NULL), 0);
	assert_string_equal(d.path, "disk.img");
	assert_null(d.id);
	assert_false(d.read_only);
	assert_false(d.root);
	assert_int_equal(d.cache, ARCVM_CACHE_WRITEBACK);
	cli_drive_free(&d);
	assert_null(d.path);
}

static void test_everything(void **state)
{
	struct arcvm_drive d;
	const char *spec = "ro,cache=unsafe,path=/var/img/root.ext4,id=rootfs,root=1";
	assert_int_equal(cli_parse_drive(spec, &d, NULL), 0);
	assert_string_equal(d.path, "/var/img/root.ext4");
	assert_string_equal(d.id, "rootfs");
	assert_true(d.read_only);
	assert_true(d.root);
	assert_int_equal(d.cache, ARCVM_CACHE_UNSAFE);
	/* The strings are copies: spec can go. */
	assert_true(d.path < spec || d.path >= spec + strlen(spec));
	cli_drive_free(&d);
}

static void test_cache_writeback_and_root_0(void **state)
{
	struct arcvm_drive d;
	assert_int_equal(cli_parse_drive("path=a,cache=writeback,root=0", &d, NULL), 0);
	assert_int_equal(d.cache, ARCVM_CACHE_WRITEBACK);
	assert_false(d.root);
	cli_drive_free(&d);
}

/* Each bad spec fails with ARCVM_E_INVALID, names `word`, and leaves *out empty. */
static void bad(const char *spec, const char *word)
{
	struct arcvm_drive d;
	struct arcvm_error err;
	assert_int_equal(cli_parse_drive(spec, &d, &err), ARCVM_E_INVALID);
	assert_int_equal(err.code, ARCVM_E_INVALID);
	if (!strstr(err.msg, word))
		fail_msg("\"%s\": message \"%s\" does not name \"%s\"", spec, err.msg, word);
	assert_null(d.path);
	assert_null(d.id);
}

static void test_bad_specs(void **state)
{
	bad("", "empty");
	bad("path=", "path");
	bad("ro", "path");                       /* no path at all */
	bad("path=a,size=10", "size");           /* unknown key */
	bad("path=a,rw", "rw");                  /* unknown flag */
	bad("path=a,,ro", "empty");
	bad("path=a,", "empty");
	bad(",path=a", "empty");
	bad("path=a,cache=none", "cache");
	bad("path=a,cache=", "cache");
	bad("path=a,root=yes", "root");
	bad("path=a,root=", "root");
	bad("path=a,ro=1", "ro");
	bad("path=a,id=", "id");
	bad("path=a,id=123456789012345678901", "id");
	bad("path=a,id=has space", "id");
	bad("path=a,path=b", "path");
	bad("path=a,ro,ro", "ro");
	bad("path=a,id=x,id=y", "id");
	bad("path=a,cache=unsafe,cache=unsafe", "cache");
}

static void test_id_of_twenty_bytes_fits(void **state)
{
	struct arcvm_drive d;
	assert_int_equal(cli_parse_drive("path=a,id=12345678901234567890", &d, NULL), 0);
	assert_int_equal(strlen(d.id), 20);
	cli_drive_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_everything),
		cmocka_unit_test(test_cache_writeback_and_root_0),
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test(test_id_of_twenty_bytes_fits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
