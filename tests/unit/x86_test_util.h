/* x86_test_util.h - shared by the x86 unit tests: a fake guest memory and
 * little-endian field readers. Include after <cmocka.h>. */
#ifndef TESTS_UNIT_X86_TEST_UTIL_H
#define TESTS_UNIT_X86_TEST_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/memory.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* A zeroed buffer of `size` bytes registered as RAM at GPA 0; caller frees. */
static inline uint8_t *fake_mem(struct guest_mem *m, uint64_t size)
{
	uint8_t *buf = calloc(1, size);
	assert_non_null(buf);
	memset(m, 0, sizeof(*m));
	assert_int_equal(mem_add_region(m, 0, buf, size, true, NULL), 0);
	return buf;
}

static inline uint16_t g16(const uint8_t *p, uint64_t off)
{
	uint16_t v;
	memcpy(&v, p + off, 2);
	return v;
}

static inline uint32_t g32(const uint8_t *p, uint64_t off)
{
	uint32_t v;
	memcpy(&v, p + off, 4);
	return v;
}

static inline uint64_t g64(const uint8_t *p, uint64_t off)
{
	uint64_t v;
	memcpy(&v, p + off, 8);
	return v;
}

#endif
