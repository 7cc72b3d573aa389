/*
 * test_native.c - the native tier: tiny real-mode and 64-bit guests drive
 * libarcvm on any /dev/kvm (PVM included): PIO and MMIO reaching the bus,
 * the UART, register and memory access, the state machine, stop and pause,
 * and the ways a guest ends a VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/native/native.h"

GUEST_DECL(rm_out);
GUEST_DECL(rm_in_add);
GUEST_DECL(rm_uart_hello);
GUEST_DECL(rm_outsb);
GUEST_DECL(rm_i8042_reset);
GUEST_DECL(rm_acpi_poweroff);
GUEST_DECL(rm_count_forever);
GUEST_DECL(rm_regs);
GUEST_DECL(lm_mmio);
GUEST_DECL(lm_ud2);
GUEST_DECL(lm_shm);

#define RAW(cfg, mode, name) native_config(cfg, mode, name##_start, GUEST_SIZE(name))

static void test_pio_out_reaches_handler(void **state)
{
	struct arcvm_config cfg;
	struct port_log log = { 0 };
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_out);
	assert_int_equal(native_run(&cfg, &log, NULL), ARCVM_EXIT_HALT);
	assert_int_equal(log.count, 1);
	assert_int_equal(log.values[0], 0x42);
	assert_int_equal(log.sizes[0], 1);
}

static void test_pio_in_returns_handler_value(void **state)
{
	struct arcvm_config cfg;
	struct port_log log = { .input_value = 41 };
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_in_add);
	assert_int_equal(native_run(&cfg, &log, NULL), ARCVM_EXIT_HALT);
	assert_int_equal(log.count, 1);
	assert_int_equal(log.values[0], 42);
	assert_int_equal(log.sizes[0], 4);
}

static void test_string_pio_delivers_each_item(void **state)
{
	struct arcvm_config cfg;
	struct port_log log = { 0 };
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_outsb);
	struct arcvm_vm *vm;
	struct arcvm_error err;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), 0);
	assert_int_equal(arcvm_write_guest(vm, 0x2000, "ABCDE", 5, &err), 0);
	native_watch_ports(vm, &log);
	enum arcvm_exit_reason r;
	assert_int_equal(arcvm_vm_boot(vm, &err), 0);
	assert_int_equal(arcvm_vm_wait(vm, 10000, &r, &err), 0);
	assert_int_equal(r, ARCVM_EXIT_HALT);
	assert_int_equal(log.count, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(log.values[i], 'A' + i);
	arcvm_vm_destroy(vm);
}

static void test_uart_output_reaches_fd(void **state)
{
	struct arcvm_config cfg;
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_uart_hello);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	cfg.console_out_fd = fds[1];
	assert_int_equal(native_run(&cfg, NULL, NULL), ARCVM_EXIT_HALT);
	close(fds[1]);
	char buf[16] = { 0 };
	assert_int_equal(read(fds[0], buf, sizeof(buf) - 1), 3);
	assert_string_equal(buf, "hi\n");
	close(fds[0]);
}

static void test_i8042_reset_is_reboot(void **state)
{
	struct arcvm_config cfg;
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_i8042_reset);
	assert_int_equal(native_run(&cfg, NULL, NULL), ARCVM_EXIT_REBOOT);
}

static void test_acpi_sleep_s5_is_poweroff(void **state)
{
	struct arcvm_config cfg;
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_acpi_poweroff);
	assert_int_equal(native_run(&cfg, NULL, NULL), ARCVM_EXIT_POWEROFF);
}

static void test_triple_fault_is_reported(void **state)
{
	struct arcvm_config cfg;
	RAW(&cfg, ARCVM_BOOT_RAW64, lm_ud2);
	assert_int_equal(native_run(&cfg, NULL, NULL), ARCVM_EXIT_TRIPLE_FAULT);
}

/* MMIO: a handler on 0xd0000000 records writes and answers reads. */
struct mmio_log {
	uint64_t addr;
	uint32_t written;
	int reads;
};

