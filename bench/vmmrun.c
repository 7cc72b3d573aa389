/*
 * vmmrun.c - runs one command and reports its true peak RSS.
 *
 * ru_maxrss of a child cannot be read from a Python harness directly: at
 * execve() the kernel folds the high-water RSS of the memory the child came
 * from into the child's ru_maxrss, and a child forked (or vforked) by Python
 * came from Python's ~13 MiB. This launcher is linked statically, so what it
 * hands on at fork is ~0.1 MiB, below any VMM's own RSS.
 *
 * usage: vmmrun RESULT CMD [ARGS...]
 * Runs CMD with this process's stdin, stdout and stderr, waits for it and
 * writes "exit=<code> maxrss_kib=<n> cpu_us=<user+system>\n" to the file
 * RESULT (code is -N when signal N ended CMD). Exits with CMD's status, 128+N for a signal, 127 when
 * CMD could not be started, 126 when RESULT could not be written.
 * SIGTERM and SIGINT are passed on to CMD.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: vmmrun RESULT CMD [ARGS...]\n");
		return 2;
	}
	child = fork();
	if (child < 0) {
		fprintf(stderr, "vmmrun: fork: %s\n", strerror(errno));
		return 127;
	}
	if (child == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "vmmrun: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	signal(SIGTERM, forward);
	signal(SIGINT, forward);

	int status;
	struct rusage ru;
	while (wait4(child, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "vmmrun: wait4: %s\n", strerror(errno));
			return 127;
		}
	}
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
	FILE *f = fopen(argv[1], "w");
	long long cpu_us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL +
			   ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
	if (!f || fprintf(f, "exit=%d maxrss_kib=%ld cpu_us=%lld\n", code, ru.ru_maxrss,
			  cpu_us) < 0 || fclose(f)) {
		fprintf(stderr, "vmmrun: cannot write %s\n", argv[1]);
		return 126;
	}
	return code >= 0 ? code : 128 - code;
}
