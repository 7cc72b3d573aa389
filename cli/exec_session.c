/*
 * exec_session.c - the host side of the exec protocol (see exec_session.h).
 *
 * The stream is non-blocking and written through a queue, and the loop
 * always reads the agent's frames, so a command that writes a lot while the
 * host pushes stdin cannot deadlock the two sides; stdin is read only while
 * the queue is below TX_HIGH.
 */
#include "cli/exec_session.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define TX_HIGH (256u << 10)
#define ALIVE_EVERY_MS 200

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int exec_conn_init(struct exec_conn *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->rx = malloc(PROTO_HEADER_SIZE + PROTO_MAX_PAYLOAD);
	if (!c->rx)
		return -ENOMEM;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

void exec_conn_close(struct exec_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->rx);
	free(c->tx);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static int queue(struct exec_conn *c, uint8_t type, const void *payload, size_t len)
{
	size_t need = c->tx_len + PROTO_HEADER_SIZE + len;
	if (need > c->tx_cap) {
		size_t cap = c->tx_cap ? c->tx_cap : 64 << 10;
		while (cap < need)
			cap *= 2;
		uint8_t *tx = realloc(c->tx, cap);
		if (!tx)
			return -ENOMEM;
		c->tx = tx;
		c->tx_cap = cap;
	}
	int rc = proto_put_header(c->tx + c->tx_len, type, (uint32_t)len);
	if (rc)
		return rc;
	if (len)
		memcpy(c->tx + c->tx_len + PROTO_HEADER_SIZE, payload, len);
	c->tx_len = need;
	return 0;
}

/* Writes what the stream takes now; -1 when it is broken. */
static int flush_tx(struct exec_conn *c)
{
	while (c->tx_len) {
		ssize_t n = send(c->fd, c->tx, c->tx_len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		memmove(c->tx, c->tx + n, c->tx_len - (size_t)n);
		c->tx_len -= (size_t)n;
	}
	return 0;
}

/* Reads what is there; -1 at EOF or on an error. */
static int fill_rx(struct exec_conn *c)
{
	ssize_t n = read(c->fd, c->rx + c->rx_len, PROTO_HEADER_SIZE + PROTO_MAX_PAYLOAD - c->rx_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	c->rx_len += (size_t)n;
	return 0;
}

static void consume(struct exec_conn *c, size_t size)
{
	memmove(c->rx, c->rx + size, c->rx_len - size);
	c->rx_len -= size;
}

/* Waits up to timeout_ms for a whole frame (flushing our queue meanwhile):
 * its size, 0 on timeout, -1 when the stream broke or is malformed. */
static long wait_frame(struct exec_conn *c, int timeout_ms, struct proto_header *h,
		       const uint8_t **payload)
{
	int64_t end = now_ms() + timeout_ms;
	for (;;) {
		long size = proto_next_frame(c->rx, c->rx_len, h, payload);
		if (size)
			return size;
		int64_t left = end - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = c->fd, .events = POLLIN | (c->tx_len ? POLLOUT : 0) };
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -1;
		if ((p.revents & POLLOUT) && flush_tx(c))
			return -1;
		if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && fill_rx(c))
			return -1;
	}
}

/* The agent's ERROR frame as a message. */
static void agent_error(const struct proto_header *h, const uint8_t *p, char *err, size_t errlen)
{
	uint32_t code;
	char msg[1024];
	if (proto_get_error(p, h->length, &code, msg, sizeof(msg)))
		snprintf(msg, sizeof(msg), "(malformed ERROR frame)");
	set_err(err, errlen, "guest: %s", msg);
}

int exec_session_hello(struct exec_conn *c, int timeout_ms, char *err, size_t errlen)
{
	uint8_t p4[4];
	struct proto_header h;
	const uint8_t *p;
	uint16_t lo, hi;
	if (queue(c, PROTO_HELLO, p4, proto_put_hello(p4, PROTO_VERSION_MIN, PROTO_VERSION))) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	long size = wait_frame(c, timeout_ms, &h, &p);
	if (size <= 0) {
		set_err(err, errlen, size ? "the guest agent closed the connection or sent garbage"
			   : "no HELLO from the guest agent within %d ms", timeout_ms);
		return -1;
	}
	if (h.type == PROTO_ERROR) {
		agent_error(&h, p, err, errlen);
		return -1;
	}
	if (h.type != PROTO_HELLO || proto_get_hello(p, h.length, &lo, &hi)) {
		set_err(err, errlen, "the guest agent did not start with HELLO (got %s)",
		     proto_type_name(h.type));
		return -1;
	}
	consume(c, (size_t)size);
	c->version = proto_agree_version(PROTO_VERSION_MIN, PROTO_VERSION, lo, hi);
	if (!c->version) {
		set_err(err, errlen, "the guest agent speaks protocol versions %u..%u, arcvm speaks"
			" %u..%u", lo, hi, PROTO_VERSION_MIN, PROTO_VERSION);
		return -1;
	}
	return 0;
}

/* Writes all of buf; false once the reader is gone (then the stream's
 * further output is dropped, as `cmd | head` would). */
static bool write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			poll(&p, 1, 1000);
			continue;
		}
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

