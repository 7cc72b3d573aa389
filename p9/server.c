/*
 * server.c - the 9P2000.L session: request framing, dispatch, and the
 * handlers for the session, walk and I/O messages. Handlers that change the
 * file tree live in ops.c (p9/ops.h).
 *
 * Thread ownership: everything in struct p9_server belongs to the thread
 * calling p9_server_handle() (the I/O thread); see server.h.
 */
#include "p9/server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p9/ops.h"
#include "util/err.h"

static bool fid_ok(const struct p9_fid *f)
{
	return f && f->kind != P9_FID_XATTR && f->kind != P9_FID_STALE;
}

int p9_get_fid(struct p9_server *s, uint32_t id, struct p9_fid **out)
{
	struct p9_fid *f = p9_fid_get(&s->fids, id);
	if (f && f->kind == P9_FID_STALE)
		return -ESTALE;
	if (!fid_ok(f))
		return -EBADF;
	*out = f;
	return 0;
}

int p9_get_dir(struct p9_server *s, uint32_t id, struct p9_fid **out)
{
	int r = p9_get_fid(s, id, out);
	if (r == 0 && !S_ISDIR((*out)->type))
		r = -ENOTDIR;
	return r;
}

int p9_copy_name(const char *name, uint16_t len, char buf[P9_NAME_BUF])
{
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	if (!p9_fs_name_ok(name, len))
		return -EINVAL;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return 0;
}

int p9_join(const char *dir, const char *name, char **out)
{
	size_t a = strlen(dir), b = strlen(name);
	if (a + 1 + b >= PATH_MAX)
		return -ENAMETOOLONG;
	char *p = malloc(a + b + 2);
	if (!p)
		return -ENOMEM;
	if (a) {
		memcpy(p, dir, a);
		p[a++] = '/';
	}
	memcpy(p + a, name, b + 1);
	*out = p;
	return 0;
}

int p9_put_stat_qid(struct p9_server *s, struct p9_req *r, int fd)
{
	struct stat st;
	int e = p9_fs_stat(fd, &st);
	if (e < 0)
		return e;
	struct p9_qid q;
	p9_fs_qid(&s->fs, &st, &q);
	p9_put_qid(&r->out, &q);
	return 0;
}

/* ---- session ---- */

static int h_version(struct p9_server *s, struct p9_req *r)
{
	uint32_t msize = p9_get_u32(&r->in);
	const char *ver;
	uint16_t vlen;
	p9_get_str(&r->in, &ver, &vlen);
	if (r->in.bad)
		return -EINVAL;
	/* A new version starts a new session: every fid is dropped. */
	p9_fids_clear(&s->fids);
	s->msize = 0;
	bool known = vlen == strlen(P9_VERSION) && !memcmp(ver, P9_VERSION, vlen);
	if (known && msize < P9_MSIZE_MIN)
		return -EINVAL;
	if (known)
		s->msize = msize < P9_MSIZE_MAX ? msize : P9_MSIZE_MAX;
	p9_put_u32(&r->out, known ? s->msize : msize);
	if (known)
		p9_put_str(&r->out, P9_VERSION, strlen(P9_VERSION));
	else
		p9_put_str(&r->out, "unknown", 7);
	return 0;
}

static int h_attach(struct p9_server *s, struct p9_req *r)
{
	const char *uname, *aname;
	uint16_t ulen, alen;
	uint32_t id = p9_get_u32(&r->in);
	p9_get_u32(&r->in);   /* afid: no authentication */
	p9_get_str(&r->in, &uname, &ulen);
	p9_get_str(&r->in, &aname, &alen);
	p9_get_u32(&r->in);   /* n_uname: every guest user acts as the VMM's user */
	if (r->in.bad)
		return -EINVAL;
	struct p9_fid *f;
	int e = p9_fid_add(&s->fids, id, &f);
	if (e < 0)
		return e;
	f->path = strdup("");
	e = f->path ? p9_fs_lookup_path(&s->fs, "", &f->fd) : -ENOMEM;
	if (e == 0)
		e = p9_put_stat_qid(s, r, f->fd);
	if (e < 0) {
		p9_fid_remove(&s->fids, f);
		return e;
	}
	f->type = S_IFDIR;
	return 0;
}

