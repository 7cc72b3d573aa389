/*
 * ops.c - 9P2000.L handlers that inspect or change the file tree: create,
 * attributes, links, renames, removal, statfs, and the xattr and lock
 * messages Linux sends. Each parses its fields, checks them (fids, names,
 * read-only share), then makes one confined host call (p9/fs.h).
 *
 * Thread ownership: as server.c; all state is the server's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "p9/ops.h"

/* Parses "dfid[4] name[s]" and checks both. */
static int get_dir_name(struct p9_server *s, struct p9_req *r, struct p9_fid **dir,
			char name[P9_NAME_BUF])
{
	uint32_t id = p9_get_u32(&r->in);
	const char *n;
	uint16_t len;
	p9_get_str(&r->in, &n, &len);
	if (r->in.bad)
		return -EINVAL;
	int e = p9_get_dir(s, id, dir);
	return e < 0 ? e : p9_copy_name(n, len, name);
}

/* Appends the qid of dirfd/name (not following a symlink). */
static int put_qid_at(struct p9_server *s, struct p9_req *r, int dirfd, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	struct p9_qid q;
	p9_fs_qid(&s->fs, &st, &q);
	p9_put_qid(&r->out, &q);
	return 0;
}

int p9_op_lcreate(struct p9_server *s, struct p9_req *r)
{
	struct p9_fid *dir;
	char name[P9_NAME_BUF];
	int e = get_dir_name(s, r, &dir, name);
	uint32_t fl = p9_get_u32(&r->in), mode = p9_get_u32(&r->in);
	p9_get_u32(&r->in);   /* gid: files belong to the VMM's user */
	if (r->in.bad)
		return -EINVAL;
	if (e < 0)
		return e;
	if (s->fs.read_only)
		return -EROFS;
	if (dir->kind != P9_FID_PATH)
		return -EBADF;
	bool writes;
	int flags = p9_open_flags(fl, &writes);
	if (flags < 0)
		return flags;
	flags &= ~O_DIRECTORY;
	char *path;
	e = p9_join(dir->path, name, &path);
	if (e < 0)
		return e;
	int fd;
	e = p9_fs_create(&s->fs, dir->fd, name, flags, mode, &fd);
	if (e == 0 && (e = p9_put_stat_qid(s, r, fd)) < 0)
		close(fd);
	if (e < 0) {
		free(path);
		return e;
	}
	/* The directory fid becomes the new, open file. */
	close(dir->fd);
	free(dir->path);
	dir->fd = fd;
	dir->path = path;
	dir->type = S_IFREG;
	dir->kind = P9_FID_OPEN;
	dir->open_flags = flags & ~(O_CREAT | O_EXCL | O_TRUNC);
	p9_put_u32(&r->out, 0);
	return 0;
}

int p9_op_getattr(struct p9_server *s, struct p9_req *r)
{
	uint32_t id = p9_get_u32(&r->in);
	p9_get_u64(&r->in);   /* request mask: the basic set is always sent */
	if (r->in.bad)
		return -EINVAL;
	struct p9_fid *f;
	int e = p9_get_fid(s, id, &f);
	struct stat st;
	if (e == 0)
		e = p9_fs_stat(f->fd, &st);
	if (e < 0)
		return e;
	struct p9_qid q;
	p9_fs_qid(&s->fs, &st, &q);
	struct p9_out *o = &r->out;
	p9_put_u64(o, P9_GETATTR_BASIC);
	p9_put_qid(o, &q);
	p9_put_u32(o, st.st_mode);
	p9_put_u32(o, st.st_uid);
	p9_put_u32(o, st.st_gid);
	p9_put_u64(o, st.st_nlink);
	p9_put_u64(o, st.st_rdev);
	p9_put_u64(o, (uint64_t)st.st_size);
	p9_put_u64(o, (uint64_t)st.st_blksize);
	p9_put_u64(o, (uint64_t)st.st_blocks);
	p9_put_u64(o, (uint64_t)st.st_atim.tv_sec);
	p9_put_u64(o, (uint64_t)st.st_atim.tv_nsec);
	p9_put_u64(o, (uint64_t)st.st_mtim.tv_sec);
	p9_put_u64(o, (uint64_t)st.st_mtim.tv_nsec);
	p9_put_u64(o, (uint64_t)st.st_ctim.tv_sec);
	p9_put_u64(o, (uint64_t)st.st_ctim.tv_nsec);
	for (int i = 0; i < 4; i++)
		p9_put_u64(o, 0);   /* btime sec, nsec, gen, data_version */
	return 0;
}

