/* test_virtio_rng.c - virtio-rng fills guest buffers, bounded per request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "virtio/rng.h"
#include "virtio_fake_driver.h"

static int setup(void **state)
{
	struct fd_driver *f = calloc(1, sizeof(*f));
	struct virtio_dev *dev;
	assert_int_equal(vrng_create(&dev, NULL), 0);
	assert_int_equal(fd_attach(f, dev, NULL, NULL), 0);
	assert_true(fd_bring_up(f, 1ull << VIRTIO_F_VERSION_1, 1) & VIRTIO_CONFIG_S_DRIVER_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fd_driver *f = *state;
	fd_detach(f);
	free(f);
	return 0;
}

static uint32_t fill(struct fd_driver *f, const struct fd_seg *s, unsigned n)
{
	uint16_t head = fd_post(f, 0, s, n);
	fd_kick(f, 0);
	uint32_t id = 0, len = 0;
	assert_true(fd_used(f, 0, &id, &len));
	assert_int_equal(id, head);
	return len;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_fills_buffer(void **state)
{
	struct fd_driver *f = *state;
	struct fd_seg s = { fd_alloc(f, 100), 100, true };
	assert_int_equal(fill(f, &s, 1), 100);
	assert_false(all_zero(fd_host(f, s.gpa), 100));
}

static void test_fills_every_segment(void **state)
{
	struct fd_driver *f = *state;
	struct fd_seg s[2] = { { fd_alloc(f, 40), 40, true }, { fd_alloc(f, 40), 40, true } };
	assert_int_equal(fill(f, s, 2), 80);
	assert_false(all_zero(fd_host(f, s[0].gpa), 40));
	assert_false(all_zero(fd_host(f, s[1].gpa), 40));
}

static void test_bounded_per_request(void **state)
{
	struct fd_driver *f = *state;
	struct fd_seg s = { fd_alloc(f, 65536), 65536, true };
	assert_int_equal(fill(f, &s, 1), VRNG_MAX_REQUEST);
	assert_true(all_zero((uint8_t *)fd_host(f, s.gpa) + VRNG_MAX_REQUEST,
			     65536 - VRNG_MAX_REQUEST));
}

static void test_readable_buffer_gets_nothing(void **state)
{
	struct fd_driver *f = *state;
	struct fd_seg s = { fd_alloc(f, 32), 32, false };
	assert_int_equal(fill(f, &s, 1), 0);
	assert_true(all_zero(fd_host(f, s.gpa), 32));
}

/* A run takes at most VIRTIO_DEV_BUDGET chains, then queues itself again. */
static void test_budget_per_run(void **state)
{
	struct fd_driver *f = *state;
	fd_negotiate(f, 1ull << VIRTIO_F_VERSION_1);
	assert_int_equal(fd_setup_queue(f, 0, VRNG_QUEUE_SIZE), 1);
	fd_wr(f, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
					     VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	virtio_mmio_poll(f->t);
	assert_true(VRNG_QUEUE_SIZE >= VIRTIO_DEV_BUDGET);

	struct fd_seg s = { fd_alloc(f, 1), 1, true };
	for (int i = 0; i < VIRTIO_DEV_BUDGET; i++)
		fd_post(f, 0, &s, 1);
	fd_kick(f, 0);
	uint32_t id, len;
	int used = 0;
	while (fd_used(f, 0, &id, &len))
		used++;
	assert_int_equal(used, VIRTIO_DEV_BUDGET);
	assert_int_equal(virtio_mmio_poll(f->t), 1);   /* it asked to run again */
	assert_int_equal(virtio_mmio_poll(f->t), 0);   /* and found nothing left */

	for (int i = 0; i < VIRTIO_DEV_BUDGET - 1; i++)
		fd_post(f, 0, &s, 1);
	fd_kick(f, 0);
	assert_int_equal(virtio_mmio_poll(f->t), 0);   /* within budget: done */
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_fills_buffer),
		T(test_fills_every_segment),
		T(test_bounded_per_request),
		T(test_readable_buffer_gets_nothing),
		T(test_budget_per_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
