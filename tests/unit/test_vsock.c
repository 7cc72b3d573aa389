/* test_vsock.c - virtio-vsock end to end: host clients on the Unix socket,
 * the test thread as the guest, the device on a real I/O loop thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>

#include "util/snapbuf.h"
#include "virtio/vsock_conn.h"
#include "vsock_fake_guest.h"

#define GPORT 1234       /* a guest port the fake guest "listens" on */
#define GBUF  (16u << 10)

static int setup(void **state)
{
	struct gst *g = calloc(1, sizeof(*g));
	assert_int_equal(g_setup(g), 0);
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	struct gst *g = *state;
	g_teardown(g);
	struct stat st;
	assert_int_equal(stat(g->path, &st), -1);   /* destroy unlinked the socket */
	free(g);
	return 0;
}

/* A host client asks for guest port `port`; the guest sees the REQUEST and
 * accepts with a buffer of `buf_alloc`. Returns the client with the OK line
 * read, and the host-side port. */
static int establish(struct gst *g, uint32_t port, uint32_t buf_alloc, uint32_t *local)
{
	int fd = g_client(g->path);
	assert_true(fd >= 0);
	char line[32];
	int n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	assert_int_equal(write(fd, line, (size_t)n), n);
	struct virtio_vsock_hdr h;
	assert_true(g_recv(g, &h, NULL, 3000));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_REQUEST);
	assert_int_equal(h.src_cid, VSOCK_HOST_CID);
	assert_int_equal(h.dst_cid, G_CID);
	assert_int_equal(h.dst_port, port);
	assert_int_equal(h.type, VIRTIO_VSOCK_TYPE_STREAM);
	assert_true(h.src_port >= (1u << 30));
	assert_true(h.buf_alloc > 0);
	*local = h.src_port;
	assert_true(g_send(g, g_hdr(port, *local, VIRTIO_VSOCK_OP_RESPONSE, 0, 0, buf_alloc, 0),
			   NULL, false));
	assert_true(g_read_line(fd, line, sizeof(line)) > 0);
	char want[32];
	snprintf(want, sizeof(want), "OK %u\n", *local);
	assert_string_equal(line, want);
	return fd;
}

static void test_config_and_identity(void **state)
{
	struct gst *g = *state;
	assert_int_equal(fd_rd(&g->f, VIRTIO_MMIO_DEVICE_ID), 19);
	assert_int_equal(fd_rd(&g->f, VIRTIO_MMIO_CONFIG), G_CID);
	assert_int_equal(fd_rd(&g->f, VIRTIO_MMIO_CONFIG + 4), 0);
}

static void test_connect_and_small_data(void **state)
{
	struct gst *g = *state;
	uint32_t local;
	int fd = establish(g, GPORT, GBUF, &local);

	assert_int_equal(write(fd, "ping", 4), 4);
	struct virtio_vsock_hdr h;
	char buf[G_RXBUF];
	assert_true(g_recv(g, &h, buf, 3000));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RW);
	assert_int_equal(h.src_port, local);
	assert_int_equal(h.dst_port, GPORT);
	assert_int_equal(h.len, 4);
	assert_memory_equal(buf, "ping", 4);

	/* Header and payload in separate descriptors, and in one. */
	assert_true(g_send(g, g_hdr(GPORT, local, VIRTIO_VSOCK_OP_RW, 0, 4, GBUF, 4), "pong", true));
	assert_true(g_send(g, g_hdr(GPORT, local, VIRTIO_VSOCK_OP_RW, 0, 3, GBUF, 4), "!!!", false));
	char got[8] = { 0 };
	size_t have = 0;
	while (have < 7) {
		ssize_t r = read(fd, got + have, 7 - have);
		assert_true(r > 0);
		have += (size_t)r;
	}
	assert_memory_equal(got, "pong!!!", 7);
	close(fd);
}

struct stream {
	int fd;
	size_t total;
	unsigned seed;
	uint64_t hash;
	int delay_ms;
};

static void *writer(void *arg)
{
	struct stream *s = arg;
	uint8_t buf[8192];
	s->hash = G_FNV_INIT;
	for (size_t off = 0; off < s->total;) {
		size_t n = s->total - off < sizeof(buf) ? s->total - off : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = g_pattern(off + i, s->seed);
		s->hash = g_fnv(s->hash, buf, n);
		size_t done = 0;
		while (done < n) {
			ssize_t w = write(s->fd, buf + done, n - done);
			if (w <= 0)
				return NULL;
			done += (size_t)w;
		}
		off += n;
	}
	return NULL;
}

