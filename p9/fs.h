/*
 * fs.h - host file operations for a 9P share, confined to the shared folder.
 *
 * Confinement design (docs/9p.md has the long form):
 *  - Every fid holds an fd (O_PATH, or the file opened for I/O) reached from
 *    the share's root fd one name at a time. p9_fs_lookup() resolves exactly
 *    one guest name relative to a directory fd with openat2() and
 *    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, plus
 *    O_NOFOLLOW | O_PATH, after p9_fs_name_ok() refused "", ".", "..", and
 *    names holding '/' or NUL. A symlink is therefore reached as itself and
 *    never followed by the host; ".." is handled by the server on the fid's
 *    path, resolved again from the root with the same flags.
 *  - Files are opened for I/O by reopening the fid's own inode through
 *    /proc/self/fd (p9_fs_reopen): no path is resolved at open time, so no
 *    rename or symlink swap between walk and open can redirect it. Only
 *    regular files and directories are reopened; FIFOs, sockets, devices and
 *    symlinks never are (an inode's type never changes, and the opened fd is
 *    checked again with fstat).
 *  - Name-based operations (create, mkdir, unlink, rename, link, symlink,
 *    mknod) use the *at() call with a directory fid's fd and one checked
 *    name; none of them follows a final symlink.
 *
 * Functions return 0 or a negative errno that the server sends as Rlerror.
 * Threads: a struct p9_fs is constant after p9_fs_open(); calls on it may run
 * on any thread.
 */
#ifndef P9_FS_H
#define P9_FS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "arcvm.h"
#include "p9/proto.h"

struct p9_fs {
	int root_fd;          /* O_PATH | O_DIRECTORY: the shared folder */
	int proc_fd;          /* O_PATH | O_DIRECTORY: /proc/self/fd */
	dev_t root_dev;
	ino_t root_ino;
	bool read_only;
	mode_t umask;         /* the process umask at open, undone on create */
};

/*
 * Opens host_dir as the root of a share. Fails with ARCVM_E_NOT_FOUND /
 * ARCVM_E_PERMISSION / ARCVM_E_INVALID (not a directory) naming host_dir, or
 * ARCVM_E_UNSUPPORTED when /proc/self/fd or openat2() is unavailable.
 */
int p9_fs_open(struct p9_fs *fs, const char *host_dir, bool read_only, struct arcvm_error *err);
void p9_fs_close(struct p9_fs *fs);

/* True when name[0 .. len) is one plain path component. */
bool p9_fs_name_ok(const char *name, size_t len);

/* Resolves one checked, NUL-terminated name below dirfd; *fd is O_PATH. */
int p9_fs_lookup(const struct p9_fs *fs, int dirfd, const char *name, int *fd);

/* Resolves a relative path ("" = the root) below the root, no symlinks. */
int p9_fs_lookup_path(const struct p9_fs *fs, const char *path, int *fd);

/* Opens the inode behind pathfd (of file type `type`) with host open flags. */
int p9_fs_reopen(const struct p9_fs *fs, int pathfd, mode_t type, int flags, int *fd);

/* Creates and opens name in dirfd (O_CREAT | O_EXCL); mode from the guest. */
int p9_fs_create(const struct p9_fs *fs, int dirfd, const char *name, int flags, mode_t mode,
		 int *fd);

/* fstat of any fid fd. */
int p9_fs_stat(int fd, struct stat *st);

/* The qid the guest sees for a host file. */
void p9_fs_qid(const struct p9_fs *fs, const struct stat *st, struct p9_qid *q);

/* Tsetattr pieces. */
int p9_fs_chmod(const struct p9_fs *fs, int fd, mode_t type, mode_t mode);
int p9_fs_chown(int fd, uint32_t uid, uint32_t gid);
int p9_fs_truncate(const struct p9_fs *fs, int fd, mode_t type, uint64_t size);
int p9_fs_utimes(int fd, const struct timespec ts[2]);

/* Hard link of the inode behind fd as dirfd/name. */
int p9_fs_link(const struct p9_fs *fs, int fd, mode_t type, int dirfd, const char *name);

/* The mode bits a guest may set on a host file: permissions and sticky;
 * set-user-ID and set-group-ID are dropped for non-directories. */
mode_t p9_fs_safe_mode(mode_t type, uint32_t mode);

#endif
