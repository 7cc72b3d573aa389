/*
 * virtq.c - split virtqueue, device side. See virtq.h for the rules.
 *
 * Guest memory may change under us at any moment (another vCPU, a hostile
 * driver). Every ring or descriptor field is therefore loaded exactly once,
 * through a volatile or atomic access, into a local that is then validated;
 * nothing is re-read after it was checked.
 */
#include "virtio/virtq.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/err.h"

/* Offsets (in uint16_t units) inside the available ring. */
#define AVAIL_FLAGS 0
#define AVAIL_IDX   1
#define AVAIL_RING  2

static int q_fail(struct virtq *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int q_fail(struct virtq *q, const char *fmt, ...)
{
	if (!q->broken) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(q->why, sizeof(q->why), fmt, ap);
		va_end(ap);
		q->broken = true;
	}
	return ARCVM_E_INVALID;
}

void virtq_set_broken(struct virtq *q, const char *why)
{
	q_fail(q, "%s", why);
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

int virtq_enable(struct virtq *q, const struct guest_mem *mem, uint32_t size, uint32_t max_size,
		 uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa, uint64_t features,
		 struct arcvm_error *err)
{
	virtq_reset(q);
	if (max_size == 0 || max_size > VIRTQ_MAX_SIZE)
		return err_set(err, ARCVM_E_INVALID, "virtq: maximum size %u out of range", max_size);
	if (size == 0 || size > max_size || (size & (size - 1)))
		return err_set(err, ARCVM_E_INVALID,
			       "virtq: size %u is not a power of two in 1..%u", size, max_size);
	if (desc_gpa & 15)
		return err_set(err, ARCVM_E_INVALID,
			       "virtq: descriptor table 0x%llx not 16-byte aligned",
			       (unsigned long long)desc_gpa);
	if (avail_gpa & 1)
		return err_set(err, ARCVM_E_INVALID,
			       "virtq: available ring 0x%llx not 2-byte aligned",
			       (unsigned long long)avail_gpa);
	if (used_gpa & 3)
		return err_set(err, ARCVM_E_INVALID, "virtq: used ring 0x%llx not 4-byte aligned",
			       (unsigned long long)used_gpa);

	/* flags + idx + ring[size] + trailing event word, for both rings. */
	uint64_t desc_len = 16ull * size;
	uint64_t avail_len = 6ull + 2ull * size;
	uint64_t used_len = 6ull + 8ull * size;
	void *desc = mem_ptr(mem, desc_gpa, desc_len);
	void *avail = mem_ptr(mem, avail_gpa, avail_len);
	void *used = mem_ptr(mem, used_gpa, used_len);
	if (!desc || !avail || !used)
		return err_set(err, ARCVM_E_INVALID,
			       "virtq: %s ring at 0x%llx (size %u) is outside guest memory",
			       !desc ? "descriptor" : !avail ? "available" : "used",
			       (unsigned long long)(!desc ? desc_gpa : !avail ? avail_gpa : used_gpa),
			       size);

	q->mem = mem;
	q->size = (uint16_t)size;
	q->desc_gpa = desc_gpa;
	q->avail_gpa = avail_gpa;
	q->used_gpa = used_gpa;
	q->desc = desc;
	q->avail = avail;
	q->used_hdr = used;
	q->used_ring = (struct virtq_used_elem *)((uint8_t *)used + 4);
	q->avail_event = (uint16_t *)((uint8_t *)used + 4 + 8ull * size);
	q->event_idx = features & (1ull << VIRTQ_F_EVENT_IDX);
	q->indirect = features & (1ull << VIRTQ_F_INDIRECT_DESC);
	q->ready = true;
	return 0;
}

static uint16_t load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* One copy of the descriptor; the caller validates the copy. An indirect
 * table need not be aligned, hence memcpy. The barrier stops the compiler
 * from re-reading guest memory in place of the copy after the checks. */
static struct virtq_desc read_desc(const struct virtq_desc *d)
{
	struct virtq_desc out;
	memcpy(&out, d, sizeof(out));
	__asm__ __volatile__("" ::: "memory");
	return out;
}

/* Appends one direct descriptor's buffer to the chain. */
static int chain_add(struct virtq *q, struct virtq_chain *c, const struct virtq_desc *d,
		     bool *seen_write)
{
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;
	if (!writable && *seen_write)
		return q_fail(q, "chain %u: readable descriptor after a writable one", c->head);
	*seen_write |= writable;
	if (d->len == 0)
		return 0;
	void *p = mem_ptr(q->mem, d->addr, d->len);
	if (!p)
		return q_fail(q, "chain %u: buffer 0x%llx+%u is outside guest memory", c->head,
			      (unsigned long long)d->addr, d->len);
	unsigned n = c->nread + c->nwrite;
	if (n >= VIRTQ_CHAIN_MAX)
		return q_fail(q, "chain %u: more than %u buffers", c->head, VIRTQ_CHAIN_MAX);
	c->iov[n].iov_base = p;
	c->iov[n].iov_len = d->len;
	if (writable) {
		/* The device may write it: a diff snapshot must include it. */
		mem_mark_dirty(q->mem, d->addr, d->len);
		c->nwrite++;
		c->write_len += d->len;
	} else {
		c->nread++;
		c->read_len += d->len;
	}
	return 0;
}

/* Switches the walk into the indirect table described by d. */
static int enter_indirect(struct virtq *q, struct virtq_chain *c, const struct virtq_desc *d,
			  const struct virtq_desc **table, uint32_t *count)
{
	if (*table != q->desc)
		return q_fail(q, "chain %u: nested indirect descriptor", c->head);
	if (!q->indirect)
		return q_fail(q, "chain %u: indirect descriptor not negotiated", c->head);
	if (d->flags & VIRTQ_DESC_F_NEXT)
		return q_fail(q, "chain %u: indirect descriptor with NEXT set", c->head);
	if (d->len == 0 || d->len % sizeof(struct virtq_desc) ||
	    d->len / sizeof(struct virtq_desc) > VIRTQ_CHAIN_MAX)
		return q_fail(q, "chain %u: indirect table length %u invalid", c->head, d->len);
	const struct virtq_desc *t = mem_ptr(q->mem, d->addr, d->len);
	if (!t)
		return q_fail(q, "chain %u: indirect table 0x%llx+%u outside guest memory", c->head,
			      (unsigned long long)d->addr, d->len);
	*table = t;
	*count = d->len / sizeof(struct virtq_desc);
	return 0;
}

/*
 * Walks the chain starting at `head`. Invariant: at most `count` descriptors
 * are visited per table (the queue's table, then at most one indirect table),
 * so a looping chain is caught after `count` hops.
 */
static int walk_chain(struct virtq *q, uint16_t head, struct virtq_chain *c)
{
	const struct virtq_desc *table = q->desc;
	uint32_t count = q->size, idx = head, hops = 0;
	bool seen_write = false;

	c->head = head;
	c->nread = c->nwrite = 0;
	c->read_len = c->write_len = 0;
	for (;;) {
		if (++hops > count)
			return q_fail(q, "chain %u: longer than %u descriptors (a loop?)", head,
				      count);
		struct virtq_desc d = read_desc(&table[idx]);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (enter_indirect(q, c, &d, &table, &count) < 0)
				return ARCVM_E_INVALID;
			idx = 0;
			hops = 0;
			continue;
		}
		if (chain_add(q, c, &d, &seen_write) < 0)
			return ARCVM_E_INVALID;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= count)
			return q_fail(q, "chain %u: next index %u out of range %u", head, d.next,
				      count);
		idx = d.next;
	}
}

