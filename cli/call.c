/*
 * call.c - the parts of `arcvm call` that are not `arcvm exec`: --arg
 * literals encoded on the spot, the IonPack opened and verified on the host
 * (libion, libzip) and turned into a CALL bundle (its class files, the
 * manifest's entry point, the argument tuple), and the guest's answer
 * printed, written to --out, or reported with the guest's stack trace.
 *
 * The result comes from the guest: it is decoded by the bounds-checked
 * value reader before anything is printed, and bounded in size by the
 * session (PROTO_CALL_MAX).
 */
#include "cli/call.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "call/bundle.h"
#include "cli/cli.h"
#include "ion/include/ion.h"

void call_usage(FILE *f)
{
	fputs("usage: arcvm call [OPTIONS] PACK.ionpack [--arg VALUE]... [--out FILE]\n"
	      "Runs the pack's entry point in a fresh micro-VM with the given arguments and\n"
	      "prints its result.\n\n"
	      "  --arg VALUE            the next argument, a literal (repeatable): nil true\n"
	      "                         false 42 -1.5 nan inf 1+2i \"text\\x00\" ok 'an atom'\n"
	      "                         {tuple} [array] #{key: v} #Type{key/we: v}\n"
	      "  --out FILE             write the result, which must be a string, to FILE\n"
	      "                         (its bytes as they are) instead of printing it\n"
	      "  --cpus N, --mem SIZE, --kernel PATH, --initrd PATH, --image FILE, --persist,\n"
	      "  --share HOST:GUEST[:ro|rw], --net ..., --publish ..., --config FILE,\n"
	      "  --shared-mem SIZE[,path=FILE|,fd=N] (shm.shared() in the function),\n"
	      "  --boot-timeout SECS, --from-snapshot DIR, -v\n"
	      "                         the VM, as for arcvm exec (see arcvm exec --help)\n"
	      "  --timeout SECS         stop the VM after SECS; exit status 124\n\n"
	      "Exit status: 0 the result was printed (or written); 1 the function raised an\n"
	      "error in the guest (its stack trace is printed); 2 the guest refused the call\n"
	      "(wrong number of arguments, classes that do not load there, a result that is\n"
	      "not copyable); 124 timeout; 125 arcvm could not run the call.\n", f);
}

int call_add_arg(struct call_opts *c, const char *text)
{
	char err[256];
	if (c->nargs == CALL_MAX_ARGS) {
		cli_error("too many --arg (at most %d)", CALL_MAX_ARGS);
		return -1;
	}
	if (ion_literal_encode(text, strlen(text), &c->args[c->nargs], &c->args_len[c->nargs], err,
			       sizeof(err))) {
		cli_error("bad --arg '%s': %s", text, err);
		return -1;
	}
	c->nargs++;
	return 0;
}

/* The argument tuple: tag 7, u32 count, the encoded values. */
static uint8_t *encode_args(const struct call_opts *c, size_t *len)
{
	size_t n = 5;
	for (int i = 0; i < c->nargs; i++)
		n += c->args_len[i];
	uint8_t *b = malloc(n), *p = b + 5;
	if (!b)
		return NULL;
	b[0] = 7;
	for (int i = 0; i < 4; i++)
		b[1 + i] = (uint8_t)((unsigned)c->nargs >> (8 * i));
	for (int i = 0; i < c->nargs; i++) {
		memcpy(p, c->args[i], c->args_len[i]);
		p += c->args_len[i];
	}
	*len = n;
	return b;
}

int call_prepare(struct call_opts *c)
{
	struct arcvm_error err;
	size_t args_len;
	uint8_t *args = encode_args(c, &args_len);
	if (!args) {
		cli_error("out of memory");
		return -1;
	}
	int rc = call_bundle_from_pack(c->pack, args, args_len, &c->bundle, &c->bundle_len, &err);
	free(args);
	if (rc)
		cli_error("%s", err.msg);
	return rc ? -1 : 0;
}

/* Writes the string's bytes to --out: a temporary file beside it, renamed
 * over it once complete. */
static int write_out(const char *path, const char *data, size_t len)
{
	char *tmp = NULL;
	if (asprintf(&tmp, "%s.arcvm-XXXXXX", path) < 0) {
		cli_error("out of memory");
		return -1;
	}
	int fd = mkstemp(tmp), err = fd < 0 ? errno : 0;
	mode_t mask = umask(0);
	umask(mask);
	if (fd >= 0)
		fchmod(fd, 0666 & ~mask);
	while (!err && len) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			break;
		}
		data += n;
		len -= (size_t)n;
	}
	if (fd >= 0 && close(fd) && !err)
		err = errno;
	if (!err && rename(tmp, path))
		err = errno;
	if (err && fd >= 0)
		unlink(tmp);
	if (err)
		cli_error("cannot write %s: %s", path, strerror(err));
	free(tmp);
	return err ? -1 : 0;
}

/* The value: a string goes to --out as bytes; anything is printed as a
 * literal (the --arg syntax) on stdout without --out. */
static int deliver(const struct call_opts *c, const uint8_t *v, size_t len)
{
	char err[256];
	if (c->out) {
		/* A string is tag 4, u32 length, the bytes. */
		uint32_t n = len >= 5 ? (uint32_t)v[1] | (uint32_t)v[2] << 8 | (uint32_t)v[3] << 16 |
				(uint32_t)v[4] << 24 : 0;
		if (len < 5 || v[0] != 4 || n != len - 5) {
			char *text = ion_literal_format(v, len, err, sizeof(err));
			cli_error("--out needs a string result, the function returned %.200s%s",
				  text ? text : "a malformed value", text && strlen(text) > 200 ? "..." : "");
			free(text);
			return CALL_REFUSED;
		}
		return write_out(c->out, (const char *)v + 5, n) ? CALL_FAILED : 0;
	}
	char *text = ion_literal_format(v, len, err, sizeof(err));
	if (!text) {
		cli_error("the guest sent a malformed result: %s", err);
		return CALL_FAILED;
	}
	puts(text);
	free(text);
	return fflush(stdout) ? CALL_FAILED : 0;
}

/* The guest's words about a failure, on stderr after WHAT: control bytes
 * other than newline and tab become '?', so they cannot drive the terminal
 * as escape sequences (the guest is not trusted). */
static void say_guest_text(const char *what, const char *text)
{
	fputs(what, stderr);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		fputc((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f ? '?' : *p, stderr);
	fputc('\n', stderr);
}

int call_finish(const struct call_opts *c, const struct exec_result *res)
{
	if (res->end == EXEC_END_VALUE)
		return deliver(c, res->value, res->value_len);
	/* EXEC_END_CALL_FAIL */
	if (res->code == PROTO_CALL_RAISED) {
		say_guest_text("arcvm: the function raised an error in the guest:\n", res->detail);
		return CALL_RAISED;
	}
	if (res->code == PROTO_CALL_STUCK) {
		say_guest_text("arcvm: the function cannot finish in the guest: ", res->detail);
		return CALL_RAISED;
	}
	say_guest_text("arcvm: the guest refused the call: ", res->detail);
	return CALL_REFUSED;
}

void call_opts_free(struct call_opts *c)
{
	for (int i = 0; i < c->nargs; i++)
		free(c->args[i]);
	free(c->bundle);
	memset(c, 0, sizeof(*c));
}
