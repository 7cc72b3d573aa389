/* http.c - bounded HTTP/1.1 request parsing and responses (see http.h). */
#include "api/http.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

static struct api_http *of(http_parser *p)
{
	return p->data;
}

/* Marks the request refused and stops the parser. */
static int refuse(struct api_http *h, const char *why)
{
	h->state = API_HTTP_ERROR;
	h->error = why;
	return -1;
}

static int on_message_begin(http_parser *p)
{
	of(p)->started = true;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct api_http *h = of(p);
	if (len > API_HTTP_MAX_URL - h->url_len)
		return refuse(h, "the request URL is longer than 1024 bytes");
	memcpy(h->req.url + h->url_len, at, len);
	h->url_len += len;
	h->req.url[h->url_len] = '\0';
	return 0;
}

static int count_header_bytes(struct api_http *h, size_t len)
{
	h->header_bytes += len;
	if (h->header_bytes > API_HTTP_MAX_HEADERS)
		return refuse(h, "the request headers are larger than 16 KiB");
	return 0;
}

/* A header name may arrive in pieces; only "Expect" matters here. */
static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct api_http *h = of(p);
	if (h->in_value) {
		h->in_value = false;
		h->field_len = 0;
	}
	if (len < sizeof(h->field) - h->field_len) {
		memcpy(h->field + h->field_len, at, len);
		h->field_len += len;
	} else {
		h->field_len = sizeof(h->field);   /* too long to be "Expect" */
	}
	return count_header_bytes(h, len);
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct api_http *h = of(p);
	if (!h->in_value) {
		h->in_value = true;
		h->field_is_expect = h->field_len == 6 && strncasecmp(h->field, "expect", 6) == 0;
	}
	/* The value is short; a match split across reads is missed (the client
	 * then sends its body after its own wait). */
	if (h->field_is_expect && memmem(at, len, "100-continue", 12))
		h->expect_continue = true;
	return count_header_bytes(h, len);
}

static int on_headers_complete(http_parser *p)
{
	struct api_http *h = of(p);
	/* ULLONG_MAX means no Content-Length (chunked, or no body). */
	if (p->content_length != ULLONG_MAX && p->content_length > API_HTTP_MAX_BODY)
		return refuse(h, "the request body is larger than the limit of 65536 bytes");
	switch (p->method) {
	case HTTP_GET: h->req.method = API_GET; break;
	case HTTP_PUT: h->req.method = API_PUT; break;
	case HTTP_PATCH: h->req.method = API_PATCH; break;
	default: h->req.method = API_OTHER_METHOD; break;
	}
	h->req.method_name = http_method_str((enum http_method)p->method);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct api_http *h = of(p);
	struct api_request *r = &h->req;
	if (len > API_HTTP_MAX_BODY - r->body_len)
		return refuse(h, "the request body is larger than the limit of 65536 bytes");
	if (!r->body) {
		r->body = malloc(API_HTTP_MAX_BODY + 1);
		if (!r->body)
			return refuse(h, "out of memory for the request body");
	}
	memcpy(r->body + r->body_len, at, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct api_http *h = of(p);
	h->state = API_HTTP_DONE;
	h->req.keep_alive = http_should_keep_alive(p);
	http_parser_pause(p, 1);   /* what follows is the next request's */
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

void api_http_init(struct api_http *h)
{
	memset(h, 0, sizeof(*h));
	http_parser_init(&h->parser, HTTP_REQUEST);
	h->parser.data = h;
}

void api_http_reset(struct api_http *h)
{
	free(h->req.body);
	memset(&h->req, 0, sizeof(h->req));
	h->url_len = h->header_bytes = 0;
	h->expect_continue = h->continue_sent = h->in_value = h->field_is_expect = false;
	h->field_len = 0;
	h->state = API_HTTP_MORE;
	h->error = NULL;
	h->started = false;
	/* A parser paused after a request goes on with the next; one that
	 * failed starts over (unpausing it would abort). */
	enum http_errno e = HTTP_PARSER_ERRNO(&h->parser);
	if (e == HPE_PAUSED) {
		http_parser_pause(&h->parser, 0);
	} else if (e != HPE_OK) {
		http_parser_init(&h->parser, HTTP_REQUEST);
		h->parser.data = h;
	}
}

size_t api_http_feed(struct api_http *h, const char *data, size_t len)
{
	if (h->state != API_HTTP_MORE)
		return 0;
	size_t used = http_parser_execute(&h->parser, &settings, data, len);
	enum http_errno e = HTTP_PARSER_ERRNO(&h->parser);
	if (h->state == API_HTTP_MORE && e != HPE_OK)
		refuse(h, http_errno_description(e));
	return used;
}

void api_http_eof(struct api_http *h)
{
	if (h->state == API_HTTP_MORE && h->started)
		refuse(h, "the connection closed in the middle of a request");
}

const char *api_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Unknown";
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends all of buf on a non-blocking socket before the deadline. */
static int send_all(int fd, const char *buf, size_t len, long long deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		long long left = deadline - now_ms();
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
	}
	return 0;
}

int api_http_respond(int fd, int status, const char *body, bool keep_alive, int timeout_ms)
{
	char head[256];
	size_t blen = body ? strlen(body) : 0;
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nServer: arcvm API\r\n%s"
			 "Content-Length: %zu\r\n%s\r\n", status, api_http_reason(status),
			 blen ? "Content-Type: application/json\r\n" : "", blen,
			 keep_alive ? "" : "Connection: close\r\n");
	long long deadline = now_ms() + timeout_ms;
	if (send_all(fd, head, (size_t)n, deadline))
		return -1;
	return blen ? send_all(fd, body, blen, deadline) : 0;
}

int api_http_continue(struct api_http *h, int fd, int timeout_ms)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	if (!h->expect_continue || h->continue_sent || h->state != API_HTTP_MORE || !h->req.method_name)
		return 0;
	h->continue_sent = true;
	return send_all(fd, cont, sizeof(cont) - 1, now_ms() + timeout_ms);
}
