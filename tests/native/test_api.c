/*
 * test_api.c - the native tier for the library API beyond the lifecycle:
 * mapped regions (memfd, file, host memory; read-only writes as MMIO exits;
 * dirty logging; every refusal), typed guest access, image loading,
 * interrupt injection and the exit handlers' overlap rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/native/native.h"

GUEST_DECL(lm_region);
GUEST_DECL(lm_wait_region);
GUEST_DECL(lm_irq);
GUEST_DECL(rm_out);

#define REGION_GPA 0x40000000ull   /* keep in step with api_guests.S */
#define PAGE 4096ull

#define RAW(cfg, mode, name) native_config(cfg, mode, name##_start, GUEST_SIZE(name))

/* Asserts a call failed with `code` and a message containing `needle`. */
#define assert_refused(call, code, needle)                                          \
	do {                                                                         \
		struct arcvm_error e_ = { 0 };                                       \
		int rc_ = (call);                                                    \
		if (rc_ != (code) || !strstr(e_.msg, (needle)))                      \
			fail_msg("%s: got %s \"%s\", wanted %s with \"%s\"", #call,  \
				 arcvm_code_name(rc_), e_.msg, arcvm_code_name(code), \
				 (needle));                                          \
	} while (0)
/* The calls under assert_refused pass &e_ as their error. */
#define E (&e_)

static struct arcvm_vm *create(const struct arcvm_config *cfg)
{
	struct arcvm_vm *vm;
	struct arcvm_error err;
	if (arcvm_vm_create(cfg, &vm, &err))
		fail_msg("arcvm_vm_create: %s", err.msg);
	return vm;
}

static void ok(int rc, const struct arcvm_error *err, const char *what)
{
	if (rc)
		fail_msg("%s: %s %s", what, arcvm_code_name(rc), err->msg);
}

static enum arcvm_exit_reason boot_and_wait(struct arcvm_vm *vm)
{
	struct arcvm_error err;
	enum arcvm_exit_reason r = ARCVM_EXIT_NONE;
	ok(arcvm_vm_boot(vm, &err), &err, "boot");
	ok(arcvm_vm_wait(vm, 10000, &r, &err), &err, "wait");
	return r;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Waits (5 s at most) until the port handler has seen n values. */
static void wait_values(const struct port_log *log, int n)
{
	for (int i = 0; i < 1000; i++) {
		if (__atomic_load_n(&log->count, __ATOMIC_ACQUIRE) >= n)
			return;
		sleep_ms(5);
	}
	fail_msg("the guest sent %d values in 5 s, expected %d", log->count, n);
}

/* A memfd of `pages` pages with word i*PAGE set to first + i. */
static int make_memfd(int pages, uint32_t first)
{
	int fd = memfd_create("arcvm-test-region", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(pages * PAGE)), 0);
	for (int i = 0; i < pages; i++) {
		uint32_t v = first + (uint32_t)i;
		assert_int_equal(pwrite(fd, &v, 4, (off_t)(i * PAGE)), 4);
	}
	return fd;
}

static struct arcvm_region fd_region(uint64_t gpa, uint64_t size, int fd, uint32_t flags)
{
	return (struct arcvm_region){ .gpa = gpa, .size = size, .fd = fd, .flags = flags };
}

/* The guest reads a memfd's words and writes one back; the file sees the
 * write, the typed API reads it, and the dirty log names exactly its page. */
static void test_guest_reads_and_writes_memfd_region(void **state)
{
	struct arcvm_config cfg;
	struct port_log log = { 0 };
	struct arcvm_error err;
	RAW(&cfg, ARCVM_BOOT_RAW64, lm_region);
	struct arcvm_vm *vm = create(&cfg);
	native_watch_ports(vm, &log);
	int fd = make_memfd(4, 0x11110000);
	struct arcvm_region r = fd_region(REGION_GPA, 4 * PAGE, fd, ARCVM_REGION_DIRTY_LOG);
	ok(arcvm_map_region(vm, &r, &err), &err, "map");
	uint64_t dirty[1] = { ~0ull };
	ok(arcvm_region_dirty_log(vm, REGION_GPA, dirty, 1, &err), &err, "dirty log");
	assert_int_equal(dirty[0], 0);
	assert_int_equal(boot_and_wait(vm), ARCVM_EXIT_HALT);
	assert_int_equal(log.count, 3);
	assert_int_equal(log.values[0], 0x11110000);
	assert_int_equal(log.values[1], 0x11110001);
	assert_int_equal(log.values[2], 0x600dcafe);
	uint32_t in_file = 0;
	assert_int_equal(pread(fd, &in_file, 4, 2 * PAGE), 4);
	assert_int_equal(in_file, 0x600dcafe);
	uint32_t v = 0;
	ok(arcvm_read_guest_u32(vm, REGION_GPA + 2 * PAGE, &v, &err), &err, "read_u32");
	assert_int_equal(v, 0x600dcafe);
	ok(arcvm_region_dirty_log(vm, REGION_GPA, dirty, 1, &err), &err, "dirty log");
	assert_int_equal(dirty[0], 1u << 2);
	close(fd);
	arcvm_vm_destroy(vm);
}

