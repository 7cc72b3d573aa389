/* test_p9_malformed.c - requests no correct client sends get Rlerror (or,
 * when no reply fits, nothing), and the server stays usable afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "p9_test_client.h"

static int setup(void **state)
{
	struct pc *c = pc_open(false, 8);
	char p[256];
	pc_host_path(c, "f", p, sizeof(p));
	FILE *f = fopen(p, "w");
	fputs("0123456789", f);
	fclose(f);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	pc_close(*state);
	return 0;
}

/* The server still answers a normal walk + open + read. */
static void assert_usable(struct pc *c)
{
	pc_clunk(c, 100);
	assert_int_equal(pc_walk_all(c, 0, 100, "f"), 0);
	assert_int_equal(pc_lopen(c, 100, 0), 0);
	const uint8_t *d;
	uint32_t n;
	assert_int_equal(pc_read(c, 100, 2, 3, &d, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(d, "234", 3);
	assert_int_equal(pc_clunk(c, 100), 0);
}

/* The reply is Rlerror(ecode) with the given tag. */
static void assert_lerror(struct pc *c, uint16_t tag, uint32_t ecode)
{
	assert_int_equal(c->rlen, 11);
	assert_int_equal(c->rep[4], 7);
	assert_int_equal(c->rep[5] | c->rep[6] << 8, tag);
	c->roff = 7;
	assert_int_equal(pc_g32(c), ecode);
}

static void test_truncated_and_lying_sizes(void **state)
{
	struct pc *c = *state;
	/* Fewer bytes than a header. */
	pc_begin(c, 120);
	pc_send_raw(c, 11, 5);
	assert_lerror(c, P9_NOTAG, EINVAL);
	/* A size larger than the bytes offered. */
	pc_begin(c, 120);
	pc_u32(c, 0);
	pc_send_raw(c, 400, 0);
	assert_lerror(c, c->tag, EINVAL);
	/* A size smaller than the header. */
	pc_begin(c, 120);
	pc_u32(c, 0);
	pc_send_raw(c, 3, 0);
	assert_lerror(c, c->tag, EINVAL);
	/* A size that cuts off the fields (clunk without its fid). */
	pc_begin(c, 120);
	pc_u32(c, 0);
	pc_send_raw(c, 9, 0);
	assert_lerror(c, c->tag, EINVAL);
	/* A size beyond msize, with the bytes present. */
	pc_begin(c, 120);
	pc_u32(c, 0);
	c->qlen = P9_MSIZE_MAX + 100;
	pc_send_raw(c, 0, 0);
	assert_lerror(c, c->tag, EINVAL);
	assert_usable(c);
}

static void test_strings_past_the_end(void **state)
{
	struct pc *c = *state;
	/* Twalk whose name claims 1000 bytes. */
	pc_begin(c, 110);
	pc_u32(c, 0);
	pc_u32(c, 1);
	pc_u16(c, 1);
	pc_u16(c, 1000);
	pc_bytes(c, "f", 1);
	assert_int_equal(pc_send(c), EINVAL);
	/* Tversion with a cut-off version string. */
	pc_begin(c, 100);
	pc_u32(c, 8192);
	pc_u16(c, 8);
	pc_bytes(c, "9P20", 4);
	assert_int_equal(pc_send(c), EINVAL);
	/* More names than a walk may carry. */
	pc_begin(c, 110);
	pc_u32(c, 0);
	pc_u32(c, 1);
	pc_u16(c, 17);
	for (int i = 0; i < 17; i++)
		pc_str(c, "..");
	assert_int_equal(pc_send(c), EINVAL);
	/* nwname larger than the names present. */
	pc_begin(c, 110);
	pc_u32(c, 0);
	pc_u32(c, 1);
	pc_u16(c, 3);
	pc_str(c, "f");
	assert_int_equal(pc_send(c), EINVAL);
	assert_int_equal(pc_clunk(c, 1), EBADF);
	assert_usable(c);
}

static void test_huge_counts(void **state)
{
	struct pc *c = *state;
	assert_int_equal(pc_walk_all(c, 0, 1, "f"), 0);
	assert_int_equal(pc_lopen(c, 1, 2), 0);
	/* A read count past msize is cut to what fits. */
	const uint8_t *d;
	uint32_t n;
	assert_int_equal(pc_read(c, 1, 0, 0xffffffffu, &d, &n), 0);
	assert_int_equal(n, 10);
	/* A write count past the data present. */
	pc_begin(c, 118);
	pc_u32(c, 1);
	pc_u64(c, 0);
	pc_u32(c, 0xffffffffu);
	pc_bytes(c, "abc", 3);
	assert_int_equal(pc_send(c), EINVAL);
	pc_begin(c, 118);
	pc_u32(c, 1);
	pc_u64(c, 0);
	pc_u32(c, 4);
	pc_bytes(c, "abc", 3);
	assert_int_equal(pc_send(c), EINVAL);
	/* Readdir count past msize on a directory. */
	assert_int_equal(pc_walk_all(c, 0, 2, ""), 0);
	assert_int_equal(pc_lopen(c, 2, 0), 0);
	pc_begin(c, 40);
	pc_u32(c, 2);
	pc_u64(c, 0);
	pc_u32(c, 0xffffffffu);
	assert_int_equal(pc_send(c), 0);
	assert_true(c->rlen <= P9_MSIZE_MAX);
	/* Readdir at a bogus offset. */
	pc_begin(c, 40);
	pc_u32(c, 2);
	pc_u64(c, ~0ull);
	pc_u32(c, 4096);
	assert_int_equal(pc_send(c), EINVAL);
	/* A reply buffer too small for any reply gets nothing. */
	c->rep_cap = 10;
	assert_int_equal(pc_clunk(c, 1), -1);
	assert_int_equal(c->rlen, 0);
	c->rep_cap = 11;
	/* ... one that holds an error but not Rgetattr gets the error. */
	struct pc_attr a;
	assert_int_equal(pc_getattr(c, 1, &a), ENOBUFS);
	c->rep_cap = 0;
	/* The fid survived both. */
	assert_int_equal(pc_clunk(c, 1), 0);
	assert_usable(c);
}

static void test_unknown_types_and_bad_fids(void **state)
{
	struct pc *c = *state;
	uint8_t types[] = { 0, 6, 7, 101, 102, 106, 125, 200, 255 };
	for (size_t i = 0; i < sizeof(types); i++) {
		pc_begin(c, types[i]);
		pc_u32(c, 0);
		pc_send_raw(c, 0, 0);
		assert_lerror(c, c->tag, EOPNOTSUPP);
	}
	/* Fids: in use, unknown, NOFID. */
	assert_int_equal(pc_attach(c, 0), EEXIST);
	assert_int_equal(pc_walk_all(c, 0, 0xffffffffu, "f"), EBADF);
	assert_int_equal(pc_walk_all(c, 77, 1, "f"), EBADF);
	assert_int_equal(pc_lopen(c, 77, 0), EBADF);
	assert_int_equal(pc_walk_all(c, 0, 1, ""), 0);
	assert_int_equal(pc_walk_all(c, 0, 1, ""), EEXIST);
	/* Walking a fid onto itself replaces it. */
	assert_int_equal(pc_walk_all(c, 1, 1, "f"), 0);
	struct pc_attr a;
	assert_int_equal(pc_getattr(c, 1, &a), 0);
	assert_int_equal(a.size, 10);
	/* Bad open flags; opening twice. */
	assert_int_equal(pc_lopen(c, 1, 3), EINVAL);
	assert_int_equal(pc_lopen(c, 1, 0), 0);
	assert_int_equal(pc_lopen(c, 1, 0), EBADF);
	assert_usable(c);
}

static void test_fid_limit(void **state)
{
	struct pc *c = *state;   /* 8 fids; fid 0 is the root */
	for (uint32_t id = 1; id < 8; id++)
		assert_int_equal(pc_walk_all(c, 0, id * 1000, ""), 0);
	assert_int_equal(pc_walk_all(c, 0, 9999, "f"), EMFILE);
	assert_int_equal(pc_attach(c, 9999), EMFILE);
	pc_begin(c, 30);
	pc_u32(c, 0);
	pc_u32(c, 9999);
	pc_str(c, "");
	assert_int_equal(pc_send(c), EMFILE);
	assert_int_equal(pc_clunk(c, 3000), 0);
	assert_int_equal(pc_walk_all(c, 0, 9999, "f"), 0);
	assert_int_equal(pc_walk_all(c, 0, 3000, "f"), EMFILE);
	/* Every fid is still found after the table churned. */
	for (uint32_t id = 1; id < 8; id++) {
		struct pc_attr a;
		assert_int_equal(pc_getattr(c, id == 3 ? 9999 : id * 1000, &a), 0);
	}
	for (uint32_t id = 1; id < 8; id++)
		pc_clunk(c, id * 1000);
	pc_clunk(c, 9999);
	assert_usable(c);
}

/* Random bytes and random mutations of valid messages: never a crash, a
 * reply always fits, the fid count stays bounded, a new session works. */
static void test_random_messages(void **state)
{
	struct pc *c = *state;
	unsigned seed = 12345;
	uint8_t types[] = { 8, 12, 14, 16, 18, 20, 22, 24, 26, 30, 32, 40, 50, 52, 54, 70, 72,
			    74, 76, 100, 104, 108, 110, 116, 118, 120, 122 };
	for (int i = 0; i < 20000; i++) {
		pc_begin(c, types[rand_r(&seed) % sizeof(types)]);
		size_t n = (size_t)(rand_r(&seed) % 64);
		for (size_t k = 0; k < n; k++) {
			/* Small numbers make fids and lengths that hit. */
			unsigned r = (unsigned)rand_r(&seed);
			pc_u8(c, r % 3 ? r % 8 : r >> 8);
		}
		c->rep_cap = (size_t)(rand_r(&seed) % 4 ? 0 : rand_r(&seed) % 64);
		uint32_t len = pc_send_raw(c, 0, 0);
		size_t cap = c->rep_cap ? c->rep_cap : PC_BUF;
		assert_true(len <= cap);
		assert_true(len == 0 || len >= 7);
	}
	c->rep_cap = 0;
	assert_int_equal(pc_version(c, 65536, "9P2000.L"), 0);
	assert_int_equal(pc_attach(c, 0), 0);
	assert_usable(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_truncated_and_lying_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strings_past_the_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_types_and_bad_fids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fid_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_messages, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