static void *reader(void *arg)
{
	struct stream *s = arg;
	uint8_t buf[8192];
	s->hash = G_FNV_INIT;
	usleep((useconds_t)s->delay_ms * 1000);
	size_t have = 0;
	while (have < s->total) {
		ssize_t r = read(s->fd, buf, sizeof(buf));
		if (r <= 0)
			break;
		s->hash = g_fnv(s->hash, buf, (size_t)r);
		have += (size_t)r;
	}
	s->total = have;
	return NULL;
}

/* Host to guest, 1 MiB with a 16 KiB guest buffer: the device never has more
 * in flight than the guest's credit, stops when it runs out, and goes on once
 * the guest grants more. */
static void test_host_to_guest_respects_credit(void **state)
{
	struct gst *g = *state;
	uint32_t local;
	int fd = establish(g, GPORT, GBUF, &local);
	struct stream s = { .fd = fd, .total = 1u << 20, .seed = 7 };
	pthread_t t;
	pthread_create(&t, NULL, writer, &s);

	uint64_t hash = G_FNV_INIT;
	uint32_t got = 0, granted = 0;   /* granted: fwd_cnt as told to the device */
	bool saw_stall = false;
	uint8_t buf[G_RXBUF];
	uint64_t quiet_since = g_now_ms();
	while (got < s.total) {
		struct virtio_vsock_hdr h;
		if (!g_recv(g, &h, buf, 50)) {
			/* Only a guest without credit may be kept waiting long. */
			if (got - granted < GBUF) {
				assert_true(g_now_ms() - quiet_since < 5000);
				continue;
			}
			saw_stall = true;
			granted = got;
			assert_true(g_send(g, g_hdr(GPORT, local, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 0,
						    GBUF, granted), NULL, false));
			continue;
		}
		quiet_since = g_now_ms();
		if (h.op == VIRTIO_VSOCK_OP_CREDIT_UPDATE)
			continue;
		assert_int_equal(h.op, VIRTIO_VSOCK_OP_RW);
		got += h.len;
		assert_true(got - granted <= GBUF);
		hash = g_fnv(hash, buf, h.len);
	}
	pthread_join(t, NULL);
	assert_true(saw_stall);
	assert_true(hash == s.hash);
	close(fd);
}

/* Guest to host, 1 MiB while the host reader starts late: the device buffers
 * what the socket refuses, within the credit it advertised, and the guest
 * sends only as credit updates allow. */
static void test_guest_to_host_respects_credit(void **state)
{
	struct gst *g = *state;
	uint32_t local;
	int fd = establish(g, GPORT, GBUF, &local);
	struct stream s = { .fd = fd, .total = 1u << 20, .delay_ms = 300 };
	pthread_t t;
	pthread_create(&t, NULL, reader, &s);

	uint32_t host_buf = 0, host_fwd = 0, sent = 0;
	uint64_t hash = G_FNV_INIT;
	bool waited = false;
	uint8_t chunk[4096];
	struct virtio_vsock_hdr h;
	/* The RESPONSE we sent earned no reply; ask for the host's credit. */
	assert_true(g_send(g, g_hdr(GPORT, local, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 0, 0, GBUF, 0),
			   NULL, false));
	while (sent < (1u << 20)) {
		if (sent - host_fwd >= host_buf) {
			waited |= sent > 0;
			assert_true(g_recv(g, &h, NULL, 5000));
			assert_int_equal(h.op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
			host_buf = h.buf_alloc;
			host_fwd = h.fwd_cnt;
			continue;
		}
		while (g_recv(g, &h, NULL, 0)) {
			assert_int_equal(h.op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
			host_buf = h.buf_alloc;
			host_fwd = h.fwd_cnt;
		}
		uint32_t n = host_buf - (sent - host_fwd);
		n = n < sizeof(chunk) ? n : sizeof(chunk);
		n = (1u << 20) - sent < n ? (1u << 20) - sent : n;
		for (uint32_t i = 0; i < n; i++)
			chunk[i] = g_pattern(sent + i, 3);
		hash = g_fnv(hash, chunk, n);
		assert_true(g_send(g, g_hdr(GPORT, local, VIRTIO_VSOCK_OP_RW, 0, n, GBUF, 0), chunk,
				   sent % 3 == 0));
		sent += n;
	}
	pthread_join(t, NULL);
	assert_true(waited);
	assert_int_equal(s.total, 1u << 20);
	assert_true(hash == s.hash);
	close(fd);
}

static void test_guest_rst_closes_client(void **state)
{
	struct gst *g = *state;
	int fd = g_client(g->path);
	assert_int_equal(write(fd, "CONNECT 99\n", 11), 11);
	struct virtio_vsock_hdr h;
	assert_true(g_recv(g, &h, NULL, 3000));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_REQUEST);
	assert_true(g_send(g, g_hdr(99, h.src_port, VIRTIO_VSOCK_OP_RST, 0, 0, 0, 0), NULL, false));
	assert_true(g_closed(fd));
	close(fd);
}

static void test_connect_times_out(void **state)
{
	struct gst *g = *state;
	int fd = g_client(g->path);
	uint64_t t0 = g_now_ms();
	assert_int_equal(write(fd, "CONNECT 42\n", 11), 11);
	struct virtio_vsock_hdr h;
	assert_true(g_recv(g, &h, NULL, 3000));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_REQUEST);
	uint32_t local = h.src_port;
	assert_true(g_closed(fd));
	uint64_t took = g_now_ms() - t0;
	assert_true(took >= VSOCK_CONNECT_TIMEOUT_MS - 50 && took < VSOCK_CONNECT_TIMEOUT_MS + 2000);
	/* The guest is told to forget the request, and a late answer is refused. */
	assert_true(g_recv(g, &h, NULL, 1000));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(h.src_port, local);
	assert_true(g_send(g, g_hdr(42, local, VIRTIO_VSOCK_OP_RESPONSE, 0, 0, GBUF, 0), NULL,
			   false));
	assert_true(g_recv(g, &h, NULL, 1000));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RST);
	close(fd);
}

