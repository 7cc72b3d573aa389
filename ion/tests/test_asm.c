/* test_asm.c - disassembly and assembly give back identical bytecode, by
 * library call and through the iondis/ionasm/ionvm tools. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "ion/asm.h"
#include "ion/tests/helpers.h"
#include "ion/unit.h"

static const char *const sources[] = {
	".class \"Everything\"\n.const 0 nil\n.const 1 true\n.const 2 false\n.const 3 -0\n"
	".const 4 1.0000000000000002\n.const 5 -inf\n.const 6 nan\n.const 7 \"q\\\"uote\\\\ \\n\\t\\x01\\xff\"\n"
	".const 8 :\"an atom\"\n.const 9 complex(0.5, -1e-300)\n.const 10 {1, [2, {}], #\"\"{}}\n"
	".const 11 #\"Pt\"{\"x\"/0: 1, \"y\"/6: [nil]}\n.const 12 func(\"\", \"g\")\n"
	".const 13 func(\"Other\", \"h\")\n.const 14 native(\"math.sqrt\")\n"
	".const 15 match(_ -> 0, $3 -> 1, \"lit\" -> 2, {:\"a\", [_, $2]} -> 3)\n"
	".const 16 f64(0xfff0000000000123)\n.const 17 complex(f64(0x7ff4000000000000), 1)\n"
	".func \"main\" arity 0 regs 4\n 0: load_int 0 -32768\n 1: load_int 1 32767\n"
	" 2: match 0 15\n 3: closure 2 12\n 4: call 3 2 0 0\n 5: return_reg 3\n.end\n"
	".func \"g\" arity 0 regs 2\n .upval reg 1\n .upval reg 3\n get_upval 0 1\n add_imm 1 0 -5\n"
	" set_upval 1 0\n return_reg 1\n.end\n",
	".class \"Small\"\n.func \"f\" arity 2 regs 3\n add 2 0 1\n tail_call 2 0 2\n.end\n",
};

static uint8_t *asm_bytes(const char *text, size_t *len)
{
	return th_encode(text, len);
}

static void test_library_roundtrip(void **s)
{
	for (size_t i = 0; i < sizeof sources / sizeof *sources; i++) {
		size_t len1, len2;
		uint8_t *b1 = asm_bytes(sources[i], &len1);
		struct ion_unit *u;
		char err[512];
		assert_int_equal(ion_unit_decode(b1, len1, &u, err, sizeof err), 0);
		struct ion_buf text = { 0 };
		ion_disasm_unit(u, &text);
		ion_unit_free(u);
		uint8_t *b2 = asm_bytes(text.p, &len2);
		assert_int_equal(len1, len2);
		assert_memory_equal(b1, b2, len1);
		/* and the text is stable too */
		assert_int_equal(ion_unit_decode(b2, len2, &u, err, sizeof err), 0);
		struct ion_buf text2 = { 0 };
		ion_disasm_unit(u, &text2);
		ion_unit_free(u);
		assert_string_equal(text.p, text2.p);
		free(text.p);
		free(text2.p);
		free(b1);
		free(b2);
	}
}

