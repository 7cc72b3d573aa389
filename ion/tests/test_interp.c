/* test_interp.c - instructions, objects, descriptors, magic methods,
 * closures, match, calls and errors, each through real bytecode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ion/tests/helpers.h"

static void expect_result(const char *src, const char *want)
{
	char *got;
	int rc = th_run(src, "T", "main", &got, NULL);
	if (rc)
		fail_msg("run failed (%d): %s", rc, got);
	assert_string_equal(got, want);
	free(got);
}

/* Runs src expecting an uncaught error whose report contains every needle. */
static void expect_error(const char *src, const char *n1, const char *n2)
{
	char *got;
	int rc = th_run(src, "T", "main", &got, NULL);
	assert_int_equal(rc, ION_E_RUNTIME);
	if (!strstr(got, n1) || (n2 && !strstr(got, n2)))
		fail_msg("error report lacks '%s'/'%s': %s", n1, n2 ? n2 : "", got);
	free(got);
}

static void test_arith(void **s)
{
	expect_result(".class \"T\"\n.const 0 \"ab\"\n"
		      ".func \"main\" arity 0 regs 8\n"
		      " load_int 0 7\n load_int 1 2\n mod 2 0 1\n pow 3 1 1\n div 4 0 1\n"
		      " load_const 5 0\n mul 6 5 1\n add 6 6 5\n new_tuple 7 2 5\n return_reg 7\n.end\n",
		      "{1, 4, 3.5, \"ab\", \"ababab\"}");
	expect_result(".class \"T\"\n.const 0 -7.25\n.func \"main\" arity 0 regs 4\n"
		      " load_const 0 0\n neg 1 0\n load_int 2 -3\n mod 3 2 0\n new_array 0 1 3\n return_reg 0\n.end\n",
		      "[7.25, -3, -3]");
}

static void test_complex(void **s)
{
	expect_result(".class \"T\"\n.const 0 complex(1, 2)\n.const 1 complex(3, -1)\n"
		      ".func \"main\" arity 0 regs 8\n"
		      " load_const 0 0\n load_const 1 1\n add 2 0 1\n mul 3 0 1\n load_int 4 1\n"
		      " add 4 4 0\n div 5 3 1\n sub 6 0 0\n new_tuple 7 2 5\n return_reg 7\n.end\n",
		      "{4+1i, 5+5i, 2+2i, 1+2i, 0+0i}");
}

static void test_loop_and_compare(void **s)
{
	expect_result(".class \"T\"\n.func \"main\" arity 0 regs 6\n"
		      " 0: load_int 0 0\n 1: load_int 1 1\n 2: load_int 2 100\n 3: add 0 0 1\n"
		      " 4: add_imm 1 1 1\n 5: jump_le 1 2 3\n 6: lt 3 2 0\n 7: ge 4 2 2\n"
		      " 8: eq 5 1 1\n 9: new_tuple 1 0 6\n 10: return_reg 1\n.end\n",
		      "{5050, 101, 100, true, true, true}");
	/* strings compare bytewise; mixed kinds are an error */
	expect_result(".class \"T\"\n.const 0 \"abc\"\n.const 1 \"abd\"\n.func \"main\" arity 0 regs 3\n"
		      " load_const 0 0\n load_const 1 1\n lt 2 0 1\n return_reg 2\n.end\n", "true");
	expect_error(".class \"T\"\n.const 0 \"abc\"\n.func \"main\" arity 0 regs 3\n"
		     " load_const 0 0\n load_int 1 1\n lt 2 0 1\n return_reg 2\n.end\n",
		     "badarith", "T.main (instruction 2: lt)");
}

static void test_logic(void **s)
{
	expect_result(".class \"T\"\n.func \"main\" arity 0 regs 8\n"
		      " load_nil 0\n load_bool 1 0\n load_int 2 0\n logical_not 3 0\n logical_not 4 2\n"
		      " logical_and 5 2 1\n logical_or 6 0 2\n new_tuple 7 3 4\n return_reg 7\n.end\n",
		      "{true, false, false, 0}");
}