static int h_clunk(struct p9_server *s, struct p9_req *r)
{
	uint32_t id = p9_get_u32(&r->in);
	if (r->in.bad)
		return -EINVAL;
	struct p9_fid *f = p9_fid_get(&s->fids, id);
	if (!f)
		return -EBADF;
	p9_fid_remove(&s->fids, f);
	return 0;
}

static int h_flush(struct p9_server *s, struct p9_req *r)
{
	p9_get_u16(&r->in);   /* requests finish in order: nothing is pending */
	return r->in.bad ? -EINVAL : 0;
}

/* ---- walk ---- */

/* One walk step from (*fd, path, *type): a name, "." or "..". On success *fd
 * is a new O_PATH fd owned by the caller and path is updated in place. */
static int walk_step(struct p9_server *s, int fd, mode_t type, char *path, const char *name,
		     int *out)
{
	if (S_ISLNK(type))
		return -ELOOP;      /* the host never walks through a symlink */
	if (!S_ISDIR(type))
		return -ENOTDIR;
	if (!strcmp(name, "..")) {
		/* ".." of the root is the root; elsewhere it is the fid's
		 * path minus its last name, resolved again from the root. */
		char *slash = strrchr(path, '/');
		if (slash)
			*slash = '\0';
		else
			path[0] = '\0';
		return p9_fs_lookup_path(&s->fs, path, out);
	}
	if (!strcmp(name, "."))
		return p9_fs_lookup(&s->fs, fd, ".", out);
	size_t n = strlen(path), k = strlen(name);
	if (n + 1 + k >= PATH_MAX)
		return -ENAMETOOLONG;
	int e = p9_fs_lookup(&s->fs, fd, name, out);
	if (e < 0)
		return e;
	if (n)
		path[n++] = '/';
	memcpy(path + n, name, k + 1);
	return 0;
}

/* Parses Twalk's names into s->wnames (NUL-terminated copies). */
static int walk_names(struct p9_server *s, struct p9_req *r, uint16_t nw)
{
	for (uint16_t i = 0; i < nw; i++) {
		const char *name;
		uint16_t len;
		p9_get_str(&r->in, &name, &len);
		if (r->in.bad)
			return -EINVAL;
		bool dots = (len == 1 && name[0] == '.') ||
			    (len == 2 && name[0] == '.' && name[1] == '.');
		if (dots) {
			memcpy(s->wnames[i], name, len);
			s->wnames[i][len] = '\0';
			continue;
		}
		int e = p9_copy_name(name, len, s->wnames[i]);
		if (e < 0)
			return e;
	}
	return 0;
}

/* Walks from `from`; returns the number of names walked (nw on success) and
 * leaves the last fd in *fd_out, path in s->path, qids in the reply. */
static int walk_from(struct p9_server *s, struct p9_req *r, const struct p9_fid *from,
		     uint16_t nw, int *fd_out, mode_t *type_out)
{
	strcpy(s->path, from->path);
	int fd = from->fd, first_err = 0;
	mode_t type = from->type;
	uint16_t i;
	for (i = 0; i < nw; i++) {
		int next;
		int e = walk_step(s, fd, type, s->path, s->wnames[i], &next);
		struct stat st;
		if (e == 0 && (e = p9_fs_stat(next, &st)) < 0)
			close(next);
		if (e < 0) {
			first_err = e;
			break;
		}
		if (fd != from->fd)
			close(fd);
		fd = next;
		type = st.st_mode & S_IFMT;
		struct p9_qid q;
		p9_fs_qid(&s->fs, &st, &q);
		p9_put_qid(&r->out, &q);
	}
	if (i < nw && fd != from->fd)
		close(fd);
	*fd_out = fd;
	*type_out = type;
	return i == 0 && nw > 0 ? first_err : i;
}

