/*
 * test_exec_session.c - the host half of the exec protocol (cli/exec_session.c)
 * against the real guest agent ($(BUILD)/guest/arcvm-init --serve-stdin),
 * joined by a socketpair instead of vsock: the agent runs its commands on
 * this machine, so everything but the VM is exercised.
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

struct agent {
	pid_t pid;
	struct exec_conn c;
	int out, err;        /* memfds collecting STDOUT and STDERR */
};

static void agent_path(char *buf, size_t len)
{
	/* $(BUILD)/tests/unit/test_exec_session -> $(BUILD)/guest/arcvm-init */
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	for (int i = 0; i < 3; i++)
		*strrchr(self, '/') = '\0';
	snprintf(buf, len, "%s/guest/arcvm-init", self);
}

static void start(struct agent *a)
{
	char path[PATH_MAX + 32], err[256];
	int sv[2];
	agent_path(path, sizeof(path));
	if (access(path, X_OK))
		fail_msg("%s is not built (make %s)", path, path);
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
}

static void stop(struct agent *a)
{
	exec_conn_close(&a->c);      /* the agent ends when its connection does */
	int st;
	assert_int_equal(waitpid(a->pid, &st, 0), a->pid);
	close(a->out);
	close(a->err);
}

/* Reads a memfd's whole content as a malloc'd string. */
static char *content(int fd, size_t *len)
{
	off_t size = lseek(fd, 0, SEEK_END);
	char *s = malloc((size_t)size + 1);
	assert_int_equal(pread(fd, s, (size_t)size, 0), size);
	s[size] = '\0';
	if (len)
		*len = (size_t)size;
	return s;
}

/* Runs argv (NULL-terminated) with optional stdin text; returns the result. */
static struct exec_result run_full(struct agent *a, struct proto_exec *e, const char *input,
				   int64_t deadline_ms, int wake_fd)
{
	int in = -1;
	if (input) {
		in = memfd_create("in", MFD_CLOEXEC);
		assert_int_equal(write(in, input, strlen(input)), (ssize_t)strlen(input));
		lseek(in, 0, SEEK_SET);
	}
	int wake[2];
	assert_int_equal(pipe2(wake, O_CLOEXEC | O_NONBLOCK), 0);
	struct exec_io io = { .in_fd = in, .out_fd = a->out, .err_fd = a->err,
			      .wake_fd = wake_fd >= 0 ? wake_fd : wake[0], .deadline_ms = deadline_ms };
	struct exec_result res;
	assert_int_equal(exec_session_run(&a->c, e, &io, &res), 0);
	if (in >= 0)
		close(in);
	close(wake[0]);
	close(wake[1]);
	return res;
}

static struct exec_result run(struct agent *a, const char **argv, const char *input)
{
	struct proto_exec e = { .argv = argv, .env = (const char *[]){ NULL } };
	while (argv[e.argc])
		e.argc++;
	return run_full(a, &e, input, 0, -1);
}

static void assert_exit(const struct exec_result *r, uint8_t kind, uint32_t code)
{
	if (r->end != EXEC_END_EXIT)
		fail_msg("ended with %d (%s), not EXIT", r->end, r->msg);
	assert_int_equal(r->kind, kind);
	assert_int_equal(r->code, code);
}

static void test_exit_statuses(void **state)
{
	struct agent a;
	start(&a);
	struct exec_result r = run(&a, (const char *[]){ "true", NULL }, NULL);
	assert_exit(&r, PROTO_EXITED, 0);
	r = run(&a, (const char *[]){ "sh", "-c", "exit 42", NULL }, NULL);
	assert_exit(&r, PROTO_EXITED, 42);
	assert_int_equal(exec_status_of(r.kind, r.code), 42);
	r = run(&a, (const char *[]){ "sh", "-c", "kill -9 $$", NULL }, NULL);
	assert_exit(&r, PROTO_SIGNALED, 9);
	assert_int_equal(exec_status_of(r.kind, r.code), 137);
	r = run(&a, (const char *[]){ "/nonexistent/cmd", NULL }, NULL);
	assert_exit(&r, PROTO_EXITED, 127);
	char *err = content(a.err, NULL);
	assert_non_null(strstr(err, "/nonexistent/cmd"));
	free(err);
	stop(&a);
}

