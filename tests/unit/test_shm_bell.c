/*
 * test_shm_bell.c - the doorbell relay (cli/shm_bell.c) driven the way the
 * VMM drives it: guest connections arrive on "<uds>_1025" as Unix stream
 * connections, and a peer is any datagram socket in FILE.bell/ (here the
 * test itself, as a host program taking part would). Rings, waits, the
 * latch, stale peers, and what a hostile guest may send.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/shm_bell.c"

#define WAIT_MS 10000   /* bound on every wait for the relay's answer */

struct fixture {
	char dir[64], region[96], uds[96], peer[128];
	int peer_fd;
	struct cli_bell *bell;
};

static int bind_dgram(const char *path)
{
	struct sockaddr_un a;
	assert_int_equal(unix_addr(path, &a), 0);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/arcvm-bell-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->region, sizeof(f->region), "%s/region", f->dir);
	snprintf(f->uds, sizeof(f->uds), "%s/vsock", f->dir);
	char msg[256];
	if (cli_bell_start(f->region, f->uds, &f->bell, msg, sizeof(msg)))
		fail_msg("cli_bell_start: %s", msg);
	snprintf(f->peer, sizeof(f->peer), "%s.bell/peer", f->region);
	f->peer_fd = bind_dgram(f->peer);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	cli_bell_stop(f->bell);
	close(f->peer_fd);
	unlink(f->peer);
	char path[160];
	snprintf(path, sizeof(path), "%s.bell", f->region);
	assert_int_equal(rmdir(path), 0);   /* the relay removed its own sockets */
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A guest connection, as the VMM makes one for guest port 1025. */
static int guest_connect(struct fixture *f)
{
	char path[128];
	snprintf(path, sizeof(path), "%s_%u", f->uds, CLI_BELL_PORT);
	struct sockaddr_un a;
	assert_int_equal(unix_addr(path, &a), 0);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* The relay's one-byte answer, or 0 when it closed without one. */
static char answer(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	char c = 0;
	ssize_t n = recv(fd, &c, 1, 0);
	return n == 1 ? c : 0;
}

static char request(struct fixture *f, char cmd)
{
	int fd = guest_connect(f);
	assert_int_equal(send(fd, &cmd, 1, 0), 1);
	char c = answer(fd);
	close(fd);
	return c;
}

static void peer_rings(struct fixture *f)
{
	char self[160];
	snprintf(self, sizeof(self), "%s.bell/%ld", f->region, (long)getpid());
	struct sockaddr_un a;
	assert_int_equal(unix_addr(self, &a), 0);
	assert_int_equal(sendto(f->peer_fd, "R", 1, 0, (struct sockaddr *)&a, sizeof(a)), 1);
}

static void test_ring_reaches_the_peers(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(request(f, 'R'), 'K');
	char c = 0;
	struct pollfd p = { .fd = f->peer_fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	assert_int_equal(recv(f->peer_fd, &c, 1, 0), 1);
	assert_int_equal(c, 'R');
}

static void test_a_waiter_wakes_when_a_peer_rings(void **state)
{
	struct fixture *f = *state;
	int w1 = guest_connect(f), w2 = guest_connect(f);
	assert_int_equal(send(w1, "W", 1, 0), 1);
	assert_int_equal(send(w2, "W", 1, 0), 1);
	/* Both are registered once a later request has been served (the relay
	 * handles one connection's byte at a time, in order of arrival). */
	assert_int_equal(request(f, 'Q'), 'E');
	peer_rings(f);
	assert_int_equal(answer(w1), 'N');
	assert_int_equal(answer(w2), 'N');
	close(w1);
	close(w2);
}

static void test_a_ring_with_no_waiter_is_latched_once(void **state)
{
	struct fixture *f = *state;
	for (int i = 0; i < 50; i++)
		peer_rings(f);
	/* Served after the datagrams: the relay polls them together. */
	assert_int_equal(request(f, 'Q'), 'E');
	assert_int_equal(request(f, 'W'), 'N');
	/* Fifty rings were one: the next wait sleeps until the next ring. */
	int w = guest_connect(f);
	assert_int_equal(send(w, "W", 1, 0), 1);
	assert_int_equal(request(f, 'Q'), 'E');
	peer_rings(f);
	assert_int_equal(answer(w), 'N');
	close(w);
}

static void test_a_dead_peer_is_removed_by_the_next_ring(void **state)
{
	struct fixture *f = *state;
	char dead[160];
	snprintf(dead, sizeof(dead), "%s.bell/999999999", f->region);
	close(bind_dgram(dead));   /* the file stays, nobody listens */
	assert_int_equal(request(f, 'R'), 'K');
	assert_int_equal(access(dead, F_OK), -1);
	assert_int_equal(access(f->peer, F_OK), 0);
}

static void test_a_hostile_guest_is_bounded(void **state)
{
	struct fixture *f = *state;
	/* Junk gets 'E'; a waiter that talks is dropped. */
	assert_int_equal(request(f, '\xff'), 'E');
	int w = guest_connect(f);
	assert_int_equal(send(w, "WWWW", 4, 0), 4);
	assert_int_equal(answer(w), 0);
	close(w);
	/* Connections that never say anything fill the table; one more is
	 * closed at once, and the relay serves again once they go. */
	int idle[BELL_MAX_CONNS];
	for (int i = 0; i < BELL_MAX_CONNS; i++)
		idle[i] = guest_connect(f);
	int extra = guest_connect(f);
	assert_int_equal(answer(extra), 0);
	close(extra);
	for (int i = 0; i < BELL_MAX_CONNS; i++)
		close(idle[i]);
	assert_int_equal(request(f, 'R'), 'K');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ring_reaches_the_peers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_waiter_wakes_when_a_peer_rings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_ring_with_no_waiter_is_latched_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_dead_peer_is_removed_by_the_next_ring, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_hostile_guest_is_bounded, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
