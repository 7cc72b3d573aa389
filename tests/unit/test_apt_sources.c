/* test_apt_sources.c - finding the Debian mirror in apt's configuration
 * (one-line *.list and deb822 *.sources files), in a scratch /etc/apt. */
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

#include "cli/apt_sources.c"

static char dir[64];

static void put(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/arcvm-apt-XXXXXX");
	assert_non_null(mkdtemp(dir));
	char d[128];
	snprintf(d, sizeof(d), "%s/sources.list.d", dir);
	assert_int_equal(mkdir(d, 0755), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static const char *mirror(const char *suite)
{
	static char out[APT_URI_MAX];
	if (apt_find_mirror(dir, suite, out, sizeof(out)))
		return NULL;
	return out;
}

static void test_deb822_sources(void **state)
{
	put("sources.list.d/debian.sources",
	    "Types: deb\n"
	    "# http://snapshot.debian.org/archive/debian/20250520T000000Z\n"
	    "URIs: http://mirror.example/debian/\n"
	    "Suites: bookworm bookworm-updates\n"
	    "Components: main\n"
	    "\n"
	    "Types: deb\n"
	    "URIs: http://mirror.example/debian-security\n"
	    "Suites: bookworm-security\n");
	assert_string_equal(mirror("bookworm"), "http://mirror.example/debian");
	/* Another release falls back to the main archive, not the security one. */
	assert_string_equal(mirror("trixie"), "http://mirror.example/debian");
	/* The image's extra suites: found only where they are listed. */
	char out[APT_URI_MAX];
	assert_int_equal(apt_find_suite(dir, "bookworm-security", out, sizeof(out)), 0);
	assert_string_equal(out, "http://mirror.example/debian-security");
	assert_int_equal(apt_find_suite(dir, "bookworm-updates", out, sizeof(out)), 0);
	assert_string_equal(out, "http://mirror.example/debian");
	assert_int_equal(apt_find_suite(dir, "trixie-security", out, sizeof(out)), -1);
}

static void test_one_line_and_disabled(void **state)
{
	put("sources.list",
	    "# deb http://commented.example/debian bookworm main\n"
	    "deb-src http://src.example/debian bookworm main\n"
	    "deb [arch=amd64 signed-by=/k.gpg] https://one.example/debian/ trixie main\n");
	put("sources.list.d/off.sources",
	    "Enabled: no\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\n");
	put("sources.list.d/other.list.disabled", "deb http://disabled.example/debian bookworm main\n");
	put("sources.list.d/src.sources", "Types: deb-src\nURIs: http://src.example/d\nSuites: bookworm\n");
	assert_string_equal(mirror("trixie"), "https://one.example/debian");
	assert_string_equal(mirror("bookworm"), "https://one.example/debian");
}

static void test_nothing_usable(void **state)
{
	put("sources.list", "deb-src http://src.example/debian bookworm main\n");
	put("sources.list.d/sec.list", "deb http://sec.example/debian-security bookworm-security main\n");
	assert_null(mirror("bookworm"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deb822_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_line_and_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_usable, setup, teardown),
	};
	return cmocka_run_group_tests_name("apt_sources", tests, NULL, NULL);
}
