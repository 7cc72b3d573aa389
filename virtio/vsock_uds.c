/*
 * vsock_uds.c - Unix socket helpers for the vsock host side. See vsock_uds.h.
 */
#include "virtio/vsock_uds.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/err.h"
#include "virtio/vsock_conn.h"

static int make_addr(const char *path, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -1;
	strcpy(a->sun_path, path);
	return 0;
}

static int new_socket(void)
{
	return socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

/* True when a socket file exists at a and nobody accepts connections there. */
static bool stale_socket(const struct sockaddr_un *a)
{
	struct stat st;
	if (lstat(a->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool stale = connect(fd, (const struct sockaddr *)a, sizeof(*a)) < 0 &&
		     errno == ECONNREFUSED;
	close(fd);
	return stale;
}

int vsock_uds_listen(const char *path, int *out, struct arcvm_error *err)
{
	struct sockaddr_un a;
	if (make_addr(path, &a) < 0)
		return err_set(err, ARCVM_E_INVALID, "vsock: socket path too long: %s", path);
	int fd = new_socket();
	if (fd < 0)
		return err_errno(err, ARCVM_E_IO, errno, "vsock: socket");
	int rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
	if (rc < 0 && errno == EADDRINUSE && stale_socket(&a) && unlink(path) == 0)
		rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
	if (rc < 0) {
		int e = errno;
		close(fd);
		if (e == EADDRINUSE)
			return err_set(err, ARCVM_E_BUSY, "vsock: %s is in use", path);
		return err_errno(err, ARCVM_E_IO, e, "vsock: bind %s", path);
	}
	if (listen(fd, 64) < 0) {
		int e = errno;
		close(fd);
		unlink(path);
		return err_errno(err, ARCVM_E_IO, e, "vsock: listen on %s", path);
	}
	*out = fd;
	return 0;
}

int vsock_uds_connect_port(const char *path, uint32_t port)
{
	char p[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];
	struct sockaddr_un a;
	if (snprintf(p, sizeof(p), "%s_%u", path, port) >= (int)sizeof(p) || make_addr(p, &a) < 0)
		return -1;
	int fd = new_socket();
	if (fd < 0)
		return -1;
	/* A Unix stream connect completes at once or fails (EAGAIN: the
	 * listener's backlog is full, treated as nobody listening). */
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int vsock_uds_parse_connect(const char *line, size_t len, uint32_t *port)
{
	static const char kw[] = "CONNECT ";
	size_t k = sizeof(kw) - 1;
	if (len < k + 2 || memcmp(line, kw, k) != 0 || line[len - 1] != '\n')
		return -1;
	size_t ndig = len - k - 1;
	if (ndig > 10)
		return -1;
	uint64_t v = 0;
	for (size_t i = k; i < len - 1; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(line[i] - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*port = (uint32_t)v;
	return 0;
}

int vsock_uds_read_connect(int fd, char *line, unsigned *len, uint32_t *port)
{
	for (;;) {
		char peek[VSOCK_LINE_MAX];
		size_t room = VSOCK_LINE_MAX - *len;
		ssize_t n = recv(fd, peek, room, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		char *nl = memchr(peek, '\n', (size_t)n);
		size_t take = nl ? (size_t)(nl - peek) + 1 : (size_t)n;
		if (recv(fd, line + *len, take, MSG_DONTWAIT) != (ssize_t)take)
			return -1;
		*len += (unsigned)take;
		if (nl)
			return vsock_uds_parse_connect(line, *len, port) == 0 ? 1 : -1;
		if (*len == VSOCK_LINE_MAX)
			return -1;
	}
}

int vsock_uds_send_ok(int fd, uint32_t port)
{
	char msg[24];
	int n = snprintf(msg, sizeof(msg), "OK %u\n", port);
	return send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) == n ? 0 : -1;
}

int vsock_uds_dial(const char *path, uint32_t port, int reply_ms)
{
	struct sockaddr_un a;
	char line[64];
	int n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || make_addr(path, &a) || connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    send(fd, line, (size_t)n, MSG_NOSIGNAL) != n)
		goto fail;
	/* Byte by byte: what follows the OK line is already the guest's. */
	for (size_t i = 0; i < sizeof(line) - 1; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, reply_ms) != 1 || read(fd, &line[i], 1) != 1)
			goto fail;
		if (line[i] == '\n') {
			if (strncmp(line, "OK ", 3))
				goto fail;
			return fd;
		}
	}
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}
