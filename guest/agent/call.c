/*
 * call.c - CALL: run one IonVM function on a bundle of classes and
 * encoded arguments (docs/exec-protocol.md, "CALL"), and send back its
 * encoded result, or why there is none.
 *
 * The agent is static and Debian ships no static libzip, so the host opens
 * the IonPack and sends its class files; the guest decodes and verifies
 * every class again (libion's loader is built for hostile bytes) and runs
 * the function in this connection's own process. io.system, io.read_file
 * and io.write_file act on the guest, with the shares mounted by init.c;
 * what the function prints goes back as STDOUT/STDERR frames. The VM's
 * shared memory is reachable in place through shm.shared() (call_shm.c).
 */
#include "agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ion/include/ion.h"

#define CALL_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct call_out {
	int conn;
	int broken; /* a send failed: stop sending output */
};

/* io.print and friends: forwarded in frames of at most PROTO_DATA_CHUNK. */
static void call_write(void *opaque, enum ion_stream stream, const char *data, size_t len)
{
	struct call_out *o = opaque;
	uint8_t type = stream == ION_STDERR ? PROTO_STDERR : PROTO_STDOUT;
	while (len && !o->broken) {
		size_t n = len < PROTO_DATA_CHUNK ? len : PROTO_DATA_CHUNK;
		if (agent_send(o->conn, type, data, n))
			o->broken = 1;
		data += n;
		len -= n;
	}
}

static int send_fail(int conn, uint32_t reason, const char *msg)
{
	size_t len = strlen(msg);
	if (len > PROTO_MAX_PAYLOAD - 4)
		len = PROTO_MAX_PAYLOAD - 4;
	uint8_t *p = malloc(4 + len);
	if (!p)
		return -1;
	proto_put_u32(p, reason);
	memcpy(p + 4, msg, len);
	int rc = agent_send(conn, PROTO_CALL_FAIL, p, 4 + len);
	free(p);
	return rc ? -1 : 0;
}

static int send_result(int conn, const uint8_t *res, size_t len)
{
	for (size_t off = 0; off < len; off += PROTO_DATA_CHUNK) {
		size_t n = len - off < PROTO_DATA_CHUNK ? len - off : PROTO_DATA_CHUNK;
		if (agent_send(conn, PROTO_FILE_DATA, res + off, n))
			return -1;
	}
	uint8_t end[8];
	return agent_send(conn, PROTO_FILE_END, end, proto_put_u64(end, len)) ? -1 : 0;
}

static uint32_t reason_of(int code)
{
	if (code == ION_E_RUNTIME)
		return PROTO_CALL_RAISED;
	return code == ION_E_DEADLOCK ? PROTO_CALL_STUCK : PROTO_CALL_REFUSED;
}

/* Loads the classes and runs the call; the reply is already sent when it
 * returns 0, -1 means the connection is unusable. */
static int run(int conn, const struct proto_call *c)
{
	struct call_out out = { .conn = conn };
	struct ion_config cfg = { .write = call_write, .write_opaque = &out };
	struct ion_vm *vm = ion_vm_new(&cfg);
	if (!vm)
		return agent_send_error(conn, ENOMEM, "out of memory for the IonVM") ? -1 : 0;
	int rc = call_shm_register(vm);
	for (uint32_t i = 0; i < c->nclasses && !rc; i++)
		rc = ion_vm_load_class(vm, c->class_data[i], c->class_len[i]);
	if (!rc)
		rc = ion_vm_link(vm);
	uint8_t *res = NULL;
	size_t res_len = 0;
	if (!rc)
		rc = ion_vm_call_copy(vm, c->cls, c->fn, c->args, c->args_len, &res, &res_len);
	if (!rc && res_len > PROTO_CALL_MAX)
		rc = ION_E_INVALID;
	int sent;
	if (out.broken)
		sent = -1;
	else if (rc)
		sent = send_fail(conn, reason_of(rc), res_len > PROTO_CALL_MAX ?
				 "the result is larger than 256 MiB" : ion_vm_error(vm));
	else
		sent = send_result(conn, res, res_len);
	free(res);
	ion_vm_free(vm);
	return sent;
}

int agent_run_call(int conn, const uint8_t *bundle, size_t len)
{
	struct proto_call c;
	if (proto_decode_call(bundle, len, &c))
		return agent_send_error(conn, EPROTO, "malformed CALL bundle") ? -1 : 0;
	/* The function's commands (io.system) get the environment an EXEC
	 * gets by default; this process serves only this connection. */
	setenv("PATH", CALL_PATH, 1);
	setenv("HOME", "/root", 1);
	if (chdir("/"))
		agent_log("chdir /: %s", strerror(errno));
	int rc = run(conn, &c);
	proto_call_free(&c);
	return rc;
}