struct ro_writes {
	uint64_t addr;
	uint32_t value;
	int count;
};

static void ro_write_handler(void *opaque, uint64_t addr, bool is_write, void *data, unsigned len)
{
	struct ro_writes *w = opaque;
	if (!is_write)
		return;   /* never called: reads come from the region */
	w->addr = addr;
	memcpy(&w->value, data, len < 4 ? len : 4);
	w->count++;
}

/* A file opened read-only, mapped read-only: the guest reads it, its write
 * comes back as an MMIO exit to the handler over the region, and neither the
 * guest's memory nor the file change. */
static void test_readonly_file_region_writes_exit(void **state)
{
	char path[] = "/tmp/arcvm-test-region-XXXXXX";
	int wfd = mkstemp(path);
	assert_true(wfd >= 0);
	uint32_t words[3] = { 0xf11e0000, 0xf11e0001, 0xf11e0002 };
	for (int i = 0; i < 3; i++)
		assert_int_equal(pwrite(wfd, &words[i], 4, (off_t)(i * PAGE)), 4);
	assert_int_equal(ftruncate(wfd, 3 * PAGE), 0);
	close(wfd);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);

	struct arcvm_config cfg;
	struct port_log log = { 0 };
	struct ro_writes w = { 0 };
	struct arcvm_error err;
	RAW(&cfg, ARCVM_BOOT_RAW64, lm_region);
	struct arcvm_vm *vm = create(&cfg);
	native_watch_ports(vm, &log);
	struct arcvm_region r = fd_region(REGION_GPA, 3 * PAGE, fd, 0);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_PERMISSION, "O_RDWR");
	r.flags = ARCVM_REGION_READONLY;
	ok(arcvm_map_region(vm, &r, &err), &err, "map read-only");
	close(fd);   /* arcvm keeps its own mapping */
	ok(arcvm_exit_handler(vm, ARCVM_SPACE_MMIO, REGION_GPA + 2 * PAGE, PAGE, ro_write_handler,
			      &w, &err), &err, "handler over the read-only page");
	assert_refused(arcvm_write_guest_u32(vm, REGION_GPA, 1, E), ARCVM_E_PERMISSION, "read-only");
	assert_int_equal(boot_and_wait(vm), ARCVM_EXIT_HALT);
	assert_int_equal(log.count, 3);
	assert_int_equal(log.values[0], 0xf11e0000);
	assert_int_equal(log.values[1], 0xf11e0001);
	assert_int_equal(log.values[2], 0xf11e0002);   /* the store did not land */
	assert_int_equal(w.count, 1);
	assert_int_equal(w.addr, REGION_GPA + 2 * PAGE);
	assert_int_equal(w.value, 0x600dcafe);
	arcvm_vm_destroy(vm);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	uint32_t in_file = 0;
	assert_int_equal(pread(fd, &in_file, 4, 2 * PAGE), 4);
	assert_int_equal(in_file, 0xf11e0002);
	close(fd);
	unlink(path);
}

