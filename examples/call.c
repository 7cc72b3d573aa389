/*
 * call.c - arcvm_call() from C: boot the built-in guest with its agent,
 * run an IonPack's entry point there with arguments given as literals, print
 * the result as a literal, stop the VM.
 *
 *   usage: call KERNEL INITRD PACK [LITERAL...]
 *
 * Exit status: 0 with a result, 1 when the function raised or was refused in
 * the guest (its message is printed), 2 when the call could not be made.
 * Booting needs a KVM that runs an unmodified Linux (the Linux tier runs it
 * in the test host: tests/linux/test_call.py).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arcvm.h"
#include "ion/include/ion.h"

#define CMDLINE "console=ttyS0 reboot=k panic=-1 pci=off quiet " \
		"rdinit=/sbin/arcvm-init arcvm.agent=1 arcvm.modules=1"

/* The arguments as one encoded tuple: tag 7, u32 count, the values. */
static uint8_t *encode_args(int n, char **lits, size_t *len)
{
	uint8_t *b = malloc(5);
	size_t off = 5;
	b[0] = 7;
	for (int i = 0; i < 4; i++)
		b[1 + i] = (uint8_t)((unsigned)n >> (8 * i));
	for (int i = 0; i < n; i++) {
		uint8_t *v;
		size_t vlen;
		char err[256];
		if (ion_literal_encode(lits[i], strlen(lits[i]), &v, &vlen, err, sizeof(err))) {
			fprintf(stderr, "call: bad argument '%s': %s\n", lits[i], err);
			exit(2);
		}
		b = realloc(b, off + vlen);
		memcpy(b + off, v, vlen);
		off += vlen;
		free(v);
	}
	*len = off;
	return b;
}

/* The end of the guest's console, for when the call could not be made. */
static void print_console_tail(int fd)
{
	char buf[2048];
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof(buf) ? end - (off_t)sizeof(buf) : 0;
	ssize_t n = pread(fd, buf, sizeof(buf), from);
	if (n > 0)
		fprintf(stderr, "call: the end of the guest's console:\n%.*s\n", (int)n, buf);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: call KERNEL INITRD PACK [LITERAL...]\n");
		return 2;
	}
	size_t args_len;
	uint8_t *args = encode_args(argc - 4, argv + 4, &args_len);
	char dir[] = "/tmp/arcvm-call-example.XXXXXX", uds[64], console[64];
	if (!mkdtemp(dir))
		return 2;
	snprintf(uds, sizeof(uds), "%s/vsock", dir);
	snprintf(console, sizeof(console), "%s/console", dir);
	int console_fd = open(console, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	struct arcvm_config cfg;
	arcvm_config_init(&cfg);
	cfg.kernel_path = argv[1];
	cfg.initrd_path = argv[2];
	cfg.cmdline = CMDLINE;
	cfg.console_in_fd = -1;
	cfg.console_out_fd = console_fd;
	cfg.rng = true;
	cfg.vsock_uds_path = uds;
	cfg.vsock_cid = 3;

	struct arcvm_error err;
	struct arcvm_vm *vm = NULL;
	struct arcvm_call_result res;
	int status = 2;
	if (arcvm_vm_create(&cfg, &vm, &err) || arcvm_vm_boot(vm, &err) ||
	    arcvm_call(vm, argv[3], args, args_len, 300000, &res, &err)) {
		fprintf(stderr, "call: %s\n", err.msg);
		print_console_tail(console_fd);
		goto out;
	}
	if (res.guest_error) {
		fprintf(stderr, "call: the guest says (%d): %s\n", res.guest_error, res.message);
		status = 1;
	} else {
		char msg[256];
		char *text = ion_literal_format(res.value, res.value_len, msg, sizeof(msg));
		printf("%s\n", text ? text : msg);
		status = text ? 0 : 2;
		free(text);
	}
	arcvm_call_result_free(&res);
out:
	arcvm_vm_destroy(vm);
	unlink(uds);
	unlink(console);
	rmdir(dir);
	free(args);
	return status;
}
