/*
 * proto.h - 9P2000.L wire format: message numbers, bit values, and bounded
 * readers and writers for little-endian fields in a message buffer.
 *
 * A message is size[4] type[1] tag[2] followed by the fields of its type.
 * Every reader checks the remaining length before it copies; a failed read
 * sets `bad` and returns zeroes, so a handler parses all its fields and then
 * checks `bad` once. Strings are counted (len[2] bytes), never NUL-terminated
 * on the wire; p9_get_str() hands out a pointer into the buffer and a length
 * and the caller copies or validates it.
 *
 * Also here: iovec helpers, because requests and replies live in the driver's
 * scattered buffers (a virtqueue chain) and bulk data moves straight between
 * those buffers and host files.
 */
#ifndef P9_PROTO_H
#define P9_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define P9_HDR_SIZE 7u            /* size[4] type[1] tag[2] */
#define P9_NOTAG    0xffffu
#define P9_NOFID    0xffffffffu
#define P9_MAXWELEM 16            /* names per Twalk */
#define P9_QID_SIZE 13u

/* Message numbers (T = request, R = reply = T + 1). */
enum p9_type {
	P9_RLERROR = 7,
	P9_TSTATFS = 8, P9_TLOPEN = 12, P9_TLCREATE = 14, P9_TSYMLINK = 16,
	P9_TMKNOD = 18, P9_TRENAME = 20, P9_TREADLINK = 22, P9_TGETATTR = 24,
	P9_TSETATTR = 26, P9_TXATTRWALK = 30, P9_TXATTRCREATE = 32,
	P9_TREADDIR = 40, P9_TFSYNC = 50, P9_TLOCK = 52, P9_TGETLOCK = 54,
	P9_TLINK = 70, P9_TMKDIR = 72, P9_TRENAMEAT = 74, P9_TUNLINKAT = 76,
	P9_TVERSION = 100, P9_TAUTH = 102, P9_TATTACH = 104, P9_TFLUSH = 108,
	P9_TWALK = 110, P9_TREAD = 116, P9_TWRITE = 118, P9_TCLUNK = 120,
	P9_TREMOVE = 122,
};

/* Qid types. */
#define P9_QTDIR     0x80
#define P9_QTSYMLINK 0x02
#define P9_QTFILE    0x00

/* Tsetattr valid bits. */
#define P9_SETATTR_MODE      0x001u
#define P9_SETATTR_UID       0x002u
#define P9_SETATTR_GID       0x004u
#define P9_SETATTR_SIZE      0x008u
#define P9_SETATTR_ATIME     0x010u
#define P9_SETATTR_MTIME     0x020u
#define P9_SETATTR_CTIME     0x040u
#define P9_SETATTR_ATIME_SET 0x080u
#define P9_SETATTR_MTIME_SET 0x100u

/* Rgetattr valid bits: everything up to and including blocks. */
#define P9_GETATTR_BASIC 0x7ffull

/* Tlopen / Tlcreate flags (the Linux x86 O_* values, fixed by the protocol). */
#define P9_DOTL_ACCMODE   03u
#define P9_DOTL_TRUNC     01000u
#define P9_DOTL_APPEND    02000u
#define P9_DOTL_DSYNC     010000u
#define P9_DOTL_DIRECTORY 0200000u
#define P9_DOTL_SYNC      04000000u

/* Tunlinkat flag. */
#define P9_AT_REMOVEDIR 0x200u

/* Tlock / Tgetlock. */
#define P9_LOCK_SUCCESS 0
#define P9_LOCK_TYPE_UNLCK 2

/* Header bytes in front of the data of Rread (size type tag count) and of
 * Twrite (size type tag fid offset count). */
#define P9_RREAD_HDR  11u
#define P9_TWRITE_HDR 23u
#define P9_RREADDIR_HDR 11u

struct p9_qid {
	uint8_t type;
	uint32_t version;
	uint64_t path;
};

/* A message being read: buf[0 .. len), cursor at off. */
struct p9_in {
	const uint8_t *buf;
	size_t len, off;
	bool bad;                 /* a read ran past the end */
};

/* A reply being written into buf[0 .. cap). */
struct p9_out {
	uint8_t *buf;
	size_t cap, off;
	bool bad;                 /* a write did not fit */
};

uint8_t p9_get_u8(struct p9_in *in);
uint16_t p9_get_u16(struct p9_in *in);
uint32_t p9_get_u32(struct p9_in *in);
uint64_t p9_get_u64(struct p9_in *in);
/* A counted string: *s points into the buffer (not NUL-terminated). */
void p9_get_str(struct p9_in *in, const char **s, uint16_t *len);

void p9_put_u8(struct p9_out *out, uint8_t v);
void p9_put_u16(struct p9_out *out, uint16_t v);
void p9_put_u32(struct p9_out *out, uint32_t v);
void p9_put_u64(struct p9_out *out, uint64_t v);
void p9_put_str(struct p9_out *out, const char *s, size_t len);
void p9_put_qid(struct p9_out *out, const struct p9_qid *q);
/* Starts a reply of `type` for `tag`; the size is filled in by p9_finish(). */
void p9_begin(struct p9_out *out, uint8_t type, uint16_t tag);
/* Writes the size field; returns the message length (0 when it overflowed). */
size_t p9_finish(struct p9_out *out);

/* Total bytes of iov[0 .. n). */
uint64_t p9_iov_len(const struct iovec *iov, unsigned n);
/* Copies len bytes at offset off of the iovec out to dst / in from src.
 * Return 0, or -1 when the iovec is shorter than off + len (nothing is copied). */
int p9_iov_read(const struct iovec *iov, unsigned n, uint64_t off, void *dst, size_t len);
int p9_iov_write(const struct iovec *iov, unsigned n, uint64_t off, const void *src, size_t len);
/* Fills out[] (at most max entries) with the slice [off, off + len) of iov.
 * Returns the number of entries, or -1 when iov is too short or max too small. */
int p9_iov_slice(const struct iovec *iov, unsigned n, uint64_t off, uint64_t len,
		 struct iovec *out, unsigned max);

#endif
