/*
 * p9_test_client.h - a hand-rolled 9P2000.L client for unit tests: builds
 * T-messages byte by byte (independently of p9/proto.c), runs them through
 * p9_server_handle() with flat buffers, and reads the replies. Also makes and
 * removes the temporary folder a test shares. Header-only (static inline).
 */
#ifndef TESTS_P9_TEST_CLIENT_H
#define TESTS_P9_TEST_CLIENT_H

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p9/proto.h"   /* constants only; messages are built here */
#include "p9/server.h"

#define PC_BUF (P9_MSIZE_MAX + 4096)

struct pc {
	struct p9_server *s;
	char dir[64];
	uint8_t *req, *rep;
	size_t qlen;          /* bytes of the request built so far */
	uint32_t rlen;        /* reply length returned by the server */
	size_t roff;          /* read cursor in the reply */
	uint16_t tag;
	size_t rep_cap;       /* writable bytes offered for the next reply */
};

static inline void pc_begin(struct pc *c, uint8_t type)
{
	c->qlen = 7;
	c->req[4] = type;
	c->tag++;
	c->req[5] = (uint8_t)c->tag;
	c->req[6] = (uint8_t)(c->tag >> 8);
}

static inline void pc_put(struct pc *c, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		c->req[c->qlen++] = (uint8_t)(v >> (8 * i));
}
#define pc_u8(c, v)  pc_put(c, v, 1)
#define pc_u16(c, v) pc_put(c, v, 2)
#define pc_u32(c, v) pc_put(c, v, 4)
#define pc_u64(c, v) pc_put(c, v, 8)

static inline void pc_str(struct pc *c, const char *s)
{
	size_t n = strlen(s);
	pc_u16(c, n);
	memcpy(c->req + c->qlen, s, n);
	c->qlen += n;
}

static inline void pc_bytes(struct pc *c, const void *p, size_t n)
{
	memcpy(c->req + c->qlen, p, n);
	c->qlen += n;
}

/* Sends the request with its size field set to `size` (the true length
 * when 0); the first `present` bytes (all when 0) are offered. */
static inline uint32_t pc_send_raw(struct pc *c, uint32_t size, size_t present)
{
	uint32_t sz = size ? size : (uint32_t)c->qlen;
	memcpy(c->req, &sz, 4);
	struct iovec q = { c->req, present ? present : c->qlen };
	struct iovec r = { c->rep, c->rep_cap ? c->rep_cap : PC_BUF };
	memset(c->rep, 0xcc, 16);
	c->rlen = p9_server_handle(c->s, &q, 1, &r, 1);
	c->roff = 7;
	return c->rlen;
}

static inline uint64_t pc_get(struct pc *c, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)c->rep[c->roff++] << (8 * i);
	return v;
}
static inline uint8_t pc_g8(struct pc *c) { return (uint8_t)pc_get(c, 1); }
static inline uint16_t pc_g16(struct pc *c) { return (uint16_t)pc_get(c, 2); }
static inline uint32_t pc_g32(struct pc *c) { return (uint32_t)pc_get(c, 4); }
static inline uint64_t pc_g64(struct pc *c) { return pc_get(c, 8); }

/* Sends; returns 0 when the reply is R(type+1) with our tag, else the
 * Rlerror code (or -1 for anything else). The size field must match. */
static inline int pc_send(struct pc *c)
{
	uint8_t type = c->req[4];
	if (pc_send_raw(c, 0, 0) < 7)
		return -1;
	uint32_t sz;
	memcpy(&sz, c->rep, 4);
	if (sz != c->rlen)
		return -1;
	if (c->rep[5] != c->req[5] || c->rep[6] != c->req[6])
		return -1;
	if (c->rep[4] == 7)
		return (int)pc_g32(c);
	return c->rep[4] == type + 1 ? 0 : -1;
}

/* Reads a string from the reply into buf (NUL-terminated). */
static inline void pc_gstr(struct pc *c, char *buf, size_t cap)
{
	uint16_t n = pc_g16(c);
	size_t k = n < cap - 1 ? n : cap - 1;
	memcpy(buf, c->rep + c->roff, k);
	buf[k] = '\0';
	c->roff += n;
}

static inline int pc_version(struct pc *c, uint32_t msize, const char *ver)
{
	pc_begin(c, 100);
	pc_u32(c, msize);
	pc_str(c, ver);
	return pc_send(c);
}

static inline int pc_attach(struct pc *c, uint32_t fid)
{
	pc_begin(c, 104);
	pc_u32(c, fid);
	pc_u32(c, 0xffffffffu);
	pc_str(c, "root");
	pc_str(c, "");
	pc_u32(c, 0);
	return pc_send(c);
}

/* Walks names separated by '/' ("" = clone); *nwqid gets the qid count. */
static inline int pc_walk(struct pc *c, uint32_t fid, uint32_t newfid, const char *path,
			  int *nwqid)
{
	char buf[512];
	const char *names[32];
	int n = 0;
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save, *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save))
		names[n++] = t;
	pc_begin(c, 110);
	pc_u32(c, fid);
	pc_u32(c, newfid);
	pc_u16(c, n);
	for (int i = 0; i < n; i++)
		pc_str(c, names[i]);
	int e = pc_send(c);
	if (nwqid)
		*nwqid = e == 0 ? pc_g16(c) : -1;
	return e;
}

