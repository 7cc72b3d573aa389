/*
 * vsock_uds.h - the host side of arcvm's vsock: Unix sockets in Firecracker's
 * convention (docs/vsock.md).
 *
 * A host client connects to the device's socket at `path` and writes
 * "CONNECT <port>\n"; once the guest accepts, it reads "OK <local port>\n"
 * and the socket carries the stream. A guest connection to CID 2 port P is
 * forwarded to the socket at "<path>_<P>".
 *
 * Pure socket helpers: no state, no locks, any thread.
 */
#ifndef VIRTIO_VSOCK_UDS_H
#define VIRTIO_VSOCK_UDS_H

#include <stddef.h>
#include <stdint.h>

#include "arcvm.h"

/*
 * Listens (non-blocking, close-on-exec) on a Unix stream socket at path. A
 * socket file left behind by a dead process (nothing accepts a connection
 * to it) is replaced; a live one, or a file that is not a socket, is not
 * touched: ARCVM_E_BUSY. Other failures: ARCVM_E_INVALID (path too long),
 * ARCVM_E_IO.
 */
int vsock_uds_listen(const char *path, int *out, struct arcvm_error *err);

/*
 * The client's side of the convention: connects to the device's socket at
 * path, says "CONNECT <port>\n" and waits up to reply_ms for "OK ...\n".
 * Returns the socket (blocking, close-on-exec; what follows carries the
 * guest's stream), or -1 when the device is not there, the guest refused,
 * or no answer came in time. VSOCK_UDS_REPLY_MS suits a running VMM.
 */
#define VSOCK_UDS_REPLY_MS 2000
int vsock_uds_dial(const char *path, uint32_t port, int reply_ms);

/* Connects, non-blocking, to "<path>_<port>". Returns the socket (already
 * connected, non-blocking) or -1 when nothing accepts there. */
int vsock_uds_connect_port(const char *path, uint32_t port);

/*
 * Parses one "CONNECT <port>\n" line of exactly `len` bytes: the keyword,
 * one space, 1 to 10 decimal digits of a value below 2^32, the newline.
 * Returns 0 with *port set, or -1.
 */
int vsock_uds_parse_connect(const char *line, size_t len, uint32_t *port);

/*
 * Reads from fd into line (holding *len bytes so far, room for
 * VSOCK_LINE_MAX) up to and including the first newline, never past it:
 * bytes after the line stay in the socket for the stream. Returns 1 with
 * *port set once a whole line parsed, 0 when more bytes are needed, -1 when
 * the line is malformed or too long, or fd ended or failed.
 */
int vsock_uds_read_connect(int fd, char *line, unsigned *len, uint32_t *port);

/* Writes "OK <port>\n" to a freshly connected fd. Returns 0 or -1. */
int vsock_uds_send_ok(int fd, uint32_t port);

#endif