static void test_asm_errors(void **s)
{
	struct { const char *src, *needle; } cases[] = {
		{ ".class \"A\"\n.func \"f\" arity 0 regs 1\n bogus 1\n.end\n", "line 3: unknown instruction" },
		{ ".class \"A\"\n.func \"f\" arity 0 regs 1\n move 0\n.end\n", "line 3: expected an integer" },
		{ ".class \"A\"\n.const 1 2\n", "constant index 1, expected 0" },
		{ ".class \"A\"\n.func \"f\" arity 0 regs 1\n load_int 0 40000\n return_nil\n.end\n", "out of range" },
		{ ".class \"A\"\n.func \"f\" arity 0 regs 1\n move 0 3\n return_nil\n.end\n", "register 3 out of range" },
		{ ".class \"A\"\n.const 0 \"open\n", "unterminated string" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct ion_asm_pack p;
		char err[512];
		assert_int_equal(ion_asm_parse(cases[i].src, strlen(cases[i].src), &p, err, sizeof err),
				 ION_E_FORMAT);
		if (!strstr(err, cases[i].needle))
			fail_msg("case %zu: %s", i, err);
	}
}

/* ---- the tools ---- */

static const char *tools(void)
{
	const char *d = getenv("ION_TOOLS_DIR");
	if (!d) {
		print_message("skipped: ION_TOOLS_DIR is not set (run through make test-ion)\n");
		skip();
	}
	return d;
}

static int sh(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int sh(char *out, size_t cap, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, cap - 1, f);
	out[n] = 0;
	int st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char pack_src[] =
	".manifest \"manifest-version\" \"1\"\n.manifest \"name\" \"t\"\n.manifest \"version\" \"0.1\"\n"
	".manifest \"main-class\" \"Main\"\n.manifest \"entry-point\" \"main\"\n"
	".manifest \"format-version\" \"1.0\"\n"
	".class \"Main\"\n.const 0 func(\"Lib\", \"twice\")\n.const 1 native(\"io.print\")\n"
	".const 2 \"hello\"\n"
	".func \"main\" arity 1 regs 4\n load_const 1 1\n load_const 2 2\n call 2 1 2 1\n"
	" load_const 1 0\n len 2 0\n call 3 1 2 1\n return_reg 3\n.end\n"
	".class \"Lib\"\n.func \"twice\" arity 1 regs 1\n add 0 0 0\n return_reg 0\n.end\n";

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_tools_roundtrip(void **s)
{
	const char *d = tools();
	char out[8192], out2[8192];
	write_text("/tmp/ion-asm-test.ionasm", pack_src);
	assert_int_equal(sh(out, sizeof out, "%s/ionasm /tmp/ion-asm-test.ionasm -o /tmp/ion-asm-test.ionpack 2>&1", d), 0);
	assert_int_equal(sh(out, sizeof out, "%s/iondis /tmp/ion-asm-test.ionpack", d), 0);
	write_text("/tmp/ion-asm-test2.ionasm", out);
	assert_int_equal(sh(out2, sizeof out2, "%s/ionasm /tmp/ion-asm-test2.ionasm -o /tmp/ion-asm-test2.ionpack 2>&1", d), 0);
	assert_int_equal(sh(out2, sizeof out2, "%s/iondis /tmp/ion-asm-test2.ionpack", d), 0);
	assert_string_equal(out, out2);
	/* the class files inside both packs are byte-identical */
	assert_int_equal(sh(out, sizeof out, "cd /tmp && rm -rf ion-rt1 ion-rt2 && mkdir ion-rt1 ion-rt2 && "
			    "cd ion-rt1 && %s -c \"import zipfile;zipfile.ZipFile('/tmp/ion-asm-test.ionpack').extractall()\" && "
			    "cd ../ion-rt2 && %s -c \"import zipfile;zipfile.ZipFile('/tmp/ion-asm-test2.ionpack').extractall()\" && "
			    "cd .. && cmp ion-rt1/classes/Main.ionc ion-rt2/classes/Main.ionc && "
			    "cmp ion-rt1/classes/Lib.ionc ion-rt2/classes/Lib.ionc && echo same",
			    "/usr/bin/python3", "/usr/bin/python3"), 0);
	assert_string_equal(out, "same\n");
}

static void test_ionvm_cli(void **s)
{
	const char *d = tools();
	char out[8192];
	write_text("/tmp/ion-cli.ionasm", pack_src);
	assert_int_equal(sh(out, sizeof out, "%s/ionasm /tmp/ion-cli.ionasm -o /tmp/ion-cli.ionpack", d), 0);
	assert_int_equal(sh(out, sizeof out, "%s/ionvm /tmp/ion-cli.ionpack a b c", d), 0);
	assert_string_equal(out, "hello\n6\n");
	/* a runtime error: exit 1, message and trace on stderr */
	char *bad = strdup(pack_src), *p = strstr(bad, "add 0 0 0");
	memcpy(p, "error 0  ", 9);
	write_text("/tmp/ion-cli2.ionasm", bad);
	free(bad);
	assert_int_equal(sh(out, sizeof out, "%s/ionasm /tmp/ion-cli2.ionasm -o /tmp/ion-cli2.ionpack", d), 0);
	assert_int_equal(sh(out, sizeof out, "%s/ionvm /tmp/ion-cli2.ionpack x 2>&1", d), 1);
	assert_non_null(strstr(out, "uncaught error"));
	assert_non_null(strstr(out, "at Lib.twice (instruction 0: error)"));
	assert_non_null(strstr(out, "at Main.main (instruction 5: call)"));
	/* not a pack: exit 2 with a message */
	assert_int_equal(sh(out, sizeof out, "%s/ionvm /tmp/ion-cli.ionasm 2>&1", d), 2);
	assert_non_null(strstr(out, "not a valid zip"));
	/* --debug traces instructions and scheduling; --reductions is accepted */
	assert_int_equal(sh(out, sizeof out, "%s/ionvm --debug --reductions 5 /tmp/ion-cli.ionpack 2>&1 >/dev/null", d), 0);
	assert_non_null(strstr(out, "[sched] run <pid 0>"));
	assert_non_null(strstr(out, "Lib.twice    0: add"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_library_roundtrip), cmocka_unit_test(test_asm_errors),
		cmocka_unit_test(test_tools_roundtrip), cmocka_unit_test(test_ionvm_cli),
	};
	return cmocka_run_group_tests_name("ion_asm", tests, NULL, NULL);
}
