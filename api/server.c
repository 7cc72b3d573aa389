/* server.c - the API server's epoll loop (see server.h). */
#include "api/server.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/http.h"
#include "api/routes.h"
#include "util/err.h"

#define VM_POLL_MS 100        /* how often a running VM is checked for its end */
#define READ_CHUNK 4096
#define LINGER_MS 1000        /* how long a refused client may still send */

struct conn {
	int fd;                   /* -1: free slot */
	struct api_http http;
	long long deadline;       /* ms on the monotonic clock */
	bool closing;             /* answered and shut down for writing: input is discarded */
};

struct server {
	struct vmctl *ctl;
	const struct api_server_opts *opts;
	int epfd, listen_fd, sig_fd;
	struct conn conns[API_MAX_CONNS];
	bool stop;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_close(struct server *s, struct conn *k)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, k->fd, NULL);
	close(k->fd);
	k->fd = -1;
	k->closing = false;
	/* The next connection in this slot starts from a fresh parser, not
	 * in the middle of this one's request. */
	api_http_reset(&k->http);
	api_http_init(&k->http);
}

/* Answers a request that could not be parsed, and hangs up. Closing with
 * unread input would reset the connection and could destroy the answer
 * before the client reads it, so the rest of its input is read and dropped
 * for a little while first (a lingering close). */
static void conn_refuse(struct server *s, struct conn *k, const char *why)
{
	struct api_reply r;
	api_reply_fault(&r, 400, why);
	int rc = api_http_respond(k->fd, r.status, r.body, false, s->opts->request_timeout_ms);
	free(r.body);
	s->ctl->counters.api_requests++;
	s->ctl->counters.api_errors++;
	vmctl_log(s->ctl, FC_LOG_WARN, "api", "refused a request: %s", why);
	if (rc || shutdown(k->fd, SHUT_WR) < 0) {
		conn_close(s, k);
		return;
	}
	k->closing = true;
	k->deadline = now_ms() + LINGER_MS;
}

/* Runs the complete request in k->http; false when the connection closed. */
static bool conn_serve(struct server *s, struct conn *k)
{
	const struct api_request *req = &k->http.req;
	struct api_reply r;
	api_route(s->ctl, req, &r);
	vmctl_log(s->ctl, r.status < 400 ? FC_LOG_DEBUG : FC_LOG_WARN, "api", "%s %s: %d%s%s",
		  req->method_name, req->url, r.status, r.status < 400 ? "" : " ",
		  r.status < 400 ? "" : r.body ? r.body : "");
	bool keep = req->keep_alive;
	int rc = api_http_respond(k->fd, r.status, r.body, keep, s->opts->request_timeout_ms);
	free(r.body);
	if (rc || !keep) {
		conn_close(s, k);
		return false;
	}
	api_http_reset(&k->http);
	k->deadline = now_ms() + s->opts->idle_timeout_ms;
	return true;
}

/* Feeds what arrived; serves each request it completes (pipelining too). */
static void conn_input(struct server *s, struct conn *k, const char *data, size_t len)
{
	while (len > 0) {
		bool was_started = k->http.started;
		size_t used = api_http_feed(&k->http, data, len);
		if (!was_started && k->http.started)
			k->deadline = now_ms() + s->opts->request_timeout_ms;
		data += used;
		len -= used;
		if (k->http.state == API_HTTP_ERROR) {
			conn_refuse(s, k, k->http.error);
			return;
		}
		if (k->http.state != API_HTTP_DONE) {
			if (api_http_continue(&k->http, k->fd, s->opts->request_timeout_ms))
				conn_close(s, k);
			return;
		}
		if (!conn_serve(s, k))
			return;
	}
}

static void conn_readable(struct server *s, struct conn *k)
{
	char buf[READ_CHUNK];
	for (;;) {
		ssize_t n = recv(k->fd, buf, sizeof(buf), 0);
		if (n > 0 && k->closing)
			continue;
		if (n > 0) {
			conn_input(s, k, buf, (size_t)n);
			if (k->fd < 0)
				return;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* EOF or error: a half request is logged, nothing can be answered. */
		api_http_eof(&k->http);
		if (k->http.state == API_HTTP_ERROR && !k->closing)
			vmctl_log(s->ctl, FC_LOG_WARN, "api", "%s", k->http.error);
		conn_close(s, k);
		return;
	}
}

static void accept_one(struct server *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct conn *k = NULL;
	for (int i = 0; i < API_MAX_CONNS && !k; i++)
		if (s->conns[i].fd < 0)
			k = &s->conns[i];
	struct epoll_event ev = { .events = EPOLLIN };
	if (k) {
		ev.data.ptr = k;
		k->fd = fd;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
			k->deadline = now_ms() + s->opts->idle_timeout_ms;
			return;
		}
		k->fd = -1;
	}
	vmctl_log(s->ctl, FC_LOG_WARN, "api", "too many connections (%d): refused one",
		  API_MAX_CONNS);
	struct api_reply r;
	api_reply_fault(&r, 503, "too many connections to the API socket");
	api_http_respond(fd, r.status, r.body, false, 100);
	free(r.body);
	/* What the client already sent is read first: closing with unread
	 * input would reset the connection and could lose the answer. */
	char sink[READ_CHUNK];
	shutdown(fd, SHUT_WR);
	while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	close(fd);
}

