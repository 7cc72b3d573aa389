/*
 * virtio_fake_driver.h - a minimal virtio-mmio driver for unit tests: fake
 * guest memory, a bus, one transport without KVM, and helpers to negotiate,
 * set up queues, post chains and collect used entries. Header-only (static
 * inline) so each test binary takes what it uses.
 */
#ifndef TESTS_VIRTIO_FAKE_DRIVER_H
#define TESTS_VIRTIO_FAKE_DRIVER_H

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "arch/x86/layout.h"
#include "virtio/mmio.h"
#include "vmm/bus.h"
#include "vmm/memory.h"

#define FD_RAM_SIZE  (4ull << 20)
#define FD_BASE      X86_VIRTIO_MMIO_BASE
#define FD_GSI       X86_VIRTIO_IRQ_BASE
#define FD_QSIZE     16
#define FD_HEAP      0x100000ull   /* data buffers are bump-allocated from here */

struct fd_queue {
	uint16_t size;
	uint64_t desc, avail, used;
	uint16_t avail_idx, used_seen, next_desc;
};

struct fd_driver {
	struct guest_mem mem;
	uint8_t *ram;
	struct bus bus;
	struct virtio_mmio *t;
	struct fd_queue q[VIRTIO_DEV_MAX_QUEUES];
	uint64_t heap;
};

struct fd_seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

static inline uint32_t fd_rd(struct fd_driver *f, uint64_t off)
{
	uint32_t v = 0;
	bus_dispatch(&f->bus, FD_BASE + off, false, &v, 4);
	return v;
}

static inline void fd_wr(struct fd_driver *f, uint64_t off, uint32_t v)
{
	bus_dispatch(&f->bus, FD_BASE + off, true, &v, 4);
}

static inline void *fd_host(struct fd_driver *f, uint64_t gpa)
{
	return mem_ptr(&f->mem, gpa, 1);
}

static inline uint64_t fd_alloc(struct fd_driver *f, uint64_t len)
{
	uint64_t gpa = f->heap;
	f->heap = (f->heap + len + 15) & ~15ull;
	return gpa;
}

/* Fake memory and bus; the device is attached with the given env extras. */
static inline int fd_attach(struct fd_driver *f, struct virtio_dev *dev, struct io_loop *io,
			    struct arcvm_error *err)
{
	memset(f, 0, sizeof(*f));
	f->ram = calloc(1, FD_RAM_SIZE);
	f->heap = FD_HEAP;
	if (mem_add_region(&f->mem, 0, f->ram, FD_RAM_SIZE, true, err) < 0)
		return -1;
	struct virtio_mmio_env env = { .mem = &f->mem, .mmio_bus = &f->bus, .vm = NULL, .io = io };
	return virtio_mmio_attach(&env, dev, FD_BASE, FD_GSI, &f->t, err);
}

static inline void fd_detach(struct fd_driver *f)
{
	virtio_mmio_detach(f->t);
	free(f->ram);
}

/* ACKNOWLEDGE, DRIVER, features; returns the status read back after
 * FEATURES_OK (so a caller can see a refusal). */