static void test_bad_connect_lines_close(void **state)
{
	struct gst *g = *state;
	static const char *bad[] = {
		"CONNECT abc\n", "CONNECT 4294967296\n", "CONNECT \n", "connect 5\n",
		"CONNECT 5 \n", "CONNECT 0000000000000000000005\n",
		"CONNECT 12345678901234567890123456789012345", /* no newline within the limit */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = g_client(g->path);
		assert_true(write(fd, bad[i], strlen(bad[i])) > 0);
		uint64_t t0 = g_now_ms();
		assert_true(g_closed(fd));
		assert_true(g_now_ms() - t0 < VSOCK_CONNECT_TIMEOUT_MS);  /* not by the timer */
		close(fd);
	}
	/* A client that says nothing is closed by the timer. */
	int fd = g_client(g->path);
	assert_true(g_closed(fd));
	close(fd);
	struct virtio_vsock_hdr h;
	assert_false(g_recv(g, &h, NULL, 100));   /* the guest heard of none of them */
}

/* A host listener at <path>_<port> accepting one connection. */
static int host_listener(struct gst *g, uint32_t port)
{
	char p[128];
	snprintf(p, sizeof(p), "%s_%u", g->path, port);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strcpy(a.sun_path, p);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 4), 0);
	return l;
}

static void unlink_listener(struct gst *g, uint32_t port)
{
	char p[128];
	snprintf(p, sizeof(p), "%s_%u", g->path, port);
	unlink(p);
}

static void test_guest_connects_to_host(void **state)
{
	struct gst *g = *state;
	int l = host_listener(g, 5000);
	assert_true(g_send(g, g_hdr(777, 5000, VIRTIO_VSOCK_OP_REQUEST, 0, 0, GBUF, 0), NULL, false));
	struct virtio_vsock_hdr h;
	assert_true(g_recv(g, &h, NULL, 3000));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RESPONSE);
	assert_int_equal(h.src_port, 5000);
	assert_int_equal(h.dst_port, 777);
	int fd = accept(l, NULL, NULL);
	assert_true(fd >= 0);

	assert_true(g_send(g, g_hdr(777, 5000, VIRTIO_VSOCK_OP_RW, 0, 5, GBUF, 0), "hello", true));
	char buf[G_RXBUF];
	assert_int_equal(read(fd, buf, 5), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(write(fd, "back", 4), 4);
	assert_true(g_recv(g, &h, buf, 3000));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RW);
	assert_int_equal(h.len, 4);
	assert_memory_equal(buf, "back", 4);
	close(fd);
	close(l);
	unlink_listener(g, 5000);
}