static void test_streams_separate_and_ordered(void **state)
{
	struct agent a;
	start(&a);
	struct exec_result r = run(&a, (const char *[]){ "sh", "-c",
		"for i in 1 2 3; do echo out$i; echo err$i >&2; done", NULL }, NULL);
	assert_exit(&r, PROTO_EXITED, 0);
	char *out = content(a.out, NULL), *err = content(a.err, NULL);
	assert_string_equal(out, "out1\nout2\nout3\n");
	assert_string_equal(err, "err1\nerr2\nerr3\n");
	free(out);
	free(err);
	stop(&a);
}

static void test_large_output_intact(void **state)
{
	struct agent a;
	start(&a);
	/* 6 MB of numbered lines: any lost, doubled or reordered chunk shows. */
	struct exec_result r = run(&a, (const char *[]){ "sh", "-c", "seq 1 800000", NULL }, NULL);
	assert_exit(&r, PROTO_EXITED, 0);
	size_t len;
	char *out = content(a.out, &len);
	char *p = out;
	for (long i = 1; i <= 800000; i++) {
		char *end;
		long v = strtol(p, &end, 10);
		if (v != i || *end != '\n')
			fail_msg("line %ld reads %ld", i, v);
		p = end + 1;
	}
	assert_true(p == out + len);
	free(out);
	stop(&a);
}

static void test_stdin_forwarded_with_eof(void **state)
{
	struct agent a;
	start(&a);
	struct exec_result r = run(&a, (const char *[]){ "cat", NULL }, "hi\nthere\n");
	assert_exit(&r, PROTO_EXITED, 0);
	char *out = content(a.out, NULL);
	assert_string_equal(out, "hi\nthere\n");
	free(out);
	/* No stdin at all: EOF at once, so cat ends. */
	r = run(&a, (const char *[]){ "sh", "-c", "wc -c", NULL }, NULL);
	assert_exit(&r, PROTO_EXITED, 0);
	stop(&a);
}

static void test_env_workdir_user(void **state)
{
	if (getuid() != 0) {
		print_message("skipped: switching users needs root\n");
		skip();
	}
	struct agent a;
	start(&a);
	const char *argv[] = { "sh", "-c", "echo $FOO:$HOME; pwd; id -u; id -g", NULL };
	const char *env[] = { "FOO=bar baz", "HOME=/nowhere", NULL };
	struct proto_exec e = { .flags = PROTO_EXEC_USER, .uid = 65534, .gid = 65533,
				.workdir = "/tmp", .argc = 3, .argv = argv, .envc = 2, .env = env };
	struct exec_result r = run_full(&a, &e, NULL, 0, -1);
	assert_exit(&r, PROTO_EXITED, 0);
	char *out = content(a.out, NULL);
	assert_string_equal(out, "bar baz:/nowhere\n/tmp\n65534\n65533\n");
	free(out);
	stop(&a);
}

static void test_bad_workdir_is_an_error(void **state)
{
	struct agent a;
	start(&a);
	const char *argv[] = { "true", NULL };
	struct proto_exec e = { .workdir = "/no/such/dir", .argc = 1, .argv = argv,
				.env = (const char *[]){ NULL } };
	struct exec_result r = run_full(&a, &e, NULL, 0, -1);
	assert_int_equal(r.end, EXEC_END_ERROR);
	assert_non_null(strstr(r.msg, "/no/such/dir"));
	stop(&a);
}

