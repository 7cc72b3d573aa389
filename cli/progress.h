/* progress.h - a one-line progress display for long tool runs, and running a
 * tool with its output fed to it. */
#ifndef CLI_PROGRESS_H
#define CLI_PROGRESS_H

#include <stdbool.h>
#include <time.h>

#define PROGRESS_TAIL 12      /* tool output lines kept to explain a failure */
#define PROGRESS_LINE 200

struct progress {
	bool tty;                 /* redraw one line in place; else print milestones */
	struct timespec start;
	int step, nsteps;
	const char *title;        /* the current step */
	char tail[PROGRESS_TAIL][PROGRESS_LINE];
	int ntail;
};

void progress_init(struct progress *p, int nsteps);
/* Starts step `title` (numbered in order). */
void progress_step(struct progress *p, const char *title);
/* Shows `detail` for the current step (the tool's latest line). */
void progress_detail(struct progress *p, const char *detail, bool milestone);
/* Ends the display line; prints `what` with the total time. */
void progress_done(struct progress *p, const char *what);
/* Prints the last lines the tools wrote, after a failure. */
void progress_dump_tail(const struct progress *p);
double progress_elapsed(const struct progress *p);

/* Runs argv (PATH lookup), its stdout and stderr read line by line into the
 * display; `milestone` says which lines a non-terminal display prints (NULL:
 * none). Returns 0 when it exits 0, else -1 after reporting the failure. */
int progress_run(struct progress *p, char *const argv[], bool (*milestone)(const char *line));

#endif
