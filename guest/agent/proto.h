/*
 * proto.h - the arcvm exec protocol between the host (`arcvm exec`) and the
 * guest agent (arcvm-init), over one vsock stream. The specification is
 * docs/exec-protocol.md; this header is the only code both sides share.
 *
 * A frame is an 8-byte header followed by `length` payload bytes:
 *
 *   offset 0  u16 magic   PROTO_MAGIC ("AX" on the wire: 0x41 0x58)
 *   offset 2  u8  type    enum proto_type
 *   offset 3  u8  flags   0 (reserved; a receiver rejects other values)
 *   offset 4  u32 length  payload bytes, <= PROTO_MAX_PAYLOAD
 *
 * Every integer is little-endian. The decoders below never trust a length:
 * each one checks that the payload holds exactly what the type says.
 */
#ifndef GUEST_AGENT_PROTO_H
#define GUEST_AGENT_PROTO_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_MAGIC 0x5841u          /* bytes 'A' 'X' */
#define PROTO_VERSION 2u             /* the newest version this code speaks */
#define PROTO_VERSION_MIN 1u         /* the oldest (1: no CALL) */
#define PROTO_VERSION_CALL 2u        /* CALL needs at least this version */
#define PROTO_HEADER_SIZE 8u
#define PROTO_MAX_PAYLOAD (1u << 20) /* 1 MiB: bounds every buffer on both sides */
#define PROTO_DATA_CHUNK (32u << 10) /* data frames are sent in pieces of at most this */
#define PROTO_MAX_ARGS 4096u         /* argv and env entries each */
#define PROTO_PORT 1024u             /* the agent's vsock port */
#define PROTO_CALL_MAX (256u << 20)  /* bytes of a CALL bundle, and of its encoded result */
#define PROTO_CALL_CLASSES 4096u     /* classes in a CALL bundle (a pack's entry bound) */
#define PROTO_CALL_NAME 255u         /* bytes of a class or function name */

enum proto_type {
	PROTO_HELLO = 1,     /* both ways, first frame: u16 min, u16 max version */
	PROTO_EXEC = 2,      /* host: run a command (struct proto_exec) */
	PROTO_STDIN = 3,     /* host: bytes for the command's stdin */
	PROTO_STDIN_EOF = 4, /* host: no more stdin (empty) */
	PROTO_STDOUT = 5,    /* guest: bytes the command wrote to stdout (or the pty) */
	PROTO_STDERR = 6,    /* guest: bytes the command wrote to stderr */
	PROTO_WINCH = 7,     /* host: u16 rows, u16 cols */
	PROTO_SIGNAL = 8,    /* host: u32 signal number, sent to the command's process group */
	PROTO_EXIT = 9,      /* guest: u8 kind, 3 zero bytes, u32 code */
	PROTO_COPY_OUT = 10, /* host: a guest path; answered by FILE_DATA* then FILE_END or ERROR */
	PROTO_FILE_DATA = 11,/* guest: the next bytes of the file */
	PROTO_FILE_END = 12, /* guest: u64 total size; the file is complete */
	PROTO_ERROR = 13,    /* either: u32 errno value, then a UTF-8 message */
	PROTO_SHUTDOWN = 14, /* host: sync and power the VM off (empty) */
	PROTO_CALL = 15,     /* host (v2): u64 bundle size; CALL_DATA frames carry the bundle */
	PROTO_CALL_DATA = 16,/* host (v2): the next bytes of the CALL bundle */
	PROTO_CALL_FAIL = 17,/* guest (v2): u32 reason, then a UTF-8 message (and stack trace) */
	PROTO_TYPE_MAX = PROTO_CALL_FAIL,
};

enum proto_exit_kind {
	PROTO_EXITED = 0,    /* code is the exit status 0..255 */
	PROTO_SIGNALED = 1,  /* code is the signal number that killed it */
};

#define PROTO_EXEC_TTY 0x1u  /* run on a pty (stderr is merged into STDOUT) */
#define PROTO_EXEC_USER 0x2u /* uid/gid are set; otherwise the agent's (root) */

/* Decoded PROTO_EXEC. Pointers point into the frame's payload buffer; every
 * string is NUL-terminated there (the decoder checks the terminator). */
struct proto_exec {
	uint32_t flags;      /* PROTO_EXEC_* */
	uint32_t uid, gid;
	uint16_t rows, cols; /* pty window size; 0 when not a tty */
	const char *workdir; /* "" = the agent's default ("/") */
	uint32_t argc;       /* >= 1 */
	uint32_t envc;
	const char **argv;   /* argc entries + NULL, allocated by the decoder */
	const char **env;    /* envc "K=V" entries + NULL, allocated by the decoder */
};

/* Why a CALL produced no result (PROTO_CALL_FAIL). */
enum proto_call_fail {
	PROTO_CALL_RAISED = 1,  /* the function ended with an uncaught error: message + trace */
	PROTO_CALL_REFUSED = 2, /* the classes did not load, the arguments did not fit, or the
	                         * result was not copyable (a function, a pid) */
	PROTO_CALL_STUCK = 3,   /* every process waits forever (a deadlock) */
};

/* A decoded CALL bundle (docs/exec-protocol.md): the classes of a pack, the
 * function to run and its encoded arguments. Pointers point into the
 * bundle; the two names are NUL-terminated copies. */