/* Caller memory: the guest's store lands in the caller's buffer. */
static void test_host_memory_region(void **state)
{
	struct arcvm_config cfg;
	struct port_log log = { 0 };
	struct arcvm_error err;
	RAW(&cfg, ARCVM_BOOT_RAW64, lm_region);
	struct arcvm_vm *vm = create(&cfg);
	native_watch_ports(vm, &log);
	uint32_t *buf = aligned_alloc(PAGE, 3 * PAGE);
	assert_non_null(buf);
	memset(buf, 0, 3 * PAGE);
	buf[0] = 0xb0f0;
	buf[PAGE / 4] = 0xb0f1;
	struct arcvm_region r = { .gpa = REGION_GPA, .size = 3 * PAGE, .host = buf };
	struct arcvm_region bad = r;
	bad.host = (uint8_t *)buf + 8;
	assert_refused(arcvm_map_region(vm, &bad, E), ARCVM_E_INVALID, "not page-aligned");
	ok(arcvm_map_region(vm, &r, &err), &err, "map host memory");
	assert_int_equal(boot_and_wait(vm), ARCVM_EXIT_HALT);
	assert_int_equal(log.count, 3);
	assert_int_equal(log.values[0], 0xb0f0);
	assert_int_equal(log.values[1], 0xb0f1);
	assert_int_equal(buf[2 * PAGE / 4], 0x600dcafe);
	arcvm_vm_destroy(vm);
	free(buf);   /* only after the VM let go of it */
}

/* Mapped while Paused: the spinning guest sees the region once resumed.
 * Mapping while Running is refused; unmapping removes the memory again. */
static void test_map_while_paused(void **state)
{
	struct arcvm_config cfg;
	struct port_log log = { 0 };
	struct arcvm_error err;
	RAW(&cfg, ARCVM_BOOT_RAW64, lm_wait_region);
	struct arcvm_vm *vm = create(&cfg);
	native_watch_ports(vm, &log);
	int fd = make_memfd(1, 0x5a5a5a5a);
	struct arcvm_region r = fd_region(REGION_GPA, PAGE, fd, ARCVM_REGION_READONLY);
	ok(arcvm_vm_boot(vm, &err), &err, "boot");
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_BAD_STATE, "running");
	assert_refused(arcvm_image_load_region(vm, 0x2000, NULL, "x", 1, NULL, E), ARCVM_E_BAD_STATE,
		       "running");
	ok(arcvm_vm_pause(vm, &err), &err, "pause");
	assert_int_equal(log.count, 0);
	ok(arcvm_map_region(vm, &r, &err), &err, "map while paused");
	ok(arcvm_vm_resume(vm, &err), &err, "resume");
	enum arcvm_exit_reason why;
	ok(arcvm_vm_wait(vm, 10000, &why, &err), &err, "wait");
	assert_int_equal(why, ARCVM_EXIT_HALT);
	assert_int_equal(log.count, 1);
	assert_int_equal(log.values[0], 0x5a5a5a5a);
	ok(arcvm_unmap_region(vm, REGION_GPA, &err), &err, "unmap");
	uint32_t v;
	assert_refused(arcvm_read_guest_u32(vm, REGION_GPA, &v, E), ARCVM_E_INVALID,
		       "not in guest memory");
	assert_refused(arcvm_unmap_region(vm, REGION_GPA, E), ARCVM_E_NOT_FOUND, "no mapped region");
	close(fd);
	arcvm_vm_destroy(vm);
}