static int h_walk(struct p9_server *s, struct p9_req *r)
{
	uint32_t id = p9_get_u32(&r->in), newid = p9_get_u32(&r->in);
	uint16_t nw = p9_get_u16(&r->in);
	if (r->in.bad || nw > P9_MAXWELEM)
		return -EINVAL;
	int e = walk_names(s, r, nw);
	struct p9_fid *from, *to = NULL;
	if (e == 0)
		e = p9_get_fid(s, id, &from);
	if (e == 0 && newid != id && p9_fid_get(&s->fids, newid))
		e = -EEXIST;
	if (e < 0)
		return e;
	size_t count_at = r->out.off;
	p9_put_u16(&r->out, 0);
	int fd;
	mode_t type;
	int done = walk_from(s, r, from, nw, &fd, &type);
	if (done < 0)
		return done;
	if (done < nw)
		goto reply;     /* partial walk: qids so far, newfid not made */
	char *path = strdup(s->path);
	if (!path)
		e = -ENOMEM;
	if (e == 0 && nw == 0 && (fd = fcntl(from->fd, F_DUPFD_CLOEXEC, 0)) < 0)
		e = -errno;
	if (e == 0 && newid != id)
		e = p9_fid_add(&s->fids, newid, &to);
	if (e < 0) {
		free(path);
		if (nw > 0 || fd != from->fd)
			close(fd);
		return e;
	}
	if (!to) {      /* walking a fid onto itself replaces it */
		to = from;
		close(to->fd);
		free(to->path);
	}
	to->kind = P9_FID_PATH;
	to->fd = fd;
	to->type = type;
	to->path = path;
reply:;
	uint16_t le = htole16((uint16_t)done);
	memcpy(r->out.buf + count_at, &le, 2);
	return 0;
}

/* ---- open and I/O ---- */

/* Maps 9P2000.L open flags to host flags; *writes tells whether the open
 * would change the file. Creation flags are Tlcreate's business. */
int p9_open_flags(uint32_t fl, bool *writes)
{
	int acc = (int)(fl & 3);
	if (acc == 3)
		return -EINVAL;
	int flags = acc == 0 ? O_RDONLY : acc == 1 ? O_WRONLY : O_RDWR;
	if (fl & P9_DOTL_TRUNC)
		flags |= O_TRUNC;
	if (fl & P9_DOTL_APPEND)
		flags |= O_APPEND;
	if (fl & P9_DOTL_DSYNC)
		flags |= O_DSYNC;
	if (fl & P9_DOTL_SYNC)
		flags |= O_SYNC;
	if (fl & P9_DOTL_DIRECTORY)
		flags |= O_DIRECTORY;
	*writes = acc != 0 || (fl & P9_DOTL_TRUNC);
	return flags;
}

static int h_lopen(struct p9_server *s, struct p9_req *r)
{
	uint32_t id = p9_get_u32(&r->in), fl = p9_get_u32(&r->in);
	if (r->in.bad)
		return -EINVAL;
	struct p9_fid *f;
	int e = p9_get_fid(s, id, &f);
	if (e < 0)
		return e;
	if (f->kind != P9_FID_PATH)
		return -EBADF;
	bool writes;
	int flags = p9_open_flags(fl, &writes);
	if (flags < 0)
		return flags;
	if (writes && s->fs.read_only)
		return -EROFS;
	if (S_ISDIR(f->type) && writes)
		return -EISDIR;
	if ((flags & O_DIRECTORY) && !S_ISDIR(f->type))
		return -ENOTDIR;
	int fd;
	e = p9_fs_reopen(&s->fs, f->fd, f->type, flags, &fd);
	if (e == 0 && (e = p9_put_stat_qid(s, r, fd)) < 0)
		close(fd);
	if (e < 0)
		return e;
	close(f->fd);
	f->fd = fd;
	f->kind = P9_FID_OPEN;
	f->open_flags = flags & ~(O_CREAT | O_EXCL | O_TRUNC);
	f->dir_pos = 0;
	p9_put_u32(&r->out, 0);   /* iounit: the client uses msize */
	return 0;
}