static void test_guest_connect_without_listener_gets_rst(void **state)
{
	struct gst *g = *state;
	assert_true(g_send(g, g_hdr(778, 5001, VIRTIO_VSOCK_OP_REQUEST, 0, 0, GBUF, 0), NULL, false));
	struct virtio_vsock_hdr h;
	assert_true(g_recv(g, &h, NULL, 3000));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(h.src_port, 5001);
	assert_int_equal(h.dst_port, 778);
	assert_int_equal(h.dst_cid, G_CID);
}

/* The host client stops sending: the guest hears SHUTDOWN(SEND) and can still
 * send; then the guest closes both ways and gets its RST. */
static void test_host_half_close(void **state)
{
	struct gst *g = *state;
	uint32_t local;
	int fd = establish(g, GPORT, GBUF, &local);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	struct virtio_vsock_hdr h;
	assert_true(g_recv(g, &h, NULL, 3000));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_SHUTDOWN);
	assert_int_equal(h.flags, VIRTIO_VSOCK_SHUTDOWN_SEND);
	assert_true(g_send(g, g_hdr(GPORT, local, VIRTIO_VSOCK_OP_RW, 0, 3, GBUF, 0), "abc", false));
	char buf[4];
	assert_int_equal(read(fd, buf, 3), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_true(g_send(g, g_hdr(GPORT, local, VIRTIO_VSOCK_OP_SHUTDOWN,
				    VIRTIO_VSOCK_SHUTDOWN_SEND | VIRTIO_VSOCK_SHUTDOWN_RCV, 0, GBUF, 0),
			   NULL, false));
	assert_true(g_recv(g, &h, NULL, 3000));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RST);
	assert_true(g_closed(fd));
	close(fd);
}

/* The guest stops sending: the client reads EOF and can still send. */
static void test_guest_half_close(void **state)
{
	struct gst *g = *state;
	uint32_t local;
	int fd = establish(g, GPORT, GBUF, &local);
	assert_true(g_send(g, g_hdr(GPORT, local, VIRTIO_VSOCK_OP_RW, 0, 2, GBUF, 0), "hi", false));
	assert_true(g_send(g, g_hdr(GPORT, local, VIRTIO_VSOCK_OP_SHUTDOWN,
				    VIRTIO_VSOCK_SHUTDOWN_SEND, 0, GBUF, 0), NULL, false));
	char buf[G_RXBUF];
	assert_int_equal(read(fd, buf, 2), 2);
	assert_true(g_closed(fd));              /* EOF after the data */
	assert_int_equal(write(fd, "xyz", 3), 3);
	struct virtio_vsock_hdr h;
	assert_true(g_recv(g, &h, buf, 3000));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RW);
	assert_memory_equal(buf, "xyz", 3);
	close(fd);
	/* The client's close ends the stream: SHUTDOWN(SEND), then RST. */
	assert_true(g_recv(g, &h, NULL, 3000));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_SHUTDOWN);
	assert_true(g_recv(g, &h, NULL, 3000));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RST);
}

static void send_bad(struct gst *g, struct virtio_vsock_hdr h, const void *payload, uint32_t plen)
{
	assert_true(g_send_raw(g, &h, G_HDR, payload, plen, false));
}

/* Packets a correct driver never sends: dropped or refused with RST, the
 * device stays up and a good connection keeps working. */
