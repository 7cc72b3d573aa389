/*
 * bare_kvm.c - the floor for the native benchmark: the least a VMM can do to
 * run firmware.S. Raw KVM ioctls, no library, no threads, no devices: one VM
 * with 2 MiB of RAM, the firmware image copied so that it ends at 1 MiB, one
 * vCPU in real mode at F000:FFF0, and a KVM_RUN loop that resumes the guest
 * after every port exit until it writes S5|SLP_EN (0x34) to port 0x600.
 *
 * arcvm's per-exit cost is compared with this loop's, so it must not do more
 * than a VMM has to: no output on the hot path, no per-exit system call other
 * than KVM_RUN.
 *
 * usage: bare_kvm FIRMWARE
 * Exit status: 0 at the write to port 0x600, 1 on any error or other exit
 * (the reason is printed on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define RAM_SIZE   (2u << 20)
#define FW_END     (1u << 20)      /* the image's last byte is at FW_END - 1 */
#define FW_MAX     (128u << 10)
#define SLEEP_PORT 0x600
#define SLEEP_S5   0x34            /* SLP_TYP=5 | SLP_EN */

static void die(const char *what)
{
	fprintf(stderr, "bare_kvm: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *msg)
{
	fprintf(stderr, "bare_kvm: %s\n", msg);
	exit(1);
}

/* Reads FIRMWARE into guest RAM so that it ends at FW_END. */
static void load_firmware(const char *path, uint8_t *ram)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	if (st.st_size <= 0 || st.st_size > FW_MAX || st.st_size % 16)
		fail("firmware must be 16..128 KiB, a multiple of 16 bytes");
	uint8_t *dst = ram + FW_END - st.st_size;
	for (off_t done = 0; done < st.st_size;) {
		ssize_t n = read(fd, dst + done, st.st_size - done);
		if (n <= 0)
			fail("short read of the firmware");
		done += n;
	}
	close(fd);
}

/* Real mode at the reset vector, with CS based at 0xF0000 (not 0xFFFF0000)
 * since only low RAM holds the image: what a machine's BIOS alias gives. */
static void reset_vcpu(int vcpu)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	sregs.cs.selector = 0xf000;
	sregs.cs.base = 0xf0000;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0xfff0;
	regs.rflags = 0x2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: bare_kvm FIRMWARE\n");
		return 2;
	}
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	/* Intel VMX needs these three pages below 4 GiB for real mode; harmless elsewhere. */
	if (ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0)
		die("KVM_SET_TSS_ADDR");

	uint8_t *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED)
		die("mmap guest RAM");
	load_firmware(argv[1], ram);
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = RAM_SIZE,
		.userspace_addr = (uintptr_t)ram,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");

	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run))
		die("KVM_GET_VCPU_MMAP_SIZE");
	struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");
	reset_vcpu(vcpu);

	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("KVM_RUN");
		}
		if (run->exit_reason != KVM_EXIT_IO) {
			fprintf(stderr, "bare_kvm: unexpected exit reason %u\n", run->exit_reason);
			return 1;
		}
		if (run->io.port == SLEEP_PORT && run->io.direction == KVM_EXIT_IO_OUT) {
			const uint8_t *data = (const uint8_t *)run + run->io.data_offset;
			if (run->io.size == 1 && data[0] == SLEEP_S5)
				return 0;
		}
		/* Any other port: an OUT is dropped, an IN reads what the page holds. */
	}
}
