/* test_exec_proto.c - the exec protocol's encoders and validating decoders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guest/agent/proto.c"

static void test_header_round_trip(void **state)
{
	uint8_t b[PROTO_HEADER_SIZE];
	struct proto_header h;
	assert_int_equal(proto_put_header(b, PROTO_STDOUT, 1234), 0);
	/* Byte by byte as docs/exec-protocol.md draws it. */
	static const uint8_t want[] = { 'A', 'X', 5, 0, 0xD2, 0x04, 0, 0 };
	assert_memory_equal(b, want, sizeof(want));
	assert_int_equal(proto_get_header(b, sizeof(b), &h), 0);
	assert_int_equal(h.type, PROTO_STDOUT);
	assert_int_equal(h.length, 1234);
}

static void test_header_rejects(void **state)
{
	uint8_t b[PROTO_HEADER_SIZE];
	struct proto_header h = { .type = 99 };
	assert_int_equal(proto_put_header(b, 0, 0), PROTO_E_BAD);
	assert_int_equal(proto_put_header(b, PROTO_TYPE_MAX + 1, 0), PROTO_E_BAD);
	assert_int_equal(proto_put_header(b, PROTO_EXEC, PROTO_MAX_PAYLOAD + 1), PROTO_E_BIG);
	assert_int_equal(proto_put_header(b, PROTO_EXEC, PROTO_MAX_PAYLOAD), 0);
	assert_int_equal(proto_get_header(b, PROTO_HEADER_SIZE - 1, &h), PROTO_E_SHORT);
	b[0] ^= 1;                                       /* magic */
	assert_int_equal(proto_get_header(b, sizeof(b), &h), PROTO_E_BAD);
	b[0] ^= 1;
	b[3] = 1;                                        /* reserved flags */
	assert_int_equal(proto_get_header(b, sizeof(b), &h), PROTO_E_BAD);
	b[3] = 0;
	b[2] = PROTO_TYPE_MAX + 1;                       /* unknown type */
	assert_int_equal(proto_get_header(b, sizeof(b), &h), PROTO_E_BAD);
	b[2] = PROTO_EXEC;
	b[4] = 1;                                        /* MAX_PAYLOAD + 1 */
	assert_int_equal(proto_get_header(b, sizeof(b), &h), PROTO_E_BIG);
	assert_int_equal(h.type, 99);                    /* untouched on failure */
}

static void test_next_frame(void **state)
{
	uint8_t buf[64];
	struct proto_header h;
	const uint8_t *p = NULL;
	proto_put_header(buf, PROTO_STDERR, 3);
	memcpy(buf + 8, "abc", 3);
	proto_put_header(buf + 11, PROTO_STDIN_EOF, 0);
	for (size_t n = 0; n < 11; n++)                  /* every truncation waits */
		assert_int_equal(proto_next_frame(buf, n, &h, &p), 0);
	assert_int_equal(proto_next_frame(buf, 19, &h, &p), 11);
	assert_int_equal(h.type, PROTO_STDERR);
	assert_memory_equal(p, "abc", 3);
	assert_int_equal(proto_next_frame(buf + 11, 8, &h, &p), 8);
	assert_int_equal(h.type, PROTO_STDIN_EOF);
	buf[0] = 'Z';
	assert_true(proto_next_frame(buf, 19, &h, &p) < 0);
}

