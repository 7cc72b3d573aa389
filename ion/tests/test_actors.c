/* test_actors.c - processes, messages, scheduling fairness, receive
 * timeouts, links, monitors and a supervisor restarting a worker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "ion/tests/helpers.h"

static double now_ms(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *run_ok(const char *src, uint32_t reductions)
{
	struct ion_vm *vm = th_vm(src, NULL, reductions);
	ion_value r;
	int rc = ion_vm_run(vm, "T", "main", 0, NULL, &r);
	if (rc)
		fail_msg("run failed (%d): %s", rc, ion_vm_error(vm));
	char *t = strdup(ion_vm_result_text(vm));
	ion_vm_free(vm);
	return t;
}

static void expect(const char *src, const char *want)
{
	char *got = run_ok(src, 0);
	assert_string_equal(got, want);
	free(got);
}

static void test_spawn_send_receive(void **s)
{
	expect(".class \"T\"\n.const 0 func(\"\", \"child\")\n.const 1 :\"hi\"\n"
	       ".func \"main\" arity 0 regs 4\n self 0\n new_tuple 1 0 1\n load_const 2 0\n"
	       " spawn 3 2 1\n receive 0\n return_reg 0\n.end\n"
	       ".func \"child\" arity 1 regs 3\n load_const 1 1\n load_int 2 42\n new_tuple 1 1 2\n"
	       " send 0 1\n return_nil\n.end\n", "{hi, 42}");
}

/* Messages are copies: the child's change to its array is not seen by main. */
static void test_messages_are_copied(void **s)
{
	expect(".class \"T\"\n.const 0 func(\"\", \"child\")\n.const 1 [1, 2]\n"
	       ".func \"main\" arity 0 regs 5\n self 0\n load_const 1 1\n new_tuple 2 0 2\n"
	       " load_const 3 0\n spawn 3 3 2\n receive 4\n new_tuple 0 1 2\n"
	       " move 2 4\n new_tuple 0 1 2\n return_reg 0\n.end\n"
	       ".func \"child\" arity 2 regs 4\n load_int 2 0\n load_int 3 7\n set_index 1 2 3\n"
	       " send 0 1\n return_nil\n.end\n", "{[1, 2], [7, 2]}");
}

static const char ring_src[] =
	".class \"T\"\n.const 0 func(\"\", \"node\")\n.const 1 1000\n"
	".func \"main\" arity 0 regs 9\n"
	"  0: self 0\n  1: move 1 0\n  2: load_int 2 100\n  3: load_const 3 0\n"
	"  4: load_int 5 0\n  5: jump_le 2 5 10\n  6: new_tuple 4 0 2\n  7: spawn 1 3 4\n"
	"  8: add_imm 2 2 -1\n  9: jump 4\n 10: load_const 6 1\n 11: send 1 6\n"
	" 12: load_int 8 0\n 13: receive 7\n 14: add_imm 8 8 1\n 15: jump_le 7 5 18\n"
	" 16: send 1 7\n 17: jump 13\n 18: new_tuple 0 7 2\n 19: return_reg 0\n.end\n"
	".func \"node\" arity 2 regs 3\n 0: receive 2\n 1: add_imm 2 2 -1\n 2: send 1 2\n"
	" 3: jump 0\n.end\n";

static void test_ring(void **s)
{
	/* 100 nodes decrement the token; main sees it once per lap: 10 laps */
	expect(ring_src, "{0, 10}");
	char *got = run_ok(ring_src, 1); /* a budget of 1 preempts at every call/send */
	assert_string_equal(got, "{0, 10}");
	free(got);
}

