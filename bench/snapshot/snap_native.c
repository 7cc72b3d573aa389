/*
 * snap_native.c - restore latency of a tiny guest on this host's /dev/kvm:
 * from the call to arcvm_vm_restore() to the guest's first instruction after
 * the restore (seen as its first port write, the instruction it runs first or
 * second: the guest is `1: out %al, $0xe0; jmp 1b`).
 *
 *   snap_native SCRATCH_DIR RUNS
 *
 * Prints one line per run and a JSON summary line starting with "RESULT ".
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arcvm.h"

#define LOAD 0x1000
#define PORT 0xe0
#define WAIT_S 10

static const uint8_t guest[] = { 0xe6, 0xe0, 0xeb, 0xfc };   /* out %al,$0xe0; jmp .-2 */

static atomic_long first_ns;
static int first_fd;   /* eventfd: the main thread sleeps on it, leaving the core to the vCPU */

static long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void on_port(void *opaque, uint64_t port, bool is_write, void *data, unsigned len)
{
	long zero = 0;
	if (atomic_compare_exchange_strong(&first_ns, &zero, now_ns()))
		eventfd_write(first_fd, 1);
}

static void check(int rc, const struct arcvm_error *err, const char *what)
{
	if (rc) {
		fprintf(stderr, "snap_native: %s: %s\n", what, err->msg);
		exit(1);
	}
}

/* Waits (WAIT_S at most) for the guest's first port write. */
static void wait_first(void)
{
	struct pollfd p = { .fd = first_fd, .events = POLLIN };
	eventfd_t v;
	if (poll(&p, 1, WAIT_S * 1000) != 1 || eventfd_read(first_fd, &v) < 0) {
		fprintf(stderr, "snap_native: no port write within %d s\n", WAIT_S);
		exit(1);
	}
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

static void snapshot(const char *state, const char *mem)
{
	struct arcvm_config cfg;
	arcvm_config_init(&cfg);
	cfg.boot = ARCVM_BOOT_RAW16;
	cfg.mem_size = 4 << 20;
	cfg.raw_image = guest;
	cfg.raw_size = sizeof(guest);
	cfg.raw_load_addr = LOAD;
	cfg.console_in_fd = cfg.console_out_fd = -1;
	struct arcvm_vm *vm;
	struct arcvm_error err;
	check(arcvm_vm_create(&cfg, &vm, &err), &err, "create");
	check(arcvm_exit_handler(vm, ARCVM_SPACE_PIO, PORT, 1, on_port, NULL, &err), &err, "handler");
	check(arcvm_vm_boot(vm, &err), &err, "boot");
	wait_first();
	check(arcvm_vm_pause(vm, &err), &err, "pause");
	check(arcvm_vm_snapshot(vm, ARCVM_SNAPSHOT_FULL, state, mem, &err), &err, "snapshot");
	arcvm_vm_destroy(vm);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: snap_native SCRATCH_DIR RUNS\n");
		return 2;
	}
	int runs = atoi(argv[2]);
	first_fd = eventfd(0, EFD_CLOEXEC);
	if (runs < 1 || runs > 1000)
		return 2;
	mkdir(argv[1], 0755);
	char state[4096], mem[4096];
	snprintf(state, sizeof(state), "%s/state", argv[1]);
	snprintf(mem, sizeof(mem), "%s/memory", argv[1]);
	snapshot(state, mem);

	long *total = calloc((size_t)runs, sizeof(long)), *restore = calloc((size_t)runs, sizeof(long));
	struct arcvm_restore r;
	arcvm_restore_init(&r);
	r.state_path = state;
	r.console_in_fd = r.console_out_fd = -1;
	/* Two warm-up runs (page cache, KVM module paths), then the measured ones. */
	for (int i = -2; i < runs; i++) {
		struct arcvm_vm *vm;
		struct arcvm_error err;
		atomic_store(&first_ns, 0);
		long t0 = now_ns();
		check(arcvm_vm_restore(&r, &vm, &err), &err, "restore");
		long t1 = now_ns();
		check(arcvm_exit_handler(vm, ARCVM_SPACE_PIO, PORT, 1, on_port, NULL, &err), &err,
		      "handler");
		check(arcvm_vm_resume(vm, &err), &err, "resume");
		wait_first();
		if (i >= 0) {
			total[i] = atomic_load(&first_ns) - t0;
			restore[i] = t1 - t0;
			printf("run %d: restore call %.3f ms, to first instruction %.3f ms\n", i,
			       restore[i] / 1e6, total[i] / 1e6);
		}
		arcvm_vm_destroy(vm);
	}
	qsort(total, (size_t)runs, sizeof(long), cmp_long);
	qsort(restore, (size_t)runs, sizeof(long), cmp_long);
	printf("RESULT {\"runs\": %d, \"median_ms\": %.3f, \"min_ms\": %.3f, \"max_ms\": %.3f, "
	       "\"median_restore_call_ms\": %.3f}\n", runs, total[runs / 2] / 1e6, total[0] / 1e6,
	       total[runs - 1] / 1e6, restore[runs / 2] / 1e6);
	free(total);
	free(restore);
	return 0;
}