static void test_fixed_payloads(void **state)
{
	uint8_t b[8];
	uint16_t a, c;
	uint32_t v, code;
	uint64_t big;
	uint8_t kind;
	assert_int_equal(proto_put_hello(b, 1, 3), 4);
	assert_int_equal(proto_get_hello(b, 4, &a, &c), 0);
	assert_int_equal(a, 1);
	assert_int_equal(c, 3);
	assert_int_equal(proto_get_hello(b, 3, &a, &c), PROTO_E_BAD);
	proto_put_hello(b, 4, 3);                        /* min > max */
	assert_int_equal(proto_get_hello(b, 4, &a, &c), PROTO_E_BAD);
	assert_int_equal(proto_agree_version(1, 1, 1, 5), 1);
	assert_int_equal(proto_agree_version(1, 4, 2, 9), 4);
	assert_int_equal(proto_agree_version(1, 1, 2, 3), 0);

	proto_put_winch(b, 50, 132);
	assert_int_equal(proto_get_winch(b, 4, &a, &c), 0);
	assert_int_equal(a, 50);
	assert_int_equal(c, 132);
	proto_put_u32(b, 9);
	assert_int_equal(proto_get_u32(b, 4, &v), 0);
	assert_int_equal(v, 9);
	assert_int_equal(proto_get_u32(b, 5, &v), PROTO_E_BAD);

	assert_int_equal(proto_put_exit(b, PROTO_SIGNALED, 9), 8);
	assert_int_equal(proto_get_exit(b, 8, &kind, &code), 0);
	assert_int_equal(kind, PROTO_SIGNALED);
	assert_int_equal(code, 9);
	proto_put_exit(b, PROTO_EXITED, 256);            /* not an exit status */
	assert_int_equal(proto_get_exit(b, 8, &kind, &code), PROTO_E_BAD);
	proto_put_exit(b, 2, 0);                         /* unknown kind */
	assert_int_equal(proto_get_exit(b, 8, &kind, &code), PROTO_E_BAD);
	proto_put_exit(b, PROTO_SIGNALED, 0);            /* signal 0 */
	assert_int_equal(proto_get_exit(b, 8, &kind, &code), PROTO_E_BAD);

	proto_put_u64(b, 0x123456789abcdefull);
	assert_int_equal(proto_get_u64(b, 8, &big), 0);
	assert_true(big == 0x123456789abcdefull);
	assert_int_equal(proto_get_u64(b, 7, &big), PROTO_E_BAD);
}

static void test_error_payload(void **state)
{
	uint8_t b[16];
	char msg[8];
	uint32_t err;
	size_t n = proto_put_error(b, sizeof(b), 2, "no such file or directory");
	assert_int_equal(n, 16);                         /* truncated to the room given */
	assert_int_equal(proto_get_error(b, n, &err, msg, sizeof(msg)), 0);
	assert_int_equal(err, 2);
	assert_string_equal(msg, "no such");             /* truncated to msg's size */
	b[6] = 0;                                        /* a NUL inside the message */
	assert_int_equal(proto_get_error(b, n, &err, msg, sizeof(msg)), PROTO_E_BAD);
	assert_int_equal(proto_get_error(b, 3, &err, msg, sizeof(msg)), PROTO_E_BAD);
}

static const char *args[] = { "sh", "-c", "echo hi", NULL };
static const char *envs[] = { "A=1", "EMPTY=", NULL };

static uint8_t *encode_sample(size_t *len)
{
	struct proto_exec e = {
		.flags = PROTO_EXEC_TTY | PROTO_EXEC_USER, .uid = 1000, .gid = 100,
		.rows = 24, .cols = 80, .workdir = "/src", .argc = 3, .envc = 2,
		.argv = args, .env = envs,
	};
	uint8_t *p = NULL;
	assert_int_equal(proto_encode_exec(&e, &p, len), 0);
	return p;
}

static void test_exec_round_trip(void **state)
{
	size_t len;
	uint8_t *p = encode_sample(&len);
	struct proto_exec d;
	assert_int_equal(proto_decode_exec(p, len, &d), 0);
	assert_int_equal(d.flags, PROTO_EXEC_TTY | PROTO_EXEC_USER);
	assert_int_equal(d.uid, 1000);
	assert_int_equal(d.gid, 100);
	assert_int_equal(d.rows, 24);
	assert_int_equal(d.cols, 80);
	assert_string_equal(d.workdir, "/src");
	assert_int_equal(d.argc, 3);
	assert_string_equal(d.argv[2], "echo hi");
	assert_null(d.argv[3]);
	assert_int_equal(d.envc, 2);
	assert_string_equal(d.env[1], "EMPTY=");
	assert_null(d.env[2]);
	proto_exec_free(&d);
	free(p);
}

