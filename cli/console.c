/* console.c - raw terminal mode and the escape key (see console.h). */
#include "cli/console.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved_tty;
static volatile sig_atomic_t tty_saved;
static struct arcvm_vm *relay_vm;

static void tty_restore(void)
{
	if (tty_saved) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
		tty_saved = 0;
	}
}

/* Fatal signals restore the terminal, then die as they would have. */
static void fatal_signal(int sig)
{
	tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void *relay_thread(void *arg)
{
	struct cli_console *c = arg;
	bool escape = false;
	if (!c->tty) {
		/* A file or device on stdin: copy it as it is, then EOF. */
		char buf[4096];
		ssize_t n;
		while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
			if (write(c->pipe_wr, buf, (size_t)n) < 0)
				break;
		close(c->pipe_wr);
		return NULL;
	}
	unsigned char buf[256], out[256];
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size_t m = 0;
		for (ssize_t i = 0; i < n; i++) {
			if (escape) {
				escape = false;
				if (buf[i] == 'x' || buf[i] == 'X') {
					arcvm_vm_request_stop(relay_vm);
					return NULL;
				}
				if (buf[i] == CONSOLE_ESCAPE_KEY)
					out[m++] = CONSOLE_ESCAPE_KEY;
				continue;
			}
			if (buf[i] == CONSOLE_ESCAPE_KEY)
				escape = true;
			else
				out[m++] = buf[i];
		}
		if (m && write(c->pipe_wr, out, m) < 0 && errno != EINTR)
			break;
	}
	return NULL;
}

int console_open(struct cli_console *c)
{
	memset(c, 0, sizeof(*c));
	c->pipe_wr = -1;
	c->guest_in_fd = STDIN_FILENO;
	bool tty = isatty(STDIN_FILENO);
	struct stat st;
	if (!tty && fstat(STDIN_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return 0;   /* pipes and sockets can be polled by the VM directly */
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	c->guest_in_fd = fds[0];
	c->pipe_wr = fds[1];
	if (!tty)
		return 0;   /* a regular file or a device: relayed through the pipe */
	if (tcgetattr(STDIN_FILENO, &saved_tty) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	struct termios raw = saved_tty;
	cfmakeraw(&raw);
	tty_saved = 1;
	atexit(tty_restore);
	static const int sigs[] = { SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGABRT, SIGBUS };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], fatal_signal);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
	c->tty = true;
	return 0;
}

int console_start(struct cli_console *c, struct arcvm_vm *vm)
{
	if (c->pipe_wr < 0)
		return 0;
	relay_vm = vm;
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64u << 10);   /* a 4 KiB buffer is all it keeps */
	int rc = pthread_create(&t, &attr, relay_thread, c);
	pthread_attr_destroy(&attr);
	if (rc)
		return -rc;
	pthread_detach(t);   /* blocked in read(stdin); it ends with the process */
	return 0;
}

void console_close(struct cli_console *c)
{
	tty_restore();
}
