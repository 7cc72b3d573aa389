/* literal.c - the text form of copyable values (docs/ionvm-call.md,
 * "Literals"): parsed strictly into the value encoding, and printed back
 * from it, so `arcvm call --arg` and its printed result use one syntax.
 *
 * Both directions work on bytes only (no VM): the parser writes the
 * encoding directly, and the printer decodes with the bounds-checked
 * constant reader (ion_unit_decode_value), so hostile encoded input is
 * refused there before anything is printed.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ion/format.h"
#include "ion/unit.h"

#define LIT_MAX_ITEMS 0xFFFFFFu /* as the decoder's element count bound */

/* ---- text -> encoding ---- */

struct lit {
	const char *s, *p, *end;
	struct ion_buf b;
	char *err;
	size_t errlen;
	int rc;
};

static int lit_fail(struct lit *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int lit_fail(struct lit *l, const char *fmt, ...)
{
	if (l->rc)
		return l->rc;
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(l->err, l->errlen, "at offset %zu: %s", (size_t)(l->p - l->s), msg);
	l->rc = ION_E_INVALID;
	return l->rc;
}

static void put_le(struct ion_buf *b, uint64_t v, int n)
{
	char t[8];
	for (int i = 0; i < n; i++)
		t[i] = (char)(v >> (8 * i));
	ion_buf_put(b, t, (size_t)n);
}

static void put_f64(struct ion_buf *b, double d)
{
	uint64_t v;
	memcpy(&v, &d, sizeof v);
	put_le(b, v, 8);
}

/* Overwrites n little-endian bytes at offset `at` (a count patched in). */
static void patch_le(struct ion_buf *b, size_t at, uint64_t v, int n)
{
	if (b->oom)
		return;
	for (int i = 0; i < n; i++)
		b->p[at + (size_t)i] = (char)(v >> (8 * i));
}

static void skip_space(struct lit *l)
{
	while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == '\n' || *l->p == '\r'))
		l->p++;
}

static int is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

