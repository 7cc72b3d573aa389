/*
 * proto.c - encoders and validating decoders of the exec protocol
 * (proto.h, docs/exec-protocol.md). Compiled into both the host's arcvm and
 * the guest's static arcvm-init, so it uses nothing beyond libc.
 */
#include "proto.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The EXEC payload's fixed part: flags, uid, gid, rows, cols, argc, envc. */
#define EXEC_FIXED 24u

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int proto_put_header(uint8_t *out, uint8_t type, uint32_t length)
{
	if (type < PROTO_HELLO || type > PROTO_TYPE_MAX)
		return PROTO_E_BAD;
	if (length > PROTO_MAX_PAYLOAD)
		return PROTO_E_BIG;
	put16(out, PROTO_MAGIC);
	out[2] = type;
	out[3] = 0;
	put32(out + 4, length);
	return 0;
}

int proto_get_header(const uint8_t *in, size_t len, struct proto_header *h)
{
	if (len < PROTO_HEADER_SIZE)
		return PROTO_E_SHORT;
	if (get16(in) != PROTO_MAGIC || in[2] < PROTO_HELLO || in[2] > PROTO_TYPE_MAX || in[3])
		return PROTO_E_BAD;
	uint32_t length = get32(in + 4);
	if (length > PROTO_MAX_PAYLOAD)
		return PROTO_E_BIG;
	h->type = in[2];
	h->flags = in[3];
	h->length = length;
	return 0;
}

long proto_next_frame(const uint8_t *buf, size_t len, struct proto_header *h,
		      const uint8_t **payload)
{
	struct proto_header hd;
	int rc = proto_get_header(buf, len, &hd);
	if (rc == PROTO_E_SHORT)
		return 0;
	if (rc)
		return rc;
	if (len - PROTO_HEADER_SIZE < hd.length)
		return 0;
	*h = hd;
	*payload = buf + PROTO_HEADER_SIZE;
	return (long)(PROTO_HEADER_SIZE + hd.length);
}

size_t proto_put_hello(uint8_t out[4], uint16_t min_version, uint16_t max_version)
{
	put16(out, min_version);
	put16(out + 2, max_version);
	return 4;
}

int proto_get_hello(const uint8_t *p, size_t len, uint16_t *min_version, uint16_t *max_version)
{
	if (len != 4 || get16(p) == 0 || get16(p) > get16(p + 2))
		return PROTO_E_BAD;
	*min_version = get16(p);
	*max_version = get16(p + 2);
	return 0;
}

uint16_t proto_agree_version(uint16_t my_min, uint16_t my_max, uint16_t their_min,
			     uint16_t their_max)
{
	uint16_t hi = my_max < their_max ? my_max : their_max;
	uint16_t lo = my_min > their_min ? my_min : their_min;
	return hi >= lo ? hi : 0;
}

size_t proto_put_winch(uint8_t out[4], uint16_t rows, uint16_t cols)
{
	return proto_put_hello(out, rows, cols);
}

int proto_get_winch(const uint8_t *p, size_t len, uint16_t *rows, uint16_t *cols)
{
	if (len != 4)
		return PROTO_E_BAD;
	*rows = get16(p);
	*cols = get16(p + 2);
	return 0;
}

size_t proto_put_u32(uint8_t out[4], uint32_t v)
{
	put32(out, v);
	return 4;
}

int proto_get_u32(const uint8_t *p, size_t len, uint32_t *v)
{
	if (len != 4)
		return PROTO_E_BAD;
	*v = get32(p);
	return 0;
}

size_t proto_put_exit(uint8_t out[8], uint8_t kind, uint32_t code)
{
	memset(out, 0, 8);
	out[0] = kind;
	put32(out + 4, code);
	return 8;
}

int proto_get_exit(const uint8_t *p, size_t len, uint8_t *kind, uint32_t *code)
{
	if (len != 8 || p[1] || p[2] || p[3])
		return PROTO_E_BAD;
	uint32_t c = get32(p + 4);
	if ((p[0] == PROTO_EXITED && c > 255) || (p[0] == PROTO_SIGNALED && (c == 0 || c > 64)) ||
	    p[0] > PROTO_SIGNALED)
		return PROTO_E_BAD;
	*kind = p[0];
	*code = c;
	return 0;
}

size_t proto_put_u64(uint8_t out[8], uint64_t v)
{
	put32(out, (uint32_t)v);
	put32(out + 4, (uint32_t)(v >> 32));
	return 8;
}

