/*
 * session.c - one host connection: HELLO both ways, then requests in turn
 * (EXEC, CALL, COPY_OUT, SHUTDOWN) until the host closes the stream. Runs in
 * a process of its own, forked by PID 1 (init.c).
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

int agent_send(int conn, uint8_t type, const void *payload, size_t len)
{
	uint8_t hdr[PROTO_HEADER_SIZE];
	int rc = proto_put_header(hdr, type, (uint32_t)len);
	if (rc)
		return rc;
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)payload, len } };
	size_t left = sizeof(hdr) + len;
	int i = 0;
	while (left) {
		ssize_t n = writev(conn, iov + i, 2 - i);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		left -= (size_t)n;
		while (i < 2 && (size_t)n >= iov[i].iov_len) {
			n -= (ssize_t)iov[i].iov_len;
			i++;
		}
		if (i < 2) {
			iov[i].iov_base = (uint8_t *)iov[i].iov_base + n;
			iov[i].iov_len -= (size_t)n;
		}
	}
	return 0;
}

int agent_send_error(int conn, int err, const char *fmt, ...)
{
	char msg[1024];
	uint8_t buf[4 + sizeof(msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return agent_send(conn, PROTO_ERROR, buf, proto_put_error(buf, sizeof(buf), (uint32_t)err, msg));
}

/* Reads until rx holds one whole frame; returns its size, 0 on a clean EOF
 * between frames, -1 on an error or a malformed stream. */
static long recv_frame(int conn, uint8_t *rx, size_t *rx_len, struct proto_header *h,
		       const uint8_t **payload)
{
	for (;;) {
		long size = proto_next_frame(rx, *rx_len, h, payload);
		if (size)
			return size > 0 ? size : -1;
		ssize_t n = read(conn, rx + *rx_len, AGENT_RX_SIZE - *rx_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 && *rx_len == 0 ? 0 : -1;
		*rx_len += (size_t)n;
	}
}

static void consume(uint8_t *rx, size_t *rx_len, size_t size)
{
	memmove(rx, rx + size, *rx_len - size);
	*rx_len -= size;
}

/* COPY_OUT: a regular file only (never a FIFO or device: opening one could
 * block or have effects), streamed in chunks. */
static int copy_out(int conn, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	if (fd < 0)
		return agent_send_error(conn, errno, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return agent_send_error(conn, EINVAL, "%s is not a regular file", path);
	}
	static uint8_t buf[PROTO_DATA_CHUNK];
	uint64_t total = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = agent_send_error(conn, errno, "reading %s: %s", path, strerror(errno));
			break;
		}
		if (n == 0) {
			uint8_t end[8];
			rc = agent_send(conn, PROTO_FILE_END, end, proto_put_u64(end, total));
			break;
		}
		total += (uint64_t)n;
		if ((rc = agent_send(conn, PROTO_FILE_DATA, buf, (size_t)n)))
			break;
	}
	close(fd);
	return rc;
}

static void shutdown_vm(int conn)
{
	agent_log("powering off");
	sync();
	/* On a disk root (arcvm exec --image --persist) this checkpoints the
	 * journal and marks ext4 clean, so the next read-only mount needs no
	 * recovery. Elsewhere (initramfs, overlay) it is harmless; a file still
	 * open for writing makes it fail, and sync() above has done what it can. */
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL))
		agent_log("remounting / read-only: %s", strerror(errno));
	reboot(RB_POWER_OFF);
	agent_send_error(conn, errno, "power off failed: %s", strerror(errno));
}

/* The version agreed with the host in HELLO. */
static uint16_t version;

static int hello(int conn, uint8_t *rx, size_t *rx_len)
{
	uint8_t p[4];
	if (agent_send(conn, PROTO_HELLO, p, proto_put_hello(p, PROTO_VERSION_MIN, PROTO_VERSION)))
		return -1;
	struct proto_header h;
	const uint8_t *payload;
	long size = recv_frame(conn, rx, rx_len, &h, &payload);
	uint16_t lo, hi;
	if (size <= 0 || h.type != PROTO_HELLO || proto_get_hello(payload, h.length, &lo, &hi)) {
		agent_send_error(conn, EPROTO, "expected HELLO first");
		return -1;
	}
	consume(rx, rx_len, (size_t)size);
	version = proto_agree_version(PROTO_VERSION_MIN, PROTO_VERSION, lo, hi);
	if (!version) {
		agent_send_error(conn, EPROTONOSUPPORT, "no common protocol version: agent speaks"
				 " %u..%u, host %u..%u", PROTO_VERSION_MIN, PROTO_VERSION, lo, hi);
		return -1;
	}
	return 0;
}