/* One time of Tsetattr: now, the given time, or left alone. */
static int set_time(struct timespec *t, uint32_t valid, uint32_t bit, uint32_t set_bit,
		    uint64_t sec, uint64_t nsec)
{
	if (!(valid & bit)) {
		t->tv_nsec = UTIME_OMIT;
	} else if (!(valid & set_bit)) {
		t->tv_nsec = UTIME_NOW;
	} else {
		if (nsec >= 1000000000u || sec > INT64_MAX)
			return -EINVAL;
		t->tv_sec = (time_t)sec;
		t->tv_nsec = (long)nsec;
	}
	return 0;
}

int p9_op_setattr(struct p9_server *s, struct p9_req *r)
{
	uint32_t id = p9_get_u32(&r->in), valid = p9_get_u32(&r->in);
	uint32_t mode = p9_get_u32(&r->in), uid = p9_get_u32(&r->in), gid = p9_get_u32(&r->in);
	uint64_t size = p9_get_u64(&r->in);
	uint64_t as = p9_get_u64(&r->in), ans = p9_get_u64(&r->in);
	uint64_t ms = p9_get_u64(&r->in), mns = p9_get_u64(&r->in);
	if (r->in.bad)
		return -EINVAL;
	struct p9_fid *f;
	int e = p9_get_fid(s, id, &f);
	if (e < 0)
		return e;
	if (s->fs.read_only)
		return -EROFS;
	struct timespec ts[2];
	if (set_time(&ts[0], valid, P9_SETATTR_ATIME, P9_SETATTR_ATIME_SET, as, ans) < 0 ||
	    set_time(&ts[1], valid, P9_SETATTR_MTIME, P9_SETATTR_MTIME_SET, ms, mns) < 0)
		return -EINVAL;
	if (valid & P9_SETATTR_MODE && (e = p9_fs_chmod(&s->fs, f->fd, f->type, mode)) < 0)
		return e;
	if (valid & (P9_SETATTR_UID | P9_SETATTR_GID)) {
		e = p9_fs_chown(f->fd, valid & P9_SETATTR_UID ? uid : (uint32_t)-1,
				valid & P9_SETATTR_GID ? gid : (uint32_t)-1);
		/* Like QEMU's security_model=none: an unprivileged VMM cannot
		 * give files away, and the guest is not told. */
		if (e < 0 && e != -EPERM)
			return e;
	}
	if (valid & P9_SETATTR_SIZE && (e = p9_fs_truncate(&s->fs, f->fd, f->type, size)) < 0)
		return e;
	if (valid & (P9_SETATTR_ATIME | P9_SETATTR_MTIME))
		return p9_fs_utimes(f->fd, ts);
	return 0;
}

int p9_op_statfs(struct p9_server *s, struct p9_req *r)
{
	uint32_t id = p9_get_u32(&r->in);
	if (r->in.bad)
		return -EINVAL;
	struct p9_fid *f;
	int e = p9_get_fid(s, id, &f);
	if (e < 0)
		return e;
	struct statfs sf;
	if (fstatfs(f->fd, &sf) < 0)
		return -errno;
	struct p9_out *o = &r->out;
	uint64_t fsid;
	memcpy(&fsid, &sf.f_fsid, sizeof(fsid));
	p9_put_u32(o, (uint32_t)sf.f_type);
	p9_put_u32(o, (uint32_t)sf.f_bsize);
	p9_put_u64(o, sf.f_blocks);
	p9_put_u64(o, sf.f_bfree);
	p9_put_u64(o, sf.f_bavail);
	p9_put_u64(o, sf.f_files);
	p9_put_u64(o, sf.f_ffree);
	p9_put_u64(o, fsid);
	p9_put_u32(o, (uint32_t)sf.f_namelen);
	return 0;
}

