/*
 * proto.c - bounded little-endian readers and writers for 9P messages, and
 * iovec helpers. No allocation; every access is checked against the buffer.
 */
#include "p9/proto.h"

#include <endian.h>
#include <string.h>

static const uint8_t *take(struct p9_in *in, size_t n)
{
	if (in->bad || n > in->len - in->off) {
		in->bad = true;
		return NULL;
	}
	const uint8_t *p = in->buf + in->off;
	in->off += n;
	return p;
}

uint8_t p9_get_u8(struct p9_in *in)
{
	const uint8_t *p = take(in, 1);
	return p ? p[0] : 0;
}

uint16_t p9_get_u16(struct p9_in *in)
{
	uint16_t v = 0;
	const uint8_t *p = take(in, 2);
	if (p)
		memcpy(&v, p, 2);
	return le16toh(v);
}

uint32_t p9_get_u32(struct p9_in *in)
{
	uint32_t v = 0;
	const uint8_t *p = take(in, 4);
	if (p)
		memcpy(&v, p, 4);
	return le32toh(v);
}

uint64_t p9_get_u64(struct p9_in *in)
{
	uint64_t v = 0;
	const uint8_t *p = take(in, 8);
	if (p)
		memcpy(&v, p, 8);
	return le64toh(v);
}

void p9_get_str(struct p9_in *in, const char **s, uint16_t *len)
{
	uint16_t n = p9_get_u16(in);
	const uint8_t *p = take(in, n);
	*s = p ? (const char *)p : "";
	*len = p ? n : 0;
}

static uint8_t *room(struct p9_out *out, size_t n)
{
	if (out->bad || n > out->cap - out->off) {
		out->bad = true;
		return NULL;
	}
	uint8_t *p = out->buf + out->off;
	out->off += n;
	return p;
}

void p9_put_u8(struct p9_out *out, uint8_t v)
{
	uint8_t *p = room(out, 1);
	if (p)
		p[0] = v;
}

void p9_put_u16(struct p9_out *out, uint16_t v)
{
	uint8_t *p = room(out, 2);
	v = htole16(v);
	if (p)
		memcpy(p, &v, 2);
}

void p9_put_u32(struct p9_out *out, uint32_t v)
{
	uint8_t *p = room(out, 4);
	v = htole32(v);
	if (p)
		memcpy(p, &v, 4);
}

void p9_put_u64(struct p9_out *out, uint64_t v)
{
	uint8_t *p = room(out, 8);
	v = htole64(v);
	if (p)
		memcpy(p, &v, 8);
}

void p9_put_str(struct p9_out *out, const char *s, size_t len)
{
	if (len > UINT16_MAX) {
		out->bad = true;
		return;
	}
	p9_put_u16(out, (uint16_t)len);
	uint8_t *p = room(out, len);
	if (p && len)
		memcpy(p, s, len);
}

void p9_put_qid(struct p9_out *out, const struct p9_qid *q)
{
	p9_put_u8(out, q->type);
	p9_put_u32(out, q->version);
	p9_put_u64(out, q->path);
}

void p9_begin(struct p9_out *out, uint8_t type, uint16_t tag)
{
	out->off = 0;
	out->bad = false;
	p9_put_u32(out, 0);
	p9_put_u8(out, type);
	p9_put_u16(out, tag);
}

size_t p9_finish(struct p9_out *out)
{
	if (out->bad || out->off > UINT32_MAX)
		return 0;
	uint32_t size = htole32((uint32_t)out->off);
	memcpy(out->buf, &size, 4);
	return out->off;
}

uint64_t p9_iov_len(const struct iovec *iov, unsigned n)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < n; i++)
		total += iov[i].iov_len;
	return total;
}

/* Copies between a flat buffer and [off, off + len) of the iovec. */
static int iov_copy(const struct iovec *iov, unsigned n, uint64_t off, void *flat, size_t len,
		    bool to_iov)
{
	uint64_t total = p9_iov_len(iov, n);
	if (off > total || len > total - off)
		return -1;
	uint8_t *p = flat;
	for (unsigned i = 0; i < n && len > 0; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t k = iov[i].iov_len - (size_t)off;
		if (k > len)
			k = len;
		uint8_t *b = (uint8_t *)iov[i].iov_base + off;
		if (to_iov)
			memcpy(b, p, k);
		else
			memcpy(p, b, k);
		p += k;
		len -= k;
		off = 0;
	}
	return 0;
}

int p9_iov_read(const struct iovec *iov, unsigned n, uint64_t off, void *dst, size_t len)
{
	return iov_copy(iov, n, off, dst, len, false);
}

int p9_iov_write(const struct iovec *iov, unsigned n, uint64_t off, const void *src, size_t len)
{
	return iov_copy(iov, n, off, (void *)src, len, true);
}

int p9_iov_slice(const struct iovec *iov, unsigned n, uint64_t off, uint64_t len,
		 struct iovec *out, unsigned max)
{
	uint64_t total = p9_iov_len(iov, n);
	if (off > total || len > total - off)
		return -1;
	unsigned k = 0;
	for (unsigned i = 0; i < n && len > 0; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		if (k == max)
			return -1;
		uint64_t take_len = iov[i].iov_len - off;
		if (take_len > len)
			take_len = len;
		out[k].iov_base = (uint8_t *)iov[i].iov_base + off;
		out[k].iov_len = (size_t)take_len;
		k++;
		len -= take_len;
		off = 0;
	}
	return (int)k;
}
