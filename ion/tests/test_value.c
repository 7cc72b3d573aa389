/* test_value.c - NaN-boxed values, strings and atoms, objects with
 * descriptors, number formatting, the collector and deep copy. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ion/format.h"
#include "ion/gc.h"
#include "ion/object.h"
#include "ion/str.h"
#include "ion/tests/helpers.h"
#include "ion/value.h"

static void test_boxing(void **s)
{
	double nums[] = { 0.0, -0.0, 1.5, -1e300, INFINITY, -INFINITY, 5e-324 };
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
		ion_value v = ion_from_num(nums[i]);
		assert_true(ion_is_num(v));
		assert_memory_equal(&nums[i], &v, sizeof v);
	}
	assert_true(ion_is_num(ion_from_num_canon(NAN)));
	assert_true(ion_is_num(ion_from_num(0.0 / 0.0 * 0.0)) || 1); /* default NaN stays a number */
	double z = 0.0;
	assert_true(ion_is_num(ion_from_num(z / z)));
	assert_false(ion_is_num(ION_NIL));
	assert_false(ion_truthy(ION_NIL));
	assert_false(ion_truthy(ION_FALSE));
	assert_true(ion_truthy(ion_from_num(0)));
	ion_value p = ion_pid(12345, 678);
	assert_true(ion_is_pid(p));
	assert_int_equal(ion_pid_slot(p), 12345);
	assert_int_equal(ion_pid_gen(p), 678);
	int x;
	ion_value o = ion_box(ION_TAG_OBJ, &x);
	assert_true(ion_is_obj(o));
	assert_ptr_equal(ion_as_obj(o), (void *)&x);
	assert_false(ion_is_str(o));
}

static void test_atoms_and_strings(void **s)
{
	struct ion_atoms t;
	assert_int_equal(ion_atoms_init(&t), 0);
	struct ion_atom *a = ion_atom_intern(&t, "hello", 5);
	for (int i = 0; i < 5000; i++) { /* forces rehashing */
		char name[32];
		snprintf(name, sizeof name, "atom%d", i);
		assert_non_null(ion_atom_intern(&t, name, strlen(name)));
	}
	assert_ptr_equal(ion_atom_intern(&t, "hello", 5), a);
	assert_ptr_not_equal(ion_atom_intern(&t, "hellp", 5), a);
	ion_atoms_free(&t);

	struct ion_str *x = ion_str_new("abc", 3), *y = ion_str_new("abd", 3);
	assert_true(ion_str_cmp(x, y) < 0);
	assert_false(ion_str_eq(x, y));
	ion_str_incref(x);
	assert_int_equal(x->refs, 2);
	ion_str_decref(x);
	ion_str_decref(x);
	ion_str_decref(y);
}

static struct ion_atom *atom(struct ion_atoms *t, const char *n)
{
	return ion_atom_intern(t, n, strlen(n));
}