static void mmio_handler(void *opaque, uint64_t addr, bool is_write, void *data, unsigned len)
{
	struct mmio_log *m = opaque;
	if (is_write) {
		m->addr = addr;
		memcpy(&m->written, data, 4);
	} else {
		uint32_t v = 0x1234abcd;
		memcpy(data, &v, len < 4 ? len : 4);
		m->reads++;
	}
}

static void test_mmio_reaches_handler(void **state)
{
	struct arcvm_config cfg;
	struct port_log log = { 0 };
	struct mmio_log m = { 0 };
	RAW(&cfg, ARCVM_BOOT_RAW64, lm_mmio);
	struct arcvm_vm *vm;
	struct arcvm_error err;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), 0);
	native_watch_ports(vm, &log);
	assert_int_equal(arcvm_exit_handler(vm, ARCVM_SPACE_MMIO, 0xd0000000, 0x1000, mmio_handler,
					    &m, &err), 0);
	enum arcvm_exit_reason r;
	assert_int_equal(arcvm_vm_boot(vm, &err), 0);
	assert_int_equal(arcvm_vm_wait(vm, 10000, &r, &err), 0);
	assert_int_equal(r, ARCVM_EXIT_HALT);
	assert_int_equal(m.addr, 0xd0000000);
	assert_int_equal(m.written, 0xdeadbeef);
	assert_int_equal(m.reads, 1);
	assert_int_equal(log.count, 1);
	assert_int_equal(log.values[0], 0x1234abcd);
	arcvm_vm_destroy(vm);
}

static void test_registers_and_memory(void **state)
{
	struct arcvm_config cfg;
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_regs);
	struct arcvm_vm *vm;
	struct arcvm_error err;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), 0);
	uint32_t seed = 0x5eed;
	assert_int_equal(arcvm_write_guest(vm, 0x2000, &seed, 4, &err), 0);
	enum arcvm_exit_reason r;
	assert_int_equal(arcvm_vm_boot(vm, &err), 0);
	assert_int_equal(arcvm_vm_wait(vm, 10000, &r, &err), 0);
	assert_int_equal(r, ARCVM_EXIT_HALT);
	struct arcvm_regs regs;
	assert_int_equal(arcvm_vcpu_get_regs(vm, 0, &regs, &err), 0);
	assert_int_equal(regs.rax & 0xffffffff, 42);
	assert_int_equal(regs.rbx & 0xffffffff, 0x5eed);
	uint32_t out = 0;
	assert_int_equal(arcvm_read_guest(vm, 0x2004, &out, 4, &err), 0);
	assert_int_equal(out, 0xc0ffee);
	arcvm_vm_destroy(vm);
}

static void test_guest_memory_bounds(void **state)
{
	struct arcvm_config cfg;
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_out);
	struct arcvm_vm *vm;
	struct arcvm_error err;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), 0);
	uint8_t b[16];
	assert_int_equal(arcvm_read_guest(vm, cfg.mem_size - 8, b, 16, &err), ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "not in guest memory"));
	assert_int_equal(arcvm_write_guest(vm, UINT64_MAX - 4, b, 16, &err), ARCVM_E_INVALID);
	assert_int_equal(arcvm_read_guest(vm, cfg.mem_size - 16, b, 16, &err), 0);
	arcvm_vm_destroy(vm);
}