static const char proto_src[] =
	".class \"T\"\n"
	".const 0 #\"Point\"{\"x\"/7: 1, \"y\"/1: 2}\n"
	".const 1 \"x\"\n.const 2 \"y\"\n.const 3 :\"z\"\n"
	".func \"main\" arity 0 regs 8\n"
	" load_const 0 0\n new_object 1\n set_proto 1 0\n load_int 2 5\n set_prop 1 3 2\n"
	" get_prop 3 1 1\n get_prop 4 1 3\n get_prop 5 1 2\n type_of 6 0\n get_proto 7 1\n"
	" eq 7 7 0\n new_tuple 2 3 5\n return_reg 2\n.end\n";

static void test_prototypes(void **s)
{
	expect_result(proto_src, "{1, 5, 2, Point, true}");
	/* only enumerable own properties print */
	expect_result(".class \"T\"\n.const 0 #\"Point\"{\"x\"/7: 1, \"y\"/1: 2}\n"
		      ".func \"main\" arity 0 regs 1\n load_const 0 0\n return_reg 0\n.end\n",
		      "#Point{x: 1}");
}

static void test_descriptors(void **s)
{
	/* y is writable but not configurable: assignment works, redefinition fails */
	expect_result(".class \"T\"\n.const 0 #\"\"{\"y\"/1: 2}\n.const 1 \"y\"\n"
		      ".func \"main\" arity 0 regs 3\n load_const 0 0\n load_int 1 9\n set_prop 0 1 1\n"
		      " get_prop 2 0 1\n return_reg 2\n.end\n", "9");
	expect_error(".class \"T\"\n.const 0 #\"\"{\"y\"/1: 2}\n.const 1 \"y\"\n"
		     ".func \"main\" arity 0 regs 3\n load_const 0 0\n load_int 1 9\n define_prop 0 1 1 7\n"
		     " return_reg 0\n.end\n", "not configurable", "instruction 2: define_prop");
	expect_error(".class \"T\"\n.const 0 \"k\"\n.func \"main\" arity 0 regs 2\n new_object 0\n"
		     " load_int 1 1\n define_prop 0 0 1 0\n set_prop 0 0 1\n return_reg 0\n.end\n",
		     "not writable", "instruction 3: set_prop");
	expect_error(".class \"T\"\n.const 0 \"k\"\n.func \"main\" arity 0 regs 2\n new_object 0\n"
		     " load_int 1 1\n define_prop 0 0 1 1\n delete_prop 0 0\n return_reg 0\n.end\n",
		     "not configurable", "delete_prop");
	/* a configurable property can be deleted; reading it then gives nil */
	expect_result(".class \"T\"\n.const 0 \"k\"\n.func \"main\" arity 0 regs 2\n new_object 0\n"
		      " load_int 1 1\n define_prop 0 0 1 4\n delete_prop 0 0\n get_prop 1 0 0\n return_reg 1\n.end\n",
		      "nil");
}

static void test_magic(void **s)
{
	const char *src =
		".class \"T\"\n"
		".const 0 #\"Vec\"{\"__add\"/7: func(\"\", \"vadd\"), \"v\"/7: 10, \"__tostring\"/6: func(\"\", \"str\"), \"__call\"/6: func(\"\", \"callme\")}\n"
		".const 1 \"v\"\n.const 2 \"Vec!\"\n"
		".func \"main\" arity 0 regs 4\n load_const 0 0\n load_const 1 0\n add 2 0 1\n"
		" load_int 3 5\n call 3 0 3 1\n new_tuple 0 2 2\n return_reg 0\n.end\n"
		".func \"vadd\" arity 2 regs 4\n get_prop 2 0 1\n get_prop 3 1 1\n add 2 2 3\n return_reg 2\n.end\n"
		".func \"str\" arity 1 regs 1\n load_const 0 2\n return_reg 0\n.end\n"
		".func \"callme\" arity 2 regs 3\n get_prop 2 0 1\n mul 2 2 1\n return_reg 2\n.end\n"
		".func \"obj\" arity 0 regs 1\n load_const 0 0\n return_reg 0\n.end\n";
	expect_result(src, "{20, 50}");
	char *got;
	assert_int_equal(th_run(src, "T", "obj", &got, NULL), 0);
	assert_string_equal(got, "Vec!");
	free(got);
}