/* Number of chains the driver has made available that we have not taken,
 * or -1 (queue broken) when the index ran further than the ring holds. */
static int pending(struct virtq *q)
{
	uint16_t idx = __atomic_load_n(&q->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);
	uint16_t n = (uint16_t)(idx - q->last_avail);
	if (n > q->size)
		return q_fail(q, "available index jumped by %u (queue size %u)", n, q->size);
	return n;
}

int virtq_pop(struct virtq *q, struct virtq_chain *c)
{
	if (q->broken)
		return ARCVM_E_INVALID;
	if (!q->ready)
		return 0;
	int n = pending(q);
	if (n == 0 && q->event_idx) {
		/* Ask for a kick at the next entry, then look again so a buffer
		 * added before the driver saw avail_event is not missed. */
		__atomic_store_n(q->avail_event, q->last_avail, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		n = pending(q);
	}
	if (n <= 0)
		return n < 0 ? ARCVM_E_INVALID : 0;

	uint16_t head = load16(&q->avail[AVAIL_RING + q->last_avail % q->size]);
	if (head >= q->size)
		return q_fail(q, "available ring slot %u holds head %u >= size %u",
			      q->last_avail % q->size, head, q->size);
	if (walk_chain(q, head, c) < 0)
		return ARCVM_E_INVALID;
	q->last_avail++;
	if (q->event_idx)
		__atomic_store_n(q->avail_event, q->last_avail, __ATOMIC_RELAXED);
	return 1;
}

/* avail_event is left where the pops put it (at or past the driver's index
 * when the ring ran dry): the device waits for the driver's *next* buffer,
 * and lowering it would let the driver skip that kick. */
void virtq_unpop(struct virtq *q, uint16_t n)
{
	q->last_avail -= n;
}

uint16_t virtq_watch_avail(struct virtq *q)
{
	if (!q->ready || q->broken)
		return 0;
	uint16_t idx = __atomic_load_n(&q->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);
	if (q->event_idx) {
		__atomic_store_n(q->avail_event, idx, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	return idx;
}

bool virtq_avail_moved(const struct virtq *q, uint16_t since)
{
	if (!q->ready || q->broken)
		return false;
	return __atomic_load_n(&q->avail[AVAIL_IDX], __ATOMIC_ACQUIRE) != since;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	if (!q->ready || q->broken)
		return;
	mem_mark_dirty(q->mem, q->used_gpa, 4 + 8ull * q->size);
	volatile struct virtq_used_elem *e = &q->used_ring[q->used_idx % q->size];
	e->id = head;
	e->len = written;
	q->used_idx++;
	/* The element is visible before the index that publishes it. */
	__atomic_store_n(&q->used_hdr[1], q->used_idx, __ATOMIC_RELEASE);
}

bool virtq_needs_interrupt(struct virtq *q)
{
	if (!q->ready)
		return false;
	/* Our used index store must be ordered before reading the driver's
	 * suppression fields, or both sides could decide to wait. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx)
		return !(load16(&q->avail[AVAIL_FLAGS]) & VIRTQ_AVAIL_F_NO_INTERRUPT);

	uint16_t old = q->signalled_used, now = q->used_idx;
	bool valid = q->signalled_valid;
	q->signalled_used = now;
	q->signalled_valid = true;
	if (!valid)
		return true;
	uint16_t event = load16(&q->avail[AVAIL_RING + q->size]);
	/* Interrupt when used_event lies in [old, now): the driver asked to
	 * hear about the entry at used_event and we just went past it. */
	return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

/* Walks the part's segments over [off, off + len), calling back with each
 * host piece. Returns -1 when the part is too short. */
static int chain_span(const struct virtq_chain *c, bool writable, uint64_t off, uint64_t len,
		      struct iovec *out, unsigned max)
{
	unsigned first = writable ? c->nread : 0;
	unsigned n = writable ? c->nwrite : c->nread;
	uint64_t total = writable ? c->write_len : c->read_len;
	unsigned used = 0;

	if (off > total || len > total - off)
		return -1;
	for (unsigned i = first; i < first + n && len > 0; i++) {
		uint64_t seg = c->iov[i].iov_len;
		if (off >= seg) {
			off -= seg;
			continue;
		}
		uint64_t take = seg - off < len ? seg - off : len;
		if (used >= max)
			return -1;
		out[used].iov_base = (uint8_t *)c->iov[i].iov_base + off;
		out[used].iov_len = take;
		used++;
		len -= take;
		off = 0;
	}
	return (int)used;
}

int virtq_chain_slice(const struct virtq_chain *c, bool writable, uint64_t off, uint64_t len,
		      struct iovec *out, unsigned max)
{
	return chain_span(c, writable, off, len, out, max);
}

static int chain_copy(const struct virtq_chain *c, bool writable, uint64_t off, void *buf,
		      size_t len)
{
	struct iovec parts[VIRTQ_CHAIN_MAX];
	int n = chain_span(c, writable, off, len, parts, VIRTQ_CHAIN_MAX);
	if (n < 0)
		return -1;
	uint8_t *p = buf;
	for (int i = 0; i < n; i++) {
		if (writable)
			memcpy(parts[i].iov_base, p, parts[i].iov_len);
		else
			memcpy(p, parts[i].iov_base, parts[i].iov_len);
		p += parts[i].iov_len;
	}
	return 0;
}

int virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *dst, size_t len)
{
	return chain_copy(c, false, off, dst, len);
}

int virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *src, size_t len)
{
	return chain_copy(c, true, off, (void *)src, len);
}
