/* test_virtio_mmio.c - the virtio-mmio register protocol, driven through the
 * bus with a virtio-rng device behind it, without KVM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "io/loop.h"
#include "virtio/rng.h"
#include "virtio_fake_driver.h"

#define V1 (1ull << VIRTIO_F_VERSION_1)
#define ST_FEAT (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK)

static int setup(void **state)
{
	struct fd_driver *f = calloc(1, sizeof(*f));
	struct virtio_dev *dev;
	assert_int_equal(vrng_create(&dev, NULL), 0);
	assert_int_equal(fd_attach(f, dev, NULL, NULL), 0);
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

static void test_identity_registers(void **state)
{
	struct fd_driver *f = *state;
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_STATUS), 0);
	/* VERSION_1 is always offered. */
	assert_true(fd_device_features(f) & V1);
	/* Feature words past the second read as zero. */
	fd_wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_DEVICE_FEATURES), 0);
}

static void test_narrow_register_access_ignored(void **state)
{
	struct fd_driver *f = *state;
	uint16_t v = 0xffff;
	bus_dispatch(&f->bus, FD_BASE + VIRTIO_MMIO_MAGIC_VALUE, false, &v, 2);
	assert_int_equal(v, 0);
	uint8_t b = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	bus_dispatch(&f->bus, FD_BASE + VIRTIO_MMIO_STATUS, true, &b, 1);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_STATUS), 0);
}

static void test_features_ok_needs_version_1(void **state)
{
	struct fd_driver *f = *state;
	assert_int_equal(fd_negotiate(f, 0) & VIRTIO_CONFIG_S_FEATURES_OK, 0);
	assert_int_equal(fd_negotiate(f, V1) & VIRTIO_CONFIG_S_FEATURES_OK,
			 VIRTIO_CONFIG_S_FEATURES_OK);
}

static void test_features_ok_refuses_unoffered_bits(void **state)
{
	struct fd_driver *f = *state;
	uint64_t unoffered = 1ull << 40;
	assert_false(fd_device_features(f) & unoffered);
	assert_int_equal(fd_negotiate(f, V1 | unoffered) & VIRTIO_CONFIG_S_FEATURES_OK, 0);
}

static void test_features_frozen_after_features_ok(void **state)
{
	struct fd_driver *f = *state;
	assert_true(fd_negotiate(f, V1) & VIRTIO_CONFIG_S_FEATURES_OK);
	/* A late write cannot smuggle in EVENT_IDX. */
	fd_wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	fd_wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTQ_F_EVENT_IDX);
	assert_int_equal(fd_setup_queue(f, 0, 8), 1);
	fd_wr(f, VIRTIO_MMIO_STATUS, ST_FEAT | VIRTIO_CONFIG_S_DRIVER_OK);
	/* With EVENT_IDX the device would write avail_event after a pop. */
	uint64_t buf = fd_alloc(f, 8);
	struct fd_seg s = { buf, 8, true };
	fd_post(f, 0, &s, 1);
	fd_kick(f, 0);
	uint16_t *avail_event = (uint16_t *)((uint8_t *)fd_host(f, f->q[0].used) + 4 + 8 * 8);
	assert_int_equal(*avail_event, 0);
}

static void test_driver_ok_needs_features_ok(void **state)
{
	struct fd_driver *f = *state;
	fd_wr(f, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	fd_wr(f, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
					     VIRTIO_CONFIG_S_DRIVER_OK);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK, 0);
}

static void test_status_bits_cannot_be_cleared(void **state)
{
	struct fd_driver *f = *state;
	fd_negotiate(f, V1);
	fd_wr(f, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_STATUS), ST_FEAT);
}

static void test_queue_registers(void **state)
{
	struct fd_driver *f = *state;
	fd_wr(f, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_QUEUE_NUM_MAX), VRNG_QUEUE_SIZE);
	fd_wr(f, VIRTIO_MMIO_QUEUE_SEL, 1);   /* rng has one queue */
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	fd_wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	fd_wr(f, VIRTIO_MMIO_QUEUE_SEL, 0xffffffff);
	fd_wr(f, VIRTIO_MMIO_QUEUE_NUM, 8);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
}

