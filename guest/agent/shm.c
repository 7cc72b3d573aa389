/*
 * shm.c - `arcvm-shm`, the guest's way to the host's shared memory
 * (docs/shared-memory.md). arcvm-init runs it when called by that name
 * (/bin/arcvm-shm links to it).
 *
 * The VMM maps the region above guest RAM, marks it reserved in the e820
 * map and names it on the kernel command line as arcvm.shm=SIZE@GPA. The
 * stock kernel reaches it through /dev/mem: a reserved range that no driver
 * claims passes CONFIG_STRICT_DEVMEM and CONFIG_IO_STRICT_DEVMEM, and the
 * mapping is write-back cached (arcvm programs the MTRRs' default type to
 * write-back), so reads and writes go straight to the host's pages.
 *
 *   arcvm-shm info                 "size=0x... gpa=0x..." 
 *   arcvm-shm read [OFF [LEN]]     the region's bytes to stdout
 *   arcvm-shm write [OFF]          stdin into the region (fails when stdin
 *                                  holds more than the region has room for)
 *   arcvm-shm sum [OFF [LEN]]      XOR of the region's 64-bit words, read in
 *                                  place (LEN a multiple of 8): touches every
 *                                  byte without copying it anywhere
 *   arcvm-shm fill SEED [OFF [LEN]]
 *                                  write a pattern in place: the 64-bit word
 *                                  at byte offset 8*K is mix64(SEED + K *
 *                                  0x9e3779b97f4a7c15) (SplitMix64's output
 *                                  function), little-endian. A test that
 *                                  knows SEED checks any word without a copy
 *                                  of the whole.
 *   arcvm-shm ring                 wake whoever waits on the other VMs or
 *                                  processes sharing the region (path=FILE)
 *   arcvm-shm wait [SECS]          sleep until one of them rings (status 0),
 *                                  or SECS pass (status 124)
 *
 * The doorbell is the host's (cli/shm_bell.h): one byte over a vsock
 * connection to the host's port SHM_BELL_PORT, 'R' to ring, 'W' to wait;
 * the answer is one byte ('K' rung, 'N' woken). Waiting blocks in poll().
 *
 * A program maps it itself: mmap(NULL, size, PROT_READ | PROT_WRITE,
 * MAP_SHARED, fd, gpa) with fd = open("/dev/mem", O_RDWR), never O_SYNC
 * (which asks /dev/mem for an uncached mapping).
 */
#include "agent.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#define SHM_CHUNK (1u << 20)
#define SHM_BELL_PORT 1025u   /* CLI_BELL_PORT in cli/shm_bell.h */
#define SHM_HOST_CID 2u

/* Strict unsigned number in C syntax (0x... hex, else decimal). */
static int parse_u64(const char *s, uint64_t *out)
{
	if (!*s || *s == '-' || *s == '+')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int shm_find(uint64_t *size, uint64_t *gpa)
{
	char buf[4096];
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (char *w = strtok(buf, " \n"); w; w = strtok(NULL, " \n")) {
		if (strncmp(w, "arcvm.shm=", 10) != 0)
			continue;
		char *at = strchr(w + 10, '@');
		if (!at)
			return -1;
		*at = '\0';
		if (parse_u64(w + 10, size) || parse_u64(at + 1, gpa) || *size == 0)
			return -1;
		return 0;
	}
	return -1;
}

static int usage(void)
{
	fprintf(stderr, "usage: arcvm-shm info | read [OFF [LEN]] | write [OFF] | sum [OFF [LEN]]"
		" | fill SEED [OFF [LEN]] | ring | wait [SECS]\n");
	return 2;
}

/* [off, off+len) of the region from argv (defaults: 0, the rest). */
static int take_range(int argc, char **argv, uint64_t size, uint64_t *off, uint64_t *len)
{
	*off = 0;
	if (argc > 0 && parse_u64(argv[0], off)) {
		fprintf(stderr, "arcvm-shm: bad offset '%s'\n", argv[0]);
		return -1;
	}
	if (*off > size) {
		fprintf(stderr, "arcvm-shm: offset %" PRIu64 " is beyond the region's %" PRIu64
			" bytes\n", *off, size);
		return -1;
	}
	*len = size - *off;
	if (argc > 1 && parse_u64(argv[1], len)) {
		fprintf(stderr, "arcvm-shm: bad length '%s'\n", argv[1]);
		return -1;
	}
	if (*len > size - *off) {
		fprintf(stderr, "arcvm-shm: %" PRIu64 " bytes at %" PRIu64 " run past the region's "
			"%" PRIu64 " bytes\n", *len, *off, size);
		return -1;
	}
	return 0;
}

void *shm_map(uint64_t gpa, uint64_t size)
{
	int fd = open("/dev/mem", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		fprintf(stderr, "arcvm-shm: cannot open /dev/mem: %s\n", strerror(e));
		errno = e;
		return NULL;
	}
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)gpa);
	int e = errno;
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "arcvm-shm: cannot map the region from /dev/mem: %s\n", strerror(e));
		errno = e;
		return NULL;
	}
	return p;
}

static int write_all(int fd, const uint8_t *p, uint64_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len < SHM_CHUNK ? len : SHM_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (uint64_t)n;
	}
	return 0;
}