static uint32_t read_counter(struct arcvm_vm *vm)
{
	uint32_t v = 0;
	assert_int_equal(arcvm_read_guest(vm, 0x3000, &v, 4, NULL), 0);
	return v;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Waits (bounded) until the guest's counter moves past `than`. */
static uint32_t counter_moves(struct arcvm_vm *vm, uint32_t than)
{
	for (int i = 0; i < 1000; i++) {
		uint32_t v = read_counter(vm);
		if (v != than)
			return v;
		sleep_ms(5);
	}
	fail_msg("the guest's counter did not move in 5 s");
	return than;
}

static void test_pause_resume_and_stop(void **state)
{
	struct arcvm_config cfg;
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_count_forever);
	struct arcvm_vm *vm;
	struct arcvm_error err;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), 0);
	assert_int_equal(arcvm_vm_boot(vm, &err), 0);
	counter_moves(vm, 0);
	enum arcvm_exit_reason r;
	assert_int_equal(arcvm_vm_wait(vm, 50, &r, &err), ARCVM_E_BUSY);
	assert_int_equal(arcvm_vm_pause(vm, &err), 0);
	assert_int_equal(arcvm_vm_state(vm), ARCVM_STATE_PAUSED);
	uint32_t frozen = read_counter(vm);
	sleep_ms(50);
	assert_int_equal(read_counter(vm), frozen);
	assert_int_equal(arcvm_vm_pause(vm, &err), ARCVM_E_BAD_STATE);
	assert_int_equal(arcvm_vm_resume(vm, &err), 0);
	counter_moves(vm, frozen);
	assert_int_equal(arcvm_vm_resume(vm, &err), ARCVM_E_BAD_STATE);
	arcvm_vm_request_stop(vm);
	assert_int_equal(arcvm_vm_wait(vm, 10000, &r, &err), 0);
	assert_int_equal(r, ARCVM_EXIT_STOPPED);
	assert_int_equal(arcvm_vm_state(vm), ARCVM_STATE_STOPPED);
	uint32_t last = read_counter(vm);
	sleep_ms(20);
	assert_int_equal(read_counter(vm), last);
	arcvm_vm_destroy(vm);
}

static void test_state_machine_guards(void **state)
{
	struct arcvm_config cfg;
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_out);
	struct arcvm_vm *vm;
	struct arcvm_error err;
	enum arcvm_exit_reason r;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), 0);
	assert_int_equal(arcvm_vm_state(vm), ARCVM_STATE_CREATED);
	assert_int_equal(arcvm_vm_wait(vm, 0, &r, &err), ARCVM_E_BAD_STATE);
	assert_int_equal(arcvm_vm_pause(vm, &err), ARCVM_E_BAD_STATE);
	assert_int_equal(arcvm_vm_resume(vm, &err), ARCVM_E_BAD_STATE);
	assert_int_equal(arcvm_vm_boot(vm, &err), 0);
	assert_int_equal(arcvm_vm_boot(vm, &err), ARCVM_E_BAD_STATE);
	assert_non_null(strstr(err.msg, "cannot boot"));
	assert_int_equal(arcvm_vm_wait(vm, 10000, &r, &err), 0);
	assert_int_equal(arcvm_vm_boot(vm, &err), ARCVM_E_BAD_STATE);
	assert_int_equal(arcvm_vm_pause(vm, &err), ARCVM_E_BAD_STATE);
	assert_int_equal(arcvm_vm_shutdown(vm, &err), 0);
	assert_int_equal(arcvm_vm_shutdown(vm, &err), 0);
	assert_int_equal(arcvm_exit_handler(vm, ARCVM_SPACE_PIO, 0x100, 1, mmio_handler, NULL, &err),
			 ARCVM_E_BAD_STATE);
	arcvm_vm_destroy(vm);
}

static void test_shutdown_of_created_vm(void **state)
{
	struct arcvm_config cfg;
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_out);
	struct arcvm_vm *vm;
	struct arcvm_error err;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), 0);
	assert_int_equal(arcvm_vm_shutdown(vm, &err), 0);
	assert_int_equal(arcvm_vm_state(vm), ARCVM_STATE_STOPPED);
	assert_int_equal(arcvm_vm_boot(vm, &err), ARCVM_E_BAD_STATE);
	arcvm_vm_destroy(vm);
}

static int count_entries(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "ls %s | wc -l", dir);
	FILE *p = popen(cmd, "r");
	int n = -1;
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

/* A full create/boot/wait/destroy cycle, and a failed create, leave no
 * thread or file descriptor behind (memory is LeakSanitizer's job). */
