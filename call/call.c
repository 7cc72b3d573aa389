/*
 * call.c - arcvm_call(): an IonVM function run by the guest agent of a
 * running VM (docs/api.md, docs/exec-protocol.md "CALL").
 *
 * The caller's thread does everything, blocking with a deadline: connect to
 * the VM's vsock Unix socket ("CONNECT 1024", retried until the agent
 * listens), HELLO, CALL with the bundle (call/bundle.c), then the answer.
 * The guest is hostile: every frame goes through the protocol's validating
 * decoders, the result is bounded by PROTO_CALL_MAX, and a guest that
 * stops answering runs into the deadline.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "arcvm.h"
#include "call/bundle.h"
#include "guest/agent/proto.h"
#include "util/err.h"
#include "virtio/vsock_uds.h"

#define RETRY_MS 50

struct conn {
	int fd;
	int64_t deadline;   /* CLOCK_MONOTONIC ms */
	uint8_t *rx;        /* PROTO_HEADER_SIZE + PROTO_MAX_PAYLOAD */
	size_t rx_len;
	struct arcvm_vm *vm;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for `events` until the deadline: 0, or
 * ARCVM_E_BUSY when the deadline passed. */
static int wait_fd(struct conn *c, short events, struct arcvm_error *err)
{
	for (;;) {
		int64_t left = c->deadline - now_ms();
		if (left <= 0)
			return err_set(err, ARCVM_E_BUSY, "the call did not finish in time");
		struct pollfd p = { .fd = c->fd, .events = events };
		int n = poll(&p, 1, (int)(left < 1000 ? left : 1000));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return err_errno(err, ARCVM_E_IO, errno, "poll");
		if (arcvm_vm_state(c->vm) != ARCVM_STATE_RUNNING)
			return err_set(err, ARCVM_E_BAD_STATE, "the VM stopped during the call");
	}
}

static int send_all(struct conn *c, const void *buf, size_t len, struct arcvm_error *err)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int rc = wait_fd(c, POLLOUT, err);
			if (rc)
				return rc;
			continue;
		}
		if (n <= 0)
			return err_errno(err, ARCVM_E_IO, n ? errno : EPIPE, "sending to the guest agent");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_frame(struct conn *c, uint8_t type, const void *payload, size_t len,
		      struct arcvm_error *err)
{
	uint8_t hdr[PROTO_HEADER_SIZE];
	if (proto_put_header(hdr, type, (uint32_t)len))
		return err_set(err, ARCVM_E_INVALID, "frame too large");
	int rc = send_all(c, hdr, sizeof(hdr), err);
	return rc || !len ? rc : send_all(c, payload, len, err);
}