static size_t ident_len(const struct lit *l)
{
	size_t n = 0;
	if (l->p < l->end && is_ident_start(*l->p))
		while (l->p + n < l->end && is_ident(l->p[n]))
			n++;
	return n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A quoted string (quote " or ') with escapes, into out. */
static int read_quoted(struct lit *l, struct ion_buf *out)
{
	char q = *l->p++;
	while (l->p < l->end && *l->p != q) {
		char c = *l->p++;
		if (c != '\\') {
			ion_buf_put(out, &c, 1);
			continue;
		}
		if (l->p == l->end)
			break;
		c = *l->p++;
		switch (c) {
		case 'n': c = '\n'; break;
		case 't': c = '\t'; break;
		case 'r': c = '\r'; break;
		case '0': c = '\0'; break;
		case '\\': case '"': case '\'': break;
		case 'x': {
			int hi = l->p + 1 < l->end ? hexval(l->p[0]) : -1;
			int lo = hi >= 0 ? hexval(l->p[1]) : -1;
			if (lo < 0)
				return lit_fail(l, "\\x needs two hex digits");
			c = (char)(hi * 16 + lo);
			l->p += 2;
			break;
		}
		default:
			l->p--;
			return lit_fail(l, "unknown escape \\%c (use \\n \\t \\r \\0 \\\\ \\\" \\' \\xHH)",
					c);
		}
		ion_buf_put(out, &c, 1);
	}
	if (l->p == l->end)
		return lit_fail(l, "unterminated string (missing %c)", q);
	l->p++;
	return 0;
}

/* A number: JSON-style decimal, or nan / inf with an optional sign. An
 * imaginary part (imag) may be followed directly by its 'i'. */
static int word_at(const struct lit *l, const char *p, const char *w, int imag)
{
	if (l->end - p < 3 || memcmp(p, w, 3) != 0)
		return 0;
	return l->end - p == 3 || !is_ident(p[3]) || (imag && p[3] == 'i' &&
						      (l->end - p == 4 || !is_ident(p[4])));
}

static int read_number(struct lit *l, double *out, int imag)
{
	const char *p = l->p;
	int neg = 0;
	if (p < l->end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	if (word_at(l, p, "inf", imag) || word_at(l, p, "nan", imag)) {
		*out = *p == 'n' ? NAN : neg ? -INFINITY : INFINITY;
		l->p = p + 3;
		return 0;
	}
	const char *q = p;
	while (q < l->end && *q >= '0' && *q <= '9')
		q++;
	if (q == p)
		return lit_fail(l, "expected a value");
	if (q < l->end && *q == '.') {
		const char *f = ++q;
		while (q < l->end && *q >= '0' && *q <= '9')
			q++;
		if (q == f)
			return lit_fail(l, "a digit must follow the decimal point");
	}
	if (q < l->end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < l->end && (*q == '+' || *q == '-'))
			q++;
		const char *x = q;
		while (q < l->end && *q >= '0' && *q <= '9')
			q++;
		if (q == x)
			return lit_fail(l, "an exponent needs digits");
	}
	char tmp[128];
	if ((size_t)(q - l->p) >= sizeof tmp)
		return lit_fail(l, "number too long");
	memcpy(tmp, l->p, (size_t)(q - l->p));
	tmp[q - l->p] = 0;
	*out = strtod(tmp, NULL);
	l->p = q;
	return 0;
}

static void parse_value(struct lit *l, int depth);

/* Items up to `close`, each written by parse_value; returns the count. */
static uint32_t parse_items(struct lit *l, char close, int depth)
{
	uint32_t n = 0;
	skip_space(l);
	if (l->p < l->end && *l->p == close) {
		l->p++;
		return 0;
	}
	for (;;) {
		if (n == LIT_MAX_ITEMS) {
			lit_fail(l, "more than %u elements", LIT_MAX_ITEMS);
			return 0;
		}
		parse_value(l, depth + 1);
		n++;
		skip_space(l);
		if (l->rc)
			return 0;
		if (l->p < l->end && *l->p == ',') {
			l->p++;
			skip_space(l);
			continue;
		}
		if (l->p < l->end && *l->p == close) {
			l->p++;
			return n;
		}
		lit_fail(l, "expected ',' or '%c'", close);
		return 0;
	}
}

static void put_str16(struct lit *l, const struct ion_buf *s, const char *what)
{
	if (s->n > 255) {
		lit_fail(l, "%s longer than 255 bytes", what);
		return;
	}
	put_le(&l->b, s->n, 2);
	ion_buf_put(&l->b, s->p, s->n);
}

/* A property key: an identifier or a quoted string, then optional /FLAGS. */
static int parse_key(struct lit *l, struct ion_buf *key, unsigned *flags)
{
	size_t n = ident_len(l);
	if (n) {
		ion_buf_put(key, l->p, n);
		l->p += n;
	} else if (l->p < l->end && (*l->p == '"' || *l->p == '\'')) {
		if (read_quoted(l, key))
			return -1;
	} else {
		return lit_fail(l, "expected a property name");
	}
	if (key->n == 0)
		return lit_fail(l, "a property name cannot be empty");
	*flags = 7;
	if (l->p < l->end && *l->p == '/') {
		*flags = 0;
		for (l->p++; l->p < l->end && strchr("wec", *l->p); l->p++) {
			unsigned bit = *l->p == 'w' ? 1 : *l->p == 'e' ? 2 : 4;
			if (*flags & bit)
				return lit_fail(l, "property flag '%c' given twice", *l->p);
			*flags |= bit;
		}
	}
	skip_space(l);
	if (l->p == l->end || *l->p != ':')
		return lit_fail(l, "expected ':' after a property name");
	l->p++;
	return 0;
}

/* #{...} or #Type{...}; l->p is just past '#'. */
static void parse_object(struct lit *l, int depth)
{
	struct ion_buf type = { 0 };
	size_t n = ident_len(l);
	ion_buf_put(&type, l->p, n);
	l->p += n;
	put_le(&l->b, ION_K_OBJECT, 1);
	put_str16(l, &type, "type name");
	free(type.p);
	if (l->p == l->end || *l->p != '{') {
		lit_fail(l, "expected '{' after '#%.*s'", (int)n, l->p - n);
		return;
	}
	l->p++;
	size_t count_at = l->b.n;
	put_le(&l->b, 0, 4);
	uint32_t count = 0;
	skip_space(l);
	if (l->p < l->end && *l->p == '}') {
		l->p++;
		return;
	}
	for (; !l->rc; count++) {
		struct ion_buf key = { 0 };
		unsigned flags = 7;
		if (count == LIT_MAX_ITEMS)
			lit_fail(l, "more than %u properties", LIT_MAX_ITEMS);
		else if (!parse_key(l, &key, &flags)) {
			put_str16(l, &key, "property name");
			put_le(&l->b, flags, 1);
			skip_space(l);
			parse_value(l, depth + 1);
			skip_space(l);
		}
		free(key.p);
		if (l->rc)
			return;
		if (l->p < l->end && *l->p == ',') {
			l->p++;
			skip_space(l);
		} else if (l->p < l->end && *l->p == '}') {
			l->p++;
			patch_le(&l->b, count_at, count + 1, 4);
			return;
		} else {
			lit_fail(l, "expected ',' or '}'");
		}
	}
}

static void parse_aggregate(struct lit *l, int kind, char close, int depth)
{
	l->p++;
	put_le(&l->b, (uint64_t)kind, 1);
	size_t count_at = l->b.n;
	put_le(&l->b, 0, 4);
	uint32_t n = parse_items(l, close, depth);
	patch_le(&l->b, count_at, n, 4);
}

/* A number, or a complex number re+imi / re-imi. */
static void parse_numeric(struct lit *l)
{
	double re, im;
	if (read_number(l, &re, 0))
		return;
	if (l->p < l->end && (*l->p == '+' || *l->p == '-') && l->end - l->p > 1 &&
	    ((l->p[1] >= '0' && l->p[1] <= '9') || l->p[1] == 'i' || l->p[1] == 'n')) {
		if (read_number(l, &im, 1))
			return;
		if (l->p == l->end || *l->p != 'i') {
			lit_fail(l, "a complex number ends with 'i' (as in 1+2i)");
			return;
		}
		l->p++;
		put_le(&l->b, ION_K_COMPLEX, 1);
		put_f64(&l->b, re);
		put_f64(&l->b, im);
		return;
	}
	put_le(&l->b, ION_K_NUMBER, 1);
	put_f64(&l->b, re);
}

static void parse_word(struct lit *l, size_t n)
{
	static const char *const words[] = { "nil", "false", "true" };
	for (int k = 0; k < 3; k++) {
		if (strlen(words[k]) == n && memcmp(l->p, words[k], n) == 0) {
			put_le(&l->b, (uint64_t)k, 1); /* ION_K_NIL, FALSE, TRUE */
			l->p += n;
			return;
		}
	}
	if ((n == 3 && (memcmp(l->p, "nan", 3) == 0 || memcmp(l->p, "inf", 3) == 0))) {
		parse_numeric(l);
		return;
	}
	if (n > 255) {
		lit_fail(l, "atom longer than 255 bytes");
		return;
	}
	put_le(&l->b, ION_K_ATOM, 1);
	put_le(&l->b, n, 2);
	ion_buf_put(&l->b, l->p, n);
	l->p += n;
}

static void parse_value(struct lit *l, int depth)
{
	skip_space(l);
	if (depth > ION_NEST_MAX) {
		lit_fail(l, "nested deeper than %d", ION_NEST_MAX);
		return;
	}
	if (l->p == l->end) {
		lit_fail(l, "expected a value, found the end");
		return;
	}
	char c = *l->p;
	size_t n = ident_len(l);
	struct ion_buf s = { 0 };
	if (n) {
		parse_word(l, n);
	} else if (c == '"' || c == '\'') {
		if (!read_quoted(l, &s)) {
			if (c == '"') {
				put_le(&l->b, ION_K_STRING, 1);
				put_le(&l->b, s.n, 4);
				ion_buf_put(&l->b, s.p, s.n);
			} else if (s.n == 0) {
				lit_fail(l, "an atom cannot be empty");
			} else {
				put_le(&l->b, ION_K_ATOM, 1);
				put_str16(l, &s, "atom");
			}
		}
		free(s.p);
	} else if (c == '{') {
		parse_aggregate(l, ION_K_TUPLE, '}', depth);
	} else if (c == '[') {
		parse_aggregate(l, ION_K_ARRAY, ']', depth);
	} else if (c == '#') {
		l->p++;
		parse_object(l, depth);
	} else if (c == '-' || c == '+' || (c >= '0' && c <= '9')) {
		parse_numeric(l);
	} else {
		lit_fail(l, "unexpected '%c'", c);
	}
}

int ion_literal_encode(const char *text, size_t len, uint8_t **out, size_t *outlen, char *err,
		       size_t errlen)
{
	struct lit l = { .s = text, .p = text, .end = text + len, .err = err, .errlen = errlen };
	parse_value(&l, 0);
	skip_space(&l);
	if (!l.rc && l.p != l.end)
		lit_fail(&l, "unexpected text after the value");
	if (!l.rc && l.b.oom) {
		snprintf(err, errlen, "out of memory");
		l.rc = ION_E_NOMEM;
	}
	if (l.rc) {
		free(l.b.p);
		return l.rc;
	}
	*out = (uint8_t *)l.b.p;
	*outlen = l.b.n;
	return 0;
}

/* ---- encoding -> text ---- */

/* The length of a well-formed UTF-8 sequence at s (2..4) that prints as
 * itself, else 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	uint32_t cp = s[0] & (0x7F >> len);
	for (size_t i = 1; i < len; i++)
		cp = cp << 6 | (s[i] & 0x3F);
	if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	/* C1 controls (U+0080..U+009F) are escaped like C0: a result from the
	 * guest must not reach the terminal as control sequences. */
	return cp >= 0x80 && cp <= 0x9F ? 0 : len;
}

/* Quoted with escapes: printable ASCII and valid UTF-8 as they are, every
 * other byte as \xHH, so any bytes print readably and parse back. */
static void fmt_quoted(struct ion_buf *b, const char *s, size_t n, char q)
{
	ion_buf_put(b, &q, 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t u = c >= 0x80 ? utf8_len((const unsigned char *)s + i, n - i) : 0;
		if (u) {
			ion_buf_put(b, s + i, u);
			i += u - 1;
		} else if (c >= 0x80) {
			ion_buf_printf(b, "\\x%02x", c);
		} else if (c == (unsigned char)q || c == '\\')
			ion_buf_printf(b, "\\%c", c);
		else if (c == '\n')
			ion_buf_puts(b, "\\n");
		else if (c == '\t')
			ion_buf_puts(b, "\\t");
		else if (c == '\r')
			ion_buf_puts(b, "\\r");
		else if (c < 0x20 || c == 0x7F)
			ion_buf_printf(b, "\\x%02x", c);
		else
			ion_buf_put(b, (const char *)&c, 1);
	}
	ion_buf_put(b, &q, 1);
}

static int is_plain_name(const char *s, size_t n)
{
	if (n == 0 || !is_ident_start(s[0]))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!is_ident(s[i]))
			return 0;
	return 1;
}

