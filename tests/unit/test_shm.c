/*
 * test_shm.c - shared memory set-up: the --shared-mem / "shared_mem" parser,
 * arcvm_alloc_shared (memfd and path), where the region goes in the guest's
 * physical address space, and its reserved e820 entry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "arch/x86/layout.h"
#include "arch/x86/x86.h"
#include "cli/shm_opt.c"
#include "vmm/shared.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)

static char msg[512];

/* ---- --shared-mem SIZE[,path=FILE|,fd=N] ---- */

static void test_parse_good_specs(void **state)
{
	struct cli_shm s;
	assert_int_equal(cli_parse_shm("64M", NULL, &s, msg, sizeof(msg)), 0);
	assert_true(s.enabled);
	assert_int_equal(s.size, 64 * MiB);
	assert_string_equal(s.path, "");
	assert_int_equal(s.fd, -1);

	assert_int_equal(cli_parse_shm("1G,path=/dev/shm/x", NULL, &s, msg, sizeof(msg)), 0);
	assert_int_equal(s.size, GiB);
	assert_string_equal(s.path, "/dev/shm/x");

	/* A config file's relative path is the file's; an absolute one stays. */
	assert_int_equal(cli_parse_shm("4K,path=r", "/etc/vm", &s, msg, sizeof(msg)), 0);
	assert_string_equal(s.path, "/etc/vm/r");
	assert_int_equal(cli_parse_shm("4K,path=/r", "/etc/vm", &s, msg, sizeof(msg)), 0);
	assert_string_equal(s.path, "/r");

	assert_int_equal(cli_parse_shm("8192,fd=7", NULL, &s, msg, sizeof(msg)), 0);
	assert_int_equal(s.size, 8192);
	assert_int_equal(s.fd, 7);
}

static void expect_bad(const char *spec, const char *needle)
{
	struct cli_shm s;
	msg[0] = '\0';
	assert_int_equal(cli_parse_shm(spec, NULL, &s, msg, sizeof(msg)), -1);
	if (!strstr(msg, needle))
		fail_msg("'%s': message '%s' lacks '%s'", spec ? spec : "(null)", msg, needle);
	assert_false(s.enabled);
}

static void test_parse_bad_specs(void **state)
{
	expect_bad(NULL, "expected SIZE");
	expect_bad("", "expected SIZE");
	expect_bad("0", "non-zero multiple of 4 KiB");
	expect_bad("4097", "non-zero multiple of 4 KiB");
	expect_bad("1X", "unknown unit");
	expect_bad("-4K", "bad --shared-mem '-4K'");
	expect_bad("99999999999999999999", "bad --shared-mem");
	expect_bad(",path=/x", "bad --shared-mem");
	expect_bad("1M,size=2", "unknown item 'size=2'");
	expect_bad("1M,path=", "path= needs one file name");
	expect_bad("1M,path=/a,path=/b", "path= needs one file name");
	expect_bad("1M,fd=", "fd= needs one descriptor number");
	expect_bad("1M,fd=-1", "fd= needs one descriptor number");
	expect_bad("1M,fd=3x", "fd= needs one descriptor number");
	expect_bad("1M,fd=99999999999", "fd= needs one descriptor number");
	expect_bad("1M,path=/a,fd=3", "not both");
	expect_bad("1M,,path=/a", "empty item");
	expect_bad("1M,", "empty item");
}

/* ---- arcvm_alloc_shared ---- */

static off_t fd_size(int fd)
{
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	return st.st_size;
}

static void test_alloc_memfd(void **state)
{
	int fd;
	struct arcvm_error err;
	assert_int_equal(arcvm_alloc_shared(3 * MiB, NULL, &fd, &err), 0);
	assert_int_equal(fd_size(fd), 3 * MiB);
	/* Sealed against shrinking: no holder can pull pages from the guest. */
	assert_int_equal(ftruncate(fd, 1 * MiB), -1);
	assert_int_equal(fd_size(fd), 3 * MiB);
	close(fd);
	assert_int_equal(arcvm_alloc_shared(0, NULL, &fd, &err), ARCVM_E_INVALID);
	assert_int_equal(fd, -1);
	assert_int_equal(arcvm_alloc_shared(4095, NULL, &fd, &err), ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "multiple of 4 KiB"));
	assert_int_equal(arcvm_alloc_shared(1ull << 63, NULL, &fd, &err), ARCVM_E_INVALID);
}