/* A process spinning forever cannot starve the others. */
static void test_fairness(void **s)
{
	const char *src =
		".class \"T\"\n.const 0 func(\"\", \"spin\")\n.const 1 func(\"\", \"worker\")\n"
		".const 2 :\"done\"\n"
		".func \"main\" arity 0 regs 5\n self 0\n load_const 1 0\n load_nil 2\n spawn 3 1 2\n"
		" spawn 3 1 2\n new_tuple 2 0 1\n load_const 1 1\n spawn 3 1 2\n receive 4\n"
		" return_reg 4\n.end\n"
		".func \"spin\" arity 0 regs 1\n 0: add_imm 0 0 1\n 1: jump 0\n.end\n"
		".func \"worker\" arity 1 regs 3\n 0: load_int 1 0\n 1: load_int 2 50\n"
		" 2: add_imm 1 1 1\n 3: jump_lt 1 2 2\n 4: load_const 1 2\n 5: send 0 1\n"
		" 6: return_nil\n.end\n";
	for (uint32_t budget = 1; budget <= 10000; budget *= 100) {
		char *got = run_ok(src, budget);
		assert_string_equal(got, "done");
		free(got);
	}
}

static const char timeout_src[] =
	".class \"T\"\n.const 0 :\"timeout\"\n.const 1 30\n"
	".func \"main\" arity 0 regs 2\n 0: load_const 1 1\n 1: receive_timeout 0 1 3\n"
	" 2: return_reg 0\n 3: load_const 0 0\n 4: return_reg 0\n.end\n";

static void test_receive_timeout(void **s)
{
	double w0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
	char *got = run_ok(timeout_src, 0);
	double wall = now_ms(CLOCK_MONOTONIC) - w0, cpu = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
	assert_string_equal(got, "timeout");
	free(got);
	/* never early; and the wait is a sleep, not a spin */
	assert_true(wall >= 30.0);
	assert_true(cpu < wall / 2);
}

/* Timers fire in deadline order, and a message beats a longer timeout. */
static void test_timeout_order(void **s)
{
	expect(".class \"T\"\n.const 0 func(\"\", \"waiter\")\n.const 1 [30, 10, 20]\n"
	       ".const 2 10000\n"
	       ".func \"main\" arity 0 regs 9\n"
	       "  0: self 0\n  1: load_const 1 1\n  2: load_int 2 0\n  3: load_int 3 3\n"
	       "  4: load_const 4 0\n  5: get_index 5 1 2\n  6: new_tuple 6 0 1\n"
	       "  7: new_tuple 6 5 2\n  8: move 6 0\n  9: move 7 5\n 10: new_tuple 8 6 2\n"
	       " 11: spawn 8 4 8\n 12: add_imm 2 2 1\n 13: jump_lt 2 3 5\n"
	       " 14: load_const 2 2\n 15: receive_timeout 5 2 21\n 16: receive_timeout 6 2 21\n"
	       " 17: receive_timeout 7 2 21\n 18: new_array 0 5 3\n 19: return_reg 0\n"
	       " 20: nop\n 21: load_nil 0\n 22: return_reg 0\n.end\n"
	       ".func \"waiter\" arity 2 regs 4\n 0: receive_timeout 2 1 2\n 1: return_nil\n"
	       " 2: send 0 1\n 3: return_nil\n.end\n", "[10, 20, 30]");
}

static void test_sleep(void **s)
{
	double w0 = now_ms(CLOCK_MONOTONIC);
	expect(".class \"T\"\n.const 0 native(\"process.sleep\")\n.const 1 :\"woke\"\n"
	       ".func \"main\" arity 0 regs 2\n load_const 0 0\n load_int 1 25\n call 0 0 1 1\n"
	       " load_const 0 1\n return_reg 0\n.end\n", "woke");
	assert_true(now_ms(CLOCK_MONOTONIC) - w0 >= 25.0);
}

