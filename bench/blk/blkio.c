/*
 * blkio.c - the guest side of the block benchmark (bench/blk): O_DIRECT I/O
 * on a block device, timed with CLOCK_MONOTONIC, one request in flight.
 * Built static (gcc -static) and added to the benchmark's initramfs.
 *
 *   blkio seqread  DEV MIB        read MIB MiB from offset 0 in 1 MiB blocks
 *   blkio seqwrite DEV MIB        write MIB MiB from offset 0 in 1 MiB blocks,
 *                                 then fdatasync (counted in the time)
 *   blkio randread DEV COUNT SEED [JOBS]
 *                                 COUNT reads of 4 KiB at 4 KiB-aligned
 *                                 offsets drawn from SEED (the same offsets
 *                                 for the same SEED and device size); with
 *                                 JOBS > 1, JOBS threads share the COUNT and
 *                                 keep up to JOBS reads in flight
 *
 * Prints one line: BLKIO <mode> bytes=<n> ops=<n> ns=<n> MBps=<x> IOPS=<x>,
 * the mode being randread_qdJOBS for JOBS > 1.
 * (MB = 10^6 bytes). Exits 1 on any I/O error or short transfer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define SEQ_BLOCK (1u << 20)
#define RAND_BLOCK 4096u

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void report(const char *mode, uint64_t bytes, uint64_t ops, uint64_t ns)
{
	double s = (double)ns / 1e9;
	printf("BLKIO %s bytes=%llu ops=%llu ns=%llu MBps=%.1f IOPS=%.0f\n", mode,
	       (unsigned long long)bytes, (unsigned long long)ops, (unsigned long long)ns,
	       (double)bytes / 1e6 / s, (double)ops / s);
	fflush(stdout);
}

static int fail(const char *what, const char *dev)
{
	fprintf(stderr, "blkio: %s %s: %s\n", what, dev, strerror(errno));
	return 1;
}

static unsigned long parse_num(const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0) {
		fprintf(stderr, "blkio: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

/* xorshift64*: a fixed sequence per seed, good enough to scatter offsets. */
static uint64_t next_rand(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static int seq(const char *dev, int fd, int writing, unsigned long mib, char *buf)
{
	uint64_t t0 = now_ns();
	for (unsigned long i = 0; i < mib; i++) {
		off_t off = (off_t)i * SEQ_BLOCK;
		ssize_t n = writing ? pwrite(fd, buf, SEQ_BLOCK, off) : pread(fd, buf, SEQ_BLOCK, off);
		if (n != (ssize_t)SEQ_BLOCK)
			return fail(writing ? "short write on" : "short read on", dev);
	}
	if (writing && fdatasync(fd) < 0)
		return fail("fdatasync", dev);
	report(writing ? "seqwrite" : "seqread", (uint64_t)mib * SEQ_BLOCK, mib, now_ns() - t0);
	return 0;
}

struct rand_job {
	int fd;
	uint64_t blocks, state;
	unsigned long count;
	char *buf;
	int failed;
};

static void *rand_job_run(void *arg)
{
	struct rand_job *j = arg;
	for (unsigned long i = 0; i < j->count; i++) {
		off_t off = (off_t)(next_rand(&j->state) % j->blocks) * RAND_BLOCK;
		if (pread(j->fd, j->buf, RAND_BLOCK, off) != (ssize_t)RAND_BLOCK) {
			j->failed = errno ? errno : EIO;
			break;
		}
	}
	return NULL;
}

#define MAX_JOBS 64

static int randread(const char *dev, int fd, unsigned long count, unsigned long seed,
		    unsigned long jobs, char *buf)
{
	uint64_t size;
	if (ioctl(fd, BLKGETSIZE64, &size) < 0)
		return fail("BLKGETSIZE64", dev);
	uint64_t blocks = size / RAND_BLOCK;
	if (blocks == 0 || jobs > MAX_JOBS || count < jobs) {
		fprintf(stderr, "blkio: %s too small, or JOBS over %d or over COUNT\n", dev, MAX_JOBS);
		return 1;
	}
	struct rand_job job[MAX_JOBS];
	pthread_t tid[MAX_JOBS];
	for (unsigned long i = 0; i < jobs; i++) {
		job[i] = (struct rand_job){ .fd = fd, .blocks = blocks, .state = (seed + i) | 1,
					    .count = count / jobs, .buf = buf + i * RAND_BLOCK };
	}
	uint64_t t0 = now_ns();
	for (unsigned long i = 1; i < jobs; i++)
		if (pthread_create(&tid[i], NULL, rand_job_run, &job[i]) != 0)
			return fail("pthread_create for", dev);
	rand_job_run(&job[0]);
	for (unsigned long i = 1; i < jobs; i++)
		pthread_join(tid[i], NULL);
	uint64_t ns = now_ns() - t0;
	for (unsigned long i = 0; i < jobs; i++) {
		if (job[i].failed) {
			errno = job[i].failed;
			return fail("short read on", dev);
		}
	}
	char mode[32] = "randread";
	if (jobs > 1)
		snprintf(mode, sizeof(mode), "randread_qd%lu", jobs);
	unsigned long done = count / jobs * jobs;
	report(mode, (uint64_t)done * RAND_BLOCK, done, ns);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4 || (strcmp(argv[1], "randread") == 0 && argc != 5 && argc != 6)) {
		fprintf(stderr, "usage: blkio seqread|seqwrite DEV MIB |"
				" blkio randread DEV COUNT SEED [JOBS]\n");
		return 2;
	}
	const char *mode = argv[1], *dev = argv[2];
	int writing = strcmp(mode, "seqwrite") == 0;
	if (!writing && strcmp(mode, "seqread") && strcmp(mode, "randread")) {
		fprintf(stderr, "blkio: unknown mode '%s'\n", mode);
		return 2;
	}
	unsigned long n = parse_num(argv[3]);
	char *buf = aligned_alloc(4096, SEQ_BLOCK);
	if (!buf)
		return fail("allocating a buffer for", dev);
	for (unsigned i = 0; i < SEQ_BLOCK; i++)
		buf[i] = (char)(i * 131u + 7u);
	int fd = open(dev, (writing ? O_WRONLY : O_RDONLY) | O_DIRECT);
	if (fd < 0)
		return fail("cannot open", dev);
	int rc;
	if (strcmp(mode, "randread") == 0)
		rc = randread(dev, fd, n, parse_num(argv[4]), argc == 6 ? parse_num(argv[5]) : 1, buf);
	else
		rc = seq(dev, fd, writing, n, buf);
	close(fd);
	free(buf);
	return rc;
}