static void test_queue_ready_before_features_ok_refused(void **state)
{
	struct fd_driver *f = *state;
	fd_wr(f, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	assert_int_equal(fd_setup_queue(f, 0, 8), 0);
}

static void test_queue_bad_size_refused(void **state)
{
	struct fd_driver *f = *state;
	fd_negotiate(f, V1);
	assert_int_equal(fd_setup_queue(f, 0, 12), 0);
	assert_int_equal(fd_setup_queue(f, 0, VRNG_QUEUE_SIZE * 2), 0);
	assert_int_equal(fd_setup_queue(f, 0, 0), 0);
	assert_int_equal(fd_setup_queue(f, 0, VRNG_QUEUE_SIZE), 1);
}

static void test_queue_outside_memory_refused(void **state)
{
	struct fd_driver *f = *state;
	fd_negotiate(f, V1);
	fd_wr(f, VIRTIO_MMIO_QUEUE_SEL, 0);
	fd_wr(f, VIRTIO_MMIO_QUEUE_NUM, 8);
	fd_wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	fd_wr(f, VIRTIO_MMIO_QUEUE_AVAIL_LOW, 0x2000);
	fd_wr(f, VIRTIO_MMIO_QUEUE_USED_LOW, 0x3000);
	fd_wr(f, VIRTIO_MMIO_QUEUE_USED_HIGH, 0x1);   /* 4 GiB + 0x3000: no RAM there */
	fd_wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	fd_wr(f, VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	fd_wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_QUEUE_READY), 1);
}

static void test_ready_queue_is_frozen(void **state)
{
	struct fd_driver *f = *state;
	fd_negotiate(f, V1);
	assert_int_equal(fd_setup_queue(f, 0, 8), 1);
	fd_wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x40);
	fd_wr(f, VIRTIO_MMIO_QUEUE_NUM, 4);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_QUEUE_DESC_LOW), (uint32_t)f->q[0].desc);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_QUEUE_NUM), 8);
	/* Disabling it makes it writable again. */
	fd_wr(f, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	fd_wr(f, VIRTIO_MMIO_QUEUE_NUM, 4);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_QUEUE_NUM), 4);
}