static void test_exec_truncated_and_padded(void **state)
{
	size_t len;
	uint8_t *p = encode_sample(&len);
	struct proto_exec d;
	for (size_t n = 0; n < len; n++)
		assert_int_equal(proto_decode_exec(p, n, &d), PROTO_E_BAD);
	uint8_t *longer = calloc(1, len + 1);
	memcpy(longer, p, len);                          /* one trailing byte */
	assert_int_equal(proto_decode_exec(longer, len + 1, &d), PROTO_E_BAD);
	free(longer);
	free(p);
}

static void test_exec_bad_fields(void **state)
{
	size_t len;
	struct proto_exec d;
	uint8_t *p = encode_sample(&len);
	p[0] |= 0x80;                                    /* unknown flag */
	assert_int_equal(proto_decode_exec(p, len, &d), PROTO_E_BAD);
	p[0] &= 0x7f;
	p[16] = 0;                                       /* argc 0 */
	assert_int_equal(proto_decode_exec(p, len, &d), PROTO_E_BAD);
	p[16] = 3;
	p[22] = 0xff;                                    /* envc huge */
	assert_int_equal(proto_decode_exec(p, len, &d), PROTO_E_BAD);
	p[22] = 0;
	/* workdir "/src": length at 24, bytes at 28..31, NUL at 32. */
	p[32] = 'x';                                     /* missing terminator */
	assert_int_equal(proto_decode_exec(p, len, &d), PROTO_E_BAD);
	p[32] = 0;
	p[29] = 0;                                       /* NUL inside */
	assert_int_equal(proto_decode_exec(p, len, &d), PROTO_E_BAD);
	p[29] = 's';
	p[24] = 0xff;                                    /* length past the end */
	assert_int_equal(proto_decode_exec(p, len, &d), PROTO_E_BAD);
	p[24] = 4;
	assert_int_equal(proto_decode_exec(p, len, &d), 0);
	proto_exec_free(&d);
	free(p);
}

static void test_exec_encoder_limits(void **state)
{
	uint8_t *p = NULL;
	size_t len;
	const char *none[] = { NULL };
	const char *empty[] = { "", NULL };
	const char *noeq[] = { "NOEQUALS", NULL };
	struct proto_exec e = { .argc = 0, .argv = none, .env = none };
	assert_int_equal(proto_encode_exec(&e, &p, &len), PROTO_E_BAD);
	e.argc = 1;
	e.argv = empty;
	assert_int_equal(proto_encode_exec(&e, &p, &len), PROTO_E_BAD);
	e.argv = args;
	e.envc = 1;
	e.env = noeq;
	assert_int_equal(proto_encode_exec(&e, &p, &len), PROTO_E_BAD);
	/* An argument larger than a frame can carry. */
	char *huge = malloc(PROTO_MAX_PAYLOAD);
	memset(huge, 'a', PROTO_MAX_PAYLOAD - 1);
	huge[PROTO_MAX_PAYLOAD - 1] = '\0';
	const char *big[] = { huge, NULL };
	e.envc = 0;
	e.argv = big;
	assert_int_equal(proto_encode_exec(&e, &p, &len), PROTO_E_BIG);
	assert_null(p);
	free(huge);
}

/* ---- CALL bundle ---- */

static uint8_t *sample_call(size_t *len)
{
	static const uint8_t c0[] = { 1, 2, 3 }, c1[] = { 9 }, enc[] = { 7, 0, 0, 0, 0 };
	const uint8_t *data[] = { c0, c1 };
	uint32_t lens[] = { sizeof(c0), sizeof(c1) };
	struct proto_call c = { .cls = "Main", .fn = "main", .nclasses = 2, .class_data = data,
				.class_len = lens, .args = enc, .args_len = sizeof(enc) };
	uint8_t *b;
	assert_int_equal(proto_encode_call(&c, &b, len), 0);
	return b;
}

