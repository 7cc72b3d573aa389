/*
 * test_snapshot.c - the native tier for pause, snapshots and restore: tiny
 * counting guests on this host's /dev/kvm (PVM included). A restored VM must
 * carry on from the snapshot's instant (registers and memory equal), two VMs
 * may run from one snapshot, diff snapshots restore on top of their base, and
 * every kind of damaged snapshot is refused with ARCVM_E_FORMAT (or
 * NOT_FOUND), never a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/native/native.h"

GUEST_DECL(rm_count_forever);
GUEST_DECL(rm_count_in);

#define COUNTER 0x3000ull
#define BAD_READS 0x3004ull
#define PORT_ANSWER 0x5a5a5a5au
#define WAIT_MS 10000

static char dir[64];

static int setup_dir(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/arcvm-snap-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *path_in(const char *name)
{
	static char bufs[4][128];
	static int next;
	char *b = bufs[next++ % 4];
	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t read_u32(struct arcvm_vm *vm, uint64_t gpa)
{
	uint32_t v = 0;
	struct arcvm_error err;
	if (arcvm_read_guest(vm, gpa, &v, sizeof(v), &err))
		fail_msg("arcvm_read_guest: %s", err.msg);
	return v;
}

/* Waits (WAIT_MS at most) until the guest's counter passes `above`. */
static uint32_t wait_counter_above(struct arcvm_vm *vm, uint32_t above)
{
	int64_t deadline = now_ms() + WAIT_MS;
	uint32_t v;
	while ((v = read_u32(vm, COUNTER)) <= above) {
		if (now_ms() > deadline)
			fail_msg("the guest's counter stayed at %u for %d ms", v, WAIT_MS);
		usleep(1000);
	}
	return v;
}

static struct arcvm_vm *boot_counter(const uint8_t *code, size_t size, bool track,
				     struct port_log *log)
{
	struct arcvm_config cfg;
	native_config(&cfg, ARCVM_BOOT_RAW16, code, size);
	cfg.track_dirty_pages = track;
	struct arcvm_vm *vm;
	struct arcvm_error err;
	if (arcvm_vm_create(&cfg, &vm, &err))
		fail_msg("arcvm_vm_create: %s", err.msg);
	if (log)
		native_watch_ports(vm, log);
	if (arcvm_vm_boot(vm, &err))
		fail_msg("arcvm_vm_boot: %s", err.msg);
	wait_counter_above(vm, 0);
	return vm;
}

#define BOOT_COUNTER(track) boot_counter(rm_count_forever_start, GUEST_SIZE(rm_count_forever), \
					 track, NULL)

static void pause_vm(struct arcvm_vm *vm)
{
	struct arcvm_error err;
	if (arcvm_vm_pause(vm, &err))
		fail_msg("arcvm_vm_pause: %s", err.msg);
}

static void resume_vm(struct arcvm_vm *vm)
{
	struct arcvm_error err;
	if (arcvm_vm_resume(vm, &err))
		fail_msg("arcvm_vm_resume: %s", err.msg);
}

static void snapshot(struct arcvm_vm *vm, enum arcvm_snapshot_type type, const char *state,
		     const char *mem)
{
	struct arcvm_error err;
	if (arcvm_vm_snapshot(vm, type, state, mem, &err))
		fail_msg("arcvm_vm_snapshot: %s", err.msg);
}

static int try_restore(const char *state, const char *mem, struct arcvm_vm **vm,
		       struct arcvm_error *err)
{
	struct arcvm_restore r;
	arcvm_restore_init(&r);
	r.state_path = state;
	r.mem_path = mem;
	r.console_in_fd = r.console_out_fd = -1;
	return arcvm_vm_restore(&r, vm, err);
}

static struct arcvm_vm *restore(const char *state, const char *mem)
{
	struct arcvm_vm *vm;
	struct arcvm_error err;
	if (try_restore(state, mem, &vm, &err))
		fail_msg("arcvm_vm_restore: %s", err.msg);
	assert_int_equal(arcvm_vm_state(vm), ARCVM_STATE_PAUSED);
	return vm;
}

static void get_regs(struct arcvm_vm *vm, struct arcvm_regs *r)
{
	struct arcvm_error err;
	if (arcvm_vcpu_get_regs(vm, 0, r, &err))
		fail_msg("arcvm_vcpu_get_regs: %s", err.msg);
}

static void test_pause_stops_the_counter_and_resume_restarts_it(void **state)
{
	struct arcvm_vm *vm = BOOT_COUNTER(false);
	pause_vm(vm);
	uint32_t c1 = read_u32(vm, COUNTER);
	usleep(20000);
	assert_int_equal(read_u32(vm, COUNTER), c1);
	resume_vm(vm);
	wait_counter_above(vm, c1);
	arcvm_vm_destroy(vm);
}