static void test_notify_uses_buffer_and_interrupts(void **state)
{
	struct fd_driver *f = *state;
	assert_true(fd_bring_up(f, V1, 1) & VIRTIO_CONFIG_S_DRIVER_OK);
	uint64_t buf = fd_alloc(f, 64);
	struct fd_seg s = { buf, 64, true };
	uint16_t head = fd_post(f, 0, &s, 1);
	assert_int_equal(fd_irq_count(f), 0);

	fd_kick(f, 0);
	uint32_t id, len;
	assert_true(fd_used(f, 0, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 64);
	assert_true(fd_irq_count(f) > 0);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	fd_wr(f, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_false(fd_used(f, 0, &id, &len));
}

static void test_no_processing_before_driver_ok(void **state)
{
	struct fd_driver *f = *state;
	fd_negotiate(f, V1);
	assert_int_equal(fd_setup_queue(f, 0, 8), 1);
	uint64_t buf = fd_alloc(f, 16);
	struct fd_seg s = { buf, 16, true };
	fd_post(f, 0, &s, 1);
	fd_kick(f, 0);
	uint32_t id, len;
	assert_false(fd_used(f, 0, &id, &len));
	/* DRIVER_OK looks at queues that were kicked too early. */
	fd_wr(f, VIRTIO_MMIO_STATUS, ST_FEAT | VIRTIO_CONFIG_S_DRIVER_OK);
	virtio_mmio_poll(f->t);
	assert_true(fd_used(f, 0, &id, &len));
}

static void test_bad_notify_index_ignored(void **state)
{
	struct fd_driver *f = *state;
	fd_bring_up(f, V1, 1);
	virtio_mmio_poll(f->t);   /* the look DRIVER_OK asked for */
	fd_wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 7);
	fd_wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
	assert_int_equal(virtio_mmio_poll(f->t), 0);
}

static void test_reset(void **state)
{
	struct fd_driver *f = *state;
	fd_bring_up(f, V1, 1);
	uint64_t buf = fd_alloc(f, 16);
	struct fd_seg s = { buf, 16, true };
	fd_post(f, 0, &s, 1);
	fd_kick(f, 0);
	assert_int_not_equal(fd_rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);

	fd_wr(f, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	fd_wr(f, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(fd_rd(f, VIRTIO_MMIO_QUEUE_NUM), 0);
	/* A kick after reset does nothing. */
	fd_post(f, 0, &s, 1);
	fd_kick(f, 0);
	uint32_t id, len;
	assert_true(fd_used(f, 0, &id, &len));    /* the one before the reset */
	assert_false(fd_used(f, 0, &id, &len));
	/* And the device comes back up. */
	assert_true(fd_bring_up(f, V1, 1) & VIRTIO_CONFIG_S_DRIVER_OK);
	fd_post(f, 0, &s, 1);
	fd_kick(f, 0);
	assert_true(fd_used(f, 0, &id, &len));
}

static void test_broken_queue_sets_needs_reset(void **state)
{
	struct fd_driver *f = *state;
	fd_bring_up(f, V1, 1);
	uint16_t *avail = fd_host(f, f->q[0].avail);
	avail[1] = 200;   /* runs away from 0 by more than the queue size */
	fd_kick(f, 0);
	assert_true(fd_rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_true(fd_rd(f, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	assert_true(fd_irq_count(f) > 0);
	/* The driver may still write status with NEEDS_RESET absent. */
	fd_wr(f, VIRTIO_MMIO_STATUS, ST_FEAT | VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FAILED);
	assert_true(fd_rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FAILED);
}

static void test_cmdline(void **state)
{
	struct fd_driver *f = *state;
	char buf[64];
	assert_int_equal(virtio_mmio_cmdline(f->t, buf, sizeof(buf)),
			 (int)strlen(" virtio_mmio.device=4K@0xd0000000:5"));
	assert_string_equal(buf, " virtio_mmio.device=4K@0xd0000000:5");
	assert_int_equal(virtio_mmio_cmdline(f->t, buf, 10), ARCVM_E_INVALID);
}

static void test_attach_refuses_overlap(void **state)
{
	struct fd_driver *f = *state;
	struct virtio_dev *dev;
	struct arcvm_error err;
	struct virtio_mmio *t2;
	assert_int_equal(vrng_create(&dev, NULL), 0);
	struct virtio_mmio_env env = { .mem = &f->mem, .mmio_bus = &f->bus };
	assert_int_equal(virtio_mmio_attach(&env, dev, FD_BASE, 6, &t2, &err), ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "overlaps"));
	/* On failure the caller still owns the device. */
	dev->ops->destroy(dev);
}

/* The same round trip with the real I/O thread doing the work. */
static void test_with_io_thread(void **state)
{
	struct fd_driver *f = *state;
	fd_detach(f);
	struct io_loop *io;
	struct virtio_dev *dev;
	assert_int_equal(io_loop_create(&io, NULL), 0);
	assert_int_equal(vrng_create(&dev, NULL), 0);
	assert_int_equal(fd_attach(f, dev, io, NULL), 0);
	assert_int_equal(io_loop_start(io, NULL), 0);

	fd_bring_up(f, V1 | (1ull << VIRTQ_F_EVENT_IDX), 1);
	uint64_t buf = fd_alloc(f, 32);
	struct fd_seg s = { buf, 32, true };
	uint16_t head = fd_post(f, 0, &s, 1);
	fd_wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_true(fd_wait_irq(f));
	uint32_t id, len;
	assert_true(fd_used(f, 0, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 32);

	io_loop_stop(io);
	fd_detach(f);
	io_loop_destroy(io);
	/* teardown detaches again: give it a fresh transport. */
	assert_int_equal(vrng_create(&dev, NULL), 0);
	assert_int_equal(fd_attach(f, dev, NULL, NULL), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_identity_registers),
		T(test_narrow_register_access_ignored),
		T(test_features_ok_needs_version_1),
		T(test_features_ok_refuses_unoffered_bits),
		T(test_features_frozen_after_features_ok),
		T(test_driver_ok_needs_features_ok),
		T(test_status_bits_cannot_be_cleared),
		T(test_queue_registers),
		T(test_queue_ready_before_features_ok_refused),
		T(test_queue_bad_size_refused),
		T(test_queue_outside_memory_refused),
		T(test_ready_queue_is_frozen),
		T(test_notify_uses_buffer_and_interrupts),
		T(test_no_processing_before_driver_ok),
		T(test_bad_notify_index_ignored),
		T(test_reset),
		T(test_broken_queue_sets_needs_reset),
		T(test_cmdline),
		T(test_attach_refuses_overlap),
		T(test_with_io_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
