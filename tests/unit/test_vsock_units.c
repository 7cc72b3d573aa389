/* test_vsock_units.c - the vsock pieces without a device: the CONNECT line
 * parser, the listener's stale-socket rule, the connection table and its
 * credit accounting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "virtio/vsock.h"
#include "virtio/vsock_conn.h"
#include "virtio/vsock_uds.h"

static void test_parse_connect(void **state)
{
	uint32_t port = 1;
	assert_int_equal(vsock_uds_parse_connect("CONNECT 52\n", 11, &port), 0);
	assert_int_equal(port, 52);
	assert_int_equal(vsock_uds_parse_connect("CONNECT 0\n", 10, &port), 0);
	assert_int_equal(port, 0);
	assert_int_equal(vsock_uds_parse_connect("CONNECT 4294967295\n", 19, &port), 0);
	assert_int_equal(port, UINT32_MAX);
	static const char *bad[] = {
		"CONNECT 4294967296\n", "CONNECT 12345678901\n", "CONNECT \n", "CONNECT\n",
		"CONNECT -1\n", "CONNECT +1\n", "CONNECT 1 \n", "CONNECT  1\n", "CONNECT 1\r\n",
		"CONNECT 0x10\n", "connect 1\n", "LISTEN 1\n", "CONNECT 1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(vsock_uds_parse_connect(bad[i], strlen(bad[i]), &port), -1);
}

/* The line reader never consumes bytes past the newline. */
static void test_read_connect_keeps_stream_bytes(void **state)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	char line[VSOCK_LINE_MAX];
	unsigned len = 0;
	uint32_t port = 0;
	assert_int_equal(vsock_uds_read_connect(sv[0], line, &len, &port), 0);
	assert_int_equal(write(sv[1], "CONN", 4), 4);
	assert_int_equal(vsock_uds_read_connect(sv[0], line, &len, &port), 0);
	assert_int_equal(write(sv[1], "ECT 77\nDATA", 11), 11);
	assert_int_equal(vsock_uds_read_connect(sv[0], line, &len, &port), 1);
	assert_int_equal(port, 77);
	char rest[8];
	assert_int_equal(read(sv[0], rest, sizeof(rest)), 4);
	assert_memory_equal(rest, "DATA", 4);
	close(sv[1]);
	len = 0;
	assert_int_equal(vsock_uds_read_connect(sv[0], line, &len, &port), -1);   /* EOF */
	close(sv[0]);
}

static void make_dir(char *dir, char *path, size_t n)
{
	strcpy(dir, "/tmp/arcvm-vsock-u-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, n, "%s/s", dir);
}

static void test_listen_replaces_only_stale_sockets(void **state)
{
	char dir[64], path[96];
	make_dir(dir, path, sizeof(path));
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);

	/* A socket file nobody listens on any more: replaced. */
	int dead = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(dead, (struct sockaddr *)&a, sizeof(a)), 0);
	close(dead);
	int fd = -1;
	assert_int_equal(vsock_uds_listen(path, &fd, NULL), 0);

	/* A live listener: left alone. */
	int fd2 = -1;
	struct arcvm_error err;
	assert_int_equal(vsock_uds_listen(path, &fd2, &err), ARCVM_E_BUSY);
	assert_int_equal(fd2, -1);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);   /* still ours */
	close(c);
	close(fd);
	unlink(path);

	/* A regular file: never removed. */
	int f = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(f >= 0);
	close(f);
	assert_int_equal(vsock_uds_listen(path, &fd2, NULL), ARCVM_E_BUSY);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(path);

	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(vsock_uds_listen(longp, &fd2, NULL), ARCVM_E_INVALID);
	rmdir(dir);
}

/* The device's side of one dial: accept, read the CONNECT line, answer. */
struct answer {
	int listen_fd;
	const char *reply;    /* NULL: hang up without a word */
	char line[32];
};

static void *answer_once(void *arg)
{
	struct answer *a = arg;
	struct pollfd p = { .fd = a->listen_fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 5000), 1);
	int c = accept(a->listen_fd, NULL, NULL);
	assert_true(c >= 0);
	ssize_t n = read(c, a->line, sizeof(a->line) - 1);
	assert_true(n > 0);
	if (a->reply)
		assert_int_equal(write(c, a->reply, strlen(a->reply)), (ssize_t)strlen(a->reply));
	else
		close(c);
	return a->reply ? (void *)(intptr_t)c : NULL;
}

static int dial_against(const char *path, int listen_fd, const char *reply, struct answer *a)
{
	*a = (struct answer){ .listen_fd = listen_fd, .reply = reply };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, answer_once, a), 0);
	int fd = vsock_uds_dial(path, 52, 300);
	void *peer;
	pthread_join(t, &peer);
	if (peer)
		close((int)(intptr_t)peer);
	return fd;
}

static void test_dial(void **state)
{
	char dir[64], path[96];
	make_dir(dir, path, sizeof(path));
	assert_int_equal(vsock_uds_dial(path, 52, 300), -1);          /* nobody there */
	int l = -1;
	assert_int_equal(vsock_uds_listen(path, &l, NULL), 0);
	struct answer a;

	/* OK: the socket, with the guest's first bytes still unread. */
	int fd = dial_against(path, l, "OK 1073741824\nHELLO", &a);
	assert_string_equal(a.line, "CONNECT 52\n");
	assert_true(fd >= 0);
	char buf[8] = { 0 };
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 5);
	assert_string_equal(buf, "HELLO");
	close(fd);

	/* Refused, hung up on, or no answer in time: -1. */
	assert_int_equal(dial_against(path, l, "NO\n", &a), -1);
	assert_int_equal(dial_against(path, l, NULL, &a), -1);
	assert_int_equal(dial_against(path, l, "OK 1", &a), -1);      /* no newline in time */
	close(l);
	unlink(path);
	rmdir(dir);
}

