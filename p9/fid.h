/*
 * fid.h - the bounded table of a 9P session's fids.
 *
 * A fid is a number the guest picks; it names one file of the share. The
 * table holds at most `max` fids (P9_FIDS_MAX by default): creating one more
 * fails with -EMFILE, so a guest cannot make the host allocate without
 * bound. All storage is allocated once by p9_fids_init(); lookups hash the
 * fid number into an open-addressing index (linear probing, backward-shift
 * deletion), so no operation allocates except the fid's path string.
 *
 * Threads: a table belongs to one p9 server and is used by the thread that
 * runs that server (the I/O thread); it is not locked.
 */
#ifndef P9_FID_H
#define P9_FID_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define P9_FIDS_MAX 4096

enum p9_fid_kind {
	P9_FID_PATH,     /* fd is an O_PATH reference to the file */
	P9_FID_OPEN,     /* fd was opened by Tlopen/Tlcreate for I/O */
	P9_FID_XATTR,    /* made by Txattrwalk: reads an (empty) attribute */
	P9_FID_STALE,    /* restored from a snapshot, but its file is gone: fd -1,
	                  * every request on it fails with ESTALE until clunked */
};

struct p9_fid {
	uint32_t id;
	enum p9_fid_kind kind;
	int fd;              /* always valid (>= 0) for PATH and OPEN fids, -1 for XATTR */
	mode_t type;         /* S_IFMT bits of the file; constant for an inode */
	char *path;          /* relative to the share root, "" for the root; heap */
	uint64_t dir_pos;    /* OPEN dir: the readdir offset fd is positioned at */
	int open_flags;      /* OPEN: the host flags it was opened with, less O_CREAT,
	                      * O_EXCL and O_TRUNC (how a restore reopens it) */
	uint32_t next_free;  /* free list link, table-private */
};

struct p9_fids {
	struct p9_fid *fids;     /* max entries */
	uint32_t *index;         /* nslots entries: position in fids[] + 1, 0 = empty */
	uint32_t nslots;         /* power of two >= 2 * max */
	uint32_t shift;          /* 32 - log2(nslots) */
	uint32_t max, count;
	uint32_t free_head;      /* first free entry + 1, 0 = none */
};

/* Allocates a table for up to max fids. Returns 0 or -ENOMEM. */
int p9_fids_init(struct p9_fids *t, uint32_t max);
/* Releases every fid (closing their fds) and the table's storage. */
void p9_fids_free(struct p9_fids *t);

/* The fid numbered id, or NULL. */
struct p9_fid *p9_fid_get(struct p9_fids *t, uint32_t id);

/* Adds fid `id` (fd -1, path NULL, the caller fills them in). Returns 0,
 * -EEXIST when id is in use, -EBADF for P9_NOFID, -EMFILE when full. */
int p9_fid_add(struct p9_fids *t, uint32_t id, struct p9_fid **out);

/* Removes a fid, closing its fd and freeing its path. */
void p9_fid_remove(struct p9_fids *t, struct p9_fid *f);

/* Removes every fid (a new Tversion starts a new session). */
void p9_fids_clear(struct p9_fids *t);

#endif
