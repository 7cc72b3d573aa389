/* test_p9_virtio.c - the virtio-9p device through the virtio-mmio transport
 * with a fake driver: identity and mount tag, 9P requests in scattered guest
 * buffers (as Linux's zero-copy path lays them out), reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtio/p9.h"
#include "virtio_fake_driver.h"

struct vfx {
	struct fd_driver f;
	char dir[64];
	uint16_t tag;
};

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *w)
{
	return remove(p);
}

static int setup(void **state)
{
	struct vfx *v = calloc(1, sizeof(*v));
	strcpy(v->dir, "/tmp/arcvm-vp9-XXXXXX");
	assert_non_null(mkdtemp(v->dir));
	struct virtio_dev *dev;
	assert_int_equal(vp9_create(v->dir, "share0", false, &dev, NULL), 0);
	assert_int_equal(fd_attach(&v->f, dev, NULL, NULL), 0);
	assert_true(fd_bring_up(&v->f, fd_device_features(&v->f), 1) & VIRTIO_CONFIG_S_DRIVER_OK);
	*state = v;
	return 0;
}

static int teardown(void **state)
{
	struct vfx *v = *state;
	fd_detach(&v->f);
	nftw(v->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(v);
	return 0;
}

/* Little message builder into guest memory at gpa. */
struct msg {
	uint8_t *p;
	size_t n;
};

static void put(struct msg *m, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		m->p[m->n++] = (uint8_t)(v >> (8 * i));
}

static void put_str(struct msg *m, const char *s)
{
	put(m, strlen(s), 2);
	memcpy(m->p + m->n, s, strlen(s));
	m->n += strlen(s);
}

static struct msg begin(struct vfx *v, uint64_t gpa, uint8_t type)
{
	struct msg m = { fd_host(&v->f, gpa), 0 };
	put(&m, 0, 4);
	put(&m, type, 1);
	put(&m, ++v->tag, 2);
	return m;
}