/* process.sleep in tail position still sleeps, then the caller gets nil. */
static void test_sleep_tail(void **s)
{
	double w0 = now_ms(CLOCK_MONOTONIC);
	expect(".class \"T\"\n.const 0 func(\"\", \"nap\")\n.const 1 native(\"process.sleep\")\n"
	       ".func \"main\" arity 0 regs 2\n load_const 0 0\n call 1 0 0 0\n return_reg 1\n.end\n"
	       ".func \"nap\" arity 0 regs 2\n load_const 0 1\n load_int 1 20\n tail_call 0 1 1\n.end\n",
	       "nil");
	assert_true(now_ms(CLOCK_MONOTONIC) - w0 >= 20.0);
	w0 = now_ms(CLOCK_MONOTONIC);
	expect(".class \"T\"\n.const 0 native(\"process.sleep\")\n"
	       ".func \"main\" arity 0 regs 2\n load_const 0 0\n load_int 1 20\n tail_call 0 1 1\n.end\n",
	       "nil");
	assert_true(now_ms(CLOCK_MONOTONIC) - w0 >= 20.0);
}

static void test_deadlock(void **s)
{
	struct ion_vm *vm = th_vm(".class \"T\"\n.func \"main\" arity 0 regs 1\n receive 0\n"
				  " return_reg 0\n.end\n", NULL, 0);
	ion_value r;
	assert_int_equal(ion_vm_run(vm, "T", "main", 0, NULL, &r), ION_E_DEADLOCK);
	assert_non_null(strstr(ion_vm_error(vm), "deadlock"));
	ion_vm_free(vm);
}

static const char crash_child[] =
	".func \"crash\" arity 0 regs 1\n load_const 0 9\n error 0\n.end\n";

/* A crash kills a linked process that does not trap exits. */
static void test_link_kills(void **s)
{
	char src[2048];
	snprintf(src, sizeof src,
		 ".class \"T\"\n.const 0 func(\"\", \"crash\")\n.const 1 1000\n"
		 ".const 2 :\"x\"\n.const 3 :\"x\"\n.const 4 :\"x\"\n.const 5 :\"x\"\n"
		 ".const 6 :\"x\"\n.const 7 :\"x\"\n.const 8 :\"x\"\n.const 9 :\"boom\"\n"
		 ".func \"main\" arity 0 regs 3\n 0: load_const 0 0\n 1: load_nil 1\n 2: spawn 2 0 1\n"
		 " 3: link 2\n 4: load_const 1 1\n 5: receive_timeout 0 1 7\n 6: return_reg 0\n"
		 " 7: load_const 0 2\n 8: return_reg 0\n.end\n%s", crash_child);
	struct ion_vm *vm = th_vm(src, NULL, 0);
	ion_value r;
	assert_int_equal(ion_vm_run(vm, "T", "main", 0, NULL, &r), ION_E_RUNTIME);
	assert_non_null(strstr(ion_vm_error(vm), "{error, boom}"));
	ion_vm_free(vm);
}

/* Trapping exits turns the crash into a message; a normal exit of a linked
 * process kills nobody. */
static void test_trap_exit(void **s)
{
	char src[2048];
	snprintf(src, sizeof src,
		 ".class \"T\"\n.const 0 func(\"\", \"crash\")\n.const 1 match({:\"EXIT\", $4, $5} -> 8)\n"
		 ".const 2 :\"nomatch\"\n.const 3 func(\"\", \"quiet\")\n.const 4 50\n.const 5 :\"alive\"\n"
		 ".const 6 :\"x\"\n.const 7 :\"x\"\n.const 8 :\"x\"\n.const 9 :\"boom\"\n"
		 ".func \"main\" arity 0 regs 7\n 0: load_bool 0 1\n 1: trap_exit 0\n 2: load_const 0 0\n"
		 " 3: load_nil 1\n 4: spawn 2 0 1\n 5: link 2\n 6: receive 3\n 7: match 3 1\n"
		 " 8: eq 6 4 2\n 9: new_tuple 0 5 2\n 10: return_reg 0\n.end\n"
		 ".func \"normal\" arity 0 regs 4\n 0: load_const 0 3\n 1: load_nil 1\n 2: spawn 2 0 1\n"
		 " 3: link 2\n 4: load_const 1 4\n 5: receive_timeout 0 1 7\n 6: return_reg 0\n"
		 " 7: load_const 0 5\n 8: return_reg 0\n.end\n"
		 ".func \"quiet\" arity 0 regs 1\n return_nil\n.end\n%s", crash_child);
	struct ion_vm *vm = th_vm(src, NULL, 0);
	ion_value r;
	assert_int_equal(ion_vm_run(vm, "T", "main", 0, NULL, &r), 0);
	assert_string_equal(ion_vm_result_text(vm), "{{error, boom}, true}");
	assert_int_equal(ion_vm_run(vm, "T", "normal", 0, NULL, &r), 0);
	assert_string_equal(ion_vm_result_text(vm), "alive");
	ion_vm_free(vm);
}

