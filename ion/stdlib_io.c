/* stdlib_io.c - io.*: output through the embedder, files, shell commands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "ion/ffi.h"
#include "ion/format.h"
#include "ion/object.h"
#include "ion/process.h"
#include "ion/str.h"
#include "ion/vm.h"

static int print_to(struct ion_proc *p, ion_value *a, int n, enum ion_stream s, const char *prefix)
{
	struct ion_buf b = { 0 };
	ion_buf_puts(&b, prefix);
	/* Copy first: __tostring methods may move the register stack. */
	ion_value vals[32];
	int cnt = n < 32 ? n : 32;
	memcpy(vals, a, (size_t)cnt * sizeof *vals);
	for (int i = 0; i < cnt; i++) {
		if (i)
			ion_buf_puts(&b, " ");
		ion_format_value(p, &b, vals[i], 1);
	}
	ion_buf_puts(&b, "\n");
	if (b.oom) {
		free(b.p);
		return ion_proc_raise(p, "nomem", "out of memory");
	}
	ion_vm_write(p->vm, s, b.p, b.n);
	free(b.p);
	return ION_NATIVE_OK;
}

static int io_print(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	return print_to(p, a, n, ION_STDOUT, "");
}

static int io_debug(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	return print_to(p, a, n, ION_STDERR, "[debug] ");
}

static int path_arg(struct ion_proc *p, ion_value *a, int i, char *buf, size_t cap)
{
	const char *s;
	size_t len;
	if (ion_arg_str(p, a, i, &s, &len))
		return -1;
	if (len >= cap || memchr(s, 0, len))
		return ion_proc_raise(p, "badarg", "bad path");
	memcpy(buf, s, len);
	buf[len] = 0;
	return 0;
}

static int io_read_file(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	char path[4096];
	if (path_arg(p, a, 0, path, sizeof path))
		return ION_NATIVE_ERROR;
	FILE *f = fopen(path, "rb");
	if (!f)
		return ion_proc_raise(p, "io", "cannot open %s: %s", path, strerror(errno));
	struct ion_buf b = { 0 };
	char chunk[8192];
	size_t got;
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
		ion_buf_put(&b, chunk, got);
	int err = ferror(f);
	fclose(f);
	if (err || b.oom) {
		free(b.p);
		return ion_proc_raise(p, "io", "cannot read %s", path);
	}
	*out = ion_new_str(p, b.p ? b.p : "", b.n);
	free(b.p);
	return *out ? ION_NATIVE_OK : ION_NATIVE_ERROR;
}

static int io_write_file(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	char path[4096];
	const char *s;
	size_t len;
	if (path_arg(p, a, 0, path, sizeof path) || ion_arg_str(p, a, 1, &s, &len))
		return ION_NATIVE_ERROR;
	FILE *f = fopen(path, "wb");
	if (!f)
		return ion_proc_raise(p, "io", "cannot open %s: %s", path, strerror(errno));
	size_t put = fwrite(s, 1, len, f);
	if (fclose(f) != 0 || put != len)
		return ion_proc_raise(p, "io", "cannot write %s", path);
	*out = ION_TRUE;
	return ION_NATIVE_OK;
}

/* io.system(cmd): runs cmd with /bin/sh, returns {exit status, output}. */
static int io_system(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	char cmd[8192];
	if (path_arg(p, a, 0, cmd, sizeof cmd))
		return ION_NATIVE_ERROR;
	FILE *f = popen(cmd, "r");
	if (!f)
		return ion_proc_raise(p, "io", "cannot run command: %s", strerror(errno));
	struct ion_buf b = { 0 };
	char chunk[8192];
	size_t got;
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
		ion_buf_put(&b, chunk, got);
	int st = pclose(f);
	int code = st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	p->heap.inhibit++;
	ion_value s = b.oom ? 0 : ion_new_str(p, b.p ? b.p : "", b.n);
	struct ion_tuple *t = s ? ion_tuple_new(&p->heap, 2) : NULL;
	p->heap.inhibit--;
	free(b.p);
	if (!t)
		return ion_proc_raise(p, "nomem", "out of memory");
	t->items[0] = ion_from_num(code);
	t->items[1] = s;
	*out = ion_box(ION_TAG_OBJ, t);
	return ION_NATIVE_OK;
}

const struct ion_native ion_stdlib_io[] = {
	{ "io.print", -1, "print the values, space-separated, and a newline", io_print },
	{ "io.debug", -1, "print the values to stderr, prefixed with [debug]", io_debug },
	{ "io.read_file", 1, "the contents of a file as a string", io_read_file },
	{ "io.write_file", 2, "write a string to a file, replacing it", io_write_file },
	{ "io.system", 1, "run a shell command: {exit status, output}", io_system },
	{ NULL, 0, NULL, NULL }
};
