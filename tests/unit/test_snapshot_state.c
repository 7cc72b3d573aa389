/*
 * test_snapshot_state.c - the snapshot state container (util/snapbuf.c) and
 * the virtio-mmio transport's save/load: fields round-trip, a reader never
 * runs past its section, and restored queue state is validated like a
 * driver's (a queue outside guest RAM is refused with ARCVM_E_FORMAT).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/uart.h"
#include "util/snapbuf.h"
#include "virtio/console.h"
#include "virtio/rng.h"
#include "virtio_fake_driver.h"

#define TAG_TEST SNAP_TAG('T', 'E', 'S', 'T')
#define TAG_VMIO SNAP_TAG('V', 'M', 'I', 'O')
#define TAG_UART SNAP_TAG('U', 'A', 'R', 'T')

/* A reader over what w holds, as snap_open would give it. */
static struct snap_reader reader_of(const struct snap_writer *w)
{
	return (struct snap_reader){ .p = w->buf + SNAP_HEADER_LEN, .len = w->len - SNAP_HEADER_LEN };
}

static void test_fields_round_trip_through_a_file(void **state)
{
	struct snap_writer w;
	snap_writer_init(&w);
	snap_begin(&w, TAG_TEST);
	snap_put_u8(&w, 0xab);
	snap_put_u16(&w, 0xbeef);
	snap_put_u32(&w, 0xdeadbeef);
	snap_put_u64(&w, 0x0123456789abcdefull);
	snap_put_str(&w, "share/file");
	snap_put_str(&w, NULL);
	snap_put_blob(&w, "xyz", 3);
	snap_end_section(&w);
	char path[] = "/tmp/arcvm-snapbuf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(snap_write_file(&w, path, NULL), 0);
	snap_writer_free(&w);

	uint8_t *buf;
	size_t len;
	assert_int_equal(snap_read_file(path, &buf, &len, NULL), 0);
	unlink(path);
	struct snap_reader r, s;
	assert_int_equal(snap_open(buf, len, &r, NULL), 0);
	assert_int_equal(snap_section(&r, TAG_TEST, "test", &s, NULL), 0);
	assert_int_equal(snap_get_u8(&s), 0xab);
	assert_int_equal(snap_get_u16(&s), 0xbeef);
	assert_int_equal(snap_get_u32(&s), 0xdeadbeef);
	assert_true(snap_get_u64(&s) == 0x0123456789abcdefull);
	char str[SNAP_STR_MAX];
	assert_string_equal(snap_get_str(&s, str), "share/file");
	assert_null(snap_get_str(&s, str));
	char blob[3];
	snap_get_blob(&s, blob, 3);
	assert_memory_equal(blob, "xyz", 3);
	assert_int_equal(snap_done(&s, "test", NULL), 0);
	assert_int_equal(r.off, r.len);
	free(buf);
}

static void test_reader_stays_inside_its_section(void **state)
{
	struct snap_writer w;
	snap_writer_init(&w);
	snap_begin(&w, TAG_TEST);
	snap_put_u32(&w, 7);
	snap_end_section(&w);
	snap_begin(&w, TAG_UART);
	snap_put_u64(&w, 99);
	snap_end_section(&w);
	struct snap_reader r = reader_of(&w), s;
	struct arcvm_error err;
	assert_int_equal(snap_section(&r, TAG_TEST, "test", &s, NULL), 0);
	assert_int_equal(snap_get_u32(&s), 7);
	/* The next section's bytes are not this one's. */
	assert_int_equal(snap_get_u64(&s), 0);
	assert_true(s.bad);
	assert_int_equal(snap_done(&s, "test", &err), ARCVM_E_FORMAT);
	/* A section in the wrong place is named. */
	assert_int_equal(snap_section(&r, TAG_TEST, "test", &s, &err), ARCVM_E_FORMAT);
	assert_non_null(strstr(err.msg, "UART"));
	snap_writer_free(&w);
}

static void test_blob_and_string_lengths_are_checked(void **state)
{
	struct snap_writer w;
	snap_writer_init(&w);
	snap_begin(&w, TAG_TEST);
	snap_put_blob(&w, "abcd", 4);
	snap_put_u32(&w, 0x7fffffff);   /* a string "longer" than the section */
	snap_end_section(&w);
	struct snap_reader r = reader_of(&w), s;
	assert_int_equal(snap_section(&r, TAG_TEST, "test", &s, NULL), 0);
	char small[3];
	snap_get_blob(&s, small, 3);   /* 4 bytes saved, 3 wanted */
	assert_true(s.bad);
	snap_writer_free(&w);

	snap_writer_init(&w);
	snap_begin(&w, TAG_TEST);
	snap_put_u32(&w, 0x7fffffff);
	snap_end_section(&w);
	r = reader_of(&w);
	assert_int_equal(snap_section(&r, TAG_TEST, "test", &s, NULL), 0);
	char str[SNAP_STR_MAX];
	snap_get_str(&s, str);
	assert_true(s.bad);
	snap_writer_free(&w);
}

