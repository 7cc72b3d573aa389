/*
 * exec.c - runs one EXEC: forks the command on pipes (or a pty), then one
 * poll loop streams its stdout/stderr to the host as it is produced, feeds
 * it the host's stdin, applies WINCH and SIGNAL, and ends with EXIT once the
 * command has exited and its pipes are drained.
 *
 * Stdin is buffered here up to STDIN_MAX bytes; past that the loop stops
 * reading the connection until the command reads (the host keeps draining
 * our output meanwhile, so neither side can deadlock on the other).
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define STDIN_MAX (1u << 20)
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

enum fail_stage { STAGE_SETUP, STAGE_CHDIR, STAGE_USER, STAGE_EXEC };
struct child_failure { int stage, err; };

struct job {
	int conn;
	pid_t pid;
	int pidfd;
	int out_fd, err_fd;   /* ours; -1 once at EOF (err_fd is -1 for a pty) */
	int in_fd;            /* ours; the pty master for a tty, -1 after EOF */
	bool tty, stdin_eof, conn_gone;
	uint8_t *in_buf;      /* pending stdin */
	size_t in_len;
	uint8_t *rx;
	size_t *rx_len;
};

/* The environment: defaults, each replaced by a request entry of the same name. */
static char **build_env(const struct proto_exec *e)
{
	const char *defaults[] = { DEFAULT_PATH, "HOME=/root", "TERM=linux" };
	size_t nd = e->flags & PROTO_EXEC_TTY ? 3 : 2;
	char **env = calloc(nd + e->envc + 1, sizeof(char *));
	size_t n = 0;
	if (!env)
		return NULL;
	for (size_t i = 0; i < nd; i++) {
		size_t klen = strcspn(defaults[i], "=") + 1;
		bool overridden = false;
		for (uint32_t j = 0; j < e->envc; j++)
			overridden |= strncmp(e->env[j], defaults[i], klen) == 0;
		if (!overridden)
			env[n++] = (char *)defaults[i];
	}
	for (uint32_t j = 0; j < e->envc; j++)
		env[n++] = (char *)e->env[j];
	return env;
}

static void child_fail(int report_fd, int stage)
{
	struct child_failure f = { stage, errno };
	if (write(report_fd, &f, sizeof(f)) < 0)
		_exit(127);
	_exit(127);
}

/* In the child: new session, stdio, signals, workdir, user, exec. */
static void child_main(const struct proto_exec *e, const char *pts, int fds[3], int report_fd)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (setsid() < 0)
		child_fail(report_fd, STAGE_SETUP);
	if (pts) {
		int fd = open(pts, O_RDWR);
		if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0)
			child_fail(report_fd, STAGE_SETUP);
		fds[0] = fds[1] = fds[2] = fd;
	}
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			child_fail(report_fd, STAGE_SETUP);
	if (chdir(e->workdir[0] ? e->workdir : "/"))
		child_fail(report_fd, STAGE_CHDIR);
	if ((e->flags & PROTO_EXEC_USER) &&
	    (setgroups(0, NULL) || setgid(e->gid) || setuid(e->uid)))
		child_fail(report_fd, STAGE_USER);
	char **env = build_env(e);
	if (!env)
		child_fail(report_fd, STAGE_SETUP);
	environ = env;
	execvp(e->argv[0], (char *const *)e->argv);
	child_fail(report_fd, STAGE_EXEC);
}

static int open_pty(const struct proto_exec *e, int *master, char *pts, size_t pts_len)
{
	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0 || grantpt(*master) || unlockpt(*master) || ptsname_r(*master, pts, pts_len))
		return -errno;
	struct winsize ws = { .ws_row = e->rows, .ws_col = e->cols };
	if (ws.ws_row && ws.ws_col)
		ioctl(*master, TIOCSWINSZ, &ws);
	return 0;
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Pipes: [0] stdin, [1] stdout, [2] stderr; child ends are theirs[], ours[]
 * stay here. All CLOEXEC, so the child keeps only what it dup2'd. */
static int make_pipes(int theirs[3], int ours[3])
{
	int p[3][2];
	for (int i = 0; i < 3; i++) {
		if (pipe2(p[i], O_CLOEXEC)) {
			int err = -errno;
			while (i--) {
				close(p[i][0]);
				close(p[i][1]);
			}
			return err;
		}
	}
	theirs[0] = p[0][0]; ours[0] = p[0][1];
	theirs[1] = p[1][1]; ours[1] = p[1][0];
	theirs[2] = p[2][1]; ours[2] = p[2][0];
	return 0;
}

/* Tells the host why the command did not start: a missing or unrunnable
 * program is an EXIT 127/126 like a shell's; anything else an ERROR. */
