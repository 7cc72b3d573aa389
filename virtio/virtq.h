/*
 * virtq.h - the device side of a split virtqueue (virtio 1.x, section 2.7),
 * validated against a hostile driver.
 *
 * The driver places three areas in guest memory: the descriptor table, the
 * available ring and the used ring. virtq_enable() checks their size,
 * alignment and placement once and keeps host pointers to them (the guest
 * memory table never changes while the VM runs). Every value read from those
 * areas afterwards is read once into a local and checked before use: head and
 * next indices, descriptor addresses and lengths (through mem_ptr()), chain
 * length, indirect tables, and the distance the available index moved.
 *
 * Anything a correct driver never does marks the queue broken: virtq_pop()
 * then returns an error until the queue is reset, and the transport reports
 * DEVICE_NEEDS_RESET. The device never follows a broken queue.
 *
 * Threads: a queue is owned by whoever holds its device's lock (see
 * virtio/device.h): the I/O thread while processing it, the vCPU thread
 * while enabling or resetting it. The struct is not locked internally.
 */
#ifndef VIRTIO_VIRTQ_H
#define VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "arcvm.h"
#include "vmm/memory.h"

/* Largest queue size any arcvm device offers. A chain (direct descriptors
 * plus one indirect table) never yields more than VIRTQ_CHAIN_MAX buffers,
 * which is also IOV_MAX, so a chain's iovec can go straight to preadv(). */
#define VIRTQ_MAX_SIZE  1024
#define VIRTQ_CHAIN_MAX 1024

/* Descriptor flags and ring flags (virtio 1.x, 2.7.5 and 2.7.6). */
#define VIRTQ_DESC_F_NEXT      1
#define VIRTQ_DESC_F_WRITE     2
#define VIRTQ_DESC_F_INDIRECT  4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

/* Feature bits that belong to the ring layer. */
#define VIRTQ_F_INDIRECT_DESC  28
#define VIRTQ_F_EVENT_IDX      29

/* Layout of the guest-side structures, little-endian as on the wire. */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq {
	/* Set by virtq_enable(), cleared by virtq_reset(). */
	bool ready;
	bool broken;            /* the driver broke the protocol; see why[] */
	bool event_idx;         /* VIRTQ_F_EVENT_IDX negotiated */
	bool indirect;          /* VIRTQ_F_INDIRECT_DESC negotiated */
	uint16_t size;          /* power of two, 1..VIRTQ_MAX_SIZE */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	const struct guest_mem *mem;

	/* Host views of the three areas, validated by virtq_enable(). */
	struct virtq_desc *desc;
	uint16_t *avail;        /* flags, idx, ring[size], used_event */
	uint16_t *used_hdr;     /* flags, idx */
	struct virtq_used_elem *used_ring;
	uint16_t *avail_event;  /* after used_ring[size] */

	/* Device-side state. */
	uint16_t last_avail;    /* next available-ring slot to consume */
	uint16_t used_idx;      /* our copy of used->idx */
	uint16_t signalled_used;/* used_idx when we last decided about an interrupt */
	bool signalled_valid;   /* signalled_used means something (EVENT_IDX) */
	char why[96];           /* first reason the queue broke, for logs and tests */
};

/* One popped descriptor chain, as host pointers into guest memory. Readable
 * buffers come first (iov[0 .. nread)), then writable ones
 * (iov[nread .. nread + nwrite)); zero-length descriptors are skipped. */
struct virtq_chain {
	uint16_t head;
	unsigned nread, nwrite;
	uint64_t read_len, write_len;   /* total bytes of each part */
	struct iovec iov[VIRTQ_CHAIN_MAX];
};

/*
 * Validates the driver's queue configuration and makes the queue ready:
 * size a power of two no larger than `max_size` (itself <= VIRTQ_MAX_SIZE),
 * the descriptor table 16-byte aligned, the available ring 2-byte aligned,
 * the used ring 4-byte aligned, each wholly inside one guest memory region.
 * `features` are the negotiated feature bits (ring bits are taken from it).
 * Fails with ARCVM_E_INVALID naming the first bad value; the queue is then
 * left reset.
 */
int virtq_enable(struct virtq *q, const struct guest_mem *mem, uint32_t size, uint32_t max_size,
		 uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa, uint64_t features,
		 struct arcvm_error *err);

/* Forgets everything: not ready, not broken, indices zero. */
void virtq_reset(struct virtq *q);

/*
 * Takes the next available chain. Returns 1 with *c filled, 0 when the driver
 * has offered nothing new, or ARCVM_E_INVALID when the queue is (or just
 * became) broken. A chain that fails validation is not consumed.
 */
int virtq_pop(struct virtq *q, struct virtq_chain *c);

/* Gives back the last `n` chains taken by virtq_pop and not pushed: the
 * next pops return them again (re-validated). For a device that found the
 * chains too small for what it has to deliver and will wait for more. */
void virtq_unpop(struct virtq *q, uint16_t n);

/* The driver's current available index, and a request to be notified
 * when it moves past it: with VIRTIO_F_EVENT_IDX, avail_event is set to it
 * (a driver adding one chain after several still posted would otherwise not
 * kick); without, drivers kick on every addition anyway. For a device that
 * waits for the driver to post a buffer again: an addition that raced with
 * the request may not kick, so the caller checks virtq_avail_moved() once
 * after this call, then on each notification. */
uint16_t virtq_watch_avail(struct virtq *q);

/* True when the driver's available index is no longer `since`. */
bool virtq_avail_moved(const struct virtq *q, uint16_t since);

/* Returns chain `head` to the driver, `written` bytes having been written
 * into its writable buffers. Ignored on a queue that is not ready or broken. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t written);

/* True when the driver wants an interrupt for what was pushed since the last
 * call (honours NO_INTERRUPT, or used_event with EVENT_IDX). */
bool virtq_needs_interrupt(struct virtq *q);

/* Marks the queue broken (a device found the driver's request unanswerable). */
void virtq_set_broken(struct virtq *q, const char *why);

/* Copies `len` bytes at offset `off` of the chain's readable part into dst.
 * Returns 0, or -1 when the readable part is shorter than off + len. */
int virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *dst, size_t len);

/* Copies src into the chain's writable part at offset `off`. Returns 0, or -1
 * when the writable part is shorter than off + len (nothing is written). */
int virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *src, size_t len);

/* Fills out[] (at most `max` entries) with the slice [off, off + len) of the
 * readable part (writable == false) or writable part. Returns the number of
 * entries, or -1 when the part is too short or max too small. */
int virtq_chain_slice(const struct virtq_chain *c, bool writable, uint64_t off, uint64_t len,
		      struct iovec *out, unsigned max);

#endif