static void test_no_leaked_threads_or_fds(void **state)
{
	struct arcvm_config cfg;
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_uart_hello);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	cfg.console_out_fd = fds[1];
	cfg.console_in_fd = fds[0];
	native_run(&cfg, NULL, NULL);   /* warm-up: libraries open their own fds once */
	int fds_before = count_entries("/proc/self/fd");
	int threads_before = count_entries("/proc/self/task");
	for (int i = 0; i < 5; i++)
		assert_int_equal(native_run(&cfg, NULL, NULL), ARCVM_EXIT_HALT);
	struct arcvm_vm *vm;
	cfg.cpus = 0;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, NULL), ARCVM_E_INVALID);
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_out);
	cfg.raw_load_addr = cfg.mem_size;   /* fails after KVM, memory and devices exist */
	assert_int_equal(arcvm_vm_create(&cfg, &vm, NULL), ARCVM_E_INVALID);
	assert_int_equal(count_entries("/proc/self/fd"), fds_before);
	assert_int_equal(count_entries("/proc/self/task"), threads_before);
	close(fds[0]);
	close(fds[1]);
}

static void test_bad_configs(void **state)
{
	struct arcvm_config cfg;
	struct arcvm_vm *vm = (void *)1;
	struct arcvm_error err;
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_out);
	cfg.mem_size = 0;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), ARCVM_E_INVALID);
	assert_null(vm);
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_out);
	cfg.cpus = 0;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "vCPU count"));
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_out);
	cfg.mem_size = 1ull << 50;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "more than this host has"));
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_out);
	cfg.raw_load_addr = cfg.mem_size - 2;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "does not fit"));
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_out);
	cfg.mem_size = 4096 + 1;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "multiple of 4 KiB"));
}

static void test_missing_kernel_is_named(void **state)
{
	struct arcvm_config cfg;
	arcvm_config_init(&cfg);
	cfg.kernel_path = "/nonexistent/vmlinuz";
	cfg.allow_pvm = true;
	cfg.mem_size = 16 << 20;
	struct arcvm_vm *vm;
	struct arcvm_error err;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), ARCVM_E_NOT_FOUND);
	assert_non_null(strstr(err.msg, "/nonexistent/vmlinuz"));
}

static void test_linux_refused_on_pvm(void **state)
{
	if (!arcvm_host_is_pvm())
		skip();   /* only meaningful where /dev/kvm is PVM; elsewhere Linux boots */
	struct arcvm_config cfg;
	arcvm_config_init(&cfg);
	cfg.kernel_path = "/dev/null";
	struct arcvm_vm *vm;
	struct arcvm_error err;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), ARCVM_E_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "PVM"));
}

/* cfg.shared_fd: the memfd sits at 4 GiB, where the host's writes reach the
 * guest's loads and the guest's stores reach the host's mapping. */