static int h_read(struct p9_server *s, struct p9_req *r)
{
	uint32_t id = p9_get_u32(&r->in);
	uint64_t off = p9_get_u64(&r->in);
	uint32_t count = p9_get_u32(&r->in);
	if (r->in.bad)
		return -EINVAL;
	struct p9_fid *f = p9_fid_get(&s->fids, id);
	if (f && f->kind == P9_FID_XATTR) {
		p9_put_u32(&r->out, 0);   /* attributes are always empty */
		return 0;
	}
	if (!f || f->kind != P9_FID_OPEN)
		return -EBADF;
	if (S_ISDIR(f->type))
		return -EISDIR;
	if (off > INT64_MAX)
		return -EINVAL;
	uint64_t room = r->out.cap - P9_RREAD_HDR;   /* out.cap >= 11: see p9_server_handle */
	if (count > room)
		count = (uint32_t)room;
	ssize_t n = 0;
	if (count > 0) {
		int k = p9_iov_slice(r->rep, r->nrep, P9_RREAD_HDR, count, s->data, P9_DATA_IOV);
		if (k < 0)
			return -EIO;
		do
			n = preadv(f->fd, s->data, k, (off_t)off);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
	}
	p9_put_u32(&r->out, (uint32_t)n);
	r->direct = (uint32_t)n;
	return 0;
}

static int h_write(struct p9_server *s, struct p9_req *r)
{
	uint32_t id = p9_get_u32(&r->in);
	uint64_t off = p9_get_u64(&r->in);
	uint32_t count = p9_get_u32(&r->in);
	if (r->in.bad || count > r->size - P9_TWRITE_HDR || off > INT64_MAX)
		return -EINVAL;
	struct p9_fid *f = p9_fid_get(&s->fids, id);
	if (!f || f->kind != P9_FID_OPEN)
		return -EBADF;
	if (s->fs.read_only)
		return -EROFS;
	ssize_t n = 0;
	if (count > 0) {
		int k = p9_iov_slice(r->req, r->nreq, P9_TWRITE_HDR, count, s->data, P9_DATA_IOV);
		if (k < 0)
			return -EINVAL;
		do
			n = pwritev(f->fd, s->data, k, (off_t)off);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
	}
	p9_put_u32(&r->out, (uint32_t)n);
	return 0;
}

/* Appends one directory entry; false when it does not fit. */
static bool put_dirent(struct p9_server *s, struct p9_out *o, const struct dirent64 *d)
{
	size_t nlen = strlen(d->d_name);
	if (o->cap - o->off < P9_QID_SIZE + 8 + 1 + 2 + nlen)
		return false;
	struct p9_qid q = {
		.type = d->d_type == DT_DIR ? P9_QTDIR : d->d_type == DT_LNK ? P9_QTSYMLINK : 0,
		.path = d->d_ino,
	};
	p9_put_qid(o, &q);
	p9_put_u64(o, (uint64_t)d->d_off);
	p9_put_u8(o, d->d_type);
	p9_put_str(o, d->d_name, nlen);
	return true;
}

