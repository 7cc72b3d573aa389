/*
 * exec_session.h - the host side of the exec protocol (docs/exec-protocol.md)
 * over a connected stream: HELLO, one EXEC with its output streamed to this
 * process's stdout/stderr and its stdin forwarded, COPY_OUT, SHUTDOWN.
 * Knows nothing about VMs: the caller passes a callback that says whether
 * the peer is still alive, so the pieces can be tested over a socketpair.
 */
#ifndef CLI_EXEC_SESSION_H
#define CLI_EXEC_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/agent/proto.h"

struct exec_conn {
	int fd;          /* non-blocking stream to the agent */
	uint16_t version;/* agreed in HELLO */
	uint8_t *rx;     /* PROTO_HEADER_SIZE + PROTO_MAX_PAYLOAD bytes */
	size_t rx_len;
	uint8_t *tx;     /* frames not yet written */
	size_t tx_len, tx_cap;
};

/* What ended exec_session_run. */
enum exec_end {
	EXEC_END_EXIT,      /* the command ended: kind/code are set */
	EXEC_END_TIMEOUT,   /* the deadline passed first */
	EXEC_END_SIGNAL,    /* the host got signal `code` (from wake_fd) */
	EXEC_END_ERROR,     /* the agent refused, the stream broke, or the peer died: msg */
	EXEC_END_VALUE,     /* a CALL returned: value, value_len (the encoded result) */
	EXEC_END_CALL_FAIL, /* a CALL failed in the guest: code (enum proto_call_fail), detail */
};

struct exec_result {
	enum exec_end end;
	uint8_t kind;       /* PROTO_EXITED or PROTO_SIGNALED */
	uint32_t code;
	char msg[512];
	uint8_t *value;     /* EXEC_END_VALUE: malloc'd */
	size_t value_len;
	char *detail;       /* EXEC_END_CALL_FAIL: the guest's message and trace, malloc'd */
};

/* Frees value and detail. */
void exec_result_free(struct exec_result *res);

struct exec_io {
	int in_fd;          /* forwarded as STDIN; -1: none (EOF at once) */
	int out_fd, err_fd; /* where STDOUT and STDERR go */
	int wake_fd;        /* readable when a signal arrived: one byte per signal
	                     * number (SIGWINCH: send the window size of in_fd) */
	int64_t deadline_ms;/* CLOCK_MONOTONIC ms; 0: none */
	/* Called about every 200 ms; false ends the session with msg set. */
	bool (*alive)(void *opaque, char *msg, size_t len);
	void *opaque;
};

/* Takes fd (made non-blocking); 0 or -ENOMEM. */
int exec_conn_init(struct exec_conn *c, int fd);
/* Frees the buffers and closes fd. */
void exec_conn_close(struct exec_conn *c);

/* Sends our HELLO and checks the agent's; timeout_ms bounds the wait. */
int exec_session_hello(struct exec_conn *c, int timeout_ms, char *err, size_t errlen);

/* Sends EXEC and relays until the command exits, the deadline passes, a
 * signal arrives or something breaks; *res says which. Returns 0 (even when
 * the command failed); -1 only if *res could not be filled. */
int exec_session_run(struct exec_conn *c, const struct proto_exec *req,
		     const struct exec_io *io, struct exec_result *res);

/* Sends CALL with its bundle (proto_encode_call) and relays what the
 * function prints to io's out_fd/err_fd until the result, a CALL_FAIL, the
 * deadline, a signal or a failure; *res says which (io->in_fd is unused).
 * The result is bounded by PROTO_CALL_MAX. The caller frees *res with
 * exec_result_free. Returns 0, or -1 if *res could not be filled. */
int exec_session_call(struct exec_conn *c, const uint8_t *bundle, size_t len,
		      const struct exec_io *io, struct exec_result *res);

/* Fetches guest_path into host_path: written to a temporary file beside it
 * and renamed over it once complete, so host_path is never half-written.
 * idle_ms bounds each wait for the next frame. 0, or -1 with err set. */
int exec_session_copy_out(struct exec_conn *c, const char *guest_path, const char *host_path,
			  int idle_ms, char *err, size_t errlen);

/* Sends SHUTDOWN (the agent syncs and powers off). 0 or -1. */
int exec_session_shutdown(struct exec_conn *c, int timeout_ms);

/* The status arcvm exits with for a finished command: its code, or 128+N
 * for a death by signal N. */
int exec_status_of(uint8_t kind, uint32_t code);

#endif