int p9_op_mkdir(struct p9_server *s, struct p9_req *r)
{
	struct p9_fid *dir;
	char name[P9_NAME_BUF];
	int e = get_dir_name(s, r, &dir, name);
	uint32_t mode = p9_get_u32(&r->in);
	p9_get_u32(&r->in);   /* gid */
	if (r->in.bad)
		return -EINVAL;
	if (e < 0)
		return e;
	if (s->fs.read_only)
		return -EROFS;
	mode_t m = p9_fs_safe_mode(S_IFDIR, mode);
	if (mkdirat(dir->fd, name, m) < 0)
		return -errno;
	if (m & s->fs.umask) {
		/* Undo the host umask on exactly the directory just made. */
		int fd;
		struct stat st;
		if (p9_fs_lookup(&s->fs, dir->fd, name, &fd) == 0) {
			if (p9_fs_stat(fd, &st) == 0 && S_ISDIR(st.st_mode))
				p9_fs_chmod(&s->fs, fd, S_IFDIR, m);
			close(fd);
		}
	}
	return put_qid_at(s, r, dir->fd, name);
}

int p9_op_symlink(struct p9_server *s, struct p9_req *r)
{
	struct p9_fid *dir;
	char name[P9_NAME_BUF];
	int e = get_dir_name(s, r, &dir, name);
	const char *t;
	uint16_t tlen;
	p9_get_str(&r->in, &t, &tlen);
	p9_get_u32(&r->in);   /* gid */
	if (r->in.bad)
		return -EINVAL;
	if (e < 0)
		return e;
	if (s->fs.read_only)
		return -EROFS;
	/* The target is text for the guest to resolve; the host never does. */
	if (tlen == 0 || memchr(t, '\0', tlen))
		return -EINVAL;
	if (tlen >= PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(s->path, t, tlen);
	s->path[tlen] = '\0';
	if (symlinkat(s->path, dir->fd, name) < 0)
		return -errno;
	return put_qid_at(s, r, dir->fd, name);
}

int p9_op_mknod(struct p9_server *s, struct p9_req *r)
{
	struct p9_fid *dir;
	char name[P9_NAME_BUF];
	int e = get_dir_name(s, r, &dir, name);
	uint32_t mode = p9_get_u32(&r->in);
	p9_get_u32(&r->in);   /* major */
	p9_get_u32(&r->in);   /* minor */
	p9_get_u32(&r->in);   /* gid */
	if (r->in.bad)
		return -EINVAL;
	if (e < 0)
		return e;
	if (s->fs.read_only)
		return -EROFS;
	mode_t type = mode & S_IFMT;
	if (type == S_IFCHR || type == S_IFBLK)
		return -EPERM;      /* no device nodes in a share, ever */
	if (type == 0)
		type = S_IFREG;
	if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK)
		return -EINVAL;
	if (mknodat(dir->fd, name, type | p9_fs_safe_mode(type, mode), 0) < 0)
		return -errno;
	return put_qid_at(s, r, dir->fd, name);
}

int p9_op_readlink(struct p9_server *s, struct p9_req *r)
{
	uint32_t id = p9_get_u32(&r->in);
	if (r->in.bad)
		return -EINVAL;
	struct p9_fid *f;
	int e = p9_get_fid(s, id, &f);
	if (e < 0)
		return e;
	if (!S_ISLNK(f->type))
		return -EINVAL;
	ssize_t n = readlinkat(f->fd, "", s->path, sizeof(s->path));
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(s->path))
		return -ENAMETOOLONG;
	p9_put_str(&r->out, s->path, (size_t)n);
	return 0;
}