static void test_monitor(void **s)
{
	expect(".class \"T\"\n.const 0 func(\"\", \"quiet\")\n"
	       ".const 1 match({:\"DOWN\", $5, $6, $7} -> 6)\n"
	       ".const 2 match({:\"DOWN\", $5, $6, $7} -> 13)\n"
	       ".func \"main\" arity 0 regs 9\n 0: load_const 0 0\n 1: load_nil 1\n 2: spawn 2 0 1\n"
	       " 3: monitor 3 2\n 4: receive 4\n 5: match 4 1\n 6: eq 8 5 3\n 7: eq 5 6 2\n"
	       " 8: move 6 7\n 9: new_tuple 0 5 2\n 10: monitor 3 2\n 11: receive 4\n"
	       " 12: match 4 2\n 13: eq 5 5 3\n 14: move 6 7\n 15: new_tuple 1 5 2\n"
	       " 16: new_tuple 0 0 2\n 17: return_reg 0\n.end\n"
	       ".func \"quiet\" arity 0 regs 1\n return_nil\n.end\n",
	       "{{true, normal}, {true, noproc}}");
}

/* A supervisor traps exits, sees its worker crash and starts it again. */
static void test_supervisor_restart(void **s)
{
	/* attempt 0 crashes at once; attempt 1 reports ok, then crashes too */
	expect(".class \"T\"\n.const 0 func(\"\", \"worker\")\n"
	       ".const 1 match({:\"EXIT\", _, _} -> 11, :\"ok\" -> 13)\n"
	       ".const 2 :\"ok\"\n.const 3 :\"crash\"\n"
	       ".func \"main\" arity 0 regs 5\n 0: load_bool 0 1\n 1: trap_exit 0\n 2: self 0\n"
	       " 3: load_int 1 0\n 4: load_const 3 0\n 5: new_tuple 2 0 2\n 6: spawn 4 3 2\n"
	       " 7: link 4\n 8: receive 2\n 9: match 2 1\n 10: jump 8\n 11: add_imm 1 1 1\n"
	       " 12: jump 4\n 13: new_tuple 0 1 1\n 14: return_reg 0\n.end\n"
	       ".func \"worker\" arity 2 regs 3\n 0: load_int 2 0\n 1: jump_eq 1 2 4\n"
	       " 2: load_const 2 2\n 3: send 0 2\n 4: load_const 2 3\n 5: error 2\n.end\n",
	       "{1}");
}

/* A crash travels down a chain of 10000 links (without recursion in C). */
static void test_link_chain(void **s)
{
	expect(".class \"T\"\n.const 0 func(\"\", \"chain\")\n.const 1 :\"boom\"\n.const 2 10000\n"
	       ".const 3 match({:\"EXIT\", _, $3} -> 10)\n"
	       ".func \"main\" arity 0 regs 4\n 0: load_bool 0 1\n 1: trap_exit 0\n 2: load_const 0 0\n"
	       " 3: load_const 1 2\n 4: new_tuple 1 1 1\n 5: spawn 2 0 1\n 6: link 2\n 7: receive 3\n"
	       " 8: match 3 3\n 9: jump 7\n 10: return_reg 3\n.end\n"
	       ".func \"chain\" arity 1 regs 4\n 0: load_int 1 0\n 1: jump_le 0 1 8\n 2: add_imm 1 0 -1\n"
	       " 3: new_tuple 1 1 1\n 4: load_const 2 0\n 5: spawn 3 2 1\n 6: link 3\n 7: receive 0\n"
	       " 8: load_const 2 1\n 9: error 2\n.end\n", "{error, boom}");
}