static void test_region_refusals(void **state)
{
	struct arcvm_config cfg;
	struct arcvm_error err;
	RAW(&cfg, ARCVM_BOOT_RAW64, lm_region);
	struct arcvm_vm *vm = create(&cfg);
	int fd = make_memfd(2, 0);
	struct arcvm_region r;

	r = fd_region(0, PAGE, fd, 0);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "overlaps guest RAM");
	r = fd_region(cfg.mem_size - PAGE, 2 * PAGE, fd, 0);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "overlaps guest RAM");
	r = fd_region(REGION_GPA + 0x800, PAGE, fd, 0);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "not page-aligned");
	r = fd_region(REGION_GPA, 0x1800, fd, 0);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "not page-aligned");
	r = fd_region(REGION_GPA, 0, fd, 0);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "empty");
	r = fd_region(1ull << 56, PAGE, fd, 0);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "physical address space");
	r = fd_region(0xfffffffffffff000ull, 2 * PAGE, fd, 0);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "physical address space");
	r = fd_region(0xFEC00000ull, PAGE, fd, 0);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "IOAPIC");
	r = fd_region(0xFEE00000ull - PAGE, 2 * PAGE, fd, 0);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "LAPIC");
	r = fd_region(0xFFFBD000ull, PAGE, fd, 0);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "TSS");
	r = fd_region(REGION_GPA, 4 * PAGE, fd, 0);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "holds only");
	r = fd_region(REGION_GPA, PAGE, fd, 0);
	r.offset = 0x100;
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "offset");
	r = fd_region(REGION_GPA, PAGE, -1, 0);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "neither host memory");
	r = fd_region(REGION_GPA, PAGE, fd, 1u << 7);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "unknown region flags");
	r = fd_region(REGION_GPA, PAGE, fd, ARCVM_REGION_READONLY | ARCVM_REGION_DIRTY_LOG);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "drop one flag");

	r = fd_region(REGION_GPA, 2 * PAGE, fd, 0);
	ok(arcvm_map_region(vm, &r, &err), &err, "map");
	r = fd_region(REGION_GPA + PAGE, PAGE, fd, 0);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "overlaps the region");
	uint64_t bm[1];
	assert_refused(arcvm_region_dirty_log(vm, REGION_GPA, bm, 1, E), ARCVM_E_INVALID,
		       "ARCVM_REGION_DIRTY_LOG");
	assert_refused(arcvm_unmap_region(vm, REGION_GPA + PAGE, E), ARCVM_E_NOT_FOUND,
		       "no mapped region");
	ok(arcvm_unmap_region(vm, REGION_GPA, &err), &err, "unmap");
	ok(arcvm_map_region(vm, &r, &err), &err, "map again where the old one was");
	ok(arcvm_unmap_region(vm, REGION_GPA + PAGE, &err), &err, "unmap");

	/* An MMIO handler: only a read-only region may sit over it. */
	ok(arcvm_exit_handler(vm, ARCVM_SPACE_MMIO, 0xd0000000, PAGE, ro_write_handler, NULL, &err),
	   &err, "handler");
	r = fd_region(0xd0000000, PAGE, fd, 0);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "exit handler");
	r.flags = ARCVM_REGION_READONLY;
	ok(arcvm_map_region(vm, &r, &err), &err, "read-only region over a handler");

	/* The table fills up: ARCVM_MAX_REGIONS in all, one already mapped. */
	for (int i = 1; i < ARCVM_MAX_REGIONS; i++) {
		r = fd_region(REGION_GPA + (uint64_t)i * PAGE, PAGE, fd, 0);
		ok(arcvm_map_region(vm, &r, &err), &err, "fill");
	}
	r = fd_region(REGION_GPA + (uint64_t)ARCVM_MAX_REGIONS * PAGE, PAGE, fd, 0);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "too many mapped regions");
	ok(arcvm_vm_shutdown(vm, &err), &err, "shutdown");
	r = fd_region(0x80000000, PAGE, fd, 0);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_BAD_STATE, "stopped");
	close(fd);
	arcvm_vm_destroy(vm);   /* with 32 regions mapped: unmaps them */
}

/* A virtio device's window belongs to it, for regions and handlers alike. */
static void test_region_refuses_device_window(void **state)
{
	struct arcvm_config cfg;
	RAW(&cfg, ARCVM_BOOT_RAW64, lm_region);
	cfg.irqchip = true;
	cfg.rng = true;
	struct arcvm_vm *vm = create(&cfg);
	int fd = make_memfd(1, 0);
	struct arcvm_region r = fd_region(0xd0000000, PAGE, fd, ARCVM_REGION_READONLY);
	assert_refused(arcvm_map_region(vm, &r, E), ARCVM_E_INVALID, "overlaps device");
	assert_refused(arcvm_exit_handler(vm, ARCVM_SPACE_MMIO, 0xd0000100, 4, ro_write_handler,
					  NULL, E), ARCVM_E_INVALID, "overlaps device");
	close(fd);
	arcvm_vm_destroy(vm);
}