static void test_closures(void **s)
{
	expect_result(".class \"T\"\n.const 0 func(\"\", \"make\")\n.const 1 func(\"\", \"inc\")\n"
		      ".func \"main\" arity 0 regs 5\n load_const 0 0\n load_int 1 10\n call 2 0 1 1\n"
		      " call 3 2 0 0\n call 3 2 0 0\n load_int 1 100\n call 4 0 1 1\n call 4 4 0 0\n"
		      " new_tuple 0 3 2\n return_reg 0\n.end\n"
		      ".func \"make\" arity 1 regs 2\n closure 1 1\n return_reg 1\n.end\n"
		      ".func \"inc\" arity 0 regs 1\n .upval reg 0\n get_upval 0 0\n add_imm 0 0 1\n"
		      " set_upval 0 0\n return_reg 0\n.end\n", "{12, 101}");
}

static const char match_src[] =
	".class \"T\"\n.const 0 {:\"ok\", 5}\n.const 1 match({:\"error\", $1} -> 5, {:\"ok\", $1} -> 3, [_, $1] -> 7)\n"
	".const 2 {:\"error\", \"bad\"}\n.const 3 [1, 2]\n"
	".func \"main\" arity 0 regs 3\n 0: load_const 0 0\n 1: match 0 1\n 2: jump 9\n"
	" 3: add_imm 2 1 100\n 4: return_reg 2\n 5: load_int 2 -1\n 6: return_reg 2\n"
	" 7: move 2 1\n 8: return_reg 2\n 9: load_int 2 -2\n 10: return_reg 2\n.end\n";

static void test_match(void **s)
{
	expect_result(match_src, "105");
	char *src = strdup(match_src), *p = strstr(src, "0: load_const 0 0");
	p[16] = '2'; /* {error, "bad"} */
	expect_result(src, "-1");
	p[16] = '3'; /* [1, 2]: binds 2 */
	expect_result(src, "2");
	free(src);
	/* no arm fits: falls through */
	expect_result(".class \"T\"\n.const 0 match(7 -> 2)\n.func \"main\" arity 0 regs 1\n"
		      " 0: load_int 0 8\n 1: match 0 0\n 2: return_reg 0\n.end\n", "8");
}

static void test_tail_calls(void **s)
{
	const char *src =
		".class \"T\"\n.const 0 func(\"\", \"loop\")\n.const 1 1000000\n"
		".func \"main\" arity 0 regs 4\n load_const 0 0\n load_const 1 1\n load_int 2 0\n"
		" call 3 0 1 2\n return_reg 3\n.end\n"
		".func \"loop\" arity 2 regs 4\n 0: load_int 2 0\n 1: jump_le 0 2 6\n 2: add_imm 0 0 -1\n"
		" 3: add_imm 1 1 1\n 4: load_const 3 0\n 5: tail_call 3 0 2\n 6: return_reg 1\n.end\n";
	expect_result(src, "1000000");
	/* the same recursion without the tail call hits the stack limit as an error */
	char *deep = strdup(src), *p = strstr(deep, "5: tail_call 3 0 2");
	memcpy(p, "5: call 1 3 0 2   ", 18);
	char *q = strstr(deep, "6: return_reg 1");
	(void)q;
	char *got;
	assert_int_equal(th_run(deep, "T", "main", &got, NULL), ION_E_RUNTIME);
	assert_non_null(strstr(got, "stack overflow"));
	free(got);
	free(deep);
}