int p9_op_link(struct p9_server *s, struct p9_req *r)
{
	uint32_t dirid = p9_get_u32(&r->in), id = p9_get_u32(&r->in);
	const char *n;
	uint16_t len;
	p9_get_str(&r->in, &n, &len);
	if (r->in.bad)
		return -EINVAL;
	struct p9_fid *dir, *f;
	char name[P9_NAME_BUF];
	int e = p9_get_dir(s, dirid, &dir);
	if (e == 0)
		e = p9_get_fid(s, id, &f);
	if (e == 0)
		e = p9_copy_name(n, len, name);
	if (e < 0)
		return e;
	if (s->fs.read_only)
		return -EROFS;
	if (S_ISDIR(f->type))
		return -EPERM;
	return p9_fs_link(&s->fs, f->fd, f->type, dir->fd, name);
}

/* The fid's parent directory (O_PATH) and last name, from its path. The
 * path is only a record of how the fid was reached (a rename of a folder
 * above it makes it stale), so the name must still lead to the fid's own
 * inode, else -ESTALE. */
static int split_parent(struct p9_server *s, const struct p9_fid *f, int *dirfd, const char **base)
{
	if (!f->path[0])
		return -EBUSY;      /* the root has no name to change */
	strcpy(s->path, f->path);
	char *slash = strrchr(s->path, '/');
	*base = slash ? f->path + (slash - s->path) + 1 : f->path;
	if (slash)
		*slash = '\0';
	else
		s->path[0] = '\0';
	struct stat mine, named;
	int e = p9_fs_stat(f->fd, &mine);
	if (e == 0)
		e = p9_fs_lookup_path(&s->fs, s->path, dirfd);
	if (e < 0)
		return e;
	if (fstatat(*dirfd, *base, &named, AT_SYMLINK_NOFOLLOW) < 0 ||
	    named.st_dev != mine.st_dev || named.st_ino != mine.st_ino) {
		close(*dirfd);
		return -ESTALE;
	}
	return 0;
}

int p9_op_rename(struct p9_server *s, struct p9_req *r)
{
	uint32_t id = p9_get_u32(&r->in);
	struct p9_fid *dir, *f;
	char name[P9_NAME_BUF];
	int e = get_dir_name(s, r, &dir, name);
	if (e < 0)
		return e;
	if ((e = p9_get_fid(s, id, &f)) < 0)
		return e;
	if (s->fs.read_only)
		return -EROFS;
	char *path;
	if ((e = p9_join(dir->path, name, &path)) < 0)
		return e;
	int from;
	const char *base;
	e = split_parent(s, f, &from, &base);
	if (e == 0) {
		e = renameat(from, base, dir->fd, name) < 0 ? -errno : 0;
		close(from);
	}
	if (e < 0) {
		free(path);
		return e;
	}
	free(f->path);
	f->path = path;
	return 0;
}

int p9_op_renameat(struct p9_server *s, struct p9_req *r)
{
	struct p9_fid *olddir, *newdir;
	char oldname[P9_NAME_BUF], newname[P9_NAME_BUF];
	int e = get_dir_name(s, r, &olddir, oldname);
	if (e < 0)
		return e;
	if ((e = get_dir_name(s, r, &newdir, newname)) < 0)
		return e;
	if (s->fs.read_only)
		return -EROFS;
	return renameat(olddir->fd, oldname, newdir->fd, newname) < 0 ? -errno : 0;
}