static void test_typed_access(void **state)
{
	struct arcvm_config cfg;
	struct arcvm_error err;
	RAW(&cfg, ARCVM_BOOT_RAW64, lm_region);
	struct arcvm_vm *vm = create(&cfg);
	uint8_t b;
	uint16_t h;
	uint32_t w;
	uint64_t q;

	ok(arcvm_write_guest_u64(vm, 0x2000, 0x8877665544332211ull, &err), &err, "u64");
	ok(arcvm_read_guest_u8(vm, 0x2000, &b, &err), &err, "u8");
	assert_int_equal(b, 0x11);   /* little-endian, as the guest sees it */
	ok(arcvm_read_guest_u16(vm, 0x2002, &h, &err), &err, "u16");
	assert_int_equal(h, 0x4433);
	ok(arcvm_read_guest_u32(vm, 0x2004, &w, &err), &err, "u32");
	assert_int_equal(w, 0x88776655);
	ok(arcvm_write_guest_u8(vm, 0x2007, 0xaa, &err), &err, "u8 write");
	ok(arcvm_write_guest_u16(vm, 0x2000, 0xbbcc, &err), &err, "u16 write");
	ok(arcvm_write_guest_u32(vm, 0x2008, 0xdeadbeef, &err), &err, "u32 write");
	ok(arcvm_read_guest_u64(vm, 0x2000, &q, &err), &err, "u64 read");
	assert_int_equal(q, 0xaa7766554433bbccull);
	ok(arcvm_read_guest_u64(vm, cfg.mem_size - 8, &q, &err), &err, "last word of RAM");
	ok(arcvm_read_guest_u8(vm, 0x2003, &b, &err), &err, "u8 has no alignment");

	assert_refused(arcvm_read_guest_u16(vm, 0x2001, &h, E), ARCVM_E_INVALID, "2-byte aligned");
	assert_refused(arcvm_read_guest_u32(vm, 0x2002, &w, E), ARCVM_E_INVALID, "4-byte aligned");
	assert_refused(arcvm_read_guest_u64(vm, 0x2004, &q, E), ARCVM_E_INVALID, "8-byte aligned");
	assert_refused(arcvm_write_guest_u16(vm, 0x2001, 1, E), ARCVM_E_INVALID, "aligned");
	assert_refused(arcvm_write_guest_u32(vm, 0x2006, 1, E), ARCVM_E_INVALID, "aligned");
	assert_refused(arcvm_write_guest_u64(vm, 0x200c, 1, E), ARCVM_E_INVALID, "aligned");
	assert_refused(arcvm_read_guest_u64(vm, cfg.mem_size, &q, E), ARCVM_E_INVALID,
		       "not in guest memory");
	assert_refused(arcvm_write_guest_u32(vm, REGION_GPA, 1, E), ARCVM_E_INVALID,
		       "not in guest memory");
	assert_refused(arcvm_read_guest_u64(vm, UINT64_MAX - 7, &q, E), ARCVM_E_INVALID,
		       "not in guest memory");
	ok(arcvm_read_guest_u64(vm, 0x2000, &q, &err), &err, "u64 read");
	assert_int_equal(q, 0xaa7766554433bbccull);   /* the refused writes wrote nothing */
	/* The byte-range calls reach mapped regions too, across their pages. */
	int fd = make_memfd(2, 0x7e570000);
	struct arcvm_region r = fd_region(REGION_GPA, 2 * PAGE, fd, 0);
	ok(arcvm_map_region(vm, &r, &err), &err, "map");
	ok(arcvm_write_guest(vm, REGION_GPA + PAGE - 2, "wxyz", 4, &err), &err, "write across pages");
	char back[4];
	ok(arcvm_read_guest(vm, REGION_GPA + PAGE - 2, back, 4, &err), &err, "read back");
	assert_memory_equal(back, "wxyz", 4);
	assert_refused(arcvm_read_guest(vm, REGION_GPA + PAGE, back, PAGE + 1, E), ARCVM_E_INVALID,
		       "not in guest memory");
	close(fd);
	arcvm_vm_destroy(vm);
}