static void test_header_faults_are_named(void **state)
{
	struct snap_writer w;
	snap_writer_init(&w);
	snap_begin(&w, TAG_TEST);
	snap_put_u32(&w, 1);
	snap_end_section(&w);
	char path[] = "/tmp/arcvm-snapbuf-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	assert_int_equal(snap_write_file(&w, path, NULL), 0);
	snap_writer_free(&w);
	uint8_t *buf;
	size_t len;
	assert_int_equal(snap_read_file(path, &buf, &len, NULL), 0);
	unlink(path);
	struct snap_reader r;
	struct arcvm_error err;
	assert_int_equal(snap_open(buf, 0, &r, &err), ARCVM_E_FORMAT);
	assert_non_null(strstr(err.msg, "empty"));
	assert_int_equal(snap_open(buf, len - 1, &r, &err), ARCVM_E_FORMAT);
	assert_non_null(strstr(err.msg, "truncated"));
	buf[len - 1] ^= 1;
	assert_int_equal(snap_open(buf, len, &r, &err), ARCVM_E_FORMAT);
	assert_non_null(strstr(err.msg, "checksum"));
	free(buf);
}

/* A virtio-rng brought up by the fake driver, with two requests served. */
static void rng_up(struct fd_driver *f)
{
	struct virtio_dev *dev;
	assert_int_equal(vrng_create(&dev, NULL), 0);
	assert_int_equal(fd_attach(f, dev, NULL, NULL), 0);
	assert_true(fd_bring_up(f, 1ull << VIRTIO_F_VERSION_1, 1) & VIRTIO_CONFIG_S_DRIVER_OK);
	for (int i = 0; i < 2; i++) {
		struct fd_seg s = { .gpa = fd_alloc(f, 16), .len = 16, .write = true };
		fd_post(f, 0, &s, 1);
		fd_kick(f, 0);
		uint32_t id, len;
		assert_true(fd_used(f, 0, &id, &len));
	}
}

