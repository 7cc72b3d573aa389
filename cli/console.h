/*
 * console.h - the host terminal side of a guest console. On a terminal it
 * switches to raw mode (restored on every exit path, signals included) and
 * relays keystrokes through a pipe, watching for the escape sequence
 * Ctrl-A x; a pipe or socket on stdin goes to the VM as it is; a file or
 * device (which epoll cannot watch) is copied through a pipe.
 */
#ifndef CLI_CONSOLE_H
#define CLI_CONSOLE_H

#include <stdbool.h>

#include "arcvm.h"

#define CONSOLE_ESCAPE_KEY 0x01  /* Ctrl-A; then 'x' quits, Ctrl-A sends Ctrl-A */

struct cli_console {
	bool tty;          /* stdin is a terminal in raw mode */
	int guest_in_fd;   /* what the VM reads its console input from */
	int pipe_wr;       /* relay pipe's write end, -1 when stdin is used directly */
};

/* Prepares the console; *c->guest_in_fd is then valid for the config. */
int console_open(struct cli_console *c);
/* Starts relaying keys to the VM (tty mode); Ctrl-A x stops `vm`. */
int console_start(struct cli_console *c, struct arcvm_vm *vm);
/* Restores the terminal. Safe to call more than once. */
void console_close(struct cli_console *c);

#endif