int proto_get_u64(const uint8_t *p, size_t len, uint64_t *v)
{
	if (len != 8)
		return PROTO_E_BAD;
	*v = (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
	return 0;
}

size_t proto_put_error(uint8_t *out, size_t cap, uint32_t err, const char *msg)
{
	if (cap < 4)
		return 0;
	put32(out, err);
	size_t n = strlen(msg);
	if (n > cap - 4)
		n = cap - 4;
	memcpy(out + 4, msg, n);
	return 4 + n;
}

int proto_get_error(const uint8_t *p, size_t len, uint32_t *err, char *msg, size_t msg_cap)
{
	if (len < 4 || msg_cap == 0 || memchr(p + 4, 0, len - 4))
		return PROTO_E_BAD;
	*err = get32(p);
	size_t n = len - 4 < msg_cap - 1 ? len - 4 : msg_cap - 1;
	memcpy(msg, p + 4, n);
	msg[n] = '\0';
	return 0;
}

/* A string on the wire: u32 n, n bytes without NUL, then one NUL byte. */
static size_t string_size(const char *s)
{
	return 4 + strlen(s) + 1;
}

static uint8_t *put_string(uint8_t *p, const char *s)
{
	size_t n = strlen(s);
	put32(p, (uint32_t)n);
	memcpy(p + 4, s, n + 1);
	return p + 4 + n + 1;
}

static int exec_size(const struct proto_exec *e, size_t *size)
{
	if (e->argc == 0 || e->argc > PROTO_MAX_ARGS || e->envc > PROTO_MAX_ARGS ||
	    !e->argv[0][0])
		return PROTO_E_BAD;
	size_t n = EXEC_FIXED + string_size(e->workdir ? e->workdir : "");
	for (uint32_t i = 0; i < e->argc; i++) {
		n += string_size(e->argv[i]);
		if (n > PROTO_MAX_PAYLOAD)
			return PROTO_E_BIG;
	}
	for (uint32_t i = 0; i < e->envc; i++) {
		if (!strchr(e->env[i], '=') || e->env[i][0] == '=')
			return PROTO_E_BAD;
		n += string_size(e->env[i]);
		if (n > PROTO_MAX_PAYLOAD)
			return PROTO_E_BIG;
	}
	if (n > PROTO_MAX_PAYLOAD)
		return PROTO_E_BIG;
	*size = n;
	return 0;
}

int proto_encode_exec(const struct proto_exec *e, uint8_t **out, size_t *out_len)
{
	size_t n;
	int rc = exec_size(e, &n);
	if (rc)
		return rc;
	uint8_t *buf = malloc(n);
	if (!buf)
		return -ENOMEM;
	put32(buf, e->flags);
	put32(buf + 4, e->uid);
	put32(buf + 8, e->gid);
	put16(buf + 12, e->rows);
	put16(buf + 14, e->cols);
	put32(buf + 16, e->argc);
	put32(buf + 20, e->envc);
	uint8_t *p = put_string(buf + EXEC_FIXED, e->workdir ? e->workdir : "");
	for (uint32_t i = 0; i < e->argc; i++)
		p = put_string(p, e->argv[i]);
	for (uint32_t i = 0; i < e->envc; i++)
		p = put_string(p, e->env[i]);
	*out = buf;
	*out_len = n;
	return 0;
}

/* Takes the string at *off, checking it lies inside [0, len), ends with its
 * NUL and holds no other NUL. */
static const char *take_string(const uint8_t *p, size_t len, size_t *off)
{
	if (len - *off < 5)
		return NULL;
	uint32_t n = get32(p + *off);
	if (n > len - *off - 5)
		return NULL;
	const char *s = (const char *)p + *off + 4;
	if (s[n] != '\0' || memchr(s, 0, n))
		return NULL;
	*off += 4 + (size_t)n + 1;
	return s;
}

static bool take_list(const uint8_t *p, size_t len, size_t *off, const char **list,
		      uint32_t count, bool is_env)
{
	for (uint32_t i = 0; i < count; i++) {
		list[i] = take_string(p, len, off);
		if (!list[i])
			return false;
		if (is_env && (!strchr(list[i], '=') || list[i][0] == '='))
			return false;
	}
	list[count] = NULL;
	return true;
}

int proto_decode_exec(const uint8_t *p, size_t len, struct proto_exec *e)
{
	memset(e, 0, sizeof(*e));
	if (len < EXEC_FIXED || len > PROTO_MAX_PAYLOAD)
		return PROTO_E_BAD;
	struct proto_exec d = {
		.flags = get32(p), .uid = get32(p + 4), .gid = get32(p + 8),
		.rows = get16(p + 12), .cols = get16(p + 14),
		.argc = get32(p + 16), .envc = get32(p + 20),
	};
	if ((d.flags & ~(PROTO_EXEC_TTY | PROTO_EXEC_USER)) || d.argc == 0 ||
	    d.argc > PROTO_MAX_ARGS || d.envc > PROTO_MAX_ARGS)
		return PROTO_E_BAD;
	size_t off = EXEC_FIXED;
	d.workdir = take_string(p, len, &off);
	d.argv = calloc(d.argc + 1, sizeof(char *));
	d.env = calloc(d.envc + 1, sizeof(char *));
	if (!d.workdir || !d.argv || !d.env || !take_list(p, len, &off, d.argv, d.argc, false) ||
	    !d.argv[0][0] || !take_list(p, len, &off, d.env, d.envc, true) || off != len) {
		proto_exec_free(&d);
		return PROTO_E_BAD;
	}
	*e = d;
	return 0;
}

void proto_exec_free(struct proto_exec *e)
{
	free(e->argv);
	free(e->env);
	e->argv = NULL;
	e->env = NULL;
}

/* ---- CALL bundle ---- */

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= PROTO_CALL_NAME;
}