static int h_readdir(struct p9_server *s, struct p9_req *r)
{
	uint32_t id = p9_get_u32(&r->in);
	uint64_t off = p9_get_u64(&r->in);
	uint32_t count = p9_get_u32(&r->in);
	if (r->in.bad || off > INT64_MAX)
		return -EINVAL;
	struct p9_fid *f = p9_fid_get(&s->fids, id);
	if (!f || f->kind != P9_FID_OPEN)
		return -EBADF;
	if (!S_ISDIR(f->type))
		return -ENOTDIR;
	uint64_t room = r->out.cap - P9_RREADDIR_HDR;
	if (count > room)
		count = (uint32_t)room;
	if (off != f->dir_pos && lseek(f->fd, (off_t)off, SEEK_SET) < 0)
		return -errno;
	f->dir_pos = off;
	ssize_t got = getdents64(f->fd, s->dents, count);
	if (got < 0)
		return -errno;
	size_t count_at = r->out.off;
	p9_put_u32(&r->out, 0);
	struct p9_out entries = { .buf = r->out.buf + r->out.off, .cap = count };
	ssize_t pos = 0;
	while (pos < got) {
		const struct dirent64 *d = (const struct dirent64 *)(s->dents + pos);
		if (!put_dirent(s, &entries, d))
			break;
		f->dir_pos = (uint64_t)d->d_off;
		pos += d->d_reclen;
	}
	/* Entries that did not fit are read again next time: the fd's
	 * position is then past them, so force a seek. */
	if (pos < got)
		f->dir_pos = UINT64_MAX;
	if (pos == 0 && got > 0)
		return -EINVAL;   /* count too small for the next entry */
	r->out.off += entries.off;
	uint32_t le = htole32((uint32_t)entries.off);
	memcpy(r->out.buf + count_at, &le, 4);
	return 0;
}

static int h_fsync(struct p9_server *s, struct p9_req *r)
{
	uint32_t id = p9_get_u32(&r->in), datasync = p9_get_u32(&r->in);
	if (r->in.bad)
		return -EINVAL;
	struct p9_fid *f;
	int e = p9_get_fid(s, id, &f);
	if (e < 0 || s->fs.read_only)
		return e;
	if (f->kind != P9_FID_OPEN)
		return -EBADF;
	if ((datasync ? fdatasync(f->fd) : fsync(f->fd)) < 0)
		return -errno;
	return 0;
}

/* ---- dispatch ---- */

typedef int (*p9_handler)(struct p9_server *s, struct p9_req *r);

static p9_handler handler_for(uint8_t type)
{
	switch (type) {
	case P9_TVERSION: return h_version;
	case P9_TATTACH: return h_attach;
	case P9_TFLUSH: return h_flush;
	case P9_TWALK: return h_walk;
	case P9_TCLUNK: return h_clunk;
	case P9_TLOPEN: return h_lopen;
	case P9_TREAD: return h_read;
	case P9_TWRITE: return h_write;
	case P9_TREADDIR: return h_readdir;
	case P9_TFSYNC: return h_fsync;
	case P9_TLCREATE: return p9_op_lcreate;
	case P9_TGETATTR: return p9_op_getattr;
	case P9_TSETATTR: return p9_op_setattr;
	case P9_TSTATFS: return p9_op_statfs;
	case P9_TMKDIR: return p9_op_mkdir;
	case P9_TSYMLINK: return p9_op_symlink;
	case P9_TMKNOD: return p9_op_mknod;
	case P9_TREADLINK: return p9_op_readlink;
	case P9_TLINK: return p9_op_link;
	case P9_TRENAME: return p9_op_rename;
	case P9_TRENAMEAT: return p9_op_renameat;
	case P9_TUNLINKAT: return p9_op_unlinkat;
	case P9_TREMOVE: return p9_op_remove;
	case P9_TXATTRWALK: return p9_op_xattrwalk;
	case P9_TXATTRCREATE: return p9_op_xattrcreate;
	case P9_TLOCK: return p9_op_lock;
	case P9_TGETLOCK: return p9_op_getlock;
	default: return NULL;
	}
}

/* Writes Rlerror(ecode) into the reply buffer. */
static void put_error(struct p9_req *r, uint16_t tag, int ecode)
{
	p9_begin(&r->out, P9_RLERROR, tag);
	p9_put_u32(&r->out, (uint32_t)ecode);
}

/* Validates the header and copies what the handler parses into s->in_buf.
 * Returns 0 or a negative errno; *tag is set once known. */