static void test_call_round_trip(void **state)
{
	size_t len;
	uint8_t *b = sample_call(&len);
	/* As docs/exec-protocol.md draws it. */
	static const uint8_t want[] = { 4, 0, 'M', 'a', 'i', 'n', 4, 0, 'm', 'a', 'i', 'n',
		2, 0, 0, 0, 3, 0, 0, 0, 1, 2, 3, 1, 0, 0, 0, 9, 5, 0, 0, 0, 7, 0, 0, 0, 0 };
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(b, want, len);
	struct proto_call d;
	assert_int_equal(proto_decode_call(b, len, &d), 0);
	assert_string_equal(d.cls, "Main");
	assert_string_equal(d.fn, "main");
	assert_int_equal(d.nclasses, 2);
	assert_int_equal(d.class_len[0], 3);
	assert_memory_equal(d.class_data[0], "\1\2\3", 3);
	assert_int_equal(d.class_len[1], 1);
	assert_int_equal(d.args_len, 5);
	assert_ptr_equal(d.args, b + 32);
	proto_call_free(&d);
	free(b);
}

/* Every truncation, one byte too many, and hostile counts and lengths. */
static void test_call_hostile(void **state)
{
	size_t len;
	uint8_t *b = sample_call(&len);
	struct proto_call d;
	for (size_t n = 0; n < len; n++)
		assert_int_equal(proto_decode_call(b, n, &d), PROTO_E_BAD);
	uint8_t *pad = malloc(len + 1);
	memcpy(pad, b, len);
	pad[len] = 0;
	assert_int_equal(proto_decode_call(pad, len + 1, &d), PROTO_E_BAD);
	free(pad);
	static const struct { size_t off; uint8_t v; } flips[] = {
		{ 0, 0 },      /* empty class name */
		{ 2, 0 },      /* NUL in the class name */
		{ 15, 0x10 },  /* nclasses = 0x10000002: over the bound */
		{ 12, 0 },     /* nclasses = 0 */
		{ 12, 200 },   /* nclasses beyond what the bytes can hold */
		{ 19, 0x80 },  /* a class length past the end */
		{ 28, 6 },     /* the arguments' length past the end */
	};
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		uint8_t saved = b[flips[i].off];
		b[flips[i].off] = flips[i].v;
		assert_int_equal(proto_decode_call(b, len, &d), PROTO_E_BAD);
		b[flips[i].off] = saved;
	}
	free(b);
}

static void test_call_encoder_limits(void **state)
{
	uint8_t one = 1;
	const uint8_t *data[] = { &one };
	uint32_t lens[] = { 1 };
	struct proto_call c = { .cls = "", .fn = "f", .nclasses = 1, .class_data = data,
				.class_len = lens };
	uint8_t *b;
	size_t len;
	assert_int_equal(proto_encode_call(&c, &b, &len), PROTO_E_BAD);
	strcpy(c.cls, "C");
	c.nclasses = 0;
	assert_int_equal(proto_encode_call(&c, &b, &len), PROTO_E_BAD);
	c.nclasses = 1;
	lens[0] = PROTO_CALL_MAX;
	assert_int_equal(proto_encode_call(&c, &b, &len), PROTO_E_BIG);
	assert_string_equal(proto_type_name(PROTO_CALL_FAIL), "CALL_FAIL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_round_trip),
		cmocka_unit_test(test_header_rejects),
		cmocka_unit_test(test_next_frame),
		cmocka_unit_test(test_fixed_payloads),
		cmocka_unit_test(test_error_payload),
		cmocka_unit_test(test_exec_round_trip),
		cmocka_unit_test(test_exec_truncated_and_padded),
		cmocka_unit_test(test_exec_bad_fields),
		cmocka_unit_test(test_exec_encoder_limits),
		cmocka_unit_test(test_call_round_trip),
		cmocka_unit_test(test_call_hostile),
		cmocka_unit_test(test_call_encoder_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
