/* test_memory_bus.c - guest memory layout and bounds; exit bus dispatch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/bus.h"
#include "vmm/memory.h"

static void test_small_ram_is_one_region(void **state)
{
	struct guest_mem m;
	assert_int_equal(mem_create_ram(&m, 256ull << 20, NULL), 0);
	assert_int_equal(m.nregions, 1);
	assert_int_equal(m.ram_size, 256ull << 20);
	assert_int_equal(mem_ram_end(&m), 256ull << 20);
	mem_destroy(&m);
}

static void test_large_ram_skips_the_hole(void **state)
{
	struct guest_mem m;
	assert_int_equal(mem_create_ram(&m, 6ull << 30, NULL), 0);
	assert_int_equal(m.nregions, 2);
	assert_int_equal(m.regions[0].gpa, 0);
	assert_int_equal(m.regions[0].size, MEM_HOLE_START);
	assert_int_equal(m.regions[1].gpa, MEM_HOLE_END);
	assert_int_equal(m.regions[1].size, (6ull << 30) - MEM_HOLE_START);
	assert_null(mem_ptr(&m, MEM_HOLE_START, 1));
	assert_null(mem_ptr(&m, 0xFEE00000, 4));
	assert_non_null(mem_ptr(&m, MEM_HOLE_END, 4));
	/* A range straddling the hole is refused even though both ends are RAM. */
	assert_null(mem_ptr(&m, MEM_HOLE_START - 2, 4));
	mem_destroy(&m);
}

static void test_bad_sizes(void **state)
{
	struct guest_mem m;
	struct arcvm_error err;
	assert_int_equal(mem_create_ram(&m, 0, &err), ARCVM_E_INVALID);
	assert_int_equal(mem_create_ram(&m, 4097, &err), ARCVM_E_INVALID);
	assert_int_equal(mem_create_ram(&m, UINT64_MAX & ~0xfffull, &err), ARCVM_E_INVALID);
}

static void test_bounds_are_overflow_safe(void **state)
{
	struct guest_mem m = { 0 };
	uint8_t *buf = calloc(1, 4096);
	assert_int_equal(mem_add_region(&m, 0x1000, buf, 4096, true, NULL), 0);
	assert_ptr_equal(mem_ptr(&m, 0x1000, 4096), buf);
	assert_ptr_equal(mem_ptr(&m, 0x1fff, 1), buf + 4095);
	assert_ptr_equal(mem_ptr(&m, 0x2000, 0), buf + 4096);
	assert_null(mem_ptr(&m, 0x1fff, 2));
	assert_null(mem_ptr(&m, 0xfff, 2));
	assert_null(mem_ptr(&m, 0x1000, UINT64_MAX));
	assert_null(mem_ptr(&m, UINT64_MAX, 2));
	assert_null(mem_ptr(&m, 0x1800, UINT64_MAX - 0x10));
	uint32_t v = 0x11223344;
	assert_int_equal(mem_write(&m, 0x1ffc, &v, 4), 0);
	assert_int_equal(mem_write(&m, 0x1ffd, &v, 4), -1);
	uint32_t r = 0;
	assert_int_equal(mem_read(&m, 0x1ffc, &r, 4), 0);
	assert_int_equal(r, v);
	/* Overlapping and wrapping regions are refused. */
	struct arcvm_error err;
	assert_int_equal(mem_add_region(&m, 0x1800, buf, 16, true, &err), ARCVM_E_INVALID);
	assert_int_equal(mem_add_region(&m, UINT64_MAX - 8, buf, 16, true, &err), ARCVM_E_INVALID);
	free(buf);
}

struct dev_log {
	uint64_t off;
	uint32_t val;
	int writes;
};

static void dev_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memset(data, 0xab, len);
}

static void dev_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct dev_log *l = opaque;
	l->off = off;
	l->val = 0;
	memcpy(&l->val, data, len < 4 ? len : 4);
	l->writes++;
}

static const struct bus_ops dev_ops = { .read = dev_read, .write = dev_write };
static const struct bus_ops null_ops = { 0 };

static void test_bus_dispatch(void **state)
{
	struct bus bus = { 0 };
	struct dev_log a = { 0 }, b = { 0 };
	struct arcvm_error err;
	assert_int_equal(bus_register(&bus, 0x3f8, 8, &dev_ops, &a, "a", &err), 0);
	assert_int_equal(bus_register(&bus, 0x60, 1, &dev_ops, &b, "b", &err), 0);
	assert_int_equal(bus_register(&bus, 0x70, 2, &null_ops, NULL, "c", &err), 0);
	uint32_t v = 0x55;
	assert_true(bus_dispatch(&bus, 0x3fb, true, &v, 1));
	assert_int_equal(a.off, 3);
	assert_int_equal(a.val, 0x55);
	assert_true(bus_dispatch(&bus, 0x60, true, &v, 1));
	assert_int_equal(b.writes, 1);
	/* Reads: device value, NULL op and unclaimed addresses read all ones. */
	uint8_t r[4];
	assert_true(bus_dispatch(&bus, 0x3f8, false, r, 1));
	assert_int_equal(r[0], 0xab);
	assert_true(bus_dispatch(&bus, 0x70, false, r, 2));
	assert_int_equal(r[0], 0xff);
	assert_false(bus_dispatch(&bus, 0x61, false, r, 1));
	assert_int_equal(r[0], 0xff);
	/* An access running off the end of a device is not the device's. */
	assert_false(bus_dispatch(&bus, 0x3ff, true, &v, 2));
	assert_int_equal(a.writes, 1);
}

static void test_bus_refuses_overlaps(void **state)
{
	struct bus bus = { 0 };
	struct arcvm_error err;
	assert_int_equal(bus_register(&bus, 0x100, 0x10, &null_ops, NULL, "first", &err), 0);
	assert_int_equal(bus_register(&bus, 0x10f, 1, &null_ops, NULL, "second", &err),
			 ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "first"));
	assert_int_equal(bus_register(&bus, 0xf8, 9, &null_ops, NULL, "third", &err),
			 ARCVM_E_INVALID);
	assert_int_equal(bus_register(&bus, 0xf8, 8, &null_ops, NULL, "fourth", &err), 0);
	assert_int_equal(bus_register(&bus, 0x0, 0, &null_ops, NULL, "empty", &err),
			 ARCVM_E_INVALID);
	assert_int_equal(bus_register(&bus, UINT64_MAX, 2, &null_ops, NULL, "wrap", &err),
			 ARCVM_E_INVALID);
	/* Fill the table: the next registration fails cleanly. */
	int i = bus.ndevices;
	for (; i < BUS_MAX_DEVICES; i++)
		assert_int_equal(bus_register(&bus, 0x1000 + (uint64_t)i * 4, 4, &null_ops, NULL, "x",
					      &err), 0);
	assert_int_equal(bus_register(&bus, 0x9000, 4, &null_ops, NULL, "full", &err),
			 ARCVM_E_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_ram_is_one_region),
		cmocka_unit_test(test_large_ram_skips_the_hole),
		cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_bounds_are_overflow_safe),
		cmocka_unit_test(test_bus_dispatch),
		cmocka_unit_test(test_bus_refuses_overlaps),
	};
	return cmocka_run_group_tests_name("memory_bus", tests, NULL, NULL);
}
