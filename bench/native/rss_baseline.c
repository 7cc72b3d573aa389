/*
 * rss_baseline.c - the part of a VMM's peak RSS that is only the C runtime:
 * a program built like build/arcvm (same compiler flags, dynamically linked
 * against libc with -pthread) that starts one thread, joins it and exits.
 * Its ru_maxrss is what arcvm would cost if it did nothing at all.
 */
#include <pthread.h>
#include <stdio.h>

static void *idle(void *arg)
{
	return arg;
}

int main(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, idle, NULL) != 0) {
		fprintf(stderr, "rss_baseline: pthread_create failed\n");
		return 1;
	}
	pthread_join(t, NULL);
	return 0;
}