/* process.exit ends the process with its reason, seen by a monitor. */
static void test_process_exit(void **s)
{
	expect(".class \"T\"\n.const 0 func(\"\", \"quit\")\n.const 1 native(\"process.exit\")\n"
	       ".const 2 :\"bye\"\n.const 3 match({_, _, _, $4} -> 5)\n"
	       ".func \"main\" arity 0 regs 5\n 0: load_const 0 0\n 1: load_nil 1\n 2: spawn 2 0 1\n"
	       " 3: monitor 3 2\n 4: receive 4\n 5: match 4 3\n 6: return_reg 4\n.end\n"
	       ".func \"quit\" arity 0 regs 2\n load_const 0 1\n load_const 1 2\n call 0 0 1 1\n"
	       " load_int 0 1\n return_reg 0\n.end\n", "bye");
}

/* max_reductions bounds a run even when processes spin forever. */
static void test_reduction_limit(void **s)
{
	struct ion_config cfg = { .max_reductions = 100000 };
	struct ion_vm *vm = ion_vm_new(&cfg);
	size_t len;
	uint8_t *d = th_encode(".class \"T\"\n.const 0 func(\"\", \"spin\")\n"
			       ".func \"main\" arity 0 regs 3\n 0: load_const 0 0\n 1: load_nil 1\n"
			       " 2: spawn 2 0 1\n 3: jump 3\n.end\n"
			       ".func \"spin\" arity 0 regs 1\n 0: jump 0\n.end\n", &len);
	assert_int_equal(ion_vm_load_class(vm, d, len), 0);
	assert_int_equal(ion_vm_link(vm), 0);
	ion_value r;
	assert_int_equal(ion_vm_run(vm, "T", "main", 0, NULL, &r), ION_E_LIMIT);
	assert_non_null(strstr(ion_vm_error(vm), "100000 reductions"));
	ion_vm_free(vm);
	free(d);
}

/* A spawned closure carries its captured values; sending to a dead pid is
 * silently dropped. */
static void test_spawn_closure_and_dead_pid(void **s)
{
	expect(".class \"T\"\n.const 0 func(\"\", \"worker\")\n.const 1 func(\"\", \"quiet\")\n"
	       ".const 2 [7, 8]\n"
	       ".func \"main\" arity 0 regs 6\n self 0\n load_const 1 2\n closure 2 0\n load_nil 3\n"
	       " spawn 4 2 3\n load_const 2 1\n spawn 5 2 3\n monitor 3 5\n receive 2\n"
	       " receive 3\n send 5 1\n return_reg 2\n.end\n"
	       ".func \"worker\" arity 0 regs 2\n .upval reg 0\n .upval reg 1\n get_upval 0 0\n"
	       " get_upval 1 1\n send 0 1\n return_nil\n.end\n"
	       ".func \"quiet\" arity 0 regs 1\n return_nil\n.end\n", "[7, 8]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spawn_send_receive), cmocka_unit_test(test_messages_are_copied),
		cmocka_unit_test(test_ring), cmocka_unit_test(test_fairness),
		cmocka_unit_test(test_receive_timeout), cmocka_unit_test(test_timeout_order),
		cmocka_unit_test(test_sleep), cmocka_unit_test(test_sleep_tail),
		cmocka_unit_test(test_deadlock),
		cmocka_unit_test(test_link_kills), cmocka_unit_test(test_trap_exit),
		cmocka_unit_test(test_monitor), cmocka_unit_test(test_supervisor_restart),
		cmocka_unit_test(test_link_chain), cmocka_unit_test(test_process_exit),
		cmocka_unit_test(test_reduction_limit), cmocka_unit_test(test_spawn_closure_and_dead_pid),
	};
	return cmocka_run_group_tests_name("ion_actors", tests, NULL, NULL);
}