static int report_failure(struct job *j, const struct proto_exec *e, const struct child_failure *f)
{
	waitpid(j->pid, NULL, 0);
	if (f->stage == STAGE_EXEC) {
		char msg[512];
		int n = snprintf(msg, sizeof(msg), "arcvm-init: %s: %s\n", e->argv[0], strerror(f->err));
		uint8_t ex[8];
		if (agent_send(j->conn, PROTO_STDERR, msg, (size_t)n > sizeof(msg) ? sizeof(msg) : (size_t)n))
			return -1;
		return agent_send(j->conn, PROTO_EXIT, ex,
				  proto_put_exit(ex, PROTO_EXITED, f->err == ENOENT ? 127 : 126)) ? -1 : 0;
	}
	static const char *what[] = { "cannot set up the command", "cannot change to the working"
				      " directory", "cannot switch to the user" };
	return agent_send_error(j->conn, f->err, "%s %s: %s", what[f->stage],
				f->stage == STAGE_CHDIR ? e->workdir : "",
				strerror(f->err)) ? -1 : 0;
}

static int spawn(struct job *j, const struct proto_exec *e)
{
	int theirs[3] = { -1, -1, -1 }, ours[3] = { -1, -1, -1 }, report[2];
	char pts[128];
	int rc = j->tty ? open_pty(e, &ours[1], pts, sizeof(pts)) : make_pipes(theirs, ours);
	if (rc || pipe2(report, O_CLOEXEC))
		return agent_send_error(j->conn, rc ? -rc : errno, "cannot create the command's %s",
					j->tty ? "pty" : "pipes") ? -1 : 1;
	j->pid = fork();
	if (j->pid == 0) {
		close(report[0]);
		child_main(e, j->tty ? pts : NULL, theirs, report[1]);
	}
	close(report[1]);
	for (int i = 0; i < 3; i++)
		if (theirs[i] >= 0)
			close(theirs[i]);
	j->out_fd = ours[1];
	j->err_fd = j->tty ? -1 : ours[2];
	j->in_fd = j->tty ? ours[1] : ours[0];
	struct child_failure f;
	ssize_t n = j->pid > 0 ? read(report[0], &f, sizeof(f)) : -1;
	close(report[0]);
	if (n == (ssize_t)sizeof(f))
		return report_failure(j, e, &f) ? -1 : 1;
	if (j->pid < 0)
		return agent_send_error(j->conn, errno, "fork: %s", strerror(errno)) ? -1 : 1;
	j->pidfd = (int)syscall(SYS_pidfd_open, j->pid, 0);
	set_nonblock(j->out_fd);
	if (j->err_fd >= 0)
		set_nonblock(j->err_fd);
	if (!j->tty)
		set_nonblock(j->in_fd);
	return 0;
}

/* Reads what one output fd holds now into a frame; false at EOF (or EIO: a
 * pty whose last slave closed). */
static bool pump_output(struct job *j, int fd, uint8_t type)
{
	static uint8_t buf[PROTO_DATA_CHUNK];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	if (!j->conn_gone && agent_send(j->conn, type, buf, (size_t)n))
		j->conn_gone = true;
	return true;
}

static void close_stdin(struct job *j)
{
	if (j->tty) {
		/* A pty has no EOF of its own: the line discipline's EOF character. */
		char eof = 4;
		if (write(j->in_fd, &eof, 1) < 0)
			agent_log("pty EOF: %s", strerror(errno));
	} else if (j->in_fd >= 0) {
		close(j->in_fd);
		j->in_fd = -1;
	}
}

static void flush_stdin(struct job *j)
{
	if (j->in_len) {
		ssize_t n = write(j->in_fd, j->in_buf, j->in_len);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			j->in_len = 0; /* the command closed its stdin: drop the rest */
		} else if (n > 0) {
			memmove(j->in_buf, j->in_buf + n, j->in_len - (size_t)n);
			j->in_len -= (size_t)n;
		}
	}
	if (!j->in_len && j->stdin_eof) {
		close_stdin(j);
		j->stdin_eof = false;
	}
}

/* One frame from the host while the command runs. */
static void host_frame(struct job *j, const struct proto_header *h, const uint8_t *p)
{
	uint16_t rows, cols;
	uint32_t sig;
	switch (h->type) {
	case PROTO_STDIN:
		if (j->in_fd >= 0 && h->length <= STDIN_MAX + PROTO_MAX_PAYLOAD - j->in_len) {
			memcpy(j->in_buf + j->in_len, p, h->length);
			j->in_len += h->length;
		}
		break;
	case PROTO_STDIN_EOF:
		j->stdin_eof = true;
		break;
	case PROTO_WINCH:
		if (j->tty && !proto_get_winch(p, h->length, &rows, &cols)) {
			struct winsize ws = { .ws_row = rows, .ws_col = cols };
			ioctl(j->in_fd, TIOCSWINSZ, &ws);
		}
		break;
	case PROTO_SIGNAL:
		if (!proto_get_u32(p, h->length, &sig) && sig > 0 && sig < 65) {
			kill(-j->pid, (int)sig);
			kill(j->pid, (int)sig);
		}
		break;
	default:
		agent_log("ignoring %s while a command runs", proto_type_name(h->type));
	}
}

