/*
 * progress.c - the progress display of `arcvm image`: on a terminal one
 * status line redrawn in place ("[1:23] 1/3 debootstrap: Unpacking libc6");
 * elsewhere (logs, CI) one line per step and per milestone, never a flood.
 */
#include "cli/progress.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"

#define DISPLAY_WIDTH 100

double progress_elapsed(const struct progress *p)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - p->start.tv_sec) + (now.tv_nsec - p->start.tv_nsec) / 1e9;
}

void progress_init(struct progress *p, int nsteps)
{
	memset(p, 0, sizeof(*p));
	p->tty = isatty(STDERR_FILENO);
	p->nsteps = nsteps;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
}

static void draw(struct progress *p, const char *detail)
{
	int t = (int)progress_elapsed(p);
	char line[DISPLAY_WIDTH + 1];
	snprintf(line, sizeof(line), "[%d:%02d] %d/%d %s%s%s", t / 60, t % 60, p->step, p->nsteps,
		 p->title, detail && *detail ? ": " : "", detail ? detail : "");
	if (p->tty)
		fprintf(stderr, "\r\033[K%s", line);
	else
		fprintf(stderr, "arcvm image: %s\n", line);
}

void progress_step(struct progress *p, const char *title)
{
	p->step++;
	p->title = title;
	draw(p, NULL);
}

void progress_detail(struct progress *p, const char *detail, bool milestone)
{
	if (p->tty || milestone)
		draw(p, detail);
}

void progress_done(struct progress *p, const char *what)
{
	if (p->tty)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "arcvm image: %s in %.1f s\n", what, progress_elapsed(p));
}

static void keep_tail(struct progress *p, const char *line)
{
	if (p->ntail == PROGRESS_TAIL) {
		memmove(p->tail[0], p->tail[1], sizeof(p->tail[0]) * (PROGRESS_TAIL - 1));
		p->ntail--;
	}
	snprintf(p->tail[p->ntail++], PROGRESS_LINE, "%s", line);
}

void progress_dump_tail(const struct progress *p)
{
	for (int i = 0; i < p->ntail; i++)
		fprintf(stderr, "  | %s\n", p->tail[i]);
}

int progress_run(struct progress *p, char *const argv[], bool (*milestone)(const char *line))
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		cli_error("pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		cli_error("fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		execvp(argv[0], argv);
		dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	FILE *f = fdopen(fds[0], "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while (f && (n = getline(&line, &cap, f)) >= 0) {
		line[strcspn(line, "\r\n")] = '\0';
		keep_tail(p, line);
		progress_detail(p, line, milestone && milestone(line));
	}
	free(line);
	if (f)
		fclose(f);
	else
		close(fds[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (p->tty)
		fputs("\r\033[K", stderr);
	if (WIFEXITED(status))
		cli_error("%s failed (exit status %d); its last words:", argv[0], WEXITSTATUS(status));
	else
		cli_error("%s died of signal %d; its last words:", argv[0], WTERMSIG(status));
	progress_dump_tail(p);
	return -1;
}