/* Closes connections past their deadline; returns ms until the next one. */
static int expire(struct server *s)
{
	long long now = now_ms(), next = -1;
	for (int i = 0; i < API_MAX_CONNS; i++) {
		struct conn *k = &s->conns[i];
		if (k->fd < 0)
			continue;
		if (k->deadline <= now) {
			if (k->http.started && !k->closing)
				conn_refuse(s, k, "the request did not arrive in time");
			else
				conn_close(s, k);
			if (k->fd < 0)
				continue;
		}
		if (next < 0 || k->deadline - now < next)
			next = k->deadline - now;
	}
	return (int)next;
}

/*
 * Clients wait for the socket file to appear and then connect (as with
 * Firecracker), so it must appear only once it listens: the socket is bound
 * under a temporary name and hard-linked to `path` afterwards, which also
 * refuses an existing file atomically.
 */
static int listen_on(const char *path, struct arcvm_error *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int n = snprintf(a.sun_path, sizeof(a.sun_path), "%s.tmp.%d", path, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(a.sun_path))
		return err_set(err, ARCVM_E_INVALID, "socket path %s is too long (at most %zu"
			       " bytes with room for a temporary name)", path,
			       sizeof(a.sun_path) - 16);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_errno(err, ARCVM_E_IO, errno, "socket failed");
	unlink(a.sun_path);   /* a leftover of a killed process with our pid */
	int rc = 0;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		rc = err_errno(err, err_from_errno(errno), errno, "cannot bind the API socket %s",
			       a.sun_path);
	else if (listen(fd, 16) < 0)
		rc = err_errno(err, ARCVM_E_IO, errno, "cannot listen on %s", a.sun_path);
	else if (link(a.sun_path, path) < 0)
		rc = errno == EEXIST ? err_set(err, ARCVM_E_BUSY, "the API socket %s already exists"
					       " (remove it if no arcvm uses it)", path)
				     : err_errno(err, err_from_errno(errno), errno,
						 "cannot create the API socket %s", path);
	unlink(a.sun_path);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

static int setup(struct server *s, struct arcvm_error *err)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	/* Blocked here before the VM's threads exist, so they inherit it and
	 * the signals arrive only through the signalfd. */
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < API_MAX_CONNS; i++) {
		s->conns[i].fd = -1;
		api_http_init(&s->conns[i].http);
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->epfd < 0 || s->sig_fd < 0)
		return err_errno(err, ARCVM_E_IO, errno, "cannot set up the event loop");
	int fd = listen_on(s->opts->socket_path, err);
	if (fd < 0)
		return fd;
	s->listen_fd = fd;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->listen_fd };
	struct epoll_event sev = { .events = EPOLLIN, .data.ptr = &s->sig_fd };
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->listen_fd, &ev) < 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sig_fd, &sev) < 0)
		return err_errno(err, ARCVM_E_IO, errno, "cannot watch the API socket");
	return 0;
}

static void teardown(struct server *s)
{
	for (int i = 0; i < API_MAX_CONNS; i++) {
		if (s->conns[i].fd >= 0)
			conn_close(s, &s->conns[i]);
		api_http_reset(&s->conns[i].http);
	}
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->opts->socket_path);
	}
	if (s->sig_fd >= 0)
		close(s->sig_fd);
	if (s->epfd >= 0)
		close(s->epfd);
}

int api_serve(struct vmctl *c, const struct api_server_opts *o, enum arcvm_exit_reason *reason,
	      struct arcvm_error *err)
{
	struct server s = { .ctl = c, .opts = o, .epfd = -1, .listen_fd = -1, .sig_fd = -1 };
	int rc = setup(&s, err);
	if (rc) {
		teardown(&s);
		return rc;
	}
	vmctl_log(c, FC_LOG_INFO, "api", "serving the API on %s", o->socket_path);
	*reason = ARCVM_EXIT_NONE;
	while (!s.stop) {
		int timeout = expire(&s);
		if (vmctl_state(c) != VMCTL_NOT_STARTED && (timeout < 0 || timeout > VM_POLL_MS))
			timeout = VM_POLL_MS;
		struct epoll_event evs[8];
		int n = epoll_wait(s.epfd, evs, 8, timeout);
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &s.listen_fd) {
				accept_one(&s);
			} else if (p == &s.sig_fd) {
				struct signalfd_siginfo si;
				if (read(s.sig_fd, &si, sizeof(si)) == sizeof(si))
					vmctl_log(c, FC_LOG_INFO, "api", "signal %u: stopping",
						  si.ssi_signo);
				*reason = ARCVM_EXIT_STOPPED;
				s.stop = true;
			} else if (((struct conn *)p)->fd >= 0) {
				conn_readable(&s, p);
			}
		}
		if (!s.stop && vmctl_poll_exit(c, reason)) {
			vmctl_log(c, FC_LOG_INFO, "api", "the microVM ended: %s",
				  arcvm_exit_reason_name(*reason));
			s.stop = true;
		}
	}
	teardown(&s);
	return 0;
}