struct proto_call {
	char cls[PROTO_CALL_NAME + 1];
	char fn[PROTO_CALL_NAME + 1];
	uint32_t nclasses;
	const uint8_t **class_data; /* allocated by the decoder (proto_call_free) */
	uint32_t *class_len;
	const uint8_t *args;        /* encoded tuple or array (docs/ionvm-call.md) */
	uint32_t args_len;
};

struct proto_header {
	uint8_t type;
	uint8_t flags;
	uint32_t length;
};

/* Error returns of the functions below (negative errno values). */
#define PROTO_E_SHORT (-ENODATA) /* not enough bytes yet (a header: wait for more) */
#define PROTO_E_BAD (-EPROTO)    /* malformed: bad magic, type, flags, length or content */
#define PROTO_E_BIG (-EMSGSIZE)  /* the payload would exceed PROTO_MAX_PAYLOAD */

/* Writes a header into out[PROTO_HEADER_SIZE]. Fails with PROTO_E_BIG or
 * PROTO_E_BAD (unknown type); out is untouched then. */
int proto_put_header(uint8_t *out, uint8_t type, uint32_t length);

/* Reads a header from `len` bytes at `in`: PROTO_E_SHORT when len < 8,
 * PROTO_E_BAD on a bad magic, type or flags, PROTO_E_BIG on a length over the
 * bound. Only a 0 return fills *h. */
int proto_get_header(const uint8_t *in, size_t len, struct proto_header *h);

/* Finds the first frame in buf[0, len): returns its total size (header +
 * payload) and fills *h and *payload when the whole frame is there, 0 when
 * more bytes are needed, or a negative PROTO_E_* for a bad header (the
 * stream is then unusable: the receiver closes it). */
long proto_next_frame(const uint8_t *buf, size_t len, struct proto_header *h,
		      const uint8_t **payload);

/* Fixed-size payloads. Encoders write into `out` and return the payload
 * length; decoders check the exact length and return 0 or PROTO_E_BAD. */
size_t proto_put_hello(uint8_t out[4], uint16_t min_version, uint16_t max_version);
int proto_get_hello(const uint8_t *p, size_t len, uint16_t *min_version, uint16_t *max_version);
size_t proto_put_winch(uint8_t out[4], uint16_t rows, uint16_t cols);
int proto_get_winch(const uint8_t *p, size_t len, uint16_t *rows, uint16_t *cols);
size_t proto_put_u32(uint8_t out[4], uint32_t v);              /* SIGNAL */
int proto_get_u32(const uint8_t *p, size_t len, uint32_t *v);
size_t proto_put_exit(uint8_t out[8], uint8_t kind, uint32_t code);
int proto_get_exit(const uint8_t *p, size_t len, uint8_t *kind, uint32_t *code);
size_t proto_put_u64(uint8_t out[8], uint64_t v);              /* FILE_END */
int proto_get_u64(const uint8_t *p, size_t len, uint64_t *v);

/* The highest version both [min, max] ranges hold, or 0 when they do not meet. */
uint16_t proto_agree_version(uint16_t my_min, uint16_t my_max, uint16_t their_min,
			     uint16_t their_max);

/* ERROR payload: u32 errno, then the message bytes (no terminator on the
 * wire). The encoder truncates msg to fit `cap`; returns the length. */
size_t proto_put_error(uint8_t *out, size_t cap, uint32_t err, const char *msg);
/* Decodes into *err and msg[msg_cap] (NUL-terminated, truncated to fit;
 * NUL bytes in the message are refused). */
int proto_get_error(const uint8_t *p, size_t len, uint32_t *err, char *msg, size_t msg_cap);

/* EXEC payload. Encodes into a malloc'd buffer (*out, *out_len); fails with
 * PROTO_E_BIG when it would exceed PROTO_MAX_PAYLOAD, PROTO_E_BAD for an
 * empty argv, too many entries, or an env entry without '=', and -ENOMEM. */
int proto_encode_exec(const struct proto_exec *e, uint8_t **out, size_t *out_len);
/* Decodes in place: `p` must stay alive while *e is used, and the decoder
 * writes nothing into it. On success e->argv/e->env are malloc'd (free with
 * proto_exec_free). Fails with PROTO_E_BAD (and allocates nothing) on any
 * inconsistency: counts over PROTO_MAX_ARGS, a string running past the end or
 * lacking its NUL, a NUL inside a string, an empty argv[0], trailing bytes. */
int proto_decode_exec(const uint8_t *p, size_t len, struct proto_exec *e);
void proto_exec_free(struct proto_exec *e);

/* CALL bundle. The encoder fills a malloc'd buffer; PROTO_E_BIG past
 * PROTO_CALL_MAX, PROTO_E_BAD for empty or over-long names, no classes or
 * too many. The decoder checks every length against the end, the counts
 * against their bounds, names for NULs, and that nothing trails; it
 * allocates nothing on failure. */
int proto_encode_call(const struct proto_call *c, uint8_t **out, size_t *out_len);
int proto_decode_call(const uint8_t *p, size_t len, struct proto_call *c);
void proto_call_free(struct proto_call *c);

/* A name for a type ("EXEC"), or "?" - for messages. */
const char *proto_type_name(uint8_t type);

#endif
