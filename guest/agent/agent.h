/*
 * agent.h - arcvm-init's parts: PID 1 setup (init.c) and the per-connection
 * protocol server (session.c, exec.c). The wire format is in proto.h.
 */
#ifndef GUEST_AGENT_AGENT_H
#define GUEST_AGENT_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* Prints "arcvm-init: MESSAGE" on the console (the agent's stderr). */
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Set by init.c when a share or module failed during setup; an EXEC is then
 * refused with this message so the host learns why. NULL when all is well. */
extern const char *agent_setup_error;

/* Serves one host connection until it closes (session.c). Runs in its own
 * process, forked by PID 1; never returns on SHUTDOWN (the VM powers off). */
void agent_serve(int conn);

/* Sends one frame; a blocking write of header and payload. 0 or -errno. */
int agent_send(int conn, uint8_t type, const void *payload, size_t len);
/* Sends PROTO_ERROR with errno value `err` and a formatted message. */
int agent_send_error(int conn, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Runs one decoded EXEC to its end, streaming over `conn` (exec.c). `rx`
 * holds `*rx_len` bytes already received after the EXEC frame; the function
 * consumes frames from it and from conn. Returns 0 when EXIT (or an ERROR
 * explaining why nothing ran) was sent, -1 when the connection is unusable. */
int agent_run_exec(int conn, const struct proto_exec *e, uint8_t *rx, size_t *rx_len);

/* Runs one CALL bundle (call.c) and sends its result, CALL_FAIL or ERROR.
 * 0 when the answer was sent, -1 when the connection is unusable. */
int agent_run_call(int conn, const uint8_t *bundle, size_t len);

/* shm.c: `arcvm-shm` (arcvm-init called by that name); returns its exit
 * status. shm_find reads arcvm.shm=SIZE@GPA from /proc/cmdline (0, or -1
 * when absent or malformed); shm_map maps [gpa, gpa+size) from /dev/mem
 * (NULL with a message on stderr and errno set). shm_bell sends one doorbell
 * request, 'R' (ring) or 'W' (wait at most secs seconds, -1: no bound):
 * 0 done, 124 the wait timed out, 1 failed (why in err). */
int shm_main(int argc, char **argv);
int shm_find(uint64_t *size, uint64_t *gpa);
void *shm_map(uint64_t gpa, uint64_t size);
int shm_bell(char cmd, int secs, char *err, size_t errlen);

/* call_shm.c: adds the shm.* natives a CALL's function gets
 * (docs/shared-memory.md) to vm; ion_vm_register_natives' code. */
struct ion_vm;
int call_shm_register(struct ion_vm *vm);

#define AGENT_RX_SIZE (PROTO_HEADER_SIZE + PROTO_MAX_PAYLOAD)

#endif
