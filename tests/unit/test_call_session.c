/*
 * test_call_session.c - CALL between the host half (cli/exec_session.c)
 * and the real guest agent ($(BUILD)/guest/arcvm-init --serve-stdin, which
 * links libion), joined by a socketpair: the function runs on this machine,
 * so everything but the VM is exercised - bundles and results larger than
 * one frame, output relayed, guest errors with their trace, refusals, and
 * malformed CALL requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cli/exec_session.c"
#include "guest/agent/proto.c"
#include "ion/include/ion.h"
#include "ion/tests/helpers.h"

static const char src[] =
	".class \"Main\"\n"
	".const 0 native(\"io.system\")\n"
	".const 1 native(\"io.read_file\")\n"
	".const 2 native(\"io.print\")\n"
	".const 3 func(\"Main\", \"inner\")\n"
	".func \"echo\" arity 1 regs 1\n return_reg 0\n.end\n"
	".func \"shell\" arity 1 regs 3\n load_const 1 0\n call 2 1 0 1\n return_reg 2\n.end\n"
	".func \"read\" arity 1 regs 3\n load_const 1 1\n call 2 1 0 1\n return_reg 2\n.end\n"
	".func \"say\" arity 1 regs 3\n load_const 1 2\n call 2 1 0 1\n return_reg 0\n.end\n"
	".func \"fail\" arity 1 regs 3\n load_const 1 3\n call 2 1 0 1\n return_reg 2\n.end\n"
	".func \"inner\" arity 1 regs 1\n error 0\n.end\n"
	".func \"fn\" arity 0 regs 1\n load_const 0 2\n return_reg 0\n.end\n";

struct agent {
	pid_t pid;
	struct exec_conn c;
	int out, err;
};

static void start(struct agent *a)
{
	char self[PATH_MAX], path[PATH_MAX + 32], err[256];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	for (int i = 0; i < 3; i++)
		*strrchr(self, '/') = '\0';
	snprintf(path, sizeof(path), "%s/guest/arcvm-init", self);
	if (access(path, X_OK))
		fail_msg("%s is not built (make %s)", path, path);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	a->pid = fork();
	assert_true(a->pid >= 0);
	if (a->pid == 0) {
		dup2(sv[1], STDIN_FILENO);
		execl(path, path, "--serve-stdin", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	assert_int_equal(exec_conn_init(&a->c, sv[0]), 0);
	a->out = memfd_create("out", MFD_CLOEXEC);
	a->err = memfd_create("err", MFD_CLOEXEC);
	if (exec_session_hello(&a->c, 10000, err, sizeof(err)))
		fail_msg("hello: %s", err);
	assert_int_equal(a->c.version, PROTO_VERSION_CALL);
}

static int stop(struct agent *a)
{
	exec_conn_close(&a->c);
	int st;
	assert_int_equal(waitpid(a->pid, &st, 0), a->pid);
	close(a->out);
	close(a->err);
	return st;
}

/* A bundle of the test class, fn, and the arguments as one literal array. */
static uint8_t *bundle(const char *fn, const char *args, size_t *len)
{
	size_t clen, alen;
	uint8_t *cls = th_encode(src, &clen), *enc, *b;
	char err[256];
	if (ion_literal_encode(args, strlen(args), &enc, &alen, err, sizeof(err)))
		fail_msg("%s: %s", args, err);
	const uint8_t *data[] = { cls };
	uint32_t lens[] = { (uint32_t)clen };
	struct proto_call c = { .cls = "Main", .nclasses = 1, .class_data = data,
				.class_len = lens, .args = enc, .args_len = (uint32_t)alen };
	strcpy(c.fn, fn);
	assert_int_equal(proto_encode_call(&c, &b, len), 0);
	free(cls);
	free(enc);
	return b;
}