/* CALL: the bundle arrives in CALL_DATA frames adding up to exactly the
 * announced size, which is bounded before anything is allocated. */
static int call(int conn, const uint8_t *payload, uint32_t length, uint8_t *rx, size_t *rx_len)
{
	uint64_t size;
	if (version < PROTO_VERSION_CALL || proto_get_u64(payload, length, &size) ||
	    size > PROTO_CALL_MAX) {
		agent_send_error(conn, EPROTO, "malformed CALL frame");
		return -1;
	}
	uint8_t *bundle = malloc(size ? size : 1);
	uint64_t got = 0;
	if (!bundle) {
		agent_send_error(conn, ENOMEM, "no memory for a %llu-byte CALL", (unsigned long long)size);
		return -1;
	}
	while (got < size) {
		struct proto_header h;
		const uint8_t *p;
		long fsize = recv_frame(conn, rx, rx_len, &h, &p);
		if (fsize <= 0 || h.type != PROTO_CALL_DATA || h.length > size - got) {
			free(bundle);
			if (fsize > 0)
				agent_send_error(conn, EPROTO, "expected CALL_DATA (%llu more bytes)",
						 (unsigned long long)(size - got));
			return -1;
		}
		memcpy(bundle + got, p, h.length);
		got += h.length;
		consume(rx, rx_len, (size_t)fsize);
	}
	int rc = agent_setup_error ?
		agent_send_error(conn, EIO, "guest setup failed: %s", agent_setup_error) :
		agent_run_call(conn, bundle, (size_t)size);
	free(bundle);
	return rc;
}

/* Handles a request frame; 0 to go on, -1 to close the connection. */
static int request(int conn, const struct proto_header *h, const uint8_t *payload,
		   uint8_t *rx, size_t *rx_len, size_t size)
{
	if (h->type == PROTO_COPY_OUT) {
		char path[4096];
		if (h->length == 0 || h->length >= sizeof(path) || memchr(payload, 0, h->length)) {
			agent_send_error(conn, EINVAL, "bad COPY_OUT path");
			return -1;
		}
		memcpy(path, payload, h->length);
		path[h->length] = '\0';
		consume(rx, rx_len, size);
		return copy_out(conn, path) ? -1 : 0;
	}
	if (h->type == PROTO_STDIN || h->type == PROTO_STDIN_EOF || h->type == PROTO_WINCH ||
	    h->type == PROTO_SIGNAL) {
		/* Meant for a command that has ended meanwhile: the host sends
		 * these without waiting, so they can cross its EXIT. */
		consume(rx, rx_len, size);
		return 0;
	}
	if (h->type == PROTO_SHUTDOWN) {
		shutdown_vm(conn);
		return -1;
	}
	if (h->type == PROTO_CALL) {
		uint8_t p8[8];
		uint32_t length = h->length;
		if (length > sizeof(p8)) {
			agent_send_error(conn, EPROTO, "malformed CALL frame");
			return -1;
		}
		memcpy(p8, payload, length);   /* rx is reused for the data frames */
		consume(rx, rx_len, size);
		return call(conn, p8, length, rx, rx_len);
	}
	if (h->type != PROTO_EXEC) {
		agent_send_error(conn, EPROTO, "unexpected %s frame", proto_type_name(h->type));
		return -1;
	}
	struct proto_exec e;
	/* The EXEC payload is copied out of rx, which the exec loop reuses. */
	uint8_t *copy = malloc(h->length ? h->length : 1);
	if (!copy || proto_decode_exec(memcpy(copy, payload, h->length), h->length, &e)) {
		free(copy);
		agent_send_error(conn, EPROTO, "malformed EXEC frame");
		return -1;
	}
	consume(rx, rx_len, size);
	int rc = agent_setup_error ?
		agent_send_error(conn, EIO, "guest setup failed: %s", agent_setup_error) :
		agent_run_exec(conn, &e, rx, rx_len);
	proto_exec_free(&e);
	free(copy);
	return rc;
}

void agent_serve(int conn)
{
	uint8_t *rx = malloc(AGENT_RX_SIZE);
	size_t rx_len = 0;
	if (!rx || hello(conn, rx, &rx_len))
		goto out;
	for (;;) {
		struct proto_header h;
		const uint8_t *payload;
		long size = recv_frame(conn, rx, &rx_len, &h, &payload);
		if (size <= 0 || request(conn, &h, payload, rx, &rx_len, (size_t)size))
			break;
	}
out:
	free(rx);
	close(conn);
}
