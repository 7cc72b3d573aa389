/* test_virtio_console.c - virtio-console over pipes, with the real I/O thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <unistd.h>

#include "io/loop.h"
#include "virtio/console.h"
#include "virtio_fake_driver.h"

#define RXQ 0
#define TXQ 1

struct cfx {
	struct fd_driver f;
	struct io_loop *io;
	int in[2], out[2];
};

static int setup(void **state)
{
	struct cfx *c = calloc(1, sizeof(*c));
	assert_int_equal(pipe2(c->in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(c->out, O_CLOEXEC), 0);
	assert_int_equal(io_loop_create(&c->io, NULL), 0);
	struct virtio_dev *dev;
	assert_int_equal(vcon_create(c->in[0], c->out[1], &dev, NULL), 0);
	assert_int_equal(fd_attach(&c->f, dev, c->io, NULL), 0);
	/* No EVENT_IDX: the fake driver never moves used_event. */
	assert_true(fd_bring_up(&c->f, 1ull << VIRTIO_F_VERSION_1, 2) & VIRTIO_CONFIG_S_DRIVER_OK);
	assert_int_equal(io_loop_start(c->io, NULL), 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct cfx *c = *state;
	io_loop_stop(c->io);
	fd_detach(&c->f);
	io_loop_destroy(c->io);
	for (int i = 0; i < 2; i++) {
		close(c->in[i]);
		close(c->out[i]);
	}
	free(c);
	return 0;
}

static void test_guest_output_reaches_out_fd(void **state)
{
	struct cfx *c = *state;
	uint64_t g1 = fd_alloc(&c->f, 5), g2 = fd_alloc(&c->f, 7);
	memcpy(fd_host(&c->f, g1), "hello", 5);
	memcpy(fd_host(&c->f, g2), ", world", 7);
	struct fd_seg s[2] = { { g1, 5, false }, { g2, 7, false } };
	uint16_t head = fd_post(&c->f, TXQ, s, 2);
	fd_wr(&c->f, VIRTIO_MMIO_QUEUE_NOTIFY, TXQ);
	assert_true(fd_wait_irq(&c->f));
	uint32_t id, len;
	assert_true(fd_used(&c->f, TXQ, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 0);
	char got[12];
	assert_int_equal(read(c->out[0], got, sizeof(got)), 12);
	assert_memory_equal(got, "hello, world", 12);
}

/* The guest writes one byte on the port, as its driver does once the port is
 * set up (the device holds host input until then). */
static void guest_speaks(struct cfx *c)
{
	uint64_t g = fd_alloc(&c->f, 1);
	memcpy(fd_host(&c->f, g), "$", 1);
	struct fd_seg s = { g, 1, false };
	fd_post(&c->f, TXQ, &s, 1);
	fd_wr(&c->f, VIRTIO_MMIO_QUEUE_NOTIFY, TXQ);
	assert_true(fd_wait_irq(&c->f));
	uint32_t id, len;
	assert_true(fd_used(&c->f, TXQ, &id, &len));
	char b;
	assert_int_equal(read(c->out[0], &b, 1), 1);
}

static void test_host_input_reaches_guest(void **state)
{
	struct cfx *c = *state;
	guest_speaks(c);
	uint64_t g = fd_alloc(&c->f, 64);
	struct fd_seg s = { g, 64, true };
	uint16_t head = fd_post(&c->f, RXQ, &s, 1);
	fd_wr(&c->f, VIRTIO_MMIO_QUEUE_NOTIFY, RXQ);
	assert_int_equal(write(c->in[1], "abc", 3), 3);
	assert_true(fd_wait_irq(&c->f));
	uint32_t id, len;
	assert_true(fd_used(&c->f, RXQ, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 3);
	assert_memory_equal(fd_host(&c->f, g), "abc", 3);
}

/* More input than the device buffers, written before the guest posts any
 * receive buffer: nothing is lost and it arrives in order. */
static void test_input_waits_for_buffers(void **state)
{
	struct cfx *c = *state;
	enum { TOTAL = VCON_INPUT_BUF + 1904, BUF = 1024, NBUF = 8 };
	uint8_t *sent = malloc(TOTAL);
	for (int i = 0; i < TOTAL; i++)
		sent[i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(write(c->in[1], sent, TOTAL), TOTAL);

	uint64_t g[NBUF];
	for (int i = 0; i < NBUF; i++) {
		g[i] = fd_alloc(&c->f, BUF);
		struct fd_seg s = { g[i], BUF, true };
		fd_post(&c->f, RXQ, &s, 1);
	}
	fd_wr(&c->f, VIRTIO_MMIO_QUEUE_NOTIFY, RXQ);
	/* Buffers are posted, but the port is not set up until the guest speaks. */
	uint32_t id0, len0;
	assert_false(fd_used(&c->f, RXQ, &id0, &len0));
	guest_speaks(c);

	uint8_t *got = malloc(TOTAL);
	int have = 0;
	while (have < TOTAL) {
		/* One interrupt may cover several completions, the one
		 * guest_speaks waited for included: look before waiting. */
		uint32_t id, len;
		bool any = false;
		while (fd_used(&c->f, RXQ, &id, &len)) {
			assert_true(id < NBUF && have + (int)len <= TOTAL);
			memcpy(got + have, fd_host(&c->f, g[id]), len);
			have += (int)len;
			any = true;
		}
		if (!any)
			assert_true(fd_wait_irq(&c->f));
	}
	assert_memory_equal(got, sent, TOTAL);
	free(got);
	free(sent);
}

/* epoll cannot watch a regular file: attach says so instead of dropping input. */
static void test_regular_file_input_refused(void **state)
{
	struct io_loop *io;
	assert_int_equal(io_loop_create(&io, NULL), 0);
	char path[] = "/tmp/arcvm-vcon-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	struct virtio_dev *dev;
	assert_int_equal(vcon_create(fd, -1, &dev, NULL), 0);
	struct fd_driver f;
	struct arcvm_error err;
	assert_true(fd_attach(&f, dev, io, &err) < 0);
	assert_int_equal(f.bus.ndevices, 0);
	dev->ops->destroy(dev);
	free(f.ram);
	close(fd);
	io_loop_destroy(io);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_guest_output_reaches_out_fd),
		T(test_host_input_reaches_guest),
		T(test_input_waits_for_buffers),
		cmocka_unit_test(test_regular_file_input_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