static struct exec_result call(struct agent *a, const char *fn, const char *args)
{
	size_t len;
	uint8_t *b = bundle(fn, args, &len);
	int wake[2];
	assert_int_equal(pipe2(wake, O_CLOEXEC | O_NONBLOCK), 0);
	struct exec_io io = { .in_fd = -1, .out_fd = a->out, .err_fd = a->err, .wake_fd = wake[0] };
	struct exec_result res;
	assert_int_equal(exec_session_call(&a->c, b, len, &io, &res), 0);
	close(wake[0]);
	close(wake[1]);
	free(b);
	return res;
}

/* The result printed as a literal (malloc'd). */
static char *value_text(const struct exec_result *r)
{
	char err[256];
	if (r->end != EXEC_END_VALUE)
		fail_msg("ended with %d (%s) (%s)", r->end, r->msg, r->detail ? r->detail : "");
	char *t = ion_literal_format(r->value, r->value_len, err, sizeof(err));
	if (!t)
		fail_msg("result: %s", err);
	return t;
}

static void test_values_and_io(void **state)
{
	struct agent a;
	start(&a);
	struct exec_result r = call(&a, "echo", "[{1, \"a\\x00b\", ok, [nil, 1+2i], #P{x/e: -0}}]");
	char *t = value_text(&r);
	assert_string_equal(t, "{1, \"a\\x00b\", ok, [nil, 1+2i], #P{x/e: -0}}");
	free(t);
	exec_result_free(&r);
	/* io.system runs where the agent runs; several calls on one connection. */
	r = call(&a, "shell", "[\"echo hi; exit 3\"]");
	t = value_text(&r);
	assert_string_equal(t, "{3, \"hi\\n\"}");
	free(t);
	exec_result_free(&r);
	/* What the function prints comes back as STDOUT. */
	r = call(&a, "say", "[\"printed\"]");
	t = value_text(&r);
	assert_string_equal(t, "\"printed\"");
	free(t);
	exec_result_free(&r);
	char buf[64] = "";
	assert_int_equal(pread(a.out, buf, sizeof(buf) - 1, 0), 8);
	assert_string_equal(buf, "printed\n");
	assert_int_equal(stop(&a), 0);
}

/* A 3 MiB binary file read by the function: a result of many frames, and
 * a 2 MiB argument: a bundle of many CALL_DATA frames. */
static void test_large_bundle_and_result(void **state)
{
	char path[] = "/tmp/arcvm-call-big.XXXXXX";
	int fd = mkstemp(path);
	size_t size = 3u << 20;
	uint8_t *data = malloc(size);
	for (size_t i = 0; i < size; i++)
		data[i] = (uint8_t)(i * 131 + (i >> 12));
	assert_int_equal(write(fd, data, size), (ssize_t)size);
	close(fd);
	struct agent a;
	start(&a);
	char args[PATH_MAX];
	snprintf(args, sizeof(args), "[\"%s\"]", path);
	struct exec_result r = call(&a, "read", args);
	assert_int_equal(r.end, EXEC_END_VALUE);
	assert_int_equal(r.value_len, 5 + size);
	assert_int_equal(r.value[0], 4);
	assert_memory_equal(r.value + 5, data, size);
	exec_result_free(&r);
	unlink(path);
	size_t n = 2u << 20;
	char *big = malloc(n + 8);
	big[0] = '[';
	big[1] = '"';
	memset(big + 2, 'x', n);
	strcpy(big + 2 + n, "\"]");
	r = call(&a, "echo", big);
	assert_int_equal(r.end, EXEC_END_VALUE);
	assert_int_equal(r.value_len, 5 + n);
	exec_result_free(&r);
	free(big);
	free(data);
	assert_int_equal(stop(&a), 0);
}

