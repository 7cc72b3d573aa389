/* memory.c - guest RAM layout and the bounds-checked guest memory accessors. */
#include "vmm/memory.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "util/err.h"

#define MEM_SMALL_PAGES (2ull << 20)   /* low RAM kept out of transparent huge pages */

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int mem_add_region(struct guest_mem *m, uint64_t gpa, void *host, uint64_t size, bool is_ram,
		   struct arcvm_error *err)
{
	if (size == 0 || gpa + size < gpa)
		return err_set(err, ARCVM_E_INVALID,
			       "memory region at 0x%llx of %llu bytes is empty or wraps around",
			       (unsigned long long)gpa, (unsigned long long)size);
	if (m->nregions == MEM_MAX_REGIONS)
		return err_set(err, ARCVM_E_INVALID, "too many memory regions (max %d)",
			       MEM_MAX_REGIONS);
	for (int i = 0; i < m->nregions; i++) {
		const struct mem_region *r = &m->regions[i];
		if (ranges_overlap(gpa, size, r->gpa, r->size))
			return err_set(err, ARCVM_E_INVALID,
				       "memory region 0x%llx+0x%llx overlaps 0x%llx+0x%llx",
				       (unsigned long long)gpa, (unsigned long long)size,
				       (unsigned long long)r->gpa, (unsigned long long)r->size);
	}
	m->regions[m->nregions++] = (struct mem_region){
		.gpa = gpa, .size = size, .host = host, .is_ram = is_ram,
	};
	if (is_ram)
		m->ram_size += size;
	return 0;
}

/* Maps one RAM region: anonymous, or when fd >= 0 a private copy-on-write
 * view of the file at `off`, whose pages the kernel reads on first touch. */
static int map_ram(struct guest_mem *m, uint64_t gpa, uint64_t size, int fd, uint64_t off,
		   struct arcvm_error *err)
{
	int flags = MAP_PRIVATE | MAP_NORESERVE | (fd < 0 ? MAP_ANONYMOUS : 0);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, fd, (off_t)off);
	if (p == MAP_FAILED)
		return err_errno(err, ARCVM_E_NOMEM, errno,
				 "cannot map %llu MiB of guest RAM", (unsigned long long)(size >> 20));
	/* Guest RAM is large and touched sparsely: THP keeps EPT/NPT walks short.
	 * The first 2 MiB holds boot structures and tiny guests, which would
	 * each fault in a whole huge page for a few KiB. A file-backed view is
	 * left alone: restoring wants to read only the pages the guest touches. */
	if (fd < 0) {
		madvise(p, size, MADV_HUGEPAGE);
		if (gpa == 0)
			madvise(p, size < MEM_SMALL_PAGES ? size : MEM_SMALL_PAGES, MADV_NOHUGEPAGE);
	}
	int rc = mem_add_region(m, gpa, p, size, true, err);
	if (rc) {
		munmap(p, size);
		return rc;
	}
	m->regions[m->nregions - 1].owned = true;
	return 0;
}

int mem_create_ram(struct guest_mem *m, uint64_t ram_size, struct arcvm_error *err)
{
	return mem_create_ram_file(m, ram_size, -1, err);
}

int mem_create_ram_file(struct guest_mem *m, uint64_t ram_size, int fd, struct arcvm_error *err)
{
	memset(m, 0, sizeof(*m));
	if (ram_size == 0)
		return err_set(err, ARCVM_E_INVALID, "guest memory size must be greater than 0");
	if (ram_size & 0xfff)
		return err_set(err, ARCVM_E_INVALID,
			       "guest memory size %llu is not a multiple of 4 KiB",
			       (unsigned long long)ram_size);
	if (ram_size > UINT64_MAX - MEM_HOLE_END)
		return err_set(err, ARCVM_E_INVALID, "guest memory size %llu is too large",
			       (unsigned long long)ram_size);
	uint64_t low = ram_size < MEM_HOLE_START ? ram_size : MEM_HOLE_START;
	int rc = map_ram(m, 0, low, fd, 0, err);
	if (rc == 0 && ram_size > low)
		rc = map_ram(m, MEM_HOLE_END, ram_size - low, fd, low, err);
	if (rc)
		mem_destroy(m);
	return rc;
}

void mem_destroy(struct guest_mem *m)
{
	for (int i = 0; i < m->nregions; i++) {
		struct mem_region *r = &m->regions[i];
		if (r->owned)
			munmap(r->host, r->size);
	}
	memset(m, 0, sizeof(*m));
}

void *mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < m->nregions; i++) {
		const struct mem_region *r = &m->regions[i];
		/* gpa - r->gpa cannot underflow once gpa >= r->gpa; comparing
		 * lengths instead of end addresses avoids any overflow. */
		if (gpa >= r->gpa && gpa - r->gpa <= r->size && len <= r->size - (gpa - r->gpa))
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

int mem_read(const struct guest_mem *m, uint64_t gpa, void *dst, size_t len)
{
	const void *src = mem_ptr(m, gpa, len);
	if (!src)
		return -1;
	memcpy(dst, src, len);
	return 0;
}

int mem_write(const struct guest_mem *m, uint64_t gpa, const void *src, size_t len)
{
	void *dst = mem_ptr(m, gpa, len);
	if (!dst)
		return -1;
	mem_mark_dirty(m, gpa, len);
	memcpy(dst, src, len);
	return 0;
}

uint64_t mem_ram_end(const struct guest_mem *m)
{
	uint64_t end = 0;
	for (int i = 0; i < m->nregions; i++) {
		const struct mem_region *r = &m->regions[i];
		if (r->is_ram && r->gpa + r->size > end)
			end = r->gpa + r->size;
	}
	return end;
}

uint64_t mem_file_offset(const struct guest_mem *m, int region)
{
	uint64_t off = 0;
	for (int i = 0; i < region; i++)
		if (m->regions[i].is_ram)
			off += m->regions[i].size;
	return off;
}

void mem_mark_dirty(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (!m->dirty || len == 0)
		return;
	uint64_t file_off = 0;
	for (int i = 0; i < m->nregions; i++) {
		const struct mem_region *r = &m->regions[i];
		if (r->is_ram && gpa >= r->gpa && gpa - r->gpa < r->size) {
			uint64_t off = gpa - r->gpa;
			uint64_t end = len > r->size - off ? r->size : off + len;
			for (uint64_t p = (file_off + off) >> 12; p <= (file_off + end - 1) >> 12; p++)
				__atomic_fetch_or(&m->dirty[p / 64], 1ull << (p % 64), __ATOMIC_RELAXED);
			return;
		}
		if (r->is_ram)
			file_off += r->size;
	}
}
