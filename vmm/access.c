/*
 * access.c - the host's access to guest memory through the public API:
 * byte ranges, typed single loads and stores, and blob loading. Every
 * address goes through vm_guest_ptr(), which covers guest RAM and the
 * mapped regions and refuses anything else.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/err.h"
#include "vmm/vm.h"

int arcvm_read_guest(struct arcvm_vm *vm, uint64_t gpa, void *buf, size_t len,
		     struct arcvm_error *err)
{
	void *src;
	int rc = vm_guest_ptr(vm, gpa, len, false, &src, err);
	if (!rc)
		memcpy(buf, src, len);
	return rc;
}

int arcvm_write_guest(struct arcvm_vm *vm, uint64_t gpa, const void *buf, size_t len,
		      struct arcvm_error *err)
{
	void *dst;
	int rc = vm_guest_ptr(vm, gpa, len, true, &dst, err);
	if (!rc) {
		mem_mark_dirty(&vm->mem, gpa, len);   /* diff snapshots include host writes */
		memcpy(dst, buf, len);
	}
	return rc;
}

/* Alignment is what makes a typed access one load or store the guest
 * cannot see half of, so it is refused rather than split. */
static int typed_ptr(struct arcvm_vm *vm, uint64_t gpa, unsigned width, bool write, void **p,
		     struct arcvm_error *err)
{
	if (gpa & (width - 1))
		return err_set(err, ARCVM_E_INVALID,
			       "guest address 0x%llx is not %u-byte aligned for a %u-bit access",
			       (unsigned long long)gpa, width, width * 8);
	return vm_guest_ptr(vm, gpa, width, write, p, err);
}

/* Acquire/release: a host that polls a guest flag and then reads the data
 * behind it sees the data the guest wrote before the flag. Free on x86. */
#define TYPED_ACCESSORS(bits)                                                              \
	int arcvm_read_guest_u##bits(struct arcvm_vm *vm, uint64_t gpa, uint##bits##_t *out, \
				     struct arcvm_error *err)                              \
	{                                                                                  \
		void *p;                                                                   \
		int rc = typed_ptr(vm, gpa, bits / 8, false, &p, err);                     \
		if (!rc)                                                                   \
			*out = __atomic_load_n((uint##bits##_t *)p, __ATOMIC_ACQUIRE);     \
		return rc;                                                                 \
	}                                                                                  \
	int arcvm_write_guest_u##bits(struct arcvm_vm *vm, uint64_t gpa, uint##bits##_t v,  \
				      struct arcvm_error *err)                             \
	{                                                                                  \
		void *p;                                                                   \
		int rc = typed_ptr(vm, gpa, bits / 8, true, &p, err);                      \
		if (rc)                                                                    \
			return rc;                                                         \
		mem_mark_dirty(&vm->mem, gpa, bits / 8);                                   \
		__atomic_store_n((uint##bits##_t *)p, v, __ATOMIC_RELEASE);                \
		return 0;                                                                  \
	}

TYPED_ACCESSORS(8)
TYPED_ACCESSORS(16)
TYPED_ACCESSORS(32)
TYPED_ACCESSORS(64)

/* Where a blob of `len` bytes goes, with a message that names the blob. */
static int image_dest(struct arcvm_vm *vm, uint64_t gpa, uint64_t len, const char *what,
		      void **dst, struct arcvm_error *err)
{
	struct arcvm_error inner;
	int rc = vm_guest_ptr(vm, gpa, len, true, dst, &inner);
	if (rc)
		return err_set(err, rc, "%s of %llu bytes at 0x%llx does not fit: %s", what,
			       (unsigned long long)len, (unsigned long long)gpa, inner.msg);
	mem_mark_dirty(&vm->mem, gpa, len);
	return 0;
}

/* Reads the file straight into guest memory, so a large image costs no
 * bounce buffer. The size is taken once: a file that shrinks meanwhile is
 * an error, one that grows is loaded up to the size first seen. */
static int load_file(struct arcvm_vm *vm, uint64_t gpa, const char *path, size_t *loaded,
		     struct arcvm_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return err_set(err, ARCVM_E_NOT_FOUND, "image file %s does not exist", path);
		return err_errno(err, err_from_errno(e), e, "cannot open image %s", path);
	}
	struct stat st;
	int rc = 0;
	uint8_t *dst = NULL;
	if (fstat(fd, &st) < 0)
		rc = err_errno(err, ARCVM_E_IO, errno, "cannot stat image %s", path);
	else if (!S_ISREG(st.st_mode))
		rc = err_set(err, ARCVM_E_INVALID, "image %s is not a regular file", path);
	else
		rc = image_dest(vm, gpa, (uint64_t)st.st_size, path, (void **)&dst, err);
	size_t size = rc ? 0 : (size_t)st.st_size, done = 0;
	while (!rc && done < size) {
		ssize_t n = pread(fd, dst + done, size - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = err_errno(err, ARCVM_E_IO, errno, "cannot read image %s", path);
		else if (n == 0)
			rc = err_set(err, ARCVM_E_IO, "image %s shrank while being loaded", path);
		else
			done += (size_t)n;
	}
	close(fd);
	if (!rc && loaded)
		*loaded = size;
	return rc;
}

int arcvm_image_load_region(struct arcvm_vm *vm, uint64_t gpa, const char *path,
			    const void *buf, size_t len, size_t *loaded, struct arcvm_error *err)
{
	if (loaded)
		*loaded = 0;
	if (vm->state == ARCVM_STATE_RUNNING)
		return err_set(err, ARCVM_E_BAD_STATE,
			       "cannot load an image while the VM is running: pause it first");
	if (!path == !buf)
		return err_set(err, ARCVM_E_INVALID, "give an image path or a buffer, not %s",
			       path ? "both" : "neither");
	if (path) {
		if (len)
			return err_set(err, ARCVM_E_INVALID,
				       "len must be 0 with an image path: the whole file is loaded");
		return load_file(vm, gpa, path, loaded, err);
	}
	void *dst;
	int rc = image_dest(vm, gpa, len, "image", &dst, err);
	if (rc)
		return rc;
	memcpy(dst, buf, len);
	if (loaded)
		*loaded = len;
	return 0;
}
