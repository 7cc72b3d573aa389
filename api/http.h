/*
 * http.h - the HTTP/1.1 layer of the API server: incremental request parsing
 * with http_parser (Debian's libhttp-parser, MIT) within fixed bounds, and
 * writing a response. It knows nothing of routes or JSON.
 *
 * Bounds: the request line's URL at most API_HTTP_MAX_URL bytes, all headers
 * together at most API_HTTP_MAX_HEADERS bytes, the body at most
 * API_HTTP_MAX_BODY bytes (checked against Content-Length before any of it
 * is read, and again while a chunked body arrives).
 */
#ifndef API_HTTP_H
#define API_HTTP_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>

#define API_HTTP_MAX_URL     1024
#define API_HTTP_MAX_HEADERS (16u << 10)
#define API_HTTP_MAX_BODY    (64u << 10)

enum api_method { API_GET, API_PUT, API_PATCH, API_OTHER_METHOD };

struct api_request {
	enum api_method method;
	const char *method_name;
	char url[API_HTTP_MAX_URL + 1];
	char *body;                /* NUL-terminated; NULL when there was none */
	size_t body_len;
	bool keep_alive;
};

enum api_http_state {
	API_HTTP_MORE,             /* the request is not complete yet */
	API_HTTP_DONE,             /* h->req holds a whole request */
	API_HTTP_ERROR,            /* refuse: h->error names why; close afterwards */
};

struct api_http {
	http_parser parser;
	struct api_request req;
	size_t url_len;
	size_t header_bytes;
	enum api_http_state state;
	const char *error;         /* static text */
	bool started;              /* some byte of a request arrived */
	/* "Expect: 100-continue": the client waits for a 100 before its body
	 * (curl does for bodies over 1 KiB). The server sends it once. */
	bool expect_continue;
	bool continue_sent;
	char field[16];            /* the header name being read, if short */
	size_t field_len;
	bool in_value;
	bool field_is_expect;
};

void api_http_init(struct api_http *h);
/* Frees the body and readies h for the next request on the same
 * connection; a new connection needs api_http_init after it. */
void api_http_reset(struct api_http *h);

/* Feeds bytes; returns how many were used. Stops after a complete request
 * (the rest belongs to the next one) or at the first error. */
size_t api_http_feed(struct api_http *h, const char *data, size_t len);
/* Sends "HTTP/1.1 100 Continue" when the request in progress asked for it
 * and its headers are complete. Returns -1 when the peer is gone. */
int api_http_continue(struct api_http *h, int fd, int timeout_ms);

/* The peer closed its end: a request in progress becomes an error. */
void api_http_eof(struct api_http *h);

/* Writes a response with `body` (JSON, or NULL for none) to the socket,
 * waiting at most timeout_ms for a slow reader. Returns 0, or -1 when the
 * peer is gone or too slow (the caller closes the connection). */
int api_http_respond(int fd, int status, const char *body, bool keep_alive, int timeout_ms);

/* "OK", "No Content", "Bad Request", ... */
const char *api_http_reason(int status);

#endif