static int cmd_read(uint8_t *base, uint64_t off, uint64_t len)
{
	if (write_all(STDOUT_FILENO, base + off, len)) {
		fprintf(stderr, "arcvm-shm: write to stdout: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

static int cmd_write(uint8_t *base, uint64_t off, uint64_t room)
{
	uint64_t got = 0;
	for (;;) {
		uint8_t extra;
		/* Read straight into the region; one byte past its end tells
		 * "exactly full" from "too much input". */
		size_t want = room - got ? (room - got < SHM_CHUNK ? room - got : SHM_CHUNK) : 1;
		ssize_t n = read(STDIN_FILENO, room - got ? base + off + got : &extra, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "arcvm-shm: read from stdin: %s\n", strerror(errno));
			return 1;
		}
		if (n == 0)
			return 0;
		if (got == room) {
			fprintf(stderr, "arcvm-shm: stdin holds more than the %" PRIu64
				" bytes of room at offset %" PRIu64 "\n", room, off);
			return 1;
		}
		got += (uint64_t)n;
	}
}

/* sum and fill work in 64-bit words. */
static bool words_aligned(const char *cmd, uint64_t off, uint64_t len)
{
	if (!((off | len) & 7))
		return true;
	fprintf(stderr, "arcvm-shm: %s needs an offset and length that are multiples of 8\n", cmd);
	return false;
}

static int cmd_sum(const uint8_t *base, uint64_t off, uint64_t len)
{
	if (!words_aligned("sum", off, len))
		return 2;
	const volatile uint64_t *w = (const volatile uint64_t *)(base + off);
	uint64_t x = 0;
	for (uint64_t i = 0; i < len / 8; i++)
		x ^= w[i];
	printf("%016" PRIx64 "\n", x);
	return 0;
}

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int cmd_fill(uint8_t *base, uint64_t seed, uint64_t off, uint64_t len)
{
	if (!words_aligned("fill", off, len))
		return 2;
	uint64_t *w = (uint64_t *)(base + off);
	for (uint64_t i = 0, k = off / 8; i < len / 8; i++, k++)
		w[i] = htole64(mix64(seed + k * 0x9e3779b97f4a7c15ull));
	return 0;
}

int shm_bell(char cmd, int secs, char *err, size_t errlen)
{
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = SHM_HOST_CID,
				 .svm_port = SHM_BELL_PORT };
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		snprintf(err, errlen, "no doorbell (%s): the host offers one for a region "
			 "shared by path (--shared-mem SIZE,path=FILE)", strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	char c = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ready;
	errno = 0;
	if (write(fd, &cmd, 1) != 1 ||
	    ((ready = poll(&p, 1, secs < 0 ? -1 : secs * 1000)) > 0 && read(fd, &c, 1) != 1)) {
		snprintf(err, errlen, "the doorbell connection failed: %s",
			 errno ? strerror(errno) : "closed by the host (too many waiters?)");
		close(fd);
		return 1;
	}
	close(fd);
	if (ready == 0)
		return 124;
	if (c != (cmd == 'R' ? 'K' : 'N')) {
		snprintf(err, errlen, "unexpected doorbell answer 0x%02x", (unsigned char)c);
		return 1;
	}
	return 0;
}

static int bell(char cmd, int secs)
{
	char err[256];
	int rc = shm_bell(cmd, secs, err, sizeof err);
	if (rc == 1)
		fprintf(stderr, "arcvm-shm: %s\n", err);
	return rc;
}

int shm_main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	uint64_t size, gpa;
	if (shm_find(&size, &gpa)) {
		fprintf(stderr, "arcvm-shm: this VM has no shared memory (no arcvm.shm= on the "
			"kernel command line; start it with --shared-mem)\n");
		return 1;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "info") == 0) {
		printf("size=0x%" PRIx64 " gpa=0x%" PRIx64 "\n", size, gpa);
		return 0;
	}
	if (strcmp(cmd, "ring") == 0 && argc == 2)
		return bell('R', -1);
	if (strcmp(cmd, "wait") == 0 && argc <= 3) {
		uint64_t secs = 0;
		if (argc == 3 && (parse_u64(argv[2], &secs) || secs > 86400 * 365)) {
			fprintf(stderr, "arcvm-shm: bad wait time '%s' (seconds)\n", argv[2]);
			return 2;
		}
		return bell('W', argc == 3 ? (int)secs : -1);
	}
	bool fill = strcmp(cmd, "fill") == 0;
	bool known = !strcmp(cmd, "read") || !strcmp(cmd, "write") || !strcmp(cmd, "sum") || fill;
	int first = fill ? 3 : 2;      /* where OFF [LEN] start */
	int nargs = strcmp(cmd, "write") == 0 ? 1 : 2;
	if (!known || argc < first || argc - first > nargs)
		return usage();
	uint64_t seed = 0;
	if (fill && parse_u64(argv[2], &seed)) {
		fprintf(stderr, "arcvm-shm: bad seed '%s'\n", argv[2]);
		return 2;
	}
	uint64_t off, len;
	if (take_range(argc - first, argv + first, size, &off, &len))
		return 2;
	uint8_t *base = shm_map(gpa, size);
	if (!base)
		return 1;
	if (strcmp(cmd, "read") == 0)
		return cmd_read(base, off, len);
	if (strcmp(cmd, "write") == 0)
		return cmd_write(base, off, len);
	if (fill)
		return cmd_fill(base, seed, off, len);
	return cmd_sum(base, off, len);
}
