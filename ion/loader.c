/* loader.c - decoding and verifying .ionc bytes (docs/ionvm-bytecode.md).
 *
 * Every count read from the file is checked against the bytes that remain
 * before anything is allocated for it, so a hostile file cannot make the
 * loader allocate more than a small multiple of its own size. After parsing,
 * the verifier checks every operand, so the interpreter can trust indices.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ion/include/ion.h"
#include "ion/unit.h"

struct reader {
	const uint8_t *p, *end;
	struct ion_unit *u;
	char *err;
	size_t errlen;
	int rc;
};

static int fail(struct reader *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct reader *r, int code, const char *fmt, ...)
{
	if (r->rc)
		return r->rc;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
	r->rc = code;
	return code;
}

static size_t left(const struct reader *r) { return (size_t)(r->end - r->p); }

static uint64_t rd_le(struct reader *r, int n, const char *what)
{
	if (r->rc)
		return 0;
	if (left(r) < (size_t)n) {
		fail(r, ION_E_FORMAT, "truncated: %s", what);
		return 0;
	}
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return v;
}

static double rd_f64(struct reader *r, const char *what)
{
	uint64_t v = rd_le(r, 8, what);
	double d;
	memcpy(&d, &v, sizeof d);
	return d;
}

static void rd_bytes(struct reader *r, struct ion_bytes *b, int lenbytes, const char *what)
{
	size_t len = (size_t)rd_le(r, lenbytes, what);
	if (r->rc)
		return;
	if (len > left(r)) {
		fail(r, ION_E_FORMAT, "truncated: %s (%zu bytes announced, %zu left)", what, len, left(r));
		return;
	}
	if (ion_unit_bytes(r->u, b, (const char *)r->p, len)) {
		fail(r, ION_E_NOMEM, "out of memory reading %s", what);
		return;
	}
	r->p += len;
}

/* Reads a count of items each at least `minsize` bytes long. */
static uint32_t rd_count(struct reader *r, int lenbytes, size_t minsize, uint32_t max, const char *what)
{
	uint64_t n = rd_le(r, lenbytes, what);
	if (r->rc)
		return 0;
	if (n > max || n * minsize > left(r)) {
		fail(r, ION_E_FORMAT, "%s: count %llu too large", what, (unsigned long long)n);
		return 0;
	}
	return (uint32_t)n;
}

static void *rd_array(struct reader *r, size_t n, size_t size)
{
	if (r->rc || n == 0)
		return NULL;
	void *p = ion_unit_alloc(r->u, n * size);
	if (!p)
		fail(r, ION_E_NOMEM, "out of memory");
	return p;
}

static void rd_const(struct reader *r, struct ion_kconst *k, int depth, int nested);

static void rd_pat(struct reader *r, struct ion_kpat *p, int depth)
{
	if (depth > ION_NEST_MAX) {
		fail(r, ION_E_FORMAT, "pattern nested deeper than %d", ION_NEST_MAX);
		return;
	}
	p->tag = (uint8_t)rd_le(r, 1, "pattern tag");
	switch (p->tag) {
	case ION_PAT_WILD: break;
	case ION_PAT_BIND: p->reg = (uint8_t)rd_le(r, 1, "pattern register"); break;
	case ION_PAT_LIT:
		p->lit = rd_array(r, 1, sizeof *p->lit);
		if (p->lit)
			rd_const(r, p->lit, depth + 1, 1);
		if (!r->rc && p->lit->kind > ION_K_COMPLEX)
			fail(r, ION_E_FORMAT, "pattern literal of kind %u (only 0..6)", p->lit->kind);
		break;
	case ION_PAT_TUPLE:
	case ION_PAT_ARRAY:
		p->n = (uint16_t)rd_count(r, 2, 1, 0xFFFF, "pattern elements");
		p->items = rd_array(r, p->n, sizeof *p->items);
		for (uint16_t i = 0; i < p->n && !r->rc; i++)
			rd_pat(r, &p->items[i], depth + 1);
		break;
	default:
		fail(r, ION_E_FORMAT, "unknown pattern tag %u", p->tag);
	}
}

