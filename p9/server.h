/*
 * server.h - a 9P2000.L file server for one shared host folder.
 *
 * The server is transport-free: it takes one request as an iovec (the
 * readable part of a virtqueue chain) and writes its reply into another (the
 * writable part), so unit tests drive it with plain buffers and virtio/p9.c
 * with guest memory. Bulk data (Tread, Twrite) moves between those iovecs
 * and host files with preadv/pwritev, without an intermediate copy.
 *
 * Every field of a request is checked: the size field against the bytes
 * present and the negotiated msize, string lengths, counts, fids. A request
 * the server cannot honour gets Rlerror with an errno; nothing a guest sends
 * crashes the server or makes it allocate without bound (buffers are
 * allocated once at creation; the fid table is bounded).
 *
 * Threads: a server is used by one thread at a time (the device's I/O
 * thread, under the device lock); requests are answered in order, one at a
 * time, so Tflush has nothing to cancel.
 */
#ifndef P9_SERVER_H
#define P9_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "arcvm.h"

#define P9_MSIZE_MAX (512u * 1024)   /* the largest msize the server agrees to */
#define P9_MSIZE_MIN 4096u           /* a smaller Tversion msize is refused */
#define P9_VERSION   "9P2000.L"

struct p9_server;

/*
 * Serves host_dir (which must be a directory; the error names it otherwise).
 * read_only: every operation that would change the share fails with EROFS.
 * max_fids: 0 for P9_FIDS_MAX.
 */
int p9_server_create(const char *host_dir, bool read_only, uint32_t max_fids,
		     struct p9_server **out, struct arcvm_error *err);
void p9_server_destroy(struct p9_server *s);

/*
 * Answers the request in req[0 .. nreq) into rep[0 .. nrep) and returns the
 * reply's length, or 0 when rep cannot hold even an Rlerror (11 bytes).
 */
uint32_t p9_server_handle(struct p9_server *s, const struct iovec *req, unsigned nreq,
			  const struct iovec *rep, unsigned nrep);

/* Drops every fid (the driver reset the device). */
void p9_server_reset(struct p9_server *s);

/* Snapshot (p9/persist.c): the negotiated msize and every fid's path, kind
 * and open flags, as one "P9SS" section. Loading reopens each fid below the
 * share root; a fid whose file is gone answers ESTALE. Malformed sections
 * fail with ARCVM_E_FORMAT and leave no fid. */
struct snap_writer;
struct snap_reader;
void p9_server_save(struct p9_server *s, struct snap_writer *w);
int p9_server_load(struct p9_server *s, struct snap_reader *r, struct arcvm_error *err);

#endif