static void test_transport_round_trip_keeps_queue_positions(void **state)
{
	struct fd_driver *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	rng_up(a);
	struct snap_writer w;
	snap_writer_init(&w);
	virtio_mmio_save(a->t, &w);

	/* The restored device sees the same guest memory (the fake RAM is
	 * copied) and the driver carries on with its own ring state. */
	struct virtio_dev *dev;
	assert_int_equal(vrng_create(&dev, NULL), 0);
	assert_int_equal(fd_attach(b, dev, NULL, NULL), 0);
	memcpy(b->ram, a->ram, FD_RAM_SIZE);
	b->q[0] = a->q[0];
	b->heap = a->heap;
	struct snap_reader r = reader_of(&w);
	struct arcvm_error err;
	if (virtio_mmio_load(b->t, &r, &err))
		fail_msg("virtio_mmio_load: %s", err.msg);
	assert_int_equal(r.off, r.len);
	assert_int_equal(virtio_mmio_status(b->t), virtio_mmio_status(a->t));
	fd_wr(b, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(fd_rd(b, VIRTIO_MMIO_QUEUE_READY), 1);
	assert_int_equal(fd_rd(b, VIRTIO_MMIO_QUEUE_DESC_LOW), (uint32_t)a->q[0].desc);
	/* The third request is served in ring slot 2, not slot 0 again. */
	struct fd_seg s = { .gpa = fd_alloc(b, 16), .len = 16, .write = true };
	uint16_t head = fd_post(b, 0, &s, 1);
	fd_kick(b, 0);
	uint32_t id, len;
	assert_true(fd_used(b, 0, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 16);
	snap_writer_free(&w);
	fd_detach(a);
	fd_detach(b);
	free(a);
	free(b);
}

/* A hand-made transport section for a one-queue device at DRIVER_OK. */
static void put_vmio(struct snap_writer *w, uint32_t device_id, uint64_t desc, uint32_t num)
{
	uint64_t f = 1ull << VIRTIO_F_VERSION_1;
	snap_begin(w, TAG_VMIO);
	snap_put_u32(w, device_id);
	snap_put_u32(w, 1);
	snap_put_u32(w, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			     VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	snap_put_u32(w, 0);
	snap_put_u32(w, 0);
	snap_put_u32(w, 0);
	snap_put_u64(w, f);
	snap_put_u64(w, f);
	snap_put_u8(w, 1);
	snap_put_u32(w, 0);
	snap_put_u32(w, num);
	snap_put_u64(w, desc);
	snap_put_u64(w, 0x2000);
	snap_put_u64(w, 0x3000);
	snap_put_u8(w, 1);
	snap_put_u8(w, 0);
	snap_put_u16(w, 0);
	snap_put_u16(w, 0);
	snap_put_u16(w, 0);
	snap_put_u8(w, 0);
	snap_end_section(w);
}

static int load_vmio(uint32_t device_id, uint64_t desc, uint32_t num, struct arcvm_error *err)
{
	struct fd_driver *f = calloc(1, sizeof(*f));
	struct virtio_dev *dev;
	assert_int_equal(vrng_create(&dev, NULL), 0);
	assert_int_equal(fd_attach(f, dev, NULL, NULL), 0);
	struct snap_writer w;
	snap_writer_init(&w);
	put_vmio(&w, device_id, desc, num);
	struct snap_reader r = reader_of(&w);
	int rc = virtio_mmio_load(f->t, &r, err);
	snap_writer_free(&w);
	fd_detach(f);
	free(f);
	return rc;
}

static void test_queue_outside_ram_is_refused(void **state)
{
	struct arcvm_error err;
	assert_int_equal(load_vmio(VIRTIO_ID_RNG, 0x1000, 16, &err), 0);
	/* Past the end of the 4 MiB fake RAM, and wrapping around. */
	assert_int_equal(load_vmio(VIRTIO_ID_RNG, FD_RAM_SIZE - 64, 16, &err), ARCVM_E_FORMAT);
	assert_non_null(strstr(err.msg, "queue 0"));
	assert_int_equal(load_vmio(VIRTIO_ID_RNG, UINT64_MAX - 15, 16, &err), ARCVM_E_FORMAT);
	/* A size the device never offered. */
	assert_int_equal(load_vmio(VIRTIO_ID_RNG, 0x1000, 4096, &err), ARCVM_E_FORMAT);
	/* Another device's state. */
	assert_int_equal(load_vmio(VIRTIO_ID_BLK, 0x1000, 16, &err), ARCVM_E_FORMAT);
	assert_non_null(strstr(err.msg, "virtio device 2"));
}

static void test_uart_fifo_bound_is_checked(void **state)
{
	struct uart_config cfg = { .in_fd = -1, .out_fd = -1 };
	struct uart *u;
	assert_int_equal(uart_create(&cfg, &u, NULL), 0);
	struct snap_writer w;
	snap_writer_init(&w);
	snap_begin(&w, TAG_UART);
	for (int i = 0; i < 9; i++)
		snap_put_u8(&w, 0);
	snap_put_u32(&w, 100000);   /* more than the FIFO holds */
	snap_end_section(&w);
	struct snap_reader r = reader_of(&w);
	struct arcvm_error err;
	assert_int_equal(uart_load(u, &r, &err), ARCVM_E_FORMAT);
	snap_writer_free(&w);

	/* A saved FIFO comes back byte for byte. */
	snap_writer_init(&w);
	uart_save(u, &w);
	r = reader_of(&w);
	assert_int_equal(uart_load(u, &r, &err), 0);
	snap_writer_free(&w);
	uart_destroy(u);
}

/* With dirty tracking, what a device may write (a chain's writable buffers,
 * the used ring) is marked for diff snapshots; readable buffers are not. */
static void test_device_writes_are_marked_dirty(void **state)
{
	struct fd_driver *f = calloc(1, sizeof(*f));
	struct virtio_dev *dev;
	assert_int_equal(vrng_create(&dev, NULL), 0);
	assert_int_equal(fd_attach(f, dev, NULL, NULL), 0);
	uint64_t words = (FD_RAM_SIZE / 4096 + 63) / 64;
	f->mem.dirty = calloc(words, 8);
	assert_true(fd_bring_up(f, 1ull << VIRTIO_F_VERSION_1, 1) & VIRTIO_CONFIG_S_DRIVER_OK);
	memset(f->mem.dirty, 0, words * 8);
	uint64_t buf = 0x200000;
	struct fd_seg s = { .gpa = buf, .len = 16, .write = true };
	fd_post(f, 0, &s, 1);
	fd_kick(f, 0);
	uint32_t id, len;
	assert_true(fd_used(f, 0, &id, &len));
	uint64_t page = buf / 4096, used = f->q[0].used / 4096;
	assert_true(f->mem.dirty[page / 64] & (1ull << (page % 64)));
	assert_true(f->mem.dirty[used / 64] & (1ull << (used % 64)));
	uint64_t set = 0;
	for (uint64_t i = 0; i < words; i++)
		set += (uint64_t)__builtin_popcountll(f->mem.dirty[i]);
	assert_int_equal(set, page == used ? 1 : 2);
	free(f->mem.dirty);
	f->mem.dirty = NULL;
	fd_detach(f);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_round_trip_through_a_file),
		cmocka_unit_test(test_reader_stays_inside_its_section),
		cmocka_unit_test(test_blob_and_string_lengths_are_checked),
		cmocka_unit_test(test_header_faults_are_named),
		cmocka_unit_test(test_transport_round_trip_keeps_queue_positions),
		cmocka_unit_test(test_queue_outside_ram_is_refused),
		cmocka_unit_test(test_uart_fifo_bound_is_checked),
		cmocka_unit_test(test_device_writes_are_marked_dirty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
