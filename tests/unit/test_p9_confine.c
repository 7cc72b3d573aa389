/* test_p9_confine.c - the guest cannot reach host files outside the share:
 * "..", symlinks (host-planted, guest-made, swapped in between calls), and
 * special files that must never be opened on the host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "p9_test_client.h"

struct cfx {
	struct pc *c;
	char out[64];     /* a folder outside the share */
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct cfx *x = calloc(1, sizeof(*x));
	x->c = pc_open(false, 0);
	strcpy(x->out, "/tmp/arcvm-p9-out-XXXXXX");
	assert_non_null(mkdtemp(x->out));
	char p[128];
	snprintf(p, sizeof(p), "%s/secret", x->out);
	write_file(p, "outside");
	*state = x;
	alarm(20);     /* a server blocking on a FIFO would hang the test */
	return 0;
}

static int teardown(void **state)
{
	struct cfx *x = *state;
	alarm(0);
	pc_close(x->c);
	nftw(x->out, pc_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(x);
	return 0;
}

static void in_share(struct cfx *x, const char *rel, char *out, size_t cap)
{
	pc_host_path(x->c, rel, out, cap);
}

static uint64_t qid_path_of(struct pc *c, uint32_t fid)
{
	struct pc_attr a;
	assert_int_equal(pc_getattr(c, fid, &a), 0);
	return a.qpath;
}

static void test_dotdot_at_root_stays(void **state)
{
	struct cfx *x = *state;
	struct pc *c = x->c;
	struct stat root;
	assert_int_equal(stat(c->dir, &root), 0);
	assert_int_equal(pc_walk_all(c, 0, 1, ".."), 0);
	assert_int_equal(qid_path_of(c, 1), root.st_ino);
	assert_int_equal(pc_walk_all(c, 0, 2, "../../../.."), 0);
	assert_int_equal(qid_path_of(c, 2), root.st_ino);
	/* From a subfolder, ".." is its parent, and no further. */
	assert_int_equal(pc_mkdir(c, 0, "sub", 0755), 0);
	assert_int_equal(pc_walk_all(c, 0, 3, "sub/../../sub/.."), 0);
	assert_int_equal(qid_path_of(c, 3), root.st_ino);
	/* Names with a slash, empty names and over-long names are refused. */
	pc_begin(c, 110);
	pc_u32(c, 0);
	pc_u32(c, 4);
	pc_u16(c, 1);
	pc_str(c, "../etc");
	assert_int_equal(pc_send(c), EINVAL);
	pc_begin(c, 110);
	pc_u32(c, 0);
	pc_u32(c, 4);
	pc_u16(c, 1);
	pc_str(c, "");
	assert_int_equal(pc_send(c), EINVAL);
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	pc_begin(c, 110);
	pc_u32(c, 0);
	pc_u32(c, 4);
	pc_u16(c, 1);
	pc_str(c, longname);
	assert_int_equal(pc_send(c), ENAMETOOLONG);
	/* A NUL inside a name. */
	pc_begin(c, 110);
	pc_u32(c, 0);
	pc_u32(c, 4);
	pc_u16(c, 1);
	pc_u16(c, 3);
	pc_bytes(c, "a\0b", 3);
	assert_int_equal(pc_send(c), EINVAL);
	assert_int_equal(pc_clunk(c, 4), EBADF);
}

/* Host-planted symlinks to "/" and to an outside folder: walking through
 * them stops at the link (a partial walk), opening them fails. */
static void test_symlink_escape_refused(void **state)
{
	struct cfx *x = *state;
	struct pc *c = x->c;
	char p[256];
	in_share(x, "to_root", p, sizeof(p));
	assert_int_equal(symlink("/", p), 0);
	in_share(x, "to_out", p, sizeof(p));
	assert_int_equal(symlink(x->out, p), 0);
	in_share(x, "to_secret", p, sizeof(p));
	char target[128];
	snprintf(target, sizeof(target), "%s/secret", x->out);
	assert_int_equal(symlink(target, p), 0);

	int n;
	assert_int_equal(pc_walk(c, 0, 1, "to_root/etc", &n), 0);
	assert_int_equal(n, 1);                       /* stopped at the link */
	assert_int_equal(pc_clunk(c, 1), EBADF);      /* newfid not made */
	assert_int_equal(pc_walk(c, 0, 1, "to_out/secret", &n), 0);
	assert_int_equal(n, 1);
	/* A lone link as the first name fails as a whole. */
	assert_int_equal(pc_walk_all(c, 0, 1, "to_out"), 0);
	assert_int_equal(pc_walk(c, 1, 2, "secret", &n), ELOOP);
	assert_int_equal(pc_lopen(c, 1, 0), ELOOP);
	assert_int_equal(pc_lcreate(c, 1, "planted", 1, 0644), ENOTDIR);
	assert_int_equal(pc_mkdir(c, 1, "planted", 0755), ENOTDIR);
	assert_int_equal(pc_symlink(c, 1, "planted", "x"), ENOTDIR);
	assert_int_equal(pc_unlinkat(c, 1, "secret", 0), ENOTDIR);

	assert_int_equal(pc_walk_all(c, 0, 3, "to_secret"), 0);
	assert_int_equal(pc_lopen(c, 3, 0), ELOOP);
	struct pc_attr a;
	assert_int_equal(pc_getattr(c, 3, &a), 0);    /* the link, not its target */
	assert_true(S_ISLNK(a.mode));
	assert_int_equal(a.size, strlen(target));

	struct stat st;
	snprintf(p, sizeof(p), "%s/planted", x->out);
	assert_int_equal(lstat(p, &st), -1);
	assert_int_equal(lstat(target, &st), 0);
	assert_int_equal(st.st_size, 7);
}

/* A link the guest makes is never followed by the host. */
static void test_guest_symlink_not_followed(void **state)
{
	struct cfx *x = *state;
	struct pc *c = x->c;
	char target[128];
	snprintf(target, sizeof(target), "%s/secret", x->out);
	assert_int_equal(pc_symlink(c, 0, "evil", target), 0);
	assert_int_equal(pc_walk_all(c, 0, 1, "evil"), 0);
	assert_int_equal(pc_lopen(c, 1, 2), ELOOP);
	pc_begin(c, 26);                               /* truncate through it */
	pc_u32(c, 1);
	pc_u32(c, P9_SETATTR_SIZE);
	pc_u32(c, 0); pc_u32(c, 0); pc_u32(c, 0);
	pc_u64(c, 0);
	pc_u64(c, 0); pc_u64(c, 0); pc_u64(c, 0); pc_u64(c, 0);
	assert_int_equal(pc_send(c), EINVAL);
	pc_begin(c, 26);                               /* chmod through it */
	pc_u32(c, 1);
	pc_u32(c, P9_SETATTR_MODE);
	pc_u32(c, 0777); pc_u32(c, 0); pc_u32(c, 0);
	pc_u64(c, 0);
	pc_u64(c, 0); pc_u64(c, 0); pc_u64(c, 0); pc_u64(c, 0);
	assert_int_equal(pc_send(c), EOPNOTSUPP);
	/* Creating over it does not write its target. */
	assert_int_equal(pc_walk_all(c, 0, 2, ""), 0);
	assert_int_equal(pc_lcreate(c, 2, "evil", 1 | P9_DOTL_TRUNC, 0644), EEXIST);
	/* A hard link to it links the link itself. */
	pc_begin(c, 70);
	pc_u32(c, 0);
	pc_u32(c, 1);
	pc_str(c, "evil2");
	assert_int_equal(pc_send(c), 0);
	char p[256];
	struct stat st;
	in_share(x, "evil2", p, sizeof(p));
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	/* The outside file is untouched. */
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_size, 7);
	assert_int_equal(st.st_mode & 0777, 0644);
}