static void test_image_load_region(void **state)
{
	struct arcvm_config cfg;
	struct arcvm_error err;
	RAW(&cfg, ARCVM_BOOT_RAW64, lm_region);
	struct arcvm_vm *vm = create(&cfg);
	size_t n = 99;

	ok(arcvm_image_load_region(vm, 0x3000, NULL, "blob!", 5, &n, &err), &err, "buffer");
	assert_int_equal(n, 5);
	char back[8] = { 0 };
	ok(arcvm_read_guest(vm, 0x3000, back, 5, &err), &err, "read");
	assert_string_equal(back, "blob!");

	char path[] = "/tmp/arcvm-test-image-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	uint8_t img[5000];
	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 7);
	assert_int_equal(write(fd, img, sizeof(img)), sizeof(img));
	close(fd);
	ok(arcvm_image_load_region(vm, 0x10000, path, NULL, 0, &n, &err), &err, "file");
	assert_int_equal(n, sizeof(img));
	uint8_t got[5000];
	ok(arcvm_read_guest(vm, 0x10000, got, sizeof(got), &err), &err, "read");
	assert_memory_equal(got, img, sizeof(img));

	/* Bounds: one byte past the end of RAM is refused, and nothing lands. */
	uint64_t last = cfg.mem_size - sizeof(img);
	ok(arcvm_write_guest_u64(vm, last, 0x1122334455667788ull, &err), &err, "marker");
	assert_refused(arcvm_image_load_region(vm, last + 1, path, NULL, 0, &n, E), ARCVM_E_INVALID,
		       "does not fit");
	assert_int_equal(n, 0);
	uint64_t q, want;
	ok(arcvm_read_guest_u64(vm, last, &q, &err), &err, "read");
	assert_int_equal(q, 0x1122334455667788ull);   /* the refused load wrote nothing */
	assert_refused(arcvm_image_load_region(vm, cfg.mem_size - 2, NULL, "abc", 3, NULL, E),
		       ARCVM_E_INVALID, "does not fit");
	assert_refused(arcvm_image_load_region(vm, UINT64_MAX - 1, NULL, "abc", 3, NULL, E),
		       ARCVM_E_INVALID, "does not fit");
	ok(arcvm_image_load_region(vm, last, path, NULL, 0, NULL, &err), &err, "file at the end");
	memcpy(&want, img, 8);
	ok(arcvm_read_guest_u64(vm, last, &q, &err), &err, "read");
	assert_int_equal(q, want);   

	assert_refused(arcvm_image_load_region(vm, 0x3000, "/nonexistent/blob", NULL, 0, NULL, E),
		       ARCVM_E_NOT_FOUND, "/nonexistent/blob");
	assert_refused(arcvm_image_load_region(vm, 0x3000, path, "x", 1, NULL, E), ARCVM_E_INVALID,
		       "not both");
	assert_refused(arcvm_image_load_region(vm, 0x3000, NULL, NULL, 0, NULL, E), ARCVM_E_INVALID,
		       "not neither");
	assert_refused(arcvm_image_load_region(vm, 0x3000, path, NULL, 10, NULL, E),
		       ARCVM_E_INVALID, "len must be 0");
	assert_refused(arcvm_image_load_region(vm, 0x3000, "/tmp", NULL, 0, NULL, E),
		       ARCVM_E_INVALID, "not a regular file");

	/* Regions: a writable one takes an image, a read-only one refuses it. */
	int mfd = make_memfd(2, 0);
	struct arcvm_region r = fd_region(REGION_GPA, 2 * PAGE, mfd, 0);
	ok(arcvm_map_region(vm, &r, &err), &err, "map");
	ok(arcvm_image_load_region(vm, REGION_GPA + 100, path, NULL, 0, &n, &err), &err, "region");
	assert_int_equal(pread(mfd, got, sizeof(got), 100), sizeof(got));
	assert_memory_equal(got, img, sizeof(img));
	assert_refused(arcvm_image_load_region(vm, REGION_GPA + PAGE, path, NULL, 0, NULL, E),
		       ARCVM_E_INVALID, "does not fit");
	r = fd_region(REGION_GPA + 4 * PAGE, PAGE, mfd, ARCVM_REGION_READONLY);
	ok(arcvm_map_region(vm, &r, &err), &err, "map read-only");
	assert_refused(arcvm_image_load_region(vm, REGION_GPA + 4 * PAGE, NULL, "x", 1, NULL, E),
		       ARCVM_E_PERMISSION, "read-only");
	close(mfd);
	unlink(path);
	arcvm_vm_destroy(vm);
}

static void test_inject_irq_needs_irqchip(void **state)
{
	struct arcvm_config cfg;
	RAW(&cfg, ARCVM_BOOT_RAW64, lm_region);
	struct arcvm_vm *vm = create(&cfg);
	struct arcvm_irq irq = { .kind = ARCVM_IRQ_LINE, .gsi = 3, .level = true };
	assert_refused(arcvm_inject_irq(vm, &irq, E), ARCVM_E_UNSUPPORTED, "irqchip");
	irq = (struct arcvm_irq){ .kind = ARCVM_IRQ_MSI, .msi_address = 0xfee00000, .msi_data = 0x40 };
	assert_refused(arcvm_inject_irq(vm, &irq, E), ARCVM_E_UNSUPPORTED, "irqchip");
	arcvm_vm_destroy(vm);
}

