/*
 * client.h - a minimal client of the API socket, for arcvm's own commands
 * (`arcvm snapshot create`): one request per connection, the response read
 * with http_parser within the same bounds the server keeps.
 */
#ifndef API_CLIENT_H
#define API_CLIENT_H

#include "arcvm.h"

struct api_response {
	int status;
	char *body;                /* NUL-terminated, or NULL */
};

/* Sends METHOD PATH with `json` (or NULL) and waits at most timeout_ms for
 * the whole response. Fails with ARCVM_E_IO / ARCVM_E_NOT_FOUND when the
 * socket cannot be reached, ARCVM_E_FORMAT for a malformed response,
 * ARCVM_E_BUSY on timeout. */
int api_client_request(const char *socket_path, const char *method, const char *path,
		       const char *json, int timeout_ms, struct api_response *out,
		       struct arcvm_error *err);
void api_response_free(struct api_response *r);

#endif