static void test_restore_carries_on_from_the_snapshot(void **state)
{
	struct arcvm_vm *vm = BOOT_COUNTER(false);
	pause_vm(vm);
	struct arcvm_regs before, after;
	get_regs(vm, &before);
	uint32_t c1 = read_u32(vm, COUNTER);
	snapshot(vm, ARCVM_SNAPSHOT_FULL, path_in("s1.state"), path_in("s1.mem"));
	assert_int_equal(arcvm_vm_state(vm), ARCVM_STATE_PAUSED);
	arcvm_vm_destroy(vm);

	struct arcvm_vm *r = restore(path_in("s1.state"), NULL);
	get_regs(r, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(read_u32(r, COUNTER), c1);
	resume_vm(r);
	wait_counter_above(r, c1);
	arcvm_vm_destroy(r);
}

/* The guest spends most of its time in port reads, so a pause mostly lands
 * right after one: its value must reach the guest before the state is saved,
 * or the restored guest runs the read again (the handler then counts more
 * reads than the guest made loop turns). */
static void test_port_read_in_flight_survives_snapshots(void **state)
{
	struct port_log log = { .input_value = PORT_ANSWER };
	struct arcvm_vm *vm = boot_counter(rm_count_in_start, GUEST_SIZE(rm_count_in), false, &log);
	for (int round = 0; round < 50; round++) {
		pause_vm(vm);
		uint32_t c = read_u32(vm, COUNTER);
		snapshot(vm, ARCVM_SNAPSHOT_FULL, path_in("io.state"), path_in("io.mem"));
		arcvm_vm_destroy(vm);
		vm = restore(path_in("io.state"), NULL);
		native_watch_ports(vm, &log);
		resume_vm(vm);
		wait_counter_above(vm, c + 10);
	}
	pause_vm(vm);
	assert_int_equal(read_u32(vm, BAD_READS), 0);
	/* The last read may have completed before its turn was counted. */
	uint32_t turns = read_u32(vm, COUNTER);
	if (log.input_reads != turns && log.input_reads != turns + 1)
		fail_msg("the handler answered %u reads, the guest made %u", log.input_reads, turns);
	arcvm_vm_destroy(vm);
}

static void test_two_vms_from_one_snapshot(void **state)
{
	struct arcvm_vm *vm = BOOT_COUNTER(false);
	pause_vm(vm);
	uint32_t c1 = read_u32(vm, COUNTER);
	snapshot(vm, ARCVM_SNAPSHOT_FULL, path_in("two.state"), path_in("two.mem"));
	arcvm_vm_destroy(vm);

	struct arcvm_vm *a = restore(path_in("two.state"), NULL);
	struct arcvm_vm *b = restore(path_in("two.state"), NULL);
	resume_vm(a);
	resume_vm(b);
	wait_counter_above(a, c1 + 1000);
	wait_counter_above(b, c1 + 1000);
	/* Each has its own private copy: stopping one leaves the other counting. */
	pause_vm(a);
	uint32_t ca = read_u32(a, COUNTER);
	wait_counter_above(b, ca + 1000);
	arcvm_vm_destroy(a);
	arcvm_vm_destroy(b);

	/* Neither wrote to the memory file. */
	int fd = open(path_in("two.mem"), O_RDONLY);
	assert_true(fd >= 0);
	uint32_t on_disk = 0;
	assert_int_equal(pread(fd, &on_disk, 4, COUNTER), 4);
	close(fd);
	assert_int_equal(on_disk, c1);
}

static void test_diff_snapshot_restores_on_top_of_its_base(void **state)
{
	struct arcvm_vm *vm = BOOT_COUNTER(true);
	pause_vm(vm);
	uint32_t c1 = read_u32(vm, COUNTER);
	snapshot(vm, ARCVM_SNAPSHOT_FULL, path_in("base.state"), path_in("base.mem"));
	resume_vm(vm);
	wait_counter_above(vm, c1 + 1000);
	pause_vm(vm);
	uint32_t c2 = read_u32(vm, COUNTER);
	/* A page only the host writes (as a device would) is in the diff too. */
	struct arcvm_error err;
	uint32_t marker = 0x600dcafe;
	assert_int_equal(arcvm_write_guest(vm, 0x5000, &marker, 4, &err), 0);
	struct arcvm_regs before, after;
	get_regs(vm, &before);
	snapshot(vm, ARCVM_SNAPSHOT_DIFF, path_in("diff.state"), path_in("diff.mem"));
	arcvm_vm_destroy(vm);

	/* The diff holds the counter's and the marker's pages, not the code's
	 * (unchanged since the full snapshot): there it is a hole. */
	struct stat full, diff;
	assert_int_equal(stat(path_in("base.mem"), &full), 0);
	assert_int_equal(stat(path_in("diff.mem"), &diff), 0);
	assert_int_equal(diff.st_size, full.st_size);
	assert_true(diff.st_blocks * 512 <= 64 * 1024);
	uint8_t code[16], zero[16] = { 0 };
	int fd = open(path_in("diff.mem"), O_RDONLY);
	assert_int_equal(pread(fd, code, sizeof(code), RM_LOAD), sizeof(code));
	assert_memory_equal(code, zero, sizeof(code));
	close(fd);

	struct arcvm_vm *r = restore(path_in("diff.state"), NULL);
	get_regs(r, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(read_u32(r, COUNTER), c2);
	assert_int_equal(read_u32(r, 0x5000), marker);
	/* A diff of the restored VM stacks on both earlier layers. */
	resume_vm(r);
	wait_counter_above(r, c2 + 1000);
	pause_vm(r);
	uint32_t c3 = read_u32(r, COUNTER);
	snapshot(r, ARCVM_SNAPSHOT_DIFF, path_in("diff2.state"), path_in("diff2.mem"));
	arcvm_vm_destroy(r);
	r = restore(path_in("diff2.state"), NULL);
	assert_int_equal(read_u32(r, COUNTER), c3);
	arcvm_vm_destroy(r);
}

static void test_snapshot_guards(void **state)
{
	struct arcvm_error err;
	struct arcvm_vm *vm = BOOT_COUNTER(false);
	/* Running: refused. */
	assert_int_equal(arcvm_vm_snapshot(vm, ARCVM_SNAPSHOT_FULL, path_in("g.state"),
					   path_in("g.mem"), &err), ARCVM_E_BAD_STATE);
	pause_vm(vm);
	/* A diff without dirty tracking. */
	assert_int_equal(arcvm_vm_snapshot(vm, ARCVM_SNAPSHOT_DIFF, path_in("g.state"),
					   path_in("g.mem"), &err), ARCVM_E_UNSUPPORTED);
	/* Into a folder that does not exist: nothing is left behind. */
	assert_int_not_equal(arcvm_vm_snapshot(vm, ARCVM_SNAPSHOT_FULL, path_in("no/g.state"),
					       path_in("no/g.mem"), &err), 0);
	/* The state path is a folder: the rename fails, no temporary file stays. */
	assert_int_equal(mkdir(path_in("isdir"), 0700), 0);
	assert_int_not_equal(arcvm_vm_snapshot(vm, ARCVM_SNAPSHOT_FULL, path_in("isdir"),
					       path_in("g.mem"), &err), 0);
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path_in("isdir"), (long)getpid());
	assert_int_equal(access(tmp, F_OK), -1);
	arcvm_vm_destroy(vm);

	struct arcvm_vm *t = BOOT_COUNTER(true);
	pause_vm(t);
	assert_int_equal(arcvm_vm_snapshot(t, ARCVM_SNAPSHOT_DIFF, path_in("g.state"),
					   path_in("g.mem"), &err), ARCVM_E_BAD_STATE);
	arcvm_vm_destroy(t);
}

/* Damaged snapshots: each is a copy of a good one with one fault. */
static uint8_t *good_state;
static size_t good_len;

static void make_good(void)
{
	if (good_state)
		return;
	struct arcvm_vm *vm = BOOT_COUNTER(false);
	pause_vm(vm);
	snapshot(vm, ARCVM_SNAPSHOT_FULL, path_in("good.state"), path_in("good.mem"));
	arcvm_vm_destroy(vm);
	FILE *f = fopen(path_in("good.state"), "rb");
	assert_non_null(f);
	good_state = malloc(1 << 20);
	good_len = fread(good_state, 1, 1 << 20, f);
	fclose(f);
	assert_true(good_len > 32);
}

static void write_file(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	fclose(f);
}

/* Restores from `bytes` and the good memory file; returns the error. */
static int restore_bytes(const void *bytes, size_t len, struct arcvm_error *err)
{
	write_file(path_in("bad.state"), bytes, len);
	struct arcvm_vm *vm = NULL;
	int rc = try_restore(path_in("bad.state"), path_in("good.mem"), &vm, err);
	assert_null(vm);
	return rc;
}

static void expect_refused(const void *bytes, size_t len, const char *words)
{
	struct arcvm_error err = { 0 };
	assert_int_equal(restore_bytes(bytes, len, &err), ARCVM_E_FORMAT);
	if (!strstr(err.msg, words))
		fail_msg("the message \"%s\" does not say \"%s\"", err.msg, words);
}

static void test_refuses_empty_truncated_and_oversized(void **state)
{
	make_good();
	expect_refused("", 0, "empty");
	expect_refused(good_state, 20, "truncated");
	expect_refused(good_state, good_len - 1, "truncated");
	/* Oversized: refused before it is read. */
	int fd = open(path_in("big.state"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 65ll << 20), 0);
	close(fd);
	struct arcvm_vm *vm = NULL;
	struct arcvm_error err;
	assert_int_equal(try_restore(path_in("big.state"), path_in("good.mem"), &vm, &err),
			 ARCVM_E_FORMAT);
	assert_non_null(strstr(err.msg, "limit"));
}

static void test_refuses_bad_magic_version_and_checksum(void **state)
{
	make_good();
	uint8_t *b = malloc(good_len);
	memcpy(b, good_state, good_len);
	b[0] ^= 0xff;
	expect_refused(b, good_len, "magic");
	memcpy(b, good_state, good_len);
	b[8] = 99;
	expect_refused(b, good_len, "version");
	memcpy(b, good_state, good_len);
	b[good_len / 2] ^= 0x01;
	expect_refused(b, good_len, "checksum");
	/* A longer file than the header declares. */
	uint8_t *longer = calloc(1, good_len + 8);
	memcpy(longer, good_state, good_len);
	expect_refused(longer, good_len + 8, "longer");
	free(longer);
	free(b);
}

static void test_refuses_short_or_missing_memory_file(void **state)
{
	make_good();
	struct stat st;
	assert_int_equal(stat(path_in("good.mem"), &st), 0);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "cp %s %s && truncate -s %lld %s", path_in("good.mem"),
		 path_in("short.mem"), (long long)st.st_size - 4096, path_in("short.mem"));
	assert_int_equal(system(cmd), 0);
	struct arcvm_vm *vm = NULL;
	struct arcvm_error err;
	assert_int_equal(try_restore(path_in("good.state"), path_in("short.mem"), &vm, &err),
			 ARCVM_E_FORMAT);
	assert_non_null(strstr(err.msg, "shorter"));
	assert_null(vm);
	assert_int_equal(try_restore(path_in("good.state"), path_in("none.mem"), &vm, &err),
			 ARCVM_E_NOT_FOUND);
	assert_int_equal(try_restore(path_in("none.state"), NULL, &vm, &err), ARCVM_E_NOT_FOUND);
}