static void process_rx(struct job *j);

static void read_host(struct job *j)
{
	ssize_t n = read(j->conn, j->rx + *j->rx_len, AGENT_RX_SIZE - *j->rx_len);
	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		/* The host is gone: nobody will read the output; end the command. */
		j->conn_gone = true;
		kill(-j->pid, SIGKILL);
		kill(j->pid, SIGKILL);
		return;
	}
	*j->rx_len += (size_t)n;
	process_rx(j);
}

/* Applies every whole frame in rx (some may have come with the EXEC). */
static void process_rx(struct job *j)
{
	struct proto_header h;
	const uint8_t *p;
	long size;
	while ((size = proto_next_frame(j->rx, *j->rx_len, &h, &p)) > 0) {
		host_frame(j, &h, p);
		memmove(j->rx, j->rx + size, *j->rx_len - (size_t)size);
		*j->rx_len -= (size_t)size;
	}
	if (size < 0) {
		j->conn_gone = true;
		kill(-j->pid, SIGKILL);
	}
}

static bool child_exited(struct job *j, int *status)
{
	return waitpid(j->pid, status, WNOHANG) == j->pid;
}

static int finish(struct job *j, int status)
{
	/* Everything the command wrote is in the pipes now: drain to EAGAIN. */
	while (j->out_fd >= 0 && pump_output(j, j->out_fd, PROTO_STDOUT)) {
		struct pollfd p = { .fd = j->out_fd, .events = POLLIN };
		if (poll(&p, 1, 0) <= 0)
			break;
	}
	while (j->err_fd >= 0 && pump_output(j, j->err_fd, PROTO_STDERR)) {
		struct pollfd p = { .fd = j->err_fd, .events = POLLIN };
		if (poll(&p, 1, 0) <= 0)
			break;
	}
	uint8_t ex[8];
	size_t n = WIFSIGNALED(status) ? proto_put_exit(ex, PROTO_SIGNALED, (uint32_t)WTERMSIG(status))
				       : proto_put_exit(ex, PROTO_EXITED, (uint32_t)WEXITSTATUS(status));
	return j->conn_gone || agent_send(j->conn, PROTO_EXIT, ex, n) ? -1 : 0;
}

static void loop(struct job *j)
{
	for (;;) {
		/* Before sleeping: frames taken from rx may have left stdin work. */
		if (j->in_fd >= 0 && (j->in_len || j->stdin_eof))
			flush_stdin(j);
		struct pollfd p[5] = {
			{ .fd = j->conn_gone || j->in_len > STDIN_MAX ? -1 : j->conn, .events = POLLIN },
			{ .fd = j->out_fd, .events = POLLIN },
			{ .fd = j->err_fd, .events = POLLIN },
			{ .fd = j->in_len ? j->in_fd : -1, .events = POLLOUT },
			{ .fd = j->pidfd, .events = POLLIN },
		};
		/* Without a pidfd (old kernel) the loop looks at the child every 100 ms. */
		if (poll(p, 5, j->pidfd >= 0 ? -1 : 100) < 0 && errno != EINTR)
			return;
		if (p[0].revents)
			read_host(j);
		if (p[1].revents && !pump_output(j, j->out_fd, PROTO_STDOUT)) {
			if (j->in_fd == j->out_fd)
				j->in_fd = -1;
			close(j->out_fd);
			j->out_fd = -1;
		}
		if (p[2].revents && !pump_output(j, j->err_fd, PROTO_STDERR)) {
			close(j->err_fd);
			j->err_fd = -1;
		}
		if (p[4].revents || j->pidfd < 0)
			return;
	}
}

int agent_run_exec(int conn, const struct proto_exec *e, uint8_t *rx, size_t *rx_len)
{
	struct job j = {
		.conn = conn, .pidfd = -1, .out_fd = -1, .err_fd = -1, .in_fd = -1,
		.tty = e->flags & PROTO_EXEC_TTY, .rx = rx, .rx_len = rx_len,
		.in_buf = malloc(STDIN_MAX + PROTO_MAX_PAYLOAD),
	};
	int rc = j.in_buf ? spawn(&j, e) : agent_send_error(conn, ENOMEM, "out of memory") ? -1 : 1;
	if (rc == 0) {
		int status = 0;
		process_rx(&j);
		while (!child_exited(&j, &status))
			loop(&j);
		rc = finish(&j, status);
	}
	if (j.pidfd >= 0)
		close(j.pidfd);
	if (j.out_fd >= 0)
		close(j.out_fd);
	if (j.err_fd >= 0)
		close(j.err_fd);
	if (j.in_fd >= 0 && j.in_fd != j.out_fd)
		close(j.in_fd);
	free(j.in_buf);
	return rc < 0 ? -1 : 0;
}
