/*
 * persist.c - a 9P session across a snapshot. The guest kernel keeps its
 * fids (the mount's root, open files, a shell's working directory) across
 * the snapshot, so the server saves each fid's path relative to the share
 * root, kind and open flags, and a restore resolves and opens them again
 * with the same confinement as a walk (p9_fs_lookup_path: below the root, no
 * symlinks). A fid whose file vanished, or changed type, is kept as STALE:
 * requests on it fail with ESTALE and Tclunk frees it.
 *
 * Threads: like the server, used under the device lock with the I/O thread
 * stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p9/ops.h"
#include "p9/server.h"
#include "util/err.h"
#include "util/snapbuf.h"

#define TAG_P9SS SNAP_TAG('P', '9', 'S', 'S')
/* Host open flags a saved fid may carry; anything else is refused. */
#define RESTORABLE_FLAGS (O_ACCMODE | O_APPEND | O_DSYNC | O_SYNC | O_DIRECTORY | O_NONBLOCK | \
			  O_CLOEXEC | O_NOCTTY | O_LARGEFILE)

void p9_server_save(struct p9_server *s, struct snap_writer *w)
{
	snap_begin(w, TAG_P9SS);
	snap_put_u32(w, s->msize);
	snap_put_u32(w, s->fids.count);
	for (uint32_t i = 0; i < s->fids.nslots; i++) {
		if (!s->fids.index[i])
			continue;
		const struct p9_fid *f = &s->fids.fids[s->fids.index[i] - 1];
		snap_put_u32(w, f->id);
		snap_put_u32(w, (uint32_t)f->kind);
		snap_put_u32(w, (uint32_t)f->type);
		snap_put_str(w, f->path ? f->path : "");
		snap_put_u32(w, (uint32_t)f->open_flags);
		snap_put_u64(w, f->dir_pos);
	}
	snap_end_section(w);
}

/* Opens a restored fid's file again; leaves it STALE when that fails. */
static void reopen_fid(struct p9_server *s, struct p9_fid *f, enum p9_fid_kind kind)
{
	int pfd;
	struct stat st;
	f->kind = P9_FID_STALE;
	if (p9_fs_lookup_path(&s->fs, f->path, &pfd) < 0)
		return;
	if (p9_fs_stat(pfd, &st) < 0 || (st.st_mode & S_IFMT) != f->type) {
		close(pfd);
		return;
	}
	if (kind == P9_FID_PATH) {
		f->fd = pfd;
		f->kind = P9_FID_PATH;
		return;
	}
	int fd;
	int e = p9_fs_reopen(&s->fs, pfd, f->type, f->open_flags, &fd);
	close(pfd);
	if (e < 0)
		return;
	/* A directory stream resumes at the saved readdir offset. */
	if (S_ISDIR(f->type) && f->dir_pos && f->dir_pos != UINT64_MAX &&
	    lseek(fd, (off_t)f->dir_pos, SEEK_SET) < 0)
		f->dir_pos = 0;
	f->fd = fd;
	f->kind = P9_FID_OPEN;
}

/* One saved fid, validated as hostile input. */
static int load_fid(struct p9_server *s, struct snap_reader *r)
{
	char buf[SNAP_STR_MAX];
	uint32_t id = snap_get_u32(r), kind = snap_get_u32(r), type = snap_get_u32(r);
	const char *path = snap_get_str(r, buf);
	uint32_t flags = snap_get_u32(r);
	uint64_t dir_pos = snap_get_u64(r);
	bool kind_ok = kind == P9_FID_PATH || kind == P9_FID_OPEN || kind == P9_FID_XATTR ||
		       kind == P9_FID_STALE;
	bool type_ok = type == S_IFREG || type == S_IFDIR || type == S_IFLNK || type == S_IFIFO ||
		       type == S_IFSOCK || type == S_IFCHR || type == S_IFBLK;
	if (r->bad || !path || !kind_ok || !type_ok || (flags & ~(uint32_t)RESTORABLE_FLAGS) ||
	    strlen(path) >= PATH_MAX || (path[0] == '/'))
		return -EINVAL;
	struct p9_fid *f;
	if (p9_fid_add(&s->fids, id, &f) < 0)
		return -EINVAL;
	f->type = (mode_t)type;
	f->open_flags = (int)flags;
	f->dir_pos = dir_pos;
	f->path = strdup(path);
	if (!f->path)
		return -ENOMEM;
	if (kind == P9_FID_XATTR || kind == P9_FID_STALE)
		f->kind = (enum p9_fid_kind)kind;   /* no file behind it either way */
	else
		reopen_fid(s, f, (enum p9_fid_kind)kind);
	return 0;
}

int p9_server_load(struct p9_server *s, struct snap_reader *r, struct arcvm_error *err)
{
	struct snap_reader sec;
	int rc = snap_section(r, TAG_P9SS, "9P session", &sec, err);
	if (rc)
		return rc;
	p9_fids_clear(&s->fids);
	uint32_t msize = snap_get_u32(&sec), n = snap_get_u32(&sec);
	if (msize > P9_MSIZE_MAX || (msize && msize < P9_MSIZE_MIN) || n > s->fids.max)
		snap_reject(&sec);
	s->msize = msize;
	for (uint32_t i = 0; !sec.bad && i < n; i++) {
		int e = load_fid(s, &sec);
		if (e == -ENOMEM)
			return err_set(err, ARCVM_E_NOMEM, "out of memory restoring 9P fids");
		if (e < 0)
			snap_reject(&sec);
	}
	rc = snap_done(&sec, "9P session", err);
	if (rc)
		p9_fids_clear(&s->fids);
	return rc;
}