/* A state file restored with the memory file of another snapshot (say the
 * folder was overwritten halfway) is refused, not run on the wrong RAM. */
static void test_refuses_memory_of_another_snapshot(void **state)
{
	struct arcvm_vm *vm = BOOT_COUNTER(false);
	pause_vm(vm);
	snapshot(vm, ARCVM_SNAPSHOT_FULL, path_in("a.state"), path_in("a.mem"));
	snapshot(vm, ARCVM_SNAPSHOT_FULL, path_in("b.state"), path_in("b.mem"));
	arcvm_vm_destroy(vm);
	struct arcvm_vm *r = NULL;
	struct arcvm_error err;
	assert_int_equal(try_restore(path_in("a.state"), path_in("b.mem"), &r, &err),
			 ARCVM_E_FORMAT);
	assert_non_null(strstr(err.msg, "does not belong"));
	assert_null(r);
	r = restore(path_in("b.state"), path_in("b.mem"));
	arcvm_vm_destroy(r);
}

int main(void)
{
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		printf("SKIP test_snapshot: /dev/kvm is not usable here (%s)\n", strerror(errno));
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pause_stops_the_counter_and_resume_restarts_it),
		cmocka_unit_test(test_restore_carries_on_from_the_snapshot),
		cmocka_unit_test(test_port_read_in_flight_survives_snapshots),
		cmocka_unit_test(test_two_vms_from_one_snapshot),
		cmocka_unit_test(test_diff_snapshot_restores_on_top_of_its_base),
		cmocka_unit_test(test_snapshot_guards),
		cmocka_unit_test(test_refuses_empty_truncated_and_oversized),
		cmocka_unit_test(test_refuses_bad_magic_version_and_checksum),
		cmocka_unit_test(test_refuses_short_or_missing_memory_file),
		cmocka_unit_test(test_refuses_memory_of_another_snapshot),
	};
	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