static void test_inject_irq_validation(void **state)
{
	struct arcvm_config cfg;
	struct arcvm_error err;
	RAW(&cfg, ARCVM_BOOT_RAW64, lm_region);
	cfg.irqchip = true;
	struct arcvm_vm *vm = create(&cfg);
	struct arcvm_irq irq = { .kind = ARCVM_IRQ_LINE, .gsi = 24, .level = true };
	assert_refused(arcvm_inject_irq(vm, &irq, E), ARCVM_E_INVALID, "not an IOAPIC pin");
	irq.gsi = 23;
	ok(arcvm_inject_irq(vm, &irq, &err), &err, "pin 23");
	irq.level = false;
	ok(arcvm_inject_irq(vm, &irq, &err), &err, "pin 23 low");
	irq = (struct arcvm_irq){ .kind = ARCVM_IRQ_MSI, .msi_address = 0xfed00000, .msi_data = 0x40 };
	assert_refused(arcvm_inject_irq(vm, &irq, E), ARCVM_E_INVALID, "LAPIC's window");
	irq.msi_address = 0xfef00000;
	assert_refused(arcvm_inject_irq(vm, &irq, E), ARCVM_E_INVALID, "LAPIC's window");
	irq.msi_address = 0xfee00000;
	irq.msi_data = 0x10040;
	assert_refused(arcvm_inject_irq(vm, &irq, E), ARCVM_E_INVALID, "reserved bits");
	irq.kind = (enum arcvm_irq_kind)7;
	assert_refused(arcvm_inject_irq(vm, &irq, E), ARCVM_E_INVALID, "unknown interrupt kind");
	ok(arcvm_vm_shutdown(vm, &err), &err, "shutdown");
	irq = (struct arcvm_irq){ .kind = ARCVM_IRQ_MSI, .msi_address = 0xfee00000, .msi_data = 0x40 };
	assert_refused(arcvm_inject_irq(vm, &irq, E), ARCVM_E_BAD_STATE, "stopped");
	arcvm_vm_destroy(vm);
}

/* With cfg.irqchip a raw guest takes interrupts: an MSI (vector 0x40) and an
 * edge on IOAPIC pin 3 (routed by the guest to vector 0x41). */
static void test_guest_receives_injected_irqs(void **state)
{
	struct arcvm_config cfg;
	struct port_log log = { 0 };
	struct arcvm_error err;
	RAW(&cfg, ARCVM_BOOT_RAW64, lm_irq);
	cfg.irqchip = true;
	struct arcvm_vm *vm = create(&cfg);
	native_watch_ports(vm, &log);
	ok(arcvm_vm_boot(vm, &err), &err, "boot");
	wait_values(&log, 1);
	assert_int_equal(log.values[0], 1);   /* ready: IDT, LAPIC and pin 3 set up */
	struct arcvm_irq msi = { .kind = ARCVM_IRQ_MSI, .msi_address = 0xfee00000, .msi_data = 0x40 };
	ok(arcvm_inject_irq(vm, &msi, &err), &err, "MSI");
	wait_values(&log, 2);
	assert_int_equal(log.values[1], 0x40);
	struct arcvm_irq line = { .kind = ARCVM_IRQ_LINE, .gsi = 3, .level = true };
	ok(arcvm_inject_irq(vm, &line, &err), &err, "pin 3 high");
	line.level = false;
	ok(arcvm_inject_irq(vm, &line, &err), &err, "pin 3 low");
	wait_values(&log, 3);
	assert_int_equal(log.values[2], 0x41);
	arcvm_vm_request_stop(vm);
	enum arcvm_exit_reason why;
	ok(arcvm_vm_wait(vm, 10000, &why, &err), &err, "wait");
	assert_int_equal(why, ARCVM_EXIT_STOPPED);
	assert_int_equal(log.count, 3);   /* nothing spurious */
	arcvm_vm_destroy(vm);
}

static void noop_handler(void *opaque, uint64_t addr, bool is_write, void *data, unsigned len)
{
}

