/*
 * device.h - what a virtio device (blk, rng, console) is to a transport.
 *
 * A device fills in its identity (device id, offered features, queue count
 * and sizes, config space) and an ops table; the transport (virtio/mmio.c)
 * fills in the rest when it attaches the device, and from then on owns the
 * virtqueues and the register protocol.
 *
 * Locking: `lock` is the device lock. The I/O thread holds it while it runs a
 * device op on a queue (queue_notify, or a device's own fd handler); the
 * vCPU thread holds it while it changes transport state the I/O thread reads
 * (status, negotiated features, queue enable and reset). So a reset waits for
 * at most the request in progress, and no device op runs after a reset
 * returns until the driver sets DRIVER_OK again.
 */
#ifndef VIRTIO_DEVICE_H
#define VIRTIO_DEVICE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "arcvm.h"
#include "io/loop.h"
#include "virtio/virtq.h"
#include "vmm/memory.h"

/* 17: virtio-net with 8 queue pairs and its control queue. */
#define VIRTIO_DEV_MAX_QUEUES 17

/* Device ids (virtio 1.x, section 5). */
#define VIRTIO_ID_NET     1
#define VIRTIO_ID_BLK     2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG     4

/* Transport-independent feature bits. */
#define VIRTIO_F_VERSION_1 32

/* A device takes at most this many chains from a queue per run, so a queue
 * the driver keeps full cannot hold the I/O thread away from every other fd;
 * the rest is taken on a later run (see virtio_dev_pop). */
#define VIRTIO_DEV_BUDGET 64

/* Interrupt reasons, as in the virtio-mmio InterruptStatus register. */
#define VIRTIO_INT_USED   1u
#define VIRTIO_INT_CONFIG 2u
/* Not an InterruptStatus bit: asks the transport to set DEVICE_NEEDS_RESET
 * (a queue broke) and raise a configuration-change interrupt. */
#define VIRTIO_INT_NEEDS_RESET 0x100u

struct virtio_dev;
struct snap_writer;
struct snap_reader;

struct virtio_dev_ops {
	const char *name;   /* "virtio-blk"..., used in error messages */

	/* Called once by the transport after it filled in the transport fields
	 * (for example to start watching a host fd). NULL: nothing to do. */
	int (*attach)(struct virtio_dev *d, struct arcvm_error *err);

	/* The driver wrote `len` bytes at `offset` of the config space (the
	 * transport checked offset + len <= config_len). Device lock held.
	 * NULL: the config space is read-only and writes are ignored. */
	void (*config_write)(struct virtio_dev *d, uint32_t offset, const void *data,
			     unsigned len);

	/* Queue `qi` was kicked. I/O thread, device lock held, the device is
	 * running (DRIVER_OK) and the queue ready and not broken. Required. */
	void (*queue_notify)(struct virtio_dev *d, unsigned qi);

	/* The driver set DRIVER_OK. Device lock held. NULL: nothing to do. */
	void (*start)(struct virtio_dev *d);

	/* The driver reset the device: forget per-driver state. Device lock
	 * held; the queues are already reset. NULL: nothing to do. */
	void (*reset)(struct virtio_dev *d);

	/* Snapshot: writes the device's own state (the transport saves the
	 * queues and registers) as sections of w. The VM is paused and the I/O
	 * thread stopped. NULL: the device keeps no state of its own. */
	void (*save)(struct virtio_dev *d, struct snap_writer *w);

	/* Restore: reads back exactly what save wrote, validating every value
	 * as hostile input. Called once the transport state (queues, features,
	 * status) is restored and before any thread runs; may use the queues.
	 * NULL: save is NULL too. */
	int (*load)(struct virtio_dev *d, struct snap_reader *r, struct arcvm_error *err);

	/* Frees the device. No thread may be inside an op. Required. */
	void (*destroy)(struct virtio_dev *d);
};

struct virtio_dev {
	/* Filled in by the device's constructor; constant afterwards. */
	const struct virtio_dev_ops *ops;
	uint32_t device_id;
	uint64_t features;              /* offered; VIRTIO_F_VERSION_1 is added by the transport */
	unsigned nqueues;               /* 1..VIRTIO_DEV_MAX_QUEUES */
	uint16_t queue_max[VIRTIO_DEV_MAX_QUEUES];
	const void *config;             /* config space bytes (little-endian), or NULL */
	uint32_t config_len;

	/* Filled in by the transport at attach. */
	pthread_mutex_t lock;           /* the device lock, see above */
	const struct guest_mem *mem;
	struct io_loop *io;             /* NULL when there is no I/O loop (unit tests) */
	struct virtq *vqs;              /* nqueues entries */
	void (*interrupt)(void *transport, uint32_t reason);
	void (*requeue)(void *transport, unsigned qi);   /* run queue qi again later */
	void *transport;

	/* Under the device lock. */
	uint32_t config_generation;     /* bumped whenever the device changes its config space */
	bool running;                   /* DRIVER_OK set and not reset since */
	uint64_t acked;                 /* negotiated features */
};

/* After pushing to q: raises a used-buffer interrupt if the driver wants
 * one. I/O thread, device lock held. */
void virtio_dev_used(struct virtio_dev *d, struct virtq *q);

/* virtq_pop() on queue qi within a budget: once *budget chains were taken it
 * returns 0 and has the transport run the queue again after other pending
 * I/O. I/O thread, device lock held. */
int virtio_dev_pop(struct virtio_dev *d, unsigned qi, struct virtq_chain *c, unsigned *budget);

/* Raises a configuration-change interrupt. */
void virtio_dev_config_changed(struct virtio_dev *d);

/* Reports that one of the device's queues broke (virtq_set_broken or a
 * failed virtq_pop) outside queue_notify, e.g. in a host fd handler. The
 * transport checks after every queue_notify by itself. Device lock held. */
void virtio_dev_broken(struct virtio_dev *d);

/* True when feature bit `bit` was negotiated. */
bool virtio_dev_has(const struct virtio_dev *d, unsigned bit);

#endif