struct relay {
	struct exec_conn *c;
	const struct exec_io *io;
	struct exec_result *res;
	int in_fd;                 /* -1 once at EOF */
	bool out_ok, err_ok;
	bool done;
	bool call;                 /* a CALL: result frames are expected, not EXIT */
	const uint8_t *bundle;     /* CALL: the bundle, sent as the queue drains */
	size_t bundle_len, bundle_sent;
	size_t value_cap;
};

static void end_error(struct relay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void end_error(struct relay *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->res->msg, sizeof(r->res->msg), fmt, ap);
	va_end(ap);
	r->res->end = EXEC_END_ERROR;
	r->done = true;
}

/* The result of a CALL: FILE_DATA pieces bounded by PROTO_CALL_MAX, then
 * FILE_END with their total; or CALL_FAIL. Only the guest says these. */
static void call_frame(struct relay *r, const struct proto_header *h, const uint8_t *p)
{
	struct exec_result *res = r->res;
	if (h->type == PROTO_CALL_FAIL) {
		if (h->length < 4 || memchr(p + 4, 0, h->length - 4) ||
		    !(res->detail = strndup((const char *)p + 4, h->length - 4))) {
			end_error(r, "malformed CALL_FAIL frame from the guest agent");
			return;
		}
		proto_get_u32(p, 4, &res->code);
		res->end = EXEC_END_CALL_FAIL;
		r->done = true;
		return;
	}
	if (h->type == PROTO_FILE_END) {
		uint64_t total;
		if (proto_get_u64(p, h->length, &total) || total != res->value_len) {
			end_error(r, "the guest sent a %zu-byte result but announced another size",
				  res->value_len);
			return;
		}
		res->end = EXEC_END_VALUE;
		r->done = true;
		return;
	}
	if (h->length > PROTO_CALL_MAX - res->value_len) {
		end_error(r, "the guest's result is larger than %u MiB", PROTO_CALL_MAX >> 20);
		return;
	}
	size_t need = res->value_len + h->length;
	if (need > r->value_cap) {
		size_t cap = r->value_cap ? r->value_cap : 64 << 10;
		while (cap < need)
			cap *= 2;
		uint8_t *v = realloc(res->value, cap);
		if (!v) {
			end_error(r, "out of memory for the result");
			return;
		}
		res->value = v;
		r->value_cap = cap;
	}
	memcpy(res->value + res->value_len, p, h->length);
	res->value_len = need;
}

static void agent_frame(struct relay *r, const struct proto_header *h, const uint8_t *p)
{
	switch (h->type) {
	case PROTO_STDOUT:
		if (r->out_ok && !write_all(r->io->out_fd, p, h->length)) {
			/* Our reader is gone (`arcvm exec -- yes | head -1`): the
			 * command gets the SIGPIPE it would get in a local pipeline. */
			uint8_t sig[4];
			r->out_ok = false;
			queue(r->c, PROTO_SIGNAL, sig, proto_put_u32(sig, SIGPIPE));
		}
		break;
	case PROTO_STDERR:
		r->err_ok = r->err_ok && write_all(r->io->err_fd, p, h->length);
		break;
	case PROTO_EXIT:
		if (r->call) {
			end_error(r, "unexpected EXIT frame from the guest agent");
			return;
		}
		if (proto_get_exit(p, h->length, &r->res->kind, &r->res->code)) {
			end_error(r, "malformed EXIT frame from the guest agent");
			return;
		}
		r->res->end = EXEC_END_EXIT;
		r->done = true;
		break;
	case PROTO_FILE_DATA:
	case PROTO_FILE_END:
	case PROTO_CALL_FAIL:
		if (r->call) {
			call_frame(r, h, p);
			break;
		}
		end_error(r, "unexpected %s frame from the guest agent", proto_type_name(h->type));
		break;
	case PROTO_ERROR:
		agent_error(h, p, r->res->msg, sizeof(r->res->msg));
		r->res->end = EXEC_END_ERROR;
		r->done = true;
		break;
	default:
		end_error(r, "unexpected %s frame from the guest agent", proto_type_name(h->type));
	}
}

