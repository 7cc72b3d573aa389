/* test_virtq.c - split virtqueue validation on a fake guest memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "virtio/virtq.h"
#include "vmm/memory.h"

#define MEM_GPA   0x10000ull
#define MEM_SIZE  0x40000ull
#define DESC_GPA  (MEM_GPA + 0x0000)
#define AVAIL_GPA (MEM_GPA + 0x1000)
#define USED_GPA  (MEM_GPA + 0x2000)
#define BUF_GPA   (MEM_GPA + 0x10000)
#define QSIZE 8

struct fx {
	struct guest_mem mem;
	uint8_t *ram;
	struct virtq q;
	struct virtq_chain c;
	uint16_t avail_idx;
};

static void *host(struct fx *f, uint64_t gpa)
{
	return f->ram + (gpa - MEM_GPA);
}

static struct virtq_desc *desc(struct fx *f, unsigned i)
{
	return (struct virtq_desc *)host(f, DESC_GPA) + i;
}

static void set_desc(struct fx *f, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	*desc(f, i) = (struct virtq_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

static uint16_t *avail(struct fx *f)
{
	return host(f, AVAIL_GPA);
}

static void offer(struct fx *f, uint16_t head)
{
	avail(f)[2 + f->avail_idx % QSIZE] = head;
	f->avail_idx++;
	avail(f)[1] = f->avail_idx;
}

static uint16_t *used(struct fx *f)
{
	return host(f, USED_GPA);
}

static void enable(struct fx *f, uint64_t features)
{
	assert_int_equal(virtq_enable(&f->q, &f->mem, QSIZE, 16, DESC_GPA, AVAIL_GPA, USED_GPA,
				      features, NULL), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->ram = calloc(1, MEM_SIZE);
	assert_int_equal(mem_add_region(&f->mem, MEM_GPA, f->ram, MEM_SIZE, true, NULL), 0);
	enable(f, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	free(f->ram);
	free(f);
	return 0;
}

static void assert_broken(struct fx *f, const char *why)
{
	assert_int_equal(virtq_pop(&f->q, &f->c), ARCVM_E_INVALID);
	assert_true(f->q.broken);
	assert_non_null(strstr(f->q.why, why));
	/* Stays broken, and does not consume. */
	assert_int_equal(virtq_pop(&f->q, &f->c), ARCVM_E_INVALID);
	assert_int_equal(f->q.last_avail, 0);
}

static void test_empty_queue(void **state)
{
	struct fx *f = *state;
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
}

static void test_good_chain_and_push(void **state)
{
	struct fx *f = *state;
	set_desc(f, 3, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 5);
	set_desc(f, 5, BUF_GPA + 0x100, 100, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 6);
	set_desc(f, 6, BUF_GPA + 0x200, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 3);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 3);
	assert_int_equal(f->c.nread, 1);
	assert_int_equal(f->c.nwrite, 2);
	assert_int_equal(f->c.read_len, 16);
	assert_int_equal(f->c.write_len, 101);
	assert_ptr_equal(f->c.iov[0].iov_base, host(f, BUF_GPA));
	assert_ptr_equal(f->c.iov[1].iov_base, host(f, BUF_GPA + 0x100));
	assert_int_equal(f->c.iov[2].iov_len, 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);

	virtq_push(&f->q, 3, 101);
	assert_int_equal(used(f)[1], 1);
	struct virtq_used_elem *e = (struct virtq_used_elem *)(used(f) + 2);
	assert_int_equal(e[0].id, 3);
	assert_int_equal(e[0].len, 101);
}

static void test_ring_wraps(void **state)
{
	struct fx *f = *state;
	set_desc(f, 0, BUF_GPA, 8, 0, 0);
	for (int i = 0; i < 3 * QSIZE; i++) {
		offer(f, 0);
		assert_int_equal(virtq_pop(&f->q, &f->c), 1);
		virtq_push(&f->q, 0, 0);
	}
	assert_int_equal(used(f)[1], 3 * QSIZE);
	assert_false(f->q.broken);
}

