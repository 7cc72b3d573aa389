/* test_p9_persist.c - a 9P session across a snapshot (p9/persist.c): fids come
 * back on a new server, an open file reads on, a fid whose file vanished
 * answers ESTALE until clunked, and a malformed session is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>

#include "p9_test_client.h"
#include "util/snapbuf.h"

#define TAG_P9SS SNAP_TAG('P', '9', 'S', 'S')

static void host_write(struct pc *c, const char *rel, const char *text)
{
	char path[256];
	pc_host_path(c, rel, path, sizeof(path));
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct snap_reader reader_of(const struct snap_writer *w)
{
	return (struct snap_reader){ .p = w->buf + SNAP_HEADER_LEN, .len = w->len - SNAP_HEADER_LEN };
}

/* Serves the same folder from a new server loaded from w. */
static int reload(struct pc *c, const struct snap_writer *w, struct arcvm_error *err)
{
	p9_server_destroy(c->s);
	if (p9_server_create(c->dir, false, 0, &c->s, NULL) < 0)
		abort();
	struct snap_reader r = reader_of(w);
	return p9_server_load(c->s, &r, err);
}

static void test_fids_survive_and_vanished_files_are_stale(void **state)
{
	struct pc *c = pc_open(false, 0);
	host_write(c, "keep.txt", "kept");
	host_write(c, "gone.txt", "soon gone");
	assert_int_equal(pc_walk_all(c, 0, 1, "keep.txt"), 0);
	assert_int_equal(pc_lopen(c, 1, 0), 0);
	assert_int_equal(pc_walk_all(c, 0, 2, "gone.txt"), 0);
	struct snap_writer w;
	snap_writer_init(&w);
	p9_server_save(c->s, &w);

	char path[256];
	pc_host_path(c, "gone.txt", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	struct arcvm_error err;
	assert_int_equal(reload(c, &w, &err), 0);
	const uint8_t *data;
	uint32_t n;
	assert_int_equal(pc_read(c, 1, 0, 100, &data, &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(data, "kept", 4);
	struct pc_attr a;
	assert_int_equal(pc_getattr(c, 2, &a), ESTALE);
	assert_int_equal(pc_clunk(c, 2), 0);
	assert_int_equal(pc_getattr(c, 2, &a), EBADF);
	/* The root fid walks as before. */
	assert_int_equal(pc_walk_all(c, 0, 3, "keep.txt"), 0);
	snap_writer_free(&w);
	pc_close(c);
}

static void test_malformed_session_is_refused(void **state)
{
	struct pc *c = pc_open(false, 0);
	const char *bad_paths[] = { "/etc/passwd", "a\x01" };
	for (int i = 0; i < 2; i++) {
		struct snap_writer w;
		snap_writer_init(&w);
		snap_begin(&w, TAG_P9SS);
		snap_put_u32(&w, 8192);
		snap_put_u32(&w, 1);
		snap_put_u32(&w, 5);         /* fid */
		snap_put_u32(&w, 0);         /* P9_FID_PATH */
		snap_put_u32(&w, S_IFREG);
		snap_put_str(&w, bad_paths[i]);
		snap_put_u32(&w, i ? 0x40000000u : 0);   /* an unknown open flag */
		snap_put_u64(&w, 0);
		snap_end_section(&w);
		struct arcvm_error err;
		assert_int_equal(reload(c, &w, &err), ARCVM_E_FORMAT);
		snap_writer_free(&w);
		/* No fid was left behind: fid 5 is unknown, fid 0 too. */
		struct pc_attr a;
		assert_int_equal(pc_getattr(c, 5, &a), EBADF);
	}
	pc_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fids_survive_and_vanished_files_are_stale),
		cmocka_unit_test(test_malformed_session_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
