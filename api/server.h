/*
 * server.h - the API server's event loop: a Unix stream socket, its
 * connections and the VM, all on one thread with epoll.
 *
 * A few connections are served at once, one request at a time each, in
 * arrival order. A request must arrive whole within request_timeout_ms of
 * its first byte and an idle connection is closed after idle_timeout_ms, so
 * a slow or broken client holds a slot for a bounded time and never blocks
 * the others: reads never block, and a response that the peer does not
 * read within request_timeout_ms drops the connection.
 */
#ifndef API_SERVER_H
#define API_SERVER_H

#include "api/vmctl.h"

#define API_MAX_CONNS 16

struct api_server_opts {
	const char *socket_path;
	int request_timeout_ms;
	int idle_timeout_ms;
};

/* Serves until the guest ends the VM (*reason is then why) or SIGINT or
 * SIGTERM arrives (*reason = ARCVM_EXIT_STOPPED). Fails, with a message,
 * only when the socket cannot be set up; it is removed on return. */
int api_serve(struct vmctl *c, const struct api_server_opts *o, enum arcvm_exit_reason *reason,
	      struct arcvm_error *err);

#endif