static void test_loop_is_refused(void **state)
{
	struct fx *f = *state;
	set_desc(f, 0, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 0);
	offer(f, 0);
	assert_broken(f, "loop");
}

static void test_self_loop_is_refused(void **state)
{
	struct fx *f = *state;
	set_desc(f, 2, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 2);
	offer(f, 2);
	assert_broken(f, "loop");
}

static void test_head_out_of_range(void **state)
{
	struct fx *f = *state;
	offer(f, QSIZE);
	assert_broken(f, "head");
}

static void test_next_out_of_range(void **state)
{
	struct fx *f = *state;
	set_desc(f, 0, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 0xffff);
	offer(f, 0);
	assert_broken(f, "next index");
}

static void test_buffer_outside_memory(void **state)
{
	struct fx *f = *state;
	set_desc(f, 0, MEM_GPA + MEM_SIZE - 4, 8, 0, 0);
	offer(f, 0);
	assert_broken(f, "outside guest memory");
}

static void test_huge_length(void **state)
{
	struct fx *f = *state;
	set_desc(f, 0, BUF_GPA, 0xffffffffu, 0, 0);
	offer(f, 0);
	assert_broken(f, "outside guest memory");
}

static void test_wrapping_address(void **state)
{
	struct fx *f = *state;
	set_desc(f, 0, UINT64_MAX - 3, 16, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_broken(f, "outside guest memory");
}

static void test_zero_length_is_skipped(void **state)
{
	struct fx *f = *state;
	/* A zero-length buffer is harmless even at an address outside memory. */
	set_desc(f, 0, 0xdead0000ull, 0, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, BUF_GPA, 4, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.nread, 0);
	assert_int_equal(f->c.nwrite, 1);
	assert_int_equal(f->c.write_len, 4);
}

static void test_readable_after_writable(void **state)
{
	struct fx *f = *state;
	set_desc(f, 0, BUF_GPA, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, BUF_GPA, 4, 0, 0);
	offer(f, 0);
	assert_broken(f, "readable descriptor after a writable");
}

static void test_avail_index_runaway(void **state)
{
	struct fx *f = *state;
	set_desc(f, 0, BUF_GPA, 4, 0, 0);
	avail(f)[1] = QSIZE + 1;
	assert_broken(f, "jumped");
}

static void test_avail_index_full_ring_is_fine(void **state)
{
	struct fx *f = *state;
	set_desc(f, 0, BUF_GPA, 4, 0, 0);
	for (int i = 0; i < QSIZE; i++)
		offer(f, 0);
	for (int i = 0; i < QSIZE; i++)
		assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
}

/* Writes an indirect table of n descriptors at gpa. */
static void set_table(struct fx *f, uint64_t gpa, const struct virtq_desc *t, unsigned n)
{
	memcpy(host(f, gpa), t, n * sizeof(*t));
}

#define TABLE_GPA (MEM_GPA + 0x3000)

static void test_indirect_good(void **state)
{
	struct fx *f = *state;
	enable(f, 1ull << VIRTQ_F_INDIRECT_DESC);
	struct virtq_desc t[3] = {
		{ BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 2 },
		{ BUF_GPA + 0x400, 1, VIRTQ_DESC_F_WRITE, 0 },
		{ BUF_GPA + 0x100, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1 },
	};
	set_table(f, TABLE_GPA, t, 3);
	set_desc(f, 4, TABLE_GPA, sizeof(t), VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 4);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 4);
	assert_int_equal(f->c.nread, 1);
	assert_int_equal(f->c.nwrite, 2);
	assert_int_equal(f->c.write_len, 513);
	assert_ptr_equal(f->c.iov[1].iov_base, host(f, BUF_GPA + 0x100));
}

