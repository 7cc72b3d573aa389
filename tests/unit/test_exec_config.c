/* test_exec_config.c - the JSON VM config file and share specs (cli/config.c). */
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

#include "cli/config.c"
#include "cli/drive_opt.c"
#include "cli/net_opt.c"
#include "cli/shm_opt.c"

static char dir[64];       /* a scratch folder holding the config's neighbours */
static char cfgpath[128];

static void touch(const char *name)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("x", f);
	fclose(f);
}

static int setup(void **state)
{
	strcpy(dir, "/tmp/arcvm-cfgtest.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(cfgpath, sizeof(cfgpath), "%s/vm.json", dir);
	char p[256];
	snprintf(p, sizeof(p), "%s/src", dir);
	mkdir(p, 0755);
	touch("bzImage");
	touch("initrd.img");
	touch("disk.img");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void good(const char *json, struct cli_file_config *c)
{
	char err[CLI_ERRMSG];
	if (cli_config_parse(json, cfgpath, c, err, sizeof(err)))
		fail_msg("'%s' should parse: %s", json, err);
}

/* A bad file fails with a message holding the file's name and `part`. */
static void bad(const char *json, const char *part)
{
	struct cli_file_config c;
	char err[CLI_ERRMSG] = "";
	assert_int_equal(cli_config_parse(json, cfgpath, &c, err, sizeof(err)), -1);
	if (!strstr(err, cfgpath) || !strstr(err, part))
		fail_msg("error for '%s' was '%s', expected it to name the file and '%s'", json, err, part);
	assert_int_equal(c.nshares + c.ndrives + c.nenv, 0);   /* nothing left to free */
	assert_null(c.kernel);
}

static void test_good_file(void **state)
{
	struct cli_file_config c;
	good("{ \"vcpu\": 4, \"ram\": \"4GB\", \"kernel\": \"bzImage\", \"initrd\": \"initrd.img\",\n"
	     "  \"cmdline\": \"console=ttyS0 quiet\", \"network\": false,\n"
	     "  \"drives\": [\"./src:/src:rw\", \"path=disk.img,ro\",\n"
	     "             {\"path\": \"disk.img\", \"read_only\": true, \"id\": \"data\", \"cache\": \"unsafe\"}],\n"
	     "  \"shares\": [\"src:/in:ro\"], \"env\": {\"CC\": \"gcc\", \"EMPTY\": \"\"} }", &c);
	char want[256];
	assert_int_equal(c.cpus, 4);
	assert_true(c.mem == 4ull << 30);
	snprintf(want, sizeof(want), "%s/bzImage", dir);     /* relative to the file's folder */
	assert_string_equal(c.kernel, want);
	snprintf(want, sizeof(want), "%s/initrd.img", dir);
	assert_string_equal(c.initrd, want);
	assert_string_equal(c.cmdline, "console=ttyS0 quiet");
	assert_int_equal(c.nshares, 2);
	char *real = realpath(dir, NULL);
	snprintf(want, sizeof(want), "%s/src", real);
	free(real);
	assert_string_equal(c.shares[0].host, want);
	assert_string_equal(c.shares[0].guest, "/src");
	assert_false(c.shares[0].read_only);
	assert_string_equal(c.shares[1].guest, "/in");
	assert_true(c.shares[1].read_only);
	assert_int_equal(c.ndrives, 2);
	snprintf(want, sizeof(want), "%s/disk.img", dir);
	assert_string_equal(c.drives[0].path, want);
	assert_true(c.drives[0].read_only);
	assert_string_equal(c.drives[1].path, want);
	assert_string_equal(c.drives[1].id, "data");
	assert_int_equal(c.drives[1].cache, ARCVM_CACHE_UNSAFE);
	assert_int_equal(c.nenv, 2);
	assert_string_equal(c.env[0], "CC=gcc");
	assert_string_equal(c.env[1], "EMPTY=");
	cli_config_free(&c);
}

static void test_defaults_and_builtin_kernel(void **state)
{
	struct cli_file_config c;
	good("{}", &c);
	assert_int_equal(c.cpus, 0);
	assert_true(c.mem == 0);
	cli_config_free(&c);
	good("{\"kernel\": \"linux-lts\", \"ram\": 268435456}", &c);
	assert_null(c.kernel);                                /* the built-in image */
	assert_true(c.mem == 256ull << 20);
	cli_config_free(&c);
	good("{\"kernel\": \"default\"}", &c);
	assert_null(c.kernel);
	cli_config_free(&c);
}

static void test_bad_values_name_the_key(void **state)
{
	bad("{\"vcpu\": 0}", "'vcpu'");
	bad("{\"vcpu\": 65}", "'vcpu'");
	bad("{\"vcpu\": 1.5}", "'vcpu'");
	bad("{\"vcpu\": \"2\"}", "'vcpu'");
	bad("{\"ram\": \"4XB\"}", "'ram'");
	bad("{\"ram\": 0}", "'ram'");
	bad("{\"ram\": -1}", "'ram'");
	bad("{\"ram\": true}", "'ram'");
	bad("{\"kernel\": \"no-such-kernel\"}", "'kernel'");
	bad("{\"initrd\": 3}", "'initrd'");
	bad("{\"cmdline\": \"\"}", "'cmdline'");
	bad("{\"drives\": \"x\"}", "'drives'");
	bad("{\"drives\": [\"path=disk.img\", \"path=disk.img,bogus=1\"]}", "'drives[1]'");
	bad("{\"drives\": [\"no-colon-no-path\"]}", "'drives[0]'");
	bad("{\"drives\": [{\"path\": \"disk.img\", \"speed\": 3}]}", "speed");
	bad("{\"drives\": [{\"read_only\": true}]}", "needs a \"path\"");
	bad("{\"drives\": [7]}", "'drives[0]'");
	bad("{\"shares\": [\"nosuchdir:/x\"]}", "'shares[0]'");
	bad("{\"shares\": [\"src:relative\"]}", "'shares[0]'");
	bad("{\"shares\": [\"src:/x:maybe\"]}", "'shares[0]'");
	bad("{\"shares\": \"src:/x\"}", "'shares'");
	bad("{\"network\": 1}", "expected true, false or an object");
	bad("{\"network\": {\"mode\": \"bridge\"}}", "network.mode");
	bad("{\"network\": {\"publish\": [\"80\"]}}", "--publish");
	bad("{\"network\": \"yes\"}", "'network'");
	bad("{\"env\": [\"A=1\"]}", "'env'");
	bad("{\"env\": {\"A\": 1}}", "'env.A'");
	bad("{\"env\": {\"A=B\": \"1\"}}", "'env.A=B'");
	/* A later bad key frees what earlier keys allocated (ASan checks). */
	bad("{\"kernel\": \"bzImage\", \"shares\": [\"src:/s\"], \"env\": {\"A\": \"1\"}, \"vcpu\": 0}",
	    "'vcpu'");
}

static void test_unknown_key(void **state)
{
	bad("{\"vcpu\": 2, \"memory\": \"1G\"}", "unknown key 'memory'");
}

static void test_malformed_json(void **state)
{
	bad("{\n  \"vcpu\": 2,\n  \"ram\": ,\n}", "line 3, column");
	bad("[1, 2]", "JSON object");
	bad("", "line 1, column 1");
	bad("{} trailing", "malformed JSON");
}

static void test_load_file(void **state)
{
	struct cli_file_config c;
	char err[CLI_ERRMSG];
	FILE *f = fopen(cfgpath, "w");
	fputs("{\"vcpu\": 3, \"shares\": [\"./src:/work\"]}", f);
	fclose(f);
	assert_int_equal(cli_config_load(cfgpath, &c, err, sizeof(err)), 0);
	assert_int_equal(c.cpus, 3);
	assert_string_equal(c.shares[0].guest, "/work");
	cli_config_free(&c);
	assert_int_equal(cli_config_load("/no/such.json", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/no/such.json"));
}

static void test_share_specs(void **state)
{
	struct cli_share s;
	char err[CLI_ERRMSG];
	assert_int_equal(cli_parse_share("/tmp:/t", NULL, &s, err, sizeof(err)), 0);
	assert_string_equal(s.host, "/tmp");
	assert_false(s.read_only);
	cli_share_free(&s);
	assert_int_equal(cli_parse_share("/tmp:/t:ro", NULL, &s, err, sizeof(err)), 0);
	assert_true(s.read_only);
	cli_share_free(&s);
	assert_int_equal(cli_parse_share("/tmp", NULL, &s, err, sizeof(err)), -1);
	assert_int_equal(cli_parse_share(":/t", NULL, &s, err, sizeof(err)), -1);
	assert_int_equal(cli_parse_share("/tmp:/a b", NULL, &s, err, sizeof(err)), -1);
	assert_int_equal(cli_parse_share("/etc/passwd:/t", NULL, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a folder"));
}

static void test_config_arg(void **state)
{
	char *a1[] = { "exec", "--cpus", "2", "--config", "x.json", "--", "cmd", NULL };
	char *a2[] = { "exec", "--config=y.json", "--", "cmd", NULL };
	char *a3[] = { "exec", "--", "cmd", "--config", "z.json", NULL };
	assert_string_equal(cli_config_arg(7, a1), "x.json");
	assert_string_equal(cli_config_arg(4, a2), "y.json");
	assert_null(cli_config_arg(5, a3));    /* CMD's own option */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_defaults_and_builtin_kernel),
		cmocka_unit_test(test_bad_values_name_the_key),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_share_specs),
		cmocka_unit_test(test_config_arg),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
