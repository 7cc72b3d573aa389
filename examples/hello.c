/*
 * hello.c - libarcvm in one page: a micro-VM running a tiny 64-bit guest
 * that reads a greeting from a memfd mapped into its physical memory and
 * writes it, one byte at a time, to an I/O port this program emulates.
 * Documented, with its output, in docs/api.md; the tests run it.
 *
 *   cc -Iinclude examples/hello.c build/libarcvm.a -lcjson -lz -pthread
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* memfd_create */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arcvm.h"

#define GREETING_GPA 0x40000000ull  /* above the VM's 4 MiB of RAM: free for a region */
#define COUNT_GPA    0x2000ull      /* where the guest leaves its byte count, in RAM */
#define CHAR_PORT    0xE9           /* the port the guest writes characters to */

/*
 * The guest, entered in 64-bit mode at 0x100000 with memory identity-mapped:
 *
 *	mov $0x40000000, %esi       # the mapped greeting
 *	xor %ecx, %ecx
 * 1:	movzbl (%rsi), %eax
 *	test %al, %al
 *	jz 2f
 *	out %al, $0xe9              # one character to our port handler
 *	inc %rsi
 *	inc %ecx
 *	jmp 1b
 * 2:	mov %ecx, 0x2000            # the count, for the host to read
 *	hlt                         # no irqchip: HLT ends the VM
 */
static const unsigned char guest[] = {
	0xbe, 0x00, 0x00, 0x00, 0x40, 0x31, 0xc9, 0x0f, 0xb6, 0x06, 0x84, 0xc0,
	0x74, 0x09, 0xe6, 0xe9, 0x48, 0xff, 0xc6, 0xff, 0xc1, 0xeb, 0xf0, 0x89,
	0x0c, 0x25, 0x00, 0x20, 0x00, 0x00, 0xf4,
};

struct console {
	char text[128];
	size_t len;
};

/* Runs on the vCPU thread for every access to CHAR_PORT. */
static void char_port(void *opaque, uint64_t port, bool is_write, void *data, unsigned len)
{
	struct console *c = opaque;
	if (is_write && c->len < sizeof(c->text) - 1)
		c->text[c->len++] = *(const char *)data;
	else if (!is_write)
		memset(data, 0, len);
}

static void check(int rc, const struct arcvm_error *err, const char *what)
{
	if (rc) {
		fprintf(stderr, "hello: %s: %s (%s)\n", what, err->msg, arcvm_code_name(rc));
		exit(1);
	}
}

/* A one-page memfd holding the greeting: the guest reads it in place. */
static int greeting_memfd(const char *text)
{
	int fd = memfd_create("greeting", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 4096) < 0 ||
	    pwrite(fd, text, strlen(text) + 1, 0) != (ssize_t)strlen(text) + 1) {
		perror("hello: memfd");
		exit(1);
	}
	return fd;
}

int main(void)
{
	struct arcvm_error err;
	struct arcvm_config cfg;
	arcvm_config_init(&cfg);
	cfg.boot = ARCVM_BOOT_RAW64;
	cfg.mem_size = 4 << 20;
	cfg.raw_image = guest;
	cfg.raw_size = sizeof(guest);
	cfg.raw_load_addr = 0x100000;
	cfg.console_in_fd = cfg.console_out_fd = -1;

	struct arcvm_vm *vm;
	check(arcvm_vm_create(&cfg, &vm, &err), &err, "create");

	int fd = greeting_memfd("Hello from a mapped region!");
	struct arcvm_region region = {
		.gpa = GREETING_GPA, .size = 4096, .fd = fd, .flags = ARCVM_REGION_READONLY,
	};
	check(arcvm_map_region(vm, &region, &err), &err, "map the greeting");
	close(fd);   /* the VM keeps its own mapping */

	struct console con = { .len = 0 };
	check(arcvm_exit_handler(vm, ARCVM_SPACE_PIO, CHAR_PORT, 1, char_port, &con, &err), &err,
	      "port handler");

	enum arcvm_exit_reason why;
	check(arcvm_vm_boot(vm, &err), &err, "boot");
	check(arcvm_vm_wait(vm, 10000, &why, &err), &err, "wait");

	uint32_t count;
	check(arcvm_read_guest_u32(vm, COUNT_GPA, &count, &err), &err, "read the count");
	printf("guest wrote: %s\n", con.text);
	printf("guest counted %u bytes\n", count);
	printf("the VM ended: %s\n", arcvm_exit_reason_name(why));
	arcvm_vm_destroy(vm);
	return why == ARCVM_EXIT_HALT ? 0 : 1;
}
