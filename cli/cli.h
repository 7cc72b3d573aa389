/* cli.h - the arcvm command's subcommands and shared helpers. */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include "arcvm.h"

/* Exit statuses of `arcvm run` (docs/cli.md). */
enum cli_status {
	CLI_OK = 0,               /* the guest powered off */
	CLI_ERROR = 1,            /* arcvm could not start or run the VM */
	CLI_USAGE = 2,            /* bad command line */
	CLI_GUEST_REBOOT = 3,     /* the guest rebooted (arcvm does not restart it) */
	CLI_GUEST_HALT = 4,       /* the guest halted without powering off */
	CLI_GUEST_PANIC = 5,      /* the guest kernel panicked */
	CLI_GUEST_TRIPLE_FAULT = 6,
	CLI_STOPPED = 7,          /* stopped from the host (escape key) */
};

int cli_run(int argc, char **argv);
int cli_exec(int argc, char **argv);
/* exec.c with call.c: `arcvm call PACK --arg V...` (docs/cli.md). */
int cli_call(int argc, char **argv);
int cli_image(int argc, char **argv);
int cli_snapshot(int argc, char **argv);

/* Makes the VM `arcvm run` attaches to, with console input from
 * console_in_fd: created (it is booted) or restored (it is resumed). */
typedef int (*cli_make_vm)(void *opaque, int console_in_fd, struct arcvm_vm **vm,
			   struct arcvm_error *err);
/* Puts the console on this terminal, starts the VM, waits for its end and
 * returns the documented exit status (docs/cli.md). */
int cli_run_attached(cli_make_vm make, void *opaque);
/* api/cmd_api.c: `arcvm api`, and `arcvm run --config-file` (Firecracker's format). */
int cli_api(int argc, char **argv);
int cli_run_config_file(const char *path, bool allow_pvm, int verbose);
/* api/cmd_snapshot.c: `arcvm snapshot create`, a client of `arcvm api`;
 * argv[0] is "create". */
int cli_snapshot_create(int argc, char **argv);

/* Prints "arcvm: MESSAGE" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs through the library's callback. */
void cli_log(void *opaque, enum arcvm_log_level level, const char *msg);
/* The folder with the built-in guest image (kernel, initrd). */
const char *cli_guest_dir(void);
/* Maps an exit reason to the documented status. */
int cli_status_for(enum arcvm_exit_reason reason);

#endif
