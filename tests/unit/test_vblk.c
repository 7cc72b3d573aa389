/* test_vblk.c - virtio-blk requests against a temporary raw image, through
 * the virtio-mmio transport with a fake driver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtio/blk.h"
#include "virtio_fake_driver.h"

#define IMG_SIZE (1u << 20)       /* 2048 sectors */
#define IMG_SECTORS (IMG_SIZE / 512)

struct bfx {
	struct fd_driver f;
	bool attached;
	char path[64];
	int fd;                   /* the test's own view of the image */
	uint64_t features;        /* offered by the device */
};

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + i / 512);
}

static void make_image(struct bfx *b, size_t size)
{
	strcpy(b->path, "/tmp/arcvm-vblk-XXXXXX");
	b->fd = mkstemp(b->path);
	assert_true(b->fd >= 0);
	uint8_t *buf = malloc(size);
	for (size_t i = 0; i < size; i++)
		buf[i] = pattern(i);
	assert_int_equal(pwrite(b->fd, buf, size, 0), (ssize_t)size);
	assert_int_equal(fsync(b->fd), 0);
	free(buf);
}

static int open_dev(struct bfx *b, bool ro, enum arcvm_cache cache, const char *id,
		    struct arcvm_error *err)
{
	struct arcvm_drive d = { .path = b->path, .id = id, .read_only = ro, .cache = cache };
	struct virtio_dev *dev;
	int rc = vblk_create(&d, &dev, err);
	if (rc < 0)
		return rc;
	assert_int_equal(fd_attach(&b->f, dev, NULL, NULL), 0);
	b->attached = true;
	b->features = fd_device_features(&b->f);
	assert_true(fd_bring_up(&b->f, b->features, 1) & VIRTIO_CONFIG_S_DRIVER_OK);
	return 0;
}

static int setup(void **state)
{
	struct bfx *b = calloc(1, sizeof(*b));
	make_image(b, IMG_SIZE);
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	struct bfx *b = *state;
	if (b->attached)
		fd_detach(&b->f);
	close(b->fd);
	unlink(b->path);
	free(b);
	return 0;
}

/* Sends header + data segments + a status byte; returns the status byte
 * (0xee if the device did not write it) and the used length. */
static uint8_t request(struct bfx *b, uint32_t type, uint64_t sector, const struct fd_seg *data,
		       unsigned ndata, uint32_t *used_len)
{
	struct fd_driver *f = &b->f;
	uint64_t hdr = fd_alloc(f, 16), st = fd_alloc(f, 1);
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };
	memcpy(fd_host(f, hdr), &h, sizeof(h));
	*(uint8_t *)fd_host(f, st) = 0xee;
	struct fd_seg segs[8] = { { hdr, 16, false } };
	for (unsigned i = 0; i < ndata; i++)
		segs[1 + i] = data[i];
	segs[1 + ndata] = (struct fd_seg){ st, 1, true };
	uint16_t head = fd_post(f, 0, segs, ndata + 2);
	fd_kick(f, 0);
	uint32_t id, len = 0;
	assert_true(fd_used(f, 0, &id, &len));
	assert_int_equal(id, head);
	if (used_len)
		*used_len = len;
	return *(uint8_t *)fd_host(f, st);
}

static uint8_t rw(struct bfx *b, bool write, uint64_t sector, uint32_t len, uint64_t *gpa)
{
	*gpa = fd_alloc(&b->f, len);
	struct fd_seg s = { *gpa, len, !write };
	return request(b, write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, sector, &s, 1, NULL);
}