/* Sets the size field to the header + fields + extra data bytes. */
static void finish(struct msg *m, uint32_t extra)
{
	uint32_t size = (uint32_t)m->n + extra;
	memcpy(m->p, &size, 4);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Posts segs, kicks, returns the used length; the reply type is checked. */
static uint32_t roundtrip(struct vfx *v, const struct fd_seg *segs, unsigned n, uint64_t rep,
			  uint8_t want_type)
{
	uint16_t head = fd_post(&v->f, 0, segs, n);
	fd_kick(&v->f, 0);
	uint32_t id, len;
	assert_true(fd_used(&v->f, 0, &id, &len));
	assert_int_equal(id, head);
	const uint8_t *r = fd_host(&v->f, rep);
	assert_int_equal(r[4], want_type);
	assert_int_equal(r[5] | r[6] << 8, v->tag);
	assert_int_equal(le32(r), len);
	return len;
}

/* A request in one readable buffer, the reply in one writable buffer. */
static uint32_t simple(struct vfx *v, struct msg *m, uint64_t req, uint64_t rep, uint8_t want)
{
	finish(m, 0);
	struct fd_seg s[2] = { { req, (uint32_t)m->n, false }, { rep, 4096, true } };
	return roundtrip(v, s, 2, rep, want);
}

static void test_identity_and_tag(void **state)
{
	struct vfx *v = *state;
	assert_int_equal(fd_rd(&v->f, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_9P);
	assert_true(fd_device_features(&v->f) & 1);   /* VIRTIO_9P_MOUNT_TAG */
	uint8_t cfg[8];
	for (unsigned i = 0; i < sizeof(cfg); i++) {
		uint8_t b = 0;
		bus_dispatch(&v->f.bus, FD_BASE + VIRTIO_MMIO_CONFIG + i, false, &b, 1);
		cfg[i] = b;
	}
	assert_int_equal(cfg[0] | cfg[1] << 8, 6);
	assert_memory_equal(cfg + 2, "share0", 6);
}

static void test_create_errors(void **state)
{
	struct virtio_dev *dev;
	struct arcvm_error err;
	assert_int_equal(vp9_create("/tmp", "", false, &dev, &err), ARCVM_E_INVALID);
	assert_int_equal(vp9_create("/no/such/dir", "t", false, &dev, &err), ARCVM_E_NOT_FOUND);
	assert_non_null(strstr(err.msg, "/no/such/dir"));
}

static void session(struct vfx *v, uint64_t req, uint64_t rep)
{
	struct msg m = begin(v, req, 100);
	put(&m, 512 * 1024, 4);
	put_str(&m, "9P2000.L");
	simple(v, &m, req, rep, 101);
	m = begin(v, req, 104);
	put(&m, 1, 4);
	put(&m, ~0u, 4);
	put_str(&m, "");
	put_str(&m, "");
	put(&m, 0, 4);
	simple(v, &m, req, rep, 105);
}

static void test_scattered_write_and_read(void **state)
{
	struct vfx *v = *state;
	uint64_t req = fd_alloc(&v->f, 4096), rep = fd_alloc(&v->f, 4096);
	session(v, req, rep);
	/* Create "data" (walk a clone of the root, then lcreate on it). */
	struct msg m = begin(v, req, 110);
	put(&m, 1, 4);
	put(&m, 2, 4);
	put(&m, 0, 2);
	simple(v, &m, req, rep, 111);
	m = begin(v, req, 14);
	put(&m, 2, 4);
	put_str(&m, "data");
	put(&m, 2, 4);
	put(&m, 0644, 4);
	put(&m, 0, 4);
	simple(v, &m, req, rep, 15);

	/* Twrite: 23-byte header, then the data in three pieces. */
	uint64_t d1 = fd_alloc(&v->f, 4096), d2 = fd_alloc(&v->f, 4096), d3 = fd_alloc(&v->f, 100);
	memset(fd_host(&v->f, d1), 'a', 4096);
	memset(fd_host(&v->f, d2), 'b', 4096);
	memset(fd_host(&v->f, d3), 'c', 100);
	m = begin(v, req, 118);
	put(&m, 2, 4);
	put(&m, 1ull << 32, 8);     /* past 4 GiB */
	put(&m, 8292, 4);
	finish(&m, 8292);
	struct fd_seg w[5] = { { req, 23, false }, { d1, 4096, false }, { d2, 4096, false },
			       { d3, 100, false }, { rep, 64, true } };
	assert_int_equal(roundtrip(v, w, 5, rep, 119), 11);
	assert_int_equal(le32((uint8_t *)fd_host(&v->f, rep) + 7), 8292);
	char p[128];
	snprintf(p, sizeof(p), "%s/data", v->dir);
	int fd = open(p, O_RDONLY);
	uint8_t buf[8292];
	assert_int_equal(pread(fd, buf, sizeof(buf), 1ll << 32), (ssize_t)sizeof(buf));
	close(fd);
	assert_int_equal(buf[0], 'a');
	assert_int_equal(buf[4096], 'b');
	assert_int_equal(buf[8291], 'c');

	/* Tread: reply header in an 11-byte buffer, data in two pages. */
	uint64_t r1 = fd_alloc(&v->f, 4096), r2 = fd_alloc(&v->f, 4096);
	m = begin(v, req, 116);
	put(&m, 2, 4);
	put(&m, (1ull << 32) + 4000, 8);
	put(&m, 8192, 4);
	finish(&m, 0);
	struct fd_seg rd[4] = { { req, (uint32_t)m.n, false }, { rep, 11, true },
				{ r1, 4096, true }, { r2, 4096, true } };
	assert_int_equal(roundtrip(v, rd, 4, rep, 117), 11 + 4292);
	assert_int_equal(le32((uint8_t *)fd_host(&v->f, rep) + 7), 4292);
	const uint8_t *g1 = fd_host(&v->f, r1), *g2 = fd_host(&v->f, r2);
	assert_int_equal(g1[95], 'a');
	assert_int_equal(g1[96], 'b');
	assert_int_equal(g2[95], 'b');
	assert_int_equal(g2[96], 'c');
	assert_int_equal(g2[195], 'c');
}

static void test_reset_ends_session(void **state)
{
	struct vfx *v = *state;
	uint64_t req = fd_alloc(&v->f, 4096), rep = fd_alloc(&v->f, 4096);
	session(v, req, rep);
	fd_wr(&v->f, VIRTIO_MMIO_STATUS, 0);
	assert_true(fd_bring_up(&v->f, fd_device_features(&v->f), 1) & VIRTIO_CONFIG_S_DRIVER_OK);
	/* Before a new Tversion nothing but Tversion is served. */
	struct msg m = begin(v, req, 120);
	put(&m, 1, 4);
	simple(v, &m, req, rep, 7);
	assert_int_equal(le32((uint8_t *)fd_host(&v->f, rep) + 7), EPROTO);
	session(v, req, rep);
	/* A chain without room for a reply is returned empty. */
	m = begin(v, req, 120);
	put(&m, 1, 4);
	finish(&m, 0);
	struct fd_seg s[2] = { { req, (uint32_t)m.n, false }, { rep, 4, true } };
	uint16_t head = fd_post(&v->f, 0, s, 2);
	fd_kick(&v->f, 0);
	uint32_t id, len;
	assert_true(fd_used(&v->f, 0, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 0);
	/* The fid is still there (the clunk was not served). */
	m = begin(v, req, 120);
	put(&m, 1, 4);
	simple(v, &m, req, rep, 121);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity_and_tag, setup, teardown),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test_setup_teardown(test_scattered_write_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_ends_session, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
