/*
 * routes.h - the API's routing table: Firecracker's paths and methods, each
 * turned into a call on the VM controller. Unknown paths are 404, a known
 * path with another method 405; every refused request is 400 with
 * {"fault_message": "..."} naming the problem, as Firecracker answers.
 */
#ifndef API_ROUTES_H
#define API_ROUTES_H

#include "api/http.h"
#include "api/vmctl.h"

/* The Firecracker API version arcvm follows (GET /version) and arcvm's own. */
#define API_FC_VERSION "1.7.0"
#define API_VMM_VERSION "0.1.0"

struct api_reply {
	int status;
	char *body;                /* JSON (malloc), or NULL for none */
};

/* Runs one request against the controller and fills the reply. */
void api_route(struct vmctl *c, const struct api_request *req, struct api_reply *out);

/* A 400 reply carrying msg as the fault message. */
void api_reply_fault(struct api_reply *out, int status, const char *msg);

#endif
