/*
 * cmd_api.c - `arcvm api`, a Firecracker-compatible API server owning one
 * VM, and `arcvm run --config-file`, which boots Firecracker's config file
 * without an API. The guest's serial console is this process's stdin and
 * stdout in both, as with Firecracker.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/config_file.h"
#include "api/server.h"
#include "api/vmctl.h"
#include "cli/cli.h"
#include "cli/console.h"

#define DEFAULT_REQUEST_TIMEOUT_MS 5000
#define DEFAULT_IDLE_TIMEOUT_MS 60000

static void api_usage(FILE *f)
{
	fputs("usage: arcvm api --socket PATH [OPTIONS]\n"
	      "Serves Firecracker's REST API on the Unix socket PATH for one microVM\n"
	      "(docs/api-firecracker.md). The guest's serial console is this process's\n"
	      "stdin and stdout.\n\n"
	      "  --socket PATH, --api-sock PATH   the API socket (must not exist yet)\n"
	      "  --id ID            the instance id GET / reports (default anonymous-instance)\n"
	      "  --config-file F    apply Firecracker's config file F and start the VM at once\n"
	      "  --request-timeout MS  a request must arrive whole within MS ms (default 5000)\n"
	      "  --allow-pvm        boot on a PVM host anyway (kernel built as a PVM guest)\n"
	      "  -v, --verbose      log each request\n\n"
	      "Exit status: as `arcvm run` once the guest ends the VM; 7 after SIGINT/SIGTERM.\n",
	      f);
}

static void relay_console(void *opaque, struct arcvm_vm *vm)
{
	if (console_start(opaque, vm) < 0)
		cli_error("cannot relay the terminal to the guest; input is ignored");
}

static int parse_ms(const char *s, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 3600000) {
		cli_error("bad --request-timeout '%s': expected milliseconds from 1 to 3600000", s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* Says how the guest ended, as `arcvm run` does, and maps it to a status. */
static int report_exit(struct vmctl *c, enum arcvm_exit_reason reason)
{
	const char *panic = c->vm ? arcvm_vm_panic_message(c->vm) : NULL;
	if (reason == ARCVM_EXIT_PANIC)
		cli_error("guest kernel panic: %s", panic ? panic : "(no message)");
	else if (reason == ARCVM_EXIT_TRIPLE_FAULT)
		cli_error("the guest triple-faulted (KVM_EXIT_SHUTDOWN)");
	else if (reason == ARCVM_EXIT_ERROR)
		cli_error("the VM stopped on an error (see messages above)");
	return cli_status_for(reason);
}

struct api_args {
	struct api_server_opts server;
	const char *id;
	const char *config_file;
	bool allow_pvm;
	int verbose;
};

static int parse_api_args(int argc, char **argv, struct api_args *a)
{
	static const struct option opts[] = {
		{ "socket", required_argument, 0, 's' }, { "api-sock", required_argument, 0, 's' },
		{ "id", required_argument, 0, 'i' }, { "config-file", required_argument, 0, 'c' },
		{ "request-timeout", required_argument, 0, 't' },
		{ "allow-pvm", no_argument, 0, 'P' }, { "verbose", no_argument, 0, 'v' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (o) {
		case 's': a->server.socket_path = optarg; break;
		case 'i': a->id = optarg; break;
		case 'c': a->config_file = optarg; break;
		case 't':
			if (parse_ms(optarg, &a->server.request_timeout_ms))
				return -1;
			break;
		case 'P': a->allow_pvm = true; break;
		case 'v': a->verbose++; break;
		case 'h': api_usage(stdout); exit(CLI_OK);
		default: api_usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s' (see 'arcvm api --help')", argv[optind]);
		return -1;
	}
	if (!a->server.socket_path) {
		cli_error("arcvm api needs --socket PATH");
		return -1;
	}
	return 0;
}

/* Sets up the controller with the console; the caller frees both. */
static int ctl_open(struct vmctl *c, struct cli_console *con, const char *id, bool allow_pvm,
		    int verbose)
{
	struct arcvm_error err;
	if (vmctl_init(c, id, &err)) {
		cli_error("%s", err.msg);
		return -1;
	}
	if (console_open(con) < 0) {
		cli_error("cannot set up the terminal: %s", strerror(errno));
		return -1;
	}
	c->console_in_fd = con->guest_in_fd;
	c->on_vm = relay_console;
	c->on_vm_opaque = con;
	c->allow_pvm = allow_pvm;
	c->logger.level = verbose ? FC_LOG_DEBUG : FC_LOG_WARN;
	return 0;
}

int cli_api(int argc, char **argv)
{
	struct api_args a = { .server = { .request_timeout_ms = DEFAULT_REQUEST_TIMEOUT_MS,
					  .idle_timeout_ms = DEFAULT_IDLE_TIMEOUT_MS } };
	if (parse_api_args(argc, argv, &a))
		return CLI_USAGE;
	struct vmctl c;
	struct cli_console con = { .pipe_wr = -1 };
	struct arcvm_error err;
	int status = CLI_ERROR;
	if (ctl_open(&c, &con, a.id, a.allow_pvm, a.verbose))
		goto out;
	if (a.config_file && api_config_file_apply(&c, a.config_file, &err)) {
		cli_error("%s", err.msg);
		status = CLI_USAGE;
		goto out;
	}
	if (a.config_file && vmctl_start(&c, &err)) {
		cli_error("%s", err.msg);
		goto out;
	}
	enum arcvm_exit_reason reason;
	if (api_serve(&c, &a.server, &reason, &err)) {
		cli_error("%s", err.msg);
		goto out;
	}
	status = report_exit(&c, reason);
out:
	vmctl_free(&c);
	console_close(&con);
	return status;
}

int cli_run_config_file(const char *path, bool allow_pvm, int verbose)
{
	struct vmctl c;
	struct cli_console con = { .pipe_wr = -1 };
	struct arcvm_error err;
	int status = CLI_USAGE;
	if (ctl_open(&c, &con, NULL, allow_pvm, verbose))
		goto out;
	if (api_config_file_apply(&c, path, &err)) {
		cli_error("%s", err.msg);
		goto out;
	}
	status = CLI_ERROR;
	if (vmctl_start(&c, &err)) {
		cli_error("%s", err.msg);
		goto out;
	}
	enum arcvm_exit_reason reason = ARCVM_EXIT_NONE;
	if (arcvm_vm_wait(c.vm, -1, &reason, &err)) {
		cli_error("%s", err.msg);
		goto out;
	}
	status = report_exit(&c, reason);
out:
	vmctl_free(&c);
	console_close(&con);
	return status;
}