/* The folder a fid names is swapped for a symlink on the host between the
 * walk and the next calls: the fid keeps its original directory. */
static void test_swap_dir_for_symlink(void **state)
{
	struct cfx *x = *state;
	struct pc *c = x->c;
	char d[128], old[128], p[256];
	in_share(x, "d", d, sizeof(d));
	in_share(x, "d_old", old, sizeof(old));
	assert_int_equal(mkdir(d, 0755), 0);
	snprintf(p, sizeof(p), "%s/inner", d);
	write_file(p, "inside");
	assert_int_equal(pc_walk_all(c, 0, 1, "d"), 0);
	assert_int_equal(pc_walk_all(c, 0, 2, "d/inner"), 0);
	assert_int_equal(pc_walk_all(c, 0, 5, "d"), 0);

	assert_int_equal(rename(d, old), 0);
	assert_int_equal(symlink(x->out, d), 0);
	snprintf(p, sizeof(p), "%s/inner", x->out);
	write_file(p, "outside");

	/* Walking on from the old fid stays in the original folder. */
	assert_int_equal(pc_walk_all(c, 1, 3, "secret"), ENOENT);
	assert_int_equal(pc_walk_all(c, 1, 3, "inner"), 0);
	assert_int_equal(pc_lopen(c, 3, 0), 0);
	const uint8_t *data;
	uint32_t n;
	assert_int_equal(pc_read(c, 3, 0, 64, &data, &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(data, "inside", 6);
	/* So does opening a file walked before the swap. */
	assert_int_equal(pc_lopen(c, 2, 0), 0);
	assert_int_equal(pc_read(c, 2, 0, 64, &data, &n), 0);
	assert_memory_equal(data, "inside", 6);
	/* Creating in the old fid creates in the original folder. */
	assert_int_equal(pc_lcreate(c, 1, "made", 1, 0644), 0);
	struct stat st;
	snprintf(p, sizeof(p), "%s/made", old);
	assert_int_equal(stat(p, &st), 0);
	snprintf(p, sizeof(p), "%s/made", x->out);
	assert_int_equal(stat(p, &st), -1);
	/* Listing the directory fid opened after the swap lists the original. */
	assert_int_equal(pc_lopen(c, 5, 0), 0);
	pc_begin(c, 40);
	pc_u32(c, 5);
	pc_u64(c, 0);
	pc_u32(c, 4096);
	assert_int_equal(pc_send(c), 0);
	uint32_t count = pc_g32(c);
	bool saw_secret = false;
	for (size_t end = c->roff + count; c->roff < end;) {
		c->roff += 13 + 8 + 1;
		char name[300];
		pc_gstr(c, name, sizeof(name));
		saw_secret |= !strcmp(name, "secret");
	}
	assert_false(saw_secret);
	/* A fresh walk meets the symlink and stops there. */
	int nq;
	assert_int_equal(pc_walk(c, 0, 4, "d/secret", &nq), 0);
	assert_int_equal(nq, 1);
	/* A file replaced by a symlink after the walk: the fid opens the original. */
	snprintf(p, sizeof(p), "%s/f", c->dir);
	write_file(p, "mine");
	assert_int_equal(pc_walk_all(c, 0, 6, "f"), 0);
	assert_int_equal(unlink(p), 0);
	char target[128];
	snprintf(target, sizeof(target), "%s/secret", x->out);
	assert_int_equal(symlink(target, p), 0);
	assert_int_equal(pc_lopen(c, 6, 0), 0);
	assert_int_equal(pc_read(c, 6, 0, 64, &data, &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(data, "mine", 4);
}

/* True when inotify saw the file opened since the watch was added. */
static bool was_opened(int ino)
{
	struct pollfd pfd = { .fd = ino, .events = POLLIN };
	if (poll(&pfd, 1, 0) != 1)
		return false;
	char buf[4096] __attribute__((aligned(8)));
	ssize_t n = read(ino, buf, sizeof(buf));
	for (ssize_t off = 0; off < n;) {
		const struct inotify_event *e = (const struct inotify_event *)(buf + off);
		if (e->mask & IN_OPEN)
			return true;
		off += (ssize_t)sizeof(*e) + e->len;
	}
	return false;
}

static void test_special_files_never_opened(void **state)
{
	struct cfx *x = *state;
	struct pc *c = x->c;
	char fifo[256], dev[256];
	in_share(x, "fifo", fifo, sizeof(fifo));
	in_share(x, "null", dev, sizeof(dev));
	assert_int_equal(mkfifo(fifo, 0666), 0);
	bool have_dev = mknod(dev, S_IFCHR | 0666, makedev(1, 3)) == 0;
	if (!have_dev)
		print_message("not root: device node part skipped\n");
	int ino = inotify_init1(IN_NONBLOCK);
	assert_true(ino >= 0);
	assert_true(inotify_add_watch(ino, fifo, IN_OPEN) >= 0);
	if (have_dev)
		assert_true(inotify_add_watch(ino, dev, IN_OPEN) >= 0);

	assert_int_equal(pc_walk_all(c, 0, 1, "fifo"), 0);
	assert_int_equal(pc_lopen(c, 1, 0), EACCES);
	assert_int_equal(pc_lopen(c, 1, 1), EACCES);
	struct pc_attr a;
	assert_int_equal(pc_getattr(c, 1, &a), 0);    /* still visible */
	assert_true(S_ISFIFO(a.mode));
	pc_begin(c, 26);                               /* truncate needs an open */
	pc_u32(c, 1);
	pc_u32(c, P9_SETATTR_SIZE);
	pc_u32(c, 0); pc_u32(c, 0); pc_u32(c, 0);
	pc_u64(c, 0);
	pc_u64(c, 0); pc_u64(c, 0); pc_u64(c, 0); pc_u64(c, 0);
	assert_int_equal(pc_send(c), EINVAL);
	assert_int_equal(pc_walk_all(c, 0, 2, ""), 0);
	assert_int_equal(pc_lcreate(c, 2, "fifo", 0, 0644), EEXIST);
	if (have_dev) {
		assert_int_equal(pc_walk_all(c, 0, 3, "null"), 0);
		assert_int_equal(pc_lopen(c, 3, 2), EACCES);
		assert_int_equal(pc_lcreate(c, 2, "null", 2, 0644), EEXIST);
	}
	assert_false(was_opened(ino));
	close(ino);

	/* The guest may make FIFOs but no device nodes. */
	pc_begin(c, 18);
	pc_u32(c, 0);
	pc_str(c, "guestdev");
	pc_u32(c, S_IFBLK | 0600);
	pc_u32(c, 8); pc_u32(c, 0); pc_u32(c, 0);
	assert_int_equal(pc_send(c), EPERM);
	pc_begin(c, 18);
	pc_u32(c, 0);
	pc_str(c, "guestchr");
	pc_u32(c, S_IFCHR | 0600);
	pc_u32(c, 1); pc_u32(c, 3); pc_u32(c, 0);
	assert_int_equal(pc_send(c), EPERM);
	pc_begin(c, 18);
	pc_u32(c, 0);
	pc_str(c, "guestfifo");
	pc_u32(c, S_IFIFO | 0600);
	pc_u32(c, 0); pc_u32(c, 0); pc_u32(c, 0);
	assert_int_equal(pc_send(c), 0);
	struct stat st;
	char p[256];
	in_share(x, "guestdev", p, sizeof(p));
	assert_int_equal(lstat(p, &st), -1);
	in_share(x, "guestfifo", p, sizeof(p));
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(pc_walk_all(c, 0, 4, "guestfifo"), 0);
	assert_int_equal(pc_lopen(c, 4, 0), EACCES);
}

/* procfs mounted inside the share (as /proc is in a share of "/") is
 * refused at the walk, with all below it; the rest of the share is served.
 * A share that is itself a kernel interface is refused when it is made. */
static void test_kernel_interfaces_never_served(void **state)
{
	/* A mount namespace of this process's own, so the host's mounts stay;
	 * the share is opened in it (an fd keeps the namespace it was opened in). */
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		print_message("cannot mount procfs here (%s): needs root\n", strerror(errno));
		skip();
	}
	struct pc *c = pc_open(false, 0);
	char proc[256], file[256];
	pc_host_path(c, "proc", proc, sizeof(proc));
	pc_host_path(c, "file", file, sizeof(file));
	assert_int_equal(mkdir(proc, 0755), 0);
	write_file(file, "served");
	assert_int_equal(mount("proc", proc, "proc", 0, NULL), 0);
	int walk_proc = pc_walk_all(c, 0, 1, "proc");
	int walk_mem = pc_walk_all(c, 0, 2, "proc/self/mem");
	int walk_file = pc_walk_all(c, 0, 3, "file");
	assert_int_equal(umount(proc), 0);
	assert_int_equal(walk_proc, EACCES);
	assert_int_equal(walk_mem, EACCES);
	assert_int_equal(walk_file, 0);
	assert_int_equal(pc_walk_all(c, 0, 4, "proc"), 0);   /* the folder under it again */
	pc_close(c);

	struct p9_server *s = NULL;
	struct arcvm_error err;
	assert_true(p9_server_create("/proc", true, 0, &s, &err) < 0);
	assert_non_null(strstr(err.msg, "kernel interface"));
	assert_true(p9_server_create("/sys", true, 0, &s, &err) < 0);
	assert_null(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dotdot_at_root_stays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_escape_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_symlink_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swap_dir_for_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_special_files_never_opened, setup, teardown),
		cmocka_unit_test(test_kernel_interfaces_never_served),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