/* Walk that must reach the end (a partial walk counts as ENOENT). */
static inline int pc_walk_all(struct pc *c, uint32_t fid, uint32_t newfid, const char *path)
{
	int got, want = 0;
	for (const char *p = path; *p; p++)
		if (*p != '/' && (p == path || p[-1] == '/'))
			want++;
	int e = pc_walk(c, fid, newfid, path, &got);
	return e ? e : got == want ? 0 : ENOENT;
}

static inline int pc_lopen(struct pc *c, uint32_t fid, uint32_t flags)
{
	pc_begin(c, 12);
	pc_u32(c, fid);
	pc_u32(c, flags);
	return pc_send(c);
}

static inline int pc_lcreate(struct pc *c, uint32_t fid, const char *name, uint32_t flags,
			     uint32_t mode)
{
	pc_begin(c, 14);
	pc_u32(c, fid);
	pc_str(c, name);
	pc_u32(c, flags);
	pc_u32(c, mode);
	pc_u32(c, 0);
	return pc_send(c);
}

static inline int pc_clunk(struct pc *c, uint32_t fid)
{
	pc_begin(c, 120);
	pc_u32(c, fid);
	return pc_send(c);
}

/* Tread; on success *data points at the bytes in the reply, *n their count. */
static inline int pc_read(struct pc *c, uint32_t fid, uint64_t off, uint32_t count,
			  const uint8_t **data, uint32_t *n)
{
	pc_begin(c, 116);
	pc_u32(c, fid);
	pc_u64(c, off);
	pc_u32(c, count);
	int e = pc_send(c);
	if (e == 0) {
		*n = pc_g32(c);
		*data = c->rep + c->roff;
	}
	return e;
}

static inline int pc_write(struct pc *c, uint32_t fid, uint64_t off, const void *p, uint32_t len,
			   uint32_t *written)
{
	pc_begin(c, 118);
	pc_u32(c, fid);
	pc_u64(c, off);
	pc_u32(c, len);
	pc_bytes(c, p, len);
	int e = pc_send(c);
	if (e == 0 && written)
		*written = pc_g32(c);
	return e;
}

static inline int pc_mkdir(struct pc *c, uint32_t dfid, const char *name, uint32_t mode)
{
	pc_begin(c, 72);
	pc_u32(c, dfid);
	pc_str(c, name);
	pc_u32(c, mode);
	pc_u32(c, 0);
	return pc_send(c);
}

static inline int pc_symlink(struct pc *c, uint32_t dfid, const char *name, const char *target)
{
	pc_begin(c, 16);
	pc_u32(c, dfid);
	pc_str(c, name);
	pc_str(c, target);
	pc_u32(c, 0);
	return pc_send(c);
}

static inline int pc_unlinkat(struct pc *c, uint32_t dfid, const char *name, uint32_t flags)
{
	pc_begin(c, 76);
	pc_u32(c, dfid);
	pc_str(c, name);
	pc_u32(c, flags);
	return pc_send(c);
}

/* Getattr: fills mode, size, mtime seconds and the qid type. */
struct pc_attr {
	uint8_t qtype;
	uint64_t qpath;
	uint32_t mode, uid, gid;
	uint64_t nlink, size, mtime;
};

static inline int pc_getattr(struct pc *c, uint32_t fid, struct pc_attr *a)
{
	pc_begin(c, 24);
	pc_u32(c, fid);
	pc_u64(c, 0x3fff);
	int e = pc_send(c);
	if (e)
		return e;
	pc_g64(c);                        /* valid */
	a->qtype = pc_g8(c);
	pc_g32(c);
	a->qpath = pc_g64(c);
	a->mode = pc_g32(c);
	a->uid = pc_g32(c);
	a->gid = pc_g32(c);
	a->nlink = pc_g64(c);
	pc_g64(c);                        /* rdev */
	a->size = pc_g64(c);
	pc_g64(c);                        /* blksize */
	pc_g64(c);                        /* blocks */
	pc_g64(c);
	pc_g64(c);                        /* atime */
	a->mtime = pc_g64(c);
	return 0;
}

static inline int pc_rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

/* A fresh temp folder served by a new server; version + attach fid 0. */
static inline struct pc *pc_open(bool ro, uint32_t max_fids)
{
	struct pc *c = calloc(1, sizeof(*c));
	c->req = calloc(1, PC_BUF);
	c->rep = calloc(1, PC_BUF);
	strcpy(c->dir, "/tmp/arcvm-p9-XXXXXX");
	if (!mkdtemp(c->dir))
		abort();
	if (p9_server_create(c->dir, ro, max_fids, &c->s, NULL) < 0)
		abort();
	if (pc_version(c, P9_MSIZE_MAX, "9P2000.L") || pc_attach(c, 0))
		abort();
	return c;
}

static inline void pc_close(struct pc *c)
{
	p9_server_destroy(c->s);
	nftw(c->dir, pc_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(c->req);
	free(c->rep);
	free(c);
}

/* Host-side helpers on the shared folder. */
static inline void pc_host_path(struct pc *c, const char *rel, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", c->dir, rel);
}

#endif
