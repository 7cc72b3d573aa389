/*
 * snapshot.c - `arcvm snapshot restore`: restores a snapshot in this process
 * and then behaves as `arcvm run` does (console on this terminal, the same
 * exit statuses). A snapshot folder holds the files SNAPSHOT_STATE_NAME and
 * SNAPSHOT_MEM_NAME (docs/snapshot.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define SNAPSHOT_STATE_NAME "state"
#define SNAPSHOT_MEM_NAME   "memory"

static void snapshot_usage(FILE *f)
{
	fputs("usage: arcvm snapshot restore [DIR] [OPTIONS]\n"
	      "       arcvm snapshot create --socket PATH [--diff] [--keep-paused] DIR\n"
	      "         (through a running `arcvm api`; see 'arcvm snapshot create --help')\n\n"
	      "Restores a VM snapshot and runs it with COM1 on this terminal, as `arcvm run`\n"
	      "does (Ctrl-A x quits; the exit status says how the guest ended).\n"
	      "DIR holds the files \"" SNAPSHOT_STATE_NAME "\" and \"" SNAPSHOT_MEM_NAME "\".\n\n"
	      "  --state FILE      the state file (instead of DIR/" SNAPSHOT_STATE_NAME ")\n"
	      "  --mem FILE        the memory file (default: DIR/" SNAPSHOT_MEM_NAME ", or the one\n"
	      "                    the state file names)\n"
	      "  --vsock PATH      serve the guest's vsock on this Unix socket instead of the\n"
	      "                    snapshotted VM's\n"
	      "  --allow-pvm       restore a Linux guest on a PVM host (a PVM-built kernel)\n"
	      "  -v, --verbose     more messages (repeatable)\n"
	      "  -h, --help        this text\n", f);
}

struct restore_args {
	struct arcvm_restore r;
	char *state_owned, *mem_owned;
	int verbose;
};

static int restore_vm(void *opaque, int console_in_fd, struct arcvm_vm **vm,
		      struct arcvm_error *err)
{
	struct restore_args *a = opaque;
	a->r.console_in_fd = console_in_fd;
	a->r.console_out_fd = 1;
	return arcvm_vm_restore(&a->r, vm, err);
}

static int parse_restore_args(int argc, char **argv, struct restore_args *a)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "mem", required_argument, NULL, 'm' },
		{ "vsock", required_argument, NULL, 'V' },
		{ "allow-pvm", no_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 's': a->r.state_path = optarg; break;
		case 'm': a->r.mem_path = optarg; break;
		case 'V': a->r.vsock_uds_path = optarg; break;
		case 'P': a->r.allow_pvm = true; break;
		case 'v': a->verbose++; break;
		case 'h': snapshot_usage(stdout); exit(CLI_OK);
		default: snapshot_usage(stderr); return -1;
		}
	}
	const char *dir = optind < argc ? argv[optind++] : NULL;
	if (optind < argc) {
		cli_error("unexpected argument '%s' (see 'arcvm snapshot --help')", argv[optind]);
		return -1;
	}
	if (dir && !a->r.state_path &&
	    asprintf(&a->state_owned, "%s/%s", dir, SNAPSHOT_STATE_NAME) >= 0)
		a->r.state_path = a->state_owned;
	if (dir && !a->r.mem_path && asprintf(&a->mem_owned, "%s/%s", dir, SNAPSHOT_MEM_NAME) >= 0)
		a->r.mem_path = a->mem_owned;
	if (!a->r.state_path) {
		cli_error("give a snapshot folder or --state FILE (see 'arcvm snapshot --help')");
		return -1;
	}
	return 0;
}

int cli_snapshot(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		snapshot_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	if (strcmp(argv[1], "create") == 0)
		return cli_snapshot_create(argc - 1, argv + 1);   /* api/cmd_snapshot.c */
	if (strcmp(argv[1], "restore") != 0) {
		cli_error("unknown snapshot command '%s' (create or restore)", argv[1]);
		return CLI_USAGE;
	}
	struct restore_args a = { 0 };
	arcvm_restore_init(&a.r);
	int status = CLI_USAGE;
	if (parse_restore_args(argc - 1, argv + 1, &a) == 0) {
		a.r.log = cli_log;
		a.r.log_opaque = &a.verbose;
		status = cli_run_attached(restore_vm, &a);
	}
	free(a.state_owned);
	free(a.mem_owned);
	return status;
}