int proto_encode_call(const struct proto_call *c, uint8_t **out, size_t *out_len)
{
	if (!name_ok(c->cls) || !name_ok(c->fn) || c->nclasses < 1 ||
	    c->nclasses > PROTO_CALL_CLASSES)
		return PROTO_E_BAD;
	uint64_t size = 2 + strlen(c->cls) + 2 + strlen(c->fn) + 4 + 4 + (uint64_t)c->args_len;
	for (uint32_t i = 0; i < c->nclasses; i++)
		size += 4 + (uint64_t)c->class_len[i];
	if (size > PROTO_CALL_MAX)
		return PROTO_E_BIG;
	uint8_t *b = malloc(size), *p = b;
	if (!b)
		return -ENOMEM;
	const char *names[2] = { c->cls, c->fn };
	for (int k = 0; k < 2; k++) {
		put16(p, (uint16_t)strlen(names[k]));
		memcpy(p + 2, names[k], strlen(names[k]));
		p += 2 + strlen(names[k]);
	}
	put32(p, c->nclasses);
	p += 4;
	for (uint32_t i = 0; i < c->nclasses; i++) {
		put32(p, c->class_len[i]);
		memcpy(p + 4, c->class_data[i], c->class_len[i]);
		p += 4 + c->class_len[i];
	}
	put32(p, c->args_len);
	if (c->args_len)
		memcpy(p + 4, c->args, c->args_len);
	*out = b;
	*out_len = (size_t)size;
	return 0;
}

/* Takes a u32-length blob at *off; NULL (and *off unchanged) when it runs
 * past len. */
static const uint8_t *take_blob(const uint8_t *p, size_t len, size_t *off, uint32_t *n)
{
	if (len - *off < 4)
		return NULL;
	uint32_t l = get32(p + *off);
	if (l > len - *off - 4)
		return NULL;
	*n = l;
	*off += 4;
	const uint8_t *b = p + *off;
	*off += l;
	return b;
}

static bool take_name(const uint8_t *p, size_t len, size_t *off, char *out)
{
	if (len - *off < 2)
		return false;
	uint16_t n = get16(p + *off);
	if (n < 1 || n > PROTO_CALL_NAME || n > len - *off - 2 || memchr(p + *off + 2, 0, n))
		return false;
	memcpy(out, p + *off + 2, n);
	out[n] = '\0';
	*off += 2 + (size_t)n;
	return true;
}

int proto_decode_call(const uint8_t *p, size_t len, struct proto_call *c)
{
	struct proto_call d = { .nclasses = 0 };
	size_t off = 0;
	if (len > PROTO_CALL_MAX || !take_name(p, len, &off, d.cls) ||
	    !take_name(p, len, &off, d.fn) || len - off < 4)
		return PROTO_E_BAD;
	d.nclasses = get32(p + off);
	off += 4;
	/* Each class takes at least its 4-byte length: bound the count by
	 * what is left before allocating for it. */
	if (d.nclasses < 1 || d.nclasses > PROTO_CALL_CLASSES || d.nclasses > (len - off) / 4)
		return PROTO_E_BAD;
	d.class_data = calloc(d.nclasses, sizeof(*d.class_data));
	d.class_len = calloc(d.nclasses, sizeof(*d.class_len));
	bool ok = d.class_data && d.class_len;
	for (uint32_t i = 0; ok && i < d.nclasses; i++)
		ok = (d.class_data[i] = take_blob(p, len, &off, &d.class_len[i])) != NULL;
	if (ok)
		ok = (d.args = take_blob(p, len, &off, &d.args_len)) != NULL && off == len;
	if (!ok) {
		proto_call_free(&d);
		return PROTO_E_BAD;
	}
	*c = d;
	return 0;
}

void proto_call_free(struct proto_call *c)
{
	free(c->class_data);
	free(c->class_len);
	c->class_data = NULL;
	c->class_len = NULL;
}

const char *proto_type_name(uint8_t type)
{
	static const char *const names[] = {
		[PROTO_HELLO] = "HELLO", [PROTO_EXEC] = "EXEC", [PROTO_STDIN] = "STDIN",
		[PROTO_STDIN_EOF] = "STDIN_EOF", [PROTO_STDOUT] = "STDOUT",
		[PROTO_STDERR] = "STDERR", [PROTO_WINCH] = "WINCH", [PROTO_SIGNAL] = "SIGNAL",
		[PROTO_EXIT] = "EXIT", [PROTO_COPY_OUT] = "COPY_OUT",
		[PROTO_FILE_DATA] = "FILE_DATA", [PROTO_FILE_END] = "FILE_END",
		[PROTO_ERROR] = "ERROR", [PROTO_SHUTDOWN] = "SHUTDOWN", [PROTO_CALL] = "CALL",
		[PROTO_CALL_DATA] = "CALL_DATA", [PROTO_CALL_FAIL] = "CALL_FAIL",
	};
	if (type < PROTO_HELLO || type > PROTO_TYPE_MAX)
		return "?";
	return names[type];
}