static void test_alloc_path(void **state)
{
	char dir[] = "/tmp/arcvm-shm-test.XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/region", dir);
	int fd, fd2;
	struct arcvm_error err;

	/* Created 0600 and sized. */
	assert_int_equal(arcvm_alloc_shared(8 * KiB, path, &fd, &err), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(fd_size(fd), 8 * KiB);
	assert_int_equal(pwrite(fd, "hi", 2, 0), 2);
	/* A second opener shares the bytes; asking for more extends the file,
	 * asking for less keeps it as it is. */
	assert_int_equal(arcvm_alloc_shared(16 * KiB, path, &fd2, &err), 0);
	assert_int_equal(fd_size(fd2), 16 * KiB);
	char b[2];
	assert_int_equal(pread(fd2, b, 2, 0), 2);
	assert_memory_equal(b, "hi", 2);
	close(fd2);
	assert_int_equal(arcvm_alloc_shared(4 * KiB, path, &fd2, &err), 0);
	assert_int_equal(fd_size(fd2), 16 * KiB);
	close(fd2);
	close(fd);

	/* A folder, a missing folder, an empty path. */
	assert_int_equal(arcvm_alloc_shared(4 * KiB, dir, &fd, &err), ARCVM_E_INVALID);
	snprintf(path, sizeof(path), "%s/no/such", dir);
	assert_int_equal(arcvm_alloc_shared(4 * KiB, path, &fd, &err), ARCVM_E_NOT_FOUND);
	assert_non_null(strstr(err.msg, "folder does not exist"));
	assert_int_equal(arcvm_alloc_shared(4 * KiB, "", &fd, &err), ARCVM_E_INVALID);
	snprintf(path, sizeof(path), "%s/region", dir);
	unlink(path);
	rmdir(dir);
}

static void test_apply_checks_an_inherited_fd(void **state)
{
	struct cli_shm s;
	struct arcvm_config cfg;
	int owned, fd;
	arcvm_config_init(&cfg);
	assert_int_equal(arcvm_alloc_shared(4 * KiB, NULL, &fd, NULL), 0);
	char spec[64];
	snprintf(spec, sizeof(spec), "8K,fd=%d", fd);
	assert_int_equal(cli_parse_shm(spec, NULL, &s, msg, sizeof(msg)), 0);
	assert_int_equal(cli_shm_apply(&s, &cfg, &owned, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "fewer than the 8192 asked for"));
	snprintf(spec, sizeof(spec), "4K,fd=%d", fd);
	assert_int_equal(cli_parse_shm(spec, NULL, &s, msg, sizeof(msg)), 0);
	assert_int_equal(cli_shm_apply(&s, &cfg, &owned, msg, sizeof(msg)), 0);
	assert_int_equal(owned, -1);
	assert_int_equal(cfg.shared_fd, fd);
	assert_int_equal(cfg.shared_size, 4 * KiB);
	close(fd);
	assert_int_equal(cli_shm_apply(&s, &cfg, &owned, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "not an open descriptor"));
}

/* ---- placement and e820 ---- */

static void test_place_above_ram_and_4g(void **state)
{
	assert_int_equal(shared_place(512 * MiB), 4 * GiB);
	assert_int_equal(shared_place(3 * GiB), 4 * GiB);
	assert_int_equal(shared_place(4 * GiB), 4 * GiB);
	assert_int_equal(shared_place(4 * GiB + 4 * KiB), 5 * GiB);
	assert_int_equal(shared_place(7 * GiB), 7 * GiB);
}

static void test_e820_lists_the_region_reserved_last(void **state)
{
	struct guest_mem m;
	struct x86_e820_entry e[16];
	assert_int_equal(mem_create_ram(&m, 256 * MiB, NULL), 0);
	m.reserved_gpa = shared_place(mem_ram_end(&m));
	m.reserved_size = 64 * MiB;
	assert_int_equal(x86_e820_build(&m, e, 16), 4);
	assert_int_equal(e[3].addr, 4 * GiB);
	assert_int_equal(e[3].size, 64 * MiB);
	assert_int_equal(e[3].type, 2);
	/* Below the end of RAM it would break the sorted map: refused. */
	m.reserved_gpa = 128 * MiB;
	assert_true(x86_e820_build(&m, e, 16) < 0);
	mem_destroy(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good_specs),
		cmocka_unit_test(test_parse_bad_specs),
		cmocka_unit_test(test_alloc_memfd),
		cmocka_unit_test(test_alloc_path),
		cmocka_unit_test(test_apply_checks_an_inherited_fd),
		cmocka_unit_test(test_place_above_ram_and_4g),
		cmocka_unit_test(test_e820_lists_the_region_reserved_last),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