static void test_exit_handler_ranges(void **state)
{
	struct arcvm_config cfg;
	struct arcvm_error err;
	RAW(&cfg, ARCVM_BOOT_RAW16, rm_out);
	struct arcvm_vm *vm = create(&cfg);
	assert_refused(arcvm_exit_handler(vm, ARCVM_SPACE_PIO, 0x3f8, 8, noop_handler, NULL, E),
		       ARCVM_E_INVALID, "uart");
	assert_refused(arcvm_exit_handler(vm, ARCVM_SPACE_PIO, 0x5ff, 2, noop_handler, NULL, E),
		       ARCVM_E_INVALID, "acpi");
	assert_refused(arcvm_exit_handler(vm, ARCVM_SPACE_PIO, 0xfff0, 0x20, noop_handler, NULL, E),
		       ARCVM_E_INVALID, "0..0xffff");
	assert_refused(arcvm_exit_handler(vm, ARCVM_SPACE_PIO, 0x100, 0, noop_handler, NULL, E),
		       ARCVM_E_INVALID, "empty");
	assert_refused(arcvm_exit_handler(vm, ARCVM_SPACE_PIO, 0x100, 1, NULL, NULL, E),
		       ARCVM_E_INVALID, "NULL");
	/* No irqchip: the PIC's ports are free for the guest's own use. */
	ok(arcvm_exit_handler(vm, ARCVM_SPACE_PIO, 0x20, 2, noop_handler, NULL, &err), &err, "PIC");
	assert_refused(arcvm_exit_handler(vm, ARCVM_SPACE_PIO, 0x21, 1, noop_handler, NULL, E),
		       ARCVM_E_INVALID, "overlaps device user-handler");
	assert_refused(arcvm_exit_handler(vm, ARCVM_SPACE_MMIO, cfg.mem_size - PAGE, 2 * PAGE,
					  noop_handler, NULL, E), ARCVM_E_INVALID, "guest RAM");
	assert_refused(arcvm_exit_handler(vm, ARCVM_SPACE_MMIO, 0xfee00000, 4, noop_handler, NULL,
					  E), ARCVM_E_INVALID, "LAPIC");
	assert_refused(arcvm_exit_handler(vm, ARCVM_SPACE_MMIO, 0xffffffffffffff00ull, 0x200,
					  noop_handler, NULL, E), ARCVM_E_INVALID, "wraps");
	int fd = make_memfd(1, 0);
	struct arcvm_region r = fd_region(REGION_GPA, PAGE, fd, 0);
	ok(arcvm_map_region(vm, &r, &err), &err, "map");
	assert_refused(arcvm_exit_handler(vm, ARCVM_SPACE_MMIO, REGION_GPA - 4, 8, noop_handler,
					  NULL, E), ARCVM_E_INVALID, "writable region");
	close(fd);
	arcvm_vm_destroy(vm);

	/* With an irqchip, KVM serves the PIC and PIT ports itself. */
	cfg.irqchip = true;
	vm = create(&cfg);
	assert_refused(arcvm_exit_handler(vm, ARCVM_SPACE_PIO, 0x1f, 2, noop_handler, NULL, E),
		       ARCVM_E_INVALID, "in-kernel PIC");
	assert_refused(arcvm_exit_handler(vm, ARCVM_SPACE_PIO, 0x43, 1, noop_handler, NULL, E),
		       ARCVM_E_INVALID, "in-kernel PIT");
	ok(arcvm_exit_handler(vm, ARCVM_SPACE_PIO, 0x44, 4, noop_handler, NULL, &err), &err,
	   "next to the PIT");
	arcvm_vm_destroy(vm);

	/* A range that starts in the hole below 4 GiB and reaches the RAM above
	 * it: the whole range is checked, not its first byte. */
	cfg.irqchip = false;
	cfg.mem_size = 0xC0000000ull + (2ull << 20);
	vm = create(&cfg);
	assert_refused(arcvm_exit_handler(vm, ARCVM_SPACE_MMIO, 0xF0000000, 0x20000000,
					  noop_handler, NULL, E), ARCVM_E_INVALID, "guest RAM at 0x100000000");
	arcvm_vm_destroy(vm);
}

int main(void)
{
	int fd = open("/dev/kvm", O_RDWR);
	if (fd < 0) {
		printf("native api: SKIPPED, /dev/kvm cannot be opened (%s): the native tier needs "
		       "KVM\n", strerror(errno));
		return 0;
	}
	close(fd);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_reads_and_writes_memfd_region),
		cmocka_unit_test(test_readonly_file_region_writes_exit),
		cmocka_unit_test(test_host_memory_region),
		cmocka_unit_test(test_map_while_paused),
		cmocka_unit_test(test_region_refusals),
		cmocka_unit_test(test_region_refuses_device_window),
		cmocka_unit_test(test_typed_access),
		cmocka_unit_test(test_image_load_region),
		cmocka_unit_test(test_inject_irq_needs_irqchip),
		cmocka_unit_test(test_inject_irq_validation),
		cmocka_unit_test(test_guest_receives_injected_irqs),
		cmocka_unit_test(test_exit_handler_ranges),
	};
	return cmocka_run_group_tests_name("native api", tests, NULL, NULL);
}