static int frame(struct p9_server *s, struct p9_req *r, uint8_t *type, uint16_t *tag)
{
	uint8_t hdr[P9_HDR_SIZE];
	if (p9_iov_read(r->req, r->nreq, 0, hdr, sizeof(hdr)) < 0)
		return -EINVAL;
	struct p9_in h = { .buf = hdr, .len = sizeof(hdr) };
	r->size = p9_get_u32(&h);
	*type = p9_get_u8(&h);
	*tag = p9_get_u16(&h);
	uint32_t limit = s->msize ? s->msize : P9_MSIZE_MIN;
	if (r->size < P9_HDR_SIZE || r->size > limit || r->size > p9_iov_len(r->req, r->nreq))
		return -EINVAL;
	/* Twrite's data stays in the request buffers (pwritev reads it). */
	uint32_t copy = *type == P9_TWRITE && r->size > P9_TWRITE_HDR ? P9_TWRITE_HDR : r->size;
	if (p9_iov_read(r->req, r->nreq, 0, s->in_buf, copy) < 0)
		return -EINVAL;
	r->in = (struct p9_in){ .buf = s->in_buf, .len = copy, .off = P9_HDR_SIZE };
	return 0;
}

uint32_t p9_server_handle(struct p9_server *s, const struct iovec *req, unsigned nreq,
			  const struct iovec *rep, unsigned nrep)
{
	uint64_t rep_len = p9_iov_len(rep, nrep);
	if (rep_len < P9_HDR_SIZE + 4)
		return 0;
	uint32_t limit = s->msize ? s->msize : P9_MSIZE_MIN;
	struct p9_req r = {
		.req = req, .nreq = nreq, .rep = rep, .nrep = nrep,
		.out = { .buf = s->out_buf, .cap = rep_len < limit ? (size_t)rep_len : limit },
	};
	uint8_t type = 0;
	uint16_t tag = P9_NOTAG;
	int e = frame(s, &r, &type, &tag);
	p9_handler h = e < 0 ? NULL : handler_for(type);
	if (e == 0 && !h)
		e = -EOPNOTSUPP;
	if (e == 0 && !s->msize && type != P9_TVERSION)
		e = -EPROTO;    /* nothing before Tversion */
	if (e == 0) {
		p9_begin(&r.out, (uint8_t)(type + 1), tag);
		e = h(s, &r);
		if (e == 0 && r.out.bad)
			e = -ENOBUFS;
	}
	if (e < 0) {
		r.direct = 0;
		put_error(&r, tag, -e);
	}
	size_t len = p9_finish(&r.out);
	/* Rread's size covers the data preadv already put after the header. */
	if (r.direct) {
		uint32_t total = htole32((uint32_t)(len + r.direct));
		memcpy(s->out_buf, &total, 4);
	}
	if (len == 0 || p9_iov_write(rep, nrep, 0, s->out_buf, len) < 0)
		return 0;
	return (uint32_t)(len + r.direct);
}

void p9_server_reset(struct p9_server *s)
{
	p9_fids_clear(&s->fids);
	s->msize = 0;
}

int p9_server_create(const char *host_dir, bool read_only, uint32_t max_fids,
		     struct p9_server **out, struct arcvm_error *err)
{
	if (!host_dir || !host_dir[0])
		return err_set(err, ARCVM_E_INVALID, "share: empty host folder");
	struct p9_server *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(err, ARCVM_E_NOMEM, "share %s: out of memory", host_dir);
	int rc = p9_fs_open(&s->fs, host_dir, read_only, err);
	if (rc < 0) {
		free(s);
		return rc;
	}
	s->in_buf = malloc(P9_MSIZE_MAX);
	s->out_buf = malloc(P9_MSIZE_MAX);
	s->dents = malloc(P9_MSIZE_MAX);
	if (!s->in_buf || !s->out_buf || !s->dents ||
	    p9_fids_init(&s->fids, max_fids ? max_fids : P9_FIDS_MAX) < 0) {
		p9_server_destroy(s);
		return err_set(err, ARCVM_E_NOMEM, "share %s: out of memory", host_dir);
	}
	*out = s;
	return 0;
}

void p9_server_destroy(struct p9_server *s)
{
	if (!s)
		return;
	p9_fids_free(&s->fids);
	p9_fs_close(&s->fs);
	free(s->in_buf);
	free(s->out_buf);
	free(s->dents);
	free(s);
}
