/*
 * fs.c - confined host file operations for a 9P share (design in fs.h).
 */
#include "p9/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "util/err.h"

/* Every guest-named lookup: stay below the directory, follow nothing. */
#define CONFINED (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

static int openat2_confined(int dirfd, const char *name, uint64_t flags, uint64_t mode)
{
	struct open_how how = { .flags = flags, .mode = mode, .resolve = CONFINED };
	for (;;) {
		long fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		/* EAGAIN: a concurrent rename somewhere on the host; try again. */
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
}

/* The kernel's own interfaces are never served, even when one is mounted
 * inside a share (a share of "/" has /proc in it): procfs alone holds
 * /proc/PID/mem of the VMM. They all answer fstatfs; what does not is
 * something else (a symlink on a 9p mount, for one, gets ELOOP). */
static bool kernel_interface(int fd)
{
	struct statfs s;
	if (fstatfs(fd, &s))
		return false;
	switch (s.f_type) {
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC:
	case SECURITYFS_MAGIC:
	case BPF_FS_MAGIC:
	case CGROUP_SUPER_MAGIC:
	case CGROUP2_SUPER_MAGIC:
	case EFIVARFS_MAGIC:
	case PSTOREFS_MAGIC:
		return true;
	default:
		return false;
	}
}

/* The process umask, read without changing it (umask() would race with
 * other threads creating files). */
static mode_t read_umask(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	unsigned m = 022;
	char line[128];
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Umask: %o", &m) == 1)
			break;
	if (f)
		fclose(f);
	return (mode_t)(m & 0777);
}

int p9_fs_open(struct p9_fs *fs, const char *host_dir, bool read_only, struct arcvm_error *err)
{
	fs->root_fd = fs->proc_fd = -1;
	fs->read_only = read_only;
	fs->root_fd = open(host_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->root_fd < 0) {
		int e = errno;
		if (e == ENOTDIR)
			return err_set(err, ARCVM_E_INVALID, "share %s is not a directory", host_dir);
		return err_errno(err, err_from_errno(e), e, "cannot open share %s", host_dir);
	}
	if (kernel_interface(fs->root_fd)) {
		p9_fs_close(fs);
		return err_set(err, ARCVM_E_INVALID, "share %s is a kernel interface (procfs, sysfs"
			       " and the like are never shared)", host_dir);
	}
	struct stat st;
	if (fstat(fs->root_fd, &st) < 0) {
		int e = errno;
		p9_fs_close(fs);
		return err_errno(err, ARCVM_E_IO, e, "cannot stat share %s", host_dir);
	}
	fs->root_dev = st.st_dev;
	fs->root_ino = st.st_ino;
	fs->proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->proc_fd < 0) {
		p9_fs_close(fs);
		return err_set(err, ARCVM_E_UNSUPPORTED,
			       "share %s: /proc/self/fd is needed to open shared files", host_dir);
	}
	int probe = openat2_confined(fs->root_fd, ".", O_PATH | O_CLOEXEC, 0);
	if (probe < 0) {
		p9_fs_close(fs);
		return err_errno(err, ARCVM_E_UNSUPPORTED, -probe,
				 "share %s: openat2() with RESOLVE_BENEATH", host_dir);
	}
	close(probe);
	fs->umask = read_umask();
	return 0;
}

void p9_fs_close(struct p9_fs *fs)
{
	if (fs->root_fd >= 0)
		close(fs->root_fd);
	if (fs->proc_fd >= 0)
		close(fs->proc_fd);
	fs->root_fd = fs->proc_fd = -1;
}

bool p9_fs_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > 255)
		return false;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	return !memchr(name, '/', len) && !memchr(name, '\0', len);
}