static void test_indirect_not_negotiated(void **state)
{
	struct fx *f = *state;
	struct virtq_desc t[1] = { { BUF_GPA, 16, 0, 0 } };
	set_table(f, TABLE_GPA, t, 1);
	set_desc(f, 0, TABLE_GPA, sizeof(t), VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_broken(f, "not negotiated");
}

static void test_indirect_bad_length(void **state)
{
	struct fx *f = *state;
	enable(f, 1ull << VIRTQ_F_INDIRECT_DESC);
	set_desc(f, 0, TABLE_GPA, 24, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_broken(f, "indirect table length");
}

static void test_indirect_zero_length(void **state)
{
	struct fx *f = *state;
	enable(f, 1ull << VIRTQ_F_INDIRECT_DESC);
	set_desc(f, 0, TABLE_GPA, 0, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_broken(f, "indirect table length");
}

static void test_indirect_too_large(void **state)
{
	struct fx *f = *state;
	enable(f, 1ull << VIRTQ_F_INDIRECT_DESC);
	set_desc(f, 0, MEM_GPA, (VIRTQ_CHAIN_MAX + 1) * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_broken(f, "indirect table length");
}

static void test_indirect_nested(void **state)
{
	struct fx *f = *state;
	enable(f, 1ull << VIRTQ_F_INDIRECT_DESC);
	struct virtq_desc t[2] = {
		{ BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1 },
		{ TABLE_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0 },
	};
	set_table(f, TABLE_GPA, t, 2);
	set_desc(f, 0, TABLE_GPA, sizeof(t), VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_broken(f, "nested");
}

static void test_indirect_with_next(void **state)
{
	struct fx *f = *state;
	enable(f, 1ull << VIRTQ_F_INDIRECT_DESC);
	struct virtq_desc t[1] = { { BUF_GPA, 16, 0, 0 } };
	set_table(f, TABLE_GPA, t, 1);
	set_desc(f, 0, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	offer(f, 0);
	assert_broken(f, "NEXT");
}

static void test_indirect_table_outside_memory(void **state)
{
	struct fx *f = *state;
	enable(f, 1ull << VIRTQ_F_INDIRECT_DESC);
	set_desc(f, 0, MEM_GPA + MEM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_broken(f, "outside guest memory");
}

static void test_indirect_loop(void **state)
{
	struct fx *f = *state;
	enable(f, 1ull << VIRTQ_F_INDIRECT_DESC);
	struct virtq_desc t[2] = {
		{ BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1 },
		{ BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 0 },
	};
	set_table(f, TABLE_GPA, t, 2);
	set_desc(f, 0, TABLE_GPA, sizeof(t), VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_broken(f, "loop");
}

static void test_indirect_next_out_of_table(void **state)
{
	struct fx *f = *state;
	enable(f, 1ull << VIRTQ_F_INDIRECT_DESC);
	struct virtq_desc t[2] = {
		{ BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 2 },
		{ BUF_GPA, 16, 0, 0 },
	};
	set_table(f, TABLE_GPA, t, 2);
	set_desc(f, 0, TABLE_GPA, sizeof(t), VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_broken(f, "next index");
}

static void test_enable_validation(void **state)
{
	struct fx *f = *state;
	struct virtq q;
	struct arcvm_error err;
	assert_int_equal(virtq_enable(&q, &f->mem, 0, 16, DESC_GPA, AVAIL_GPA, USED_GPA, 0, &err),
			 ARCVM_E_INVALID);
	assert_false(q.ready);
	assert_int_equal(virtq_enable(&q, &f->mem, 12, 16, DESC_GPA, AVAIL_GPA, USED_GPA, 0, &err),
			 ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "power of two"));
	assert_int_equal(virtq_enable(&q, &f->mem, 32, 16, DESC_GPA, AVAIL_GPA, USED_GPA, 0, &err),
			 ARCVM_E_INVALID);
	assert_int_equal(virtq_enable(&q, &f->mem, 8, 16, DESC_GPA + 8, AVAIL_GPA, USED_GPA, 0,
				      &err), ARCVM_E_INVALID);
	assert_int_equal(virtq_enable(&q, &f->mem, 8, 16, DESC_GPA, AVAIL_GPA + 1, USED_GPA, 0,
				      &err), ARCVM_E_INVALID);
	assert_int_equal(virtq_enable(&q, &f->mem, 8, 16, DESC_GPA, AVAIL_GPA, USED_GPA + 2, 0,
				      &err), ARCVM_E_INVALID);
	/* The used ring would run off the end of memory. */
	assert_int_equal(virtq_enable(&q, &f->mem, 8, 16, DESC_GPA, AVAIL_GPA,
				      MEM_GPA + MEM_SIZE - 16, 0, &err), ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "used ring"));
	assert_int_equal(virtq_enable(&q, &f->mem, 8, 16, 0, AVAIL_GPA, USED_GPA, 0, &err),
			 ARCVM_E_INVALID);
	assert_int_equal(virtq_enable(&q, &f->mem, 8, 2048, DESC_GPA, AVAIL_GPA, USED_GPA, 0,
				      &err), ARCVM_E_INVALID);
	assert_false(q.ready);
	assert_int_equal(virtq_enable(&q, &f->mem, 16, 16, DESC_GPA, AVAIL_GPA, USED_GPA, 0, &err),
			 0);
	assert_true(q.ready);
}

static void test_no_interrupt_flag(void **state)
{
	struct fx *f = *state;
	set_desc(f, 0, BUF_GPA, 4, 0, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	virtq_push(&f->q, 0, 0);
	assert_true(virtq_needs_interrupt(&f->q));
	avail(f)[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	virtq_push(&f->q, 0, 0);
	assert_false(virtq_needs_interrupt(&f->q));
}

static void test_event_idx(void **state)
{
	struct fx *f = *state;
	enable(f, 1ull << VIRTQ_F_EVENT_IDX);
	uint16_t *used_event = &avail(f)[2 + QSIZE];
	uint16_t *avail_event = (uint16_t *)((uint8_t *)host(f, USED_GPA) + 4 + 8 * QSIZE);
	set_desc(f, 0, BUF_GPA, 4, 0, 0);

	/* The device tells the driver where to kick next. */
	offer(f, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(*avail_event, 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
	assert_int_equal(*avail_event, 2);

	/* The driver wants an interrupt once entry 1 is used. */
	*used_event = 1;
	virtq_push(&f->q, 0, 0);           /* used idx 1: entry 0 */
	assert_true(virtq_needs_interrupt(&f->q));   /* first decision always signals */
	virtq_push(&f->q, 0, 0);           /* used idx 2: entry 1 */
	assert_true(virtq_needs_interrupt(&f->q));
	*used_event = 5;
	virtq_push(&f->q, 0, 0);           /* entry 2: not yet */
	assert_false(virtq_needs_interrupt(&f->q));
}

static void test_chain_copy_helpers(void **state)
{
	struct fx *f = *state;
	memcpy(host(f, BUF_GPA), "abc", 3);
	memcpy(host(f, BUF_GPA + 0x100), "defgh", 5);
	set_desc(f, 0, BUF_GPA, 3, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, BUF_GPA + 0x100, 5, VIRTQ_DESC_F_NEXT, 2);
	set_desc(f, 2, BUF_GPA + 0x200, 2, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	set_desc(f, 3, BUF_GPA + 0x300, 2, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);

	char got[8] = { 0 };
	assert_int_equal(virtq_chain_read(&f->c, 1, got, 5), 0);
	assert_memory_equal(got, "bcdef", 5);
	assert_int_equal(virtq_chain_read(&f->c, 4, got, 5), -1);
	assert_int_equal(virtq_chain_write(&f->c, 1, "XYZ", 3), 0);
	assert_memory_equal(host(f, BUF_GPA + 0x201), "X", 1);
	assert_memory_equal(host(f, BUF_GPA + 0x300), "YZ", 2);
	assert_int_equal(virtq_chain_write(&f->c, 2, "XYZ", 3), -1);

	struct iovec iov[2];
	assert_int_equal(virtq_chain_slice(&f->c, false, 2, 4, iov, 2), 2);
	assert_int_equal(iov[0].iov_len, 1);
	assert_int_equal(iov[1].iov_len, 3);
	assert_int_equal(virtq_chain_slice(&f->c, false, 0, 8, iov, 1), -1);
}

static void test_reset_clears_broken(void **state)
{
	struct fx *f = *state;
	offer(f, QSIZE + 3);
	assert_int_equal(virtq_pop(&f->q, &f->c), ARCVM_E_INVALID);
	virtq_reset(&f->q);
	assert_false(f->q.broken);
	assert_false(f->q.ready);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
}

/* Random rings and descriptors, biased towards the edges of guest memory:
 * whatever virtq_pop accepts must lie wholly inside guest memory. */
static void randomize(struct fx *f, unsigned *seed)
{
	for (unsigned i = 0; i < QSIZE + 64; i++) {
		/* The queue's table, then an area used as an indirect table. */
		struct virtq_desc *d = i < QSIZE ? desc(f, i) :
			(struct virtq_desc *)host(f, TABLE_GPA) + (i - QSIZE);
		unsigned r = (unsigned)rand_r(seed);
		d->addr = MEM_GPA + (uint64_t)(rand_r(seed) % (MEM_SIZE + 0x200)) - 0x100;
		if (r % 17 == 0)
			d->addr = TABLE_GPA;
		d->len = r % 13 == 0 ? (uint32_t)rand_r(seed) * 2u : (uint32_t)(rand_r(seed) % 0x1100);
		d->flags = (uint16_t)(rand_r(seed) & 7);
		d->next = (uint16_t)(rand_r(seed) % (r % 5 == 0 ? 0x10000 : QSIZE + 1));
	}
	for (unsigned i = 0; i < QSIZE; i++)
		avail(f)[2 + i] = (uint16_t)(rand_r(seed) % (QSIZE + 1));
	avail(f)[1] = (uint16_t)(rand_r(seed) % (QSIZE + 3));
}

static void test_random_chains_stay_in_bounds(void **state)
{
	struct fx *f = *state;
	unsigned seed = 12345, accepted = 0, refused = 0;
	for (int iter = 0; iter < 20000; iter++) {
		enable(f, (iter & 1) ? 1ull << VIRTQ_F_INDIRECT_DESC : 0);
		randomize(f, &seed);
		for (int k = 0; k < QSIZE + 3; k++) {
			int r = virtq_pop(&f->q, &f->c);
			if (r <= 0) {
				refused += r < 0;
				break;
			}
			accepted++;
			assert_true(f->c.nread + f->c.nwrite <= VIRTQ_CHAIN_MAX);
			for (unsigned j = 0; j < f->c.nread + f->c.nwrite; j++) {
				uint8_t *p = f->c.iov[j].iov_base;
				assert_true(p >= f->ram && p + f->c.iov[j].iov_len <= f->ram + MEM_SIZE);
			}
			virtq_push(&f->q, f->c.head, 0);
		}
	}
	/* Both outcomes were exercised. */
	assert_true(accepted > 100);
	assert_true(refused > 100);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_empty_queue),
		T(test_good_chain_and_push),
		T(test_ring_wraps),
		T(test_loop_is_refused),
		T(test_self_loop_is_refused),
		T(test_head_out_of_range),
		T(test_next_out_of_range),
		T(test_buffer_outside_memory),
		T(test_huge_length),
		T(test_wrapping_address),
		T(test_zero_length_is_skipped),
		T(test_readable_after_writable),
		T(test_avail_index_runaway),
		T(test_avail_index_full_ring_is_fine),
		T(test_indirect_good),
		T(test_indirect_not_negotiated),
		T(test_indirect_bad_length),
		T(test_indirect_zero_length),
		T(test_indirect_too_large),
		T(test_indirect_nested),
		T(test_indirect_with_next),
		T(test_indirect_table_outside_memory),
		T(test_indirect_loop),
		T(test_indirect_next_out_of_table),
		T(test_enable_validation),
		T(test_no_interrupt_flag),
		T(test_event_idx),
		T(test_chain_copy_helpers),
		T(test_reset_clears_broken),
		T(test_random_chains_stay_in_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