/* The next whole frame in c->rx (its size), reading as needed. */
static long recv_frame(struct conn *c, struct proto_header *h, const uint8_t **p,
		       struct arcvm_error *err)
{
	for (;;) {
		long size = proto_next_frame(c->rx, c->rx_len, h, p);
		if (size < 0)
			return err_set(err, ARCVM_E_FORMAT, "malformed frame from the guest agent");
		if (size)
			return size;
		int rc = wait_fd(c, POLLIN, err);
		if (rc)
			return rc;
		ssize_t n = recv(c->fd, c->rx + c->rx_len, PROTO_HEADER_SIZE + PROTO_MAX_PAYLOAD -
				 c->rx_len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return err_set(err, ARCVM_E_IO, "the guest agent closed the connection");
		c->rx_len += (size_t)n;
	}
}

static void consume(struct conn *c, long size)
{
	memmove(c->rx, c->rx + size, c->rx_len - (size_t)size);
	c->rx_len -= (size_t)size;
}

static int connect_agent(struct conn *c, const char *uds, struct arcvm_error *err)
{
	while ((c->fd = vsock_uds_dial(uds, PROTO_PORT, VSOCK_UDS_REPLY_MS)) < 0) {
		if (arcvm_vm_state(c->vm) != ARCVM_STATE_RUNNING)
			return err_set(err, ARCVM_E_BAD_STATE, "the VM stopped before its agent answered");
		if (now_ms() >= c->deadline)
			return err_set(err, ARCVM_E_BUSY, "the guest agent did not answer on vsock port"
				       " %u in time", PROTO_PORT);
		usleep(RETRY_MS * 1000);
	}
	uint8_t p4[4];
	struct proto_header h;
	const uint8_t *p;
	uint16_t lo, hi;
	int rc = send_frame(c, PROTO_HELLO, p4, proto_put_hello(p4, PROTO_VERSION_MIN,
								PROTO_VERSION), err);
	long size = rc ? rc : recv_frame(c, &h, &p, err);
	if (size < 0)
		return (int)size;
	if (h.type != PROTO_HELLO || proto_get_hello(p, h.length, &lo, &hi))
		return err_set(err, ARCVM_E_FORMAT, "the guest agent did not start with HELLO");
	consume(c, size);
	if (proto_agree_version(PROTO_VERSION_MIN, PROTO_VERSION, lo, hi) < PROTO_VERSION_CALL)
		return err_set(err, ARCVM_E_UNSUPPORTED, "the guest agent speaks protocol versions"
			       " %u..%u, CALL needs %u", lo, hi, PROTO_VERSION_CALL);
	return 0;
}

static int send_bundle(struct conn *c, const uint8_t *b, size_t len, struct arcvm_error *err)
{
	uint8_t p8[8];
	int rc = send_frame(c, PROTO_CALL, p8, proto_put_u64(p8, len), err);
	for (size_t off = 0; !rc && off < len; off += PROTO_DATA_CHUNK) {
		size_t n = len - off < PROTO_DATA_CHUNK ? len - off : PROTO_DATA_CHUNK;
		rc = send_frame(c, PROTO_CALL_DATA, b + off, n, err);
	}
	return rc;
}

static int append(struct arcvm_call_result *res, size_t *cap, const uint8_t *p, size_t n,
		  struct arcvm_error *err)
{
	if (n > PROTO_CALL_MAX - res->value_len)
		return err_set(err, ARCVM_E_FORMAT, "the guest's result exceeds %u MiB",
			       PROTO_CALL_MAX >> 20);
	if (res->value_len + n > *cap) {
		size_t c = *cap ? *cap : 64 << 10;
		while (c < res->value_len + n)
			c *= 2;
		uint8_t *v = realloc(res->value, c);
		if (!v)
			return err_set(err, ARCVM_E_NOMEM, "out of memory for the result");
		res->value = v;
		*cap = c;
	}
	memcpy(res->value + res->value_len, p, n);
	res->value_len += n;
	return 0;
}

/* One frame of the answer: 1 when it ended the call, 0 to go on, <0. */
static int answer_frame(struct conn *c, const struct proto_header *h, const uint8_t *p,
			struct arcvm_call_result *res, size_t *cap, struct arcvm_error *err)
{
	uint64_t total;
	uint32_t code;
	char msg[512];
	const struct arcvm_config *cfg = arcvm_vm_config(c->vm);
	switch (h->type) {
	case PROTO_STDOUT:
	case PROTO_STDERR:
		if (cfg->log && h->length) {
			snprintf(msg, sizeof(msg), "guest %s: %.*s", h->type == PROTO_STDOUT ? "stdout" :
				 "stderr", (int)(h->length > 400 ? 400 : h->length), (const char *)p);
			cfg->log(cfg->log_opaque, ARCVM_LOG_INFO, msg);
		}
		return 0;
	case PROTO_FILE_DATA:
		return append(res, cap, p, h->length, err);
	case PROTO_FILE_END:
		if (proto_get_u64(p, h->length, &total) || total != res->value_len)
			return err_set(err, ARCVM_E_FORMAT, "the guest announced another result size");
		return 1;
	case PROTO_CALL_FAIL:
		if (h->length < 4 || memchr(p + 4, 0, h->length - 4) ||
		    !(res->message = strndup((const char *)p + 4, h->length - 4)))
			return err_set(err, ARCVM_E_FORMAT, "malformed CALL_FAIL from the guest agent");
		proto_get_u32(p, 4, &code);
		res->guest_error = code >= 1 && code <= 3 ? (int)code : ARCVM_CALL_REFUSED;
		return 1;
	case PROTO_ERROR:
		if (proto_get_error(p, h->length, &code, msg, sizeof(msg)))
			snprintf(msg, sizeof(msg), "(malformed ERROR frame)");
		return err_set(err, ARCVM_E_IO, "guest agent: %s", msg);
	default:
		return err_set(err, ARCVM_E_FORMAT, "unexpected %s frame from the guest agent",
			       proto_type_name(h->type));
	}
}

static int run(struct conn *c, const char *uds, const uint8_t *bundle, size_t len,
	       struct arcvm_call_result *res, struct arcvm_error *err)
{
	int rc = connect_agent(c, uds, err);
	if (!rc)
		rc = send_bundle(c, bundle, len, err);
	size_t cap = 0;
	while (!rc) {
		struct proto_header h;
		const uint8_t *p;
		long size = recv_frame(c, &h, &p, err);
		if (size < 0)
			return (int)size;
		rc = answer_frame(c, &h, p, res, &cap, err);
		consume(c, size);
	}
	if (rc == 1) {
		/* The agent serves SHUTDOWN too, but the VM is the caller's. */
		return 0;
	}
	return rc;
}

int arcvm_call(struct arcvm_vm *vm, const char *pack_path, const void *args, size_t args_len,
	       int timeout_ms, struct arcvm_call_result *res, struct arcvm_error *err)
{
	memset(res, 0, sizeof(*res));
	if (!vm || !pack_path || (!args && args_len) || timeout_ms == 0 || timeout_ms < -1)
		return err_set(err, ARCVM_E_INVALID, "arcvm_call: bad argument");
	const char *uds = arcvm_vm_config(vm)->vsock_uds_path;
	if (!uds)
		return err_set(err, ARCVM_E_INVALID, "arcvm_call: the VM has no vsock (vsock_uds_path)");
	if (arcvm_vm_state(vm) != ARCVM_STATE_RUNNING)
		return err_set(err, ARCVM_E_BAD_STATE, "arcvm_call: the VM is not running");
	uint8_t *bundle;
	size_t len;
	int rc = call_bundle_from_pack(pack_path, args ? args : "", args_len, &bundle, &len, err);
	if (rc)
		return rc;
	struct conn c = { .fd = -1, .vm = vm,
			  .deadline = timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms,
			  .rx = malloc(PROTO_HEADER_SIZE + PROTO_MAX_PAYLOAD) };
	rc = c.rx ? run(&c, uds, bundle, len, res, err) :
		    err_set(err, ARCVM_E_NOMEM, "out of memory");
	if (c.fd >= 0)
		close(c.fd);
	free(c.rx);
	free(bundle);
	if (rc)
		arcvm_call_result_free(res);
	return rc;
}

void arcvm_call_result_free(struct arcvm_call_result *res)
{
	free(res->value);
	free(res->message);
	memset(res, 0, sizeof(*res));
}