static inline uint32_t fd_negotiate(struct fd_driver *f, uint64_t features)
{
	fd_wr(f, VIRTIO_MMIO_STATUS, 0);
	fd_wr(f, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	fd_wr(f, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	fd_wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	fd_wr(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	fd_wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	fd_wr(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	fd_wr(f, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
					     VIRTIO_CONFIG_S_FEATURES_OK);
	return fd_rd(f, VIRTIO_MMIO_STATUS);
}

static inline uint64_t fd_device_features(struct fd_driver *f)
{
	fd_wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = fd_rd(f, VIRTIO_MMIO_DEVICE_FEATURES);
	fd_wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	uint64_t hi = fd_rd(f, VIRTIO_MMIO_DEVICE_FEATURES);
	return lo | hi << 32;
}

/* Programs queue qi with `size` entries in freshly allocated rings; returns
 * QueueReady as read back. */
static inline uint32_t fd_setup_queue(struct fd_driver *f, unsigned qi, uint16_t size)
{
	struct fd_queue *q = &f->q[qi];
	memset(q, 0, sizeof(*q));
	q->size = size;
	q->desc = fd_alloc(f, 16ull * size);
	q->avail = fd_alloc(f, 6ull + 2ull * size);
	q->used = fd_alloc(f, 6ull + 8ull * size);
	fd_wr(f, VIRTIO_MMIO_QUEUE_SEL, qi);
	fd_wr(f, VIRTIO_MMIO_QUEUE_NUM, size);
	fd_wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->desc);
	fd_wr(f, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(q->desc >> 32));
	fd_wr(f, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)q->avail);
	fd_wr(f, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(q->avail >> 32));
	fd_wr(f, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)q->used);
	fd_wr(f, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(q->used >> 32));
	fd_wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	return fd_rd(f, VIRTIO_MMIO_QUEUE_READY);
}

/* Full bring-up: negotiate `features`, set up every queue, DRIVER_OK.
 * Returns the final status. */
static inline uint32_t fd_bring_up(struct fd_driver *f, uint64_t features, unsigned nqueues)
{
	fd_negotiate(f, features);
	for (unsigned i = 0; i < nqueues; i++)
		fd_setup_queue(f, i, FD_QSIZE);
	fd_wr(f, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
					     VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	return fd_rd(f, VIRTIO_MMIO_STATUS);
}

/* Writes a chain of n segments into queue qi's table and offers it. */
static inline uint16_t fd_post(struct fd_driver *f, unsigned qi, const struct fd_seg *s,
			       unsigned n)
{
	struct fd_queue *q = &f->q[qi];
	struct virtq_desc *table = fd_host(f, q->desc);
	uint16_t head = q->next_desc;
	for (unsigned i = 0; i < n; i++) {
		uint16_t me = (uint16_t)((head + i) % q->size);
		uint16_t next = (uint16_t)((head + i + 1) % q->size);
		table[me] = (struct virtq_desc){
			.addr = s[i].gpa, .len = s[i].len,
			.flags = (uint16_t)((s[i].write ? VIRTQ_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			.next = next,
		};
	}
	q->next_desc = (uint16_t)((head + n) % q->size);
	uint16_t *avail = fd_host(f, q->avail);
	avail[2 + q->avail_idx % q->size] = head;
	__atomic_store_n(&avail[1], (uint16_t)(q->avail_idx + 1), __ATOMIC_RELEASE);
	q->avail_idx++;
	return head;
}

/* Takes the next used entry of queue qi; false when there is none. */
static inline bool fd_used(struct fd_driver *f, unsigned qi, uint32_t *id, uint32_t *len)
{
	struct fd_queue *q = &f->q[qi];
	uint16_t *hdr = fd_host(f, q->used);
	*id = *len = 0;
	if (__atomic_load_n(&hdr[1], __ATOMIC_ACQUIRE) == q->used_seen)
		return false;
	struct virtq_used_elem *e = (struct virtq_used_elem *)(hdr + 2) + q->used_seen % q->size;
	*id = e->id;
	*len = e->len;
	q->used_seen++;
	return true;
}

/* Notify register write, then run the device on this thread. */
static inline void fd_kick(struct fd_driver *f, unsigned qi)
{
	fd_wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, qi);
	virtio_mmio_poll(f->t);
}

/* Reads (and so clears) the interrupt eventfd: the count of raises, 0 if none. */
static inline uint64_t fd_irq_count(struct fd_driver *f)
{
	eventfd_t v = 0;
	if (eventfd_read(virtio_mmio_irq_fd(f->t), &v) < 0)
		return 0;
	return v;
}

/* Waits (bounded, as a hang guard only) for the interrupt eventfd. */
static inline bool fd_wait_irq(struct fd_driver *f)
{
	struct pollfd p = { .fd = virtio_mmio_irq_fd(f->t), .events = POLLIN };
	return poll(&p, 1, 10000) == 1 && fd_irq_count(f) > 0;
}

#endif