static void test_malformed_packets(void **state)
{
	struct gst *g = *state;
	uint32_t local;
	int fd = establish(g, GPORT, GBUF, &local);
	struct virtio_vsock_hdr h, r;

	h = g_hdr(GPORT, local, VIRTIO_VSOCK_OP_RW, 0, 1, GBUF, 0);
	h.src_cid = 4;                               /* not the guest's CID: dropped */
	send_bad(g, h, "x", 1);
	h.src_cid = G_CID;
	h.dst_cid = 7;                               /* not for the host: dropped */
	send_bad(g, h, "x", 1);
	assert_true(g_send_raw(g, &h, 20, NULL, 0, false));   /* short header: dropped */
	assert_false(g_recv(g, &r, NULL, 100));

	static const struct { uint16_t op, type; uint32_t len, plen; } rst[] = {
		{ 99, VIRTIO_VSOCK_TYPE_STREAM, 0, 0 },                 /* unknown op */
		{ VIRTIO_VSOCK_OP_INVALID, VIRTIO_VSOCK_TYPE_STREAM, 0, 0 },
		{ VIRTIO_VSOCK_OP_RW, VIRTIO_VSOCK_TYPE_SEQPACKET, 1, 1 }, /* wrong type */
		{ VIRTIO_VSOCK_OP_RW, VIRTIO_VSOCK_TYPE_STREAM, 100, 10 }, /* len past the chain */
		{ VIRTIO_VSOCK_OP_RW, VIRTIO_VSOCK_TYPE_STREAM, 1u << 30, 10 }, /* len too large */
		{ VIRTIO_VSOCK_OP_CREDIT_UPDATE, VIRTIO_VSOCK_TYPE_STREAM, 5, 5 }, /* control with data */
	};
	for (size_t i = 0; i < sizeof(rst) / sizeof(rst[0]); i++) {
		h = g_hdr(900 + (uint32_t)i, 5555, rst[i].op, 0, rst[i].len, GBUF, 0);
		h.type = rst[i].type;
		send_bad(g, h, "0123456789", rst[i].plen);
		assert_true(g_recv(g, &r, NULL, 3000));
		assert_int_equal(r.op, VIRTIO_VSOCK_OP_RST);
		assert_int_equal(r.dst_port, 900 + i);
	}
	/* Packets for no connection get RST; an RST for none gets nothing. */
	send_bad(g, g_hdr(1, 2, VIRTIO_VSOCK_OP_RW, 0, 1, GBUF, 0), "x", 1);
	assert_true(g_recv(g, &r, NULL, 3000));
	assert_int_equal(r.op, VIRTIO_VSOCK_OP_RST);
	send_bad(g, g_hdr(1, 2, VIRTIO_VSOCK_OP_RST, 0, 0, 0, 0), NULL, 0);
	assert_false(g_recv(g, &r, NULL, 100));

	/* The connection survived all of it... */
	assert_true(g_send(g, g_hdr(GPORT, local, VIRTIO_VSOCK_OP_RW, 0, 2, GBUF, 0), "ok", false));
	char buf[2];
	assert_int_equal(read(fd, buf, 2), 2);
	/* ... until a malformed packet of its own, or more data than its credit. */
	h = g_hdr(GPORT, local, VIRTIO_VSOCK_OP_RW, 0, 50, GBUF, 0);
	send_bad(g, h, "short", 5);
	assert_true(g_recv(g, &r, NULL, 3000));
	assert_int_equal(r.op, VIRTIO_VSOCK_OP_RST);
	assert_true(g_closed(fd));
	close(fd);
	assert_false(virtio_mmio_status(g->f.t) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void test_overrunning_credit_resets(void **state)
{
	struct gst *g = *state;
	uint32_t local;
	int fd = establish(g, GPORT, GBUF, &local);
	/* Nobody reads fd: the socket fills, then the device's buffer. */
	static uint8_t chunk[4096];
	struct virtio_vsock_hdr r;
	bool reset = false;
	for (int i = 0; i < 1024 && !reset; i++) {
		assert_true(g_send(g, g_hdr(GPORT, local, VIRTIO_VSOCK_OP_RW, 0, sizeof(chunk), GBUF,
					    0), chunk, false));
		while (g_recv(g, &r, NULL, 0))
			reset = r.op == VIRTIO_VSOCK_OP_RST;
	}
	assert_true(reset);
	close(fd);
}

static void test_connection_limit(void **state)
{
	struct gst *g = *state;
	int fds[VSOCK_MAX_CONNS + 1];
	for (int i = 0; i <= VSOCK_MAX_CONNS; i++) {
		fds[i] = g_client(g->path);
		assert_true(fds[i] >= 0);
	}
	/* Exactly one client is closed at once, well before the handshake timeout. */
	struct pollfd p[VSOCK_MAX_CONNS + 1];
	for (int i = 0; i <= VSOCK_MAX_CONNS; i++)
		p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	usleep(500 * 1000);
	assert_int_equal(poll(p, VSOCK_MAX_CONNS + 1, 0), 1);
	/* ... and a guest connection is refused too. */
	int l = host_listener(g, 5002);
	assert_true(g_send(g, g_hdr(779, 5002, VIRTIO_VSOCK_OP_REQUEST, 0, 0, GBUF, 0), NULL, false));
	struct virtio_vsock_hdr h;
	assert_true(g_recv(g, &h, NULL, 3000));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RST);
	for (int i = 0; i <= VSOCK_MAX_CONNS; i++)
		close(fds[i]);
	close(l);
	unlink_listener(g, 5002);
}

/* CPU time the I/O thread has used, in ns. */
static uint64_t io_thread_ns(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	uint64_t ns = UINT64_MAX;   /* no I/O thread found */
	while (d && (e = readdir(d))) {
		char p[300], comm[32] = "";
		snprintf(p, sizeof(p), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(p, "r");
		if (!f)
			continue;
		bool io = fgets(comm, sizeof(comm), f) && strncmp(comm, "arcvm-io", 8) == 0;
		fclose(f);
		snprintf(p, sizeof(p), "/proc/self/task/%s/schedstat", e->d_name);
		if (io && (f = fopen(p, "r"))) {
			unsigned long long v = 0;
			if (fscanf(f, "%llu", &v) == 1)
				ns = v;
			fclose(f);
		}
	}
	if (d)
		closedir(d);
	return ns;
}

/* With no receive buffers (and later no credit) the device parks the host
 * socket instead of spinning, and resumes when buffers or credit come. */
static void test_no_spin_without_buffers_or_credit(void **state)
{
	struct gst *g = *state;
	uint32_t local;
	int fd = establish(g, GPORT, 1u << 20, &local);
	g->repost = false;
	struct virtio_vsock_hdr h;
	uint8_t buf[G_RXBUF];
	uint32_t got = 0;
	/* Use up every posted buffer. */
	static uint8_t big[G_QS * G_RXBUF];
	assert_int_equal(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	while (g->rx_posted > 0 && g_recv(g, &h, buf, 3000))
		got += h.len;
	assert_int_equal(g->rx_posted, 0);
	assert_int_equal(write(fd, "more", 4), 4);
	uint64_t t0 = io_thread_ns();
	assert_true(t0 != UINT64_MAX);
	usleep(300 * 1000);
	uint64_t spent = io_thread_ns() - t0;
	assert_true(spent < 30 * 1000 * 1000);   /* a spinning thread would use ~300 ms */

	g->repost = true;
	g_post_rx(g, 8);
	while (got < sizeof(big) + 4) {
		assert_true(g_recv(g, &h, buf, 3000));
		got += h.len;
	}
	assert_int_equal(memcmp(buf + h.len - 4, "more", 4), 0);
	close(fd);
}

/* A driver reset ends every connection; the listener stays and a new
 * connection works once the driver is back. */
static void test_driver_reset_closes_connections(void **state)
{
	struct gst *g = *state;
	uint32_t local;
	int fd = establish(g, GPORT, GBUF, &local);
	int idle = g_client(g->path);   /* still in its handshake */
	fd_wr(&g->f, VIRTIO_MMIO_STATUS, 0);
	assert_true(g_closed(fd));
	assert_true(g_closed(idle));
	close(fd);
	close(idle);

	fd_negotiate(&g->f, 1ull << VIRTIO_F_VERSION_1);
	for (unsigned i = 0; i < 3; i++)
		fd_setup_queue(&g->f, i, G_QS);
	fd_wr(&g->f, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
						 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	g->rx_posted = 0;
	g_post_rx(g, G_QS);
	fd = establish(g, GPORT, GBUF, &local);
	assert_int_equal(write(fd, "again", 5), 5);
	struct virtio_vsock_hdr h;
	char buf[G_RXBUF];
	assert_true(g_recv(g, &h, buf, 3000));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RW);
	assert_memory_equal(buf, "again", 5);
	close(fd);
}

/* `b` takes over `a`'s device as a restore in a new process would: the
 * same guest memory and driver state, the transport and device state
 * through virtio_mmio_save/load. b's I/O loop starts after the load. */
static void restore_into(struct gst *a, struct gst *b)
{
	struct snap_writer w;
	snap_writer_init(&w);
	virtio_mmio_save(a->f.t, &w);
	assert_int_equal(g_create(b), 0);
	memcpy(b->f.ram, a->f.ram, FD_RAM_SIZE);
	memcpy(b->f.q, a->f.q, sizeof(b->f.q));
	b->f.heap = a->f.heap;
	memcpy(b->rx_gpa, a->rx_gpa, sizeof(b->rx_gpa));
	memcpy(b->tx_gpa, a->tx_gpa, sizeof(b->tx_gpa));
	memcpy(b->ev_gpa, a->ev_gpa, sizeof(b->ev_gpa));
	b->rx_posted = a->rx_posted;
	b->repost = true;
	struct snap_reader r = { .p = w.buf + SNAP_HEADER_LEN, .len = w.len - SNAP_HEADER_LEN };
	struct arcvm_error err;
	if (virtio_mmio_load(b->f.t, &r, &err))
		fail_msg("virtio_mmio_load: %s", err.msg);
	assert_int_equal(r.off, r.len);
	snap_writer_free(&w);
	assert_int_equal(io_loop_start(b->io, NULL), 0);
}

/* After a restore the device sends TRANSPORT_RESET and holds new host
 * connections until the guest has handled it, which it shows by posting an
 * event buffer again: not on a bare kick of the event queue (the transport
 * kicks every ready queue once after a restore), and with EVENT_IDX the
 * device asks for that repost's kick although other buffers are posted. */
static void test_restore_holds_connections_until_reset_handled(void **state)
{
	struct gst *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	assert_int_equal(g_setup_features(a, (1ull << VIRTIO_F_VERSION_1) |
						     (1ull << VIRTQ_F_EVENT_IDX)), 0);
	g_post_events(a, 8);
	restore_into(a, b);

	uint32_t id, len;
	assert_true(fd_used(&b->f, G_EVQ, &id, &len));
	assert_int_equal(len, sizeof(struct virtio_vsock_event));
	struct virtio_vsock_event *ev = fd_host(&b->f, b->ev_gpa[id]);
	assert_int_equal(le32toh(ev->id), VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	assert_false(fd_used(&b->f, G_EVQ, &id, &len));
	const uint16_t *used = fd_host(&b->f, b->f.q[G_EVQ].used);
	assert_int_equal(used[2 + 4 * G_QS], 8);   /* avail_event: kick me at the 9th */

	int fd = g_client(b->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "CONNECT 1234\n", 13), 13);
	fd_wr(&b->f, VIRTIO_MMIO_QUEUE_NOTIFY, G_EVQ);
	struct virtio_vsock_hdr h;
	assert_false(g_recv(b, &h, NULL, 300));   /* no REQUEST before the reset is handled */

	g_post_events(b, 1);
	assert_true(g_recv(b, &h, NULL, 3000));
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_REQUEST);
	assert_int_equal(h.dst_port, GPORT);
	assert_true(g_send(b, g_hdr(GPORT, h.src_port, VIRTIO_VSOCK_OP_RESPONSE, 0, 0, GBUF, 0),
			   NULL, false));
	char line[32], want[32];
	assert_true(g_read_line(fd, line, sizeof(line)) > 0);
	snprintf(want, sizeof(want), "OK %u\n", h.src_port);
	assert_string_equal(line, want);
	close(fd);
	g_teardown(b);
	g_teardown(a);
	free(a);
	free(b);
}

/* A driver that resets the device instead of handling the transport reset
 * gets host connections once it is back. */
static void test_restore_then_driver_reset_accepts_again(void **state)
{
	struct gst *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	assert_int_equal(g_setup(a), 0);
	g_post_events(a, 8);
	restore_into(a, b);
	fd_wr(&b->f, VIRTIO_MMIO_STATUS, 0);
	fd_negotiate(&b->f, 1ull << VIRTIO_F_VERSION_1);
	for (unsigned i = 0; i < 3; i++)
		fd_setup_queue(&b->f, i, G_QS);
	fd_wr(&b->f, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
						 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	b->rx_posted = 0;
	g_post_rx(b, G_QS);
	uint32_t local;
	int fd = establish(b, GPORT, GBUF, &local);
	close(fd);
	g_teardown(b);
	g_teardown(a);
	free(a);
	free(b);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_config_and_identity),
		T(test_connect_and_small_data),
		T(test_host_to_guest_respects_credit),
		T(test_guest_to_host_respects_credit),
		T(test_guest_rst_closes_client),
		T(test_connect_times_out),
		T(test_bad_connect_lines_close),
		T(test_guest_connects_to_host),
		T(test_guest_connect_without_listener_gets_rst),
		T(test_host_half_close),
		T(test_guest_half_close),
		T(test_malformed_packets),
		T(test_overrunning_credit_resets),
		T(test_connection_limit),
		T(test_no_spin_without_buffers_or_credit),
		T(test_driver_reset_closes_connections),
		cmocka_unit_test(test_restore_holds_connections_until_reset_handled),
		cmocka_unit_test(test_restore_then_driver_reset_accepts_again),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