static void test_errors(void **s)
{
	expect_error(".class \"T\"\n.const 0 :\"boom\"\n.func \"main\" arity 0 regs 1\n"
		     " load_const 0 0\n error 0\n.end\n", "{error, boom}", "T.main (instruction 1: error)");
	expect_error(".class \"T\"\n.const 0 func(\"\", \"f\")\n.func \"main\" arity 0 regs 2\n"
		     " load_const 0 0\n call 1 0 0 0\n return_reg 1\n.end\n"
		     ".func \"f\" arity 1 regs 1\n return_reg 0\n.end\n", "badarity", "T.f expects 1");
	/* the trace names every frame, innermost first */
	expect_error(".class \"T\"\n.const 0 func(\"\", \"f\")\n.const 1 :\"a\"\n.func \"main\" arity 0 regs 2\n"
		     " load_const 0 0\n call 1 0 0 0\n return_reg 1\n.end\n"
		     ".func \"f\" arity 0 regs 2\n load_const 0 1\n load_int 1 1\n add 0 0 1\n return_reg 0\n.end\n",
		     "at T.f (instruction 2: add)\n  at T.main (instruction 1: call)", "badarith");
	expect_error(".class \"T\"\n.func \"main\" arity 0 regs 2\n load_int 0 1\n call 1 0 0 0\n"
		     " return_reg 1\n.end\n", "badcall", NULL);
}

static void test_index(void **s)
{
	expect_result(".class \"T\"\n.const 0 \"hey\"\n.const 1 [1, 2]\n.func \"main\" arity 0 regs 8\n"
		      " load_const 0 1\n load_int 1 2\n load_int 2 9\n set_index 0 1 2\n len 3 0\n"
		      " get_index 4 0 1\n load_const 5 0\n load_int 6 1\n get_index 6 5 6\n len 7 5\n"
		      " new_tuple 1 3 5\n return_reg 1\n.end\n", "{3, 9, \"hey\", \"e\", 3}");
	/* load_const of an array gives a fresh copy each time */
	expect_result(".class \"T\"\n.const 0 [1]\n.func \"main\" arity 0 regs 4\n load_const 0 0\n"
		      " load_int 1 0\n load_int 2 5\n set_index 0 1 2\n load_const 3 0\n new_tuple 0 0 4\n"
		      " return_reg 0\n.end\n", "{[5], 0, 5, [1]}");
	expect_error(".class \"T\"\n.const 0 [1]\n.func \"main\" arity 0 regs 3\n load_const 0 0\n"
		     " load_int 1 5\n set_index 0 1 1\n return_reg 0\n.end\n", "out of range", NULL);
}

static void test_stdlib(void **s)
{
	struct th_out out = { 0 };
	char *got;
	const char *src =
		".class \"T\"\n.const 0 native(\"string.split\")\n.const 1 \"a,b,c\"\n.const 2 \",\"\n"
		".const 3 native(\"string.join\")\n.const 4 \"-\"\n.const 5 native(\"string.upper\")\n"
		".const 6 native(\"io.print\")\n.const 7 native(\"string.format\")\n.const 8 \"{} and {}\"\n"
		".const 9 native(\"math.sqrt\")\n.const 10 native(\"array.sort\")\n.const 11 [3, 1, 2]\n"
		".const 12 native(\"array.map\")\n.const 13 func(\"\", \"dbl\")\n"
		".func \"main\" arity 0 regs 12\n"
		" load_const 0 0\n load_const 1 1\n load_const 2 2\n call 3 0 1 2\n"   /* split */
		" load_const 0 3\n load_const 4 4\n move 5 3\n move 6 4\n call 7 0 5 2\n" /* join */
		" load_const 0 5\n call 7 0 7 1\n"                                          /* upper */
		" load_const 0 6\n call 8 0 7 1\n"                                          /* print */
		" load_const 0 7\n load_const 8 8\n load_int 9 1\n move 10 7\n call 8 0 8 3\n" /* format */
		" load_const 0 9\n load_int 9 16\n call 9 0 9 1\n"                          /* sqrt */
		" load_const 0 10\n load_const 10 11\n call 10 0 10 1\n"                    /* sort */
		" load_const 0 12\n load_const 11 13\n call 10 0 10 2\n"                    /* map */
		" new_tuple 0 7 4\n return_reg 0\n.end\n"
		".func \"dbl\" arity 1 regs 1\n add 0 0 0\n return_reg 0\n.end\n";
	assert_int_equal(th_run(src, "T", "main", &got, &out), 0);
	assert_string_equal(got, "{\"A-B-C\", \"1 and A-B-C\", 4, [2, 4, 6]}");
	assert_string_equal(out.out, "A-B-C\n");
	free(got);
	th_out_free(&out);
}

