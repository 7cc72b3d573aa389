/*
 * mmio.h - the virtio-mmio transport, version 2 (virtio 1.x, section 4.2):
 * one 4 KiB register window per device on the MMIO bus, one GSI.
 *
 * Modern only: VERSION reads 2 and FEATURES_OK is refused unless the driver
 * accepted VIRTIO_F_VERSION_1. Every register write is validated (queue
 * index, queue size, writes to a ready queue, status bits only added,
 * features only before FEATURES_OK).
 *
 * Threads: register reads and writes come from vCPU threads through the bus.
 * Queue kicks are eventfds (one per queue; with a VM, KVM signals them
 * directly through an ioeventfd on QueueNotify) handled on the I/O thread,
 * which runs the device; interrupts leave through an eventfd wired to the GSI
 * with an irqfd. The only lock is the device lock (virtio/device.h):
 * InterruptStatus, InterruptACK and QueueNotify never take it, so a vCPU
 * never waits for a request in progress except when it resets the device or
 * changes queue setup.
 */
#ifndef VIRTIO_MMIO_H
#define VIRTIO_MMIO_H

#include <stddef.h>
#include <stdint.h>

#include "arcvm.h"
#include "hv/kvm.h"
#include "io/loop.h"
#include "virtio/device.h"
#include "vmm/bus.h"
#include "vmm/memory.h"

#define VIRTIO_MMIO_WINDOW  0x1000u        /* bytes of register space per device */
#define VIRTIO_MMIO_VENDOR  0x4D565241u    /* "ARVM" */

struct virtio_mmio_env {
	struct guest_mem *mem;
	struct bus *mmio_bus;
	struct kvm_vmfd *vm;   /* NULL: no ioeventfd/irqfd (unit tests); eventfds still work */
	struct io_loop *io;    /* NULL: nobody watches the kicks; call virtio_mmio_poll() */
};

struct virtio_mmio;

/*
 * Puts `dev` on the MMIO bus at [base, base + VIRTIO_MMIO_WINDOW) with
 * interrupt line `gsi`. Must be called before the vCPUs and the I/O thread
 * start. On success the transport owns dev (virtio_mmio_detach destroys it);
 * on failure nothing is registered and the caller still owns dev (destroy it
 * with dev->ops->destroy). Failure of a queue's ioeventfd is tolerated (the
 * notify then arrives as an MMIO write); failure of the irqfd is not.
 */
int virtio_mmio_attach(const struct virtio_mmio_env *env, struct virtio_dev *dev, uint64_t base,
		       uint32_t gsi, struct virtio_mmio **out, struct arcvm_error *err);

/* Unwires and frees the transport and its device. Call only once the vCPUs
 * and the I/O thread are stopped and the bus is no longer used (the bus has
 * no unregister). NULL is a no-op. */
void virtio_mmio_detach(struct virtio_mmio *t);

/* Writes " virtio_mmio.device=4K@0xBASE:GSI" into buf.
 * Returns the length written, or ARCVM_E_INVALID when buf is too small. */
int virtio_mmio_cmdline(const struct virtio_mmio *t, char *buf, size_t len);

/* The interrupt eventfd (readable after an interrupt was raised). */
int virtio_mmio_irq_fd(const struct virtio_mmio *t);

/* Runs, on the calling thread, every queue whose kick eventfd is signalled.
 * For a transport attached without an I/O loop. Returns how many ran. */
int virtio_mmio_poll(struct virtio_mmio *t);

/* The device behind the transport (still owned by the transport). */
struct virtio_dev *virtio_mmio_dev(struct virtio_mmio *t);

/* Snapshot: the transport registers, each queue's configuration and ring
 * positions (a "VMIO" section), then the device's own sections. The VM is
 * paused and the I/O thread stopped. */
void virtio_mmio_save(struct virtio_mmio *t, struct snap_writer *w);
/* Restore into a freshly attached transport of the same device type. Queue
 * addresses are checked like a driver's (virtq_enable: inside guest RAM,
 * aligned, sized); anything out of range fails with ARCVM_E_FORMAT. Ready
 * queues are kicked so that work offered before the snapshot is looked at. */
int virtio_mmio_load(struct virtio_mmio *t, struct snap_reader *r, struct arcvm_error *err);

/* The device's status register (for tests and diagnostics). */
uint32_t virtio_mmio_status(struct virtio_mmio *t);

#endif
