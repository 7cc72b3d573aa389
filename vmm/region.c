/*
 * region.c - user-mapped memory regions (arcvm_map_region and friends) and
 * the one set of overlap rules shared by regions and exit handlers: guest
 * RAM, arcvm's fixed windows, attached devices, handlers and regions never
 * claim the same guest-physical address. See region.h for ownership.
 */
#include "vmm/region.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "util/err.h"
#include "vmm/vm.h"

#define REGION_PAGE 4096ull
#define DEFAULT_PHYS_BITS 36   /* every x86-64 CPU has at least this many */

struct window {
	uint64_t base, len;
	const char *name;
};

/* Guest-physical pages KVM or the in-kernel irqchip serve whatever devices
 * are attached (virtio-mmio windows are checked through the bus instead, so
 * an unused window stays free). */
static const struct window fixed_mmio[] = {
	{ X86_IOAPIC_ADDR, X86_IOAPIC_SIZE, "the IOAPIC window" },
	{ X86_LAPIC_ADDR, X86_LAPIC_SIZE, "the LAPIC window" },
	{ X86_TSS_ADDR, X86_TSS_SIZE, "KVM's TSS pages" },
	{ X86_IDENTITY_MAP_ADDR, X86_IDENTITY_MAP_SIZE, "KVM's identity-map page" },
};

/* Ports KVM serves itself when the VM has an in-kernel irqchip and PIT: a
 * handler there would never be called. */