static void fmt_number(struct ion_buf *b, double d)
{
	if (d == 0 && signbit(d))
		ion_buf_puts(b, "-0");
	else
		ion_format_number(b, d);
}

static int fmt_value(struct ion_buf *b, const struct ion_kconst *k, char *err, size_t errlen);

static int fmt_items(struct ion_buf *b, const struct ion_kconst *k, const char *open,
		     const char *close, char *err, size_t errlen)
{
	ion_buf_puts(b, open);
	for (uint32_t i = 0; i < k->n; i++) {
		if (i)
			ion_buf_puts(b, ", ");
		if (k->props) {
			const struct ion_bytes *key = &k->props[i].key;
			if (is_plain_name(key->s, key->len))
				ion_buf_put(b, key->s, key->len);
			else
				fmt_quoted(b, key->s, key->len, '"');
			if (k->props[i].flags != 7) {
				ion_buf_puts(b, "/");
				ion_buf_puts(b, k->props[i].flags & 1 ? "w" : "");
				ion_buf_puts(b, k->props[i].flags & 2 ? "e" : "");
				ion_buf_puts(b, k->props[i].flags & 4 ? "c" : "");
			}
			ion_buf_puts(b, ": ");
		}
		if (fmt_value(b, &k->items[i], err, errlen))
			return -1;
	}
	ion_buf_puts(b, close);
	return 0;
}