static void test_system(void **s)
{
	expect_result(".class \"T\"\n.const 0 native(\"io.system\")\n.const 1 \"echo hi; exit 3\"\n"
		      ".func \"main\" arity 0 regs 2\n load_const 0 0\n load_const 1 1\n call 0 0 1 1\n"
		      " return_reg 0\n.end\n", "{3, \"hi\n\"}");
}

/* Natives calling back into bytecode calling natives...: bounded, an error. */
static void test_callback_depth(void **s)
{
	expect_error(".class \"T\"\n.const 0 native(\"array.map\")\n.const 1 func(\"\", \"f\")\n.const 2 [1]\n"
		     ".func \"main\" arity 0 regs 2\n load_int 0 1\n load_const 1 1\n call 0 1 0 1\n return_reg 0\n.end\n"
		     ".func \"f\" arity 1 regs 3\n load_const 0 0\n load_const 1 2\n load_const 2 1\n"
		     " call 0 0 1 2\n return_reg 0\n.end\n", "callbacks nested deeper than 64", "system_limit");
}

static void test_object_stdlib(void **s)
{
	expect_result(".class \"T\"\n.const 0 #\"\"{\"a\"/7: 1, \"h\"/1: 2, \"b\"/3: 3}\n"
		      ".const 1 native(\"object.keys\")\n.const 2 native(\"object.describe\")\n.const 3 \"h\"\n"
		      ".const 4 native(\"object.freeze\")\n.const 5 native(\"object.create\")\n.const 6 \"a\"\n"
		      ".func \"main\" arity 0 regs 8\n load_const 0 0\n load_const 1 1\n call 2 1 0 1\n"
		      " load_const 1 2\n load_const 4 3\n move 3 0\n call 3 1 3 2\n"
		      " load_const 1 5\n call 4 1 0 1\n get_prop 4 4 6\n"
		      " load_const 1 4\n call 5 1 0 1\n new_tuple 1 2 4\n return_reg 1\n.end\n",
		      "{[a, b], {true, false, false}, 1, #{a: 1, b: 3}}");
	char *got;
	assert_int_equal(th_run(".class \"T\"\n.const 0 #\"\"{\"a\"/7: 1}\n.const 1 native(\"object.freeze\")\n"
				".const 2 \"a\"\n.const 3 \"new\"\n.func \"main\" arity 0 regs 3\n load_const 0 0\n"
				" load_const 1 1\n call 1 1 0 1\n load_int 2 5\n set_prop 0 2 2\n set_prop 0 3 2\n"
				" return_reg 0\n.end\n", "T", "main", &got, NULL), ION_E_RUNTIME);
	assert_non_null(strstr(got, "cannot add 'new' to a frozen object"));
	assert_non_null(strstr(got, "instruction 5: set_prop"));
	free(got);
}

/* Calls native `name` with integer/constant args and returns the display text. */
static const char helper_funcs[] =
	".func \"gt\" arity 2 regs 3\n gt 2 0 1\n return_reg 2\n.end\n"
	".func \"odd\" arity 1 regs 3\n load_int 1 2\n mod 2 0 1\n load_int 1 1\n eq 2 2 1\n"
	" return_reg 2\n.end\n";

static void expect_native(const char *consts, const char *call_body, const char *want)
{
	char src[4096];
	snprintf(src, sizeof src, ".class \"T\"\n%s.func \"main\" arity 0 regs 8\n%s return_reg 0\n.end\n%s",
		 consts, call_body, helper_funcs);
	expect_result(src, want);
}