static const struct window irqchip_ports[] = {
	{ X86_PIC_MASTER_PORT, 2, "the in-kernel PIC" },
	{ X86_PIC_SLAVE_PORT, 2, "the in-kernel PIC" },
	{ X86_PIT_PORT, 4, "the in-kernel PIT" },
	{ X86_PIT_SPEAKER_PORT, 1, "the in-kernel PIT's speaker port" },
	{ X86_ELCR_PORT, 2, "the in-kernel PIC's ELCR" },
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Callers have checked that neither range wraps. */
static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static const struct window *hit_window(const struct window *w, size_t n, uint64_t base,
				       uint64_t len)
{
	for (size_t i = 0; i < n; i++)
		if (overlaps(base, len, w[i].base, w[i].len))
			return &w[i];
	return NULL;
}

static const struct mem_region *hit_ram(const struct arcvm_vm *vm, uint64_t base, uint64_t len)
{
	for (int i = 0; i < vm->mem.nregions; i++) {
		const struct mem_region *r = &vm->mem.regions[i];
		if (overlaps(base, len, r->gpa, r->size))
			return r;
	}
	return NULL;
}

static struct vm_region *hit_region(struct arcvm_vm *vm, uint64_t base, uint64_t len)
{
	for (int i = 0; i < ARCVM_MAX_REGIONS; i++) {
		struct vm_region *r = &vm->regions.r[i];
		if (r->used && overlaps(base, len, r->gpa, r->size))
			return r;
	}
	return NULL;
}

static bool is_user_handler(const struct arcvm_vm *vm, const struct bus_device *d)
{
	const struct vm_user_handler *h = d->opaque;
	return h >= vm->handlers && h < vm->handlers + VM_MAX_USER_HANDLERS;
}

int vm_guest_ptr(struct arcvm_vm *vm, uint64_t gpa, uint64_t len, bool write, void **out,
		 struct arcvm_error *err)
{
	*out = mem_ptr(&vm->mem, gpa, len);
	if (*out)
		return 0;
	for (int i = 0; i < ARCVM_MAX_REGIONS; i++) {
		struct vm_region *r = &vm->regions.r[i];
		/* The same overflow-safe containment test as mem_ptr(). */
		if (!r->used || gpa < r->gpa || gpa - r->gpa > r->size ||
		    len > r->size - (gpa - r->gpa))
			continue;
		if (write && (r->flags & ARCVM_REGION_READONLY))
			return err_set(err, ARCVM_E_PERMISSION,
				       "guest range 0x%llx+%llu lies in the read-only region at 0x%llx",
				       (unsigned long long)gpa, (unsigned long long)len,
				       (unsigned long long)r->gpa);
		*out = r->host + (gpa - r->gpa);
		return 0;
	}
	return err_set(err, ARCVM_E_INVALID, "guest range 0x%llx+%llu is not in guest memory",
		       (unsigned long long)gpa, (unsigned long long)len);
}

static int check_mmio_handler(struct arcvm_vm *vm, uint64_t base, uint64_t len,
			      struct arcvm_error *err)
{
	if (len == 0 || base + len < base)
		return err_set(err, ARCVM_E_INVALID, "MMIO range 0x%llx+%llu is empty or wraps around",
			       (unsigned long long)base, (unsigned long long)len);
	const struct mem_region *ram = hit_ram(vm, base, len);
	if (ram)
		return err_set(err, ARCVM_E_INVALID,
			       "MMIO range 0x%llx+0x%llx overlaps guest RAM at 0x%llx+0x%llx",
			       (unsigned long long)base, (unsigned long long)len,
			       (unsigned long long)ram->gpa, (unsigned long long)ram->size);
	const struct window *w = hit_window(fixed_mmio, ARRAY_LEN(fixed_mmio), base, len);
	if (w)
		return err_set(err, ARCVM_E_INVALID, "MMIO range 0x%llx+0x%llx overlaps %s",
			       (unsigned long long)base, (unsigned long long)len, w->name);
	for (int i = 0; i < ARCVM_MAX_REGIONS; i++) {
		const struct vm_region *r = &vm->regions.r[i];
		if (r->used && !(r->flags & ARCVM_REGION_READONLY) &&
		    overlaps(base, len, r->gpa, r->size))
			return err_set(err, ARCVM_E_INVALID,
				       "MMIO range 0x%llx+0x%llx overlaps the writable region at "
				       "0x%llx, which the guest reaches as memory (map it "
				       "ARCVM_REGION_READONLY to receive its writes)",
				       (unsigned long long)base, (unsigned long long)len,
				       (unsigned long long)r->gpa);
	}
	return 0;   /* attached devices and other handlers: bus_register refuses them */
}

int vm_check_handler_range(struct arcvm_vm *vm, enum arcvm_space space, uint64_t base,
			   uint64_t len, struct arcvm_error *err)
{
	if (space == ARCVM_SPACE_MMIO)
		return check_mmio_handler(vm, base, len, err);
	if (space != ARCVM_SPACE_PIO)
		return err_set(err, ARCVM_E_INVALID, "unknown address space %d", (int)space);
	if (len == 0 || base > 0xffff || len > 0x10000 - base)
		return err_set(err, ARCVM_E_INVALID, "port range 0x%llx+%llu is empty or outside "
			       "0..0xffff", (unsigned long long)base, (unsigned long long)len);
	const struct window *w = vm->irqchip ?
		hit_window(irqchip_ports, ARRAY_LEN(irqchip_ports), base, len) : NULL;
	if (w)
		return err_set(err, ARCVM_E_INVALID, "port range 0x%llx+%llu overlaps %s",
			       (unsigned long long)base, (unsigned long long)len, w->name);
	return 0;
}

/* The guest's physical address width, from the CPUID KVM gives it. */
static unsigned guest_phys_bits(const struct arcvm_vm *vm)
{
	for (uint32_t i = 0; vm->cpuid && i < vm->cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &vm->cpuid->entries[i];
		if (e->function == 0x80000008 && (e->eax & 0xff) >= 32)
			return e->eax & 0xff;
	}
	return DEFAULT_PHYS_BITS;
}

static int check_region_shape(const struct arcvm_vm *vm, const struct arcvm_region *r,
			      struct arcvm_error *err)
{
	const uint32_t known = ARCVM_REGION_READONLY | ARCVM_REGION_DIRTY_LOG;
	if (r->flags & ~known)
		return err_set(err, ARCVM_E_INVALID, "unknown region flags 0x%x", r->flags & ~known);
	if ((r->flags & ARCVM_REGION_READONLY) && (r->flags & ARCVM_REGION_DIRTY_LOG))
		return err_set(err, ARCVM_E_INVALID,
			       "a read-only region has no guest writes to log: drop one flag");
	if (r->size == 0)
		return err_set(err, ARCVM_E_INVALID, "region at 0x%llx is empty",
			       (unsigned long long)r->gpa);
	if ((r->gpa | r->size) & (REGION_PAGE - 1))
		return err_set(err, ARCVM_E_INVALID,
			       "region 0x%llx+0x%llx is not page-aligned: address and size must be "
			       "multiples of 4 KiB", (unsigned long long)r->gpa,
			       (unsigned long long)r->size);
	unsigned bits = guest_phys_bits(vm);
	uint64_t limit = 1ull << bits;
	if (r->gpa >= limit || r->size > limit - r->gpa)
		return err_set(err, ARCVM_E_INVALID,
			       "region 0x%llx+0x%llx lies beyond the guest's %u-bit physical "
			       "address space", (unsigned long long)r->gpa,
			       (unsigned long long)r->size, bits);
	if (r->host && ((uintptr_t)r->host & (REGION_PAGE - 1)))
		return err_set(err, ARCVM_E_INVALID, "region host memory %p is not page-aligned",
			       r->host);
	if (!r->host && r->fd < 0)
		return err_set(err, ARCVM_E_INVALID,
			       "region at 0x%llx has neither host memory nor a file descriptor",
			       (unsigned long long)r->gpa);
	if (!r->host && (r->offset & (REGION_PAGE - 1)))
		return err_set(err, ARCVM_E_INVALID, "region file offset 0x%llx is not page-aligned",
			       (unsigned long long)r->offset);
	return 0;
}

/* Nothing else may own any byte of the range. */
static int check_region_free(struct arcvm_vm *vm, const struct arcvm_region *r,
			     struct arcvm_error *err)
{
	unsigned long long gpa = r->gpa, size = r->size;
	const struct mem_region *ram = hit_ram(vm, r->gpa, r->size);
	if (ram)
		return err_set(err, ARCVM_E_INVALID,
			       "region 0x%llx+0x%llx overlaps guest RAM at 0x%llx+0x%llx", gpa, size,
			       (unsigned long long)ram->gpa, (unsigned long long)ram->size);
	const struct vm_region *other = hit_region(vm, r->gpa, r->size);
	if (other)
		return err_set(err, ARCVM_E_INVALID,
			       "region 0x%llx+0x%llx overlaps the region at 0x%llx+0x%llx", gpa, size,
			       (unsigned long long)other->gpa, (unsigned long long)other->size);
	const struct window *w = hit_window(fixed_mmio, ARRAY_LEN(fixed_mmio), r->gpa, r->size);
	if (w)
		return err_set(err, ARCVM_E_INVALID, "region 0x%llx+0x%llx overlaps %s", gpa, size,
			       w->name);
	for (int i = 0; i < vm->mmio.ndevices; i++) {
		const struct bus_device *d = &vm->mmio.devices[i];
		if (!overlaps(r->gpa, r->size, d->base, d->len))
			continue;
		if (!is_user_handler(vm, d))
			return err_set(err, ARCVM_E_INVALID,
				       "region 0x%llx+0x%llx overlaps device %s at 0x%llx", gpa, size,
				       d->name, (unsigned long long)d->base);
		if (!(r->flags & ARCVM_REGION_READONLY))
			return err_set(err, ARCVM_E_INVALID,
				       "writable region 0x%llx+0x%llx overlaps the MMIO exit handler "
				       "at 0x%llx, which would never be called", gpa, size,
				       (unsigned long long)d->base);
	}
	return 0;
}

/* Maps [offset, offset+size) of the caller's file, shared so the guest and
 * the file (or memfd) see the same bytes. */
static int map_fd(const struct arcvm_region *r, void **out, struct arcvm_error *err)
{
	struct stat st;
	if (fstat(r->fd, &st) < 0)
		return err_errno(err, errno == EBADF ? ARCVM_E_INVALID : ARCVM_E_IO, errno,
				 "cannot stat region file descriptor %d", r->fd);
	if (!S_ISREG(st.st_mode))
		return err_set(err, ARCVM_E_INVALID,
			       "region file descriptor %d is not a regular file or memfd", r->fd);
	uint64_t fsize = (uint64_t)st.st_size;
	if (r->offset > fsize || r->size > fsize - r->offset)
		return err_set(err, ARCVM_E_INVALID,
			       "region needs bytes 0x%llx..0x%llx of file descriptor %d, which "
			       "holds only 0x%llx", (unsigned long long)r->offset,
			       (unsigned long long)(r->offset + r->size), r->fd,
			       (unsigned long long)fsize);
	bool ro = r->flags & ARCVM_REGION_READONLY;
	void *p = mmap(NULL, r->size, ro ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, r->fd,
		       (off_t)r->offset);
	if (p == MAP_FAILED) {
		int e = errno;
		if (e == EACCES)
			return err_set(err, ARCVM_E_PERMISSION,
				       "cannot map file descriptor %d writable: open it O_RDWR or "
				       "map it ARCVM_REGION_READONLY", r->fd);
		return err_errno(err, err_from_errno(e), e, "cannot map file descriptor %d", r->fd);
	}
	*out = p;
	return 0;
}

static uint32_t kvm_slot_flags(uint32_t flags)
{
	return ((flags & ARCVM_REGION_READONLY) ? KVM_MEM_READONLY : 0u) |
	       ((flags & ARCVM_REGION_DIRTY_LOG) ? KVM_MEM_LOG_DIRTY_PAGES : 0u);
}

/* A free table entry whose slot KVM accepts, or -1 with err set. */
static int free_slot(struct arcvm_vm *vm, struct arcvm_error *err)
{
	int i = 0;
	while (i < ARCVM_MAX_REGIONS && vm->regions.r[i].used)
		i++;
	if (i == ARCVM_MAX_REGIONS) {
		err_set(err, ARCVM_E_INVALID, "too many mapped regions (max %d)", ARCVM_MAX_REGIONS);
		return -1;
	}
	int nslots = kvm_vm_check_cap(&vm->vmfd, KVM_CAP_NR_MEMSLOTS);
	if (nslots > 0 && VM_REGION_SLOT_BASE + i >= nslots) {
		err_set(err, ARCVM_E_INVALID, "this host's KVM has only %d memory slots", nslots);
		return -1;
	}
	return i;
}

int arcvm_map_region(struct arcvm_vm *vm, const struct arcvm_region *r, struct arcvm_error *err)
{
	if (vm->state != ARCVM_STATE_CREATED && vm->state != ARCVM_STATE_PAUSED)
		return err_set(err, ARCVM_E_BAD_STATE, "cannot map a region into a VM that is %s "
			       "(only created or paused)", arcvm_state_name(vm->state));
	int rc = check_region_shape(vm, r, err);
	if (!rc)
		rc = check_region_free(vm, r, err);
	if (rc)
		return rc;
	if ((r->flags & ARCVM_REGION_READONLY) &&
	    !kvm_vm_check_cap(&vm->vmfd, KVM_CAP_READONLY_MEM))
		return err_set(err, ARCVM_E_UNSUPPORTED,
			       "this host's KVM lacks KVM_CAP_READONLY_MEM (read-only regions)");
	int i = free_slot(vm, err);
	if (i < 0)
		return err ? err->code : ARCVM_E_INVALID;
	void *map = NULL;
	if (!r->host && (rc = map_fd(r, &map, err)))
		return rc;
	uint8_t *host = r->host ? r->host : map;
	rc = kvm_set_memory(&vm->vmfd, VM_REGION_SLOT_BASE + (uint32_t)i, r->gpa, r->size, host,
			    kvm_slot_flags(r->flags), err);
	if (rc) {
		if (map)
			munmap(map, r->size);
		return rc;
	}
	vm->regions.r[i] = (struct vm_region){
		.used = true, .gpa = r->gpa, .size = r->size, .host = host, .map = map,
		.flags = r->flags,
	};
	return 0;
}

static struct vm_region *find_region(struct arcvm_vm *vm, uint64_t gpa, int *index)
{
	for (int i = 0; i < ARCVM_MAX_REGIONS; i++) {
		if (vm->regions.r[i].used && vm->regions.r[i].gpa == gpa) {
			*index = i;
			return &vm->regions.r[i];
		}
	}
	return NULL;
}

int arcvm_unmap_region(struct arcvm_vm *vm, uint64_t gpa, struct arcvm_error *err)
{
	if (vm->state == ARCVM_STATE_RUNNING)
		return err_set(err, ARCVM_E_BAD_STATE,
			       "cannot unmap a region while the VM is running: pause it first");
	int i;
	struct vm_region *r = find_region(vm, gpa, &i);
	if (!r)
		return err_set(err, ARCVM_E_NOT_FOUND, "no mapped region starts at 0x%llx",
			       (unsigned long long)gpa);
	/* A zero size deletes the slot. */
	int rc = kvm_set_memory(&vm->vmfd, VM_REGION_SLOT_BASE + (uint32_t)i, r->gpa, 0, r->host,
				0, err);
	if (rc)
		return rc;
	if (r->map)
		munmap(r->map, r->size);
	*r = (struct vm_region){ 0 };
	return 0;
}

int arcvm_region_dirty_log(struct arcvm_vm *vm, uint64_t gpa, uint64_t *bitmap, size_t words,
			   struct arcvm_error *err)
{
	int i;
	struct vm_region *r = find_region(vm, gpa, &i);
	if (!r)
		return err_set(err, ARCVM_E_NOT_FOUND, "no mapped region starts at 0x%llx",
			       (unsigned long long)gpa);
	if (!(r->flags & ARCVM_REGION_DIRTY_LOG))
		return err_set(err, ARCVM_E_INVALID,
			       "the region at 0x%llx was not mapped with ARCVM_REGION_DIRTY_LOG",
			       (unsigned long long)gpa);
	uint64_t pages = r->size / REGION_PAGE;
	uint64_t need = (pages + 63) / 64;
	if (!bitmap || words < need)
		return err_set(err, ARCVM_E_INVALID,
			       "dirty bitmap of %zu words is too small for %llu pages (needs %llu)",
			       words, (unsigned long long)pages, (unsigned long long)need);
	return kvm_get_dirty_log(&vm->vmfd, VM_REGION_SLOT_BASE + (uint32_t)i, bitmap, err);
}

void vm_regions_destroy(struct arcvm_vm *vm)
{
	for (int i = 0; i < ARCVM_MAX_REGIONS; i++) {
		struct vm_region *r = &vm->regions.r[i];
		if (r->used && r->map)
			munmap(r->map, r->size);
		*r = (struct vm_region){ 0 };
	}
}