static void rd_object(struct reader *r, struct ion_kconst *k, int depth)
{
	rd_bytes(r, &k->s, 2, "object type name");
	k->n = rd_count(r, 4, 4, 0xFFFFFF, "object properties");
	k->props = rd_array(r, k->n, sizeof *k->props);
	k->items = rd_array(r, k->n, sizeof *k->items);
	for (uint32_t i = 0; i < k->n && !r->rc; i++) {
		rd_bytes(r, &k->props[i].key, 2, "property key");
		k->props[i].flags = (uint8_t)rd_le(r, 1, "property flags");
		if (r->rc)
			return;
		if (k->props[i].key.len == 0 || k->props[i].key.len > 255)
			fail(r, ION_E_FORMAT, "property key length %u", k->props[i].key.len);
		else if (k->props[i].flags > 7)
			fail(r, ION_E_FORMAT, "property flags %#x", k->props[i].flags);
		for (uint32_t j = 0; j < i && !r->rc; j++)
			if (strcmp(k->props[j].key.s, k->props[i].key.s) == 0)
				fail(r, ION_E_FORMAT, "duplicate property key '%s'", k->props[i].key.s);
		rd_const(r, &k->items[i], depth + 1, 1);
	}
}

static void rd_match(struct reader *r, struct ion_kconst *k, int depth)
{
	k->n = rd_count(r, 2, 3, 255, "match arms");
	if (!r->rc && k->n == 0)
		fail(r, ION_E_FORMAT, "match table without arms");
	k->pats = rd_array(r, k->n, sizeof *k->pats);
	k->targets = rd_array(r, k->n, sizeof *k->targets);
	for (uint32_t i = 0; i < k->n && !r->rc; i++) {
		rd_pat(r, &k->pats[i], depth + 1);
		k->targets[i] = (uint16_t)rd_le(r, 2, "match target");
	}
}

static void rd_const(struct reader *r, struct ion_kconst *k, int depth, int nested)
{
	if (depth > ION_NEST_MAX) {
		fail(r, ION_E_FORMAT, "constant nested deeper than %d", ION_NEST_MAX);
		return;
	}
	k->kind = (uint8_t)rd_le(r, 1, "constant tag");
	switch (k->kind) {
	case ION_K_NIL: case ION_K_FALSE: case ION_K_TRUE: break;
	case ION_K_NUMBER: k->num = rd_f64(r, "number"); break;
	case ION_K_STRING: rd_bytes(r, &k->s, 4, "string"); break;
	case ION_K_ATOM:
		rd_bytes(r, &k->s, 2, "atom");
		if (!r->rc && (k->s.len == 0 || k->s.len > 255))
			fail(r, ION_E_FORMAT, "atom length %u", k->s.len);
		break;
	case ION_K_COMPLEX: k->num = rd_f64(r, "complex"); k->im = rd_f64(r, "complex"); break;
	case ION_K_TUPLE:
	case ION_K_ARRAY:
		k->n = rd_count(r, 4, 1, 0xFFFFFF, "elements");
		k->items = rd_array(r, k->n, sizeof *k->items);
		for (uint32_t i = 0; i < k->n && !r->rc; i++)
			rd_const(r, &k->items[i], depth + 1, 1);
		break;
	case ION_K_OBJECT: rd_object(r, k, depth); break;
	case ION_K_FUNCREF:
		rd_bytes(r, &k->s, 2, "funcref class");
		rd_bytes(r, &k->s2, 2, "funcref function");
		if (!r->rc && k->s2.len == 0)
			fail(r, ION_E_FORMAT, "funcref without a function name");
		break;
	case ION_K_NATIVE:
		rd_bytes(r, &k->s, 2, "native name");
		if (!r->rc && k->s.len == 0)
			fail(r, ION_E_FORMAT, "native without a name");
		break;
	case ION_K_MATCH:
		if (nested)
			fail(r, ION_E_FORMAT, "match table nested inside a constant");
		else
			rd_match(r, k, depth);
		break;
	default:
		fail(r, ION_E_FORMAT, "unknown constant tag %u", k->kind);
	}
}