static void test_more_stdlib(void **s)
{
	/* string.slice with negative indices, string.find hit and miss */
	expect_native(".const 0 native(\"string.slice\")\n.const 1 \"hello world\"\n.const 2 native(\"string.find\")\n"
		      ".const 3 \"wor\"\n.const 4 \"xyz\"\n",
		      " load_const 0 0\n load_const 1 1\n load_int 2 -5\n load_int 3 -1\n call 4 0 1 3\n"
		      " load_const 0 2\n load_const 2 3\n call 5 0 1 2\n load_const 2 4\n call 6 0 1 2\n"
		      " new_tuple 0 4 3\n", "{\"worl\", 6, -1}");
	/* array.pop/len/filter and sort with a comparator (descending) */
	expect_native(".const 0 native(\"array.sort\")\n.const 1 [5, 1, 4, 2]\n.const 2 func(\"\", \"gt\")\n"
		      ".const 3 native(\"array.pop\")\n.const 4 native(\"array.filter\")\n.const 5 func(\"\", \"odd\")\n"
		      ".const 6 native(\"array.len\")\n",
		      " load_const 0 0\n load_const 1 1\n load_const 2 2\n call 1 0 1 2\n load_const 0 3\n"
		      " call 3 0 1 1\n load_const 0 4\n load_const 2 5\n call 4 0 1 2\n load_const 0 6\n"
		      " call 5 0 4 1\n new_tuple 0 1 5\n",
		      "{[5, 4, 2], <function T.odd/1>, 1, [5], 1}");
	/* math, and string.format with literal braces */
	expect_native(".const 0 native(\"math.max\")\n.const 1 native(\"math.floor\")\n.const 2 -2.5\n"
		      ".const 3 native(\"string.format\")\n.const 4 \"{{{}}} {}\"\n.const 5 :\"ok\"\n",
		      " load_const 0 0\n load_int 1 3\n load_int 2 9\n load_int 3 -1\n call 4 0 1 3\n"
		      " load_const 0 1\n load_const 1 2\n call 5 0 1 1\n load_const 0 3\n load_const 1 4\n"
		      " load_int 2 7\n load_const 3 5\n call 6 0 1 3\n new_tuple 0 4 3\n",
		      "{9, -3, \"{7} ok\"}");
	/* files: write then read back */
	expect_native(".const 0 native(\"io.write_file\")\n.const 1 \"/tmp/ion-test-file.txt\"\n"
		      ".const 2 \"line\\n\"\n.const 3 native(\"io.read_file\")\n",
		      " load_const 0 0\n load_const 1 1\n load_const 2 2\n call 3 0 1 2\n load_const 0 3\n"
		      " call 4 0 1 1\n new_tuple 0 3 2\n", "{true, \"line\n\"}");
	expect_error(".class \"T\"\n.const 0 native(\"io.read_file\")\n.const 1 \"/nonexistent/x\"\n"
		     ".func \"main\" arity 0 regs 2\n load_const 0 0\n load_const 1 1\n call 0 0 1 1\n"
		     " return_reg 0\n.end\n", "cannot open /nonexistent/x", "{error, {io,");
}

/* A comparator that empties the array being sorted: the items it dropped
 * stay alive in the sort's rooted scratch space (GC-stress/ASan builds would
 * catch a use after free), and the emptied array is left as it is. */
static void test_sort_hostile_comparator(void **s)
{
	expect_result(".class \"T\"\n.const 0 native(\"array.sort\")\n.const 1 [\"d\", \"c\", \"b\", \"a\"]\n"
		      ".const 2 func(\"\", \"cmp\")\n.const 3 native(\"array.pop\")\n"
		      ".func \"main\" arity 0 regs 4\n load_const 0 0\n load_const 1 1\n closure 2 2\n"
		      " call 3 0 1 2\n len 3 3\n return_reg 3\n.end\n"
		      ".func \"cmp\" arity 2 regs 5\n .upval reg 1\n load_const 2 3\n get_upval 3 0\n"
		      " call 4 2 3 1\n lt 2 0 1\n return_reg 2\n.end\n", "0");
}