static void read_agent(struct relay *r)
{
	if (fill_rx(r->c)) {
		end_error(r, "the guest agent closed the connection before the command ended");
		return;
	}
	struct proto_header h;
	const uint8_t *p;
	long size = 0;
	while (!r->done && (size = proto_next_frame(r->c->rx, r->c->rx_len, &h, &p)) > 0) {
		agent_frame(r, &h, p);
		consume(r->c, (size_t)size);
	}
	if (!r->done && size < 0)
		end_error(r, "malformed frame from the guest agent");
}

static void read_stdin(struct relay *r)
{
	static uint8_t buf[PROTO_DATA_CHUNK];
	ssize_t n = read(r->in_fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	int rc = n > 0 ? queue(r->c, PROTO_STDIN, buf, (size_t)n) : queue(r->c, PROTO_STDIN_EOF, NULL, 0);
	if (n <= 0)
		r->in_fd = -1;
	if (rc)
		end_error(r, "out of memory");
}

static void send_winch(struct relay *r)
{
	struct winsize ws;
	uint8_t p[4];
	if (ioctl(r->io->in_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
		queue(r->c, PROTO_WINCH, p, proto_put_winch(p, ws.ws_row, ws.ws_col));
}

static void read_wake(struct relay *r)
{
	uint8_t sigs[16];
	ssize_t n = read(r->io->wake_fd, sigs, sizeof(sigs));
	for (ssize_t i = 0; i < n && !r->done; i++) {
		if (sigs[i] == SIGWINCH) {
			send_winch(r);
			continue;
		}
		uint8_t p[4];
		queue(r->c, PROTO_SIGNAL, p, proto_put_u32(p, sigs[i]));
		flush_tx(r->c);
		r->res->end = EXEC_END_SIGNAL;
		r->res->code = sigs[i];
		r->done = true;
	}
}

static int poll_timeout(const struct exec_io *io, int64_t now)
{
	int64_t t = ALIVE_EVERY_MS;
	if (io->deadline_ms && io->deadline_ms - now < t)
		t = io->deadline_ms - now;
	return t < 0 ? 0 : (int)t;
}

/* Queues more of a CALL bundle while the queue is below TX_HIGH. */
static void feed_bundle(struct relay *r)
{
	while (r->bundle_sent < r->bundle_len && r->c->tx_len < TX_HIGH) {
		size_t n = r->bundle_len - r->bundle_sent;
		if (n > PROTO_DATA_CHUNK)
			n = PROTO_DATA_CHUNK;
		if (queue(r->c, PROTO_CALL_DATA, r->bundle + r->bundle_sent, n)) {
			end_error(r, "out of memory");
			return;
		}
		r->bundle_sent += n;
	}
}

static void relay_step(struct relay *r, int64_t *last_alive)
{
	struct exec_conn *c = r->c;
	feed_bundle(r);
	struct pollfd p[3] = {
		{ .fd = c->fd, .events = POLLIN | (c->tx_len ? POLLOUT : 0) },
		{ .fd = c->tx_len < TX_HIGH ? r->in_fd : -1, .events = POLLIN },
		{ .fd = r->io->wake_fd, .events = POLLIN },
	};
	if (poll(p, 3, poll_timeout(r->io, now_ms())) < 0 && errno != EINTR) {
		end_error(r, "poll: %s", strerror(errno));
		return;
	}
	if (p[2].revents)
		read_wake(r);
	if (!r->done && (p[0].revents & POLLOUT) && flush_tx(c))
		end_error(r, "the connection to the guest agent broke");
	if (!r->done && (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
		read_agent(r);
	if (!r->done && p[1].revents)
		read_stdin(r);
	int64_t now = now_ms();
	if (!r->done && r->io->deadline_ms && now >= r->io->deadline_ms) {
		r->res->end = EXEC_END_TIMEOUT;
		r->done = true;
	}
	if (!r->done && r->io->alive && now - *last_alive >= ALIVE_EVERY_MS) {
		*last_alive = now;
		if (!r->io->alive(r->io->opaque, r->res->msg, sizeof(r->res->msg))) {
			r->res->end = EXEC_END_ERROR;
			r->done = true;
		}
	}
	if (!r->done && c->tx_len && flush_tx(c))
		end_error(r, "the connection to the guest agent broke");
}

int exec_session_run(struct exec_conn *c, const struct proto_exec *req,
		     const struct exec_io *io, struct exec_result *res)
{
	memset(res, 0, sizeof(*res));
	struct relay r = { .c = c, .io = io, .res = res, .in_fd = io->in_fd,
			   .out_ok = true, .err_ok = true };
	uint8_t *payload;
	size_t len;
	int rc = proto_encode_exec(req, &payload, &len);
	if (rc) {
		end_error(&r, "the command is too large for one EXEC frame (%s)",
			  rc == PROTO_E_BIG ? "over 1 MiB" : "bad argument or environment");
		return 0;
	}
	rc = queue(c, PROTO_EXEC, payload, len);
	free(payload);
	if (rc || (r.in_fd < 0 && queue(c, PROTO_STDIN_EOF, NULL, 0))) {
		end_error(&r, "out of memory");
		return 0;
	}
	int64_t last_alive = now_ms();
	while (!r.done)
		relay_step(&r, &last_alive);
	return 0;
}

int exec_session_call(struct exec_conn *c, const uint8_t *bundle, size_t len,
		      const struct exec_io *io, struct exec_result *res)
{
	memset(res, 0, sizeof(*res));
	struct relay r = { .c = c, .io = io, .res = res, .in_fd = -1, .out_ok = true,
			   .err_ok = true, .call = true, .bundle = bundle, .bundle_len = len };
	uint8_t p8[8];
	if (c->version < PROTO_VERSION_CALL) {
		end_error(&r, "the guest agent speaks protocol version %u, which has no CALL (needs %u)",
			  c->version, PROTO_VERSION_CALL);
		return 0;
	}
	if (len > PROTO_CALL_MAX) {
		end_error(&r, "the pack and arguments take %zu bytes, more than %u MiB", len,
			  PROTO_CALL_MAX >> 20);
		return 0;
	}
	if (queue(c, PROTO_CALL, p8, proto_put_u64(p8, len))) {
		end_error(&r, "out of memory");
		return 0;
	}
	int64_t last_alive = now_ms();
	while (!r.done)
		relay_step(&r, &last_alive);
	return 0;
}

void exec_result_free(struct exec_result *res)
{
	free(res->value);
	free(res->detail);
	res->value = NULL;
	res->detail = NULL;
}

/* The copy-out loop proper: frames into fd until FILE_END. */
static int receive_file(struct exec_conn *c, int fd, const char *guest_path, int idle_ms,
			char *err, size_t errlen)
{
	uint64_t written = 0, total;
	for (;;) {
		struct proto_header h;
		const uint8_t *p;
		long size = wait_frame(c, idle_ms, &h, &p);
		if (size <= 0) {
			set_err(err, errlen, "copying %s: %s", guest_path,
			     size ? "the connection to the guest agent broke"
				  : "the guest agent stopped sending");
			return -1;
		}
		if (h.type == PROTO_ERROR) {
			agent_error(&h, p, err, errlen);
			consume(c, (size_t)size);
			return -1;
		}
		if (h.type == PROTO_FILE_END) {
			int bad = proto_get_u64(p, h.length, &total) || total != written;
			consume(c, (size_t)size);
			if (bad)
				set_err(err, errlen, "copying %s: the guest sent %llu bytes but announced"
				     " another size", guest_path, (unsigned long long)written);
			return bad ? -1 : 0;
		}
		if (h.type != PROTO_FILE_DATA) {
			set_err(err, errlen, "copying %s: unexpected %s frame", guest_path,
			     proto_type_name(h.type));
			return -1;
		}
		if (!write_all(fd, p, h.length)) {
			set_err(err, errlen, "copying %s: writing: %s", guest_path, strerror(errno));
			return -1;
		}
		written += h.length;
		consume(c, (size_t)size);
	}
}

int exec_session_copy_out(struct exec_conn *c, const char *guest_path, const char *host_path,
			  int idle_ms, char *err, size_t errlen)
{
	char *tmp = NULL;
	if (asprintf(&tmp, "%s.arcvm-XXXXXX", host_path) < 0) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	int fd = mkstemp(tmp);
	if (fd < 0) {
		set_err(err, errlen, "cannot create a file beside %s: %s", host_path, strerror(errno));
		free(tmp);
		return -1;
	}
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	int rc = queue(c, PROTO_COPY_OUT, guest_path, strlen(guest_path));
	if (rc)
		set_err(err, errlen, "bad guest path %s", guest_path);
	else
		rc = receive_file(c, fd, guest_path, idle_ms, err, errlen);
	if (!rc && fsync(fd)) {
		set_err(err, errlen, "writing %s: %s", host_path, strerror(errno));
		rc = -1;
	}
	close(fd);
	if (!rc && rename(tmp, host_path)) {
		set_err(err, errlen, "cannot rename %s to %s: %s", tmp, host_path, strerror(errno));
		rc = -1;
	}
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc ? -1 : 0;
}

int exec_session_shutdown(struct exec_conn *c, int timeout_ms)
{
	if (queue(c, PROTO_SHUTDOWN, NULL, 0))
		return -1;
	int64_t end = now_ms() + timeout_ms;
	while (c->tx_len) {
		int64_t left = end - now_ms();
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };
		if (left <= 0 || poll(&p, 1, (int)left) < 0 || flush_tx(c))
			return -1;
	}
	return 0;
}

int exec_status_of(uint8_t kind, uint32_t code)
{
	return kind == PROTO_SIGNALED ? 128 + (int)code : (int)code;
}