static void test_failures(void **state)
{
	struct agent a;
	start(&a);
	struct exec_result r = call(&a, "fail", "[{boom, 42}]");
	assert_int_equal(r.end, EXEC_END_CALL_FAIL);
	assert_int_equal(r.code, PROTO_CALL_RAISED);
	assert_non_null(strstr(r.detail, "boom"));
	assert_non_null(strstr(r.detail, "Main.inner"));
	assert_non_null(strstr(r.detail, "Main.fail"));
	exec_result_free(&r);
	r = call(&a, "echo", "[1, 2]");
	assert_int_equal(r.end, EXEC_END_CALL_FAIL);
	assert_int_equal(r.code, PROTO_CALL_REFUSED);
	assert_non_null(strstr(r.detail, "takes 1 arguments, 2 given"));
	exec_result_free(&r);
	r = call(&a, "fn", "[]");
	assert_int_equal(r.end, EXEC_END_CALL_FAIL);
	assert_int_equal(r.code, PROTO_CALL_REFUSED);
	assert_non_null(strstr(r.detail, "function cannot be copied out"));
	exec_result_free(&r);
	r = call(&a, "nope", "[]");
	assert_int_equal(r.end, EXEC_END_CALL_FAIL);
	assert_int_equal(r.code, PROTO_CALL_REFUSED);
	exec_result_free(&r);
	/* A class that does not verify in the guest. */
	static const uint8_t junk[] = "IONC not really";
	const uint8_t *data[] = { junk };
	uint32_t lens[] = { sizeof(junk) };
	struct proto_call c = { .cls = "Main", .fn = "echo", .nclasses = 1, .class_data = data,
				.class_len = lens, .args = (const uint8_t *)"\7\0\0\0\0", .args_len = 5 };
	uint8_t *b;
	size_t len;
	assert_int_equal(proto_encode_call(&c, &b, &len), 0);
	int wake[2];
	assert_int_equal(pipe2(wake, O_CLOEXEC | O_NONBLOCK), 0);
	struct exec_io io = { .in_fd = -1, .out_fd = a.out, .err_fd = a.err, .wake_fd = wake[0] };
	assert_int_equal(exec_session_call(&a.c, b, len, &io, &r), 0);
	assert_int_equal(r.end, EXEC_END_CALL_FAIL);
	assert_int_equal(r.code, PROTO_CALL_REFUSED);
	exec_result_free(&r);
	free(b);
	close(wake[0]);
	close(wake[1]);
	assert_int_equal(stop(&a), 0);
}

/* Raw frames: an over-large size, a malformed bundle, a wrong frame
 * inside the bundle. Each is an ERROR (the first and last close the
 * connection). */
static void raw_call(const uint8_t *frames, size_t len, const char *want)
{
	struct agent a;
	start(&a);
	assert_int_equal(write(a.c.fd, frames, len), (ssize_t)len);
	struct proto_header h;
	const uint8_t *p;
	long size = wait_frame(&a.c, 10000, &h, &p);
	assert_true(size > 0);
	assert_int_equal(h.type, PROTO_ERROR);
	char msg[256];
	agent_error(&h, p, msg, sizeof(msg));
	if (!strstr(msg, want))
		fail_msg("'%s' does not say '%s'", msg, want);
	stop(&a);
}

static void test_malformed_call(void **state)
{
	uint8_t f[64];
	proto_put_header(f, PROTO_CALL, 8);
	proto_put_u64(f + 8, (uint64_t)PROTO_CALL_MAX + 1);
	raw_call(f, 16, "malformed CALL frame");
	proto_put_u64(f + 8, 4);
	proto_put_header(f + 16, PROTO_CALL_DATA, 4);
	memcpy(f + 24, "\1\0\0\0", 4);
	raw_call(f, 28, "malformed CALL bundle");
	proto_put_header(f + 16, PROTO_STDIN, 4);
	raw_call(f, 28, "expected CALL_DATA");
	proto_put_header(f, PROTO_CALL, 4);
	raw_call(f, 12, "malformed CALL frame");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_and_io),
		cmocka_unit_test(test_large_bundle_and_result),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_malformed_call),
	};
	return cmocka_run_group_tests_name("call_session", tests, NULL, NULL);
}
