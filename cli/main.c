/* main.c - the arcvm command: dispatch to subcommands. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/cli.h"

#define ARCVM_VERSION "0.1.0"

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("arcvm: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void cli_log(void *opaque, enum arcvm_log_level level, const char *msg)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	int verbose = opaque ? *(int *)opaque : 0;
	if ((int)level <= ARCVM_LOG_WARN + verbose)
		fprintf(stderr, "arcvm: %s: %s\r\n", names[level], msg);
}

const char *cli_guest_dir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("ARCVM_GUEST_DIR");
	if (env && *env)
		return env;
	/* Next to the binary: build/arcvm -> build/guest. */
	ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 16);
	if (n <= 0)
		return "build/guest";
	dir[n] = '\0';
	char *slash = strrchr(dir, '/');
	strcpy(slash ? slash + 1 : dir, "guest");
	return dir;
}

int cli_status_for(enum arcvm_exit_reason reason)
{
	switch (reason) {
	case ARCVM_EXIT_POWEROFF: return CLI_OK;
	case ARCVM_EXIT_REBOOT: return CLI_GUEST_REBOOT;
	case ARCVM_EXIT_HALT: return CLI_GUEST_HALT;
	case ARCVM_EXIT_PANIC: return CLI_GUEST_PANIC;
	case ARCVM_EXIT_TRIPLE_FAULT: return CLI_GUEST_TRIPLE_FAULT;
	case ARCVM_EXIT_STOPPED: return CLI_STOPPED;
	default: return CLI_ERROR;
	}
}

static void usage(FILE *f)
{
	fputs("usage: arcvm COMMAND [OPTIONS]\n"
	      "\n"
	      "commands:\n"
	      "  run        boot a kernel with its serial console on this terminal\n"
	      "  exec       run a command in a fresh micro-VM and return its status\n"
	      "  call       run an IonVM function (an IonPack) in a fresh micro-VM, return its value\n"
	      "  api        serve Firecracker's REST API for one micro-VM on a Unix socket\n"
	      "  snapshot   snapshot create (through `arcvm api`) or restore a VM snapshot\n"
	      "  image      build a Debian root filesystem image for exec --image\n"
	      "  version    print the version\n"
	      "  help       this text\n"
	      "\n"
	      "`arcvm COMMAND --help` describes a command's options.\n", f);
}

/* Each 9p fid and vsock connection holds a descriptor: allow what the
 * hard limit allows rather than the soft default of 1024. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	raise_fd_limit();
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "run") == 0)
		return cli_run(argc - 1, argv + 1);
	if (strcmp(cmd, "exec") == 0)
		return cli_exec(argc - 1, argv + 1);
	if (strcmp(cmd, "call") == 0)
		return cli_call(argc - 1, argv + 1);
	if (strcmp(cmd, "api") == 0)
		return cli_api(argc - 1, argv + 1);
	if (strcmp(cmd, "snapshot") == 0)
		return cli_snapshot(argc - 1, argv + 1);
	if (strcmp(cmd, "image") == 0)
		return cli_image(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("arcvm %s\n", ARCVM_VERSION);
		return CLI_OK;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return CLI_OK;
	}
	cli_error("unknown command '%s' (try 'arcvm help')", cmd);
	return CLI_USAGE;
}