static void test_deadline_and_signal(void **state)
{
	struct agent a;
	start(&a);
	const char *argv[] = { "sleep", "1000", NULL };
	struct proto_exec e = { .argc = 2, .argv = argv, .env = (const char *[]){ NULL } };
	struct exec_result r = run_full(&a, &e, NULL, now_ms() + 200, -1);
	assert_int_equal(r.end, EXEC_END_TIMEOUT);
	stop(&a);                    /* the agent kills the command when the host leaves */

	/* A host signal is forwarded and ends the session; the command dies of it. */
	start(&a);
	int wake[2];
	assert_int_equal(pipe2(wake, O_CLOEXEC | O_NONBLOCK), 0);
	uint8_t sig = SIGTERM;
	assert_int_equal(write(wake[1], &sig, 1), 1);
	r = run_full(&a, &e, NULL, 0, wake[0]);
	assert_int_equal(r.end, EXEC_END_SIGNAL);
	assert_int_equal(r.code, SIGTERM);
	struct proto_header h;
	const uint8_t *p;
	long size = wait_frame(&a.c, 20000, &h, &p);
	assert_true(size > 0);
	assert_int_equal(h.type, PROTO_EXIT);
	uint8_t kind;
	uint32_t code;
	assert_int_equal(proto_get_exit(p, h.length, &kind, &code), 0);
	assert_int_equal(kind, PROTO_SIGNALED);
	assert_int_equal(code, SIGTERM);
	consume(&a.c, (size_t)size);
	close(wake[0]);
	close(wake[1]);
	stop(&a);
}

static void test_tty(void **state)
{
	struct agent a;
	start(&a);
	const char *argv[] = { "sh", "-c", "test -t 0 && test -t 1 && echo tty; stty size; read x;"
			       " echo got=$x", NULL };
	struct proto_exec e = { .flags = PROTO_EXEC_TTY, .rows = 33, .cols = 77, .argc = 3,
				.argv = argv, .env = (const char *[]){ NULL } };
	struct exec_result r = run_full(&a, &e, "line\n", 0, -1);
	assert_exit(&r, PROTO_EXITED, 0);
	char *out = content(a.out, NULL);
	/* The pty echoes "line" whenever it arrives, so only each piece is checked;
	 * "\r\n" shows the output went through a terminal's line discipline. */
	if (!strstr(out, "tty\r\n") || !strstr(out, "33 77\r\n") || !strstr(out, "got=line\r\n"))
		fail_msg("pty output was: '%s'", out);
	free(out);
	stop(&a);
}

static void test_copy_out(void **state)
{
	struct agent a;
	char src[] = "/tmp/arcvm-copy-src.XXXXXX", dst[64], err[512];
	int fd = mkstemp(src);
	assert_true(fd >= 0);
	static char data[100000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7);
	assert_int_equal(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	close(fd);
	snprintf(dst, sizeof(dst), "%s.out", src);
	start(&a);
	if (exec_session_copy_out(&a.c, src, dst, 10000, err, sizeof(err)))
		fail_msg("copy-out: %s", err);
	fd = open(dst, O_RDONLY);
	static char back[sizeof(data) + 1];
	assert_int_equal(read(fd, back, sizeof(back)), (ssize_t)sizeof(data));
	assert_memory_equal(back, data, sizeof(data));
	close(fd);
	unlink(dst);
	/* A missing file, and a FIFO the agent must not open: errors, no file left. */
	assert_int_equal(exec_session_copy_out(&a.c, "/no/such/file", dst, 10000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/no/such/file"));
	assert_int_equal(access(dst, F_OK), -1);
	assert_int_equal(exec_session_copy_out(&a.c, "/dev/null", dst, 10000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	/* The session still serves commands afterwards. */
	struct exec_result r = run(&a, (const char *[]){ "true", NULL }, NULL);
	assert_exit(&r, PROTO_EXITED, 0);
	stop(&a);
	unlink(src);
}

static void test_closed_stdout_sends_sigpipe(void **state)
{
	struct agent a;
	start(&a);
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);                 /* like `arcvm exec -- yes | head -1` after head ended */
	int saved = a.out;
	a.out = p[1];
	struct exec_result r = run(&a, (const char *[]){ "yes", NULL }, NULL);
	assert_exit(&r, PROTO_SIGNALED, SIGPIPE);
	a.out = saved;
	close(p[1]);
	stop(&a);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);   /* as arcvm does: a closed reader is an EPIPE */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_statuses),
		cmocka_unit_test(test_streams_separate_and_ordered),
		cmocka_unit_test(test_large_output_intact),
		cmocka_unit_test(test_stdin_forwarded_with_eof),
		cmocka_unit_test(test_env_workdir_user),
		cmocka_unit_test(test_bad_workdir_is_an_error),
		cmocka_unit_test(test_deadline_and_signal),
		cmocka_unit_test(test_tty),
		cmocka_unit_test(test_copy_out),
		cmocka_unit_test(test_closed_stdout_sends_sigpipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
