/* client.c - one request on the API socket (see client.h). */
#include "api/client.h"

#include <errno.h>
#include <http_parser.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/http.h"
#include "util/err.h"

struct reader {
	struct api_response *out;
	size_t len;
	bool done, too_big;
};

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct reader *r = p->data;
	if (len > API_HTTP_MAX_BODY - r->len) {
		r->too_big = true;
		return -1;
	}
	if (!r->out->body && !(r->out->body = malloc(API_HTTP_MAX_BODY + 1)))
		return -1;
	memcpy(r->out->body + r->len, at, len);
	r->len += len;
	r->out->body[r->len] = '\0';
	return 0;
}

static int on_complete(http_parser *p)
{
	struct reader *r = p->data;
	r->done = true;
	r->out->status = (int)p->status_code;
	return 0;
}

static const http_parser_settings settings = {
	.on_body = on_body, .on_message_complete = on_complete,
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_to(const char *socket_path, struct arcvm_error *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(socket_path) >= sizeof(a.sun_path))
		return err_set(err, ARCVM_E_INVALID, "socket path %s is too long", socket_path);
	strcpy(a.sun_path, socket_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_errno(err, ARCVM_E_IO, errno, "socket failed");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return err_errno(err, err_from_errno(e), e, "cannot connect to the API socket %s",
				 socket_path);
	}
	return fd;
}

static int send_request(int fd, const char *method, const char *path, const char *json,
			struct arcvm_error *err)
{
	char *req;
	size_t blen = json ? strlen(json) : 0;
	int n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
			 "%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s", method, path,
			 json ? "Content-Type: application/json\r\n" : "", blen, json ? json : "");
	if (n < 0)
		return err_set(err, ARCVM_E_NOMEM, "out of memory");
	ssize_t off = 0;
	while (off < n) {
		ssize_t w = send(fd, req + off, (size_t)(n - off), MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;
			free(req);
			return err_errno(err, ARCVM_E_IO, e, "cannot send %s %s", method, path);
		}
		off += w;
	}
	free(req);
	return 0;
}

static int read_response(int fd, int timeout_ms, struct api_response *out, struct arcvm_error *err)
{
	http_parser p;
	struct reader r = { .out = out };
	http_parser_init(&p, HTTP_RESPONSE);
	p.data = &r;
	long long deadline = now_ms() + timeout_ms;
	char buf[4096];
	while (!r.done) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return err_set(err, ARCVM_E_BUSY, "no response from the API within %d ms",
				       timeout_ms);
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_errno(err, ARCVM_E_IO, errno, "cannot read the API's response");
		size_t used = http_parser_execute(&p, &settings, buf, (size_t)n);
		if (!r.done && (n == 0 || used != (size_t)n))
			return err_set(err, ARCVM_E_FORMAT, "malformed or truncated response from the"
				       " API%s", r.too_big ? " (body over 64 KiB)" : "");
	}
	return 0;
}

int api_client_request(const char *socket_path, const char *method, const char *path,
		       const char *json, int timeout_ms, struct api_response *out,
		       struct arcvm_error *err)
{
	memset(out, 0, sizeof(*out));
	int fd = connect_to(socket_path, err);
	if (fd < 0)
		return fd;
	int rc = send_request(fd, method, path, json, err);
	if (!rc)
		rc = read_response(fd, timeout_ms, out, err);
	close(fd);
	if (rc)
		api_response_free(out);
	return rc;
}

void api_response_free(struct api_response *r)
{
	free(r->body);
	r->body = NULL;
}
