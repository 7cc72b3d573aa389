/*
 * shm_bell.c - the doorbell relay (see shm_bell.h). Thread: one of its own;
 * its state is touched only by it, except `stop_pipe`, which cli_bell_stop
 * writes.
 */
#include "cli/shm_bell.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define BELL_MAX_CONNS 16   /* guest connections held at once; more are closed */

enum conn_state { CONN_FREE, CONN_COMMAND, CONN_WAITING };

struct cli_bell {
	pthread_t thread;
	int listen_fd;          /* stream: the guest's vsock connections */
	int peer_fd;            /* datagram: rings from other processes */
	int stop_pipe[2];
	char listen_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char self_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct { int fd; enum conn_state state; } conns[BELL_MAX_CONNS];
	bool latched;           /* a peer rang while no guest waited */
};

static int bell_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bell_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int unix_addr(const char *path, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -1;
	strcpy(a->sun_path, path);
	return 0;
}

static void conn_close(struct cli_bell *b, int i)
{
	close(b->conns[i].fd);
	b->conns[i].fd = -1;
	b->conns[i].state = CONN_FREE;
}

/* One byte back to the guest, then the connection ends. The socket is
 * non-blocking: a guest that does not read cannot stall the relay. */
static void conn_answer(struct cli_bell *b, int i, char c)
{
	if (send(b->conns[i].fd, &c, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* The guest went away or stopped reading: nothing to tell it. */
	}
	conn_close(b, i);
}

/* Sends one datagram to every other relay on the same region. A socket no
 * one listens on any more (its process died) is removed; a full one already
 * has a ring pending, which is all a ring says. */
static void ring_peers(struct cli_bell *b)
{
	DIR *d = opendir(b->dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[sizeof(b->self_path)];
		struct sockaddr_un a;
		if (e->d_name[0] == '.' ||
		    snprintf(path, sizeof(path), "%s/%s", b->dir, e->d_name) >= (int)sizeof(path) ||
		    strcmp(path, b->self_path) == 0 || unix_addr(path, &a))
			continue;
		if (sendto(b->peer_fd, "R", 1, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&a,
			   sizeof(a)) < 0 && errno == ECONNREFUSED)
			unlink(path);
	}
	closedir(d);
}

/* A peer rang: wake every waiting guest, or latch the ring for the next. */
static void peer_rang(struct cli_bell *b)
{
	char buf[64];
	while (recv(b->peer_fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;   /* any number of rings is one ring */
	bool woke = false;
	for (int i = 0; i < BELL_MAX_CONNS; i++) {
		if (b->conns[i].state == CONN_WAITING) {
			conn_answer(b, i, 'N');
			woke = true;
		}
	}
	if (!woke)
		b->latched = true;
}

static void accept_guest(struct cli_bell *b)
{
	int fd = accept4(b->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (int i = 0; i < BELL_MAX_CONNS; i++) {
		if (b->conns[i].state == CONN_FREE) {
			b->conns[i].fd = fd;
			b->conns[i].state = CONN_COMMAND;
			return;
		}
	}
	close(fd);   /* full: the guest's tool reports the refusal */
}

/* The guest's one command byte, or anything a waiting guest sends (which
 * ends its wait: a waiter has nothing more to say). */
static void guest_input(struct cli_bell *b, int i)
{
	char c;
	ssize_t n = recv(b->conns[i].fd, &c, 1, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || b->conns[i].state == CONN_WAITING) {
		conn_close(b, i);
		return;
	}
	if (c == 'R') {
		ring_peers(b);
		conn_answer(b, i, 'K');
	} else if (c == 'W' && b->latched) {
		b->latched = false;
		conn_answer(b, i, 'N');
	} else if (c == 'W') {
		b->conns[i].state = CONN_WAITING;
	} else {
		conn_answer(b, i, 'E');
	}
}

static void *bell_thread(void *opaque)
{
	struct cli_bell *b = opaque;
	for (;;) {
		struct pollfd p[3 + BELL_MAX_CONNS];
		int map[BELL_MAX_CONNS], n = 3;
		p[0] = (struct pollfd){ .fd = b->stop_pipe[0], .events = POLLIN };
		p[1] = (struct pollfd){ .fd = b->listen_fd, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = b->peer_fd, .events = POLLIN };
		for (int i = 0; i < BELL_MAX_CONNS; i++) {
			if (b->conns[i].state != CONN_FREE) {
				map[n - 3] = i;
				p[n++] = (struct pollfd){ .fd = b->conns[i].fd, .events = POLLIN };
			}
		}
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			break;
		for (int k = 3; k < n; k++)
			if (p[k].revents)
				guest_input(b, map[k - 3]);
		if (p[2].revents & POLLIN)
			peer_rang(b);
		if (p[1].revents & POLLIN)
			accept_guest(b);
	}
	return NULL;
}

static int bind_unix(int type, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un a;
	if (unix_addr(path, &a))
		return bell_fail(err, errlen, "doorbell socket path %s is too long for a Unix socket",
			    path);
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return bell_fail(err, errlen, "doorbell socket: %s", strerror(errno));
	unlink(path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, BELL_MAX_CONNS) < 0)) {
		int e = errno;
		close(fd);
		return bell_fail(err, errlen, "cannot bind the doorbell socket %s: %s", path, strerror(e));
	}
	return fd;
}

/* FILE.bell, made when missing; it must be a real folder of ours. */
static int make_dir(const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return bell_fail(err, errlen, "cannot make the doorbell folder %s: %s", dir,
			    strerror(errno));
	struct stat st;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return bell_fail(err, errlen, "doorbell folder %s is not a folder", dir);
	if (st.st_uid != getuid())
		return bell_fail(err, errlen, "doorbell folder %s belongs to another user", dir);
	return 0;
}

static int bell_open(struct cli_bell *b, const char *region_path, const char *uds_path,
		     char *err, size_t errlen)
{
	if (snprintf(b->dir, sizeof(b->dir), "%s.bell", region_path) >= (int)sizeof(b->dir) ||
	    snprintf(b->self_path, sizeof(b->self_path), "%s/%ld", b->dir, (long)getpid()) >=
		    (int)sizeof(b->self_path) ||
	    snprintf(b->listen_path, sizeof(b->listen_path), "%s_%u", uds_path, CLI_BELL_PORT) >=
		    (int)sizeof(b->listen_path))
		return bell_fail(err, errlen, "shared memory path %s is too long for its doorbell "
			    "socket (at most %zu bytes)", region_path, sizeof(b->dir) - 16);
	if (make_dir(b->dir, err, errlen))
		return -1;
	if ((b->peer_fd = bind_unix(SOCK_DGRAM, b->self_path, err, errlen)) < 0)
		return -1;
	if ((b->listen_fd = bind_unix(SOCK_STREAM, b->listen_path, err, errlen)) < 0)
		return -1;
	if (pipe2(b->stop_pipe, O_CLOEXEC) < 0)
		return bell_fail(err, errlen, "pipe: %s", strerror(errno));
	return 0;
}

static void bell_free(struct cli_bell *b)
{
	for (int i = 0; i < BELL_MAX_CONNS; i++)
		if (b->conns[i].state != CONN_FREE)
			conn_close(b, i);
	if (b->listen_fd >= 0) {
		close(b->listen_fd);
		unlink(b->listen_path);
	}
	if (b->peer_fd >= 0) {
		close(b->peer_fd);
		unlink(b->self_path);
	}
	if (b->stop_pipe[0] >= 0)
		close(b->stop_pipe[0]);
	if (b->stop_pipe[1] >= 0)
		close(b->stop_pipe[1]);
	free(b);
}

int cli_bell_start(const char *region_path, const char *uds_path, struct cli_bell **out,
		   char *err, size_t errlen)
{
	*out = NULL;
	struct cli_bell *b = calloc(1, sizeof(*b));
	if (!b)
		return bell_fail(err, errlen, "out of memory");
	b->listen_fd = b->peer_fd = b->stop_pipe[0] = b->stop_pipe[1] = -1;
	for (int i = 0; i < BELL_MAX_CONNS; i++)
		b->conns[i].fd = -1;
	int rc = bell_open(b, region_path, uds_path, err, errlen);
	if (!rc && (rc = pthread_create(&b->thread, NULL, bell_thread, b)))
		rc = bell_fail(err, errlen, "cannot start the doorbell thread: %s", strerror(rc));
	if (rc) {
		bell_free(b);
		return -1;
	}
	*out = b;
	return 0;
}

void cli_bell_stop(struct cli_bell *b)
{
	if (!b)
		return;
	if (write(b->stop_pipe[1], "x", 1) < 0) {
		/* A pipe we own, never full: cannot fail. */
	}
	pthread_join(b->thread, NULL);
	bell_free(b);
}