int p9_fs_lookup(const struct p9_fs *fs, int dirfd, const char *name, int *fd)
{
	int r = openat2_confined(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
	if (r < 0)
		return r;
	if (kernel_interface(r)) {
		close(r);
		return -EACCES;
	}
	*fd = r;
	return 0;
}

int p9_fs_lookup_path(const struct p9_fs *fs, const char *path, int *fd)
{
	return p9_fs_lookup(fs, fs->root_fd, path[0] ? path : ".", fd);
}

/* "N" for /proc/self/fd/N. */
static void fd_name(int fd, char buf[16])
{
	snprintf(buf, 16, "%d", fd);
}

int p9_fs_reopen(const struct p9_fs *fs, int pathfd, mode_t type, int flags, int *fd)
{
	if (S_ISLNK(type))
		return -ELOOP;
	if (!S_ISREG(type) && !S_ISDIR(type))
		return -EACCES;   /* FIFOs, sockets and devices are never opened */
	char name[16];
	fd_name(pathfd, name);
	int r;
	do
		r = openat(fs->proc_fd, name, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	struct stat st;
	if (fstat(r, &st) < 0 || (st.st_mode & S_IFMT) != type) {
		close(r);
		return -EACCES;
	}
	*fd = r;
	return 0;
}

mode_t p9_fs_safe_mode(mode_t type, uint32_t mode)
{
	mode_t m = (mode_t)(mode & 07777);
	if (!S_ISDIR(type))
		m &= (mode_t)~(S_ISUID | S_ISGID);
	return m;
}

int p9_fs_create(const struct p9_fs *fs, int dirfd, const char *name, int flags, mode_t mode,
		 int *fd)
{
	mode = p9_fs_safe_mode(S_IFREG, mode);
	int r = openat2_confined(dirfd, name,
				 (uint64_t)(flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
					    O_NOCTTY), mode);
	if (r < 0)
		return r;
	/* The guest applied its own umask; undo the host's. */
	if ((mode & fs->umask) && fchmod(r, mode) < 0) {
		int e = errno;
		close(r);
		unlinkat(dirfd, name, 0);
		return -e;
	}
	*fd = r;
	return 0;
}

int p9_fs_stat(int fd, struct stat *st)
{
	return fstat(fd, st) < 0 ? -errno : 0;
}

void p9_fs_qid(const struct p9_fs *fs, const struct stat *st, struct p9_qid *q)
{
	q->type = S_ISDIR(st->st_mode) ? P9_QTDIR : S_ISLNK(st->st_mode) ? P9_QTSYMLINK : P9_QTFILE;
	q->version = 0;
	q->path = (uint64_t)st->st_ino;
	/* Files on other mounts inside the share: keep their inode numbers
	 * apart from the root file system's. */
	if (st->st_dev != fs->root_dev)
		q->path ^= (uint64_t)st->st_dev << 48;
}

int p9_fs_chmod(const struct p9_fs *fs, int fd, mode_t type, mode_t mode)
{
	if (S_ISLNK(type))
		return -EOPNOTSUPP;   /* Linux has no lchmod */
	char name[16];
	fd_name(fd, name);
	/* Through the magic link: reaches exactly this inode, O_PATH or not. */
	return fchmodat(fs->proc_fd, name, p9_fs_safe_mode(type, mode), 0) < 0 ? -errno : 0;
}

int p9_fs_chown(int fd, uint32_t uid, uint32_t gid)
{
	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

int p9_fs_truncate(const struct p9_fs *fs, int fd, mode_t type, uint64_t size)
{
	if (S_ISDIR(type))
		return -EISDIR;
	if (!S_ISREG(type))
		return -EINVAL;
	if (size > INT64_MAX)
		return -EFBIG;
	if (ftruncate(fd, (off_t)size) == 0)
		return 0;
	if (errno != EBADF && errno != EINVAL)
		return -errno;
	/* An O_PATH or read-only fd: open the same inode for writing. */
	int w;
	int r = p9_fs_reopen(fs, fd, type, O_WRONLY, &w);
	if (r < 0)
		return r;
	r = ftruncate(w, (off_t)size) < 0 ? -errno : 0;
	close(w);
	return r;
}

int p9_fs_utimes(int fd, const struct timespec ts[2])
{
	if (utimensat(fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

int p9_fs_link(const struct p9_fs *fs, int fd, mode_t type, int dirfd, const char *name)
{
	if (linkat(fd, "", dirfd, name, AT_EMPTY_PATH) == 0)
		return 0;
	/* Without CAP_DAC_READ_SEARCH, AT_EMPTY_PATH fails with ENOENT; the
	 * magic link names the same inode. It would follow a symlink fid. */
	if (errno != ENOENT || S_ISLNK(type))
		return -errno;
	char pname[16];
	fd_name(fd, pname);
	return linkat(fs->proc_fd, pname, dirfd, name, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
}