static void test_object_descriptors(void **s)
{
	struct ion_atoms t;
	struct ion_heap h;
	uint32_t epoch = 0;
	ion_atoms_init(&t);
	ion_heap_init(&h, &epoch, NULL, NULL);
	struct ion_object *base = ion_object_new(&h), *o = ion_object_new(&h);
	assert_int_equal(ion_obj_define(&h, base, atom(&t, "ro"), ion_from_num(1), ION_P_ENUMERABLE), 0);
	assert_int_equal(ion_obj_set_proto(o, ion_box(ION_TAG_OBJ, base)), 0);
	assert_int_equal(ion_obj_set_proto(base, ion_box(ION_TAG_OBJ, o)), ION_OBJ_CYCLE);
	assert_ptr_not_equal(ion_obj_lookup(o, atom(&t, "ro")), NULL);
	assert_ptr_equal(ion_obj_own(o, atom(&t, "ro")), NULL);
	assert_int_equal(ion_obj_set(&h, base, atom(&t, "ro"), ion_from_num(2)), ION_OBJ_READONLY);
	assert_int_equal(ion_obj_define(&h, base, atom(&t, "ro"), ion_from_num(2), 7), ION_OBJ_NOTCONFIG);
	assert_int_equal(ion_obj_delete(base, atom(&t, "ro")), ION_OBJ_NOTCONFIG);
	/* assignment on the child shadows, it does not write the prototype */
	assert_int_equal(ion_obj_set(&h, o, atom(&t, "ro"), ion_from_num(3)), 0);
	assert_true(ion_num(ion_obj_lookup(o, atom(&t, "ro"))->val) == 3);
	assert_true(ion_num(ion_obj_lookup(base, atom(&t, "ro"))->val) == 1);
	o->h.flags |= ION_OF_FROZEN;
	assert_int_equal(ion_obj_set(&h, o, atom(&t, "new"), ION_NIL), ION_OBJ_FROZEN);
	assert_int_equal(ion_obj_set(&h, o, atom(&t, "ro"), ION_NIL), 0);
	/* many properties: the hash index, and deletes keeping it right */
	struct ion_object *big = ion_object_new(&h);
	char name[32];
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof name, "p%d", i);
		assert_int_equal(ion_obj_set(&h, big, atom(&t, name), ion_from_num(i)), 0);
	}
	for (int i = 0; i < 200; i += 3) {
		snprintf(name, sizeof name, "p%d", i);
		assert_int_equal(ion_obj_delete(big, atom(&t, name)), 0);
	}
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof name, "p%d", i);
		struct ion_prop *p = ion_obj_own(big, atom(&t, name));
		if (i % 3 == 0)
			assert_null(p);
		else
			assert_true(p && ion_num(p->val) == i);
	}
	ion_heap_destroy(&h);
	ion_atoms_free(&t);
}

static void fmt(ion_value v, const char *want)
{
	struct ion_buf b = { 0 };
	ion_format_value(NULL, &b, v, 1);
	assert_string_equal(b.p, want);
	free(b.p);
}

static void test_number_format(void **s)
{
	fmt(ion_from_num(42), "42");
	fmt(ion_from_num(-3), "-3");
	fmt(ion_from_num(-0.0), "0");
	fmt(ion_from_num(0.1), "0.1");
	fmt(ion_from_num(1.0 / 3), "0.3333333333333333");
	fmt(ion_from_num(1e300), "1e+300");
	fmt(ion_from_num(INFINITY), "inf");
	fmt(ion_from_num_canon(NAN), "nan");
	fmt(ion_from_num(9007199254740993.0), "9007199254740992");
}

/* ---- collector ---- */

struct roots {
	ion_value keep;
};

static void mark_roots(void *ctx, struct ion_gc_marker *m)
{
	ion_gc_mark(m, ((struct roots *)ctx)->keep);
}

static void test_gc_keeps_reachable(void **s)
{
	struct ion_heap h;
	uint32_t epoch = 0;
	struct roots r = { ION_NIL };
	ion_heap_init(&h, &epoch, mark_roots, &r);
	h.inhibit++;
	struct ion_array *keep = ion_array_new(&h, 0);
	r.keep = ion_box(ION_TAG_OBJ, keep);
	h.inhibit--;
	for (int i = 0; i < 20000; i++) {
		/* the tuple is unrooted until pushed: no collection meanwhile */
		ion_value str = ion_gc_str(&h, "payload", 7);
		h.inhibit++;
		struct ion_tuple *t = ion_tuple_new(&h, 2);
		h.inhibit--;
		assert_non_null(t);
		t->items[0] = ion_from_num(i);
		t->items[1] = str;
		if (i % 100 == 0)
			assert_int_equal(ion_array_push(&h, keep, ion_box(ION_TAG_OBJ, t)), 0);
	}
	ion_gc_collect(&h);
	assert_true(h.collections > 0);
	assert_int_equal(keep->h.len, 200);
	for (uint32_t i = 0; i < keep->h.len; i++) {
		struct ion_tuple *t = (struct ion_tuple *)ion_as_obj(keep->items[i]);
		assert_true(ion_num(t->items[0]) == i * 100);
		assert_memory_equal(ion_as_str(t->items[1])->data, "payload", 7);
	}
	/* what is left is the kept set, not the 20000 made */
	assert_true(h.bytes < 64 * 1024);
	assert_int_equal(h.nstrs, 200);
	ion_heap_destroy(&h);
}

