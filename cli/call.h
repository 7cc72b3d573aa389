/*
 * call.h - what `arcvm call` adds to `arcvm exec` (exec.c boots the VM and
 * connects to the agent for both): the pack opened on the host, --arg
 * literals encoded, the CALL exchange and the result printed or written.
 */
#ifndef CLI_CALL_H
#define CLI_CALL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/exec_session.h"

#define CALL_MAX_ARGS 255 /* an IonVM function takes at most 255 arguments */

/* arcvm call's exit statuses besides exec's 124, 125 and 128+N. */
#define CALL_RAISED 1  /* the function raised an uncaught error (or deadlocked) in the guest */
#define CALL_REFUSED 2 /* the guest refused the call: arguments, classes, a non-copyable result */
#define CALL_FAILED 125 /* arcvm could not run the call (as exec's 125) */

struct call_opts {
	const char *pack;
	uint8_t *args[CALL_MAX_ARGS]; /* each --arg, encoded */
	size_t args_len[CALL_MAX_ARGS];
	int nargs;
	const char *out;              /* --out FILE */
	uint8_t *bundle;              /* built by call_prepare */
	size_t bundle_len;
};

void call_usage(FILE *f);
/* Parses one --arg literal; prints the error and returns -1 when it is bad. */
int call_add_arg(struct call_opts *c, const char *text);
/* Opens and verifies the pack on the host and builds the CALL bundle;
 * prints the error and returns -1 when it cannot. */
int call_prepare(struct call_opts *c);
/* The exit status for a finished CALL, after printing the result or
 * writing it to --out (or printing why there is none). */
int call_finish(const struct call_opts *c, const struct exec_result *res);
void call_opts_free(struct call_opts *c);

#endif