static int fmt_value(struct ion_buf *b, const struct ion_kconst *k, char *err, size_t errlen)
{
	switch (k->kind) {
	case ION_K_NIL: ion_buf_puts(b, "nil"); return 0;
	case ION_K_FALSE: ion_buf_puts(b, "false"); return 0;
	case ION_K_TRUE: ion_buf_puts(b, "true"); return 0;
	case ION_K_NUMBER: fmt_number(b, k->num); return 0;
	case ION_K_STRING: fmt_quoted(b, k->s.s, k->s.len, '"'); return 0;
	case ION_K_ATOM:
		if (is_plain_name(k->s.s, k->s.len) && strcmp(k->s.s, "nil") && strcmp(k->s.s, "true") &&
		    strcmp(k->s.s, "false") && strcmp(k->s.s, "nan") && strcmp(k->s.s, "inf"))
			ion_buf_put(b, k->s.s, k->s.len);
		else
			fmt_quoted(b, k->s.s, k->s.len, '\'');
		return 0;
	case ION_K_COMPLEX:
		fmt_number(b, k->num);
		if (!(k->im < 0 || (k->im == 0 && signbit(k->im))))
			ion_buf_puts(b, "+");
		fmt_number(b, k->im);
		ion_buf_puts(b, "i");
		return 0;
	case ION_K_TUPLE: return fmt_items(b, k, "{", "}", err, errlen);
	case ION_K_ARRAY: return fmt_items(b, k, "[", "]", err, errlen);
	case ION_K_OBJECT:
		if (k->s.len && !is_plain_name(k->s.s, k->s.len)) {
			snprintf(err, errlen, "object type name is not an identifier");
			return -1;
		}
		ion_buf_puts(b, "#");
		ion_buf_put(b, k->s.s, k->s.len);
		return fmt_items(b, k, "{", "}", err, errlen);
	default:
		snprintf(err, errlen, "a %s is not a copyable value",
			 k->kind == ION_K_FUNCREF || k->kind == ION_K_NATIVE ? "function" : "match table");
		return -1;
	}
}

char *ion_literal_format(const void *enc, size_t len, char *err, size_t errlen)
{
	struct ion_unit *u = ion_unit_new();
	struct ion_kconst k = { 0 };
	struct ion_buf b = { 0 };
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	int rc = ion_unit_decode_value(u, enc, len, &k, err, errlen);
	if (!rc && k.kind == ION_K_MATCH) {
		snprintf(err, errlen, "a match table is not a value");
		rc = -1;
	}
	if (!rc)
		rc = fmt_value(&b, &k, err, errlen);
	ion_unit_free(u);
	ion_buf_put(&b, "", 1);
	if (!rc && b.oom) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	if (rc) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
