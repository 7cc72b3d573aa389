/* snapbuf.c - the snapshot state file's container (see snapbuf.h). */
#include "util/snapbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util/err.h"

#define STR_NULL 0xffffffffu

/* Header layout: magic[8], version u32, header length u32, payload length
 * u64, payload CRC-32 u32, reserved u32 (zero). */
#define HDR_VERSION  8
#define HDR_HLEN     12
#define HDR_PLEN     16
#define HDR_CRC      24

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint32_t crc(const uint8_t *p, size_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);
	/* zlib takes uInt lengths; the payload is far below 4 GiB anyway. */
	return (uint32_t)crc32(c, p, (uInt)len);
}

void snap_writer_init(struct snap_writer *w)
{
	memset(w, 0, sizeof(*w));
	w->cap = 4096;
	w->buf = calloc(1, w->cap);
	w->nomem = !w->buf;
	w->len = SNAP_HEADER_LEN;
}

void snap_writer_free(struct snap_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

static uint8_t *reserve(struct snap_writer *w, size_t n)
{
	if (w->nomem)
		return NULL;
	if (n > w->cap - w->len) {
		size_t cap = w->cap;
		while (n > cap - w->len)
			cap *= 2;
		uint8_t *b = realloc(w->buf, cap);
		if (!b) {
			w->nomem = true;
			return NULL;
		}
		w->buf = b;
		w->cap = cap;
	}
	uint8_t *p = w->buf + w->len;
	w->len += n;
	return p;
}

static void put(struct snap_writer *w, uint64_t v, unsigned n)
{
	uint8_t *p = reserve(w, n);
	if (p)
		put_le(p, v, n);
}

void snap_begin(struct snap_writer *w, uint32_t tag)
{
	w->section = w->len;
	put(w, tag, 4);
	put(w, 0, 4);   /* the body length, patched by snap_end_section */
}

void snap_end_section(struct snap_writer *w)
{
	if (!w->nomem && w->section)
		put_le(w->buf + w->section + 4, w->len - w->section - 8, 4);
	w->section = 0;
}

void snap_put_u8(struct snap_writer *w, uint8_t v) { put(w, v, 1); }
void snap_put_u16(struct snap_writer *w, uint16_t v) { put(w, v, 2); }
void snap_put_u32(struct snap_writer *w, uint32_t v) { put(w, v, 4); }
void snap_put_u64(struct snap_writer *w, uint64_t v) { put(w, v, 8); }

void snap_put_blob(struct snap_writer *w, const void *p, uint32_t n)
{
	put(w, n, 4);
	uint8_t *d = reserve(w, n);
	if (d && n)
		memcpy(d, p, n);
}

void snap_put_str(struct snap_writer *w, const char *s)
{
	if (!s)
		put(w, STR_NULL, 4);
	else
		snap_put_blob(w, s, (uint32_t)strlen(s));
}

int snap_tmp_open(const char *path, char *tmp, size_t tmp_len, struct arcvm_error *err)
{
	int n = snprintf(tmp, tmp_len, "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= tmp_len)
		return err_set(err, ARCVM_E_INVALID, "snapshot path %s is too long", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_errno(err, err_from_errno(errno), errno, "cannot create %s", tmp);
	return fd;
}

/* A rename is durable once the folder holding it is on disk. */
static int sync_parent(const char *path, struct arcvm_error *err)
{
	char copy[SNAP_STR_MAX];
	snprintf(copy, sizeof(copy), "%s", path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, ARCVM_E_IO, errno, "cannot open the folder of %s", path);
	int rc = fsync(fd) < 0 ? err_errno(err, ARCVM_E_IO, errno, "fsync of the folder of %s",
					   path) : 0;
	close(fd);
	return rc;
}

int snap_tmp_finish(int fd, const char *tmp, struct arcvm_error *err)
{
	int rc = 0;
	if (fsync(fd) < 0)
		rc = err_errno(err, ARCVM_E_IO, errno, "fsync of %s", tmp);
	if (close(fd) < 0 && !rc)
		rc = err_errno(err, ARCVM_E_IO, errno, "close of %s", tmp);
	if (rc)
		unlink(tmp);
	return rc;
}

int snap_tmp_rename(const char *tmp, const char *path, struct arcvm_error *err)
{
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return err_errno(err, err_from_errno(e), e, "cannot rename %s to %s", tmp, path);
	}
	return sync_parent(path, err);
}

int snap_tmp_commit(int fd, const char *tmp, const char *path, struct arcvm_error *err)
{
	int rc = snap_tmp_finish(fd, tmp, err);
	return rc ? rc : snap_tmp_rename(tmp, path, err);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : ENOSPC;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int snap_write_tmp(struct snap_writer *w, const char *path, char *tmp, size_t tmp_len,
		   struct arcvm_error *err)
{
	if (w->nomem)
		return err_set(err, ARCVM_E_NOMEM, "out of memory building the snapshot state");
	size_t plen = w->len - SNAP_HEADER_LEN;
	memcpy(w->buf, SNAP_MAGIC, 8);
	put_le(w->buf + HDR_VERSION, SNAP_VERSION, 4);
	put_le(w->buf + HDR_HLEN, SNAP_HEADER_LEN, 4);
	put_le(w->buf + HDR_PLEN, plen, 8);
	put_le(w->buf + HDR_CRC, crc(w->buf + SNAP_HEADER_LEN, plen), 4);
	put_le(w->buf + HDR_CRC + 4, 0, 4);
	int fd = snap_tmp_open(path, tmp, tmp_len, err);
	if (fd < 0)
		return fd;
	int e = write_all(fd, w->buf, w->len);
	if (e) {
		close(fd);
		unlink(tmp);
		return err_errno(err, ARCVM_E_IO, e, "cannot write snapshot state %s", tmp);
	}
	return snap_tmp_finish(fd, tmp, err);
}

int snap_write_file(struct snap_writer *w, const char *path, struct arcvm_error *err)
{
	char tmp[SNAP_STR_MAX + 32];
	int rc = snap_write_tmp(w, path, tmp, sizeof(tmp), err);
	return rc ? rc : snap_tmp_rename(tmp, path, err);
}

int snap_open(const void *file, size_t len, struct snap_reader *r, struct arcvm_error *err)
{
	const uint8_t *b = file;
	memset(r, 0, sizeof(*r));
	if (len == 0)
		return err_set(err, ARCVM_E_FORMAT, "snapshot state file is empty");
	if (len < SNAP_HEADER_LEN)
		return err_set(err, ARCVM_E_FORMAT,
			       "snapshot state file is truncated: %zu bytes, shorter than its header", len);
	if (memcmp(b, SNAP_MAGIC, 8) != 0)
		return err_set(err, ARCVM_E_FORMAT, "not an arcvm snapshot state file (bad magic)");
	uint32_t version = (uint32_t)get_le(b + HDR_VERSION, 4);
	if (version != SNAP_VERSION)
		return err_set(err, ARCVM_E_FORMAT,
			       "snapshot state file version %u; this arcvm reads version %u", version,
			       SNAP_VERSION);
	if (get_le(b + HDR_HLEN, 4) != SNAP_HEADER_LEN)
		return err_set(err, ARCVM_E_FORMAT, "snapshot state header length is not %u",
			       SNAP_HEADER_LEN);
	uint64_t plen = get_le(b + HDR_PLEN, 8);
	if (plen != len - SNAP_HEADER_LEN)
		return err_set(err, ARCVM_E_FORMAT,
			       "snapshot state file is %s: the header declares %llu payload bytes, "
			       "the file holds %zu", plen > len - SNAP_HEADER_LEN ? "truncated" :
			       "longer than declared", (unsigned long long)plen, len - SNAP_HEADER_LEN);
	uint32_t want = (uint32_t)get_le(b + HDR_CRC, 4);
	uint32_t got = crc(b + SNAP_HEADER_LEN, (size_t)plen);
	if (want != got)
		return err_set(err, ARCVM_E_FORMAT,
			       "snapshot state checksum mismatch (CRC-32 0x%08x, header says 0x%08x): "
			       "the file is damaged", got, want);
	*r = (struct snap_reader){ .p = b + SNAP_HEADER_LEN, .len = (size_t)plen };
	return 0;
}

int snap_read_file(const char *path, uint8_t **out, size_t *len, struct arcvm_error *err)
{
	*out = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return err_set(err, ARCVM_E_NOT_FOUND, "snapshot state file %s does not exist",
				       path);
		return err_errno(err, err_from_errno(e), e, "cannot open snapshot state %s", path);
	}
	struct stat st;
	int rc = 0;
	uint8_t *buf = NULL;
	if (fstat(fd, &st) < 0) {
		rc = err_errno(err, ARCVM_E_IO, errno, "cannot stat %s", path);
	} else if (!S_ISREG(st.st_mode)) {
		rc = err_set(err, ARCVM_E_INVALID, "snapshot state %s is not a regular file", path);
	} else if (st.st_size == 0) {
		rc = err_set(err, ARCVM_E_FORMAT, "snapshot state file %s is empty", path);
	} else if ((uint64_t)st.st_size > SNAP_MAX_STATE) {
		rc = err_set(err, ARCVM_E_FORMAT,
			     "snapshot state file %s is %lld bytes, more than the %u MiB limit", path,
			     (long long)st.st_size, SNAP_MAX_STATE >> 20);
	} else if (!(buf = malloc((size_t)st.st_size))) {
		rc = err_set(err, ARCVM_E_NOMEM, "out of memory reading %s", path);
	} else {
		ssize_t n = pread(fd, buf, (size_t)st.st_size, 0);
		if (n != st.st_size)
			rc = err_errno(err, ARCVM_E_IO, n < 0 ? errno : EIO, "cannot read %s", path);
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = (size_t)st.st_size;
	return 0;
}

static const uint8_t *take(struct snap_reader *r, size_t n)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

static uint64_t get(struct snap_reader *r, unsigned n)
{
	const uint8_t *p = take(r, n);
	return p ? get_le(p, n) : 0;
}

static void tag_name(uint32_t tag, char out[5])
{
	for (int i = 0; i < 4; i++) {
		char c = (char)(tag >> (8 * i));
		out[i] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	out[4] = '\0';
}

bool snap_next_is(const struct snap_reader *r, uint32_t tag)
{
	return !r->bad && r->len - r->off >= 8 && get_le(r->p + r->off, 4) == tag;
}

int snap_section(struct snap_reader *r, uint32_t tag, const char *what, struct snap_reader *sec,
		 struct arcvm_error *err)
{
	char want[5], got[5];
	tag_name(tag, want);
	memset(sec, 0, sizeof(*sec));
	if (r->bad || r->len - r->off < 8)
		return err_set(err, ARCVM_E_FORMAT, "snapshot state ends before the %s section (%s)",
			       what, want);
	uint32_t t = (uint32_t)get(r, 4);
	uint32_t n = (uint32_t)get(r, 4);
	if (t != tag) {
		tag_name(t, got);
		return err_set(err, ARCVM_E_FORMAT,
			       "snapshot state has section '%s' where the %s section ('%s') belongs",
			       got, what, want);
	}
	const uint8_t *body = take(r, n);
	if (!body)
		return err_set(err, ARCVM_E_FORMAT,
			       "snapshot state's %s section (%u bytes) runs past the end of the file",
			       what, n);
	*sec = (struct snap_reader){ .p = body, .len = n, .tag = tag };
	return 0;
}

uint8_t snap_get_u8(struct snap_reader *r) { return (uint8_t)get(r, 1); }
uint16_t snap_get_u16(struct snap_reader *r) { return (uint16_t)get(r, 2); }
uint32_t snap_get_u32(struct snap_reader *r) { return (uint32_t)get(r, 4); }
uint64_t snap_get_u64(struct snap_reader *r) { return get(r, 8); }

bool snap_get_bool(struct snap_reader *r)
{
	uint8_t v = snap_get_u8(r);
	if (v > 1)
		r->bad = true;
	return v == 1;
}

void snap_get_blob(struct snap_reader *r, void *dst, uint32_t n)
{
	uint32_t got = snap_get_u32(r);
	const uint8_t *p = got == n ? take(r, n) : NULL;
	if (!p) {
		r->bad = true;
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, p, n);
}

uint32_t snap_get_blob_max(struct snap_reader *r, void *dst, uint32_t max)
{
	uint32_t n = snap_get_u32(r);
	const uint8_t *p = n <= max ? take(r, n) : NULL;
	if (!p) {
		r->bad = true;
		return 0;
	}
	memcpy(dst, p, n);
	return n;
}

const char *snap_get_str(struct snap_reader *r, char *buf)
{
	uint32_t n = snap_get_u32(r);
	buf[0] = '\0';
	if (n == STR_NULL && !r->bad)
		return NULL;
	const uint8_t *p = n < SNAP_STR_MAX ? take(r, n) : NULL;
	if (!p || memchr(p, '\0', n)) {
		r->bad = true;
		return buf;
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

int snap_done(const struct snap_reader *r, const char *what, struct arcvm_error *err)
{
	if (r->bad)
		return err_set(err, ARCVM_E_FORMAT,
			       "snapshot state's %s section is malformed or holds a value out of range",
			       what);
	if (r->off != r->len)
		return err_set(err, ARCVM_E_FORMAT,
			       "snapshot state's %s section has %zu unexpected trailing bytes", what,
			       r->len - r->off);
	return 0;
}

void snap_reject(struct snap_reader *r)
{
	r->bad = true;
}