static void test_shared_memory_both_ways(void **state)
{
	struct arcvm_config cfg;
	RAW(&cfg, ARCVM_BOOT_RAW64, lm_shm);
	struct arcvm_error err;
	int fd;
	assert_int_equal(arcvm_alloc_shared(2 << 20, NULL, &fd, &err), 0);
	volatile uint32_t *host = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(host != MAP_FAILED);
	host[0] = 0x12345678;
	cfg.shared_fd = fd;
	cfg.shared_size = 2 << 20;
	struct arcvm_vm *vm;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), 0);
	close(fd);   /* arcvm keeps its own mapping */
	uint64_t gpa, size;
	assert_int_equal(arcvm_shared_region(vm, &gpa, &size, &err), 0);
	assert_int_equal(gpa, 4ull << 30);
	assert_int_equal(size, 2 << 20);
	/* The boot page tables map 0..4 GiB; add 4 GiB..+2 MiB: PDPT[4] -> a
	 * page directory at 0xF000 whose entry 0 is a 2 MiB page at 4 GiB. */
	assert_int_equal(arcvm_write_guest_u64(vm, 0xA000 + 4 * 8, 0xF000 | 3, &err), 0);
	assert_int_equal(arcvm_write_guest_u64(vm, 0xF000, gpa | 0x83, &err), 0);
	struct port_log log = { 0 };
	native_watch_ports(vm, &log);
	enum arcvm_exit_reason r;
	assert_int_equal(arcvm_vm_boot(vm, &err), 0);
	assert_int_equal(arcvm_vm_wait(vm, 10000, &r, &err), 0);
	assert_int_equal(r, ARCVM_EXIT_HALT);
	assert_int_equal(log.count, 1);
	assert_int_equal(log.values[0], 0x12345678);
	assert_int_equal(host[2], 0x5ca1ab1e);
	/* The API reaches it too, and a snapshot is refused. */
	uint32_t v = 0;
	assert_int_equal(arcvm_read_guest_u32(vm, gpa + 8, &v, &err), 0);
	assert_int_equal(v, 0x5ca1ab1e);
	assert_int_equal(arcvm_vm_snapshot(vm, ARCVM_SNAPSHOT_FULL, "/nonexistent/s",
					   "/nonexistent/m", &err), ARCVM_E_UNSUPPORTED);
	assert_int_equal(arcvm_shared_region(vm, &gpa, &size, &err), 0);
	arcvm_vm_destroy(vm);
	munmap((void *)host, 2 << 20);
}

static void test_shared_memory_bad_configs(void **state)
{
	struct arcvm_config cfg;
	RAW(&cfg, ARCVM_BOOT_RAW64, lm_shm);
	struct arcvm_error err;
	struct arcvm_vm *vm;
	int fd;
	assert_int_equal(arcvm_alloc_shared(8192, NULL, &fd, &err), 0);
	cfg.shared_fd = fd;
	cfg.shared_size = 4097;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "multiple of 4 KiB"));
	cfg.shared_size = 3 * 4096;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "shared memory: region needs bytes"));
	cfg.shared_fd = -1;
	cfg.shared_size = 4096;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "neither host memory nor a file descriptor"));
	close(fd);
	/* Without shared memory there is no region to report. */
	cfg.shared_size = 0;
	assert_int_equal(arcvm_vm_create(&cfg, &vm, &err), 0);
	uint64_t gpa, size;
	assert_int_equal(arcvm_shared_region(vm, &gpa, &size, &err), ARCVM_E_NOT_FOUND);
	arcvm_vm_destroy(vm);
}

int main(void)
{
	int fd = open("/dev/kvm", O_RDWR);
	if (fd < 0) {
		printf("native: SKIPPED, /dev/kvm cannot be opened (%s): the native tier needs KVM\n",
		       strerror(errno));
		return 0;
	}
	close(fd);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pio_out_reaches_handler),
		cmocka_unit_test(test_pio_in_returns_handler_value),
		cmocka_unit_test(test_string_pio_delivers_each_item),
		cmocka_unit_test(test_uart_output_reaches_fd),
		cmocka_unit_test(test_i8042_reset_is_reboot),
		cmocka_unit_test(test_acpi_sleep_s5_is_poweroff),
		cmocka_unit_test(test_triple_fault_is_reported),
		cmocka_unit_test(test_mmio_reaches_handler),
		cmocka_unit_test(test_registers_and_memory),
		cmocka_unit_test(test_guest_memory_bounds),
		cmocka_unit_test(test_pause_resume_and_stop),
		cmocka_unit_test(test_state_machine_guards),
		cmocka_unit_test(test_shutdown_of_created_vm),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_no_leaked_threads_or_fds),
		cmocka_unit_test(test_missing_kernel_is_named),
		cmocka_unit_test(test_linux_refused_on_pvm),
		cmocka_unit_test(test_shared_memory_both_ways),
		cmocka_unit_test(test_shared_memory_bad_configs),
	};
	return cmocka_run_group_tests_name("native", tests, NULL, NULL);
}