int p9_op_unlinkat(struct p9_server *s, struct p9_req *r)
{
	struct p9_fid *dir;
	char name[P9_NAME_BUF];
	int e = get_dir_name(s, r, &dir, name);
	uint32_t flags = p9_get_u32(&r->in);
	if (r->in.bad)
		return -EINVAL;
	if (e < 0)
		return e;
	if (flags & ~P9_AT_REMOVEDIR)
		return -EINVAL;
	if (s->fs.read_only)
		return -EROFS;
	if (unlinkat(dir->fd, name, flags ? AT_REMOVEDIR : 0) < 0)
		return -errno;
	return 0;
}

int p9_op_remove(struct p9_server *s, struct p9_req *r)
{
	uint32_t id = p9_get_u32(&r->in);
	if (r->in.bad)
		return -EINVAL;
	struct p9_fid *f;
	int e = p9_get_fid(s, id, &f);
	if (e < 0)
		return e;
	int dirfd;
	const char *base;
	if (s->fs.read_only)
		e = -EROFS;
	else
		e = split_parent(s, f, &dirfd, &base);
	if (e == 0) {
		if (unlinkat(dirfd, base, S_ISDIR(f->type) ? AT_REMOVEDIR : 0) < 0)
			e = -errno;
		close(dirfd);
	}
	/* Tremove clunks the fid whatever happened. */
	p9_fid_remove(&s->fids, f);
	return e;
}

int p9_op_xattrwalk(struct p9_server *s, struct p9_req *r)
{
	uint32_t id = p9_get_u32(&r->in), newid = p9_get_u32(&r->in);
	const char *n;
	uint16_t len;
	p9_get_str(&r->in, &n, &len);
	if (r->in.bad)
		return -EINVAL;
	struct p9_fid *f, *x;
	int e = p9_get_fid(s, id, &f);
	if (e < 0)
		return e;
	/* Extended attributes are not passed through (security.* and
	 * trusted.* are the host's business): every file has none. */
	if (len > 0)
		return -ENODATA;
	if ((e = p9_fid_add(&s->fids, newid, &x)) < 0)
		return e;
	x->kind = P9_FID_XATTR;
	p9_put_u64(&r->out, 0);
	return 0;
}

int p9_op_xattrcreate(struct p9_server *s, struct p9_req *r)
{
	return -EOPNOTSUPP;
}

/* Parses the common part of Tlock / Tgetlock after the fid. */
int p9_op_lock(struct p9_server *s, struct p9_req *r)
{
	uint32_t id = p9_get_u32(&r->in);
	p9_get_u8(&r->in);    /* type */
	p9_get_u32(&r->in);   /* flags */
	p9_get_u64(&r->in);   /* start */
	p9_get_u64(&r->in);   /* length */
	p9_get_u32(&r->in);   /* proc_id */
	const char *c;
	uint16_t clen;
	p9_get_str(&r->in, &c, &clen);
	if (r->in.bad)
		return -EINVAL;
	struct p9_fid *f;
	int e = p9_get_fid(s, id, &f);
	if (e < 0)
		return e;
	/* POSIX locks are kept by the guest kernel; the host grants all. */
	p9_put_u8(&r->out, P9_LOCK_SUCCESS);
	return 0;
}

int p9_op_getlock(struct p9_server *s, struct p9_req *r)
{
	uint32_t id = p9_get_u32(&r->in);
	p9_get_u8(&r->in);    /* type */
	uint64_t start = p9_get_u64(&r->in), length = p9_get_u64(&r->in);
	uint32_t proc_id = p9_get_u32(&r->in);
	const char *c;
	uint16_t clen;
	p9_get_str(&r->in, &c, &clen);
	if (r->in.bad)
		return -EINVAL;
	struct p9_fid *f;
	int e = p9_get_fid(s, id, &f);
	if (e < 0)
		return e;
	p9_put_u8(&r->out, P9_LOCK_TYPE_UNLCK);   /* nothing conflicts */
	p9_put_u64(&r->out, start);
	p9_put_u64(&r->out, length);
	p9_put_u32(&r->out, proc_id);
	p9_put_str(&r->out, c, clen);
	return 0;
}
