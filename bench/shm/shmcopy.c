/*
 * shmcopy.c - the host side of bench/shm/shm_bench.sh: times one memcpy of
 * MIB MiB from a private buffer into a private buffer (the anchor), or into
 * the shared-memory file FILE mapped MAP_SHARED (the host's half of moving
 * data into a guest through shared memory). Both buffers are touched first,
 * so the time is the copy, not page faults. Prints the seconds; with FILE it
 * also leaves a known pattern there, whose 64-bit XOR it prints for the
 * guest's `arcvm-shm sum` to match.
 *
 * usage: shmcopy MIB [FILE]
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *map(size_t len, const char *path)
{
	int fd = path ? open(path, O_RDWR) : -1;
	if (path && fd < 0) {
		perror(path);
		exit(1);
	}
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       path ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	if (fd >= 0)
		close(fd);
	memset(p, 0, len);   /* fault every page in before the timed copy */
	return p;
}

int main(int argc, char **argv)
{
	char *end;
	unsigned long mib = argc >= 2 ? strtoul(argv[1], &end, 10) : 0;
	if (argc < 2 || argc > 3 || *end || mib == 0 || mib > (1ul << 20)) {
		fprintf(stderr, "usage: shmcopy MIB [FILE]\n");
		return 2;
	}
	size_t len = mib << 20;
	uint64_t *src = map(len, NULL);
	uint64_t x = 0;
	for (size_t i = 0; i < len / 8; i++) {
		src[i] = i * 0x9E3779B97F4A7C15ull;
		x ^= src[i];
	}
	void *dst = map(len, argc == 3 ? argv[2] : NULL);
	double t0 = now();
	memcpy(dst, src, len);
	double t1 = now();
	printf("seconds=%.4f xor=%016" PRIx64 "\n", t1 - t0, x);
	return 0;
}
