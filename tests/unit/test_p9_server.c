/* test_p9_server.c - the 9P2000.L server against a temporary folder, driven
 * with hand-built messages: session, I/O, and the tree-changing operations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "p9_test_client.h"

static int setup(void **state)
{
	*state = pc_open(false, 0);
	return 0;
}

static int teardown(void **state)
{
	pc_close(*state);
	return 0;
}

static void host_write(struct pc *c, const char *rel, const char *text)
{
	char p[256];
	pc_host_path(c, rel, p, sizeof(p));
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int host_stat(struct pc *c, const char *rel, struct stat *st)
{
	char p[256];
	pc_host_path(c, rel, p, sizeof(p));
	return lstat(p, st);
}

static void test_version_caps_msize(void **state)
{
	struct pc *c = *state;
	assert_int_equal(pc_version(c, 64u << 20, "9P2000.L"), 0);
	assert_int_equal(pc_g32(c), P9_MSIZE_MAX);
	char v[32];
	pc_gstr(c, v, sizeof(v));
	assert_string_equal(v, "9P2000.L");
	/* A smaller msize is taken as offered. */
	assert_int_equal(pc_version(c, 8192, "9P2000.L"), 0);
	assert_int_equal(pc_g32(c), 8192);
	/* An unknown version is answered "unknown" and nothing else works. */
	assert_int_equal(pc_version(c, 8192, "9P2000.u"), 0);
	pc_g32(c);
	pc_gstr(c, v, sizeof(v));
	assert_string_equal(v, "unknown");
	assert_int_equal(pc_attach(c, 1), EPROTO);
	/* Too small an msize is refused. */
	assert_int_equal(pc_version(c, 100, "9P2000.L"), EINVAL);
	/* Version resets the session: fid 0 from setup is gone. */
	assert_int_equal(pc_version(c, 8192, "9P2000.L"), 0);
	assert_int_equal(pc_clunk(c, 0), EBADF);
	assert_int_equal(pc_attach(c, 0), 0);
	/* A message larger than the negotiated msize is refused. */
	char big[9000];
	memset(big, 'x', sizeof(big));
	assert_int_equal(pc_lcreate(c, 0, "f", 2, 0644), 0);
	assert_int_equal(pc_write(c, 0, 0, big, sizeof(big), NULL), EINVAL);
	assert_int_equal(pc_write(c, 0, 0, big, 8192 - 23, NULL), 0);
}