static void rd_func(struct reader *r, struct ion_kfunc *f)
{
	rd_bytes(r, &f->name, 2, "function name");
	f->arity = (uint8_t)rd_le(r, 1, "arity");
	f->nregs = (uint16_t)rd_le(r, 2, "register count");
	f->nup = (uint16_t)rd_count(r, 2, 3, 255, "upvalues");
	f->upkind = rd_array(r, f->nup, 1);
	f->upidx = rd_array(r, f->nup, 2);
	for (uint16_t i = 0; i < f->nup && !r->rc; i++) {
		f->upkind[i] = (uint8_t)rd_le(r, 1, "upvalue kind");
		f->upidx[i] = (uint16_t)rd_le(r, 2, "upvalue index");
	}
	f->ncode = rd_count(r, 4, 8, 0xFFFF, "instructions");
	f->code = rd_array(r, f->ncode, 8);
	for (uint32_t i = 0; i < f->ncode && !r->rc; i++)
		f->code[i] = rd_le(r, 8, "instruction");
}

static int check_header(struct reader *r, size_t len)
{
	const uint8_t *d = r->p;
	if (len < ION_HEADER_SIZE)
		return fail(r, ION_E_FORMAT, "truncated header (%zu bytes)", len);
	if (memcmp(d, "IONC", 4) != 0)
		return fail(r, ION_E_FORMAT, "bad magic (not an .ionc file)");
	r->p += 4;
	unsigned major = (unsigned)rd_le(r, 2, "version"), minor = (unsigned)rd_le(r, 2, "version");
	uint32_t flags = (uint32_t)rd_le(r, 4, "flags"), plen = (uint32_t)rd_le(r, 4, "length");
	uint32_t crc = (uint32_t)rd_le(r, 4, "crc");
	if (major != ION_FORMAT_MAJOR || minor > ION_FORMAT_MINOR)
		return fail(r, ION_E_FORMAT, "unsupported format version %u.%u (this VM reads %d.%d)",
			    major, minor, ION_FORMAT_MAJOR, ION_FORMAT_MINOR);
	if (flags)
		return fail(r, ION_E_FORMAT, "unknown header flags %#x", flags);
	if ((size_t)plen != len - ION_HEADER_SIZE)
		return fail(r, ION_E_FORMAT, "payload length %u but file has %zu bytes after the header",
			    plen, len - ION_HEADER_SIZE);
	if (ion_crc32(r->p, plen) != crc)
		return fail(r, ION_E_FORMAT, "checksum mismatch (file damaged)");
	r->u->minor = (uint16_t)minor;
	return 0;
}

int ion_unit_decode(const void *data, size_t len, struct ion_unit **out, char *err, size_t errlen)
{
	struct ion_unit *u = ion_unit_new();
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return ION_E_NOMEM;
	}
	struct reader r = { .p = data, .end = (const uint8_t *)data + len, .u = u,
			    .err = err, .errlen = errlen };
	if (check_header(&r, len))
		goto fail;
	rd_bytes(&r, &u->name, 2, "class name");
	if (!r.rc && (u->name.len == 0 || u->name.len > 255))
		fail(&r, ION_E_FORMAT, "class name length %u", u->name.len);
	u->nk = rd_count(&r, 4, 1, 0xFFFF, "constants");
	u->k = rd_array(&r, u->nk, sizeof *u->k);
	for (uint32_t i = 0; i < u->nk && !r.rc; i++)
		rd_const(&r, &u->k[i], 0, 0);
	u->nf = rd_count(&r, 4, 12, 0xFFFF, "functions");
	u->f = rd_array(&r, u->nf, sizeof *u->f);
	for (uint32_t i = 0; i < u->nf && !r.rc; i++)
		rd_func(&r, &u->f[i]);
	if (!r.rc && r.p != r.end)
		fail(&r, ION_E_FORMAT, "%zu stray bytes after the last function", left(&r));
	if (r.rc)
		goto fail;
	int rc = ion_unit_verify(u, err, errlen);
	if (rc) {
		ion_unit_free(u);
		return rc;
	}
	*out = u;
	return 0;
fail:
	ion_unit_free(u);
	return r.rc;
}

int ion_unit_decode_value(struct ion_unit *u, const void *data, size_t len, struct ion_kconst *out,
			  char *err, size_t errlen)
{
	struct reader r = { .p = data, .end = (const uint8_t *)data + len, .u = u,
			    .err = err, .errlen = errlen };
	rd_const(&r, out, 0, 1);
	if (!r.rc && r.p != r.end)
		fail(&r, ION_E_FORMAT, "%zu stray bytes after the value", left(&r));
	return r.rc;
}