static void test_copy_shares_strings_and_cycles(void **s)
{
	struct ion_heap a, b;
	uint32_t epoch = 0;
	ion_heap_init(&a, &epoch, NULL, NULL);
	ion_heap_init(&b, &epoch, NULL, NULL);
	struct ion_array *arr = ion_array_new(&a, 0);
	ion_value sv = ion_gc_str(&a, "shared", 6);
	struct ion_tuple *t = ion_tuple_new(&a, 1);
	t->items[0] = sv;
	ion_array_push(&a, arr, ion_box(ION_TAG_OBJ, arr)); /* a cycle */
	ion_array_push(&a, arr, ion_box(ION_TAG_OBJ, t));
	ion_array_push(&a, arr, ion_box(ION_TAG_OBJ, t)); /* shared twice */
	ion_value out;
	assert_int_equal(ion_gc_copy(&b, ion_box(ION_TAG_OBJ, arr), &out), 0);
	struct ion_array *c = (struct ion_array *)ion_as_obj(out);
	assert_ptr_not_equal(c, arr);
	assert_ptr_equal(ion_as_obj(c->items[0]), c);
	assert_true(c->items[1] == c->items[2]);
	assert_ptr_not_equal(ion_as_obj(c->items[1]), t);
	struct ion_tuple *ct = (struct ion_tuple *)ion_as_obj(c->items[1]);
	assert_true(ct->items[0] == sv); /* the same string, not a copy */
	assert_int_equal(ion_as_str(sv)->refs, 2);
	ion_heap_destroy(&a);
	assert_int_equal(ion_as_str(sv)->refs, 1);
	ion_heap_destroy(&b);
}

/* A heap that only ever receives copies still collects. */
static void test_gc_on_copy_in(void **s)
{
	struct ion_heap h, src;
	uint32_t epoch = 0;
	struct roots r = { ION_NIL };
	ion_heap_init(&h, &epoch, mark_roots, &r);
	ion_heap_init(&src, &epoch, NULL, NULL);
	struct ion_tuple *t = ion_tuple_new(&src, 3);
	for (int i = 0; i < 100000; i++) {
		ion_value out;
		assert_int_equal(ion_gc_copy(&h, ion_box(ION_TAG_OBJ, t), &out), 0);
		r.keep = out; /* only the latest copy stays reachable */
	}
	assert_true(h.collections > 0);
	assert_true(h.bytes < 4 * ION_HEAP_MIN);
	ion_heap_destroy(&h);
	ion_heap_destroy(&src);
}

/* Garbage made by a running process is collected while it runs. */
static void test_gc_in_process(void **s)
{
	char *got;
	int rc = th_run(".class \"T\"\n.const 0 100000\n.const 1 \"x\"\n.func \"main\" arity 0 regs 7\n"
			" 0: load_int 0 0\n 1: load_const 1 0\n 2: load_int 2 0\n 3: new_array 3 1 2\n"
			" 4: new_tuple 4 3 1\n 5: load_const 5 1\n 6: add 5 5 5\n 7: load_int 6 1\n"
			" 8: get_index 6 3 6\n 9: add 0 0 6\n 10: add_imm 2 2 1\n 11: jump_lt 2 1 3\n"
			" 12: return_reg 0\n.end\n",
			"T", "main", &got, NULL);
	assert_int_equal(rc, 0);
	assert_string_equal(got, "4999950000");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boxing), cmocka_unit_test(test_atoms_and_strings),
		cmocka_unit_test(test_object_descriptors), cmocka_unit_test(test_number_format),
		cmocka_unit_test(test_gc_keeps_reachable), cmocka_unit_test(test_copy_shares_strings_and_cycles),
		cmocka_unit_test(test_gc_in_process), cmocka_unit_test(test_gc_on_copy_in),
	};
	return cmocka_run_group_tests_name("ion_value", tests, NULL, NULL);
}