static void test_read_write_round_trip(void **state)
{
	struct pc *c = *state;
	host_write(c, "hello.txt", "hello, world\n");
	assert_int_equal(pc_walk_all(c, 0, 1, "hello.txt"), 0);
	assert_int_equal(pc_lopen(c, 1, 2 /* RDWR */), 0);
	const uint8_t *d;
	uint32_t n, w;
	assert_int_equal(pc_read(c, 1, 0, 100, &d, &n), 0);
	assert_int_equal(n, 13);
	assert_memory_equal(d, "hello, world\n", 13);
	assert_int_equal(pc_read(c, 1, 7, 5, &d, &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(d, "world", 5);
	assert_int_equal(pc_read(c, 1, 100, 5, &d, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pc_write(c, 1, 7, "there", 5, &w), 0);
	assert_int_equal(w, 5);
	assert_int_equal(pc_clunk(c, 1), 0);
	assert_int_equal(pc_clunk(c, 1), EBADF);
	char p[256], buf[32] = { 0 };
	pc_host_path(c, "hello.txt", p, sizeof(p));
	int fd = open(p, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 13);
	close(fd);
	assert_string_equal(buf, "hello, there\n");
	/* A read reply larger than the reply buffers is cut to fit. */
	assert_int_equal(pc_walk_all(c, 0, 2, "hello.txt"), 0);
	assert_int_equal(pc_lopen(c, 2, 0), 0);
	c->rep_cap = 11 + 4;
	assert_int_equal(pc_read(c, 2, 0, 100, &d, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(c->rlen, 15);
	c->rep_cap = 0;
	/* Writing through a read-only open fails. */
	assert_int_equal(pc_write(c, 2, 0, "x", 1, &w), EBADF);
}

static void test_create_mkdir_readdir(void **state)
{
	struct pc *c = *state;
	assert_int_equal(pc_mkdir(c, 0, "sub", 0750), 0);
	struct stat st;
	assert_int_equal(host_stat(c, "sub", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(pc_walk_all(c, 0, 1, "sub"), 0);
	assert_int_equal(pc_lcreate(c, 1, "new.txt", 1 /* WRONLY */, 0640), 0);
	uint32_t w;
	assert_int_equal(pc_write(c, 1, 0, "abc", 3, &w), 0);
	assert_int_equal(pc_clunk(c, 1), 0);
	assert_int_equal(host_stat(c, "sub/new.txt", &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 3);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, getuid());
	/* Creating an existing name fails. */
	assert_int_equal(pc_walk_all(c, 0, 1, "sub"), 0);
	assert_int_equal(pc_lcreate(c, 1, "new.txt", 1, 0640), EEXIST);
	/* set-user-ID is never given to a host file. */
	assert_int_equal(pc_lcreate(c, 1, "suid", 1, 04755), 0);
	assert_int_equal(host_stat(c, "sub/suid", &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(pc_clunk(c, 1), 0);
	assert_int_equal(pc_mkdir(c, 0, "sub", 0755), EEXIST);

	/* Many entries, read back with small counts so readdir resumes. */
	for (int i = 0; i < 50; i++) {
		char name[32];
		snprintf(name, sizeof(name), "entry-%02d", i);
		host_write(c, name, "");
	}
	assert_int_equal(pc_walk_all(c, 0, 2, ""), 0);
	assert_int_equal(pc_lopen(c, 2, 0), 0);
	int seen = 0, rounds = 0;
	bool seen_sub = false;
	uint64_t off = 0;
	for (;;) {
		pc_begin(c, 40);
		pc_u32(c, 2);
		pc_u64(c, off);
		pc_u32(c, 200);
		assert_int_equal(pc_send(c), 0);
		uint32_t count = pc_g32(c);
		assert_true(count <= 200);
		if (count == 0)
			break;
		rounds++;
		size_t end = c->roff + count;
		while (c->roff < end) {
			uint8_t qt = pc_g8(c);
			pc_g32(c);
			pc_g64(c);
			off = pc_g64(c);
			uint8_t dt = pc_g8(c);
			char name[300];
			pc_gstr(c, name, sizeof(name));
			if (!strncmp(name, "entry-", 6))
				seen++;
			if (!strcmp(name, "sub")) {
				seen_sub = true;
				assert_int_equal(qt, 0x80);
				assert_int_equal(dt, DT_DIR);
			}
		}
	}
	assert_int_equal(seen, 50);
	assert_true(seen_sub);
	assert_true(rounds > 5);
	/* Reading a directory with Tread is refused. */
	const uint8_t *d;
	uint32_t n;
	assert_int_equal(pc_read(c, 2, 0, 10, &d, &n), EISDIR);
}

static int rename_at(struct pc *c, uint32_t od, const char *on, uint32_t nd, const char *nn)
{
	pc_begin(c, 74);
	pc_u32(c, od);
	pc_str(c, on);
	pc_u32(c, nd);
	pc_str(c, nn);
	return pc_send(c);
}

static void test_rename_unlink_link(void **state)
{
	struct pc *c = *state;
	struct stat st;
	host_write(c, "a", "A");
	assert_int_equal(pc_mkdir(c, 0, "d", 0755), 0);
	assert_int_equal(pc_walk_all(c, 0, 1, "d"), 0);
	assert_int_equal(rename_at(c, 0, "a", 1, "b"), 0);
	assert_int_equal(host_stat(c, "a", &st), -1);
	assert_int_equal(host_stat(c, "d/b", &st), 0);
	assert_int_equal(rename_at(c, 0, "missing", 1, "x"), ENOENT);
	assert_int_equal(rename_at(c, 0, "..", 1, "x"), EINVAL);
	assert_int_equal(rename_at(c, 0, "a/b", 1, "x"), EINVAL);

	/* Trename moves the file a fid names. */
	assert_int_equal(pc_walk_all(c, 0, 2, "d/b"), 0);
	pc_begin(c, 20);
	pc_u32(c, 2);
	pc_u32(c, 0);
	pc_str(c, "c");
	assert_int_equal(pc_send(c), 0);
	assert_int_equal(host_stat(c, "c", &st), 0);
	/* ... and the fid follows it. */
	pc_begin(c, 20);
	pc_u32(c, 2);
	pc_u32(c, 1);
	pc_str(c, "e");
	assert_int_equal(pc_send(c), 0);
	assert_int_equal(host_stat(c, "d/e", &st), 0);

	/* Hard link. */
	pc_begin(c, 70);
	pc_u32(c, 0);
	pc_u32(c, 2);
	pc_str(c, "hard");
	assert_int_equal(pc_send(c), 0);
	assert_int_equal(host_stat(c, "hard", &st), 0);
	assert_int_equal(st.st_nlink, 2);

	assert_int_equal(pc_unlinkat(c, 0, "hard", 0), 0);
	assert_int_equal(host_stat(c, "hard", &st), -1);
	assert_int_equal(pc_unlinkat(c, 0, "d", 0), EISDIR);
	assert_int_equal(pc_unlinkat(c, 0, "d", P9_AT_REMOVEDIR), ENOTEMPTY);
	assert_int_equal(pc_unlinkat(c, 1, "e", 0), 0);
	assert_int_equal(pc_unlinkat(c, 0, "d", P9_AT_REMOVEDIR), 0);
	assert_int_equal(host_stat(c, "d", &st), -1);
	assert_int_equal(pc_unlinkat(c, 0, "..", P9_AT_REMOVEDIR), EINVAL);

	/* A fid whose recorded path went stale (its folder was renamed
	 * behind it) is not mistaken for the file now at that path. */
	assert_int_equal(pc_mkdir(c, 0, "x", 0755), 0);
	host_write(c, "x/f", "old");
	assert_int_equal(pc_walk_all(c, 0, 4, "x/f"), 0);
	assert_int_equal(rename_at(c, 0, "x", 0, "y"), 0);
	assert_int_equal(pc_mkdir(c, 0, "x", 0755), 0);
	host_write(c, "x/f", "new");
	pc_begin(c, 122);
	pc_u32(c, 4);
	assert_int_equal(pc_send(c), ESTALE);
	assert_int_equal(host_stat(c, "x/f", &st), 0);
	assert_int_equal(host_stat(c, "y/f", &st), 0);

	/* Tremove removes and clunks. */
	host_write(c, "gone", "");
	assert_int_equal(pc_walk_all(c, 0, 3, "gone"), 0);
	pc_begin(c, 122);
	pc_u32(c, 3);
	assert_int_equal(pc_send(c), 0);
	assert_int_equal(host_stat(c, "gone", &st), -1);
	assert_int_equal(pc_clunk(c, 3), EBADF);
}

static void test_symlink_readlink(void **state)
{
	struct pc *c = *state;
	assert_int_equal(pc_symlink(c, 0, "ln", "some/where/../else"), 0);
	char p[256], t[256] = { 0 };
	pc_host_path(c, "ln", p, sizeof(p));
	assert_int_equal(readlink(p, t, sizeof(t)), 18);
	assert_string_equal(t, "some/where/../else");
	assert_int_equal(pc_walk_all(c, 0, 1, "ln"), 0);
	struct pc_attr a;
	assert_int_equal(pc_getattr(c, 1, &a), 0);
	assert_int_equal(a.qtype, 0x02);
	assert_true(S_ISLNK(a.mode));
	pc_begin(c, 22);
	pc_u32(c, 1);
	assert_int_equal(pc_send(c), 0);
	char got[256];
	pc_gstr(c, got, sizeof(got));
	assert_string_equal(got, "some/where/../else");
	/* Readlink of a directory is refused. */
	pc_begin(c, 22);
	pc_u32(c, 0);
	assert_int_equal(pc_send(c), EINVAL);
}

static int setattr(struct pc *c, uint32_t fid, uint32_t valid, uint32_t mode, uint64_t size,
		   uint64_t mtime)
{
	pc_begin(c, 26);
	pc_u32(c, fid);
	pc_u32(c, valid);
	pc_u32(c, mode);
	pc_u32(c, 0);
	pc_u32(c, 0);
	pc_u64(c, size);
	pc_u64(c, 0);
	pc_u64(c, 0);
	pc_u64(c, mtime);
	pc_u64(c, 5);
	return pc_send(c);
}

static void test_setattr_getattr_statfs_fsync(void **state)
{
	struct pc *c = *state;
	host_write(c, "f", "0123456789");
	assert_int_equal(pc_walk_all(c, 0, 1, "f"), 0);
	assert_int_equal(setattr(c, 1, P9_SETATTR_SIZE, 0, 4, 0), 0);
	assert_int_equal(setattr(c, 1, P9_SETATTR_MTIME | P9_SETATTR_MTIME_SET, 0, 0, 1234567), 0);
	assert_int_equal(setattr(c, 1, P9_SETATTR_MODE, 0600, 0, 0), 0);
	struct stat st;
	assert_int_equal(host_stat(c, "f", &st), 0);
	assert_int_equal(st.st_size, 4);
	assert_int_equal(st.st_mtim.tv_sec, 1234567);
	assert_int_equal(st.st_mtim.tv_nsec, 5);
	assert_int_equal(st.st_mode & 07777, 0600);
	struct pc_attr a;
	assert_int_equal(pc_getattr(c, 1, &a), 0);
	assert_int_equal(a.size, 4);
	assert_int_equal(a.mtime, 1234567);
	assert_int_equal(a.qpath, st.st_ino);
	assert_int_equal(a.uid, st.st_uid);
	assert_int_equal(a.gid, st.st_gid);
	assert_int_equal(a.mode, st.st_mode);
	/* Extending with truncate. */
	assert_int_equal(setattr(c, 1, P9_SETATTR_SIZE, 0, 1 << 20, 0), 0);
	assert_int_equal(host_stat(c, "f", &st), 0);
	assert_int_equal(st.st_size, 1 << 20);
	/* A bad nanosecond field is refused. */
	pc_begin(c, 26);
	pc_u32(c, 1);
	pc_u32(c, P9_SETATTR_ATIME | P9_SETATTR_ATIME_SET);
	pc_u32(c, 0); pc_u32(c, 0); pc_u32(c, 0);
	pc_u64(c, 0); pc_u64(c, 1); pc_u64(c, 2000000000u); pc_u64(c, 0); pc_u64(c, 0);
	assert_int_equal(pc_send(c), EINVAL);
	/* Truncating a directory. */
	assert_int_equal(setattr(c, 0, P9_SETATTR_SIZE, 0, 0, 0), EISDIR);

	pc_begin(c, 8);
	pc_u32(c, 0);
	assert_int_equal(pc_send(c), 0);
	pc_g32(c);
	uint32_t bsize = pc_g32(c);
	uint64_t blocks = pc_g64(c);
	assert_true(bsize > 0);
	assert_true(blocks > 0);

	assert_int_equal(pc_lopen(c, 1, 1), 0);
	pc_begin(c, 50);
	pc_u32(c, 1);
	pc_u32(c, 0);
	assert_int_equal(pc_send(c), 0);
	/* fsync of a fid never opened. */
	pc_begin(c, 50);
	pc_u32(c, 0);
	pc_u32(c, 1);
	assert_int_equal(pc_send(c), EBADF);
}

static void test_large_offsets(void **state)
{
	struct pc *c = *state;
	const uint64_t off = (5ull << 30) + 123;   /* past 4 GiB */
	assert_int_equal(pc_lcreate(c, 0, "big", 2, 0644), 0);
	uint32_t w;
	assert_int_equal(pc_write(c, 0, off, "tail", 4, &w), 0);
	assert_int_equal(w, 4);
	struct stat st;
	assert_int_equal(host_stat(c, "big", &st), 0);
	assert_int_equal((uint64_t)st.st_size, off + 4);
	const uint8_t *d;
	uint32_t n;
	assert_int_equal(pc_read(c, 0, off - 2, 100, &d, &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(d, "\0\0tail", 6);
	/* Offsets beyond what off_t holds are refused. */
	assert_int_equal(pc_read(c, 0, 1ull << 63, 10, &d, &n), EINVAL);
	assert_int_equal(pc_write(c, 0, ~0ull, "x", 1, &w), EINVAL);
	struct pc_attr a;
	assert_int_equal(pc_getattr(c, 0, &a), 0);
	assert_int_equal(a.size, off + 4);
}

static void test_read_only_share(void **state)
{
	struct pc *c = pc_open(true, 0);
	host_write(c, "f", "data");
	assert_int_equal(pc_walk_all(c, 0, 1, "f"), 0);
	assert_int_equal(pc_lopen(c, 1, 1), EROFS);
	assert_int_equal(pc_lopen(c, 1, 0 | P9_DOTL_TRUNC), EROFS);
	assert_int_equal(setattr(c, 1, P9_SETATTR_SIZE, 0, 0, 0), EROFS);
	assert_int_equal(pc_walk_all(c, 0, 2, ""), 0);
	assert_int_equal(pc_lcreate(c, 2, "new", 1, 0644), EROFS);
	assert_int_equal(pc_mkdir(c, 0, "d", 0755), EROFS);
	assert_int_equal(pc_symlink(c, 0, "l", "x"), EROFS);
	assert_int_equal(pc_unlinkat(c, 0, "f", 0), EROFS);
	assert_int_equal(rename_at(c, 0, "f", 0, "g"), EROFS);
	pc_begin(c, 70);
	pc_u32(c, 0);
	pc_u32(c, 1);
	pc_str(c, "h");
	assert_int_equal(pc_send(c), EROFS);
	pc_begin(c, 18);
	pc_u32(c, 0);
	pc_str(c, "fifo");
	pc_u32(c, S_IFIFO | 0644);
	pc_u32(c, 0); pc_u32(c, 0); pc_u32(c, 0);
	assert_int_equal(pc_send(c), EROFS);
	/* Reading still works, and fsync is harmless. */
	assert_int_equal(pc_lopen(c, 1, 0), 0);
	const uint8_t *d;
	uint32_t n;
	assert_int_equal(pc_read(c, 1, 0, 10, &d, &n), 0);
	assert_int_equal(n, 4);
	pc_begin(c, 50);
	pc_u32(c, 1);
	pc_u32(c, 0);
	assert_int_equal(pc_send(c), 0);
	struct stat st;
	assert_int_equal(host_stat(c, "f", &st), 0);
	assert_int_equal(st.st_size, 4);
	pc_close(c);
}

static void test_missing_share_named(void **state)
{
	struct p9_server *s;
	struct arcvm_error err = { 0 };
	assert_int_equal(p9_server_create("/nonexistent/arcvm-share", false, 0, &s, &err),
			 ARCVM_E_NOT_FOUND);
	assert_non_null(strstr(err.msg, "/nonexistent/arcvm-share"));
	assert_int_equal(p9_server_create("/etc/passwd", false, 0, &s, &err), ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "/etc/passwd"));
	assert_non_null(strstr(err.msg, "not a directory"));
}

static void test_xattr_lock(void **state)
{
	struct pc *c = *state;
	/* Listing gives an empty list on a new fid; a named attribute is absent. */
	pc_begin(c, 30);
	pc_u32(c, 0);
	pc_u32(c, 5);
	pc_str(c, "");
	assert_int_equal(pc_send(c), 0);
	assert_int_equal(pc_g64(c), 0);
	const uint8_t *d;
	uint32_t n;
	assert_int_equal(pc_read(c, 5, 0, 100, &d, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pc_clunk(c, 5), 0);
	pc_begin(c, 30);
	pc_u32(c, 0);
	pc_u32(c, 6);
	pc_str(c, "security.capability");
	assert_int_equal(pc_send(c), ENODATA);
	assert_int_equal(pc_clunk(c, 6), EBADF);
	pc_begin(c, 32);
	pc_u32(c, 0);
	pc_str(c, "user.x");
	pc_u64(c, 3);
	pc_u32(c, 0);
	assert_int_equal(pc_send(c), EOPNOTSUPP);

	pc_begin(c, 52);
	pc_u32(c, 0);
	pc_u8(c, 1);
	pc_u32(c, 0);
	pc_u64(c, 0);
	pc_u64(c, 10);
	pc_u32(c, 42);
	pc_str(c, "client");
	assert_int_equal(pc_send(c), 0);
	assert_int_equal(pc_g8(c), 0);
	pc_begin(c, 54);
	pc_u32(c, 0);
	pc_u8(c, 1);
	pc_u64(c, 3);
	pc_u64(c, 10);
	pc_u32(c, 42);
	pc_str(c, "client");
	assert_int_equal(pc_send(c), 0);
	assert_int_equal(pc_g8(c), 2);
	assert_int_equal(pc_g64(c), 3);

	pc_begin(c, 108);
	pc_u16(c, 1);
	assert_int_equal(pc_send(c), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_version_caps_msize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_write_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_mkdir_readdir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_unlink_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_readlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setattr_getattr_statfs_fsync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_offsets, setup, teardown),
		cmocka_unit_test(test_read_only_share),
		cmocka_unit_test(test_missing_share_named),
		cmocka_unit_test_setup_teardown(test_xattr_lock, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