static void test_read(void **state)
{
	struct bfx *b = *state;
	assert_int_equal(open_dev(b, false, ARCVM_CACHE_WRITEBACK, NULL, NULL), 0);
	uint64_t gpa = fd_alloc(&b->f, 1024);
	struct fd_seg s = { gpa, 1024, true };
	uint32_t used;
	assert_int_equal(request(b, VIRTIO_BLK_T_IN, 2, &s, 1, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1025);
	for (size_t i = 0; i < 1024; i++)
		assert_int_equal(((uint8_t *)fd_host(&b->f, gpa))[i], pattern(1024 + i));
}

static void test_write_scattered(void **state)
{
	struct bfx *b = *state;
	assert_int_equal(open_dev(b, false, ARCVM_CACHE_WRITEBACK, NULL, NULL), 0);
	uint64_t g1 = fd_alloc(&b->f, 512), g2 = fd_alloc(&b->f, 1024);
	memset(fd_host(&b->f, g1), 'A', 512);
	memset(fd_host(&b->f, g2), 'B', 1024);
	struct fd_seg s[2] = { { g1, 512, false }, { g2, 1024, false } };
	uint32_t used;
	assert_int_equal(request(b, VIRTIO_BLK_T_OUT, 5, s, 2, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	uint8_t got[1536];
	assert_int_equal(pread(b->fd, got, sizeof(got), 5 * 512), (ssize_t)sizeof(got));
	for (size_t i = 0; i < 512; i++)
		assert_int_equal(got[i], 'A');
	for (size_t i = 512; i < 1536; i++)
		assert_int_equal(got[i], 'B');
	/* Neighbours untouched. */
	uint8_t edge;
	assert_int_equal(pread(b->fd, &edge, 1, 8 * 512), 1);
	assert_int_equal(edge, pattern(8 * 512));
}

static void test_past_end_of_disk(void **state)
{
	struct bfx *b = *state;
	uint64_t gpa;
	assert_int_equal(open_dev(b, false, ARCVM_CACHE_WRITEBACK, NULL, NULL), 0);
	assert_int_equal(rw(b, false, IMG_SECTORS - 1, 512, &gpa), VIRTIO_BLK_S_OK);
	assert_int_equal(rw(b, false, IMG_SECTORS, 512, &gpa), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(b, false, IMG_SECTORS - 1, 1024, &gpa), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(b, true, IMG_SECTORS - 1, 1024, &gpa), VIRTIO_BLK_S_IOERR);
	/* sector * 512 would overflow 64 bits. */
	assert_int_equal(rw(b, false, UINT64_MAX, 512, &gpa), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(b, true, 1ull << 55, 512, &gpa), VIRTIO_BLK_S_IOERR);
}

static void test_partial_sector_refused(void **state)
{
	struct bfx *b = *state;
	uint64_t gpa;
	assert_int_equal(open_dev(b, false, ARCVM_CACHE_WRITEBACK, NULL, NULL), 0);
	assert_int_equal(rw(b, false, 0, 100, &gpa), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(b, true, 0, 513, &gpa), VIRTIO_BLK_S_IOERR);
}

static void test_read_only(void **state)
{
	struct bfx *b = *state;
	uint64_t gpa;
	assert_int_equal(open_dev(b, true, ARCVM_CACHE_WRITEBACK, NULL, NULL), 0);
	assert_true(b->features & (1ull << VIRTIO_BLK_F_RO));
	assert_false(b->features & (1ull << VIRTIO_BLK_F_DISCARD));
	assert_false(b->features & (1ull << VIRTIO_BLK_F_WRITE_ZEROES));
	assert_int_equal(rw(b, false, 0, 512, &gpa), VIRTIO_BLK_S_OK);
	memset(fd_host(&b->f, gpa), 'X', 512);
	struct fd_seg s = { gpa, 512, false };
	assert_int_equal(request(b, VIRTIO_BLK_T_OUT, 0, &s, 1, NULL), VIRTIO_BLK_S_IOERR);
	uint8_t first;
	assert_int_equal(pread(b->fd, &first, 1, 0), 1);
	assert_int_equal(first, pattern(0));
	/* Discard was not offered. */
	uint64_t r = fd_alloc(&b->f, 16);
	struct virtio_blk_discard_write_zeroes range = { .sector = 0, .num_sectors = 8 };
	memcpy(fd_host(&b->f, r), &range, 16);
	struct fd_seg rs = { r, 16, false };
	assert_int_equal(request(b, VIRTIO_BLK_T_DISCARD, 0, &rs, 1, NULL), VIRTIO_BLK_S_UNSUPP);
}

static void test_flush_after_writes_in_order(void **state)
{
	struct bfx *b = *state;
	assert_int_equal(open_dev(b, false, ARCVM_CACHE_WRITEBACK, NULL, NULL), 0);
	assert_true(b->features & (1ull << VIRTIO_BLK_F_FLUSH));
	struct fd_driver *f = &b->f;

	/* A write and a flush offered together: both answered, in order. */
	uint64_t hw = fd_alloc(f, 16), data = fd_alloc(f, 512), sw = fd_alloc(f, 1);
	uint64_t hf = fd_alloc(f, 16), sf = fd_alloc(f, 1);
	struct virtio_blk_outhdr wh = { .type = VIRTIO_BLK_T_OUT, .sector = 9 };
	struct virtio_blk_outhdr fh = { .type = VIRTIO_BLK_T_FLUSH };
	memcpy(fd_host(f, hw), &wh, 16);
	memcpy(fd_host(f, hf), &fh, 16);
	memset(fd_host(f, data), 'F', 512);
	*(uint8_t *)fd_host(f, sw) = *(uint8_t *)fd_host(f, sf) = 0xee;
	struct fd_seg w[3] = { { hw, 16, false }, { data, 512, false }, { sw, 1, true } };
	struct fd_seg fl[2] = { { hf, 16, false }, { sf, 1, true } };
	uint16_t wid = fd_post(f, 0, w, 3);
	uint16_t fid = fd_post(f, 0, fl, 2);
	fd_kick(f, 0);
	uint32_t id, len;
	assert_true(fd_used(f, 0, &id, &len));
	assert_int_equal(id, wid);
	assert_true(fd_used(f, 0, &id, &len));
	assert_int_equal(id, fid);
	assert_int_equal(*(uint8_t *)fd_host(f, sw), VIRTIO_BLK_S_OK);
	assert_int_equal(*(uint8_t *)fd_host(f, sf), VIRTIO_BLK_S_OK);
	uint8_t got;
	assert_int_equal(pread(b->fd, &got, 1, 9 * 512), 1);
	assert_int_equal(got, 'F');
}

static void test_unsafe_hides_flush(void **state)
{
	struct bfx *b = *state;
	assert_int_equal(open_dev(b, false, ARCVM_CACHE_UNSAFE, NULL, NULL), 0);
	assert_false(b->features & (1ull << VIRTIO_BLK_F_FLUSH));
	assert_int_equal(request(b, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, NULL), VIRTIO_BLK_S_UNSUPP);
}

static void test_get_id(void **state)
{
	struct bfx *b = *state;
	assert_int_equal(open_dev(b, false, ARCVM_CACHE_WRITEBACK, "disk-7", NULL), 0);
	uint64_t gpa = fd_alloc(&b->f, VIRTIO_BLK_ID_BYTES);
	memset(fd_host(&b->f, gpa), 'Z', VIRTIO_BLK_ID_BYTES);
	struct fd_seg s = { gpa, VIRTIO_BLK_ID_BYTES, true };
	uint32_t used;
	assert_int_equal(request(b, VIRTIO_BLK_T_GET_ID, 0, &s, 1, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, VIRTIO_BLK_ID_BYTES + 1);
	char want[VIRTIO_BLK_ID_BYTES] = "disk-7";
	assert_memory_equal(fd_host(&b->f, gpa), want, VIRTIO_BLK_ID_BYTES);
}

static void test_id_too_long_refused(void **state)
{
	struct bfx *b = *state;
	struct arcvm_error err;
	assert_int_equal(open_dev(b, false, ARCVM_CACHE_WRITEBACK, "123456789012345678901", &err),
			 ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "20"));
}

static void test_discard_punches_hole(void **state)
{
	struct bfx *b = *state;
	close(b->fd);
	unlink(b->path);
	make_image(b, 4u << 20);
	assert_int_equal(open_dev(b, false, ARCVM_CACHE_WRITEBACK, NULL, NULL), 0);
	if (!(b->features & (1ull << VIRTIO_BLK_F_DISCARD))) {
		skip();   /* /tmp cannot punch holes */
		return;
	}
	struct stat before, after;
	assert_int_equal(fstat(b->fd, &before), 0);
	uint64_t r = fd_alloc(&b->f, 16);
	struct virtio_blk_discard_write_zeroes range = { .sector = 2048, .num_sectors = 4096 };
	memcpy(fd_host(&b->f, r), &range, 16);
	struct fd_seg rs = { r, 16, false };
	assert_int_equal(request(b, VIRTIO_BLK_T_DISCARD, 0, &rs, 1, NULL), VIRTIO_BLK_S_OK);
	assert_int_equal(fstat(b->fd, &after), 0);
	assert_true(after.st_blocks + 2 * 2048 <= before.st_blocks);   /* 2 MiB fewer */
	assert_int_equal(after.st_size, before.st_size);
	uint8_t got;
	assert_int_equal(pread(b->fd, &got, 1, 3u << 20), 1);
	assert_int_equal(got, 0);
	assert_int_equal(pread(b->fd, &got, 1, 1u << 20), 1);
	assert_int_equal(got, pattern(1u << 20));
}

static void test_discard_bad_ranges(void **state)
{
	struct bfx *b = *state;
	assert_int_equal(open_dev(b, false, ARCVM_CACHE_WRITEBACK, NULL, NULL), 0);
	if (!(b->features & (1ull << VIRTIO_BLK_F_DISCARD))) {
		skip();
		return;
	}
	uint64_t r = fd_alloc(&b->f, 16);
	struct fd_seg rs = { r, 16, false };
	struct virtio_blk_discard_write_zeroes range = { .sector = 0, .num_sectors = 8, .flags = 1 };
	memcpy(fd_host(&b->f, r), &range, 16);
	assert_int_equal(request(b, VIRTIO_BLK_T_DISCARD, 0, &rs, 1, NULL), VIRTIO_BLK_S_UNSUPP);
	range = (struct virtio_blk_discard_write_zeroes){ .sector = IMG_SECTORS - 4, .num_sectors = 8 };
	memcpy(fd_host(&b->f, r), &range, 16);
	assert_int_equal(request(b, VIRTIO_BLK_T_DISCARD, 0, &rs, 1, NULL), VIRTIO_BLK_S_IOERR);
	rs.len = 12;   /* not a whole range */
	assert_int_equal(request(b, VIRTIO_BLK_T_DISCARD, 0, &rs, 1, NULL), VIRTIO_BLK_S_IOERR);
}

static void test_write_zeroes(void **state)
{
	struct bfx *b = *state;
	assert_int_equal(open_dev(b, false, ARCVM_CACHE_WRITEBACK, NULL, NULL), 0);
	if (!(b->features & (1ull << VIRTIO_BLK_F_WRITE_ZEROES))) {
		skip();
		return;
	}
	uint64_t r = fd_alloc(&b->f, 16);
	struct virtio_blk_discard_write_zeroes range = { .sector = 8, .num_sectors = 8 };
	memcpy(fd_host(&b->f, r), &range, 16);
	struct fd_seg rs = { r, 16, false };
	assert_int_equal(request(b, VIRTIO_BLK_T_WRITE_ZEROES, 0, &rs, 1, NULL), VIRTIO_BLK_S_OK);
	uint8_t got[4096];
	assert_int_equal(pread(b->fd, got, sizeof(got), 8 * 512), (ssize_t)sizeof(got));
	for (size_t i = 0; i < sizeof(got); i++)
		assert_int_equal(got[i], 0);
	assert_int_equal(pread(b->fd, got, 1, 16 * 512), 1);
	assert_int_equal(got[0], pattern(16 * 512));
}

static void test_missing_status_breaks_queue(void **state)
{
	struct bfx *b = *state;
	assert_int_equal(open_dev(b, false, ARCVM_CACHE_WRITEBACK, NULL, NULL), 0);
	struct fd_driver *f = &b->f;
	uint64_t hdr = fd_alloc(f, 16);
	struct virtio_blk_outhdr h = { .type = VIRTIO_BLK_T_IN };
	memcpy(fd_host(f, hdr), &h, 16);
	struct fd_seg s = { hdr, 16, false };
	fd_post(f, 0, &s, 1);
	fd_kick(f, 0);
	uint32_t id, len;
	assert_false(fd_used(f, 0, &id, &len));
	assert_true(fd_rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void test_bad_type_and_header(void **state)
{
	struct bfx *b = *state;
	assert_int_equal(open_dev(b, false, ARCVM_CACHE_WRITEBACK, NULL, NULL), 0);
	assert_int_equal(request(b, 99, 0, NULL, 0, NULL), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(request(b, 2 /* SCSI */, 0, NULL, 0, NULL), VIRTIO_BLK_S_UNSUPP);

	/* An 8-byte header is answered with an error, not trusted. */
	struct fd_driver *f = &b->f;
	uint64_t hdr = fd_alloc(f, 8), st = fd_alloc(f, 1);
	*(uint8_t *)fd_host(f, st) = 0xee;
	struct fd_seg s[2] = { { hdr, 8, false }, { st, 1, true } };
	fd_post(f, 0, s, 2);
	fd_kick(f, 0);
	uint32_t id, len;
	assert_true(fd_used(f, 0, &id, &len));
	assert_int_equal(*(uint8_t *)fd_host(f, st), VIRTIO_BLK_S_IOERR);
}

static void test_config_space(void **state)
{
	struct bfx *b = *state;
	assert_int_equal(open_dev(b, false, ARCVM_CACHE_WRITEBACK, NULL, NULL), 0);
	assert_int_equal(fd_rd(&b->f, VIRTIO_MMIO_CONFIG), IMG_SECTORS);
	assert_int_equal(fd_rd(&b->f, VIRTIO_MMIO_CONFIG + 4), 0);
	assert_int_equal(fd_rd(&b->f, VIRTIO_MMIO_CONFIG +
			       offsetof(struct virtio_blk_config, blk_size)), 512);
	assert_int_equal(fd_rd(&b->f, VIRTIO_MMIO_CONFIG +
			       offsetof(struct virtio_blk_config, seg_max)), VBLK_SEG_MAX);
	uint64_t cap = 0;
	bus_dispatch(&b->f.bus, FD_BASE + VIRTIO_MMIO_CONFIG, false, &cap, 8);
	assert_int_equal(cap, IMG_SECTORS);
}

static void test_lock_refuses_second_writer(void **state)
{
	struct bfx *b = *state;
	struct arcvm_error err;
	struct virtio_dev *d1, *d2;
	struct arcvm_drive rwd = { .path = b->path };
	struct arcvm_drive rod = { .path = b->path, .read_only = true };
	assert_int_equal(vblk_create(&rwd, &d1, NULL), 0);
	assert_int_equal(vblk_create(&rwd, &d2, &err), ARCVM_E_BUSY);
	assert_int_equal(err.code, ARCVM_E_BUSY);
	assert_non_null(strstr(err.msg, b->path));
	assert_int_equal(vblk_create(&rod, &d2, &err), ARCVM_E_BUSY);
	d1->ops->destroy(d1);
	assert_int_equal(vblk_create(&rwd, &d2, NULL), 0);
	d2->ops->destroy(d2);
}

static void test_readers_share(void **state)
{
	struct bfx *b = *state;
	struct virtio_dev *d1, *d2, *d3;
	struct arcvm_drive rod = { .path = b->path, .read_only = true };
	struct arcvm_drive rwd = { .path = b->path };
	assert_int_equal(vblk_create(&rod, &d1, NULL), 0);
	assert_int_equal(vblk_create(&rod, &d2, NULL), 0);
	assert_int_equal(vblk_create(&rwd, &d3, NULL), ARCVM_E_BUSY);
	d1->ops->destroy(d1);
	d2->ops->destroy(d2);
}

/* Probing fallocate support at open leaves the image as it was. */
static void test_probe_leaves_image_alone(void **state)
{
	struct bfx *b = *state;
	struct stat before, after;
	assert_int_equal(fstat(b->fd, &before), 0);
	assert_int_equal(open_dev(b, false, ARCVM_CACHE_WRITEBACK, NULL, NULL), 0);
	assert_int_equal(fstat(b->fd, &after), 0);
	assert_int_equal(after.st_size, before.st_size);
	assert_int_equal(after.st_blocks, before.st_blocks);
}

static void test_open_errors(void **state)
{
	struct arcvm_error err;
	struct virtio_dev *d;
	struct arcvm_drive missing = { .path = "/nonexistent/arcvm.img" };
	assert_int_equal(vblk_create(&missing, &d, &err), ARCVM_E_NOT_FOUND);
	assert_non_null(strstr(err.msg, "/nonexistent/arcvm.img"));
	struct arcvm_drive empty = { .path = "" };
	assert_int_equal(vblk_create(&empty, &d, &err), ARCVM_E_INVALID);
	struct arcvm_drive dir = { .path = "/tmp" };
	assert_int_equal(vblk_create(&dir, &d, &err) < 0, 1);
}


/* Swapping the image: the capacity, the config generation and the data
 * change, a config-change interrupt is raised, and the old image's lock is
 * released; a missing file leaves the old image in place. */
static void test_replace_image(void **state)
{
	struct bfx *b = *state;
	struct arcvm_error err;
	assert_int_equal(open_dev(b, false, ARCVM_CACHE_WRITEBACK, NULL, NULL), 0);
	uint32_t gen = fd_rd(&b->f, VIRTIO_MMIO_CONFIG_GENERATION);
	struct virtio_dev *dev = virtio_mmio_dev(b->f.t);
	assert_int_equal(vblk_replace_image(dev, "/nonexistent/arcvm.img", &err), ARCVM_E_NOT_FOUND);
	assert_int_equal(fd_rd(&b->f, VIRTIO_MMIO_CONFIG_GENERATION), gen);

	char other[] = "/tmp/arcvm-vblk2-XXXXXX";
	int fd = mkstemp(other);
	assert_true(fd >= 0);
	uint8_t sector[512];
	memset(sector, 0x5a, sizeof(sector));
	assert_int_equal(pwrite(fd, sector, sizeof(sector), 4 * 512), 512);
	assert_int_equal(ftruncate(fd, 8 * 512), 0);
	uint32_t isr_before = fd_rd(&b->f, VIRTIO_MMIO_INTERRUPT_STATUS);
	assert_int_equal(isr_before & 2, 0);
	assert_int_equal(vblk_replace_image(dev, other, &err), 0);
	assert_int_equal(fd_rd(&b->f, VIRTIO_MMIO_CONFIG), 8);
	assert_int_not_equal(fd_rd(&b->f, VIRTIO_MMIO_CONFIG_GENERATION), gen);
	assert_true(fd_rd(&b->f, VIRTIO_MMIO_INTERRUPT_STATUS) & 2);

	uint64_t gpa;
	assert_int_equal(rw(b, false, 4, 512, &gpa), VIRTIO_BLK_S_OK);
	assert_int_equal(memcmp(fd_host(&b->f, gpa), sector, 512), 0);
	assert_int_equal(rw(b, false, 8, 512, &gpa), VIRTIO_BLK_S_IOERR);   /* past the new end */

	/* The first image is free for another writer now; the new one is not. */
	struct virtio_dev *d2;
	struct arcvm_drive first = { .path = b->path }, second = { .path = other };
	assert_int_equal(vblk_create(&first, &d2, NULL), 0);
	d2->ops->destroy(d2);
	assert_int_equal(vblk_create(&second, &d2, &err), ARCVM_E_BUSY);
	close(fd);
	unlink(other);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_read),
		T(test_write_scattered),
		T(test_past_end_of_disk),
		T(test_partial_sector_refused),
		T(test_read_only),
		T(test_flush_after_writes_in_order),
		T(test_unsafe_hides_flush),
		T(test_get_id),
		T(test_id_too_long_refused),
		T(test_discard_punches_hole),
		T(test_discard_bad_ranges),
		T(test_write_zeroes),
		T(test_missing_status_breaks_queue),
		T(test_bad_type_and_header),
		T(test_config_space),
		T(test_lock_refuses_second_writer),
		T(test_readers_share),
		T(test_probe_leaves_image_alone),
		T(test_open_errors),
		T(test_replace_image),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