/* A closure made inside a closure captures the outer closure's upvalue. */
static void test_nested_closures(void **s)
{
	expect_result(".class \"T\"\n.const 0 func(\"\", \"outer\")\n.const 1 func(\"\", \"inner\")\n"
		      ".func \"main\" arity 0 regs 3\n load_int 0 40\n closure 1 0\n call 1 1 0 0\n"
		      " call 2 1 0 0\n return_reg 2\n.end\n"
		      ".func \"outer\" arity 0 regs 1\n .upval reg 0\n closure 0 1\n return_reg 0\n.end\n"
		      ".func \"inner\" arity 0 regs 1\n .upval up 0\n get_upval 0 0\n add_imm 0 0 2\n"
		      " return_reg 0\n.end\n", "42");
}

static int host_scale(struct ion_proc *p, ion_value *args, int nargs, ion_value *out)
{
	double x, k;
	if (ion_arg_num(p, args, 0, &x) || ion_arg_num(p, args, 1, &k))
		return ION_NATIVE_ERROR;
	*out = ion_make_number(x * k);
	return ION_NATIVE_OK;
}

static const struct ion_native host_natives[] = {
	{ "host.scale", 2, "x times k", host_scale },
	{ NULL, 0, NULL, NULL }
};

/* An embedder's native: registered, listed, called, arguments checked. */
static void test_embedder_native(void **s)
{
	struct ion_vm *vm = ion_vm_new(NULL);
	assert_int_equal(ion_vm_register_natives(vm, host_natives), 0);
	int found = 0;
	for (unsigned i = 0; ion_vm_native_at(vm, i); i++)
		found |= strcmp(ion_vm_native_at(vm, i)->name, "host.scale") == 0;
	assert_true(found);
	size_t len;
	uint8_t *d = th_encode(".class \"T\"\n.const 0 native(\"host.scale\")\n.const 1 :\"x\"\n"
			       ".func \"main\" arity 0 regs 3\n load_const 0 0\n load_int 1 7\n load_int 2 6\n"
			       " call 0 0 1 2\n return_reg 0\n.end\n"
			       ".func \"bad\" arity 0 regs 3\n load_const 0 0\n load_const 1 1\n load_int 2 6\n"
			       " call 0 0 1 2\n return_reg 0\n.end\n", &len);
	assert_int_equal(ion_vm_load_class(vm, d, len), 0);
	assert_int_equal(ion_vm_link(vm), 0);
	ion_value r;
	assert_int_equal(ion_vm_run(vm, "T", "main", 0, NULL, &r), 0);
	assert_string_equal(ion_vm_result_text(vm), "42");
	assert_int_equal(ion_vm_run(vm, "T", "bad", 0, NULL, &r), ION_E_RUNTIME);
	assert_non_null(strstr(ion_vm_error(vm), "argument 1 must be a number, not atom"));
	ion_vm_free(vm);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arith), cmocka_unit_test(test_complex),
		cmocka_unit_test(test_loop_and_compare), cmocka_unit_test(test_logic),
		cmocka_unit_test(test_prototypes), cmocka_unit_test(test_descriptors),
		cmocka_unit_test(test_magic), cmocka_unit_test(test_closures),
		cmocka_unit_test(test_match), cmocka_unit_test(test_tail_calls),
		cmocka_unit_test(test_errors), cmocka_unit_test(test_index),
		cmocka_unit_test(test_stdlib), cmocka_unit_test(test_system),
		cmocka_unit_test(test_embedder_native), cmocka_unit_test(test_callback_depth),
		cmocka_unit_test(test_object_stdlib), cmocka_unit_test(test_more_stdlib),
		cmocka_unit_test(test_nested_closures), cmocka_unit_test(test_sort_hostile_comparator),
	};
	return cmocka_run_group_tests_name("ion_interp", tests, NULL, NULL);
}
