/*
 * ops.h - inside the 9P server: the server state shared by server.c (session,
 * walk, I/O) and ops.c (the handlers that inspect or change the file tree),
 * and the helpers both use. Not for use outside p9/.
 *
 * Thread ownership: a struct p9_server and everything it points to belong to
 * the one thread running p9_server_handle() (see server.h).
 */
#ifndef P9_OPS_H
#define P9_OPS_H

#include <limits.h>
#include <sys/uio.h>

#include "p9/fid.h"
#include "p9/fs.h"
#include "p9/proto.h"
#include "p9/server.h"

#define P9_NAME_BUF (NAME_MAX + 1)
#define P9_DATA_IOV 1024       /* IOV_MAX: the most buffers one preadv takes */

struct p9_server {
	struct p9_fs fs;
	struct p9_fids fids;
	uint32_t msize;                 /* negotiated; 0 before Tversion */
	/* Scratch, allocated once at creation (P9_MSIZE_MAX bytes each). */
	uint8_t *in_buf;                /* the request's fields */
	uint8_t *out_buf;               /* the reply (minus Rread data) */
	uint8_t *dents;                 /* getdents64 output for Treaddir */
	struct iovec data[P9_DATA_IOV]; /* Tread/Twrite slices of guest buffers */
	char path[PATH_MAX];            /* Twalk's path under construction */
	char wnames[P9_MAXWELEM][P9_NAME_BUF];
};

/* One request in progress. */
struct p9_req {
	const struct iovec *req, *rep;
	unsigned nreq, nrep;
	uint32_t size;           /* the request's size field, checked */
	struct p9_in in;         /* its fields, cursor after the header */
	struct p9_out out;       /* the reply, header begun */
	uint32_t direct;         /* Rread data bytes preadv put after out */
};

/* A fid that names a file (not an xattr fid), or -EBADF. */
int p9_get_fid(struct p9_server *s, uint32_t id, struct p9_fid **out);
/* The same, and a directory, or -ENOTDIR. */
int p9_get_dir(struct p9_server *s, uint32_t id, struct p9_fid **out);
/* Checks one name (p9_fs_name_ok) and copies it NUL-terminated. */
int p9_copy_name(const char *name, uint16_t len, char buf[P9_NAME_BUF]);
/* "dir/name" (or "name" under the root) on the heap. */
int p9_join(const char *dir, const char *name, char **out);
/* Appends the qid of the file behind fd to the reply. */
int p9_put_stat_qid(struct p9_server *s, struct p9_req *r, int fd);

/* Maps Tlopen/Tlcreate flags to host open flags (access mode, TRUNC,
 * APPEND, DSYNC, SYNC, DIRECTORY); *writes: the open may change the file. */
int p9_open_flags(uint32_t fl, bool *writes);

/* Handlers in ops.c: 0 with the reply written after the header, or -errno. */
int p9_op_lcreate(struct p9_server *s, struct p9_req *r);
int p9_op_getattr(struct p9_server *s, struct p9_req *r);
int p9_op_setattr(struct p9_server *s, struct p9_req *r);
int p9_op_statfs(struct p9_server *s, struct p9_req *r);
int p9_op_mkdir(struct p9_server *s, struct p9_req *r);
int p9_op_symlink(struct p9_server *s, struct p9_req *r);
int p9_op_mknod(struct p9_server *s, struct p9_req *r);
int p9_op_readlink(struct p9_server *s, struct p9_req *r);
int p9_op_link(struct p9_server *s, struct p9_req *r);
int p9_op_rename(struct p9_server *s, struct p9_req *r);
int p9_op_renameat(struct p9_server *s, struct p9_req *r);
int p9_op_unlinkat(struct p9_server *s, struct p9_req *r);
int p9_op_remove(struct p9_server *s, struct p9_req *r);
int p9_op_xattrwalk(struct p9_server *s, struct p9_req *r);
int p9_op_xattrcreate(struct p9_server *s, struct p9_req *r);
int p9_op_lock(struct p9_server *s, struct p9_req *r);
int p9_op_getlock(struct p9_server *s, struct p9_req *r);

#endif