static void test_create_checks_arguments(void **state)
{
	char dir[64], path[96];
	make_dir(dir, path, sizeof(path));
	struct virtio_dev *d = NULL;
	assert_int_equal(vsock_create(2, path, &d, NULL), ARCVM_E_INVALID);
	assert_int_equal(vsock_create(UINT32_MAX, path, &d, NULL), ARCVM_E_INVALID);
	assert_int_equal(vsock_create(3, "", &d, NULL), ARCVM_E_INVALID);
	assert_null(d);
	assert_int_equal(vsock_create(3, path, &d, NULL), 0);
	struct virtio_dev *d2 = NULL;
	assert_int_equal(vsock_create(4, path, &d2, NULL), ARCVM_E_BUSY);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	d->ops->destroy(d);
	assert_int_equal(stat(path, &st), -1);   /* destroy unlinks the socket */
	rmdir(dir);
}

static void test_table_limit_and_ports(void **state)
{
	static struct vsock_conn_table t;
	vsock_conn_table_init(&t, &t);
	struct vsock_conn *c[VSOCK_MAX_CONNS];
	for (int i = 0; i < VSOCK_MAX_CONNS; i++) {
		c[i] = vsock_conn_new(&t, 100 + i, VSOCK_CONN_HANDSHAKE);
		assert_non_null(c[i]);
		assert_ptr_equal(c[i]->owner, &t);
		uint32_t p = vsock_conn_pick_port(&t, 9);
		assert_true(p >= VSOCK_HOST_PORT_MIN);
		assert_int_equal(vsock_conn_hash(&t, c[i], p, 9), 0);
	}
	assert_null(vsock_conn_new(&t, 1, VSOCK_CONN_HANDSHAKE));
	assert_ptr_equal(vsock_conn_find(&t, c[5]->local_port, 9), c[5]);
	assert_null(vsock_conn_find(&t, c[5]->local_port, 10));
	uint32_t p5 = c[5]->local_port;
	vsock_conn_free(&t, c[5]);
	assert_null(vsock_conn_find(&t, p5, 9));
	struct vsock_conn *n = vsock_conn_new(&t, 1, VSOCK_CONN_ESTABLISHED);
	assert_ptr_equal(n, c[5]);   /* the slot is reused, never freed */
	assert_int_equal(vsock_conn_hash(&t, n, c[6]->local_port, 9), -1);   /* ports taken */
	for (int i = 0; i < VSOCK_MAX_CONNS; i++)
		vsock_conn_free(&t, c[i]);
	assert_int_equal(t.count, 0);
}

static void test_credit_accounting(void **state)
{
	static struct vsock_conn_table t;
	vsock_conn_table_init(&t, NULL);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	struct vsock_conn *c = vsock_conn_new(&t, sv[0], VSOCK_CONN_ESTABLISHED);

	/* Sending to the guest: credit is its buffer less what is in flight,
	 * across the u32 wrap, and 0 when it shrank below what is in flight. */
	c->sent = UINT32_MAX - 10;
	vsock_conn_peer_update(c, 100, UINT32_MAX - 30);
	assert_int_equal(vsock_conn_peer_credit(c), 80);
	c->sent += 50;                                   /* wraps */
	assert_int_equal(vsock_conn_peer_credit(c), 30);
	vsock_conn_peer_update(c, 20, UINT32_MAX - 30);
	assert_int_equal(vsock_conn_peer_credit(c), 0);

	/* Receiving from the guest: what the socket refuses is held, within
	 * VSOCK_CONN_BUF, and fwd_cnt counts only what the socket took. */
	static uint8_t chunk[VSOCK_CONN_BUF];
	uint32_t accepted = 0;
	while (vsock_conn_recv_fits(c, sizeof(chunk) / 4)) {
		struct iovec v = { chunk, sizeof(chunk) / 4 };
		assert_int_equal(vsock_conn_recv(c, &v, 1, sizeof(chunk) / 4), 0);
		accepted += sizeof(chunk) / 4;
		assert_true(accepted < (64u << 20));
	}
	assert_int_equal(c->recv_cnt, accepted);
	assert_int_equal(c->recv_cnt - c->fwd_cnt, c->len);
	assert_true(c->len > VSOCK_CONN_BUF - sizeof(chunk) / 4);
	assert_false(vsock_conn_recv_fits(c, VSOCK_CONN_BUF - c->len + 1));
	assert_true(vsock_conn_credit_due(c));           /* the socket took a lot */
	c->fwd_told = c->fwd_cnt;
	assert_false(vsock_conn_credit_due(c));

	/* The reader drains: the held bytes go out in order. */
	uint8_t buf[65536];
	for (;;) {
		ssize_t r = read(sv[1], buf, sizeof(buf));
		assert_int_equal(vsock_conn_flush(c), 0);
		if (r <= 0 && c->len == 0)
			break;
	}
	while (read(sv[1], buf, sizeof(buf)) > 0)
		;
	assert_int_equal(c->fwd_cnt, c->recv_cnt);
	assert_true(vsock_conn_credit_due(c));
	close(sv[1]);
	struct iovec v = { chunk, 1 };
	assert_int_equal(vsock_conn_recv(c, &v, 1, 1), ARCVM_E_IO);   /* reader gone */
	vsock_conn_free(&t, c);
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_connect),
		cmocka_unit_test(test_read_connect_keeps_stream_bytes),
		cmocka_unit_test(test_listen_replaces_only_stale_sockets),
		cmocka_unit_test(test_dial),
		cmocka_unit_test(test_create_checks_arguments),
		cmocka_unit_test(test_table_limit_and_ports),
		cmocka_unit_test(test_credit_accounting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
